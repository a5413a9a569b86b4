package diagnose

import (
	"fmt"
	"testing"
)

// A cloud of 1000 nodes: a quarter of the flavor's class in every state,
// the rest of other classes; Placement read for the flavor's class.
func benchSnapshot(n int) Snapshot {
	s := Snapshot{Server: noValidHost(), Flavor: goodFlavor(), HypervisorsListed: true,
		Placement: &Placement{Providers: map[string]ResourceProvider{}, Candidates: map[string]bool{}, CandidatesQuery: "resources=CUSTOM_BAREMETAL:1"}}
	for i := 0; i < n; i++ {
		node := goodNode(fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), fmt.Sprintf("node-%04d", i))
		switch i % 8 {
		case 0:
			node.Maintenance = true
		case 1:
			node.ProvisionState = "manageable"
			node.PowerState = ""
		case 2:
			node.Properties = map[string]any{"capabilities": "profile:compute"}
		default:
			node.ResourceClass = "compute"
		}
		s.Nodes = append(s.Nodes, node)
		s.Hypervisors = append(s.Hypervisors, Hypervisor{Hostname: node.UUID, State: "up", Status: "enabled"})
		if node.ResourceClass == "baremetal" {
			s.Placement.Providers[node.UUID] = ResourceProvider{UUID: node.UUID, Inventories: map[string]Inventory{"CUSTOM_BAREMETAL": {Total: 1, Reserved: i % 8 / 2}}}
		} else {
			s.Placement.Providers[node.UUID] = ResourceProvider{UUID: node.UUID}
		}
	}
	return s
}

func BenchmarkDiagnose1000Nodes(b *testing.B) {
	s := benchSnapshot(1000)
	b.ReportAllocs()
	for b.Loop() {
		d := Diagnose(s)
		if len(d.Nodes) != 1000 || d.Summary == "" {
			b.Fatal("bad diagnosis")
		}
	}
}
