# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Helpers for the store, vhost and mod_ssl hand-over tests: certificates and
# keys made with python cryptography, TLS handshakes with `openssl s_client`
# (SNI, ALPN, signature algorithms), HTTP(S) requests with curl and store
# snapshots (bytes + modes) for before/after comparisons.

import datetime
import hashlib
import os
import re
import stat
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FALLBACK_CN = "Apache Managed Domain Fallback"


def make_key(kind="rsa"):
    """A private key: "rsa" (2048), "rsa3072" or an EC curve "P-256"/"P-384"."""
    if kind.startswith("rsa"):
        bits = int(kind[3:]) if kind[3:] else 2048
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    curve = {"P-256": ec.SECP256R1(), "secp256r1": ec.SECP256R1(),
             "prime256v1": ec.SECP256R1(), "P-384": ec.SECP384R1(),
             "secp384r1": ec.SECP384R1()}[kind]
    return ec.generate_private_key(curve)


def make_cert(domains, key=None, issuer_key=None, issuer_name=None, days=30,
              cn=None, kind="rsa", valid_from=None):
    """A leaf certificate for domains (self-signed unless issuer_key/name).
    Returns (cert, key)."""
    key = key or make_key(kind)
    now = valid_from or datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn or domains[0])])
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer_name or subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName(
                   [x509.DNSName(d) for d in domains]), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                              critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                              critical=False))
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert, key


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def write_pem(path, data, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def write_cred(dirpath, domains, kind="rsa", cert_name="pubcert.pem",
               key_name="privkey.pem", days=30):
    """Writes a self-signed cert + key for domains into dirpath; returns the cert."""
    cert, key = make_cert(domains, kind=kind, days=days)
    write_pem(os.path.join(dirpath, cert_name), cert_pem(cert))
    write_pem(os.path.join(dirpath, key_name), key_pem(key))
    return cert


def load_cert(data):
    if isinstance(data, str):
        data = data.encode()
    return x509.load_pem_x509_certificate(data)


def cert_cn(cert):
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return attrs[0].value if attrs else None


def cert_sans(cert):
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return ext.value.get_values_for_type(x509.DNSName)


def fingerprint(cert):
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


# --- TLS and HTTP clients ---------------------------------------------------------------

def s_client(port, servername, alpn=None, sigalgs=None, groups=None, timeout=10,
             extra=None):
    """Handshake with openssl s_client; returns (leaf certificate or None, output)."""
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
           "-servername", servername, "-showcerts"]
    if alpn:
        cmd += ["-alpn", alpn]
    if sigalgs:
        cmd += ["-sigalgs", sigalgs]
    if groups:
        cmd += ["-groups", groups]
    if extra:
        cmd += extra
    p = subprocess.run(cmd, input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    out = p.stdout.decode("utf-8", errors="replace")
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    return (load_cert(m.group(0)) if m else None), out


def curl(url, host=None, port=None, method=None, data=None, headers=None, timeout=10,
         extra=None):
    """curl -sk; host/port resolve the url's host to 127.0.0.1. Returns
    (status, headers dict (lower-case names), body bytes)."""
    cmd = ["curl", "-sk", "-D", "-", "-o", "-", "--max-time", str(timeout)]
    if host and port:
        cmd += ["--resolve", "%s:%d:127.0.0.1" % (host, port)]
    if method:
        cmd += ["-X", method]
    if data is not None:
        cmd += ["--data-binary", data]
    for h in headers or []:
        cmd += ["-H", h]
    if extra:
        cmd += extra
    cmd.append(url)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout + 5)
    raw = p.stdout
    status, hdrs = None, {}
    sep = raw.find(b"\r\n\r\n")
    if sep < 0:
        return None, {}, raw
    head, body = raw[:sep].decode("iso-8859-1"), raw[sep + 4:]
    lines = head.split("\r\n")
    m = re.match(r"HTTP/\S+ (\d+)", lines[0])
    if m:
        status = int(m.group(1))
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            hdrs[name.strip().lower()] = value.strip()
    return status, hdrs, body


# --- store snapshots ------------------------------------------------------------------------

def snapshot(root, subdirs=None):
    """{relpath: (mode, bytes or None for dirs)} below root (or its subdirs)."""
    snap = {}
    tops = [os.path.join(root, d) for d in subdirs] if subdirs else [root]
    for top in tops:
        if not os.path.exists(top):
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            rel = os.path.relpath(dirpath, root)
            snap[rel] = (stat.S_IMODE(os.stat(dirpath).st_mode), None)
            for fn in filenames:
                path = os.path.join(dirpath, fn)
                with open(path, "rb") as f:
                    snap[os.path.join(rel, fn)] = (stat.S_IMODE(os.stat(path).st_mode),
                                                   f.read())
    return snap


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)
