#!/bin/bash
# RabbitMQ 3.10 (Debian 12 rabbitmq-server) on 127.0.0.1:5672, run as root in the foreground (no su to the
# rabbitmq user, no systemd), with its own epmd on 127.0.0.1:4369 and the Erlang distribution port pinned to
# 127.0.0.1:25672, so nothing listens on 0.0.0.0. guest/guest works because every client is on loopback.
# Needed by Nova (and a real Neutron). Usage: rabbitmq.sh   (state in $SERVICES_DIR/rabbitmq)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
D=$SERVICES_DIR/rabbitmq; mkdir -p "$D"/{mnesia,log}; chmod 700 "$D"

apt_ensure rabbitmq-server   # apt_ensure puts a temporary policy-rc.d in place: the postinst must not start it

export HOME=$D   # the Erlang cookie goes to $HOME/.erlang.cookie: keep it in the run dir
export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$EPMD_PORT
export RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$RABBIT_PORT
export RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT RABBITMQ_MNESIA_BASE=$D/mnesia RABBITMQ_LOG_BASE=$D/log
export RABBITMQ_PID_FILE=$D/beam-pid RABBITMQ_ENABLED_PLUGINS_FILE=$D/enabled_plugins
export RABBITMQ_CONFIG_FILE=$D/rabbitmq RABBITMQ_ADVANCED_CONFIG_FILE=$D/advanced.config
export RABBITMQ_CONF_ENV_FILE=$D/rabbitmq-env.conf
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
# a small broker: it only carries Nova's RPC
export RABBITMQ_SERVER_ERL_ARGS="+P 65536 +S 1:1 +A 8"
: > "$D/rabbitmq-env.conf"
echo '[].' > "$D/enabled_plugins"
echo '[].' > "$D/advanced.config"
cat > "$D/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$RABBIT_PORT
loopback_users.guest = true
vm_memory_high_watermark.absolute = 512MiB
disk_free_limit.absolute = 50MB
CONF
# '. $D/env; /usr/lib/rabbitmq/bin/rabbitmqctl status' (not /usr/sbin/rabbitmqctl: that one su's to rabbitmq)
env | grep -E '^(HOME|ERL_|RABBITMQ_)' | sed 's/^/export /; s/=\(.*\)$/="\1"/' > "$D/env"

if alive "$D/epmd.pid" && tcp_up $EPMD_PORT; then :; else
  start_bg "$D/epmd.pid" "$D/epmd.log" epmd -address 127.0.0.1 -port $EPMD_PORT
  for i in $(seq 25); do tcp_up $EPMD_PORT && break; sleep 0.2; done
fi
if alive "$D/rabbitmq.pid" && tcp_up $RABBIT_PORT; then
  log "rabbitmq already running (pid $(pid_of "$D/rabbitmq.pid")) on :$RABBIT_PORT"; exit 0
fi
start_bg "$D/rabbitmq.pid" "$D/stdout.log" /usr/lib/rabbitmq/bin/rabbitmq-server
t0=$(ms)
while ! tcp_up $RABBIT_PORT; do
  alive "$D/rabbitmq.pid" || fail rabbitmq "$D/stdout.log" "$D"/log/*.log
  [ $(( $(ms) - t0 )) -gt 90000 ] && fail "rabbitmq (no 5672 after 90 s)" "$D/stdout.log" "$D"/log/*.log
  sleep 0.2
done
log "rabbitmq answered on 127.0.0.1:$RABBIT_PORT after $(( $(ms) - t0 )) ms"
