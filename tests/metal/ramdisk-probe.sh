#!/bin/bash
# Proves the IPA ramdisk (tests/metal/build-ramdisk.sh) under qemu TCG, the way Ironic will use it, with a
# tiny fake Ironic API instead of Ironic:
#   1. the kernel command line says ipa-api-url=http://127.0.0.1:$PROBE_API_PORT (as Ironic's catalog would)
#      and ipa-inspection-callback-url=http://localhost:$PROBE_API_PORT/v1/continue_inspection; the inspection
#      data (POST, with the 4 GiB virtio disk and the NIC in it) and then the lookup (GET
#      /v1/lookup?addresses=...) must arrive on the host's 127.0.0.1 from the guest, which proves the
#      ramdisk's rewrite of 127.0.0.1 / localhost to 10.0.2.2 and IPA's collectors;
#   2. the fake API answers the lookup like Ironic (node, agent token, API 1.68 so IPA turns on auto-TLS); the
#      heartbeat must announce callback_url https://127.0.0.1:20011 (MAC 52:54:00:00:00:0b -> 20000 + 11);
#   3. IPA's own API answers through the qemu hostfwd 127.0.0.1:20011 -> guest :9999 (curl, TLS unverified);
#   4. standby.power_off through that API (with the agent token, as Ironic's tear_down_agent does) powers
#      the VM off: qemu exits.
# Prints the boot times (qemu start -> inspection / first lookup / heartbeat / agent API) and exits non-zero
# on a failure.
#
# Usage: ramdisk-probe.sh    (root; builds the ramdisk first when needed; ~2-6 min under TCG)
# Environment: PROBE_API_PORT (16385), PROBE_TIMEOUT (900 s, for the whole boot), VM_RAM (2048 MiB),
# PROBE_QEMU_WAIT (900 s: how long to wait for another qemu on this machine to end before starting).
# Ports: 127.0.0.1:$PROBE_API_PORT (fake API) and 127.0.0.1:20011 (agent forward) must be free: VM 1 of
# `vms.sh up` must be off. Runs one qemu, stops it and the fake API by their pids, whatever happens.
# Files: build/metal/ramdisk-probe/ (console.log, api.log, qemu.cmdline; the disk is removed at the end).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
OUT=$REPO_ROOT/build/metal
D=$OUT/ramdisk-probe
API_PORT=${PROBE_API_PORT:-16385}
TIMEOUT=${PROBE_TIMEOUT:-900}
VM_RAM=${VM_RAM:-2048}
MAC=52:54:00:00:00:0b
AGENT_PORT=$((20000 + 16#${MAC##*:}))

log() { printf '[ramdisk-probe %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[ramdisk-probe %s] FAIL: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
APT_LOG=$OUT/ipa-host-apt.log
mkdir -p "$D"
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$REPO_ROOT/tests/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root (the ramdisk build needs it)"
"$HERE/build-ramdisk.sh" build
apt_ensure qemu-system-x86 qemu-utils curl
# one qemu at a time on this machine (2 cores): wait for another one (a helper's probe) to end
other_qemu() { pgrep -d ' ' -f '^(/usr/bin/)?qemu-system-x86_64( |$)'; }   # -x: comm is cut to 15 chars
t_wait=$(date +%s)
while other_qemu >/dev/null; do
  [ $(( $(date +%s) - t_wait )) -lt "${PROBE_QEMU_WAIT:-900}" ] || die "another qemu-system-x86_64 is still running: pid $(other_qemu)"
  [ $(( ($(date +%s) - t_wait) % 60 )) -eq 0 ] && log "waiting for another qemu to end (pid $(other_qemu))"
  sleep 1
done
for p in "$API_PORT" "$AGENT_PORT"; do tcp_up "$p" && die "127.0.0.1:$p is taken (VM 1 of vms.sh, or a probe still running?)"; done

QEMU_PID='' API_PID=''
cleanup() {
  local rc=$?
  # ours only, by pid; `wait` on a killed child returns 143, which errexit would make the probe's status
  if [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null; then wait "$QEMU_PID" 2>/dev/null || true; fi
  if [ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null; then wait "$API_PID" 2>/dev/null || true; fi
  rm -f "$D/disk.qcow2"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --------------------------------------------------------------------------------------- fake Ironic API
# One JSON line per request in api.log: what IPA asked, from where, and when.
cat >"$D/fake-ironic.py" <<'EOF'
import json, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, logpath = int(sys.argv[1]), sys.argv[2]
NODE = str(uuid.UUID(int=0x4d455441))
TOKEN = 'metalkit-probe-token-0123456789abcdef'
def record(**kw):
    kw['t'] = time.time()
    with open(logpath, 'a') as f:
        f.write(json.dumps(kw) + '\n')
class H(BaseHTTPRequestHandler):
    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('X-OpenStack-Ironic-API-Minimum-Version', '1.1')
        self.send_header('X-OpenStack-Ironic-API-Maximum-Version', '1.68')
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        record(method='GET', path=self.path, peer=self.client_address[0],
               version=self.headers.get('X-OpenStack-Ironic-API-Version'))
        if self.path.split('?')[0] in ('/', ''):
            v = {'id': 'v1', 'version': '1.68', 'min_version': '1.1', 'status': 'CURRENT'}
            return self.reply(200, {'name': 'fake ironic', 'default_version': v, 'versions': [v]})
        if self.path.startswith('/v1/lookup'):
            return self.reply(200, {
                'node': {'uuid': NODE, 'properties': {}, 'instance_info': {}, 'driver_internal_info': {},
                         'provision_state': 'deploying'},
                'config': {'heartbeat_timeout': 300, 'agent_token': TOKEN, 'agent_token_required': True}})
        self.reply(404, {'error_message': 'not here'})
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        try:
            data = json.loads(body or b'{}')
        except ValueError:
            data = {'raw': body.decode(errors='replace')}
        if isinstance(data, dict) and data.get('agent_verify_ca'):
            data['agent_verify_ca'] = data['agent_verify_ca'][:40] + '...'
        if self.path.startswith('/v1/continue_inspection'):
            inv = data.get('inventory', {})
            record(method='POST', path=self.path, peer=self.client_address[0], error=data.get('error'),
                   disks=[(d.get('name'), d.get('size')) for d in inv.get('disks', [])],
                   interfaces=[(i.get('name'), i.get('mac_address'), i.get('ipv4_address'))
                               for i in inv.get('interfaces', [])],
                   memory_mb=inv.get('memory', {}).get('physical_mb'), cpu=inv.get('cpu', {}).get('count'),
                   bmc_address=inv.get('bmc_address'), keys=sorted(data))
            return self.reply(200, {'uuid': NODE})
        record(method='POST', path=self.path, peer=self.client_address[0], body=data)
        self.reply(202 if self.path.startswith('/v1/heartbeat/') else 404, {})
    def log_message(self, *a):
        pass
ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
EOF
: >"$D/api.log"
/usr/bin/python3 "$D/fake-ironic.py" "$API_PORT" "$D/api.log" >"$D/api.err" 2>&1 &
API_PID=$!
for _ in $(seq 50); do tcp_up "$API_PORT" && break; sleep 0.1; done
tcp_up "$API_PORT" || die "the fake API did not start: $(cat "$D/api.err")"

# --------------------------------------------------------------------------------------- the VM
rm -f "$D/disk.qcow2"
qemu-img create -q -f qcow2 "$D/disk.qcow2" 4G
APPEND="console=ttyS0 ipa-api-url=http://127.0.0.1:$API_PORT"
APPEND+=" ipa-inspection-callback-url=http://localhost:$API_PORT/v1/continue_inspection"
APPEND+=" ipa-insecure=1 ipa-debug=1 BOOTIF=$MAC"
QEMU=(qemu-system-x86_64 -accel tcg -m "$VM_RAM" -nographic -monitor none
  -kernel "$OUT/ipa.kernel" -initrd "$OUT/ipa.initramfs" -append "$APPEND"
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$AGENT_PORT-:9999"
  -device "virtio-net-pci,netdev=n0,mac=$MAC" -device virtio-rng-pci
  -drive "file=$D/disk.qcow2,if=virtio,format=qcow2")
printf '%q ' "${QEMU[@]}" >"$D/qemu.cmdline"; echo >>"$D/qemu.cmdline"
T0=$(ms)
nice -n 19 ionice -c3 "${QEMU[@]}" </dev/null >"$D/console.log" 2>&1 &
QEMU_PID=$!
log "qemu pid $QEMU_PID (console: build/metal/ramdisk-probe/console.log, API log: api.log)"

since() { echo "$(( ($(ms) - T0) / 1000 )).$(( ($(ms) - T0) % 1000 / 100 ))"; }
wait_until() { # DESC CMD... : until CMD succeeds, within the overall timeout; qemu must stay up
  local desc=$1; shift
  until "$@"; do
    kill -0 "$QEMU_PID" 2>/dev/null || { tail -n 30 "$D/console.log" >&2; die "qemu exited before $desc"; }
    grep -q "Kernel panic" "$D/console.log" && { tail -n 30 "$D/console.log" >&2; die "kernel panic before $desc"; }
    [ $(( $(ms) - T0 )) -lt $((TIMEOUT * 1000)) ] || { tail -n 30 "$D/console.log" >&2; die "no $desc within ${TIMEOUT} s"; }
    sleep 1
  done
  log "$desc after $(since) s"
}
seen() { grep -q "$1" "$D/api.log"; }
console() { grep -q "$1" "$D/console.log"; }

wait_until "IPA started (console)" console "starting ironic-python-agent"
wait_until "inspection data (POST /v1/continue_inspection)" seen '"path": "/v1/continue_inspection'
T_INSPECT=$(since)
grep -m1 '/v1/continue_inspection' "$D/api.log" | sed 's/^/  /'
grep -m1 '/v1/continue_inspection' "$D/api.log" | grep -q '"/dev/vda", 4294967296' || die "the inspection data lack the 4 GiB disk /dev/vda"
grep -m1 '/v1/continue_inspection' "$D/api.log" | grep -q "\"$MAC\"" || die "the inspection data lack the NIC $MAC"
wait_until "first lookup (GET /v1/lookup)" seen '"path": "/v1/lookup'
T_LOOKUP=$(since)
grep -m1 '/v1/lookup' "$D/api.log" | sed 's/^/  /'
wait_until "first heartbeat" seen '"path": "/v1/heartbeat/'
T_HEARTBEAT=$(since)
cb=$(grep -m1 '/v1/heartbeat/' "$D/api.log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["body"].get("callback_url",""))')
log "heartbeat callback_url: $cb"
[[ $cb == http*://127.0.0.1:$AGENT_PORT ]] || die "IPA advertises '$cb', not 127.0.0.1:$AGENT_PORT"
agent_up() { curl -sk --max-time 10 -o "$D/agent-root.json" "$cb/"; }
wait_until "IPA API through the hostfwd ($cb/)" agent_up
T_API=$(since)
sed 's/^/  /' "$D/agent-root.json"; echo
token=$(sed -n "s/^TOKEN = '\(.*\)'$/\1/p" "$D/fake-ironic.py")
curl -sk --max-time 30 -X POST -H 'Content-Type: application/json' -d '{"name": "standby.power_off", "params": {}}' \
  "$cb/v1/commands/?wait=false&agent_token=$token" >"$D/power-off.json" || die "POST standby.power_off failed"
grep -q '"command_name": "power_off"' "$D/power-off.json" || die "standby.power_off refused: $(cat "$D/power-off.json")"
t_off=$(ms)
while kill -0 "$QEMU_PID" 2>/dev/null && [ $(( $(ms) - t_off )) -lt 120000 ]; do sleep 1; done
kill -0 "$QEMU_PID" 2>/dev/null && die "the VM is still on 120 s after standby.power_off"
wait "$QEMU_PID" || true; QEMU_PID=''
log "standby.power_off: the VM powered off in $(( ($(ms) - t_off) / 1000 )) s"
log "PASS: inspection ${T_INSPECT} s, lookup ${T_LOOKUP} s, heartbeat ${T_HEARTBEAT} s, agent API ${T_API} s after qemu start (TCG, ${VM_RAM} MiB)"
log "ramdisk: ipa.kernel $(du -h "$OUT/ipa.kernel" | cut -f1), ipa.initramfs $(du -h "$OUT/ipa.initramfs" | cut -f1)"
