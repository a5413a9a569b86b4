package ansible

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyNamed is a NoLogKey accepting exactly these names.
func keyNamed(names ...string) func(string) bool {
	return func(k string) bool {
		for _, n := range names {
			if k == n {
				return true
			}
		}
		return false
	}
}

// noLogKeySpec has free-form dict options marked with NoLogKey beside the
// cross-option rules, so that every validation step can be made to fail.
var noLogKeySpec = &Spec{Name: "nologkey", Options: map[string]*Option{
	"nodes":    {Type: TypeList, Elements: TypeDict, NoLogKey: keyNamed("pm_password", "ipmi_password")},
	"extra":    {Type: TypeDict, NoLogKey: keyNamed("token")},
	"count":    {Type: TypeInt},
	"mode":     {Choices: []any{"a", "b"}},
	"label":    {},
	"other":    {},
	"settings": {Type: TypeDict, Options: map[string]*Option{"size": {Type: TypeInt}}},
},
	MutuallyExclusive: [][]string{{"label", "other"}},
	RequiredIf:        []RequiredIf{{Key: "mode", Value: "b", Requirements: []string{"count"}}},
}

// nologNodes is a list of instackenv-like free-form dicts with secrets.
func nologNodes() []any {
	return []any{
		map[string]any{"name": "n1", "pm_user": "admin", "pm_password": "Sentinel-n1"},
		map[string]any{"name": "n2", "ipmi_password": "Sentinel-n2", "ipmi_priv_level": "ADMINISTRATOR"},
	}
}

func assertNoSentinel(t *testing.T, res map[string]any) {
	t.Helper()
	b, err := json.Marshal(res)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "Sentinel")
}

func echoedNodes(t *testing.T, res map[string]any) []any {
	t.Helper()
	return res["invocation"].(map[string]any)["module_args"].(map[string]any)["nodes"].([]any)
}

// Every validation failure happens before run() could register anything:
// the secrets inside the list of dicts are masked in invocation all the same.
func TestNoLogKeyMasksOnEveryFailurePath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]any
		msg   string
	}{
		{"type error", map[string]any{"count": "many"}, "argument 'count' is of type"},
		{"unsupported parameter", map[string]any{"bogus": 1}, "Unsupported parameters for (nologkey) module: bogus"},
		{"mutually exclusive", map[string]any{"label": "x", "other": "y"}, "parameters are mutually exclusive: label|other"},
		{"choices", map[string]any{"mode": "c"}, "value of mode must be one of: a, b, got: c"},
		{"required_if", map[string]any{"mode": "b"}, "mode is b but all of the following are missing: count"},
		{"sub-option of another option", map[string]any{"settings": map[string]any{"size": "big"}}, "argument 'size' is of type"},
		{"bad internal flag", map[string]any{"_ansible_check_mode": "maybe"}, "maybe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := map[string]any{"nodes": nologNodes()}
			for k, v := range tc.extra {
				args[k] = v
			}
			res, code := execArgs(t, noLogKeySpec, args, mustNotRun(t))
			assert.Equal(t, 1, code)
			assert.Contains(t, res["msg"], tc.msg)
			assertNoSentinel(t, res)
			nodes := echoedNodes(t, res)
			require.Len(t, nodes, 2)
			assert.Equal(t, noLogPlaceholder, nodes[0].(map[string]any)["pm_password"])
			assert.Equal(t, "admin", nodes[0].(map[string]any)["pm_user"], "other keys are shown")
			assert.Equal(t, noLogPlaceholder, nodes[1].(map[string]any)["ipmi_password"])
			assert.Equal(t, "ADMINISTRATOR", nodes[1].(map[string]any)["ipmi_priv_level"])
		})
	}
}

// The option's own type check failing (an element that is no dict) must not
// show the secrets of the elements that are dicts.
func TestNoLogKeyMasksWhenTheOptionItselfIsInvalid(t *testing.T) {
	nodes := append(nologNodes(), 42)
	res, code := execArgs(t, noLogKeySpec, map[string]any{"nodes": nodes}, mustNotRun(t))
	assert.Equal(t, 1, code)
	assert.Contains(t, res["msg"], "Elements value for option 'nodes' is of type <class 'int'>")
	assertNoSentinel(t, res)
}

