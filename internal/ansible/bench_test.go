package ansible

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkExecute measures a whole module invocation on a typical spec
// (enroll-like: aliases, choices, a dict and a list of dicts with no_log
// sub-options), from reading the args file to writing the scrubbed result.
func BenchmarkExecute(b *testing.B) {
	args := `{"driver": "ipmi", "x": "1", "os_cloud": "lab", "state": "present", "wait": "yes", "count": "4",
	  "auth": {"username": "admin", "password": "pw-secret-1"},
	  "nodes": [` + nodesJSON(8) + `],
	  "_ansible_check_mode": false, "_ansible_diff": true, "_ansible_verbosity": 0, "_ansible_module_name": "ironic_enroll",
	  "_ansible_no_log": false, "_ansible_debug": false, "_ansible_version": "2.14.18", "_ansible_tmpdir": null}`
	path := filepath.Join(b.TempDir(), "args")
	if err := os.WriteFile(path, []byte(args), 0o600); err != nil {
		b.Fatal(err)
	}
	run := func(m *Module) (*Result, error) {
		return &Result{Changed: true, Values: map[string]any{"nodes": m.List("nodes")}}, nil
	}
	b.ReportAllocs()
	for b.Loop() {
		if code := Execute(enrollSpec, path, io.Discard, run); code != 0 {
			b.Fatalf("exit code %d", code)
		}
	}
}

func nodesJSON(n int) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += ","
		}
		s += `{"name": "node-` + string(rune('a'+i)) + `", "pm_password": "bmc-pw-` + string(rune('a'+i)) + `", "ports": [{"address": "52:54:00:00:00:0` + string(rune('0'+i)) + `"}]}`
	}
	return s
}
