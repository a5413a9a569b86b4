#!/bin/bash
# Proves the RHCOS stand-in image (build-image.sh) the way a deploy uses it: the image is written to a bigger
# disk, a config drive partition is appended at the end of that disk exactly as IPA does it
# (ironic_python_agent/partition_utils.py:create_config_drive_partition: sgdisk -e, then
# `sgdisk -n 0:-64MB:0 -u 0:<uuid>`, then the drive dd'd onto it), holding openstack/latest/user_data = an
# Ignition config rendered by our ignition_render module (user core + a fresh SSH key + one storage.files
# entry) and openstack/latest/meta_data.json. The disk then boots under qemu (TCG, BIOS) until
# `ssh core@127.0.0.1 -p $PROBE_SSH_PORT cat <the file>` prints what the config wrote.
#
# Usage: image-probe.sh
# Environment: PROBE_CONFIGDRIVE  iso9660 (default: what Nova builds, label config-2) or vfat (IPA's fallback
#                                 when the ISO does not mount, label CONFIG-2)
#              PROBE_SPEC         Ignition spec version to render (3.3.0: the newest Debian's ignition takes)
#              PROBE_SSH_PORT     hostfwd port on 127.0.0.1 (22022)
#              PROBE_DISK_SIZE    the disk the image is written to (4G)
#              PROBE_TIMEOUT      seconds to wait for ssh after qemu starts (900)
#              PROBE_REBOOT       1 (default): boot a second time and check Ignition did not run again and
#                                 the host key stayed; 0: one boot
# Work files (key, config, disk, console log): build/metal/image-probe/. qemu is stopped by its PID at exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
METAL_DIR=${METAL_DIR:-$REPO_ROOT/build/metal}
DIR=$METAL_DIR/image-probe
IMAGE=$METAL_DIR/rhcos-standin.qcow2
PROBE_CONFIGDRIVE=${PROBE_CONFIGDRIVE:-iso9660}
PROBE_SPEC=${PROBE_SPEC:-3.3.0}
PORT=${PROBE_SSH_PORT:-22022}
PROBE_DISK_SIZE=${PROBE_DISK_SIZE:-4G}
PROBE_TIMEOUT=${PROBE_TIMEOUT:-900}
PROBE_REBOOT=${PROBE_REBOOT:-1}
PROBE_FILE=/etc/metal-probe

log() { printf '[metal-image-probe %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[metal-image-probe %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
heavy() { nice -n 19 ionice -c3 "$@"; }
mkdir -p "$DIR"
APT_LOG=$DIR/apt.log
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$REPO_ROOT/tests/lib.sh"

case $PROBE_CONFIGDRIVE in iso9660|vfat) ;; *) die "PROBE_CONFIGDRIVE must be iso9660 or vfat" ;; esac
[ "$(id -u)" = 0 ] || die "needs root (build-image.sh does)"

QEMU_PID=
stop_qemu() {
  [ -n "$QEMU_PID" ] || return 0
  if kill -0 "$QEMU_PID" 2>/dev/null; then
    kill -TERM "$QEMU_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$QEMU_PID" 2>/dev/null; then kill -KILL "$QEMU_PID" 2>/dev/null || true; fi
    log "stopped qemu (pid $QEMU_PID)"
  fi
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=
}
trap stop_qemu EXIT

# ---------------------------------------------------------------- the image and the tools
"$HERE/build-image.sh"
apt_ensure qemu-system-x86 qemu-utils gdisk genisoimage
if [ "$PROBE_CONFIGDRIVE" = vfat ]; then apt_ensure dosfstools mtools; fi

