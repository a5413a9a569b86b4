package main

import (
	"maps"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/secret"
	"github.com/metalkit/baremetal/internal/task"
)

// defaultTimeout is the task's budget in seconds: BMC validation of
// hundreds of nodes, with retries of locked nodes, fits in it.
const defaultTimeout = 1800

var spec = &ansible.Spec{
	Name:             "ironic_enroll",
	ShortDescription: "Enroll bare-metal nodes and their ports in Ironic from instackenv definitions",
	VersionAdded:     "1.0.0",
	SeeAlso: []ansible.SeeAlso{
		{Module: "metalkit.baremetal.ironic_introspect", Description: "Manage, inspect and provide the enrolled nodes (the next step of a TripleO-style import)."},
		{Module: "metalkit.baremetal.nova_bm_server", Description: "Boot servers on the nodes once they are available."},
	},
	Description: []string{
		"Creates or updates Ironic nodes and their ports from TripleO instackenv node definitions (what C(openstack baremetal import nodes.json) reads), or deletes them with O(state=absent).",
		"Every node definition is validated before any API call: MAC syntax and uniqueness, BMC uniqueness, names, the fields each driver needs, unknown fields. One invalid node fails the task with every problem of every node listed, and nothing is created.",
		"Idempotent: a node is found by name, else by its BMC identity, else by the MAC of one of its ports, as tripleo-common's node import does, so re-importing an instackenv whose names or MACs changed updates the same nodes; when these find different nodes the node fails naming both (RV(nodes[].matched_by) says which matched). Only the values that differ are patched; O(nodes[].capabilities) and other properties are merged key by key into what the node has (introspection results are kept); passwords are written on create only unless O(update_password=always), since Ironic never returns them.",
		"Nodes are handled in parallel (O(concurrency)); the wait for BMC validation polls all nodes with one list call per round. One node failing does not stop or hide the others (unless O(failfast)).",
		"Nodes are created in C(enroll) and, with O(initial_state=manageable), moved to C(manageable) (Ironic checks the BMC credentials); they are never cleaned on the way.",
	},
	Notes: []string{
		"Node fields: C(name), C(uuid) (the node is created with it and found by it, as in tripleo-common), C(pm_type), C(pm_addr), C(pm_user), C(pm_password), C(pm_port), C(pm_system_id), C(mac) (a list of MACs; the legacy field current TripleO rejects) and C(ports) (dicts with C(address), C(physical_network), C(local_link_connection), C(pxe_enabled)), C(arch), C(cpu), C(memory) (MiB), C(disk) (GiB), C(capabilities) (C(k:v,k:v) or a dict), C(profile), C(resource_class), C(resources), C(root_device), C(conductor_group), C(properties) (a dict merged key by key), C(kernel_id), C(ramdisk_id), the C(*_interface) fields, and driver_info keys with the driver's prefix (C(ipmi_priv_level), C(redfish_verify_ca), ...). Numbers may be strings.",
		"C(pm_type) is a hardware type (C(ipmi), C(redfish), C(idrac), C(ilo), C(irmc), C(fake-hardware), C(manual-management)) or a classic driver name (C(pxe_ipmitool), C(agent_ipmitool), C(pxe_drac), C(pxe_ilo), ...), which is mapped to its hardware type with boot interface C(pxe) and deploy interface C(direct), with a warning naming the replacement.",
		"driver_info per type, as tripleo-common's C(nodes.py) maps it: C(ipmi) ipmi_address/_username/_password/_port (C(pm_addr) required); C(redfish) redfish_address/_username/_password/_system_id (C(pm_addr) and C(pm_system_id) required, credentials optional as Ironic allows); C(ilo) ilo_*, C(irmc) irmc_* (address, user and password required). C(fake-hardware) has no BMC: C(pm_*) fields are ignored with a warning.",
		"C(idrac) fills both key sets, like tripleo-common's iDRACDriverInfo: drac_address (the bare host)/_username/_password/_port for the WS-Man interfaces older Ironic uses by default, and redfish_address (C(pm_addr) as written)/_username/_password/_system_id (from C(pm_system_id)) for current Ironic, whose C(idrac) type is Redfish-only. The interfaces are Ironic's defaults unless the node sets C(power_interface) and the like (for example C(idrac-redfish)).",
		"C(pm_addr) may be an http(s) URL for C(redfish) and C(idrac) (C(https://host), C(https://host:8443/redfish/v1)); for the other types it is a host name or IP address. A Redfish port goes in the URL (C(pm_port) is refused for C(redfish), as in tripleo-common).",
		"The BMC identity is tripleo-common's C(unique_id_*): C(ipmi), C(ilo), C(irmc) address and port; C(redfish) address without scheme plus system id; C(idrac) host and drac port. Two node definitions with one BMC are refused, as in tripleo-common.",
		"Keys starting with C(_) (C(_comment), ...) are comments and ignored: tripleo-common drops C(_comment).",
		"Deliberate differences from tripleo-common: a node with none of name, uuid, MAC and BMC (C(fake-hardware)) is refused, since a re-run could not find it and would create a second one; multicast MACs are refused; a C(pm_addr) URL carrying credentials (C(user:password@host)) is refused (its password is masked in the output); C(idrac) requires C(pm_user) and C(pm_password) (tripleo-common requires nothing; the WS-Man interfaces cannot work without them); the legacy C(mac) list is still accepted; the default port is part of the identity (C(ipmi) 623, C(idrac) 443) so C(host) and C(host:623) are one BMC; an C(idrac) C(pm_port) also goes into a redfish_address that names no port (an iDRAC serves WS-Man and Redfish on one port); several Ironic nodes on one BMC are only told apart by name (else the node fails); classic C(*_drac) names fill the Redfish keys too.",
		"C(pm_password) and every driver_info key ending in C(password) (and other credentials) never appear in the result, the invocation, the diff, warnings or errors, whether they come from O(nodes) or O(nodes_file).",
		"C(resource_class) defaults to C(baremetal) (on create, and on a node that has none). A value starting with C(CUSTOM_) is the classic trap (Nova adds that prefix itself and would look for C(CUSTOM_CUSTOM_...)): the prefix is stripped with a warning. The old C(resources: CUSTOM_BAREMETAL:1) idiom (C(properties/resources)) maps to C(resource_class: baremetal) with a warning.",
		"On a node that has been inspected, the hardware properties inspection found (C(cpus), C(memory_mb), C(local_gb), C(cpu_arch)) are kept when the input differs, with a warning: the machine's report wins over a hand-written file.",
		"When the input lists a node's NICs (C(mac) or C(ports)), ports it does not list are removed from the node; without either, the node's ports are left alone.",
		"C(fake-hardware) nodes keep power state C(None) after enrollment; powering nodes off is left to introspection or the server module.",
		"With O(state=absent) a node is found by uuid and name (by BMC or MAC only when it has neither) and deleted with its ports; Ironic refuses to delete a node that is deployed or in transition.",
	},
	Author: []string{"metalkit engineers (@metalkit)"},
	Options: func() map[string]*ansible.Option {
		opts := cloudopts.Options(defaultTimeout)
		opts["wait"].Description = []string{"Wait until every node moved to O(initial_state=manageable) has passed BMC validation, and report the nodes that failed it with Ironic's C(last_error)."}
		maps.Copy(opts, map[string]*ansible.Option{
			"nodes": {
				Type: ansible.TypeList, Elements: ansible.TypeDict,
				// Free-form dicts: pm_password and the driver_info
				// credentials are no_log from the start of validation.
				NoLogKey: secret.IsKey,
				Description: []string{
					"Node definitions in the instackenv format (the items of its C(nodes) list); see the notes for the fields.",
					"Mutually exclusive with O(nodes_file).",
				},
			},
			"nodes_file": {
				Type:        ansible.TypePath,
				Description: []string{"An instackenv file on the target, JSON or YAML: C({\"nodes\": [...]}) or a bare list of nodes. YAML scalars are read as written, so an unquoted C(pm_password: yes) stays the string C(yes)."},
			},
			"state": {
				Type: ansible.TypeStr, Default: "present", Choices: []any{"present", "absent"},
				Description: []string{"C(present) creates or updates the nodes and their ports; C(absent) deletes them."},
			},
			"initial_state": {
				Type: ansible.TypeStr, Default: "manageable", Choices: []any{"enroll", "manageable"},
				Description: []string{
					"Where a new node (or an existing node still in C(enroll)) ends: C(enroll), or C(manageable) after Ironic validated its BMC credentials.",
					"Nodes already further along (C(manageable), C(available), C(active), ...) are never moved back.",
				},
			},
			"update_password": {
				Type: ansible.TypeStr, Default: "on_create", Choices: []any{"always", "on_create"},
				Description: []string{
					"C(on_create) writes BMC passwords only when a node is created (or lacks one); Ironic masks them on read, so they cannot be compared.",
					"C(always) rewrites them on every run, which then always reports changed.",
				},
			},
			"concurrency": {
				Type: ansible.TypeInt, Default: 8,
				Description: []string{"How many nodes are created or updated at once."},
			},
			"failfast": {
				Type: ansible.TypeBool, Default: false,
				Description: []string{"Stop starting nodes after the first failure; nodes not started are reported as C(skipped). Without it every node is attempted and each failure is reported."},
			},
		})
		return opts
	}(),
	MutuallyExclusive: [][]string{{"nodes", "nodes_file"}},
	RequiredOneOf:     [][]string{{"nodes", "nodes_file"}},
	Examples:          examples,
	Return:            task.Returns(returns),
}

