package main

// examples is the module's EXAMPLES block. tests/integration/examples_test.go
// runs every task of it against the local services.
const examples = `
- name: Upload the RHCOS OpenStack image (download, gunzip, verify, upload in one pass)
  metalkit.baremetal.glance_rhcos:
    cloud: undercloud
    name: rhcos-4.16
    url: https://mirror.example.com/pub/openshift-v4/x86_64/dependencies/rhcos/4.16/latest/rhcos-openstack.x86_64.qcow2.gz
    checksum: sha256:9f1c5c3d2f3e8a7a1f0e7bd1f4d1a9c0e1c7d2b3a4f5e6d7c8b9a0f1e2d3c4b5
    os_version: "4.16"
    visibility: public
    tags: [rhcos, ocp]
  register: rhcos

- name: Boot from it by ID
  ansible.builtin.debug:
    msg: "{{ rhcos.image.id }} ({{ rhcos.transfer.mb_per_s | default('unchanged') }} MB/s)"

- name: From a local file, replacing the older images of the name
  metalkit.baremetal.glance_rhcos:
    name: rhcos-image
    src: /home/stack/images/rhcos-openstack.x86_64.qcow2.xz
    force: true

- name: Let Glance fetch an uncompressed image itself
  metalkit.baremetal.glance_rhcos:
    name: rhcos-raw
    url: https://mirror.example.com/images/rhcos-metal.x86_64.raw
    method: web-download

- name: Remove every image of the name
  metalkit.baremetal.glance_rhcos:
    name: rhcos-4.15
    state: absent
`
