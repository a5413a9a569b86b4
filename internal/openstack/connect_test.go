package openstack

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func listNodes(t *testing.T, c *Cloud) []nodes.Node {
	t.Helper()
	ctx := context.Background()
	bm, err := c.Baremetal(ctx)
	require.NoError(t, err)
	pages, err := nodes.List(bm, nodes.ListOpts{}).AllPages(ctx)
	require.NoError(t, err)
	all, err := nodes.ExtractNodes(pages)
	require.NoError(t, err)
	return all
}

func listImages(t *testing.T, c *Cloud) []images.Image {
	t.Helper()
	ctx := context.Background()
	ic, err := c.Image(ctx)
	require.NoError(t, err)
	pages, err := images.List(ic, images.ListOpts{}).AllPages(ctx)
	require.NoError(t, err)
	all, err := images.ExtractImages(pages)
	require.NoError(t, err)
	return all
}

func listFlavors(t *testing.T, c *Cloud) []flavors.Flavor {
	t.Helper()
	ctx := context.Background()
	cc, err := c.Compute(ctx)
	require.NoError(t, err)
	pages, err := flavors.ListDetail(cc, flavors.ListOpts{}).AllPages(ctx)
	require.NoError(t, err)
	all, err := flavors.ExtractFlavors(pages)
	require.NoError(t, err)
	return all
}

// Every auth way reaches Ironic and Glance; the Keystone ways reach Nova.
func TestConnectAuthTypes(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fakeCloud)
		opts       func(f *fakeCloud) Options
		wantType   string
		wantMethod string // Keystone auth method used, "" for none
		keystone   bool
	}{
		{
			name: "password",
			opts: func(f *fakeCloud) Options {
				return Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "pw", ProjectName: "admin", UserDomainName: "Default", ProjectDomainName: "Default"}}
			},
			wantType: AuthPassword, wantMethod: "password", keystone: true,
		},
		{
			name: "password, versionless auth_url",
			opts: func(f *fakeCloud) Options {
				return Options{Auth: Auth{AuthURL: f.url("/identity"), Username: "admin", Password: "pw", ProjectName: "admin"}}
			},
			wantType: AuthPassword, wantMethod: "password", keystone: true,
		},
		{
			name: "application credential",
			opts: func(f *fakeCloud) Options {
				return Options{AuthType: "v3applicationcredential", Auth: Auth{AuthURL: f.url("/identity/v3"), ApplicationCredentialID: "ac-id", ApplicationCredentialSecret: "ac-secret"}}
			},
			wantType: AuthApplicationCredential, wantMethod: "application_credential", keystone: true,
		},
		{
			name: "token rescoped to a project",
			opts: func(f *fakeCloud) Options {
				return Options{AuthType: "token", Auth: Auth{AuthURL: f.url("/identity/v3"), Token: "tok-preissued", ProjectName: "admin", ProjectDomainName: "Default"}}
			},
			wantType: AuthToken, wantMethod: "token", keystone: true,
		},
		{
			name: "token passed through",
			opts: func(f *fakeCloud) Options {
				return Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Token: "tok-preissued"}}
			},
			wantType: AuthToken, keystone: true,
		},
		{
			name:  "none with endpoint",
			setup: func(f *fakeCloud) { f.requireToken = false },
			opts: func(f *fakeCloud) Options {
				return Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal")}}
			},
			wantType: AuthNone,
		},
		{
			name:  "http_basic",
			setup: func(f *fakeCloud) { f.requireToken = false; f.basicUser, f.basicPass = "ironic", "basic-pw" },
			opts: func(f *fakeCloud) Options {
				return Options{AuthType: "http_basic", Auth: Auth{Endpoint: f.url("/baremetal/v1"), Username: "ironic", Password: "basic-pw"}}
			},
			wantType: AuthHTTPBasic,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			c, err := connectStandaloneAware(f, tt.opts(f), tt.keystone)
			require.NoError(t, err)
			assert.Equal(t, tt.wantType, c.AuthType())

			assert.Equal(t, "node-0", listNodes(t, c)[0].Name)
			assert.Equal(t, "rhcos", listImages(t, c)[0].Name)
			assert.Equal(t, "1.82", f.lastHeader("GET /baremetal/v1/nodes", "X-OpenStack-Ironic-API-Version"))
			if tt.keystone {
				assert.Equal(t, "baremetal", listFlavors(t, c)[0].Name)
				assert.Equal(t, "2.93", f.lastHeader("GET /compute/v2.1/flavors", "X-OpenStack-Nova-API-Version"))
				assert.NotEmpty(t, f.lastHeader("GET /baremetal/v1/nodes", "X-Auth-Token"))
			} else {
				assert.Empty(t, f.lastHeader("GET /baremetal/v1/nodes", "X-Auth-Token"))
				_, err := c.Compute(context.Background())
				assert.ErrorContains(t, err, "compute_endpoint_override")
			}
			if tt.wantMethod != "" {
				f.mu.Lock()
				req := f.authReqs[len(f.authReqs)-1]
				f.mu.Unlock()
				methods := req["auth"].(map[string]any)["identity"].(map[string]any)["methods"].([]any)
				assert.Equal(t, []any{tt.wantMethod}, methods)
			}
		})
	}
}

