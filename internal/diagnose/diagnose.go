package diagnose

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Diagnosis is the doctor's answer: per node reasons and a one-line summary.
type Diagnosis struct {
	// Summary is one line an operator can act on.
	Summary string `json:"summary"`
	// Cause classifies the failure: no_valid_host, build_failed, timeout,
	// server_error, active, or on_demand (no server).
	Cause  string     `json:"cause"`
	Server *ServerRef `json:"server,omitempty"`
	Fault  *Fault     `json:"fault,omitempty"`
	Flavor FlavorView `json:"flavor"`
	// EligibleNodes names the nodes that look able to host the flavor now.
	EligibleNodes []string      `json:"eligible_nodes"`
	Nodes         []NodeReport  `json:"nodes"`
	Placement     PlacementView `json:"placement"`
	Notes         []string      `json:"notes,omitempty"`
}

// ServerRef identifies the diagnosed server.
type ServerRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Node   string `json:"node,omitempty"`
}

// FlavorView is the flavor and what it asks for.
type FlavorView struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	ExtraSpecs map[string]string `json:"extra_specs"`
	Requirements
}

// PlacementView says what Placement was asked and offered.
type PlacementView struct {
	Checked         bool     `json:"checked"`
	CandidatesQuery string   `json:"candidates_query,omitempty"`
	Candidates      []string `json:"candidates,omitempty"`
	// UnknownClasses are classes the flavor asks for that Placement never heard of.
	UnknownClasses []string `json:"unknown_classes,omitempty"`
}

// NodeReport is one Ironic node as the doctor saw it, with its reasons.
type NodeReport struct {
	UUID           string            `json:"uuid"`
	Name           string            `json:"name"`
	ProvisionState string            `json:"provision_state"`
	PowerState     string            `json:"power_state"`
	Maintenance    bool              `json:"maintenance"`
	InstanceUUID   string            `json:"instance_uuid"`
	ResourceClass  string            `json:"resource_class"`
	PlacementClass string            `json:"placement_resource_class"`
	Capabilities   map[string]string `json:"capabilities"`
	Traits         []string          `json:"traits"`
	LastError      string            `json:"last_error"`
	// Hypervisor is whether Nova lists the node (nil: not known).
	Hypervisor *bool `json:"hypervisor"`
	// Inventory is Placement's inventory of the flavor's class for the node (nil: none seen).
	Inventory *ProviderView `json:"resource_provider"`
	// Candidate is whether Placement offers the node for the flavor (nil: not asked).
	Candidate *bool    `json:"allocation_candidate"`
	Eligible  bool     `json:"eligible"`
	Reasons   []Reason `json:"reasons"`
}

// ProviderView is the part of a node's resource provider that matters.
type ProviderView struct {
	UUID        string               `json:"uuid"`
	Inventories map[string]Inventory `json:"inventories"`
	Usages      map[string]int       `json:"usages"`
}

// Label is how a node is named in messages: its name, else its UUID.
func (n Node) Label() string {
	if n.Name != "" {
		return n.Name
	}
	return n.UUID
}

