package main

// examples is the module's EXAMPLES block. Every address in it is loopback
// (a BMC emulator, a local mirror), so it runs as written against the
// services of `make services-up`; tests/integration/examples_test.go runs
// it there, and examples_guard_test.go refuses any other address.
const examples = `
- name: Manage, introspect and provide the new nodes (TripleO's node introspect --provide)
  metalkit.baremetal.ironic_introspect:
    cloud: undercloud
    nodes: [blade-ocp-node-1, blade-ocp-node-2, blade-ocp-node-3]
    provide: true
    capabilities: profile:baremetal,boot_option:local
    resource_class: baremetal
  register: introspected

- name: Show which nodes failed and why
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.last_error }}"
  loop: "{{ introspected.failures | default([]) }}"

- name: Every node still in enroll, 20 at a time, stopping at the first failure
  metalkit.baremetal.ironic_introspect:
    all_in_state: enroll
    concurrency: 20
    retries: 1
    failfast: true

- name: Re-inspect after a hardware change, then make the node available again
  metalkit.baremetal.ironic_introspect:
    nodes: [blade-ocp-node-2]
    force: true
    provide: true
    timeout: 3600
`
