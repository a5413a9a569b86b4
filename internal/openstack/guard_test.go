package openstack

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is the "other host": a loopback server on its own port that
// keeps whatever reaches it.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // method, path, every header and the body of each request
}

func newRecorder(t *testing.T, tls bool) *recorder {
	r := &recorder{}
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", req.Method, req.URL.RequestURI())
		_ = req.Header.Write(&b)
		b.Write(body)
		r.mu.Lock()
		r.seen = append(r.seen, b.String())
		r.mu.Unlock()
		writeJSON(w, 200, map[string]any{"nodes": []any{}})
	})
	if tls {
		r.srv = httptest.NewUnstartedServer(h)
		r.srv.Config.ErrorLog = discardLog()
		r.srv.StartTLS()
	} else {
		r.srv = httptest.NewServer(h)
	}
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// countExact counts the requests that were exactly "METHOD /path".
func (f *fakeCloud) countExact(request string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r == request {
			n++
		}
	}
	return n
}

// startTLS moves the fake cloud onto https.
func startTLS(f *fakeCloud) {
	f.srv.Close()
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = discardLog()
	f.srv.StartTLS()
	f.t.Cleanup(f.srv.Close)
}

// redirectOnce answers the first request matching method and path with a
// redirect to the same path at target; later ones are served normally.
func redirectOnce(f *fakeCloud, method, path string, code int, target string) {
	var once sync.Once
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != method || r.URL.Path != path {
			return false
		}
		hit := false
		once.Do(func() {
			hit = true
			drain(r)
			w.Header().Set("Location", target+r.URL.RequestURI())
			w.WriteHeader(code)
		})
		return hit
	}
}

// No redirect to another origin is followed, for any redirect code, on the
// token request and on API requests, over http and https (including https
// to http): the other port never sees a request, so no token, password,
// basic auth or body.
func TestRedirectsNeverLeaveTheOrigin(t *testing.T) {
	const (
		password  = "SENTINEL-redirect-password"
		basicPass = "SENTINEL-redirect-basic"
		bmcPass   = "SENTINEL-redirect-bmc"
	)
	codes := []int{301, 302, 303, 307, 308}
	origins := []struct {
		name              string
		https, otherHTTPS bool
	}{
		{"http to another port", false, false},
		{"https to another https port", true, true},
		{"https to http", true, false},
	}
	requests := []struct {
		name string
		// run makes the redirected request against f and returns its error.
		run func(t *testing.T, f *fakeCloud, opts Options, code int, other string) error
	}{
		{"token request", func(t *testing.T, f *fakeCloud, opts Options, code int, other string) error {
			redirectOnce(f, "POST", "/identity/v3/auth/tokens", code, other)
			_, err := Connect(context.Background(), opts)
			return err
		}},
		{"API read with a token", func(t *testing.T, f *fakeCloud, opts Options, code int, other string) error {
			c, err := Connect(context.Background(), opts)
			require.NoError(t, err)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			redirectOnce(f, "GET", "/baremetal/v1/nodes", code, other)
			_, err = nodes.List(bm, nodes.ListOpts{}).AllPages(context.Background())
			return err
		}},
		{"API write with a token and a secret body", func(t *testing.T, f *fakeCloud, opts Options, code int, other string) error {
			c, err := Connect(context.Background(), opts)
			require.NoError(t, err)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			redirectOnce(f, "POST", "/baremetal/v1/nodes", code, other)
			_, err = nodes.Create(context.Background(), bm, nodes.CreateOpts{Name: "n", Driver: "ipmi",
				DriverInfo: map[string]any{"ipmi_password": bmcPass}}).Extract()
			return err
		}},
		{"API read with http_basic", func(t *testing.T, f *fakeCloud, opts Options, code int, other string) error {
			f.requireToken = false
			f.basicUser, f.basicPass = "ironic", basicPass
			c, err := Connect(context.Background(), Options{AuthType: "http_basic", CACert: opts.CACert,
				Auth: Auth{Endpoint: f.url("/baremetal"), Username: "ironic", Password: basicPass}})
			require.NoError(t, err)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			redirectOnce(f, "GET", "/baremetal/v1/nodes", code, other)
			_, err = nodes.List(bm, nodes.ListOpts{}).AllPages(context.Background())
			return err
		}},
	}
	for _, o := range origins {
		for _, rq := range requests {
			for _, code := range codes {
				t.Run(fmt.Sprintf("%s/%s/%d", o.name, rq.name, code), func(t *testing.T) {
					dir := isolate(t)
					f := newFakeCloud(t)
					f.password = password
					opts := Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: password, ProjectName: "admin"}}
					if o.https {
						startTLS(f)
						opts.Auth.AuthURL = f.url("/identity/v3")
						opts.CACert = writeServerCA(t, dir, f.srv)
					}
					other := newRecorder(t, o.otherHTTPS)
					// httptest's servers share one certificate: the other
					// port is trusted too, only the redirect policy stops it.

					err := rq.run(t, f, opts, code, other.srv.URL)

					require.Error(t, err)
					msg := Describe(err, "").Error()
					assert.Regexp(t, `"`+regexp.QuoteMeta(f.srv.URL)+`/[^"]*": redirected to another host `+regexp.QuoteMeta(other.srv.URL)+`: refused, credentials are never sent elsewhere`, msg)
					for _, s := range []string{password, basicPass, bmcPass, base64.StdEncoding.EncodeToString([]byte("ironic:" + basicPass))} {
						assert.NotContains(t, msg, s)
					}
					assert.Empty(t, other.requests(), "the other port got a request")
				})
			}
		}
	}
}

