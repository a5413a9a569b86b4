package cloudopts

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The options are openstack.cloud's, with its names, types and aliases.
func TestOptionsMatchOpenstackCloud(t *testing.T) {
	opts := Options(1800)
	names := make([]string, 0, len(opts))
	for n := range opts {
		names = append(names, n)
	}
	want := []string{"cloud", "auth", "auth_type", "region_name", "interface", "validate_certs",
		"ca_cert", "client_cert", "client_key", "api_timeout", "wait", "timeout"}
	slices.Sort(names)
	slices.Sort(want)
	assert.Equal(t, want, names)

	tests := []struct {
		name    string
		typ     ansible.Type
		aliases []string
		def     any
		noLog   bool
	}{
		{"cloud", ansible.TypeRaw, nil, nil, false},
		{"auth", ansible.TypeDict, nil, nil, false},
		{"auth_type", ansible.TypeStr, nil, nil, false},
		{"region_name", ansible.TypeStr, nil, nil, false},
		{"interface", ansible.TypeStr, []string{"endpoint_type"}, "public", false},
		{"validate_certs", ansible.TypeBool, []string{"verify"}, nil, false},
		{"ca_cert", ansible.TypeStr, []string{"cacert"}, nil, false},
		{"client_cert", ansible.TypeStr, []string{"cert"}, nil, false},
		{"client_key", ansible.TypeStr, []string{"key"}, nil, true},
		{"api_timeout", ansible.TypeInt, nil, nil, false},
		{"wait", ansible.TypeBool, nil, true, false},
		{"timeout", ansible.TypeInt, nil, 1800, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts[tt.name]
			require.NotNil(t, o)
			assert.Equal(t, tt.typ, o.Type)
			assert.Equal(t, tt.aliases, o.Aliases)
			assert.Equal(t, tt.def, o.Default)
			assert.Equal(t, tt.noLog, o.NoLog)
			assert.NotEmpty(t, o.Description, "docs are generated from the description")
		})
	}
	assert.Equal(t, []any{"public", "internal", "admin"}, opts["interface"].Choices)
	assert.Equal(t, []string{"OS_CLOUD"}, opts["cloud"].EnvFallback)
}

func TestAuthSubOptions(t *testing.T) {
	auth := Options(180)["auth"].Options
	assert.Len(t, auth, len(AuthKeys))
	for _, k := range AuthKeys {
		o := auth[k]
		require.NotNil(t, o, k)
		assert.Equal(t, ansible.TypeStr, o.Type, k)
		assert.NotEmpty(t, o.Description[0], k)
		secret := k == "password" || k == "token" || k == "application_credential_secret"
		assert.Equal(t, secret, o.NoLog, k)
	}
}

// A module may change its copy without touching another module's.
func TestOptionsAreFresh(t *testing.T) {
	a := Options(10)
	a["timeout"].Default = 99
	a["auth"].Options["password"].NoLog = false
	b := Options(10)
	assert.Equal(t, 10, b["timeout"].Default)
	assert.True(t, b["auth"].Options["password"].NoLog)
}

// Every auth key reaches its field of openstack.Auth.
func TestFromParamsAuthComplete(t *testing.T) {
	auth := map[string]any{}
	for _, k := range AuthKeys {
		auth[k] = "v-" + k
	}
	o := FromParams(map[string]any{"auth": auth})
	v := reflect.ValueOf(o.Auth)
	for i := range v.NumField() {
		assert.NotEmpty(t, v.Field(i).String(), "openstack.Auth.%s is not mapped", v.Type().Field(i).Name)
	}
	assert.Equal(t, "v-application_credential_secret", o.Auth.ApplicationCredentialSecret)
	assert.Equal(t, "v-endpoint", o.Auth.Endpoint)
}

func TestFromParams(t *testing.T) {
	no, yes := false, true
	tests := []struct {
		name   string
		params map[string]any
		want   openstack.Options
	}{
		{"defaults only", map[string]any{"interface": "public", "wait": true, "timeout": 180},
			openstack.Options{Interface: "public", Timeout: 180 * time.Second}},
		{"cloud name", map[string]any{"cloud": "undercloud"}, openstack.Options{Cloud: "undercloud"}},
		{"cloud dict", map[string]any{"cloud": map[string]any{"auth_type": "none", "auth": map[string]any{"endpoint": "http://127.0.0.1:6385"}}},
			openstack.Options{CloudConfig: map[string]any{"auth_type": "none", "auth": map[string]any{"endpoint": "http://127.0.0.1:6385"}}}},
		{"typed values", map[string]any{"validate_certs": false, "api_timeout": 30, "timeout": json.Number("3600"), "region_name": "regionOne", "auth_type": "password"},
			openstack.Options{ValidateCerts: &no, APITimeout: 30 * time.Second, Timeout: time.Hour, RegionName: "regionOne", AuthType: "password"}},
		{"k=v strings", map[string]any{"validate_certs": "yes", "api_timeout": "45", "timeout": "60"},
			openstack.Options{ValidateCerts: &yes, APITimeout: 45 * time.Second, Timeout: time.Minute}},
		{"tls files", map[string]any{"ca_cert": "/ca.pem", "client_cert": "/c.pem", "client_key": "/c.key"},
			openstack.Options{CACert: "/ca.pem", ClientCert: "/c.pem", ClientKey: "/c.key"}},
		{"nulls are absent", map[string]any{"cloud": nil, "auth": nil, "validate_certs": nil, "api_timeout": nil},
			openstack.Options{}},
		{"auth", map[string]any{"auth": map[string]any{"auth_url": "http://127.0.0.1:5000", "username": "admin", "password": "pw", "project_name": "admin", "user_domain_name": "Default", "project_domain_name": nil}},
			openstack.Options{Auth: openstack.Auth{AuthURL: "http://127.0.0.1:5000", Username: "admin", Password: "pw", ProjectName: "admin", UserDomainName: "Default"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, FromParams(tt.params))
		})
	}
}

func TestWait(t *testing.T) {
	tests := []struct {
		v    any
		want bool
	}{{nil, true}, {true, true}, {false, false}, {"no", false}, {"yes", true}}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Wait(map[string]any{"wait": tt.v}), "%v", tt.v)
	}
}
