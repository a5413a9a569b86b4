#!/usr/bin/python3
"""The HTTP server of Ironic's [deploy] http_root, for the emulated bare metal (tests/metal).

Ironic ships none: an undercloud runs httpd for it. The guests (qemu user networking) fetch boot.ipxe, the iPXE
configs, the deploy kernel and ramdisk and the instance image from http://10.0.2.2:PORT, which is this server on
127.0.0.1:PORT as qemu's NAT presents it. Ironic's conductor checks the image URL too (a HEAD to
http://10.0.2.2:PORT/agent_images/<node>), and 10.0.2.2 does not exist on the host: Ironic runs with
http_proxy pointing here, so that request arrives in proxy form (an absolute URL), which is served as its path.
Nothing else is proxied: the server never connects anywhere.

Usage: metal-http.py ROOT PORT   (binds 127.0.0.1 only; follows symbolic links, as Ironic's agent_images/<node>
                                   links point into its image cache; one line per request on stderr)
"""
import functools
import http.server
import sys
import urllib.parse


class Handler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path):
        # proxy form (the conductor's HEAD through http_proxy): keep only the path
        return super().translate_path(urllib.parse.urlsplit(path).path or '/')

    def log_message(self, fmt, *args):
        sys.stderr.write('%s %s\n' % (self.log_date_time_string(), fmt % args))


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: metal-http.py ROOT PORT')
    root, port = sys.argv[1], int(sys.argv[2])
    server = http.server.ThreadingHTTPServer(('127.0.0.1', port), functools.partial(Handler, directory=root))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == '__main__':
    main()
