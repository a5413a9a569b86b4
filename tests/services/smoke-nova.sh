#!/bin/bash
# Proof that the loopback stack boots a Nova bare-metal server through the real scheduler, with the
# `openstack` CLI only (python3-openstackclient): enroll a fake-hardware node (manage -> provide, power off,
# resource_class baremetal), upload a small qcow2, `server create --flavor baremetal --config-drive true
# --user-data ... --nic net-id=<ctlplane> --wait`, check ACTIVE + the node's instance_uuid + the user data
# inside the config-drive ISO Ironic got, delete, node back to 'available'. Prints timings; always cleans up.
# Usage: tests/services/smoke-nova.sh        (stack from `up.sh all`; OS_CLOUD defaults to local)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
export OS_CLIENT_CONFIG_FILE=$SERVICES_DIR/clouds.yaml OS_CLOUD=${OS_CLOUD:-local}
[ -s "$OS_CLIENT_CONFIG_FILE" ] || die "no $OS_CLIENT_CONFIG_FILE: run tests/services/up.sh all first"
W=$(mktemp -d "$SERVICES_DIR/smoke.XXXXXX")
N=smoke-$(date +%s)-$RANDOM
NODE= IMG= SRV=
step_t=$(ms); TOTAL_T=$(ms)
lap() { local now; now=$(ms); printf '[smoke %6d ms] %s\n' $((now - step_t)) "$*"; step_t=$now; }
os() { openstack "$@"; }
# fields KIND... -- KEYS... : `openstack KIND... -f json`, print the KEYS' values space separated, in order
fields() {
  local a=() ; while [ "$1" != -- ]; do a+=("$1"); shift; done; shift
  os "${a[@]}" -f json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(str(d.get(k)).replace(" ", "") for k in sys.argv[1:]))' "$@"
}
cleanup() {
  local rc=$?
  set +e
  [ -n "$SRV" ] && os server show "$SRV" >/dev/null 2>&1 && { os server delete --wait "$SRV" >/dev/null 2>&1; echo "cleanup: server deleted"; }
  if [ -n "$NODE" ] && os baremetal node show "$NODE" >/dev/null 2>&1; then
    # never delete a node that still carries an instance: undeploy it first
    case $(os baremetal node show "$NODE" -f value -c provision_state) in
      active|deploy*|wait*) os baremetal node undeploy --wait 60 "$NODE" >/dev/null 2>&1 ;;
    esac
    if [ -z "$(os baremetal node show "$NODE" -f value -c instance_uuid | grep -v None)" ]; then
      os baremetal node delete "$NODE" >/dev/null 2>&1 \
        || { os baremetal node maintenance set "$NODE" >/dev/null 2>&1; os baremetal node delete "$NODE" >/dev/null 2>&1; } \
        && echo "cleanup: node $N deleted"
    else
      echo "cleanup: node $N ($NODE) still has an instance: left in place" >&2
    fi
  fi
  [ -n "$IMG" ] && os image delete "$IMG" >/dev/null 2>&1 && echo "cleanup: image deleted"
  rm -rf "$W"
  [ $rc = 0 ] && echo "SMOKE OK in $(( ($(ms) - TOTAL_T) / 1000 )) s" || echo "SMOKE FAILED (rc $rc); logs under $SERVICES_DIR/{nova,ironic,neutron}" >&2
  exit $rc
}
trap cleanup EXIT

# 1. node: fake-hardware, resource class baremetal, one port, manage -> provide -> power off
NODE=$(os baremetal node create --name "$N" --driver fake-hardware --resource-class baremetal \
  --property cpus=4 --property memory_mb=8192 --property local_gb=100 --property cpu_arch=x86_64 \
  --property capabilities=profile:baremetal,boot_option:local -f value -c uuid)
os baremetal port create --node "$NODE" "52:54:00:$(printf '%02x:%02x:%02x' $((RANDOM%256)) $((RANDOM%256)) $((RANDOM%256)))" >/dev/null
os baremetal node manage --wait 60 "$NODE"
os baremetal node provide --wait 60 "$NODE"
# fake-hardware keeps power_state None, which Nova treats as unusable ("No valid host was found")
os baremetal node power off "$NODE"
lap "node $N ($NODE) enrolled, available, power off"

