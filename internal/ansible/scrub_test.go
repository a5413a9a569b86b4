package ansible

import (
	"strings"
	"testing"

	"github.com/metalkit/baremetal/internal/secret"
	"github.com/stretchr/testify/assert"
)

func TestRemoveValues(t *testing.T) {
	secrets := []string{"hunter2", "1234"}
	for _, tc := range []struct {
		name string
		in   any
		want any
	}{
		{"equal string", "hunter2", noLogPlaceholder},
		{"contained string", "pw=hunter2;again hunter2", "pw=********;again ********"},
		{"other string", "hello", "hello"},
		{"equal int", 1234, noLogPlaceholder},
		{"int containing", 912345, noLogPlaceholder},
		{"other int", 99, 99},
		{"float text", 1234.5, noLogPlaceholder},
		{"bool untouched", true, true},
		{"null untouched", nil, nil},
		{"keys untouched", map[string]any{"hunter2": "x", "k": []any{"hunter2", 1234, "ok"}},
			map[string]any{"hunter2": "x", "k": []any{noLogPlaceholder, noLogPlaceholder, "ok"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, removeValues(tc.in, secrets))
		})
	}
	// Bools and nulls are matched by their Python text, as in Ansible.
	assert.Equal(t, noLogPlaceholder, removeValues(true, []string{"True"}))
	assert.Equal(t, noLogPlaceholder, removeValues(nil, []string{"on"}))
	assert.Equal(t, "x", removeValues("x", nil))
}

func TestSecretsCollection(t *testing.T) {
	s := newSecrets()
	s.addValue(map[string]any{"a": []any{"x1", 42, 2.5, true, nil, ""}, "b": "y22"})
	s.add("")
	assert.ElementsMatch(t, []string{"x1", "42", "2.5", "y22"}, s.list())
	s.add("longer-y22")
	// Longest first, so that a secret containing another is masked whole.
	assert.Equal(t, "longer-y22", s.list()[0])
	assert.Equal(t, "see ********", removeValues("see longer-y22", s.list()))
}

// Secrets collected from every place Ansible collects them (and a few more)
// never reach the output: the sentinel test of the whole pipeline.
func TestNoSecretInOutput(t *testing.T) {
	t.Setenv("METALKIT_TEST_TOKEN", "Sentinel-env-token")
	spec := &Spec{Name: "secrets", Options: map[string]*Option{
		"password": {NoLog: true},
		"token":    {NoLog: true, EnvFallback: []string{"METALKIT_TEST_TOKEN"}},
		"pin":      {Type: TypeInt, NoLog: true},
		"key_path": {Type: TypePath, NoLog: true},
		"default":  {NoLog: true, Default: "Sentinel-default"},
		"nodes": {Type: TypeList, Elements: TypeDict, Options: map[string]*Option{
			"name":        {},
			"pm_password": {NoLog: true},
			"bmc":         {Type: TypeDict, Options: map[string]*Option{"secret": {NoLog: true, Aliases: []string{"pass"}}}},
		}},
	}}
	args := map[string]any{
		"password": "Sentinel-pw", "pin": "0042", "key_path": "~/Sentinel-key",
		"nodes": []any{
			map[string]any{"name": "n1", "pm_password": "Sentinel-n1"},
			"name=n2 pm_password=Sentinel-n2",
			map[string]any{"name": "n3", "bmc": map[string]any{"pass": "Sentinel-bmc"}},
		},
	}
	for _, tc := range []struct {
		name string
		args map[string]any
		run  func(*Module) (*Result, error)
	}{
		{"success echoing everything", args, func(m *Module) (*Result, error) {
			secret.Add("Sentinel-runtime")
			m.Warn("token " + m.Str("token") + " and Sentinel-runtime")
			return &Result{Msg: m.Str("password"), Values: map[string]any{"params": m.Params, "pin": m.Int("pin"), "home": m.Str("key_path")},
				Diff: map[string]any{"before": m.List("nodes"), "after": "Sentinel-runtime"}}, nil
		}},
		{"error", args, func(m *Module) (*Result, error) {
			return nil, Failf(map[string]any{"nodes": m.List("nodes")}, "failed with %s %s", m.Str("default"), m.Str("token"))
		}},
		{"validation failure", func() map[string]any {
			a := map[string]any{"bogus": "Sentinel-pw"}
			for k, v := range args {
				a[k] = v
			}
			return a
		}(), mustNotRun(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, raw := execRawArgs(t, spec, tc.args, tc.run)
			assert.NotContains(t, raw, "Sentinel")
			assert.NotContains(t, raw, "42,", "the coerced pin")
			assert.True(t, strings.Contains(raw, noLogPlaceholder))
		})
	}
}

func execRawArgs(t *testing.T, spec *Spec, args map[string]any, run func(*Module) (*Result, error)) (map[string]any, int, string) {
	t.Helper()
	raw := pyJSONDumps(args)
	return execRaw(t, spec, raw, run)
}