// Diagnose tells for every node why a server of the snapshot's flavor could
// not (or could) land on it, and sums it up in one line.
func Diagnose(s Snapshot) Diagnosis {
	req := ReadFlavor(s.Flavor)
	d := Diagnosis{
		Flavor:        FlavorView{ID: s.Flavor.ID, Name: s.Flavor.Name, ExtraSpecs: nonNil(s.Flavor.ExtraSpecs), Requirements: req},
		EligibleNodes: []string{},
		Nodes:         []NodeReport{},
		Notes:         append([]string(nil), s.Notes...),
	}
	if s.Server != nil {
		d.Server = &ServerRef{ID: s.Server.ID, Name: s.Server.Name, Status: s.Server.Status, Node: s.Server.Node}
		d.Fault = s.Server.Fault
	}
	if s.Placement != nil {
		d.Placement.Checked = true
		d.Placement.CandidatesQuery = s.Placement.CandidatesQuery
		d.Placement.UnknownClasses = s.Placement.UnknownClasses
		for uuid, ok := range s.Placement.Candidates {
			if ok {
				d.Placement.Candidates = append(d.Placement.Candidates, uuid)
			}
		}
		sort.Strings(d.Placement.Candidates)
	}
	hypervisors := map[string]Hypervisor{}
	for _, h := range s.Hypervisors {
		hypervisors[h.Hostname] = h
	}
	nodes := append([]Node(nil), s.Nodes...)
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Label() < nodes[j].Label() })
	for _, n := range nodes {
		r := examine(n, s, req, hypervisors)
		if r.Eligible {
			d.EligibleNodes = append(d.EligibleNodes, n.Label())
		}
		d.Nodes = append(d.Nodes, r)
	}
	d.Cause = classify(s.Server)
	d.Summary = summarize(d, s, req, nodes)
	return d
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// examine gathers one node's reasons, most fundamental first.
func examine(n Node, s Snapshot, req Requirements, hypervisors map[string]Hypervisor) NodeReport {
	caps, malformed := NodeCapabilities(n.Properties)
	r := NodeReport{
		UUID: n.UUID, Name: n.Name, ProvisionState: n.ProvisionState, PowerState: n.PowerState,
		Maintenance: n.Maintenance, InstanceUUID: n.InstanceUUID, ResourceClass: n.ResourceClass,
		PlacementClass: PlacementClass(n.ResourceClass), Capabilities: caps, Traits: n.Traits,
		LastError: n.LastError, Reasons: []Reason{},
	}
	if r.Traits == nil {
		r.Traits = []string{}
	}
	add := func(code string, blocking bool, short, format string, args ...any) {
		r.Reasons = append(r.Reasons, Reason{Code: code, Blocking: blocking, Short: short, Message: fmt.Sprintf(format, args...)})
	}
	label := n.Label()
	lastErrorSaid := false
	// fix sets the summary's remedy of the reason just added.
	fix := func(module, options string) {
		r.Reasons[len(r.Reasons)-1].Fix = "metalkit.baremetal." + module + " " + options
	}

	if pin := s.Request.PinnedNode; pin != "" && pin != n.UUID && pin != n.Name {
		add(CodePinnedElsewhere, true, "not the pinned node",
			"the availability zone pins the server to node %s, not this one", pin)
	}
	// The resource class first: a node of another class is simply not for this flavor.
	switch pc := PlacementClass(n.ResourceClass); {
	case n.ResourceClass == "":
		add(CodeNoResourceClass, true, "no resource class",
			"no resource_class: Nova ignores the node; set one: %s", NodeTask(label, "resource_class="+suggestClass(req)))
		fix("ironic_node_action", "resource_class="+suggestClass(req))
	case strings.HasPrefix(pc, "CUSTOM_CUSTOM_") && pc != req.ResourceClass:
		add(CodeCustomCustom, true, "resource class "+n.ResourceClass+" becomes "+pc,
			"resource_class %q is reported to Placement as %s (Nova always prefixes CUSTOM_), not %s: %s", n.ResourceClass, pc, orDash(req.ResourceClass), NodeTask(label, "resource_class="+strings.ToLower(strings.TrimPrefix(pc, "CUSTOM_CUSTOM_"))))
		fix("ironic_node_action", "resource_class="+strings.ToLower(strings.TrimPrefix(pc, "CUSTOM_CUSTOM_")))
	case req.ResourceClass != "" && pc != req.ResourceClass:
		add(CodeResourceClass, true, "of another resource class",
			"resource_class %q is %s in Placement, the flavor asks for %s: set the node's resource_class (%s) or use a flavor with resources:%s=1",
			n.ResourceClass, pc, req.ResourceClass, NodeTask(label, "resource_class="+suggestClass(req)), pc)
		r.Reasons[len(r.Reasons)-1].Have, r.Reasons[len(r.Reasons)-1].HaveSet = pc, true
	}
	thisServer := s.Server != nil && (n.InstanceUUID == s.Server.ID || (s.Server.Node != "" && s.Server.Node == n.UUID))
	switch {
	case thisServer:
		add(CodeHostsThisServer, false, "hosts this server", "the server was placed on this node")
	case n.InstanceUUID != "":
		add(CodeHasInstance, true, "already hosting an instance",
			"already hosts instance %s", n.InstanceUUID)
	}
	if n.Maintenance {
		msg := "in maintenance"
		if n.MaintenanceReason != "" {
			msg += fmt.Sprintf(" (%s)", n.MaintenanceReason)
		}
		add(CodeMaintenance, true, "in maintenance", "%s: Nova does not use it; when fixed: %s", msg, NodeTask(label, "maintenance=false"))
		fix("ironic_node_action", "maintenance=false")
	}
	if n.ProvisionState != "available" && n.ProvisionState != "" && !(thisServer || n.InstanceUUID != "") {
		hint, short := stateHint(n)
		if n.LastError != "" && strings.HasSuffix(n.ProvisionState, "failed") {
			hint = fmt.Sprintf("last_error: %s; %s", n.LastError, hint)
			lastErrorSaid = true
		}
		target := ""
		if n.TargetProvisionState != "" {
			target = fmt.Sprintf(" (target %s)", n.TargetProvisionState)
		}
		add(CodeNotAvailable, true, short, "provision state %s%s, Nova only uses available nodes: %s", n.ProvisionState, target, hint)
		if strings.Contains(hint, "ironic_introspect") {
			fix("ironic_introspect", "provide=true")
		}
	}
	switch strings.ToLower(n.PowerState) {
	case "":
		add(CodePowerState, true, "power state unknown",
			"power state is unknown (null): Nova counts the node as unusable until Ironic knows it; run %s (fake-hardware nodes need this once)", NodeTask(label, "power=off"))
		fix("ironic_node_action", "power=off")
	case "error":
		add(CodePowerState, true, "power state error",
			"power state is error: Ironic cannot read the BMC; check driver_info and the BMC, then run %s", NodeTask(label, "power=off"))
		fix("ironic_node_action", "power=off")
	}
	for _, m := range malformed {
		add(CodeCapabilityMalformed, false, "malformed capabilities", "Nova ignores capability entry %s", m)
	}
	for _, c := range capabilityMisses(req, caps, label) {
		c.Short = fmt.Sprintf("not matching capabilities:%s=%s", c.Key, c.Wanted)
		r.Reasons = append(r.Reasons, c)
	}
	for _, t := range traitMisses(req, n.Traits, label) {
		t.Short = "traits differ"
		r.Reasons = append(r.Reasons, t)
	}
	if small := tooSmall(n, s.Flavor); len(small) > 0 {
		add(CodeTooSmall, false, "smaller than the flavor",
			"smaller than the flavor's nominal size (%s): Nova does not schedule bare metal by size, so this does not stop it; check the image fits the disk", strings.Join(small, ", "))
	}
	if s.HypervisorsListed {
		h, ok := hypervisors[n.UUID]
		known := ok
		r.Hypervisor = &known
		switch {
		case !ok:
			add(CodeNotDiscovered, true, "not discovered by Nova yet",
				"Nova has no hypervisor for this node yet: nova-compute adds nodes at its next resource update (update_resources_interval) and its host must be mapped to a cell (nova-manage cell_v2 discover_hosts)")
		case strings.EqualFold(h.State, "down"):
			add(CodeComputeDown, true, "nova-compute down",
				"the nova-compute service that manages it is down (openstack compute service list)")
		case strings.EqualFold(h.Status, "disabled"):
			add(CodeComputeDisabled, true, "nova-compute disabled",
				"the nova-compute service that manages it is disabled: openstack compute service set --enable <host> nova-compute")
		}
	}
	if p := s.Placement; p != nil {
		placementReasons(&r, n, p, req, add)
	}
	if n.LastError != "" && !lastErrorSaid {
		add(CodeLastError, false, "last error", "Ironic last_error: %s", n.LastError)
	}
	for _, p := range req.Problems {
		if p.Blocking {
			p.Short = "flavor"
			r.Reasons = append(r.Reasons, p)
		}
	}
	r.Eligible = true
	for _, reason := range r.Reasons {
		if reason.Blocking {
			r.Eligible = false
		}
	}
	return r
}

