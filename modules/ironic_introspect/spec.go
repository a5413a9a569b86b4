package main

import (
	"maps"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/task"
)

// defaultTimeout is per node and attempt: bare metal is slow to boot an inspection ramdisk.
const defaultTimeout = 1800

var spec = &ansible.Spec{
	Name:             "ironic_introspect",
	ShortDescription: "Manage, inspect and provide many Ironic nodes at once",
	VersionAdded:     "1.0.0",
	SeeAlso: []ansible.SeeAlso{
		{Module: "metalkit.baremetal.ironic_enroll", Description: "Enroll the nodes from an instackenv first."},
		{Module: "metalkit.baremetal.nova_bm_server", Description: "Boot servers on the nodes this module made available."},
	},
	Description: []string{
		"Moves Ironic nodes through C(manage) -> C(inspect) -> (C(provide)), as C(openstack baremetal node manage) and C(openstack overcloud node introspect --provide) do, many nodes in parallel, and waits for each.",
		"Inspection is requested through Ironic's own provision-state API, so it works whatever the node's inspect interface (C(inspector), C(agent), C(fake), vendor out-of-band inspection).",
		"Nodes whose inspection is already on record are not inspected again unless O(force) is set: a second identical run reports C(changed=false).",
		"After inspection it tags the nodes as the operator does before scheduling: O(capabilities) are merged into those inspection found (never replacing them), O(resource_class) and O(properties) are set key by key.",
		"A node locked by another operation is waited for (its lock must clear) rather than failed. A step that fails (for example Ironic's C(inspect failed)) or outlasts O(timeout) is retried up to O(retries) times: an inspection or cleaning still waiting is aborted, the lock is waited for, and the node goes again.",
		"The task fails if any node fails, listing each failed node with Ironic's C(last_error); the nodes that succeeded are reported too.",
	},
	Notes: []string{
		"With O(provide=true), nodes whose power state Ironic does not know (C(fake-hardware) nodes keep C(None)) are powered off once available: Nova does not schedule onto a node with an unknown power state.",
		"C(provide) runs automated cleaning when the conductor enables it; C(ipmi) nodes then need a deploy kernel and ramdisk, or cleaning fails (C(clean failed)).",
		"With O(provide=false), a node that had to leave C(available) to be inspected ends in C(manageable), as C(openstack overcloud node introspect) without C(--provide) leaves it.",
		"Nodes in C(enroll), C(manageable), C(available), C(inspect failed) and C(clean failed) are handled; nodes moving towards one of those (verifying, inspecting, cleaning) are waited for. A deployed or deploying node, or one in maintenance that needs work, fails the task before anything is changed.",
		"Introspection data is returned where the deployment stores it: Ironic's inventory API (Ironic 2023.1 and later, microversion 1.81) or ironic-inspector. It is absent, without error, where neither holds data (for example the C(fake) inspect interface).",
		"O(timeout) bounds each attempt of each node, not the whole task: nodes are worked on O(concurrency) at a time.",
	},
	Author: []string{"metalkit engineers (@metalkit)"},
	Options: withCloudOptions(map[string]*ansible.Option{
		"nodes": {
			Type: ansible.TypeList, Elements: ansible.TypeStr, Aliases: []string{"node_uuids"},
			Description: []string{"Names or UUIDs of the nodes to handle. A node named twice (by name and UUID) is handled once.", "C(node_uuids) is tripleo-ansible's name for it."},
		},
		"all_in_state": {
			Type:    ansible.TypeStr,
			Choices: []any{"enroll", "manageable", "available", "inspect failed", "clean failed"},
			Description: []string{
				"Handle every node in this provision state instead of naming them in O(nodes).",
				"Nodes in maintenance are skipped, with a warning.",
			},
		},
		"provide": {
			Type: ansible.TypeBool, Default: false,
			Description: []string{"End each node in C(available) (C(provide), with automated cleaning if the conductor enables it). Otherwise nodes end in C(manageable)."},
		},
		"force": {
			Type: ansible.TypeBool, Default: false,
			Description: []string{"Inspect again nodes whose inspection is already on record. By default they are skipped, so that a second run changes nothing."},
		},
		"concurrency": {
			Type: ansible.TypeInt, Default: 8,
			Description: []string{"How many nodes are worked on at once (TripleO's pool was 20; a real BMC network may prefer fewer)."},
		},
		"retries": {
			Type: ansible.TypeInt, Default: 2, Aliases: []string{"max_retries"},
			Description: []string{
				"C(max_retries) is tripleo-ansible's name for it (same default, same meaning: restarts after the first attempt).",
				"How many times a node is restarted after a step failed or outlasted O(timeout): what is still waiting is aborted, the node's lock is waited for, and the remaining steps run again.",
				"Waiting for a node locked by another operation does not use a retry. Ironic refusing a request (for example an inspect interface that cannot inspect) is not retried.",
			},
		},
		"failfast": {
			Type: ansible.TypeBool, Default: false,
			Description: []string{"Start no new node once one has failed. Nodes already in progress finish; those never started are reported as C(not started)."},
		},
		"capabilities": {
			Type: ansible.TypeRaw,
			Description: []string{
				"Capabilities to merge into C(properties/capabilities) after inspection, as a C(k:v,k:v) string or a dict, for example C(profile:baremetal,boot_option:local).",
				"Keys the node already has and that are not named here are kept: what inspection found is never dropped.",
			},
		},
		"resource_class": {
			Type: ansible.TypeStr,
			Description: []string{
				"Resource class to set, for example C(baremetal) for a flavor asking C(resources:CUSTOM_BAREMETAL=1).",
				"A value starting with C(CUSTOM_) is the classic trap (Nova would look for C(CUSTOM_CUSTOM_...)): the prefix is removed, with a warning.",
			},
		},
		"properties": {
			Type: ansible.TypeDict,
			Description: []string{
				"Node properties to set after inspection, key by key (other keys are kept). A null value removes that key.",
				"C(capabilities) here is merged as O(capabilities) is; the old C(resources: CUSTOM_BAREMETAL:1) idiom sets O(resource_class) instead, with a warning.",
			},
		},
		"introspection_data": {
			Type: ansible.TypeBool, Default: true,
			Description: []string{"Return the stored introspection data of each inspected node where the deployment exposes it. Turn off for large fleets to keep the result small."},
		},
		"quiet": {
			Type: ansible.TypeBool, Default: false,
			Description: []string{"tripleo-ansible's switch: do not return introspection data (O(quiet=true) is O(introspection_data=false))."},
		},
	}),
	MutuallyExclusive: [][]string{{"nodes", "all_in_state"}},
	RequiredOneOf:     [][]string{{"nodes", "all_in_state"}},
	Examples:          examples,
	Return:            task.Returns(returns),
}

