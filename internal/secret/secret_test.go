package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sentinel = "S3NT!NEL/pw+é"

func TestScrubEverySpelling(t *testing.T) {
	Reset()
	Add(sentinel)
	quoted, _ := json.Marshal(sentinel)
	spellings := map[string]string{
		"raw":         sentinel,
		"query":       url.QueryEscape(sentinel),
		"path":        url.PathEscape(sentinel),
		"json":        string(quoted[1 : len(quoted)-1]),
		"ascii json":  `S3NT!NEL/pw+\u00e9`,
		"hex":         hex.EncodeToString([]byte(sentinel)),
		"base64":      base64.StdEncoding.EncodeToString([]byte(sentinel)),
		"base64url":   base64.URLEncoding.EncodeToString([]byte(sentinel)),
		"in base64 1": base64.StdEncoding.EncodeToString([]byte("x" + sentinel + "tail")),
		"in base64 2": base64.StdEncoding.EncodeToString([]byte("xy" + sentinel + "tail")),
		"in base64 3": base64.StdEncoding.EncodeToString([]byte("xyz" + sentinel + "tail")),
	}
	for name, s := range spellings {
		out := Scrub("before " + s + " after")
		assert.Contains(t, out, Masked, name)
		assert.NotContains(t, out, s, name)
		if name == "raw" || name == "query" {
			assert.Equal(t, "before "+Masked+" after", out, name)
		}
	}
}

func TestScrubLongestFirstAndReset(t *testing.T) {
	Reset()
	Add("abcdef", "abcdefghij")
	assert.Equal(t, "x "+Masked+" y", Scrub("x abcdefghij y"))
	assert.Equal(t, []string{"abcdefghij", "abcdef"}, Values())
	Reset()
	assert.Equal(t, "x abcdefghij y", Scrub("x abcdefghij y"))
	assert.Empty(t, Values())
}

func TestShortSecretsMaskOnlyTheirOwnText(t *testing.T) {
	Reset()
	Add("ab")
	// The derived spellings of a two-byte secret ("YWI", "6162") would
	// mask innocent text; only the value itself is masked.
	assert.Equal(t, "YWI= 6162 "+Masked, Scrub("YWI= 6162 ab"))
}

func TestAddURL(t *testing.T) {
	Reset()
	shown := AddURL("https://core:p%21w0rd@127.0.0.1:8080/rhcos.qcow2.gz")
	assert.Equal(t, "https://core:xxxxx@127.0.0.1:8080/rhcos.qcow2.gz", shown)
	for _, s := range []string{"p!w0rd", "p%21w0rd", base64.StdEncoding.EncodeToString([]byte("core:p!w0rd"))} {
		assert.NotContains(t, Scrub("got "+s), s)
	}
	// A signed URL's query is its credential.
	Reset()
	AddURL("https://127.0.0.1/rhcos.qcow2?X-Amz-Signature=deadbeef42")
	assert.NotContains(t, Scrub("GET /rhcos.qcow2?X-Amz-Signature=deadbeef42"), "deadbeef42")
	// No password: nothing to register, the URL is shown as it is.
	Reset()
	assert.Equal(t, "https://core@127.0.0.1/x", AddURL("https://core@127.0.0.1/x"))
	assert.Empty(t, Values())
	// Unparsable, still "user:pass@": the password is registered anyway.
	Reset()
	AddURL("https://u:se%zzcret@127.0.0.1/x")
	assert.NotContains(t, Scrub("https://u:se%zzcret@127.0.0.1/x"), "se%zzcret")
}

func TestFragmentsOfLongSecrets(t *testing.T) {
	Reset()
	userData := strings.Repeat(`{"ignition":{"version":"3.4.0"},"passwd":{"users":[{"name":"core","passwordHash":"$6$SENTINEL"}]}}`, 20)
	Add(userData)
	enc := base64.StdEncoding.EncodeToString([]byte(userData))
	for _, cut := range []struct{ from, to int }{{0, 255}, {1, 100}, {2, 63}, {3, 50}, {400, 1000}} {
		fragment := enc[cut.from:cut.to]
		out := Scrub("Invalid user_data: " + fragment + "...")
		assert.NotContains(t, out, fragment[4:len(fragment)-4], "fragment %v", cut)
	}
	// Base64 of something else stays.
	other := base64.StdEncoding.EncodeToString([]byte("an innocent sentence of some length"))
	assert.Equal(t, other, Scrub(other))
}

func TestWriterScrubsSplitLines(t *testing.T) {
	Reset()
	Add("hunter22")
	var b bytes.Buffer
	w := NewWriter(&b)
	_, err := w.Write([]byte("password is hun"))
	require.NoError(t, err)
	_, err = w.Write([]byte("ter22\nand no"))
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	assert.Equal(t, "password is "+Masked+"\nand no", b.String())
}

func TestIsKey(t *testing.T) {
	for _, k := range []string{"password", "pm_password", "ipmi_password", "application_credential_secret", "token", "auth_token", "ipmi_kg_key", "snmp_auth_key"} {
		assert.True(t, IsKey(k), k)
	}
	for _, k := range []string{"username", "auth_url", "project_name", "key_name", "ipmi_address"} {
		assert.False(t, IsKey(k), k)
	}
}

func BenchmarkScrub200Secrets(b *testing.B) {
	Reset()
	for i := 0; i < 200; i++ {
		Add(strings.Repeat("x", 10) + string(rune('a'+i%26)) + strings.Repeat("y", i%7))
	}
	text := strings.Repeat("node-17 manageable ipmi_address=127.0.0.1 ", 2000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Scrub(text)
	}
}
