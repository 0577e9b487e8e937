#!/usr/bin/env python3
"""A small Receive Response Service for tests, until 'hanfw listen' exists.

Every POST body is written to DIR/NNNNNNNN.xml (temp file, then rename) and
answered 204, as the DCC Boxed tooling's receiver answers.  Binds to
127.0.0.1 on a free port and writes the port to --port-file.  With
--tls-cert and --tls-key it serves HTTPS, and with --client-ca it requires
a client certificate issued by that CA (as the DCC's RRS leg may).
"""
import argparse
import itertools
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--status", type=int, default=204)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--client-ca")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    counter = itertools.count(1)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            with lock:
                k = next(counter)
            tmp = os.path.join(a.dir, ".%08d.tmp" % k)
            with open(tmp, "wb") as f:
                f.write(body)
            os.rename(tmp, os.path.join(a.dir, "%08d.xml" % k))
            self.send_response(a.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        if a.client_ca:
            ctx.load_verify_locations(a.client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
