#!/usr/bin/env bash
# ansible-lint (Debian 12's package, offline, profile production) on the
# sample playbooks, the molecule scenario and the execution environment file.
#
#   make collection && tests/lint.sh [paths...]    (default: playbooks extensions/molecule execution-environment.yml)
#
# The playbooks call our modules by FQCN, so the built collection is installed
# into a throwaway collections path first; without it ansible-lint's
# syntax-check cannot resolve metalkit.baremetal.* and fails.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Debian's python: a pyenv python3 on PATH cannot import Debian's packages.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8
die() { echo "lint: $*" >&2; exit 1; }

missing=()
for p in ansible-core ansible-lint; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "lint: installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	log=$(mktemp)
	apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1 ||
		{ apt-get update -q >>"$log" 2>&1 && apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; } ||
		{ cat "$log" >&2; die "apt-get install ${missing[*]} failed"; }
	rm -f "$log"
fi

shopt -s nullglob
tarballs=("$repo"/build/metalkit-baremetal-*.tar.gz)
shopt -u nullglob
[ "${#tarballs[@]}" -eq 1 ] || die "want exactly one build/metalkit-baremetal-*.tar.gz (run \`make collection\`), found ${#tarballs[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/metalkit-lint.XXXXXX")
trap 'rm -rf "$work"' EXIT
ansible-galaxy collection install --force -p "$work" "${tarballs[0]}" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; die "installing ${tarballs[0]} failed"; }

# The path must name the ansible_collections folder itself: ansible-lint 6.13
# (ansible-compat 2.2) sets up Ansible 2.14's collection finder on the
# *parent* of ANSIBLE_COLLECTIONS_PATH, and Ansible accepts either form.
export ANSIBLE_COLLECTIONS_PATH="$work/ansible_collections"

cd "$repo"
if [ "$#" -eq 0 ]; then
	set -- playbooks
	[ -d extensions/molecule ] && set -- "$@" extensions/molecule
	[ -f execution-environment.yml ] && set -- "$@" execution-environment.yml
fi
echo "lint: ansible-lint $(dpkg-query -W -f='${Version}' ansible-lint) on: $*"
ansible-lint --offline --nocolor -c "$repo/.ansible-lint" "$@"
