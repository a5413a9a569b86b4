#!/usr/bin/python3
"""Neutron STAND-IN: a minimal in-memory Neutron v2.0 API (NOT a real Neutron) on 127.0.0.1:9696.

Why it exists: Debian's Nova 26 has no 'no network' mode (GET /servers/{id} lists ports for security
groups and fails with EndpointNotFound, HTTP 500, without a 'network' endpoint; the Ironic driver's
config-drive builder crashes on an empty network_info). See tests/services/README.md for why the real
neutron-server is not used by default. This stand-in answers just enough for nova-api / nova-compute
and for read-only network lookups by tests: one shared network 'ctlplane' (192.168.24.0/24, TripleO's
default provisioning network), ports CRUD, empty floating IPs / security groups / etc.
It ignores auth tokens and keeps everything in memory (a restart forgets the ports).
Usage: neutron-standin.py [PORT]"""
import json, re, socketserver, sys, threading, uuid
from urllib.parse import parse_qs
from wsgiref.simple_server import make_server, WSGIServer, WSGIRequestHandler

NET_ID = '5a3c1d2e-0000-4000-8000-000000000001'
SUBNET_ID = '5a3c1d2e-0000-4000-8000-000000000002'
SG_ID = '5a3c1d2e-0000-4000-8000-000000000003'
LOCK = threading.Lock()
NETWORKS = {NET_ID: {'id': NET_ID, 'name': 'ctlplane', 'status': 'ACTIVE', 'admin_state_up': True, 'shared': True,
                     'subnets': [SUBNET_ID], 'mtu': 1500, 'router:external': False, 'tenant_id': '', 'project_id': '',
                     'provider:network_type': 'flat', 'provider:physical_network': 'physnet1', 'port_security_enabled': False,
                     'tags': [], 'description': '', 'availability_zones': ['nova'], 'dns_domain': ''}}
SUBNETS = {SUBNET_ID: {'id': SUBNET_ID, 'name': 'ctlplane-subnet', 'network_id': NET_ID, 'ip_version': 4,
                       'cidr': '192.168.24.0/24', 'gateway_ip': '192.168.24.1', 'enable_dhcp': False, 'dns_nameservers': [],
                       'host_routes': [], 'allocation_pools': [{'start': '192.168.24.100', 'end': '192.168.24.250'}],
                       'ipv6_address_mode': None, 'ipv6_ra_mode': None, 'tenant_id': '', 'project_id': '',
                       'subnetpool_id': None, 'tags': []}}
SGS = {SG_ID: {'id': SG_ID, 'name': 'default', 'description': '', 'security_group_rules': [], 'tenant_id': '', 'project_id': ''}}
PORTS = {}
NEXT_IP = [100]
COLL = {'networks': NETWORKS, 'subnets': SUBNETS, 'ports': PORTS, 'security-groups': SGS}
SINGULAR = {'networks': 'network', 'subnets': 'subnet', 'ports': 'port', 'security-groups': 'security_group'}

def new_port(body, tenant):
    with LOCK:
        ip = '192.168.24.%d' % NEXT_IP[0]
        NEXT_IP[0] = NEXT_IP[0] + 1 if NEXT_IP[0] < 250 else 100
    pid = str(uuid.uuid4())
    port = {'id': pid, 'name': '', 'network_id': NET_ID, 'admin_state_up': True, 'status': 'ACTIVE',
            'mac_address': 'fa:16:3e:%02x:%02x:%02x' % tuple(uuid.uuid4().bytes[:3]),
            'fixed_ips': [{'subnet_id': SUBNET_ID, 'ip_address': ip}], 'device_id': '', 'device_owner': '',
            'tenant_id': tenant, 'project_id': tenant, 'security_groups': [], 'binding:host_id': '',
            'binding:vif_type': 'other', 'binding:vnic_type': 'baremetal', 'binding:vif_details': {},
            'binding:profile': {}, 'port_security_enabled': False, 'allowed_address_pairs': [],
            'extra_dhcp_opts': [], 'tags': [], 'description': '', 'qos_policy_id': None,
            'resource_request': None, 'dns_name': '', 'dns_assignment': []}
    port.update({k: v for k, v in body.items() if k not in ('fixed_ips',)})
    port['binding:vif_type'] = 'other'
    return port

