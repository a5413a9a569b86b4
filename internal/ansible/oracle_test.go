package ansible

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The oracle test runs every case through Debian's ansible-core AnsibleModule
// (testdata/oracle.py) and through Execute, and requires the same failed
// flag, message, masked invocation, coerced params and warnings. Ansible is
// the reference: where they differ, ours is wrong.

const systemPython = "/usr/bin/python3"

type oracleCase struct {
	name string
	spec *Spec
	args map[string]any
}

var (
	oracleTypes = &Spec{Name: "oracle_mod", Options: map[string]*Option{
		"s":  {Type: TypeStr},
		"b":  {Type: TypeBool},
		"i":  {Type: TypeInt},
		"f":  {Type: TypeFloat},
		"l":  {Type: TypeList},
		"li": {Type: TypeList, Elements: TypeInt},
		"ls": {Type: TypeList, Elements: TypeStr},
		"d":  {Type: TypeDict},
		"p":  {Type: TypePath},
		"r":  {Type: TypeRaw},
		"j":  {Type: TypeJSON},
	}}
	oracleChoices = &Spec{Name: "oracle_mod", Options: map[string]*Option{
		"state": {Choices: []any{"present", "absent"}, Default: "present"},
		"mode":  {Choices: []any{"yes", "no"}},
		"tags":  {Type: TypeList, Elements: TypeStr, Choices: []any{"a", "b", "c"}},
		"level": {Type: TypeInt, Choices: []any{1, 2, 3}},
	}}
	oracleRules = &Spec{Name: "oracle_mod",
		Options: map[string]*Option{
			"name":  {Required: true, Aliases: []string{"login", "user"}},
			"state": {Choices: []any{"present", "absent"}, Default: "present"},
			"count": {Type: TypeInt},
			"a":     {}, "b": {}, "c": {}, "d": {}, "x": {}, "y": {},
			"force": {Type: TypeBool, Default: false},
		},
		MutuallyExclusive: [][]string{{"a", "b"}},
		RequiredTogether:  [][]string{{"c", "d"}},
		RequiredIf: []RequiredIf{
			{Key: "state", Value: "absent", Requirements: []string{"count"}},
			{Key: "state", Value: "present", Requirements: []string{"x", "y"}, AnyOf: true},
			{Key: "force", Value: true, Requirements: []string{"a", "c"}},
		},
		RequiredBy: map[string][]string{"d": {"count"}},
	}
	oracleOneOf = &Spec{Name: "oracle_mod",
		Options:       map[string]*Option{"x": {}, "y": {}, "z": {Required: true}, "w": {Required: true}},
		RequiredOneOf: [][]string{{"x", "y"}},
	}
	oracleSecrets = &Spec{Name: "oracle_mod", Options: map[string]*Option{
		"password": {NoLog: true},
		"pin":      {Type: TypeInt, NoLog: true},
		"token":    {NoLog: true, EnvFallback: []string{"METALKIT_ORACLE_UNSET", "METALKIT_ORACLE_TOKEN"}},
		"region":   {EnvFallback: []string{"METALKIT_ORACLE_REGION"}},
		"note":     {},
		"count":    {Type: TypeInt},
		"keys":     {Type: TypeDict, NoLog: true},
		"project":  {Aliases: []string{"tenant"}, EnvFallback: []string{"METALKIT_ORACLE_PROJECT"}},
	}}
	oracleAuth = &Spec{Name: "oracle_mod", Options: map[string]*Option{
		"auth": {Type: TypeDict, Options: map[string]*Option{
			"username": {Required: true, Aliases: []string{"user"}},
			"password": {NoLog: true},
			"port":     {Type: TypeInt, Default: 5000},
			"mode":     {Choices: []any{"basic", "token"}},
			"token":    {},
		}, MutuallyExclusive: [][]string{{"password", "token"}}},
		"note": {},
	}}
	oracleMisc = &Spec{Name: "oracle_mod",
		Options: map[string]*Option{
			"a": {}, "b": {}, "c": {}, "d": {},
			"code":    {Choices: []any{1, 2}},
			"ratio":   {Type: TypeFloat, Choices: []any{0.5, 1.0}},
			"maybe":   {Type: TypeRaw, Choices: []any{nil, "x"}},
			"secret":  {NoLog: true, Default: "default-secret"},
			"ids":     {Type: TypeList, Elements: TypeInt, Choices: []any{1, 2, 3}},
			"mode":    {Choices: []any{"on", "off"}},
			"paths":   {Type: TypeList, Elements: TypePath},
			"flags":   {Type: TypeList, Elements: TypeBool},
			"matrix":  {Type: TypeList, Elements: TypeList},
			"payload": {Type: TypeList, Elements: TypeJSON},
		},
		MutuallyExclusive: [][]string{{"a", "b"}, {"c", "d"}},
	}
	oracleNodes = &Spec{Name: "oracle_mod", Options: map[string]*Option{
		"nodes": {Type: TypeList, Elements: TypeDict, Options: map[string]*Option{
			"name":        {Required: true, Aliases: []string{"node_name"}},
			"pm_password": {NoLog: true},
			"driver":      {Default: "ipmi", Choices: []any{"ipmi", "redfish"}},
			"ports": {Type: TypeList, Elements: TypeDict, Options: map[string]*Option{
				"address": {Required: true},
				"pxe":     {Type: TypeBool, Default: true},
			}},
		}, RequiredTogether: [][]string{{"driver", "pm_password"}}},
		"settings": {Type: TypeDict, ApplyDefaults: true, Options: map[string]*Option{
			"timeout": {Type: TypeInt, Default: 600},
			"retries": {Type: TypeInt},
		}},
	}}
)

