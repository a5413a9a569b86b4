#!/bin/bash
# IPMI BMC emulator (bmc-emulator.py, Debian python3-pyghmi) on udp 127.0.0.1:$BMC_PORTS (default 6230-6233),
# user $BMC_USER / password $BMC_PASSWORD (admin / password). State per port in $SERVICES_DIR/bmc/bmc-<port>.json.
# Usage: bmc.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
D=$SERVICES_DIR/bmc; mkdir -p "$D"
apt_ensure python3-pyghmi ipmitool

first=${BMC_PORTS%% *}
ipmi_ok() { ipmitool -I lanplus -H 127.0.0.1 -p "$1" -U "$BMC_USER" -E power status >/dev/null 2>&1; }
export IPMI_PASSWORD=$BMC_PASSWORD   # ipmitool -E reads it: the password never shows in ps
if alive "$D/bmc.pid" && ipmi_ok "$first"; then
  log "BMC emulator already running (pid $(pid_of "$D/bmc.pid")) on udp 127.0.0.1:${BMC_PORTS// /,}"; exit 0
fi
BMC_USER=$BMC_USER BMC_PASSWORD=$BMC_PASSWORD start_bg "$D/bmc.pid" "$D/bmc.log" $PY "$HERE/bmc-emulator.py" "$D" $BMC_PORTS
t0=$(ms)
for port in $BMC_PORTS; do
  until ipmi_ok "$port"; do
    alive "$D/bmc.pid" || fail "BMC emulator" "$D/bmc.log"
    [ $(( $(ms) - t0 )) -gt 30000 ] && fail "BMC emulator (udp $port does not answer ipmitool)" "$D/bmc.log"
    sleep 0.2
  done
done
log "BMC emulator answers ipmitool on udp 127.0.0.1:${BMC_PORTS// /,} after $(( $(ms) - t0 )) ms"
