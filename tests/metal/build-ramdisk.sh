#!/bin/bash
# The IPA (ironic-python-agent) deploy ramdisk of the emulated bare metal: a Debian 13 ("trixie") kernel and
# an initramfs holding a whole minimal trixie root with ironic-python-agent 10.2 (2025.1), built offline from
# Debian's packages. Outputs: build/metal/ipa.kernel, build/metal/ipa.initramfs (zstd cpio), rebuilt only when
# build/metal/ipa.stamp (a hash of the package list, the dpkg excludes, this script and the overlay
# tests/metal/ramdisk/) changes. The root it is packed from is cached in build/metal/.ipa-root (dot-named, so
# `go ... ./...` never walks into it) and reinstalled only when the package list or the excludes change.
#
# Usage: build-ramdisk.sh [build]   (root: debootstrap, chroot) cold 1.5-3.5 min, repack only ~15-35 s,
#                                   nothing to do < 1 s
#        build-ramdisk.sh clean     remove the root and the outputs
# Sizes (trixie, kernel 6.12): ipa.kernel 12 MB, ipa.initramfs 73 MB (244 MiB unpacked). The root lives in
# the kernel's tmpfs, remounted to 80% of the RAM: with 2 GiB about 1.3 GiB stay free for IPA's /tmp.
# Boot to IPA's first lookup under TCG: ~1 min on an idle host, ~1 m 45 s on a busy one.
#
# Boot (tests/metal/ramdisk/init, a small /init, no systemd: faster under TCG): proc/sys/dev, udev coldplug
# (loads virtio modules), DHCP on every ethernet NIC (dhcpcd; qemu user-net gives 10.0.2.15, gw 10.0.2.2),
# then /usr/local/sbin/metal-ipa starts ironic-python-agent, restarted if it exits. Kernel console: pass
# console=ttyS0 (Ironic's kernel_append_params) and the serial log shows the boot and IPA's log.
#
# Kernel parameters the ramdisk understands (besides everything IPA itself reads from /proc/cmdline:
# ipa-api-url, ipa-inspection-callback-url, ipa-insecure, ipa-debug, ipa-global-request-id, BOOTIF, ...):
#   Loopback trick (the conductor on the host reaches the agent through a qemu hostfwd on 127.0.0.1):
#   - IPA advertises 127.0.0.1:<20000 + last octet of the NIC's MAC in decimal>, e.g. MAC
#     52:54:00:00:00:0b -> 127.0.0.1:20011 (--advertise_host/--advertise_port, which beat IPA's defaults);
#     the NIC is BOOTIF's (iPXE passes BOOTIF=${mac}), else the first ethernet NIC. IPA still listens on
#     [::]:9999 (all addresses) in the guest; the VM runner forwards 127.0.0.1:<port> -> guest :9999. With
#     Ironic API >= 1.68 IPA turns on auto-TLS (a self-signed certificate for 127.0.0.1, sent in the
#     heartbeat as agent_verify_ca), so the callback URL is https://127.0.0.1:<port>.
#     An explicit ipa-advertise-host= / ipa-advertise-port= on the command line wins over the derived value.
#   - ipa-api-url and ipa-inspection-callback-url (comma lists too) whose host is 127.x.x.x or localhost are
#     rewritten to the host as the guest sees it (qemu user-net: 10.0.2.2, the DHCP default gateway), port and
#     path kept, and passed to IPA as --api_url / --inspection_callback_url (command-line options beat the
#     kernel-parameter defaults; config.py is the only reader of those two parameters). A rewrite of the
#     arguments was chosen over an nft DNAT of 127.0.0.0/8: the latter needs route_localnet + SNAT and would
#     also catch the guest's own loopback traffic.
#   - metal.host=IP      the address used for that rewrite (default: the DHCP gateway, else 10.0.2.2)
#   - metal.port_base=N  advertised port = N + last MAC octet (default 20000)
#   - metal.shell=1      also start a root shell on the (last console=) serial line, for debugging
# poweroff/reboot (IPA's power_off, run_image) sync and go through /proc/sysrq-trigger.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
OUT=$REPO_ROOT/build/metal
ROOT=$OUT/.ipa-root
OVERLAY=$HERE/ramdisk
ZSTD_LEVEL=${IPA_ZSTD_LEVEL:-12}

