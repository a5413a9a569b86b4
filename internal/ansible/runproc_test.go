package ansible

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Run exits the process, so these tests re-run the test binary as a module.
const helperEnv = "METALKIT_ANSIBLE_RUN_HELPER"

func TestRunHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return // only meaningful as the child of TestRunProcess
	}
	i := 0
	for i < len(os.Args) && os.Args[i] != "--" {
		i++
	}
	os.Args = append([]string{"demo"}, os.Args[i+1:]...)
	Run(docSpec(), func(m *Module) (*Result, error) {
		fmt.Println("stray print from module code")
		if m.Str("state") == "absent" {
			return nil, fmt.Errorf("cannot remove")
		}
		return &Result{Changed: true}, nil
	})
}

func runHelper(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestRunHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return out.String(), errOut.String(), code
}

func TestRunProcess(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, stdout, stderr string)
	}{
		{"success", []string{write("ok", `{"nodes": [{"pm_password": "x-pw"}]}`)}, 0, func(t *testing.T, stdout, stderr string) {
			res := decodeOne(t, stdout)
			assert.Equal(t, true, res["changed"])
			assert.Contains(t, stderr, "stray print from module code", "stdout holds only the result")
		}},
		{"module error", []string{write("absent", `{"nodes": [], "state": "absent"}`)}, 1, func(t *testing.T, stdout, _ string) {
			assert.Equal(t, "cannot remove", decodeOne(t, stdout)["msg"])
		}},
		{"validation error", []string{write("bad", `{}`)}, 1, func(t *testing.T, stdout, _ string) {
			assert.Equal(t, "missing required arguments: nodes", decodeOne(t, stdout)["msg"])
		}},
		{"no args file", nil, 1, func(t *testing.T, stdout, _ string) {
			assert.Contains(t, decodeOne(t, stdout)["msg"], "usage: ironic_enroll ARGS_FILE")
		}},
		{"docs flag", []string{DocsFlag}, 0, func(t *testing.T, stdout, _ string) {
			want, err := DocsYAML(docSpec())
			require.NoError(t, err)
			assert.Equal(t, string(want), stdout)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runHelper(t, tc.args...)
			assert.Equal(t, tc.wantCode, code, "stdout=%s stderr=%s", stdout, stderr)
			tc.check(t, stdout, stderr)
		})
	}
}
