#!/usr/bin/env python3
"""What a TLS server accepts: one handshake to 127.0.0.1:PORT offering only
TLS VERSION (1.0, 1.1, 1.2, 1.3) and, optionally, only the OpenSSL CIPHERS
given.  The client itself allows everything (security level 0), so a refusal
is the server's.  Prints "accepted VERSION CIPHER" and exits 0, or prints
"refused ..." and exits 1.  With --cert/--key it presents a client
certificate."""
import argparse
import socket
import ssl
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--version", required=True, choices=["1.0", "1.1", "1.2", "1.3"])
ap.add_argument("--ciphers")
ap.add_argument("--cert")
ap.add_argument("--key")
a = ap.parse_args()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_ciphers((a.ciphers or "ALL") + ":@SECLEVEL=0")
v = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
     "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[a.version]
ctx.minimum_version = v
ctx.maximum_version = v
if a.cert:
    ctx.load_cert_chain(a.cert, a.key)
try:
    with socket.create_connection(("127.0.0.1", a.port), timeout=20) as s, ctx.wrap_socket(s) as t:
        print("accepted", t.version(), t.cipher()[0])
except (ssl.SSLError, OSError) as e:
    print("refused", e)
    sys.exit(1)
