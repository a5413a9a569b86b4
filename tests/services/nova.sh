#!/bin/bash
# Placement + Nova Zed (Debian 12 python3-placement 8.x, python3-nova 26.x) with the Ironic virt driver:
#   placement-api   127.0.0.1:8778 (threaded wsgi-serve.py)
#   nova-api        127.0.0.1:8774 (osapi_compute only, 1 worker), nova-conductor, nova-scheduler,
#   nova-compute    (compute_driver=ironic.IronicDriver, host metalkit-compute)
# MariaDB (mariadb.sh, unix socket) for nova_api, nova_cell0, nova_cell1 and placement, RabbitMQ on loopback,
# Keystone auth.
# Requires mariadb.sh, keystone.sh, rabbitmq.sh, ironic.sh main, glance.sh main and neutron.sh to be up.
# Usage: nova.sh [--prepare-db | --placement-only]   (state in $SERVICES_DIR/nova and $SERVICES_DIR/placement)
#   --prepare-db      write the configs and create the schemas only (needs mariadb.sh only)
#   --placement-only  placement without nova
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
MODE=${1:-}
D=$SERVICES_DIR/nova; P=$SERVICES_DIR/placement; mkdir -p "$D"/{lock,instances} "$P"; chmod 700 "$D" "$P"
# genisoimage: nova builds the config-drive ISO with it (mkisofs_cmd)
apt_ensure python3-nova python3-placement genisoimage curl

# ---------------------------------------------------------------- placement: config + schema
{ cat <<CONF
[DEFAULT]
debug = ${SERVICES_DEBUG:-false}
log_dir = $P
log_file = placement.log

[api]
auth_strategy = keystone

[placement_database]
connection = $(mysql_url placement)
CONF
  authsec keystone_authtoken placement; echo "www_authenticate_uri = $KEYSTONE_URL"; } > "$P/placement.conf"
if [ ! -e "$P/.db-ready-mariadb" ]; then
  fresh_db placement || fail "placement database" "$SERVICES_DIR/mariadb/error.log"
  placement-manage --config-file "$P/placement.conf" db sync >>"$P/dbsync.log" 2>&1 || fail "placement db sync" "$P/dbsync.log"
  touch "$P/.db-ready-mariadb"
fi
start_placement() {
  if alive "$P/placement.pid" && http_up http://127.0.0.1:$PLACEMENT_PORT/; then
    log "placement already running (pid $(pid_of "$P/placement.pid")) on :$PLACEMENT_PORT"; return
  fi
  OS_PLACEMENT_CONFIG_DIR=$P start_bg "$P/placement.pid" "$P/stdout.log" \
    $PY "$HERE/wsgi-serve.py" placement $PLACEMENT_PORT -- --config-file "$P/placement.conf"
  wait_http http://127.0.0.1:$PLACEMENT_PORT/ 90 "$P/placement.pid" || fail placement "$P/placement.log" "$P/stdout.log"
}
if [ "$MODE" = --placement-only ]; then start_placement; exit 0; fi

