package ansible

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Whole numbers decoded from API bodies print as ints, real fractions stay floats.
func TestResultValuesPrintWholeFloatsAsInts(t *testing.T) {
	var out bytes.Buffer
	p := newPayload(map[string]any{"node": map[string]any{"memory_mb": 4096.0, "ratio": 1.5, "list": []any{2.0}}})
	emit(&out, p, newSecrets())
	assert.Contains(t, out.String(), `"memory_mb":4096,`)
	assert.Contains(t, out.String(), `"ratio":1.5`)
	assert.Contains(t, out.String(), `"list":[2]`)
}

// Typed values in Values and Diff reach the playbook as encoding/json prints
// them, whole floats as ints, nil maps as null.
func TestResultTypedValuesAndDiff(t *testing.T) {
	type view struct {
		Name   string  `json:"name"`
		Memory float64 `json:"memory_mb"`
	}
	var missing map[string]any
	p := newPayload(map[string]any{"server": view{"s", 4096}, "gone": missing, "counts": map[string]int{"created": 2}})
	p["diff"] = resultValue(map[string]any{"before": missing, "after": &view{"s", 1.5}})
	var out bytes.Buffer
	emit(&out, p, newSecrets())
	assert.Contains(t, out.String(), `"server":{"memory_mb":4096,"name":"s"}`)
	assert.Contains(t, out.String(), `"gone":null`)
	assert.Contains(t, out.String(), `"counts":{"created":2}`)
	assert.Contains(t, out.String(), `"diff":{"after":{"memory_mb":1.5,"name":"s"},"before":null}`)
}
