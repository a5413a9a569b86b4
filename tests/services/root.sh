#!/bin/bash
# The Debian 13 ("trixie") root of the 2025.1 lane: OpenStack 2025.1 "Epoxy" from Debian 13's packages, run
# by the same service scripts in a chroot on this Debian 12 machine. A chroot keeps the host's network
# namespace (so everything still listens on the host's 127.0.0.1 only) and its PID namespace (so down.sh stops
# the lane's processes by the PIDs they recorded, from the host).
#
# Usage: root.sh build     debootstrap the root once, cached under build/.root-2025.1 (rebuilt when the
#                          package list below changes)
#        root.sh build-bg  start `build` in the background and return (make test: the root is built while the
#                          Zed lane runs); root.sh wait-bg waits for it, shows its log, fails if it failed
#        root.sh mount     bind the checkout into the root at its own path, plus /proc /sys /dev
#        root.sh run CMD   run a shell command in the root (mounting first), with SERVICES_DIR and
#                          RELEASE passed through
#        root.sh umount    undo the mounts (down.sh does, after stopping the lane)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
# $RELEASE_ROOT (lib.sh) is dot-named: `go ... ./...` and the collection build do not walk into it
ROOT=$RELEASE_ROOT
SUITE=trixie
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# Everything up.sh starts on this release (ironic-inspector is gone: Ironic inspects by itself).
PKGS=(
  ca-certificates curl procps iproute2 util-linux ipmitool genisoimage
  python3-keystone python3-ironic python3-glance python3-keystonemiddleware
  python3-nova python3-placement python3-neutron python3-pyghmi python3-pymysql
  python3-openstackclient python3-ironicclient python3-keystoneclient
  rabbitmq-server mariadb-server
)
# Fixes to the packaged code, applied after every install (patch -p1 from the root's /); each says why.
PATCHES=("$HERE"/patches/2025.1/*.patch)
STAMP=$ROOT/.metalkit-root

mounted() { mountpoint -q "$ROOT$1"; }

do_mount() {
  [ -s "$STAMP" ] || die "no root at $ROOT: root.sh build first"
  mounted /proc || mount -t proc proc "$ROOT/proc"
  mounted /sys || mount -t sysfs sys "$ROOT/sys"
  if ! mounted /dev; then mount --rbind /dev "$ROOT/dev" && mount --make-rslave "$ROOT/dev"; fi
  mkdir -p "$ROOT$REPO_ROOT"
  mounted "$REPO_ROOT" || mount --bind "$REPO_ROOT" "$ROOT$REPO_ROOT"
}

do_umount() {
  local m
  # deepest first; -l: a process of the lane that is still exiting must not keep a mount
  for m in "$REPO_ROOT" /dev /sys /proc; do
    if mounted "$m"; then umount -R -l "$ROOT$m" || die "cannot unmount $ROOT$m"; fi
  done
}

inroot() { # CMD : a login-free shell in the root, with a clean environment
  chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ${SERVICES_DIR:+SERVICES_DIR=$SERVICES_DIR} RELEASE=2025.1 IN_RELEASE_ROOT=1 \
    ${SERVICES_DEBUG:+SERVICES_DEBUG=$SERVICES_DEBUG} ${KEYSTONE_TOKEN_EXPIRATION:+KEYSTONE_TOKEN_EXPIRATION=$KEYSTONE_TOKEN_EXPIRATION} \
    /bin/bash -c "$1"
}

apply_patches() {
  local p
  for p in "${PATCHES[@]}"; do
    if patch -p1 -R --dry-run -s -f -d "$ROOT" <"$p" >/dev/null 2>&1; then
      log "patch $(basename "$p"): already in the root"
    else
      patch -p1 -s -f -d "$ROOT" <"$p" || die "patch $p does not apply to the root's packages"
      log "patch $(basename "$p"): applied"
    fi
  done
}

do_build() {
  local want have t0
  want=$( (printf '%s\n' "$SUITE" "${PKGS[@]}"; cat "${PATCHES[@]}") | sha256sum | cut -c1-16)
  have=$(cat "$STAMP" 2>/dev/null || true)
  [ "$want" = "$have" ] && { log "Debian 13 root ready (cached: $ROOT)"; return 0; }
  [ "$(id -u)" = 0 ] || die "building the root needs root (debootstrap, chroot)"
  [ -z "$(root_pids)" ] || die "the 2025.1 lane runs in $ROOT: stop it first (make services-down)"
  APT_LOG=$REPO_ROOT/build/root-2025.1-apt.log
  apt_ensure debootstrap
  do_umount
  # never rm -rf through a mount (a bound /dev is this machine's /dev)
  ! grep -q " $ROOT/" /proc/mounts || die "still mounted under $ROOT: $(grep " $ROOT/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')"
  t0=$(date +%s)
  if [ -x "$ROOT/usr/bin/apt-get" ] && [ -e "$ROOT/etc/debian_version" ]; then
    log "Debian 13 root at $ROOT: package list changed, installing into it"
  else
    rm -rf "$ROOT"; mkdir -p "$ROOT"
    log "debootstrap $SUITE (minbase) into $ROOT (log: build/root-2025.1-debootstrap.log)"
    debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$REPO_ROOT/build/root-2025.1-debootstrap.log" 2>&1 ||
      die "debootstrap failed: see build/root-2025.1-debootstrap.log"
  fi
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  # a machine behind a TLS-inspecting proxy trusts its CA: the root must too
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"; cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  fi
  # the packages through the same apt_ensure as on Zed (tests/lib.sh: debconf answers, no daemon started by a
  # postinst), run in the root; the stamp is not there yet, so mount by hand
  mounted /proc || mount -t proc proc "$ROOT/proc"
  mkdir -p "$ROOT$REPO_ROOT"; mounted "$REPO_ROOT" || mount --bind "$REPO_ROOT" "$ROOT$REPO_ROOT"
  if ! inroot "HERE=$HERE; . $HERE/lib.sh; APT_LOG=$APT_LOG; apt_ensure ${PKGS[*]} && apt-get clean"; then
    do_umount; die "apt-get install in the root failed (log: $APT_LOG)"
  fi
  do_umount
  apply_patches
  echo "$want" > "$STAMP"
  log "Debian 13 root built in $(($(date +%s) - t0)) s"
}

BG=$REPO_ROOT/build/root-2025.1-bg
do_build_bg() {
  mkdir -p "$(dirname "$BG")"; rm -f "$BG.rc"
  # its own session, so the make recipe that starts it can end; the exit status lands in $BG.rc
  # shellcheck disable=SC2016 # $0 and $1 are the inner shell's
  setsid bash -c '"$0" build >"$1.log" 2>&1; echo $? >"$1.rc"' "$HERE/root.sh" "$BG" </dev/null >/dev/null 2>&1 &
  echo $! >"$BG.pid"
  log "building the Debian 13 root in the background (pid $!, log build/root-2025.1-bg.log)"
}
do_wait_bg() {
  local pid rc t0
  [ -e "$BG.pid" ] || return 0   # none started: up.sh builds the root itself when it needs to
  pid=$(cat "$BG.pid"); t0=$(date +%s)
  while [ ! -e "$BG.rc" ] && kill -0 "$pid" 2>/dev/null; do sleep 1; done
  rm -f "$BG.pid"
  sed 's/^/[root build] /' "$BG.log" 2>/dev/null || true
  # no status: it was stopped before it ended (an interrupted make): up.sh builds the root itself
  [ -e "$BG.rc" ] || { log "the background build of the root did not finish: the lane builds it"; return 0; }
  rc=$(cat "$BG.rc")
  [ "$rc" = 0 ] || die "the background build of the Debian 13 root failed (exit status $rc; log: build/root-2025.1-bg.log)"
  log "Debian 13 root ready (waited $(($(date +%s) - t0)) s for the background build)"
}

case ${1:-} in
  build) do_build ;;
  build-bg) do_build_bg ;;
  wait-bg) do_wait_bg ;;
  mount) do_mount ;;
  umount) do_umount ;;
  run) shift; do_mount; inroot "$*" ;;
  *) die "usage: root.sh build|build-bg|wait-bg|mount|run CMD|umount" ;;
esac
