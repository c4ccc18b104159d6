# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# The status scenario: one server (ours or the reference module) against
# pebble holding MDs in every state (issued + activated with one and two key
# types, staged but not activated, errored with the CA refusing connections,
# static MDCertificateFile with MDStapling, manual renew mode), and captures
# of md-status, /.httpd/certificate-status and server-status, plus the
# normalisation that makes the two modules' captures comparable.

import os
import re
import shutil
import time

import requests

from md_acme_env import AcmeEnv, chain_file, wait_until
from md_env import E2E_TMP, HttpdEnv, free_port
from ocsp_ca import OcspCA, OcspResponder
from pebble import Pebble

ISSUED = "issued.mdspec.org"
DUAL = "dual.mdspec.org"
STAGED = "staged.mdspec.org"
FAIL = "fail.mdspec.org"
MANUAL = "manual.mdspec.org"
STATIC = "static.mdspec.org"
EXPIRING = "expiring.mdspec.org"
ALL = [DUAL, EXPIRING, FAIL, ISSUED, MANUAL, STAGED, STATIC]


class Scenario:
    """Runs the scenario for one module in workdir; keeps the server up
    until stop()."""

    def __init__(self, workdir, reference):
        self.reference = reference
        self.envs = []
        self.pebs = []
        self.workdir = workdir
        self.ae = AcmeEnv(self._env_factory, self._pebble_factory, reference=reference,
                          pebble_env={"PEBBLE_AUTHZREUSE": "0"})
        self.env = self.ae.env
        self.env.allow_log(r"AH10056.*%s" % FAIL, r"%s" % FAIL, r"AH10085",
                           r"AH10045",
                           # the reference warns about unused key files and
                           # its stapling of the static MD
                           r"AH10500",
                           # the reference on the ARI id of self-signed certificates
                           r"cert has no authority key id")
        self.ca = OcspCA(os.path.join(self.env.root, "ocsp-ca"))
        self.responder = OcspResponder(self.ca).start()
        self.static = self.ca.issue("static", [STATIC], ocsp_url=self.responder.url)
        self.fail_port = free_port()
        self.expiring = expiring_cert(os.path.join(self.env.root, "expiring"), EXPIRING)

    def _env_factory(self, **kw):
        env = HttpdEnv(**kw)
        self.envs.append(env)
        return env

    def _pebble_factory(self, **kw):
        d = os.path.join(self.workdir, "pebble-%d" % len(self.pebs))
        peb = Pebble(d, **kw).start()
        self.pebs.append(peb)
        return peb

    def config(self, with_staged):
        body = [
            "MDCertificateCheck crt.sh https://crt.sh?q=",
            "MDomain %s www.%s" % (ISSUED, ISSUED),
            "<MDomain %s>" % DUAL,
            "  MDPrivateKeys secp384r1 rsa",
            "</MDomain>",
            "<MDomain %s>" % FAIL,
            "  MDCertificateAuthority https://127.0.0.1:%d/dir" % self.fail_port,
            "</MDomain>",
            "<MDomain %s>" % MANUAL,
            "  MDRenewMode manual",
            "</MDomain>",
            "<MDomain %s>" % STATIC,
            "  MDCertificateFile %s" % self.static["chain"],
            "  MDCertificateKeyFile %s" % self.static["key"],
            "  MDStapling on",
            "</MDomain>",
            "<MDomain %s>" % EXPIRING,
            "  MDCertificateFile %s" % self.expiring[0],
            "  MDCertificateKeyFile %s" % self.expiring[1],
            "</MDomain>",
            "<Location /server-status>",
            "  SetHandler server-status",
            "</Location>",
        ]
        vhosts = [[ISSUED, "www." + ISSUED], [DUAL], [FAIL], [MANUAL], [STATIC], [EXPIRING]]
        if with_staged:
            body.append("MDomain %s" % STAGED)
            vhosts.append([STAGED])
        return body, vhosts

    def run(self):
        ae = self.ae
        body, vhosts = self.config(False)
        ae.write(body, vhosts=vhosts, message_cmd=True)
        ae.start()
        ae.wait_staged(ISSUED)
        ae.wait_staged(DUAL, specs=("secp384r1", "rsa"))
        wait_until(lambda: "renewed" in ae.reasons(ISSUED) and "renewed" in ae.reasons(DUAL),
                   30, what="renewed messages")
        body, vhosts = self.config(True)
        ae.write(body, vhosts=vhosts, message_cmd=True)
        ae.graceful()
        ae.wait_active(ISSUED)
        ae.wait_active(DUAL, specs=("secp384r1", "rsa"))
        ae.wait_staged(STAGED)
        wait_until(lambda: "renewed" in ae.reasons(STAGED), 30, what="renewed staged")
        wait_until(lambda: (ae.job(FAIL) or {}).get("errors", 0) > 0, 30,
                   what="errors of %s" % FAIL)
        wait_until(lambda: os.path.exists(os.path.join(
            ae.store, "ocsp", STATIC, "ocsp-%s.json" % self.static["id"])), 30,
            what="ocsp response")
        wait_until(lambda: (ae.job(EXPIRING) or {}).get("finished"), 30,
                   what="expiry warning of %s" % EXPIRING)
        time.sleep(1.5)
        return self

    # --- requests -------------------------------------------------------------------

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.env.http_port, path)

    def get(self, path, host=None, method="GET"):
        headers = {"Host": host} if host else {}
        return requests.request(method, self.url(path), headers=headers, timeout=10)

    def captures(self):
        """Every status document, as text."""
        caps = {}
        caps["md-status"] = self.get("/md-status").text
        for name in ALL:
            caps["md-status/" + name] = self.get("/md-status/" + name).text
            caps["cert-status/" + name] = self.get("/.httpd/certificate-status",
                                                   host=name).text
        caps["md-status/www." + ISSUED] = self.get("/md-status/www." + ISSUED).text
        caps["server-status?auto"] = self.get("/server-status?auto").text
        caps["server-status"] = self.get("/server-status").text
        return caps

    def stop(self):
        for env in self.envs:
            env.stop()
        self.responder.stop()
        for peb in self.pebs:
            peb.stop()

    def cleanup(self):
        bad = []
        for env in self.envs:
            bad += env.unexpected_log_lines()
            env.cleanup()
        return bad


