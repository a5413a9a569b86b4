#!/usr/bin/env bash
# `make demo-cold`: times `make demo` on a fresh Debian 12, as a new user
# meets it. A minimal root (debootstrap --variant=minbase, plus git, make,
# gcc and curl, with this machine's Go and CA certificates copied in) gets a
# clone of this checkout's HEAD and runs `make demo` in a chroot: Debian
# packages, Go modules, the build, the services and both playbook runs from
# scratch. The chroot shares this machine's network, so the local services
# must be stopped first (make services-down); its own are stopped, and its
# mounts undone, at the end. Needs root; about 9 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
root=$repo/build/.fresh-debian # dot-named: `go ... ./...` does not walk into it
log() { echo "demo-cold: $*"; }
die() { echo "demo-cold: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. tests/lib.sh
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"
tcp_up 5000 && die "something listens on 127.0.0.1:5000: stop the local services first (make services-down)"
apt_ensure debootstrap
command -v go >/dev/null || die "Go is not on PATH"

inroot() {
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
    PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c "$1"
}
cleanup() {
  if mountpoint -q "$root/proc"; then inroot 'cd /root/metalkit && tests/services/down.sh' >/dev/null 2>&1 || true; fi
  umount -R -l "$root/dev" 2>/dev/null || true
  umount "$root/sys" 2>/dev/null || true
  umount "$root/proc" 2>/dev/null || true
}
trap cleanup EXIT

cleanup
# Never rm -rf through a mount (a bound /dev is this machine's /dev).
! grep -q " $root/" /proc/mounts || die "still mounted under $root: $(grep " $root/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')"
rm -rf "$root"
mkdir -p "$root"
log "debootstrap bookworm (minbase + git make gcc curl) into $root"
t0=$(date +%s)
debootstrap --variant=minbase --include=ca-certificates,git,make,gcc,libc6-dev,curl,procps \
  bookworm "$root" http://deb.debian.org/debian >"$repo/build/demo-cold-debootstrap.log" 2>&1 ||
  die "debootstrap failed: see build/demo-cold-debootstrap.log"
cp -a "$(go env GOROOT)" "$root/usr/local/go"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# A machine behind a TLS-inspecting proxy trusts its CA: the fresh one must too.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi
git clone -q "$repo" "$root/root/metalkit"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
log "fresh root ready in $(($(date +%s) - t0)) s; make demo in it (commit $(git rev-parse --short HEAD))"
t1=$(date +%s)
inroot 'cd /root/metalkit && make demo'
log "cold make demo: $(($(date +%s) - t1)) s on a fresh Debian 12 (not counting the root's own set-up)"