func oracleCases() []oracleCase {
	return []oracleCase{
		// Types and coercion.
		{"all types native", oracleTypes, map[string]any{"s": "x", "b": true, "i": 3, "f": 1.5, "l": []any{"a", 1}, "li": []any{1, "2"}, "ls": []any{"a"}, "d": map[string]any{"k": "v"}, "p": "/tmp/x", "r": map[string]any{"any": []any{1, 2.5}}, "j": map[string]any{"a": 1}}},
		{"k=v style strings", oracleTypes, map[string]any{"b": "yes", "i": "42", "f": "2.5", "l": "a,b,c", "li": "1,2", "d": "a=1 b='x y' c=\"q,r\"", "p": "~/x", "j": "  {\"a\": 1}  "}},
		{"bool ON", oracleTypes, map[string]any{"b": " ON "}},
		{"bool int 0", oracleTypes, map[string]any{"b": 0}},
		{"bool float 1.0", oracleTypes, map[string]any{"b": 1.0}},
		{"bool invalid string", oracleTypes, map[string]any{"b": "maybe"}},
		{"bool invalid int", oracleTypes, map[string]any{"b": 2}},
		{"bool invalid list", oracleTypes, map[string]any{"b": []any{1}}},
		{"int leading zeros and space", oracleTypes, map[string]any{"i": " 0042 "}},
		{"int underscores", oracleTypes, map[string]any{"i": "1_000"}},
		{"int from float fails", oracleTypes, map[string]any{"i": 4.0}},
		{"int from float string fails", oracleTypes, map[string]any{"i": "4.5"}},
		{"int keeps bool", oracleTypes, map[string]any{"i": true}},
		{"int big", oracleTypes, map[string]any{"i": json.Number("99999999999999999999")}},
		{"float from int", oracleTypes, map[string]any{"f": 3}},
		{"float exponent string", oracleTypes, map[string]any{"f": "1e3"}},
		{"float big repr", oracleTypes, map[string]any{"f": 1e16}},
		{"float small repr", oracleTypes, map[string]any{"f": "0.00001"}},
		{"float hex fails", oracleTypes, map[string]any{"f": "0x10"}},
		{"float list fails", oracleTypes, map[string]any{"f": []any{}}},
		{"str from int", oracleTypes, map[string]any{"s": 5}},
		{"str from float", oracleTypes, map[string]any{"s": 1.0}},
		{"str from bool", oracleTypes, map[string]any{"s": true}},
		{"str from list", oracleTypes, map[string]any{"s": []any{1, "a", nil, "it's"}}},
		{"str from dict", oracleTypes, map[string]any{"s": map[string]any{"a": 1}}},
		{"list from int", oracleTypes, map[string]any{"l": 5}},
		{"list from bool", oracleTypes, map[string]any{"l": true}},
		{"list from dict fails", oracleTypes, map[string]any{"l": map[string]any{"a": 1}}},
		{"list elements int fail", oracleTypes, map[string]any{"li": []any{"1", "x", 3}}},
		{"list elements str convert", oracleTypes, map[string]any{"ls": []any{1, true, 2.5}}},
		{"dict from JSON string", oracleTypes, map[string]any{"d": `{"a": [1, 2.0], "b": null}`}},
		{"dict from Python literal", oracleTypes, map[string]any{"d": `{'a': True, 'b': (1, 2), 'c': None}`}},
		{"dict bad literal", oracleTypes, map[string]any{"d": "{bad"}},
		{"dict no equals", oracleTypes, map[string]any{"d": "plain"}},
		{"dict k=v missing value", oracleTypes, map[string]any{"d": "a=1,b"}},
		{"dict from int fails", oracleTypes, map[string]any{"d": 5}},
		{"path env and user", oracleTypes, map[string]any{"p": "$METALKIT_ORACLE_DIR/x/${METALKIT_ORACLE_NOPE}/$"}},
		{"path tilde user", oracleTypes, map[string]any{"p": "~root/z"}},
		{"path from int", oracleTypes, map[string]any{"p": 7}},
		{"json from list", oracleTypes, map[string]any{"j": []any{1, "a", 2.5, "é"}}},
		{"json from int fails", oracleTypes, map[string]any{"j": 5}},
		{"raw keeps anything", oracleTypes, map[string]any{"r": []any{map[string]any{"x": nil}}}},
		{"null values are present", oracleTypes, map[string]any{"s": nil, "b": nil, "d": nil}},
		{"unsupported parameter", oracleTypes, map[string]any{"bogus": 1, "s": "x"}},
		{"two unsupported parameters", oracleTypes, map[string]any{"zz": 1, "aa": 2}},
		{"unsupported loses to type error", oracleTypes, map[string]any{"bogus": 1, "i": "x"}},

		{"int signed zero and plus", oracleTypes, map[string]any{"i": "+5", "li": []any{"-0", " 7"}}},
		{"int empty string fails", oracleTypes, map[string]any{"i": ""}},
		{"bool empty string fails", oracleTypes, map[string]any{"b": ""}},
		{"float from bool", oracleTypes, map[string]any{"f": true}},
		{"float underscores and negative zero", oracleTypes, map[string]any{"f": "-1_0.5", "s": -0.0}},
		{"str from small float", oracleTypes, map[string]any{"s": 0.00001, "ls": []any{1e22, 123456789.125}}},
		{"list from float", oracleTypes, map[string]any{"l": 2.5}},
		{"dict k=v escapes and quotes", oracleTypes, map[string]any{"d": `a=x\ y, b="c d" c='e=f'`}},
		{"dict literal with ints, sets and prefixes", oracleTypes, map[string]any{"d": `{u'a': 0x10, 'b': -1.5e3, 'c': [1,], 'd': {1, 2}, 3: 'x', 'e': 'it\'s'}`}},
		{"dict code-looking string kept", oracleTypes, map[string]any{"d": "{os.system('x')}"}},
		{"dict JSON with trailing junk", oracleTypes, map[string]any{"d": `{"a": 1} x`}},
		{"path tilde alone", oracleTypes, map[string]any{"p": "~"}},
		{"unicode values", oracleTypes, map[string]any{"s": "naïve ☃ \u0001", "j": map[string]any{"k": "ü\n"}}},
		{"choice bool true maps to yes", oracleChoices, map[string]any{"mode": true}},
		{"alias warning survives a failure", oracleRules, map[string]any{"name": "a", "login": "b", "count": "x", "x": "1"}},
		{"fallback then alias warns", oracleSecrets, map[string]any{"tenant": "given-project"}},
		{"fallback for aliased option", oracleSecrets, map[string]any{}},
		{"list of dicts choices context", oracleNodes, map[string]any{"nodes": []any{map[string]any{"name": "n1", "pm_password": "pw-one", "driver": "x"}}}},
		{"apply defaults on null dict", oracleNodes, map[string]any{"settings": nil}},
		{"sub dict JSON string", oracleAuth, map[string]any{"auth": `{"username": "j", "port": "80"}`}},

		// Choices.
		{"choice default", oracleChoices, map[string]any{}},
		{"choice invalid", oracleChoices, map[string]any{"state": "bogus"}},
		{"choice null", oracleChoices, map[string]any{"state": nil}},
		{"choice YAML False maps back to no", oracleChoices, map[string]any{"mode": "False"}},
		{"choice list one or more", oracleChoices, map[string]any{"tags": []any{"a", "z", "y"}}},
		{"choice list ok", oracleChoices, map[string]any{"tags": "a,c"}},
		{"choice int coerced", oracleChoices, map[string]any{"level": "2"}},
		{"choice int invalid", oracleChoices, map[string]any{"level": "5"}},

		// Required, aliases, dependency checks.
		{"missing required", oracleRules, map[string]any{"x": 1}},
		{"required null is present", oracleRules, map[string]any{"name": nil, "x": "1"}},
		{"alias resolves", oracleRules, map[string]any{"login": "bob", "x": "1"}},
		{"alias and option both set warns", oracleRules, map[string]any{"name": "a", "user": "b", "x": "1"}},
		{"unsupported lists aliases", oracleRules, map[string]any{"name": "a", "x": "1", "nope": true}},
		{"mutually exclusive", oracleRules, map[string]any{"name": "n", "a": "1", "b": "2", "x": "1"}},
		{"mutually exclusive with null", oracleRules, map[string]any{"name": "n", "a": "1", "b": nil, "x": "1"}},
		{"mutually exclusive before missing required", oracleRules, map[string]any{"a": "1", "b": "2"}},
		{"required together", oracleRules, map[string]any{"name": "n", "c": "1", "x": "1"}},
		{"required if all", oracleRules, map[string]any{"name": "n", "state": "absent"}},
		{"required if any", oracleRules, map[string]any{"name": "n"}},
		{"required if any satisfied", oracleRules, map[string]any{"name": "n", "y": "1"}},
		{"required if bool value", oracleRules, map[string]any{"name": "n", "x": "1", "force": "yes", "a": "1"}},
		{"required by", oracleRules, map[string]any{"name": "n", "x": "1", "c": "1", "d": "2"}},
		{"required by null key", oracleRules, map[string]any{"name": "n", "x": "1", "c": "1", "d": nil}},
		{"required one of", oracleOneOf, map[string]any{"z": 1, "w": 2}},
		{"missing required sorted", oracleOneOf, map[string]any{"x": 1}},

		// no_log and fallbacks.
		{"no_log masks equal and contained", oracleSecrets, map[string]any{"password": "s3cret", "note": "user-s3cret-x"}},
		{"no_log int masks numbers", oracleSecrets, map[string]any{"pin": "1234", "count": 12345, "note": "pin 1234"}},
		{"no_log dict masks leaves", oracleSecrets, map[string]any{"keys": map[string]any{"k1": "alpha-key", "n": 98765}, "note": "alpha-key/98765"}},
		{"env fallback no_log", oracleSecrets, map[string]any{"note": "tok=envtok3n"}},
		{"env fallback not used when set", oracleSecrets, map[string]any{"token": "given-tok", "note": "given-tok"}},
		{"no_log masked on failure", oracleSecrets, map[string]any{"password": "s3cret", "count": "s3cret"}},

		// Sub-options: a dict.
		{"sub dict defaults", oracleAuth, map[string]any{"auth": map[string]any{"username": "u", "password": "pw-secret"}}},
		{"sub dict alias", oracleAuth, map[string]any{"auth": map[string]any{"user": "u"}}},
		{"sub dict missing required", oracleAuth, map[string]any{"auth": map[string]any{"password": "pw-secret"}}},
		{"sub dict type error", oracleAuth, map[string]any{"auth": map[string]any{"username": "u", "port": "x"}}},
		{"sub dict choices", oracleAuth, map[string]any{"auth": map[string]any{"username": "u", "mode": "x"}}},
		{"sub dict unsupported", oracleAuth, map[string]any{"auth": map[string]any{"username": "u", "bogus": 1}}},
		{"sub dict mutually exclusive", oracleAuth, map[string]any{"auth": map[string]any{"username": "u", "password": "p1-secret", "token": "t"}}},
		{"sub dict from k=v", oracleAuth, map[string]any{"auth": "username=bob password=kv-secret port=22"}},
		{"sub dict bad string", oracleAuth, map[string]any{"auth": "nonsense"}},
		{"sub dict null", oracleAuth, map[string]any{"auth": nil}},

		// Sub-options: a list of dicts, nested.
		{"list of dicts secrets and defaults", oracleNodes, map[string]any{"nodes": []any{
			map[string]any{"name": "n1", "pm_password": "pw-one"},
			map[string]any{"name": "n2", "pm_password": "pw-two", "ports": []any{map[string]any{"address": "52:54:00:00:00:01"}}},
		}}},
		{"list of dicts missing required", oracleNodes, map[string]any{"nodes": []any{map[string]any{"name": "n1", "pm_password": "pw"}, map[string]any{"pm_password": "pw-two"}}}},
		{"list of dicts nested context", oracleNodes, map[string]any{"nodes": []any{map[string]any{"name": "n1", "pm_password": "pw-one", "ports": []any{map[string]any{"pxe": "maybe"}}}}}},
		{"list of dicts nested type error", oracleNodes, map[string]any{"nodes": []any{map[string]any{"name": "n1", "pm_password": "pw-one", "ports": []any{map[string]any{"address": "a", "pxe": "maybe"}}}}}},
		{"list of dicts alias warning", oracleNodes, map[string]any{"nodes": []any{map[string]any{"name": "n1", "node_name": "n2", "pm_password": "pw-one"}}}},
		{"list of dicts element not a dict", oracleNodes, map[string]any{"nodes": []any{5}}},
		{"list of dicts from k=v strings", oracleNodes, map[string]any{"nodes": []any{"name=n1 pm_password=kvpw-1"}}},
		{"list of dicts nested unsupported", oracleNodes, map[string]any{"nodes": []any{map[string]any{"name": "n1", "pm_password": "pw-one", "ports": []any{map[string]any{"address": "a", "mac": "x"}}}}}},
		{"list of dicts required together", oracleNodes, map[string]any{"nodes": []any{map[string]any{"name": "n1"}}}},
		{"several mutually exclusive groups", oracleMisc, map[string]any{"a": 1, "b": 2, "c": 3, "d": 4}},
		{"str choice against int choices", oracleMisc, map[string]any{"code": 1}},
		{"float choices", oracleMisc, map[string]any{"ratio": "1"}},
		{"null is a valid choice", oracleMisc, map[string]any{"maybe": nil}},
		{"no_log default masked", oracleMisc, map[string]any{"a": "uses default-secret here"}},
		{"list of int choices", oracleMisc, map[string]any{"ids": "1,3"}},
		{"YAML True maps back to on", oracleMisc, map[string]any{"mode": "True"}},
		{"list elements path bool list json", oracleMisc, map[string]any{"paths": "~/a,$METALKIT_ORACLE_DIR", "flags": []any{"yes", 0}, "matrix": []any{"a,b", []any{1}}, "payload": []any{map[string]any{"k": 1}, " s "}}},
		{"list elements bool fail", oracleMisc, map[string]any{"flags": []any{"yes", "perhaps"}}},
		{"apply defaults on absent dict", oracleNodes, map[string]any{"settings": map[string]any{"retries": "3"}}},
	}
}