// withCloudOptions adds the shared connection options, with this module's
// wording for wait and timeout.
func withCloudOptions(own map[string]*ansible.Option) map[string]*ansible.Option {
	all := cloudopts.Options(defaultTimeout)
	all["wait"].Description = []string{
		"Wait for each node to finish. With O(wait=false) the nodes are managed and inspection is requested, then the task returns without waiting for it; O(provide), O(capabilities), O(resource_class) and O(properties) then cannot be used.",
	}
	all["timeout"].Aliases = []string{"node_timeout"}
	all["timeout"].Description = []string{
		"C(node_timeout) is tripleo-ansible's name for it.",
		"How long, in seconds, one attempt of one node may take (every wait included: manage, inspection, cleaning, a lock held by another operation).",
		"An attempt that outlasts it is aborted where Ironic allows and retried (O(retries)). Transient API errors (409 conflicts, 503, connection refused or reset) are retried with backoff within it.",
	}
	maps.Copy(all, own)
	return all
}

var nodeContains = map[string]*ansible.ReturnValue{
	"name":                   {Description: []string{"Node name."}, Type: "str", Returned: "always"},
	"uuid":                   {Description: []string{"Node UUID."}, Type: "str", Returned: "always"},
	"status":                 {Description: []string{"C(changed), C(unchanged), C(failed) or C(not started) (failfast). In check mode, C(changed) means it would change."}, Type: "str", Returned: "always"},
	"changed":                {Description: []string{"Whether the node was (or, in check mode, would be) changed."}, Type: "bool", Returned: "always"},
	"failed":                 {Description: []string{"Whether the node failed."}, Type: "bool", Returned: "always"},
	"provision_state":        {Description: []string{"Provision state when the task ended (in check mode: now)."}, Type: "str", Returned: "always", Sample: "available"},
	"power_state":            {Description: []string{"Power state when the task ended."}, Type: "str", Returned: "always", Sample: "power off"},
	"resource_class":         {Description: []string{"Resource class."}, Type: "str", Returned: "always", Sample: "baremetal"},
	"maintenance":            {Description: []string{"Whether the node is in maintenance."}, Type: "bool", Returned: "always"},
	"properties":             {Description: []string{"The node's properties (what inspection discovered: C(cpus), C(memory_mb), C(local_gb), C(cpu_arch), C(capabilities), ...)."}, Type: "dict", Returned: "always"},
	"capabilities":           {Description: []string{"C(properties.capabilities) as a dict."}, Type: "dict", Returned: "always", Sample: map[string]any{"boot_option": "local", "profile": "baremetal"}},
	"inspection_started_at":  {Description: []string{"When this task started the inspection (Ironic clears its own record when inspection ends), else Ironic's."}, Type: "str", Returned: "always"},
	"inspection_finished_at": {Description: []string{"When the last successful inspection finished (Ironic's record)."}, Type: "str", Returned: "always"},
	"steps":                  {Description: []string{"Steps carried out, or in check mode planned, in order."}, Type: "list", Elements: "str", Returned: "always", Sample: []any{"manage (enroll -> manageable)", "inspect (manageable)", "update resource_class, properties/capabilities", "provide (manageable -> available)", "power off (available)"}},
	"retries":                {Description: []string{"Retries used."}, Type: "int", Returned: "always"},
	"lock_waits":             {Description: []string{"How many times the node was found locked by another operation and waited for."}, Type: "int", Returned: "always"},
	"last_error":             {Description: []string{"For a failed node, Ironic's C(last_error) (else the failure); otherwise the node's C(last_error), if any."}, Type: "str", Returned: "always"},
	"msg":                    {Description: []string{"What failed, for a failed node."}, Type: "str", Returned: "when failed"},
	"timeline":               {Description: []string{"States seen and actions taken, with UTC timestamps (long histories keep the first and the latest entries)."}, Type: "list", Elements: "dict", Returned: "always", Sample: []any{map[string]any{"at": "2024-05-01T10:00:00.120Z", "state": "enroll", "event": "manage (enroll -> manageable) requested"}}},
	"seconds":                {Description: []string{"Time spent on the node."}, Type: "float", Returned: "always"},
	"introspection_data":     {Description: []string{"Stored introspection data: C(source) (C(ironic) or C(ironic-inspector)) and the data (C(inventory) and C(plugin_data), or C(data))."}, Type: "dict", Returned: "where the deployment stores it and O(introspection_data) is true"},
}

