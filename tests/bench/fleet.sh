#!/usr/bin/env bash
# nova_bm_server fleets on the loopback stack: N servers (default 10) on N
# fake-hardware nodes booted three ways, same services, one run each: one
# task with servers:, a loop of the one-server task, the openstack CLI loop
# (`server create --wait` per server); and one server alone (the fleet's
# target is within 2x of it, and at least 4x faster than the loop).
# The Go benchmark is BenchmarkServerFleet (tests/integration/fleet_test.go).
# Usage: tests/bench/fleet.sh [N] (FLEET_BENCH_CONCURRENCY, default 10, the module's default). Needs: make collection, tests/services/up.sh all.
set -euo pipefail
cd "$(dirname "$0")/../.."
export FLEET_BENCH_N=${1:-${FLEET_BENCH_N:-10}}
ls build/metalkit-baremetal-*.tar.gz >/dev/null 2>&1 || { echo "no collection tarball: make collection" >&2; exit 1; }
[ -x build/bin/nova_bm_server ] || { echo "build/bin/nova_bm_server missing: make build" >&2; exit 1; }
curl -sf -o /dev/null http://127.0.0.1:8774/ || { echo "Nova is not up on 127.0.0.1:8774: tests/services/up.sh all" >&2; exit 1; }
out=$(go test -tags integration -run '^$' -bench BenchmarkServerFleet -benchtime 1x -timeout 60m ./tests/integration/ 2>&1) || {
  echo "$out" | tail -40; exit 1; }
line=$(echo "$out" | grep '^BenchmarkServerFleet')
metric() { echo "$line" | tr '\t' '\n' | awk -v m="$1" '$2 == m { print $1 }'; }
one=$(metric one_server_s) fleet=$(metric fleet_task_s) loop=$(metric module_loop_s) cli=$(metric cli_loop_s)
echo "nova_bm_server fleet of $FLEET_BENCH_N, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-40s %8s s\n' "one server, one task" "$one"
printf '  %-40s %8s s  (%.1fx one server)\n' "$FLEET_BENCH_N servers, one task (servers:)" "$fleet" "$(echo "$fleet / $one" | bc -l)"
printf '  %-40s %8s s  (fleet %.1fx faster)\n' "loop of the one-server task" "$loop" "$(echo "$loop / $fleet" | bc -l)"
[ -n "$cli" ] && printf '  %-40s %8s s  (fleet %.1fx faster)\n' "openstack server create --wait loop" "$cli" "$(echo "$cli / $fleet" | bc -l)"
