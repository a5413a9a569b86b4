package enroll

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var defaults = Options{InitialState: StateManageable, UpdatePassword: PasswordOnCreate, Wait: true, Concurrency: 8}

func parseOne(t *testing.T, node map[string]any) *Node {
	t.Helper()
	in, err := Parse([]any{node}, false)
	require.NoError(t, err)
	return in.Nodes[0]
}

// enrolled is what Ironic shows after our module enrolled workflowNode:
// numbers as JSON decodes them, the password masked.
func enrolled() (*IronicNode, []IronicPort) {
	n := &IronicNode{
		UUID: "11111111-1111-1111-1111-111111111111", Name: "blade-ocp-node-1", Driver: "ipmi",
		DriverInfo:     map[string]any{"ipmi_address": "127.0.0.1", "ipmi_username": "root", "ipmi_password": "******"},
		Properties:     map[string]any{"cpus": float64(2), "memory_mb": float64(4096), "local_gb": float64(40), "cpu_arch": "x86_64"},
		ResourceClass:  "baremetal",
		ProvisionState: "manageable",
		Fields:         map[string]any{"boot_interface": "pxe", "deploy_interface": "direct", "conductor_group": ""},
	}
	ports := []IronicPort{{UUID: "p-1", Address: "18:db:f2:8c:d5:fa", NodeUUID: n.UUID}}
	return n, ports
}

func ops(p *Plan) []string {
	var out []string
	for _, op := range p.Patch {
		out = append(out, op.String())
	}
	return out
}

func TestPlanCreate(t *testing.T) {
	p := PlanNode(parseOne(t, workflowNode()), NewObserved(nil, nil), defaults)
	require.NoError(t, p.Err)
	assert.Equal(t, ActionCreate, p.Action)
	assert.True(t, p.Changed())
	assert.Equal(t, map[string]any{
		"name": "blade-ocp-node-1", "driver": "ipmi",
		"driver_info":    map[string]any{"ipmi_address": "127.0.0.1", "ipmi_username": "root", "ipmi_password": sentinel},
		"properties":     map[string]any{"cpus": int64(2), "memory_mb": int64(4096), "local_gb": int64(40), "cpu_arch": "x86_64"},
		"resource_class": "baremetal",
		"boot_interface": "pxe", "deploy_interface": "direct",
	}, p.CreateBody, "no provision_state, no automated clean request: created in enroll, never cleaned")
	assert.Equal(t, []Port{{Address: "18:db:f2:8c:d5:fa"}}, p.PortCreates)
	assert.True(t, p.Manage)
	assert.True(t, p.Wait)

	p = PlanNode(parseOne(t, workflowNode()), NewObserved(nil, nil), Options{InitialState: StateEnroll})
	assert.False(t, p.Manage, "initial_state enroll: no manage")
}

// TestPlanIdempotent: what the module enrolled, planned again, is an empty plan.
func TestPlanIdempotent(t *testing.T) {
	n, ports := enrolled()
	p := PlanNode(parseOne(t, workflowNode()), NewObserved([]*IronicNode{n}, ports), defaults)
	require.NoError(t, p.Err)
	assert.Equal(t, ActionUnchanged, p.Action)
	assert.False(t, p.Changed(), "ops: %v ports: %v %v %v manage: %v", ops(p), p.PortCreates, p.PortPatches, p.PortDeletes, p.Manage)
	assert.Equal(t, "name", p.MatchedBy)
}

