# Shared helpers for tests/services/*.sh (sourced, never executed).
# Everything a service needs lives under $SERVICES_DIR/<service>/: config, sqlite, logs, <name>.pid.

# Debian's interpreter, always: a pyenv/venv python3 first on PATH cannot import the Debian packages.
PY=/usr/bin/python3
HERE=${HERE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
REPO_ROOT=$(cd "$HERE/../.." && pwd)
SERVICES_DIR=${SERVICES_DIR:-$REPO_ROOT/build/services}
mkdir -p "$SERVICES_DIR"
SERVICES_DIR=$(cd "$SERVICES_DIR" && pwd)
export SERVICES_DIR

# Credentials and ports (override from the environment; the defaults are what README.md documents).
ADMIN_PASSWORD=${ADMIN_PASSWORD:-admin}
SERVICE_PASSWORD=${SERVICE_PASSWORD:-secret}
BMC_USER=${BMC_USER:-admin}
BMC_PASSWORD=${BMC_PASSWORD:-password}
BMC_PORTS=${BMC_PORTS:-6230 6231 6232 6233}
KEYSTONE_URL=http://127.0.0.1:5000
IRONIC_PORT=6385 GLANCE_PORT=9292
STANDALONE_IRONIC_PORT=${STANDALONE_IRONIC_PORT:-6388} STANDALONE_GLANCE_PORT=${STANDALONE_GLANCE_PORT:-9293}
PLACEMENT_PORT=8778 NOVA_PORT=8774 NEUTRON_PORT=9696 RABBIT_PORT=5672 EPMD_PORT=4369 RABBIT_DIST_PORT=25672
INSPECTOR_PORT=5050
# metal-http.py: the emulated bare metal's boot and image files (Ironic http_root, 2025.1 lane)
METAL_HTTP_PORT=${METAL_HTTP_PORT:-8089}

log() { printf '[services %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[services %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---------------------------------------------------------------- release
# RELEASE: which OpenStack the services are. zed: Debian 12's packages, on this machine. 2025.1: Debian 13's,
# in the root that root.sh builds (up.sh runs itself there); the scripts ask $RELEASE where the two differ.
RELEASE=${RELEASE:-zed}
case $RELEASE in zed|2025.1) ;; *) die "RELEASE must be zed or 2025.1, got '$RELEASE'" ;; esac
export RELEASE
RELEASE_ROOT=${RELEASE_ROOT:-$REPO_ROOT/build/.root-2025.1}
root_pids() { # the PIDs whose root is the release root: only up.sh enters it, so each is one of ours
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$RELEASE_ROOT" ] && echo "${p#/proc/}"
  done
  return 0
}

# running_release : the release whose state $SERVICES_DIR holds (a state from before there were two is Zed's)
running_release() { cat "$SERVICES_DIR/.release" 2>/dev/null || echo zed; }
# use_release R : make $SERVICES_DIR hold release R's state. Each release keeps its own (databases, configs,
# images); the other's waits beside it as $SERVICES_DIR.<release>, so clouds.yaml keeps its one path and
# going back is a warm start. Refused while a service of the other release runs.
use_release() {
  local want=$1 have f
  case $SERVICES_DIR/ in "$REPO_ROOT"/*) ;; *) [ "$want" = zed ] || die "SERVICES_DIR must be inside the checkout for $want (the root sees only the checkout)" ;; esac
  have=$(running_release)
  if [ "$have" != "$want" ]; then
    for f in "$SERVICES_DIR"/*/*.pid; do
      alive "$f" && die "the $have services are running ($f): stop them first (make services-down)"
    done
    if compgen -G "$SERVICES_DIR/*/" >/dev/null; then
      [ -e "$SERVICES_DIR.$have" ] && die "both $SERVICES_DIR and $SERVICES_DIR.$have hold a state: remove one"
      mv "$SERVICES_DIR" "$SERVICES_DIR.$have"
      log "the $have state moved aside to $SERVICES_DIR.$have"
      if [ -d "$SERVICES_DIR.$want" ]; then mv "$SERVICES_DIR.$want" "$SERVICES_DIR"; log "the $want state is back from $SERVICES_DIR.$want"
      else mkdir -p "$SERVICES_DIR"; fi
    fi
  fi
  echo "$want" > "$SERVICES_DIR/.release"
}

# ---------------------------------------------------------------- packages
# apt_ensure and friends: ../lib.sh, shared with the other tests/ scripts.
APT_LOG=$SERVICES_DIR/apt.log
# shellcheck source=../lib.sh
. "$REPO_ROOT/tests/lib.sh"

# ---------------------------------------------------------------- processes
# A pid file holds one pid; <name>.pid.start holds its start time (field 22 of /proc/PID/stat) so a
# recycled pid is never mistaken for ours (and never killed by down.sh).
# A service killed by the fault matrix is reaped by this machine's init, not by us: until then it is a zombie,
# which kill -0 still finds. A zombie is dead (up.sh must start the service again).
# stat_fields PID : /proc/PID/stat from field 3 (the state) on, one per word; the command name before it may
# hold spaces. Field N of the file is word N-2: the start time (22) is word 20.
stat_fields() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; printf '%s\n' "${s##*) }"; }
starttime() { local f; read -ra f <<< "$(stat_fields "$1")"; [ ${#f[@]} -ge 20 ] && echo "${f[19]}"; }
alive() { # PIDFILE : its process exists, is no zombie and (where recorded) started when ours did
  local p f
  [ -s "$1" ] || return 1
  p=$(cat "$1"); [ -n "$p" ] || return 1
  read -ra f <<< "$(stat_fields "$p")"
  [ ${#f[@]} -ge 20 ] && [ "${f[0]}" != Z ] || return 1
  [ -s "$1.start" ] || return 0
  [ "${f[19]}" = "$(cat "$1.start")" ]
}
pid_of() { cat "$1" 2>/dev/null; }
# start_bg PIDFILE LOGFILE CMD... : start CMD in its own session (process group = pid), record pid + start time
start_bg() {
  local pidfile=$1 logf=$2 p; shift 2
  setsid "$@" >>"$logf" 2>&1 < /dev/null 9>&- &   # fd 9 = up.sh/down.sh lock: daemons must not keep it
  p=$!
  echo "$p" > "$pidfile"
  starttime "$p" > "$pidfile.start" || true
}
# fail SERVICE LOG... : print the tail of the logs and exit non-zero
fail() {
  local svc=$1 f; shift
  for f in "$@"; do [ -f "$f" ] && { echo "---- tail of $f" >&2; tail -n 40 "$f" >&2; }; done
  die "$svc failed to start (logs above)"
}
# wait_http URL TIMEOUT_S PIDFILE : until URL answers with an HTTP status < 500
wait_http() {
  local url=$1 timeout=$2 pidfile=${3:-} t0 code
  t0=$(ms)
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)
    if [ "$code" != 000 ] && [ "$code" -lt 500 ]; then
      log "$url answered HTTP $code after $(( $(ms) - t0 )) ms"; return 0
    fi
    if [ -n "$pidfile" ] && ! alive "$pidfile"; then echo "process of $pidfile died" >&2; return 1; fi
    if [ $(( $(ms) - t0 )) -gt $(( timeout * 1000 )) ]; then echo "timeout after ${timeout}s waiting for $url" >&2; return 1; fi
    sleep 0.2
  done
}
http_up() { local c; c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true); [ "$c" != 000 ] && [ "$c" -lt 500 ]; }

# sqlite in WAL mode: otherwise concurrent writers get 500 "(sqlite3.OperationalError) database is locked".
# Every connection URL also sets ?timeout=30 (busy wait, pysqlite default 5 s): under load nova-conductor,
# -scheduler and -compute heartbeats still hit "database is locked" with 5 s.
wal() { $PY -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA journal_mode=WAL')" "$1"; }

# MariaDB (mariadb.sh) for Nova and Placement, on a unix socket only.
MARIADB_SOCKET=$SERVICES_DIR/mariadb/mysqld.sock
mariadb_sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B -e "$1"; }
# mysql_url DB : the oslo.db connection URL of database DB
mysql_url() { echo "mysql+pymysql://openstack:$SERVICE_PASSWORD@localhost/$1?unix_socket=$MARIADB_SOCKET&charset=utf8mb4"; }
# fresh_db DB : drop and create database DB (a schema sync follows)
fresh_db() { mariadb_sql "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4;"; }

# authsec SECTION USER : keystone password auth block for a service user in project 'service'
authsec() {
cat <<S

[$1]
auth_url = $KEYSTONE_URL
auth_type = password
username = $2
password = $SERVICE_PASSWORD
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = RegionOne
S
}

# take_lock : one up.sh/down.sh at a time per $SERVICES_DIR (engineers and CI share the stack)
take_lock() {
  exec 9>"$SERVICES_DIR/.lock"
  if ! flock -n 9; then
    log "another up.sh/down.sh holds $SERVICES_DIR/.lock: waiting"
    flock -w 900 9 || die "could not get $SERVICES_DIR/.lock in 15 min"
  fi
}
