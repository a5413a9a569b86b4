#!/bin/bash
# Networking API on 127.0.0.1:9696 for Nova.
#   NEUTRON=real     Debian 12's real neutron-server (python3-neutron 21, Zed): ML2, flat type driver, MariaDB,
#                    keystone auth, RabbitMQ, and the agentless in-repo mechanism driver neutron/metalkit_ml2.py
#                    (Debian has no networking-baremetal). Creates the shared flat network 'ctlplane'.
#   NEUTRON=standin  neutron-standin.py: an in-memory Neutron API STAND-IN (not a real Neutron).
# Usage: neutron.sh [--prepare-db]     (state in $SERVICES_DIR/neutron; default NEUTRON=real)
#   --prepare-db  real Neutron only: write the config and create the schema (needs mariadb.sh), start nothing
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
MODE=${1:-}
D=$SERVICES_DIR/neutron; mkdir -p "$D"; chmod 700 "$D"
NEUTRON=${NEUTRON:-${NEUTRON_DEFAULT:-real}}
URL=http://127.0.0.1:$NEUTRON_PORT

running_kind() { for k in real standin; do alive "$D/neutron-$k.pid" && { echo $k; return; }; done; echo none; }
cur=$(running_kind)
if [ "$cur" != none ] && [ "$cur" != "$NEUTRON" ]; then
  die "a Neutron '$cur' is running but NEUTRON=$NEUTRON was asked: run down.sh first"
fi

if [ "$NEUTRON" = standin ]; then
  [ "$MODE" = --prepare-db ] && exit 0
  if alive "$D/neutron-standin.pid" && http_up $URL/; then
    log "Neutron STAND-IN already running (pid $(pid_of "$D/neutron-standin.pid")) on :$NEUTRON_PORT"; exit 0
  fi
  start_bg "$D/neutron-standin.pid" "$D/neutron-standin.log" $PY "$HERE/neutron-standin.py" $NEUTRON_PORT
  wait_http $URL/ 30 "$D/neutron-standin.pid" || fail "Neutron stand-in" "$D/neutron-standin.log"
  log "Neutron STAND-IN (in-memory API, not a real Neutron) on :$NEUTRON_PORT, network ctlplane"
  exit 0
fi

# ------------------------------------------------------------------ real neutron-server
apt_ensure python3-neutron python3-keystonemiddleware curl
{
  # python3-neutron ships no api-paste.ini (neutron-common has it, with osprofiler): a minimal one
  cat > "$D/api-paste.ini" <<'INI'
[composite:neutron]
use = egg:Paste#urlmap
/: neutronversions_composite
/v2.0: neutronapi_v2_0
[composite:neutronapi_v2_0]
use = call:neutron.auth:pipeline_factory
keystone = cors http_proxy_to_wsgi request_id catch_errors authtoken keystonecontext extensions neutronapiapp_v2_0
[composite:neutronversions_composite]
use = call:neutron.auth:pipeline_factory
keystone = cors http_proxy_to_wsgi neutronversions
[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory
[filter:catch_errors]
paste.filter_factory = oslo_middleware:CatchErrors.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = neutron
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:keystonecontext]
paste.filter_factory = neutron.auth:NeutronKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
[filter:extensions]
paste.filter_factory = neutron.api.extensions:plugin_aware_extension_middleware_factory
[app:neutronversions]
paste.app_factory = neutron.pecan_wsgi.app:versions_factory
[app:neutronapiapp_v2_0]
paste.app_factory = neutron.api.v2.router:APIRouter.factory
INI
  { cat <<CONF
[DEFAULT]
api_paste_config = $D/api-paste.ini
bind_host = 127.0.0.1
bind_port = $NEUTRON_PORT
debug = ${SERVICES_DEBUG:-false}
log_dir = $D
log_file = neutron-server.log
state_path = $D
core_plugin = ml2
service_plugins =
auth_strategy = keystone
transport_url = rabbit://guest:guest@127.0.0.1:$RABBIT_PORT/
# API and RPC served from the one process (0 = in-process, no forked workers). Neutron 26 (2025.1) wants at
# least 1 API worker: one forked process, in the server's process group (down.sh stops both).
api_workers = $([ "$RELEASE" = zed ] && echo 0 || echo 1)
rpc_workers = 0
rpc_state_report_workers = 0
allow_overlapping_ips = true
dhcp_agent_notification = false
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true

[database]
connection = $(mysql_url neutron)

[oslo_concurrency]
lock_path = $D/lock

[ml2]
type_drivers = flat,local
tenant_network_types = local
mechanism_drivers = metalkit_baremetal
extension_drivers = port_security

[ml2_type_flat]
flat_networks = *

[securitygroup]
enable_security_group = false
CONF
  authsec keystone_authtoken neutron; echo "www_authenticate_uri = $KEYSTONE_URL"
  authsec nova nova | sed 's/^region_name/region_name/'
  } > "$D/neutron.conf"
  mkdir -p "$D/lock"
  # the mechanism driver's entry point is declared by the dist-info next to it
  export PYTHONPATH=$HERE/neutron${PYTHONPATH:+:$PYTHONPATH}
  if [ ! -e "$D/.db-ready-mariadb" ]; then
    rm -f "$D"/neutron.sqlite* "$D/.db-ready"   # left by a run dir of the sqlite days
    fresh_db neutron || fail "neutron database" "$SERVICES_DIR/mariadb/error.log"
    # the schema from the models (as Neutron's own unit tests build theirs: seconds, where the ~300 alembic
    # migrations take minutes), then the heads stamped
    $PY "$HERE/neutron/create_schema.py" "$D/neutron.conf" >>"$D/dbsync.log" 2>&1 || fail "neutron schema from models" "$D/dbsync.log"
    $PY -c 'import sys; sys.argv[0]="neutron-db-manage"; from neutron.db.migration.cli import main; sys.exit(main())' \
      --config-file "$D/neutron.conf" stamp heads >>"$D/dbsync.log" 2>&1 || fail "neutron-db-manage stamp heads" "$D/dbsync.log"
    touch "$D/.db-ready-mariadb"
  fi
}
[ "$MODE" = --prepare-db ] && { log "neutron database ready"; exit 0; }
if alive "$D/neutron-real.pid" && http_up $URL/; then
  log "neutron-server already running (pid $(pid_of "$D/neutron-real.pid")) on :$NEUTRON_PORT"
else
  start_bg "$D/neutron-real.pid" "$D/stdout.log" $PY -c 'import sys; sys.argv[0]="neutron-server"; from neutron.cmd.eventlet.server import main; main()' \
    --config-file "$D/neutron.conf"
  wait_http $URL/ 120 "$D/neutron-real.pid" || fail neutron-server "$D/neutron-server.log" "$D/stdout.log"
fi
