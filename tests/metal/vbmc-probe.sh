#!/bin/bash
# Proves tests/metal/vbmc.py + vms.sh end to end with ipmitool, on one VM with an empty disk: IPMI power and
# boot-device commands drive a real qemu (TCG), and a PXE boot over user-mode networking really fetches
# boot.ipxe from a host loopback http server (10.0.2.2 in the guest = 127.0.0.1 here).
#
# Usage: vbmc-probe.sh        (root; ~1-2 min; stops everything it started, by pid; exits non-zero on a failure)
# Its VM lives in build/metal/vms/probe/vm1 with BMC udp 127.0.0.1:$PROBE_BMC_PORT_BASE+1 (default 16331), apart
# from vms.sh's own VMs; it uses VM 1's forwards (ssh 22001, agent 20011), so VM 1 of `vms.sh up` must be off.
# boot.ipxe is served on 127.0.0.1:8089 (PROBE_HTTP_PORT), or 18089 when 8089 is taken (Ironic's iPXE server).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
export VMS_DIR=$REPO_ROOT/build/metal/vms/probe
export VMS_BMC_PORT_BASE=${PROBE_BMC_PORT_BASE:-16330}
export BMC_USER=${BMC_USER:-admin} BMC_PASSWORD=${BMC_PASSWORD:-password}
export VBMC_SOFT_OFF_TIMEOUT=6   # SeaBIOS/iPXE ignore the ACPI button: the hard-off fallback must fire
export VM_RAM=${VM_RAM:-512}     # nothing to run but firmware
PORT=$(( VMS_BMC_PORT_BASE + 1 ))
D=$VMS_DIR/vm1
WEB=$VMS_DIR/www
MARK=METALKIT-PXE-PROBE-$$

log() { printf '[vbmc-probe %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[vbmc-probe %s] FAIL: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$REPO_ROOT/tests/lib.sh"
ipmi() { IPMI_PASSWORD=$BMC_PASSWORD ipmitool -I lanplus -H 127.0.0.1 -p "$PORT" -U "$BMC_USER" -E -N 2 -R 2 "$@"; }
starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
qemu_pid() { # the pid vbmc recorded, when that process is still the one it started
  local p
  [ -s "$D/qemu.pid" ] && [ -s "$D/qemu.pid.start" ] || return 1
  p=$(cat "$D/qemu.pid")
  [ "$(starttime "$p")" = "$(cat "$D/qemu.pid.start")" ] || return 1
  [ "$(awk '{print $3}' "/proc/$p/stat")" != Z ] || return 1
  echo "$p"
}
qemu_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline"; }
wait_for() { # DESC TIMEOUT_S CMD... : until CMD succeeds; prints the time it took
  local desc=$1 timeout=$2 t0; shift 2
  t0=$(ms)
  until "$@" >/dev/null 2>&1; do
    [ $(( $(ms) - t0 )) -lt $(( timeout * 1000 )) ] || die "timeout after ${timeout}s: $desc"
    sleep 0.2
  done
  log "ok: $desc ($(( $(ms) - t0 )) ms)"
}
# first_boot : the first "Booting from ..." SeaBIOS printed since its last banner (the latest boot of the machine)
first_boot() {
  tr -d '\r' <"$D/console.log" | awk '/^==== vbmc |SeaBIOS \(version/ {b=""; f=0} /Booting from/ && !f {b=$0; f=1} END {print b}' |
    sed 's/.*\(Booting from [A-Za-z /]*\).*/\1/'
}
first_boot_is() { [ "$(first_boot)" = "Booting from $1" ]; }
fetches() { grep -c 'GET /boot.ipxe HTTP/1.[01]" 200' "$VMS_DIR/http.log" || true; }
more_fetches_than() { [ "$(fetches)" -gt "$1" ]; }
qmp() { # CMD : one QMP command to the VM's qemu (what a guest-initiated reset looks like to qemu: system_reset)
  /usr/bin/python3 - "$D/qmp.sock" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); f = s.makefile('rwb')
f.readline()
for cmd in ('qmp_capabilities', sys.argv[2]):
    f.write(json.dumps({'execute': cmd}).encode() + b'\n'); f.flush()
    while True:
        m = json.loads(f.readline())
        if 'return' in m or 'error' in m:
            break
    if 'error' in m:
        sys.exit('QMP %s: %s' % (cmd, m['error']))
PY
}
power_is() { [ "$(ipmi power status)" = "Chassis Power is $1" ]; }
expect_power() { local s; s=$(ipmi power status); [ "$s" = "Chassis Power is $1" ] || die "power status: want $1, got '$s'"; log "ok: power status $1"; }
json_power() { [ "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["power"])' "$D/bmc-$PORT.json")" = "$1" ]; }
expect_boot_arg() { # WANT : the running qemu's -boot argument
  local p c
  p=$(qemu_pid) || die "no qemu process after power on"
  c=$(qemu_cmdline "$p")
  [[ $c == *" -boot $1 "* ]] || die "qemu pid $p: want -boot $1, command line: $c"
  grep -qF -- "-boot $1 " "$D/qemu.cmdline" || die "$D/qemu.cmdline does not say -boot $1"
  log "ok: qemu pid $p runs with -boot $1"
}
expect_bootparam() { # REGEX : in `chassis bootparam get 5`
  local out; out=$(ipmi chassis bootparam get 5)
  grep -qE "$1" <<<"$out" || { echo "$out" >&2; die "chassis bootparam get 5 lacks /$1/"; }
  log "ok: bootparam matches /$1/"
}

