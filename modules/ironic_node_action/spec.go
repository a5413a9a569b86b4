package main

import (
	"maps"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/task"
)

// defaultTimeout bounds the whole task: a real BMC answers a power change
// within a minute or two.
const defaultTimeout = 600

var spec = &ansible.Spec{
	Name:             "ironic_node_action",
	ShortDescription: "Fix one Ironic node as the diagnosis says: maintenance, power, resource class, capabilities, traits",
	VersionAdded:     "1.0.0",
	SeeAlso: []ansible.SeeAlso{
		{Module: "metalkit.baremetal.nova_bm_server_info", Description: "The diagnosis that names which node needs which fix."},
		{Module: "metalkit.baremetal.ironic_introspect", Description: "Make manageable nodes available (provide), the remedy for a node not available."},
		{Module: "metalkit.baremetal.nova_bm_server", Description: "Boot the server once the node is fixed."},
	},
	Description: []string{
		"The remedies the C(No valid host was found) diagnosis of M(metalkit.baremetal.nova_bm_server) and M(metalkit.baremetal.nova_bm_server_info) names, as a task instead of an C(openstack baremetal node ...) command line: take a node out of maintenance or put it in (O(maintenance), O(maintenance_reason)), power it on or off (O(power)), set its O(resource_class), merge O(capabilities) key by key, add O(traits).",
		"Option names follow C(openstack.cloud.baremetal_node_action) where it has them (O(maintenance), O(maintenance_reason), O(power) with C(present)/C(absent), O(node) also spelt C(name), C(id) or C(uuid)).",
		"Idempotent: only what differs from the node is written, and a second identical run reports C(changed=false) (a O(power=reboot) always acts).",
		"Order: entering maintenance first (Nova stops using the node before anything else changes), then resource class and capabilities (one update), traits, power, and leaving maintenance last (the node goes back to Nova once it is fixed).",
		"Check mode reads the node and says what would change; diff mode shows the node's maintenance, power state, resource class, capabilities and traits before and after.",
	},
	Notes: []string{
		"Nova notices a change at its next resource update (C(update_resources_interval), 60 s by default): a server booted right after leaving maintenance may still find no host; M(metalkit.baremetal.nova_bm_server_info) tells.",
		"Nova reports a resource class to Placement upper-cased and prefixed with C(CUSTOM_): C(baremetal) becomes C(CUSTOM_BAREMETAL). A value that already starts with C(CUSTOM_) is doubled (C(CUSTOM_CUSTOM_...)); the module warns.",
		"Ironic refuses some changes in some provision states (for example the resource class of a deployed node); the task then fails with Ironic's message, naming the action.",
	},
	Author: []string{"metalkit engineers (@metalkit)"},
	Options: withConnection(map[string]*ansible.Option{
		"node": {Type: ansible.TypeStr, Required: true, Aliases: []string{"name", "id", "uuid"},
			Description: []string{"The Ironic node, by name or UUID (as the diagnosis names it).", "C(name), C(id) and C(uuid) are openstack.cloud's names for it."}},
		"maintenance": {Type: ansible.TypeBool, Description: []string{
			"C(true) puts the node in maintenance (Nova stops scheduling onto it), C(false) takes it out (the diagnosis reason C(maintenance)). Unset: left as it is.",
		}},
		"maintenance_reason": {Type: ansible.TypeStr, Description: []string{
			"Why the node is in maintenance, with O(maintenance=true). A node already in maintenance with another reason gets this one (changed).",
		}},
		"power": {Type: ansible.TypeRaw, Description: []string{
			"C(on), C(off), C(reboot), C(soft_off) or C(soft_reboot); C(present) and C(absent) are openstack.cloud's C(on) and C(off), and an unquoted YAML C(on)/C(off) (a boolean) works too. Unset: left as it is.",
			"C(off) is the remedy for a power state Ironic does not know (C(None), typical of C(fake-hardware) nodes), which Nova counts as unusable.",
			"With O(wait), the task waits until Ironic reports the new power state, and fails with Ironic's C(last_error) when the BMC refused.",
		}},
		"resource_class": {Type: ansible.TypeStr, Description: []string{
			"Resource class to set, for example C(baremetal) for a flavor asking C(resources:CUSTOM_BAREMETAL=1).",
		}},
		"capabilities": {Type: ansible.TypeRaw, Description: []string{
			"Capabilities to merge into C(properties/capabilities), as a C(k:v,k:v) string or a dict, for example C(profile:baremetal,boot_option:local).",
			"Keys the node has and that are not named here are kept; named keys get the value given.",
		}},
		"traits": {Type: ansible.TypeList, Elements: ansible.TypeStr, Description: []string{
			"Traits the node must have (C(CUSTOM_*) or standard ones such as C(HW_CPU_X86_AVX2)): missing ones are added, the others kept unless O(purge_traits).",
		}},
		"purge_traits": {Type: ansible.TypeBool, Default: false, Description: []string{
			"Remove the node's traits not listed in O(traits): O(traits) becomes the node's whole list (C(traits: []) removes them all).",
		}},
	}),
	RequiredBy: map[string][]string{"maintenance_reason": {"maintenance"}},
	Examples:   examples,
	Return:     task.Returns(returns),
}

// withConnection adds the shared OpenStack connection options.
func withConnection(own map[string]*ansible.Option) map[string]*ansible.Option {
	all := cloudopts.Options(defaultTimeout)
	all["wait"].Description = []string{"Wait until a power change has ended (Ironic reports the power state asked for). The other changes take effect at once."}
	all["timeout"].Description = []string{"Seconds the whole task may take, power change included.", cloudopts.TimeoutRule}
	maps.Copy(all, own)
	return all
}

var returns = map[string]*ansible.ReturnValue{
	"node": {
		Description: []string{"The node after the task (in check mode: as it would be): C(uuid), C(name), C(provision_state), C(power_state), C(maintenance), C(maintenance_reason), C(resource_class), C(capabilities) (a dict), C(traits)."},
		Returned:    "always", Type: "dict",
		Sample: map[string]any{"uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123", "name": "blade-ocp-node-3", "provision_state": "available", "power_state": "power off",
			"maintenance": false, "maintenance_reason": "", "resource_class": "baremetal", "capabilities": map[string]any{"profile": "baremetal", "boot_option": "local"}, "traits": []any{"CUSTOM_RHCOS"}},
	},
	"actions": {
		Description: []string{"What the module did (or would do in check mode), in order: C(set_maintenance), C(set_resource_class), C(set_capabilities), C(set_traits), C(power_on), C(power_off), C(reboot), C(soft_power_off), C(soft_reboot), C(unset_maintenance)."},
		Returned:    "always", Type: "list", Elements: "str", Sample: []any{"power_off", "unset_maintenance"},
	},
	"timings": {
		Description: []string{"Seconds: C(power) (request to the power state reached)."},
		Returned:    "when a power change was waited for", Type: "dict", Sample: map[string]any{"power": 1.2},
	},
}
