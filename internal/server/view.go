package server

import (
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/metalkit/baremetal/internal/openstack"
)

// View is a server as the module returns it: plain values, never the user
// data Nova may show admins.
func View(s *servers.Server, n *nodes.Node) map[string]any {
	if s == nil {
		return nil
	}
	v := map[string]any{
		"id":                  s.ID,
		"name":                s.Name,
		"status":              s.Status,
		"addresses":           nonNilAny(s.Addresses),
		"access_ipv4":         s.AccessIPv4,
		"access_ipv6":         s.AccessIPv6,
		"key_name":            s.KeyName,
		"availability_zone":   s.AvailabilityZone,
		"metadata":            nonNilMap(s.Metadata),
		"config_drive":        s.ConfigDrive,
		"task_state":          s.TaskState,
		"vm_state":            s.VmState,
		"hypervisor_hostname": s.HypervisorHostname,
	}
	if !s.Created.IsZero() {
		v["created"] = s.Created.UTC().Format("2006-01-02T15:04:05Z")
	}
	if id, _ := s.Image["id"].(string); id != "" {
		v["image"] = map[string]any{"id": id}
	}
	if name, _ := s.Flavor["original_name"].(string); name != "" {
		v["flavor"] = map[string]any{"name": name}
	} else if id, _ := s.Flavor["id"].(string); id != "" {
		v["flavor"] = map[string]any{"id": id}
	}
	if s.Fault.Message != "" {
		v["fault"] = map[string]any{"code": s.Fault.Code, "message": openstack.Scrub(s.Fault.Message)}
	}
	if n != nil {
		v["node"] = NodeView(n)
	} else {
		v["node"] = nil
	}
	return v
}

// NodeView is the Ironic node a server landed on.
func NodeView(n *nodes.Node) map[string]any {
	return map[string]any{
		"uuid":            n.UUID,
		"name":            n.Name,
		"provision_state": n.ProvisionState,
		"power_state":     n.PowerState,
		"resource_class":  n.ResourceClass,
		"instance_uuid":   n.InstanceUUID,
	}
}

func nonNilAny(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
