package inspect

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Desired is what the operator asked for, the same for every node of a task.
type Desired struct {
	// Provide ends each node in available (automated cleaning runs if the
	// conductor enables it); otherwise nodes end in manageable.
	Provide bool
	// Force re-inspects nodes whose inspection is already on record.
	Force bool
	// Capabilities are merged key by key into properties/capabilities.
	Capabilities Capabilities
	// ResourceClass, when not empty, is set on the node.
	ResourceClass string
	// Properties are set key by key; a nil value removes the key.
	Properties map[string]any
}

// Action is one thing done to a node.
type Action string

const (
	// ActWait waits for an operation in progress (ours or someone else's) to finish.
	ActWait     Action = "wait"
	ActManage   Action = "manage"
	ActInspect  Action = "inspect"
	ActUpdate   Action = "update"
	ActProvide  Action = "provide"
	ActPowerOff Action = "power off"
	// ActAbort is only used by Apply, to stop a timed-out or stuck operation before a retry.
	ActAbort Action = "abort"
)

// Step is one planned action and the state it should leave the node in.
type Step struct {
	Action Action
	// From and To are the provision states before and after the step.
	From, To string
	// Changes are the field changes of an ActUpdate step.
	Changes []Change
}

// String reads like the operator's command: "manage (enroll -> manageable)".
func (s Step) String() string {
	if s.Action == ActUpdate {
		paths := make([]string, len(s.Changes))
		for i, c := range s.Changes {
			paths[i] = c.Path
		}
		return fmt.Sprintf("update %s", strings.Join(paths, ", "))
	}
	if s.From == s.To {
		return fmt.Sprintf("%s (%s)", s.Action, s.From)
	}
	return fmt.Sprintf("%s (%s -> %s)", s.Action, s.From, s.To)
}

// Change is one field of a node set or removed by an update, as a JSON
// patch path relative to the node ("resource_class", "properties/capabilities").
type Change struct {
	Path   string
	Before any
	After  any
	Remove bool
}

// Plan is every step one node needs, in order, and the node as the steps
// should leave it. An empty plan means the node is already as desired.
type Plan struct {
	Steps []Step
	After Node
}

// Changed reports whether carrying out the plan changes the node.
func (p Plan) Changed() bool {
	for _, s := range p.Steps {
		if s.Action != ActWait {
			return true
		}
	}
	return false
}

// PlanError says why a node cannot be handled at all; nothing is done to it.
type PlanError struct {
	Node   string
	Reason string
}

func (e *PlanError) Error() string { return fmt.Sprintf("node %s: %s", e.Node, e.Reason) }

// NewPlan plans one node from its observed state. inspectedThisRun is true
// once Apply has inspected the node, so that force does not loop.
// It is pure: the same inputs always give the same plan.
func NewPlan(observed Node, d Desired, inspectedThisRun bool) (Plan, error) {
	n := observed.clone()
	inspected := inspectedThisRun
	needsInspection := func() bool {
		if inspected {
			return false
		}
		return d.Force || !n.Inspected()
	}
	var steps []Step
	add := func(a Action, to string) {
		steps = append(steps, Step{Action: a, From: n.ProvisionState, To: to})
		n.ProvisionState, n.TargetProvisionState = to, targetNone
	}
	// A node needs at most wait, manage, inspect, update, provide, power off:
	// the bound only guards against a planning bug looping forever.
	for i := 0; i < 12; i++ {
		if target := n.TargetProvisionState; n.moving() {
			// Ironic is moving the node (verifying, inspecting, cleaning, ...): wait for where it goes.
			if target != StateManageable && target != StateAvailable {
				return Plan{}, &PlanError{Node: observed.Label(), Reason: fmt.Sprintf(
					"Ironic is moving it from %q to %q, a state it cannot be inspected in", n.ProvisionState, target)}
			}
			if isInspection(n.ProvisionState) && target == StateManageable {
				inspected = true
				n.InspectionFinishedAt = &time.Time{}
			}
			add(ActWait, target)
			continue
		}
		switch n.ProvisionState {
		case StateEnroll, StateCleanFail:
			add(ActManage, StateManageable)
		case StateInspectFail:
			add(ActInspect, StateManageable)
			inspected = true
		case StateManageable:
			switch {
			case needsInspection():
				add(ActInspect, StateManageable)
				inspected = true
			case len(propertyChanges(n, d)) > 0:
				steps = append(steps, updateStep(&n, d))
			case d.Provide:
				add(ActProvide, StateAvailable)
			default:
				return finish(observed, steps, n)
			}
		case StateAvailable:
			switch {
			case needsInspection():
				add(ActManage, StateManageable)
			case len(propertyChanges(n, d)) > 0:
				// Ironic (since Stein) updates properties and resource_class of an available node in place.
				steps = append(steps, updateStep(&n, d))
			case d.Provide && powerUnknown(n):
				steps = append(steps, Step{Action: ActPowerOff, From: n.ProvisionState, To: n.ProvisionState})
				n.PowerState = PowerOff
			default:
				return finish(observed, steps, n)
			}
		default:
			// A deployed node that was inspected and tagged as asked has
			// nothing left to do: a re-run of the whole flow after
			// nova_bm_server must be unchanged, not failed.
			if n.ProvisionState == StateActive && !needsInspection() && len(propertyChanges(n, d)) == 0 {
				return finish(observed, steps, n)
			}
			reason := fmt.Sprintf("provision state %q: only enroll, manageable, available, inspect failed and clean failed nodes are inspected", n.ProvisionState)
			if n.InstanceUUID != "" {
				reason += fmt.Sprintf(" (it hosts instance %s)", n.InstanceUUID)
			}
			return Plan{}, &PlanError{Node: observed.Label(), Reason: reason}
		}
	}
	return Plan{}, &PlanError{Node: observed.Label(), Reason: "no plan reaches the desired state (a bug: please report it)"}
}

