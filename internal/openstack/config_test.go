package openstack

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stackrc is what `source stackrc` leaves on a TripleO undercloud.
var stackrc = map[string]string{
	"OS_AUTH_URL":             "http://192.0.2.1:5000",
	"OS_USERNAME":             "admin",
	"OS_PASSWORD":             "stackrc-pw",
	"OS_PROJECT_NAME":         "admin",
	"OS_USER_DOMAIN_NAME":     "Default",
	"OS_PROJECT_DOMAIN_NAME":  "Default",
	"OS_REGION_NAME":          "regionOne",
	"OS_INTERFACE":            "internal",
	"OS_AUTH_TYPE":            "password",
	"OS_CACERT":               "/etc/pki/ca-trust/source/anchors/cm-local-ca.pem",
	"OS_IDENTITY_API_VERSION": "3",
	"OS_NO_CACHE":             "True",
}

const cloudsYAML = `
clouds:
  undercloud:
    auth:
      auth_url: http://192.0.2.10:5000/v3
      username: admin
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: regionOne
    interface: internal
    verify: false
    api_timeout: 30
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: http://192.0.2.10:5000/v3
      application_credential_id: ac-id
  standalone:
    auth_type: none
    baremetal_endpoint_override: http://192.0.2.20:6385
    image_endpoint_override: http://192.0.2.20:9292
  multi:
    auth:
      auth_url: http://192.0.2.10:5000/v3
      username: u
      password: p
    regions:
      - name: east
        values:
          interface: admin
      - west
  yaml11:
    auth:
      auth_url: http://192.0.2.10:5000/v3
      username: u
      password: yes
      project_id: 0123
`

const secureYAML = `
clouds:
  undercloud:
    auth:
      password: from-secure-yaml
  appcred:
    auth:
      application_credential_secret: ac-secret-from-secure
`

