package main

import (
	"maps"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/task"
)

// defaultTimeout suits a real bare-metal deploy (power on, PXE, write the
// image, reboot): one hour.
const defaultTimeout = 3600

var spec = &ansible.Spec{
	Name:             "nova_bm_server",
	ShortDescription: "Boot a Nova server on bare metal (Ironic), wait for it, and explain \"No valid host was found\"",
	VersionAdded:     "1.0.0",
	SeeAlso: []ansible.SeeAlso{
		{Module: "metalkit.baremetal.ironic_introspect", Description: "Make nodes available before booting on them."},
		{Module: "metalkit.baremetal.glance_rhcos", Description: "Upload the boot image."},
		{Module: "metalkit.baremetal.ignition_render", Description: "Render the Ignition user data."},
	},
	Description: []string{
		"Creates a Nova server of a bare-metal flavor, by name, and waits for it to become ACTIVE (C(openstack server create --config-drive true --user-data config.ign --flavor baremetal --image rhcos --wait)).",
		"Idempotent by name: an existing ACTIVE server of that name is left alone (C(changed=false)); a different image or flavor is reported in RV(mismatches) and as a warning, never silently ignored.",
		"Pre-flight before any write: the image, flavor, networks, ports, key pair and pinned node must exist, and the user data must fit Nova's limit (65535 bytes once base64-encoded); otherwise the task fails naming every problem and creates nothing.",
		"When the server goes to ERROR (or is still building at the timeout), the task fails with RV(diagnosis): for every Ironic node, the reasons Nova could not use it (not available, maintenance, already hosting an instance, power state unknown, resource class differing or caught in the C(CUSTOM_CUSTOM_) trap, capabilities or traits not matching, not discovered by Nova yet, Placement's inventory reserved or used, not an allocation candidate), the flavor's own problems (not zeroing C(resources:VCPU/MEMORY_MB/DISK_GB), no or several custom resource classes), and a one-line summary an operator can act on.",
		"O(state=diagnose) gives the same diagnosis on demand for O(flavor) without creating anything; it is deprecated (removed in 2.0.0): use M(metalkit.baremetal.nova_bm_server_info).",
		"O(state=absent) deletes the server and, with O(wait), waits until it is gone and its Ironic node is cleaned back to C(available).",
	},
	Notes: []string{
		"The user data is never echoed: the result shows its size, base64 size and sha256 only. Prefer O(user_data_file) with the C(dest) of M(metalkit.baremetal.ignition_render): Ansible templating can mangle JSON strings.",
		"RHCOS reads its Ignition config from the config drive on bare metal (there is usually no metadata service on the provisioning network), hence O(config_drive) defaults to true, unlike the openstack CLI.",
		"Ignition ignores Nova key pairs: SSH keys must be in the Ignition config.",
		"Stopped by SIGTERM or SIGINT (Ansible's task timeout, Ctrl-C) while a server this task created is deploying, the module deletes that server before it exits (a half-deployed server holds its node); when O(timeout) runs out instead, the server is kept and diagnosed.",
		"Nova 26 (Zed)'s ironic driver cannot build a config drive for a server without networks (O(nics=none)): the module warns before booting, and the diagnosis names it if the boot fails.",
		"Nova needs a few seconds after a node becomes available (its resource update, C(update_resources_interval)) before it can schedule onto it; the diagnosis reports nodes Nova has not discovered yet.",
		"Reading Nova's hypervisors and Placement needs the admin role; without it the diagnosis says what it could not check.",
		"Check mode resolves everything (the pre-flight runs) and writes nothing.",
	},
	Author: []string{"metalkit engineers (@metalkit)"},
	Options: withConnection(withServers(map[string]*ansible.Option{
		"name":        {Type: ansible.TypeStr, Description: []string{"Name of the server; it identifies the server between runs. Required unless O(servers) is given."}},
		"concurrency": {Type: ansible.TypeInt, Default: 10, Description: []string{"How many servers of O(servers) are created or deleted at once."}},
		"failfast":    {Type: ansible.TypeBool, Default: false, Description: []string{"Start no new server of O(servers) once one has failed; those never started are reported as not started."}},
		"wait_for_capacity": {Type: ansible.TypeBool, Default: false, Description: []string{
			"Before creating, wait (within O(timeout)) until Placement offers each flavor on at least as many nodes as servers of it to create: nodes just made available by M(metalkit.baremetal.ironic_introspect) reach Nova only after its resource update (up to a minute), and booting before that fails with \"No valid host was found\".",
			"With O(servers), or with this option, the servers Placement has no node for are not created: they fail with RV(diagnosis), the others go on. RV(capacity) reports what was waited for.",
		}},
		"state": {Type: ansible.TypeStr, Default: "present", Choices: []any{"present", "absent", "diagnose"},
			Description: []string{
				"C(present) boots the server unless it exists; C(absent) deletes every server of the name.",
				"C(diagnose) creates nothing: it reports which Ironic nodes could host O(flavor) and why the others cannot (and the fault of an existing server of the name). Deprecated: use M(metalkit.baremetal.nova_bm_server_info).",
			}},
		"image":  {Type: ansible.TypeStr, Description: []string{"Glance image, by name or ID (for example the RHCOS image uploaded by M(metalkit.baremetal.glance_rhcos)). It must be active."}},
		"flavor": {Type: ansible.TypeStr, Description: []string{"Nova flavor, by name or ID; for bare metal it carries C(resources:CUSTOM_<CLASS>=1) and zeroes C(resources:VCPU), C(resources:MEMORY_MB) and C(resources:DISK_GB)."}},
		"nics": {Type: ansible.TypeRaw, Description: []string{
			"Networks of the server: C(none), C(auto), or a list whose items are dicts with one of C(net-id), C(net-name), C(port-id), C(port-name) and optionally C(fixed_ip), or strings C(net-name=ctlplane,fixed_ip=192.0.2.10), or bare network names or IDs.",
			"Networks and ports are checked through Neutron before anything is created.",
			"Unset (and no O(network)): C(auto).",
		}},
		"network": {Type: ansible.TypeStr, Description: []string{"One network by name or ID: a shorter form of O(nics)."}},
		"config_drive": {Type: ansible.TypeBool, Default: true,
			Description: []string{"Attach a config drive holding the user data (how RHCOS gets its Ignition config on bare metal)."}},
		"user_data": {Type: ansible.TypeStr, NoLog: true, Aliases: []string{"userdata"},
			Description: []string{"User data, for example the Ignition JSON. Never echoed; only its size and sha256 are returned.", "C(userdata) is openstack.cloud's name for it."}},
		"user_data_file": {Type: ansible.TypePath,
			Description: []string{"Path of a file holding the user data on the host the module runs on, for example the C(dest) of M(metalkit.baremetal.ignition_render)."}},
		"key_name": {Type: ansible.TypeStr, Description: []string{"Nova key pair to inject. RHCOS ignores it (see notes)."}},
		"availability_zone": {Type: ansible.TypeStr, Description: []string{
			"Availability zone. C(nova::<node>) pins the server to one Ironic node, by name or UUID (the name is resolved to the UUID Nova knows the node by); forcing a destination needs the admin role.",
		}},
		"metadata": {Type: ansible.TypeDict, Aliases: []string{"meta"},
			Description: []string{"Server metadata (string values). On an existing server, keys that differ are updated; other keys are kept."}},
		"scheduler_hints": {Type: ansible.TypeDict, Description: []string{"Scheduler hints passed as they are (C(os:scheduler_hints)), for example C(group: <server group id>)."}},
		"recreate_on_error": {Type: ansible.TypeBool, Default: false, Description: []string{
			"When a server of the name is in ERROR (left by an earlier run), delete it and boot it again instead of failing.",
			"Before the new boot it waits for the node to be C(available) and for Placement to offer the flavor again. If Nova still refuses the boot (No valid host) while Placement reserves a node Ironic has available, the refused server is deleted and booted once more; the result's C(msg) says so.",
			"A server an earlier run left in BUILD whose build request was lost (scheduled in Placement more than 2 minutes ago, task state still C(scheduling), on no compute host, as when RabbitMQ restarts mid-build) is deleted and booted again too, with a warning saying so. Reading that needs Placement (admin); without it such a server is waited for.",
		}},
	})),
	MutuallyExclusive: [][]string{{"user_data", "user_data_file"}, {"nics", "network"}, {"name", "servers"}},
	RequiredOneOf:     [][]string{{"name", "servers"}},
	RequiredIf: []ansible.RequiredIf{
		{Key: "state", Value: "diagnose", Requirements: []string{"flavor", "name"}, AnyOf: false},
	},
	Examples: examples,
	Return:   task.Returns(returns),
}

