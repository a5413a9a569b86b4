//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// redirectProxy forwards to the real service at target, but answers the
// requests redirect picks with a 307 to elsewhere (same path and body
// method: net/http would re-send the body there).
func redirectProxy(t *testing.T, target string, redirect func(*http.Request) bool, elsewhere string) string {
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if redirect(r) {
			w.Header().Set("Location", elsewhere+r.URL.RequestURI())
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A module whose Keystone or Ironic endpoint redirects to another loopback
// port fails with one clear result, and the other port gets nothing: not the
// password of the token request, not the token of the Ironic request. The
// same proxy passes other requests to the real services (the control task
// reaches Ironic, which answers "not found").
func TestModuleRedirectToAnotherPort(t *testing.T) {
	c := connectCloud(t, "local")
	bm, err := c.Baremetal(t.Context())
	require.NoError(t, err)

	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	defer other.Close()

	raw, err := os.ReadFile(cloudsYAML)
	require.NoError(t, err)
	var clouds struct {
		Clouds map[string]map[string]any `yaml:"clouds"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &clouds))
	local := clouds.Clouds["local"]
	auth := local["auth"].(map[string]any)
	password := auth["password"].(string)
	authURL := auth["auth_url"].(string)

	keystone := redirectProxy(t, authURL, func(r *http.Request) bool {
		return r.Method == "POST" && r.URL.Path == "/v3/auth/tokens"
	}, other.URL)
	ironic := redirectProxy(t, bm.Endpoint, func(r *http.Request) bool {
		return strings.HasPrefix(r.URL.Path, "/v1/nodes/net-redir-")
	}, other.URL)

	authPath, err := url.Parse(authURL)
	require.NoError(t, err)
	withAuthURL := func(u string) map[string]any {
		a := map[string]any{}
		for k, v := range auth {
			a[k] = v
		}
		a["auth_url"] = u
		return a
	}
	clouds.Clouds = map[string]map[string]any{
		"net-redir-keystone": {"auth": withAuthURL(keystone + authPath.Path), "region_name": local["region_name"]},
		"net-redir-ironic":   {"auth": auth, "region_name": local["region_name"], "baremetal_endpoint_override": ironic},
	}
	out, err := yaml.Marshal(clouds)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "clouds.yaml")
	require.NoError(t, os.WriteFile(file, out, 0o600))

	task := func(name, cloud, node string) string {
		return fmt.Sprintf("    - name: %s\n      metalkit.baremetal.ironic_introspect:\n        cloud: %s\n        nodes: [%s]\n      ignore_errors: true\n", name, cloud, node)
	}
	run := RunPlaybook(t, playbook(
		task("token request redirected", "net-redir-keystone", "net-redir-none")+
			task("Ironic request redirected", "net-redir-ironic", "net-redir-none")+
			task("control", "net-redir-ironic", "net-ctl-none")),
		[]string{"OS_CLIENT_CONFIG_FILE=" + file})

	AssertNoSecret(t, run, password)
	assert.Zero(t, hits.Load(), "a request reached the other port")
	for name, endpoint := range map[string]string{
		"token request redirected":  keystone + "/v3/auth/tokens",
		"Ironic request redirected": ironic + "/v1/nodes/net-redir-none",
	} {
		r := run.Task(t, name)
		t.Logf("%s: %s", name, r.Msg())
		assert.True(t, r.Failed(), name)
		assert.False(t, r.Changed(), name)
		assert.Contains(t, r.Msg(), `"`+endpoint+`": redirected to another host `+other.URL+": refused, credentials are never sent elsewhere", name)
	}
	r := run.Task(t, "control")
	t.Logf("control: %s", r.Msg())
	assert.True(t, r.Failed())
	assert.Contains(t, r.Msg(), "net-ctl-none", "the real Ironic answered through the proxy")
	assert.NotContains(t, r.Msg(), "redirect")
}