HTTP_PID=
cleanup() {
  local rc=$?
  "$HERE/vms.sh" down >/dev/null 2>&1 || true
  if [ -n "$HTTP_PID" ] && [ "$(starttime "$HTTP_PID")" = "$HTTP_START" ]; then kill "$HTTP_PID" 2>/dev/null || true; fi
  if [ $rc = 0 ]; then log "PASS"; else
    for f in "$D/vbmc.log" "$D/qemu.log" "$D/console.log"; do
      if [ -f "$f" ]; then echo "---- tail of $f" >&2; tail -n 15 "$f" | tr -d '\r' >&2; fi
    done
    log "FAILED (rc $rc)"
  fi
  exit $rc
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || die "run as root (apt, qemu)"
APT_LOG=$REPO_ROOT/build/metal/vms/apt.log; mkdir -p "$VMS_DIR" "$WEB"
apt_ensure qemu-system-x86 qemu-utils ipxe-qemu ipmitool python3-pyghmi
for p in 22001 20011; do tcp_up "$p" && die "127.0.0.1:$p is taken (VM 1 of vms.sh up is on?): power it off first"; done

# ---- boot.ipxe on a loopback http server: the guest sees it at 10.0.2.2
HTTP_PORT=${PROBE_HTTP_PORT:-8089}
tcp_up "$HTTP_PORT" && { [ -z "${PROBE_HTTP_PORT:-}" ] || die "127.0.0.1:$HTTP_PORT is taken"; HTTP_PORT=18089; }
tcp_up "$HTTP_PORT" && die "127.0.0.1:$HTTP_PORT is taken"
# the iPXE in Debian's ipxe-qemu (2019) has no `poweroff`: `exit` hands back to the BIOS, which tries the disk
printf '#!ipxe\necho %s fetched over user-net\nexit\n' "$MARK" >"$WEB/boot.ipxe"
: >"$VMS_DIR/http.log"
setsid /usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$WEB" "$HTTP_PORT" >>"$VMS_DIR/http.log" 2>&1 </dev/null &
HTTP_PID=$!; HTTP_START=$(starttime "$HTTP_PID")
wait_for "http.server on 127.0.0.1:$HTTP_PORT" 10 tcp_up "$HTTP_PORT"
export PXE_BOOTFILE_URL=http://10.0.2.2:$HTTP_PORT/boot.ipxe

# ---- one VM, its vbmc
"$HERE/vms.sh" down >/dev/null
rm -f "$D/console.log" "$D/bmc-$PORT.json" "$D/vm.json"   # a fresh record of this run (the disk is kept)
"$HERE/vms.sh" up 1
expect_power off

# ---- PXE, one-time (what `ipmitool chassis bootdev pxe` and Ironic's ipmi driver send for a BIOS node)
ipmi chassis bootdev pxe >/dev/null
expect_bootparam 'Options apply to only next boot'
expect_bootparam 'Boot Device Selector : Force PXE'
t0=$(ms)
ipmi power on >/dev/null
expect_boot_arg once=n,order=cn
grep -qF "bootfile=$PXE_BOOTFILE_URL" "$D/qemu.cmdline" || die "qemu.cmdline lacks bootfile=$PXE_BOOTFILE_URL"
expect_power on
wait_for "guest fetched boot.ipxe (http.log)" 300 grep -q 'GET /boot.ipxe HTTP/1.[01]" 200' "$VMS_DIR/http.log"
T_FETCH=$(( $(ms) - t0 ))
wait_for "console.log shows the boot.ipxe marker" 60 grep -q "^$MARK fetched" "$D/console.log"
grep -q 'iPXE.*Open Source Network Boot Firmware' "$D/console.log" || die "console.log has no iPXE banner"
grep -q '==== vbmc .*: power_on vm1 boot network' "$D/console.log" || die "console.log has no power-on marker"
first_boot_is ROM || die "the PXE boot started with '$(first_boot)', not the NIC's iPXE ROM"
log "ok: iPXE banner + marker on the serial console; power on -> boot.ipxe fetched in $T_FETCH ms (TCG)"
expect_bootparam 'Boot Device Selector : No override'   # the one-time device is used up

# ---- power off: the qemu pid goes
p=$(qemu_pid)
t0=$(ms); ipmi power off >/dev/null
[ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && die "qemu pid $p still runs after power off"
log "ok: power off stopped qemu pid $p ($(( $(ms) - t0 )) ms)"
expect_power off
json_power off || die "bmc-$PORT.json does not say power off"

# ---- disk, one-time, then reset: the reset boots the default order again
ipmi chassis bootdev disk >/dev/null
expect_bootparam 'Boot Device Selector : Force Boot from default Hard-Drive'
ipmi power on >/dev/null
expect_boot_arg once=c,order=cn
wait_for "SeaBIOS boots the hard disk first" 120 first_boot_is 'Hard Disk'
p=$(qemu_pid)
ipmi power reset >/dev/null
p2=$(qemu_pid) || die "no qemu after power reset"
[ "$p2" != "$p" ] || die "power reset kept qemu pid $p"
expect_boot_arg order=cn
log "ok: power reset = new qemu (pid $p -> $p2), the one-time disk device was used up"

# ---- disk, persistent: stays across power cycles
ipmi chassis bootdev disk options=persistent >/dev/null
expect_bootparam 'Options apply to all future boots'
ipmi power cycle >/dev/null
expect_boot_arg order=c
ipmi power cycle >/dev/null
expect_boot_arg order=c
expect_bootparam 'Boot Device Selector : Force Boot from default Hard-Drive'

# ---- Ironic's UEFI path: raw boot-timeout disable + raw one-time PXE with the EFI bit (0xa0), over a persistent disk
ipmi raw 0x00 0x08 0x03 0x08 >/dev/null
ipmi raw 0x00 0x08 0x05 0xa0 0x04 0x00 0x00 0x00 >/dev/null
expect_bootparam 'BIOS EFI boot'
expect_bootparam 'Boot Device Selector : Force PXE'
n=$(fetches)
ipmi power reset >/dev/null
expect_boot_arg once=n,order=c
wait_for "the one-time PXE boot fetched boot.ipxe again" 300 more_fetches_than "$n"
# a reboot from inside the guest resets the machine in the same qemu: the one-time device is not reused, the
# persistent order (disk) comes first (an unbootable disk then falls through to the NIC, as SeaBIOS does)
p=$(qemu_pid)
qmp system_reset
wait_for "after an in-guest reset SeaBIOS boots the disk first (persistent order)" 120 first_boot_is 'Hard Disk'
[ "$(qemu_pid)" = "$p" ] || die "an in-guest reset must keep qemu pid $p"
expect_power on

# ---- mc reset cold resets the BMC only
p=$(qemu_pid)
ipmi mc reset cold >/dev/null
expect_power on
[ "$(qemu_pid)" = "$p" ] || die "mc reset cold touched the VM"
log "ok: mc reset cold left qemu pid $p alone"

# ---- a vbmc restart adopts the running qemu
kill "$(cat "$D/vbmc.pid")"
wait_for "vbmc exits on SIGTERM" 10 bash -c "! kill -0 $(cat "$D/vbmc.pid")"
"$HERE/vms.sh" up 1 >/dev/null
expect_power on
[ "$(qemu_pid)" = "$p" ] || die "the restarted vbmc lost qemu pid $p"
log "ok: restarted vbmc adopted qemu pid $p"

# ---- soft off: ACPI button; the firmware ignores it, so the hard-off fallback ends it
t0=$(ms)
ipmi power soft >/dev/null
expect_power on   # a real BMC answers at once, the OS shuts down in its own time
wait_for "soft off falls back to hard off after ${VBMC_SOFT_OFF_TIMEOUT}s" 30 power_is off
grep -q 'power_shutdown timeout: qemu pid [0-9]* stopped' "$D/bmc-$PORT.json" || die "bmc-$PORT.json does not record the soft-off timeout"

# ---- qemu exiting by itself (what a guest power off does) reads as power off
ipmi power on >/dev/null
p=$(qemu_pid)
kill -TERM "$p"
wait_for "power status off once qemu exited by itself" 10 power_is off
wait_for "bmc-$PORT.json records that qemu exited" 5 grep -q "qemu pid $p exited" "$D/bmc-$PORT.json"
ipmi power off >/dev/null   # no-op when off

"$HERE/vms.sh" status
"$HERE/vms.sh" down
[ -z "$(qemu_pid || true)" ] || die "qemu still runs after vms.sh down"
log "summary: bmc udp 127.0.0.1:$PORT, power on -> boot.ipxe fetched in $T_FETCH ms; state in $D"
