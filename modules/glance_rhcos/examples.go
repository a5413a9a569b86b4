package main

// examples is the module's EXAMPLES block. Every address in it is loopback
// (a BMC emulator, a local mirror), so it runs as written against the
// services of `make services-up`; tests/integration/examples_test.go runs
// it there, and examples_guard_test.go refuses any other address.
const examples = `
# rhcos_mirror: the directory of your RHCOS release on your mirror (here a
# local one, e.g. http://127.0.0.1:8080/rhcos/4.16); rhcos_sha256: the
# image's line of the mirror's sha256sum.txt.
- name: Upload the RHCOS OpenStack image (download, gunzip, verify, upload in one pass)
  metalkit.baremetal.glance_rhcos:
    cloud: undercloud
    name: rhcos-4.16
    url: "{{ rhcos_mirror }}/rhcos-openstack.x86_64.qcow2.gz"
    checksum: "sha256:{{ rhcos_sha256 }}"
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
    src: ~/images/rhcos-openstack.x86_64.qcow2.xz
    force: true

- name: Let Glance fetch an uncompressed image itself
  metalkit.baremetal.glance_rhcos:
    name: rhcos-raw
    url: "{{ rhcos_mirror }}/rhcos-metal.x86_64.raw"
    method: web-download

- name: Remove every image of the name
  metalkit.baremetal.glance_rhcos:
    name: rhcos-4.15
    state: absent
`