// finish checks what the plan needs of the node before returning it.
func finish(observed Node, steps []Step, after Node) (Plan, error) {
	p := Plan{Steps: steps, After: after}
	if observed.Maintenance && p.Changed() {
		reason := "in maintenance"
		if observed.MaintenanceReason != "" {
			reason += " (" + observed.MaintenanceReason + ")"
		}
		return Plan{}, &PlanError{Node: observed.Label(), Reason: reason + ": Ironic refuses to inspect or provide it; unset maintenance first"}
	}
	return p, nil
}

func isInspection(state string) bool { return state == StateInspecting || state == StateInspectWait }

// powerUnknown is a node whose power state Ironic does not know
// (fake-hardware): Nova does not schedule onto it until it is powered off.
func powerUnknown(n Node) bool {
	return n.PowerState == "" || n.PowerState == "None"
}

// updateStep plans the update of properties and resource class and applies it to n.
func updateStep(n *Node, d Desired) Step {
	changes := propertyChanges(*n, d)
	for _, c := range changes {
		switch {
		case c.Path == "resource_class":
			n.ResourceClass = c.After.(string)
		case c.Remove:
			delete(n.Properties, strings.TrimPrefix(c.Path, "properties/"))
		default:
			n.Properties[strings.TrimPrefix(c.Path, "properties/")] = c.After
		}
	}
	return Step{Action: ActUpdate, From: n.ProvisionState, To: n.ProvisionState, Changes: changes}
}

// propertyChanges lists the fields whose value differs from what is desired,
// in a stable order: resource class, capabilities, then properties by key.
// Capabilities are merged (keys the node has and the operator did not name
// are kept); properties are set key by key, never replaced as a whole.
func propertyChanges(n Node, d Desired) []Change {
	var changes []Change
	if d.ResourceClass != "" && n.ResourceClass != d.ResourceClass {
		changes = append(changes, Change{Path: "resource_class", Before: nilIfEmpty(n.ResourceClass), After: d.ResourceClass})
	}
	if len(d.Capabilities) > 0 {
		have := n.Capabilities()
		if !have.Covers(d.Capabilities) {
			changes = append(changes, Change{
				Path:   "properties/capabilities",
				Before: n.Properties["capabilities"],
				After:  have.Merge(d.Capabilities).String(),
			})
		}
	}
	keys := make([]string, 0, len(d.Properties))
	for k := range d.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := d.Properties[k]
		have, present := n.Properties[k]
		switch {
		case want == nil && present:
			changes = append(changes, Change{Path: "properties/" + k, Before: have, Remove: true})
		case want != nil && (!present || !sameValue(have, want)):
			changes = append(changes, Change{Path: "properties/" + k, Before: have, After: want})
		}
	}
	return changes
}

// sameValue compares JSON values, treating a number and its text as equal
// ("4096" from a k=v task argument and Ironic's 4096), so that a second
// run does not rewrite a value it already wrote.
func sameValue(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return false
	}
	if string(ja) == string(jb) {
		return true
	}
	return unquote(ja) == unquote(jb)
}

func unquote(j []byte) string {
	var s string
	if json.Unmarshal(j, &s) == nil {
		return s
	}
	return string(j)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
