package enroll

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/metalkit/baremetal/internal/secret"
)

// States a node can be asked to start in.
const (
	StateEnroll     = "enroll"
	StateManageable = "manageable"
	stateVerifying  = "verifying"
)

// Password policies (update_password).
const (
	PasswordOnCreate = "on_create"
	PasswordAlways   = "always"
)

// DefaultResourceClass is what Nova's baremetal flavor asks for (as CUSTOM_BAREMETAL).
const DefaultResourceClass = "baremetal"

// Options are the module's choices that shape plans and their application.
type Options struct {
	// Absent deletes the nodes instead of enrolling them.
	Absent bool
	// InitialState is StateEnroll or StateManageable.
	InitialState string
	// UpdatePassword is PasswordOnCreate or PasswordAlways.
	UpdatePassword string
	// Concurrency bounds how many nodes are worked on at once.
	Concurrency int
	// Failfast stops starting nodes after the first failure.
	Failfast bool
	// Wait for manage (BMC validation) to finish.
	Wait bool
	// PollInterval caps the wait between two reads of a node in transition.
	PollInterval time.Duration
}

// Action is what a plan does to one node.
type Action string

const (
	ActionCreate    Action = "create"
	ActionUpdate    Action = "update"
	ActionUnchanged Action = "unchanged"
	ActionDelete    Action = "delete"
	ActionAbsent    Action = "absent"
)

// PatchOp is one JSON-patch operation on a node or port. Secret marks a
// credential value: never shown, only counted.
type PatchOp struct {
	Op     string
	Path   string
	Value  any
	Secret bool
}

// ToNodeUpdateMap and ToPortUpdateMap build the request items. Unlike
// gophercloud's UpdateOperation (Value is omitempty) they keep a nil value:
// "add" of null is sent as {"value": null}, not as an add without a value.
func (o PatchOp) ToNodeUpdateMap() (map[string]any, error) { return o.body(), nil }
func (o PatchOp) ToPortUpdateMap() map[string]any          { return o.body() }

func (o PatchOp) body() map[string]any {
	m := map[string]any{"op": o.Op, "path": o.Path}
	if o.Op != "remove" {
		m["value"] = o.Value
	}
	return m
}

// String shows the operation for messages, a secret value masked.
func (o PatchOp) String() string {
	if o.Op == "remove" {
		return "remove " + o.Path
	}
	v := fmt.Sprint(o.Value)
	if o.Secret {
		v = maskedValue
	}
	return fmt.Sprintf("%s %s=%s", o.Op, o.Path, v)
}

const maskedValue = "********"

// PortPatch updates one existing port.
type PortPatch struct {
	UUID    string
	Address string
	Ops     []PatchOp
}

// Plan is everything one node needs, computed without any API call.
type Plan struct {
	Node          *Node
	Existing      *IronicNode
	ExistingPorts []IronicPort
	// MatchedBy says how Existing was found: MatchedByUUID, MatchedByName, MatchedByBMC,
	// MatchedByMAC, or MatchedByNone when nothing matched.
	MatchedBy string
	Action    Action
	// CreateBody is the POST /v1/nodes body (ActionCreate).
	CreateBody  map[string]any
	Patch       []PatchOp
	PortCreates []Port
	PortPatches []PortPatch
	PortDeletes []IronicPort
	// Manage asks for enroll -> manageable; Wait waits for verifying to end.
	Manage bool
	Wait   bool
	// Kept lists inspected hardware properties left as found although the input differs.
	Kept []string
	// Err is a problem only Ironic's state reveals (a MAC on another node).
	Err error
}

// Changed tells whether applying the plan writes anything.
func (p *Plan) Changed() bool {
	switch p.Action {
	case ActionCreate, ActionDelete:
		return true
	case ActionAbsent:
		return false
	}
	return len(p.Patch) > 0 || len(p.PortCreates) > 0 || len(p.PortPatches) > 0 || len(p.PortDeletes) > 0 || p.Manage
}

