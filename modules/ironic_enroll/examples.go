package main

// examples is the module's EXAMPLES block. Every address in it is loopback
// (a BMC emulator, a local mirror), so it runs as written against the
// services of `make services-up`; tests/integration/examples_test.go runs
// it there, and examples_guard_test.go refuses any other address.
const examples = `
# ~/instackenv.json is the TripleO node list; on a virtual undercloud its BMCs
# are VirtualBMC ports on 127.0.0.1 (pm_addr 127.0.0.1, pm_port 6231, ...).
- name: Enroll the nodes of an instackenv file and make them manageable
  metalkit.baremetal.ironic_enroll:
    cloud: undercloud
    nodes_file: ~/instackenv.json
  register: enrolled

- name: Enroll one node written inline (classic driver name, legacy mac field)
  metalkit.baremetal.ironic_enroll:
    cloud: undercloud
    nodes:
      - name: blade-ocp-node-1
        pm_type: pxe_ipmitool
        pm_addr: 127.0.0.1
        pm_port: 6230
        pm_user: admin
        pm_password: "{{ vault_bmc_password }}"
        mac: ["52:54:00:0c:d5:fa"]
        arch: x86_64
        cpu: "2"
        memory: "4096"
        disk: "40"
        capabilities: "profile:baremetal,boot_option:local"

- name: Redfish node with a port on a physical network, left in enroll (its BMC is not contacted)
  metalkit.baremetal.ironic_enroll:
    nodes:
      - name: r640-1
        pm_type: redfish
        pm_addr: https://127.0.0.1:8000
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

- name: Remove the nodes of the file
  metalkit.baremetal.ironic_enroll:
    nodes_file: ~/instackenv.json
    state: absent
`
