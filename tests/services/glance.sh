#!/bin/bash
# Glance Zed (Debian 12 python3-glance 25.x): sqlite, file store in the run dir, one process (workers=0).
# Usage: glance.sh main        keystone auth, 127.0.0.1:9292, state in $SERVICES_DIR/glance
#        glance.sh standalone  noauth (bifrost style), 127.0.0.1:$STANDALONE_GLANCE_PORT (9293),
#                              state in $SERVICES_DIR/standalone-glance
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
MODE=${1:-main}
case $MODE in
  main)       D=$SERVICES_DIR/glance;            PORT=$GLANCE_PORT;            AUTH=keystone ;;
  standalone) D=$SERVICES_DIR/standalone-glance; PORT=$STANDALONE_GLANCE_PORT; AUTH=noauth ;;
  *) die "usage: glance.sh main|standalone" ;;
esac
mkdir -p "$D"/{images,staging,tasks}; chmod 700 "$D"
NAME=$(basename "$D")

apt_ensure python3-glance python3-keystonemiddleware curl   # python3-glance ships no paste ini / bin: written here

if alive "$D/glance-api.pid" && http_up http://127.0.0.1:$PORT/; then
  log "$NAME already running (pid $(pid_of "$D/glance-api.pid")) on :$PORT ($AUTH)"; exit 0
fi

cat > "$D/glance-api-paste.ini" <<'INI'
[pipeline:glance-api]
pipeline = cors healthcheck http_proxy_to_wsgi versionnegotiation unauthenticated-context rootapp
[pipeline:glance-api-keystone]
pipeline = cors healthcheck http_proxy_to_wsgi versionnegotiation authtoken context rootapp
[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app
[app:apiversions]
paste.app_factory = glance.api.versions:create_resource
[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory
[filter:healthcheck]
paste.filter_factory = oslo_middleware:Healthcheck.factory
[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory
[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory
[filter:unauthenticated-context]
paste.filter_factory = glance.api.middleware.context:UnauthenticatedContextMiddleware.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = glance
oslo_config_program = glance-api
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
INI
# Public/community images: Zed's default for these is role:admin, and the noauth context has no roles
# (403 "You are not authorized to complete publicize_image action"). Allow them for every caller.
printf '"publicize_image": ""\n"communitize_image": ""\n' > "$D/policy.yaml"
FLAVOR=; [ "$AUTH" = keystone ] && FLAVOR=keystone
{ cat <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $PORT
# 0 = serve from the main process (no forked workers): one PID, less RAM
workers = 0
debug = ${SERVICES_DEBUG:-false}
log_dir = $D
log_file = glance-api.log
enabled_backends = file:file
show_multiple_locations = false

[database]
connection = sqlite:///$D/glance.sqlite?timeout=30

[glance_store]
default_backend = file

[file]
filesystem_store_datadir = $D/images/

[os_glance_staging_store]
filesystem_store_datadir = $D/staging/

[os_glance_tasks_store]
filesystem_store_datadir = $D/tasks/

[import_filtering_opts]
# web-download (interoperable import) from the tests' loopback mirrors, and
# only from them: Glance refuses loopback sources unless the host is allowed,
# and ports other than 80/443 unless the port list is emptied.
allowed_hosts = [127.0.0.1]
allowed_ports = []

[paste_deploy]
config_file = $D/glance-api-paste.ini
flavor = $FLAVOR

[oslo_policy]
policy_file = $D/policy.yaml
CONF
# Glance 30 (2025.1) enforces the new defaults (project-scoped roles): a noauth context has none, so every call
# is 403. A noauth Glance trusts every caller, as Zed's does by its old defaults.
[ "$AUTH" = noauth ] && printf 'enforce_new_defaults = false\nenforce_scope = false\n'
[ "$AUTH" = keystone ] && { authsec keystone_authtoken glance; echo "www_authenticate_uri = $KEYSTONE_URL"; }
} > "$D/glance-api.conf"

if [ ! -s "$D/glance.sqlite" ]; then
  $PY -c 'import sys; sys.argv[0]="glance-manage"; from glance.cmd.manage import main; sys.exit(main())' \
    --config-file "$D/glance-api.conf" db_sync >>"$D/dbsync.log" 2>&1 || fail "$NAME db_sync" "$D/dbsync.log"
  wal "$D/glance.sqlite"
fi
start_bg "$D/glance-api.pid" "$D/stdout.log" $PY -c 'import sys; sys.argv[0]="glance-api"; from glance.cmd.api import main; main()' \
  --config-file "$D/glance-api.conf"
# GET / answers 300 Multiple Choices (the version list)
wait_http http://127.0.0.1:$PORT/ 90 "$D/glance-api.pid" || fail "$NAME" "$D/glance-api.log" "$D/stdout.log"
