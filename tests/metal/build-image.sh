#!/bin/bash
# The OS image that plays RHCOS's part on the emulated bare metal (issue 17): a small whole-disk, BIOS-bootable
# Debian 13 ("trixie") image whose first boot applies the Ignition config of the OpenStack config drive with
# Debian's real `ignition` binary, then starts sshd (key-only), so `ssh core@...` works like on RHCOS.
#
# Usage: build-image.sh        build (cached: rebuilt only when an input changed) and print the outputs
#
# Outputs (build/metal/):
#   rhcos-standin.qcow2       the image (qcow2, IMAGE_SIZE_MB virtual), what the tests upload to Glance
#   rhcos-standin.qcow2.gz    the same, gzip'd (glance_rhcos decompresses by magic bytes and labels it qcow2)
#   .image-root/              the debootstrap root the image is made from (dot-named: `go ./...` skips it)
#
# What the image expects and does:
#   - disk: GPT, partition 1 = the root, ext4 labelled `root` (GPT name `root`), from 1 MiB to the end of the
#     image; the rest of a bigger disk stays free. The root is never grown: IPA appends the config drive
#     partition (label config-2, iso9660; or CONFIG-2, vfat) at the end of the disk after writing the image.
#   - boot: SeaBIOS -> syslinux's gptmbr.bin -> extlinux (legacy-BIOS-bootable attribute on partition 1) ->
#     kernel `root=LABEL=root ro console=ttyS0`; fstab mounts LABEL=root: any disk, any size.
#   - first boot: metal-ignition.service (image/usr/local/sbin/metal-ignition) runs ignition's fetch and files
#     stages (`-platform openstack -root /`) before sshd, once (marker /var/lib/metal/ignition.done).
#     Debian's ignition 2.14 accepts Ignition spec 3.0.0 to 3.3.0 only (ignition_render defaults to 3.5.0:
#     render with spec_version 3.3.0 or older).
#   - users: like RHCOS, a base config (/usr/lib/ignition/base.d) makes `core` (groups adm, sudo,
#     systemd-journal; passwordless sudo); the config drive's config adds its keys (and any other user).
#   - network: systemd-networkd, DHCP on every Ethernet NIC; sshd on 22 (keys only), host keys made at first boot.
# The files copied into the image are under tests/metal/image/ (the overlay).
#
# Environment: METAL_DIR (build/metal), DEBIAN_MIRROR (http://deb.debian.org/debian), IMAGE_SIZE_MB (1536).
# Needs root (debootstrap, chroot, loop devices). Heavy steps run under nice/ionice.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
METAL_DIR=${METAL_DIR:-$REPO_ROOT/build/metal}
ROOT=$METAL_DIR/.image-root
ROOT_STAMP=$METAL_DIR/.image-root.stamp     # outside the root: mke2fs -d copies all of the root
WORK=$METAL_DIR/.image-build
MNT=$WORK/mnt
IMAGE=$METAL_DIR/rhcos-standin.qcow2
IMAGE_STAMP=$METAL_DIR/rhcos-standin.stamp
OVERLAY=$HERE/image
IMAGE_SIZE_MB=${IMAGE_SIZE_MB:-1536}
KERNEL_CMDLINE="root=LABEL=root ro console=ttyS0"

