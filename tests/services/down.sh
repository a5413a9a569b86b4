#!/bin/bash
# Stop the loopback test services: only the PIDs recorded in $SERVICES_DIR/*/*.pid (and their own process
# groups, each service having been started in its own session). SIGTERM first, in dependency order
# (nova before its backends, keystone last), SIGKILL after STOP_GRACE seconds (default 15).
# Data (sqlite, images, config) stays in $SERVICES_DIR: the next up.sh is a warm start. rm -rf it for a cold one.
# The 2025.1 lane's processes run in its Debian 13 root but in this machine's PID namespace: they are
# stopped the same way, then its mounts are undone.
# Usage: tests/services/down.sh     (make services-down)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
take_lock
GRACE=${STOP_GRACE:-15}
S=$SERVICES_DIR
GROUPS_ORDER=(
  "nova/nova-api nova/nova-compute nova/nova-scheduler nova/nova-conductor"
  "placement/placement neutron/neutron-real neutron/neutron-standin ironic-inspector/ironic-inspector ironic/ironic glance/glance-api standalone-ironic/ironic standalone-glance/glance-api bmc/bmc"
  "rabbitmq/rabbitmq mariadb/mariadb"
  "rabbitmq/epmd keystone/keystone"
)
stopped=0
stop_group() {
  local f p pids=() names=() i left
  for f in "$@"; do
    f=$S/$f.pid
    [ -e "$f" ] || continue
    if alive "$f"; then
      p=$(pid_of "$f"); kill -TERM "$p" 2>/dev/null && { pids+=("$p"); names+=("$(basename "$(dirname "$f")")/$(basename "$f" .pid)"); }
    fi
  done
  [ ${#pids[@]} = 0 ] && return 0
  log "SIGTERM ${names[*]}"
  for i in $(seq $((GRACE * 5))); do
    left=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ $left = 0 ] && break; sleep 0.2
  done
  for i in "${!pids[@]}"; do
    p=${pids[$i]}
    if kill -0 "$p" 2>/dev/null; then
      log "${names[$i]} (pid $p) ignored SIGTERM for ${GRACE}s: SIGKILL to its process group"
      kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null
    fi
    # leftovers of its own process group (e.g. nova-api's worker, rabbit's beam children)
    pgrep -g "$p" >/dev/null 2>&1 && kill -KILL -- "-$p" 2>/dev/null
  done
  stopped=$((stopped + ${#pids[@]}))
}
t0=$(ms)
for g in "${GROUPS_ORDER[@]}"; do stop_group $g; done
# anything else with a pid file (a service added later) goes last
for f in "$S"/*/*.pid; do
  [ -e "$f" ] || continue
  rel=${f#$S/}; rel=${rel%.pid}
  case " ${GROUPS_ORDER[*]} " in *" $rel "*) ;; *) stop_group "$rel" ;; esac
done
rm -f "$S"/*/*.pid "$S"/*/*.pid.start
if [ "$(running_release)" != zed ] && [ -d "$RELEASE_ROOT/proc" ]; then
  # Every process whose root is the lane's root is one of ours (only up.sh enters it): none may outlive it.
  mapfile -t left < <(root_pids)
  if [ ${#left[@]} -gt 0 ]; then
    log "SIGKILL ${#left[@]} leftover process(es) of the $(running_release) root: ${left[*]}"
    kill -KILL "${left[@]}" 2>/dev/null || true
    sleep 0.5
  fi
  "$HERE/root.sh" umount
fi
log "stopped $stopped service(s) in $(( ($(ms) - t0) / 1000 )).$(( ($(ms) - t0) % 1000 / 100 )) s"