func TestResolveSources(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		files map[string]string // relative to the isolated dir; "$CFG" is OS_CLIENT_CONFIG_FILE
		opts  Options
		check func(t *testing.T, r *resolved)
		err   string
	}{
		{
			name: "stackrc environment",
			env:  stackrc,
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, AuthPassword, r.authType)
				assert.Equal(t, "http://192.0.2.1:5000", r.auth["auth_url"])
				assert.Equal(t, "stackrc-pw", r.auth["password"])
				assert.Equal(t, "Default", r.auth["project_domain_name"])
				assert.Equal(t, "regionOne", r.region)
				assert.Equal(t, "internal", r.iface)
				assert.Equal(t, "/etc/pki/ca-trust/source/anchors/cm-local-ca.pem", r.cacert)
			},
		},
		{
			name: "explicit options beat the environment, key by key",
			env:  stackrc,
			opts: Options{Auth: Auth{Password: "explicit-pw", ProjectName: "demo"}, RegionName: "regionTwo", Interface: "public"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "explicit-pw", r.auth["password"])
				assert.Equal(t, "demo", r.auth["project_name"])
				assert.Equal(t, "admin", r.auth["username"])
				assert.Equal(t, "regionTwo", r.region)
				assert.Equal(t, "public", r.iface)
			},
		},
		{
			name: "legacy tenant and endpoint_type variables",
			env:  map[string]string{"OS_AUTH_URL": "http://k:5000/v3", "OS_USERNAME": "u", "OS_PASSWORD": "p", "OS_TENANT_NAME": "t", "OS_ENDPOINT_TYPE": "adminURL", "OS_INSECURE": "true"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "t", r.auth["project_name"])
				assert.Equal(t, "admin", r.iface)
				require.NotNil(t, r.verify)
				assert.False(t, *r.verify)
			},
		},
		{
			name: "selectors alone make no envvars cloud",
			env:  map[string]string{"OS_REGION_NAME": "r"},
			check: func(t *testing.T, r *resolved) {
				assert.Empty(t, r.source)
				assert.Empty(t, r.auth)
			},
		},
		{
			name:  "OS_CLOUD with clouds.yaml and secure.yaml via OS_CLIENT_CONFIG_FILE",
			env:   map[string]string{"OS_CLOUD": "undercloud"},
			files: map[string]string{"$CFG": cloudsYAML, "cfg/secure.yaml": secureYAML},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "from-secure-yaml", r.auth["password"])
				assert.Equal(t, "http://192.0.2.10:5000/v3", r.auth["auth_url"])
				assert.Equal(t, "internal", r.iface)
				require.NotNil(t, r.verify)
				assert.False(t, *r.verify)
				assert.Equal(t, 30*time.Second, r.apiTimeout)
			},
		},
		{
			name:  "named cloud beats OS_* variables (openstacksdk picks one cloud)",
			env:   stackrc,
			files: map[string]string{"$CFG": cloudsYAML, "cfg/secure.yaml": secureYAML},
			opts:  Options{Cloud: "undercloud"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "http://192.0.2.10:5000/v3", r.auth["auth_url"])
				assert.Equal(t, "from-secure-yaml", r.auth["password"])
			},
		},
		{
			name:  "OS_* variables beat an unnamed clouds.yaml",
			env:   stackrc,
			files: map[string]string{"clouds.yaml": "clouds:\n  only:\n    auth:\n      auth_url: http://other:5000\n"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "http://192.0.2.1:5000", r.auth["auth_url"])
			},
		},
		{
			name:  "the only cloud of ./clouds.yaml is used when none is named",
			files: map[string]string{"clouds.yaml": "clouds:\n  only:\n    auth:\n      auth_url: http://cwd:5000\n"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "http://cwd:5000", r.auth["auth_url"])
			},
		},
		{
			name:  "~/.config/openstack (XDG) is searched",
			env:   map[string]string{"OS_CLOUD": "x"},
			files: map[string]string{"xdg/openstack/clouds.yaml": "clouds:\n  x:\n    auth:\n      auth_url: http://xdg:5000\n"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "http://xdg:5000", r.auth["auth_url"])
			},
		},
		{
			name:  "./clouds.yaml comes before XDG",
			env:   map[string]string{"OS_CLOUD": "x"},
			files: map[string]string{"clouds.yaml": "clouds:\n  x:\n    auth:\n      auth_url: http://cwd:5000\n", "xdg/openstack/clouds.yaml": "clouds:\n  x:\n    auth:\n      auth_url: http://xdg:5000\n"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "http://cwd:5000", r.auth["auth_url"])
			},
		},
		{
			name:  "application credential secret from secure.yaml",
			files: map[string]string{"$CFG": cloudsYAML, "cfg/secure.yaml": secureYAML},
			opts:  Options{Cloud: "appcred"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, AuthApplicationCredential, r.authType)
				assert.Equal(t, "ac-secret-from-secure", r.auth["application_credential_secret"])
			},
		},
		{
			name:  "standalone cloud endpoint overrides",
			files: map[string]string{"$CFG": cloudsYAML},
			opts:  Options{Cloud: "standalone"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, AuthNone, r.authType)
				assert.Equal(t, "http://192.0.2.20:6385", r.overrides["baremetal"])
				assert.Equal(t, "http://192.0.2.20:9292", r.overrides["image"])
			},
		},
		{
			name:  "first region and its values by default",
			files: map[string]string{"$CFG": cloudsYAML},
			opts:  Options{Cloud: "multi"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "east", r.region)
				assert.Equal(t, "admin", r.iface)
			},
		},
		{
			name:  "a named region from the list",
			files: map[string]string{"$CFG": cloudsYAML},
			opts:  Options{Cloud: "multi", RegionName: "west"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "west", r.region)
				assert.Equal(t, "", r.iface)
			},
		},
		{
			name:  "a region not in the list",
			files: map[string]string{"$CFG": cloudsYAML},
			opts:  Options{Cloud: "multi", RegionName: "north"},
			err:   `region "north" is not a valid region name`,
		},
		{
			name:  "YAML 1.1 look-alikes stay strings",
			files: map[string]string{"$CFG": cloudsYAML},
			opts:  Options{Cloud: "yaml11"},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, "yes", r.auth["password"])
				assert.Equal(t, "0123", r.auth["project_id"])
			},
		},
		{
			name:  "unknown cloud lists the known ones",
			files: map[string]string{"$CFG": cloudsYAML},
			opts:  Options{Cloud: "nope"},
			err:   `cloud "nope" not found in`,
		},
		{
			name: "named cloud without any clouds.yaml",
			opts: Options{Cloud: "nope"},
			err:  `cloud "nope": no clouds.yaml found`,
		},
		{
			name: "cloud dict with Ansible types",
			env:  stackrc,
			opts: Options{CloudConfig: map[string]any{
				"auth":        map[string]any{"auth_url": "http://dict:5000", "username": "u", "password": "p"},
				"verify":      false,
				"api_timeout": json.Number("45"),
				"region_name": "dictRegion",
			}, Interface: "public"},
			check: func(t *testing.T, r *resolved) {
				// A dict replaces the environment: nothing of stackrc leaks in.
				assert.Equal(t, "http://dict:5000", r.auth["auth_url"])
				assert.Empty(t, r.auth["project_name"])
				assert.Equal(t, "dictRegion", r.region)
				require.NotNil(t, r.verify)
				assert.False(t, *r.verify)
				assert.Equal(t, 45*time.Second, r.apiTimeout)
			},
		},
		{
			name: "auth type inferred from an endpoint without auth_url",
			opts: Options{Auth: Auth{Endpoint: "http://ironic:6385"}},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, AuthNone, r.authType)
			},
		},
		{
			name: "auth type aliases",
			opts: Options{AuthType: "v3password", Auth: Auth{AuthURL: "http://k"}},
			check: func(t *testing.T, r *resolved) {
				assert.Equal(t, AuthPassword, r.authType)
			},
		},
		{
			name: "verify that is not a boolean",
			opts: Options{CloudConfig: map[string]any{"verify": "maybe"}},
			err:  `verify: "maybe" is not a boolean`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			for name, content := range tt.files {
				if name == "$CFG" {
					path := writeFile(t, filepath.Join(dir, "cfg", "clouds.yaml"), content)
					t.Setenv("OS_CLIENT_CONFIG_FILE", path)
					continue
				}
				writeFile(t, filepath.Join(dir, name), content)
			}
			r, err := resolve(tt.opts)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			tt.check(t, r)
		})
	}
}

