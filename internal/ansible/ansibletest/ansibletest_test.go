package ansibletest

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/ansible"
)

var spec = &ansible.Spec{
	Name:             "demo",
	ShortDescription: "Demo module",
	VersionAdded:     "0.1.0",
	Options: map[string]*ansible.Option{
		"name":     {Required: true, Description: []string{"Name."}},
		"password": {NoLog: true, Description: []string{"Password."}},
	},
}

func TestRunWithArgs(t *testing.T) {
	res := RunWithArgs(t, spec, map[string]any{"name": "n", "password": "Sentinel-1", "_ansible_check_mode": true},
		func(m *ansible.Module) (*ansible.Result, error) {
			return &ansible.Result{Changed: !m.CheckMode, Values: map[string]any{"count": 2, "echo": m.Str("password")}}, nil
		})
	assert.Equal(t, false, res["changed"])
	assert.Equal(t, 2.0, res["count"])
	assert.Equal(t, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", res["echo"])

	res = RunWithArgs(t, spec, map[string]any{"name": "n"}, func(*ansible.Module) (*ansible.Result, error) {
		return nil, errors.New("broken")
	})
	assert.Equal(t, true, res["failed"])
	assert.Equal(t, "broken", res["msg"])
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, format)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
}

func TestAssertDocsCurrent(t *testing.T) {
	dir := t.TempDir()
	current := filepath.Join(dir, "demo.yml")
	doc, err := ansible.DocsYAML(spec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(current, doc, 0o644))
	stale := filepath.Join(dir, "stale.yml")
	require.NoError(t, os.WriteFile(stale, append(doc, "# edited\n"...), 0o644))

	for _, tc := range []struct {
		name     string
		path     string
		wantFail bool
	}{
		{"current", current, false},
		{"stale", stale, true},
		{"missing", filepath.Join(dir, "missing.yml"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			AssertDocsCurrent(r, spec, tc.path)
			assert.Equal(t, tc.wantFail, len(r.errors) > 0, "%v", r.errors)
			for _, e := range r.errors {
				assert.Contains(t, e, "run `make docs`")
			}
		})
	}
}