func TestPlanUpdates(t *testing.T) {
	tests := []struct {
		name    string
		node    func(map[string]any)
		ironic  func(*IronicNode, *[]IronicPort)
		opts    func(*Options)
		ops     []string
		creates []string
		deletes []string
		manage  bool
		kept    []string
	}{
		{name: "password masked, on_create: left alone",
			ironic: func(n *IronicNode, _ *[]IronicPort) {}, ops: nil},
		{name: "password masked, always: rewritten, shown masked",
			opts: func(o *Options) { o.UpdatePassword = PasswordAlways },
			ops:  []string{"replace /driver_info/ipmi_password=********"}},
		{name: "password missing on the node: added even on_create",
			ironic: func(n *IronicNode, _ *[]IronicPort) { delete(n.DriverInfo, "ipmi_password") },
			ops:    []string{"add /driver_info/ipmi_password=********"}},
		{name: "BMC address changed",
			node: func(m map[string]any) { m["pm_addr"] = "127.0.0.2" },
			ops:  []string{"replace /driver_info/ipmi_address=127.0.0.2"}},
		{name: "numbers as strings on the node are the same numbers",
			ironic: func(n *IronicNode, _ *[]IronicPort) { n.Properties["memory_mb"] = "4096"; n.Properties["cpus"] = 2 },
			ops:    nil},
		{name: "memory changed on a node never inspected: replaced",
			node: func(m map[string]any) { m["memory"] = 8192 },
			ops:  []string{"replace /properties/memory_mb=8192"}},
		{name: "memory differs on an inspected node: inspection wins",
			node:   func(m map[string]any) { m["memory"] = 8192 },
			ironic: func(n *IronicNode, _ *[]IronicPort) { n.Inspected = true; n.Properties["memory_mb"] = float64(16384) },
			ops:    nil, kept: []string{"memory_mb 16384 (input 8192)"}},
		{name: "introspected keys not in the input are kept, capability merged",
			node: func(m map[string]any) { m["capabilities"] = "profile:baremetal,boot_option:local" },
			ironic: func(n *IronicNode, _ *[]IronicPort) {
				n.Inspected = true
				n.Properties["capabilities"] = "boot_mode:uefi,cpu_vt:true"
				n.Properties["vendor"] = "acme"
				n.Properties["local_gb"] = float64(37)
			},
			ops:  []string{"replace /properties/capabilities=boot_mode:uefi,cpu_vt:true,profile:baremetal,boot_option:local"},
			kept: []string{"local_gb 37 (input 40)"}},
		{name: "capabilities already there (other order): nothing",
			node:   func(m map[string]any) { m["capabilities"] = map[string]any{"profile": "baremetal"} },
			ironic: func(n *IronicNode, _ *[]IronicPort) { n.Properties["capabilities"] = "cpu_vt:true,profile:baremetal" },
			ops:    nil},
		{name: "capabilities absent: added",
			node: func(m map[string]any) { m["profile"] = "compute" },
			ops:  []string{"add /properties/capabilities=profile:compute"}},
		{name: "resource class from the input enforced",
			node: func(m map[string]any) { m["resource_class"] = "gold" },
			ops:  []string{"replace /resource_class=gold"}},
		{name: "resource class of the node kept when the input says none",
			ironic: func(n *IronicNode, _ *[]IronicPort) { n.ResourceClass = "silver" },
			ops:    nil},
		{name: "node without resource class gets the default",
			ironic: func(n *IronicNode, _ *[]IronicPort) { n.ResourceClass = "" },
			ops:    []string{"replace /resource_class=baremetal"}},
		{name: "driver changed from classic to redfish",
			node: func(m map[string]any) {
				m["pm_type"], m["pm_addr"], m["pm_system_id"] = "redfish", "https://127.0.0.1:8000", "/redfish/v1/Systems/1"
			},
			ops: []string{"replace /driver=redfish", "add /driver_info/redfish_address=https://127.0.0.1:8000",
				"add /driver_info/redfish_password=********", "add /driver_info/redfish_system_id=/redfish/v1/Systems/1",
				"add /driver_info/redfish_username=root"}},
		{name: "renamed node found by MAC",
			ironic: func(n *IronicNode, _ *[]IronicPort) { n.Name = "old-name" },
			ops:    []string{"replace /name=blade-ocp-node-1"}},
		{name: "extra port removed, new one added",
			node:    func(m map[string]any) { m["mac"] = []any{"52:54:00:00:00:02"} },
			creates: []string{"52:54:00:00:00:02"}, deletes: []string{"18:db:f2:8c:d5:fa"}},
		{name: "no MACs in the input: ports left alone",
			node: func(m map[string]any) { delete(m, "mac") },
		},
		{name: "node still in enroll: manage",
			ironic: func(n *IronicNode, _ *[]IronicPort) { n.ProvisionState = "enroll" },
			manage: true},
		{name: "node already available: never moved back",
			ironic: func(n *IronicNode, _ *[]IronicPort) { n.ProvisionState = "available" },
		},
		{name: "conductor group and interface set",
			node: func(m map[string]any) { m["conductor_group"] = "Rack1"; m["console_interface"] = "no-console" },
			ops:  []string{"replace /conductor_group=rack1", "replace /console_interface=no-console"}},
		{name: "free properties merged key by key",
			node:   func(m map[string]any) { m["properties"] = map[string]any{"vendor": "acme"} },
			ironic: func(n *IronicNode, _ *[]IronicPort) { n.Properties["vendor"] = "other"; n.Properties["serial"] = "S1" },
			ops:    []string{"replace /properties/vendor=acme"}},
		{name: "root device hints replaced whole",
			node:   func(m map[string]any) { m["root_device"] = map[string]any{"serial": "S2"} },
			ironic: func(n *IronicNode, _ *[]IronicPort) { n.Properties["root_device"] = map[string]any{"serial": "S1"} },
			ops:    []string{"replace /properties/root_device=map[serial:S2]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := workflowNode()
			if tt.node != nil {
				tt.node(node)
			}
			n, ports := enrolled()
			if tt.ironic != nil {
				tt.ironic(n, &ports)
			}
			opts := defaults
			if tt.opts != nil {
				tt.opts(&opts)
			}
			p := PlanNode(parseOne(t, node), NewObserved([]*IronicNode{n}, ports), opts)
			require.NoError(t, p.Err)
			assert.Equal(t, tt.ops, ops(p))
			var creates, deletes []string
			for _, c := range p.PortCreates {
				creates = append(creates, c.Address)
			}
			for _, d := range p.PortDeletes {
				deletes = append(deletes, d.Address)
			}
			assert.Equal(t, tt.creates, creates, "port creates")
			assert.Equal(t, tt.deletes, deletes, "port deletes")
			assert.Equal(t, tt.manage, p.Manage, "manage")
			assert.Equal(t, tt.kept, p.Kept, "kept")
			changed := len(tt.ops) > 0 || len(tt.creates) > 0 || len(tt.deletes) > 0 || tt.manage
			assert.Equal(t, changed, p.Changed())
			if changed {
				assert.Equal(t, ActionUpdate, p.Action)
			} else {
				assert.Equal(t, ActionUnchanged, p.Action)
			}
		})
	}
}

