# Helpers every tests/ script shares (sourced, never executed): Debian
# packages, the built collection tarball, a loopback port check. The sourcing script defines
# log MSG and die MSG (its own prefix) and may set APT_LOG.

APT_LOG=${APT_LOG:-${TMPDIR:-/tmp}/metalkit-apt.log}

# ---------------------------------------------------------------- packages
# apt_ensure PKG... : install only what is missing; never prompts; waits for another apt/dpkg to finish.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
dpkg_busy() {
  # fuser is not always there; ask the kernel who holds the lock files open
  local f
  for f in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock; do
    [ -e "$f" ] || continue
    if command -v fuser >/dev/null 2>&1; then fuser "$f" >/dev/null 2>&1 && return 0
    else ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q " -> $f\$" && return 0; fi
  done
  return 1
}
wait_dpkg() {
  local t0; t0=$(date +%s)
  while dpkg_busy; do
    [ $(( $(date +%s) - t0 )) -gt 1800 ] && die "dpkg/apt lock still held after 30 min"
    [ $(( ($(date +%s) - t0) % 30 )) -eq 0 ] && log "waiting for another apt/dpkg to release its lock"
    sleep 1
  done
}
apt_run() { # apt-get ARGS... with the lock waited for; retried once if we lost a race for the lock
  local i
  for i in 1 2 3 4 5 6; do
    wait_dpkg
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@" && return 0
    dpkg_busy || return 1
  done
  return 1
}
APT_UPDATED=0
apt_ensure() {
  local missing=() p policy_tmp=0
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]} (log: $APT_LOG)"
  echo "dbconfig-common dbconfig-common/dbconfig-install boolean false" | debconf-set-selections
  # no systemd/init here: a postinst must not try to start daemons (rabbitmq-server would)
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; policy_tmp=1; fi
  local ok=0
  if ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || { APT_UPDATED=1; apt_run update -qq >>"$APT_LOG" 2>&1; }; then
    apt_run install -y -q --no-install-recommends "${missing[@]}" >>"$APT_LOG" 2>&1 && ok=1
  fi
  if [ $ok = 0 ] && [ $APT_UPDATED = 0 ]; then   # stale lists: refresh once, retry
    APT_UPDATED=1
    apt_run update -qq >>"$APT_LOG" 2>&1 && apt_run install -y -q --no-install-recommends "${missing[@]}" >>"$APT_LOG" 2>&1 && ok=1
  fi
  [ $policy_tmp = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $ok = 1 ] || { tail -n 20 "$APT_LOG" >&2; die "apt-get install ${missing[*]} failed"; }
}

# ---------------------------------------------------------------- ports
# tcp_up PORT : something accepts connections on 127.0.0.1:PORT.
tcp_up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- collection
# collection_tarball REPO : the one built build/metalkit-baremetal-*.tar.gz.
collection_tarball() {
  local tarballs
  shopt -s nullglob
  tarballs=("$1"/build/metalkit-baremetal-*.tar.gz)
  shopt -u nullglob
  [ "${#tarballs[@]}" -eq 1 ] || die "want exactly one build/metalkit-baremetal-*.tar.gz (run \`make collection\`), found ${#tarballs[@]}"
  echo "${tarballs[0]}"
}