func placementReasons(r *NodeReport, n Node, p *Placement, req Requirements, add func(string, bool, string, string, ...any)) {
	rp, ok := p.Providers[n.UUID]
	if !ok {
		add(CodeNoResourceProvider, true, "no Placement resource provider",
			"Placement has no resource provider for the node: Nova has not reported it (it does at its next resource update, for nodes with a resource_class)")
		return
	}
	if rp.Inventories == nil {
		// Not read: the node is of another class than the flavor's.
		return
	}
	r.Inventory = &ProviderView{UUID: rp.UUID, Inventories: rp.Inventories, Usages: rp.Usages}
	if r.Inventory.Usages == nil {
		r.Inventory.Usages = map[string]int{}
	}
	rc := req.ResourceClass
	if rc != "" {
		inv, ok := rp.Inventories[rc]
		switch {
		case !ok:
			add(CodeInventoryMissing, true, "no "+rc+" in Placement",
				"Placement's inventory for the node has no %s (it has: %s)", rc, inventoryNames(rp.Inventories))
		case inv.Reserved >= inv.Total:
			add(CodeInventoryReserved, true, rc+" reserved in Placement",
				"Placement reserves the node's %s (reserved %d of %d): Nova does this while the node is not available, in maintenance or its power state is unknown; it clears at the next resource update after the cause is fixed", rc, inv.Reserved, inv.Total)
		case rp.Usages[rc] >= inv.Total-inv.Reserved:
			add(CodeInventoryUsed, true, rc+" allocated in Placement",
				"Placement already allocates the node's %s (used %d of %d) to an instance", rc, rp.Usages[rc], inv.Total)
		}
	}
	if p.Candidates != nil {
		candidate := p.Candidates[n.UUID]
		r.Candidate = &candidate
		blocked := false
		for _, reason := range r.Reasons {
			blocked = blocked || reason.Blocking
		}
		if !candidate && !blocked && !req.Blocked() {
			add(CodeNotCandidate, true, "not offered by Placement",
				"Placement does not offer the node for %s", p.CandidatesQuery)
		}
	}
}

