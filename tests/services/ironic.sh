#!/bin/bash
# Ironic Zed (Debian 12 python3-ironic 21.4) as ONE process (`ironic` single-process command: API + conductor,
# rpc_transport=none, sqlite), hardware types fake-hardware, ipmi, redfish and idrac.
# Usage: ironic.sh main        keystone auth, 127.0.0.1:6385, state in $SERVICES_DIR/ironic
#        ironic.sh standalone  noauth (bifrost style), 127.0.0.1:$STANDALONE_IRONIC_PORT (6388),
#                              state in $SERVICES_DIR/standalone-ironic
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
MODE=${1:-main}
case $MODE in
  main)       D=$SERVICES_DIR/ironic;            PORT=$IRONIC_PORT;            AUTH=keystone; HOST=metalkit-conductor ;;
  standalone) D=$SERVICES_DIR/standalone-ironic; PORT=$STANDALONE_IRONIC_PORT; AUTH=noauth;   HOST=metalkit-standalone-conductor ;;
  *) die "usage: ironic.sh main|standalone" ;;
esac
mkdir -p "$D"; chmod 700 "$D"
# Main Ironic: `inspector` is enabled too (ironic-inspector on :$INSPECTOR_PORT, inspector.sh). No
# default_inspect_interface: each hardware type takes its first supported enabled one, so fake-hardware nodes
# keep `fake` (inspect finishes at once); ipmi/redfish nodes get `inspector`, as on an undercloud (see README.md).
# A fake-hardware node asks for inspector with inspect_interface=inspector. The standalone Ironic has none.
# 2025.1 (Ironic 29): ironic-inspector is gone; Ironic inspects by itself with the `agent` interface (the ramdisk
# posts its inventory to /v1/continue_inspection) and keeps the inventory (GET /v1/nodes/{node}/inventory).
# The idrac type is Redfish only there: idrac-wsman no longer exists. Ironic 29 also enforces its scoped policies:
# a project-scoped token sees only its project's nodes, so Nova's ironic user (project service, role service)
# found none to report to Placement; RBAC lets the service role in project 'service' see every node, as the
# deployment guides set it for Nova.
MAIN_INSPECT=inspector IDRAC_IFACES=idrac-wsman,idrac-redfish RBAC=
if [ "$RELEASE" = 2025.1 ]; then
  MAIN_INSPECT=agent IDRAC_IFACES=idrac-redfish RBAC='rbac_service_role_elevated_access = true'
fi
# Metal mode (the 2025.1 main Ironic): it also manages the emulated bare metal of tests/metal (qemu VMs behind
# IPMI BMCs on 127.0.0.1), which really PXE-boot: boot interface ipxe, images from metal-http.py. See
# tests/metal/IRONIC-NOTES.md for why each setting is what it is.
METAL=; [ "$RELEASE" = 2025.1 ] && [ "$MODE" = main ] && METAL=1
BOOT_IFACES=fake,pxe; [ -n "$METAL" ] && BOOT_IFACES=fake,pxe,ipxe
INSPECT_IFACES=fake,no-inspect; [ "$MODE" = main ] && INSPECT_IFACES=fake,$MAIN_INSPECT,no-inspect
NAME=$(basename "$D")
CALLBACK_TIMEOUT=300; [ -n "$METAL" ] && CALLBACK_TIMEOUT=900

# ipmitool: without it the ipmi hardware type refuses to load and the whole service dies at startup
apt_ensure python3-ironic ipmitool curl

if alive "$D/ironic.pid" && http_up http://127.0.0.1:$PORT/v1; then
  log "$NAME already running (pid $(pid_of "$D/ironic.pid")) on :$PORT ($AUTH)"; exit 0
fi

