package openstack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/metalkit/baremetal/internal/secret"
)

// fakeCloud is one loopback server playing Keystone (/identity), Ironic
// (/baremetal), Glance (/image), Nova (/compute), Placement (/placement) and
// Neutron (/network). Catalog internal endpoints live under /internal.
type fakeCloud struct {
	t   testing.TB
	srv *httptest.Server

	// Credentials Keystone accepts.
	username, password string
	appCredID, appCred string
	userToken          string // a pre-issued token (auth_type token)
	// echoSecret makes Keystone's 401 quote the password it was sent.
	echoSecret bool
	// requireToken makes services demand a valid X-Auth-Token.
	requireToken bool
	// basicUser/basicPass make services demand HTTP Basic credentials.
	basicUser, basicPass string

	ironicMax, ironicMin string
	novaMax              string

	mu        sync.Mutex
	tokens    map[string]bool
	issued    int
	authReqs  []map[string]any
	requests  []string // "METHOD /path"
	headers   []http.Header
	hook      func(w http.ResponseWriter, r *http.Request) bool
	nodeSteps []map[string]any // successive node GET answers (last repeats)
}

func newFakeCloud(t testing.TB) *fakeCloud {
	f := &fakeCloud{
		t: t, username: "admin", password: "pw", appCredID: "ac-id", appCred: "ac-secret",
		userToken: "tok-preissued", requireToken: true,
		ironicMax: "1.82", ironicMin: "1.1", novaMax: "2.93",
		tokens: map[string]bool{"tok-preissued": true},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCloud) url(p string) string { return f.srv.URL + p }

func (f *fakeCloud) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeCloud) lastHeader(prefix, name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if strings.HasPrefix(f.requests[i], prefix) {
			return f.headers[i].Get(name)
		}
	}
	return ""
}

func (f *fakeCloud) expireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = map[string]bool{}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeCloud) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.headers = append(f.headers, r.Header.Clone())
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/internal")
	if strings.HasPrefix(path, "/identity") {
		f.identity(w, r, strings.TrimPrefix(path, "/identity"))
		return
	}
	// Version documents are public, as in the real services.
	switch path {
	case "/baremetal", "/baremetal/":
		writeJSON(w, 200, map[string]any{
			"name": "OpenStack Ironic API",
			"versions": []any{map[string]any{"id": "v1", "status": "CURRENT",
				"version": f.ironicMax, "min_version": f.ironicMin}},
			"default_version": map[string]any{"id": "v1", "version": f.ironicMax, "min_version": f.ironicMin},
		})
		return
	case "/image", "/image/":
		writeJSON(w, 300, map[string]any{"versions": []any{map[string]any{"id": "v2.16", "status": "CURRENT"}, map[string]any{"id": "v2.15", "status": "SUPPORTED"}}})
		return
	case "/placement", "/placement/":
		writeJSON(w, 200, map[string]any{"versions": []any{map[string]any{"id": "v1.0", "status": "CURRENT", "max_version": "1.39", "min_version": "1.0"}}})
		return
	case "/network", "/network/":
		writeJSON(w, 200, map[string]any{"versions": []any{map[string]any{"id": "v2.0", "status": "CURRENT"}}})
		return
	case "/compute/v2.1", "/compute/v2.1/":
		writeJSON(w, 200, map[string]any{"version": map[string]any{"id": "v2.1", "status": "CURRENT", "version": f.novaMax, "min_version": "2.1"}})
		return
	}
	if !f.authorized(w, r) {
		return
	}
	switch {
	case r.Method == "GET" && path == "/baremetal/v1/nodes":
		writeJSON(w, 200, map[string]any{"nodes": []any{map[string]any{"uuid": "11111111-1111-1111-1111-111111111111", "name": "node-0", "provision_state": "manageable"}}})
	case r.Method == "GET" && strings.HasPrefix(path, "/baremetal/v1/nodes/"):
		f.mu.Lock()
		var n map[string]any
		if len(f.nodeSteps) > 0 {
			n = f.nodeSteps[0]
			if len(f.nodeSteps) > 1 {
				f.nodeSteps = f.nodeSteps[1:]
			}
		}
		f.mu.Unlock()
		if n == nil {
			writeJSON(w, 404, map[string]any{"error_message": `{"faultstring": "Node could not be found.", "debuginfo": null}`})
			return
		}
		writeJSON(w, 200, n)
	case r.Method == "GET" && path == "/image/v2/images":
		writeJSON(w, 200, map[string]any{"images": []any{map[string]any{"id": "img-1", "name": "rhcos", "status": "active"}}})
	case r.Method == "GET" && path == "/compute/v2.1/flavors/detail":
		writeJSON(w, 200, map[string]any{"flavors": []any{map[string]any{"id": "f1", "name": "baremetal", "ram": 1024, "vcpus": 1, "disk": 10}}})
	case r.Method == "GET" && strings.HasPrefix(path, "/compute/v2.1/servers/"):
		writeJSON(w, 404, map[string]any{"itemNotFound": map[string]any{"code": 404, "message": "Instance could not be found."}})
	case r.Method == "GET" && path == "/placement/resource_providers":
		writeJSON(w, 200, map[string]any{"resource_providers": []any{}})
	case r.Method == "GET" && path == "/network/v2.0/networks":
		writeJSON(w, 200, map[string]any{"networks": []any{}})
	default:
		writeJSON(w, 404, map[string]any{"error_message": fmt.Sprintf(`{"faultstring": "no route %s %s"}`, r.Method, path)})
	}
}

