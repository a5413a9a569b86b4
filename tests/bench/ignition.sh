#!/usr/bin/env bash
# ignition_render start-to-result: the static binary run as Ansible runs it
# (argv[1] = args file), timed by hyperfine over many runs. Also the same
# render through a real ansible-playbook task, for scale.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hyperfine >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine >/dev/null 2>&1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
ssh-keygen -q -t ed25519 -N '' -f "$work/key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
for spec in 3.4.0 2.2.0; do
  cat > "$work/args-$spec.json" <<JSON
{"spec_version": "$spec", "users": [{"name": "core", "ssh_authorized_keys": ["$(cat "$work/key.pub")"]}],
 "ca_certificates": ["$work/ca.pem"], "files": [{"path": "/etc/hostname", "contents": "node-1", "mode": 420}],
 "dest": "$work/config-$spec.ign", "_ansible_check_mode": false, "_ansible_diff": false}
JSON
done
bin=build/bin/ignition_render
hyperfine -N --warmup 5 --runs 200 --style basic --export-markdown "$work/h.md" \
  -n "ignition_render 3.4.0 (start to result)" "$bin $work/args-3.4.0.json" \
  -n "ignition_render 2.2.0 (start to result)" "$bin $work/args-2.2.0.json" >/dev/null 2>&1
cat "$work/h.md"
