package main

// examples is the module's EXAMPLES block. tests/integration/examples_test.go
// runs every task of it against the local services.
const examples = `
- name: Render the Ignition config
  metalkit.baremetal.ignition_render:
    users:
      - name: core
        ssh_authorized_keys: ["{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"]
    dest: /home/stack/ocp/blade-ocp-node-1.ign

- name: Boot RHCOS on a bare-metal node
  metalkit.baremetal.nova_bm_server:
    cloud: undercloud
    name: blade-ocp-node-1
    image: rhcos-4.16
    flavor: baremetal
    nics:
      - net-name: ctlplane
    user_data_file: /home/stack/ocp/blade-ocp-node-1.ign
  register: boot

- name: Where it landed
  ansible.builtin.debug:
    msg: "{{ boot.server.name }} on node {{ boot.server.node.name }}: {{ boot.server.addresses }}"

- name: A server left in ERROR by an earlier run is replaced; pin it to one node
  metalkit.baremetal.nova_bm_server:
    name: blade-ocp-node-2
    image: rhcos-4.16
    flavor: baremetal
    network: ctlplane
    availability_zone: "nova::blade-ocp-node-2"
    user_data_file: /home/stack/ocp/blade-ocp-node-2.ign
    recreate_on_error: true

- name: Why would a baremetal server not schedule? (creates nothing)
  metalkit.baremetal.nova_bm_server:
    name: blade-ocp-node-3
    flavor: baremetal
    state: diagnose
  register: doctor

- name: One line to act on
  ansible.builtin.debug:
    msg: "{{ doctor.diagnosis.summary }}"

- name: Delete the server and wait for its node to be cleaned back to available
  metalkit.baremetal.nova_bm_server:
    name: blade-ocp-node-1
    state: absent
`
