package hostile

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Recorder is "another host": a loopback server on its own port that
// records everything it receives and answers 404. Credentials must never
// reach it.
type Recorder struct {
	URL string
	mu  sync.Mutex
	log strings.Builder
	n   int
}

// NewRecorder starts a recorder, stopped at the end of the test.
func NewRecorder(t *testing.T) *Recorder {
	r := &Recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r.mu.Lock()
		r.n++
		fmt.Fprintf(&r.log, "%s %s\n", req.Method, req.RequestURI)
		for k, v := range req.Header {
			fmt.Fprintf(&r.log, "%s: %s\n", k, strings.Join(v, ", "))
		}
		fmt.Fprintf(&r.log, "\n%s\n\n", body)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error": {"code": 404, "message": "nothing here"}}`)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Seen is every request received: request line, headers, body.
func (r *Recorder) Seen() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// AssertNoCredentials fails t when any request the recorder received
// carried a secret (in any form) or an auth header.
func (r *Recorder) AssertNoCredentials(t *testing.T, extra ...string) {
	t.Helper()
	seen := r.Seen()
	Sweep(t, "the request that reached the other port", seen, append(AllSentinels(), extra...))
	for _, h := range []string{"Authorization:", "X-Auth-Token:"} {
		if strings.Contains(seen, h) {
			t.Errorf("the other port received an %s header:\n%s", strings.TrimSuffix(h, ":"), clip(seen))
		}
	}
}

// Redirector answers every request with a redirect (code) to target + the
// request's path and query.
func Redirector(t *testing.T, code int, target string) string {
	srv := httptest.NewServer(redirectHandler(code, target))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TLSRedirector is Redirector over https; it returns the URL and the path
// of a PEM file of its certificate (for ca_cert).
func TLSRedirector(t *testing.T, code int, target string) (string, string) {
	srv := httptest.NewTLSServer(redirectHandler(code, target))
	t.Cleanup(srv.Close)
	return srv.URL, CertFile(t, srv)
}

func redirectHandler(code int, target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, target+r.URL.RequestURI(), code)
	})
}

