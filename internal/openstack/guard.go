package openstack

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// The API client's network guards, shared by every service client and the
// Keystone token request (newHTTPClient installs them):
//
//   - Redirects: OpenStack APIs do not redirect in normal operation, and a
//     request carries credentials that net/http would forward (it strips
//     Authorization on a cross-domain hop, but not X-Auth-Token, and a 307 or
//     308 re-sends the body, i.e. the password of a token request). So a
//     redirect is followed only to the same scheme, host and port; any other
//     is refused before anything is sent there. The transport refuses it as
//     the answer arrives (so net/http's error names the endpoint, not the
//     other host); CheckRedirect holds the same rule as a second lock.
//   - Hosts: requests go only to the origins of this cloud's endpoints: the
//     configured ones (auth_url, *_endpoint_override, auth.endpoint) and the
//     ones in the catalog that came with the token. A link in a response
//     body (a pagination "next" link, a version document's) to any other
//     origin is refused, as a redirect would be: services build those links
//     from their own public_endpoint setting, which may name another host or
//     http.
//   - Paths: a request whose path holds a '.' or '..' segment or an escaped
//     '/' is refused (a name from input stepping to another resource; see
//     PathSegment, which call sites use to escape names).
//   - Response bodies: gophercloud decodes a body whole and reads an error
//     body whole; each is limited to MaxResponseBytes (an error body to
//     MaxErrorBodyBytes, only its message is used), beyond which the read
//     fails with a *ResponseTooLargeError. Image downloads do not come
//     through this client (internal/image streams them with its own); an
//     upload's data is a request body, which no limit concerns.

// MaxResponseBytes bounds one API response body: generous for any JSON
// listing (thousands of nodes with their inventories), small enough that a
// broken or hostile endpoint cannot exhaust memory.
const MaxResponseBytes = 64 << 20

// MaxErrorBodyBytes bounds what is read of an error response (status >= 400):
// only the service's message is kept; the rest is cut silently.
const MaxErrorBodyBytes = 1 << 20

// maxRedirects is net/http's own default cap.
const maxRedirects = 10

// RedirectRefusedError is a redirect to another origin that was not
// followed. Its text leaves the endpoint (From) to net/http's *url.Error,
// which wraps it as `Get "<endpoint>": ...`.
type RedirectRefusedError struct {
	From, To *url.URL
}

func (e *RedirectRefusedError) Error() string {
	return fmt.Sprintf("redirected to another host %s: refused, credentials are never sent elsewhere", printableURL(e.To, false))
}

// crossOriginRedirect is the redirect resp asks for when it leaves req's
// origin, nil otherwise.
func crossOriginRedirect(req *http.Request, resp *http.Response) *RedirectRefusedError {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil
	}
	to, err := req.URL.Parse(loc)
	if err != nil || SameOrigin(req.URL, to) {
		return nil // net/http reports an unparsable Location itself
	}
	return &RedirectRefusedError{From: req.URL, To: to}
}

// sameOriginRedirects is the API client's CheckRedirect.
func sameOriginRedirects(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if !SameOrigin(first, req.URL) {
		return &RedirectRefusedError{From: via[len(via)-1].URL, To: req.URL}
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("endpoint %s: stopped after %d redirects", printableURL(first, true), maxRedirects)
	}
	return nil
}

// SameOrigin compares scheme, host and port (an omitted default port equals
// the explicit one).
func SameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Hostname() == b.Hostname() && portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch u.Scheme {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// printableURL is scheme://host[:port], with the path when withPath:
// never user info, query or fragment, which may carry credentials.
func printableURL(u *url.URL, withPath bool) string {
	c := url.URL{Scheme: u.Scheme, Host: u.Host}
	if withPath {
		c.Path, c.RawPath = u.Path, u.RawPath
	}
	return c.String()
}

// endpointOrigins are the origins requests may go to.
type endpointOrigins struct {
	mu  sync.RWMutex
	set map[string]bool
}

func originKey(u *url.URL) string {
	return u.Scheme + "://" + strings.ToLower(u.Hostname()) + ":" + portOf(u)
}

// allow adds the origin of each endpoint URL; unparsable ones add nothing
// (the request to them fails on its own).
func (o *endpointOrigins) allow(endpoints ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range endpoints {
		if u, err := url.Parse(e); err == nil && u.Host != "" {
			if o.set == nil {
				o.set = map[string]bool{}
			}
			o.set[originKey(u)] = true
		}
	}
}

func (o *endpointOrigins) allows(u *url.URL) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.set[originKey(u)]
}

