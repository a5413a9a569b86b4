package main

import (
	"maps"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/task"
)

// defaultTimeout bounds the reads: Nova, Ironic and Placement, a few seconds.
const defaultTimeout = 300

var spec = &ansible.Spec{
	Name:             "nova_bm_server_info",
	ShortDescription: "Explain which Ironic nodes can host a bare-metal flavor and why the others cannot (\"No valid host was found\"), changing nothing",
	VersionAdded:     "1.0.0",
	SeeAlso: []ansible.SeeAlso{
		{Module: "metalkit.baremetal.ironic_node_action", Description: "The remedies the diagnosis names: maintenance, power, resource class, capabilities, traits."},
		{Module: "metalkit.baremetal.ironic_introspect", Description: "Make nodes available (provide)."},
		{Module: "metalkit.baremetal.nova_bm_server", Description: "Boot the servers; its failures carry the same diagnosis."},
	},
	Description: []string{
		"Reads Nova, Ironic and Placement and reports, for every Ironic node, the reasons Nova could not place a server of O(flavor) there: not available, maintenance, already hosting an instance, power state unknown, resource class differing or caught in the C(CUSTOM_CUSTOM_) trap, capabilities or traits not matching, not discovered by Nova yet, Placement's inventory reserved or used, not an allocation candidate; the flavor's own problems; and a one-line summary that names the task to run (for example M(metalkit.baremetal.ironic_node_action) with O(metalkit.baremetal.ironic_node_action#module:maintenance=false)).",
		"With O(name), a server of that name is diagnosed too: its fault, and the node it landed on.",
		"The same diagnosis as O(metalkit.baremetal.nova_bm_server#module:state=diagnose), which is deprecated in favour of this module (Ansible's collection guidelines put queries in C(_info) modules). It never changes anything, in check mode too.",
	},
	Notes: []string{
		"Reading Nova's hypervisors and Placement needs the admin role; without it the diagnosis says what it could not check (RV(diagnosis.notes)).",
		"Nova notices node changes at its next resource update (C(update_resources_interval)): right after a fix the diagnosis may still report the node as Placement last saw it.",
	},
	Author: []string{"metalkit engineers (@metalkit)"},
	Options: withConnection(map[string]*ansible.Option{
		"name": {Type: ansible.TypeStr, Description: []string{"A server name: its fault and its node are diagnosed too. Optional."}},
		"flavor": {Type: ansible.TypeStr, Required: true, Description: []string{
			"Nova flavor, by name or ID, whose placement is explained; for bare metal it carries C(resources:CUSTOM_<CLASS>=1) and zeroes C(resources:VCPU), C(resources:MEMORY_MB) and C(resources:DISK_GB).",
		}},
		"availability_zone": {Type: ansible.TypeStr, Description: []string{
			"Availability zone as O(metalkit.baremetal.nova_bm_server#module:availability_zone) takes it: C(nova::<node>) explains only that node (by name or UUID).",
		}},
	}),
	Examples: examples,
	Return:   task.Returns(returns),
}

// withConnection adds the shared OpenStack connection options (wait is
// accepted, for module_defaults of the group, and means nothing here).
func withConnection(own map[string]*ansible.Option) map[string]*ansible.Option {
	all := cloudopts.Options(defaultTimeout)
	all["wait"].Description = []string{"Accepted for C(module_defaults) of the C(openstack) group; nothing is waited for."}
	maps.Copy(all, own)
	return all
}

var returns = map[string]*ansible.ReturnValue{
	"server": {
		Description: []string{"The server of O(name) (C(id), C(name), C(status), C(fault), C(flavor), C(image), C(addresses), C(metadata), ...), null when O(name) is not given or no server has it."},
		Returned:    "always", Type: "dict",
	},
	"diagnosis": {
		Description: []string{"Why the server could not be placed or built, node by node."},
		Returned:    "always", Type: "dict",
		Contains: map[string]*ansible.ReturnValue{
			"summary": {Description: []string{"One line an operator can act on: the nodes grouped by their first blocking reason, each group with the task that fixes it."}, Returned: "always", Type: "str",
				Sample: "No valid host was found: none of 3 node(s) can host flavor \"baremetal\" (CUSTOM_BAREMETAL=1): 2 in maintenance (node-1, node-2) [fix: metalkit.baremetal.ironic_node_action maintenance=false]; 1 manageable, needs provide (node-3) [fix: metalkit.baremetal.ironic_introspect provide=true]"},
			"cause":          {Description: []string{"C(on_demand) without a server of O(name); for one: C(no_valid_host), C(build_failed), C(timeout) (still building), C(server_error) or C(active)."}, Returned: "always", Type: "str"},
			"fault":          {Description: []string{"The server's fault."}, Returned: "when the server has one", Type: "dict"},
			"flavor":         {Description: []string{"The flavor, its extra specs, what it asks for (C(resources), C(resource_class), C(capabilities), traits) and its own C(problems)."}, Returned: "always", Type: "dict"},
			"eligible_nodes": {Description: []string{"Nodes that look able to host the flavor now."}, Returned: "always", Type: "list", Elements: "str"},
			"nodes": {Description: []string{
				"Every Ironic node: C(uuid), C(name), C(provision_state), C(power_state), C(maintenance), C(instance_uuid), C(resource_class), C(placement_resource_class), C(capabilities), C(traits), C(last_error), C(hypervisor) (known to Nova), C(resource_provider) (Placement inventories and usages), C(allocation_candidate), C(eligible), and C(reasons) (each C(code), C(message), C(blocking)).",
			}, Returned: "always", Type: "list", Elements: "dict"},
			"placement": {Description: []string{"Whether Placement was read, the allocation-candidates query, the candidates, and the classes Placement has never heard of."}, Returned: "always", Type: "dict"},
			"notes":     {Description: []string{"What could not be checked, and why."}, Returned: "when something could not be read", Type: "list", Elements: "str"},
		},
	},
}
