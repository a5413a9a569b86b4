package openstack

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCA issues certificates for TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns PEM certificate and key for a client certificate.
func (ca *testCA) issue(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestTLS(t *testing.T) {
	f := false
	tests := []struct {
		name       string
		clientAuth bool
		opts       func(dir, url string, srv *httptest.Server, ca *testCA) Options
		env        func(t *testing.T, dir, url string, srv *httptest.Server)
		wantErr    string
	}{
		{
			name: "untrusted server is refused",
			opts: func(_, url string, _ *httptest.Server, _ *testCA) Options {
				return Options{AuthType: "none", Auth: Auth{Endpoint: url}}
			},
			wantErr: "certificate signed by unknown authority",
		},
		{
			name: "ca_cert makes it trusted",
			opts: func(dir, url string, srv *httptest.Server, _ *testCA) Options {
				return Options{AuthType: "none", Auth: Auth{Endpoint: url}, CACert: writeServerCA(t, dir, srv)}
			},
		},
		{
			name: "validate_certs false skips verification",
			opts: func(_, url string, _ *httptest.Server, _ *testCA) Options {
				return Options{AuthType: "none", Auth: Auth{Endpoint: url}, ValidateCerts: &f}
			},
		},
		{
			name: "cacert from clouds.yaml",
			opts: func(dir, url string, srv *httptest.Server, _ *testCA) Options {
				ca := writeServerCA(t, dir, srv)
				writeFile(t, filepath.Join(dir, "clouds.yaml"), "clouds:\n  s:\n    auth_type: none\n    cacert: "+ca+"\n    auth:\n      endpoint: "+url+"\n")
				return Options{Cloud: "s"}
			},
		},
		{
			name: "OS_CACERT from the environment",
			env: func(t *testing.T, dir, url string, srv *httptest.Server) {
				t.Setenv("OS_AUTH_TYPE", "none")
				t.Setenv("OS_ENDPOINT", url)
				t.Setenv("OS_CACERT", writeServerCA(t, dir, srv))
			},
			opts: func(string, string, *httptest.Server, *testCA) Options { return Options{} },
		},
		{
			name: "ca_cert that holds no certificate",
			opts: func(dir, url string, _ *httptest.Server, _ *testCA) Options {
				return Options{AuthType: "none", Auth: Auth{Endpoint: url}, CACert: writeFile(t, filepath.Join(dir, "junk.pem"), "junk")}
			},
			wantErr: "no PEM certificate",
		},
		{
			name:       "client certificate required and missing",
			clientAuth: true,
			opts: func(dir, url string, srv *httptest.Server, _ *testCA) Options {
				return Options{AuthType: "none", Auth: Auth{Endpoint: url}, CACert: writeServerCA(t, dir, srv), Retry: RetryPolicy{MaxAttempts: 1}}
			},
			wantErr: "certificate",
		},
		{
			name:       "client certificate required and given",
			clientAuth: true,
			opts: func(dir, url string, srv *httptest.Server, ca *testCA) Options {
				cert, key := ca.issue(t)
				return Options{AuthType: "none", Auth: Auth{Endpoint: url}, CACert: writeServerCA(t, dir, srv),
					ClientCert: writeFile(t, filepath.Join(dir, "client.pem"), string(cert)),
					ClientKey:  writeFile(t, filepath.Join(dir, "client.key"), string(key))}
			},
		},
		{
			name: "client_key without client_cert",
			opts: func(dir, url string, _ *httptest.Server, _ *testCA) Options {
				return Options{AuthType: "none", Auth: Auth{Endpoint: url}, ClientKey: filepath.Join(dir, "k")}
			},
			wantErr: "client_key is set but client_cert is not",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			fc := newFakeCloud(t)
			fc.requireToken = false
			srv := httptest.NewUnstartedServer(http.HandlerFunc(fc.serve))
			ca := newTestCA(t)
			if tt.clientAuth {
				pool := x509.NewCertPool()
				pool.AddCert(ca.cert)
				srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
			}
			srv.Config.ErrorLog = discardLog()
			srv.StartTLS()
			t.Cleanup(srv.Close)
			url := srv.URL + "/baremetal"
			if tt.env != nil {
				tt.env(t, dir, url, srv)
			}
			c, err := Connect(context.Background(), tt.opts(dir, url, srv, ca))
			if err == nil {
				_, err = c.Baremetal(context.Background())
			}
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Equal(t, 0, fc.count("GET /baremetal/v1"), "no request reached the service")
				return
			}
			require.NoError(t, err)
			assert.Len(t, listNodes(t, c), 1)
		})
	}
}

func writeServerCA(t *testing.T, dir string, srv *httptest.Server) string {
	return writeFile(t, filepath.Join(dir, "ca.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
}
