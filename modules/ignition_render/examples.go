package main

// examples is the module's EXAMPLES block. Every address in it is loopback
// (a BMC emulator, a local mirror), so it runs as written against the
// services of `make services-up`; tests/integration/examples_test.go runs
// it there, and examples_guard_test.go refuses any other address.
// ignition_render contacts nothing: a source URL in it is Ignition data.
const examples = `
- name: Render the Ignition config for an RHCOS host
  metalkit.baremetal.ignition_render:
    spec_version: 3.4.0
    users:
      - name: core
        ssh_authorized_keys:
          - "{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"
    ca_certificates:
      - ~/ocp/undercloud-ca.pem
    files:
      - path: /etc/hostname
        contents: blade-ocp-node-1
        mode: 420
    dest: ~/ocp/config.ign
  register: ign

- name: Old RHCOS (OpenShift 4.5 and older) takes spec 2.2.0
  metalkit.baremetal.ignition_render:
    spec_version: 2.2.0
    users:
      - name: core
        ssh_authorized_keys: ["{{ core_ssh_key }}"]
    dest: ~/ocp/config-legacy.ign

- name: Pointer config to the OpenShift machine config server (files/mcs-ca.pem beside the playbook)
  metalkit.baremetal.ignition_render:
    replace:
      source: https://api-int.ocp.example.com:22623/config/worker
    ca_certificates:
      - "{{ lookup('file', 'mcs-ca.pem') }}"
    dest: ~/ocp/worker.ign
`
