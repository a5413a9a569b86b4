#!/usr/bin/env bash
# `make demo`: the whole operator flow on this machine, loopback only.
# Installs what it needs, starts the local OpenStack services (tests/services),
# generates a small qcow2 standing in for RHCOS, a throwaway SSH key and CA,
# installs the built collection into build/demo/collections and runs
# playbooks/site.yml twice: the second run must change nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "demo: $*"; }
die() { echo "demo: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. tests/lib.sh
t0=$(date +%s)
tests/deps.sh
tests/services/up.sh all
demo=build/demo
mkdir -p "$demo"
[ -f "$demo/id_ed25519.pub" ] || ssh-keygen -q -t ed25519 -N '' -C demo@metalkit -f "$demo/id_ed25519"
[ -f "$demo/ca.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=metalkit demo CA" -keyout "$demo/ca.key" -out "$demo/ca.pem" 2>/dev/null
if [ ! -f "$demo/rhcos-demo.qcow2.gz" ]; then
  # A small qcow2 with some data in it, gzip'd like the RHCOS download.
  qemu-img create -q -f qcow2 "$demo/rhcos-demo.qcow2" 64M
  qemu-io -f qcow2 -c "write -P 0x5a 0 4M" "$demo/rhcos-demo.qcow2" >/dev/null
  gzip -f "$demo/rhcos-demo.qcow2"
fi
# The path is set before the install: ansible-galaxy warns about a path Ansible would not search.
export ANSIBLE_COLLECTIONS_PATH="$PWD/$demo/collections" OS_CLIENT_CONFIG_FILE="$PWD/build/services/clouds.yaml"
tarball=$(collection_tarball "$PWD")
ansible-galaxy collection install --force -p "$demo/collections" "$tarball" >/dev/null
cat > "$demo/vars.yml" <<VARS
rhcos_core_ssh_keys: ["$(cat "$demo/id_ed25519.pub")"]
rhcos_ca_certificates: ["$PWD/$demo/ca.pem"]
rhcos_ignition_dir: "$PWD/$demo"
rhcos_image_src: "$PWD/$demo/rhcos-demo.qcow2.gz"
VARS
run() { ansible-playbook -i playbooks/inventory/hosts.yml -e "@$demo/vars.yml" playbooks/site.yml; }
echo "== first run of playbooks/site.yml"
run
echo "== second run (idempotence: expect changed=0)"
out=$(run) || { echo "$out"; exit 1; }
echo "$out" | sed -n '/PLAY RECAP/,$p'
echo "$out" | grep -Eq 'changed=0 ' || die "the second run changed something"
echo "== created (cloud 'local', OS_CLIENT_CONFIG_FILE=$OS_CLIENT_CONFIG_FILE)"
export OS_CLOUD=local
openstack baremetal node list -c Name -c "Instance UUID" -c "Provision State" -c "Power State" 2>/dev/null || true
openstack image list 2>/dev/null || true
openstack server list -c Name -c Status -c Networks 2>/dev/null || true
for role in master worker; do
  echo "Ignition config: $demo/$role.ign ($(stat -c %s "$demo/$role.ign") bytes, mode $(stat -c %a "$demo/$role.ign"))"
done
echo "demo done in $(( $(date +%s) - t0 )) s. Clean up: make demo-clean; stop services: make services-down"
