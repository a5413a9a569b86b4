package inspect

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var inspectedAt = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// node builds an observed node: state, then options.
func node(state string, opts ...func(*Node)) Node {
	n := Node{UUID: "1be26c0b-03f2-4d2e-ae87-c02d7f33c123", Name: "insp-unit", ProvisionState: state, Properties: map[string]any{}}
	for _, o := range opts {
		o(&n)
	}
	return n
}

func inspected(n *Node)           { n.InspectionFinishedAt = &inspectedAt }
func poweredOff(n *Node)          { n.PowerState = PowerOff }
func target(t string) func(*Node) { return func(n *Node) { n.TargetProvisionState = t } }
func props(kv ...any) func(*Node) {
	return func(n *Node) {
		for i := 0; i < len(kv); i += 2 {
			n.Properties[kv[i].(string)] = kv[i+1]
		}
	}
}
func rc(c string) func(*Node) { return func(n *Node) { n.ResourceClass = c } }

func caps(s string) Capabilities {
	c, err := ParseCapabilities(s)
	if err != nil {
		panic(err)
	}
	return c
}

func actions(p Plan) []Action {
	out := []Action{}
	for _, s := range p.Steps {
		out = append(out, s.Action)
	}
	return out
}

func TestNewPlan(t *testing.T) {
	flavor := Desired{Provide: true, Capabilities: caps("profile:baremetal,boot_option:local"), ResourceClass: "baremetal"}
	tests := []struct {
		name      string
		node      Node
		desired   Desired
		inspected bool // already inspected by this run
		want      []Action
		wantState string
		wantErr   string
	}{
		{name: "enroll to available with flavor tags", node: node(StateEnroll), desired: flavor,
			want: []Action{ActManage, ActInspect, ActUpdate, ActProvide, ActPowerOff}, wantState: StateAvailable},
		{name: "enroll to manageable without provide", node: node(StateEnroll), desired: Desired{},
			want: []Action{ActManage, ActInspect}, wantState: StateManageable},
		{name: "second run: available, tagged, powered off is unchanged", desired: flavor,
			node: node(StateAvailable, inspected, poweredOff, rc("baremetal"), props("capabilities", "boot_mode:uefi,profile:baremetal,boot_option:local")),
			want: []Action{}, wantState: StateAvailable},
		{name: "second run without provide: manageable and inspected is unchanged", node: node(StateManageable, inspected), desired: Desired{},
			want: []Action{}, wantState: StateManageable},
		{name: "available fake-hardware node with unknown power is powered off", desired: Desired{Provide: true},
			node: node(StateAvailable, inspected), want: []Action{ActPowerOff}, wantState: StateAvailable},
		{name: "available node never inspected goes back through manage", node: node(StateAvailable, poweredOff), desired: Desired{},
			want: []Action{ActManage, ActInspect}, wantState: StateManageable},
		{name: "force re-inspects", node: node(StateManageable, inspected), desired: Desired{Force: true},
			want: []Action{ActInspect}, wantState: StateManageable},
		{name: "force does not loop once inspected by this run", node: node(StateManageable, inspected), desired: Desired{Force: true}, inspected: true,
			want: []Action{}, wantState: StateManageable},
		{name: "inspect failed is inspected again", node: node(StateInspectFail, inspected), desired: Desired{Provide: true},
			want: []Action{ActInspect, ActProvide, ActPowerOff}, wantState: StateAvailable},
		{name: "clean failed is managed then provided again", node: node(StateCleanFail, inspected, poweredOff), desired: Desired{Provide: true},
			want: []Action{ActManage, ActProvide}, wantState: StateAvailable},
		// What Ironic really shows: a failed state keeps the failed operation's target (not a stable state of its machine).
		{name: "inspect failed keeping its target manageable is inspected again, not waited for", node: node(StateInspectFail, target(StateManageable)), desired: Desired{},
			want: []Action{ActInspect}, wantState: StateManageable},
		{name: "clean failed keeping its target available is managed then provided again", node: node(StateCleanFail, inspected, poweredOff, target(StateAvailable)), desired: Desired{Provide: true},
			want: []Action{ActManage, ActProvide}, wantState: StateAvailable},
		{name: "verifying is waited for", node: node(StateVerifying, target(StateManageable)), desired: Desired{},
			want: []Action{ActWait, ActInspect}, wantState: StateManageable},
		{name: "inspection in progress counts as the inspection", node: node(StateInspectWait, target(StateManageable)), desired: Desired{},
			want: []Action{ActWait}, wantState: StateManageable},
		{name: "cleaning towards available is waited for", node: node(StateCleaning, inspected, poweredOff, target(StateAvailable)), desired: Desired{Provide: true},
			want: []Action{ActWait}, wantState: StateAvailable},
		{name: "resource class changed in place on an available node", desired: Desired{Provide: true, ResourceClass: "baremetal"},
			node: node(StateAvailable, inspected, poweredOff, rc("compute")), want: []Action{ActUpdate}, wantState: StateAvailable},
		{name: "capabilities only: updated in available", desired: Desired{Capabilities: caps("profile:baremetal")},
			node: node(StateAvailable, inspected, poweredOff), want: []Action{ActUpdate}, wantState: StateAvailable},
		{name: "active node is refused", node: node(StateActive, func(n *Node) { n.InstanceUUID = "i-1" }), desired: flavor,
			wantErr: `provision state "active": only enroll, manageable, available, inspect failed and clean failed nodes are inspected (it hosts instance i-1)`},
		{name: "deployed node already inspected and tagged is unchanged", node: node(StateActive, inspected, poweredOff, rc("baremetal"), func(n *Node) { n.InstanceUUID = "i-1" }),
			desired: Desired{Provide: true, ResourceClass: "baremetal"}, want: []Action{}, wantState: StateActive},
		{name: "deployed node needing a tag is refused", node: node(StateActive, inspected, rc("compute"), func(n *Node) { n.InstanceUUID = "i-1" }),
			desired: Desired{ResourceClass: "baremetal"}, wantErr: `provision state "active"`},
		{name: "deploying node is refused", node: node("deploying", target(StateActive)), desired: flavor,
			wantErr: `Ironic is moving it from "deploying" to "active"`},
		{name: "maintenance with work to do is refused", node: node(StateManageable, func(n *Node) { n.Maintenance, n.MaintenanceReason = true, "disk swap" }),
			desired: Desired{}, wantErr: "in maintenance (disk swap): Ironic refuses to inspect or provide it; unset maintenance first"},
		{name: "maintenance with nothing to do is fine", node: node(StateManageable, inspected, func(n *Node) { n.Maintenance = true }),
			desired: Desired{}, want: []Action{}, wantState: StateManageable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPlan(tt.node, tt.desired, tt.inspected)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), "node insp-unit")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, actions(p))
			assert.Equal(t, tt.wantState, p.After.ProvisionState)
			assert.Equal(t, len(tt.want) > 0 && tt.want[0] != ActWait || len(tt.want) > 1, p.Changed())

			// Idempotence is a property of the plan: the node as planned needs nothing more.
			again, err := NewPlan(p.After, Desired{Provide: tt.desired.Provide, Capabilities: tt.desired.Capabilities,
				ResourceClass: tt.desired.ResourceClass, Properties: tt.desired.Properties}, true)
			require.NoError(t, err)
			assert.Empty(t, again.Steps, "planning the planned outcome again")
		})
	}
}

