package ansible

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPyFloatRepr(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{4, "4.0"}, {1.5, "1.5"}, {-0.0, "0.0"}, {math.Copysign(0, -1), "-0.0"},
		{1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {1.5e16, "1.5e+16"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.25e-7, "1.25e-07"},
		{123456789.125, "123456789.125"}, {1e22, "1e+22"}, {0.1, "0.1"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
	} {
		assert.Equal(t, tc.want, pyFloatRepr(tc.in), "%v", tc.in)
	}
}

func TestPyStrAndRepr(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"plain", "plain"},
		{nil, "None"},
		{true, "True"},
		{3, "3"},
		{json.Number("99999999999999999999"), "99999999999999999999"},
		{2.0, "2.0"},
		{[]any{1, "a", nil, false}, "[1, 'a', None, False]"},
		{[]any{"it's"}, `["it's"]`},
		{[]any{`both ' and "`}, `['both \' and "']`},
		{[]any{"tab\tnl\n\x01é\u00a0"}, `['tab\tnl\n\x01é\xa0']`},
		{map[string]any{"b": 1, "a": []any{}}, "{'a': [], 'b': 1}"},
	} {
		assert.Equal(t, tc.want, pyStr(tc.in), "%#v", tc.in)
	}
	assert.Equal(t, "'x'", pyRepr("x"))
}

func TestPyEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b any
		want bool
	}{
		{true, 1, true}, {1, 1.0, true}, {false, 0.0, true}, {"1", 1, false},
		{nil, nil, true}, {nil, "None", false}, {math.NaN(), math.NaN(), false},
		{[]any{1, "a"}, []any{1.0, "a"}, true}, {[]any{1}, []any{1, 2}, false},
		{map[string]any{"a": true}, map[string]any{"a": 1}, true},
		{json.Number("99999999999999999999"), json.Number("99999999999999999999"), true},
		{9007199254740993, 9007199254740992.0, false}, // exact, as Python compares int and float
	} {
		assert.Equal(t, tc.want, pyEqual(tc.a, tc.b), "%#v == %#v", tc.a, tc.b)
	}
}

func TestPyJSONDumps(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{map[string]any{"b": []any{1, 2.0, nil}, "a": "é☃\U0001F600<>&"}, `{"a": "\u00e9\u2603\ud83d\ude00<>&", "b": [1, 2.0, null]}`},
		{[]any{math.Inf(1), math.Inf(-1), math.NaN()}, `[Infinity, -Infinity, NaN]`},
		{"ctl\x00\x7f\"\\\b\f\r", `"ctl\u0000\u007f\"\\\b\f\r"`},
	} {
		assert.Equal(t, tc.want, pyJSONDumps(tc.in))
	}
}

func TestNormalizeJSON(t *testing.T) {
	got := normalizeJSON(map[string]any{
		"i": json.Number("4"), "f": json.Number("4.0"), "e": json.Number("1e3"),
		"big": json.Number("-99999999999999999999"), "l": []any{json.Number("-0")},
		"inf": json.Number("1e400"),
	})
	assert.Equal(t, map[string]any{
		"i": 4, "f": 4.0, "e": 1000.0, "big": json.Number("-99999999999999999999"),
		"l": []any{0}, "inf": math.Inf(1),
	}, got)
}