// connectStandaloneAware gives standalone clouds their Glance endpoint the
// way clouds.yaml does (image_endpoint_override), through a cloud dict.
func connectStandaloneAware(f *fakeCloud, o Options, keystone bool) (*Cloud, error) {
	if keystone {
		return Connect(context.Background(), o)
	}
	auth := map[string]any{"endpoint": o.Auth.Endpoint}
	if o.Auth.Username != "" {
		auth["username"], auth["password"] = o.Auth.Username, o.Auth.Password
	}
	return Connect(context.Background(), Options{CloudConfig: map[string]any{
		"auth_type":               o.AuthType,
		"auth":                    auth,
		"image_endpoint_override": f.url("/image"),
	}})
}

func TestConnectPasswordScopeSent(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	_, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "pw", ProjectName: "demo", UserDomainName: "Users", ProjectDomainID: "pd"}})
	require.NoError(t, err)
	f.mu.Lock()
	auth := f.authReqs[0]["auth"].(map[string]any)
	f.mu.Unlock()
	user := auth["identity"].(map[string]any)["password"].(map[string]any)["user"].(map[string]any)
	assert.Equal(t, map[string]any{"name": "Users"}, user["domain"])
	assert.Equal(t, map[string]any{"name": "demo", "domain": map[string]any{"id": "pd"}}, auth["scope"].(map[string]any)["project"])
}

