package diagnose

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	uuidA = "11111111-1111-1111-1111-111111111111"
	uuidB = "22222222-2222-2222-2222-222222222222"
	uuidC = "33333333-3333-3333-3333-333333333333"
)

func goodFlavor() Flavor {
	return Flavor{ID: "f1", Name: "baremetal", VCPUs: 4, RAM: 8192, Disk: 40, ExtraSpecs: map[string]string{
		"resources:CUSTOM_BAREMETAL": "1", "resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0",
		"capabilities:profile": "baremetal",
	}}
}

func goodNode(uuid, name string) Node {
	return Node{UUID: uuid, Name: name, ProvisionState: "available", PowerState: "power off", ResourceClass: "baremetal",
		Properties: map[string]any{"cpus": "8", "memory_mb": 16384.0, "local_gb": 100, "cpu_arch": "x86_64", "capabilities": "profile:baremetal,boot_option:local"}}
}

func goodPlacement(uuids ...string) *Placement {
	p := &Placement{Providers: map[string]ResourceProvider{}, Candidates: map[string]bool{}, CandidatesQuery: "resources=CUSTOM_BAREMETAL:1"}
	for _, u := range uuids {
		p.Providers[u] = ResourceProvider{UUID: u, Inventories: map[string]Inventory{"CUSTOM_BAREMETAL": {Total: 1, MaxUnit: 1, MinUnit: 1, StepSize: 1, AllocationRatio: 1}}}
		p.Candidates[u] = true
	}
	return p
}

func noValidHost() *Server {
	return &Server{ID: "srv-1", Name: "srv-test", Status: "ERROR", Fault: &Fault{Code: 500, Message: "No valid host was found. There are not enough hosts available."}}
}

// snapshot builds a one-node snapshot; mutate changes it for a case.
func snapshot(mutate func(*Snapshot)) Snapshot {
	s := Snapshot{
		Server:            noValidHost(),
		Flavor:            goodFlavor(),
		Nodes:             []Node{goodNode(uuidA, "srv-a")},
		Placement:         goodPlacement(uuidA),
		Hypervisors:       []Hypervisor{{ID: "1", Hostname: uuidA, Host: "aio", State: "up", Status: "enabled"}},
		HypervisorsListed: true,
	}
	if mutate != nil {
		mutate(&s)
	}
	return s
}

func codes(r NodeReport) []string {
	var out []string
	for _, reason := range r.Reasons {
		out = append(out, reason.Code)
	}
	return out
}

