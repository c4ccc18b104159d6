# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# The ACME client through a2md against a real pebble (contract.md 2.2, 2.4,
# 4.5, 6, 8.2): account registration/validation/agreement/removal, drive of
# http-01 (tiny loopback http server), tls-alpn-01 (python TLS server with
# ALPN acme-tls/1), dns-01 (challtestsrv TXT records via a script), several
# key specs, a smoke test with PEBBLE_VA_ALWAYS_VALID and failure texts.

import base64
import http.server
import json
import os
import socketserver
import ssl
import stat
import subprocess
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from md_env import build_dir, free_port

PY = "/usr/bin/python3"
CONTACT = "admin@example.org"


def a2md_bin():
    path = os.path.join(build_dir(), "src", "a2md", "a2md")
    if not os.path.exists(path):
        pytest.skip("a2md not built: %s (set MD_BUILD_DIR)" % path)
    return path


class Store:
    """A store directory and a2md runs on it against one CA."""

    def __init__(self, path, url, ca_file):
        self.path = path
        self.url = url
        self.ca_file = ca_file

    def a2md(self, *args, check=None, extra=()):
        cmd = [a2md_bin(), "-a", self.url, "-C", self.ca_file, "-d", self.path]
        cmd += list(extra) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if check is not None:
            assert r.returncode == check, "%s\nstdout: %s\nstderr: %s" % (
                cmd, r.stdout, r.stderr)
        return r

    def file(self, *parts):
        return os.path.join(self.path, *parts)

    def json(self, *parts):
        with open(self.file(*parts)) as f:
            return json.load(f)

    def passphrase(self):
        key = self.json("md_store.json")["key"]
        return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))

    def add_md(self, *domains, **members):
        self.a2md("store", "add", *domains, check=0)
        if members:
            md = self.json("domains", domains[0], "md.json")
            md.update(members)
            with open(self.file("domains", domains[0], "md.json"), "w") as f:
                json.dump(md, f, indent=2)


class ChallengeHandler(http.server.BaseHTTPRequestHandler):
    """Answers /.well-known/acme-challenge/ from challenges/<host>/."""

    store_dir = None

    def do_GET(self):
        host = self.headers.get("Host", "").split(":")[0]
        path = os.path.join(self.store_dir, "challenges", host, "acme-http-01.txt")
        if self.path.startswith("/.well-known/acme-challenge/") and os.path.isfile(path):
            with open(path, "rb") as f:
                data = f.read()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


class Http01Server:
    def __init__(self, store_dir):
        handler = type("Handler", (ChallengeHandler,), {"store_dir": store_dir})
        self.httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class TlsAlpnServer:
    """Accepts TLS with ALPN acme-tls/1 and presents the tls-alpn-01
    certificate of challenges/<SNI>/."""

    def __init__(self, store_dir):
        self.store_dir = store_dir
        self.seen = []
        self.sock = socketserver.socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _context(self, name):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_alpn_protocols(["acme-tls/1"])
        d = os.path.join(self.store_dir, "challenges", name)
        ctx.load_cert_chain(os.path.join(d, "acme-tls-alpn-01-pubcert.pem"),
                            os.path.join(d, "acme-tls-alpn-01-privkey.pem"))
        return ctx

    def _sni(self, sslobj, name, ctx):
        self.seen.append(name)
        try:
            sslobj.context = self._context(name)
        except (OSError, ssl.SSLError):
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        return None

    def _serve(self):
        base = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        base.set_alpn_protocols(["acme-tls/1"])
        base.sni_callback = self._sni
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                conn.settimeout(5)
                tls = base.wrap_socket(conn, server_side=True)
                tls.close()
            except (OSError, ssl.SSLError):
                conn.close()

    def stop(self):
        self.running = False
        self.sock.close()


@pytest.fixture
def http01(tmp_path):
    store_dir = str(tmp_path / "store")
    os.makedirs(store_dir)
    srv = Http01Server(store_dir)
    yield srv, store_dir
    srv.stop()


