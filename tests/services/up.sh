#!/bin/bash
# Start real OpenStack services on 127.0.0.1 for the integration tests: Zed from Debian 12's packages (the
# default), or 2025.1 "Epoxy" from Debian 13's (RELEASE=2025.1: the same scripts, run in the Debian 13 root
# that root.sh builds and caches; Ironic inspects by itself there, so no ironic-inspector).
#
# Usage: tests/services/up.sh [all | LIST]          (make services-up SERVICES=...)
#   all (default)  keystone, bmc, ironic, inspector, glance, standalone (noauth ironic+glance), rabbitmq, neutron,
#                  placement, nova; then flavor 'baremetal' and network 'ctlplane'
#   LIST           comma list of: keystone ironic inspector glance bmc standalone rabbitmq mariadb neutron placement
#                  nova; dependencies are implied (nova => keystone rabbitmq placement neutron ironic glance bmc
#                  standalone inspector; ironic => keystone bmc standalone inspector; inspector => keystone ironic; glance => keystone standalone;
#                  neutron => keystone rabbitmq mariadb; placement => keystone mariadb). 'ironic,glance' is the light mode.
# Env: RELEASE=zed|2025.1 (default zed), SERVICES_DIR (default <repo>/build/services), NEUTRON=real|standin, ADMIN_PASSWORD, SERVICE_PASSWORD,
#      BMC_PORTS ("6230 6231 6232 6233"), BMC_USER, BMC_PASSWORD, SERVICES_DEBUG=true (debug logs).
# Idempotent: services already up are left alone; a rerun on a running stack only checks and reports.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
if [ "$RELEASE" = 2025.1 ] && [ -z "${IN_RELEASE_ROOT:-}" ]; then
  # the lane runs this same script inside the Debian 13 root (on this machine's loopback and PIDs)
  use_release 2025.1
  "$HERE/root.sh" build
  exec "$HERE/root.sh" run "$HERE/up.sh ${1:-all}"
fi
[ -n "${IN_RELEASE_ROOT:-}" ] || use_release zed
take_lock
T0=$(ms)
REQ=${1:-all}
# Real neutron-server is the default; NEUTRON=standin selects the in-memory stand-in (see README.md).
# Unset NEUTRON follows the Neutron already running in $SERVICES_DIR, if any.
if [ -z "${NEUTRON:-}" ]; then
  NEUTRON=real; alive "$SERVICES_DIR/neutron/neutron-standin.pid" && NEUTRON=standin
fi
export NEUTRON
case $NEUTRON in real|standin) ;; *) die "NEUTRON must be real or standin" ;; esac

# ---------------------------------------------------------------- which services
declare -A want=()
add() {
  local s=$1
  [ -n "${want[$s]:-}" ] && return 0
  want[$s]=1
  case $s in
    keystone|bmc|rabbitmq|mariadb) ;;
    standalone) add bmc ;;
    ironic)    add keystone; add bmc; add standalone; [ "$RELEASE" = zed ] && add inspector; true ;;
    inspector) [ "$RELEASE" = zed ] || die "ironic-inspector is gone from $RELEASE: Ironic inspects by itself"
               add keystone; add ironic ;;
    glance)    add keystone; add standalone ;;
    placement) add keystone; add mariadb ;;
    neutron)   add keystone; [ "$NEUTRON" = real ] && { add rabbitmq; add mariadb; }; true ;;
    nova)      add keystone; add rabbitmq; add placement; add neutron; add ironic; add glance ;;
    *) die "unknown service '$s' (keystone ironic inspector glance bmc standalone rabbitmq mariadb neutron placement nova, or all)" ;;
  esac
}
if [ "$REQ" = all ]; then
  add nova
else
  IFS=', ' read -r -a list <<< "$REQ"
  for s in "${list[@]}"; do [ -n "$s" ] && add "$s"; done
fi
has() { [ -n "${want[$1]:-}" ]; }
ORDER=(keystone bmc standalone ironic inspector glance rabbitmq mariadb neutron placement nova)
sel=(); for s in "${ORDER[@]}"; do has $s && sel+=("$s"); done
log "OpenStack $RELEASE services: ${sel[*]}$(has neutron && echo " (neutron: $NEUTRON)") in $SERVICES_DIR"

# ---------------------------------------------------------------- packages (one apt run for everything)
pkgs=(curl python3-openstackclient python3-ironicclient python3-keystoneclient)
has keystone   && pkgs+=(python3-keystone)
has bmc        && pkgs+=(python3-pyghmi ipmitool)
has ironic || has standalone && pkgs+=(python3-ironic ipmitool)
has inspector  && pkgs+=(python3-ironic-inspector python3-keystonemiddleware)
has glance || has standalone && pkgs+=(python3-glance python3-keystonemiddleware)
has rabbitmq   && pkgs+=(rabbitmq-server)
has neutron    && [ "$NEUTRON" = real ] && pkgs+=(python3-neutron)
has mariadb    && pkgs+=(mariadb-server python3-pymysql)
has placement  && pkgs+=(python3-placement)
has nova       && pkgs+=(python3-nova genisoimage)
apt_ensure "${pkgs[@]}"

