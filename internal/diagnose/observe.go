package diagnose

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/resourceproviders"

	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/pool"
)

// PlacementMicroversion is what Observe asks of Placement: 1.22 has
// allocation candidates keyed by provider with required and forbidden traits.
const PlacementMicroversion = "1.22"

// Sources are the service clients Observe reads. A nil client is skipped
// and the matching Err (why it is missing) becomes a note.
type Sources struct {
	Compute      *gophercloud.ServiceClient
	Baremetal    *gophercloud.ServiceClient
	Placement    *gophercloud.ServiceClient
	BaremetalErr error
	ComputeErr   error
	PlacementErr error
	// Concurrency bounds the per-node Placement reads (default 8).
	Concurrency int
}

// Observe fills a Snapshot: every Ironic node, Nova's hypervisors, and
// Placement's providers, inventories and allocation candidates for the
// flavor. It never fails: what it cannot read becomes a note, and the
// diagnosis says what it could not check.
func Observe(ctx context.Context, src Sources, flavor Flavor, server *Server, req Request) Snapshot {
	s := Snapshot{Server: server, Flavor: flavor, Request: req}
	note := func(format string, args ...any) {
		s.Notes = append(s.Notes, openstack.Scrub(fmt.Sprintf(format, args...)))
	}

	if src.Baremetal == nil {
		note("Ironic not read: %v", errOr(src.BaremetalErr, "no baremetal endpoint"))
	} else if list, err := ListNodes(ctx, src.Baremetal); err != nil {
		note("Ironic nodes not read: %v", openstack.Describe(err, "node list"))
	} else {
		s.Nodes = list
	}

	if src.Compute == nil {
		note("Nova hypervisors not read: %v", errOr(src.ComputeErr, "no compute endpoint"))
	} else {
		hv, err := listHypervisors(ctx, src.Compute)
		switch {
		case gophercloud.ResponseCodeIs(err, http.StatusForbidden):
			note("Nova's hypervisor list needs the admin role: nodes Nova has not discovered are not detected")
		case err != nil:
			note("Nova hypervisors not read: %v", openstack.Describe(err, "hypervisor list"))
		default:
			s.Hypervisors, s.HypervisorsListed = hv, true
		}
	}

	if src.Placement == nil {
		note("Placement not read: %v", errOr(src.PlacementErr, "no placement endpoint"))
	} else {
		pc := *src.Placement
		pc.Microversion = PlacementMicroversion
		p, err := readPlacement(ctx, &pc, s.Nodes, ReadFlavor(flavor), src.Concurrency)
		switch {
		case gophercloud.ResponseCodeIs(err, http.StatusForbidden):
			note("Placement needs the admin role: its view is not checked")
		case err != nil:
			note("Placement not read: %v", openstack.Describe(err, "placement"))
		default:
			s.Placement = p
		}
		if server != nil && server.Unclaimed {
			if to, err := ScheduledTo(ctx, &pc, server.ID); err == nil {
				s.ScheduledTo = to
			}
		}
	}
	return s
}

func errOr(err error, fallback string) string {
	if err != nil {
		return err.Error()
	}
	return fallback
}