def expiring_cert(dirpath, name):
    """A self-signed certificate for name in the last day of its 30 days
    (in the renew and warn windows); returns (cert path, key path)."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    os.makedirs(dirpath, exist_ok=True)
    os.chmod(dirpath, 0o755)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=29))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    paths = (os.path.join(dirpath, "cert.pem"), os.path.join(dirpath, "key.pem"))
    with open(paths[0], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    for p in paths:
        os.chmod(p, 0o644)
    return paths


# --- normalisation ---------------------------------------------------------------------

RFC822 = r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT"


def normalize(text):
    """Replaces what differs between two runs: times, dates, serials,
    fingerprints, ids, ports, counts of seconds, versions."""
    t = text
    t = re.sub(RFC822, "<TIME>", t)
    t = re.sub(r"\d{4}-\d{2}-\d{2}", "<YMD>", t)
    t = re.sub(r"\b[0-9a-f]{64}\b", "<SHA256>", t)
    t = re.sub(r"\b[0-9a-f]{40}\b", "<SHA1>", t)
    t = re.sub(r'("serial": )"[0-9A-F]+"', r'\1"<SERIAL>"', t)
    t = re.sub(r'("ari-cert-id": )"[A-Za-z0-9_.-]+"', r'\1"<ARI>"', t)
    t = re.sub(r"Pebble Intermediate CA [0-9a-f]+", "Pebble Intermediate CA <X>", t)
    t = re.sub(r"(localhost|127\.0\.0\.1):\d+", r"\1:<PORT>", t)
    t = re.sub(r"(Activity(Renew|NextRun|Refresh)): -?\d+", r"\1: <N>", t)
    t = re.sub(r"~\d+ (days|hours|minutes|seconds)|\b\d+ ms\b", "<ROUGH>", t)
    t = re.sub(r'"version": "[0-9.]+(-git)?"', '"version": "<VERSION>"', t)
    # the roots below MD_E2E_TMP (md_env.E2E_TMP), whatever it is set to
    t = re.sub(re.escape(E2E_TMP) + r"/[a-z]+-[A-Za-z0-9_]+/", "<ROOT>/", t)
    t = re.sub(r'"\d+\.\d+\.\d+\.\d+:\d+"', '"<ADDR>"', t)
    t = re.sub(r"(order|authz|account|acct|cert|finalize)/[A-Za-z0-9_-]+", r"\1/<ID>", t)
    return t


def mod_status_part(html):
    """The mod_md part of the server-status HTML page."""
    start = html.find("<hr>\n<h3>Managed Certificates</h3>")
    if start < 0:
        return ""
    end = html.rfind("</table>\n")
    return html[start:end + len("</table>\n")]
