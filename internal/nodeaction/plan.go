package nodeaction

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"github.com/metalkit/baremetal/internal/capabilities"
	"github.com/metalkit/baremetal/internal/diagnose"
)

// Action is one step of a plan.
type Action string

const (
	ActionSetMaintenance   Action = "set_maintenance"
	ActionUnsetMaintenance Action = "unset_maintenance"
	ActionSetResourceClass Action = "set_resource_class"
	ActionSetCapabilities  Action = "set_capabilities"
	ActionSetTraits        Action = "set_traits"
	ActionPowerOn          Action = "power_on"
	ActionPowerOff         Action = "power_off"
	ActionReboot           Action = "reboot"
	ActionSoftPowerOff     Action = "soft_power_off"
	ActionSoftReboot       Action = "soft_reboot"
)

// powerSteps maps a power option value to its action, Ironic's target and
// the power state the node ends in.
var powerSteps = map[string]struct {
	action Action
	target nodes.TargetPowerState
	ends   string
}{
	PowerOn:         {ActionPowerOn, nodes.PowerOn, "power on"},
	PowerOff:        {ActionPowerOff, nodes.PowerOff, "power off"},
	PowerReboot:     {ActionReboot, nodes.Rebooting, "power on"},
	PowerSoftOff:    {ActionSoftPowerOff, nodes.SoftPowerOff, "power off"},
	PowerSoftReboot: {ActionSoftReboot, nodes.SoftRebooting, "power on"},
}

// View is what the module reports of a node, and what its diff compares.
type View struct {
	UUID              string         `json:"uuid"`
	Name              string         `json:"name"`
	ProvisionState    string         `json:"provision_state"`
	PowerState        string         `json:"power_state"`
	Maintenance       bool           `json:"maintenance"`
	MaintenanceReason string         `json:"maintenance_reason"`
	ResourceClass     string         `json:"resource_class"`
	Capabilities      map[string]any `json:"capabilities"`
	Traits            []string       `json:"traits"`
}

// ViewOf is the node as the module reports it.
func ViewOf(n *nodes.Node) View {
	caps, _ := nodeCapabilities(n)
	return View{UUID: n.UUID, Name: n.Name, ProvisionState: n.ProvisionState, PowerState: n.PowerState,
		Maintenance: n.Maintenance, MaintenanceReason: n.MaintenanceReason, ResourceClass: n.ResourceClass,
		Capabilities: caps.Map(), Traits: orEmpty(sortedTraits(n.Traits))}
}

// Plan is what Apply will do, and what check mode and diff mode report.
type Plan struct {
	Actions []Action
	// Patch sets resource_class and properties/capabilities in one request.
	Patch nodes.UpdateOpts
	// Traits is the node's whole trait list to PUT (ActionSetTraits).
	Traits []string
	// PowerTarget and PowerEnds for a power action.
	PowerTarget nodes.TargetPowerState
	PowerEnds   string
	// Before is the node as observed; After as it will be.
	Before, After View
	// Warnings are said whatever happens.
	Warnings []string
}

// Changes tells whether the plan writes anything.
func (p Plan) Changes() bool { return len(p.Actions) > 0 }

// Has tells whether the plan includes a.
func (p Plan) Has(a Action) bool { return slices.Contains(p.Actions, a) }

