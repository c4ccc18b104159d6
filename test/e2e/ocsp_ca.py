# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# A small CA for the stapling tests (pebble has no OCSP responder): leaf
# certificates with an AIA OCSP URL on loopback, an `openssl ocsp` index
# (good / revoked), and an HTTP responder that answers every POST through
# `openssl ocsp -index ... -reqin/-respout`, or with garbage, an HTTP error
# or not at all, as a test asks. Leaves may name a CRL distribution point
# instead; CrlServer publishes the CA's CRL (its revoked entries) there.

import datetime
import hashlib
import http.server
import os
import socket
import subprocess
import tempfile
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class OcspCA:
    """A CA in directory path: ca.pem/ca.key, index.txt, issued leaves."""

    def __init__(self, path, name="MD Stapling Test CA"):
        self.path = path
        os.makedirs(path, exist_ok=True)
        os.chmod(path, 0o755)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (x509.CertificateBuilder()
                     .subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=3650))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                    critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                         self.key.public_key()), critical=False)
                     .sign(self.key, hashes.SHA256()))
        self.ca_pem = self._write("ca.pem", _pem(self.cert))
        self.ca_key = self._write("ca.key", _key_pem(self.key), 0o600)
        self.index = self._write("index.txt", "")
        self.entries = {}           # serial hex -> [status, expiry, subject]

    def _write(self, name, text, mode=0o644):
        path = os.path.join(self.path, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def _write_index(self):
        lines = []
        for serial, (status, expiry, subject) in self.entries.items():
            rev = "240101000000Z" if status == "R" else ""
            lines.append("%s\t%s\t%s\t%s\tunknown\t%s\n" % (status, expiry, rev, serial,
                                                           subject))
        self._write("index.txt", "".join(lines))

    def issue(self, name, domains, ocsp_url=None, days=30, crl_url=None):
        """A leaf for domains, signed by the CA, with an AIA OCSP URL and a
        CRL distribution point if given.
        Writes <name>.pem (leaf), <name>.key, <name>-chain.pem (leaf + CA).
        Returns a dict with the paths and facts."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        expiry = now + datetime.timedelta(days=days)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domains[0])])
        builder = (x509.CertificateBuilder()
                   .subject_name(subject).issuer_name(self.cert.subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(expiry)
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.DNSName(d) for d in domains]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                  critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       self.key.public_key()), critical=False))
        if ocsp_url:
            builder = builder.add_extension(x509.AuthorityInformationAccess([
                x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                       x509.UniformResourceIdentifier(ocsp_url))]),
                critical=False)
        if crl_url:
            builder = builder.add_extension(x509.CRLDistributionPoints([
                x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)],
                                       None, None, None)]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        serial = "%X" % cert.serial_number
        if len(serial) % 2:
            serial = "0" + serial
        self.entries[serial] = ["V", expiry.strftime("%y%m%d%H%M%SZ"),
                                "/CN=%s" % domains[0]]
        self._write_index()
        der = cert.public_bytes(serialization.Encoding.DER)
        return {
            "cert": self._write("%s.pem" % name, _pem(cert)),
            "key": self._write("%s.key" % name, _key_pem(key), 0o644),
            "chain": self._write("%s-chain.pem" % name, _pem(cert) + _pem(self.cert)),
            "serial": serial,
            "id": hashlib.sha1(der).hexdigest(),
            "sha256": hashlib.sha256(der).hexdigest(),
            "x509": cert,
        }

    def revoke(self, leaf):
        self.entries[leaf["serial"]][0] = "R"
        self._write_index()

    def unrevoke(self, leaf):
        self.entries[leaf["serial"]][0] = "V"
        self._write_index()

    def crl_der(self, next_hours=24):
        """A CRL listing the revoked leaves, valid from now for next_hours."""
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateRevocationListBuilder()
                   .issuer_name(self.cert.subject)
                   .last_update(now - datetime.timedelta(minutes=1))
                   .next_update(now + datetime.timedelta(hours=next_hours)))
        for serial, (status, _, _) in self.entries.items():
            if status == "R":
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder().serial_number(int(serial, 16))
                    .revocation_date(now - datetime.timedelta(minutes=1)).build())
        crl = builder.sign(self.key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.DER)

    def ocsp_answer(self, req_der, valid_minutes=60):
        """The DER response `openssl ocsp` gives for the request."""
        with tempfile.TemporaryDirectory() as tmp:
            req = os.path.join(tmp, "req.der")
            resp = os.path.join(tmp, "resp.der")
            with open(req, "wb") as f:
                f.write(req_der)
            subprocess.run(["openssl", "ocsp", "-index", self.index, "-CA", self.ca_pem,
                            "-rsigner", self.ca_pem, "-rkey", self.ca_key,
                            "-reqin", req, "-respout", resp, "-nmin", str(valid_minutes)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=True, timeout=20)
            with open(resp, "rb") as f:
                return f.read()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Quiet, with one way to answer."""

    def reply(self, status, content_type, data):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class _Loopback:
    """An HTTP server on 127.0.0.1:port in a thread; stop() closes the port."""
    server = None

    def _serve(self, handler):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class OcspResponder(_Loopback):
    """An HTTP OCSP responder for a CA on 127.0.0.1:port. mode: "openssl"
    (real answers), "garbage", "http500", "other-ca" (signed by another CA).
    Counts requests; stop() closes the port (then: unreachable)."""

    def __init__(self, ca, port=None, mode="openssl", valid_minutes=60):
        self.ca = ca
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d/ocsp" % self.port
        self.mode = mode
        self.valid_minutes = valid_minutes
        self.requests = 0
        self.user_agents = []
        self.content_types = []
        self.other_ca = None

    def start(self):
        responder = self

        class Handler(_Handler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                responder.requests += 1
                responder.user_agents.append(self.headers.get("User-Agent"))
                responder.content_types.append(self.headers.get("Content-Type"))
                status, data = responder.answer(body)
                self.reply(status, "application/ocsp-response", data)

        return self._serve(Handler)

    def answer(self, req_der):
        if self.mode == "garbage":
            return 200, b"\x30\x03\x0a\x01" + os.urandom(64)
        if self.mode == "http500":
            return 500, b"oops"
        if self.mode == "other-ca":
            if not self.other_ca:
                self.other_ca = OcspCA(os.path.join(self.ca.path, "other"), "Other CA")
                self.other_ca.entries = self.ca.entries
                self.other_ca._write_index()
            return 200, self.other_ca.ocsp_answer(req_der, self.valid_minutes)
        return 200, self.ca.ocsp_answer(req_der, self.valid_minutes)


class CrlServer(_Loopback):
    """Publishes ca.crl_der() at http://127.0.0.1:port/ca.crl; counts the
    requests. mode "garbage" answers with junk."""

    def __init__(self, ca, port=None, mode="crl"):
        self.ca = ca
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d/ca.crl" % self.port
        self.mode = mode
        self.requests = 0

    def start(self):
        publisher = self

        class Handler(_Handler):
            def do_GET(self):
                publisher.requests += 1
                data = (publisher.ca.crl_der() if publisher.mode == "crl"
                        else b"not a crl")
                self.reply(200, "application/pkix-crl", data)

        return self._serve(Handler)


class PebbleOcspResponder(OcspResponder):
    """Answers for the certificates pebble issues (pebble has no responder):
    "good", signed by pebble's intermediate, whose key pebble's management
    interface hands out (also for the leaves of the OcspCAs in cas). The
    certificate of a request is looked up by its serial among the PEM files
    below the given directories (the store)."""

    def __init__(self, dirs, port=None, valid_minutes=60, cas=()):
        OcspResponder.__init__(self, None, port=port, valid_minutes=valid_minutes)
        self.dirs = dirs
        self.cas = list(cas)
        self.served = []            # serials answered "good"
        self.peb = None
        self.issuer = self.issuer_key = None

    def _issuer(self):
        if self.issuer is None:
            import requests
            base = "https://localhost:%d" % self.peb.mgmt_port
            cert = requests.get(base + "/intermediates/0", verify=self.peb.ca_file, timeout=5)
            key = requests.get(base + "/intermediate-keys/0", verify=self.peb.ca_file,
                               timeout=5)
            cert.raise_for_status()
            key.raise_for_status()
            self.issuer = x509.load_pem_x509_certificate(cert.content)
            self.issuer_key = serialization.load_pem_private_key(key.content, None)
        return self.issuer, self.issuer_key

    def _find(self, serial):
        for d in self.dirs:
            for dirpath, _, files in os.walk(d):
                for fn in files:
                    if not fn.startswith("pubcert"):
                        continue
                    try:
                        with open(os.path.join(dirpath, fn), "rb") as f:
                            cert = x509.load_pem_x509_certificate(f.read())
                    except (OSError, ValueError):
                        continue
                    if cert.serial_number == serial:
                        return cert
        return None

    def answer(self, req_der):
        from cryptography.x509 import ocsp
        req = ocsp.load_der_ocsp_request(req_der)
        leaf = self._find(req.serial_number)
        if leaf is None:
            return 200, ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(serialization.Encoding.DER)
        issuer, key = None, None
        for ca in self.cas:
            if x509.SubjectKeyIdentifier.from_public_key(
                    ca.cert.public_key()).digest == req.issuer_key_hash:
                issuer, key = ca.cert, ca.key
        if issuer is None:
            issuer, key = self._issuer()
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        resp = (ocsp.OCSPResponseBuilder()
                .add_response(cert=leaf, issuer=issuer, algorithm=hashes.SHA1(),
                              cert_status=ocsp.OCSPCertStatus.GOOD,
                              this_update=now - datetime.timedelta(minutes=1),
                              next_update=now + datetime.timedelta(
                                  minutes=self.valid_minutes),
                              revocation_time=None, revocation_reason=None)
                .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
                .sign(key, hashes.SHA256()))
        self.served.append(req.serial_number)
        return 200, resp.public_bytes(serialization.Encoding.DER)