func (f *fakeCloud) authorized(w http.ResponseWriter, r *http.Request) bool {
	if f.basicUser != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(f.basicUser+":"+f.basicPass))
		if r.Header.Get("Authorization") != want {
			writeJSON(w, 401, map[string]any{"error_message": `{"faultstring": "Unauthorized"}`})
			return false
		}
	}
	if f.requireToken {
		f.mu.Lock()
		ok := f.tokens[r.Header.Get("X-Auth-Token")]
		f.mu.Unlock()
		if !ok {
			writeJSON(w, 401, map[string]any{"error": map[string]any{"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}})
			return false
		}
	}
	return true
}

func (f *fakeCloud) identity(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case r.Method == "GET" && (path == "" || path == "/"):
		writeJSON(w, 300, map[string]any{"versions": map[string]any{"values": []any{map[string]any{
			"id": "v3.14", "status": "stable", "links": []any{map[string]any{"rel": "self", "href": f.url("/identity/v3/")}},
		}}}})
	case r.Method == "POST" && path == "/v3/auth/tokens":
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.authReqs = append(f.authReqs, body)
		f.mu.Unlock()
		b, _ := json.Marshal(body)
		req := string(b)
		ok := false
		var method string
		switch {
		case strings.Contains(req, `"password"`) && strings.Contains(req, `"methods":["password"]`):
			method = "password"
			user, _ := body["auth"].(map[string]any)["identity"].(map[string]any)["password"].(map[string]any)["user"].(map[string]any)
			ok = user["name"] == f.username && user["password"] == f.password
			if !ok && f.echoSecret {
				writeJSON(w, 401, map[string]any{"error": map[string]any{"code": 401, "title": "Unauthorized",
					"message": fmt.Sprintf("Invalid password %v for user %v", user["password"], user["name"])}})
				return
			}
		case strings.Contains(req, `"application_credential"`):
			method = "application_credential"
			ac := body["auth"].(map[string]any)["identity"].(map[string]any)["application_credential"].(map[string]any)
			ok = ac["id"] == f.appCredID && ac["secret"] == f.appCred
			if !ok && f.echoSecret {
				writeJSON(w, 401, map[string]any{"error": map[string]any{"code": 401, "message": fmt.Sprintf("bad secret %v", ac["secret"])}})
				return
			}
		case strings.Contains(req, `"token"`):
			method = "token"
			tok := body["auth"].(map[string]any)["identity"].(map[string]any)["token"].(map[string]any)
			f.mu.Lock()
			ok = tok["id"] == f.userToken
			f.mu.Unlock()
		}
		if !ok {
			writeJSON(w, 401, map[string]any{"error": map[string]any{"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}})
			return
		}
		f.issueToken(w, 201, method)
	case r.Method == "GET" && path == "/v3/auth/tokens":
		f.mu.Lock()
		ok := r.Header.Get("X-Subject-Token") == f.userToken && r.Header.Get("X-Auth-Token") == f.userToken
		f.mu.Unlock()
		if !ok {
			writeJSON(w, 404, map[string]any{"error": map[string]any{"code": 404, "message": "Could not find token."}})
			return
		}
		w.Header().Set("X-Subject-Token", f.userToken)
		writeJSON(w, 200, f.tokenBody("token"))
	default:
		writeJSON(w, 404, map[string]any{"error": map[string]any{"code": 404, "message": "not found"}})
	}
}

func (f *fakeCloud) issueToken(w http.ResponseWriter, status int, method string) {
	f.mu.Lock()
	f.issued++
	tok := fmt.Sprintf("tok-%d", f.issued)
	f.tokens[tok] = true
	f.mu.Unlock()
	w.Header().Set("X-Subject-Token", tok)
	writeJSON(w, status, f.tokenBody(method))
}

func (f *fakeCloud) tokenBody(method string) map[string]any {
	ep := func(service, path string) map[string]any {
		var eps []any
		for _, iface := range []string{"public", "internal"} {
			u := f.url(path)
			if iface == "internal" {
				u = f.url("/internal" + path)
			}
			eps = append(eps, map[string]any{"id": service + iface, "interface": iface, "region": "RegionOne", "region_id": "RegionOne", "url": u})
		}
		return map[string]any{"type": service, "id": service, "name": service, "endpoints": eps}
	}
	return map[string]any{"token": map[string]any{
		"methods":    []any{method},
		"expires_at": "2999-01-01T00:00:00.000000Z",
		"issued_at":  "2000-01-01T00:00:00.000000Z",
		"user":       map[string]any{"id": "u1", "name": f.username, "domain": map[string]any{"id": "default", "name": "Default"}},
		"project":    map[string]any{"id": "p1", "name": "admin", "domain": map[string]any{"id": "default", "name": "Default"}},
		"catalog": []any{
			ep("baremetal", "/baremetal"),
			ep("image", "/image"),
			ep("compute", "/compute/v2.1"),
			ep("placement", "/placement"),
			ep("network", "/network"),
			ep("identity", "/identity/v3"),
		},
	}}
}

// isolate clears OS_* variables and points every clouds.yaml location at an
// empty temp dir (cwd, XDG, HOME), so tests see only what they set.
func isolate(t *testing.T) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OS_") {
			t.Setenv(k, "")
		}
	}
	// Secrets registered by earlier tests would mask this test's text.
	secret.Reset()
	ResetRetries()
	// A port an earlier test's server had may come back: forget its microversions.
	microversions.Lock()
	microversions.byKey = nil
	microversions.Unlock()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg"))
	t.Chdir(dir)
	return dir
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// drain reads a body fully, for hooks.
func drain(r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }

// fastRetry keeps retry tests quick.
var fastRetry = RetryPolicy{MaxAttempts: 10, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}

// discardLog silences httptest's TLS handshake error logs.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
