//go:build integration

package openstack

// Integration tests against the loopback services of tests/services/up.sh.
// Run: go test -tags integration ./internal/openstack/
// The clouds file is $OS_CLIENT_CONFIG_FILE or <repo>/build/services/clouds.yaml;
// without it these tests fail: the services are part of the test setup.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cloudsFile finds the services' clouds.yaml and points OS_CLIENT_CONFIG_FILE
// at it inside an otherwise clean environment.
func cloudsFile(t *testing.T) string {
	t.Helper()
	path := os.Getenv("OS_CLIENT_CONFIG_FILE")
	if path == "" {
		dir, err := os.Getwd()
		require.NoError(t, err)
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			require.NotEqual(t, parent, dir, "repository root (go.mod) not found")
			dir = parent
		}
		path = filepath.Join(dir, "build", "services", "clouds.yaml")
	}
	abs, err := filepath.Abs(path)
	require.NoError(t, err)
	_, err = os.Stat(abs)
	require.NoError(t, err, "clouds file missing: start the services with tests/services/up.sh (or set OS_CLIENT_CONFIG_FILE)")
	isolate(t)
	t.Setenv("OS_CLIENT_CONFIG_FILE", abs)
	return abs
}

func TestIntegrationAuthWays(t *testing.T) {
	cloudsFile(t)
	tests := []struct {
		cloud    string
		authType string
		keystone bool
	}{
		{"local", AuthPassword, true},
		{"local-appcred", AuthApplicationCredential, true},
		{"local-standalone", AuthNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.cloud, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c, err := Connect(ctx, Options{Cloud: tt.cloud, Timeout: time.Minute})
			require.NoError(t, err)
			assert.Equal(t, tt.authType, c.AuthType())
			checkServices(t, ctx, c, tt.keystone)
		})
	}
}

// A token from the password cloud works on its own (auth_type token).
func TestIntegrationTokenAuth(t *testing.T) {
	cloudsFile(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Connect(ctx, Options{Cloud: "local"})
	require.NoError(t, err)
	authURL := c.cfg.auth["auth_url"]
	for _, scoped := range []bool{false, true} {
		t.Run("scoped="+strconv.FormatBool(scoped), func(t *testing.T) {
			a := Auth{AuthURL: authURL, Token: c.Provider.Token()}
			if scoped {
				a.ProjectName, a.ProjectDomainName = c.cfg.auth["project_name"], c.cfg.auth["project_domain_name"]
			}
			tc, err := Connect(ctx, Options{AuthType: "token", Auth: a, RegionName: c.Region()})
			require.NoError(t, err)
			checkServices(t, ctx, tc, true)
		})
	}
}

func checkServices(t *testing.T, ctx context.Context, c *Cloud, keystone bool) {
	t.Helper()
	bm, err := c.Baremetal(ctx)
	require.NoError(t, err)
	major, minor, ok := strings.Cut(bm.Microversion, ".")
	require.True(t, ok, bm.Microversion)
	n, _ := strconv.Atoi(minor)
	assert.Equal(t, "1", major)
	assert.GreaterOrEqual(t, n, 50, "Zed Ironic speaks well past 1.50")
	pages, err := nodes.List(bm, nodes.ListOpts{}).AllPages(ctx)
	require.NoError(t, Describe(err, "nodes"))
	_, err = nodes.ExtractNodes(pages)
	require.NoError(t, err)

	ic, err := c.Image(ctx)
	require.NoError(t, err)
	pages, err = images.List(ic, images.ListOpts{}).AllPages(ctx)
	require.NoError(t, Describe(err, "images"))
	_, err = images.ExtractImages(pages)
	require.NoError(t, err)

	if !keystone {
		return
	}
	cc, err := c.Compute(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, cc.Microversion)
	listFlavors(t, c)
}

// The services' own error bodies come out as one readable line.
func TestIntegrationErrorMessages(t *testing.T) {
	cloudsFile(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Connect(ctx, Options{Cloud: "local"})
	require.NoError(t, err)

	bm, err := c.Baremetal(ctx)
	require.NoError(t, err)
	_, err = nodes.Get(ctx, bm, "no-such-node").Extract()
	assert.Equal(t, "node no-such-node: Node no-such-node could not be found. (HTTP 404)", Describe(err, "node no-such-node").Error())

	ic, err := c.Image(ctx)
	require.NoError(t, err)
	_, err = images.Get(ctx, ic, "00000000-0000-0000-0000-000000000000").Extract()
	d := Describe(err, "image").Error()
	assert.Contains(t, d, "(HTTP 404)")
	assert.NotContains(t, d, "<")

	cc, err := c.Compute(ctx)
	require.NoError(t, err)
	_, err = servers.Get(ctx, cc, "00000000-0000-0000-0000-000000000000").Extract()
	assert.Contains(t, Describe(err, "server").Error(), "could not be found. (HTTP 404)")
}

// A wrong password is refused by Keystone, and never printed.
func TestIntegrationWrongPassword(t *testing.T) {
	cloudsFile(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Connect(ctx, Options{Cloud: "local", Auth: Auth{Password: sentinelPassword}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "(HTTP 401)")
	assert.NotContains(t, errorText(err), sentinelPassword)
}

// An endpoint with a certificate nobody vouches for is refused.
func TestIntegrationTLSRefusal(t *testing.T) {
	cloudsFile(t)
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	srv.Config.ErrorLog = discardLog()
	srv.StartTLS()
	defer srv.Close()
	for _, cloud := range []map[string]any{
		{"auth_type": "none", "baremetal_endpoint_override": srv.URL},
		{"auth_type": "password", "auth": map[string]any{"auth_url": srv.URL + "/v3", "username": "u", "password": "p"}},
	} {
		c, err := Connect(context.Background(), Options{CloudConfig: cloud})
		if err == nil {
			_, err = c.Baremetal(context.Background())
		}
		require.Error(t, err)
		assert.Contains(t, err.Error(), "certificate signed by unknown authority")
	}
	assert.Zero(t, hits.Load())
}