log() { printf '[ipa-ramdisk %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[ipa-ramdisk %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
mkdir -p "$OUT"
APT_LOG=$OUT/ipa-host-apt.log   # the host's apt (cpio, zstd, debootstrap); the root's goes to ipa-apt.log
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$REPO_ROOT/tests/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

# What IPA 10.2 shells out to while it inspects, looks up, writes a whole-disk image and a config drive
# (hardware.py, disk_utils.py, partition_utils.py, qemu_img.py, extensions/standby.py), by package:
#   util-linux: lsblk blkid blockdev wipefs findfs findmnt lscpu mount partx; util-linux-extra: hwclock;
#   parted: parted partprobe; gdisk: sgdisk; qemu-utils: qemu-img (image conversion); lshw, dmidecode,
#   pciutils (lspci), lsscsi, ipmitool (BMC address); udev: udevadm, pyudev; kmod: modprobe; iproute2: ip;
#   bsdextrautils: hexdump; psmisc: fuser; hdparm, smartmontools: erase / ATA checks;
#   dosfstools, e2fsprogs: filesystems; dhcpcd-base: DHCP. Left out (used only for RAID, multipath, iSCSI,
#   NVMe, UEFI, Mellanox, or a partition image's bootloader): mdadm, multipath-tools, open-iscsi, nvme-cli,
#   efibootmgr, mstflint, file.
PKGS=(
  linux-image-amd64
  udev kmod iproute2 dhcpcd-base procps
  util-linux util-linux-extra parted gdisk dosfstools e2fsprogs qemu-utils
  lshw dmidecode pciutils lsscsi ipmitool bsdextrautils psmisc hdparm smartmontools
)
# Debian's ironic-python-agent 10.2.0-3 Depends on much that a virtio deploy ramdisk never runs and that
# would quadruple the root (1.6 GB: libguestfs-tools with a second kernel and qemu, python3-libvirt, git,
# man-db, tuned, stress-ng, fio, sysbench, lldpad, open-iscsi, nvme-cli, mdadm, chrony, ...). So it is
# installed with dpkg --force-depends after these: the Python modules it imports (requirements.txt of
# 10.2.0, plus yaml). python3-tooz likewise: hardware.py imports burnin.py, which imports tooz.coordination,
# whose Debian package pulls every coordination backend (grpcio, etcd3, redis, kazoo, gevent, zake, ...); its
# core needs only futurist, msgpack and oslo.serialization, and a backend is loaded only for a burn-in.
IPA_PY_DEPS=(
  python3-cryptography python3-eventlet python3-oslo.concurrency python3-oslo.config python3-oslo.log
  python3-oslo.service python3-oslo.utils python3-pbr python3-pint python3-psutil python3-pyudev
  python3-requests python3-stevedore python3-tenacity python3-werkzeug python3-zeroconf python3-yaml
  python3-futurist python3-msgpack python3-oslo.serialization
)
FORCED=(python3-tooz ironic-python-agent)

# dpkg never unpacks these (docs, locales, the OUI list netaddr reads only for vendor names, babel's locales
# but English, udev's hwdb sources (IPA reads udev properties from rules, not the hwdb), the qemu tools but
# qemu-img, and every kernel module a virtio VM does not need): the kernel's postinst then runs depmod over
# what is left, so modules.dep stays true.
DPKG_EXCLUDES="$BASE_DPKG_EXCLUDES
path-exclude=/usr/share/bash-completion/*
path-exclude=/usr/share/zsh/*
path-exclude=/usr/share/fish/*
path-exclude=/usr/share/ieee-data/*
path-exclude=/usr/share/python-babel-localedata/locale-data/*
path-include=/usr/share/python-babel-localedata/locale-data/root.dat
path-include=/usr/share/python-babel-localedata/locale-data/en.dat
path-include=/usr/share/python-babel-localedata/locale-data/en_US.dat
path-include=/usr/share/python-babel-localedata/locale-data/en_001.dat
path-exclude=/usr/lib/udev/hwdb.d/*
path-exclude=/usr/bin/qemu-nbd
path-exclude=/usr/bin/qemu-io
path-exclude=/usr/bin/qemu-storage-daemon
path-exclude=/lib/firmware/*
path-exclude=/usr/lib/firmware/*
path-exclude=/lib/modules/*/kernel/*
path-exclude=/usr/lib/modules/*/kernel/*"
# kept: virtio, disks (scsi/ata/nvme for other qemu disk models), filesystems for images and config
# drives, md/dm, ipmi, a few NICs, vlan/packet, crypto and lib helpers those pull in
KEEP_MODULES=(
  drivers/virtio drivers/block drivers/cdrom drivers/nvme drivers/md drivers/char/ipmi drivers/char/hw_random
  drivers/firmware/qemu_fw_cfg.ko\* drivers/net/virtio_net.ko\* drivers/net/net_failover.ko\*
  drivers/net/ethernet/intel/e1000 drivers/net/ethernet/intel/e1000e
  drivers/scsi/sd_mod.ko\* drivers/scsi/sr_mod.ko\* drivers/scsi/sg.ko\* drivers/scsi/virtio_scsi.ko\*
  drivers/scsi/scsi_mod.ko\* drivers/scsi/scsi_common.ko\* drivers/ata/libata.ko\* drivers/ata/ahci.ko\*
  drivers/ata/libahci.ko\* drivers/ata/ata_piix.ko\* drivers/ata/ata_generic.ko\* drivers/ata/pata_acpi.ko\*
  fs/ext4 fs/jbd2 fs/mbcache.ko\* fs/fat fs/isofs fs/nls fs/udf
  net/core/failover.ko\* net/8021q net/packet net/llc net/802
  lib crypto arch/x86/crypto
)
dpkg_excludes() {
  local m
  printf '%s\n' "$DPKG_EXCLUDES"
  for m in "${KEEP_MODULES[@]}"; do
    # a directory keeps everything under it; a file pattern (ending .ko*) is itself
    case $m in *'*') ;; *) m="$m/*" ;; esac
    printf 'path-include=/lib/modules/*/kernel/%s\npath-include=/usr/lib/modules/*/kernel/%s\n' "$m" "$m"
  done
}

umount_root() {
  local m
  for m in "$ROOT/proc" "$ROOT/sys" "$ROOT/dev/pts"; do
    if mountpoint -q "$m"; then umount -l "$m" || die "cannot unmount $m"; fi
  done
}
safe_rm_root() {
  umount_root
  # never rm -rf through a mount
  ! grep -q " $ROOT/" /proc/mounts || die "still mounted under $ROOT: $(grep " $ROOT/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')"
  rm -rf "$ROOT"
}

build_root() {
  local want have t0
  want=$( (printf '%s\n' "$SUITE" "${PKGS[@]}" "${IPA_PY_DEPS[@]}" "${FORCED[@]}"; dpkg_excludes) | sha256sum | cut -c1-16)
  have=$(cat "$ROOT/.metalkit-ipa-root" 2>/dev/null || true)
  [ "$want" = "$have" ] && { log "IPA root ready (cached: $ROOT)"; return 0; }
  t0=$(date +%s)
  apt_ensure debootstrap
  # a changed package list or exclude list: start over, the excludes only act on what dpkg unpacks next
  umount_root
  bootstrap_root "$ROOT" "$OUT/ipa-debootstrap.log" "$(dpkg_excludes)"
  log "apt-get install ${#PKGS[@]}+${#IPA_PY_DEPS[@]} packages, dpkg -i ${FORCED[*]} into the root (log: build/metal/ipa-apt.log)"
  # INITRD=No: the kernel's postinst hook makes no initramfs-tools initrd (this root is the initramfs)
  if ! heavy chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive INITRD=No \
      PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "set -e; apt-get update -q
        apt-get install -y -q --no-install-recommends ${PKGS[*]} ${IPA_PY_DEPS[*]}
        cd /tmp; apt-get download -q ${FORCED[*]}
        dpkg --force-depends -i ./*.deb; rm -f ./*.deb
        apt-get clean" >"$OUT/ipa-apt.log" 2>&1; then
    umount_root; tail -n 20 "$OUT/ipa-apt.log" >&2; die "apt-get install in the IPA root failed (log: build/metal/ipa-apt.log)"
  fi
  umount_root
  # what was unpacked before the excludes existed (debootstrap's packages), what apt keeps, and IPA's unit
  # tests (removed here, not excluded: its postinst byte-compiles them)
  strip_root "$ROOT"
  rm -rf "$ROOT"/usr/lib/python3/dist-packages/{ironic_python_agent,tooz}/tests "$ROOT"/var/cache/debconf/*-old \
    "$ROOT"/var/log/*.log "$ROOT"/boot/initrd.img-*
  find "$ROOT/usr/lib/modules" -type d -empty -delete   # the excluded modules' directories
  echo "$want" >"$ROOT/.metalkit-ipa-root"
  log "IPA root built in $(($(date +%s) - t0)) s ($(du -sh "$ROOT" | cut -f1))"
}

inputs_hash() {
  local f
  {
    printf '%s\n' "$SUITE" "${PKGS[@]}" "${IPA_PY_DEPS[@]}" "${FORCED[@]}" "$ZSTD_LEVEL"; dpkg_excludes; cat "$0"
    # the overlay: names, modes and contents
    (cd "$OVERLAY" && find . -type f -o -type l | LC_ALL=C sort) | while read -r f; do
      printf '%s %s\n' "$f" "$(stat -c %a "$OVERLAY/$f")"; cat "$OVERLAY/$f"
    done
  } | sha256sum | cut -c1-16
}

pack() {
  local kver t0 tmp
  t0=$(date +%s)
  apt_ensure cpio zstd
  kver=$(basename "$(find "$ROOT/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n1)" | sed 's/^vmlinuz-//')
  [ -n "$kver" ] || die "no kernel in $ROOT/boot"
  tmp=$(mktemp -d "$OUT/.ipa-pack.XXXXXX")
  # two cpio archives back to back (the kernel unpacks them in order, later files win): the cached root
  # as it is, minus what a running agent never reads, then the overlay (init and scripts), owned by root
  (cd "$ROOT" && find . -xdev \
      \( -path ./boot -o -path ./proc -o -path ./sys -o -path ./run -o -path ./tmp -o -path ./var/cache/apt \
         -o -path ./var/lib/apt/lists -o -path ./usr/sbin/policy-rc.d -o -path ./etc/resolv.conf \
         -o -path ./.metalkit-ipa-root \) -prune -o -print | LC_ALL=C sort |
    heavy cpio --quiet -o -H newc -R 0:0) >"$tmp/root.cpio"
  (cd "$OVERLAY" && find . | LC_ALL=C sort | heavy cpio --quiet -o -H newc -R 0:0) >"$tmp/overlay.cpio"
  # the pruned mount points the init needs, empty
  mkdir -p "$tmp/empty/proc" "$tmp/empty/sys" "$tmp/empty/run" "$tmp/empty/tmp"
  chmod 1777 "$tmp/empty/tmp"
  (cd "$tmp/empty" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$tmp/dirs.cpio"
  # zstd: the Debian kernel has RD_ZSTD, and it unpacks much faster than gzip under TCG
  cat "$tmp/root.cpio" "$tmp/dirs.cpio" "$tmp/overlay.cpio" | heavy zstd -q -T2 "-$ZSTD_LEVEL" -o "$tmp/initramfs"
  cp "$ROOT/boot/vmlinuz-$kver" "$tmp/kernel"
  mv -f "$tmp/kernel" "$OUT/ipa.kernel"; mv -f "$tmp/initramfs" "$OUT/ipa.initramfs"
  log "packed kernel $kver: ipa.kernel $(du -h "$OUT/ipa.kernel" | cut -f1), ipa.initramfs $(du -h "$OUT/ipa.initramfs" | cut -f1) (unpacked $(( $(stat -c %s "$tmp/root.cpio") / 1048576 )) MiB) in $(($(date +%s) - t0)) s"
  rm -rf "$tmp"
}

do_build() {
  local want t0
  t0=$(date +%s)
  want=$(inputs_hash)
  if [ "$want" = "$(cat "$OUT/ipa.stamp" 2>/dev/null || true)" ] && [ -s "$OUT/ipa.kernel" ] && [ -s "$OUT/ipa.initramfs" ]; then
    log "IPA ramdisk ready (cached: build/metal/ipa.kernel, build/metal/ipa.initramfs)"; return 0
  fi
  [ "$(id -u)" = 0 ] || die "building the ramdisk needs root (debootstrap, chroot)"
  [ -x "$OVERLAY/init" ] || die "no executable $OVERLAY/init"
  rm -f "$OUT/ipa.stamp"
  build_root
  pack
  echo "$want" >"$OUT/ipa.stamp"
  log "IPA ramdisk built in $(($(date +%s) - t0)) s"
}

case ${1:-build} in
  build) do_build ;;
  clean) safe_rm_root; rm -f "$OUT"/ipa.kernel "$OUT"/ipa.initramfs "$OUT"/ipa.stamp ;;
  *) die "usage: build-ramdisk.sh [build|clean]" ;;
esac
