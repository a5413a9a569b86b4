package ansible

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckType(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	t.Setenv("METALKIT_TEST_DIR", "/srv")
	for _, tc := range []struct {
		name    string
		typ     Type
		in      any
		want    any
		wantErr string
	}{
		{"str keeps string", TypeStr, "x", "x", ""},
		{"str default type", "", 5, "5", ""},
		{"str from float", TypeStr, 1.0, "1.0", ""},
		{"str from bool", TypeStr, false, "False", ""},
		{"str from dict", TypeStr, map[string]any{"a": "b"}, "{'a': 'b'}", ""},
		{"bool yes", TypeBool, "yes", true, ""},
		{"bool Off padded", TypeBool, " Off\t", false, ""},
		{"bool t", TypeBool, "T", true, ""},
		{"bool int 1", TypeBool, 1, true, ""},
		{"bool float 0", TypeBool, 0.0, false, ""},
		{"bool invalid", TypeBool, "maybe", nil, "The value 'maybe' is not a valid boolean.  Valid booleans include: " + validBooleans},
		{"bool invalid int", TypeBool, 2, nil, "The value '2' is not a valid boolean.  Valid booleans include: " + validBooleans},
		{"bool list", TypeBool, []any{}, nil, "<class 'list'> cannot be converted to a bool"},
		{"int native", TypeInt, 7, 7, ""},
		{"int string", TypeInt, " -0042 ", -42, ""},
		{"int underscores", TypeInt, "1_000_000", 1000000, ""},
		{"int double underscore", TypeInt, "1__0", nil, "<class 'str'> cannot be converted to an int"},
		{"int hex", TypeInt, "0x10", nil, "<class 'str'> cannot be converted to an int"},
		{"int big string", TypeInt, "123456789012345678901234", json.Number("123456789012345678901234"), ""},
		{"int bool kept", TypeInt, true, true, ""},
		{"int float", TypeInt, 4.0, nil, "<class 'float'> cannot be converted to an int"},
		{"int null element", TypeInt, nil, nil, "<class 'NoneType'> cannot be converted to an int"},
		{"float int", TypeFloat, 3, 3.0, ""},
		{"float string", TypeFloat, "2.5e2", 250.0, ""},
		{"float leading dot", TypeFloat, ".5", 0.5, ""},
		{"float trailing dot", TypeFloat, "5.", 5.0, ""},
		{"float inf", TypeFloat, "-Infinity", math.Inf(-1), ""},
		{"float hex", TypeFloat, "0x1p-2", nil, "<class 'str'> cannot be converted to a float"},
		{"float dict", TypeFloat, map[string]any{}, nil, "<class 'dict'> cannot be converted to a float"},
		{"list comma string", TypeList, "a,,b", []any{"a", "", "b"}, ""},
		{"list from int", TypeList, 5, []any{"5"}, ""},
		{"list from dict", TypeList, map[string]any{}, nil, "<class 'dict'> cannot be converted to a list"},
		{"dict JSON", TypeDict, `{"a": [1, 2.5]}`, map[string]any{"a": []any{1, 2.5}}, ""},
		{"dict literal", TypeDict, `{'a': None, "b": (1,), 'c': -3}`, map[string]any{"a": nil, "b": []any{1}, "c": -3}, ""},
		{"dict k=v", TypeDict, `a=1 b="x y",c=z\,w`, map[string]any{"a": "1", "b": "x y", "c": "z,w"}, ""},
		{"dict k=v missing =", TypeDict, "a=1 b", nil, "dictionary update sequence element #1 has length 1; 2 is required"},
		{"dict plain", TypeDict, "abc", nil, "dictionary requested, could not parse JSON or key=value"},
		{"dict bad brace", TypeDict, "{abc", nil, "unable to evaluate string as dictionary"},
		{"dict code kept as string", TypeDict, "{os.system('x')}", "{os.system('x')}", ""},
		{"dict dunder import rejected", TypeDict, "{__import__('os')}", nil, "unable to evaluate string as dictionary"},
		{"dict int", TypeDict, 1, nil, "<class 'int'> cannot be converted to a dict"},
		{"path tilde", TypePath, "~/x", "/home/tester/x", ""},
		{"path env", TypePath, "$METALKIT_TEST_DIR/${METALKIT_TEST_DIR}/$NOPE_NOT_SET", "/srv//srv/$NOPE_NOT_SET", ""},
		{"path unknown user", TypePath, "~nosuchuser-xyz/a", "~nosuchuser-xyz/a", ""},
		{"raw", TypeRaw, []any{1}, []any{1}, ""},
		{"json string stripped", TypeJSON, " {} \x1f", "{}", ""},
		{"json from dict", TypeJSON, map[string]any{"b": 1, "a": "é"}, `{"a": "\u00e9", "b": 1}`, ""},
		{"json from bool", TypeJSON, true, nil, "<class 'bool'> cannot be converted to a json string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkType(tc.typ, tc.in)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tc.wantErr, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPyLiteralEval(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
		ok   bool
	}{
		{`{'a': 1}`, map[string]any{"a": 1}, true},
		{`{'a': [1, 2,], 'b': {'c': True}, 'd': False} # comment`, map[string]any{"a": []any{1, 2}, "b": map[string]any{"c": true}, "d": false}, true},
		{`{1: 'x', None: 'y', 2.5: 'z'}`, map[string]any{"1": "x", "null": "y", "2.5": "z"}, true},
		{`{'s': 'a' "b", 'r': r'\n', 'e': '\x41\u00e9\101\q'}`, map[string]any{"s": "ab", "r": `\n`, "e": "Aé" + "A" + `\q`}, true},
		{`{'n': 0o17, 'h': 0xff, 'b': 0b11, 'm': -1_000, 'f': 1e-3}`, map[string]any{"n": 15, "h": 255, "b": 3, "m": -1000, "f": 0.001}, true},
		{`{1, 2, 1}`, []any{1, 2}, true},
		{`{}`, map[string]any{}, true},
		{`{'a': 012}`, nil, false},
		{`{'a': 1j}`, nil, false},
		{`{'a': x}`, nil, false},
		{`{'a': -'x'}`, nil, false},
		{`{[1]: 2}`, nil, false},
		{`{'a': 1} extra`, nil, false},
		{`{'a': 'unterminated}`, nil, false},
	} {
		got, err := pyLiteralEval(tc.in)
		if !tc.ok {
			assert.Error(t, err, tc.in)
			continue
		}
		if assert.NoError(t, err, tc.in) {
			assert.Equal(t, tc.want, got, tc.in)
		}
	}
}

func TestExpandUserWithoutHome(t *testing.T) {
	home, had := os.LookupEnv("HOME")
	require.NoError(t, os.Unsetenv("HOME"))
	t.Cleanup(func() {
		if had {
			os.Setenv("HOME", home)
		}
	})
	got := expandUser("~/a")
	assert.NotEqual(t, "~/a", got, "falls back to the passwd entry")
	assert.Equal(t, "/", expandUser("~root")[0:1])
}
