#!/usr/bin/env bash
# `make demo-clean`: removes what `make demo` created in the local cloud
# (server, image, nodes), with the collection's own modules.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_COLLECTIONS_PATH="$PWD/build/demo/collections" OS_CLIENT_CONFIG_FILE="$PWD/build/services/clouds.yaml"
ansible-playbook -i playbooks/inventory/hosts.yml playbooks/teardown.yml