# ---------------------------------------------------------------- the Ignition config, by ignition_render
[ -s "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C metal-image-probe -f "$DIR/id_ed25519"
RENDER=$REPO_ROOT/build/bin/ignition_render
if [ ! -x "$RENDER" ]; then
  RENDER=$DIR/ignition_render
  log "go build ./modules/ignition_render (no build/bin/ignition_render: make build makes it)"
  (cd "$REPO_ROOT" && CGO_ENABLED=0 go build -o "$RENDER" ./modules/ignition_render)
fi
NONCE=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
WANT="written by Ignition for the metal image probe $NONCE"
rm -rf "$DIR/cd"; mkdir -p "$DIR/cd/openstack/latest"
/usr/bin/python3 - "$RENDER" "$PROBE_SPEC" "$(cat "$DIR/id_ed25519.pub")" "$PROBE_FILE" "$WANT" "$DIR/cd/openstack/latest" <<'EOF'
import json, subprocess, sys, tempfile, uuid
render, spec, key, path, want, out = sys.argv[1:]
args = {"ANSIBLE_MODULE_ARGS": {"spec_version": spec,
        "users": [{"name": "core", "ssh_authorized_keys": [key]}],
        "files": [{"path": path, "contents": want + "\n", "mode": 0o644}],
        # an enabled unit: metal-ignition applies Ignition's presets and starts it
        "systemd_units": [{"name": "metal-probe.service", "enabled": True, "contents":
            "[Unit]\nDescription=metal image probe unit (from Ignition)\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
            "ExecStart=/bin/sh -c 'cp %s /run/metal-probe-unit'\n[Install]\nWantedBy=multi-user.target\n" % path}]}}
with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
    json.dump(args, f); f.flush()
    res = json.loads(subprocess.run([render, f.name], check=False, capture_output=True, text=True).stdout)
if res.get("failed"):
    sys.exit("ignition_render failed: %s" % res.get("msg"))
open(out + "/user_data", "w").write(res["user_data"])
u = str(uuid.uuid4())
# what Nova's InstanceMetadata puts in meta_data.json, trimmed to the keys a guest commonly reads
json.dump({"uuid": u, "name": "metal-image-probe", "hostname": "metal-image-probe",
           "availability_zone": "nova", "launch_index": 0, "public_keys": {}}, open(out + "/meta_data.json", "w"))
print(res["msg"])
EOF

# ---------------------------------------------------------------- the config drive, as Nova and IPA make it
rm -f "$DIR/configdrive.img"
if [ "$PROBE_CONFIGDRIVE" = iso9660 ]; then
  # nova/virt/configdrive.py:_make_iso9660 (its -publisher left out)
  genisoimage -o "$DIR/configdrive.img" -ldots -allow-lowercase -allow-multidot -l -quiet -J -r -V config-2 "$DIR/cd" 2>/dev/null
else
  # partition_utils.py:_try_build_fat32_config_drive: a vfat labelled CONFIG-2 with the same files
  mkfs.vfat -C -n CONFIG-2 "$DIR/configdrive.img" 16384 >/dev/null
  mcopy -s -i "$DIR/configdrive.img" "$DIR/cd/openstack" ::/
fi

rm -f "$DIR/disk.raw" "$DIR/disk.qcow2"
heavy qemu-img convert -q -O raw "$IMAGE" "$DIR/disk.raw"
truncate -s "$PROBE_DISK_SIZE" "$DIR/disk.raw"
# disk_utils.fix_gpt_partition: the backup GPT moves to the end of the bigger disk
sgdisk -e "$DIR/disk.raw" >"$DIR/sgdisk.log" 2>&1 || { cat "$DIR/sgdisk.log" >&2; die "sgdisk -e failed"; }
sgdisk -n 0:-64MB:0 -u "0:$(cat /proc/sys/kernel/random/uuid)" "$DIR/disk.raw" >>"$DIR/sgdisk.log" 2>&1 ||
  { cat "$DIR/sgdisk.log" >&2; die "sgdisk -n failed"; }
CD_START=$(sgdisk -i 2 "$DIR/disk.raw" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
[ -n "$CD_START" ] || die "no partition 2 after sgdisk -n"
dd if="$DIR/configdrive.img" of="$DIR/disk.raw" bs=512 seek="$CD_START" conv=notrunc status=none
sgdisk -p "$DIR/disk.raw" | sed -n '/^Number/,$p' | sed 's/^/    /'
heavy qemu-img convert -q -f raw -O qcow2 "$DIR/disk.raw" "$DIR/disk.qcow2"
rm -f "$DIR/disk.raw"

# ---------------------------------------------------------------- boot
wait_other_qemu() { # one qemu at a time on this machine (COMMON rules): wait for the others' to end
  local t0; t0=$(date +%s)
  while pgrep -x qemu-system-x86 >/dev/null; do
    [ $(( $(date +%s) - t0 )) -gt 1800 ] && die "another qemu-system-x86_64 still runs after 30 min: $(pgrep -a -x qemu-system-x86 | head -n1)"
    [ $(( ($(date +%s) - t0) % 60 )) -eq 0 ] && log "waiting for another qemu to end (pid $(pgrep -x qemu-system-x86 | tr '\n' ' '))"
    sleep 1
  done
}
SSH=(ssh -i "$DIR/id_ed25519" -p "$PORT" -o BatchMode=yes -o ConnectTimeout=10 -o IdentitiesOnly=yes
  -o UserKnownHostsFile="$DIR/known_hosts" -o LogLevel=ERROR)

boot() { # N : start qemu, wait for ssh as core; sets BOOT_SECS
  local n=$1 t0 out
  wait_other_qemu
  tcp_up "$PORT" && die "127.0.0.1:$PORT is taken: set PROBE_SSH_PORT"
  : >"$DIR/console-$n.log"
  # user-mode network only, restrict=on: the guest reaches nothing but the forwarded port
  # nice/ionice exec qemu: $! is qemu's own PID (a shell function here would put a subshell in between)
  nice -n 19 ionice -c3 qemu-system-x86_64 -accel tcg -m 1024 -nographic -monitor none -no-reboot \
    -drive "file=$DIR/disk.qcow2,if=virtio,format=qcow2" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:22" -device virtio-net-pci,netdev=n0 \
    -device virtio-rng-pci -serial "file:$DIR/console-$n.log" </dev/null >"$DIR/qemu-$n.log" 2>&1 &
  QEMU_PID=$!
  t0=$(date +%s)
  sleep 0.5
  [ "$(readlink "/proc/$QEMU_PID/exe" 2>/dev/null)" = "$(readlink -f "$(command -v qemu-system-x86_64)")" ] ||
    die "pid $QEMU_PID is not qemu-system-x86_64 (log: $DIR/qemu-$n.log)"
  log "boot $n: qemu pid $QEMU_PID (console: $DIR/console-$n.log), waiting up to $PROBE_TIMEOUT s for ssh core@127.0.0.1:$PORT"
  while :; do
    kill -0 "$QEMU_PID" 2>/dev/null || { tail -n 30 "$DIR/console-$n.log" >&2; die "qemu exited (log: $DIR/qemu-$n.log)"; }
    if out=$("${SSH[@]}" "${SSH_OPTS[@]}" core@127.0.0.1 cat "$PROBE_FILE" 2>"$DIR/ssh-$n.err"); then break; fi
    if [ $(( $(date +%s) - t0 )) -gt "$PROBE_TIMEOUT" ]; then
      tail -n 40 "$DIR/console-$n.log" >&2; cat "$DIR/ssh-$n.err" >&2
      die "no ssh login as core after $PROBE_TIMEOUT s (console: $DIR/console-$n.log)"
    fi
    sleep 3
  done
  BOOT_SECS=$(( $(date +%s) - t0 ))
  [ "$out" = "$WANT" ] || die "boot $n: $PROBE_FILE holds '$out', want '$WANT'"
  log "boot $n: ssh core@127.0.0.1:$PORT after $BOOT_SECS s; $PROBE_FILE = '$out'"
}

rm -f "$DIR/known_hosts"
SSH_OPTS=(-o StrictHostKeyChecking=no)
boot 1
BOOT1=$BOOT_SECS
in_guest() { "${SSH[@]}" "${SSH_OPTS[@]}" core@127.0.0.1 "$@"; }
log "in the guest:"
# shellcheck disable=SC2016 # expanded in the guest
in_guest 'echo "    $(uname -sr); $(id)"
  echo "    root: $(findmnt -no SOURCE,FSTYPE,SIZE,LABEL /) (fstab: $(grep -v "^#" /etc/fstab))"
  lsblk -no NAME,SIZE,FSTYPE,LABEL,PARTLABEL /dev/vda | sed "s/^/    /"
  echo "    $(/usr/lib/dracut/modules.d/30ignition/ignition -version); metal-ignition: $(systemctl is-active metal-ignition), marker $(cat /var/lib/metal/ignition.done)"
  echo "    sudo: $(sudo -n id -un)"
  echo "    sshd: $(systemctl is-active ssh); route: $(ip route show 169.254.169.254)"
  echo "    Ignition unit metal-probe.service: $(systemctl is-enabled metal-probe.service) $(systemctl is-active metal-probe.service), /run/metal-probe-unit: $(cat /run/metal-probe-unit 2>&1)"
  echo "    authorized_keys: $(wc -l < ~/.ssh/authorized_keys) key(s), ~/.ssh mode $(stat -c %a ~/.ssh)"'
# sshd offers public keys only
methods=$(ssh -p "$PORT" -o BatchMode=yes -o PreferredAuthentications=none -o UserKnownHostsFile="$DIR/known_hosts" \
  -o IdentitiesOnly=yes -o IdentityFile=/dev/null core@127.0.0.1 true 2>&1 | sed -n 's/.*Permission denied (\(.*\)).*/\1/p' || true)
[ "$methods" = publickey ] || die "sshd offers '$methods', want publickey only"
log "sshd offers: $methods"
grep -q 'metal-ignition: done' "$DIR/console-1.log" || die "no 'metal-ignition: done' on the console"
[ "$(in_guest cat /run/metal-probe-unit)" = "$WANT" ] || die "the unit of the Ignition config did not run (/run/metal-probe-unit)"
[ "$(in_guest sudo -n id -un)" = root ] || die "core has no passwordless sudo"
if grep -n 'ignition.*\(CRITICAL\|failed\)' "$DIR/console-1.log" | grep -v 'metadata service' | head -n 5 | grep .; then
  log "(Ignition errors above, from the console)"
fi
log "Ignition's tries of the metadata service (refused inside the guest): $(grep -c 'GET error: .*169.254.169.254' "$DIR/console-1.log" || true)"

if [ "$PROBE_REBOOT" = 1 ]; then
  in_guest sync
  stop_qemu
  SSH_OPTS=(-o StrictHostKeyChecking=yes)   # the host key must be the one of the first boot
  boot 2
  cond=$(in_guest systemctl show -p ConditionResult --value metal-ignition)
  [ "$cond" = no ] || die "boot 2: metal-ignition ran again (ConditionResult=$cond)"
  [ "$(in_guest cat /run/metal-probe-unit)" = "$WANT" ] || die "boot 2: the enabled unit of the Ignition config did not start"
  log "boot 2: same host key, Ignition skipped (marker), $PROBE_FILE still there, metal-probe.service started (enabled)"
fi
stop_qemu
second=; [ "$PROBE_REBOOT" = 1 ] && second=" (second boot: $BOOT_SECS s)"
log "OK: config drive $PROBE_CONFIGDRIVE, Ignition spec $PROBE_SPEC, first boot to ssh in $BOOT1 s$second"
