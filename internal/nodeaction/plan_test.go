package nodeaction

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/capabilities"
)

func ptr[T any](v T) *T { return &v }

func caps(t *testing.T, s string) capabilities.Capabilities {
	c, err := capabilities.Parse(s)
	require.NoError(t, err)
	return c
}

func TestMakePlan(t *testing.T) {
	base := func() *nodes.Node {
		return &nodes.Node{UUID: "u-1", Name: "n-1", ProvisionState: "available", PowerState: "power off",
			ResourceClass: "baremetal", Traits: []string{"CUSTOM_B", "CUSTOM_A"},
			Properties: map[string]any{"capabilities": "boot_mode:uefi,profile:control"}}
	}
	inMaint := func() *nodes.Node { n := base(); n.Maintenance, n.MaintenanceReason = true, "bad DIMM"; return n }
	cases := []struct {
		name    string
		node    *nodes.Node
		d       Desired
		actions []Action
		check   func(t *testing.T, p Plan)
	}{
		{name: "maintenance on", node: base(), d: Desired{Maintenance: ptr(true), MaintenanceReason: ptr("fan")},
			actions: []Action{ActionSetMaintenance},
			check: func(t *testing.T, p Plan) {
				assert.Equal(t, "fan", p.After.MaintenanceReason)
				assert.Equal(t, "set maintenance (fan)", p.Describe())
			}},
		{name: "maintenance on, same reason", node: inMaint(), d: Desired{Maintenance: ptr(true), MaintenanceReason: ptr("bad DIMM")}},
		{name: "maintenance on, no reason given", node: inMaint(), d: Desired{Maintenance: ptr(true)}},
		{name: "maintenance on, new reason", node: inMaint(), d: Desired{Maintenance: ptr(true), MaintenanceReason: ptr("PSU")},
			actions: []Action{ActionSetMaintenance}},
		{name: "maintenance off", node: inMaint(), d: Desired{Maintenance: ptr(false)}, actions: []Action{ActionUnsetMaintenance},
			check: func(t *testing.T, p Plan) {
				assert.False(t, p.After.Maintenance)
				assert.Empty(t, p.After.MaintenanceReason)
				assert.True(t, p.Before.Maintenance)
			}},
		{name: "maintenance off already", node: base(), d: Desired{Maintenance: ptr(false)}},
		{name: "power off already", node: base(), d: Desired{Power: PowerOff}},
		{name: "power on", node: base(), d: Desired{Power: PowerOn}, actions: []Action{ActionPowerOn},
			check: func(t *testing.T, p Plan) { assert.Equal(t, nodes.PowerOn, p.PowerTarget) }},
		{name: "power unknown to off", node: func() *nodes.Node { n := base(); n.PowerState = ""; return n }(), d: Desired{Power: PowerOff},
			actions: []Action{ActionPowerOff}},
		{name: "reboot always acts", node: func() *nodes.Node { n := base(); n.PowerState = "power on"; return n }(), d: Desired{Power: PowerReboot},
			actions: []Action{ActionReboot},
			check:   func(t *testing.T, p Plan) { assert.Equal(t, "power on", p.PowerEnds) }},
		{name: "resource class and capabilities in one patch", node: base(),
			d:       Desired{ResourceClass: ptr("gold"), Capabilities: caps(t, "profile:compute,cpu_vt:true")},
			actions: []Action{ActionSetResourceClass, ActionSetCapabilities},
			check: func(t *testing.T, p Plan) {
				require.Len(t, p.Patch, 2)
				assert.Equal(t, "/resource_class", p.Patch[0].(nodes.UpdateOperation).Path)
				assert.Equal(t, "boot_mode:uefi,profile:compute,cpu_vt:true", p.Patch[1].(nodes.UpdateOperation).Value, "merged key by key, order kept")
				assert.Equal(t, map[string]any{"boot_mode": "uefi", "profile": "compute", "cpu_vt": "true"}, p.After.Capabilities)
			}},
		{name: "capabilities covered", node: base(), d: Desired{Capabilities: caps(t, "profile:control")}},
		{name: "resource class same", node: base(), d: Desired{ResourceClass: ptr("baremetal")}},
		{name: "traits added", node: base(), d: Desired{Traits: []string{"CUSTOM_C"}}, actions: []Action{ActionSetTraits},
			check: func(t *testing.T, p Plan) { assert.Equal(t, []string{"CUSTOM_A", "CUSTOM_B", "CUSTOM_C"}, p.Traits) }},
		{name: "traits present already", node: base(), d: Desired{Traits: []string{"CUSTOM_A"}}},
		{name: "traits purged", node: base(), d: Desired{Traits: []string{"CUSTOM_A"}, PurgeTraits: true}, actions: []Action{ActionSetTraits},
			check: func(t *testing.T, p Plan) { assert.Equal(t, []string{"CUSTOM_A"}, p.Traits) }},
		{name: "traits exact already", node: base(), d: Desired{Traits: []string{"CUSTOM_B", "CUSTOM_A"}, PurgeTraits: true}},
		{name: "all traits removed", node: base(), d: Desired{Traits: []string{}, PurgeTraits: true}, actions: []Action{ActionSetTraits},
			check: func(t *testing.T, p Plan) { assert.Equal(t, []string{}, p.After.Traits) }},
		{name: "order: maintenance off comes last", node: inMaint(),
			d:       Desired{Maintenance: ptr(false), Power: PowerOn, ResourceClass: ptr("gold"), Traits: []string{"CUSTOM_Z"}},
			actions: []Action{ActionSetResourceClass, ActionSetTraits, ActionPowerOn, ActionUnsetMaintenance},
			check: func(t *testing.T, p Plan) {
				assert.Equal(t, "set resource_class gold, then set traits [CUSTOM_A, CUSTOM_B, CUSTOM_Z], then power on, then unset maintenance", p.Describe())
			}},
		{name: "order: maintenance on comes first", node: base(), d: Desired{Maintenance: ptr(true), Power: PowerOn},
			actions: []Action{ActionSetMaintenance, ActionPowerOn}},
		{name: "CUSTOM_ class warns", node: base(), d: Desired{ResourceClass: ptr("CUSTOM_GOLD")}, actions: []Action{ActionSetResourceClass},
			check: func(t *testing.T, p Plan) {
				require.Len(t, p.Warnings, 1)
				assert.Contains(t, p.Warnings[0], "CUSTOM_CUSTOM_GOLD")
				assert.Contains(t, p.Warnings[0], "set resource_class gold")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			d.Node = "n-1"
			p, err := MakePlan(d, tc.node)
			require.NoError(t, err)
			assert.Equal(t, tc.actions, p.Actions)
			assert.Equal(t, len(tc.actions) > 0, p.Changes())
			if len(tc.actions) == 0 {
				assert.Equal(t, p.Before, p.After, "no change, same view")
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestMakePlanRefusesMalformedCapabilities(t *testing.T) {
	n := &nodes.Node{Name: "n-1", Properties: map[string]any{"capabilities": "profile"}}
	_, err := MakePlan(Desired{Node: "n-1", Capabilities: caps(t, "a:b")}, n)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `node n-1: its properties/capabilities cannot be merged: capability "profile" is not key:value`)
}

func manyTraits(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("CUSTOM_T%d", i)
	}
	return out
}

func TestCheck(t *testing.T) {
	cases := []struct {
		d   Desired
		msg string
	}{
		{Desired{Node: " ", Power: PowerOn}, "node: must not be empty"},
		{Desired{Node: "a/../../ports", Power: PowerOn}, `node: "a/../../ports" is not a node name or UUID`},
		{Desired{Node: "a b", Power: PowerOn}, `node: "a b" is not a node name or UUID`},
		{Desired{Node: strings.Repeat("x", 300), Power: PowerOn}, "is not a node name or UUID (at most 255 characters"},
		{Desired{Node: "n", Traits: manyTraits(51)}, "traits: 51 traits, Ironic allows at most 50 per node"},
		{Desired{Node: "n"}, "nothing to do: give at least one of maintenance, power, resource_class, capabilities, traits"},
		{Desired{Node: "n", MaintenanceReason: ptr("x")}, "maintenance_reason: only with maintenance: true"},
		{Desired{Node: "n", Maintenance: ptr(false), MaintenanceReason: ptr("x")}, "maintenance_reason: only with maintenance: true"},
		{Desired{Node: "n", ResourceClass: ptr("")}, "resource_class: must not be empty"},
		{Desired{Node: "n", ResourceClass: ptr(" gold")}, `resource_class: " gold" has leading or trailing spaces`},
		{Desired{Node: "n", Traits: []string{"CUSTOM_A", "custom_b"}}, `traits[1]: "custom_b" is not a trait name`},
		{Desired{Node: "n", Traits: []string{"CUSTOM_A", "CUSTOM_A"}}, "traits[1]: CUSTOM_A is listed twice"},
		{Desired{Node: "n", PurgeTraits: true, Power: PowerOn}, "purge_traits: needs traits"},
	}
	for _, tc := range cases {
		err := tc.d.Check()
		if assert.Error(t, err, tc.msg) {
			assert.Contains(t, err.Error(), tc.msg)
		}
	}
	d := Desired{Node: "n", Power: "absent"}
	require.NoError(t, d.Check())
	assert.Equal(t, PowerOff, d.Power, "openstack.cloud's absent is off")
}
