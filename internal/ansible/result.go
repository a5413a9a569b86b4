package ansible

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// CollectionName is the collection_name of every deprecation we report.
const CollectionName = "metalkit.baremetal"

// Result of a successful run. Values are extra top-level keys (resources as
// plain dicts); the protocol keys (changed, failed, msg, diff, invocation,
// warnings, deprecations) win over Values of the same name, and Values
// keys starting with _ansible_ are dropped (the controller would strip them).
type Result struct {
	Changed bool
	Msg     string
	Diff    any // {before, after, before_header, after_header} map or a list of them
	Values  map[string]any
}

// Failure is an error that becomes a failed result carrying extra keys
// (e.g. per-node results). A bool "changed" in Values is reported as such,
// for a module that failed after changing something.
type Failure struct {
	Msg    string
	Values map[string]any
}

// Error returns the failure message.
func (f *Failure) Error() string { return f.Msg }

// Failf returns a *Failure with a formatted message and extra result keys.
func Failf(values map[string]any, format string, args ...any) error {
	return &Failure{Msg: fmt.Sprintf(format, args...), Values: values}
}

// payload is one module result under construction.
type payload map[string]any

func newPayload(values map[string]any) payload {
	p := payload{}
	for k, v := range values {
		if !strings.HasPrefix(k, "_ansible_") {
			p[k] = resultValue(v)
		}
	}
	return p
}

// resultValue is v as the plain JSON tree that the scrubber and the encoder
// walk, with whole floats as ints: modules put typed values (structs, API
// bodies) in Values and Diff as they are. An unencodable v stays as it is
// (emit then reports it).
func resultValue(v any) any {
	g, err := toGeneric(v)
	if err != nil {
		return v
	}
	return integralFloatsAsInts(g)
}

// integralFloatsAsInts turns whole float64 values into ints, as Go's
// encoding/json prints them. Module values mostly come from decoded API
// bodies, where every number is a float64: without this a node's
// memory_mb 4096 would reach the playbook as 4096.0. (invocation keeps
// Python's float repr, since there a float option really is a float.)
func integralFloatsAsInts(v any) any {
	switch t := v.(type) {
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int(t)
		}
	case []any:
		for i, e := range t {
			t[i] = integralFloatsAsInts(e)
		}
	case map[string]any:
		for k, e := range t {
			t[k] = integralFloatsAsInts(e)
		}
	}
	return v
}

// emit scrubs p with every known secret and writes it as one JSON object.
// It returns the exit code: 1 when the result says failed.
func emit(w io.Writer, p payload, sec *secrets) int {
	tree, err := toGeneric(map[string]any(p))
	if err != nil {
		// An unencodable value (a channel, a func): report that instead.
		tree = map[string]any{
			"changed": false, "failed": true,
			"msg": fmt.Sprintf("internal error: cannot encode the module result: %v", err),
		}
	}
	tree = removeValues(tree, sec.list())
	failed, _ := tree.(map[string]any)["failed"].(bool)
	b := appendPyJSON(make([]byte, 0, 1024), tree, false)
	_, _ = w.Write(append(b, '\n'))
	if failed {
		return 1
	}
	return 0
}
