package ansible

// Type is an Ansible option type, spelled as in an argument_spec.
type Type string

const (
	TypeStr   Type = "str"
	TypeBool  Type = "bool"
	TypeInt   Type = "int"
	TypeFloat Type = "float"
	TypeList  Type = "list"
	TypeDict  Type = "dict"
	TypePath  Type = "path"
	TypeRaw   Type = "raw"
	TypeJSON  Type = "json"
)

// Option describes one module option: validation and documentation in one place.
type Option struct {
	Type     Type // default TypeStr
	Elements Type // element type of a list
	Required bool
	Default  any
	Aliases  []string
	Choices  []any
	NoLog    bool
	// NoLogKey marks secrets inside a free-form dict option, or a list of
	// them, that has no sub-options to put no_log on: wherever the option's
	// value holds a dict (at any depth), the value of each key NoLogKey
	// returns true for is a no_log value, registered before any check can
	// fail. Keys are passed as written (case-sensitive); the function
	// decides. Not an Ansible argument_spec field: see the package doc.
	NoLogKey func(key string) bool `json:"-"`
	// EnvFallback names environment variables tried in order when the option is absent.
	EnvFallback []string

	// Options are the sub-options of a dict, or of each dict in a list (Elements: TypeDict).
	Options map[string]*Option
	// ApplyDefaults is Ansible's apply_defaults: an absent or null dict with
	// sub-options becomes {} so that the sub-option defaults apply.
	ApplyDefaults     bool
	MutuallyExclusive [][]string
	RequiredTogether  [][]string
	RequiredOneOf     [][]string
	RequiredIf        []RequiredIf
	RequiredBy        map[string][]string

	// Documentation only.
	Description  []string
	VersionAdded string
}

// RequiredIf is one required_if rule: when Key equals Value, Requirements
// must be set (all of them, or one of them when AnyOf).
type RequiredIf struct {
	Key          string
	Value        any
	Requirements []string
	AnyOf        bool
}

// ReturnValue documents one key of a module's result (RETURN).
type ReturnValue struct {
	Description []string
	Returned    string
	Type        string
	Elements    string
	Sample      any
	Contains    map[string]*ReturnValue
}

// SeeAlso points a module's docs at another module (seealso).
type SeeAlso struct {
	Module      string // FQCN, e.g. metalkit.baremetal.ironic_introspect
	Description string
}

// Spec is a module's whole contract: its argument spec, the cross-option
// rules, and its documentation.
type Spec struct {
	Name             string
	ShortDescription string
	// VersionAdded is the collection version that first shipped the module.
	VersionAdded      string
	SeeAlso           []SeeAlso
	Description       []string
	Notes             []string
	Author            []string
	Options           map[string]*Option
	MutuallyExclusive [][]string
	RequiredTogether  [][]string
	RequiredOneOf     [][]string
	RequiredIf        []RequiredIf
	RequiredBy        map[string][]string
	// ExtendsDocFragments is rendered as extends_documentation_fragment.
	ExtendsDocFragments []string
	Examples            string
	Return              map[string]*ReturnValue
}