func inventoryNames(inv map[string]Inventory) string {
	if len(inv) == 0 {
		return "nothing"
	}
	return strings.Join(slices.Sorted(maps.Keys(inv)), ", ")
}

// stateHint says what to do about a provision state, and a short group label.
func stateHint(n Node) (hint, short string) {
	label := n.Label()
	state := n.ProvisionState
	switch state {
	case "enroll":
		return ProvideTask(label), "in enroll, needs manage + provide"
	case "manageable":
		return ProvideTask(label), "manageable, needs provide"
	case "active":
		return "it is deployed without a Nova instance; undeploy it if it is free", "active without an instance"
	case "clean failed", "inspect failed":
		return "fix the cause, then " + ProvideTask(label), state
	case "deploy failed", "error", "rescue failed", "unrescue failed", "service failed":
		return fmt.Sprintf("fix the cause, then openstack baremetal node manage %s and provide", label), state
	case "cleaning", "clean wait", "inspecting", "inspect wait", "verifying", "deploying", "wait call-back", "deleting", "adopting", "rescuing", "servicing":
		return "Ironic is still working on it: wait", "busy (" + state + ")"
	}
	return "bring it to available", state
}

// NodeTask is the hint for a node remedy: the collection's task and its
// options, in Ansible's k=v form, instead of a CLI line.
func NodeTask(label, options string) string {
	return fmt.Sprintf("metalkit.baremetal.ironic_node_action: node=%s %s", label, options)
}

// ProvideTask is the hint for a node that must become available
// (manage, inspection unless already on record, provide).
func ProvideTask(label string) string {
	return fmt.Sprintf("metalkit.baremetal.ironic_introspect: nodes=%s provide=true", label)
}

func suggestClass(req Requirements) string {
	if strings.HasPrefix(req.ResourceClass, "CUSTOM_") {
		return strings.ToLower(strings.TrimPrefix(req.ResourceClass, "CUSTOM_"))
	}
	return "baremetal"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// tooSmall compares the node's properties with the flavor's sizes.
func tooSmall(n Node, f Flavor) []string {
	var out []string
	for _, c := range []struct {
		prop string
		want int
	}{{"cpus", f.VCPUs}, {"memory_mb", f.RAM}, {"local_gb", f.Disk}} {
		have, ok := number(n.Properties[c.prop])
		if ok && c.want > 0 && have < float64(c.want) {
			out = append(out, fmt.Sprintf("%s %g < %d", c.prop, have, c.want))
		}
	}
	return out
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		var f float64
		if _, err := fmt.Sscanf(strings.TrimSpace(x), "%g", &f); err == nil {
			return f, true
		}
	}
	return 0, false
}

// PlacementLags tells a refusal ("No valid host") that Placement alone
// explains: a node Ironic has ready (available, not in maintenance, no
// instance) is still reserved there. Nova's Ironic driver reserves a node it
// last read while it was being cleaned, and a resource update that read the
// node just before it came back can land after it did; the next update
// clears it.
func (d Diagnosis) PlacementLags() bool {
	if d.Cause != "no_valid_host" {
		return false
	}
	for _, n := range d.Nodes {
		if n.ProvisionState != "available" || n.Maintenance || n.InstanceUUID != "" {
			continue
		}
		for _, r := range n.Reasons {
			if r.Code == CodeInventoryReserved {
				return true
			}
		}
	}
	return false
}
