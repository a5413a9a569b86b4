package openstack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcopenstack "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/httpbasic"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/noauth"
)

// UserAgent is prepended to gophercloud's in every request.
const UserAgent = "metalkit.baremetal"

// Cloud is an open connection: one HTTP client, one identity, and service
// clients built on demand and cached.
type Cloud struct {
	// Provider carries the token (Keystone auth types), the HTTP client and
	// the retry policy.
	Provider *gophercloud.ProviderClient

	cfg     *resolved
	eo      gophercloud.EndpointOpts
	mvCaps  map[string]string // service type -> microversion cap
	mu      sync.Mutex
	clients map[string]*gophercloud.ServiceClient
}

// AuthType is the auth type in use after resolution and inference.
func (c *Cloud) AuthType() string { return c.cfg.authType }

// Region is the region in use ("" when none was configured).
func (c *Cloud) Region() string { return c.cfg.region }

// Standalone tells whether the cloud has no Keystone (auth_type none or
// http_basic): no catalog, endpoints come from the configuration.
func (c *Cloud) Standalone() bool {
	return c.cfg.authType == AuthNone || c.cfg.authType == AuthHTTPBasic
}

// Connect resolves opts (explicit options, then OS_* environment variables,
// then clouds.yaml and secure.yaml) and, for the Keystone auth types,
// authenticates. Errors never contain a secret.
func Connect(ctx context.Context, opts Options) (*Cloud, error) {
	cfg, err := resolve(opts)
	if err != nil {
		return nil, Describe(err, "openstack configuration")
	}
	RegisterSecret(cfg.auth["password"], cfg.auth["token"], cfg.auth["application_credential_secret"])
	if cfg.authType == AuthHTTPBasic {
		RegisterSecret(basicAuthSecret(cfg.auth["username"], cfg.auth["password"]))
	}
	hc, err := newHTTPClient(cfg)
	if err != nil {
		return nil, Describe(err, "openstack configuration")
	}
	if opts.Retry.MaxAttempts <= 0 && cfg.retries >= 0 {
		opts.Retry.MaxAttempts = cfg.retries + 1
	}
	policy := opts.Retry.withDefaults()
	r := &retrier{policy: policy}
	if opts.Timeout > 0 {
		r.budget = time.Now().Add(opts.Timeout)
	}

	c := &Cloud{
		cfg: cfg,
		eo: gophercloud.EndpointOpts{
			Region:       cfg.region,
			Availability: availability(cfg.iface),
		},
		mvCaps: map[string]string{
			"baremetal": firstNonEmpty(opts.BaremetalMicroversion, BaremetalMicroversion),
			"compute":   firstNonEmpty(opts.ComputeMicroversion, ComputeMicroversion),
		},
		clients: map[string]*gophercloud.ServiceClient{},
	}

	switch cfg.authType {
	case AuthNone, AuthHTTPBasic:
		if err := checkStandalone(cfg); err != nil {
			return nil, Describe(err, "openstack configuration")
		}
		c.Provider = &gophercloud.ProviderClient{HTTPClient: *hc, RetryFunc: r.retry}
		c.Provider.UserAgent.Prepend(UserAgent)
		return c, nil
	}

	ao, err := authOptions(cfg)
	if err != nil {
		return nil, Describe(err, "openstack configuration")
	}
	authURL := cfg.auth["auth_url"]
	if o := cfg.overrides["identity"]; o != "" {
		authURL = o
	}
	pc, err := gcopenstack.NewClient(authURL)
	if err != nil {
		return nil, Describe(err, "auth_url")
	}
	pc.HTTPClient = *hc
	pc.RetryFunc = r.retry
	pc.UserAgent.Prepend(UserAgent)
	if err := gcopenstack.Authenticate(ctx, pc, ao); err != nil {
		return nil, Describe(err, fmt.Sprintf("authentication at %s (%s)", authURL, cfg.authType))
	}
	RegisterSecret(pc.Token())
	allowCatalog(pc)
	if reauth := pc.ReauthFunc; reauth != nil {
		// Fresh tokens are secrets too.
		pc.ReauthFunc = func(ctx context.Context) error {
			err := reauth(ctx)
			if err == nil {
				RegisterSecret(pc.Token())
				allowCatalog(pc)
			}
			return err
		}
	}
	c.Provider = pc
	return c, nil
}

