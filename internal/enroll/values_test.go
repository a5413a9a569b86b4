package enroll

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCanonical pins what comparisons (sameValue) and request bodies rely on:
// maps get string keys, whole numbers become int64 (other numbers float64),
// strings, bools and nil keep their type.
func TestCanonical(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"json int", json.Number("42"), int64(42)},
		{"json int with a leading zero", json.Number("0123"), int64(123)},
		{"json fraction", json.Number("1.5"), 1.5},
		{"json exponent: float64 even when whole", json.Number("1e3"), float64(1000)},
		{"json number out of range: its text", json.Number("1e400"), "1e400"},
		{"int", 7, int64(7)},
		{"int8", int8(-3), int64(-3)},
		{"uint64", uint64(9), int64(9)},
		{"uint64 beyond int64", uint64(math.MaxUint64), float64(math.MaxUint64)},
		{"float32 whole: float64", float32(2), float64(2)},
		{"float32", float32(2.5), 2.5},
		{"float64 whole", float64(4096), int64(4096)},
		{"float64 fraction", 2.5, 2.5},
		{"float64 beyond 2^53", float64(1 << 60), float64(1 << 60)},
		{"numeric string stays a string", "4096", "4096"},
		{"bool", true, true},
		{"nil", nil, nil},
		{"typed list untouched", []string{"a"}, []string{"a"}},
		{"YAML map", map[any]any{"cpus": 2, 3: "x"}, map[string]any{"cpus": int64(2), "3": "x"}},
		{"nested", map[string]any{"l": []any{1.0, "a", map[any]any{"b": false}}},
			map[string]any{"l": []any{int64(1), "a", map[string]any{"b": false}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, canonical(tt.in))
		})
	}
}

func TestSameValue(t *testing.T) {
	tests := []struct {
		desired, observed any
		same              bool
	}{
		{4096, "4096", true},
		{json.Number("2"), 2.0, true},
		{"40", float64(40), true},
		{map[any]any{"cpus": "2"}, map[string]any{"cpus": 2.0}, true},
		{[]any{"1", 2}, []any{1.0, "2"}, true},
		{true, "true", false},
		{"4096", "04096", false},
		{2.5, 2, false},
		{map[string]any{"a": 1}, map[string]any{"a": 1, "b": 2}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.same, sameValue(tt.desired, tt.observed), "%#v vs %#v", tt.desired, tt.observed)
	}
}
