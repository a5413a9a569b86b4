package ansible

import (
	"strings"

	"github.com/metalkit/baremetal/internal/secret"
)

// noLogPlaceholder replaces a value that is exactly a secret.
const noLogPlaceholder = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

// secrets registers no_log values (AnsibleModule.no_log_values) in the
// process's one registry (package secret), which the openstack package and
// the modules' own registrations share.
type secrets struct{}

// newSecrets starts a module run with an empty registry.
func newSecrets() *secrets {
	secret.Reset()
	return &secrets{}
}

// add records one secret; the empty string is no secret (Ansible skips it).
func (s *secrets) add(v string) { secret.Add(v) }

// addValue is _return_datastructure_name: every non-empty string and the
// text of every number inside v (bools and nulls are no secrets).
func (s *secrets) addValue(v any) {
	switch t := v.(type) {
	case nil, bool:
	case string:
		s.add(t)
	case []any:
		for _, e := range t {
			s.addValue(e)
		}
	case map[string]any:
		for _, e := range t {
			s.addValue(e)
		}
	default:
		s.add(pyStr(t))
	}
}

// addKeyed records, anywhere inside v, the value of every dict key that
// match accepts, as a no_log option's value is recorded: whole (every string
// and number inside it) and only when truthy (Ansible skips a no_log value
// of 0 or ""). Other values are searched further.
func (s *secrets) addKeyed(match func(string) bool, v any) {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			s.addKeyed(match, e)
		}
	case map[string]any:
		for k, e := range t {
			if match(k) {
				if pyTruthy(e) {
					s.addValue(e)
				}
				continue
			}
			s.addKeyed(match, e)
		}
	}
}

// list returns the secrets longest first, so that a secret containing
// another is masked whole (Ansible iterates a set: any order is its order).
func (s *secrets) list() []string { return secret.Values() }

// removeValues is Ansible's remove_values on a generic value tree: a string
// equal to a secret becomes the placeholder, a string containing one gets
// "********" in its place, a number/bool/null whose text equals or contains
// one becomes the placeholder. Dict keys are left alone. It returns a new tree.
func removeValues(v any, secrets []string) any {
	if len(secrets) == 0 {
		return v
	}
	return scrubValue(v, secrets, toSet(secrets))
}

func toSet(list []string) map[string]struct{} {
	m := make(map[string]struct{}, len(list))
	for _, s := range list {
		m[s] = struct{}{}
	}
	return m
}

func scrubValue(v any, list []string, set map[string]struct{}) any {
	switch t := v.(type) {
	case string:
		return scrubString(t, list, set)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = scrubValue(e, list, set)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = scrubValue(e, list, set)
		}
		return out
	}
	text := pyStr(v) // None, True, 42, 4.0: numbers and bools by their text
	if _, ok := set[text]; ok {
		return noLogPlaceholder
	}
	for _, s := range list {
		if strings.Contains(text, s) {
			return noLogPlaceholder
		}
	}
	return v
}

func scrubString(s string, list []string, set map[string]struct{}) string {
	if _, ok := set[s]; ok {
		return noLogPlaceholder
	}
	for _, v := range list {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, secret.Masked)
		}
	}
	// Beyond Ansible: the encoded spellings (base64, URL, JSON escapes).
	return secret.Scrub(s)
}