// The redirect policy holds on its own too (were the transport's check
// bypassed): the same rule, and net/http's cap of 10 hops.
func TestSameOriginRedirects(t *testing.T) {
	u := func(s string) *url.URL { p, err := url.Parse(s); require.NoError(t, err); return p }
	via := []*http.Request{{URL: u("https://keystone:5000/v3/auth/tokens")}}
	for to, ok := range map[string]bool{
		"https://keystone:5000/v3/other": true, "https://keystone/v3": false, "http://keystone:5000/v3": false,
		"https://keystone:5001/v3": false, "https://other:5000/v3": false, "https://keystone.evil:5000/v3": false,
	} {
		err := sameOriginRedirects(&http.Request{URL: u(to)}, via)
		if ok {
			assert.NoError(t, err, to)
		} else {
			assert.ErrorContains(t, err, "redirected to another host", to)
		}
	}
	assert.True(t, SameOrigin(u("https://h/x"), u("https://h:443/y")))
	ten := make([]*http.Request, 10)
	for i := range ten {
		ten[i] = via[0]
	}
	assert.ErrorContains(t, sameOriginRedirects(&http.Request{URL: u("https://keystone:5000/v3/x")}, ten), "stopped after 10 redirects")
}

// A redirect within the origin (same scheme, host and port) is followed.
func TestRedirectWithinTheOriginIsFollowed(t *testing.T) {
	for _, code := range []int{301, 302, 307, 308} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			var once sync.Once
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				moved := false
				if r.URL.Path == "/baremetal/v1/nodes" {
					once.Do(func() { moved = true; http.Redirect(w, r, f.url("/baremetal/v1/nodes?moved=1"), code) })
				}
				return moved
			}
			c, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "pw", ProjectName: "admin"}})
			require.NoError(t, err)
			assert.Equal(t, "node-0", listNodes(t, c)[0].Name)
			assert.Equal(t, 2, f.count("GET /baremetal/v1/nodes"))
		})
	}
}

