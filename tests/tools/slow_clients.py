#!/usr/bin/env python3
"""Slow clients for the server-hardening tests: COUNT connections to
127.0.0.1:PORT from source addresses 127.0.0.2 onwards (PER_ADDRESS from each,
more than the server's per-address limit so that limit is exercised too),
each sending its request headers -- or, with --tls, its TLS ClientHello --
one byte at a time, so slowly it never finishes.

Writes READY_FILE once every connection has been tried, then keeps trickling
until SECONDS have passed or it is sent SIGTERM, and closes everything it
opened.  Bounded in count (at most 2000 connections) and time (at most 120 s).
"""
import argparse
import signal
import socket
import ssl
import sys
import time


def client_hello():
    """The bytes of a real TLS ClientHello (no certificate will ever follow)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--per-address", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between bytes on each connection")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--ready-file", required=True)
    a = ap.parse_args()
    count = min(a.count, 2000)
    deadline = time.monotonic() + min(a.seconds, 120)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    payload = client_hello() if a.tls else (
        b"POST /rrs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/xml\r\n"
        + b"X-Slow: " + b"a" * 4000 + b"\r\n\r\n")
    conns = []   # [socket, bytes sent]
    refused = 0
    for i in range(count):
        addr = "127.0.0.%d" % (2 + i // a.per_address)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.bind((addr, 0))
            s.connect(("127.0.0.1", a.port))
            s.send(payload[:1])
            s.setblocking(False)
            conns.append([s, 1])
        except OSError:
            refused += 1
            s.close()
    with open(a.ready_file, "w") as f:
        f.write("%d open %d refused\n" % (len(conns), refused))
    closed = 0
    while not stop and time.monotonic() < deadline:
        time.sleep(a.interval)
        for c in conns:
            if c[0] is None:
                continue
            try:
                # One more byte, never the last: the request (or handshake) never completes.
                if c[1] < len(payload) - 1:
                    c[0].send(payload[c[1]:c[1] + 1])
                    c[1] += 1
            except OSError:
                c[0].close()
                c[0] = None
                closed += 1
    for c in conns:
        if c[0] is not None:
            c[0].close()
    print("%d connections, %d refused at once, %d closed by the server" % (len(conns), refused, closed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
