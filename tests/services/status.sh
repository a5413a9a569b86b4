#!/bin/bash
# Report which loopback test services are running (from the pid files in $SERVICES_DIR) and whether they answer.
# Usage: status.sh [--short]     exit 0 when every service that has a pid file is alive
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
SHORT=${1:-}
bad=0
row() { # name pidfile probe-description probe-cmd...
  local name=$1 pf=$2 what=$3 st; shift 3
  [ -e "$pf" ] || return 0
  if ! alive "$pf"; then st="DEAD (stale pid file)"; bad=1
  elif "$@" >/dev/null 2>&1; then st="up"
  else st="NOT ANSWERING"; bad=1; fi
  [ "$SHORT" = --short ] && [ "$st" = up ] && { printf '%s ' "$name"; return 0; }
  printf '  %-19s pid %-7s %-22s %s\n' "$name" "$(pid_of "$pf")" "$what" "$st"
}
S=$SERVICES_DIR
[ "$SHORT" = --short ] && printf "[services %s] up (%s): " "$(date +%H:%M:%S)" "$(running_release)"
row keystone          $S/keystone/keystone.pid           "http :5000"            http_up $KEYSTONE_URL/v3
row ironic            $S/ironic/ironic.pid               "http :$IRONIC_PORT"             http_up http://127.0.0.1:$IRONIC_PORT/v1
row ironic-inspector  $S/ironic-inspector/ironic-inspector.pid "http :$INSPECTOR_PORT"  http_up http://127.0.0.1:$INSPECTOR_PORT/
row glance            $S/glance/glance-api.pid           "http :$GLANCE_PORT"             http_up http://127.0.0.1:$GLANCE_PORT/
row standalone-ironic $S/standalone-ironic/ironic.pid    "http :$STANDALONE_IRONIC_PORT noauth"  http_up http://127.0.0.1:$STANDALONE_IRONIC_PORT/v1
row standalone-glance $S/standalone-glance/glance-api.pid "http :$STANDALONE_GLANCE_PORT noauth" http_up http://127.0.0.1:$STANDALONE_GLANCE_PORT/
row bmc               $S/bmc/bmc.pid                     "udp ${BMC_PORTS// /,}" true
row epmd              $S/rabbitmq/epmd.pid               "tcp :$EPMD_PORT"             tcp_up $EPMD_PORT
row rabbitmq          $S/rabbitmq/rabbitmq.pid           "amqp :$RABBIT_PORT"            tcp_up $RABBIT_PORT
row neutron-server    $S/neutron/neutron-real.pid        "http :$NEUTRON_PORT (real)"     http_up http://127.0.0.1:$NEUTRON_PORT/
row neutron-STANDIN   $S/neutron/neutron-standin.pid     "http :$NEUTRON_PORT (stand-in)" http_up http://127.0.0.1:$NEUTRON_PORT/
row placement         $S/placement/placement.pid         "http :$PLACEMENT_PORT"             http_up http://127.0.0.1:$PLACEMENT_PORT/
row nova-api          $S/nova/nova-api.pid               "http :$NOVA_PORT"             http_up http://127.0.0.1:$NOVA_PORT/
row nova-conductor    $S/nova/nova-conductor.pid         "rpc"                   true
row nova-scheduler    $S/nova/nova-scheduler.pid         "rpc"                   true
row nova-compute      $S/nova/nova-compute.pid           "rpc (ironic driver)"   true
[ "$SHORT" = --short ] && echo
if [ "$SHORT" != --short ] && [ -e "$S/clouds.yaml" ]; then
  echo "  clouds: $S/clouds.yaml (local, local-appcred, local-standalone); admin-openrc: $S/admin-openrc"
fi
exit $bad
