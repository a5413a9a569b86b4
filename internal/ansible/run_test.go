package ansible

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metalkit/baremetal/internal/secret"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// execRaw runs Execute on raw args-file content and returns the decoded
// result (numbers as json.Number), the exit code and the raw output.
func execRaw(t *testing.T, spec *Spec, content string, run func(*Module) (*Result, error)) (map[string]any, int, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "args")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	var out bytes.Buffer
	code := Execute(spec, path, &out, run)
	return decodeOne(t, out.String()), code, out.String()
}

func decodeOne(t *testing.T, out string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var res map[string]any
	require.NoError(t, dec.Decode(&res), "output: %q", out)
	require.False(t, dec.More(), "more than one JSON value: %q", out)
	return res
}

func execArgs(t *testing.T, spec *Spec, args map[string]any, run func(*Module) (*Result, error)) (map[string]any, int) {
	t.Helper()
	raw, err := json.Marshal(args)
	require.NoError(t, err)
	res, code, _ := execRaw(t, spec, string(raw), run)
	return res, code
}

func echo(m *Module) (*Result, error) {
	return &Result{Values: map[string]any{"params": m.Params}}, nil
}

func mustNotRun(t *testing.T) func(*Module) (*Result, error) {
	return func(*Module) (*Result, error) {
		t.Error("run called after a validation failure")
		return nil, nil
	}
}

var simpleSpec = &Spec{Name: "simple", Options: map[string]*Option{
	"name":     {Required: true},
	"password": {NoLog: true},
	"count":    {Type: TypeInt, Default: 1},
}}

func TestExecuteInternalKeys(t *testing.T) {
	var got *Module
	res, code := execArgs(t, simpleSpec, map[string]any{
		"name": "n", "_ansible_check_mode": "yes", "_ansible_diff": true,
		"_ansible_verbosity": 3, "_ansible_module_name": "renamed",
		"_ansible_remote_tmp": "~/.ansible/tmp", "_ansible_tmpdir": nil,
		"_ansible_some_future_key": map[string]any{"x": 1},
	}, func(m *Module) (*Result, error) { got = m; return &Result{}, nil })
	require.Equal(t, 0, code, "unknown _ansible_ keys are not unsupported: %v", res)
	require.NotNil(t, got)
	assert.True(t, got.CheckMode)
	assert.True(t, got.Diff)
	assert.Equal(t, 3, got.Verbosity)
	assert.Equal(t, "renamed", got.Name)
	for k := range got.Params {
		assert.False(t, strings.HasPrefix(k, "_ansible_"), k)
	}
	assert.NotContains(t, res["invocation"].(map[string]any)["module_args"], "_ansible_diff")
}

func TestExecuteInternalDefaultsAndBadFlag(t *testing.T) {
	var got *Module
	_, code := execArgs(t, simpleSpec, map[string]any{"name": "n"}, func(m *Module) (*Result, error) { got = m; return nil, nil })
	require.Equal(t, 0, code)
	assert.False(t, got.CheckMode)
	assert.False(t, got.Diff)
	assert.Equal(t, 0, got.Verbosity)
	assert.Equal(t, "simple", got.Name)

	res, code := execArgs(t, simpleSpec, map[string]any{"name": "n", "password": "pw-xyz", "_ansible_check_mode": "perhaps"}, mustNotRun(t))
	assert.Equal(t, 1, code)
	assert.Equal(t, "The value 'perhaps' is not a valid boolean.  Valid booleans include: "+validBooleans, res["msg"])
	assert.Equal(t, noLogPlaceholder, res["invocation"].(map[string]any)["module_args"].(map[string]any)["password"])
}

func TestExecuteArgsFileProblems(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"not JSON", "name=x", msgBadJSON},
		{"not an object", `["a"]`, msgBadJSON},
		{"trailing junk", `{"name": "x"} {}`, msgBadJSON},
		{"null", `null`, msgBadJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, code, _ := execRaw(t, simpleSpec, tc.content, mustNotRun(t))
			assert.Equal(t, 1, code)
			assert.Equal(t, true, res["failed"])
			assert.Equal(t, tc.want, res["msg"])
		})
	}
	var out bytes.Buffer
	assert.Equal(t, 1, Execute(simpleSpec, "", &out, mustNotRun(t)))
	assert.Contains(t, decodeOne(t, out.String())["msg"], "usage: simple ARGS_FILE")

	out.Reset()
	assert.Equal(t, 1, Execute(simpleSpec, filepath.Join(t.TempDir(), "missing"), &out, mustNotRun(t)))
	assert.Equal(t, msgBadJSON, decodeOne(t, out.String())["msg"])
}