// authOptions maps the resolved auth dict to gophercloud's, per auth type.
func authOptions(cfg *resolved) (gophercloud.AuthOptions, error) {
	a := cfg.auth
	if a["auth_url"] == "" && cfg.overrides["identity"] == "" {
		if cfg.source == "" && len(a) == 0 {
			return gophercloud.AuthOptions{}, errors.New("no credentials: set cloud (a clouds.yaml entry), auth, or OS_* environment variables (source stackrc)")
		}
		return gophercloud.AuthOptions{}, fmt.Errorf("auth.auth_url is required for auth_type %s%s", cfg.authType, from(cfg))
	}
	ao := gophercloud.AuthOptions{IdentityEndpoint: a["auth_url"]}
	userDomain := func() {
		if a["username"] == "" {
			return
		}
		ao.DomainID = firstNonEmpty(a["user_domain_id"], a["domain_id"])
		ao.DomainName = firstNonEmpty(a["user_domain_name"], a["domain_name"])
		if ao.DomainID == "" && ao.DomainName == "" {
			ao.DomainID = firstNonEmpty(a["default_domain"], "default")
		}
	}
	scope := func() {
		switch {
		case a["system_scope"] != "":
			ao.Scope = &gophercloud.AuthScope{System: true}
		case a["trust_id"] != "":
			ao.Scope = &gophercloud.AuthScope{TrustID: a["trust_id"]}
		case a["project_id"] != "":
			ao.Scope = &gophercloud.AuthScope{ProjectID: a["project_id"]}
			ao.TenantID = a["project_id"]
		case a["project_name"] != "":
			s := &gophercloud.AuthScope{
				ProjectName: a["project_name"],
				DomainID:    firstNonEmpty(a["project_domain_id"], a["domain_id"]),
				DomainName:  firstNonEmpty(a["project_domain_name"], a["domain_name"]),
			}
			if s.DomainID == "" && s.DomainName == "" {
				s.DomainID = firstNonEmpty(a["default_domain"], "default")
			}
			ao.Scope = s
			ao.TenantName = a["project_name"]
		case a["domain_id"] != "":
			ao.Scope = &gophercloud.AuthScope{DomainID: a["domain_id"]}
		case a["domain_name"] != "":
			ao.Scope = &gophercloud.AuthScope{DomainName: a["domain_name"]}
		}
	}
	switch cfg.authType {
	case AuthPassword:
		if a["username"] == "" && a["user_id"] == "" {
			return ao, fmt.Errorf("auth.username (or auth.user_id) is required for auth_type password%s", from(cfg))
		}
		if a["password"] == "" {
			return ao, fmt.Errorf("auth.password is required for auth_type password%s", from(cfg))
		}
		ao.Username, ao.UserID, ao.Password = a["username"], a["user_id"], a["password"]
		userDomain()
		scope()
		// A deploy can outlive its token.
		ao.AllowReauth = true
	case AuthApplicationCredential:
		if a["application_credential_secret"] == "" {
			return ao, fmt.Errorf("auth.application_credential_secret is required for auth_type v3applicationcredential%s", from(cfg))
		}
		if a["application_credential_id"] == "" && (a["application_credential_name"] == "" || (a["username"] == "" && a["user_id"] == "")) {
			return ao, fmt.Errorf("auth.application_credential_id (or application_credential_name with username or user_id) is required for auth_type v3applicationcredential%s", from(cfg))
		}
		ao.ApplicationCredentialID = a["application_credential_id"]
		ao.ApplicationCredentialName = a["application_credential_name"]
		ao.ApplicationCredentialSecret = a["application_credential_secret"]
		if ao.ApplicationCredentialID == "" {
			ao.Username, ao.UserID = a["username"], a["user_id"]
			userDomain()
		}
		// An application credential is scoped already; the secret re-authenticates.
		ao.AllowReauth = true
	case AuthToken:
		if a["token"] == "" {
			return ao, fmt.Errorf("auth.token is required for auth_type token%s", from(cfg))
		}
		ao.TokenID = a["token"]
		scope()
	}
	return ao, nil
}

