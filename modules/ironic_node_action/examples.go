package main

// examples is the module's EXAMPLES block. Every address in it is loopback,
// so it runs as written against the services of `make services-up`;
// tests/integration/examples_test.go runs it there (on a node the
// introspect examples left available), and examples_guard_test.go refuses
// any other address.
const examples = `
- name: Take a node away from Nova while its DIMM is replaced
  metalkit.baremetal.ironic_node_action:
    cloud: undercloud
    node: blade-ocp-node-3
    maintenance: true
    maintenance_reason: DIMM B2 replaced, ticket 4711

- name: Power it off for the repair (waits until Ironic reports it)
  metalkit.baremetal.ironic_node_action:
    node: blade-ocp-node-3
    power: "off"

- name: Fix what the diagnosis named (resource class, capabilities merged key by key, a trait)
  metalkit.baremetal.ironic_node_action:
    node: blade-ocp-node-3
    resource_class: baremetal
    capabilities:
      profile: baremetal
      boot_option: local
    traits: [CUSTOM_RHCOS]

- name: Give it back to Nova (the diagnosis said "in maintenance")
  metalkit.baremetal.ironic_node_action:
    node: blade-ocp-node-3
    maintenance: false
  register: fixed

- name: What Nova will see
  ansible.builtin.debug:
    msg: "{{ fixed.node.name }}: maintenance {{ fixed.node.maintenance }}, {{ fixed.node.power_state }}, class {{ fixed.node.resource_class }}, traits {{ fixed.node.traits }}"
`
