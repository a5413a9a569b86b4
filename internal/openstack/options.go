package openstack

import "time"

// Auth types accepted in auth_type (openstacksdk's names; aliases are
// normalised by Connect).
const (
	AuthPassword              = "password"
	AuthApplicationCredential = "v3applicationcredential"
	AuthToken                 = "token"
	AuthNone                  = "none"
	AuthHTTPBasic             = "http_basic"
)

// Microversion caps: the highest microversion our code is written against.
// Connect uses the highest the server supports up to these.
const (
	// BaremetalMicroversion is Ironic 21.4 (Zed/2023.1): node inventory, shards.
	BaremetalMicroversion = "1.82"
	// ComputeMicroversion is Nova 26 (Zed).
	ComputeMicroversion = "2.93"
)

// Options are a module's connection options. Zero values mean "not given":
// the value then comes from the environment or clouds.yaml.
type Options struct {
	// Cloud names a cloud in clouds.yaml. Empty: OS_CLOUD.
	Cloud string
	// CloudConfig is one cloud in clouds.yaml form (auth, auth_type,
	// region_name, verify, baremetal_endpoint_override, ...). It replaces the
	// clouds.yaml and environment lookup, and excludes the options below, as
	// in openstack.cloud.
	CloudConfig map[string]any

	Auth       Auth
	AuthType   string
	RegionName string
	// Interface is public, internal or admin.
	Interface string
	// ValidateCerts nil means "as configured" (verify by default).
	ValidateCerts *bool
	CACert        string
	ClientCert    string
	ClientKey     string
	// APITimeout bounds the wait for each response's headers (openstacksdk's
	// api_timeout). Zero: DefaultAPITimeout.
	APITimeout time.Duration

	// Timeout is the task's time budget: retries stop when it is spent (or at
	// the context's deadline, whichever comes first). Zero: no budget beyond
	// the context and the retry policy.
	Timeout time.Duration
	// Retry tunes the backoff; zero fields take the defaults.
	Retry RetryPolicy

	// BaremetalMicroversion and ComputeMicroversion override the caps above.
	BaremetalMicroversion string
	ComputeMicroversion   string
}

// Auth is the auth dict of clouds.yaml / openstack.cloud.
type Auth struct {
	AuthURL                     string
	Username                    string
	UserID                      string
	Password                    string
	ProjectName                 string
	ProjectID                   string
	UserDomainName              string
	UserDomainID                string
	ProjectDomainName           string
	ProjectDomainID             string
	DomainName                  string
	DomainID                    string
	ApplicationCredentialID     string
	ApplicationCredentialName   string
	ApplicationCredentialSecret string
	Token                       string
	// Endpoint is the service endpoint for auth_type none / http_basic
	// (Ironic's, as in openstack.cloud's baremetal modules).
	Endpoint    string
	SystemScope string
}

// fields maps clouds.yaml auth keys to the struct, in one place.
func (a Auth) fields() map[string]string {
	return map[string]string{
		"auth_url":                      a.AuthURL,
		"username":                      a.Username,
		"user_id":                       a.UserID,
		"password":                      a.Password,
		"project_name":                  a.ProjectName,
		"project_id":                    a.ProjectID,
		"user_domain_name":              a.UserDomainName,
		"user_domain_id":                a.UserDomainID,
		"project_domain_name":           a.ProjectDomainName,
		"project_domain_id":             a.ProjectDomainID,
		"domain_name":                   a.DomainName,
		"domain_id":                     a.DomainID,
		"application_credential_id":     a.ApplicationCredentialID,
		"application_credential_name":   a.ApplicationCredentialName,
		"application_credential_secret": a.ApplicationCredentialSecret,
		"token":                         a.Token,
		"endpoint":                      a.Endpoint,
		"system_scope":                  a.SystemScope,
	}
}

func (a Auth) isZero() bool { return a == Auth{} }

// RetryPolicy is the bounded, jittered exponential backoff applied to
// transient failures.
type RetryPolicy struct {
	// MaxAttempts counts every try, the first included. Default 12.
	MaxAttempts int
	// BaseDelay is the first backoff; it doubles per attempt. Default 1s.
	BaseDelay time.Duration
	// MaxDelay caps one backoff. Default 20s.
	MaxDelay time.Duration
}

// DefaultAPITimeout bounds the wait for response headers when api_timeout is
// not set: gophercloud's first discovery GET has no timeout at all.
const DefaultAPITimeout = 120 * time.Second

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 12
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 20 * time.Second
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	return p
}
