#!/usr/bin/env bash
# The ansible-core 2.19 lane: Debian 13's ("trixie") ansible-core package, unpacked under build/ansible-2.19
# and run by this Debian 12 machine's /usr/bin/python3 (3.11; 2.19 wants >= 3.11). Nothing is installed:
# a private apt configuration (its own lists, cache and sources, none of /etc/apt's) downloads the .deb,
# signature-checked against Debian 12's debian-archive-keyring, which carries the trixie keys.
#
#   tests/ansible-lane.sh && PATH=$PWD/build/ansible-2.19/bin:$PATH ansible-playbook --version
#
# ansible-core is the only trixie package: it is pure Python, and Debian 12's python3-jinja2, -yaml,
# -cryptography, -packaging and -resolvelib meet its requirements (checked on every run, from the
# package's own METADATA). Cached: a second run only checks and prints the version. To take a newer
# trixie ansible-core, remove build/ansible-2.19.
set -euo pipefail
log() { echo "ansible-lane: $*"; }
die() { echo "ansible-lane: $*" >&2; exit 1; }
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$REPO/tests/lib.sh"

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PY=/usr/bin/python3
LANE=$REPO/build/ansible-2.19
A=$LANE/apt
STAMP=$LANE/.stamp
LOG=$LANE/apt.log
# The deb's /usr/bin scripts, each `from ansible.cli.X import main`: the wrappers run them as they are.
CLIS=(ansible ansible-config ansible-console ansible-doc ansible-galaxy ansible-inventory ansible-playbook ansible-pull ansible-test ansible-vault)

aptq() { # apt-get ARGS... with the lane's own configuration only
  APT_CONFIG=$A/apt.conf apt-get -q "$@" >>"$LOG" 2>&1 || { tail -n 20 "$LOG" >&2; die "apt-get $1 failed (log: $LOG)"; }
}

