package enroll

import (
	"fmt"
	"sort"
	"strings"
)

// Capability is one key:value of a node's properties/capabilities.
type Capability struct{ Key, Value string }

// Capabilities keep their order: Ironic stores them as one "k:v,k:v" string
// and a re-run must not reorder what introspection wrote.
type Capabilities []Capability

// ParseCapabilities reads capabilities as the operator or Ironic writes them:
// a "k:v,k:v" string or a dict (whose keys are then sorted).
func ParseCapabilities(v any) (Capabilities, error) {
	switch c := v.(type) {
	case nil:
		return nil, nil
	case string:
		var out Capabilities
		for _, item := range strings.Split(c, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			k, val, ok := strings.Cut(item, ":")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return nil, fmt.Errorf("%q is not key:value", item)
			}
			out = out.Set(k, strings.TrimSpace(val))
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out Capabilities
		for _, k := range keys {
			s, ok := scalarString(c[k])
			if !ok {
				return nil, fmt.Errorf("value of %q must be a string, number or boolean", k)
			}
			if k == "" || strings.ContainsAny(k, ",:") {
				return nil, fmt.Errorf("key %q must be non-empty, without ',' or ':'", k)
			}
			if strings.Contains(s, ",") {
				return nil, fmt.Errorf("value of %q must not contain ','", k)
			}
			out = out.Set(k, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("must be a \"key:value,key:value\" string or a dict")
	}
}

// Get returns the value of key.
func (c Capabilities) Get(key string) (string, bool) {
	for _, kv := range c {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Set replaces key's value in place, or appends it.
func (c Capabilities) Set(key, value string) Capabilities {
	out := append(Capabilities(nil), c...)
	for i := range out {
		if out[i].Key == key {
			out[i].Value = value
			return out
		}
	}
	return append(out, Capability{key, value})
}

// Merge lays over on top of c: keys of c keep their place and, unless over
// sets them, their value; new keys come last. Nothing of c is dropped.
func (c Capabilities) Merge(over Capabilities) Capabilities {
	out := append(Capabilities(nil), c...)
	for _, kv := range over {
		out = out.Set(kv.Key, kv.Value)
	}
	return out
}

// Covers tells whether every key of want has the same value in c.
func (c Capabilities) Covers(want Capabilities) bool {
	for _, kv := range want {
		if v, ok := c.Get(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// String is Ironic's form, "k:v,k:v".
func (c Capabilities) String() string {
	parts := make([]string, len(c))
	for i, kv := range c {
		parts[i] = kv.Key + ":" + kv.Value
	}
	return strings.Join(parts, ",")
}