func TestExecuteArgsForms(t *testing.T) {
	// JSON text in place of a path, as AnsibleModule accepts on argv.
	var out bytes.Buffer
	require.Equal(t, 0, Execute(simpleSpec, `{"name": "inline"}`, &out, echo))
	assert.Equal(t, "inline", decodeOne(t, out.String())["params"].(map[string]any)["name"])
	// The Python-module wrapping is unwrapped.
	res, code, _ := execRaw(t, simpleSpec, `{"ANSIBLE_MODULE_ARGS": {"name": "wrapped"}}`, echo)
	require.Equal(t, 0, code)
	assert.Equal(t, "wrapped", res["params"].(map[string]any)["name"])
}

func TestExecuteResultShape(t *testing.T) {
	res, code := execArgs(t, simpleSpec, map[string]any{"name": "n", "password": "hunter22"}, func(m *Module) (*Result, error) {
		m.Warn("careful")
		m.Deprecate("old thing", "2.0.0")
		return &Result{
			Changed: true, Msg: "done",
			Diff: map[string]any{"before": "a", "after": "b"},
			Values: map[string]any{
				"node":             map[string]any{"uuid": "u1", "ratio": 2.0},
				"changed":          false, // protocol keys win
				"_ansible_verbose": true,  // dropped
			},
		}, nil
	})
	require.Equal(t, 0, code)
	assert.Equal(t, map[string]any{
		"changed": true, "failed": false, "msg": "done",
		"diff":         map[string]any{"before": "a", "after": "b"},
		"node":         map[string]any{"uuid": "u1", "ratio": json.Number("2")}, // whole floats print as ints (integralFloatsAsInts)
		"warnings":     []any{"careful"},
		"deprecations": []any{map[string]any{"msg": "old thing", "version": "2.0.0", "collection_name": "metalkit.baremetal"}},
		"invocation": map[string]any{"module_args": map[string]any{
			"name": "n", "password": noLogPlaceholder, "count": json.Number("1"),
		}},
	}, res)

	res, code = execArgs(t, simpleSpec, map[string]any{"name": "n"}, func(*Module) (*Result, error) { return nil, nil })
	require.Equal(t, 0, code)
	for _, k := range []string{"msg", "diff", "warnings", "deprecations"} {
		assert.NotContains(t, res, k, "empty %s is omitted", k)
	}
	assert.Equal(t, false, res["changed"])
	assert.Equal(t, false, res["failed"])
}

type nodeResult struct {
	UUID  string   `json:"uuid"`
	Ports []string `json:"ports"`
	Skip  bool     `json:"-"`
}

func TestExecuteValuesOfAnyType(t *testing.T) {
	res, code := execArgs(t, simpleSpec, map[string]any{"name": "n"}, func(*Module) (*Result, error) {
		return &Result{Values: map[string]any{
			"node":  nodeResult{UUID: "u", Ports: []string{"p"}},
			"names": []string{"a"},
			"sizes": map[string]int64{"a": 1 << 40},
		}}, nil
	})
	require.Equal(t, 0, code)
	assert.Equal(t, map[string]any{"uuid": "u", "ports": []any{"p"}}, res["node"])
	assert.Equal(t, []any{"a"}, res["names"])
	assert.Equal(t, map[string]any{"a": json.Number("1099511627776")}, res["sizes"])

	res, code = execArgs(t, simpleSpec, map[string]any{"name": "n", "password": "pw-123456"}, func(*Module) (*Result, error) {
		return &Result{Values: map[string]any{"bad": make(chan int), "echo": "pw-123456"}}, nil
	})
	assert.Equal(t, 1, code)
	assert.Contains(t, res["msg"], "cannot encode the module result")
	assert.NotContains(t, fmt.Sprint(res), "pw-123456")
}

func TestExecuteFailures(t *testing.T) {
	args := map[string]any{"name": "n", "password": "Sentinel-PW-42"}
	for _, tc := range []struct {
		name        string
		err         error
		wantMsg     string
		wantChanged bool
		wantValues  map[string]any
	}{
		{"plain error scrubbed", errors.New("login with Sentinel-PW-42 refused"), "login with ******** refused", false, nil},
		{"failure with values", Failf(map[string]any{"nodes": []any{map[string]any{"name": "n1", "ok": false}}}, "%d of %d nodes failed", 1, 2),
			"1 of 2 nodes failed", false, map[string]any{"nodes": []any{map[string]any{"name": "n1", "ok": false}}}},
		{"failure after a change", Failf(map[string]any{"changed": true}, "half done"), "half done", true, nil},
		{"wrapped failure keeps values", fmt.Errorf("enroll: %w", Failf(map[string]any{"node": "n1"}, "boom")), "enroll: boom", false, map[string]any{"node": "n1"}},
		{"failure values scrubbed", Failf(map[string]any{"echo": "Sentinel-PW-42"}, "x"), "x", false, map[string]any{"echo": noLogPlaceholder}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, code := execArgs(t, simpleSpec, args, func(*Module) (*Result, error) { return &Result{Changed: true}, tc.err })
			assert.Equal(t, 1, code)
			assert.Equal(t, true, res["failed"])
			assert.Equal(t, tc.wantChanged, res["changed"])
			assert.Equal(t, tc.wantMsg, res["msg"])
			for k, v := range tc.wantValues {
				assert.Equal(t, v, res[k], k)
			}
			assert.Contains(t, res, "invocation")
		})
	}
}