// Each case of the list names its cause, per node and in the summary.
func TestDiagnoseNodeCauses(t *testing.T) {
	cases := []struct {
		name     string
		mutate   func(*Snapshot)
		code     string // first reason of node srv-a
		summary  []string
		eligible bool
	}{
		{name: "eligible node, nothing wrong", eligible: true,
			summary: []string{"1 of 1 node(s) look able to host", "srv-a", "retry"}},
		{name: "maintenance", code: CodeMaintenance,
			mutate:  func(s *Snapshot) { s.Nodes[0].Maintenance = true; s.Nodes[0].MaintenanceReason = "bad DIMM" },
			summary: []string{"No valid host was found", "none of 1 node(s)", "1 in maintenance (srv-a)"}},
		{name: "wrong resource class", code: CodeResourceClass,
			mutate:  func(s *Snapshot) { s.Nodes[0].ResourceClass = "gold" },
			summary: []string{"no node is of class CUSTOM_BAREMETAL; 1 of another resource class [existing: CUSTOM_GOLD x1] (srv-a)"}},
		{name: "CUSTOM_ prefix on the node: CUSTOM_CUSTOM_ trap", code: CodeCustomCustom,
			mutate:  func(s *Snapshot) { s.Nodes[0].ResourceClass = "CUSTOM_BAREMETAL" },
			summary: []string{"resource class CUSTOM_BAREMETAL becomes CUSTOM_CUSTOM_BAREMETAL"}},
		{name: "lower-case custom_ prefix is the same trap", code: CodeCustomCustom,
			mutate:  func(s *Snapshot) { s.Nodes[0].ResourceClass = "custom-baremetal" },
			summary: []string{"becomes CUSTOM_CUSTOM_BAREMETAL"}},
		{name: "no resource class", code: CodeNoResourceClass,
			mutate:  func(s *Snapshot) { s.Nodes[0].ResourceClass = "" },
			summary: []string{"1 no resource class (srv-a)"}},
		{name: "capability mismatch", code: CodeCapability,
			mutate:  func(s *Snapshot) { s.Nodes[0].Properties["capabilities"] = "profile:compute" },
			summary: []string{"not matching capabilities:profile=baremetal", "existing: profile=compute x1"}},
		{name: "capability absent", code: CodeCapability,
			mutate:  func(s *Snapshot) { delete(s.Nodes[0].Properties, "capabilities") },
			summary: []string{"existing: none x1"}},
		{name: "capability with a stray space", code: CodeCapability,
			mutate:  func(s *Snapshot) { s.Nodes[0].Properties["capabilities"] = "profile: baremetal" },
			summary: []string{"not matching capabilities:profile=baremetal"}},
		{name: "node manageable, not available", code: CodeNotAvailable,
			mutate:  func(s *Snapshot) { s.Nodes[0].ProvisionState = "manageable" },
			summary: []string{"1 manageable, needs provide (srv-a)"}},
		{name: "node in enroll", code: CodeNotAvailable,
			mutate:  func(s *Snapshot) { s.Nodes[0].ProvisionState = "enroll" },
			summary: []string{"needs manage + provide"}},
		{name: "clean failed names last_error", code: CodeNotAvailable,
			mutate: func(s *Snapshot) {
				s.Nodes[0].ProvisionState = "clean failed"
				s.Nodes[0].LastError = "Missing are: deploy_kernel"
			},
			summary: []string{"1 clean failed (srv-a)"}},
		{name: "busy cleaning", code: CodeNotAvailable,
			mutate:  func(s *Snapshot) { s.Nodes[0].ProvisionState = "cleaning" },
			summary: []string{"busy (cleaning)"}},
		{name: "already hosts another instance", code: CodeHasInstance,
			mutate: func(s *Snapshot) {
				s.Nodes[0].InstanceUUID = "other-instance"
				s.Nodes[0].ProvisionState = "active"
			},
			summary: []string{"1 already hosting an instance (srv-a)"}},
		{name: "power state null (fake-hardware)", code: CodePowerState,
			mutate:  func(s *Snapshot) { s.Nodes[0].PowerState = "" },
			summary: []string{"1 power state unknown (srv-a)"}},
		{name: "not discovered by Nova", code: CodeNotDiscovered,
			mutate:  func(s *Snapshot) { s.Hypervisors = nil },
			summary: []string{"1 not discovered by Nova yet (srv-a)"}},
		{name: "nova-compute down", code: CodeComputeDown,
			mutate:  func(s *Snapshot) { s.Hypervisors[0].State = "down" },
			summary: []string{"nova-compute down"}},
		{name: "nova-compute disabled", code: CodeComputeDisabled,
			mutate:  func(s *Snapshot) { s.Hypervisors[0].Status = "disabled" },
			summary: []string{"nova-compute disabled"}},
		{name: "no resource provider", code: CodeNoResourceProvider,
			mutate:  func(s *Snapshot) { delete(s.Placement.Providers, uuidA) },
			summary: []string{"no Placement resource provider"}},
		{name: "inventory reserved in Placement", code: CodeInventoryReserved,
			mutate: func(s *Snapshot) {
				s.Placement.Providers[uuidA].Inventories["CUSTOM_BAREMETAL"] = Inventory{Total: 1, Reserved: 1}
				s.Placement.Candidates = map[string]bool{}
			},
			summary: []string{"CUSTOM_BAREMETAL reserved in Placement"}},
		{name: "inventory already allocated", code: CodeInventoryUsed,
			mutate: func(s *Snapshot) {
				rp := s.Placement.Providers[uuidA]
				rp.Usages = map[string]int{"CUSTOM_BAREMETAL": 1}
				s.Placement.Providers[uuidA] = rp
			},
			summary: []string{"allocated in Placement"}},
		{name: "inventory of another class", code: CodeInventoryMissing,
			mutate: func(s *Snapshot) {
				s.Placement.Providers[uuidA] = ResourceProvider{UUID: uuidA, Inventories: map[string]Inventory{"CUSTOM_GOLD": {Total: 1}}}
			},
			summary: []string{"no CUSTOM_BAREMETAL in Placement"}},
		{name: "not an allocation candidate for no visible reason", code: CodeNotCandidate,
			mutate:  func(s *Snapshot) { s.Placement.Candidates = map[string]bool{} },
			summary: []string{"not offered by Placement"}},
		{name: "required trait missing", code: CodeTraitMissing,
			mutate:  func(s *Snapshot) { s.Flavor.ExtraSpecs["trait:CUSTOM_RAID"] = "required" },
			summary: []string{"traits differ"}},
		{name: "forbidden trait present", code: CodeTraitForbidden,
			mutate: func(s *Snapshot) {
				s.Flavor.ExtraSpecs["trait:CUSTOM_SLOW"] = "forbidden"
				s.Nodes[0].Traits = []string{"CUSTOM_SLOW"}
			},
			summary: []string{"traits differ"}},
		{name: "pinned to another node", code: CodePinnedElsewhere,
			mutate:  func(s *Snapshot) { s.Request.PinnedNode = "srv-z" },
			summary: []string{"pins node srv-z, which Ironic does not list"}},
		{name: "capability in the stats: form Nova's strict validation accepts", code: CodeCapability,
			mutate: func(s *Snapshot) {
				delete(s.Flavor.ExtraSpecs, "capabilities:profile")
				s.Flavor.ExtraSpecs["capabilities:stats:profile"] = "compute"
			},
			summary: []string{"not matching capabilities:profile=compute [existing: profile=baremetal x1]"}},
		{name: "unscoped spec checked when the node has the key", code: CodeCapability,
			mutate: func(s *Snapshot) {
				delete(s.Flavor.ExtraSpecs, "capabilities:profile")
				s.Flavor.ExtraSpecs["boot_option"] = "netboot"
			},
			summary: []string{"not matching capabilities:boot_option=netboot"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Diagnose(snapshot(tc.mutate))
			require.Len(t, d.Nodes, 1)
			node := d.Nodes[0]
			assert.Equal(t, tc.eligible, node.Eligible, "eligible; reasons %v", node.Reasons)
			if tc.code != "" {
				require.NotEmpty(t, node.Reasons)
				assert.Equal(t, tc.code, firstBlocking(node).Code, "reasons %v", codes(node))
				assert.NotEmpty(t, firstBlocking(node).Message)
			} else {
				assert.Equal(t, []string{"srv-a"}, d.EligibleNodes)
			}
			for _, want := range tc.summary {
				assert.Contains(t, d.Summary, want)
			}
			assert.NotContains(t, d.Summary, "\n", "summary is one line")
		})
	}
}