func TestPlanPortAttributes(t *testing.T) {
	node := workflowNode()
	delete(node, "mac")
	node["ports"] = []any{map[string]any{"address": "18:db:f2:8c:d5:fa", "physical_network": "ctlplane", "pxe_enabled": true}}
	n, ports := enrolled()
	f := false
	ports[0].PXEEnabled = &f
	p := PlanNode(parseOne(t, node), NewObserved([]*IronicNode{n}, ports), defaults)
	require.NoError(t, p.Err)
	require.Len(t, p.PortPatches, 1)
	assert.Equal(t, "p-1", p.PortPatches[0].UUID)
	var got []string
	for _, op := range p.PortPatches[0].Ops {
		got = append(got, op.String())
	}
	assert.Equal(t, []string{"replace /physical_network=ctlplane", "replace /pxe_enabled=true"}, got)
}

func TestPlanMatching(t *testing.T) {
	a := &IronicNode{UUID: "aaaa", Name: "node-a", Driver: "fake-hardware", ResourceClass: "baremetal", ProvisionState: "manageable"}
	b := &IronicNode{UUID: "bbbb", Name: "node-b", Driver: "fake-hardware", ResourceClass: "baremetal", ProvisionState: "manageable"}
	ports := []IronicPort{{UUID: "pa", Address: "52:54:00:00:00:0a", NodeUUID: "aaaa"}, {UUID: "pb", Address: "52:54:00:00:00:0b", NodeUUID: "bbbb"}}
	obs := NewObserved([]*IronicNode{a, b}, ports)

	t.Run("by name first", func(t *testing.T) {
		p := PlanNode(parseOne(t, fakeNode("node-a", "52:54:00:00:00:0a")), obs, defaults)
		assert.Equal(t, a, p.Existing)
		assert.Equal(t, "name", p.MatchedBy)
		assert.False(t, p.Changed())
	})
	t.Run("by MAC when the name is unknown", func(t *testing.T) {
		p := PlanNode(parseOne(t, fakeNode("node-new", "52:54:00:00:00:0B")), obs, defaults)
		assert.Equal(t, b, p.Existing)
		assert.Equal(t, "mac", p.MatchedBy)
		assert.Equal(t, []string{"replace /name=node-new"}, ops(p))
	})
	t.Run("MAC on another node than the named one", func(t *testing.T) {
		p := PlanNode(parseOne(t, fakeNode("node-a", "52:54:00:00:00:0b")), obs, defaults)
		require.Error(t, p.Err)
		assert.Contains(t, p.Err.Error(), `its name "node-a" matches Ironic node node-a (aaaa) but its MAC 52:54:00:00:00:0b matches Ironic node node-b (bbbb)`)
		assert.False(t, p.Changed(), "a node with a conflict is not touched at all")
		assert.Equal(t, MatchedByNone, p.MatchedBy)
	})
	t.Run("MACs on two different nodes", func(t *testing.T) {
		node := fakeNode("node-x", "52:54:00:00:00:0a")
		node["mac"] = []any{"52:54:00:00:00:0a", "52:54:00:00:00:0b"}
		p := PlanNode(parseOne(t, node), obs, defaults)
		require.Error(t, p.Err)
		assert.Contains(t, p.Err.Error(), "ports of different Ironic nodes (node-a (aaaa), node-b (bbbb))")
	})
	t.Run("two inputs resolving to one node", func(t *testing.T) {
		in, err := Parse([]any{fakeNode("node-a", "52:54:00:00:00:01"), fakeNode("node-y", "52:54:00:00:00:0a")}, false)
		require.NoError(t, err)
		plans := PlanAll(in.Nodes, obs, defaults)
		require.NoError(t, plans[0].Err)
		require.Error(t, plans[1].Err)
		assert.Contains(t, plans[1].Err.Error(), "which nodes[0] (node-a) already resolves to")
	})
	t.Run("absent", func(t *testing.T) {
		in, err := Parse([]any{map[string]any{"name": "node-b"}, map[string]any{"name": "node-gone", "mac": []any{"52:54:00:00:00:0a"}}}, true)
		require.NoError(t, err)
		plans := PlanAll(in.Nodes, obs, Options{Absent: true})
		assert.Equal(t, ActionDelete, plans[0].Action)
		assert.Equal(t, b, plans[0].Existing)
		assert.Equal(t, ActionAbsent, plans[1].Action, "a named node is never deleted through another node's MAC")
		assert.False(t, plans[1].Changed())

		in, err = Parse([]any{map[string]any{"mac": []any{"52:54:00:00:00:0a"}}}, true)
		require.NoError(t, err)
		plans = PlanAll(in.Nodes, obs, Options{Absent: true})
		assert.Equal(t, ActionDelete, plans[0].Action, "a node without name is found by MAC")
		assert.Equal(t, a, plans[0].Existing)
	})
}