func TestExecutePanics(t *testing.T) {
	for _, tc := range []struct {
		name      string
		verbosity int
	}{{"quiet", 0}, {"verbose", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			res, code, raw := execRaw(t, simpleSpec, fmt.Sprintf(`{"name": "n", "password": "Sentinel-PW-42", "_ansible_verbosity": %d}`, tc.verbosity),
				func(m *Module) (*Result, error) {
					secret.Add("runtime-Sentinel-99")
					panic("cannot log in as Sentinel-PW-42 with runtime-Sentinel-99")
				})
			assert.Equal(t, 1, code)
			assert.Equal(t, true, res["failed"])
			assert.Equal(t, "module simple panicked: cannot log in as ******** with ********", res["msg"])
			assert.NotContains(t, raw, "Sentinel")
			_, hasTrace := res["exception"]
			assert.Equal(t, tc.verbosity >= 3, hasTrace)
		})
	}
	// A nil map write inside run is a runtime error panic, not a string.
	res, code, _ := execRaw(t, simpleSpec, `{"name": "n"}`, func(m *Module) (*Result, error) {
		var m2 map[string]int
		m2["x"] = 1
		return nil, nil
	})
	assert.Equal(t, 1, code)
	assert.Contains(t, res["msg"], "assignment to entry in nil map")
}

func TestExecuteSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec *Spec
		want string
	}{
		{"nil spec", nil, "internal error: nil spec"},
		{"required with default", &Spec{Name: "m", Options: map[string]*Option{"a": {Required: true, Default: "x"}}},
			"internal error: required and default are mutually exclusive for a"},
		{"elements on a str", &Spec{Name: "m", Options: map[string]*Option{"a": {Elements: TypeInt}}},
			"internal error: option a has elements but is not a list"},
		{"unknown type", &Spec{Name: "m", Options: map[string]*Option{"a": {Type: "bytes"}}},
			`internal error: option a has unknown type "bytes"`},
		{"sub-options on a str", &Spec{Name: "m", Options: map[string]*Option{"a": {Options: map[string]*Option{"b": {}}}}},
			"internal error: option a has sub-options but is not a dict or a list of dicts"},
		{"rule names unknown option", &Spec{Name: "m", Options: map[string]*Option{"a": {}}, RequiredIf: []RequiredIf{{Key: "a", Value: "x", Requirements: []string{"typo"}}}},
			`internal error: required_if in options names unknown option "typo"`},
		{"sub rule names unknown option", &Spec{Name: "m", Options: map[string]*Option{"a": {Type: TypeDict, Options: map[string]*Option{"b": {}}, MutuallyExclusive: [][]string{{"b", "c"}}}}},
			`internal error: mutually_exclusive in a.options names unknown option "c"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, code, _ := execRaw(t, tc.spec, `{}`, mustNotRun(t))
			assert.Equal(t, 1, code)
			assert.Equal(t, tc.want, res["msg"])
		})
	}
}

func TestModuleAccessors(t *testing.T) {
	m := &Module{Params: map[string]any{
		"s": "x", "n": nil, "b": true, "bs": "yes", "i": 7, "is": "12", "f": 2.5, "fi": 3,
		"l": []any{"a", 1, 2.5}, "d": map[string]any{"k": "v"}, "big": json.Number("99999999999999999999"),
	}}
	assert.True(t, m.IsSet("s"))
	assert.False(t, m.IsSet("n"))
	assert.False(t, m.IsSet("absent"))
	assert.Equal(t, "x", m.Str("s"))
	assert.Equal(t, "", m.Str("n"))
	assert.Equal(t, "7", m.Str("i"))
	assert.True(t, m.Bool("b"))
	assert.True(t, m.Bool("bs"))
	assert.False(t, m.Bool("n"))
	assert.Equal(t, 7, m.Int("i"))
	assert.Equal(t, 12, m.Int("is"))
	assert.Equal(t, 1, m.Int("b"))
	assert.Equal(t, 0, m.Int("big"))
	assert.Equal(t, 0, m.Int("n"))
	assert.Equal(t, []any{"a", 1, 2.5}, m.List("l"))
	assert.Nil(t, m.List("s"))
	assert.Equal(t, []string{"a", "1", "2.5"}, m.StrList("l"))
	assert.Nil(t, m.StrList("n"))
	assert.Equal(t, map[string]any{"k": "v"}, m.Dict("d"))
	assert.Nil(t, m.Dict("l"))
}
