//go:build integration

package openstack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redirectingProxy forwards to the real service at target, except that the
// requests for which redirect says so are answered with a redirect to
// elsewhere (same path), as a compromised or misconfigured front end would.
func redirectingProxy(t *testing.T, target string, code int, redirect func(*http.Request) bool, elsewhere string) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if redirect(r) {
			w.Header().Set("Location", elsewhere+r.URL.RequestURI())
			w.WriteHeader(code)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// countingRecorder is the other loopback port: it counts what reaches it
// and would accept anything.
func countingRecorder(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("X-Subject-Token", "stolen")
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// Real Keystone and Ironic behind a proxy that redirects one request to
// another loopback port: the token request (password in the body, 307/308
// would re-send it) and an Ironic request (X-Auth-Token). Nothing reaches the
// other port, the client fails naming the redirect, and the same requests
// through the proxy work when it does not redirect.
func TestIntegrationRedirectToAnotherPort(t *testing.T) {
	cloudsFile(t)
	local, err := resolve(Options{Cloud: "local"})
	require.NoError(t, err)
	password := local.auth["password"]
	require.NotEmpty(t, password)
	auth := func(authURL string) map[string]any {
		return map[string]any{"auth_url": authURL, "username": local.auth["username"], "password": password,
			"project_name": local.auth["project_name"], "user_domain_name": local.auth["user_domain_name"],
			"project_domain_name": local.auth["project_domain_name"]}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	direct, err := Connect(ctx, Options{Cloud: "local"})
	require.NoError(t, err)
	ironic, err := direct.Baremetal(ctx)
	require.NoError(t, err)

	for _, code := range []int{302, 307, 308} {
		t.Run("token request/"+http.StatusText(code), func(t *testing.T) {
			other, hits := countingRecorder(t)
			var redirecting atomic.Bool
			redirecting.Store(true)
			keystone := redirectingProxy(t, local.auth["auth_url"], code, func(r *http.Request) bool {
				return redirecting.Load() && r.Method == "POST" && r.URL.Path == "/v3/auth/tokens"
			}, other.URL)
			cloud := map[string]any{"auth": auth(keystone.URL + "/v3"), "region_name": local.region}

			_, err := Connect(ctx, Options{CloudConfig: cloud})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `Post "`+keystone.URL+`/v3/auth/tokens": redirected to another host `+other.URL+": refused, credentials are never sent elsewhere")
			assert.NotContains(t, errorText(err), password)
			assert.Zero(t, hits.Load(), "a request reached the other port")

			redirecting.Store(false)
			_, err = Connect(ctx, Options{CloudConfig: cloud})
			require.NoError(t, err, "the proxy itself works")
		})
		t.Run("Ironic request/"+http.StatusText(code), func(t *testing.T) {
			other, hits := countingRecorder(t)
			var redirecting atomic.Bool
			redirecting.Store(true)
			proxied := redirectingProxy(t, ironic.Endpoint, code, func(r *http.Request) bool {
				return redirecting.Load() && r.URL.Path == "/v1/nodes"
			}, other.URL)
			c, err := Connect(ctx, Options{CloudConfig: map[string]any{"auth": auth(local.auth["auth_url"]),
				"region_name": local.region, "baremetal_endpoint_override": proxied.URL}})
			require.NoError(t, err)
			bm, err := c.Baremetal(ctx)
			require.NoError(t, err)

			_, err = nodes.List(bm, nodes.ListOpts{}).AllPages(ctx)
			require.Error(t, err)
			msg := Describe(err, "nodes").Error()
			assert.Contains(t, msg, `Get "`+proxied.URL+`/v1/nodes": redirected to another host `+other.URL+": refused, credentials are never sent elsewhere")
			assert.NotContains(t, msg, c.Provider.Token())
			assert.Zero(t, hits.Load(), "a request reached the other port")

			redirecting.Store(false)
			_, err = nodes.List(bm, nodes.ListOpts{}).AllPages(ctx)
			require.NoError(t, Describe(err, "nodes"), "the token works through the proxy")
		})
	}
}
