#!/usr/bin/env bash
# ironic_introspect end to end: BENCH_INSPECT_N (default 50) fake-hardware
# nodes from enroll to available on the loopback Ironic (cloud
# BENCH_INSPECT_CLOUD, default `local-standalone`: the noauth Ironic on :6388
# that Nova does not watch, as tests/services asks of bulk tests; `local` is
# the Keystone one on :6385), by
#   (a) our module: one ansible-playbook task (concurrency
#       BENCH_INSPECT_CONCURRENCY, default 8), which also sets the flavor's
#       capabilities and resource class and powers the nodes off, and
#   (b) the CLI loop: `openstack baremetal node manage/inspect/provide --wait`
#       per node (python-ironicclient).
# Reports the wall time of both and the ratio (target: at least 5x). The CLI
# loop is serial and slow (about 25 s per node here): BENCH_INSPECT_CLI_N runs
# it on fewer nodes and scales its time linearly to N, saying so.
# Needs the services (tests/services/up.sh ironic) and `make collection`.
# Nodes are named insp-bench-<pid>-... and deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
n=${BENCH_INSPECT_N:-50}
conc=${BENCH_INSPECT_CONCURRENCY:-8}
cli_n=${BENCH_INSPECT_CLI_N:-$n}
export OS_CLIENT_CONFIG_FILE=$root/build/services/clouds.yaml OS_CLOUD=${BENCH_INSPECT_CLOUD:-local-standalone}
PY=/usr/bin/python3

openstack baremetal node list --limit 1 >/dev/null 2>&1 ||
  { echo "introspect bench: Ironic of cloud $OS_CLOUD does not answer (tests/services/up.sh ironic)"; exit 1; }
tarball=$(ls build/metalkit-baremetal-*.tar.gz 2>/dev/null | head -1)
[ -n "$tarball" ] || { make -s collection >/dev/null; tarball=$(ls build/metalkit-baremetal-*.tar.gz | head -1); }

work=$(mktemp -d "${TMPDIR:-/tmp}/introspect-bench.XXXXXX")
prefix=insp-bench-$$-
cleanup() {
  local names
  names=$(openstack baremetal node list -f value -c Name 2>/dev/null | grep "^$prefix" || true)
  # shellcheck disable=SC2086
  [ -z "$names" ] || openstack baremetal node delete $names >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
ansible-galaxy collection install -p "$work/collections" "$tarball" >/dev/null 2>&1

now() { date +%s.%N; }
# make_nodes SET: N fake-hardware nodes in enroll, in one client process
make_nodes() {
  $PY - "$1" "$n" "$prefix" > "$work/nodes-$1.json" <<'PY'
import json, sys
s, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
print(json.dumps({"nodes": [{"name": f"{prefix}{s}-{i:03d}", "driver": "fake-hardware"} for i in range(n)]}))
PY
  openstack baremetal create "$work/nodes-$1.json" >/dev/null
  $PY -c 'import json,sys; print("\n".join(x["name"] for x in json.load(open(sys.argv[1]))["nodes"]))' "$work/nodes-$1.json"
}

echo "$n fake-hardware nodes, enroll -> available; cloud $OS_CLOUD, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# (a) our module, one task
mapfile -t mod_nodes < <(make_nodes mod)
$PY -c 'import json,sys; print(json.dumps({"bench_nodes": sys.argv[1:]}))' "${mod_nodes[@]}" > "$work/vars.json"
cat > "$work/play.yml" <<YAML
- hosts: localhost
  gather_facts: false
  tasks:
    - name: introspect
      metalkit.baremetal.ironic_introspect:
        cloud: $OS_CLOUD
        nodes: "{{ bench_nodes }}"
        provide: true
        concurrency: $conc
        capabilities: profile:baremetal,boot_option:local
        resource_class: baremetal
YAML
t0=$(now)
ANSIBLE_COLLECTIONS_PATH=$work/collections ANSIBLE_STDOUT_CALLBACK=json ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 \
  ansible-playbook -i localhost, -c local -e ansible_python_interpreter=$PY -e "@$work/vars.json" "$work/play.yml" > "$work/module.json" || true
t1=$(now)
mod_wall=$($PY -c "print(f'{$t1 - $t0:.1f}')")
$PY - "$work/module.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
r = doc["plays"][0]["tasks"][0]["hosts"]["localhost"]
if r.get("failed"):
    sys.exit("module failed: " + r.get("msg", "")[:2000])
s = r["summary"]
per = sorted(n["seconds"] for n in r["nodes"])
print(f"module: {r['msg']}")
print(f"module: per node {per[0]:.1f} s min, {per[len(per)//2]:.1f} s median, {per[-1]:.1f} s max; retries {sum(n['retries'] for n in r['nodes'])}, lock waits {sum(n['lock_waits'] for n in r['nodes'])}")
PY
bad=$(openstack baremetal node list --provision-state available -f value -c Name | grep -c "^${prefix}mod-" || true)
[ "$bad" = "$n" ] || { echo "module: only $bad of $n nodes are available in Ironic"; exit 1; }
echo "module: one ansible-playbook task, wall $mod_wall s"
# shellcheck disable=SC2068
openstack baremetal node delete ${mod_nodes[@]} >/dev/null

# (b) the CLI loop
n_all=$n
n=$cli_n
mapfile -t cli_nodes < <(make_nodes cli)
t0=$(now)
for node in "${cli_nodes[@]}"; do
  openstack baremetal node manage "$node" --wait >/dev/null
  openstack baremetal node inspect "$node" --wait >/dev/null
  openstack baremetal node provide "$node" --wait >/dev/null
done
t1=$(now)
cli_wall=$($PY -c "print(f'{$t1 - $t0:.1f}')")
bad=$(openstack baremetal node list --provision-state available -f value -c Name | grep -c "^${prefix}cli-" || true)
[ "$bad" = "$n" ] || { echo "cli: only $bad of $n nodes are available in Ironic"; exit 1; }
echo "cli loop: 3 x $n openstack commands with --wait, wall $cli_wall s ($($PY -c "print(f'{$cli_wall / $n:.1f}')") s per node)"
if [ "$n" != "$n_all" ]; then
  cli_wall=$($PY -c "print(f'{$cli_wall * $n_all / $n:.1f}')")
  echo "cli loop: scaled to $n_all nodes (serial, linear): $cli_wall s"
fi
$PY -c "r = $cli_wall / $mod_wall; print(f'ratio: {r:.1f}x faster (target >= 5x): ' + ('PASS' if r >= 5 else 'BELOW TARGET'))"
