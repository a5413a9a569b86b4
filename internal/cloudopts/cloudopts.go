// Package cloudopts holds the connection options every OpenStack module
// shares, named as in openstack.cloud, and maps their values onto
// openstack.Options.
package cloudopts

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/secret"
)

// AuthKeys are the sub-options of auth, in clouds.yaml spelling.
var AuthKeys = []string{
	"auth_url", "username", "user_id", "password",
	"project_name", "project_id",
	"user_domain_name", "user_domain_id", "project_domain_name", "project_domain_id",
	"domain_name", "domain_id",
	"application_credential_id", "application_credential_name", "application_credential_secret",
	"token", "endpoint", "system_scope",
}

// TimeoutRule is what every *timeout option of every module accepts
// (package task enforces it).
const TimeoutRule = "A whole number of seconds from 1 to 604800 (one week); 0, negative or larger values fail the task, there is no 'wait for ever'."

// authNoLog are the auth sub-options whose values are secrets.
var authNoLog = map[string]bool{"password": true, "token": true, "application_credential_secret": true}

var authDescriptions = map[string]string{
	"auth_url":                      "Keystone URL, for example C(https://192.168.24.2:13000).",
	"username":                      "User name.",
	"user_id":                       "User ID, instead of I(username).",
	"password":                      "Password of the user.",
	"project_name":                  "Project to scope the token to.",
	"project_id":                    "Project ID to scope the token to, instead of I(project_name).",
	"user_domain_name":              "Domain of the user.",
	"user_domain_id":                "Domain ID of the user.",
	"project_domain_name":           "Domain of the project.",
	"project_domain_id":             "Domain ID of the project.",
	"domain_name":                   "Domain used for the user and the project when theirs are not given, or the domain to scope to.",
	"domain_id":                     "Domain ID, as I(domain_name).",
	"application_credential_id":     "Application credential ID (I(auth_type=v3applicationcredential)).",
	"application_credential_name":   "Application credential name, with I(username) or I(user_id).",
	"application_credential_secret": "Application credential secret.",
	"token":                         "An existing Keystone token (I(auth_type=token)).",
	"endpoint":                      "Service endpoint for I(auth_type=none) or I(auth_type=http_basic): the Ironic API, for example C(http://192.168.24.2:6385).",
	"system_scope":                  "System scope (C(all)) instead of a project.",
}

// Options returns the connection options of a module, plus wait and timeout
// (timeout defaults to defaultTimeout seconds). Each call returns fresh
// values, so a module may change its copy.
func Options(defaultTimeout int) map[string]*ansible.Option {
	auth := map[string]*ansible.Option{}
	for _, k := range AuthKeys {
		auth[k] = &ansible.Option{Type: ansible.TypeStr, NoLog: authNoLog[k], Description: []string{authDescriptions[k]}}
	}
	return map[string]*ansible.Option{
		"cloud": {
			Type:        ansible.TypeRaw,
			EnvFallback: []string{"OS_CLOUD"},
			// A cloud given as a dict holds the credentials of clouds.yaml.
			NoLogKey: secret.IsKey,
			Description: []string{
				"Named cloud or cloud config to operate against.",
				"If I(cloud) is a string, it references a named cloud config as defined in an OpenStack clouds.yaml file (searched as openstacksdk does: C(OS_CLIENT_CONFIG_FILE), C(./clouds.yaml), C(~/.config/openstack/clouds.yaml), C(/etc/openstack/clouds.yaml); secrets may sit in a secure.yaml beside it).",
				"If I(cloud) is a dict, it contains a complete cloud configuration like would be in a section of clouds.yaml, and I(auth), I(auth_type), I(region_name), I(validate_certs), I(ca_cert), I(client_key), I(api_timeout) and a non-default I(interface) must not be given.",
				"Not needed if I(auth) is provided or if OpenStack C(OS_*) environment variables are present (for example after C(source stackrc)).",
				"For standalone Ironic/Glance, the cloud config may set C(baremetal_endpoint_override) and C(image_endpoint_override).",
				"The cloud config may set C(status_code_retries) (keystoneauth's name, 0 to 100, default 11): how many times a transient failure (409 lock, 503, a refused connection, a reset on an idempotent request) is tried again, with a backoff from 1 s doubling to 20 s.",
			},
		},
		"auth": {
			Type:    ansible.TypeDict,
			Options: auth,
			Description: []string{
				"Dictionary containing auth information as needed by the cloud's auth plugin strategy.",
				"For the default I(password) plugin: I(auth_url), I(username), I(password), I(project_name) and the domains (I(user_domain_name), I(project_domain_name)).",
				"For I(v3applicationcredential): I(auth_url), I(application_credential_id) and I(application_credential_secret).",
				"For I(none) and I(http_basic) (standalone Ironic): I(endpoint), plus I(username) and I(password) for I(http_basic).",
				"Values given here override those of I(cloud) and of C(OS_*) environment variables, key by key.",
			},
		},
		"auth_type": {
			Type: ansible.TypeStr,
			Description: []string{
				"Name of the auth plugin to use: C(password), C(v3applicationcredential), C(token), C(none) or C(http_basic).",
				"When not set, it is inferred from I(auth): an application credential, a token, an I(endpoint) without I(auth_url) (C(none)), else C(password).",
			},
		},
		"region_name": {
			Type:        ansible.TypeStr,
			Description: []string{"Name of the region."},
		},
		"interface": {
			Type:        ansible.TypeStr,
			Choices:     []any{"public", "internal", "admin"},
			Default:     "public",
			Aliases:     []string{"endpoint_type"},
			Description: []string{"Endpoint URL type to fetch from the service catalog."},
		},
		"validate_certs": {
			Type:        ansible.TypeBool,
			Aliases:     []string{"verify"},
			Description: []string{"Whether or not SSL API requests should be verified.", "When not set, the cloud config decides, and certificates are verified by default."},
		},
		"ca_cert": {
			Type:        ansible.TypeStr,
			Aliases:     []string{"cacert"},
			Description: []string{"A path to a CA Cert bundle that can be used as part of verifying SSL API requests (it replaces the system's CAs)."},
		},
		"client_cert": {
			Type:        ansible.TypeStr,
			Aliases:     []string{"cert"},
			Description: []string{"A path to a client certificate to use as part of the SSL transaction."},
		},
		"client_key": {
			Type:        ansible.TypeStr,
			Aliases:     []string{"key"},
			NoLog:       true,
			Description: []string{"A path to a client key to use as part of the SSL transaction."},
		},
		"api_timeout": {
			Type:        ansible.TypeInt,
			Description: []string{"How long, in seconds, to wait for each API call to answer. Default 120.", TimeoutRule},
		},
		"wait": {
			Type:        ansible.TypeBool,
			Default:     true,
			Description: []string{"Should ansible wait until the requested resource is complete."},
		},
		"timeout": {
			Type:    ansible.TypeInt,
			Default: defaultTimeout,
			Description: []string{
				"How long, in seconds, should ansible wait for the requested resource.",
				"Transient API errors (409 conflicts such as a locked node, 503, connection refused or reset, and 500, 502 or 504 answers to reads and deletes) are retried with backoff within this time.",
				TimeoutRule,
				"SIGTERM or SIGINT (Ansible's task timeout, Ctrl-C) stop the work the same way: what was being created is cleaned up and the result says which signal stopped it.",
			},
		},
	}
}