// TestPlanMatchingByBMC: tripleo-common's _get_node_id finds a node by its
// BMC identity, so a re-import whose names or MACs changed updates the
// same node; sources that disagree fail naming both nodes.
func TestPlanMatchingByBMC(t *testing.T) {
	ipmiNode := func(uuid, name, port string) *IronicNode {
		return &IronicNode{UUID: uuid, Name: name, Driver: "ipmi", ResourceClass: "baremetal", ProvisionState: "manageable",
			DriverInfo: map[string]any{"ipmi_address": "127.0.0.1", "ipmi_port": port, "ipmi_username": "admin", "ipmi_password": "******"}}
	}
	a := &IronicNode{UUID: "aaaa", Name: "node-a", Driver: "fake-hardware", ResourceClass: "baremetal", ProvisionState: "manageable"}
	c := ipmiNode("cccc", "node-c", "6230")
	d, e := ipmiNode("dddd", "node-d", "6231"), ipmiNode("eeee", "node-e", "6231") // one BMC, two nodes (enrolled by hand)
	rf := &IronicNode{UUID: "ffff", Name: "node-f", Driver: "redfish", ResourceClass: "baremetal", ProvisionState: "enroll",
		DriverInfo: map[string]any{"redfish_address": "https://127.0.0.1:8000/", "redfish_system_id": "/redfish/v1/Systems/1"}}
	ports := []IronicPort{{UUID: "pa", Address: "52:54:00:00:00:0a", NodeUUID: "aaaa"}, {UUID: "pc", Address: "52:54:00:00:00:0c", NodeUUID: "cccc"}}
	obs := NewObserved([]*IronicNode{a, c, d, e, rf}, ports)
	ipmi := func(name, port string, macs ...any) map[string]any {
		n := map[string]any{"pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": port, "pm_user": "admin", "pm_password": sentinel}
		if name != "" {
			n["name"] = name
		}
		if len(macs) > 0 {
			n["mac"] = macs
		}
		return n
	}

	t.Run("renamed, new MAC: found by BMC", func(t *testing.T) {
		p := PlanNode(parseOne(t, ipmi("node-renamed", "6230", "52:54:00:00:00:0d")), obs, defaults)
		require.NoError(t, p.Err)
		assert.Equal(t, c, p.Existing)
		assert.Equal(t, MatchedByBMC, p.MatchedBy)
		assert.Equal(t, ActionUpdate, p.Action)
		assert.Equal(t, []string{"replace /name=node-renamed"}, ops(p), "nothing else differs: no second node")
		assert.Equal(t, []Port{{Address: "52:54:00:00:00:0d"}}, p.PortCreates)
		require.Len(t, p.PortDeletes, 1)
		assert.Equal(t, "52:54:00:00:00:0c", p.PortDeletes[0].Address)
	})
	t.Run("name of one node, BMC of another", func(t *testing.T) {
		p := PlanNode(parseOne(t, ipmi("node-a", "6230")), obs, defaults)
		require.Error(t, p.Err)
		assert.Contains(t, p.Err.Error(), `its name "node-a" matches Ironic node node-a (aaaa) but its BMC 127.0.0.1:6230 matches Ironic node node-c (cccc)`)
		assert.False(t, p.Changed())
		assert.Equal(t, MatchedByNone, p.MatchedBy)
	})
	t.Run("BMC of one node, MAC of another", func(t *testing.T) { // test__get_node_id_conflict
		p := PlanNode(parseOne(t, ipmi("node-new", "6230", "52:54:00:00:00:0a")), obs, defaults)
		require.Error(t, p.Err)
		assert.Contains(t, p.Err.Error(), `its BMC 127.0.0.1:6230 matches Ironic node node-c (cccc) but its MAC 52:54:00:00:00:0a matches Ironic node node-a (aaaa)`)
	})
	t.Run("BMC and MAC agree", func(t *testing.T) { // test_get_node_id_valid_duplicate
		p := PlanNode(parseOne(t, ipmi("", "6230", "52:54:00:00:00:0c")), obs, defaults)
		require.NoError(t, p.Err)
		assert.Equal(t, c, p.Existing)
		assert.Equal(t, MatchedByBMC, p.MatchedBy)
		assert.False(t, p.Changed())
	})
	t.Run("name wins the label when all agree", func(t *testing.T) {
		p := PlanNode(parseOne(t, ipmi("node-c", "6230", "52:54:00:00:00:0c")), obs, defaults)
		require.NoError(t, p.Err)
		assert.Equal(t, MatchedByName, p.MatchedBy)
	})
	t.Run("default port is the same BMC", func(t *testing.T) {
		in := ipmi("node-x", "623")
		delete(in, "pm_port")
		got := ipmiNode("gggg", "node-g", "623")
		p := PlanNode(parseOne(t, in), NewObserved([]*IronicNode{got}, nil), defaults)
		require.NoError(t, p.Err)
		assert.Equal(t, got, p.Existing)
		assert.Equal(t, MatchedByBMC, p.MatchedBy)
	})
	t.Run("a BMC shared by two Ironic nodes needs the name", func(t *testing.T) {
		p := PlanNode(parseOne(t, ipmi("node-new", "6231")), obs, defaults)
		require.Error(t, p.Err)
		assert.Contains(t, p.Err.Error(), "its BMC 127.0.0.1:6231 is the BMC of several Ironic nodes (node-d (dddd), node-e (eeee))")
		p = PlanNode(parseOne(t, ipmi("node-e", "6231")), obs, defaults)
		require.NoError(t, p.Err)
		assert.Equal(t, e, p.Existing)
		assert.Equal(t, MatchedByName, p.MatchedBy)
	})
	t.Run("redfish address written another way", func(t *testing.T) {
		p := PlanNode(parseOne(t, map[string]any{"name": "node-f2", "pm_type": "redfish", "pm_addr": "127.0.0.1:8000", "pm_system_id": "redfish/v1/Systems/1"}), obs, defaults)
		require.NoError(t, p.Err)
		assert.Equal(t, rf, p.Existing)
		assert.Equal(t, MatchedByBMC, p.MatchedBy)
	})
	t.Run("nothing matches", func(t *testing.T) {
		p := PlanNode(parseOne(t, ipmi("node-z", "6299")), obs, defaults)
		require.NoError(t, p.Err)
		assert.Equal(t, ActionCreate, p.Action)
		assert.Equal(t, MatchedByNone, p.MatchedBy)
	})
	t.Run("absent: a nameless node by BMC, a named one by name only", func(t *testing.T) {
		for _, tt := range []struct {
			node     map[string]any
			action   Action
			existing *IronicNode
			by       string
		}{
			{ipmi("", "6230"), ActionDelete, c, MatchedByBMC},
			{ipmi("node-gone", "6230"), ActionAbsent, nil, MatchedByNone}, // never deleted through another node's BMC
		} {
			in, err := Parse([]any{tt.node}, true)
			require.NoError(t, err)
			p := PlanAll(in.Nodes, obs, Options{Absent: true})[0]
			assert.Equal(t, tt.action, p.Action)
			assert.Equal(t, tt.existing, p.Existing)
			assert.Equal(t, tt.by, p.MatchedBy)
		}
	})
	t.Run("two renamed inputs on one BMC", func(t *testing.T) {
		_, err := Parse([]any{ipmi("r1", "6230"), ipmi("r2", "6230")}, false)
		assert.ErrorContains(t, err, "BMC 127.0.0.1:6230 is also the BMC of nodes[0] (r1)")
	})
}

