# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Runs the pebble ACME test CA and pebble-challtestsrv on free loopback ports
# (contract.md Appendix B): pebble validates http-01/tls-alpn-01 against the
# given ports, resolves every name to 127.0.0.1 through challtestsrv's DNS and
# serves its directory with a TLS certificate from a private root generated
# here. Use the `pebble_factory` fixture or the `Pebble` class directly.

import datetime
import json
import os
import signal
import subprocess
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import ipaddress

from md_env import free_port  # noqa: F401  (one port picker for all fixtures)




def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_tls_credentials(dirpath):
    """Writes a private root (root.pem) and a leaf for localhost signed by it
    (cert.pem, key.pem) into dirpath; returns the three paths."""
    now = datetime.datetime.now(datetime.timezone.utc)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder()
            .subject_name(_name("mod_md test root"))
            .issuer_name(_name("mod_md test root"))
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(root_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(_name("localhost"))
            .issuer_name(root.subject)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(root_key, hashes.SHA256()))
    paths = (os.path.join(dirpath, "root.pem"), os.path.join(dirpath, "cert.pem"),
             os.path.join(dirpath, "key.pem"))
    with open(paths[0], "wb") as f:
        f.write(root.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(leaf.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as f:
        f.write(leaf_key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return paths


class Pebble:
    """pebble + pebble-challtestsrv on loopback.

    url:           the ACME directory url (https://localhost:<port>/dir)
    ca_file:       the private root of pebble's TLS certificate (for -C /
                   MDCACertificateFile)
    issuer_root(): PEM of the root pebble issues certificates under
    set_txt()/clear_txt(): dns-01 TXT records via challtestsrv
    """

    def __init__(self, workdir, http_port=80, tls_port=443, env=None, eab_keys=None,
                 ocsp_url="", validity=None):
        self.workdir = workdir
        self.ocsp_url = ocsp_url    # the AIA OCSP URL of the certificates it issues
        self.validity = validity    # seconds a certificate is valid, None: 5 years
        self.http_port = http_port
        self.tls_port = tls_port
        self.env = dict(env or {})
        self.eab_keys = eab_keys
        self._pick_ports()
        self.procs = []
        os.makedirs(workdir, exist_ok=True)
        self.ca_file, self.cert_file, self.key_file = make_tls_credentials(workdir)

    def _pick_ports(self):
        self.port = free_port()
        self.mgmt_port = free_port()
        self.dns_port = free_port()
        self.cts_mgmt_port = free_port()
        self.url = f"https://localhost:{self.port}/dir"

    def _spawn(self, args, env, logname):
        log = open(os.path.join(self.workdir, logname), "w")
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT,
                                cwd=self.workdir, start_new_session=True)
        self.procs.append(proc)
        return proc

    def start(self, timeout=20, attempts=3):
        """Starts challtestsrv and pebble. The ports were free when they were
        picked, but another xdist worker may take one before pebble binds it:
        when a process exits while starting, its logs are kept (renamed with
        the attempt's number) and both start again on new ports."""
        for attempt in range(1, attempts + 1):
            try:
                return self._start_once(timeout)
            except RuntimeError:
                self.stop()
                if attempt == attempts:
                    raise
                for name in ("challtestsrv.log", "pebble.log"):
                    path = os.path.join(self.workdir, name)
                    if os.path.exists(path):
                        os.rename(path, f"{path}.{attempt}")
                self.procs = []
                self._pick_ports()
        return self

    def _start_once(self, timeout):
        cts_args = ["pebble-challtestsrv",
                    "-dns01", f"127.0.0.1:{self.dns_port}",
                    "-http01", "", "-https01", "", "-tlsalpn01", "",
                    "-management", f"127.0.0.1:{self.cts_mgmt_port}",
                    "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""]
        self._spawn(cts_args, dict(os.environ), "challtestsrv.log")
        config = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mgmt_port}",
            "certificate": self.cert_file,
            "privateKey": self.key_file,
            "httpPort": self.http_port,
            "tlsPort": self.tls_port,
            "ocspResponderURL": self.ocsp_url,
            "externalAccountBindingRequired": bool(self.eab_keys),
        }}
        if self.eab_keys:
            config["pebble"]["externalAccountMACKeys"] = self.eab_keys
        if self.validity:
            config["pebble"]["certificateValidityPeriod"] = int(self.validity)
        config_file = os.path.join(self.workdir, "pebble-config.json")
        with open(config_file, "w") as f:
            json.dump(config, f, indent=2)
        env = dict(os.environ)
        env.update({"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"})
        env.update(self.env)
        self._spawn(["pebble", "-config", config_file,
                     "-dnsserver", f"127.0.0.1:{self.dns_port}"], env, "pebble.log")
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout):
        end = time.time() + timeout
        while time.time() < end:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"pebble process exited: {proc.args}, see "
                                       f"{self.workdir}")
            try:
                r = requests.get(self.url, verify=self.ca_file, timeout=2)
                if r.status_code == 200:
                    requests.get(f"http://127.0.0.1:{self.cts_mgmt_port}/", timeout=2)
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"pebble not ready after {timeout}s, see {self.workdir}")

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.procs = []

    def issuer_root(self):
        """PEM of pebble's root for issued certificates (management /roots/0)."""
        r = requests.get(f"https://localhost:{self.mgmt_port}/roots/0",
                         verify=self.ca_file, timeout=5)
        r.raise_for_status()
        return r.text

    def set_txt(self, host, value):
        requests.post(f"http://127.0.0.1:{self.cts_mgmt_port}/set-txt",
                      json={"host": host, "value": value}, timeout=5).raise_for_status()

    def clear_txt(self, host):
        requests.post(f"http://127.0.0.1:{self.cts_mgmt_port}/clear-txt",
                      json={"host": host}, timeout=5).raise_for_status()

    def cts_mgmt_url(self):
        return f"http://127.0.0.1:{self.cts_mgmt_port}"


@pytest.fixture
def pebble_factory(tmp_path):
    """Starts Pebble instances for a test: pebble_factory(http_port=..,
    tls_port=.., env={..}); all are stopped at the end of the test."""
    started = []

    def start(**kwargs):
        workdir = os.path.join(str(tmp_path), f"pebble-{len(started)}")
        peb = Pebble(workdir, **kwargs).start()
        started.append(peb)
        return peb

    yield start
    for peb in started:
        peb.stop()
