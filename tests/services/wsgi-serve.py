#!/usr/bin/python3
"""Serve a WSGI application on loopback with one thread per request.

Debian's keystone-wsgi-public / placement-api scripts run wsgiref's single-threaded test server: one slow
request (a token validation from a busy nova-api, a large catalog listing) blocks every other client, and
parallel integration tests then time out. This wrapper builds the same application and serves it threaded.

Usage: wsgi-serve.py keystone|placement PORT -- OSLO-ARGS...   (always binds 127.0.0.1)
"""
import socketserver
import sys
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 64


class Handler(WSGIRequestHandler):
    def log_message(self, fmt, *args):  # one access line per request, to stdout (the service's stdout.log)
        sys.stdout.write('%s %s\n' % (self.log_date_time_string(), fmt % args))
        sys.stdout.flush()


def one_writer(app):
    """Serve requests that may write (anything but GET/HEAD/OPTIONS) one at a time.

    Keystone's database here is SQLite, which takes one writer at a time, and oslo.db opens every transaction
    with a deferred BEGIN: two requests that both read and then write (since 2025.1 every password
    authentication updates the user's last_active_at) collide, and the later one fails at once with "database
    is locked" (HTTP 500), whatever the busy timeout. Reads, such as token validation, stay parallel.
    """
    lock = threading.Lock()

    def serve(environ, start_response):
        if environ.get('REQUEST_METHOD') in ('GET', 'HEAD', 'OPTIONS'):
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))  # the whole answer, so its transaction ends inside the lock
    return serve


def main():
    kind, port = sys.argv[1], int(sys.argv[2])
    rest = sys.argv[3:]
    if rest[:1] == ['--']:
        rest = rest[1:]
    sys.argv = [sys.argv[0]] + rest  # oslo.config reads --config-file from sys.argv
    if kind == 'keystone':
        from keystone.server.wsgi import initialize_public_application
        app = one_writer(initialize_public_application())
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
