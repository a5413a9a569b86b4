#!/bin/bash
# MariaDB 10.11 (Debian 12 mariadb-server) for Nova, Placement and Neutron: a private server on a unix socket only
# (skip-networking: it listens on no TCP port at all), run as root from the run dir, no systemd.
# Why not sqlite as the other services: Nova's four processes write the same cell database at once, and
# under a few concurrent builds sqlite loses the race ("database is locked" in nova-conductor, a server
# left in BUILD/scheduling); Nova's own CI runs on MySQL. Neutron's port writes, ten builds at once, waited
# seconds each on sqlite's busy handler.
# Usage: mariadb.sh   (state in $SERVICES_DIR/mariadb; clients connect with $MARIADB_SOCKET, see lib.sh)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
D=$SERVICES_DIR/mariadb; mkdir -p "$D"; chmod 700 "$D"

apt_ensure mariadb-server python3-pymysql   # apt_ensure's policy-rc.d keeps the postinst from starting one

cat > "$D/my.cnf" <<CONF
[mariadbd]
datadir = $D/data
socket = $MARIADB_SOCKET
pid-file = $D/mariadbd.pid-own
log-error = $D/error.log
skip-networking
user = root
# a test bed: small, and no fsync per commit
innodb_buffer_pool_size = 128M
innodb_log_file_size = 64M
innodb_flush_log_at_trx_commit = 2
max_connections = 400
# READ COMMITTED, as Galera deployments run it: under REPEATABLE READ, Zed Placement's retry after a
# provider generation conflict re-reads usages from the transaction's old snapshot and books a second
# allocation on a node whose only unit is taken (two concurrent PUT /allocations on a total=1 provider
# both answered 204 in about one try in three; Nova then put two servers on one Ironic node)
transaction-isolation = READ-COMMITTED
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
CONF

if [ ! -e "$D/.initialized" ]; then
  rm -rf "$D/data"
  mariadb-install-db --defaults-file="$D/my.cnf" --auth-root-authentication-method=socket \
    --skip-test-db >"$D/install.log" 2>&1 || fail mariadb-install-db "$D/install.log"
  # a new data dir holds no schema: Nova and Placement sync theirs again
  rm -f "$SERVICES_DIR"/nova/.db-ready* "$SERVICES_DIR"/nova/.host-mapped "$SERVICES_DIR"/placement/.db-ready* \
    "$SERVICES_DIR"/neutron/.db-ready*
  touch "$D/.initialized"
fi

if alive "$D/mariadb.pid" && [ -S "$MARIADB_SOCKET" ] && mariadb_sql "select 1" >/dev/null 2>&1; then
  log "mariadb already running (pid $(pid_of "$D/mariadb.pid")) on $MARIADB_SOCKET"
else
  start_bg "$D/mariadb.pid" "$D/stdout.log" mariadbd --defaults-file="$D/my.cnf"
  t0=$(ms)
  until mariadb_sql "select 1" >/dev/null 2>&1; do
    alive "$D/mariadb.pid" || fail mariadb "$D/error.log" "$D/stdout.log"
    [ $(( $(ms) - t0 )) -gt 60000 ] && fail "mariadb (no answer on its socket after 60 s)" "$D/error.log"
    sleep 0.2
  done
  log "mariadb answered on $MARIADB_SOCKET after $(( $(ms) - t0 )) ms"
fi

# one user for the OpenStack services (root stays socket-authenticated)
mariadb_sql "CREATE USER IF NOT EXISTS 'openstack'@'localhost' IDENTIFIED BY '$SERVICE_PASSWORD';
  GRANT ALL PRIVILEGES ON *.* TO 'openstack'@'localhost'; FLUSH PRIVILEGES;" \
  || fail "mariadb (creating the openstack user)" "$D/error.log"