// requireAnsible fails (never skips) when Debian's ansible-core is missing.
func requireAnsible(t *testing.T) {
	t.Helper()
	out, err := exec.Command(systemPython, "-c", "import ansible.module_utils.basic, ansible.release; print(ansible.release.__version__)").CombinedOutput()
	require.NoError(t, err, "the oracle needs Debian's ansible-core (apt-get install ansible-core): %s", out)
}

// runOracle runs the cases through AnsibleModule in one Python process.
func runOracle(t *testing.T, cases []oracleCase) []map[string]any {
	t.Helper()
	requireAnsible(t)
	input := map[string]any{"cases": []any{}}
	for _, c := range cases {
		input["cases"] = append(input["cases"].([]any), map[string]any{"kwargs": ArgumentSpec(c.spec), "args": c.args})
	}
	path := filepath.Join(t.TempDir(), "cases.json")
	raw, err := json.Marshal(input)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	cmd := exec.Command(systemPython, "testdata/oracle.py", path)
	// PYTHONHASHSEED=0 fixes Ansible's frozenset order in the boolean message.
	cmd.Env = append(os.Environ(), "PYTHONHASHSEED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "oracle.py: %s", stderr.String())
	var results []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&results))
	require.Len(t, results, len(cases))
	return results
}

// runOurs runs one case through Execute with a module that echoes its params.
func runOurs(t *testing.T, spec *Spec, args map[string]any) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "args")
	raw, err := json.Marshal(args)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	var out bytes.Buffer
	code := Execute(spec, path, &out, func(m *Module) (*Result, error) {
		return &Result{Values: map[string]any{"params": pyJSONDumps(m.Params)}}, nil
	})
	dec := json.NewDecoder(&out)
	dec.UseNumber()
	var res map[string]any
	require.NoError(t, dec.Decode(&res), "output: %s", out.String())
	failed, _ := res["failed"].(bool)
	assert.Equal(t, failed, code == 1, "exit code %d vs failed %v", code, failed)
	return res
}