@pytest.fixture
def store(http01, pebble_factory):
    srv, store_dir = http01
    peb = pebble_factory(http_port=srv.port, tls_port=free_port())
    st = Store(store_dir, peb.url, peb.ca_file)
    st.pebble = peb
    return st


def register(st):
    r = st.a2md("-t", "accepted", "acme", "newreg", CONTACT, check=0)
    assert r.stdout == "registered: ACME-localhost-0000\n"
    return "ACME-localhost-0000"


def load_chain(path):
    with open(path, "rb") as f:
        data = f.read()
    end = b"-----END CERTIFICATE-----"
    return [x509.load_pem_x509_certificate(block + end)
            for block in data.split(end) if b"-----BEGIN CERTIFICATE-----" in block]


def verify_chain(st, path, names):
    """The chain file verifies against pebble's root and covers names."""
    certs = load_chain(path)
    assert len(certs) >= 2
    root_file = os.path.join(os.path.dirname(st.path), "pebble-root.pem")
    with open(root_file, "w") as f:
        f.write(st.pebble.issuer_root())
    untrusted = os.path.join(os.path.dirname(st.path), "untrusted.pem")
    with open(untrusted, "wb") as f:
        for c in certs[1:]:
            f.write(c.public_bytes(serialization.Encoding.PEM))
    leaf = os.path.join(os.path.dirname(st.path), "leaf.pem")
    with open(leaf, "wb") as f:
        f.write(certs[0].public_bytes(serialization.Encoding.PEM))
    r = subprocess.run(["openssl", "verify", "-CAfile", root_file, "-untrusted",
                        untrusted, leaf], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    san = certs[0].extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert sorted(san.value.get_values_for_type(x509.DNSName)) == sorted(names)
    return certs


# --- accounts ---------------------------------------------------------------------------

def test_200_001_newreg(store):
    acct_id = register(store)
    acct_dir = store.file("accounts", acct_id)
    acct = store.json("accounts", acct_id, "account.json")
    assert list(acct.keys()) == ["status", "url", "ca-url", "contact", "registration",
                                 "orders"]
    assert acct["status"] == "valid"
    assert acct["ca-url"] == store.url
    assert acct["contact"] == ["mailto:" + CONTACT]
    assert acct["registration"]["key"]["kty"] == "RSA"
    assert stat.S_IMODE(os.stat(os.path.join(acct_dir, "account.json")).st_mode) == 0o644
    with open(os.path.join(acct_dir, "account.pem"), "rb") as f:
        pem = f.read()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key = serialization.load_pem_private_key(pem, password=store.passphrase())
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 3072
    # a second registration takes the next id
    r = store.a2md("-t", "accepted", "acme", "newreg", "mailto:other@example.org", check=0)
    assert r.stdout == "registered: ACME-localhost-0001\n"


def test_200_002_newreg_needs_tos_and_contact(store):
    # without -t the CA decides (the original's a2md, docs/compatibility.md): pebble refuses
    r = store.a2md("acme", "newreg", CONTACT, check=1)
    assert "acme problem urn:ietf:params:acme:error:agreementRequired" in r.stderr
    assert r.stderr.rstrip("\n").endswith("register new account") and r.stdout == ""
    r = store.a2md("acme", "newreg", check=1)
    assert "newreg needs at least one contact email as argument" in r.stderr
    assert not os.path.exists(store.file("accounts", "ACME-localhost-0000"))


def test_200_003_validate_agree_delreg(store):
    acct_id = register(store)
    r = store.a2md("acme", "validate", acct_id, check=0)
    assert r.stdout == "account valid: %s\n" % acct_id
    r = store.a2md("acme", "validate", "ACME-localhost-0009", check=1)
    assert r.stderr.startswith("unknown account: ACME-localhost-0009")
    r = store.a2md("-t", "accepted", "acme", "agree", acct_id, check=0)
    url = store.json("accounts", acct_id, "account.json")["url"]
    assert r.stdout == "agreed terms-of-service: %s\n" % url
    assert store.json("accounts", acct_id, "account.json")["agreement"] == "accepted"
    store.a2md("acme", "delreg", acct_id, check=0)
    assert not os.path.exists(store.file("accounts", acct_id, "account.json"))
    assert not os.path.exists(store.file("accounts", acct_id, "account.pem"))


def test_200_004_ca_unreachable(tmp_path):
    url = "https://localhost:%d/dir" % free_port()
    st = Store(str(tmp_path / "store"), url, "/etc/ssl/certs/ca-certificates.crt")
    r = st.a2md("-t", "accepted", "acme", "newreg", CONTACT, check=1)
    assert "111(Connection refused)" in r.stderr
    st.add_md("fail.example.org", contacts=["mailto:" + CONTACT],
              ca={"proto": "ACME", "urls": [url], "agreement": "accepted"})
    r = st.a2md("drive", "fail.example.org", check=1)
    assert ("detail[Unsuccessful in contacting ACME server at <%s>. If this problem "
            "persists, please check your network connectivity" % url) in r.stderr


# --- drive ------------------------------------------------------------------------------

def test_200_010_drive_http01(store):
    acct_id = register(store)
    names = ["test1.example.org", "www.test1.example.org"]
    store.add_md(*names)
    r = store.a2md("drive", names[0], check=0)
    assert "md[test1.example.org] detail[needs new certificate (is incomplete).]" \
        in r.stderr
    assert "md[test1.example.org] while[moving tmp to become new domains] detail[new " \
        "certificate successfully saved in domains]" in r.stderr
    md = store.json("domains", names[0], "md.json")
    assert md["ca"]["account"] == acct_id
    assert md["ca"]["url"] == store.url
    listed = json.loads(store.a2md("-j", "list", check=0).stdout)
    assert listed["output"][0]["state"] == 2 and listed["output"][0]["renew"] is False
    verify_chain(store, store.file("domains", names[0], "pubcert.pem"), names)
    with open(store.file("domains", names[0], "privkey.pem"), "rb") as f:
        assert f.read().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert not os.path.exists(store.file("staging", names[0]))
    assert not os.path.exists(store.file("challenges", names[0]))
    # complete now; --force renews again
    r = store.a2md("drive", names[0], check=0)
    assert "complete." in r.stderr
    r = store.a2md("drive", "-f", names[0], check=0)
    assert "detail[should renew (forced).]" in r.stderr
    assert os.path.isdir(store.file("archive", names[0] + ".2"))


def test_200_011_drive_registers_account_in_staging(store):
    names = ["new.example.org"]
    store.add_md(*names, contacts=["mailto:" + CONTACT],
                 ca={"proto": "ACME", "urls": [store.url], "agreement": "accepted"})
    store.a2md("drive", names[0], check=0)
    md = store.json("domains", names[0], "md.json")
    assert md["ca"]["account"] == "ACME-localhost-0000"
    acct = store.json("accounts", "ACME-localhost-0000", "account.json")
    assert acct["status"] == "valid" and "registration" not in acct
    verify_chain(store, store.file("domains", names[0], "pubcert.pem"), names)


def test_200_012_drive_key_specs(store):
    register(store)
    names = ["keys.example.org"]
    store.add_md(*names, privkey=[{"type": "EC", "curve": "secp384r1"},
                                  {"type": "RSA", "bits": 3072}])
    store.a2md("drive", names[0], check=0)
    ec = verify_chain(store, store.file("domains", names[0], "pubcert.secp384r1.pem"),
                      names)
    rsa_chain = verify_chain(store, store.file("domains", names[0], "pubcert.pem"), names)
    assert ec[0].public_key().curve.name == "secp384r1"
    assert rsa_chain[0].public_key().key_size == 3072
    assert os.path.exists(store.file("domains", names[0], "privkey.secp384r1.pem"))


def test_200_013_drive_tls_alpn01(tmp_path, pebble_factory):
    store_dir = str(tmp_path / "store")
    os.makedirs(store_dir)
    srv = TlsAlpnServer(store_dir)
    try:
        peb = pebble_factory(http_port=free_port(), tls_port=srv.port)
        st = Store(store_dir, peb.url, peb.ca_file)
        st.pebble = peb
        register(st)
        names = ["alpn.example.org"]
        st.add_md(*names, proto={"acme-tls/1": names})
        r = st.a2md("drive", "-c", "tls-alpn-01", names[0], check=0)
        assert "new certificate successfully saved in domains" in r.stderr
        assert "alpn.example.org" in srv.seen
        verify_chain(st, st.file("domains", names[0], "pubcert.pem"), names)
    finally:
        srv.stop()


DNS_SCRIPT = """#!%s
import json, sys, urllib.request
log, mgmt = %r, %r
with open(log, "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
cmd, domain = sys.argv[1], sys.argv[2]
host = "_acme-challenge.%%s." %% domain
if cmd == "setup":
    data = {"host": host, "value": sys.argv[3]}
    url = mgmt + "/set-txt"
else:
    data = {"host": host}
    url = mgmt + "/clear-txt"
req = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST")
urllib.request.urlopen(req).read()
"""


def test_200_014_drive_dns01_wildcard(store, tmp_path):
    register(store)
    log = str(tmp_path / "dns.log")
    script = str(tmp_path / "dns01.py")
    with open(script, "w") as f:
        f.write(DNS_SCRIPT % (PY, log, store.pebble.cts_mgmt_url()))
    os.chmod(script, 0o755)
    names = ["wild.example.org", "*.wild.example.org", "www.wild.example.org"]
    store.add_md(*names)
    store.a2md("drive", "-c", "dns-01", names[0], check=0,
               extra=["--dns01-cmd", script, "--dns01-version", "2"])
    with open(log) as f:
        lines = f.read().splitlines()
    setups = [x for x in lines if x.startswith("setup ")]
    teardowns = [x for x in lines if x.startswith("teardown ")]
    assert len(setups) == 2, lines
    assert all(x.startswith("setup wild.example.org ") for x in setups)
    assert sorted(teardowns) == sorted("teardown" + x[5:] for x in setups)
    # www is covered by the wildcard and not ordered separately
    verify_chain(store, store.file("domains", names[0], "pubcert.pem"),
                 ["wild.example.org", "*.wild.example.org"])


def test_200_015_drive_always_valid(tmp_path, pebble_factory):
    peb = pebble_factory(http_port=free_port(), tls_port=free_port(),
                         env={"PEBBLE_VA_ALWAYS_VALID": "1"})
    st = Store(str(tmp_path / "store"), peb.url, peb.ca_file)
    st.pebble = peb
    register(st)
    names = ["smoke.example.org", "www.smoke.example.org"]
    st.add_md(*names)
    st.a2md("drive", names[0], check=0)
    verify_chain(st, st.file("domains", names[0], "pubcert.pem"), names)


def test_200_016_drive_challenge_fails(tmp_path, pebble_factory):
    peb = pebble_factory(http_port=free_port(), tls_port=free_port())
    st = Store(str(tmp_path / "store"), peb.url, peb.ca_file)
    st.pebble = peb
    register(st)
    st.add_md("nohttp.example.org")
    r = st.a2md("drive", "nohttp.example.org", check=1)
    assert "problem[urn:ietf:params:acme:error:connection]" in r.stderr
    assert not os.path.exists(st.file("domains", "nohttp.example.org", "pubcert.pem"))
    order = st.json("staging", "nohttp.example.org", "order.json")
    assert order["challenge-setups"] == ["http-01:nohttp.example.org"]
    assert list(order.keys()) == ["url", "status", "authorizations", "challenge-setups",
                                  "finalize"]


def test_200_017_challenge_mismatch(store):
    register(store)
    store.add_md("mismatch.example.org")
    r = store.a2md("drive", "-c", "dns-01", "mismatch.example.org", check=1)
    assert "problem[challenge-mismatch] detail[None of offered challenge types for " \
        "domain mismatch.example.org are supported. The server offered " in r.stderr
