#!/bin/bash
# RSS and CPU of every loopback test service ($SERVICES_DIR/*/*.pid, with all the processes of its process
# group: nova-api's worker, neutron's rpc/periodic workers, rabbit's beam) over a window of N seconds.
# Usage: tests/services/measure.sh [SECONDS]     (default 30; CPU is % of one core, averaged over the window)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
S=${1:-30}; HZ=$(getconf CLK_TCK)
declare -A name=(); pids=()
for f in "$SERVICES_DIR"/*/*.pid; do
  alive "$f" || continue
  p=$(pid_of "$f"); n=$(basename "$(dirname "$f")")/$(basename "$f" .pid)
  for q in $p $(pgrep -g "$p" | grep -vx "$p"); do
    [ -n "${name[$q]:-}" ] && continue
    pids+=("$q"); name[$q]="$n$([ "$q" != "$p" ] && echo " ($(tr -d '\0' < /proc/$q/comm 2>/dev/null))")"
  done
done
[ ${#pids[@]} = 0 ] && die "no running service under $SERVICES_DIR"
cpu() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
declare -A c0=(); for p in "${pids[@]}"; do c0[$p]=$(cpu "$p"); done
sleep "$S"
tot_rss=0; tot_cpu=0
printf '%-44s %7s %8s %7s\n' process pid RSS_MiB cpu_%
for p in "${pids[@]}"; do
  r=$(( $(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0) / 1024 ))
  c=$(( ( $(cpu "$p") - ${c0[$p]} ) * 1000 / HZ / S ))   # per mille of one core
  tot_rss=$((tot_rss + r)); tot_cpu=$((tot_cpu + c))
  printf '%-44s %7s %8s %5d.%d\n' "${name[$p]}" "$p" "$r" $((c / 10)) $((c % 10))
done
printf '%-44s %7s %8s %5d.%d   (%s processes, %ss window, load %s)\n' TOTAL - "$tot_rss" $((tot_cpu / 10)) $((tot_cpu % 10)) \
  "${#pids[@]}" "$S" "$(cut -d' ' -f1-3 /proc/loadavg)"
