#!/usr/bin/env python3
"""Split a signed GBCS General Signing APDU for checking with openssl.

usage: gbcs_sig.py BASE64 OUTDIR
Writes OUTDIR/tbs.bin (the signed bytes: after the DF tag up to the end of
the content), OUTDIR/sig.der (the 40 || r || s signature as DER) and prints
the originator EUI and the last 32 octets of the content (a 0x8F72 alert's
hash) in hex.  Nothing here comes from hanfw's own code.
"""
import base64
import os
import sys


def der_int(b):
    b = b.lstrip(b"\x00") or b"\x00"
    if b[0] & 0x80:
        b = b"\x00" + b
    return b"\x02" + bytes([len(b)]) + b


def main():
    apdu = base64.b64decode(sys.argv[1])
    out = sys.argv[2]
    if apdu[0] != 0xDF or apdu[-65] != 0x40:
        sys.exit("not a signed General Signing APDU")
    r, s = apdu[-64:-32], apdu[-32:]
    seq = der_int(r) + der_int(s)
    with open(os.path.join(out, "tbs.bin"), "wb") as f:
        f.write(apdu[1:-65])
    with open(os.path.join(out, "sig.der"), "wb") as f:
        f.write(b"\x30" + bytes([len(seq)]) + seq)
    print(apdu[12:20].hex(), apdu[-65 - 32:-65].hex())


if __name__ == "__main__":
    main()