// TestPlanUUID: tripleo-common creates a node with the uuid the input gives
// (test_register_all_nodes_uuid) and finds it by that uuid
// (test_register_node_update_with_uuid); it must agree with name, BMC, MAC.
func TestPlanUUID(t *testing.T) {
	const id = "8c1f8a3e-3b0c-4a8e-9a55-000000000001"
	a := &IronicNode{UUID: id, Name: "node-a", Driver: "fake-hardware", ResourceClass: "baremetal", ProvisionState: "manageable"}
	b := &IronicNode{UUID: "bbbb", Name: "node-b", Driver: "fake-hardware", ResourceClass: "baremetal", ProvisionState: "manageable"}
	obs := NewObserved([]*IronicNode{a, b}, nil)
	node := func(name string) map[string]any {
		return map[string]any{"uuid": strings.ToUpper(id), "name": name, "pm_type": "fake-hardware"}
	}

	p := PlanNode(parseOne(t, node("node-renamed")), obs, defaults)
	require.NoError(t, p.Err)
	assert.Equal(t, a, p.Existing)
	assert.Equal(t, MatchedByUUID, p.MatchedBy)
	assert.Equal(t, []string{"replace /name=node-renamed"}, ops(p))

	p = PlanNode(parseOne(t, node("node-b")), obs, defaults)
	require.Error(t, p.Err)
	assert.Contains(t, p.Err.Error(), "its uuid "+id+" matches Ironic node node-a ("+id+`) but its name "node-b" matches Ironic node node-b (bbbb)`)

	p = PlanNode(parseOne(t, node("node-new")), NewObserved(nil, nil), defaults)
	require.NoError(t, p.Err)
	assert.Equal(t, id, p.CreateBody["uuid"], "created with the uuid, lower case as Ironic shows it")

	absent := func(name string) *Plan {
		in, err := Parse([]any{map[string]any{"uuid": id, "name": name}}, true)
		require.NoError(t, err)
		return PlanAll(in.Nodes, obs, Options{Absent: true})[0]
	}
	p = absent("node-gone")
	assert.Equal(t, a, p.Existing, "absent: found by uuid")
	assert.Equal(t, ActionDelete, p.Action)
	assert.Equal(t, MatchedByUUID, p.MatchedBy)
	p = absent("node-b")
	require.Error(t, p.Err, "absent: uuid and name of two nodes delete neither")
	assert.Nil(t, p.Existing)
	assert.False(t, p.Changed())
}