// PlanAll plans every node against the observed state. Plans are in input
// order; two input nodes resolving to the same Ironic node is an error on
// the second.
func PlanAll(in []*Node, obs *Observed, opts Options) []*Plan {
	plans := make([]*Plan, len(in))
	claimed := map[string]*Node{}
	for i, n := range in {
		p := PlanNode(n, obs, opts)
		if p.Existing != nil && p.Err == nil {
			if first, dup := claimed[p.Existing.UUID]; dup {
				p.Err = fmt.Errorf("resolves to Ironic node %s, which %s already resolves to", nodeRef(p.Existing), first.Label())
			} else {
				claimed[p.Existing.UUID] = n
			}
		}
		plans[i] = p
	}
	return plans
}

// PlanNode finds the node (by name, else by its BMC, else by any of its
// MACs, all of which must agree) and computes
// the smallest change that makes Ironic match the input.
func PlanNode(n *Node, obs *Observed, opts Options) *Plan {
	p := &Plan{Node: n}
	p.Existing, p.MatchedBy, p.Err = match(n, obs, opts.Absent)
	if p.Err != nil {
		p.Action = ActionUnchanged
		return p
	}
	if p.Existing != nil {
		p.ExistingPorts = append([]IronicPort(nil), obs.portsOfNode[p.Existing.UUID]...)
		sort.Slice(p.ExistingPorts, func(a, b int) bool { return p.ExistingPorts[a].Address < p.ExistingPorts[b].Address })
	}
	switch {
	case opts.Absent && p.Existing == nil:
		p.Action = ActionAbsent
	case opts.Absent:
		p.Action = ActionDelete
	case p.Existing == nil:
		p.Action = ActionCreate
		p.CreateBody = createBody(n)
		p.PortCreates = n.Ports
		if opts.InitialState == StateManageable {
			p.Manage, p.Wait = true, opts.Wait
		}
	default:
		planUpdate(p, obs, opts)
		if p.Err != nil {
			p.Patch, p.PortCreates, p.PortPatches, p.PortDeletes = nil, nil, nil, nil
			p.Manage, p.Wait = false, false
		}
		if p.Changed() {
			p.Action = ActionUpdate
		} else {
			p.Action = ActionUnchanged
		}
	}
	return p
}

// How a plan found its Ironic node (Plan.MatchedBy, the result's matched_by).
const (
	MatchedByUUID = "uuid"
	MatchedByName = "name"
	MatchedByBMC  = "bmc"
	MatchedByMAC  = "mac"
	MatchedByNone = "none"
)

// matchHit is one way the input node found an Ironic node.
type matchHit struct {
	by   string // MatchedBy*
	what string // "name \"x\"", "BMC h:623", "MAC m", for messages
	node *IronicNode
}

// match finds the Ironic node an input node stands for: by uuid when the
// input gives one, by name, else by BMC identity, else by a port's MAC. As in tripleo-common's _get_node_id
// (which looks at the BMC identity, the MACs and the uuid) every way that
// finds a node must find the same one, else it fails naming each ("Several
// candidates found for the same node data"): a re-import whose names or
// MACs changed finds the same nodes through their BMCs, and a name that
// is node A's while the BMC is node B's is an error, not a second node.
// With absent, a node with a uuid or name is found by that only (a BMC or
// MAC must not pick another node for deletion).
func match(n *Node, obs *Observed, absent bool) (*IronicNode, string, error) {
	var hits []matchHit
	if found := obs.byUUID[n.UUID]; n.UUID != "" && found != nil {
		hits = append(hits, matchHit{MatchedByUUID, "uuid " + n.UUID, found})
	}
	if found := obs.byName[n.Name]; n.Name != "" && found != nil {
		hits = append(hits, matchHit{MatchedByName, fmt.Sprintf("name %q", n.Name), found})
	}
	if absent && (n.UUID != "" || n.Name != "") {
		return agree(hits)
	}
	if n.BMC != "" {
		owners := obs.byBMC[n.BMC]
		switch {
		case len(owners) == 1:
			hits = append(hits, matchHit{MatchedByBMC, "BMC " + n.BMC, owners[0]})
		case len(owners) > 1:
			// Several Ironic nodes on one BMC: only the uuid or name can tell which.
			if len(hits) == 0 || !slices.Contains(owners, hits[0].node) {
				var refs []string
				for _, o := range owners {
					refs = append(refs, nodeRef(o))
				}
				return nil, MatchedByNone, fmt.Errorf("its BMC %s is the BMC of several Ironic nodes (%s): name the node as one of them (or give its uuid), or delete the stale nodes",
					n.BMC, strings.Join(refs, ", "))
			}
		}
	}
	owners := map[string]*IronicNode{}
	var order []string
	for _, mac := range n.MACs() {
		port, ok := obs.portByMAC[mac]
		if !ok {
			continue
		}
		owner := obs.byUUID[port.NodeUUID]
		if owner == nil {
			owner = &IronicNode{UUID: port.NodeUUID} // a node we could not list (another project's)
		}
		if _, seen := owners[owner.UUID]; !seen {
			order = append(order, owner.UUID)
			owners[owner.UUID] = owner
			hits = append(hits, matchHit{MatchedByMAC, "MAC " + mac, owner})
		}
	}
	if len(owners) > 1 {
		var refs []string
		for _, id := range order {
			refs = append(refs, nodeRef(owners[id]))
		}
		return nil, MatchedByNone, fmt.Errorf("its MACs are ports of different Ironic nodes (%s): fix the MACs or delete the stale nodes", strings.Join(refs, ", "))
	}
	return agree(hits)
}

