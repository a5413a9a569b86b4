// Package decoded rebuilds values as JSON and YAML decoders and Ansible hand
// them over (map[string]any, map[any]any from YAML, []any, scalars) into
// one shape: maps with string keys and lists, each leaf replaced by what the
// caller's leaf function makes of it. The callers differ only in their
// leaves: internal/enroll keeps typed values and makes numbers canonical for
// comparison, internal/openstack turns every scalar into its text, as
// clouds.yaml gives it.
package decoded

import "fmt"

// MapLeaves returns a copy of v in which every map[string]any and
// map[any]any is a new map[string]any (a key that is not a string becomes
// fmt.Sprint(key)), every []any a new []any, and every other value (nil,
// scalars, and typed containers such as []string or map[string]string) is
// replaced by leaf(value). v itself is not modified.
func MapLeaves(v any, leaf func(any) any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = MapLeaves(e, leaf)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = MapLeaves(e, leaf)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = MapLeaves(e, leaf)
		}
		return out
	}
	return leaf(v)
}

// StringKeys is MapLeaves with every leaf kept as decoded: a json.Number
// keeps its text ("0123"), a YAML int stays an int.
func StringKeys(v any) any {
	return MapLeaves(v, func(leaf any) any { return leaf })
}
