// Package secret is the one registry of the values a module run must never
// print: no_log options, credentials inside cloud dicts and clouds.yaml,
// URL passwords, tokens the run obtained, user data. Every output path
// (the result, its invocation, warnings, diffs, errors, stderr) is scrubbed
// against it, in every spelling a service or an encoder may give a value:
// raw, URL-encoded, JSON-escaped, base64 (whole or inside a longer encoded
// text) and hex.
//
// The registry is process-wide because a module binary runs one task per
// process; Reset starts a new run (tests that run many in one process).
package secret

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"
)

// Masked replaces a secret inside a longer string, as Ansible does.
const Masked = "********"

// minDerived is the shortest spelling derived from a secret (a base64 run
// inside a longer text, a hex form) that is masked: shorter runs would mask
// innocent text, and carry too little of the secret to matter.
const minDerived = 6

var reg = struct {
	sync.Mutex
	values   map[string]struct{}
	sorted   []string          // raw values, longest first; nil when stale
	replacer *strings.Replacer // every spelling; nil when stale
	long     []string          // values of minFragment bytes or more (user data, keys)
}{values: map[string]struct{}{}}

// Reset forgets every value: the start of a module run.
func Reset() {
	reg.Lock()
	defer reg.Unlock()
	reg.values = map[string]struct{}{}
	reg.sorted, reg.replacer, reg.long = nil, nil, nil
}

// Add registers values; the empty string is no secret.
func Add(values ...string) {
	reg.Lock()
	defer reg.Unlock()
	for _, v := range values {
		if v == "" {
			continue
		}
		if _, ok := reg.values[v]; !ok {
			reg.values[v] = struct{}{}
			reg.sorted, reg.replacer = nil, nil
			if len(v) >= minFragment {
				reg.long = append(reg.long, v)
			}
		}
	}
}

// AddURL registers the credentials a URL carries: the password of its
// userinfo as written and percent-decoded, the Basic authorization they
// make, and a query long enough to be a signature. It returns the URL with
// the password replaced, for messages.
func AddURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// An unparsable URL may still hold "user:pass@": register the
		// userinfo as a whole and its password.
		Add(userinfo(raw), rawPassword(raw))
		return raw
	}
	if len(u.RawQuery) >= 8 {
		Add(u.RawQuery) // a signed URL's query is its credential
	}
	pass, hasPass := u.User.Password()
	if !hasPass {
		return raw
	}
	Add(pass, rawPassword(raw))
	Add(base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + pass)))
	return u.Redacted()
}

// userinfo is the "user:pass" of a URL as written, before "@" in its
// authority ("" when it has none).
func userinfo(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return ""
	}
	rest := raw[i+3:]
	at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@")
	if at < 0 {
		return ""
	}
	return rest[:at]
}

// rawPassword is the password of a URL as written, before percent-decoding.
func rawPassword(raw string) string {
	if _, pass, ok := strings.Cut(userinfo(raw), ":"); ok {
		return pass
	}
	return ""
}

// Values returns the raw values, longest first, so that a secret holding
// another is masked whole.
func Values() []string {
	reg.Lock()
	defer reg.Unlock()
	return slices.Clone(sortedLocked())
}

func sortedLocked() []string {
	if reg.sorted == nil {
		reg.sorted = make([]string, 0, len(reg.values))
		for v := range reg.values {
			reg.sorted = append(reg.sorted, v)
		}
		slices.SortFunc(reg.sorted, longestFirst)
	}
	return reg.sorted
}

func longestFirst(a, b string) int {
	if len(a) != len(b) {
		return len(b) - len(a)
	}
	return strings.Compare(a, b)
}

// Scrub replaces every spelling of every registered value in s by Masked.
func Scrub(s string) string {
	reg.Lock()
	if reg.replacer == nil {
		reg.replacer = newReplacer(sortedLocked())
	}
	r := reg.replacer
	long := reg.long
	reg.Unlock()
	s = r.Replace(s)
	if len(long) > 0 {
		s = maskFragments(s, long)
	}
	return s
}

// ScrubWith is Scrub with extra values that are not registered.
func ScrubWith(s string, extra ...string) string {
	s = Scrub(s)
	var vals []string
	for _, v := range extra {
		if v != "" {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return s
	}
	slices.SortFunc(vals, longestFirst)
	return newReplacer(vals).Replace(s)
}

func newReplacer(values []string) *strings.Replacer {
	seen := map[string]struct{}{}
	var forms []string
	for _, v := range values {
		for _, f := range Forms(v) {
			if _, dup := seen[f]; !dup {
				seen[f] = struct{}{}
				forms = append(forms, f)
			}
		}
	}
	// strings.Replacer tries the old strings in argument order at each
	// position: longest first masks a secret holding another whole.
	slices.SortFunc(forms, longestFirst)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Masked)
	}
	return strings.NewReplacer(pairs...)
}

// Forms are the spellings of v that outputs are scrubbed of.
func Forms(v string) []string {
	if v == "" {
		return nil
	}
	forms := []string{v, url.QueryEscape(v), url.PathEscape(v)}
	forms = append(forms, jsonForms(v)...)
	derived := []string{hex.EncodeToString([]byte(v))}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		derived = append(derived, enc.EncodeToString([]byte(v)))
		for offset := 0; offset < 3; offset++ {
			derived = append(derived, base64Run(enc, v, offset))
		}
	}
	for _, d := range derived {
		if len(d) >= minDerived {
			forms = append(forms, d)
		}
	}
	return forms
}

// base64Run is the part of the base64 text of "<offset bytes>v<more>" that
// depends on v alone: what a secret looks like inside a longer encoded
// text (user data quoted back by Nova, a whole file base64'd).
func base64Run(enc *base64.Encoding, v string, offset int) string {
	buf := make([]byte, offset+len(v))
	copy(buf[offset:], v)
	full := enc.WithPadding(base64.NoPadding).EncodeToString(buf)
	start := 0
	if offset > 0 {
		start = 4 // the first quantum mixes the preceding bytes in
	}
	end := (len(buf) / 3) * 4 // the last partial quantum mixes the following bytes in
	if end <= start {
		return ""
	}
	return full[start:end]
}

// jsonForms are the ways a JSON encoder may spell v inside a string: Go's
// (HTML-escaping), plain, and Python's ensure_ascii (what OpenStack sends).
func jsonForms(v string) []string {
	var forms []string
	for _, escapeHTML := range []bool{true, false} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escapeHTML)
		if enc.Encode(v) == nil {
			s := strings.TrimSuffix(b.String(), "\n")
			forms = append(forms, s[1:len(s)-1])
		}
	}
	plain := forms[len(forms)-1]
	var ascii strings.Builder
	for _, r := range plain {
		switch {
		case r < 0x80:
			ascii.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&ascii, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&ascii, "\\u%04x", r)
		}
	}
	return append(forms, ascii.String())
}

// IsKey reports whether a dict key names a credential, in a cloud config,
// an auth dict, a node's driver_info or an instackenv entry.
func IsKey(key string) bool {
	k := strings.ToLower(key)
	return strings.HasSuffix(k, "password") || strings.Contains(k, "secret") || strings.Contains(k, "token") ||
		(strings.HasPrefix(k, "snmp_") && strings.HasSuffix(k, "_key")) || strings.HasSuffix(k, "kg_key")
}
