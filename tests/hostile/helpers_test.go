package hostile

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// The sweep finds a secret in every form a service may echo it in.
func TestLeaksFindEveryEncoding(t *testing.T) {
	s := SentAuthPassword
	jsonText, _ := json.Marshal(map[string]string{"password": s})
	for name, text := range map[string]string{
		"raw":                  "error: " + s + "!",
		"json":                 string(jsonText),
		"query":                "https://h/x?" + url.Values{"p": {s}}.Encode(),
		"path":                 "https://h/" + url.PathEscape(s) + "/x",
		"basic auth":           "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("hostile:"+s)),
		"base64 offset 1":      base64.StdEncoding.EncodeToString([]byte("a" + s + "tail")),
		"base64 offset 2":      base64.RawURLEncoding.EncodeToString([]byte("ab" + s)),
		"base64 offset 0 user": base64.StdEncoding.EncodeToString([]byte(`{"user_data":"` + s + `"}`)),
		"hex":                  "dump " + hex.EncodeToString([]byte("x"+s)),
		"HEX":                  strings.ToUpper(hex.EncodeToString([]byte(s))),
	} {
		if len(Leaks(text, []string{s})) == 0 {
			t.Errorf("%s: not found in %q", name, text)
		}
	}
	if l := Leaks("error: "+SentAuthToken+" "+base64.StdEncoding.EncodeToString([]byte(SentAppCred)), []string{SentAuthPassword}); len(l) > 0 {
		t.Errorf("false leak: %v", l)
	}
}

// A hostile name passes when rejected naming the option or sent escaped,
// and fails when it reaches a URL raw (or cut off by a '#').
func TestNameProblems(t *testing.T) {
	failed := &Outcome{Result: map[string]any{"failed": true, "msg": "nodes: a/b is not a node name"}}
	ok := &Outcome{Result: map[string]any{"failed": false, "msg": "done"}}
	for _, tc := range []struct {
		name, node string
		o          *Outcome
		uris       []string
		wantOK     bool
	}{
		{"rejected", "a/b", failed, []string{"GET /v1/nodes"}, true},
		{"escaped", "a/b", ok, []string{"GET /v1/nodes/a%2Fb"}, true},
		{"raw", "a/b", failed, []string{"GET /v1/nodes/a/b"}, false},
		{"fragment cut", "#", ok, []string{"GET /v1/nodes/"}, false},
		{"query", "?x", ok, []string{"GET /v1/nodes/?x"}, false},
		{"neither", "a/b", ok, []string{"GET /v1/nodes"}, false},
	} {
		if got := len(nameProblems(tc.o, tc.uris, tc.node, []string{"nodes"})) == 0; got != tc.wantOK {
			t.Errorf("%s: ok=%v, want %v", tc.name, got, tc.wantOK)
		}
	}
}

// oneJSON accepts exactly one object.
func TestOneJSON(t *testing.T) {
	for in, want := range map[string]bool{`{"a":1}`: true, "{\"a\":1}\n": true, `{"a":1}{"b":2}`: false, `{"a":1} x`: false, `panic: boom`: false, ``: false, `[1]`: false} {
		if got := oneJSON(in) != nil; got != want {
			t.Errorf("oneJSON(%q) = %v, want %v", in, got, want)
		}
	}
}