def match(obj, q):
    for k, vals in q.items():
        if k in ('fields', 'limit', 'marker', 'sort_key', 'sort_dir'):
            continue
        if k == 'fixed_ips':
            continue
        v = obj.get(k)
        if isinstance(v, bool):
            v = str(v)
            vals = [x.capitalize() for x in vals]
        if str(v) not in vals and v not in vals:
            return False
    return True

def app(env, start):
    meth = env['REQUEST_METHOD']; path = env['PATH_INFO'].rstrip('/')
    q = parse_qs(env.get('QUERY_STRING', ''))
    tenant = env.get('HTTP_X_PROJECT_ID', '')
    body = {}
    try:
        n = int(env.get('CONTENT_LENGTH') or 0)
        if n: body = json.loads(env['wsgi.input'].read(n))
    except Exception:
        pass
    def out(code, data):
        b = json.dumps(data).encode()
        start(code, [('Content-Type', 'application/json'), ('Content-Length', str(len(b)))])
        return [b]
    if path in ('', '/v2.0') and meth == 'GET':
        return out('200 OK', {'versions': [{'id': 'v2.0', 'status': 'CURRENT', 'links': [{'rel': 'self', 'href': 'http://127.0.0.1:9696/v2.0/'}]}]} if not path else {'resources': []})
    m = re.match(r'^/v2\.0/([a-z_-]+)(?:/([^/]+))?(?:/([a-z_-]+))?$', path)
    if not m:
        return out('404 Not Found', {'NeutronError': {'type': 'HTTPNotFound', 'message': path, 'detail': ''}})
    coll, rid, sub = m.groups()
    if coll == 'extensions':
        return out('200 OK', {'extensions': []})
    if coll == 'quotas':
        return out('200 OK', {'quota': {'port': -1, 'network': -1, 'subnet': -1, 'floatingip': -1, 'security_group': -1, 'security_group_rule': -1}})
    store = COLL.get(coll)
    if store is None:  # floatingips, trunks, agents, qos policies, segments, ... -> empty
        if rid and meth == 'GET':
            return out('404 Not Found', {'NeutronError': {'type': 'NotFound', 'message': '%s %s not found' % (coll, rid), 'detail': ''}})
        return out('200 OK', {coll.replace('-', '_'): []})
    single = SINGULAR[coll]
    if meth == 'GET' and not rid:
        items = [o for o in list(store.values()) if match(o, q)]
        return out('200 OK', {coll.replace('-', '_'): items})
    if meth == 'GET':
        if rid not in store:
            return out('404 Not Found', {'NeutronError': {'type': single.capitalize() + 'NotFound', 'message': '%s %s could not be found.' % (single, rid), 'detail': ''}})
        return out('200 OK', {single: store[rid]})
    if meth == 'POST' and coll == 'ports':
        p = new_port(body.get('port', {}), tenant)
        PORTS[p['id']] = p
        return out('201 Created', {'port': p})
    if meth == 'PUT' and rid in store:
        store[rid].update(body.get(single, {}))
        if coll == 'ports':
            store[rid]['binding:vif_type'] = 'other'
        return out('200 OK', {single: store[rid]})
    if meth == 'DELETE' and rid in store and coll == 'ports':
        del store[rid]
        start('204 No Content', []); return [b'']
    return out('404 Not Found', {'NeutronError': {'type': 'NotFound', 'message': '%s %s %s' % (meth, coll, rid), 'detail': ''}})

class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True

class QuietHandler(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write('%s\n' % (fmt % args))

if __name__ == '__main__':
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9696
    srv = make_server('127.0.0.1', port, app, server_class=ThreadingServer, handler_class=QuietHandler)
    print('Neutron STAND-IN (not a real Neutron) on 127.0.0.1:%d, network ctlplane=%s' % (port, NET_ID), flush=True)
    srv.serve_forever()