// TestPlanIdracEnrolledWithDracOnly: an idrac node the module enrolled
// before (drac_* only) is found by its BMC and gets the redfish_* keys
// current Ironic needs; the password too, although update_password is
// on_create, since the node lacks it.
func TestPlanIdracEnrolledWithDracOnly(t *testing.T) {
	old := &IronicNode{UUID: "dddd", Name: "idrac-old", Driver: "idrac", ResourceClass: "baremetal", ProvisionState: "manageable",
		DriverInfo: map[string]any{"drac_address": "127.0.0.2", "drac_username": "root", "drac_password": "******"}}
	p := PlanNode(parseOne(t, map[string]any{"name": "idrac-new", "pm_type": "idrac", "pm_addr": "127.0.0.2", "pm_user": "root",
		"pm_password": sentinel, "pm_system_id": "/redfish/v1/Systems/System.Embedded.1"}), NewObserved([]*IronicNode{old}, nil), defaults)
	require.NoError(t, p.Err)
	assert.Equal(t, old, p.Existing)
	assert.Equal(t, MatchedByBMC, p.MatchedBy)
	assert.Equal(t, []string{
		"replace /name=idrac-new",
		"add /driver_info/redfish_address=127.0.0.2",
		"add /driver_info/redfish_password=********",
		"add /driver_info/redfish_system_id=/redfish/v1/Systems/System.Embedded.1",
		"add /driver_info/redfish_username=root",
	}, ops(p))
	assert.NotContains(t, fmtAll(ops(p)), sentinel)
}

