package ansible

import (
	"encoding/json"
	"math"
	"strconv"
)

// Module is what a module's run function gets: validated params plus protocol flags.
type Module struct {
	// Name is the module name (from _ansible_module_name, else Spec.Name).
	Name string
	// Params holds every option after alias resolution, coercion and
	// defaults (absent options are nil), plus the alias keys the user wrote,
	// exactly as AnsibleModule.params.
	Params map[string]any
	// CheckMode is _ansible_check_mode: report what would change, change nothing.
	CheckMode bool
	// Diff is _ansible_diff: the user asked for a diff.
	Diff bool
	// Verbosity is _ansible_verbosity (the number of -v).
	Verbosity int

	warnings     []string
	deprecations []any
}

// IsSet reports whether option name is present and not null.
func (m *Module) IsSet(name string) bool {
	return m.Params[name] != nil
}

// Str returns a string option ("" when unset; other values as Python's str()).
func (m *Module) Str(name string) string {
	v := m.Params[name]
	if v == nil {
		return ""
	}
	return pyStr(v)
}

// Bool returns a bool option (false when unset or not a boolean).
func (m *Module) Bool(name string) bool {
	b, err := pyBoolean(m.Params[name])
	return err == nil && b
}

// Int returns an int option (0 when unset or not a number in int range).
func (m *Module) Int(name string) int {
	switch t := m.Params[name].(type) {
	case int:
		return t
	case bool:
		if t {
			return 1
		}
	case float64:
		if !math.IsNaN(t) && !math.IsInf(t, 0) {
			return int(t)
		}
	case json.Number:
		if i, err := strconv.Atoi(string(t)); err == nil {
			return i
		}
	case string:
		if i, ok := pyParseInt(t); ok {
			if n, isInt := i.(int); isInt {
				return n
			}
		}
	}
	return 0
}

// List returns a list option (nil when unset or not a list).
func (m *Module) List(name string) []any {
	l, _ := m.Params[name].([]any)
	return l
}

// StrList returns a list option with every element as a string (Python's str()).
func (m *Module) StrList(name string) []string {
	l := m.List(name)
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = pyStr(e)
	}
	return out
}

// Dict returns a dict option (nil when unset or not a dict).
func (m *Module) Dict(name string) map[string]any {
	d, _ := m.Params[name].(map[string]any)
	return d
}

// Warn adds a warning to the result (shown by Ansible as [WARNING]).
func (m *Module) Warn(msg string) {
	m.warnings = append(m.warnings, msg)
}

// Deprecate adds a deprecation warning removed in the collection's version.
func (m *Module) Deprecate(msg, version string) {
	m.deprecations = append(m.deprecations, map[string]any{
		"msg": msg, "version": version, "collection_name": CollectionName,
	})
}
