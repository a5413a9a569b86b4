#!/usr/bin/env bash
# Installs the Debian packages the tests, benchmarks and demo need, once.
# Idempotent and quick when everything is there. The OpenStack services
# install their own packages (tests/services/up.sh). `ignition` brings
# Debian's ignition-validate, an independent check of rendered configs.
set -euo pipefail
pkgs=(ansible ansible-core ignition qemu-utils python3-openstackclient python3-ironicclient zstd xz-utils curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo "dbconfig-common dbconfig-common/dbconfig-install boolean false" | debconf-set-selections
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "deps: Go is not on PATH (expected /usr/local/go/bin)" >&2; exit 1; }