// withServers adds the servers option, whose items take the per-server options.
func withServers(own map[string]*ansible.Option) map[string]*ansible.Option {
	own["servers"] = &ansible.Option{Type: ansible.TypeList, Elements: ansible.TypeDict, Options: itemOptions(own),
		Description: []string{
			"Several servers in one task (a cluster's control plane and workers): each item takes the options of one server, and the task's own options are the defaults of every item (an item's user data, either key, replaces the task's; so do its O(nics) or O(network)).",
			"One pre-flight covers the whole list before anything is written: every image, flavor, network, port, key pair and user data size, and enough nodes in Placement for the servers to create (see O(wait_for_capacity)).",
			"The servers are created O(concurrency) at a time; one failing never stops the others (unless O(failfast)), and RV(servers) reports each. O(state=absent) deletes every server of the list.",
		}}
	return own
}

// itemKeys are the options one item of servers takes.
var itemKeys = []string{"name", "image", "flavor", "nics", "network", "config_drive", "user_data", "user_data_file",
	"key_name", "availability_zone", "metadata", "scheduler_hints", "recreate_on_error"}

// itemOptions are the per-server options without defaults: an unset one
// takes the task's value.
func itemOptions(own map[string]*ansible.Option) map[string]*ansible.Option {
	out := map[string]*ansible.Option{}
	for _, k := range itemKeys {
		o := *own[k]
		o.Default = nil
		o.Required = k == "name"
		if k == "name" {
			o.Description = []string{"Name of the server."}
		}
		out[k] = &o
	}
	return out
}

