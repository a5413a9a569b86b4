package ansible

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// A port of ArgumentSpecValidator.validate and _validate_sub_spec
// (ansible/module_utils/common/{arg_spec,parameters}.py, ansible-core 2.14).
// Every step runs even after an error, as in Ansible, because later steps
// still collect no_log values and fill the params echoed in `invocation`;
// only the first error is reported.

type validation struct {
	errs        []string
	secrets     *secrets
	warnings    []string
	unsupported map[string]supportedNames // flattened name ("auth.bogus") -> what was legal there
}

type supportedNames struct {
	params, aliases []string
}

// validationResult is what the module reports when validation fails.
type validationResult struct {
	msg         string // first error, "" when valid
	unsupported bool   // the first error is the unsupported-parameters one
	warnings    []string
}

// validate checks and coerces params in place, adding no_log values to sec.
func validate(c *cOptions, params map[string]any, sec *secrets) validationResult {
	v := &validation{secrets: sec, unsupported: map[string]supportedNames{}}
	v.setFallbacks(c, params)
	var aliasWarnings [][2]string
	aliases := v.handleAliases(c, params, &aliasWarnings)
	v.listNoLogValues(c, params)
	v.collectUnsupported(c, params, aliases, nil)
	v.checkMutuallyExclusive(c.rules.mutuallyExclusive, params, nil)
	v.setDefaults(c, params, false)
	v.checkRequired(c, params, nil)
	v.validateTypes(c, params, nil)
	v.validateValues(c, params, nil)
	v.additionalChecks(c.rules, params, nil)
	v.setDefaults(c, params, true)
	v.validateSubSpec(c, params, "", nil)
	v.addCoercedSecrets(c, params)
	unsupportedFirst := false
	if len(v.unsupported) > 0 {
		unsupportedFirst = len(v.errs) == 0
		v.errs = append(v.errs, v.unsupportedMessage())
	}
	// Top-level alias warnings are emitted after validate() returns, so
	// after the sub-option ones (ModuleArgumentSpecValidator.validate).
	for _, w := range aliasWarnings {
		v.warnings = append(v.warnings, fmt.Sprintf("Both option %s and its alias %s are set.", w[0], w[1]))
	}
	r := validationResult{warnings: v.warnings, unsupported: unsupportedFirst}
	if len(v.errs) > 0 {
		r.msg = v.errs[0]
	}
	return r
}

func (v *validation) fail(msg string) { v.errs = append(v.errs, msg) }

// withContext appends Ansible's " found in a -> b" suffix.
func withContext(msg string, ctx []string) string {
	if len(ctx) == 0 {
		return msg
	}
	return msg + " found in " + strings.Join(ctx, " -> ")
}

// setFallbacks is set_fallbacks with env_fallback.
func (v *validation) setFallbacks(c *cOptions, params map[string]any) {
	for _, name := range c.names {
		o := c.opts[name]
		if len(o.EnvFallback) == 0 {
			continue
		}
		if _, ok := params[name]; ok {
			continue
		}
		for _, env := range o.EnvFallback {
			if val, ok := os.LookupEnv(env); ok {
				if o.NoLog {
					v.secrets.add(val)
				}
				params[name] = val
				break
			}
		}
	}
}

// handleAliases is _handle_aliases: copies each alias' value to its option
// (the alias key stays, as in Ansible) and returns alias -> option.
func (v *validation) handleAliases(c *cOptions, params map[string]any, warnings *[][2]string) map[string]string {
	aliases := map[string]string{}
	for _, name := range c.names {
		for _, a := range c.opts[name].Aliases {
			aliases[a] = name
			if val, ok := params[a]; ok {
				if _, both := params[name]; both {
					*warnings = append(*warnings, [2]string{name, a})
				}
				params[name] = val
			}
		}
	}
	return aliases
}

// listNoLogValues is _list_no_log_values. Ansible stops at the first
// malformed sub-option value and so misses later secrets; this keeps going
// (masking more, never less) and reports the same first error.
func (v *validation) listNoLogValues(c *cOptions, params map[string]any) {
	if err := v.listNoLog(c, params); err != "" {
		v.fail(err)
	}
}

