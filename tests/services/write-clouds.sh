#!/bin/bash
# Write $SERVICES_DIR/clouds.yaml, $SERVICES_DIR/admin-openrc and $SERVICES_DIR/services.json (mode 600).
#   local             Keystone password auth: admin / $ADMIN_PASSWORD, project admin, RegionOne
#   local-appcred     v3applicationcredential 'metalkit-tests' (id + secret from keystone/appcred.json)
#   local-standalone  auth_type none: the bifrost-style noauth Ironic (:6388) and Glance (:9293)
# Usage: write-clouds.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/lib.sh"
umask 077
ADMIN_PASSWORD=$ADMIN_PASSWORD NEUTRON=${NEUTRON:-real} KEYSTONE_URL=$KEYSTONE_URL \
STANDALONE_IRONIC_PORT=$STANDALONE_IRONIC_PORT STANDALONE_GLANCE_PORT=$STANDALONE_GLANCE_PORT \
BMC_PORTS=$BMC_PORTS BMC_USER=$BMC_USER BMC_PASSWORD=$BMC_PASSWORD \
$PY - "$SERVICES_DIR" <<'PYEOF'
import json, os, sys
import yaml
d = sys.argv[1]
env = os.environ
auth_url = env['KEYSTONE_URL'] + '/v3'
ac = {}
p = os.path.join(d, 'keystone', 'appcred.json')
if os.path.exists(p):
    ac = json.load(open(p))
sa_ironic = 'http://127.0.0.1:%s' % env['STANDALONE_IRONIC_PORT']
sa_glance = 'http://127.0.0.1:%s' % env['STANDALONE_GLANCE_PORT']
clouds = {
    'local': {
        'auth': {'auth_url': auth_url, 'username': 'admin', 'password': env['ADMIN_PASSWORD'],
                 'project_name': 'admin', 'user_domain_name': 'Default', 'project_domain_name': 'Default'},
        'region_name': 'RegionOne', 'interface': 'public', 'identity_api_version': 3,
    },
    'local-standalone': {
        # bifrost style: no Keystone; openstacksdk reads <service-type>_endpoint_override
        'auth_type': 'none',
        'baremetal_endpoint_override': sa_ironic,
        'image_endpoint_override': sa_glance,
    },
}
if ac:
    clouds['local-appcred'] = {
        'auth_type': 'v3applicationcredential',
        'auth': {'auth_url': auth_url, 'application_credential_id': ac['id'],
                 'application_credential_secret': ac['secret']},
        'region_name': 'RegionOne', 'interface': 'public', 'identity_api_version': 3,
    }
def write(name, text):
    path = os.path.join(d, name)
    with open(path + '.tmp', 'w') as f:
        f.write(text)
    os.chmod(path + '.tmp', 0o600)
    os.replace(path + '.tmp', path)
write('clouds.yaml', '# written by tests/services/write-clouds.sh: loopback test services, do not edit\n'
      + yaml.safe_dump({'clouds': clouds}, default_flow_style=False, sort_keys=False))
write('admin-openrc', '''# source this file (like a TripleO stackrc): admin on the loopback test Keystone
export OS_AUTH_URL=%s OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne OS_INTERFACE=public
export OS_USERNAME=admin OS_PASSWORD=%s OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
unset OS_CLOUD OS_AUTH_TYPE OS_ENDPOINT OS_TOKEN OS_APPLICATION_CREDENTIAL_ID OS_APPLICATION_CREDENTIAL_SECRET
''' % (auth_url, env['ADMIN_PASSWORD']))
services = {
    'clouds_yaml': os.path.join(d, 'clouds.yaml'),
    'clouds': sorted(clouds),
    'keystone': auth_url,
    'release': env['RELEASE'],
    'ironic': 'http://127.0.0.1:6385', 'glance': 'http://127.0.0.1:9292',
    'nova': 'http://127.0.0.1:8774/v2.1', 'placement': 'http://127.0.0.1:8778',
    'neutron': 'http://127.0.0.1:9696', 'neutron_kind': env['NEUTRON'],
    'standalone_ironic': sa_ironic, 'standalone_glance': sa_glance,
    'bmc': {'address': '127.0.0.1', 'ports': [int(x) for x in env['BMC_PORTS'].split()],
            'username': env['BMC_USER'], 'password': env['BMC_PASSWORD']},
    'flavor': 'baremetal', 'network': 'ctlplane',
}
if env['RELEASE'] == 'zed':
    services['ironic_inspector'] = 'http://127.0.0.1:5050'
write('services.json', json.dumps(services, indent=2) + '\n')
PYEOF
