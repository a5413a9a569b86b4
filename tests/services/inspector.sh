#!/bin/bash
# ironic-inspector (Debian 12 python3-ironic-inspector 11.1, Zed) on 127.0.0.1:5050: ONE process in standalone
# mode (API + conductor, in-process `fake://` RPC), keystone auth, sqlite, introspection data stored in the
# database, PXE filter `noop` (no dnsmasq, no iptables: nothing here ever PXE-boots). Ironic's `inspector` inspect
# interface talks to it; the "ramdisk" is the test itself, POSTing an inventory to /v1/continue.
# The Debian package `ironic-inspector` (systemd unit, dbconfig) is NOT installed: the library package ships the
# entry points and we run them ourselves, like the other services.
# Usage: inspector.sh            (state in $SERVICES_DIR/ironic-inspector)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
D=$SERVICES_DIR/ironic-inspector; mkdir -p "$D/coordination"; chmod 700 "$D"
PORT=$INSPECTOR_PORT

apt_ensure python3-ironic-inspector python3-keystonemiddleware curl

if alive "$D/ironic-inspector.pid" && http_up http://127.0.0.1:$PORT/; then
  log "ironic-inspector already running (pid $(pid_of "$D/ironic-inspector.pid")) on :$PORT (keystone)"; exit 0
fi

{ cat <<CONF
[DEFAULT]
auth_strategy = keystone
# API and conductor in one process; RPC between them through oslo.messaging's in-process fake driver
standalone = true
transport_url = fake://
listen_address = 127.0.0.1
listen_port = $PORT
host = metalkit-inspector
debug = ${SERVICES_DEBUG:-false}
log_dir = $D
log_file = ironic-inspector.log
# default 5 s between two nodes' power-ons; tests introspect fake-hardware nodes
introspection_delay = 0
# an introspection whose ramdisk never calls back fails after 15 min (default 1 h)
timeout = 900

[database]
connection = sqlite:///$D/inspector.sqlite?timeout=30

[coordination]
# default memcached://localhost:11211 (none here); the tooz file driver is local and needs nothing
backend_url = file://$D/coordination

[pxe_filter]
driver = noop

[processing]
store_data = database
# default hooks: ramdisk_error, root_disk_selection, scheduler, validate_interfaces, capabilities, pci_devices
ramdisk_logs_dir = $D/ramdisk-logs
CONF
authsec keystone_authtoken ironic-inspector; echo "www_authenticate_uri = $KEYSTONE_URL"
# Ironic is found in the Keystone catalog (type baremetal), as on an undercloud
authsec ironic ironic-inspector
} > "$D/inspector.conf"
mkdir -p "$D/ramdisk-logs"

if [ ! -s "$D/inspector.sqlite" ]; then
  $PY -c 'import sys; sys.argv[0]="ironic-inspector-dbsync"; from ironic_inspector.cmd.dbsync import main; sys.exit(main())' \
    --config-file "$D/inspector.conf" upgrade >>"$D/dbsync.log" 2>&1 || fail "ironic-inspector dbsync" "$D/dbsync.log"
  wal "$D/inspector.sqlite"
fi
start_bg "$D/ironic-inspector.pid" "$D/stdout.log" $PY -c 'import sys; sys.argv[0]="ironic-inspector"; from ironic_inspector.cmd.all import main; sys.exit(main())' \
  --config-file "$D/inspector.conf"
# GET / answers 200 with the version list (public)
wait_http http://127.0.0.1:$PORT/ 90 "$D/ironic-inspector.pid" || fail ironic-inspector "$D/ironic-inspector.log" "$D/stdout.log"