# 2. image
qemu-img create -f qcow2 "$W/smoke.qcow2" 1G >/dev/null 2>&1 || head -c 1M /dev/zero > "$W/smoke.qcow2"
fmt=qcow2; qemu-img info "$W/smoke.qcow2" >/dev/null 2>&1 || fmt=raw
IMG=$(os image create "$N" --disk-format $fmt --container-format bare --file "$W/smoke.qcow2" -f value -c id)
lap "image $N uploaded ($IMG)"

# 3. wait until Nova's resource tracker exposed the node to Placement as schedulable (reserved 0)
TOK=$(os token issue -f value -c id)
t=$(ms)
until curl -sf -H "X-Auth-Token: $TOK" "http://127.0.0.1:$PLACEMENT_PORT/resource_providers/$NODE/inventories" \
      | grep -q '"CUSTOM_BAREMETAL": {"total": 1, "reserved": 0'; do
  [ $(( $(ms) - t )) -gt 300000 ] && die "node $NODE not in Placement with CUSTOM_BAREMETAL reserved 0 after 300 s"
  sleep 1
done
lap "node schedulable in Placement (CUSTOM_BAREMETAL total 1 reserved 0)"

# 4. boot
NET=$(os network show ctlplane -f value -c id)
printf '{"ignition":{"version":"3.2.0"},"storage":{"files":[{"path":"/etc/hostname","contents":{"source":"data:,%s"}}]}}\n' "$N" > "$W/user-data.ign"
SRV=$(os server create --flavor baremetal --image "$IMG" --config-drive true --user-data "$W/user-data.ign" \
  --nic net-id="$NET" --wait "$N" -f value -c id | tail -n 1 | tr -d '[:space:]')
lap "server create --wait returned ($SRV)"
read -r st host addr created updated <<< "$(fields server show "$SRV" -- status OS-EXT-SRV-ATTR:hypervisor_hostname addresses created updated)"
[ "$st" = ACTIVE ] || die "server $SRV is $st, not ACTIVE"
[ "$host" = "$NODE" ] || die "server landed on $host, not on node $NODE"
read -r pst iu <<< "$(fields baremetal node show "$NODE" -- provision_state instance_uuid)"
[ "$pst" = active ] && [ "$iu" = "$SRV" ] || die "node $NODE: provision_state=$pst instance_uuid=$iu"
api_s=$(( $(date -d "$updated" +%s) - $(date -d "$created" +%s) ))
echo "  server ACTIVE on node $NODE (provision_state active), addresses: $addr"
echo "  Nova: created -> ACTIVE in ~${api_s} s (server timestamps, 1 s resolution; the rest is CLI polling)"
# the config drive Ironic received: gzip+base64 ISO in instance_info (the API masks it; read the sqlite DB)
if command -v isoinfo >/dev/null && [ -r "$SERVICES_DIR/ironic/ironic.sqlite" ]; then
  ud=$($PY - "$SERVICES_DIR/ironic/ironic.sqlite" "$NODE" "$W" <<'PYEOF'
import base64, gzip, json, sqlite3, subprocess, sys
ii = json.loads(sqlite3.connect(sys.argv[1]).execute('select instance_info from nodes where uuid=?', (sys.argv[2],)).fetchone()[0])
iso = sys.argv[3] + '/configdrive.iso'
open(iso, 'wb').write(gzip.decompress(base64.b64decode(ii['configdrive'])))
print(subprocess.run(['isoinfo', '-i', iso, '-J', '-x', '/openstack/latest/user_data'], capture_output=True, text=True).stdout.strip())
PYEOF
)
  [ "$ud" = "$(cat "$W/user-data.ign")" ] || die "config drive user_data differs: $ud"
  echo "  config drive in Ironic carries the user data (Ignition, $(printf %s "$ud" | wc -c) bytes)"
fi
lap "checks done"

# 5. delete; node back to available
os server delete --wait "$SRV"; SRV=
lap "server deleted"
t=$(ms)
until [ "$(os baremetal node show "$NODE" -f value -c provision_state)" = available ]; do
  [ $(( $(ms) - t )) -gt 60000 ] && die "node $NODE not back to available"
  sleep 0.5
done
lap "node back to available"