// The environment alone is enough to connect, as after `source stackrc`.
func TestConnectFromEnvironment(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	for k, v := range map[string]string{
		"OS_AUTH_URL": f.url("/identity/v3"), "OS_USERNAME": "admin", "OS_PASSWORD": "pw",
		"OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
		"OS_INTERFACE": "internal", "OS_AUTH_TYPE": "password",
	} {
		t.Setenv(k, v)
	}
	c, err := Connect(context.Background(), Options{})
	require.NoError(t, err)
	assert.Len(t, listNodes(t, c), 1)
	assert.Equal(t, 1, f.count("GET /internal/baremetal/v1/nodes"))
}

// clouds.yaml plus secure.yaml, picked by OS_CLOUD, is enough to connect.
func TestConnectFromCloudsYAML(t *testing.T) {
	dir := isolate(t)
	f := newFakeCloud(t)
	writeFile(t, filepath.Join(dir, "clouds.yaml"), "clouds:\n  lab:\n    auth:\n      auth_url: "+f.url("/identity")+"\n      username: admin\n      project_name: admin\n")
	writeFile(t, filepath.Join(dir, "secure.yaml"), "clouds:\n  lab:\n    auth:\n      password: pw\n")
	t.Setenv("OS_CLOUD", "lab")
	c, err := Connect(context.Background(), Options{})
	require.NoError(t, err)
	assert.Len(t, listImages(t, c), 1)
}

// TestConfigStrings pins the config shape a cloud dict is turned into, the one
// clouds.yaml gives: string keys, and every scalar as its text.
func TestConfigStrings(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"string", "x", "x"},
		{"json number keeps its text", json.Number("0123"), "0123"},
		{"json exponent keeps its text", json.Number("1e3"), "1e3"},
		{"bool", true, "true"},
		{"false", false, "false"},
		{"float64 whole", float64(45), "45"},
		{"float64 fraction", 0.1, "0.1"},
		{"float64 large: no exponent", 1e21, "1000000000000000000000"},
		{"int", 6385, "6385"},
		{"int64", int64(-1), "-1"},
		{"float32", float32(2.5), "2.5"},
		{"typed list: its fmt text", []string{"a", "b"}, "[a b]"},
		{"YAML maps", map[any]any{"auth": map[any]any{"port": 5000}}, map[string]any{"auth": map[string]any{"port": "5000"}}},
		{"list", []any{1, nil, false}, []any{"1", nil, "false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, configStrings(tt.in))
		})
	}
}