// CertFile writes the certificate of a TLS test server as PEM.
func CertFile(t *testing.T, srv *httptest.Server) string {
	p := filepath.Join(t.TempDir(), "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Front is a recording reverse proxy in front of a fake: it records the
// raw request URI of every request, and Intercept may answer instead.
type Front struct {
	URL string
	// Intercept answers a request itself when it returns true.
	Intercept func(w http.ResponseWriter, r *http.Request, body []byte) bool
	mu        sync.Mutex
	uris      []string
}

// NewFront starts a front for backend (a URL).
func NewFront(t *testing.T, backend string) *Front {
	f := &Front{}
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.uris = append(f.uris, r.Method+" "+r.RequestURI)
		intercept := f.Intercept
		f.mu.Unlock()
		if intercept != nil {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			if intercept(w, r, body) {
				return
			}
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// URIs are "METHOD request-URI" of every request, in order.
func (f *Front) URIs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.uris...)
}

// emptyNodeSegment is a node URL whose name was cut off: "nodes/#x"
// unescaped is "nodes/" plus a fragment, the node list.
var emptyNodeSegment = regexp.MustCompile(`/nodes/(\?|$)`)

// AssertNameEscaped checks how a hostile node name reached the API: when
// the module did not reject it (failed naming one of options), every
// request carrying it carried it escaped as one path segment, never raw.
func AssertNameEscaped(t *testing.T, o *Outcome, f *Front, name string, options ...string) {
	t.Helper()
	for _, p := range nameProblems(o, f.URIs(), name, options) {
		t.Error(p)
	}
}

// nameProblems is AssertNameEscaped's judgement on the requests uris.
func nameProblems(o *Outcome, uris []string, name string, options []string) []string {
	var raw []string
	for _, u := range uris {
		if strings.Contains(u, name) || emptyNodeSegment.MatchString(u) {
			raw = append(raw, u)
		}
	}
	switch {
	case len(raw) > 0:
		return []string{fmt.Sprintf("the name %q reached a URL unescaped: %s", name, strings.Join(raw, " | "))}
	case o.Failed() && containsAny(o.Msg(), options):
		return nil // rejected, naming the option
	case !anyContains(uris, url.PathEscape(name)):
		return []string{fmt.Sprintf("neither rejected naming %s nor requested as the escaped segment %q: msg %q; requests %s",
			strings.Join(options, "/"), url.PathEscape(name), clip(o.Msg()), strings.Join(uris, " | "))}
	}
	return nil
}

func anyContains(l []string, s string) bool {
	for _, e := range l {
		if strings.Contains(e, s) {
			return true
		}
	}
	return false
}

// BigBody answers version discovery (the root and /vN) as Ironic and Nova
// do, and every other request with 200 and a JSON document of size bytes
// (a huge string inside), generated as it is sent.
func BigBody(t *testing.T, size int64) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if p := strings.Trim(r.URL.Path, "/"); !strings.Contains(p, "/") {
			_, _ = io.WriteString(w, versionsDoc)
			return
		}
		head := `{"nodes": [], "images": [], "servers": [], "versions": [], "x": "`
		_, _ = io.WriteString(w, head)
		chunk := []byte(strings.Repeat("A", 64<<10))
		for sent := int64(len(head)); sent < size; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// versionsDoc is a version discovery document for Ironic and Nova.
const versionsDoc = `{"versions": [{"id": "v1", "version": "1.82", "min_version": "1.1", "status": "CURRENT"},
	{"id": "v2.1", "version": "2.93", "min_version": "2.1", "status": "CURRENT"}, {"id": "v2.0", "status": "SUPPORTED"}]}`

// Keystone is a fake Keystone v3: it issues SentIssuedToken with an empty
// catalog (the endpoints come from *_endpoint_override), or misbehaves.
type Keystone struct {
	URL string
	// Echo401 makes the token request fail with 401, echoing the request
	// body in the error message, as a careless proxy might.
	Echo401 bool
	// RedirectTo makes the token request answer 307 to this URL + path.
	RedirectTo string
}

// NewKeystone starts a fake Keystone.
func NewKeystone(t *testing.T) *Keystone {
	k := &Keystone{}
	srv := httptest.NewServer(http.HandlerFunc(k.serve))
	t.Cleanup(srv.Close)
	k.URL = srv.URL
	return k
}

// AuthURL is the v3 auth URL.
func (k *Keystone) AuthURL() string { return k.URL + "/v3" }

func (k *Keystone) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/auth/tokens") && r.Method == http.MethodPost:
		switch {
		case k.RedirectTo != "":
			http.Redirect(w, r, k.RedirectTo+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		case k.Echo401:
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": 401, "title": "Unauthorized",
				"message": "The request you have made requires authentication. Request was: " + string(body)}})
		default:
			w.Header().Set("X-Subject-Token", SentIssuedToken)
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"token": {"methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
				"issued_at": "2024-01-01T00:00:00.000000Z",
				"user": {"id": "u1", "name": "hostile", "domain": {"id": "default", "name": "Default"}},
				"project": {"id": "p1", "name": "hostile", "domain": {"id": "default", "name": "Default"}},
				"roles": [{"id": "r1", "name": "admin"}], "catalog": []}}`)
		}
	default:
		_, _ = fmt.Fprintf(w, `{"version": {"id": "v3.14", "status": "stable", "links": [{"rel": "self", "href": %q}]}}`, k.URL+"/v3/")
	}
}

// Glance is a small in-memory Glance v2 for glance_rhcos: list by name,
// create, get, JSON-patch, upload, delete.
type Glance struct {
	URL string
	// UploadDelay slows each upload chunk down (a signal arrives mid-upload).
	mu     sync.Mutex
	images map[string]map[string]any
	seq    int
	writes int
}

// NewGlance starts a fake Glance.
func NewGlance(t *testing.T) *Glance {
	g := &Glance{images: map[string]map[string]any{}}
	srv := httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// Writes counts the write requests received.
func (g *Glance) Writes() int { g.mu.Lock(); defer g.mu.Unlock(); return g.writes }

// Images are the images held, any status.
func (g *Glance) Images() []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []map[string]any
	for _, im := range g.images {
		out = append(out, im)
	}
	return out
}

func (g *Glance) serve(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if v != nil {
			_ = json.NewEncoder(w).Encode(v)
		}
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v2"), "/"), "/")
	if r.Method != http.MethodGet {
		g.mu.Lock()
		g.writes++
		g.mu.Unlock()
	}
	if len(parts) == 3 && parts[0] == "images" && parts[2] == "file" && r.Method == http.MethodPut {
		h := sha512.New()
		n, err := io.Copy(h, r.Body)
		g.mu.Lock()
		defer g.mu.Unlock()
		im := g.images[parts[1]]
		if im == nil || err != nil {
			reply(http.StatusBadRequest, nil)
			return
		}
		im["status"], im["size"] = "active", n
		im["os_hash_algo"], im["os_hash_value"] = "sha512", hex.EncodeToString(h.Sum(nil))
		im["updated_at"] = time.Now().UTC().Format(time.RFC3339)
		reply(http.StatusNoContent, nil)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case len(parts) == 1 && parts[0] == "images" && r.Method == http.MethodGet:
		out := []any{}
		for _, im := range g.images {
			if n := r.URL.Query().Get("name"); n == "" || im["name"] == n {
				out = append(out, im)
			}
		}
		reply(200, map[string]any{"images": out})
	case len(parts) == 1 && parts[0] == "images" && r.Method == http.MethodPost:
		var im map[string]any
		if err := json.NewDecoder(r.Body).Decode(&im); err != nil {
			reply(400, nil)
			return
		}
		g.seq++
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", g.seq)
		now := time.Now().UTC().Format(time.RFC3339)
		im["id"], im["status"], im["created_at"], im["updated_at"], im["owner"] = id, "queued", now, now, "p1"
		im["tags"], im["visibility"] = orEmpty(im["tags"]), "shared"
		g.images[id] = im
		reply(201, im)
	case len(parts) == 2 && parts[0] == "images":
		im := g.images[parts[1]]
		if im == nil {
			reply(404, nil)
			return
		}
		switch r.Method {
		case http.MethodGet:
			reply(200, im)
		case http.MethodDelete:
			delete(g.images, parts[1])
			reply(204, nil)
		case http.MethodPatch:
			var ops []map[string]any
			_ = json.NewDecoder(r.Body).Decode(&ops)
			for _, op := range ops {
				key := strings.TrimPrefix(fmt.Sprint(op["path"]), "/")
				if op["op"] == "remove" {
					delete(im, key)
				} else {
					im[key] = op["value"]
				}
			}
			reply(200, im)
		}
	case len(parts) == 2 && parts[0] == "info" && parts[1] == "import":
		reply(200, map[string]any{"import-methods": map[string]any{"value": []any{"glance-direct", "web-download"}}})
	default:
		reply(404, nil)
	}
}

func orEmpty(v any) any {
	if v == nil {
		return []any{}
	}
	return v
}

// Hostile local files.

// FIFO makes a named pipe nobody writes to: a read blocks forever.
func FIFO(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Sparse makes a sparse file of size bytes (no disk used).
func Sparse(t *testing.T, size int64) string {
	p := filepath.Join(t.TempDir(), "sparse.yaml")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// WriteFile writes content to name in a fresh directory and returns the path.
func WriteFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// BillionLaughs is a YAML document whose anchors a0..a9 expand to 10^9
// scalars at *a9, followed by tail, which refers to *a9 (a few hundred
// bytes on disk).
func BillionLaughs(tail string) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString(tail)
	return b.String()
}

// AliasCycle is a YAML document in which key holds a list containing itself.
func AliasCycle(key string) string { return key + ": &loop [*loop]\n" }

// FileState is a file's mode, type and content, to prove it untouched.
type FileState struct {
	Mode    os.FileMode
	Content string
}

// StateOf reads path without following a symlink at it.
func StateOf(t *testing.T, path string) FileState {
	st, err := os.Lstat(path)
	if err != nil {
		return FileState{}
	}
	s := FileState{Mode: st.Mode()}
	if st.Mode().IsRegular() {
		b, _ := os.ReadFile(path)
		s.Content = string(b)
	} else if st.Mode()&os.ModeSymlink != 0 {
		s.Content, _ = os.Readlink(path)
	}
	return s
}
