# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Helpers of scripts/bench: configurations with N managed domains (our module,
# the reference module or httpd + mod_ssl alone with static certificates),
# stores pre-filled with certificates, timed `apache2 -t` / start-up until an
# HTTP answer, the parent's RSS, issuance runs against pebble and request
# latency of the status handlers. Builds on test/e2e/md_env.py and pebble.py.

import datetime
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from md_env import (APACHE2, MODULES_DIR, REFERENCE_MODULE,  # noqa: E402
                    HttpdEnv, free_port, our_module)

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

BENCH_TMP = os.environ.get("MD_BENCH_TMP", "/tmp/md-bench")
BASE_MODULES = ["mpm_event", "authz_core", "mime", "socache_shmcb", "ssl",
                "status", "watchdog"]


def domain(i):
    """Name of the i-th benchmark domain."""
    return "d%05d.bench.example" % i


def domains(n):
    return [domain(i) for i in range(n)]


def median(values):
    return statistics.median(values) if values else None


# --- stores with certificates ------------------------------------------------

def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_cert_store(path, n, log=print, age_days=1, valid_days=60):
    """Writes a store at path with domains/<name>/privkey.pem + pubcert.pem
    (leaf + issuer, RSA-2048 leaf key shared by all, issued age_days ago,
    valid for valid_days from then, by a private EC root) for the first n
    domains. Kept as a template: callers copy it. Returns path."""
    done = os.path.join(path, ".complete")
    if os.path.exists(done):
        return path
    shutil.rmtree(path, ignore_errors=True)
    t0 = time.time()
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "md bench root")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pem = _pem_key(leaf_key)
    for name in domains(n):
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(ca_name).public_key(leaf_key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=age_days))
                .not_valid_after(now + datetime.timedelta(days=valid_days - age_days))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                               critical=True)
                .sign(ca_key, hashes.SHA256()))
        d = os.path.join(path, "domains", name)
        os.makedirs(d)
        with open(os.path.join(d, "privkey.pem"), "wb") as f:
            f.write(key_pem)
        os.chmod(os.path.join(d, "privkey.pem"), 0o600)
        with open(os.path.join(d, "pubcert.pem"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
    open(done, "w").close()
    log("  (made a store with %d certificates in %.1fs: %s)" % (n, time.time() - t0, path))
    return path


def copy_store(template, dest):
    shutil.rmtree(dest, ignore_errors=True)
    if template:
        shutil.copytree(template, dest, ignore=shutil.ignore_patterns(".complete"))
    else:
        os.makedirs(dest)


# --- configurations ----------------------------------------------------------

class BenchServer(HttpdEnv):
    """An HttpdEnv with n managed domains, each with an SSL virtual host.

    kind: "ours", "ref" (the reference mod_md) or "floor" (no mod_md; each
    vhost has SSLCertificateFile/KeyFile of the store's domains/<name>/).
    """

    def __init__(self, kind, n, store_template=None, key_spec=None, ca=None,
                 status=False, log_level="warn", extra=""):
        module = None if kind != "ours" else our_module()
        HttpdEnv.__init__(self, reference=(kind == "ref"), module=module,
                          log_level=log_level)
        self.kind = kind
        self.n = n
        self.key_spec = key_spec
        self.ca = ca
        self.status = status
        self.extra = extra
        copy_store(store_template, self.store_dir)
        self.write_bench_config()

    def write_bench_config(self):
        lines = [
            "ServerRoot %s" % self.root,
            "DefaultRuntimeDir %s" % self.logs_dir,
            "PidFile %s" % self.pid_file,
            "ErrorLog %s" % self.error_log,
            "LogLevel warn" + ("" if self.kind == "floor" else " md:%s" % self.log_level),
            "Mutex file:%s default" % self.logs_dir,
        ]
        for name in BASE_MODULES:
            path = os.path.join(MODULES_DIR, "mod_%s.so" % name)
            if os.path.exists(path):   # watchdog is built into Debian's httpd
                lines.append("LoadModule %s_module %s" % (name, path))
        if self.kind != "floor":
            lines.append("LoadModule md_module %s" % self.module)
        if self.run_as_root:
            lines += ["User www-data", "Group www-data"]
        lines += [
            "ServerName localhost",
            "DocumentRoot %s" % self.docs_dir,
            "Listen 127.0.0.1:%d" % self.http_port,
            "Listen 127.0.0.1:%d https" % self.https_port,
            "TypesConfig /etc/mime.types",
            "SSLSessionCache shmcb:%s/ssl_scache(512000)" % self.logs_dir,
            "<Location /server-status>", "  SetHandler server-status", "</Location>",
            "ExtendedStatus on",
        ]
        if self.kind != "floor":
            lines += [
                "MDStoreDir %s" % self.store_dir,
                "MDPortMap 80:%d 443:%d" % (self.http_port, self.https_port),
                "MDCertificateAgreement accepted",
                "MDContactEmail admin@bench.example",
                "MDServerStatus on",
                "<Location /md-status>", "  SetHandler md-status", "</Location>",
            ]
            if self.ca:
                lines += ["MDCertificateAuthority %s" % self.ca.url,
                          "MDCACertificateFile %s" % self.ca.ca_file,
                          "MDCAChallenges http-01"]
            else:
                # nothing to renew in start-up runs: no ACME traffic at all
                lines += ["MDCertificateAuthority http://127.0.0.1:9/dir",
                          "MDRenewMode manual"]
            if self.key_spec:
                lines.append("MDPrivateKeys %s" % self.key_spec)
            if self.extra:
                lines.append(self.extra)
        for name in domains(self.n):
            if self.kind != "floor":
                lines.append("MDomain %s" % name)
            lines += ["<VirtualHost 127.0.0.1:%d>" % self.https_port,
                      "  ServerName %s" % name,
                      "  SSLEngine on"]
            if self.kind == "floor":
                d = os.path.join(self.store_dir, "domains", name)
                lines += ["  SSLCertificateFile %s/pubcert.pem" % d,
                          "  SSLCertificateKeyFile %s/privkey.pem" % d]
            lines.append("</VirtualHost>")
        self.write_config("\n".join(lines) + "\n", base=False)
        if self.run_as_root:
            # www-data needs to read the store and write its own dirs
            subprocess.run(["chmod", "-R", "a+rX", self.root], check=False)

    # --- timed operations ----------------------------------------------------

    def time_configtest(self):
        t0 = time.perf_counter()
        rc, out = self.apache2("-t", timeout=3600)
        secs = time.perf_counter() - t0
        if rc != 0:
            raise RuntimeError("%s: apache2 -t failed: %s" % (self.kind, out[-2000:]))
        return secs

    def time_start(self, timeout=3600):
        """Starts httpd, returns seconds until GET / on the http port answers."""
        self._log_offset = self._log_size()
        t0 = time.perf_counter()
        proc = subprocess.Popen([APACHE2, "-d", self.root, "-f", self.conf_path,
                                 "-k", "start"], env=self.environ(),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if http_answers(self.http_port):
                secs = time.perf_counter() - t0
                proc.wait(timeout=60)
                pid = self.read_pid()
                if pid:
                    self._pids.add(pid)
                return secs
            if proc.poll() not in (None, 0):
                raise RuntimeError("%s: start failed: %s\n%s" % (
                    self.kind, proc.stdout.read().decode(errors="replace"),
                    "\n".join(self.log_lines()[-20:])))
            time.sleep(0.01)
        raise TimeoutError("%s: no answer on port %d" % (self.kind, self.http_port))

    def stop_wait(self, timeout=120):
        """Stops httpd and waits until its parent has gone."""
        pid = self.read_pid()
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        try:
            os.unlink(self.pid_file)
        except OSError:
            pass

    def parent_rss(self):
        """(VmHWM, VmRSS) of the parent in KiB."""
        pid = self.read_pid()
        vals = {}
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    k, v = line.split(":", 1)
                    vals[k] = int(v.split()[0])
        return vals.get("VmHWM"), vals.get("VmRSS")


def http_answers(port, path="/", timeout=1.0):
    """True when an HTTP request to 127.0.0.1:port gets a status line."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % path).encode())
            return s.recv(12).startswith(b"HTTP/")
    except OSError:
        return False


def get(port, path, timeout=60):
    """One GET on a fresh connection: (seconds, status, body bytes)."""
    import http.client
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    secs = time.perf_counter() - t0
    c.close()
    return secs, r.status, body


def request_latencies(port, path, max_count, max_secs, warmup=3):
    """Latencies of sequential GETs (after warm-up requests that let every
    child build its caches), at most max_count or max_secs."""
    for _ in range(warmup):
        get(port, path)
    lat = []
    size = 0
    end = time.time() + max_secs
    while len(lat) < max_count and (time.time() < end or len(lat) < 3):
        secs, status, body = get(port, path)
        if status != 200:
            raise RuntimeError("GET %s: HTTP %d" % (path, status))
        lat.append(secs)
        size = len(body)
    return lat, size


def staged_count(store_dir, key_file):
    """Number of MDs whose staging dir holds the certificate file key_file."""
    sdir = os.path.join(store_dir, "staging")
    try:
        names = os.listdir(sdir)
    except OSError:
        return 0
    n = 0
    for name in names:
        if os.path.exists(os.path.join(sdir, name, key_file)):
            n += 1
    return n


def cleanup_pids(*servers):
    for s in servers:
        if s is not None:
            s.stop_wait()
            s.cleanup()


__all__ = ["BenchServer", "make_cert_store", "domains", "median", "http_answers",
           "request_latencies", "staged_count", "get", "REFERENCE_MODULE", "free_port",
           "BENCH_TMP", "cleanup_pids"]
