package yamlload

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValuesKeepTheirText(t *testing.T) {
	doc := "nodes:\n  - name: n1\n    pm_password: yes\n    pm_port: 0623\n    disk: 40\n    ok: true\n    none: ~\n"
	text, err := Parse([]byte(doc), Text)
	require.NoError(t, err)
	n := text.(map[string]any)["nodes"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"name": "n1", "pm_password": "yes", "pm_port": "0623", "disk": "40", "ok": "true", "none": nil}, n)

	typed, err := Parse([]byte(doc), Typed)
	require.NoError(t, err)
	n = typed.(map[string]any)["nodes"].([]any)[0].(map[string]any)
	assert.Equal(t, "yes", n["pm_password"], "YAML 1.2: yes is a string")
	assert.Equal(t, json.Number("0623"), n["pm_port"])
	assert.Equal(t, true, n["ok"])
}

func TestMergeKeysAndHarmlessAliases(t *testing.T) {
	doc := "defaults: &d {pm_type: ipmi, pm_user: admin}\nnodes:\n  - <<: *d\n    name: a\n  - <<: *d\n    name: b\n    pm_user: root\n"
	v, err := Parse([]byte(doc), Text)
	require.NoError(t, err)
	nodes := v.(map[string]any)["nodes"].([]any)
	assert.Equal(t, map[string]any{"pm_type": "ipmi", "pm_user": "admin", "name": "a"}, nodes[0])
	assert.Equal(t, "root", nodes[1].(map[string]any)["pm_user"])
}

func TestHostileDocumentsFailFast(t *testing.T) {
	laughs := "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	for i, prev := 'b', 'a'; i <= 'k'; i, prev = i+1, i {
		laughs += fmt.Sprintf("%c: &%c [%s]\n", i, i, strings.TrimSuffix(strings.Repeat("*"+string(prev)+",", 10), ","))
	}
	cases := map[string]struct {
		doc  string
		want string
	}{
		"alias cycle in a map":  {"a: &a\n  b: *a\n", "alias cycle"},
		"alias cycle in a list": {"a: &a [1, *a]\n", "alias cycle"},
		"merge of itself":       {"a: &a\n  <<: *a\n", "alias cycle"},
		"billion laughs":        {laughs, "more than 1048576 values"},
		"deep nesting":          {strings.Repeat("[", 300) + strings.Repeat("]", 300), "nested deeper than 256"},
		"not YAML":              {"a: [1, 2\n", "did not find expected"},
	}
	for name, tc := range cases {
		start := time.Now()
		_, err := Parse([]byte(tc.doc), Typed)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
		assert.Less(t, time.Since(start), 5*time.Second, name)
	}
}
