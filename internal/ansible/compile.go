package ansible

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
)

// A compiled spec: option names in a fixed order (sorted, which is also the
// order of ArgumentSpec's JSON and so of the Python oracle), defaults,
// choices and rule values turned into the generic value tree.

type cOptions struct {
	names []string // sorted option names: Ansible's iteration order
	opts  map[string]*cOption
	rules cRules
}

type cOption struct {
	*Option
	def     any
	choices []any
	sub     *cOptions
}

type cRules struct {
	mutuallyExclusive [][]string
	requiredTogether  [][]string
	requiredOneOf     [][]string
	requiredIf        []cRequiredIf
	requiredBy        map[string][]string
}

type cRequiredIf struct {
	RequiredIf
	value any
}

// compile checks spec for the mistakes Ansible would reject (or silently
// never satisfy) and returns its compiled form.
func compile(spec *Spec) (*cOptions, error) {
	if spec == nil {
		return nil, fmt.Errorf("internal error: nil spec")
	}
	return compileOptions(spec.Options, rulesOf(spec.MutuallyExclusive, spec.RequiredTogether, spec.RequiredOneOf, spec.RequiredIf, spec.RequiredBy), "")
}

func rulesOf(me, rt, roo [][]string, ri []RequiredIf, rb map[string][]string) cRules {
	r := cRules{mutuallyExclusive: me, requiredTogether: rt, requiredOneOf: roo, requiredBy: rb}
	for _, x := range ri {
		r.requiredIf = append(r.requiredIf, cRequiredIf{RequiredIf: x, value: x.Value})
	}
	return r
}

func compileOptions(opts map[string]*Option, rules cRules, path string) (*cOptions, error) {
	c := &cOptions{names: slices.Sorted(maps.Keys(opts)), opts: make(map[string]*cOption, len(opts)), rules: rules}
	known := map[string]bool{}
	for _, name := range c.names {
		o := opts[name]
		full := path + name
		if o == nil {
			return nil, fmt.Errorf("internal error: option %s is nil", full)
		}
		switch o.Type {
		case "", TypeStr, TypeBool, TypeInt, TypeFloat, TypeList, TypeDict, TypePath, TypeRaw, TypeJSON:
		default:
			return nil, fmt.Errorf("internal error: option %s has unknown type %q", full, o.Type)
		}
		if o.Elements != "" && o.Type != TypeList {
			return nil, fmt.Errorf("internal error: option %s has elements but is not a list", full)
		}
		if o.Options != nil && o.Type != TypeDict && !(o.Type == TypeList && o.Elements == TypeDict) {
			return nil, fmt.Errorf("internal error: option %s has sub-options but is not a dict or a list of dicts", full)
		}
		if o.NoLogKey != nil {
			switch o.Type {
			case TypeDict, TypeList, TypeRaw, TypeJSON:
			default:
				return nil, fmt.Errorf("internal error: option %s has NoLogKey but its values hold no dicts (type %s)", full, typeName(o.Type))
			}
		}
		if o.Required && o.Default != nil {
			// Ansible's own wording (_handle_aliases).
			return nil, fmt.Errorf("internal error: required and default are mutually exclusive for %s", name)
		}
		co := &cOption{Option: o}
		var err error
		if co.def, err = toGeneric(o.Default); err != nil {
			return nil, fmt.Errorf("internal error: default of option %s: %w", full, err)
		}
		if o.Choices != nil {
			ch, err := toGeneric(o.Choices)
			if err != nil {
				return nil, fmt.Errorf("internal error: choices of option %s: %w", full, err)
			}
			co.choices = ch.([]any)
		}
		if o.Options != nil {
			sub, err := compileOptions(o.Options, rulesOf(o.MutuallyExclusive, o.RequiredTogether, o.RequiredOneOf, o.RequiredIf, o.RequiredBy), full+".")
			if err != nil {
				return nil, err
			}
			co.sub = sub
		}
		c.opts[name] = co
		known[name] = true
		for _, a := range o.Aliases {
			if known[a] || opts[a] != nil && a != name {
				return nil, fmt.Errorf("internal error: alias %s of option %s is already a name", a, full)
			}
			known[a] = true
		}
	}
	// Rules naming something that is neither an option nor an alias could
	// never be satisfied (or never fire): a typo in the spec.
	check := func(kind string, names ...string) error {
		for _, n := range names {
			if !known[n] {
				return fmt.Errorf("internal error: %s in %soptions names unknown option %q", kind, path, n)
			}
		}
		return nil
	}
	for _, g := range rules.mutuallyExclusive {
		if err := check("mutually_exclusive", g...); err != nil {
			return nil, err
		}
	}
	for _, g := range rules.requiredTogether {
		if err := check("required_together", g...); err != nil {
			return nil, err
		}
	}
	for _, g := range rules.requiredOneOf {
		if err := check("required_one_of", g...); err != nil {
			return nil, err
		}
	}
	for i, r := range rules.requiredIf {
		if err := check("required_if", append([]string{r.Key}, r.Requirements...)...); err != nil {
			return nil, err
		}
		v, err := toGeneric(r.Value)
		if err != nil {
			return nil, fmt.Errorf("internal error: required_if value for %s: %w", r.Key, err)
		}
		rules.requiredIf[i].value = v
	}
	for k, reqs := range rules.requiredBy {
		if err := check("required_by", append([]string{k}, reqs...)...); err != nil {
			return nil, err
		}
	}
	c.rules = rules
	return c, nil
}

// toGeneric turns a Go value into the generic JSON tree (nil, bool, string,
// int, json.Number, float64, []any, map[string]any), returning a fresh copy
// so that callers may mutate it. Generic values are copied directly; other
// types (structs, typed slices and maps) go through encoding/json.
func toGeneric(v any) (any, error) {
	switch t := v.(type) {
	case nil, bool, string, int, float64:
		return t, nil
	case json.Number:
		return numberValue(string(t)), nil
	case int64:
		return int(t), nil
	case int32:
		return int(t), nil
	case float32:
		return float64(t), nil
	case []any:
		if t == nil {
			return nil, nil // null, as encoding/json has it
		}
		out := make([]any, len(t))
		for i, e := range t {
			g, err := toGeneric(e)
			if err != nil {
				return nil, err
			}
			out[i] = g
		}
		return out, nil
	case []string:
		if t == nil {
			return nil, nil // null, as encoding/json has it
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = e
		}
		return out, nil
	case map[string]any:
		if t == nil {
			return nil, nil // null, as encoding/json has it
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			g, err := toGeneric(e)
			if err != nil {
				return nil, err
			}
			out[k] = g
		}
		return out, nil
	case map[string]string:
		if t == nil {
			return nil, nil // null, as encoding/json has it
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = e
		}
		return out, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return normalizeJSON(out), nil
}

// sortedCopy returns names sorted, leaving the argument alone.
func sortedCopy(names []string) []string {
	out := append([]string(nil), names...)
	sort.Strings(out)
	return out
}