// Flavor-level causes rule out every node and lead the summary.
func TestDiagnoseFlavorCauses(t *testing.T) {
	cases := []struct {
		name    string
		specs   map[string]string // replaces the extra specs
		code    string
		summary string
	}{
		{"flavor not zeroing standard resources", map[string]string{"resources:CUSTOM_BAREMETAL": "1"},
			CodeFlavorNotZeroed, "set resources:VCPU=0, resources:MEMORY_MB=0, resources:DISK_GB=0"},
		{"flavor zeroing only VCPU", map[string]string{"resources:CUSTOM_BAREMETAL": "1", "resources:VCPU": "0"},
			CodeFlavorNotZeroed, "MEMORY_MB=8192, DISK_GB=40"},
		{"flavor without a custom class", map[string]string{"resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"},
			CodeFlavorNoResourceClass, "add resources:CUSTOM_<CLASS>=1"},
		{"flavor asking two of the class", map[string]string{"resources:CUSTOM_BAREMETAL": "2", "resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"},
			CodeFlavorResourceAmount, "set resources:CUSTOM_BAREMETAL=1"},
		{"flavor asking two classes", map[string]string{"resources:CUSTOM_BAREMETAL": "1", "resources:CUSTOM_GOLD": "1", "resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"},
			CodeFlavorManyResourceClasses, "CUSTOM_BAREMETAL, CUSTOM_GOLD"},
		{"flavor with a non-number amount", map[string]string{"resources:CUSTOM_BAREMETAL": "one", "resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"},
			CodeFlavorBadSpec, "not a whole number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Diagnose(snapshot(func(s *Snapshot) { s.Flavor.ExtraSpecs = tc.specs }))
			assert.Empty(t, d.EligibleNodes)
			assert.False(t, d.Nodes[0].Eligible)
			var found bool
			for _, r := range d.Nodes[0].Reasons {
				found = found || r.Code == tc.code
			}
			assert.True(t, found, "node reasons %v lack %s", codes(d.Nodes[0]), tc.code)
			assert.Contains(t, d.Summary, `flavor "baremetal"`)
			assert.Contains(t, d.Summary, tc.summary)
		})
	}
}

