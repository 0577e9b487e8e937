#!/usr/bin/python3
"""An HTTPS peer for hanfw's transport tests: Python's ssl module, an
implementation independent of hanfw's libcurl client.  Prints the port it
listens on (127.0.0.1 only), then serves until killed.  What it does with a
POST depends on the last part of the path:
  ok     200 application/xml, echoing the body's length
  503    503, not processed
  close  reads the request, then closes without answering
  slow   reads the request, then waits 5 s before answering
  text   200 text/plain
usage: https_peer.py CERT KEY [CLIENT_CA]   (no arguments: plain HTTP)"""
import http.server
import socket
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        mode = self.path.rsplit("/", 1)[-1]
        if mode == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "slow":
            time.sleep(5)
        if mode == "503":
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        reply = ("<ok bytes=\"%d\"/>" % len(body)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain" if mode == "text" else "application/xml")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 1:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    if len(sys.argv) > 3:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(sys.argv[3])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