log() { printf '[metal-image %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[metal-image %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
mkdir -p "$METAL_DIR"
APT_LOG=$METAL_DIR/image-apt.log
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$REPO_ROOT/tests/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

PKGS=(
  linux-image-amd64 initramfs-tools extlinux syslinux-common
  systemd systemd-sysv udev kmod dbus openssh-server ignition sudo
  iproute2 netbase e2fsprogs util-linux
)

# --- what the root stage writes before the packages go in (hashed into the root's stamp) ---
# no docs, man pages, locales: dpkg never unpacks them (what debootstrap unpacked is removed afterwards)
DPKG_EXCLUDES="$BASE_DPKG_EXCLUDES
path-exclude=/usr/share/bug/*"
# a small initramfs: only what finds and mounts a virtio (or SCSI/SATA) disk's ext4 root by label, plus the
# virtio NIC's driver so the NIC is there when networkd starts (udev would load it tens of seconds later under TCG)
INITRAMFS_CONF='MODULES=list
RESUME=none'
INITRAMFS_MODULES='virtio_pci
virtio_blk
virtio_net
virtio_scsi
sd_mod
ahci
ext4
crc32c_generic'
# kernel modules no VM of ours needs (sound, graphics, radios, ...), dropped from the root to keep it small
STRIP_MODULES='sound drivers/gpu drivers/media drivers/net/wireless net/wireless net/mac80211 drivers/bluetooth
net/bluetooth drivers/infiniband drivers/staging drivers/isdn drivers/iio drivers/net/can net/can drivers/nfc
net/nfc drivers/thunderbolt drivers/fpga drivers/input/touchscreen drivers/input/joystick drivers/hwmon
drivers/mtd drivers/net/ethernet/mellanox drivers/net/ethernet/chelsio drivers/net/ethernet/qlogic
drivers/net/ethernet/broadcom/bnx2x drivers/net/ethernet/sfc drivers/net/ethernet/marvell drivers/net/usb'

# Units enabled in the image, and masked: apt's timers would reach deb.debian.org from the guest, and
# systemd-firstboot would prompt on the console of a machine with an empty /etc/machine-id.
ENABLE_UNITS=(systemd-networkd.service metal-ignition.service metal-ssh-hostkeys.service ssh.service)
MASK_UNITS=(apt-daily.timer apt-daily-upgrade.timer systemd-firstboot.service)

cleanup() {
  local m l
  # deepest first; never leave a mount under $MNT or a loop device behind
  awk -v p="$MNT" '$2 == p || index($2, p "/") == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  if [ -e "$WORK/disk.raw" ]; then
    for l in $(losetup -j "$WORK/disk.raw" -O NAME -n 2>/dev/null); do losetup -d "$l" 2>/dev/null || true; done
  fi
  if mountpoint -q "$ROOT/proc" 2>/dev/null; then umount -l "$ROOT/proc" || true; fi
}

inchroot() { # DIR CMD... : a clean environment in a chroot, at low priority
  local dir=$1; shift
  heavy chroot "$dir" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

root_hash() {
  (printf '%s\n' "$SUITE" "${PKGS[@]}" "$DPKG_EXCLUDES" "$INITRAMFS_CONF" "$INITRAMFS_MODULES" "$STRIP_MODULES") |
    sha256sum | cut -c1-16
}

image_hash() { # the root, the overlay (names, modes, contents) and this script (layout, units, cmdline)
  ( root_hash; echo "$IMAGE_SIZE_MB"; cat "$0"
    cd "$OVERLAY" && find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %a %F' &&
      find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum ) | sha256sum | cut -c1-16
}

build_root() {
  local want t0 kver d
  want=$(root_hash)
  if [ "$(cat "$ROOT_STAMP" 2>/dev/null || true)" = "$want" ] && [ -x "$ROOT/usr/bin/apt-get" ]; then
    log "root ready (cached: $ROOT)"; return 0
  fi
  t0=$(date +%s)
  apt_ensure debootstrap
  rm -f "$ROOT_STAMP"
  bootstrap_root "$ROOT" "$METAL_DIR/image-debootstrap.log" "$DPKG_EXCLUDES"
  mkdir -p "$ROOT/etc/initramfs-tools/conf.d"
  printf '%s\n' "$INITRAMFS_CONF" >"$ROOT/etc/initramfs-tools/conf.d/metal.conf"
  printf '%s\n' "$INITRAMFS_MODULES" >"$ROOT/etc/initramfs-tools/modules"
  log "apt-get install ${PKGS[*]} in the root (log: $APT_LOG)"
  if ! { inchroot "$ROOT" apt-get update -q && inchroot "$ROOT" apt-get install -y -q --no-install-recommends "${PKGS[@]}"; } >>"$APT_LOG" 2>&1; then
    umount -l "$ROOT/proc"; tail -n 20 "$APT_LOG" >&2; die "apt-get install in the root failed (log: $APT_LOG)"
  fi
  inchroot "$ROOT" apt-get clean
  umount "$ROOT/proc"
  strip_root "$ROOT"
  for kver in "$ROOT"/lib/modules/*; do
    kver=${kver##*/}
    for d in $STRIP_MODULES; do rm -rf "$ROOT/lib/modules/$kver/kernel/$d"; done
    inchroot "$ROOT" depmod -a "$kver"
  done
  echo "$want" >"$ROOT_STAMP"
  log "root built in $(($(date +%s) - t0)) s: $(du -sh --apparent-size "$ROOT" | cut -f1) ($(du -sh --apparent-size "$ROOT/usr/lib/modules" | cut -f1) of kernel modules)"
}