func checkStandalone(cfg *resolved) error {
	if cfg.auth["endpoint"] == "" && len(cfg.overrides) == 0 {
		return fmt.Errorf("auth_type %s needs auth.endpoint (Ironic) or baremetal_endpoint_override / image_endpoint_override in the cloud config%s", cfg.authType, from(cfg))
	}
	if cfg.authType == AuthHTTPBasic && (cfg.auth["username"] == "" || cfg.auth["password"] == "") {
		return fmt.Errorf("auth.username and auth.password are required for auth_type http_basic%s", from(cfg))
	}
	return nil
}

func from(cfg *resolved) string {
	if cfg.source == "" {
		return ""
	}
	return " (from " + cfg.source + ")"
}

func availability(iface string) gophercloud.Availability {
	switch iface {
	case "internal":
		return gophercloud.AvailabilityInternal
	case "admin":
		return gophercloud.AvailabilityAdmin
	}
	return gophercloud.AvailabilityPublic
}

// Baremetal returns an Ironic client with the microversion negotiated (once
// per process per endpoint): the highest the server supports up to
// BaremetalMicroversion.
func (c *Cloud) Baremetal(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.client(ctx, "baremetal", func() (*gophercloud.ServiceClient, error) {
		var sc *gophercloud.ServiceClient
		var err error
		switch endpoint := c.standaloneEndpoint("baremetal", true); {
		case c.cfg.authType == AuthNone:
			sc, err = noauth.NewBareMetalNoAuth(noauth.EndpointOpts{IronicEndpoint: endpoint})
		case c.cfg.authType == AuthHTTPBasic:
			sc, err = httpbasic.NewBareMetalHTTPBasic(httpbasic.EndpointOpts{
				IronicEndpoint: endpoint, IronicUser: c.cfg.auth["username"], IronicUserPassword: c.cfg.auth["password"],
			})
		case endpoint != "":
			sc = c.byHand("baremetal", endpoint)
		default:
			sc, err = c.catalogOrOverride("baremetal", gcopenstack.NewBareMetalV1)
		}
		if err != nil {
			return nil, err
		}
		sc.ProviderClient = c.Provider
		setResourceBase(sc, "v1")
		mv, err := negotiate(ctx, sc, 1, c.mvCaps["baremetal"], true)
		if err != nil {
			return nil, err
		}
		sc.Microversion = mv
		return sc, nil
	})
}

// Compute returns a Nova client with the microversion negotiated (cached):
// the highest the server supports up to ComputeMicroversion.
func (c *Cloud) Compute(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.client(ctx, "compute", func() (*gophercloud.ServiceClient, error) {
		sc, err := c.catalogOrOverride("compute", gcopenstack.NewComputeV2)
		if err != nil {
			return nil, err
		}
		mv, err := negotiate(ctx, sc, 2, c.mvCaps["compute"], false)
		if err != nil {
			return nil, err
		}
		sc.Microversion = mv
		return sc, nil
	})
}

// Image returns a Glance v2 client.
func (c *Cloud) Image(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.client(ctx, "image", func() (*gophercloud.ServiceClient, error) {
		sc, err := c.catalogOrOverride("image", gcopenstack.NewImageV2)
		if err != nil {
			return nil, err
		}
		setResourceBase(sc, "v2")
		return sc, nil
	})
}

// Placement returns a Placement client (no microversion set: 1.0).
func (c *Cloud) Placement(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.client(ctx, "placement", func() (*gophercloud.ServiceClient, error) {
		return c.catalogOrOverride("placement", gcopenstack.NewPlacementV1)
	})
}