// withConnection adds the shared OpenStack connection options (wait and
// timeout among them).
func withConnection(own map[string]*ansible.Option) map[string]*ansible.Option {
	all := cloudopts.Options(defaultTimeout)
	all["wait"].Description = []string{
		"Wait for the server to be ACTIVE (O(state=present)), or gone and its node back to C(available) (O(state=absent)).",
	}
	maps.Copy(all, own)
	return all
}

var returns = map[string]*ansible.ReturnValue{
	"server": {
		Description: []string{"The server (null once deleted or when absent)."},
		Returned:    "always", Type: "dict",
		Contains: map[string]*ansible.ReturnValue{
			"id":                {Description: []string{"Server ID."}, Returned: "success", Type: "str"},
			"name":              {Description: []string{"Server name."}, Returned: "success", Type: "str"},
			"status":            {Description: []string{"Nova status (ACTIVE, BUILD, ERROR, ...)."}, Returned: "success", Type: "str", Sample: "ACTIVE"},
			"addresses":         {Description: []string{"Addresses per network, as Nova reports them."}, Returned: "success", Type: "dict"},
			"access_ipv4":       {Description: []string{"Access IPv4 address."}, Returned: "success", Type: "str"},
			"access_ipv6":       {Description: []string{"Access IPv6 address."}, Returned: "success", Type: "str"},
			"image":             {Description: []string{"The image (C(id))."}, Returned: "success", Type: "dict"},
			"flavor":            {Description: []string{"The flavor (C(name), or C(id) on old Nova)."}, Returned: "success", Type: "dict"},
			"key_name":          {Description: []string{"Key pair name."}, Returned: "success", Type: "str"},
			"availability_zone": {Description: []string{"Availability zone."}, Returned: "success", Type: "str"},
			"metadata":          {Description: []string{"Server metadata."}, Returned: "success", Type: "dict"},
			"fault":             {Description: []string{"Nova's fault (C(code), C(message)) of a server in ERROR."}, Returned: "when the server has a fault", Type: "dict"},
			"node": {Description: []string{"The Ironic node the server runs on (C(uuid), C(name), C(provision_state), C(power_state), C(resource_class), C(instance_uuid)), when known."},
				Returned: "success", Type: "dict"},
		},
	},
	"user_data": {
		Description: []string{"What was sent as user data, without its content: C(size), C(encoded_size) (base64), C(sha256), C(source)."},
		Returned:    "when user data is given", Type: "dict",
		Sample: map[string]any{"size": 1893, "encoded_size": 2524, "sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "source": "/home/stack/ocp/node-1.ign"},
	},
	"actions": {
		Description: []string{"What the module did (or would do in check mode): C(delete), C(create), C(wait), C(update_metadata)."},
		Returned:    "always", Type: "list", Elements: "str", Sample: []any{"create"},
	},
	"mismatches": {
		Description: []string{"Differences between the existing server and the request that the module reports but does not fix (image, flavor, and the user data where Nova shows it: admins)."},
		Returned:    "always", Type: "list", Elements: "str",
	},
	"timings": {
		Description: []string{"Seconds: C(create) (request to ACTIVE), C(delete) (request to gone), C(node_available) (gone to the node cleaned back to available)."},
		Returned:    "when something was waited for", Type: "dict", Sample: map[string]any{"create": 2.4},
	},
	"deleted": {
		Description: []string{"IDs of the servers deleted."},
		Returned:    "always", Type: "list", Elements: "str",
	},
	"diagnosis": {
		Description: []string{"Why the server could not be placed or built, node by node."},
		Returned:    "when the server is in ERROR or still building at the timeout, and with O(state=diagnose)", Type: "dict",
		Contains: map[string]*ansible.ReturnValue{
			"summary": {Description: []string{"One line an operator can act on."}, Returned: "always", Type: "str",
				Sample: "No valid host was found: none of 3 node(s) can host flavor \"baremetal\" (CUSTOM_BAREMETAL=1): 2 in maintenance (node-1, node-2); 1 manageable, needs provide (node-3)"},
			"cause":          {Description: []string{"C(no_valid_host), C(build_failed), C(timeout), C(server_error), C(active) or C(on_demand)."}, Returned: "always", Type: "str"},
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
