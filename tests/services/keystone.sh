#!/bin/bash
# Keystone Zed (Debian 12 python3-keystone) on 127.0.0.1:5000: sqlite (WAL), fernet tokens, threaded wsgiref.
# Bootstraps admin/$ADMIN_PASSWORD (project admin, region RegionOne), project 'service', the service users
# (ironic ironic-inspector glance nova placement neutron, password $SERVICE_PASSWORD, roles admin+service) and the catalog;
# then an application credential for the tests (secret only in $SERVICES_DIR/keystone/appcred.json, mode 600).
# Usage: keystone.sh            (state in $SERVICES_DIR/keystone)
# Env: KEYSTONE_TOKEN_EXPIRATION  token lifetime in seconds (default 3600), read when Keystone starts: the
#      fault matrix restarts it with a short one so that tokens expire in the middle of a task.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
D=$SERVICES_DIR/keystone; mkdir -p "$D"; chmod 700 "$D"
K=$KEYSTONE_URL

apt_ensure python3-keystone python3-keystoneclient python3-openstackclient python3-ironicclient curl

if alive "$D/keystone.pid" && http_up $K/v3; then
  log "keystone already running (pid $(pid_of "$D/keystone.pid")) on :5000"
else
  cat > "$D/keystone.conf" <<CONF
[DEFAULT]
log_dir = $D
log_file = keystone.log

[database]
# check_same_thread=false: wsgi-serve.py is threaded and SQLAlchemy's NullPool may close a connection from
# another thread ("SQLite objects created in a thread can only be used in that same thread")
connection = sqlite:///$D/keystone.sqlite?check_same_thread=false&timeout=30

[identity]
# bcrypt's minimum cost: every password auth (services, tests) and user create is ~10x faster. Test stack only.
password_hash_rounds = 4

[token]
provider = fernet
expiration = ${KEYSTONE_TOKEN_EXPIRATION:-3600}

[cache]
# in-process cache (token validation, roles, catalog): one keystone process, no memcached needed
enabled = true
backend = dogpile.cache.memory

[fernet_tokens]
key_repository = $D/fernet-keys

[fernet_receipts]
key_repository = $D/fernet-keys

[credential]
key_repository = $D/credential-keys
CONF
  KM() { keystone-manage --config-file "$D/keystone.conf" "$@" >>"$D/manage.log" 2>&1 || fail "keystone-manage $1" "$D/manage.log"; }
  if [ ! -s "$D/keystone.sqlite" ] || [ ! -e "$D/.bootstrapped" ]; then
    rm -f "$D/keystone.sqlite" "$D/keystone.sqlite-wal" "$D/keystone.sqlite-shm" "$D/.setup-stamp" "$D/appcred.json"
    KM db_sync
    # what fernet_setup / credential_setup do (keys 0 = staged, 1 = primary), without two more
    # keystone-manage processes (~5 s of CPU each on this 2-core box)
    $PY - "$D/fernet-keys" "$D/credential-keys" <<'PYEOF' || die "fernet key setup failed"
import os, sys
from cryptography.fernet import Fernet
for repo in sys.argv[1:]:
    os.makedirs(repo, mode=0o700, exist_ok=True)
    for i in ('0', '1'):
        p = os.path.join(repo, i)
        if not os.path.exists(p):
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, Fernet.generate_key())
            os.close(fd)
PYEOF
    OS_BOOTSTRAP_PASSWORD=$ADMIN_PASSWORD KM bootstrap --bootstrap-region-id RegionOne \
       --bootstrap-admin-url $K/v3 --bootstrap-internal-url $K/v3 --bootstrap-public-url $K/v3
    wal "$D/keystone.sqlite"
    touch "$D/.bootstrapped"
  fi
  start_bg "$D/keystone.pid" "$D/stdout.log" $PY "$HERE/wsgi-serve.py" keystone 5000 -- --config-file "$D/keystone.conf"
  wait_http $K/v3 60 "$D/keystone.pid" || fail keystone "$D/keystone.log" "$D/stdout.log"
fi

# Service users, catalog and the tests' application credential: idempotent, one python process (~1-2 s).
# Skipped when nothing changed since the last run and the application credential still authenticates.
stamp=$(cat "$HERE/keystone-setup.py" <(echo "$ADMIN_PASSWORD $SERVICE_PASSWORD") | sha256sum | cut -c1-16)
appcred_ok() {
  [ -s "$D/appcred.json" ] || return 1
  $PY - "$D/appcred.json" <<'PYEOF'
import json, sys, urllib.request
a = json.load(open(sys.argv[1]))
body = {'auth': {'identity': {'methods': ['application_credential'],
                              'application_credential': {'id': a['id'], 'secret': a['secret']}}}}
req = urllib.request.Request('http://127.0.0.1:5000/v3/auth/tokens', json.dumps(body).encode(),
                             {'Content-Type': 'application/json'})
sys.exit(0 if urllib.request.urlopen(req, timeout=10).status == 201 else 1)
PYEOF
}
if [ "$(cat "$D/.setup-stamp" 2>/dev/null)" = "$stamp" ] && appcred_ok 2>/dev/null; then
  log "keystone catalog, service users and application credential unchanged"
else
  ADMIN_PASSWORD=$ADMIN_PASSWORD SERVICE_PASSWORD=$SERVICE_PASSWORD $PY "$HERE/keystone-setup.py" "$D" >>"$D/setup.log" 2>&1 \
    || fail "keystone setup (users/catalog/appcred)" "$D/setup.log"
  echo "$stamp" > "$D/.setup-stamp"
  log "keystone catalog, service users and application credential ready"
fi