// Dicts given as text are found in the form the type check gives them,
// before that check (or a later one) can fail.
func TestNoLogKeyDictsGivenAsText(t *testing.T) {
	args := map[string]any{
		"nodes": []any{`{"name": "n1", "pm_password": "Sentinel-json"}`, "name=n2 pm_password=Sentinel-kv"},
		"extra": "token=Sentinel-extra other=shown",
		"count": "many",
	}
	res, code := execArgs(t, noLogKeySpec, args, mustNotRun(t))
	assert.Equal(t, 1, code)
	assertNoSentinel(t, res)

	delete(args, "count")
	res, code = execArgs(t, noLogKeySpec, args, echo)
	assert.Equal(t, 0, code)
	assertNoSentinel(t, res)
	params := res["params"].(map[string]any)
	assert.Equal(t, noLogPlaceholder, params["nodes"].([]any)[1].(map[string]any)["pm_password"])
	assert.Equal(t, map[string]any{"token": noLogPlaceholder, "other": "shown"}, params["extra"])
}

func TestNoLogKeyNestedDicts(t *testing.T) {
	args := map[string]any{
		"nodes": []any{map[string]any{"name": "n1", "driver_info": map[string]any{
			"ipmi_password": "Sentinel-deep",
			"ports":         []any{map[string]any{"pm_password": "Sentinel-deeper", "address": "52:54:00:00:00:01"}},
		}}},
		// A secret key whose value is itself a dict: the whole value is secret.
		"extra": map[string]any{"outer": map[string]any{"token": map[string]any{"a": "Sentinel-a", "b": []any{"Sentinel-b"}}}},
		"count": "many",
	}
	res, code := execArgs(t, noLogKeySpec, args, mustNotRun(t))
	assert.Equal(t, 1, code)
	assertNoSentinel(t, res)
	di := echoedNodes(t, res)[0].(map[string]any)["driver_info"].(map[string]any)
	assert.Equal(t, noLogPlaceholder, di["ipmi_password"])
	port := di["ports"].([]any)[0].(map[string]any)
	assert.Equal(t, noLogPlaceholder, port["pm_password"])
	assert.Equal(t, "52:54:00:00:00:01", port["address"])
	tok := res["invocation"].(map[string]any)["module_args"].(map[string]any)["extra"].(map[string]any)["outer"].(map[string]any)["token"]
	assert.Equal(t, map[string]any{"a": noLogPlaceholder, "b": []any{noLogPlaceholder}}, tok)
}

// Numbers are secrets by their text, as no_log values are in Ansible; 0,
// "" and booleans are no secrets (Ansible skips falsy no_log values).
func TestNoLogKeyNonStringValues(t *testing.T) {
	args := map[string]any{
		"nodes": []any{
			map[string]any{"name": "n1", "pm_password": 918273},
			map[string]any{"name": "n2", "pm_password": 4.25},
			map[string]any{"name": "n3", "pm_password": 0, "ipmi_password": true},
			map[string]any{"name": "n4", "pm_password": ""},
		},
		"label": "pin 918273",
		"count": "many",
	}
	res, code, out := execRaw(t, noLogKeySpec, mustJSON(t, args), mustNotRun(t))
	assert.Equal(t, 1, code)
	assert.NotContains(t, out, "918273")
	assert.NotContains(t, out, "4.25")
	nodes := echoedNodes(t, res)
	assert.Equal(t, noLogPlaceholder, nodes[0].(map[string]any)["pm_password"])
	assert.Equal(t, noLogPlaceholder, nodes[1].(map[string]any)["pm_password"])
	assert.Equal(t, json.Number("0"), nodes[2].(map[string]any)["pm_password"])
	assert.Equal(t, true, nodes[2].(map[string]any)["ipmi_password"])
	assert.Equal(t, "", nodes[3].(map[string]any)["pm_password"])
	assert.Equal(t, "pin ********", res["invocation"].(map[string]any)["module_args"].(map[string]any)["label"])
}

// Without the keys nothing is masked, and a null or empty option is fine.
func TestNoLogKeyAbsent(t *testing.T) {
	args := map[string]any{
		"nodes": []any{map[string]any{"name": "n1", "pm_user": "admin", "password": "not-listed"}, map[string]any{}},
		"extra": nil,
	}
	res, code := execArgs(t, noLogKeySpec, args, echo)
	assert.Equal(t, 0, code)
	params := res["params"].(map[string]any)
	assert.Equal(t, map[string]any{"name": "n1", "pm_user": "admin", "password": "not-listed"}, params["nodes"].([]any)[0])
	assert.Nil(t, params["extra"])
	b, _ := json.Marshal(res)
	assert.NotContains(t, string(b), noLogPlaceholder)
	assert.NotContains(t, string(b), "********")

	res, code = execArgs(t, noLogKeySpec, map[string]any{"count": 1}, echo)
	assert.Equal(t, 0, code)
	assert.Nil(t, res["params"].(map[string]any)["nodes"])
}