// ListNodes lists every Ironic node with the fields the doctor reads.
func ListNodes(ctx context.Context, client *gophercloud.ServiceClient) ([]Node, error) {
	pages, err := nodes.ListDetail(client, nodes.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	list, err := nodes.ExtractNodes(pages)
	if err != nil {
		return nil, err
	}
	out := make([]Node, 0, len(list))
	for _, n := range list {
		out = append(out, NodeFrom(n))
	}
	return out, nil
}

// NodeFrom keeps the fields of an Ironic node the doctor reads.
func NodeFrom(n nodes.Node) Node {
	return Node{
		UUID: n.UUID, Name: n.Name, ProvisionState: n.ProvisionState, TargetProvisionState: n.TargetProvisionState,
		PowerState: n.PowerState, Maintenance: n.Maintenance, MaintenanceReason: n.MaintenanceReason,
		InstanceUUID: n.InstanceUUID, ResourceClass: n.ResourceClass, Properties: n.Properties,
		Traits: n.Traits, LastError: openstack.Scrub(n.LastError), Retired: n.Retired,
	}
}

// FlavorFrom converts a Nova flavor; extra specs come with it from
// microversion 2.61, else they are read separately.
func FlavorFrom(ctx context.Context, client *gophercloud.ServiceClient, f *flavors.Flavor) (Flavor, error) {
	specs := f.ExtraSpecs
	if specs == nil {
		var err error
		specs, err = flavors.ListExtraSpecs(ctx, client, f.ID).Extract()
		if err != nil {
			return Flavor{}, openstack.Describe(err, "extra specs of flavor "+f.Name)
		}
	}
	return Flavor{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAM: f.RAM, Disk: f.Disk, Ephemeral: f.Ephemeral, Swap: f.Swap, ExtraSpecs: specs}, nil
}

// ServerFrom keeps the fields of a Nova server the doctor reads.
func ServerFrom(s *servers.Server) *Server {
	out := &Server{ID: s.ID, Name: s.Name, Status: s.Status, Node: s.HypervisorHostname, Unclaimed: Unclaimed(s)}
	if s.Fault.Message != "" || s.Fault.Code != 0 {
		out.Fault = &Fault{Code: s.Fault.Code, Message: openstack.Scrub(s.Fault.Message), Details: openstack.Scrub(tail(s.Fault.Details, 2000))}
	}
	return out
}

// tail keeps the end of a long text (a traceback ends with its exception).
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := len(s) - n
	for cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut++ // not inside a UTF-8 sequence
	}
	return "..." + s[cut:]
}

// listHypervisors reads Nova's short hypervisor list (id, hostname, state,
// status): the detailed one gophercloud reads took seconds for a few dozen
// Ironic nodes on the test stack, this one a fraction of that.
func listHypervisors(ctx context.Context, client *gophercloud.ServiceClient) ([]Hypervisor, error) {
	var out []Hypervisor
	next := client.ServiceURL("os-hypervisors")
	for next != "" {
		var page struct {
			Hypervisors []struct {
				ID       any    `json:"id"`
				Hostname string `json:"hypervisor_hostname"`
				State    string `json:"state"`
				Status   string `json:"status"`
			} `json:"hypervisors"`
			Links []struct{ Href, Rel string } `json:"hypervisors_links"`
		}
		if _, err := client.Get(ctx, next, &page, &gophercloud.RequestOpts{OkCodes: []int{http.StatusOK}}); err != nil {
			return nil, err
		}
		for _, h := range page.Hypervisors {
			out = append(out, Hypervisor{ID: fmt.Sprint(h.ID), Hostname: h.Hostname, State: h.State, Status: h.Status})
		}
		next = ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
	}
	return out, nil
}

// CandidatesQuery is the allocation-candidates query Nova's scheduler sends
// for the flavor's unnumbered group.
func CandidatesQuery(req Requirements) string {
	var res []string
	for _, rc := range slices.Sorted(maps.Keys(req.Resources)) {
		res = append(res, fmt.Sprintf("%s:%d", rc, req.Resources[rc]))
	}
	q := url.Values{}
	if len(res) > 0 {
		q.Set("resources", strings.Join(res, ","))
	}
	var traits []string
	traits = append(traits, req.RequiredTraits...)
	for _, t := range req.ForbiddenTraits {
		traits = append(traits, "!"+t)
	}
	if len(traits) > 0 {
		q.Set("required", strings.Join(traits, ","))
	}
	return q.Encode()
}

