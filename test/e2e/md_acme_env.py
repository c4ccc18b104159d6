# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Helpers for the end-to-end tests against pebble: an httpd environment
# paired with a pebble instance on its ports, the ACME part of httpd.conf,
# MDMessageCmd / MDNotifyCmd / dns-01 scripts that log their argv, md-status
# and store access, polling waits, and TLS handshakes with openssl s_client.

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import time

import pytest
import requests
from cryptography import x509

from md_env import free_ports

CONTACT = "admin@mdspec.org"
PY = "/usr/bin/python3"


def two_free_ports():
    """Two different free loopback ports (both bound at once while choosing,
    so the kernel cannot hand out the same one twice)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(2)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return tuple(s.getsockname()[1] for s in socks)
    finally:
        for s in socks:
            s.close()


# MD_* variables of the test harness and scripts/test, which httpd and so
# its commands inherit: not the module's
HARNESS_VARS = ("MD_E2E", "MD_BUILD_DIR", "MD_MODULE", "MD_HTTPD_PRELOAD", "MD_DEB")


def argv_logger(path):
    """Python lines appending {"uid", "argv", "env"} of the running script to
    path as a JSON line (env: its MD_* variables, not the harness's)."""
    return (
        "import json, os, sys\n"
        "env = {k: v for k, v in os.environ.items()\n"
        "       if k.startswith('MD_') and not k.startswith(%r)}\n"
        "with open(%r, 'a') as f:\n"
        "    f.write(json.dumps({'uid': os.getuid(), 'argv': sys.argv,\n"
        "                        'env': env}) + '\\n')\n"
    ) % (HARNESS_VARS, path)


def wait_until(check, timeout=30, interval=0.2, what="condition"):
    """Polls check() until it returns a true value; returns that value."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise TimeoutError("timeout after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


class AcmeEnv:
    """One httpd (ours or the reference) + one pebble on its ports.

    ae = AcmeEnv(env_factory, pebble_factory, reference=False)
    ae.write(["MDomain a.mdspec.org"], vhosts=[["a.mdspec.org"]])
    ae.start(); ae.wait_staged("a.mdspec.org"); ae.graceful()
    """

    def __init__(self, env_factory, pebble_factory, reference=False, pebble_env=None,
                 eab_keys=None, log_level="debug", ocsp_url="", validity=None,
                 ipv6=False):
        # ipv6: httpd listens on [::1] too and the vhosts of config() are
        # there as well (pebble validates an address at the address itself)
        self.env = env_factory(reference=reference, log_level=log_level,
                               ports=tuple(free_ports(2, True)) if ipv6
                               else two_free_ports(), ipv6=ipv6)
        self.peb = pebble_factory(http_port=self.env.http_port,
                                  tls_port=self.env.https_port,
                                  env=pebble_env, eab_keys=eab_keys, ocsp_url=ocsp_url,
                                  validity=validity)
        self.out_dir = os.path.join(self.env.root, "out")
        os.makedirs(self.out_dir, exist_ok=True)
        os.chmod(self.out_dir, 0o777)
        self.msg_log = os.path.join(self.out_dir, "message.log")
        self.notify_log = os.path.join(self.out_dir, "notify.log")
        self.dns_log = os.path.join(self.out_dir, "dns.log")
        self.store = self.env.store_dir
        # pebble's TLS root, readable for the unprivileged child (the pebble
        # work dir below pytest's tmp_path is not)
        self.ca_file = os.path.join(self.out_dir, "pebble-tls-root.pem")
        shutil.copyfile(self.peb.ca_file, self.ca_file)
        os.chmod(self.ca_file, 0o644)
        # fine in every ACME test: fallback certificates before the first
        # issuance make mod_ssl answer 503 (AH10085)
        self.env.allow_log(r"AH10085")

    # --- scripts ---------------------------------------------------------------------

    def _script(self, name, body):
        path = os.path.join(self.out_dir, name)
        with open(path, "w") as f:
            f.write("#!%s\n%s" % (PY, body))
        os.chmod(path, 0o755)
        return path

    def message_script(self, fail_reasons=(), exit_code=3):
        """A MDMessageCmd program appending {"uid", "argv", "env"} lines to
        msg_log (env: its MD_* variables, without the harness's MD_E2E_*);
        it exits with exit_code when the reason (argv[-2]) is in
        fail_reasons."""
        return self._script("message.py", argv_logger(self.msg_log) + (
            "sys.exit(%d if len(sys.argv) > 2 and sys.argv[-2] in %r else 0)\n"
        ) % (exit_code, list(fail_reasons)))

    def notify_script(self):
        return self._script("notify.py", argv_logger(self.notify_log))

    def dns_script(self, sleep_file=None, setup_secs=0):
        """A MDChallengeDns01 program: setup <domain> <token> adds the TXT record
        at challtestsrv, teardown <domain> [token] clears it; argv is logged.
        While sleep_file exists, setup waits (to kill the server mid-order);
        each setup takes setup_secs at least (a slow DNS provider)."""
        return self._script("dns01.py", (
            "import json, os, sys, time, urllib.request\n"
            "MGMT = %r\n"
            "SLEEP_FILE = %r\n"
            "def post(path, data):\n"
            "    req = urllib.request.Request(MGMT + path, json.dumps(data).encode(),\n"
            "                                 {'Content-Type': 'application/json'})\n"
            "    urllib.request.urlopen(req, timeout=5).read()\n"
            "args = sys.argv[1:]\n"
            "with open(%r, 'a') as f:\n"
            "    f.write(json.dumps({'uid': os.getuid(), 'argv': sys.argv}) + '\\n')\n"
            "if SLEEP_FILE:\n"
            "    while os.path.exists(SLEEP_FILE):\n"
            "        time.sleep(0.2)\n"
            "host = '_acme-challenge.%%s.' %% args[1]\n"
            "if args[0] == 'setup':\n"
            "    time.sleep(%r)\n"
            "    post('/set-txt', {'host': host, 'value': args[2]})\n"
            "elif args[0] == 'teardown':\n"
            "    post('/clear-txt', {'host': host})\n"
            "else:\n"
            "    sys.exit(2)\n"
        ) % (self.peb.cts_mgmt_url(), sleep_file or "", self.dns_log, setup_secs))

    @staticmethod
    def read_argv_log(path):
        """The logged {"uid", "argv"} records of a script."""
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def messages(self):
        return self.read_argv_log(self.msg_log)

    def reasons(self, md=None):
        """The MDMessageCmd reasons in order (for md if given)."""
        return [r["argv"][-2] for r in self.messages()
                if md is None or r["argv"][-1] == md]

    # --- configuration ---------------------------------------------------------------

    def config(self, body, vhosts=(), global_extra="", message_cmd=True, notify_cmd=False,
               ca=True, protocols=None, check_interval="2s", retry_delay="1s",
               status=True, http_vhost=False):
        """The ACME part of httpd.conf. vhosts: lists of names, each becomes an
        SSL vhost (ServerName first, aliases after); http_vhost adds one plain
        vhost carrying all these names."""
        lines = []
        if ca:
            lines += ["MDCertificateAuthority %s" % self.peb.url,
                      "MDCACertificateFile %s" % self.ca_file]
        lines += ["MDCertificateAgreement accepted",
                  "MDContactEmail %s" % CONTACT,
                  "MDRetryDelay %s" % retry_delay,
                  "MDCheckInterval %s" % check_interval,
                  "MDServerStatus on"]
        if protocols:
            lines.append("Protocols %s" % protocols)
        if message_cmd:
            cmd = message_cmd if isinstance(message_cmd, str) else self.message_script()
            lines.append("MDMessageCmd %s" % cmd)
        if notify_cmd:
            cmd = notify_cmd if isinstance(notify_cmd, str) else self.notify_script()
            lines.append("MDNotifyCmd %s" % cmd)
        if status:
            lines += ["<Location /md-status>", "  SetHandler md-status", "</Location>"]
        if global_extra:
            lines.append(global_extra)
        lines += list(body) if not isinstance(body, str) else [body]
        for names in vhosts:
            lines += [self._vhost_open(self.env.https_port)] + self._vhost_names(names)
            lines += ["  SSLEngine on", "</VirtualHost>"]
        names = [n for names in vhosts for n in names]
        if http_vhost and names:
            lines += [self._vhost_open(self.env.http_port)] + self._vhost_names(names)
            lines += ["</VirtualHost>"]
        return "\n".join(lines) + "\n"

    def _vhost_open(self, port):
        if self.env.ipv6:
            return "<VirtualHost 127.0.0.1:%d [::1]:%d>" % (port, port)
        return "<VirtualHost 127.0.0.1:%d>" % port

    @staticmethod
    def _vhost_names(names):
        """ServerName first, ServerAlias after; httpd refuses an IPv6
        address as ServerName (its ':'): then all are aliases."""
        if ":" in names[0]:
            return ["  ServerAlias %s" % " ".join(names)]
        lines = ["  ServerName %s" % names[0]]
        if len(names) > 1:
            lines.append("  ServerAlias %s" % " ".join(names[1:]))
        return lines

    def write(self, body, vhosts=(), **kw):
        self.env.write_config(self.config(body, vhosts, **kw), listen_https=True)

    def start(self):
        rc, out = self.env.start()
        assert rc == 0, out + "\n".join(self.env.log_lines())
        return self

    def graceful(self):
        self.env.graceful()
        return self

    # --- store and status ------------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.store, *parts)

    def exists(self, *parts):
        return os.path.exists(self.path(*parts))

    def load_json(self, *parts):
        with open(self.path(*parts)) as f:
            return json.load(f)

    def job(self, name, group="staging"):
        try:
            return self.load_json(group, name, "job.json")
        except (OSError, ValueError):
            return None

    def wait_job(self, name, check, timeout=30, what="job"):
        """The first job.json of name for which check(job) holds, read once per
        poll (a second read may already see the next run's progress)."""
        def one():
            job = self.job(name)
            return job if job and check(job) else None
        return wait_until(one, timeout, what=what)

    def md_status(self, name=None, timeout=10):
        url = "http://127.0.0.1:%d/md-status" % self.env.http_port
        if name:
            url += "/" + name
        r = requests.get(url, timeout=timeout)
        assert r.status_code == 200, r.text
        return r.json()

    def wait_staged(self, name, timeout=60, specs=("rsa",)):
        """Waits until the renewal of name finished into staging."""
        def staged():
            job = self.job(name)
            if job and job.get("errors", 0) > 0:
                # keep waiting (retries), but show the problem on timeout
                self._last_job = job
            if not job or not job.get("finished"):
                return False
            return all(self.exists("staging", name, chain_file(s)) for s in specs)
        self._last_job = None
        try:
            return wait_until(staged, timeout, what="staged certificate of %s" % name)
        except TimeoutError:
            raise TimeoutError("%s not staged, job: %s\nlog:\n%s" % (
                name, json.dumps(self.job(name) or self._last_job, indent=1),
                "\n".join(self.env.log_lines()[-40:])))

    def wait_renewed_message(self, name, timeout=30):
        return wait_until(lambda: "renewed" in self.reasons(name), timeout,
                          what="'renewed' message for %s" % name)

    def wait_active(self, name, timeout=30, specs=("rsa",)):
        return wait_until(lambda: all(self.exists("domains", name, chain_file(s))
                                      for s in specs), timeout,
                          what="activated certificate of %s" % name)

    def issue(self, name, specs=("rsa",), timeout=60):
        """Waits for staging, restarts gracefully, waits for activation."""
        self.wait_staged(name, timeout, specs)
        if os.path.exists(self.msg_log):
            self.wait_renewed_message(name)
        self.graceful()
        self.wait_active(name, specs=specs)

    # --- TLS -------------------------------------------------------------------------

    def server_cert(self, servername, port=None, extra=None, alpn=None):
        """The leaf certificate the server presents for servername (or None)."""
        cmd = ["openssl", "s_client", "-connect",
               "127.0.0.1:%d" % (port or self.env.https_port), "-servername", servername]
        if alpn:
            cmd += ["-alpn", alpn]
        cmd += extra or []
        p = subprocess.run(cmd, input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=15)
        out = p.stdout.decode("utf-8", errors="replace")
        m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
        return x509.load_pem_x509_certificate(m.group(0).encode()) if m else None

    def pebble_chain_file(self):
        """A PEM file with pebble's issuing root and intermediate (for verifying
        the issued certificates)."""
        path = os.path.join(self.out_dir, "pebble-roots.pem")
        base = "https://localhost:%d" % self.peb.mgmt_port
        pems = []
        for what in ("roots/0", "intermediates/0"):
            r = requests.get("%s/%s" % (base, what), verify=self.peb.ca_file, timeout=5)
            r.raise_for_status()
            pems.append(r.text.strip() + "\n")
        with open(path, "w") as f:
            f.write("".join(pems))
        return path

    def verify_https(self, host, path="/", ca_file=None, extra=None):
        """curl with full verification against pebble's roots; returns
        (exit code, headers+output text)."""
        cmd = ["curl", "-sS", "-D", "-", "-o", "/dev/null", "--max-time", "10",
               "--cacert", ca_file or self.pebble_chain_file(),
               "--resolve", "%s:%d:127.0.0.1" % (host, self.env.https_port)]
        cmd += extra or []
        cmd.append("https://%s:%d%s" % (host, self.env.https_port, path))
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        return p.returncode, p.stdout.decode("utf-8", errors="replace")


def chain_file(spec="rsa"):
    return "pubcert.pem" if spec.lower() == "rsa" else "pubcert.%s.pem" % spec.lower()


def key_file(spec="rsa"):
    return "privkey.pem" if spec.lower() == "rsa" else "privkey.%s.pem" % spec.lower()


def file_mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def pem_kind(path):
    """'ENCRYPTED', 'PLAIN' or None: what kind of private key PEM path holds."""
    with open(path) as f:
        text = f.read()
    if "BEGIN ENCRYPTED PRIVATE KEY" in text:
        return "ENCRYPTED"
    if re.search(r"BEGIN (RSA |EC )?PRIVATE KEY", text):
        return "PLAIN"
    return None


def log_types(job):
    """The job log entry types, oldest first."""
    entries = (job or {}).get("log", {}).get("entries", [])
    return [e.get("type") for e in reversed(entries)]


def log_details(job):
    entries = (job or {}).get("log", {}).get("entries", [])
    return [e.get("detail", "") for e in reversed(entries)]


def make_static_cert(dirpath, domains, days=10, key_mode=0o600):
    """A self-signed certificate + key for MDCertificateFile/MDCertificateKeyFile,
    valid from an hour ago for `days`; returns (cert path, key path)."""
    import datetime
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domains[0])])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(d) for d in domains]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(dirpath, "static-cert.pem")
    key_path = os.path.join(dirpath, "static-key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(cert_path, 0o644)
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(key_path, key_mode)
    return cert_path, key_path


@pytest.fixture
def acme_factory(pebble_factory, env_factory):
    """Creates AcmeEnv instances: acme_factory(reference=.., pebble_env=..,
    eab_keys=..). Requested after pebble_factory, so each httpd is stopped
    (and its log checked) before its pebble goes away."""
    def make(**kw):
        return AcmeEnv(env_factory, pebble_factory, **kw)
    return make