// streamJSON answers with a JSON document of about size bytes, generated
// as it is sent (never held in memory).
func streamJSON(w http.ResponseWriter, status int, prefix string, size int64, withLength bool) {
	w.Header().Set("Content-Type", "application/json")
	suffix := `"}`
	if withLength {
		w.Header().Set("Content-Length", fmt.Sprint(int64(len(prefix))+size+int64(len(suffix))))
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, prefix)
	_, _ = io.CopyN(w, repeatReader('a'), size)
	_, _ = io.WriteString(w, suffix)
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// An enormous API body fails clearly within bounded memory, whether it is
// streamed (chunked) or announced by Content-Length, through gophercloud's
// JSON decoding, its pagination and our own reads (microversion discovery).
func TestResponseBodyLimit(t *testing.T) {
	const huge = 1 << 30 // sixteen times the limit
	tests := []struct {
		name       string
		path       string
		withLength bool
		call       func(c *Cloud) error
	}{
		{"single resource, streamed", "/baremetal/v1/nodes/big", false, func(c *Cloud) error {
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			_, err = nodes.Get(context.Background(), bm, "big").Extract()
			return err
		}},
		{"listing, streamed", "/baremetal/v1/nodes", false, func(c *Cloud) error {
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			_, err = nodes.List(bm, nodes.ListOpts{}).AllPages(context.Background())
			return err
		}},
		{"listing, Content-Length", "/baremetal/v1/nodes", true, func(c *Cloud) error {
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			_, err = nodes.List(bm, nodes.ListOpts{}).AllPages(context.Background())
			return err
		}},
		{"version discovery", "/baremetal/", false, func(c *Cloud) error {
			_, err := c.Baremetal(context.Background())
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			f.requireToken = false
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != tt.path {
					return false
				}
				streamJSON(w, 200, `{"name": "`, huge, tt.withLength)
				return true
			}
			// A fresh endpoint: microversions are cached per endpoint.
			c, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal")}})
			require.NoError(t, err)

			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err = tt.call(c)
			runtime.ReadMemStats(&after)

			require.Error(t, err, f.requests)
			assert.Contains(t, Describe(err, "").Error(), "response larger than 64 MiB (the limit for an API response): refused")
			assert.Contains(t, err.Error(), f.url(tt.path))
			// json.Decoder doubles its buffer (about four times the limit
			// allocated in all), far below the body.
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(5*MaxResponseBytes), "bytes allocated")
			assert.Equal(t, 1, f.countExact("GET "+tt.path), "not retried")
		})
	}
}

// An enormous error body is cut: the status and the start of the service's
// message come through, and memory stays bounded.
func TestErrorBodyLimit(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	f.requireToken = false
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/baremetal/v1/nodes/big" {
			return false
		}
		streamJSON(w, 400, `{"error_message": "bad `, 160<<20, false)
		return true
	}
	c, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal")}})
	require.NoError(t, err)
	bm, err := c.Baremetal(context.Background())
	require.NoError(t, err)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = nodes.Get(context.Background(), bm, "big").Extract()
	runtime.ReadMemStats(&after)

	require.Error(t, err)
	msg := Describe(err, "node big").Error()
	assert.True(t, strings.HasPrefix(msg, "node big: "), msg)
	assert.Contains(t, msg, "(HTTP 400)")
	assert.Less(t, len(msg), 2000)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(32<<20), "bytes allocated")
}

// A body of exactly the limit is read whole.
func TestLimitedBodyBoundary(t *testing.T) {
	for _, tt := range []struct {
		size    int
		wantErr bool
	}{{0, false}, {10, false}, {11, true}, {1000, true}} {
		b := &limitedBody{body: io.NopCloser(strings.NewReader(strings.Repeat("x", tt.size))), left: 10, err: io.ErrShortBuffer}
		got, err := io.ReadAll(b)
		if tt.wantErr {
			assert.ErrorIs(t, err, io.ErrShortBuffer, tt.size)
			assert.Len(t, got, 10)
		} else {
			assert.NoError(t, err, tt.size)
			assert.Len(t, got, tt.size)
		}
	}
}