// readPlacement reads the providers of the Ironic nodes, their inventories
// and usages, and the allocation candidates for the flavor.
func readPlacement(ctx context.Context, client *gophercloud.ServiceClient, ironic []Node, req Requirements, concurrency int) (*Placement, error) {
	pages, err := resourceproviders.List(client, resourceproviders.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	rps, err := resourceproviders.ExtractResourceProviders(pages)
	if err != nil {
		return nil, err
	}
	// Inventories and usages (two reads per node) only tell something new
	// for nodes of the flavor's class that Ironic shows as free: for the
	// others Ironic already says why, and a cloud may have hundreds.
	detail := map[string]bool{}
	for _, n := range ironic {
		if req.ResourceClass != "" && PlacementClass(n.ResourceClass) == req.ResourceClass && looksFree(n) {
			detail[n.UUID] = true
		}
	}
	p := &Placement{Providers: map[string]ResourceProvider{}}
	var todo []resourceproviders.ResourceProvider
	for _, rp := range rps {
		if detail[rp.UUID] {
			todo = append(todo, rp)
		} else {
			p.Providers[rp.UUID] = ResourceProvider{UUID: rp.UUID, Name: rp.Name}
		}
	}
	if concurrency <= 0 {
		concurrency = 8
	}
	var (
		mu       sync.Mutex
		firstErr error
	)
	pool.Each(len(todo), concurrency, func(i int) {
		rp := todo[i]
		view := ResourceProvider{UUID: rp.UUID, Name: rp.Name, Inventories: map[string]Inventory{}, Usages: map[string]int{}}
		inv, err := resourceproviders.GetInventories(ctx, client, rp.UUID).Extract()
		if err == nil {
			for rc, i := range inv.Inventories {
				view.Inventories[rc] = Inventory{Total: i.Total, Reserved: i.Reserved, MinUnit: i.MinUnit, MaxUnit: i.MaxUnit, StepSize: i.StepSize, AllocationRatio: float64(i.AllocationRatio)}
			}
			var use *resourceproviders.ResourceProviderUsage
			use, err = resourceproviders.GetUsages(ctx, client, rp.UUID).Extract()
			if err == nil && use.Usages != nil {
				view.Usages = use.Usages
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil && firstErr == nil && !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			firstErr = err
		}
		p.Providers[rp.UUID] = view
	})
	if firstErr != nil {
		return nil, firstErr
	}
	if len(req.Resources) > 0 {
		p.CandidatesQuery = CandidatesQuery(req)
		p.Candidates, err = allocationCandidates(ctx, client, p.CandidatesQuery)
		if classUnknown(err) {
			// Placement has never seen the class: no node of it was reported.
			p.UnknownClasses = unknownClasses(err.Error(), req)
			p.Candidates, err = map[string]bool{}, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// unknownClasses picks the flavor's classes Placement named as unknown.
func unknownClasses(msg string, req Requirements) []string {
	var out []string
	for _, rc := range slices.Sorted(maps.Keys(req.Resources)) {
		if strings.Contains(msg, "No such resource class "+rc+".") || strings.Contains(msg, "No such resource class "+rc+" ") {
			out = append(out, rc)
		}
	}
	return out
}

// looksFree tells whether Ironic shows a node as usable by Nova (the
// ironic driver's own test: available, not in maintenance, power state
// known, no instance).
func looksFree(n Node) bool {
	return !n.Maintenance && (n.ProvisionState == "available" || n.ProvisionState == "") &&
		n.PowerState != "" && n.PowerState != "error" && n.InstanceUUID == ""
}

// allocationCandidates asks Placement which providers can satisfy query
// (gophercloud has no package for it).
func allocationCandidates(ctx context.Context, client *gophercloud.ServiceClient, query string) (map[string]bool, error) {
	var body struct {
		AllocationRequests []struct {
			Allocations map[string]any `json:"allocations"`
		} `json:"allocation_requests"`
	}
	_, err := client.Get(ctx, client.ServiceURL("allocation_candidates")+"?"+query, &body, &gophercloud.RequestOpts{OkCodes: []int{http.StatusOK}})
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, ar := range body.AllocationRequests {
		for uuid := range ar.Allocations {
			out[uuid] = true
		}
	}
	return out, nil
}

// Capacity is how many nodes Placement offers flavor on now: the
// allocation candidates of the query Nova's scheduler sends for it.
func Capacity(ctx context.Context, placement *gophercloud.ServiceClient, flavor Flavor) (int, error) {
	pc := *placement
	pc.Microversion = PlacementMicroversion // allocation_candidates needs 1.10 or later
	got, err := allocationCandidates(ctx, &pc, CandidatesQuery(ReadFlavor(flavor)))
	if classUnknown(err) {
		return 0, nil // no node has reported the class yet
	}
	return len(got), err
}

// classUnknown tells Placement's answer to a query naming a resource class
// it has never seen (no node of that class was reported yet).
func classUnknown(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusBadRequest) && strings.Contains(err.Error(), "No such resource class")
}
