package ansible

// ArgumentSpec returns spec as the keyword arguments of a Python
// AnsibleModule: {"argument_spec": {...}, "mutually_exclusive": [...],
// "required_together", "required_one_of", "required_if", "required_by"},
// JSON-able. Python cannot receive a function through JSON, so an env
// fallback is written as "fallback": ["env_fallback", ["VAR", ...]]; the
// reader swaps in ansible.module_utils.basic.env_fallback.
func ArgumentSpec(spec *Spec) map[string]any {
	out := map[string]any{"argument_spec": argSpecOptions(spec.Options)}
	addRules(out, spec.MutuallyExclusive, spec.RequiredTogether, spec.RequiredOneOf, spec.RequiredIf, spec.RequiredBy)
	return out
}

func argSpecOptions(opts map[string]*Option) map[string]any {
	out := make(map[string]any, len(opts))
	for name, o := range opts {
		d := map[string]any{"type": typeName(o.Type)}
		if o.Elements != "" {
			d["elements"] = string(o.Elements)
		}
		if o.Required {
			d["required"] = true
		}
		if o.Default != nil {
			d["default"] = o.Default
		}
		if len(o.Aliases) > 0 {
			d["aliases"] = o.Aliases
		}
		if o.Choices != nil {
			d["choices"] = o.Choices
		}
		if o.NoLog {
			d["no_log"] = true
		}
		if len(o.EnvFallback) > 0 {
			d["fallback"] = []any{"env_fallback", o.EnvFallback}
		}
		if o.ApplyDefaults {
			d["apply_defaults"] = true
		}
		if o.Options != nil {
			d["options"] = argSpecOptions(o.Options)
			addRules(d, o.MutuallyExclusive, o.RequiredTogether, o.RequiredOneOf, o.RequiredIf, o.RequiredBy)
		}
		out[name] = d
	}
	return out
}

func addRules(d map[string]any, me, rt, roo [][]string, ri []RequiredIf, rb map[string][]string) {
	if len(me) > 0 {
		d["mutually_exclusive"] = me
	}
	if len(rt) > 0 {
		d["required_together"] = rt
	}
	if len(roo) > 0 {
		d["required_one_of"] = roo
	}
	if len(ri) > 0 {
		list := make([]any, len(ri))
		for i, r := range ri {
			rule := []any{r.Key, r.Value, r.Requirements}
			if r.AnyOf {
				rule = append(rule, true)
			}
			list[i] = rule
		}
		d["required_if"] = list
	}
	if len(rb) > 0 {
		d["required_by"] = rb
	}
}