# ---------------------------------------------------------------- nova: config + schema
cat > "$D/api-paste.ini" <<'INI'
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2.1: oscomputeversion_v2
/v2.1/+: openstack_compute_api_v21
[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = cors http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit authtoken keystonecontext osapi_compute_app_v21
[filter:request_log]
paste.filter_factory = nova.api.openstack.requestlog:RequestLog.factory
[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory
[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory
[pipeline:oscomputeversions]
pipeline = cors faultwrap request_log http_proxy_to_wsgi oscomputeversionapp
[pipeline:oscomputeversion_v2]
pipeline = cors compute_req_id faultwrap request_log http_proxy_to_wsgi oscomputeversionapp_v2
[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory
[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = nova
[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
INI
{ cat <<CONF
[DEFAULT]
host = metalkit-compute
my_ip = 127.0.0.1
debug = ${SERVICES_DEBUG:-false}
state_path = $D
instances_path = $D/instances
log_dir = $D
transport_url = rabbit://guest:guest@127.0.0.1:$RABBIT_PORT/
compute_driver = ironic.IronicDriver
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = $NOVA_PORT
osapi_compute_workers = 1
reserved_host_memory_mb = 0
reserved_host_disk_mb = 0
mkisofs_cmd = genisoimage
# one compute host manages every Ironic node; pick up node changes every 10 s (default 60)
update_resources_interval = 10
# No power-state sync: a fake-hardware node's deploy leaves its (fake) power off, and the sync, every 10
# minutes, stops an ACTIVE server whose node says off ("Instance shutdown by itself. Calling the stop API"):
# a test that happens to span it finds its server SHUTOFF (seen in the fault matrix).
sync_power_state_interval = -1

[api]
auth_strategy = keystone

[wsgi]
api_paste_config = $D/api-paste.ini

[api_database]
connection = $(mysql_url nova_api)

[database]
connection = $(mysql_url nova_cell1)

[conductor]
workers = 1

# The test bed's one project boots fleets (tests/integration/fleet_test.go,
# tests/bench/fleet.sh) while other tests hold servers: Nova's default of 10
# instances would refuse them ("Quota exceeded for instances").
[quota]
instances = 200
cores = 2000
ram = 4096000

[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5

[oslo_concurrency]
lock_path = $D/lock

[glance]
api_servers = http://127.0.0.1:$GLANCE_PORT

# [compute] resource_provider_association_refresh stays at its default (300 s): at 5 s (the reference's value)
# nova-compute re-reads traits/aggregates of EVERY node's provider every cycle, which with a few hundred
# leftover test nodes kept Placement and nova-compute busy and delayed new nodes by minutes.
CONF
authsec keystone_authtoken nova; echo "www_authenticate_uri = $KEYSTONE_URL"
authsec placement placement
authsec ironic ironic; printf 'api_max_retries = 30\napi_retry_interval = 1\n'
authsec neutron neutron
authsec service_user nova; echo "send_service_user_token = false"
} > "$D/nova.conf"

NM() { $PY -c 'import sys; sys.argv[0]="nova-manage"; from nova.cmd.manage import main; sys.exit(main())' \
         --config-file "$D/nova.conf" "$@" >>"$D/manage.log" 2>&1; }
if [ ! -e "$D/.db-ready-mariadb" ]; then
  for db in nova_api nova_cell0 nova_cell1; do fresh_db $db || fail "nova database $db" "$SERVICES_DIR/mariadb/error.log"; done
  rm -f "$D"/nova_*.sqlite* "$D/.db-ready" "$D/.host-mapped"   # left by a run dir of the sqlite days
  NM api_db sync || fail "nova-manage api_db sync" "$D/manage.log"
  NM cell_v2 map_cell0 --database_connection "$(mysql_url nova_cell0)" || fail "nova-manage cell_v2 map_cell0" "$D/manage.log"
  NM cell_v2 create_cell --name cell1 || fail "nova-manage cell_v2 create_cell" "$D/manage.log"
  NM db sync || fail "nova-manage db sync" "$D/manage.log"
  touch "$D/.db-ready-mariadb"
fi
[ "$MODE" = --prepare-db ] && { log "nova and placement databases ready"; exit 0; }

# ---------------------------------------------------------------- start
start_placement
started=0
nova_svc() { # name module
  if alive "$D/$1.pid"; then log "$1 already running (pid $(pid_of "$D/$1.pid"))"; return; fi
  start_bg "$D/$1.pid" "$D/$1.stdout.log" $PY -c "import sys; sys.argv[0]='$1'; from nova.cmd.$2 import main; main()" \
    --config-file "$D/nova.conf" --log-file "$D/$1.log"
  started=1
}
nova_svc nova-conductor conductor
nova_svc nova-scheduler scheduler
nova_svc nova-compute compute
nova_svc nova-api api
wait_http http://127.0.0.1:$NOVA_PORT/ 120 "$D/nova-api.pid" || fail nova-api "$D/nova-api.log" "$D/nova-api.stdout.log"
for s in nova-conductor nova-scheduler nova-compute; do alive "$D/$s.pid" || fail "$s" "$D/$s.log" "$D/$s.stdout.log"; done

# Map the compute host to cell1 as soon as nova-compute has registered its service row: the scheduler's
# periodic discovery would only do it once the first Ironic node exists, and a first boot would race it.
t0=$(ms)
until [ -n "$(mariadb_sql "select 1 from nova_cell1.services where topic='compute' and host='metalkit-compute' and deleted=0" 2>/dev/null)" ]; do
  alive "$D/nova-compute.pid" || fail nova-compute "$D/nova-compute.log" "$D/nova-compute.stdout.log"
  [ $(( $(ms) - t0 )) -gt 120000 ] && fail "nova-compute (no service registration after 120 s)" "$D/nova-compute.log"
  sleep 0.5
done
if [ ! -e "$D/.host-mapped" ] || [ $started = 1 ]; then
  NM cell_v2 discover_hosts --by-service || fail "nova-manage cell_v2 discover_hosts" "$D/manage.log"
  touch "$D/.host-mapped"
fi
log "nova up (compute host metalkit-compute mapped to cell1)"