# ---------------------------------------------------------------- start, in two parallel phases
pids_now() { { cat "$SERVICES_DIR"/*/*.pid 2>/dev/null || true; } | sort | tr '\n' ' '; }
PIDS_BEFORE=$(pids_now)
OUT=$SERVICES_DIR/up-logs; mkdir -p "$OUT"
declare -A jobpid=()
job() { # NAME CMD... : run in the background, output to $OUT/NAME.out
  local n=$1; shift
  "$@" >"$OUT/$n.out" 2>&1 &
  jobpid[$n]=$!
}
wait_jobs() {
  local n rc failed=()
  for n in "$@"; do
    rc=0; wait "${jobpid[$n]}" || rc=$?
    cat "$OUT/$n.out"
    [ $rc = 0 ] || failed+=("$n")
  done
  [ ${#failed[@]} = 0 ] || die "failed: ${failed[*]} (see the log tails above; full logs under $SERVICES_DIR)"
}
# phase 1: nothing here needs another service to answer yet
p1=()
has keystone   && { job keystone "$HERE/keystone.sh"; p1+=(keystone); }
has bmc        && { job bmc "$HERE/bmc.sh"; p1+=(bmc); }
has standalone && { job standalone-ironic "$HERE/ironic.sh" standalone; job standalone-glance "$HERE/glance.sh" standalone
                    p1+=(standalone-ironic standalone-glance); }
has ironic     && { job ironic "$HERE/ironic.sh" main; p1+=(ironic); }
# inspector needs Keystone and Ironic only when a request comes (token checks, node lookups): phase 1 too
has inspector  && { job inspector "$HERE/inspector.sh"; p1+=(inspector); }
has glance     && { job glance "$HERE/glance.sh" main; p1+=(glance); }
has rabbitmq   && { job rabbitmq "$HERE/rabbitmq.sh"; p1+=(rabbitmq); }
# schemas (nova-manage / placement-manage / neutron models) need no running service but MariaDB: overlap them
# with Keystone
schemas() {
  local pids=() p rc=0
  "$HERE/mariadb.sh" || return 1
  has nova && { "$HERE/nova.sh" --prepare-db & pids+=($!); }
  has neutron && [ "$NEUTRON" = real ] && { "$HERE/neutron.sh" --prepare-db & pids+=($!); }
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}
has mariadb    && { job databases schemas; p1+=(databases); }
[ ${#p1[@]} -gt 0 ] && wait_jobs "${p1[@]}"
# phase 2: needs Keystone's users/catalog and RabbitMQ
p2=()
has neutron && { job neutron "$HERE/neutron.sh"; p2+=(neutron); }
if has nova; then job nova "$HERE/nova.sh"; p2+=(nova)
elif has placement; then job placement "$HERE/nova.sh" --placement-only; p2+=(placement); fi
[ ${#p2[@]} -gt 0 ] && wait_jobs "${p2[@]}"

# ---------------------------------------------------------------- credentials files + cloud resources
has keystone && "$HERE/write-clouds.sh"
if has nova || has neutron; then
  # skipped on a rerun where nothing was (re)started and the last post-setup of this selection succeeded
  mark="$SERVICES_DIR/.post-setup-ok"; want_mark="$NEUTRON $(has nova && echo nova)"
  if [ "$(pids_now)" = "$PIDS_BEFORE" ] && [ "$(cat "$mark" 2>/dev/null)" = "$want_mark" ]; then
    log "flavor baremetal / network ctlplane already set up (nothing restarted)"
  else
    rm -f "$mark"
    ADMIN_PASSWORD=$ADMIN_PASSWORD NEUTRON=$NEUTRON WITH_NOVA=$(has nova && echo 1 || echo 0) \
      $PY "$HERE/post-setup.py" "$SERVICES_DIR" 2>&1 | sed 's/^/[services post-setup] /'
    [ "${PIPESTATUS[0]}" = 0 ] || die "post-setup (flavor/network) failed"
    echo "$want_mark" > "$mark"
  fi
fi
"$HERE/status.sh" --short || true
log "up in $(( ($(ms) - T0) / 1000 )).$(( ($(ms) - T0) % 1000 / 100 )) s"
if has keystone; then
cat <<EOF
Use it:
  export OS_CLIENT_CONFIG_FILE=$SERVICES_DIR/clouds.yaml
  export OS_CLOUD=local            # or local-appcred, local-standalone (noauth Ironic :$STANDALONE_IRONIC_PORT + Glance :$STANDALONE_GLANCE_PORT)
  # or: source $SERVICES_DIR/admin-openrc
Stop: tests/services/down.sh   (make services-down)
EOF
fi
