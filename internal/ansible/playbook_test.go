package ansible

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real ansible-playbook (whichever ansible-core is first on PATH) runs a binary module
// built on this package: args file, check/diff flags, k=v arguments,
// warnings, no_log masking and validation failures, end to end.
func TestAnsiblePlaybookRunsBinaryModule(t *testing.T) {
	playbookBin, err := exec.LookPath("ansible-playbook")
	require.NoError(t, err, "needs Debian's ansible-core (apt-get install ansible-core)")
	dir := t.TempDir()
	library := filepath.Join(dir, "library")
	build := exec.Command("go", "build", "-o", filepath.Join(library, "metalkit_demo"), "./testdata/demomod")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	results := filepath.Join(dir, "results.json")
	// pw4 sits in vars, as a user's secrets do: ansible-core 2.19 prints
	// the source lines of a failed task, so a literal in the task would be
	// printed by Ansible itself, not by the module.
	playbook := `- hosts: localhost
  gather_facts: false
  vars:
    pw4: Sentinel-pw-4
  tasks:
    - metalkit_demo: name=n1 count=3 password=Sentinel-pw-1
      register: r1
    - metalkit_demo:
        name: n2
        nodes: [{name: a, pm_password: Sentinel-pm-2}, "name=b pm_password=Sentinel-pm-3"]
      check_mode: true
      diff: true
      register: r2
    - metalkit_demo: {name: n3, bogus: 1, password: "{{ pw4 }}"}
      register: r3
      ignore_errors: true
    - metalkit_demo: {count: many}
      register: r4
      ignore_errors: true
    - copy:
        content: "{{ {'r1': r1, 'r2': r2, 'r3': r3, 'r4': r4} | to_json }}"
        dest: ` + results + `
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "play.yml"), []byte(playbook), 0o644))
	cmd := exec.Command(playbookBin, "-i", "localhost,", "-c", "local", "play.yml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "ANSIBLE_LIBRARY="+library, "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"), "ANSIBLE_REMOTE_TEMP="+filepath.Join(dir, "rtmp"),
		"ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3", "ANSIBLE_RETRY_FILES_ENABLED=0")
	out, err = cmd.CombinedOutput()
	log := string(out)
	require.NoError(t, err, "%s", log)
	assert.NotContains(t, log, "Sentinel")
	assert.Contains(t, log, "[WARNING]: demo warning for n1")
	assert.Contains(t, log, "+count: 1", "the diff of the diff: true task is shown")

	raw, err := os.ReadFile(results)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "Sentinel")
	var r map[string]map[string]any
	require.NoError(t, json.Unmarshal(raw, &r))

	assert.Equal(t, true, r["r1"]["changed"])
	assert.Equal(t, false, r["r1"]["check_mode"])
	assert.Equal(t, 3.0, r["r1"]["count"])
	assert.Equal(t, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", r["r1"]["echo"])
	assert.Equal(t, "hello n1", r["r1"]["msg"])
	// The controller's normal action drops invocation.module_args itself.

	assert.Equal(t, true, r["r2"]["check_mode"])
	assert.Equal(t, true, r["r2"]["diff_mode"])
	assert.Equal(t, []any{
		map[string]any{"name": "a", "pm_password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"},
		map[string]any{"name": "b", "pm_password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"},
	}, r["r2"]["nodes"])

	assert.Equal(t, true, r["r3"]["failed"])
	assert.Equal(t, "Unsupported parameters for (metalkit_demo) module: bogus. Supported parameters include: count, name, nodes, password.", r["r3"]["msg"])
	assert.Equal(t, true, r["r4"]["failed"])
	assert.True(t, strings.HasPrefix(r["r4"]["msg"].(string), "missing required arguments: name"), r["r4"]["msg"])
}
