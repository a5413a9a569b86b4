#!/usr/bin/env bash
# `make demo`: the sample flow end to end on this machine, on loopback only.
# Generates a throwaway SSH key and CA under build/demo, installs the built
# collection into build/demo/collections and runs playbooks/site.yml twice
# (the second run must change nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
tests/deps.sh
demo=build/demo
mkdir -p "$demo"
[ -f "$demo/id_ed25519.pub" ] || ssh-keygen -q -t ed25519 -N '' -C demo@metalkit -f "$demo/id_ed25519"
[ -f "$demo/ca.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=metalkit demo CA" -keyout "$demo/ca.key" -out "$demo/ca.pem" 2>/dev/null
tarball=$(ls build/metalkit-baremetal-*.tar.gz)
ansible-galaxy collection install --force -p "$demo/collections" "$tarball" >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$PWD/$demo/collections" ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
vars=(-e "@$demo/vars.yml")
cat > "$demo/vars.yml" <<VARS
rhcos_core_ssh_keys: ["$(cat "$demo/id_ed25519.pub")"]
rhcos_ca_certificates: ["$PWD/$demo/ca.pem"]
rhcos_ignition_dest: "$PWD/$demo/config.ign"
VARS
run() { ansible-playbook -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 "${vars[@]}" playbooks/site.yml; }
echo "== first run"; run
echo "== second run (idempotence: expect changed=0)"; out=$(run); echo "$out" | tail -4
echo "$out" | grep -Eq 'changed=0 ' || { echo "demo: second run changed something" >&2; exit 1; }
echo "== created: $demo/config.ign ($(stat -c %s "$demo/config.ign") bytes, mode $(stat -c %a "$demo/config.ign"))"
