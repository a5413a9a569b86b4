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
