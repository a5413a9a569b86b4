package ansible

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ansible's messages for each check, without the Python oracle (which
// checks the same and more against ansible-core itself).
var enrollSpec = &Spec{
	Name: "ironic_enroll",
	Options: map[string]*Option{
		"cloud":  {Aliases: []string{"os_cloud"}},
		"state":  {Choices: []any{"present", "absent"}, Default: "present"},
		"count":  {Type: TypeInt},
		"wait":   {Type: TypeBool, Default: true},
		"a":      {},
		"b":      {},
		"c":      {},
		"d":      {},
		"x":      {},
		"y":      {},
		"driver": {Required: true},
		"auth": {Type: TypeDict, Options: map[string]*Option{
			"username": {Required: true},
			"password": {NoLog: true},
			"token":    {NoLog: true},
			"port":     {Type: TypeInt, Default: 6385},
		}, MutuallyExclusive: [][]string{{"password", "token"}}},
		"nodes": {Type: TypeList, Elements: TypeDict, Options: map[string]*Option{
			"name":        {Required: true, Aliases: []string{"node_name"}},
			"pm_password": {NoLog: true},
			"ports": {Type: TypeList, Elements: TypeDict, Options: map[string]*Option{
				"address": {Required: true},
			}},
		}},
	},
	MutuallyExclusive: [][]string{{"a", "b"}},
	RequiredTogether:  [][]string{{"c", "d"}},
	RequiredOneOf:     [][]string{{"x", "y"}},
	RequiredIf:        []RequiredIf{{Key: "state", Value: "absent", Requirements: []string{"count"}}},
	RequiredBy:        map[string][]string{"d": {"count"}},
}

func TestValidationMessages(t *testing.T) {
	base := func(extra map[string]any) map[string]any {
		args := map[string]any{"driver": "ipmi", "x": "1"}
		for k, v := range extra {
			args[k] = v
		}
		return args
	}
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
	}{
		{"missing required", map[string]any{"x": "1"}, "missing required arguments: driver"},
		{"unsupported with aliases", base(map[string]any{"bogus": 1}),
			"Unsupported parameters for (ironic_enroll) module: bogus. Supported parameters include: a, auth, b, c, cloud, count, d, driver, nodes, state, wait, x, y (os_cloud)."},
		{"type error", base(map[string]any{"count": "many"}),
			"argument 'count' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int"},
		{"choices", base(map[string]any{"state": "gone"}), "value of state must be one of: present, absent, got: gone"},
		{"mutually exclusive", base(map[string]any{"a": "1", "b": "2"}), "parameters are mutually exclusive: a|b"},
		{"required together", base(map[string]any{"c": "1"}), "parameters are required together: c, d"},
		{"required one of", map[string]any{"driver": "ipmi"}, "one of the following is required: x, y"},
		{"required if", base(map[string]any{"state": "absent"}), "state is absent but all of the following are missing: count"},
		{"required by", base(map[string]any{"c": "1", "d": "2"}), "missing parameter(s) required by 'd': count"},
		{"sub missing required", base(map[string]any{"auth": map[string]any{}}), "missing required arguments: username found in auth"},
		{"sub type error", base(map[string]any{"auth": map[string]any{"username": "u", "port": "p"}}),
			"argument 'port' is of type <class 'str'> found in 'auth'. and we were unable to convert to int: <class 'str'> cannot be converted to an int"},
		{"sub mutually exclusive", base(map[string]any{"auth": map[string]any{"username": "u", "password": "pw-1", "token": "tok-1"}}),
			"parameters are mutually exclusive: password|token found in auth"},
		{"sub unsupported", base(map[string]any{"auth": map[string]any{"username": "u", "pass": "p"}}),
			"Unsupported parameters for (ironic_enroll) module: auth.pass. Supported parameters include: password, port, token, username."},
		{"sub not a dict", base(map[string]any{"auth": "just-a-string"}),
			"dictionary requested, could not parse JSON or key=value"},
		{"list element not a dict", base(map[string]any{"nodes": []any{7}}),
			"Value '7' in the sub parameter field 'nodes' must by a list, not 'int'"},
		{"nested required", base(map[string]any{"nodes": []any{map[string]any{"name": "n", "ports": []any{map[string]any{}}}}}),
			"missing required arguments: address found in nodes -> ports"},
		{"nested unsupported", base(map[string]any{"nodes": []any{map[string]any{"name": "n", "ports": []any{map[string]any{"address": "a", "mac": "m"}}}}}),
			"Unsupported parameters for (ironic_enroll) module: nodes.ports.mac. Supported parameters include: address."},
		// The no_log scan parses sub-option strings first, so its error wins.
		{"nested not a dict", base(map[string]any{"nodes": []any{map[string]any{"name": "n", "ports": "address"}}}),
			"dictionary requested, could not parse JSON or key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, code := execArgs(t, enrollSpec, tc.args, mustNotRun(t))
			assert.Equal(t, 1, code)
			assert.Equal(t, true, res["failed"])
			assert.Equal(t, tc.want, res["msg"])
			require.Contains(t, res, "invocation")
		})
	}
}