func TestNewPlanDoesNotModifyTheObservedNode(t *testing.T) {
	n := node(StateManageable, inspected, props("capabilities", "boot_mode:uefi", "cpus", 8))
	_, err := NewPlan(n, Desired{Capabilities: caps("profile:baremetal"), Properties: map[string]any{"cpus": nil}}, false)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"capabilities": "boot_mode:uefi", "cpus": 8}, n.Properties)
}

func TestPropertyChanges(t *testing.T) {
	tests := []struct {
		name    string
		node    Node
		desired Desired
		want    []Change
	}{
		{name: "capabilities merged, never dropping what inspection found",
			node:    node(StateManageable, props("capabilities", "boot_mode:uefi,cpu_vt:true,profile:compute")),
			desired: Desired{Capabilities: caps("profile:baremetal,boot_option:local")},
			want: []Change{{Path: "properties/capabilities", Before: "boot_mode:uefi,cpu_vt:true,profile:compute",
				After: "boot_mode:uefi,cpu_vt:true,profile:baremetal,boot_option:local"}}},
		{name: "capabilities already there", node: node(StateManageable, props("capabilities", "boot_option:local,profile:baremetal,x:y")),
			desired: Desired{Capabilities: caps("profile:baremetal,boot_option:local")}},
		{name: "resource class set", node: node(StateManageable), desired: Desired{ResourceClass: "baremetal"},
			want: []Change{{Path: "resource_class", Before: nil, After: "baremetal"}}},
		{name: "properties key by key, others kept", node: node(StateManageable, props("cpus", 8.0, "memory_mb", 4096.0, "local_gb", 40.0)),
			desired: Desired{Properties: map[string]any{"memory_mb": json.Number("8192"), "cpu_arch": "x86_64"}},
			want: []Change{
				{Path: "properties/cpu_arch", Before: nil, After: "x86_64"},
				{Path: "properties/memory_mb", Before: 4096.0, After: json.Number("8192")},
			}},
		{name: "number as text equals the number", node: node(StateManageable, props("memory_mb", 4096.0, "root_device", map[string]any{"name": "/dev/sda"})),
			desired: Desired{Properties: map[string]any{"memory_mb": "4096", "root_device": map[string]any{"name": "/dev/sda"}}}},
		{name: "nil removes a key", node: node(StateManageable, props("vendor", "x")), desired: Desired{Properties: map[string]any{"vendor": nil, "absent": nil}},
			want: []Change{{Path: "properties/vendor", Before: "x", Remove: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, propertyChanges(tt.node, tt.desired))
		})
	}
}

func TestStepString(t *testing.T) {
	assert.Equal(t, "manage (enroll -> manageable)", Step{Action: ActManage, From: StateEnroll, To: StateManageable}.String())
	assert.Equal(t, "power off (available)", Step{Action: ActPowerOff, From: StateAvailable, To: StateAvailable}.String())
	assert.Equal(t, "update resource_class, properties/capabilities",
		Step{Action: ActUpdate, Changes: []Change{{Path: "resource_class"}, {Path: "properties/capabilities"}}}.String())
}