// allowCatalog lets pc send requests to every endpoint of the catalog that
// came with its token: Keystone is the authority on where the services are.
// It must run before any service client is built, as gophercloud's catalog
// lookup already sends a version discovery request to the endpoint.
func allowCatalog(pc *gophercloud.ProviderClient) {
	g, ok := pc.HTTPClient.Transport.(guardedTransport)
	if !ok || g.origins == nil {
		return
	}
	withCatalog, ok := pc.GetAuthResult().(interface {
		ExtractServiceCatalog() (*tokens.ServiceCatalog, error)
	})
	if !ok {
		return
	}
	catalog, err := withCatalog.ExtractServiceCatalog()
	if err != nil || catalog == nil {
		return
	}
	for _, entry := range catalog.Entries {
		for _, ep := range entry.Endpoints {
			g.origins.allow(ep.URL)
		}
	}
}

// ForeignHostError is a request to an origin that is none of the cloud's
// endpoints.
type ForeignHostError struct {
	Method string
	URL    *url.URL
}

func (e *ForeignHostError) Error() string {
	return fmt.Sprintf("%s %s: refused, %s is not an endpoint of this cloud (a link in a service's answer pointed there; credentials are only sent to the configured and catalog endpoints)",
		e.Method, printableURL(e.URL, true), printableURL(e.URL, false))
}

// ResponseTooLargeError is a response body over its limit.
type ResponseTooLargeError struct {
	Method string
	URL    *url.URL
	Limit  int64
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("%s %s: response larger than %d MiB (the limit for an API response): refused", e.Method, printableURL(e.URL, true), e.Limit>>20)
}

// UnsafePathError is a request refused for its path.
type UnsafePathError struct {
	Method string
	URL    *url.URL
	Why    string
}

func (e *UnsafePathError) Error() string {
	return fmt.Sprintf("%s %s: refused, the path holds %s (a name or ID from input reaching another resource)", e.Method, printableURL(e.URL, true), e.Why)
}

// guardedTransport refuses unsafe paths, wraps every response body in a
// reader that fails past the limit, and refuses outright a response that
// announces a larger Content-Length.
type guardedTransport struct {
	next http.RoundTripper
	// origins, when set, are the only ones requests may go to.
	origins *endpointOrigins
}

func (g guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if g.origins != nil && !g.origins.allows(req.URL) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &ForeignHostError{Method: req.Method, URL: req.URL}
	}
	if why := unsafePath(req.URL); why != "" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &UnsafePathError{Method: req.Method, URL: req.URL, Why: why}
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if refused := crossOriginRedirect(req, resp); refused != nil {
		resp.Body.Close()
		return nil, refused
	}
	if resp.Body == nil || req.Method == http.MethodHead {
		return resp, nil
	}
	limit := int64(MaxResponseBytes)
	if resp.StatusCode >= 400 {
		limit = MaxErrorBodyBytes
	}
	tooLarge := &ResponseTooLargeError{Method: req.Method, URL: req.URL, Limit: limit}
	if resp.ContentLength > limit && resp.StatusCode < 400 {
		resp.Body.Close()
		return nil, tooLarge
	}
	resp.Body = &limitedBody{body: resp.Body, left: limit, err: tooLarge}
	if req.Method == http.MethodGet && resp.StatusCode < 400 {
		return readWhole(resp)
	}
	return resp, nil
}

// readWhole reads a GET's body before handing the response on. gophercloud
// retries (RetryFunc) only what fails before the response headers: a body
// cut in the middle (a reset, a restarted service) reached the caller as
// "unexpected EOF" on the first try. Read here, the cut is the request's
// error, and a GET is retried like any dropped connection. Every body is
// decoded whole anyway, and bounded by limitedBody. (An error body is
// read for its message only, and cut at its limit silently.)
func readWhole(resp *http.Response) (*http.Response, error) {
	defer resp.Body.Close()
	// In chunks, not one growing buffer: a body near the limit costs its
	// size, not twice it (a bytes.Buffer doubles as it grows).
	// The first chunk fits an announced length (and the EOF after it);
	// then 64 KiB doubling to 1 MiB, so a small answer costs little.
	size := 64 << 10
	if resp.ContentLength >= 0 && resp.ContentLength < MaxResponseBytes {
		size = int(resp.ContentLength) + 1
	}
	var chunks []io.Reader
	chunk := make([]byte, 0, size)
	for {
		n, err := resp.Body.Read(chunk[len(chunk):cap(chunk)])
		chunk = chunk[:len(chunk)+n]
		if len(chunk) == cap(chunk) {
			chunks = append(chunks, bytes.NewReader(chunk))
			size = min(max(2*size, 64<<10), 1<<20)
			chunk = make([]byte, 0, size)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	chunks = append(chunks, bytes.NewReader(chunk))
	resp.Body = io.NopCloser(io.MultiReader(chunks...))
	return resp, nil
}

// limitedBody reads at most left bytes, then fails with err: a silent cut
// would let a truncated document parse as a smaller one.
type limitedBody struct {
	body io.ReadCloser
	left int64
	err  error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err
	}
	// Read one byte past the limit to tell "exactly the limit" from "more".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.body.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n + int(b.left), b.err
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.body.Close() }
