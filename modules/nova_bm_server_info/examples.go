package main

// examples is the module's EXAMPLES block. Every address in it is loopback,
// so it runs as written against the services of `make services-up`;
// tests/integration/examples_test.go runs it there, and
// examples_guard_test.go refuses any other address.
const examples = `
- name: Which nodes can host the flavor, and why not the others? (changes nothing)
  metalkit.baremetal.nova_bm_server_info:
    cloud: undercloud
    flavor: baremetal
  register: doctor

- name: One line to act on (it names the task that fixes each node)
  ansible.builtin.debug:
    msg: "{{ doctor.diagnosis.summary }}"

- name: The nodes that cannot host it
  ansible.builtin.debug:
    msg: "{{ doctor.diagnosis.nodes | rejectattr('eligible') | map(attribute='name') | list }}"

- name: Why would a server of this name not go to the node it is pinned to?
  metalkit.baremetal.nova_bm_server_info:
    name: blade-ocp-node-2
    flavor: baremetal
    availability_zone: "nova::blade-ocp-node-2"
`
