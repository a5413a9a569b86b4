#!/usr/bin/python3
"""Serve a WSGI application on loopback with one thread per request.

Debian's keystone-wsgi-public / placement-api scripts run wsgiref's single-threaded test server: one slow
request (a token validation from a busy nova-api, a large catalog listing) blocks every other client, and
parallel integration tests then time out. This wrapper builds the same application and serves it threaded.

Usage: wsgi-serve.py keystone|placement PORT -- OSLO-ARGS...   (always binds 127.0.0.1)
"""
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 64


class Handler(WSGIRequestHandler):
    def log_message(self, fmt, *args):  # one access line per request, to stdout (the service's stdout.log)
        sys.stdout.write('%s %s\n' % (self.log_date_time_string(), fmt % args))
        sys.stdout.flush()


def main():
    kind, port = sys.argv[1], int(sys.argv[2])
    rest = sys.argv[3:]
    if rest[:1] == ['--']:
        rest = rest[1:]
    sys.argv = [sys.argv[0]] + rest  # oslo.config reads --config-file from sys.argv
    if kind == 'keystone':
        from keystone.server.wsgi import initialize_public_application
        app = initialize_public_application()
    elif kind == 'placement':
        from placement.wsgi import init_application
        app = init_application()
    else:
        raise SystemExit('unknown application %r' % kind)
    srv = make_server('127.0.0.1', port, app, server_class=ThreadingWSGIServer, handler_class=Handler)
    print('%s listening on 127.0.0.1:%d (threaded wsgiref)' % (kind, port), flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