func TestOracleMatchesAnsibleModule(t *testing.T) {
	t.Setenv("METALKIT_ORACLE_TOKEN", "envtok3n")
	t.Setenv("METALKIT_ORACLE_DIR", "/srv/metal")
	t.Setenv("METALKIT_ORACLE_PROJECT", "proj-env")
	cases := oracleCases()
	require.GreaterOrEqual(t, len(cases), 40)
	for i := range cases {
		cases[i].args["_ansible_module_name"] = "oracle_mod"
		cases[i].args["_ansible_no_log"] = true // keeps AnsibleModule off syslog; we ignore it
		cases[i].args["_ansible_check_mode"] = false
	}
	want := runOracle(t, cases)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			py := want[i]
			require.NotContains(t, py, "oracle_error", "oracle crashed: %v", py)
			got := runOurs(t, c.spec, c.args)
			pyFailed, _ := py["failed"].(bool)
			assert.Equal(t, pyFailed, got["failed"], "failed")
			if pyFailed {
				assert.Equal(t, py["msg"], got["msg"], "msg")
			} else {
				assert.Equal(t, py["params"], got["params"], "params")
			}
			assert.Equal(t, py["invocation"], got["invocation"], "invocation")
			assert.Equal(t, py["warnings"], got["warnings"], "warnings")
			assert.Equal(t, py["deprecations"], got["deprecations"], "deprecations")
		})
	}
}
