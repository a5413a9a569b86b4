package decoded

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMapLeaves(t *testing.T) {
	mark := func(v any) any { return fmt.Sprintf("leaf(%v)", v) }
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil is a leaf", nil, "leaf(<nil>)"},
		{"scalar", 5, "leaf(5)"},
		{"typed containers are leaves", map[string]any{"a": []string{"x"}, "b": map[string]string{"k": "v"}},
			map[string]any{"a": "leaf([x])", "b": "leaf(map[k:v])"}},
		{"YAML keys become strings", map[any]any{1: "one", true: "yes", "s": nil},
			map[string]any{"1": "leaf(one)", "true": "leaf(yes)", "s": "leaf(<nil>)"}},
		{"nested", []any{map[any]any{"l": []any{json.Number("07")}}},
			[]any{map[string]any{"l": []any{"leaf(07)"}}}},
		{"typed nil map: empty map", map[string]any(nil), map[string]any{}},
		{"typed nil list: empty list", []any(nil), []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, MapLeaves(tt.in, mark))
		})
	}
}

func TestMapLeavesCopies(t *testing.T) {
	in := map[string]any{"a": []any{1}, "m": map[string]any{"k": "v"}}
	out := MapLeaves(in, func(v any) any { return v }).(map[string]any)
	out["a"].([]any)[0] = 2
	out["m"].(map[string]any)["k"] = "changed"
	assert.Equal(t, map[string]any{"a": []any{1}, "m": map[string]any{"k": "v"}}, in, "the input is untouched")
}

func TestStringKeysKeepsLeaves(t *testing.T) {
	in := map[any]any{"cpu": json.Number("0123"), "n": 4, "f": 1.5, "b": true, "s": "x", "z": nil}
	assert.Equal(t, map[string]any{"cpu": json.Number("0123"), "n": 4, "f": 1.5, "b": true, "s": "x", "z": nil}, StringKeys(in))
}