func TestFlavorCustomCustomIsANoteWhenItMatches(t *testing.T) {
	d := Diagnose(snapshot(func(s *Snapshot) {
		s.Flavor.ExtraSpecs = map[string]string{"resources:CUSTOM_CUSTOM_BAREMETAL": "1", "resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}
		s.Nodes[0].ResourceClass = "CUSTOM_BAREMETAL"
		s.Placement = nil
	}))
	assert.Equal(t, []string{"srv-a"}, d.EligibleNodes, "the node matches, the trap is only named")
	require.Len(t, d.Flavor.Problems, 1)
	assert.Equal(t, CodeFlavorCustomCustom, d.Flavor.Problems[0].Code)
	assert.False(t, d.Flavor.Problems[0].Blocking)
}

// Every reason of a node is listed, not only the first.
func TestDiagnoseListsEveryReason(t *testing.T) {
	d := Diagnose(snapshot(func(s *Snapshot) {
		n := &s.Nodes[0]
		n.Maintenance = true
		n.ProvisionState = "manageable"
		n.PowerState = ""
		n.ResourceClass = "gold"
		n.Properties["capabilities"] = "profile:compute"
		n.LastError = "boom"
		s.Hypervisors = nil
		s.Placement.Providers[uuidA].Inventories["CUSTOM_BAREMETAL"] = Inventory{Total: 1, Reserved: 1}
	}))
	assert.Equal(t, []string{CodeResourceClass, CodeMaintenance, CodeNotAvailable, CodePowerState, CodeCapability,
		CodeNotDiscovered, CodeInventoryReserved, CodeLastError}, codes(d.Nodes[0]))
}

// Several nodes: grouped counts, metalsmith-style capability counts, names capped.
func TestDiagnoseSummaryGroupsNodes(t *testing.T) {
	d := Diagnose(snapshot(func(s *Snapshot) {
		s.Nodes = nil
		s.Placement = nil
		s.HypervisorsListed = false
		for i, name := range []string{"n1", "n2", "n3", "n4", "n5"} {
			n := goodNode(string(rune('a'+i))+uuidA[1:], name)
			n.Maintenance = true
			s.Nodes = append(s.Nodes, n)
		}
		for _, c := range []struct{ name, caps string }{{"c1", "profile:compute"}, {"c2", "profile:compute"}, {"c3", ""}} {
			n := goodNode("c"+c.name+uuidB[3:], c.name)
			n.Properties["capabilities"] = c.caps
			s.Nodes = append(s.Nodes, n)
		}
	}))
	assert.Equal(t, "No valid host was found: none of 8 node(s) can host flavor \"baremetal\" (CUSTOM_BAREMETAL=1, capabilities:profile=baremetal): "+
		"5 in maintenance (n1, n2, n3, +2 more) [fix: metalkit.baremetal.ironic_node_action maintenance=false]; 3 not matching capabilities:profile=baremetal [existing: profile=compute x2, none x1] (c1, c2, c3)", d.Summary)
}

// Nodes of other classes are counted per class, last, capped.
func TestDiagnoseSummaryCountsOtherClasses(t *testing.T) {
	d := Diagnose(snapshot(func(s *Snapshot) {
		s.Placement = nil
		s.HypervisorsListed = false
		s.Nodes[0].Maintenance = true
		for i, rc := range []string{"a", "b", "b", "c", "d", "e", "e", "e"} {
			s.Nodes = append(s.Nodes, goodNode(fmt.Sprintf("%d%s", i, uuidB[1:]), fmt.Sprintf("o%d", i)))
			s.Nodes[len(s.Nodes)-1].ResourceClass = rc
		}
	}))
	assert.Equal(t, "No valid host was found: none of 9 node(s) can host flavor \"baremetal\" (CUSTOM_BAREMETAL=1, capabilities:profile=baremetal): "+
		"1 in maintenance (srv-a) [fix: metalkit.baremetal.ironic_node_action maintenance=false]; 8 of another resource class [existing: CUSTOM_E x3, CUSTOM_B x2, CUSTOM_A x1, CUSTOM_C x1, +1 more] (o0, o1, o2, +5 more)", d.Summary)
}

func TestDiagnoseOnDemand(t *testing.T) {
	d := Diagnose(snapshot(func(s *Snapshot) {
		s.Server = nil
		bad := goodNode(uuidB, "srv-b")
		bad.ProvisionState = "manageable"
		s.Nodes = append(s.Nodes, bad)
	}))
	assert.Equal(t, CauseOnDemand, d.Cause)
	assert.Equal(t, `1 of 2 node(s) can host flavor "baremetal" (CUSTOM_BAREMETAL=1, capabilities:profile=baremetal): srv-a; the others: 1 manageable, needs provide (srv-b) [fix: metalkit.baremetal.ironic_introspect provide=true]`, d.Summary)
}

func TestDiagnoseNoNodes(t *testing.T) {
	d := Diagnose(snapshot(func(s *Snapshot) { s.Nodes = nil }))
	assert.Contains(t, d.Summary, "Ironic lists no nodes")
	assert.NotNil(t, d.Nodes)
	assert.NotNil(t, d.EligibleNodes)
}

func TestDiagnosePinnedNode(t *testing.T) {
	d := Diagnose(snapshot(func(s *Snapshot) {
		bad := goodNode(uuidB, "srv-b")
		bad.Maintenance = true
		s.Nodes = append(s.Nodes, bad)
		s.Request.PinnedNode = uuidB
	}))
	assert.Contains(t, d.Summary, "pins node srv-b, which cannot host")
	assert.Contains(t, d.Summary, "in maintenance")
	assert.Equal(t, CodePinnedElsewhere, firstBlocking(d.Nodes[0]).Code, "the other node is ruled out by the pin")
}

func TestDiagnoseBuildFailures(t *testing.T) {
	retries := &Fault{Code: 500, Message: "Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance srv-1."}
	cases := []struct {
		name    string
		mutate  func(*Snapshot)
		summary string
	}{
		{"config drive without networks", func(s *Snapshot) {
			s.Server.Fault = retries
			s.Request = Request{ConfigDrive: true, NoNetworks: true}
		}, "config drive with nics none fails"},
		{"config drive error seen in the fault", func(s *Snapshot) {
			s.Server.Fault = &Fault{Message: "Build of instance srv-1 aborted: Failed to build configdrive: 'NoneType' object is not subscriptable"}
		}, "attach a network (nics) or set config_drive: false"},
		{"deploy failed on the landed node", func(s *Snapshot) {
			s.Server.Fault = retries
			s.Server.Node = uuidA
			s.Nodes[0].LastError = "Agent returned error for deploy step: disk too small"
		}, "node srv-a: Agent returned error for deploy step"},
		{"deploy failed, node rolled back", func(s *Snapshot) {
			s.Server.Fault = retries
			s.Nodes[0].ProvisionState = "deploy failed"
			s.Nodes[0].LastError = "Timeout reached while waiting for callback"
		}, "deploy errors on srv-a (deploy failed): Timeout reached"},
		{"nothing on the nodes", func(s *Snapshot) { s.Server.Fault = retries }, "Exceeded maximum number of retries"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Diagnose(snapshot(tc.mutate))
			assert.Equal(t, CauseBuildFailed, d.Cause)
			assert.Contains(t, d.Summary, tc.summary)
		})
	}
}

