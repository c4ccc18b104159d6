#!/usr/bin/python3
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Writes status-sct.pem: a self-signed certificate carrying an embedded SCT
# list extension (1.3.6.1.4.1.11129.2.4.2) with two SCTs of fixed log ids,
# timestamps and signature bytes (not real signatures: OpenSSL parses SCTs
# without verifying them), for the certificate-status "scts" unit test, and
# status-sct-far.pem with timestamps up to and beyond year 9999.
import datetime
import os
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SCT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def sct(log_id, ts_ms, hash_alg, sig_alg, sig):
    """RFC 6962 3.2 SignedCertificateTimestamp (v1, no extensions)."""
    body = b"\x00" + log_id + struct.pack(">Q", ts_ms) + struct.pack(">H", 0)
    body += bytes([hash_alg, sig_alg]) + struct.pack(">H", len(sig)) + sig
    return struct.pack(">H", len(body)) + body


def der_octets(data):
    n = len(data)
    if n < 0x80:
        return b"\x04" + bytes([n]) + data
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\x04" + bytes([0x80 | len(ln)]) + ln + data


def write(fname, scts):
    value = der_octets(struct.pack(">H", len(scts)) + scts)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sct.mdspec.org")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(0x5C7)
            .not_valid_before(datetime.datetime(2026, 11, 30, 11, 54, 24))
            .not_valid_after(datetime.datetime(2031, 11, 30, 11, 54, 23))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("sct.mdspec.org")]),
                           critical=False)
            .add_extension(x509.UnrecognizedExtension(SCT_OID, value), critical=False)
            .sign(key, hashes.SHA256()))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), fname)
    with open(out, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


write("status-sct.pem",
      sct(bytes(range(32)), 1559322395000, 4, 3, bytes([0x30, 0x06, 0x02, 0x01, 0x01,
                                                        0x02, 0x01, 0x02]))
      + sct(bytes([0xaa] * 32), 1559322396500, 4, 1, bytes([0x11] * 16)))
# timestamps that are no date (a hostile CA's): the largest uint64, and the
# last millisecond of year 9999 (the largest still shown)
write("status-sct-far.pem",
      sct(bytes([0xbb] * 32), 2**64 - 1, 4, 3, bytes([0x30, 0x06, 0x02, 0x01, 0x01,
                                                      0x02, 0x01, 0x02]))
      + sct(bytes([0xcc] * 32), 253402300799999, 4, 3, bytes([0x22] * 8)))