build_image() {
  local want t0 first last part kver
  want=$(image_hash)
  if [ "$(cat "$IMAGE_STAMP" 2>/dev/null || true)" = "$want" ] && [ -s "$IMAGE" ] && [ -s "$IMAGE.gz" ]; then
    log "image ready (cached: $IMAGE)"; return 0
  fi
  t0=$(date +%s)
  apt_ensure gdisk qemu-utils
  ! grep -q " $ROOT/" /proc/mounts || die "something is mounted under $ROOT: mke2fs -d would copy it"
  cleanup
  rm -rf "$WORK"; mkdir -p "$MNT"
  rm -f "$IMAGE_STAMP"
  log "disk: GPT, ${IMAGE_SIZE_MB} MiB, partition 1 = ext4 'root' (legacy BIOS bootable)"
  truncate -s "${IMAGE_SIZE_MB}M" "$WORK/disk.raw"
  sgdisk -o -n 1:2048:0 -c 1:root -t 1:8300 -A 1:set:2 "$WORK/disk.raw" >"$WORK/sgdisk.log" 2>&1 ||
    { cat "$WORK/sgdisk.log" >&2; die "sgdisk failed"; }
  # a loop device over partition 1 alone (this host's kernel may read no partition tables); extlinux takes
  # the partition's start from the loop offset (and gptmbr.bin hands it over at boot anyway)
  first=$(sgdisk -i 1 "$WORK/disk.raw" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
  last=$(sgdisk -i 1 "$WORK/disk.raw" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
  if [ -z "$first" ] || [ -z "$last" ]; then die "cannot read partition 1 of $WORK/disk.raw"; fi
  part=$(losetup -f --show -o $((first * 512)) --sizelimit $(((last - first + 1) * 512)) "$WORK/disk.raw")
  # ^64bit: syslinux cannot read ext4's 64bit layout; itable/journal zeroed now, not by the guest under TCG
  heavy mke2fs -q -t ext4 -L root -m 1 -O ^64bit -E lazy_itable_init=0,lazy_journal_init=0 -d "$ROOT" "$part"
  mount "$part" "$MNT"

  # the overlay, root-owned; then what every deployed machine must make for itself
  tar -C "$OVERLAY" --owner=0 --group=0 -cf - . | tar -C "$MNT" -xf -
  chmod 0440 "$MNT"/etc/sudoers.d/*   # git keeps no such mode
  rm -f "$MNT"/etc/ssh/ssh_host_* "$MNT/usr/sbin/policy-rc.d" "$MNT/var/lib/dbus/machine-id"
  : >"$MNT/etc/machine-id"          # empty: systemd makes one at first boot
  : >"$MNT/etc/resolv.conf"         # nothing in the guest resolves names
  find "$MNT/var/log" -type f -exec truncate -s 0 {} +

  kver=$(find "$MNT/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n1)
  if [ -z "$kver" ] || [ ! -s "$MNT/boot/initrd.img-$kver" ]; then die "no kernel/initrd in the root's /boot"; fi
  mkdir -p "$MNT/boot/extlinux"
  cat >"$MNT/boot/extlinux/extlinux.conf" <<EOF
# written by tests/metal/build-image.sh
SERIAL 0 115200
PROMPT 0
TIMEOUT 1
DEFAULT debian
LABEL debian
  LINUX /boot/vmlinuz-$kver
  INITRD /boot/initrd.img-$kver
  APPEND $KERNEL_CMDLINE
EOF
  mount -t proc proc "$MNT/proc"; mount --rbind /dev "$MNT/dev"; mount --make-rslave "$MNT/dev"
  mount -t sysfs sys "$MNT/sys"
  inchroot "$MNT" systemctl enable --quiet "${ENABLE_UNITS[@]}"
  inchroot "$MNT" systemctl mask --quiet "${MASK_UNITS[@]}"
  # systemd-ssh-generator looks for AF_VSOCK, fails (no vsock device) and says so at every boot
  mkdir -p "$MNT/etc/systemd/system-generators"; ln -sf /dev/null "$MNT/etc/systemd/system-generators/systemd-ssh-generator"
  # (its "unable to obtain device geometry" warning is harmless: BIOS disks are addressed by LBA)
  inchroot "$MNT" extlinux --install /boot/extlinux >"$WORK/extlinux.log" 2>&1 ||
    { cat "$WORK/extlinux.log" >&2; die "extlinux --install failed"; }
  # What systemd does at the first boot after /usr changed (ldconfig.service alone: 30 s under TCG) is done
  # here: the caches, then the .updated stamps with /usr's time (ConditionNeedsUpdate= compares them).
  inchroot "$MNT" ldconfig
  inchroot "$MNT" journalctl --update-catalog
  touch -r "$MNT/usr" "$MNT/etc/.updated" "$MNT/var/.updated"
  umount -R -l "$MNT/dev"; umount "$MNT/sys" "$MNT/proc"
  umount "$MNT"
  e2fsck -fn "$part" >"$WORK/e2fsck.log" 2>&1 || { cat "$WORK/e2fsck.log" >&2; die "e2fsck found errors on the new root filesystem"; }
  losetup -d "$part"
  # syslinux's GPT boot code: it boots the partition with the legacy-BIOS-bootable attribute
  dd if="$ROOT/usr/lib/syslinux/mbr/gptmbr.bin" of="$WORK/disk.raw" bs=440 count=1 conv=notrunc status=none

  heavy qemu-img convert -q -f raw -O qcow2 "$WORK/disk.raw" "$IMAGE.tmp"
  heavy gzip -6 -n -c "$IMAGE.tmp" >"$IMAGE.gz.tmp"
  mv "$IMAGE.tmp" "$IMAGE"; mv "$IMAGE.gz.tmp" "$IMAGE.gz"
  rm -rf "$WORK"
  echo "$want" >"$IMAGE_STAMP"
  log "image built in $(($(date +%s) - t0)) s (kernel $kver)"
}

[ "$(id -u)" = 0 ] || die "building the image needs root (debootstrap, chroot, loop devices)"
exec 9>"$METAL_DIR/.image.lock"
flock -n 9 || { log "another build-image.sh runs: waiting for it"; flock 9; }
trap cleanup EXIT
T0=$(date +%s)
build_root
build_image
log "done in $(($(date +%s) - T0)) s"
log "$IMAGE: $(du -h "$IMAGE" | cut -f1) on disk, $(qemu-img info --output=json "$IMAGE" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p' | awk '{printf "%d MiB", $1/1048576}') virtual"
log "$IMAGE.gz: $(du -h "$IMAGE.gz" | cut -f1)"
