package openstack

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/metalkit/baremetal/internal/safefile"
	"github.com/metalkit/baremetal/internal/secret"
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
		pem, err := safefile.Read("ca_cert", path, 4<<20)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_cert: no PEM certificate in %s", path)
		}
		tlsConfig.RootCAs = pool
	}
	switch {
	case r.cert != "":
		// Without client_key, the PEM holds both, as requests accepts it.
		pair, err := clientPair(r.cert, cmp.Or(r.key, r.cert))
		if err != nil {
			return nil, err
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

// clientPair reads the client certificate and key (regular files, bounded)
// and pairs them; the error names the files, never their contents.
func clientPair(certPath, keyPath string) (tls.Certificate, error) {
	cert, err := safefile.Read("client_cert", expandHome(certPath), 4<<20)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := safefile.Read("client_key", expandHome(keyPath), 4<<20)
	if err != nil {
		return tls.Certificate{}, err
	}
	secret.Add(string(key))
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("client_cert/client_key: %s and %s: %v", certPath, keyPath, err)
	}
	return pair, nil
}
