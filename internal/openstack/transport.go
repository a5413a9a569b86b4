package openstack

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Transport timeouts: gophercloud sets none, and its first call (version
// discovery) would otherwise hang on a dead endpoint.
const (
	dialTimeout         = 10 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
)

// newHTTPClient builds the one HTTP client every service client shares.
// TLS is verified unless verify is false; cacert replaces the system roots,
// as with requests' verify=<path>.
func newHTTPClient(r *resolved) (*http.Client, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if r.verify != nil && !*r.verify {
		tlsConfig.InsecureSkipVerify = true
	}
	if r.cacert != "" {
		path := expandHome(r.cacert)
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("ca_cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_cert: no PEM certificate in %s", path)
		}
		tlsConfig.RootCAs = pool
	}
	switch {
	case r.cert != "" && r.key != "":
		pair, err := tls.LoadX509KeyPair(expandHome(r.cert), expandHome(r.key))
		if err != nil {
			// The error names files, never their contents.
			return nil, fmt.Errorf("client_cert/client_key: %w", err)
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
	case r.cert != "":
		// requests accepts a PEM holding both certificate and key.
		pair, err := tls.LoadX509KeyPair(expandHome(r.cert), expandHome(r.cert))
		if err != nil {
			return nil, fmt.Errorf("client_cert (no client_key given): %w", err)
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
	case r.key != "":
		return nil, fmt.Errorf("client_key is set but client_cert is not")
	}

	headerTimeout := r.apiTimeout
	if headerTimeout <= 0 {
		headerTimeout = DefaultAPITimeout
	}
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: headerTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          64,
		// Batch modules run several workers against one service.
		MaxIdleConnsPerHost: 16,
		ForceAttemptHTTP2:   true,
	}
	// guard.go: the cloud's own endpoints only (Connect adds the catalog's),
	// same-origin redirects only, safe paths, bounded response bodies.
	origins := &endpointOrigins{}
	origins.allow(r.auth["auth_url"], r.auth["endpoint"])
	for _, o := range r.overrides {
		origins.allow(o)
	}
	return &http.Client{Transport: guardedTransport{next: transport, origins: origins}, CheckRedirect: sameOriginRedirects}, nil
}

func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, rest)
		}
	}
	return p
}