func (v *validation) listNoLog(c *cOptions, params map[string]any) (firstErr string) {
	note := func(e string) {
		if firstErr == "" {
			firstErr = e
		}
	}
	for _, name := range c.names {
		o := c.opts[name]
		if o.NoLog && pyTruthy(params[name]) {
			v.secrets.addValue(params[name])
		}
		v.listNoLogKeys(o, params[name])
		if o.sub == nil || params[name] == nil {
			continue
		}
		subs, ok := params[name].([]any)
		if !ok {
			subs = []any{params[name]}
		}
		for _, sp := range subs {
			if s, isStr := sp.(string); isStr {
				d, err := checkDict(s)
				if err != nil {
					note(err.Error())
					continue
				}
				sp = d
			}
			m, isMap := sp.(map[string]any)
			if !isMap {
				note(fmt.Sprintf("Value '%s' in the sub parameter field '%s' must by a %s, not '%s'", pyStr(sp), name, o.Type, pyClassName(sp)))
				continue
			}
			note(v.listNoLog(o.sub, m))
		}
	}
	return firstErr
}

// listNoLogKeys registers the values of o.NoLogKey's keys inside val, in
// the form given and in the form type checking will turn it into (a dict
// given as "k=v" or JSON text, list items given as text), so that no later
// step, the type check included, fails with one of them unregistered.
func (v *validation) listNoLogKeys(o *cOption, val any) {
	if o.NoLogKey == nil || val == nil {
		return
	}
	v.secrets.addKeyed(o.NoLogKey, val)
	if conv, err := convert(o, val, func(any, error) {}); err == nil {
		v.secrets.addKeyed(o.NoLogKey, conv)
	}
}