build() {
  local deb
  rm -rf "$A" "$LANE"/{root,bin,debs}.new "$STAMP" && mkdir -p "$A"/{etc/apt.conf.d,etc/sources.list.d,etc/preferences.d,etc/trusted.gpg.d,lists/partial,cache/archives/partial} "$LANE/debs.new"
  : >"$LOG"
  : >"$A/status" # an empty dpkg status: this apt knows nothing of what the machine has installed
  printf 'deb [signed-by=%s] %s\n' "$KEYRING" "$MIRROR trixie main" "$KEYRING" "$MIRROR trixie-updates main" \
    "$KEYRING" "$SECURITY_MIRROR trixie-security main" >"$A/etc/sources.list"
  # APT_CONFIG is read before /etc/apt/apt.conf.d, and moves it: none of the host's hooks (appstream,
  # packagekit, docker-clean) or its Check-Valid-Until "false" apply here.
  cat >"$A/apt.conf" <<EOF
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$A/etc/apt.conf.d";
Dir::Etc::sourcelist "$A/etc/sources.list";
Dir::Etc::sourceparts "$A/etc/sources.list.d";
Dir::Etc::preferences "/dev/null";
Dir::Etc::preferencesparts "$A/etc/preferences.d";
Dir::Etc::trusted "/dev/null";
Dir::Etc::trustedparts "$A/etc/trusted.gpg.d";
Dir::State "$A";
Dir::State::lists "$A/lists";
Dir::State::status "$A/status";
Dir::Cache "$A/cache";
Dir::Log "$A";
Acquire::Languages "none";
EOF
  log "apt-get update (trixie, private lists under $A; log: $LOG)"
  aptq update
  # as root, apt downloads as _apt: let it write where `download` puts the files
  [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$LANE/debs.new"
  (cd "$LANE/debs.new" && aptq download ansible-core)
  rm -rf "$A/lists" "$A/cache" # 140 MB of trixie indexes that only this download needed
  mkdir -p "$LANE/root.new"
  for deb in "$LANE"/debs.new/*.deb; do
    # a compiled package would be built for trixie's python 3.13 ABI
    [ "$(dpkg-deb -f "$deb" Architecture)" = all ] || die "$(basename "$deb") is not pure Python (Architecture: all)"
    dpkg-deb -x "$deb" "$LANE/root.new"
  done
  # byte-compile once with 3.11: proves 3.11 parses all of it, and a non-root user need not write __pycache__
  "$PY" -m compileall -q -j0 "$LANE/root.new/usr/lib/python3/dist-packages" >>"$LOG" 2>&1 ||
    { tail -n 20 "$LOG" >&2; die "python3.11 cannot compile the trixie package"; }
  mkdir -p "$LANE/bin.new"
  for cli in "${CLIS[@]}"; do
    [ -f "$LANE/root.new/usr/bin/$cli" ] || die "the ansible-core package has no /usr/bin/$cli"
    cat >"$LANE/bin.new/$cli" <<EOF
#!/bin/sh
# ansible-core 2.19 from build/ansible-2.19/root (tests/ansible-lane.sh), on $PY: its ansible comes first on
# PYTHONPATH, exported so ansible-pull, ansible-test and ansible-connection children get it too.
root=\$(dirname "\$(readlink -f "\$0")")/../root
export PYTHONPATH="\$root/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}"
# The collections of Debian 12's ansible 7 (/usr/lib/python3/dist-packages/ansible_collections) stay on
# sys.path, as for 2.14: ansible.posix's json callback, which the tests read, is there.
exec $PY "\$root/usr/bin/$cli" "\$@"
EOF
    chmod +x "$LANE/bin.new/$cli"
  done
  rm -rf "$LANE"/{root,bin,debs} && for d in root bin debs; do mv "$LANE/$d.new" "$LANE/$d"; done
  dpkg-deb -W --showformat='${Package} ${Version}\n' "$LANE"/debs/*.deb >"$STAMP.versions"
}

# Needs the deps from Debian 12 (present wherever tests/deps.sh has run: ansible-core depends on them).
apt_ensure debian-archive-keyring python3-jinja2 python3-yaml python3-cryptography python3-packaging python3-resolvelib
mkdir -p "$LANE"
key="script $(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)" # the package list, sources and wrappers are all here
if [ "$(cat "$STAMP" 2>/dev/null)" != "$key" ] || [ ! -x "$LANE/bin/ansible-playbook" ]; then
  build
  echo "$key" >"$STAMP"
fi

# What the wrappers import, checked against the package's Requires-Python and Requires-Dist.
meta=$(echo "$LANE"/root/usr/lib/python3/dist-packages/ansible_core-*.dist-info/METADATA)
PYTHONPATH="$LANE/root/usr/lib/python3/dist-packages" "$PY" - "$meta" <<'EOF' || die "Debian 12's python3 does not meet ansible-core's requirements"
import email, importlib.metadata as md, platform, sys
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

meta = email.message_from_file(open(sys.argv[1]))
have, bad = [f"python {platform.python_version()}"], []
if not SpecifierSet(meta["Requires-Python"] or "").contains(platform.python_version()):
    bad.append(f"{have[0]} (wants {meta['Requires-Python']})")
for r in map(Requirement, meta.get_all("Requires-Dist") or []):
    if r.marker and not r.marker.evaluate({"extra": ""}):
        continue
    try:
        v = md.version(r.name)
    except md.PackageNotFoundError:
        v = None
    if v is None or not r.specifier.contains(v, prereleases=True):
        bad.append(f"{r.name} {v or 'missing'} (wants {r.specifier or 'any'})")
    have.append(f"{r.name} {v}")
if bad:
    sys.exit("unmet: " + ", ".join(bad))
print("ansible-lane: controller deps: " + ", ".join(have))
EOF
ver=$("$LANE/bin/ansible-playbook" --version | sed -n '1s/^ansible-playbook \[core \(.*\)\]$/\1/p')
case $ver in 2.19.*) ;; *) die "build/ansible-2.19/bin/ansible-playbook reports core '${ver:-?}', not 2.19" ;; esac
log "ansible-core $ver ($(paste -sd, "$STAMP.versions")) on $PY: PATH=$LANE/bin:\$PATH"