// Network returns a Neutron v2 client.
func (c *Cloud) Network(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.client(ctx, "network", func() (*gophercloud.ServiceClient, error) {
		sc, err := c.catalogOrOverride("network", gcopenstack.NewNetworkV2)
		if err != nil {
			return nil, err
		}
		setResourceBase(sc, "v2.0")
		return sc, nil
	})
}

// Introspection returns an ironic-inspector client (TripleO's
// introspection), from the catalog's baremetal-introspection entry or
// baremetal_introspection_endpoint_override. Catalogs list inspector
// unversioned (TripleO/puppet-ironic and devstack register
// http://<host>:5050) and gophercloud's constructor, unlike NewBareMetalV1,
// does not add the version: /v1 is added here as for the other services.
func (c *Cloud) Introspection(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.client(ctx, "baremetal_introspection", func() (*gophercloud.ServiceClient, error) {
		sc, err := c.catalogOrOverride("baremetal_introspection", gcopenstack.NewBareMetalIntrospectionV1)
		if err != nil {
			return nil, err
		}
		setResourceBase(sc, "v1")
		return sc, nil
	})
}

// client builds a service client once and hands out copies, so a caller
// changing Microversion or MoreHeaders does not affect the others.
func (c *Cloud) client(_ context.Context, service string, build func() (*gophercloud.ServiceClient, error)) (*gophercloud.ServiceClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc, ok := c.clients[service]
	if !ok {
		var err error
		sc, err = build()
		if err != nil {
			return nil, Describe(err, service+" endpoint")
		}
		c.clients[service] = sc
	}
	cp := *sc
	cp.MoreHeaders = maps.Clone(sc.MoreHeaders)
	return &cp, nil
}

// catalogOrOverride uses <service>_endpoint_override when configured, the
// Keystone catalog otherwise; standalone clouds have no catalog.
func (c *Cloud) catalogOrOverride(service string, fromCatalog func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error)) (*gophercloud.ServiceClient, error) {
	if endpoint := c.standaloneEndpoint(service, false); endpoint != "" {
		return c.byHand(service, endpoint), nil
	}
	if c.Standalone() {
		return nil, fmt.Errorf("auth_type %s has no service catalog: set %s_endpoint_override in the cloud config", c.cfg.authType, service)
	}
	sc, err := fromCatalog(c.Provider, c.eo)
	if err != nil {
		return nil, fmt.Errorf("%w (region %q, interface %s)", err, c.cfg.region, firstNonEmpty(c.cfg.iface, "public"))
	}
	return sc, nil
}

// standaloneEndpoint is <service>_endpoint_override, or for baremetal the
// auth endpoint of auth_type none/http_basic.
func (c *Cloud) standaloneEndpoint(service string, authEndpoint bool) string {
	if o := c.cfg.overrides[service]; o != "" {
		return o
	}
	if authEndpoint && c.Standalone() {
		return c.cfg.auth["endpoint"]
	}
	return ""
}

// byHand builds a ServiceClient on a fixed endpoint; with http_basic it
// carries the same Basic credentials as Ironic's.
func (c *Cloud) byHand(service, endpoint string) *gophercloud.ServiceClient {
	sc := &gophercloud.ServiceClient{
		ProviderClient: c.Provider,
		Endpoint:       gophercloud.NormalizeURL(endpoint),
		Type:           service,
	}
	if c.cfg.authType == AuthHTTPBasic {
		sc.MoreHeaders = map[string]string{"Authorization": "Basic " + basicAuthSecret(c.cfg.auth["username"], c.cfg.auth["password"])}
	}
	return sc
}

// setResourceBase appends the API version to an unversioned endpoint, as
// gophercloud's catalog constructors do.
func setResourceBase(sc *gophercloud.ServiceClient, version string) {
	if strings.HasSuffix(strings.TrimSuffix(sc.Endpoint, "/"), "/"+version) {
		sc.ResourceBase = ""
		return
	}
	sc.ResourceBase = sc.Endpoint + version + "/"
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
