package ignition

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vincent-petithory/dataurl"
	"golang.org/x/crypto/ssh"
)

// Keys and certificates are made here, at test time: no private key is
// committed (testdata/ca-2.2.pem is a certificate whose key was discarded).

func sshPublicKey(t testing.TB, comment string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	k, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	return string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(k))) + " " + comment
}

type certOpts struct {
	cn        string
	notAfter  time.Time
	sans      int // DNS names: repetitive, so the PEM compresses well
	noiseSize int // bytes of random extension data: incompressible
	seed      uint64
}

func caCertPEM(t testing.TB, o certOpts) []byte {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().AddDate(10, 0, 0)
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: o.cn, Organization: []string{"metalkit tests"}},
		NotBefore:             o.notAfter.AddDate(-20, 0, 0),
		NotAfter:              o.notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	for i := range o.sans {
		tpl.DNSNames = append(tpl.DNSNames, fmt.Sprintf("node-%04d.cluster.example.invalid", i))
	}
	if o.noiseSize > 0 {
		noise := make([]byte, o.noiseSize)
		r := mrand.New(mrand.NewChaCha8([32]byte{byte(o.seed), byte(o.seed >> 8)}))
		for i := range noise {
			noise[i] = byte(r.Uint32())
		}
		val, err := asn1.Marshal(noise)
		require.NoError(t, err)
		tpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: val}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, pub, priv)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func bundle(t testing.TB, n int, o certOpts) string {
	var b bytes.Buffer
	for i := range n {
		o.cn = fmt.Sprintf("metalkit test CA %d", i)
		o.seed = uint64(i) + 1
		b.Write(caCertPEM(t, o))
	}
	return b.String()
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

// decodeSource returns what a data URL in the config holds, gunzipped
// when the resource says compression: gzip.
func decodeSource(t testing.TB, res map[string]any) string {
	t.Helper()
	du, err := dataurl.DecodeString(res["source"].(string))
	require.NoError(t, err)
	data := du.Data
	if res["compression"] == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		data, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	return string(data)
}

// normalizeDataURLs replaces every data URL "source" with its decoded text,
// so configs compare by meaning, not by which valid encoding was picked.
func normalizeDataURLs(t testing.TB, v any) any {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["source"].(string); ok && len(s) > 5 && s[:5] == "data:" {
			x["source"] = "decoded:" + decodeSource(t, x)
			delete(x, "compression")
		}
		for k, e := range x {
			x[k] = normalizeDataURLs(t, e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeDataURLs(t, e)
		}
	}
	return v
}

func mustJSON(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// dig walks a decoded config: dig(cfg, "storage", "files", 0, "path").
func dig(t testing.TB, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch kk := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.Truef(t, ok, "not an object at %v", k)
			v = m[kk]
		case int:
			l, ok := v.([]any)
			require.Truef(t, ok, "not a list at %v", k)
			require.Less(t, kk, len(l))
			v = l[kk]
		}
	}
	return v
}

func ptr[T any](v T) *T { return &v }