var nodeReturn = map[string]*ansible.ReturnValue{
	"name":            {Description: []string{"Node name."}, Returned: "always", Type: "str"},
	"uuid":            {Description: []string{"Node UUID (empty for a node that check mode would create)."}, Returned: "always", Type: "str"},
	"provision_state": {Description: []string{"Provision state after the run (predicted in check mode)."}, Returned: "always", Type: "str", Sample: "manageable"},
	"changed":         {Description: []string{"Whether this node was (or, in check mode, would be) changed."}, Returned: "always", Type: "bool"},
	"action":          {Description: []string{"What was done: C(create), C(update), C(unchanged), C(delete), C(absent), C(failed) or C(skipped)."}, Returned: "always", Type: "str"},
	"matched_by": {Description: []string{
		"How the node was found in Ironic: C(uuid) (when the definition has one), C(name), else C(bmc) (its BMC identity: driver address and port, or Redfish address and system id, as tripleo-common computes it), else C(mac) (one of its ports); C(none) when no node matched (created, or absent).",
		"When uuid, name, BMC and MACs find different nodes the node fails and nothing is changed on it."},
		Returned: "always", Type: "str", Sample: "bmc"},
	"ports": {Description: []string{"The node's ports after the run."}, Returned: "always", Type: "list", Elements: "dict",
		Contains: map[string]*ansible.ReturnValue{
			"uuid":    {Description: []string{"Port UUID."}, Returned: "always", Type: "str"},
			"address": {Description: []string{"MAC address."}, Returned: "always", Type: "str"},
		}},
	"changes":    {Description: []string{"The changes made (or to be made): JSON-patch operations, port additions and removals, the manage request. Credentials are masked."}, Returned: "when the node changed", Type: "list", Elements: "str"},
	"error":      {Description: []string{"Why this node failed, with the API's own message."}, Returned: "when the node failed", Type: "str"},
	"last_error": {Description: []string{"Ironic's last_error for the node."}, Returned: "when Ironic reports one", Type: "str"},
}

var returns = map[string]*ansible.ReturnValue{
	"nodes": {
		Description: []string{"One entry per node definition, in input order, also when the task failed."},
		Returned:    "always", Type: "list", Elements: "dict",
		Contains: nodeReturn,
	},
	"invalid_nodes": {
		Description: []string{"The node definitions that failed validation, each with every problem found; nothing was changed."},
		Returned:    "when validation failed", Type: "list", Elements: "dict",
		Contains: map[string]*ansible.ReturnValue{
			"index":    {Description: []string{"Position in the node list."}, Returned: "always", Type: "int"},
			"name":     {Description: []string{"Node name, when it has a valid one."}, Returned: "when set", Type: "str"},
			"problems": {Description: []string{"Every problem, naming the field."}, Returned: "always", Type: "list", Elements: "str"},
		},
	},
	"summary": {
		Description: []string{"How many nodes ended in each action."},
		Returned:    "success or node failures", Type: "dict", Sample: map[string]any{"create": 2, "unchanged": 198},
	},
}