func TestPathSegment(t *testing.T) {
	for in, want := range map[string]string{
		"node-0": "node-0", "q?x=1": "q%3Fx=1", "h#f": "h%23f", "p%41": "p%2541", "%2e%2e": "%252e%252e", "a b": "a%20b", "...": "...",
	} {
		got, err := PathSegment(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for in, want := range map[string]string{
		"": "is empty", ".": `"." cannot be used in a URL path (a dot segment)`, "..": `".." cannot be used in a URL path (a dot segment)`,
		"../ports": `"../ports" cannot be used in a URL path (it holds '/')`, "a/b": `"a/b" cannot be used in a URL path (it holds '/')`,
	} {
		_, err := PathSegment(in)
		assert.ErrorContains(t, err, want, in)
	}
}

// A request whose path steps elsewhere (a dot segment, an escaped '/') is
// refused by the transport, whichever call site built it, before it is sent.
func TestTransportRefusesUnsafePaths(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	f.requireToken = false
	c, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal")}})
	require.NoError(t, err)
	bm, err := c.Baremetal(context.Background())
	require.NoError(t, err)
	for _, ident := range []string{"..", ".", "../ports", "x/../../v1/ports", "a%2Fb", "%2e%2e", "a%2fports"} {
		before := f.count("GET /baremetal/v1/")
		_, err := nodes.Get(context.Background(), bm, ident).Extract()
		require.Error(t, err, ident)
		assert.Contains(t, err.Error(), "refused, the path holds", ident)
		assert.Equal(t, before, f.count("GET /baremetal/v1/"), "%s was sent", ident)
	}
	// The same names escaped by PathSegment (where it accepts them) go through.
	for _, ident := range []string{"a%2Fb", "%2e%2e", "q?x=1"} {
		seg, err := PathSegment(ident)
		require.NoError(t, err)
		_, err = nodes.Get(context.Background(), bm, seg).Extract()
		assert.ErrorContains(t, Describe(err, ""), "(HTTP 404)", ident)
	}
}

// A link in a service's answer (Ironic's pagination "next", built from its
// public_endpoint) to another origin is not fetched: the token stays home.
func TestLinksToAnotherHostAreNotFollowed(t *testing.T) {
	for _, link := range []string{"", "/baremetal/v1/nodes?marker=x"} {
		t.Run("next link "+link, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			other := newRecorder(t, false)
			next := other.srv.URL + link
			if link == "" {
				next = f.url("/baremetal/v1/nodes?marker=x") // same origin: followed
			}
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/baremetal/v1/nodes" || r.URL.Query().Get("marker") != "" {
					return false
				}
				writeJSON(w, 200, map[string]any{"nodes": []any{map[string]any{"uuid": "u-1", "name": "node-a"}},
					"next": next, "nodes_links": []any{map[string]any{"rel": "next", "href": next}}})
				return true
			}
			c, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "pw", ProjectName: "admin"}})
			require.NoError(t, err)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			pages, err := nodes.List(bm, nodes.ListOpts{}).AllPages(context.Background())
			if link == "" {
				require.NoError(t, err)
				all, err := nodes.ExtractNodes(pages)
				require.NoError(t, err)
				assert.Len(t, all, 2)
				return
			}
			require.Error(t, err)
			assert.Contains(t, Describe(err, "").Error(), "refused, "+other.srv.URL+" is not an endpoint of this cloud")
			assert.Empty(t, other.requests(), "the other port got a request")
		})
	}
}

// The origins allowed are the configured endpoints and the catalog's, each
// with its scheme and port.
func TestEndpointOrigins(t *testing.T) {
	var o endpointOrigins
	o.allow("https://Keystone:5000/v3", "http://ironic/v1", "not a url", "")
	u := func(s string) *url.URL { p, err := url.Parse(s); require.NoError(t, err); return p }
	for s, want := range map[string]bool{
		"https://keystone:5000/v3/auth/tokens": true, "http://ironic:80/v1/nodes": true, "http://ironic/": true,
		"http://keystone:5000/v3": false, "https://keystone:5001/v3": false, "https://ironic/v1": false, "http://other/": false,
	} {
		assert.Equal(t, want, o.allows(u(s)), s)
	}
}
