# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# a2md doctor (issue 16, 4) against a real httpd + pebble on loopback: a
# healthy MD after issuance has no failing check and the probes leave no
# trace in challenges/; then each check is broken the way an operator
# would break it (a key file's mode, a name that does not resolve, a CAA
# record for another CA, a server at the port without the challenge
# handler, a clock an hour ahead, a renewal in back-off, a staged set
# waiting for a restart, an MDomain no vhost uses), in text and -j form.

import http.server
import json
import os
import re
import socket
import struct
import subprocess
import threading

import pytest
from md_acme_env import acme_factory, wait_until  # noqa: F401
from md_env import FAKETIME_LIB, free_port
from test_710_a2md import a2md, a2md_bin, store  # noqa: F401

NAME = "doctor.mdspec.org"
BAD = "backoff.mdspec.org"          # dns-01 without a command: fails, backs off
UNUSED = "unused.mdspec.org"        # an MDomain in no vhost


def doctor(ae, dns, *args, names=(NAME,), env=None, server=None):
    """a2md -j doctor with the test's ports and DNS server (None: the
    system's); (rc, {(id, subject): check}, completed process)."""
    argv = ["-j", "-C", ae.ca_file, "-d", ae.store, "doctor",
            "--http-port", str(ae.env.http_port), "--https-port", str(ae.env.https_port)]
    if dns:
        argv += ["--dns-server", dns.addr]
    if server:
        argv += ["--server", server]
    argv += list(args) + list(names)
    r = subprocess.run([a2md_bin()] + argv, capture_output=True, text=True,
                       timeout=120, env=env)
    doc = json.loads(r.stdout)
    checks = {}
    for c in doc["output"]:
        assert set(c) <= {"id", "subject", "verdict", "detail", "fix"}, c
        assert c["verdict"] in ("ok", "warn", "fail", "skipped"), c
        assert c["verdict"] == "ok" or c.get("fix") or c["verdict"] == "skipped", c
        checks[(c["id"], c.get("subject"))] = c
    return r.returncode, checks, r


def verdicts(checks):
    return {k: c["verdict"] for k, c in checks.items()}


class Dns:
    """A small DNS server on loopback UDP: every name has the A record
    127.0.0.1 or a[name] (AAAA: none) unless listed in nx; caa[name] gives CAA
    records (flags, tag, value); names in servfail fail. Answers say
    "recursion available", as a resolver does (glibc takes an empty answer
    without it for a referral)."""

    def __init__(self):
        self.nx, self.servfail, self.caa, self.a = set(), set(), {}, {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            self.sock.sendto(self._answer(data), peer)

    def _answer(self, q):
        i, labels = 12, []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode().lower())
            i += 1 + q[i]
        qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
        question = q[12:i + 5]
        name = ".".join(labels)
        rcode, rdatas = 0, []
        if name in self.servfail:
            rcode = 2
        elif name in self.nx:
            rcode = 3
        elif qtype == 1:
            rdatas = [socket.inet_aton(self.a.get(name, "127.0.0.1"))]
        elif qtype == 257:
            rdatas = [bytes([f, len(t)]) + t.encode() + v.encode()
                      for f, t, v in self.caa.get(name, [])]
        head = struct.pack(">HHHHHH", struct.unpack(">H", q[:2])[0], 0x8180 | rcode,
                           1, len(rdatas), 0, 0)
        return head + question + b"".join(
            struct.pack(">HHHIH", 0xC00C, qtype, 1, 60, len(r)) + r for r in rdatas)

    def close(self):
        self.sock.close()


@pytest.fixture
def dns():
    d = Dns()
    yield d
    d.close()