func TestValidationSuccess(t *testing.T) {
	var got *Module
	res, code := execArgs(t, enrollSpec, map[string]any{
		"driver": "ipmi", "y": nil, "os_cloud": "lab", "wait": "no", "count": "3",
		"auth":  "username=admin password=pw-1",
		"nodes": []any{map[string]any{"node_name": "n1", "pm_password": "pw-2", "ports": []any{"address=52:54:00:00:00:01"}}},
	}, func(m *Module) (*Result, error) { got = m; return &Result{}, nil })
	require.Equal(t, 0, code, "%v", res)
	assert.Equal(t, map[string]any{
		"driver": "ipmi", "y": nil, "os_cloud": "lab", "cloud": "lab", "wait": false, "count": 3,
		"state": "present", "a": nil, "b": nil, "c": nil, "d": nil, "x": nil,
		"auth": map[string]any{"username": "admin", "password": "pw-1", "token": nil, "port": 6385},
		"nodes": []any{map[string]any{"node_name": "n1", "name": "n1", "pm_password": "pw-2",
			"ports": []any{map[string]any{"address": "52:54:00:00:00:01"}}}},
	}, got.Params)
	module := res["invocation"].(map[string]any)["module_args"].(map[string]any)
	assert.Equal(t, noLogPlaceholder, module["auth"].(map[string]any)["password"])
	assert.Equal(t, noLogPlaceholder, module["nodes"].([]any)[0].(map[string]any)["pm_password"])
}

func TestValidationAliasWarnings(t *testing.T) {
	res, code := execArgs(t, enrollSpec, map[string]any{
		"driver": "ipmi", "x": "1", "cloud": "a", "os_cloud": "b",
		"nodes": []any{map[string]any{"name": "n1", "node_name": "n2"}},
	}, echo)
	require.Equal(t, 0, code)
	assert.Equal(t, []any{
		"Both option nodes[0].name and its alias nodes[0].node_name are set.",
		"Both option cloud and its alias os_cloud are set.",
	}, res["warnings"])
	params := res["params"].(map[string]any)
	assert.Equal(t, "b", params["cloud"], "the alias wins, as in Ansible")
	assert.Equal(t, "n2", params["nodes"].([]any)[0].(map[string]any)["name"])
}

func TestValidationFirstErrorWins(t *testing.T) {
	// Ansible collects every error and reports the first; unsupported
	// parameters are appended last, so any other error comes first.
	res, _ := execArgs(t, enrollSpec, map[string]any{"bogus": 1, "a": "1", "b": "2", "count": "x"}, mustNotRun(t))
	assert.Equal(t, "parameters are mutually exclusive: a|b", res["msg"])
	res, _ = execArgs(t, enrollSpec, map[string]any{"bogus": 1, "x": "1"}, mustNotRun(t))
	assert.Equal(t, "missing required arguments: driver", res["msg"])
}

// Where ansible-core 2.14 itself crashes with a traceback, we report a
// clean validation error in its wording.
func TestValidationWhereAnsibleCrashes(t *testing.T) {
	spec := &Spec{Name: "m", Options: map[string]*Option{
		"ids":  {Type: TypeList, Elements: TypeInt, Choices: []any{1, 2, 3}},
		"auth": {Type: TypeDict, Options: map[string]*Option{"user": {}}},
	}}
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
	}{
		// Ansible: TypeError joining the non-string list items.
		{"int list choices", map[string]any{"ids": []any{1, 4, 5}}, "value of ids must be one or more of: 1, 2, 3. Got no match for: 4, 5"},
		// Ansible: TypeError from `in` on an int in set_fallbacks.
		{"sub-options given an int", map[string]any{"auth": 5}, "Value '5' in the sub parameter field 'auth' must by a dict, not 'int'"},
		{"sub-options given a list of ints", map[string]any{"auth": []any{5}}, "Value '5' in the sub parameter field 'auth' must by a dict, not 'int'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, code := execArgs(t, spec, tc.args, mustNotRun(t))
			assert.Equal(t, 1, code)
			assert.Equal(t, tc.want, res["msg"])
		})
	}
}
