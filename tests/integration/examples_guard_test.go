package integration

// This file has no build tag: `go test ./...` checks that every module's
// EXAMPLES block is safe to run here before examples_test.go (integration)
// runs it against the local services.

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// examplesModules are the modules whose EXAMPLES are run, in flow order.
var examplesModules = []string{"ironic_enroll", "ironic_introspect", "glance_rhcos", "ignition_render", "nova_bm_server", "nova_bm_server_info", "ironic_node_action"}

// moduleExamples reads a module's EXAMPLES from its shipped docs sidecar
// (collection/plugins/modules/NAME.yml, which the modules' drift tests keep
// equal to the spec) and parses it as a task list.
func moduleExamples(t *testing.T, module string) (text string, tasks []map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "collection", "plugins", "modules", module+".yml"))
	require.NoError(t, err)
	var doc struct {
		Examples string `yaml:"EXAMPLES"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc), module)
	require.NoError(t, yaml.Unmarshal([]byte(doc.Examples), &tasks), "%s EXAMPLES is not a YAML task list", module)
	require.NotEmpty(t, tasks, "%s has no EXAMPLES", module)
	return doc.Examples, tasks
}

// repoRoot is the checkout the tests run from. It lives in this untagged
// file so the guard (unit) and the integration tests share it.
var repoRoot = func() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}()

var (
	urlPattern   = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)
	ipv4Pattern  = regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}\b`)
	jinjaPattern = regexp.MustCompile(`\{\{.*?\}\}`)
)

// hostKeys are option keys whose value is a host or URL something will contact.
func isHostKey(key string) bool {
	switch key {
	case "pm_addr", "url", "auth_url", "endpoint", "endpoint_override":
		return true
	}
	return strings.HasSuffix(key, "_address") || strings.HasSuffix(key, "_url")
}

// loopbackProblem says why s names a host outside 127.0.0.1 ("" when it
// does not). Jinja expressions are left to the values the runner gives them,
// which pass through here too.
func loopbackProblem(s string, hostKey bool) string {
	if strings.Contains(s, "{{") {
		s = jinjaPattern.ReplaceAllString(s, "")
		hostKey = false // the host is the expression's value, checked where it is given
	}
	var hosts []string
	for _, u := range urlPattern.FindAllString(s, -1) {
		p, err := url.Parse(u)
		if err != nil {
			return fmt.Sprintf("unparsable URL %q", u)
		}
		if p.Hostname() != "" {
			hosts = append(hosts, p.Hostname())
		}
	}
	hosts = append(hosts, ipv4Pattern.FindAllString(s, -1)...)
	if hostKey && !strings.Contains(s, "://") && strings.TrimSpace(s) != "" {
		hosts = append(hosts, strings.TrimSpace(s))
	}
	for _, h := range hosts {
		if h == "localhost" {
			continue
		}
		if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
			return fmt.Sprintf("%q is not a loopback address", h)
		}
	}
	return ""
}

// walkStrings calls fn for every string in v with the map key it sits under.
func walkStrings(v any, key string, fn func(key, s string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walkStrings(e, k, fn)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, key, fn)
		}
	case string:
		fn(key, x)
	}
}

// exampleTaskModule returns the module a task calls (the key that is not a
// task keyword).
func exampleTaskModule(task map[string]any) string {
	keywords := map[string]bool{"name": true, "register": true, "loop": true, "when": true, "vars": true,
		"environment": true, "no_log": true, "check_mode": true, "diff": true, "tags": true, "loop_control": true,
		"until": true, "retries": true, "delay": true, "changed_when": true, "failed_when": true, "ignore_errors": true}
	for k := range task {
		if !keywords[k] {
			return k
		}
	}
	return ""
}

// examplesProblems lists every reason a module's EXAMPLES may not be run here.
func examplesProblems(tasks []map[string]any) []string {
	var problems []string
	for i, task := range tasks {
		mod := exampleTaskModule(task)
		if !strings.HasPrefix(mod, "metalkit.baremetal.") && !strings.HasPrefix(mod, "ansible.builtin.") {
			problems = append(problems, fmt.Sprintf("task %d (%v) calls %q: examples use FQCNs of this collection or ansible.builtin", i, task["name"], mod))
		}
		walkStrings(task, "", func(key, s string) {
			// ignition_render contacts nothing: a source URL is Ignition data
			// for the booted host.
			if mod == "metalkit.baremetal.ignition_render" && key == "source" {
				return
			}
			if p := loopbackProblem(s, isHostKey(key)); p != "" {
				problems = append(problems, fmt.Sprintf("task %d (%v), %s: %s", i, task["name"], key, p))
			}
		})
	}
	return problems
}

func TestExamplesOnlyNameLoopback(t *testing.T) {
	for _, m := range examplesModules {
		_, tasks := moduleExamples(t, m)
		assert.Empty(t, examplesProblems(tasks), "%s EXAMPLES", m)
	}
}

// The guard must catch what it is for: these must all be refused.
func TestExamplesGuardRefusesOutsideAddresses(t *testing.T) {
	bad := []map[string]any{
		{"name": "doc address", "metalkit.baremetal.ironic_enroll": map[string]any{"nodes": []any{map[string]any{"pm_addr": "192.0.2.10"}}}},
		{"name": "bmc host name", "metalkit.baremetal.ironic_enroll": map[string]any{"nodes": []any{map[string]any{"pm_addr": "bmc1.example.com"}}}},
		{"name": "redfish url", "metalkit.baremetal.ironic_enroll": map[string]any{"nodes": []any{map[string]any{"pm_addr": "https://10.0.0.5"}}}},
		{"name": "mirror", "metalkit.baremetal.glance_rhcos": map[string]any{"url": "https://mirror.example.com/rhcos.qcow2.gz"}},
		{"name": "templated mirror", "metalkit.baremetal.glance_rhcos": map[string]any{"url": "https://mirror.example.com/{{ v }}/x"}},
		{"name": "source outside ignition", "metalkit.baremetal.glance_rhcos": map[string]any{"source": "http://203.0.113.7/x"}},
		{"name": "short name", "glance_rhcos": map[string]any{"name": "x", "state": "absent"}},
	}
	for _, task := range bad {
		assert.NotEmpty(t, examplesProblems([]map[string]any{task}), "%v", task["name"])
	}
	good := []map[string]any{
		{"name": "emulator", "metalkit.baremetal.ironic_enroll": map[string]any{"nodes": []any{map[string]any{"pm_addr": "127.0.0.1", "pm_port": 6230, "ports": []any{map[string]any{"address": "52:54:00:aa:bb:01"}}}}}},
		{"name": "templated", "metalkit.baremetal.glance_rhcos": map[string]any{"url": "{{ rhcos_mirror }}/rhcos.qcow2.gz"}},
		{"name": "ignition data", "metalkit.baremetal.ignition_render": map[string]any{"replace": map[string]any{"source": "https://api-int.ocp.example.com:22623/config/worker"}}},
	}
	for _, task := range good {
		assert.Empty(t, examplesProblems([]map[string]any{task}), "%v", task["name"])
	}
}