func TestDiagnoseServerStates(t *testing.T) {
	active := Diagnose(snapshot(func(s *Snapshot) {
		s.Server = &Server{ID: "srv-1", Name: "srv-test", Status: "ACTIVE", Node: uuidA}
		s.Nodes[0].InstanceUUID = "srv-1"
		s.Nodes[0].ProvisionState = "active"
	}))
	assert.Equal(t, CauseActive, active.Cause)
	assert.Equal(t, "server srv-test is ACTIVE on node srv-a", active.Summary)
	assert.Equal(t, CodeHostsThisServer, active.Nodes[0].Reasons[0].Code)

	building := Diagnose(snapshot(func(s *Snapshot) {
		s.Server = &Server{ID: "srv-1", Name: "srv-test", Status: "BUILD", Node: uuidA}
		s.Nodes[0].InstanceUUID = "srv-1"
		s.Nodes[0].ProvisionState = "wait call-back"
	}))
	assert.Equal(t, CauseTimeout, building.Cause)
	assert.Contains(t, building.Summary, "still BUILD on node srv-a (provision state wait call-back)")

	lost := Diagnose(snapshot(func(s *Snapshot) {
		s.Server = &Server{ID: "srv-1", Name: "srv-test", Status: "BUILD", Unclaimed: true}
		s.ScheduledTo = []string{uuidA}
	}))
	assert.Equal(t, CauseTimeout, lost.Cause)
	assert.Contains(t, lost.Summary, "the scheduler placed server srv-test (Placement holds its allocation on "+uuidA+") but no nova-compute took it")
	assert.Contains(t, lost.Summary, "rerun with recreate_on_error: true")

	other := Diagnose(snapshot(func(s *Snapshot) {
		s.Server.Fault = &Fault{Message: "Image abc could not be found."}
		s.Nodes[0].Maintenance = true
	}))
	assert.Equal(t, CauseServerError, other.Cause)
	assert.True(t, strings.HasPrefix(other.Summary, "server srv-test is in ERROR: Image abc could not be found."), other.Summary)

	abandoned := Diagnose(snapshot(func(s *Snapshot) {
		s.Server = &Server{ID: "srv-1", Name: "srv-test", Status: "ERROR", Node: uuidA}
		s.Nodes[0].InstanceUUID = "srv-1"
		s.Nodes[0].ProvisionState = "active"
	}))
	assert.Equal(t, CauseServerError, abandoned.Cause)
	assert.Equal(t, "server srv-test is in ERROR on node srv-a with no fault recorded, as when nova-compute restarts during a build"+
		" (it abandons the servers it was building); rerun with recreate_on_error: true to build it again", abandoned.Summary)
}

