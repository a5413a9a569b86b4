package ignition

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Redacted is a config as diff mode may show it: the JSON with every
// password hash and every data: URL (a file's contents, a CA, a merged
// config) replaced by its size and sha256, so neither an old nor a new
// secret is printed. Text that is not a JSON object (a dest someone else
// wrote) is shown as its size and sha256 only; no file is "".
func Redacted(content []byte) string {
	if content == nil {
		return ""
	}
	var doc map[string]any
	if err := json.Unmarshal(content, &doc); err != nil {
		return digest(content) + " (not an Ignition config: not shown)\n"
	}
	var out strings.Builder
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // "<password hash, ...>" reads as written
	enc.SetIndent("", "  ")
	_ = enc.Encode(redact(doc))
	return out.String()
}

func redact(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			s, isStr := e.(string)
			switch {
			case isStr && k == "passwordHash":
				t[k] = "<password hash, " + digest([]byte(s)) + ">"
			case isStr && strings.HasPrefix(s, "data:"):
				t[k] = "<data URL, " + digest([]byte(s)) + ">"
			default:
				t[k] = redact(e)
			}
		}
	case []any:
		for i, e := range t {
			t[i] = redact(e)
		}
	}
	return v
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%d bytes, sha256 %s", len(b), hex.EncodeToString(sum[:8]))
}

// HoldsPasswordHash tells whether the config sets a user's password hash.
func (r *Rendered) HoldsPasswordHash() bool {
	passwd, _ := r.Config["passwd"].(map[string]any)
	users, _ := passwd["users"].([]any)
	for _, u := range users {
		if m, ok := u.(map[string]any); ok && m["passwordHash"] != nil && m["passwordHash"] != "" {
			return true
		}
	}
	return false
}