class NotFoundHandler(http.server.BaseHTTPRequestHandler):
    """A web server without mod_md: every path is 404."""

    def do_GET(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def plain_server():
    port = free_port()
    srv = http.server.HTTPServer(("127.0.0.1", port), NotFoundHandler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield port
    srv.shutdown()
    srv.server_close()


def test_750_doctor_on_a_server(acme_factory, plain_server, dns):  # noqa: F811
    ae = acme_factory()
    dns_cmd_missing = [
        "<MDomain %s>" % BAD, "  MDCAChallenges dns-01", "</MDomain>",
        "MDomain %s" % UNUSED,
    ]
    ae.write(["MDomain %s" % NAME] + dns_cmd_missing, vhosts=[[NAME], [BAD]],
             protocols="h2 http/1.1 acme-tls/1")
    # the dns-01 MD fails at every run (what the test wants to see)
    ae.env.allow_log(
        r"AH10056: processing backoff\.mdspec\.org: None of offered challenge types",
        r"md\[backoff\.mdspec\.org\] while\[Starting challenges for domains\] "
        r"problem\[challenge-mismatch\]",
        r"AH10045: No VirtualHost matches Managed Domain unused\.mdspec\.org")
    ae.start()
    ae.wait_staged(NAME)
    status_url = "http://127.0.0.1:%d/md-status" % ae.env.http_port

    # a renewed set waits for the restart
    rc, checks, r = doctor(ae, dns)
    assert checks[("renew.staged", NAME)]["verdict"] == "warn", r.stdout
    assert "restart" in checks[("renew.staged", NAME)]["fix"]

    ae.graceful()
    ae.wait_active(NAME)
    wait_until(lambda: (ae.job(BAD) or {}).get("errors", 0) > 0, 30,
               what="a failed run of %s" % BAD)

    # healthy: nothing fails, the probes go through the server, no trace left
    rc, checks, r = doctor(ae, dns, "--status", status_url)
    assert rc == 0, r.stdout + r.stderr
    v = verdicts(checks)
    for key in [("store.permissions", None), ("server.running", None),
                ("ca.clock", ae.peb.url), ("renew.backoff", NAME), ("dns.name", NAME),
                ("dns.caa", NAME), ("challenge.http-01", NAME),
                ("challenge.tls-alpn-01", NAME)]:
        assert v.get(key) == "ok", (key, r.stdout)
    assert not [k for k, x in v.items() if x == "fail"], r.stdout
    assert "127.0.0.1" in checks[("dns.name", NAME)]["detail"]
    assert not os.path.exists(ae.path("challenges", NAME))
    assert r.stderr == ""
    # text form: one line per check, a fix line under the others, a summary
    rc, out, err = a2md("-C", ae.ca_file, "-d", ae.store, "doctor", "--http-port",
                        str(ae.env.http_port), "--https-port", str(ae.env.https_port),
                        "--dns-server", dns.addr, NAME)
    assert rc == 0, out + err
    assert re.search(r"^ok      challenge\.http-01 %s: " % re.escape(NAME), out, re.M), out
    assert re.search(r"\n\d+ ok, 0 warn, 0 fail, 0 skipped\n\Z", out), out

    # the MD in back-off, why, and no probes for a dns-01 only MD
    rc, checks, r = doctor(ae, dns, names=(BAD,))
    assert rc == 1
    c = checks[("renew.backoff", BAD)]
    assert c["verdict"] == "fail" and "failed renewal run" in c["detail"], c
    assert "challenge-mismatch" in c["detail"] and "MDChallengeDns01" in c["fix"], c
    assert ("challenge.http-01", BAD) not in checks

    # an MDomain no vhost uses: the server does not renew it
    rc, checks, r = doctor(ae, dns, "--status", status_url, names=(UNUSED,))
    c = checks[("config.unused", UNUSED)]
    assert c["verdict"] == "warn" and "ServerName %s" % UNUSED in c["fix"], c
    rc, checks, r = doctor(ae, dns, "--status", status_url, names=(NAME,))
    assert ("config.unused", NAME) not in checks

    # settings without effect, told from the store: a renew window longer
    # than pebble's certificates live (5 years), Must-Staple on certificates
    # that name no OCSP responder
    md_json = ae.path("domains", NAME, "md.json")
    with open(md_json) as f:
        saved = f.read()
    md = json.loads(saved)
    md.update({"renew-window": "3000d", "must-staple": True})
    with open(md_json, "w") as f:
        json.dump(md, f)
    try:
        rc, checks, r = doctor(ae, dns)
    finally:
        with open(md_json, "w") as f:
            f.write(saved)
    assert rc == 0, r.stdout
    c = checks[("config.renew-window", NAME)]
    assert c["verdict"] == "warn" and "MDRenewWindow 3000d" in c["detail"], c
    c = checks[("config.must-staple", NAME)]
    assert c["verdict"] == "warn" and "no OCSP responder" in c["detail"], c
    rc, checks, r = doctor(ae, dns)
    assert ("config.renew-window", NAME) not in checks
    assert ("config.must-staple", NAME) not in checks

    # a private key readable by others
    key = ae.path("domains", NAME, "privkey.pem")
    os.chmod(key, 0o644)
    try:
        rc, checks, r = doctor(ae, dns)
    finally:
        os.chmod(key, 0o600)
    assert rc == 1
    c = checks[("store.permissions", "domains/%s/privkey.pem" % NAME)]
    assert c["verdict"] == "fail" and c["fix"] == "chmod 600 %s" % key, c

    # a staging file the server's User cannot replace
    job = ae.path("staging", BAD, "job.json")
    st = os.stat(job)
    os.chown(job, 0, 0)
    try:
        rc, checks, r = doctor(ae, dns, names=(BAD,))
    finally:
        os.chown(job, st.st_uid, st.st_gid)
    c = checks[("store.permissions", "staging/%s/job.json" % BAD)]
    assert c["verdict"] == "fail" and c["fix"].startswith("chown -R %d " % st.st_uid), c

    # a name that does not resolve: the probes cannot run without --server
    rc, checks, r = doctor(ae, None)
    assert rc == 1
    assert checks[("dns.name", NAME)]["verdict"] == "fail"
    c = checks[("challenge.http-01", NAME)]
    assert c["verdict"] == "skipped" and "--server" in c["fix"], c
    rc, checks, r = doctor(ae, None, server="localhost")
    assert checks[("challenge.http-01", NAME)]["verdict"] == "ok", r.stdout
    # ... and nothing at that port of this host is a failure, not "unreachable"
    rc, checks, r = doctor(ae, None, "--https-port", str(free_port()),
                           server="localhost")
    c = checks[("challenge.tls-alpn-01", NAME)]
    assert c["verdict"] == "fail" and "nothing answers at " in c["detail"], c

    # the http-01 probe at a web server without the challenge handler
    rc, checks, r = doctor(ae, dns, "--http-port", str(plain_server))
    assert rc == 1
    c = checks[("challenge.http-01", NAME)]
    assert c["verdict"] == "fail" and "status 404" in c["detail"], c
    assert not os.path.exists(ae.path("challenges", NAME))
    # ... and at a port where nothing listens
    rc, checks, r = doctor(ae, dns, "--http-port", str(free_port()))
    c = checks[("challenge.http-01", NAME)]
    assert c["verdict"] == "fail" and "nothing answers" in c["detail"], c

    # a TLS server that does not speak acme-tls/1 (pebble's): a warning,
    # as the MD allows http-01 too
    rc, checks, r = doctor(ae, dns, "--https-port", str(ae.peb.port))
    c = checks[("challenge.tls-alpn-01", NAME)]
    assert c["verdict"] == "warn" and "ALPN answer: none" in c["detail"] \
        and "Protocols" in c["fix"], c

    # a name that points elsewhere (TEST-NET-1): a warning, and the probes
    # there need more than loopback: they could not run
    dns.a[NAME] = "192.0.2.1"
    rc, checks, r = doctor(ae, dns)
    dns.a.clear()
    assert checks[("dns.name", NAME)]["verdict"] == "warn"
    for probe in ("challenge.http-01", "challenge.tls-alpn-01"):
        c = checks[(probe, NAME)]
        assert c["verdict"] == "skipped" and "192.0.2.1" in c["detail"], c

    # CAA at the parent for another CA (pebble names no caaIdentities: a
    # warning), a critical property no CA knows (a failure)
    dns.caa["mdspec.org"] = [(0, "issue", "other-ca.example; account=1"),
                             (0, "iodef", "mailto:x@mdspec.org")]
    rc, checks, r = doctor(ae, dns)
    c = checks[("dns.caa", NAME)]
    assert c["verdict"] == "warn" and c["detail"].startswith("at mdspec.org: ") \
        and "allow other-ca.example" in c["detail"], c
    dns.caa[NAME] = [(128, "tbs", "x")]
    rc, checks, r = doctor(ae, dns)
    assert rc == 1 and checks[("dns.caa", NAME)]["verdict"] == "fail"
    dns.caa.clear()
    # a resolver that fails: the DNS checks could not run
    dns.servfail.add(NAME)
    rc, checks, r = doctor(ae, dns)
    assert checks[("dns.caa", NAME)]["verdict"] == "skipped"
    assert checks[("dns.name", NAME)]["verdict"] == "skipped"
    dns.servfail.clear()

    # this host's clock an hour ahead of the CA's (not in the ASan stage: an
    # a2md with the ASan runtime does not run with libfaketime preloaded
    # first; the plain stage checks it)
    if not os.environ.get("MD_HTTPD_PRELOAD"):
        env = dict(os.environ, LD_PRELOAD=FAKETIME_LIB, FAKETIME="+1h",
                   FAKETIME_DONT_FAKE_MONOTONIC="1")
        rc, checks, r = doctor(ae, dns, env=env)
        c = checks[("ca.clock", ae.peb.url)]
        assert c["verdict"] == "fail" and re.search(r"is 360\d s ahead of the CA's",
                                                    c["detail"]), c


def test_750_store_only(store, tmp_path, dns):  # noqa: F811
    assert a2md("-d", store, "-a", "https://localhost:1/dir", "add", NAME)[0] == 0
    os.chmod(os.path.join(store, "md_store.json"), 0o644)
    dns.caa["mdspec.org"] = [(0, "issue", "ca.example")]
    rc, out, err = a2md("-j", "-d", store, "doctor", "--server", "127.0.0.1",
                        "--dns-server", dns.addr, "--http-port", str(free_port()), NAME)
    assert rc == 1, out + err
    checks = {(c["id"], c.get("subject")): c for c in json.loads(out)["output"]}
    assert checks[("store.permissions", "md_store.json")]["verdict"] == "fail"
    assert checks[("server.running", None)]["verdict"] == "warn"
    c = checks[("ca.clock", "https://localhost:1/dir")]
    assert c["verdict"] == "skipped" and "not reachable" in c["detail"], c
    assert checks[("renew.backoff", NAME)]["detail"] == "no failed renewal run"
    # CAA records, but the CA's identities are unknown: could not run
    c = checks[("dns.caa", NAME)]
    assert c["verdict"] == "skipped" and "could not be read" in c["detail"], c
    assert sorted(os.listdir(store)) == ["domains", "md_store.json"]
    # bad input
    rc, out, err = a2md("-d", str(tmp_path / "nostore"), "doctor")
    assert rc == 1 and err == "doctor: no store at %s (no md_store.json)\n" % (
        tmp_path / "nostore")
    assert not os.path.exists(tmp_path / "nostore")
    rc, out, err = a2md("-d", store, "doctor", "nope.org")
    assert rc == 1 and "doctor: no managed domain 'nope.org' in the store" in err
    rc, out, err = a2md("-d", store, "doctor", "--server", "nope.invalid", NAME)
    assert rc == 1 and "doctor: --server 'nope.invalid' does not resolve" in err
    rc, out, err = a2md("-d", store, "doctor", "--http-port", "http", NAME)
    assert rc == 1 and "doctor: --http-port needs a port number (1-65535), not " \
        "'http'" in err
