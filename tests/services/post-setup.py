#!/usr/bin/python3
"""Cloud resources the tests expect, created idempotently after the services are up (run by up.sh).

- Nova flavor 'baremetal': 0 VCPU/RAM/disk resources, resources:CUSTOM_BAREMETAL=1 (matches Ironic nodes
  with resource_class 'baremetal'); nominal vcpus 4 / ram 8192 / disk 100 for display only.
- Network 'ctlplane' (shared, flat, physnet ctlplane) + subnet 192.168.24.0/24 without DHCP, on the real
  Neutron; the stand-in has it built in.
- Waits until nova-compute reports 'up' (its RPC reached the conductor).
Usage: post-setup.py SERVICES_DIR   (env ADMIN_PASSWORD, NEUTRON=real|standin, WITH_NOVA=1|0)
"""
import json
import os
import sys
import time

from keystoneauth1 import session
from keystoneauth1.identity import v3

NOVA = 'http://127.0.0.1:8774/v2.1'
NEUTRON = 'http://127.0.0.1:9696/v2.0'
FLAVOR = 'baremetal'
EXTRA_SPECS = {'resources:CUSTOM_BAREMETAL': '1', 'resources:VCPU': '0',
               'resources:MEMORY_MB': '0', 'resources:DISK_GB': '0'}


def main():
    sess = session.Session(auth=v3.Password(
        auth_url='http://127.0.0.1:5000/v3', username='admin', password=os.environ.get('ADMIN_PASSWORD', 'admin'),
        project_name='admin', user_domain_name='Default', project_domain_name='Default'))
    kw = {'raise_exc': False, 'headers': {'OpenStack-API-Version': 'compute 2.61'}}

    if os.environ.get('WITH_NOVA') == '1':
        r = sess.get(NOVA + '/flavors/detail?is_public=None', **kw).json()
        fl = next((f for f in r['flavors'] if f['name'] == FLAVOR), None)
        if fl is None:
            body = {'flavor': {'name': FLAVOR, 'ram': 8192, 'vcpus': 4, 'disk': 100, 'id': FLAVOR,
                               'os-flavor-access:is_public': True}}
            r = sess.post(NOVA + '/flavors', json=body, **kw)
            if r.status_code not in (200, 409):
                raise SystemExit('flavor create: HTTP %s %s' % (r.status_code, r.text))
            fl = sess.get(NOVA + '/flavors/' + FLAVOR, **kw).json()['flavor']
            print('flavor %s created' % FLAVOR)
        specs = sess.get(NOVA + '/flavors/%s/os-extra_specs' % fl['id'], **kw).json().get('extra_specs', {})
        missing = {k: v for k, v in EXTRA_SPECS.items() if specs.get(k) != v}
        if missing:
            r = sess.post(NOVA + '/flavors/%s/os-extra_specs' % fl['id'], json={'extra_specs': missing}, **kw)
            if r.status_code != 200:
                raise SystemExit('flavor extra specs: HTTP %s %s' % (r.status_code, r.text))
        print('flavor %s: %s' % (FLAVOR, ' '.join('%s=%s' % kv for kv in sorted(EXTRA_SPECS.items()))))

    if os.environ.get('NEUTRON') == 'real':
        nets = sess.get(NEUTRON + '/networks?name=ctlplane', raise_exc=False).json()['networks']
        if nets:
            net = nets[0]
        else:
            net = sess.post(NEUTRON + '/networks', json={'network': {
                'name': 'ctlplane', 'shared': True, 'provider:network_type': 'flat',
                'provider:physical_network': 'ctlplane', 'port_security_enabled': False}}).json()['network']
            print('network ctlplane created')
        subs = sess.get(NEUTRON + '/subnets?network_id=%s' % net['id'], raise_exc=False).json()['subnets']
        if not subs:
            sess.post(NEUTRON + '/subnets', json={'subnet': {
                'name': 'ctlplane-subnet', 'network_id': net['id'], 'ip_version': 4, 'cidr': '192.168.24.0/24',
                'gateway_ip': '192.168.24.1', 'enable_dhcp': False,
                'allocation_pools': [{'start': '192.168.24.100', 'end': '192.168.24.250'}]}})
            print('subnet ctlplane-subnet created')
        print('network ctlplane %s (real Neutron, flat, 192.168.24.0/24)' % net['id'])

    if os.environ.get('WITH_NOVA') == '1':
        deadline = time.time() + 300
        while True:
            svcs = sess.get(NOVA + '/os-services?binary=nova-compute', **kw).json().get('services', [])
            if any(s['state'] == 'up' and s['status'] == 'enabled' for s in svcs):
                break
            if time.time() > deadline:
                raise SystemExit('nova-compute not up after 300 s (it walks every Ironic node before reporting; many leftover nodes slow it down): %s' % json.dumps(svcs))
            time.sleep(1)
        print('nova-compute up')


if __name__ == '__main__':
    main()
