package capabilities

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Capabilities is Ironic's properties/capabilities value ("k:v,k:v") as an
// ordered list, so a merge keeps the order the node already had and a
// second identical merge changes nothing.
type Capabilities []Capability

// Capability is one key:value pair of a node's capabilities.
type Capability struct {
	Key   string
	Value string
}

// Parse reads capabilities as Ironic stores them (a "k:v,k:v"
// string), or as a dict. Empty items are ignored; an item without a colon,
// or with an empty key, is an error naming the item.
func Parse(v any) (Capabilities, error) {
	switch c := v.(type) {
	case nil:
		return nil, nil
	case string:
		var caps Capabilities
		for _, item := range strings.Split(c, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			k, val, ok := strings.Cut(item, ":")
			k, val = strings.TrimSpace(k), strings.TrimSpace(val)
			if !ok || k == "" {
				return nil, fmt.Errorf("capability %q is not key:value", item)
			}
			caps = caps.Set(k, val)
		}
		return caps, nil
	case map[string]any:
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var caps Capabilities
		for _, k := range keys {
			val, err := scalarText(c[k])
			if err != nil {
				return nil, fmt.Errorf("capability %q: %w", k, err)
			}
			if err := checkCapability(k, val); err != nil {
				return nil, err
			}
			caps = caps.Set(k, val)
		}
		return caps, nil
	default:
		return nil, fmt.Errorf("capabilities must be a string such as 'profile:baremetal,boot_option:local' or a dict, got %T", v)
	}
}

// checkCapability rejects keys and values that cannot survive the k:v,k:v encoding.
func checkCapability(k, v string) error {
	if strings.TrimSpace(k) == "" {
		return fmt.Errorf("capability with an empty key")
	}
	if strings.ContainsAny(k, ":,") {
		return fmt.Errorf("capability key %q must not contain ':' or ','", k)
	}
	if strings.Contains(v, ",") {
		return fmt.Errorf("capability %q: value %q must not contain ','", k, v)
	}
	return nil
}

// scalarText renders a string, number or boolean the way it reads in YAML.
func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, int, int64, float64, json.Number:
		return fmt.Sprint(x), nil
	default:
		return "", fmt.Errorf("value must be a string, number or boolean, got %T", v)
	}
}

// Get returns the value of key and whether it is present.
func (c Capabilities) Get(key string) (string, bool) {
	for _, kv := range c {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Set returns c with key set to value: in place when present, appended when new.
func (c Capabilities) Set(key, value string) Capabilities {
	out := make(Capabilities, len(c), len(c)+1)
	copy(out, c)
	for i := range out {
		if out[i].Key == key {
			out[i].Value = value
			return out
		}
	}
	return append(out, Capability{key, value})
}

// Merge returns c with every key of add set, keeping every key of c that add does not name.
func (c Capabilities) Merge(add Capabilities) Capabilities {
	out := c
	for _, kv := range add {
		out = out.Set(kv.Key, kv.Value)
	}
	return out
}

// Covers reports whether every key of want is present in c with the same value.
func (c Capabilities) Covers(want Capabilities) bool {
	for _, kv := range want {
		if v, ok := c.Get(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// String is Ironic's encoding: "k:v,k:v".
func (c Capabilities) String() string {
	parts := make([]string, len(c))
	for i, kv := range c {
		parts[i] = kv.Key + ":" + kv.Value
	}
	return strings.Join(parts, ",")
}

// Map is the capabilities as a dict, for results.
func (c Capabilities) Map() map[string]any {
	m := make(map[string]any, len(c))
	for _, kv := range c {
		m[kv.Key] = kv.Value
	}
	return m
}
