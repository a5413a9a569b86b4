package hostile

import (
	"strings"
	"testing"
	"time"

	"github.com/metalkit/baremetal/internal/ironicfake"
)

func TestNodeAction(t *testing.T) {
	start := func(t *testing.T) *Base {
		e := newIronic(t)
		e.Fake.Add("h-1", "available", ironicfake.Maintenance("bad DIMM"))
		return e.base(map[string]any{"node": "h-1", "maintenance": false})
	}
	tg := Target{Module: "ironic_node_action", Start: start}
	input := func(kv ...any) func(t *testing.T) *Run {
		return func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With(kv...), Check: noWrites(b)}
		}
	}
	cases := []Case{
		{Name: "input/power sideways", Want: Fail, Names: []string{"power"}, Setup: input("power", "sideways")},
		{Name: "input/power a dict", Want: Fail, Names: []string{"power"}, Setup: input("power", map[string]any{"on": true})},
		{Name: "input/trait lower case", Want: Fail, Names: []string{"traits"}, Setup: input("traits", []any{"custom_x"})},
		{Name: "input/10000 traits", Want: Fail, Names: []string{"traits"}, Setup: func(t *testing.T) *Run {
			b := start(t)
			many := make([]any, 10000)
			for i := range many {
				many[i] = "CUSTOM_T" + strings.Repeat("X", i%50)
			}
			return &Run{Args: b.With("traits", many), Check: noWrites(b)}
		}},
		{Name: "input/capabilities not k:v", Want: Fail, Names: []string{"capabilities"}, Setup: input("capabilities", "profile")},
		{Name: "input/capabilities value with a comma", Want: Fail, Names: []string{"capabilities"}, Setup: input("capabilities", map[string]any{"a": "b,c:d"})},
		{Name: "input/resource_class 1 MB", Want: Fail, Names: []string{"resource_class"}, Setup: input("resource_class", strings.Repeat("a", 1<<20))},
		{Name: "input/maintenance_reason leaving maintenance", Want: Fail, Names: []string{"maintenance_reason"}, Setup: input("maintenance_reason", "x")},
		{Name: "input/empty node", Want: Fail, Names: []string{"node"}, Setup: input("node", "")},
		{Name: "signal/SIGTERM during the power wait", Want: Fail, Setup: func(t *testing.T) *Run {
			e := newIronic(t)
			e.Fake.StepTime = time.Hour
			e.Fake.Add("h-1", "available", ironicfake.Field("power_state", "power on"))
			b := e.base(map[string]any{"node": "h-1", "power": "off"})
			return &Run{Args: b.Args, Signal: 2 * time.Second}
		}},
	}
	for _, name := range hostileNames {
		cases = append(cases, Case{Name: "path/node name " + name, Want: Any, Setup: func(t *testing.T) *Run {
			e := newIronic(t)
			e.Fake.Add("h-1", "available", ironicfake.Maintenance("x"))
			b := e.base(map[string]any{"node": name, "maintenance": false})
			return &Run{Args: b.Args, Check: func(t *testing.T, o *Outcome) {
				AssertNameEscaped(t, o, e.Front, name, "node")
				if n := len(e.Fake.Writes()); n > 0 {
					t.Errorf("%d write(s) for a node that does not exist: %v", n, e.Fake.Writes())
				}
			}}
		}})
	}
	Check(t, "ironic_node_action", append(ConnectionCases(tg), cases...))
}

func TestServerInfo(t *testing.T) {
	start := func(t *testing.T) *Base {
		_, b := newNova(t)
		b.Args = With(b.Args, "image", nil, "network", nil, "user_data", nil)
		return b
	}
	tg := Target{Module: "nova_bm_server_info", Start: start}
	cases := []Case{
		{Name: "input/empty flavor", Want: Fail, Names: []string{"flavor"}, Setup: func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("flavor", " "), Check: noWrites(b)}
		}},
		{Name: "input/state present", Want: Fail, Names: []string{"state"}, Setup: func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("state", "present"), Check: noWrites(b)}
		}},
		{Name: "read/diagnosis changes nothing", Want: OK, Setup: func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.Args, Check: noWrites(b)}
		}},
	}
	for _, name := range hostileNames {
		// The diagnosis matches a pinned node among the nodes it lists: the
		// name never goes into a URL, and no node has it.
		cases = append(cases, Case{Name: "path/availability_zone node " + name, Want: OK, Setup: func(t *testing.T) *Run {
			e, b := newNova(t)
			b.Args = With(b.Args, "image", nil, "network", nil, "user_data", nil)
			return &Run{Args: b.With("availability_zone", "nova::"+name), Check: func(t *testing.T, o *Outcome) {
				for _, u := range e.Front.URIs() {
					if strings.Contains(u, name) {
						t.Errorf("the pinned name %q reached a URL: %s", name, u)
					}
				}
				if !strings.Contains(o.Msg(), "which Ironic does not list") {
					t.Errorf("msg %q does not say no node has the name", clip(o.Msg()))
				}
				noWrites(b)(t, o)
			}}
		}})
		cases = append(cases, Case{Name: "path/flavor " + name, Want: Any, Setup: func(t *testing.T) *Run {
			e, b := newNova(t)
			b.Args = With(b.Args, "image", nil, "network", nil, "user_data", nil)
			return &Run{Args: b.With("flavor", name), Check: func(t *testing.T, o *Outcome) {
				AssertNameEscaped(t, o, e.Front, name, "flavor")
			}}
		}})
	}
	Check(t, "nova_bm_server_info", append(ConnectionCases(tg), cases...))
}