// agree is the node every hit found, or an error naming two that differ.
func agree(hits []matchHit) (*IronicNode, string, error) {
	if len(hits) == 0 {
		return nil, MatchedByNone, nil
	}
	first := hits[0]
	for _, h := range hits[1:] {
		if h.node.UUID != first.node.UUID {
			return nil, MatchedByNone, fmt.Errorf("its %s matches Ironic node %s but its %s matches Ironic node %s: one definition cannot be two nodes; fix the definition or delete the stale node",
				first.what, nodeRef(first.node), h.what, nodeRef(h.node))
		}
	}
	return first.node, first.by, nil
}

func nodeRef(n *IronicNode) string {
	if n.Name != "" {
		return fmt.Sprintf("%s (%s)", n.Name, n.UUID)
	}
	return n.UUID
}

// createBody is the POST /v1/nodes body: no provision state change, so
// Ironic creates the node in enroll and never cleans it.
func createBody(n *Node) map[string]any {
	body := map[string]any{"driver": n.Driver.HardwareType}
	if n.Name != "" {
		body["name"] = n.Name
	}
	if n.UUID != "" {
		body["uuid"] = n.UUID
	}
	if len(n.DriverInfo) > 0 {
		body["driver_info"] = copyMap(n.DriverInfo)
	}
	props := copyMap(n.Properties)
	if len(n.Capabilities) > 0 {
		props["capabilities"] = n.Capabilities.String()
	}
	if len(props) > 0 {
		body["properties"] = props
	}
	body["resource_class"] = n.resourceClassOr(DefaultResourceClass)
	for k, v := range n.Fields {
		body[k] = v
	}
	return body
}

func (n *Node) resourceClassOr(def string) string {
	if n.ResourceClass != "" {
		return n.ResourceClass
	}
	return def
}

// hardwareProperties are what inspection reports; on an inspected node the
// machine's own report wins over a hand-written instackenv.
var hardwareProperties = map[string]bool{"cpus": true, "memory_mb": true, "local_gb": true, "cpu_arch": true}

