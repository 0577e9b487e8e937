#!/usr/bin/env python3
"""smki_device_cert.py CERT EUI ds|ka: check CERT is an SMKI device certificate of EUI.

The shape of the RTDS device certificates (../shared/gbcs/keystore): X.509 v3,
ECDSA P-256 signed with SHA-256, an empty subject, and exactly these
extensions in this order: keyUsage (critical; digitalSignature for ds,
keyAgreement for ka), subjectKeyIdentifier (8 octets), subjectAltName
(critical; one otherName hardwareModuleName whose hwSerialNum is the EUI),
certificatePolicies (critical; the SMKI device policy only),
authorityKeyIdentifier (a key identifier only); no expiry (9999-12-31).
Prints the first property that fails and exits 1; exits 0 when all hold.
"""
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID

HW_MODULE_NAME = "1.3.6.1.5.5.7.8.4"
SMKI_DEVICE_POLICY = "1.2.826.0.1.1800000.1.2.1.4"


def fail(what):
    print(f"{sys.argv[1]}: {what}")
    sys.exit(1)


def der_len(b, i):
    n = b[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    return int.from_bytes(b[i + 1:i + 1 + k], "big"), i + 1 + k


def hw_serial(value):
    """hwSerialNum of HardwareModuleName ::= SEQUENCE { hwType OID, hwSerialNum OCTET STRING }."""
    b = value
    if b[0] != 0x30:
        fail("hardwareModuleName is not a SEQUENCE")
    _, i = der_len(b, 1)
    if b[i] != 0x06:
        fail("hardwareModuleName has no hwType")
    n, i = der_len(b, i + 1)
    i += n
    if b[i] != 0x04:
        fail("hardwareModuleName has no hwSerialNum")
    n, i = der_len(b, i + 1)
    return b[i:i + n]


def main():
    path, eui, usage = sys.argv[1], sys.argv[2], sys.argv[3]
    want = bytes.fromhex(eui.replace("-", ""))
    c = x509.load_pem_x509_certificate(open(path, "rb").read())
    if c.version != x509.Version.v3:
        fail("not X.509 v3")
    if len(c.subject.rdns) != 0:
        fail(f"subject is not empty: {c.subject.rfc4514_string()}")
    k = c.public_key()
    if not isinstance(k, ec.EllipticCurvePublicKey) or k.curve.name != "secp256r1":
        fail("key is not ECDSA P-256")
    if not isinstance(c.signature_hash_algorithm, hashes.SHA256) or c.signature_algorithm_oid.dotted_string != "1.2.840.10045.4.3.2":
        fail("not signed ecdsa-with-SHA256")
    after = c.not_valid_after_utc if hasattr(c, "not_valid_after_utc") else c.not_valid_after
    if after.year != 9999:
        fail(f"expires {after}")
    order = [e.oid for e in c.extensions]
    want_order = [ExtensionOID.KEY_USAGE, ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
                  ExtensionOID.CERTIFICATE_POLICIES, ExtensionOID.AUTHORITY_KEY_IDENTIFIER]
    if order != want_order:
        fail(f"extensions are not keyUsage, SKI, SAN, policies, AKI in that order: {[o._name for o in order]}")
    ku = c.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE)
    if not ku.critical:
        fail("keyUsage is not critical")
    v = ku.value
    bits = {n: getattr(v, n) for n in ("digital_signature", "content_commitment", "key_encipherment",
                                       "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign")}
    only = "digital_signature" if usage == "ds" else "key_agreement"
    if [n for n, on in bits.items() if on] != [only]:
        fail(f"keyUsage is not {only} alone")
    ski = c.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    if ski.critical or len(ski.value.digest) != 8:
        fail("subjectKeyIdentifier is not 8 octets, non-critical")
    san = c.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if not san.critical:
        fail("subjectAltName is not critical")
    names = list(san.value)
    if len(names) != 1 or not isinstance(names[0], x509.OtherName) or names[0].type_id.dotted_string != HW_MODULE_NAME:
        fail("subjectAltName is not one otherName hardwareModuleName")
    if hw_serial(names[0].value) != want:
        fail(f"hardwareModuleName names {hw_serial(names[0].value).hex()}, not {want.hex()}")
    cp = c.extensions.get_extension_for_oid(ExtensionOID.CERTIFICATE_POLICIES)
    if not cp.critical or [p.policy_identifier.dotted_string for p in cp.value] != [SMKI_DEVICE_POLICY]:
        fail("certificatePolicies is not the SMKI device policy alone, critical")
    aki = c.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    if aki.critical or not aki.value.key_identifier or aki.value.authority_cert_issuer is not None:
        fail("authorityKeyIdentifier is not a key identifier alone, non-critical")
    if len(c.issuer.rdns) == 0:
        fail("no issuer")


if __name__ == "__main__":
    main()
