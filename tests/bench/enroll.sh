#!/usr/bin/env bash
# ironic_enroll versus the seed's way, against the same loopback Ironic
# (default cloud "local-standalone" of build/services/clouds.yaml: the noauth
# Ironic Nova does not watch, where bulk tests belong; ENROLL_BENCH_CLOUD=local
# for the Keystone one):
#   ours: one ansible-playbook task enrolling N fake-hardware nodes (node +
#         port, to manageable), then the same task again (idempotent re-run);
#   CLI:  per node `openstack baremetal node create`, `openstack baremetal
#         port create`, `openstack baremetal node manage` (Debian's
#         python3-openstackclient + python3-ironicclient), then a wait until
#         every node is manageable.
# Usage: tests/bench/enroll.sh [N ...]   (default: 50 200; or ENROLL_BENCH_N="50 200")
# Needs: make collection (or make build), tests/services/up.sh ironic.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export OS_CLIENT_CONFIG_FILE=$root/build/services/clouds.yaml
sizes=${*:-${ENROLL_BENCH_N:-50 200}}
bin=$root/build/bin/ironic_enroll
[ -x "$bin" ] || { echo "build/bin/ironic_enroll missing: run make build" >&2; exit 1; }
command -v openstack >/dev/null || { echo "openstack CLI missing: make deps" >&2; exit 1; }
cloud=${ENROLL_BENCH_CLOUD:-local-standalone}
key=standalone_ironic; [ "$cloud" = local ] && key=ironic
ironic_url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' build/services/services.json "$key" 2>/dev/null) \
  || { echo "no build/services/services.json: tests/services/up.sh ironic" >&2; exit 1; }
curl -sf -o /dev/null "$ironic_url/v1" || { echo "Ironic is not up at $ironic_url: tests/services/up.sh ironic" >&2; exit 1; }

work=$(mktemp -d)
colls=$work/collections
if ls build/metalkit-baremetal-*.tar.gz >/dev/null 2>&1; then
  ansible-galaxy collection install -p "$colls" build/metalkit-baremetal-*.tar.gz >/dev/null 2>&1
else
  mkdir -p "$colls/ansible_collections/metalkit/baremetal/plugins/modules"
  cp galaxy.yml "$colls/ansible_collections/metalkit/baremetal/"
  cp -r collection/. "$colls/ansible_collections/metalkit/baremetal/"
  cp "$bin" "$colls/ansible_collections/metalkit/baremetal/plugins/modules/"
fi

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# nodes PREFIX N MACBYTE: an instackenv node list as JSON
nodes() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
prefix, n, mb = sys.argv[1], int(sys.argv[2]), sys.argv[3]
print(json.dumps([{"name": "%s-%03d" % (prefix, i), "pm_type": "fake-hardware",
                   "mac": ["52:54:00:%s:%02x:%02x" % (mb, i // 256, i % 256)],
                   "cpu": "2", "memory": "4096", "disk": "40", "arch": "x86_64"} for i in range(n)]))
PY
}

# remove PREFIX N: delete the bench nodes with our module (any left over from an aborted run too)
remove() {
  python3 - "$1" "$2" "$cloud" > "$work/absent.json" <<'PY'
import json, sys
print(json.dumps({"cloud": sys.argv[3], "state": "absent", "concurrency": 16,
                  "nodes": [{"name": "%s-%03d" % (sys.argv[1], i)} for i in range(int(sys.argv[2]))]}))
PY
  "$bin" "$work/absent.json" | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(r.get("failed", False))' \
    || echo "warning: cleanup of $1-* reported a failure" >&2
}
trap 'for n in $sizes; do remove enr-bench-ours "$n"; remove enr-bench-cli "$n"; done; rm -rf "$work"' EXIT

cat > "$work/play.yml" <<YML
- hosts: localhost
  gather_facts: false
  tasks:
    - name: enroll
      metalkit.baremetal.ironic_enroll:
        cloud: $cloud
        nodes: "{{ bench_nodes }}"
YML
playbook() {
  ANSIBLE_COLLECTIONS_PATH=$colls ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 \
    ansible-playbook -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 \
    -e "@$work/vars.json" "$work/play.yml" > "$work/play.log" 2>&1 || { tail -20 "$work/play.log" >&2; return 1; }
  grep -E 'changed=' "$work/play.log" | sed 's/^/    /' >&2
}

os() { openstack --os-cloud "$cloud" "$@"; }

printf '| N | ironic_enroll (1 task) | idempotent re-run | openstack CLI loop | CLI / ours |\n'
printf '|---|---|---|---|---|\n'
for n in $sizes; do
  remove enr-bench-ours "$n"; remove enr-bench-cli "$n"
  echo "{\"bench_nodes\": $(nodes enr-bench-ours "$n" e5)}" > "$work/vars.json"

  echo "N=$n: ironic_enroll..." >&2
  t0=$(now); playbook; t1=$(now); playbook; t2=$(now)
  ours=$(secs "$t0" "$t1"); rerun=$(secs "$t1" "$t2")

  echo "N=$n: openstack CLI loop (3 commands per node)..." >&2
  nodes enr-bench-cli "$n" e6 | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    print(n["name"], n["mac"][0])' > "$work/cli.txt"
  t3=$(now)
  while read -r name mac; do
    uuid=$(os baremetal node create --driver fake-hardware --name "$name" --resource-class baremetal \
      --property cpus=2 --property memory_mb=4096 --property local_gb=40 --property cpu_arch=x86_64 -f value -c uuid)
    os baremetal port create "$mac" --node "$uuid" >/dev/null
    os baremetal node manage "$uuid"
  done < "$work/cli.txt"
  # wait until every CLI node is manageable (one list per round)
  for _ in $(seq 600); do
    left=$(os baremetal node list --provision-state verifying -f value -c Name | grep -c '^enr-bench-cli-' || true)
    [ "$left" = 0 ] && break
    sleep 1
  done
  t4=$(now)
  cli=$(secs "$t3" "$t4")
  manageable=$(os baremetal node list --provision-state manageable -f value -c Name | grep -c '^enr-bench-cli-' || true)
  [ "$manageable" = "$n" ] || echo "warning: only $manageable of $n CLI nodes are manageable" >&2
  ratio=$(awk -v a="$cli" -v b="$ours" 'BEGIN { printf "%.1fx", a / b }')
  printf '| %s | %s s | %s s | %s s | %s |\n' "$n" "$ours" "$rerun" "$cli" "$ratio"
  remove enr-bench-ours "$n"; remove enr-bench-cli "$n"
done
echo
echo "fake-hardware nodes with one port each, to manageable; wall time of ansible-playbook (ours, ansible start-up included) and of the sequential CLI loop, on $(nproc) cores, Ironic API $(curl -s "$ironic_url/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["default_version"]["version"])') at $ironic_url (cloud $cloud), ironic_enroll with its default concurrency (8)."
