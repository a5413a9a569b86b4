package image

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const pass = "SENTINEL-source-pass"

func TestHTTPSource(t *testing.T) {
	payload := fakeQcow2(300 << 10)
	mux := http.NewServeMux()
	mux.HandleFunc("/img", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "img", time.Unix(1700000000, 0), strings.NewReader(string(payload)))
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != pass {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write(payload)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/img", http.StatusFound) })
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(payload[:1000])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	plain := httptest.NewServer(mux)
	defer plain.Close()
	secure := httptest.NewTLSServer(mux)
	defer secure.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw}), 0o644))
	mux.HandleFunc("/downgrade", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, plain.URL+"/img", http.StatusFound) })

	withPass := func(base, path string) string {
		return strings.Replace(base, "://", "://me:"+pass+"@", 1) + path
	}
	tests := []struct {
		name    string
		url     string
		opts    HTTPOptions
		wantErr string
	}{
		{"plain", plain.URL + "/img", HTTPOptions{ValidateCerts: true}, ""},
		{"redirect followed", plain.URL + "/moved", HTTPOptions{ValidateCerts: true}, ""},
		{"basic auth from the URL", withPass(plain.URL, "/auth"), HTTPOptions{ValidateCerts: true}, ""},
		{"untrusted TLS", secure.URL + "/img", HTTPOptions{ValidateCerts: true}, "TLS verification of " + secure.URL + "/img failed"},
		{"TLS trusted through the CA file", secure.URL + "/img", HTTPOptions{ValidateCerts: true, CACert: caFile}, ""},
		{"TLS not verified when told", secure.URL + "/img", HTTPOptions{ValidateCerts: false}, ""},
		{"https to http redirect refused", secure.URL + "/downgrade", HTTPOptions{ValidateCerts: true, CACert: caFile}, "refusing to follow a redirect from https"},
		{"404 names the URL without credentials", withPass(plain.URL, "/missing?sig=SENTINEL-sig-123"), HTTPOptions{ValidateCerts: true}, plain.URL + "/missing?REDACTED answered 404 Not Found"},
		{"stalled download", plain.URL + "/stall", HTTPOptions{ValidateCerts: true, ConnectTimeout: 300 * time.Millisecond}, "sent nothing for 300ms (url_timeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewHTTPSource(tt.url, tt.opts)
			require.NoError(t, err)
			assert.NotContains(t, src.String(), pass)
			s, err := OpenStream(context.Background(), src, StreamOptions{Decompress: CompressionAuto, DiskFormat: "auto"})
			if err == nil {
				defer s.Close()
				_, err = s.Pump(context.Background(), io.Discard, nil)
			}
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), pass)
			assert.NotContains(t, err.Error(), "SENTINEL-sig")
		})
	}
}

func TestHTTPSourceStatGivesValidators(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "img", time.Unix(1700000000, 0), strings.NewReader("QFI\xfbdata"))
	}))
	defer srv.Close()
	src, err := NewHTTPSource(srv.URL+"/x", HTTPOptions{ValidateCerts: true})
	require.NoError(t, err)
	m, err := src.Stat(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Meta{Size: 8, ETag: `"v1"`, LastModified: "Tue, 14 Nov 2023 22:13:20 GMT"}, m)
}

func TestSourceNameHidesCredentials(t *testing.T) {
	assert.Equal(t, "https://h/p?REDACTED", func() string { s, _ := NewHTTPSource("https://u:pw@h/p?x=1", HTTPOptions{}); return s.String() }())
}

// A redirect to another origin (scheme, host or port) gets none of the
// URL's credentials: no basic auth, no Referer carrying the query string
// (a pre-signed token), no other header than the User-Agent; a redirect
// from https to http is refused anywhere in the chain.
func TestHTTPSourceRedirectsKeepCredentialsHome(t *testing.T) {
	const sig = "SENTINEL-sig-redirect"
	var mu sync.Mutex
	var seen []string
	var bounceTo string // /bounce redirects there
	recordTo := func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(r.Method + " " + r.URL.RequestURI() + "\n")
		_ = r.Header.Write(&b)
		mu.Lock()
		seen = append(seen, b.String())
		mu.Unlock()
		if r.URL.Path == "/bounce" {
			http.Redirect(w, r, bounceTo, http.StatusFound)
			return
		}
		w.Write(fakeQcow2(64 << 10))
	}
	otherPlain := httptest.NewServer(http.HandlerFunc(recordTo))
	defer otherPlain.Close()
	otherSecure := httptest.NewTLSServer(http.HandlerFunc(recordTo))
	defer otherSecure.Close()
	bounceTo = otherPlain.URL + "/mirror"

	var target string
	var code int
	origin := func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != pass {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Location", target)
		w.WriteHeader(code)
	}
	plain := httptest.NewServer(http.HandlerFunc(origin))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(origin))
	defer secure.Close()
	// httptest's TLS servers share one certificate.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw}), 0o644))
	withPass := func(base string) string {
		return strings.Replace(base, "://", "://me:"+pass+"@", 1) + "/img?sig=" + sig
	}
	basic := base64.StdEncoding.EncodeToString([]byte("me:" + pass))

	tests := []struct {
		name, from, to string
		wantErr        string // "" when the download goes through, credential-free
	}{
		{"http to another port", plain.URL, otherPlain.URL + "/mirror", ""},
		{"https to another https port", secure.URL, otherSecure.URL + "/mirror", ""},
		{"http to https on another port", plain.URL, otherSecure.URL + "/mirror", ""},
		{"https to http", secure.URL, otherPlain.URL + "/mirror", "refusing to follow a redirect from https"},
		{"http to https to http", plain.URL, otherSecure.URL + "/bounce", "refusing to follow a redirect from https"},
	}
	for _, tt := range tests {
		for _, c := range []int{301, 302, 303, 307, 308} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, c), func(t *testing.T) {
				mu.Lock()
				seen = nil
				mu.Unlock()
				target, code = tt.to, c
				src, err := NewHTTPSource(withPass(tt.from), HTTPOptions{ValidateCerts: true, CACert: caFile})
				require.NoError(t, err)
				_, err = src.Stat(context.Background())
				if err == nil {
					var r io.ReadCloser
					r, _, err = src.Open(context.Background())
					if err == nil {
						_, err = io.Copy(io.Discard, r)
						r.Close()
					}
				}
				if tt.wantErr != "" {
					require.Error(t, err)
					assert.Contains(t, err.Error(), tt.wantErr)
				} else {
					require.NoError(t, err)
				}
				if err != nil {
					assert.NotContains(t, err.Error(), pass)
					assert.NotContains(t, err.Error(), sig)
				}
				mu.Lock()
				defer mu.Unlock()
				if tt.wantErr == "" {
					assert.NotEmpty(t, seen)
				}
				for _, req := range seen {
					assert.NotContains(t, req, pass)
					assert.NotContains(t, req, basic)
					assert.NotContains(t, req, sig)
					assert.NotContains(t, req, "Authorization")
					assert.NotContains(t, req, "Referer")
				}
			})
		}
	}
}