// MakePlan compares the request with the node: only what differs is done.
func MakePlan(d Desired, n *nodes.Node) (Plan, error) {
	p := Plan{Before: ViewOf(n)}
	p.After = p.Before
	p.After.Capabilities = cloneMap(p.Before.Capabilities)
	p.After.Traits = slices.Clone(p.Before.Traits)
	label := nodeLabel(n)

	if m := d.Maintenance; m != nil && *m {
		reason := ""
		if d.MaintenanceReason != nil {
			reason = *d.MaintenanceReason
		}
		// In maintenance already: only a different reason given is a change.
		if !n.Maintenance || (d.MaintenanceReason != nil && reason != n.MaintenanceReason) {
			p.Actions = append(p.Actions, ActionSetMaintenance)
			p.After.Maintenance, p.After.MaintenanceReason = true, reason
		}
	}

	if rc := d.ResourceClass; rc != nil && *rc != n.ResourceClass {
		p.Patch = append(p.Patch, nodes.UpdateOperation{Op: nodes.AddOp, Path: "/resource_class", Value: *rc})
		p.Actions = append(p.Actions, ActionSetResourceClass)
		p.After.ResourceClass = *rc
	}
	if rc := d.ResourceClass; rc != nil && strings.HasPrefix(strings.ToUpper(*rc), "CUSTOM_") {
		p.Warnings = append(p.Warnings, fmt.Sprintf("resource_class %q: Nova reports it to Placement as %s (it always prefixes CUSTOM_); a flavor must ask for resources:%s=1, or set resource_class %s",
			*rc, diagnose.PlacementClass(*rc), diagnose.PlacementClass(*rc), strings.ToLower((*rc)[len("CUSTOM_"):])))
	}
	if d.Capabilities != nil {
		have, err := nodeCapabilities(n)
		if err != nil {
			return p, fmt.Errorf("node %s: its properties/capabilities cannot be merged: %w", label, err)
		}
		if !have.Covers(d.Capabilities) {
			merged := have.Merge(d.Capabilities)
			p.Patch = append(p.Patch, nodes.UpdateOperation{Op: nodes.AddOp, Path: "/properties/capabilities", Value: merged.String()})
			p.Actions = append(p.Actions, ActionSetCapabilities)
			p.After.Capabilities = merged.Map()
		}
	}
	if d.Traits != nil {
		want := sortedTraits(d.Traits)
		if !d.PurgeTraits {
			want = sortedTraits(append(slices.Clone(n.Traits), d.Traits...))
		}
		if !slices.Equal(want, sortedTraits(n.Traits)) {
			p.Actions = append(p.Actions, ActionSetTraits)
			p.Traits = want
			p.After.Traits = orEmpty(want)
		}
	}

	if step, ok := powerSteps[d.Power]; ok {
		// Reboots always act; on and off only when the node is elsewhere.
		rebootish := d.Power == PowerReboot || d.Power == PowerSoftReboot
		if rebootish || n.PowerState != step.ends || n.TargetPowerState != "" {
			p.Actions = append(p.Actions, step.action)
			p.PowerTarget, p.PowerEnds = step.target, step.ends
			p.After.PowerState = step.ends
		}
	}

	if m := d.Maintenance; m != nil && !*m && n.Maintenance {
		p.Actions = append(p.Actions, ActionUnsetMaintenance)
		p.After.Maintenance, p.After.MaintenanceReason = false, ""
	}
	return p, nil
}

// nodeCapabilities reads properties/capabilities ("k:v,k:v", or a dict).
func nodeCapabilities(n *nodes.Node) (capabilities.Capabilities, error) {
	return capabilities.Parse(n.Properties["capabilities"])
}

// Describe words the actions for a message: "set maintenance (bad DIMM), then power off".
func (p Plan) Describe() string {
	var parts []string
	for _, a := range p.Actions {
		switch a {
		case ActionSetMaintenance:
			s := "set maintenance"
			if p.After.MaintenanceReason != "" {
				s += fmt.Sprintf(" (%s)", p.After.MaintenanceReason)
			}
			parts = append(parts, s)
		case ActionUnsetMaintenance:
			parts = append(parts, "unset maintenance")
		case ActionSetResourceClass:
			parts = append(parts, "set resource_class "+p.After.ResourceClass)
		case ActionSetCapabilities:
			parts = append(parts, "set capabilities "+capsText(p.After.Capabilities))
		case ActionSetTraits:
			parts = append(parts, "set traits ["+strings.Join(p.After.Traits, ", ")+"]")
		default:
			parts = append(parts, strings.ReplaceAll(string(a), "_", " "))
		}
	}
	return strings.Join(parts, ", then ")
}

func capsText(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%s:%v", k, m[k])
	}
	return strings.Join(keys, ",")
}

// ActionNames are the actions as strings, for results.
func ActionNames(list []Action) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = string(a)
	}
	return out
}

func nodeLabel(n *nodes.Node) string {
	if n.Name != "" {
		return n.Name
	}
	return n.UUID
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
