package image

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/safefile"
)

// Meta is what a source tells about its bytes without sending them: the
// validators recorded on the image so a later run can tell "same source"
// from a HEAD or a stat alone.
type Meta struct {
	Size         int64  // -1 when unknown
	ETag         string // http only
	LastModified string // http Last-Modified, or a file's mtime (RFC 3339, ns)
}

// Source is where the image bytes come from.
type Source interface {
	// String is the printable name: no credentials, no query string.
	String() string
	// Stat reads the metadata only (HEAD or stat).
	Stat(ctx context.Context) (Meta, error)
	// Open starts reading the bytes.
	Open(ctx context.Context) (io.ReadCloser, Meta, error)
}

// FileSource reads a local file.
type FileSource struct{ Path string }

func (f *FileSource) String() string { return f.Path }

func (f *FileSource) Stat(context.Context) (Meta, error) {
	st, err := os.Stat(f.Path)
	if err != nil {
		return Meta{}, fmt.Errorf("src: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Meta{}, fmt.Errorf("src: %s is not a regular file", f.Path)
	}
	return Meta{Size: st.Size(), LastModified: st.ModTime().UTC().Format(time.RFC3339Nano)}, nil
}

func (f *FileSource) Open(ctx context.Context) (io.ReadCloser, Meta, error) {
	m, err := f.Stat(ctx)
	if err != nil {
		return nil, m, err
	}
	r, _, err := safefile.Open("src", f.Path)
	if err != nil {
		return nil, m, err
	}
	return r, m, nil
}

// HTTPSource reads an http or https URL. Credentials in the URL are sent as
// basic auth and never printed.
type HTTPSource struct {
	URL    *url.URL
	Client *http.Client
	// IdleTimeout fails a download that sends nothing for that long.
	IdleTimeout time.Duration
}

// HTTPOptions configure the TLS and timeouts of an HTTPSource.
type HTTPOptions struct {
	ValidateCerts bool
	CACert        string // PEM file added to the system roots
	// ConnectTimeout bounds dialing, the TLS handshake and the wait for
	// response headers; the body itself is bounded by the caller's context.
	ConnectTimeout time.Duration
}

// NewHTTPSource parses and checks the URL and builds its client.
func NewHTTPSource(raw string, o HTTPOptions) (*HTTPSource, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse echoes the whole input, credentials included.
		return nil, errors.New("url: not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url: scheme %q is not supported, expected http or https (use src for a local file)", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("url: %s has no host", Redact(u))
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !o.ValidateCerts} //nolint:gosec // the user's explicit choice
	if o.CACert != "" {
		pem, err := safefile.Read("url_ca_cert", o.CACert, 4<<20)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("url_ca_cert: %s holds no PEM certificate", o.CACert)
		}
		tlsConf.RootCAs = pool
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 60 * time.Second
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.ConnectTimeout,
		// Transparent gzip would hide the real bytes (and their checksum).
		DisableCompression: true,
		ReadBufferSize:     256 << 10,
	}
	client := &http.Client{Transport: tr, CheckRedirect: keepCredentialsHome}
	return &HTTPSource{URL: u, Client: client, IdleTimeout: o.ConnectTimeout}, nil
}

// keepCredentialsHome is the download's redirect policy. Mirrors redirect
// to other hosts (a CDN), so those redirects are followed, but nothing of
// the URL's credentials goes along: net/http would send a Referer holding
// the query string (a pre-signed token) and copy every header to another
// port of the same host name. A step from https to http is refused.
func keepCredentialsHome(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	for _, prev := range via {
		if prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refusing to follow a redirect from https to %s", Redact(req.URL))
		}
	}
	req.Header.Del("Referer")
	if !openstack.SameOrigin(via[0].URL, req.URL) {
		req.Header = http.Header{"User-Agent": req.Header.Values("User-Agent")}
		req.URL.User = nil
	}
	return nil
}

func (h *HTTPSource) String() string { return Redact(h.URL) }

func (h *HTTPSource) Stat(ctx context.Context) (Meta, error) {
	resp, err := h.do(ctx, http.MethodHead)
	if err != nil {
		return Meta{}, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented:
		return Meta{Size: -1}, nil // no HEAD: nothing known, not an error
	case resp.StatusCode/100 != 2:
		return Meta{}, h.statusError(resp)
	}
	return metaOf(resp), nil
}

func (h *HTTPSource) Open(ctx context.Context) (io.ReadCloser, Meta, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	resp, err := h.do(ctx, http.MethodGet)
	if err != nil {
		cancel(nil)
		return nil, Meta{}, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel(nil)
		return nil, Meta{}, h.statusError(resp)
	}
	idle := h.IdleTimeout
	if idle <= 0 {
		idle = 24 * time.Hour
	}
	return newIdleReader(resp.Body, idle, cancel, h.String()), metaOf(resp), nil
}

// idleReader cancels a download that sends nothing for d: a stalled mirror
// fails in url_timeout seconds, not at the end of the task's timeout.
type idleReader struct {
	body    io.ReadCloser
	timer   *time.Timer
	d       time.Duration
	cancel  context.CancelCauseFunc
	stalled error
}

func newIdleReader(body io.ReadCloser, d time.Duration, cancel context.CancelCauseFunc, name string) *idleReader {
	r := &idleReader{body: body, d: d, cancel: cancel, stalled: fmt.Errorf("url: %s sent nothing for %s (url_timeout)", name, d)}
	r.timer = time.AfterFunc(d, func() { cancel(r.stalled) })
	return r
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if n > 0 {
		r.timer.Reset(r.d)
	}
	if err != nil && !errors.Is(err, io.EOF) && !r.timer.Stop() {
		return n, r.stalled // the timer fired: say why the read broke
	}
	return n, err
}

func (r *idleReader) Close() error {
	r.timer.Stop()
	r.cancel(nil)
	return r.body.Close()
}

func (h *HTTPSource) do(ctx context.Context, method string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, h.URL.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("url: %s: %v", h, errors.Unwrap(err))
	}
	req.Header.Set("User-Agent", "metalkit.baremetal glance_rhcos")
	resp, err := h.Client.Do(req)
	if err != nil {
		return nil, h.transportError(err)
	}
	return resp, nil
}

// transportError words a failed request without the URL net/http puts in
// its error (which keeps the query string).
func (h *HTTPSource) transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &certErr) {
		return fmt.Errorf("url: TLS verification of %s failed: %v (set url_ca_cert to the CA that signed the server's certificate, or url_validate_certs: false)", h, err)
	}
	return fmt.Errorf("url: %s: %v", h, err)
}

func (h *HTTPSource) statusError(resp *http.Response) error {
	final := h.String()
	if resp.Request != nil && resp.Request.URL.String() != h.URL.String() {
		final = fmt.Sprintf("%s (redirected to %s)", h, Redact(resp.Request.URL))
	}
	return fmt.Errorf("url: %s answered %s", final, resp.Status)
}

func metaOf(resp *http.Response) Meta {
	m := Meta{Size: -1, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	if n, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
		m.Size = n
	}
	return m
}

// Redact prints a URL without its user info and query string, which may
// hold credentials (basic auth, pre-signed tokens).
func Redact(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "REDACTED"
	}
	c.Fragment = ""
	return c.String()
}

// SourceFor builds the source from the module's url or src.
func SourceFor(rawURL, src string, o HTTPOptions) (Source, error) {
	if src != "" {
		abs, err := filepath.Abs(src)
		if err != nil {
			return nil, fmt.Errorf("src: %w", err)
		}
		return &FileSource{Path: abs}, nil
	}
	return NewHTTPSource(rawURL, o)
}
