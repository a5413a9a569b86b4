package main

// examples is the module's EXAMPLES block. tests/integration/examples_test.go
// runs every task of it against the local services.
const examples = `
- name: Render the Ignition config for an RHCOS host
  metalkit.baremetal.ignition_render:
    spec_version: 3.4.0
    users:
      - name: core
        ssh_authorized_keys:
          - "{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"
    ca_certificates:
      - /etc/pki/ca-trust/source/anchors/undercloud-ca.pem
    files:
      - path: /etc/hostname
        contents: blade-ocp-node-1
        mode: 420
    dest: /home/stack/ocp/config.ign
  register: ign

- name: Old RHCOS (OpenShift 4.5 and older) takes spec 2.2.0
  metalkit.baremetal.ignition_render:
    spec_version: 2.2.0
    users:
      - name: core
        ssh_authorized_keys: ["{{ core_ssh_key }}"]
    dest: /home/stack/ocp/config-legacy.ign

- name: Pointer config to the OpenShift machine config server
  metalkit.baremetal.ignition_render:
    replace:
      source: https://api-int.ocp.example.com:22623/config/worker
    ca_certificates:
      - "{{ lookup('file', 'mcs-ca.pem') }}"
    dest: /home/stack/ocp/worker.ign
`