func TestDiffMasksSecretsAndShowsChanges(t *testing.T) {
	n, ports := enrolled()
	node := workflowNode()
	node["capabilities"] = "profile:baremetal"
	opts := defaults
	opts.UpdatePassword = PasswordAlways
	plans := PlanAll([]*Node{parseOne(t, node)}, NewObserved([]*IronicNode{n}, ports), opts)
	create := PlanAll([]*Node{parseOne(t, workflowNode())}, NewObserved(nil, nil), defaults)
	diffs := Diffs(append(plans, create...))
	require.Len(t, diffs, 2)
	assert.Equal(t, "******", diffs[0].Before["driver_info"].(map[string]any)["ipmi_password"].(string)[:6])
	assert.Equal(t, maskedValue, diffs[0].After["driver_info"].(map[string]any)["ipmi_password"])
	assert.Equal(t, "profile:baremetal", diffs[0].After["properties"].(map[string]any)["capabilities"])
	assert.Nil(t, diffs[0].Before["properties"].(map[string]any)["capabilities"])
	assert.Empty(t, diffs[1].Before)
	assert.Equal(t, maskedValue, diffs[1].After["driver_info"].(map[string]any)["ipmi_password"])
	assert.Equal(t, "manageable", diffs[1].After["provision_state"])
	assert.NotContains(t, fmtAll(diffs), sentinel)
}

func fmtAll(v any) string { return fmt.Sprintf("%#v", v) }

// BenchmarkParseAndPlan1000 is the CPU cost of validating and planning 1000
// nodes against an Ironic that already has them (the idempotent re-run).
func BenchmarkParseAndPlan1000(b *testing.B) {
	var items []any
	var existing []*IronicNode
	var ports []IronicPort
	for i := 0; i < 1000; i++ {
		mac := fmt.Sprintf("52:54:00:00:%02x:%02x", i/256, i%256)
		name := fmt.Sprintf("bench-%04d", i)
		items = append(items, map[string]any{"name": name, "pm_type": "ipmi", "pm_addr": fmt.Sprintf("127.0.%d.%d", i/256, i%256),
			"pm_user": "admin", "pm_password": "pw", "mac": []any{mac}, "cpu": "2", "memory": "4096", "disk": "40", "arch": "x86_64",
			"capabilities": "profile:baremetal"})
		uuid := fmt.Sprintf("uuid-%04d", i)
		existing = append(existing, &IronicNode{UUID: uuid, Name: name, Driver: "ipmi", ResourceClass: "baremetal", ProvisionState: "manageable",
			DriverInfo: map[string]any{"ipmi_address": fmt.Sprintf("127.0.%d.%d", i/256, i%256), "ipmi_username": "admin", "ipmi_password": "******"},
			Properties: map[string]any{"cpus": 2.0, "memory_mb": 4096.0, "local_gb": 40.0, "cpu_arch": "x86_64", "capabilities": "profile:baremetal"}})
		ports = append(ports, IronicPort{UUID: "p" + uuid, Address: mac, NodeUUID: uuid})
	}
	obs := NewObserved(existing, ports)
	b.ResetTimer()
	for b.Loop() {
		in, err := Parse(items, false)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range PlanAll(in.Nodes, obs, defaults) {
			if p.Changed() {
				b.Fatalf("%s changed", p.Node.Name)
			}
		}
	}
}
