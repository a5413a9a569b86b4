// Package ansibletest runs modules built on internal/ansible in tests: it
// feeds them an args file as Ansible would and decodes their one JSON result.
package ansibletest

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/metalkit/baremetal/internal/ansible"
)

// RunWithArgs writes args (options plus any _ansible_* keys) to a temporary
// args file, calls ansible.Execute, and returns the decoded result (numbers
// as float64, as encoding/json decodes them). It fails the test unless the
// module printed exactly one JSON object and its exit code matches `failed`.
func RunWithArgs(t testing.TB, spec *ansible.Spec, args map[string]any, run func(*ansible.Module) (*ansible.Result, error)) map[string]any {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatalf("ansibletest: encoding args: %v", err)
	}
	path := filepath.Join(t.TempDir(), "args")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatalf("ansibletest: %v", err)
	}
	var out bytes.Buffer
	code := ansible.Execute(spec, path, &out, run)
	return decodeResult(t, out.Bytes(), code)
}

func decodeResult(t testing.TB, out []byte, code int) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	var res map[string]any
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("ansibletest: module output is not one JSON object: %v\n%s", err, out)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("ansibletest: module printed more than one JSON object:\n%s", out)
	}
	failed, isBool := res["failed"].(bool)
	if !isBool {
		t.Fatalf("ansibletest: result has no boolean failed: %s", out)
	}
	if _, isBool := res["changed"].(bool); !isBool {
		t.Fatalf("ansibletest: result has no boolean changed: %s", out)
	}
	if want := map[bool]int{false: 0, true: 1}[failed]; code != want {
		t.Fatalf("ansibletest: exit code %d with failed=%v", code, failed)
	}
	return res
}

// AssertDocsCurrent fails the test when the sidecar doc file at path differs
// from ansible.DocsYAML(spec) (or is missing), telling to run `make docs`.
func AssertDocsCurrent(t testing.TB, spec *ansible.Spec, path string) {
	t.Helper()
	want, err := ansible.DocsYAML(spec)
	if err != nil {
		t.Fatalf("docs for %s: %v", spec.Name, err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %v: run `make docs`", path, err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with the module spec: run `make docs`", path)
	}
}
