package hostile

import (
	"net/http"
	"testing"
	"time"

	"github.com/metalkit/baremetal/internal/ironicfake"
)

// ironicEnv is a fake Ironic behind a recording front.
type ironicEnv struct {
	Fake  *ironicfake.Server
	Front *Front
}

func newIronic(t *testing.T) *ironicEnv {
	f := ironicfake.New(t)
	return &ironicEnv{Fake: f, Front: NewFront(t, f.URL)}
}

// base is a request for module args against the env: the cloud dict
// points at the front.
func (e *ironicEnv) base(args map[string]any) *Base {
	b := &Base{
		Overrides: map[string]any{"baremetal_endpoint_override": e.Front.URL},
		Primary:   "baremetal_endpoint_override",
		Writes:    func() int { return len(e.Fake.Writes()) },
	}
	b.Args = With(args, "cloud", b.Cloud(map[string]any{"auth_type": "none"}), "timeout", 30)
	return b
}

// hostileNames are node names that change a URL when put into a path unescaped.
var hostileNames = []string{"../ports", "a/b", "?x", "#"}

func enrollNodes() []any {
	return []any{
		map[string]any{"name": "h-1", "pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": 6230, "pm_user": "admin",
			"pm_password": SentBMC, "mac": []any{"52:54:00:b0:00:01"}},
		map[string]any{"name": "h-2", "pm_type": "redfish", "pm_addr": "127.0.0.1:8000", "pm_user": "admin",
			"pm_password": SentRedfish, "pm_system_id": "/redfish/v1/Systems/2", "ports": []any{map[string]any{"address": "52:54:00:b0:00:02"}}},
	}
}

const nodesFileYAML = `nodes:
  - name: h-1
    pm_type: ipmi
    pm_addr: 127.0.0.1
    pm_user: admin
    pm_password: "` + SentBMCFile + `"
    mac: ["52:54:00:b0:00:11"]
`

func TestEnroll(t *testing.T) {
	setup := func(t *testing.T) (*ironicEnv, *Base) {
		e := newIronic(t)
		return e, e.base(map[string]any{"nodes": enrollNodes()})
	}
	start := func(t *testing.T) *Base { _, b := setup(t); return b }
	tg := Target{Module: "ironic_enroll", Start: start}
	nodesFile := func(path string) func(t *testing.T) *Run {
		return func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("nodes", nil, "nodes_file", path), Check: noWrites(b)}
		}
	}
	nodesFileOf := func(content func(t *testing.T) string) func(t *testing.T) *Run {
		return func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("nodes", nil, "nodes_file", content(t)), Check: noWrites(b)}
		}
	}
	nf := []string{"nodes_file"}
	cases := []Case{
		{Name: "secrets/pm_password in nodes", Want: OK, Setup: func(t *testing.T) *Run {
			return &Run{Args: start(t).Args}
		}},
		{Name: "secrets/pm_password in nodes check+diff", Want: OK, Setup: func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("_ansible_check_mode", true, "_ansible_diff", true), Check: noWrites(b)}
		}},
		{Name: "secrets/pm_password echoed by a failed create", Want: Fail, Setup: func(t *testing.T) *Run {
			env, b := setup(t)
			env.Fake.FailCreate = http.StatusBadRequest
			return &Run{Args: b.Args}
		}},
		{Name: "secrets/pm_password in nodes_file", Want: OK, Setup: func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("nodes", nil, "nodes_file", WriteFile(t, "nodes.yaml", nodesFileYAML), "_ansible_diff", true)}
		}},
		{Name: "secrets/pm_password in an invalid nodes_file", Want: Fail, Names: []string{"mac"}, Setup: func(t *testing.T) *Run {
			b := start(t)
			p := WriteFile(t, "nodes.yaml", nodesFileYAML+"  - name: h-bad\n    pm_type: ipmi\n    pm_addr: 127.0.0.1\n    pm_password: \""+SentBMCFile+"\"\n    mac: [\""+SentBMCFile+"\"]\n")
			return &Run{Args: b.With("nodes", nil, "nodes_file", p), Check: noWrites(b)}
		}},
		{Name: "yaml/nodes_file alias cycle", Want: Fail, Names: nf, Setup: nodesFileOf(func(t *testing.T) string {
			return WriteFile(t, "nodes.yaml", AliasCycle("nodes"))
		})},
		{Name: "yaml/nodes_file billion laughs", Want: Fail, Names: nf, Setup: nodesFileOf(func(t *testing.T) string {
			return WriteFile(t, "nodes.yaml", BillionLaughs("nodes:\n  - name: h-1\n    pm_type: fake-hardware\n    lol: *a9\n"))
		})},
		{Name: "file/nodes_file is /dev/zero", Want: Fail, Names: nf, Setup: nodesFile("/dev/zero")},
		{Name: "file/nodes_file is a FIFO", Want: Fail, Names: nf, Setup: nodesFileOf(FIFO)},
		{Name: "file/nodes_file is a directory", Want: Fail, Names: nf, Setup: nodesFileOf(func(t *testing.T) string { return t.TempDir() })},
		{Name: "file/nodes_file is a 2 GiB sparse file", Want: Fail, Names: nf, Setup: nodesFileOf(func(t *testing.T) string { return Sparse(t, 2<<30) })},
		{Name: "signal/SIGTERM during the BMC validation wait", Want: Fail, Setup: func(t *testing.T) *Run {
			env, b := setup(t)
			env.Fake.StepTime = time.Hour
			return &Run{Args: b.Args, Signal: 2 * time.Second}
		}},
	}
	for _, name := range hostileNames {
		cases = append(cases, Case{Name: "path/node name " + name, Want: Any, Setup: func(t *testing.T) *Run {
			e := newIronic(t)
			e.Fake.Add(name, "manageable")
			b := e.base(map[string]any{"state": "absent", "nodes": []any{map[string]any{"name": name}}})
			return &Run{Args: b.Args, Check: func(t *testing.T, o *Outcome) { AssertNameEscaped(t, o, e.Front, name, "name", "nodes") }}
		}})
	}
	Check(t, "ironic_enroll", append(ConnectionCases(tg), cases...))
}

