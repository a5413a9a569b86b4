package inspect

import (
	"slices"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/metalkit/baremetal/internal/openstack"
)

// Provision states this package reasons about, spelled as Ironic spells them.
const (
	StateEnroll       = "enroll"
	StateVerifying    = "verifying"
	StateManageable   = "manageable"
	StateInspecting   = "inspecting"
	StateInspectWait  = "inspect wait"
	StateInspectFail  = "inspect failed"
	StateCleaning     = "cleaning"
	StateCleanWait    = "clean wait"
	StateCleanFail    = "clean failed"
	StateAvailable    = "available"
	StateActive       = "active"
	PowerOff          = "power off"
	PowerOn           = "power on"
	targetNone        = ""
	reservationNone   = ""
	maxTimelineLength = 40
)

// Node is what this package reads of an Ironic node: enough to plan, to
// report and to diff, nothing secret (driver_info is never kept).
type Node struct {
	UUID                 string
	Name                 string
	ProvisionState       string
	TargetProvisionState string
	PowerState           string
	TargetPowerState     string
	Maintenance          bool
	MaintenanceReason    string
	Reservation          string
	LastError            string
	ResourceClass        string
	InstanceUUID         string
	Driver               string
	Properties           map[string]any
	InspectionStartedAt  *time.Time
	InspectionFinishedAt *time.Time
	ProvisionUpdatedAt   time.Time
}

// FromIronic keeps the fields of a gophercloud node this package uses.
func FromIronic(n *nodes.Node) Node {
	props := make(map[string]any, len(n.Properties))
	for k, v := range n.Properties {
		props[k] = v
	}
	return Node{
		UUID:                 n.UUID,
		Name:                 n.Name,
		ProvisionState:       n.ProvisionState,
		TargetProvisionState: n.TargetProvisionState,
		PowerState:           n.PowerState,
		TargetPowerState:     n.TargetPowerState,
		Maintenance:          n.Maintenance,
		MaintenanceReason:    n.MaintenanceReason,
		Reservation:          n.Reservation,
		LastError:            n.LastError,
		ResourceClass:        n.ResourceClass,
		InstanceUUID:         n.InstanceUUID,
		Driver:               n.Driver,
		Properties:           props,
		InspectionStartedAt:  n.InspectionStartedAt,
		InspectionFinishedAt: n.InspectionFinishedAt,
		ProvisionUpdatedAt:   n.ProvisionUpdatedAt,
	}
}

// Label is how results and messages name the node: its name, else its UUID.
func (n Node) Label() string {
	if n.Name != "" {
		return n.Name
	}
	return n.UUID
}

// Busy reports an operation in progress: a target state is set (Ironic is
// moving the node) or the node is locked by a conductor. A failed state is
// where an operation ended, even though Ironic keeps its target there
// ("inspect failed" -> manageable, "clean failed" -> available).
func (n Node) Busy() bool {
	return n.moving() || n.Reservation != reservationNone
}

// moving is a provision state change in progress.
func (n Node) moving() bool {
	return n.TargetProvisionState != targetNone && !failed(n.ProvisionState)
}

// failed reports a provision state an operation failed into
// (openstack.NodeFailStates: "inspect failed", "clean failed", ...).
// Ironic's failure states are not stable states of its state machine, so it
// leaves the target of the failed operation set on the node; nothing moves
// it further by itself.
func failed(state string) bool { return slices.Contains(openstack.NodeFailStates, state) }

// Capabilities parses properties/capabilities; a malformed value reads as
// whatever parsed before the bad item (never an error: it is Ironic's data).
func (n Node) Capabilities() Capabilities {
	c, _ := ParseCapabilities(n.Properties["capabilities"])
	return c
}

// Inspected reports whether a successful inspection is on record.
func (n Node) Inspected() bool {
	return n.InspectionFinishedAt != nil && n.ProvisionState != StateInspectFail
}

// clone copies the node deeply enough that a plan can change it.
func (n Node) clone() Node {
	c := n
	c.Properties = make(map[string]any, len(n.Properties))
	for k, v := range n.Properties {
		c.Properties[k] = v
	}
	return c
}
