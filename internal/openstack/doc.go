// Package openstack turns connection options into gophercloud service
// clients, the way openstacksdk (and so openstack.cloud) resolves them:
// explicit options over OS_* environment variables over clouds.yaml (plus
// secure.yaml).
//
// On top of gophercloud it adds what every module needs and gophercloud
// leaves out: auth_type none and http_basic (standalone Ironic/Glance),
// *_endpoint_override, regions, re-authentication on token expiry, HTTP
// transport timeouts, redirects followed only within one scheme, host and
// port (credentials are never sent elsewhere), response bodies bounded to
// MaxResponseBytes (guard.go), microversions negotiated once per process, a bounded
// jittered retry of transient failures (409 conflicts, 503, connection
// refused/reset, 502/504 for idempotent methods, 500 for reads and deletes;
// at most RetryPolicy.MaxAttempts tries, 12 by default, and 5 for a 500)
// inside the task's time budget, waiters that stop on failure
// states, and error messages that carry the service's own words and never a
// secret.
//
// It knows nothing of Ansible: internal/cloudopts maps module options onto
// Options.
package openstack
