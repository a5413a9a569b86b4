#!/usr/bin/python3
"""Idempotent Keystone setup for the loopback test services (run by keystone.sh).

- project 'service'; roles admin/service/member/reader
- service users ironic, ironic-inspector, glance, nova, placement, neutron ($SERVICE_PASSWORD), admin+service in 'service'
- catalog: baremetal :6385, baremetal-introspection :5050, image :9292, compute :8774/v2.1, placement :8778, network :9696
- application credential 'metalkit-tests' for admin in project admin; its id and secret are written only
  to STATE_DIR/appcred.json (mode 600), reused while Keystone still knows it.
Passwords come from the environment (ADMIN_PASSWORD, SERVICE_PASSWORD), never from argv.
Usage: keystone-setup.py STATE_DIR
"""
import json
import os
import sys

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

AUTH_URL = 'http://127.0.0.1:5000/v3'
CATALOG = (
    ('ironic', 'baremetal', 'http://127.0.0.1:6385'),
    # unversioned, as TripleO (puppet-ironic) registers it; clients append /v1
    ('ironic-inspector', 'baremetal-introspection', 'http://127.0.0.1:5050'),
    ('glance', 'image', 'http://127.0.0.1:9292'),
    ('nova', 'compute', 'http://127.0.0.1:8774/v2.1'),
    ('placement', 'placement', 'http://127.0.0.1:8778'),
    ('neutron', 'network', 'http://127.0.0.1:9696'),
)
APPCRED_NAME = 'metalkit-tests'
# ironic-inspector is gone from 2025.1 (Ironic inspects by itself): no user, no catalog entry
if os.environ.get('RELEASE', 'zed') != 'zed':
    CATALOG = tuple(c for c in CATALOG if c[0] != 'ironic-inspector')
SERVICE_USERS = tuple(c[0] for c in CATALOG)


def one(lst):
    return lst[0] if lst else None


def password_works(user, pw):
    try:
        session.Session(auth=v3.Password(auth_url=AUTH_URL, username=user, password=pw, user_domain_name='Default',
                                         project_name='service', project_domain_name='Default')).get_token()
        return True
    except Exception:
        return False


def main():
    state = sys.argv[1]
    adminpw = os.environ.get('ADMIN_PASSWORD', 'admin')
    svcpw = os.environ.get('SERVICE_PASSWORD', 'secret')
    sess = session.Session(auth=v3.Password(auth_url=AUTH_URL, username='admin', password=adminpw,
                                            project_name='admin', user_domain_name='Default',
                                            project_domain_name='Default'))
    ks = client.Client(session=sess, interface='public')
    proj = one(ks.projects.list(name='service')) or ks.projects.create('service', 'default')
    roles = {rn: one(ks.roles.list(name=rn)) or ks.roles.create(rn) for rn in ('admin', 'service', 'member', 'reader')}
    for svc in SERVICE_USERS:
        u = one(ks.users.list(name=svc, domain='default'))
        if u is None:
            u = ks.users.create(svc, domain='default', password=svcpw)
        elif not password_works(svc, svcpw):
            ks.users.update(u, password=svcpw)  # SERVICE_PASSWORD changed since the last run
        for rn in ('admin', 'service'):
            ks.roles.grant(roles[rn], user=u, project=proj)
    for name, typ, url in CATALOG:
        s = one(ks.services.list(type=typ)) or ks.services.create(name, type=typ)
        for e in ks.endpoints.list(service=s):
            if e.url != url:
                ks.endpoints.delete(e)
        have = {e.interface for e in ks.endpoints.list(service=s)}
        for iface in ('public', 'internal', 'admin'):
            if iface not in have:
                ks.endpoints.create(s, url, interface=iface, region='RegionOne')
    print('catalog:', sorted(s.type for s in ks.services.list()))

    # application credential for the tests
    admin = one(ks.users.list(name='admin', domain='default'))
    path = os.path.join(state, 'appcred.json')
    saved = None
    if os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
    existing = {a.name: a for a in ks.application_credentials.list(user=admin.id)}
    cur = existing.get(APPCRED_NAME)
    if saved and cur and cur.id == saved.get('id'):
        print('application credential %s kept (%s)' % (APPCRED_NAME, cur.id))
        return
    if cur:
        ks.application_credentials.delete(cur, user=admin.id)
    ac = ks.application_credentials.create(APPCRED_NAME, user=admin.id, description='metalkit.baremetal integration tests',
                                           roles=[{'name': 'admin'}, {'name': 'member'}, {'name': 'reader'}])
    fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        json.dump({'id': ac.id, 'name': APPCRED_NAME, 'secret': ac.secret, 'project_name': 'admin'}, f)
    os.replace(path + '.tmp', path)
    print('application credential %s created (%s); secret in %s' % (APPCRED_NAME, ac.id, path))


if __name__ == '__main__':
    main()
