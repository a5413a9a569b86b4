#!/usr/bin/env bash
# nova_bm_server on the loopback stack (Keystone, Nova with the ironic
# driver, Placement, Ironic fake-hardware, Glance, Neutron): one node, its
# own flavor and image, then per iteration
#   ours: the module binary booting a server to ACTIVE (config drive, Ignition
#         user data, network by name), deleting it until its node is back to
#         available, and an on-demand diagnosis over every Ironic node;
#   CLI:  `openstack server create --wait` and `openstack server delete --wait`, once.
# The Go benchmark doing it is BenchmarkServerBootDelete (tests/integration/server_test.go);
# the pure diagnosis (1000 nodes) is BenchmarkDiagnose1000Nodes, run by `make bench` with the other Go benchmarks.
# Usage: tests/bench/server.sh [ITERATIONS]   (default 3; SERVER_BENCH_NODES=100 more nodes, in
#        enroll, of the same class for the diagnosis to read)
# Needs: make collection, tests/services/up.sh all.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-${SERVER_BENCH_N:-3}}
ls build/metalkit-baremetal-*.tar.gz >/dev/null 2>&1 || { echo "no collection tarball: make collection" >&2; exit 1; }
[ -x build/bin/nova_bm_server ] || { echo "build/bin/nova_bm_server missing: make build" >&2; exit 1; }
curl -sf -o /dev/null http://127.0.0.1:8774/ || { echo "Nova is not up on 127.0.0.1:8774: tests/services/up.sh all" >&2; exit 1; }
export SERVER_BENCH_NODES=${SERVER_BENCH_NODES:-100}
out=$(go test -tags integration -run '^$' -bench BenchmarkServerBootDelete -benchtime "${n}x" -timeout 40m ./tests/integration/ 2>&1) || {
  echo "$out" | tail -40; exit 1; }
line=$(echo "$out" | grep '^BenchmarkServerBootDelete')
metric() { echo "$line" | tr '\t' '\n' | awk -v m="$1" '$2 == m { print $1 }'; }
echo "nova_bm_server, $n iteration(s), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-44s %8s s\n' "module: boot to ACTIVE (process wall)" "$(metric module_boot_s)"
printf '  %-44s %8s s\n' "  of which Nova POST -> ACTIVE" "$(metric post_to_active_s)"
printf '  %-44s %8s s\n' "module: delete until node available" "$(metric module_delete_s)"
printf '  %-44s %8s s  (%s nodes)\n' "module: state=diagnose" "$(metric module_diagnose_s)" "$(printf %.0f "$(metric nodes_diagnosed)")"
printf '  %-44s %8s s\n' "openstack server create --wait" "$(metric cli_boot_s)"
printf '  %-44s %8s s\n' "openstack server delete --wait" "$(metric cli_delete_s)"
