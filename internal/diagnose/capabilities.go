package diagnose

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// NodeCapabilities returns the capabilities Nova's ironic driver exposes
// for a node: properties.capabilities parsed as "k:v,k:v" (keys trimmed,
// values not, as Nova does), plus cpu_arch. malformed lists the entries Nova
// ignores (and says so when capabilities is not a string at all).
func NodeCapabilities(props map[string]any) (caps map[string]string, malformed []string) {
	caps = map[string]string{}
	if arch, ok := props["cpu_arch"].(string); ok && arch != "" {
		caps["cpu_arch"] = arch
	}
	switch raw := props["capabilities"].(type) {
	case nil:
	case string:
		if strings.TrimSpace(raw) == "" {
			break
		}
		for _, item := range strings.Split(raw, ",") {
			parts := strings.Split(item, ":")
			if len(parts) == 2 && parts[0] != "" && parts[1] != "" {
				caps[strings.TrimSpace(parts[0])] = parts[1]
			} else {
				malformed = append(malformed, fmt.Sprintf("%q (format is key:value)", item))
			}
		}
	default:
		malformed = append(malformed, fmt.Sprintf("capabilities is a %T, not the \"k:v,k:v\" string Nova reads", raw))
	}
	return caps, malformed
}

// MatchSpec reports whether a capability value satisfies an extra-spec
// requirement, with the operators of Nova's extra_specs_ops (=, ==, !=,
// >=, <=, s==, s!=, s<, s<=, s>, s>=, <in>, <all-in>, <or>); a
// requirement without an operator is plain string equality. present is
// false when the node has no such capability.
func MatchSpec(value string, present bool, requirement string) bool {
	words := strings.Fields(requirement)
	op := ""
	if len(words) > 0 {
		op = words[0]
		words = words[1:]
	}
	method, known := specOps[op]
	if op != "<or>" && !known {
		return present && value == requirement
	}
	if !present {
		return false
	}
	if op == "<or>" {
		for i := 0; i < len(words); i += 2 {
			if words[i] == value {
				return true
			}
		}
		return false
	}
	if len(words) == 0 {
		return false
	}
	if op == "<all-in>" {
		for _, w := range words {
			if !strings.Contains(value, w) {
				return false
			}
		}
		return true
	}
	return method(value, words[0])
}

var specOps = map[string]func(x, y string) bool{
	"=":        floatOp(func(a, b float64) bool { return a >= b }),
	"==":       floatOp(func(a, b float64) bool { return a == b }),
	"!=":       floatOp(func(a, b float64) bool { return a != b }),
	">=":       floatOp(func(a, b float64) bool { return a >= b }),
	"<=":       floatOp(func(a, b float64) bool { return a <= b }),
	"<in>":     func(x, y string) bool { return strings.Contains(x, y) },
	"<all-in>": nil, // handled in MatchSpec: takes every word
	"s==":      func(x, y string) bool { return x == y },
	"s!=":      func(x, y string) bool { return x != y },
	"s<":       func(x, y string) bool { return x < y },
	"s<=":      func(x, y string) bool { return x <= y },
	"s>":       func(x, y string) bool { return x > y },
	"s>=":      func(x, y string) bool { return x >= y },
}

func floatOp(cmp func(a, b float64) bool) func(x, y string) bool {
	return func(x, y string) bool {
		a, err1 := strconv.ParseFloat(strings.TrimSpace(x), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(y), 64)
		return err1 == nil && err2 == nil && cmp(a, b)
	}
}

// capabilityMisses lists, for one node, the flavor capability specs it fails.
func capabilityMisses(req Requirements, caps map[string]string, label string) []Reason {
	var out []Reason
	check := func(key, spec, shown string) {
		// capabilities:stats:KEY (the form Nova's strict extra-spec validation
		// accepts) reads the same host stats as capabilities:KEY.
		key = strings.TrimPrefix(key, "stats:")
		value, present := caps[key]
		if MatchSpec(value, present, spec) {
			return
		}
		msg := fmt.Sprintf("capability %s: the flavor asks %s=%q, the node has none", key, shown, spec)
		if present {
			msg = fmt.Sprintf("capability %s: the flavor asks %s=%q, the node has %q", key, shown, spec, value)
			if strings.TrimSpace(value) != value && strings.TrimSpace(value) == spec {
				msg += " (stray space: Nova does not trim capability values)"
			}
		}
		if plainValue(spec) {
			msg += "; if the node is meant for it: " + NodeTask(label, "capabilities="+key+":"+spec)
		}
		out = append(out, Reason{Code: CodeCapability, Blocking: true, Message: msg, Key: key, Wanted: spec, Have: value, HaveSet: present})
	}
	for _, key := range slices.Sorted(maps.Keys(req.Capabilities)) {
		check(key, req.Capabilities[key], "capabilities:"+key)
	}
	// Nova's capability filter also applies unscoped specs a node has a value for.
	for _, key := range slices.Sorted(maps.Keys(req.Unscoped)) {
		if _, ok := caps[key]; ok {
			if _, scoped := req.Capabilities[key]; !scoped {
				check(key, req.Unscoped[key], key)
			}
		}
	}
	return out
}

// traitMisses lists the flavor's required traits a node lacks and the
// forbidden ones it has.
func traitMisses(req Requirements, traits []string, label string) []Reason {
	var out []Reason
	for _, t := range req.RequiredTraits {
		if !slices.Contains(traits, t) {
			out = append(out, Reason{Code: CodeTraitMissing, Blocking: true, Fix: "metalkit.baremetal.ironic_node_action traits=" + t,
				Message: fmt.Sprintf("the flavor requires trait %s, the node does not have it: %s", t, NodeTask(label, "traits="+t))})
		}
	}
	for _, t := range req.ForbiddenTraits {
		if slices.Contains(traits, t) {
			out = append(out, Reason{Code: CodeTraitForbidden, Blocking: true,
				Message: fmt.Sprintf("the flavor forbids trait %s, the node has it: %s", t, NodeTask(label, "traits=["+strings.Join(without(traits, t), ",")+"] purge_traits=true"))})
		}
	}
	return out
}

// plainValue tells a capability spec that is a value to match as it is
// (no Nova operator such as s==, <in>, >=): a node can be given it.
func plainValue(spec string) bool {
	if spec == "" || strings.ContainsAny(spec, " ,") || strings.ContainsAny(spec[:1], "=!<>") {
		return false
	}
	return !(len(spec) > 1 && spec[0] == 's' && strings.ContainsAny(spec[1:2], "=!<>"))
}

func without(list []string, drop string) []string {
	var out []string
	for _, v := range list {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}