func TestPlacementClass(t *testing.T) {
	for in, want := range map[string]string{
		"baremetal":        "CUSTOM_BAREMETAL",
		"bare-metal.gold":  "CUSTOM_BARE_METAL_GOLD",
		"CUSTOM_BAREMETAL": "CUSTOM_CUSTOM_BAREMETAL",
		"":                 "",
	} {
		assert.Equal(t, want, PlacementClass(in), in)
	}
}

func TestMatchSpec(t *testing.T) {
	cases := []struct {
		value   string
		present bool
		spec    string
		want    bool
	}{
		{"baremetal", true, "baremetal", true},
		{"compute", true, "baremetal", false},
		{"", false, "baremetal", false},
		{"local", true, "s== local", true},
		{"local", true, "s!= local", false},
		{"16", true, ">= 8", true},
		{"4", true, ">= 8", false},
		{"8", true, "= 8", true}, // Nova's odd "=" means >=
		{"9", true, "= 8", true},
		{"8", true, "== 8.0", true},
		{"abc", true, "== 8", false},
		{"x86_64", true, "<in> 86", true},
		{"a b c", true, "<all-in> a c", true},
		{"a b", true, "<all-in> a c", false},
		{"gold", true, "<or> silver <or> gold", true},
		{"bronze", true, "<or> silver <or> gold", false},
		{"", false, "<or> silver", false},
		{"b", true, "s< c", true},
		{"d", true, "s>= c", true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, MatchSpec(tc.value, tc.present, tc.spec), "%q %v %q", tc.value, tc.present, tc.spec)
	}
}