func planUpdate(p *Plan, obs *Observed, opts Options) {
	n, ex := p.Node, p.Existing
	add := func(op, path string, v any, secret bool) {
		p.Patch = append(p.Patch, PatchOp{Op: op, Path: path, Value: v, Secret: secret})
	}
	if n.Name != "" && ex.Name != n.Name {
		add("replace", "/name", n.Name, false)
	}
	if n.Driver != nil && ex.Driver != n.Driver.HardwareType {
		add("replace", "/driver", n.Driver.HardwareType, false)
	}

	// driver_info, key by key; credentials per update_password.
	for _, k := range slices.Sorted(maps.Keys(n.DriverInfo)) {
		want := n.DriverInfo[k]
		have, set := ex.DriverInfo[k]
		path := "/driver_info/" + pointerEscape(k)
		isSecret := secret.IsKey(k)
		switch {
		case !set || have == nil:
			add("add", path, want, isSecret)
		case isSecret && have == ironicMask:
			if opts.UpdatePassword == PasswordAlways {
				add("replace", path, want, true)
			}
		case !sameValue(want, have):
			if !isSecret || opts.UpdatePassword == PasswordAlways {
				add("replace", path, want, isSecret)
			}
		}
	}

	// properties, key by key; inspected hardware facts are kept.
	for _, k := range slices.Sorted(maps.Keys(n.Properties)) {
		want := n.Properties[k]
		have, set := ex.Properties[k]
		path := "/properties/" + pointerEscape(k)
		switch {
		case !set || have == nil:
			add("add", path, want, false)
		case sameValue(want, have):
		case ex.Inspected && hardwareProperties[k] && str(have) != "":
			p.Kept = append(p.Kept, fmt.Sprintf("%s %v (input %v)", k, have, want))
		default:
			add("replace", path, want, false)
		}
	}

	// capabilities merged into the node's own, never replacing them.
	if len(n.Capabilities) > 0 {
		haveRaw, set := ex.Properties["capabilities"]
		have, err := ParseCapabilities(haveRaw)
		if err != nil {
			have = nil // unreadable: rewritten from the input alone
		}
		if err != nil || !have.Covers(n.Capabilities) {
			op := "replace"
			if !set || haveRaw == nil {
				op = "add"
			}
			add(op, "/properties/capabilities", have.Merge(n.Capabilities).String(), false)
		}
	}

	// resource_class: the input's, else the default for a node with none.
	if want := n.resourceClassOr(""); want != "" && ex.ResourceClass != want {
		add("replace", "/resource_class", want, false)
	} else if want == "" && ex.ResourceClass == "" {
		add("replace", "/resource_class", DefaultResourceClass, false)
	}

	for _, k := range slices.Sorted(maps.Keys(n.Fields)) {
		want := str(n.Fields[k])
		have := str(ex.Fields[k])
		if k == "conductor_group" {
			have = strings.ToLower(have)
		}
		if have != want {
			add("replace", "/"+k, want, false)
		}
	}

	planPorts(p, obs)

	switch {
	case ex.ProvisionState == StateEnroll && opts.InitialState == StateManageable:
		p.Manage, p.Wait = true, opts.Wait
	case ex.ProvisionState == stateVerifying && opts.InitialState == StateManageable:
		p.Wait = opts.Wait
	}
}

// ironicMask is how Ironic shows a credential on read.
const ironicMask = "******"

func planPorts(p *Plan, obs *Observed) {
	n := p.Node
	mine := map[string]IronicPort{}
	for _, port := range p.ExistingPorts {
		mine[port.Address] = port
	}
	wanted := map[string]bool{}
	for _, want := range n.Ports {
		wanted[want.Address] = true
		if have, ok := mine[want.Address]; ok {
			if ops := portChanges(want, have); len(ops) > 0 {
				p.PortPatches = append(p.PortPatches, PortPatch{UUID: have.UUID, Address: have.Address, Ops: ops})
			}
			continue
		}
		if other, taken := obs.portByMAC[want.Address]; taken {
			owner := obs.byUUID[other.NodeUUID]
			if owner == nil {
				owner = &IronicNode{UUID: other.NodeUUID}
			}
			p.Err = fmt.Errorf("MAC %s is already a port of another Ironic node, %s: fix the MAC or remove that port", want.Address, nodeRef(owner))
			continue
		}
		p.PortCreates = append(p.PortCreates, want)
	}
	if n.PortsGiven {
		for _, have := range p.ExistingPorts {
			if !wanted[have.Address] {
				p.PortDeletes = append(p.PortDeletes, have)
			}
		}
	}
}

func portChanges(want Port, have IronicPort) []PatchOp {
	var ops []PatchOp
	if want.PhysicalNetwork != nil && (have.PhysicalNetwork == nil || *have.PhysicalNetwork != *want.PhysicalNetwork) {
		ops = append(ops, PatchOp{Op: "replace", Path: "/physical_network", Value: *want.PhysicalNetwork})
	}
	if want.LocalLinkConnection != nil && !sameValue(want.LocalLinkConnection, have.LocalLinkConnection) {
		ops = append(ops, PatchOp{Op: "replace", Path: "/local_link_connection", Value: want.LocalLinkConnection})
	}
	if want.PXEEnabled != nil && (have.PXEEnabled == nil || *have.PXEEnabled != *want.PXEEnabled) {
		ops = append(ops, PatchOp{Op: "replace", Path: "/pxe_enabled", Value: *want.PXEEnabled})
	}
	return ops
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
