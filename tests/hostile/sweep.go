package hostile

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// Sentinels: one distinct secret per secret-bearing option, so a leak
// names its source. Each holds characters that URL-encoding and JSON
// escaping change ("!", "<", "&"), and is long enough that each of its
// encoded forms is unmistakable.
const (
	SentAuthPassword = "S3NT-auth-password-<&>!-7101"
	SentAuthToken    = "S3NT-auth-token-7102-0000abcdef"
	SentAppCred      = "S3NT-appcred-secret-<&>!-7103"
	SentSecurePW     = "S3NT-secure-yaml-password-!-7104"
	// SentIssuedToken is the token the fake Keystone issues.
	SentIssuedToken = "S3NTissuedtoken7105gAAAAABkXyZ0123456789"
	SentBMC         = "S3NT-pm<&>!pw-7106zz" // IPMI takes 20 bytes at most
	SentBMCFile     = "S3NT-pmfile!-7107zzz"
	SentRedfish     = "S3NT-redfish-password-!-7108"
	// SentURLUser is the password of a URL's userinfo, given
	// percent-encoded as SentURLUserEnc.
	SentURLUser     = "S3NT!NEL-url-userinfo-7109"
	SentURLUserEnc  = "S3NT%21NEL-url-userinfo-7109"
	SentURLRaw      = "S3NT-url-raw-password-7110"
	SentUserData    = `{"ignition":{"version":"3.4.0"},"passwd":{"users":[{"name":"core","passwordHash":"S3NT-user-data-7111"}]}}`
	SentUserDataKey = "S3NT-user-data-7111"
	SentUDFile      = "S3NT-user-data-file-7112"
	SentHash        = "$6$rounds=4096$S3NTsalt7113$S3NTpasswordhashpasswordhash7113"
	SentOldHash     = "$6$rounds=4096$S3NTold7114$S3NToldpasswordhasholdhash7114"
	SentVictim      = "S3NT-victim-file-content-7115"
	SentBasicPW     = "S3NT-http-basic-password-!-7116"
)

// AllSentinels is every sentinel: each run is swept for all of them.
func AllSentinels() []string {
	return []string{SentAuthPassword, SentAuthToken, SentAppCred, SentSecurePW, SentIssuedToken,
		SentBMC, SentBMCFile, SentRedfish, SentURLUser, SentURLRaw, SentUserData, SentUserDataKey,
		SentUDFile, SentHash, SentOldHash, SentVictim, SentBasicPW}
}

// Forms are the spellings of secret a service or a careless formatter
// may produce: raw; JSON-escaped (Go's HTML-safe escaping and the plain
// one); URL-encoded (query and path); hex; base64 (standard and URL
// alphabets) of the secret at each of the three byte offsets it can sit
// at in a longer encoded stream, as in a basic-auth header or a base64
// user_data echoed back.
func Forms(secret string) map[string]string {
	f := map[string]string{"raw": secret}
	if b, err := json.Marshal(secret); err == nil {
		f["json"] = strings.Trim(string(b), `"`)
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if enc.Encode(secret) == nil {
		f["json-plain"] = strings.Trim(strings.TrimSpace(sb.String()), `"`)
	}
	f["query-escape"] = url.QueryEscape(secret)
	f["path-escape"] = url.PathEscape(secret)
	f["hex"] = hex.EncodeToString([]byte(secret))
	f["HEX"] = strings.ToUpper(f["hex"])
	for off := 0; off < 3; off++ {
		// The encoding of the 3-byte groups that start off bytes into the
		// secret: present in any base64 stream holding the secret at an
		// offset of that alignment.
		part := []byte(secret)[off:]
		part = part[:len(part)/3*3]
		if len(part) < 9 {
			continue
		}
		f["base64@"+string(rune('0'+off))] = base64.StdEncoding.EncodeToString(part)
		f["base64url@"+string(rune('0'+off))] = base64.URLEncoding.EncodeToString(part)
	}
	return f
}

// Leaks lists "secret (form)" for each form of each secret found in text.
func Leaks(text string, secrets []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range secrets {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		for name, form := range Forms(s) {
			if form != "" && strings.Contains(text, form) {
				out = append(out, clipSecret(s)+" ("+name+")")
			}
		}
	}
	return out
}

// Sweep fails t for every secret found in text (where names the output).
func Sweep(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	if leaks := Leaks(text, secrets); len(leaks) > 0 {
		t.Errorf("secret in %s: %s", where, strings.Join(leaks, ", "))
	}
}

func clipSecret(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