// convert is check_type for one option value: its type and, for a list,
// its elements' type. An element that does not convert is passed to bad
// and dropped, as Ansible drops it.
func convert(o *cOption, val any, bad func(item any, err error)) (any, error) {
	conv, err := checkType(o.Type, val)
	if err != nil || o.Elements == "" {
		return conv, err
	}
	items, _ := conv.([]any)
	out := make([]any, 0, len(items))
	for _, item := range items {
		e, err := checkType(o.Elements, item)
		if err != nil {
			bad(item, err)
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// collectUnsupported is _get_unsupported_parameters with store_supported.
func (v *validation) collectUnsupported(c *cOptions, params map[string]any, aliases map[string]string, ctx []string) {
	for k := range params {
		if _, ok := c.opts[k]; ok {
			continue
		}
		if _, ok := aliases[k]; ok {
			continue
		}
		full := strings.Join(append(append([]string(nil), ctx...), k), ".")
		v.unsupported[full] = supportedNames{params: c.names, aliases: slices.Sorted(maps.Keys(aliases))}
	}
}

func (v *validation) unsupportedMessage() string {
	names := slices.Sorted(maps.Keys(v.unsupported))
	// Ansible lists what was legal where the last name of a set iteration
	// was found; with one context (the usual case) that is unambiguous.
	sup := v.unsupported[names[len(names)-1]]
	s := strings.Join(sup.params, ", ")
	if len(sup.aliases) > 0 {
		s += " (" + strings.Join(sup.aliases, ", ") + ")"
	}
	return fmt.Sprintf("%s. Supported parameters include: %s.", strings.Join(names, ", "), s)
}

// countTerms is count_terms: how many of terms are keys of params.
func countTerms(terms []string, params map[string]any) int {
	seen := map[string]bool{}
	for _, t := range terms {
		if _, ok := params[t]; ok {
			seen[t] = true
		}
	}
	return len(seen)
}

func (v *validation) checkMutuallyExclusive(groups [][]string, params map[string]any, ctx []string) {
	var hits []string
	for _, g := range groups {
		if countTerms(g, params) > 1 {
			hits = append(hits, strings.Join(g, "|"))
		}
	}
	if len(hits) > 0 {
		v.fail(withContext("parameters are mutually exclusive: "+strings.Join(hits, ", "), ctx))
	}
}

// setDefaults is _set_defaults: the first pass sets only non-null defaults
// (so `required` still sees what the user left out), the second sets every
// absent option to its default or null.
func (v *validation) setDefaults(c *cOptions, params map[string]any, all bool) {
	for _, name := range c.names {
		o := c.opts[name]
		if _, ok := params[name]; ok || (o.def == nil && !all) {
			continue
		}
		def, _ := toGeneric(o.def) // a fresh copy: sub-option handling mutates it
		if o.NoLog && pyTruthy(def) {
			v.secrets.add(pyStr(def))
			v.secrets.addValue(def)
		}
		params[name] = def
	}
}

func (v *validation) checkRequired(c *cOptions, params map[string]any, ctx []string) {
	var missing []string
	for _, name := range c.names {
		if _, ok := params[name]; c.opts[name].Required && !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		v.fail(withContext("missing required arguments: "+strings.Join(sortedCopy(missing), ", "), ctx))
	}
}

func typeName(t Type) string {
	if t == "" {
		return string(TypeStr)
	}
	return string(t)
}

// validateTypes is _validate_argument_types (with _validate_elements).
func (v *validation) validateTypes(c *cOptions, params map[string]any, ctx []string) {
	where := ""
	if len(ctx) > 0 {
		where = " found in '" + strings.Join(ctx, " -> ") + "'"
	}
	for _, name := range c.names {
		val, ok := params[name]
		if !ok || val == nil {
			continue
		}
		o := c.opts[name]
		conv, err := convert(o, val, func(item any, err error) {
			v.fail(fmt.Sprintf("Elements value for option '%s'%s is of type %s and we were unable to convert to %s: %s",
				name, where, pyTypeName(item), typeName(o.Elements), err))
		})
		if err != nil {
			// Ansible's wording, odd period included: "... found in 'a'. and we ..."
			dot := ""
			if where != "" {
				dot = "."
			}
			v.fail(fmt.Sprintf("argument '%s' is of type %s%s%s and we were unable to convert to %s: %s",
				name, pyTypeName(val), where, dot, typeName(o.Type), err))
			continue
		}
		params[name] = conv
	}
}

// validateValues is _validate_argument_values (choices).
func (v *validation) validateValues(c *cOptions, params map[string]any, ctx []string) {
	for _, name := range c.names {
		o := c.opts[name]
		if o.choices == nil {
			continue
		}
		val, ok := params[name]
		if !ok {
			continue
		}
		strs := make([]string, len(o.choices))
		for i, ch := range o.choices {
			strs[i] = pyStr(ch)
		}
		choices := strings.Join(strs, ", ")
		if list, isList := val.([]any); isList {
			var miss []string
			for _, item := range list {
				if !pyIn(item, o.choices) {
					miss = append(miss, pyStr(item))
				}
			}
			if len(miss) > 0 {
				v.fail(withContext(fmt.Sprintf("value of %s must be one or more of: %s. Got no match for: %s", name, choices, strings.Join(miss, ", ")), ctx))
			}
			continue
		}
		if pyIn(val, o.choices) {
			continue
		}
		// YAML may have turned yes/no into "True"/"False": map back when unambiguous.
		if s, isStr := val.(string); isStr && (s == "False" || s == "True") {
			set := booleansFalse
			if s == "True" {
				set = booleansTrue
			}
			var overlap []any
			for _, ch := range o.choices {
				if boolSetHas(set, s == "True", ch) && !pyIn(ch, overlap) {
					overlap = append(overlap, ch)
				}
			}
			if len(overlap) == 1 {
				val = overlap[0]
				params[name] = val
			}
		}
		if !pyIn(val, o.choices) {
			v.fail(withContext(fmt.Sprintf("value of %s must be one of: %s, got: %s", name, choices, pyStr(val)), ctx))
		}
	}
}

// boolSetHas is `ch in BOOLEANS_TRUE` (or FALSE): the strings, or a number equal to 1 (0).
func boolSetHas(strs map[string]bool, truthy bool, ch any) bool {
	if s, ok := ch.(string); ok {
		return strs[s]
	}
	if truthy {
		return pyEqual(ch, 1)
	}
	return pyEqual(ch, 0)
}

// additionalChecks runs _ADDITIONAL_CHECKS in Ansible's order; each check
// reports only its first failure.
func (v *validation) additionalChecks(r cRules, params map[string]any, ctx []string) {
	for _, g := range r.requiredTogether {
		n := 0
		for _, t := range g {
			n += min(countTerms([]string{t}, params), 1)
		}
		if n > 0 && n < len(g) {
			v.fail(withContext("parameters are required together: "+strings.Join(g, ", "), ctx))
			break
		}
	}
	for _, g := range r.requiredOneOf {
		if countTerms(g, params) == 0 {
			v.fail(withContext("one of the following is required: "+strings.Join(g, ", "), ctx))
			break
		}
	}
	for _, ri := range r.requiredIf {
		val, ok := params[ri.Key]
		if !ok || !pyEqual(val, ri.value) {
			continue
		}
		var missing []string
		for _, req := range ri.Requirements {
			if countTerms([]string{req}, params) == 0 {
				missing = append(missing, req)
			}
		}
		requires, maxMissing := "all", 0
		if ri.AnyOf {
			requires, maxMissing = "any", len(ri.Requirements)
		}
		if len(missing) > 0 && len(missing) >= maxMissing {
			v.fail(withContext(fmt.Sprintf("%s is %s but %s of the following are missing: %s", ri.Key, pyStr(ri.value), requires, strings.Join(missing, ", ")), ctx))
			break
		}
	}
	for _, key := range slices.Sorted(maps.Keys(r.requiredBy)) {
		if params[key] == nil { // absent or null: required_by treats both as unset
			continue
		}
		var missing []string
		for _, req := range r.requiredBy[key] {
			if params[req] == nil {
				missing = append(missing, req)
			}
		}
		if len(missing) > 0 {
			v.fail(withContext(fmt.Sprintf("missing parameter(s) required by '%s': %s", key, strings.Join(missing, ", ")), ctx))
			break
		}
	}
}

// validateSubSpec is _validate_sub_spec: dicts and lists of dicts with
// sub-options get the whole treatment, recursively.
func (v *validation) validateSubSpec(c *cOptions, params map[string]any, prefix string, ctx []string) {
	for _, name := range c.names {
		o := c.opts[name]
		if o.sub == nil {
			continue
		}
		if o.ApplyDefaults {
			if params[name] == nil {
				params[name] = map[string]any{}
			}
		} else if params[name] == nil {
			continue
		}
		subCtx := append(append([]string(nil), ctx...), name)
		elements, ok := params[name].([]any)
		if !ok {
			elements = []any{params[name]}
		}
		for idx, el := range elements {
			sp, isMap := el.(map[string]any)
			if !isMap {
				v.fail(fmt.Sprintf("value of '%s' must be of type dict or list of dicts", name))
				continue
			}
			v.setFallbacks(o.sub, sp)
			newPrefix := prefix + name
			if o.Type == TypeList {
				newPrefix += fmt.Sprintf("[%d]", idx)
			}
			newPrefix += "."
			var aliasWarnings [][2]string
			aliases := v.handleAliases(o.sub, sp, &aliasWarnings)
			for _, w := range aliasWarnings {
				v.warnings = append(v.warnings, fmt.Sprintf("Both option %s%s and its alias %s%s are set.", newPrefix, w[0], newPrefix, w[1]))
			}
			if err := v.listNoLog(o.sub, sp); err != "" {
				v.fail(err)
			}
			v.collectUnsupported(o.sub, sp, aliases, subCtx)
			v.checkMutuallyExclusive(o.sub.rules.mutuallyExclusive, sp, subCtx)
			v.setDefaults(o.sub, sp, false)
			v.checkRequired(o.sub, sp, subCtx)
			v.validateTypes(o.sub, sp, subCtx)
			v.validateValues(o.sub, sp, subCtx)
			v.additionalChecks(o.sub.rules, sp, subCtx)
			v.setDefaults(o.sub, sp, true)
			v.validateSubSpec(o.sub, sp, newPrefix, subCtx)
		}
	}
}

// pyTruthy is Python's bool(v).
func pyTruthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case int:
		return t != 0
	case float64:
		return t != 0
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return true
}

// addCoercedSecrets also masks no_log values in their coerced form (a pin
// given as "0042" is 42 in the result, a path "~/k" is "/root/k"): Ansible
// collects only the raw form and so would show those.
func (v *validation) addCoercedSecrets(c *cOptions, params map[string]any) {
	for _, name := range c.names {
		o := c.opts[name]
		if o.NoLog && pyTruthy(params[name]) {
			v.secrets.addValue(params[name])
		}
		if o.NoLogKey != nil {
			// Already converted: listNoLogKeys' type conversion ran before the checks.
			v.secrets.addKeyed(o.NoLogKey, params[name])
		}
		if o.sub == nil {
			continue
		}
		elements, ok := params[name].([]any)
		if !ok {
			elements = []any{params[name]}
		}
		for _, el := range elements {
			if m, isMap := el.(map[string]any); isMap {
				v.addCoercedSecrets(o.sub, m)
			}
		}
	}
}