// The keys are matched as written: the predicate decides (here, exactly).
func TestNoLogKeyMatchesKeysAsWritten(t *testing.T) {
	res, code := execArgs(t, noLogKeySpec, map[string]any{"nodes": []any{map[string]any{"PM_PASSWORD": "shown-upper", "pm_password": "Sentinel-lower"}}}, echo)
	assert.Equal(t, 0, code)
	node := res["params"].(map[string]any)["nodes"].([]any)[0].(map[string]any)
	assert.Equal(t, "shown-upper", node["PM_PASSWORD"])
	assert.Equal(t, noLogPlaceholder, node["pm_password"])
}

// As with no_log options, the same text anywhere else in the result is
// masked too: another option's value, a message, a run-time value.
func TestNoLogKeySecretElsewhere(t *testing.T) {
	args := map[string]any{"nodes": nologNodes(), "label": "Sentinel-n1", "other": "uses Sentinel-n2 too"}
	res, code := execArgs(t, noLogKeySpec, args, mustNotRun(t))
	assert.Equal(t, 1, code, "label and other are mutually exclusive")
	assertNoSentinel(t, res)
	margs := res["invocation"].(map[string]any)["module_args"].(map[string]any)
	assert.Equal(t, noLogPlaceholder, margs["label"])
	assert.Equal(t, "uses ******** too", margs["other"])

	delete(args, "other")
	res, code = execArgs(t, noLogKeySpec, args, func(m *Module) (*Result, error) {
		return nil, Failf(map[string]any{"seen": m.Str("label")}, "the BMC said: bad password Sentinel-n2")
	})
	assert.Equal(t, 1, code)
	assertNoSentinel(t, res)
	assert.Equal(t, "the BMC said: bad password ********", res["msg"])
	assert.Equal(t, noLogPlaceholder, res["seen"])

	res, code = execArgs(t, noLogKeySpec, args, echo)
	assert.Equal(t, 0, code)
	assertNoSentinel(t, res)
	assert.Equal(t, noLogPlaceholder, res["params"].(map[string]any)["label"])
}

func TestNoLogKeyOnlyWhereDictsCanBe(t *testing.T) {
	for _, typ := range []Type{"", TypeStr, TypeInt, TypeBool, TypeFloat, TypePath} {
		spec := &Spec{Name: "bad", Options: map[string]*Option{"x": {Type: typ, NoLogKey: keyNamed("k")}}}
		res, code := execArgs(t, spec, map[string]any{}, mustNotRun(t))
		assert.Equal(t, 1, code)
		assert.True(t, strings.HasPrefix(res["msg"].(string), "internal error: option x has NoLogKey"), "%q: %v", typ, res["msg"])
	}
	dict := map[string]any{"k": "Sentinel"}
	for typ, val := range map[Type]any{TypeDict: dict, TypeList: []any{dict}, TypeRaw: dict, TypeJSON: dict} {
		spec := &Spec{Name: "ok", Options: map[string]*Option{"x": {Type: typ, NoLogKey: keyNamed("k")}}}
		res, code := execArgs(t, spec, map[string]any{"x": val}, echo)
		assert.Equal(t, 0, code, typ)
		assertNoSentinel(t, res)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// The values are registered by the first validation step that collects
// no_log values, before any check runs: in the form given and in the form
// the type check would give (dicts written as text).
func TestNoLogKeyRegisteredBeforeAnyCheck(t *testing.T) {
	c, err := compile(noLogKeySpec)
	require.NoError(t, err)
	v := &validation{secrets: newSecrets(), unsupported: map[string]supportedNames{}}
	v.listNoLogValues(c, map[string]any{
		"nodes": []any{
			map[string]any{"pm_password": "s-map", "nested": map[string]any{"ipmi_password": 7781}},
			`{"pm_password": "s-json"}`,
			"pm_password=s-kv",
			42,
		},
		"extra": "token=s-extra",
		"count": "many",
	})
	assert.ElementsMatch(t, []string{"s-map", "7781", "s-json", "s-kv", "s-extra"}, v.secrets.list())
	assert.Empty(t, v.errs, "nothing checked yet")
}
