package enroll

import (
	"context"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// IronicNode is what Ironic reports of a node: the fields enroll reads.
type IronicNode struct {
	UUID                 string
	Name                 string
	Driver               string
	DriverInfo           map[string]any
	Properties           map[string]any
	ResourceClass        string
	ProvisionState       string
	TargetProvisionState string
	PowerState           string
	LastError            string
	Maintenance          bool
	// Inspected: inspection finished at least once, so the hardware
	// properties are the machine's own report.
	Inspected bool
	// Fields holds conductor_group and the *_interface fields.
	Fields map[string]any
}

// IronicPort is what Ironic reports of a port.
type IronicPort struct {
	UUID                string         `json:"uuid"`
	Address             string         `json:"address"`
	NodeUUID            string         `json:"node_uuid"`
	PhysicalNetwork     *string        `json:"physical_network"`
	LocalLinkConnection map[string]any `json:"local_link_connection"`
	PXEEnabled          *bool          `json:"pxe_enabled"`
}

// Observed is Ironic's current state, indexed for matching.
type Observed struct {
	Nodes []*IronicNode
	Ports []IronicPort

	byName      map[string]*IronicNode
	byUUID      map[string]*IronicNode
	byBMC       map[string][]*IronicNode
	portByMAC   map[string]IronicPort
	portsOfNode map[string][]IronicPort
}

// NewObserved indexes nodes and ports (also used by tests to build a state).
func NewObserved(ns []*IronicNode, ps []IronicPort) *Observed {
	o := &Observed{Nodes: ns, Ports: ps, byName: map[string]*IronicNode{}, byUUID: map[string]*IronicNode{},
		byBMC: map[string][]*IronicNode{}, portByMAC: map[string]IronicPort{}, portsOfNode: map[string][]IronicPort{}}
	for _, n := range ns {
		o.byUUID[n.UUID] = n
		if n.Name != "" {
			o.byName[n.Name] = n
		}
		// tripleo-common's _populate_node_mapping: each node's BMC identity
		// as its driver computes it from driver_info.
		if id := drivers[n.Driver].Identity(n.DriverInfo); id != "" {
			o.byBMC[id] = append(o.byBMC[id], n)
		}
	}
	for _, p := range ps {
		p.Address = strings.ToLower(p.Address)
		o.portByMAC[p.Address] = p
		o.portsOfNode[p.NodeUUID] = append(o.portsOfNode[p.NodeUUID], p)
	}
	return o
}

// Observe reads every node and port in two paginated list calls, whatever
// the number of nodes to enroll: matching by name, BMC or MAC is then local.
func Observe(ctx context.Context, client *gophercloud.ServiceClient) (*Observed, error) {
	var raw []map[string]any
	err := nodes.ListDetail(client, nodes.ListOpts{}).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		var batch []map[string]any
		if err := nodes.ExtractNodesInto(page, &batch); err != nil {
			return false, err
		}
		raw = append(raw, batch...)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list Ironic nodes: %w", err)
	}
	var ps []IronicPort
	err = ports.ListDetail(client, ports.ListOpts{}).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		var batch []IronicPort
		if err := ports.ExtractPortsInto(page, &batch); err != nil {
			return false, err
		}
		ps = append(ps, batch...)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list Ironic ports: %w", err)
	}
	ns := make([]*IronicNode, 0, len(raw))
	for _, m := range raw {
		ns = append(ns, ironicNodeFrom(m))
	}
	return NewObserved(ns, ps), nil
}

// ironicNodeFrom reads a node as Ironic's JSON has it.
func ironicNodeFrom(m map[string]any) *IronicNode {
	n := &IronicNode{
		UUID:                 str(m["uuid"]),
		Name:                 str(m["name"]),
		Driver:               str(m["driver"]),
		ResourceClass:        str(m["resource_class"]),
		ProvisionState:       str(m["provision_state"]),
		TargetProvisionState: str(m["target_provision_state"]),
		PowerState:           str(m["power_state"]),
		LastError:            str(m["last_error"]),
		Fields:               map[string]any{},
	}
	n.DriverInfo, _ = m["driver_info"].(map[string]any)
	n.Properties, _ = m["properties"].(map[string]any)
	n.Maintenance, _ = m["maintenance"].(bool)
	n.Inspected = m["inspection_finished_at"] != nil
	if cg, ok := m["conductor_group"]; ok && cg != nil {
		n.Fields["conductor_group"] = str(cg)
	}
	for f := range interfaceFields {
		if v, ok := m[f]; ok && v != nil {
			n.Fields[f] = str(v)
		}
	}
	return n
}