func TestConnectFailures(t *testing.T) {
	tests := []struct {
		name string
		opts func(f *fakeCloud) Options
		want string
	}{
		{"wrong password", func(f *fakeCloud) Options {
			return Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "nope", ProjectName: "admin"}}
		}, "The request you have made requires authentication. (HTTP 401)"},
		{"nothing configured", func(*fakeCloud) Options { return Options{} }, "no credentials"},
		{"password without auth_url", func(*fakeCloud) Options { return Options{Auth: Auth{Username: "u", Password: "p"}} }, "auth.auth_url is required"},
		{"password without password", func(f *fakeCloud) Options { return Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "u"}} }, "auth.password is required"},
		{"appcred without secret", func(f *fakeCloud) Options {
			return Options{AuthType: "v3applicationcredential", Auth: Auth{AuthURL: f.url("/identity/v3"), ApplicationCredentialID: "x"}}
		}, "application_credential_secret is required"},
		{"unknown auth type", func(*fakeCloud) Options { return Options{AuthType: "v3oidcpassword"} }, `auth_type "v3oidcpassword" is not supported`},
		{"none without endpoint", func(*fakeCloud) Options { return Options{AuthType: "none"} }, "needs auth.endpoint"},
		{"http_basic without password", func(f *fakeCloud) Options {
			return Options{AuthType: "http_basic", Auth: Auth{Endpoint: f.url("/baremetal"), Username: "u"}}
		}, "auth.username and auth.password are required"},
		{"bad interface", func(f *fakeCloud) Options {
			return Options{Interface: "private", Auth: Auth{Endpoint: f.url("/baremetal")}}
		}, `interface: "private"`},
		{"cloud dict with auth", func(f *fakeCloud) Options {
			return Options{CloudConfig: map[string]any{"auth_type": "none"}, Auth: Auth{Username: "x"}}
		}, "a cloud config dict was provided to the cloud parameter but also a value was provided for auth"},
		{"cloud dict with non-default interface", func(f *fakeCloud) Options {
			return Options{CloudConfig: map[string]any{"auth_type": "none"}, Interface: "internal"}
		}, "also a value was provided for interface"},
		{"unreachable keystone", func(f *fakeCloud) Options {
			return Options{Auth: Auth{AuthURL: "http://127.0.0.1:1/v3", Username: "u", Password: "p"}, Retry: RetryPolicy{MaxAttempts: 1}}
		}, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			_, err := Connect(context.Background(), tt.opts(f))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// The catalog entry follows interface and region.
func TestCatalogInterfaceAndRegion(t *testing.T) {
	tests := []struct {
		name, iface, region string
		wantPrefix          string
		wantErr             string
	}{
		{"public by default", "", "", "GET /baremetal/v1/nodes", ""},
		{"internal", "internal", "", "GET /internal/baremetal/v1/nodes", ""},
		{"known region", "public", "RegionOne", "GET /baremetal/v1/nodes", ""},
		{"unknown region", "public", "RegionTwo", "", `region "RegionTwo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			c, err := Connect(context.Background(), Options{Interface: tt.iface, RegionName: tt.region,
				Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "pw", ProjectName: "admin"}})
			require.NoError(t, err)
			bm, err := c.Baremetal(context.Background())
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			_, err = nodes.List(bm, nil).AllPages(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 1, f.count(tt.wantPrefix))
		})
	}
}

// Placement and Network come from the catalog too; a caller changing its
// copy does not change the next one.
func TestServiceClientsAreCopies(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	c, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "pw", ProjectName: "admin"}})
	require.NoError(t, err)
	ctx := context.Background()
	p, err := c.Placement(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.url("/placement/"), p.Endpoint)
	n, err := c.Network(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.url("/network/v2.0/networks"), n.ServiceURL("networks"))

	bm, err := c.Baremetal(ctx)
	require.NoError(t, err)
	bm.Microversion = "1.1"
	bm2, err := c.Baremetal(ctx)
	require.NoError(t, err)
	assert.Equal(t, "1.82", bm2.Microversion)
}

// Standalone endpoints: overrides in the cloud config, and a clear error
// for a service without one.
func TestStandaloneEndpoints(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	f.requireToken = false
	c, err := Connect(context.Background(), Options{CloudConfig: map[string]any{
		"auth_type":                   "none",
		"baremetal_endpoint_override": f.url("/baremetal"),
	}})
	require.NoError(t, err)
	assert.True(t, c.Standalone())
	assert.Len(t, listNodes(t, c), 1)
	_, err = c.Image(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "image_endpoint_override")
}

func TestConnectTimeoutIsBudget(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	f.requireToken = false
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		writeJSON(w, 503, map[string]any{"error_message": `{"faultstring": "busy"}`})
		return true
	}
	c, err := Connect(context.Background(), Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal")},
		Timeout: 150 * time.Millisecond, Retry: RetryPolicy{MaxAttempts: 1000, BaseDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond}})
	require.NoError(t, err)
	_, err = c.Baremetal(context.Background())
	require.Error(t, err)
	// The budget, not the attempt limit, ended it.
	var ex *RetriesExhaustedError
	require.ErrorAs(t, err, &ex)
	assert.Equal(t, "time budget spent", ex.Reason)
	assert.Less(t, f.count("GET /baremetal"), 1000)
	assert.True(t, strings.Contains(err.Error(), "busy (HTTP 503, after"), err.Error())
}
