#!/bin/bash
# Emulated bare-metal nodes: N qemu (TCG) VMs, each behind its own virtual BMC (vbmc.py: IPMI via pyghmi on
# udp 127.0.0.1:$((VMS_BMC_PORT_BASE + i))). `up` only creates the disks and starts the BMCs: every VM stays
# powered off until something (Ironic, ipmitool) powers it on over IPMI.
#
# Usage: vms.sh up [N]   N VMs (default 1): disks created once, one vbmc each (kept when already running
#                        with the same settings; restarted, VM untouched, when they changed)
#        vms.sh down     stop every VM's qemu and vbmc (by their recorded pids; disks are kept)
#        vms.sh status   one line per VM
#
# VM i (1..N): MAC 52:54:00:00:00:<0x0a+i>, ssh 127.0.0.1:(22000+i) -> :22, agent 127.0.0.1:(20000+0x0a+i) -> :9999
# Environment: VMS_DIR (build/metal/vms), VMS_BMC_PORT_BASE (16230), BMC_USER / BMC_PASSWORD (admin /
# password), VM_RAM (2048 MiB), VM_DISK_SIZE (8G, on creation only), PXE_BOOTFILE_URL
# (http://10.0.2.2:8089/boot.ipxe), VBMC_SOFT_OFF_TIMEOUT (120 s).
# State, per VM, in $VMS_DIR/vm<i>/: disk.qcow2, vbmc.pid(+.start,.cfg), vbmc.log, bmc-<port>.json, vm.json,
# qemu.pid(+.start), qemu.cmdline, qemu.log, console.log, qmp.sock.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3   # Debian's: pyghmi is a Debian package
VMS_DIR=${VMS_DIR:-$REPO_ROOT/build/metal/vms}
VMS_BMC_PORT_BASE=${VMS_BMC_PORT_BASE:-16230}
BMC_USER=${BMC_USER:-admin}
BMC_PASSWORD=${BMC_PASSWORD:-password}
VM_RAM=${VM_RAM:-2048}
VM_DISK_SIZE=${VM_DISK_SIZE:-8G}
PXE_BOOTFILE_URL=${PXE_BOOTFILE_URL:-http://10.0.2.2:8089/boot.ipxe}
VBMC_SOFT_OFF_TIMEOUT=${VBMC_SOFT_OFF_TIMEOUT:-120}
export BMC_USER BMC_PASSWORD VM_RAM PXE_BOOTFILE_URL VBMC_SOFT_OFF_TIMEOUT

log() { printf '[metal-vms %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[metal-vms %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
APT_LOG=$VMS_DIR/apt.log
mkdir -p "$VMS_DIR"
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$REPO_ROOT/tests/lib.sh"

# A pid file holds one pid; PIDFILE.start its start time (field 22 of /proc/PID/stat), so a recycled pid is
# never taken for ours (the same convention as tests/services/lib.sh and vbmc.py's qemu.pid).
starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
alive() { # PIDFILE
  local p
  [ -s "$1" ] && [ -s "$1.start" ] || return 1
  p=$(cat "$1")
  kill -0 "$p" 2>/dev/null || return 1
  [ "$(starttime "$p")" = "$(cat "$1.start")" ] || return 1
  [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ]
}
stop_pidfile() { # PIDFILE WHAT : SIGTERM, up to 10 s, then SIGKILL; only a pid that is still ours
  local f=$1 what=$2 p i
  if alive "$f"; then
    p=$(cat "$f")
    kill -TERM "$p" 2>/dev/null || true
    for i in $(seq 100); do alive "$f" || break; sleep 0.1; done
    if alive "$f"; then log "$what (pid $p) ignores SIGTERM: SIGKILL"; kill -KILL "$p" 2>/dev/null || true; sleep 0.2; fi
    log "stopped $what (pid $p)"
  fi
  rm -f "$f" "$f.start"
}

mac_octet() { printf '%02x' $(( 0x0a + $1 )); }
bmc_port() { echo $(( VMS_BMC_PORT_BASE + $1 )); }
ipmi() { # I ARGS... : ipmitool against VM i's BMC (-E: the password never shows in ps)
  local i=$1; shift
  IPMI_PASSWORD=$BMC_PASSWORD ipmitool -I lanplus -H 127.0.0.1 -p "$(bmc_port "$i")" -U "$BMC_USER" -E -N 2 -R 2 "$@"
}
vm_dirs() { compgen -G "$VMS_DIR/vm[0-9]*/" | sort -V || true; }

up_one() { # I
  local i=$1 d=$VMS_DIR/vm$1 cfg t0
  mkdir -p "$d"
  if [ ! -e "$d/disk.qcow2" ]; then
    qemu-img create -q -f qcow2 "$d/disk.qcow2" "$VM_DISK_SIZE"
    log "vm$i: created $d/disk.qcow2 ($VM_DISK_SIZE virtual)"
  fi
  # what the running vbmc was started with: a change (vbmc.py itself, the URL, RAM, port, user) restarts it
  cfg=$( (cat "$HERE/vbmc.py" "$REPO_ROOT/tests/services/bmc-emulator.py"
          printf '%s\n' "$(bmc_port "$i")" "$BMC_USER" "$BMC_PASSWORD" "$VM_RAM" "$PXE_BOOTFILE_URL" "$VBMC_SOFT_OFF_TIMEOUT") |
        sha256sum | cut -c1-16)
  if alive "$d/vbmc.pid"; then
    if [ "$(cat "$d/vbmc.pid.cfg" 2>/dev/null)" = "$cfg" ] && ipmi "$i" power status >/dev/null 2>&1; then
      log "vm$i: vbmc already running (pid $(cat "$d/vbmc.pid"), udp 127.0.0.1:$(bmc_port "$i"))"; return 0
    fi
    # the VM keeps running: the new vbmc adopts its qemu from qemu.pid
    stop_pidfile "$d/vbmc.pid" "vm$i vbmc (settings changed)"
  fi
  setsid "$PY" "$HERE/vbmc.py" --index "$i" --vm-dir "$d" --port "$(bmc_port "$i")" \
    >>"$d/vbmc.log" 2>&1 </dev/null &
  echo $! >"$d/vbmc.pid"
  starttime $! >"$d/vbmc.pid.start"
  echo "$cfg" >"$d/vbmc.pid.cfg"
  t0=$(ms)
  until ipmi "$i" power status >/dev/null 2>&1; do
    alive "$d/vbmc.pid" || { tail -n 30 "$d/vbmc.log" >&2; die "vm$i: vbmc died (log above)"; }
    [ $(( $(ms) - t0 )) -lt 20000 ] || { tail -n 30 "$d/vbmc.log" >&2; die "vm$i: vbmc does not answer on udp $(bmc_port "$i")"; }
    sleep 0.2
  done
  log "vm$i: vbmc pid $(cat "$d/vbmc.pid") answers ipmitool on udp 127.0.0.1:$(bmc_port "$i") after $(( $(ms) - t0 )) ms"
}

do_up() {
  local n=${1:-1} i
  if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 64 ]; then die "up N: N must be 1..64, got '$n'"; fi
  apt_ensure qemu-system-x86 qemu-utils ipxe-qemu ipmitool python3-pyghmi
  for i in $(seq "$n"); do up_one "$i"; done
  do_status
}

do_down() {
  local d name
  for d in $(vm_dirs); do
    name=$(basename "$d")
    # the BMC first, so that it does not record the power off as the guest's own
    stop_pidfile "$d/vbmc.pid" "$name vbmc"
    # qemu exits cleanly on SIGTERM (flushes its disk)
    stop_pidfile "$d/qemu.pid" "$name qemu"
    rm -f "$d/qmp.sock" "$d/vbmc.pid.cfg"
  done
  log "all VMs down (disks kept under $VMS_DIR)"
}

do_status() {
  local d i name b q
  for d in $(vm_dirs); do
    name=$(basename "$d"); i=${name#vm}
    b=stopped; alive "$d/vbmc.pid" && b="pid $(cat "$d/vbmc.pid")"
    q=off; alive "$d/qemu.pid" && q="on (qemu pid $(cat "$d/qemu.pid"))"
    printf '%s: bmc udp 127.0.0.1:%s (vbmc %s) power %s bootdev %s mac 52:54:00:00:00:%s ssh 127.0.0.1:%s agent 127.0.0.1:%s\n' \
      "$name" "$(bmc_port "$i")" "$b" "$q" \
      "$("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print("%s%s" % (s["bootdev"], "" if s["once_bootdev"] else " (persistent)" if s["bootdev"] != "default" else ""))' "$d/vm.json" 2>/dev/null || echo '?')" \
      "$(mac_octet "$i")" $(( 22000 + i )) $(( 20000 + 0x0a + i ))
  done
}

case ${1:-} in
  up) do_up "${2:-1}" ;;
  down) do_down ;;
  status) do_status ;;
  *) die "usage: vms.sh up [N] | down | status" ;;
esac
