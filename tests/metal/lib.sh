# shellcheck shell=bash
# What the emulated-metal roots share: the IPA ramdisk's (build-ramdisk.sh) and the deployable image's
# (build-image.sh). Both are Debian 13 minbase roots built at low priority, with no docs, man pages or locales.
# The caller defines log and die.
SUITE=trixie
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

heavy() { nice -n 19 ionice -c3 "$@"; }

# What neither root needs; dpkg never unpacks it (each script adds its own lines).
# shellcheck disable=SC2034 # used by the scripts that source this file
BASE_DPKG_EXCLUDES='path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*'

# bootstrap_root ROOT LOG EXCLUDES: a fresh minbase root at ROOT (debootstrap's output in LOG), with the dpkg
# excludes EXCLUDES in force for every package installed after it, no daemon started by a postinst, the host's
# DNS, and /proc mounted (the caller unmounts it).
bootstrap_root() {
  local root=$1 out=$2 excludes=$3
  # never rm -rf through a mount
  ! grep -q " $root/" /proc/mounts || die "still mounted under $root: $(grep " $root/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')"
  rm -rf "$root"; mkdir -p "$root"
  log "debootstrap $SUITE (minbase) into $root (log: $out)"
  heavy debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$out" 2>&1 || die "debootstrap failed: see $out"
  printf '%s\n' "$excludes" >"$root/etc/dpkg/dpkg.cfg.d/90-metalkit"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
}

# strip_root ROOT: what debootstrap unpacked before the excludes existed, and apt's lists.
strip_root() {
  local root=$1
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian "$root"/usr/share/bug
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*
}
