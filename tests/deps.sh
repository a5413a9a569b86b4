#!/usr/bin/env bash
# Installs the Debian packages the tests, benchmarks and demo need, once.
# Idempotent and quick when everything is there. The OpenStack services
# install their own packages (tests/services/up.sh). `ignition` brings
# Debian's ignition-validate, an independent check of rendered configs;
# openssh-client and openssl make the demo's throwaway SSH key and CA;
# debootstrap builds the 2025.1 lane's Debian 13 root (tests/services/root.sh);
# ipmitool and python3-pyghmi: the IPMI enroll test runs its own BMC emulator on
# this machine and checks it with ipmitool, whichever lane runs.
set -euo pipefail
log() { echo "deps: $*"; }
die() { echo "deps: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
apt_ensure ansible ansible-core ignition qemu-utils python3-openstackclient python3-ironicclient zstd xz-utils curl openssh-client openssl debootstrap ipmitool python3-pyghmi
command -v go >/dev/null || die "Go is not on PATH (expected /usr/local/go/bin)"