var returns = map[string]*ansible.ReturnValue{
	"nodes":        {Description: []string{"One entry per node, in the order asked (O(all_in_state): by name)."}, Type: "list", Elements: "dict", Returned: "after the nodes were read", Contains: nodeContains},
	"failed_nodes": {Description: []string{"UUIDs of the nodes that failed or were not started, as tripleo-ansible returns them (C(failures) has the details)."}, Type: "list", Elements: "str", Returned: "after the nodes were read"},
	"passed_nodes": {Description: []string{"UUIDs of the nodes that succeeded, as tripleo-ansible returns them."}, Type: "list", Elements: "str", Returned: "after the nodes were read"},
	"failures": {Description: []string{"The nodes that failed, each with the step that failed and Ironic's C(last_error)."}, Type: "list", Elements: "dict", Returned: "after the nodes were read",
		Contains: map[string]*ansible.ReturnValue{
			"name":            {Description: []string{"Node name (or UUID)."}, Type: "str", Returned: "always"},
			"uuid":            {Description: []string{"Node UUID."}, Type: "str", Returned: "always"},
			"provision_state": {Description: []string{"Provision state it was left in."}, Type: "str", Returned: "always"},
			"step":            {Description: []string{"The step that failed (C(manage), C(inspect), C(update), C(provide), C(power off)), or empty when the node could not be handled at all."}, Type: "str", Returned: "always"},
			"last_error":      {Description: []string{"Ironic's C(last_error), or the failure."}, Type: "str", Returned: "always"},
		}},
	"summary": {Description: []string{"Counts: C(total), C(changed), C(unchanged), C(failed), C(not_started), and C(seconds)."}, Type: "dict", Returned: "after the nodes were read",
		Sample: map[string]any{"total": 3, "changed": 2, "unchanged": 1, "failed": 0, "not_started": 0, "seconds": 41.2}},
}
