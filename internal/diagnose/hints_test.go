package diagnose

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each node remedy names the collection's task to run, not a CLI line.
func TestHintsNameTheTaskToRun(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Snapshot)
		code   string
		hint   string
	}{
		{"maintenance", func(s *Snapshot) { s.Nodes[0].Maintenance = true },
			CodeMaintenance, "when fixed: metalkit.baremetal.ironic_node_action: node=srv-a maintenance=false"},
		{"power unknown", func(s *Snapshot) { s.Nodes[0].PowerState = "" },
			CodePowerState, "run metalkit.baremetal.ironic_node_action: node=srv-a power=off"},
		{"power error", func(s *Snapshot) { s.Nodes[0].PowerState = "error" },
			CodePowerState, "then run metalkit.baremetal.ironic_node_action: node=srv-a power=off"},
		{"no resource class", func(s *Snapshot) { s.Nodes[0].ResourceClass = "" },
			CodeNoResourceClass, "set one: metalkit.baremetal.ironic_node_action: node=srv-a resource_class=baremetal"},
		{"other resource class", func(s *Snapshot) { s.Nodes[0].ResourceClass = "gold" },
			CodeResourceClass, "(metalkit.baremetal.ironic_node_action: node=srv-a resource_class=baremetal) or use a flavor with resources:CUSTOM_GOLD=1"},
		{"CUSTOM_CUSTOM_ trap", func(s *Snapshot) {
			s.Nodes[0].ResourceClass = "CUSTOM_BAREMETAL"
			s.Flavor.ExtraSpecs["resources:CUSTOM_BAREMETAL"] = "1"
		}, CodeCustomCustom, "not CUSTOM_BAREMETAL: metalkit.baremetal.ironic_node_action: node=srv-a resource_class=baremetal"},
		{"capability", func(s *Snapshot) { s.Nodes[0].Properties["capabilities"] = "profile:control" },
			CodeCapability, "if the node is meant for it: metalkit.baremetal.ironic_node_action: node=srv-a capabilities=profile:baremetal"},
		{"trait missing", func(s *Snapshot) { s.Flavor.ExtraSpecs["trait:CUSTOM_GPU"] = "required" },
			CodeTraitMissing, "the node does not have it: metalkit.baremetal.ironic_node_action: node=srv-a traits=CUSTOM_GPU"},
		{"trait forbidden", func(s *Snapshot) {
			s.Flavor.ExtraSpecs["trait:CUSTOM_GPU"] = "forbidden"
			s.Nodes[0].Traits = []string{"CUSTOM_A", "CUSTOM_GPU"}
		}, CodeTraitForbidden, "the node has it: metalkit.baremetal.ironic_node_action: node=srv-a traits=[CUSTOM_A] purge_traits=true"},
		{"manageable", func(s *Snapshot) { s.Nodes[0].ProvisionState = "manageable" },
			CodeNotAvailable, "metalkit.baremetal.ironic_introspect: nodes=srv-a provide=true"},
		{"clean failed", func(s *Snapshot) { s.Nodes[0].ProvisionState = "clean failed" },
			CodeNotAvailable, "fix the cause, then metalkit.baremetal.ironic_introspect: nodes=srv-a provide=true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Diagnose(snapshot(tc.mutate))
			require.Len(t, d.Nodes, 1)
			var msg string
			for _, r := range d.Nodes[0].Reasons {
				if r.Code == tc.code {
					msg = r.Message
				}
			}
			require.NotEmpty(t, msg, "no %s reason in %v", tc.code, d.Nodes[0].Reasons)
			assert.Contains(t, msg, tc.hint)
			assert.NotContains(t, msg, "openstack baremetal", "no CLI line")
		})
	}
}

func TestPlainCapabilityValue(t *testing.T) {
	for spec, plain := range map[string]bool{"baremetal": true, "compute": true, "s== x": false, "<in> a": false, ">= 2": false,
		"= 2": false, "s>x": false, "a,b": false, "": false, "sata": true} {
		assert.Equal(t, plain, plainValue(spec), spec)
	}
}

// The summary's groups say the task that fixes them, once for the group.
func TestSummaryNamesTheFixOfEachGroup(t *testing.T) {
	s := snapshot(func(s *Snapshot) {
		s.Nodes = []Node{goodNode(uuidA, "m1"), goodNode(uuidB, "m2"), goodNode(uuidC, "p1")}
		s.Nodes[0].Maintenance, s.Nodes[1].Maintenance = true, true
		s.Nodes[2].ProvisionState = "manageable"
		s.Placement = goodPlacement(uuidA, uuidB, uuidC)
		s.Hypervisors = nil
		s.HypervisorsListed = false
	})
	d := Diagnose(s)
	assert.Contains(t, d.Summary, "2 in maintenance (m1, m2) [fix: metalkit.baremetal.ironic_node_action maintenance=false]")
	assert.Contains(t, d.Summary, "1 manageable, needs provide (p1) [fix: metalkit.baremetal.ironic_introspect provide=true]")

	// Nodes of one group needing different fixes get none in the summary.
	s = snapshot(func(s *Snapshot) {
		s.Nodes = []Node{goodNode(uuidA, "t1"), goodNode(uuidB, "t2")}
		s.Flavor.ExtraSpecs["trait:CUSTOM_GPU"] = "required"
		s.Flavor.ExtraSpecs["trait:CUSTOM_OLD"] = "forbidden"
		s.Nodes[0].Traits = []string{}
		s.Nodes[1].Traits = []string{"CUSTOM_GPU", "CUSTOM_OLD"}
		s.Placement = goodPlacement(uuidA, uuidB)
		s.Hypervisors = nil
		s.HypervisorsListed = false
	})
	d = Diagnose(s)
	assert.Contains(t, d.Summary, "2 traits differ (t1, t2)")
	assert.NotContains(t, d.Summary, "[fix:")
}