// FromParams maps validated module parameters onto openstack.Options. It
// accepts the types Ansible coercion yields and their string spellings.
func FromParams(p map[string]any) openstack.Options {
	var o openstack.Options
	switch c := p["cloud"].(type) {
	case string:
		o.Cloud = c
	case map[string]any:
		o.CloudConfig = maps.Clone(c)
	}
	if a, ok := p["auth"].(map[string]any); ok {
		s := func(k string) string { return text(a[k]) }
		o.Auth = openstack.Auth{
			AuthURL:                     s("auth_url"),
			Username:                    s("username"),
			UserID:                      s("user_id"),
			Password:                    s("password"),
			ProjectName:                 s("project_name"),
			ProjectID:                   s("project_id"),
			UserDomainName:              s("user_domain_name"),
			UserDomainID:                s("user_domain_id"),
			ProjectDomainName:           s("project_domain_name"),
			ProjectDomainID:             s("project_domain_id"),
			DomainName:                  s("domain_name"),
			DomainID:                    s("domain_id"),
			ApplicationCredentialID:     s("application_credential_id"),
			ApplicationCredentialName:   s("application_credential_name"),
			ApplicationCredentialSecret: s("application_credential_secret"),
			Token:                       s("token"),
			Endpoint:                    s("endpoint"),
			SystemScope:                 s("system_scope"),
		}
	}
	o.AuthType = text(p["auth_type"])
	o.RegionName = text(p["region_name"])
	o.Interface = text(p["interface"])
	if b, ok := boolean(p["validate_certs"]); ok {
		o.ValidateCerts = &b
	}
	o.CACert = text(p["ca_cert"])
	o.ClientCert = text(p["client_cert"])
	o.ClientKey = text(p["client_key"])
	if n, ok := integer(p["api_timeout"]); ok && n > 0 {
		o.APITimeout = time.Duration(n) * time.Second
	}
	if n, ok := integer(p["timeout"]); ok && n > 0 {
		o.Timeout = time.Duration(n) * time.Second
	}
	return o
}

// Wait reads the wait option (default true).
func Wait(p map[string]any) bool {
	if b, ok := boolean(p["wait"]); ok {
		return b
	}
	return true
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return fmt.Sprint(v)
}

func boolean(v any) (bool, bool) {
	b, err := ansible.Boolean(v)
	return b, err == nil
}

func integer(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		return int64(v), true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}