{ cat <<CONF
[DEFAULT]
auth_strategy = $AUTH
$RBAC
rpc_transport = none
host = $HOST
debug = ${SERVICES_DEBUG:-false}
log_dir = $D
log_file = ironic.log
# redfish and idrac are enabled so such nodes can be enrolled and pass validate for power (they stay in
# enroll here: there is no Redfish BMC emulator in Debian (no sushy-tools), and nothing may contact an address
# outside 127.0.0.1). idrac: idrac-wsman is Zed's default (listed first by the type; reads drac_*), idrac-redfish
# what current Ironic's Redfish-only idrac type uses (reads redfish_*); a node picks one with power_interface.
enabled_hardware_types = fake-hardware,ipmi,redfish,idrac
enabled_bios_interfaces = fake,no-bios
enabled_boot_interfaces = $BOOT_IFACES
enabled_console_interfaces = fake,no-console
enabled_deploy_interfaces = fake,direct
enabled_inspect_interfaces = $INSPECT_IFACES
enabled_management_interfaces = fake,ipmitool,redfish,$IDRAC_IFACES
enabled_network_interfaces = noop
default_network_interface = noop
enabled_power_interfaces = fake,ipmitool,redfish,$IDRAC_IFACES
enabled_raid_interfaces = fake,no-raid
enabled_rescue_interfaces = fake,no-rescue
enabled_storage_interfaces = fake,noop
enabled_vendor_interfaces = fake,no-vendor,ipmitool

[api]
host_ip = 127.0.0.1
port = $PORT

[database]
connection = sqlite:///$D/ironic.sqlite?timeout=30

[dhcp]
dhcp_provider = none

[conductor]
# Automated cleaning stays ON (Ironic's default, what an undercloud does): fake-hardware nodes go
# manageable -> cleaning -> available in ~0.2 s (fake clean steps), so provide flows see the real state machine.
# ipmi nodes have no deploy ramdisk here: enroll them with the node field automated_clean=false, else provide
# ends in "clean failed" (Missing are: ['deploy_kernel', 'deploy_ramdisk']). See README.md.
automated_clean = true
# power state sync against the BMC emulator every 10 s instead of 60 s
sync_power_state_interval = 10
# fail fast in tests instead of waiting 30 min for a callback that never comes (metal mode: a TCG guest
# needs 1 to 2 min from power on to IPA's first heartbeat, more on a busy host)
deploy_callback_timeout = $CALLBACK_TIMEOUT
clean_callback_timeout = $CALLBACK_TIMEOUT

[ipmi]
# defaults are a 60 s retry window and 5 s between commands: far too slow for tests
command_retry_timeout = 10
min_command_interval = 1

[service_catalog]
# URL handed to the (never booted) agent; without it ipmi cleaning/deploy fails with
# "Couldn't get the URL of the Ironic API service from the configuration file or keystone catalog"
endpoint_override = http://127.0.0.1:$PORT
CONF
if [ "$AUTH" = keystone ]; then
  authsec keystone_authtoken ironic; echo "www_authenticate_uri = $KEYSTONE_URL"
  authsec service_catalog ironic | sed 1,2d   # continues the [service_catalog] section above
  authsec nova ironic; echo "send_power_notifications = true"
  authsec glance ironic
  if [ "$RELEASE" = 2025.1 ]; then cat <<INSP

[inspector]
# built-in inspection: the node is powered on and Ironic waits for the ramdisk's callback. No boot files exist
# here (nothing ever PXE-boots), so it is not booted by Ironic (unmanaged, as with ironic-inspector on Zed).
require_managed_boot = false
# the ramdisk (the test) finds the API here
callback_endpoint_override = http://127.0.0.1:$PORT
# the defaults, plus what ironic-inspector's processing gave an undercloud: memory_mb, local_gb (the root disk
# less 1 GiB) and the cpu_* capabilities; no hook of Ironic 29 sets cpus
hooks = \$default_hooks,memory,root-device,cpu-capabilities
INSP
  else
  # ironic-inspector, found in the catalog (type baremetal-introspection, http://127.0.0.1:$INSPECTOR_PORT)
  authsec inspector ironic
  cat <<INSP
# ask inspector for finished introspections every 2 s instead of 60 s
status_check_period = 2

[inventory]
# Keep no copy of the introspection data in Ironic (Ironic 21.4 would, API 1.81): like the OSP 17 (Wallaby)
# Ironic, the stored data is then only ironic-inspector's, GET /v1/introspection/<uuid>/data, and that is
# the path ironic_introspect's introspection_data has to take (tests/integration/introspect_test.go).
data_backend = none
INSP
  fi
else
  printf '\n[nova]\nsend_power_notifications = false\n'
fi
[ -z "$METAL" ] || cat <<METALCONF

[deploy]
# what the guests fetch (qemu's NAT shows the host's 127.0.0.1 as 10.0.2.2) and where the conductor writes it
http_url = http://10.0.2.2:$METAL_HTTP_PORT
http_root = $D/httpboot
# a cleaned metal node is never shredded under TCG (IPA's erase_devices_metadata still runs)
erase_devices_priority = 0

[pxe]
tftp_root = $D/tftpboot
tftp_master_path = $D/tftpboot/master_images
images_path = $D/images
instance_master_path = $D/master_images
kernel_append_params = nofb vga=normal console=ttyS0,115200n8

[agent]
certificates_path = $D/certificates
deploy_logs_collect = on_failure
deploy_logs_local_path = $D/deploy-logs
# after the image is written IPA powers the guest off itself; give a TCG guest 2 min before a hard off
post_deploy_get_power_state_retries = 24
command_timeout = 120

[api]
ramdisk_heartbeat_timeout = 60

[conductor]
inspect_wait_timeout = 1200
# the IPA ramdisk (build/metal) is given as file:// URLs in driver_info
file_url_allowed_paths = /var/lib/ironic,$REPO_ROOT/build/metal
METALCONF
} > "$D/ironic.conf"

if [ ! -s "$D/ironic.sqlite" ]; then
  $PY -c 'import sys; sys.argv[0]="ironic-dbsync"; from ironic.cmd.dbsync import main; main()' \
    --config-file "$D/ironic.conf" create_schema >>"$D/dbsync.log" 2>&1 || fail "$NAME dbsync" "$D/dbsync.log"
  wal "$D/ironic.sqlite"
fi
if [ -n "$METAL" ]; then
  mkdir -p "$D"/{httpboot,tftpboot/master_images,images,master_images,certificates,deploy-logs}
  if ! alive "$D/metal-http.pid"; then
    start_bg "$D/metal-http.pid" "$D/metal-http.log" $PY "$HERE/metal-http.py" "$D/httpboot" "$METAL_HTTP_PORT"
  fi
  # The conductor's HEAD check of http_url/agent_images/<node> (10.0.2.2, the guests' name for the host) goes to
  # metal-http.py as a proxy request; every other call Ironic makes is to 127.0.0.1 and goes direct.
  export http_proxy=http://127.0.0.1:$METAL_HTTP_PORT HTTP_PROXY=http://127.0.0.1:$METAL_HTTP_PORT
  export no_proxy=127.0.0.1,localhost,::1 NO_PROXY=127.0.0.1,localhost,::1
fi
start_bg "$D/ironic.pid" "$D/stdout.log" $PY -c 'import sys; sys.argv[0]="ironic"; from ironic.cmd.singleprocess import main; main()' \
  --config-file "$D/ironic.conf"
wait_http http://127.0.0.1:$PORT/v1 90 "$D/ironic.pid" || fail "$NAME" "$D/ironic.log" "$D/stdout.log"
