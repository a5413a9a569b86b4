package diagnose

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/server/fakecloud"
)

const recorded = "../../tests/fixtures/server/recorded"

// inspScale asks for the class of the recorded insp-scale nodes.
func inspScale() Flavor {
	return Flavor{ID: "insp-scale", Name: "insp-scale", VCPUs: 4, RAM: 8192, Disk: 100, ExtraSpecs: map[string]string{
		"resources:CUSTOM_INSP_SCALE": "1", "resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0",
		"capabilities:profile": "baremetal",
	}}
}

func byName(d Diagnosis) map[string]NodeReport {
	out := map[string]NodeReport{}
	for _, n := range d.Nodes {
		out[n.Name] = n
	}
	return out
}

// Responses recorded from the loopback stack (Ironic 21.4, Nova 26,
// Placement 8) while other tests had nodes in every state.
func TestObserveRecordedCloud(t *testing.T) {
	c := fakecloud.New(t, recorded)
	src := Sources{Compute: c.Client("compute"), Baremetal: c.Client("baremetal"), Placement: c.Client("placement")}
	snap := Observe(context.Background(), src, inspScale(), nil, Request{})
	require.Empty(t, snap.Notes)
	require.Len(t, snap.Nodes, 9)
	assert.True(t, snap.HypervisorsListed)
	require.NotNil(t, snap.Placement)
	assert.Equal(t, "resources=CUSTOM_INSP_SCALE%3A1", snap.Placement.CandidatesQuery)

	d := Diagnose(snap)
	assert.Equal(t, []string{"insp-38ca51-scale-001", "insp-38ca51-scale-002", "insp-38ca51-scale-003"}, d.EligibleNodes)
	nodes := byName(d)
	first := func(name string) string { return firstBlocking(nodes[name]).Code }
	assert.Equal(t, CodePowerState, first("insp-38ca51-scale-033"), "available but power state null")
	assert.Equal(t, CodeNotAvailable, first("insp-38ca51-scale-036"))
	assert.Equal(t, CodeNoResourceClass, first("insp-38ca51-scale-034"))
	assert.Contains(t, nodes["insp-38ca51-scale-034"].Reasons[1].Message, "last_error: The inspecting state can't be resumed")
	assert.Equal(t, CodeNoResourceClass, first("insp-38ca51-scale-099"))
	assert.Equal(t, CodeResourceClass, first("enr-bulk-034"))
	// Placement detail was read only for the flavor's class, and only where Ironic shows the node free.
	assert.NotNil(t, nodes["insp-38ca51-scale-001"].Inventory)
	assert.Nil(t, nodes["insp-38ca51-scale-036"].Inventory, "manageable")
	assert.Nil(t, nodes["enr-bulk-034"].Inventory, "another class")
	assert.Equal(t, `3 of 9 node(s) can host flavor "insp-scale" (CUSTOM_INSP_SCALE=1, capabilities:profile=baremetal): `+
		`insp-38ca51-scale-001, insp-38ca51-scale-002, insp-38ca51-scale-003; the others: 1 power state unknown (insp-38ca51-scale-033) [fix: metalkit.baremetal.ironic_node_action power=off]; `+
		`1 manageable, needs provide (insp-38ca51-scale-036) [fix: metalkit.baremetal.ironic_introspect provide=true]; 2 of another resource class [existing: CUSTOM_BAREMETAL x2] (enr-bulk-034, enr-bulk-047); `+
		`2 no resource class (insp-38ca51-scale-034, insp-38ca51-scale-099) [fix: metalkit.baremetal.ironic_node_action resource_class=insp_scale]`, d.Summary)
}

func TestObserveRecordedCloudForTheBaremetalFlavor(t *testing.T) {
	c := fakecloud.New(t, recorded)
	src := Sources{Compute: c.Client("compute"), Baremetal: c.Client("baremetal"), Placement: c.Client("placement")}
	flavor := Flavor{ID: "baremetal", Name: "baremetal", VCPUs: 4, RAM: 8192, Disk: 100, ExtraSpecs: map[string]string{
		"resources:CUSTOM_BAREMETAL": "1", "resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}}
	server := &Server{ID: "s1", Name: "ocp-1", Status: "ERROR", Fault: &Fault{Code: 500, Message: "No valid host was found. There are not enough hosts available."}}
	d := Diagnose(Observe(context.Background(), src, flavor, server, Request{}))
	nodes := byName(d)
	// The two baremetal-class nodes are manageable with an unknown power
	// state: Ironic says why, Placement's detail is not read for them.
	assert.Equal(t, []string{CodeNotAvailable, CodePowerState, CodeTooSmall}, codes(nodes["enr-bulk-034"]))
	assert.Nil(t, nodes["enr-bulk-034"].Inventory)
	assert.Contains(t, d.Summary, "No valid host was found: none of 9 node(s) can host flavor \"baremetal\" (CUSTOM_BAREMETAL=1): 2 manageable, needs provide (enr-bulk-034, enr-bulk-047)")
}

func TestObserveSaysWhatItCouldNotRead(t *testing.T) {
	c := fakecloud.New(t, recorded)
	c.Fail["GET /compute/v2.1/os-hypervisors"] = 1
	src := Sources{Compute: c.Client("compute"), Baremetal: c.Client("baremetal"), PlacementErr: errors.New("no placement endpoint in the catalog")}
	snap := Observe(context.Background(), src, inspScale(), nil, Request{})
	assert.False(t, snap.HypervisorsListed)
	assert.Nil(t, snap.Placement)
	require.Len(t, snap.Notes, 2)
	assert.Contains(t, snap.Notes[0], "Nova hypervisors not read")
	assert.Contains(t, snap.Notes[1], "Placement not read: no placement endpoint in the catalog")
	d := Diagnose(snap)
	assert.Nil(t, d.Nodes[0].Hypervisor, "unknown, not false")
	assert.Equal(t, snap.Notes, d.Notes)
	assert.Len(t, d.EligibleNodes, 3, "judged on Ironic alone")
}

// A flavor asking for a class Placement never heard of: Placement answers
// 400, which is the diagnosis, not a failure to read.
func TestObserveUnknownClass(t *testing.T) {
	c := fakecloud.New(t, recorded)
	src := Sources{Compute: c.Client("compute"), Baremetal: c.Client("baremetal"), Placement: c.Client("placement")}
	flavor := inspScale()
	flavor.ExtraSpecs = map[string]string{"resources:CUSTOM_GOLD": "1", "resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}
	snap := Observe(context.Background(), src, flavor, nil, Request{})
	require.Empty(t, snap.Notes)
	require.NotNil(t, snap.Placement)
	assert.Equal(t, []string{"CUSTOM_GOLD"}, snap.Placement.UnknownClasses)
	d := Diagnose(snap)
	assert.Contains(t, d.Summary, "none of 9 node(s) can host flavor \"insp-scale\" (CUSTOM_GOLD=1): no node is of class CUSTOM_GOLD (Placement has never seen it); ")
	assert.Contains(t, d.Summary, "[existing: CUSTOM_INSP_SCALE x5, CUSTOM_BAREMETAL x2]")
}