func TestIntrospect(t *testing.T) {
	start := func(t *testing.T) *Base {
		e := newIronic(t)
		e.Fake.Add("h-1", "manageable")
		return e.base(map[string]any{"nodes": []any{"h-1"}})
	}
	tg := Target{Module: "ironic_introspect", Start: start}
	cases := []Case{
		{Name: "signal/SIGTERM during the inspection wait", Want: Fail, Setup: func(t *testing.T) *Run {
			e := newIronic(t)
			e.Fake.Add("h-1", "manageable", ironicfake.InspectHangs(5))
			b := e.base(map[string]any{"nodes": []any{"h-1"}, "retries": 0})
			return &Run{Args: b.Args, Signal: 2 * time.Second, Check: func(t *testing.T, _ *Outcome) {
				if st := e.Fake.Node("h-1")["provision_state"]; st == "inspect wait" || st == "inspecting" {
					t.Errorf("the interrupted inspection was left running: node in %q", st)
				}
			}}
		}},
		{Name: "input/concurrency 0", Want: Fail, Names: []string{"concurrency"}, Setup: func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("concurrency", 0), Check: noWrites(b)}
		}},
		{Name: "input/retries -1", Want: Fail, Names: []string{"retries"}, Setup: func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("retries", -1), Check: noWrites(b)}
		}},
		{Name: "input/empty node name", Want: Fail, Names: []string{"nodes"}, Setup: func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("nodes", []any{""}), Check: noWrites(b)}
		}},
	}
	for _, name := range hostileNames {
		cases = append(cases, Case{Name: "path/node name " + name, Want: Any, Setup: func(t *testing.T) *Run {
			e := newIronic(t)
			e.Fake.Add("h-1", "manageable")
			b := e.base(map[string]any{"nodes": []any{name}})
			return &Run{Args: b.Args, Check: func(t *testing.T, o *Outcome) {
				AssertNameEscaped(t, o, e.Front, name, "nodes")
				if n := len(e.Fake.Writes()); n > 0 {
					t.Errorf("%d write(s) for a node that does not exist: %v", n, e.Fake.Writes())
				}
			}}
		}})
	}
	Check(t, "ironic_introspect", append(ConnectionCases(tg), cases...))
}