func TestNodeCapabilities(t *testing.T) {
	caps, bad := NodeCapabilities(map[string]any{"capabilities": "profile:baremetal, boot_option:local,broken", "cpu_arch": "x86_64"})
	assert.Equal(t, map[string]string{"profile": "baremetal", "boot_option": "local", "cpu_arch": "x86_64"}, caps)
	require.Len(t, bad, 1)
	assert.Contains(t, bad[0], "broken")

	_, bad = NodeCapabilities(map[string]any{"capabilities": map[string]any{"profile": "baremetal"}})
	require.Len(t, bad, 1)
	assert.Contains(t, bad[0], "not the \"k:v,k:v\" string")
}

func TestTooSmallIsANote(t *testing.T) {
	d := Diagnose(snapshot(func(s *Snapshot) { s.Nodes[0].Properties["local_gb"] = "20" }))
	assert.True(t, d.Nodes[0].Eligible)
	assert.Equal(t, CodeTooSmall, d.Nodes[0].Reasons[0].Code)
	assert.Contains(t, d.Nodes[0].Reasons[0].Message, "(local_gb 20 < 40)")
}

func TestPlacementLags(t *testing.T) {
	reserved := Reason{Code: CodeInventoryReserved, Blocking: true}
	ready := NodeReport{ProvisionState: "available", Reasons: []Reason{reserved}}
	cases := []struct {
		name string
		d    Diagnosis
		want bool
	}{
		{"available node reserved", Diagnosis{Cause: "no_valid_host", Nodes: []NodeReport{ready}}, true},
		{"not a refusal", Diagnosis{Cause: "build_failed", Nodes: []NodeReport{ready}}, false},
		{"node still cleaning", Diagnosis{Cause: "no_valid_host", Nodes: []NodeReport{{ProvisionState: "cleaning", Reasons: []Reason{reserved}}}}, false},
		{"node in maintenance", Diagnosis{Cause: "no_valid_host", Nodes: []NodeReport{{ProvisionState: "available", Maintenance: true, Reasons: []Reason{reserved}}}}, false},
		{"node has an instance", Diagnosis{Cause: "no_valid_host", Nodes: []NodeReport{{ProvisionState: "available", InstanceUUID: "x", Reasons: []Reason{reserved}}}}, false},
		{"other reason", Diagnosis{Cause: "no_valid_host", Nodes: []NodeReport{{ProvisionState: "available", Reasons: []Reason{{Code: CodeInventoryUsed}}}}}, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.d.PlacementLags(), c.name)
	}
}
