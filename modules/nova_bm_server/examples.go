package main

// examples is the module's EXAMPLES block. Every address in it is loopback
// (a BMC emulator, a local mirror), so it runs as written against the
// services of `make services-up`; tests/integration/examples_test.go runs
// it there, and examples_guard_test.go refuses any other address.
const examples = `
- name: Render one Ignition config per host
  metalkit.baremetal.ignition_render:
    users:
      - name: core
        ssh_authorized_keys: ["{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"]
    files:
      - path: /etc/hostname
        contents: "{{ item }}"
        mode: 420
    dest: "~/ocp/{{ item }}.ign"
  loop: [blade-ocp-node-1, blade-ocp-node-2]

- name: Boot RHCOS on a chosen node (a server left in ERROR by an earlier run is replaced)
  metalkit.baremetal.nova_bm_server:
    cloud: undercloud
    name: blade-ocp-node-2
    image: rhcos-4.16
    flavor: baremetal
    network: ctlplane
    availability_zone: "nova::blade-ocp-node-2"
    user_data_file: ~/ocp/blade-ocp-node-2.ign
    recreate_on_error: true

- name: Boot RHCOS on any available node of the flavor
  metalkit.baremetal.nova_bm_server:
    name: blade-ocp-node-1
    image: rhcos-4.16
    flavor: baremetal
    nics:
      - net-name: ctlplane
    user_data_file: ~/ocp/blade-ocp-node-1.ign
  register: boot

- name: Where it landed
  ansible.builtin.debug:
    msg: "{{ boot.server.name }} on node {{ boot.server.node.name }}: {{ boot.server.addresses }}"

- name: Why would a baremetal server not schedule? (creates nothing)
  metalkit.baremetal.nova_bm_server_info:
    name: blade-ocp-node-3
    flavor: baremetal
  register: doctor

- name: One line to act on
  ansible.builtin.debug:
    msg: "{{ doctor.diagnosis.summary }}"

- name: Delete the server and wait for its node to be cleaned back to available
  metalkit.baremetal.nova_bm_server:
    name: blade-ocp-node-1
    state: absent
`
