package main

// examples is the module's EXAMPLES block. tests/integration/examples_test.go
// runs every task of it against the local services.
const examples = `
- name: Enroll the nodes of an instackenv file and make them manageable
  metalkit.baremetal.ironic_enroll:
    cloud: undercloud
    nodes_file: /home/stack/instackenv.json

- name: Enroll one node written inline (classic driver name, legacy mac field)
  metalkit.baremetal.ironic_enroll:
    cloud: undercloud
    nodes:
      - name: blade-ocp-node-1
        pm_type: pxe_ipmitool
        pm_addr: 192.0.2.89
        pm_user: root
        pm_password: "{{ vault_bmc_password }}"
        mac: ["18:DB:F2:8C:D5:FA"]
        arch: x86_64
        cpu: "2"
        memory: "4096"
        disk: "40"
        capabilities: "profile:baremetal,boot_option:local"

- name: Redfish node with a port on a physical network, left in enroll
  metalkit.baremetal.ironic_enroll:
    nodes:
      - name: r640-1
        pm_type: redfish
        pm_addr: https://192.0.2.10
        pm_user: admin
        pm_password: "{{ vault_redfish_password }}"
        pm_system_id: /redfish/v1/Systems/System.Embedded.1
        redfish_verify_ca: false
        ports:
          - address: "52:54:00:aa:bb:01"
            physical_network: ctlplane
        resource_class: baremetal
    initial_state: enroll
    concurrency: 16

- name: Remove nodes
  metalkit.baremetal.ironic_enroll:
    nodes_file: /home/stack/instackenv.json
    state: absent
`
