# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# OCSP stapling by mod_md (MDStapling, MDStapleOthers): responses fetched in
# the background from an `openssl ocsp` responder (ocsp_ca.py), stored in
# ocsp/<name>/, stapled by mod_ssl (`openssl s_client -status`), kept across
# a reload with the responder down; revoked, unreachable and garbage
# answers; server-status and md-status; the reference module as oracle.

import json
import os
import re
import subprocess
import time

import pytest

from ocsp_ca import OcspCA, OcspResponder

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/openssl"),
                                reason="needs the openssl CLI")

NAME = "static.example.org"


@pytest.fixture
def ca(env):
    return OcspCA(os.path.join(env.root, "ca"))


@pytest.fixture
def responder(ca):
    r = OcspResponder(ca).start()
    yield r
    r.stop()


def config(env, leaf, md_stapling="  MDStapling on\n", extra="", vhost_extra=""):
    """An MD with static files (leaf + chain) and an https vhost with
    mod_ssl stapling switched on (it asks mod_md first)."""
    return """
LogLevel warn md:debug
SSLStaplingCache shmcb:%(logs)s/ocsp_cache(128000)
MDServerStatus on
%(extra)s
<MDomain %(name)s>
  MDCertificateFile %(chain)s
  MDCertificateKeyFile %(key)s
%(md_stapling)s</MDomain>
<VirtualHost *:%(port)d>
  ServerName %(name)s
  SSLEngine on
  SSLUseStapling on
%(vhost_extra)s</VirtualHost>
<Location /server-status>
  SetHandler server-status
</Location>
<Location /md-status>
  SetHandler md-status
</Location>
""" % {"logs": env.logs_dir, "name": NAME, "chain": leaf["chain"], "key": leaf["key"],
       "port": env.https_port, "md_stapling": md_stapling, "extra": extra,
       "vhost_extra": vhost_extra}


def start(env, conf):
    env.write_config(conf, listen_https=True)
    rc, out = env.start()
    assert rc == 0, out


def ocsp_file(env, leaf, name=NAME):
    return os.path.join(env.store_dir, "ocsp", name, "ocsp-%s.json" % leaf["id"])


def job_file(env, name=NAME):
    return os.path.join(env.store_dir, "ocsp", name, "job.json")


def wait_for(cond, timeout=15, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timeout waiting for %s" % what)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def job_errors(env, name=NAME):
    job = read_json(job_file(env, name))
    return job if job and job.get("errors", 0) > 0 else None


def staple(env, servername=NAME):
    """What `openssl s_client -status` shows about the stapled response."""
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % env.https_port,
                        "-servername", servername, "-status"],
                       input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=20)
    out = p.stdout.decode(errors="replace")
    if "OCSP response: no response sent" in out:
        return None
    m = re.search(r"Cert Status: (\w+)", out)
    assert "OCSP Response Status: successful" in out, out
    return m.group(1) if m else "?"


def wait_staple(env, servername=NAME, timeout=5):
    """The staple, once handshake processes picked up the stored response
    (they look into the store when it changed and every second while they
    have none)."""
    return wait_for(lambda: staple(env, servername), timeout=timeout, what="staple")


def get(env, path):
    p = subprocess.run(["curl", "-s", "http://127.0.0.1:%d%s" % (env.http_port, path)],
                       stdout=subprocess.PIPE, timeout=20)
    return p.stdout.decode()


def test_600_good_staple(env, ca, responder):
    leaf = ca.issue("static", [NAME], ocsp_url=responder.url)
    start(env, config(env, leaf))
    resp = wait_for(lambda: read_json(ocsp_file(env, leaf)), what="ocsp response file")
    assert list(resp.keys()) == ["response", "status", "valid"]
    assert resp["status"] == "good"
    assert list(resp["valid"].keys()) == ["from", "until"]
    assert "=" not in resp["response"]
    job = read_json(job_file(env))
    assert job["name"] == NAME and job["finished"] is True
    assert job["notified"] is False and job["notified-renewed"] is False
    assert job["errors"] == 0
    assert job["last"]["detail"].startswith("certificate status is GOOD, status valid ")
    assert job["last"]["activity"] == "status of certid %s, reading response" % leaf["id"]
    types = [e["type"] for e in job["log"]["entries"]]
    assert types[:3] == ["message-ocsp-renewed", "finished", "progress"]
    assert types[-1] == "starting"
    assert any(e.get("detail") == "status of certid %s, contacting %s"
               % (leaf["id"], responder.url) for e in job["log"]["entries"])
    # the request as the responder saw it
    assert responder.user_agents[0] == "Apache/2.4.71" or \
        responder.user_agents[0].startswith("Apache/")
    assert responder.content_types[0] == "application/ocsp-request"
    assert wait_staple(env) == "good"
    time.sleep(1.1)     # every child process has looked into the store by now
    # every handshake is served from memory: no new requests
    n = responder.requests
    for _ in range(3):
        assert staple(env) == "good"
    assert responder.requests == n
    lines = "\n".join(env.log_lines())
    assert "AH10197: md ocsp watchdog start, ocsp stapling 1 certificates" in lines
    assert "AH10198: md ocsp watchdog run, ocsp stapling 1 certificates" in lines
    assert re.search(r"AH10199: md ocsp watchdog next run in \d+ minutes", lines)


def test_600_status_pages(env, ca, responder):
    leaf = ca.issue("static", [NAME], ocsp_url=responder.url)
    start(env, config(env, leaf))
    wait_for(lambda: read_json(ocsp_file(env, leaf)), what="ocsp response file")
    auto = get(env, "/server-status?auto")
    assert "ManagedStaplingsTotal: 1\nManagedStaplingsOK: 1\nManagedStaplingsRenew: 0\n" \
           "ManagedStaplingsErrored: 0\n" in auto
    assert "ManagedStapling[0]Domain: %s\n" % NAME in auto
    assert "ManagedStapling[0]CertificateID: %s\n" % leaf["id"] in auto
    assert "ManagedStapling[0]OCSPStatus: good\n" in auto
    assert "ManagedStapling[0]ResponderURL: %s\n" % responder.url in auto
    assert re.search(r"ManagedStapling\[0\]ActivityRefresh: \d+\n", auto)
    # the certificates come first
    assert auto.index("ManagedCertificatesTotal") < auto.index("ManagedStaplingsTotal")
    html = get(env, "/server-status")
    assert "<h3>Managed Staplings</h3>" in html
    assert "<td>%s</td><td>%s</td><td>good</td>" % (NAME, leaf["id"]) in html
    md = json.loads(get(env, "/md-status/%s" % NAME))
    ocsp = md["cert"]["0"]["ocsp"]
    assert ocsp["status"] == "good"
    assert set(ocsp["valid"].keys()) == {"from", "until"}
    assert ocsp["renewal"]["name"] == NAME and "log" in ocsp["renewal"]
    mds = json.loads(get(env, "/md-status"))
    assert "log" not in mds["managed-domains"][0]["cert"]["0"]["ocsp"]["renewal"]


def test_600_reload_responder_down(env, ca, responder):
    leaf = ca.issue("static", [NAME], ocsp_url=responder.url)
    start(env, config(env, leaf))
    wait_for(lambda: read_json(ocsp_file(env, leaf)), what="ocsp response file")
    assert wait_staple(env) == "good"
    responder.stop()
    env.graceful()
    # stapled at once from the store, no responder needed
    assert staple(env) == "good"
    env.stop()
    rc, out = env.start()
    assert rc == 0, out
    assert staple(env) == "good"


def test_600_revoked(env, ca, responder):
    leaf = ca.issue("static", [NAME], ocsp_url=responder.url)
    ca.revoke(leaf)
    start(env, config(env, leaf))
    resp = wait_for(lambda: read_json(ocsp_file(env, leaf)), what="ocsp response file")
    assert resp["status"] == "revoked"
    job = read_json(job_file(env))
    assert job["last"]["detail"].startswith("certificate status is REVOKED, status valid ")
    # revoked answers are stapled too
    assert wait_staple(env) == "revoked"
    auto = get(env, "/server-status?auto")
    assert "ManagedStaplingsRenew: 1\n" in auto
    assert "ManagedStapling[0]OCSPStatus: revoked\n" in auto


def test_600_revoked_triggers_renewal(env, ca, responder):
    """An ACME MD whose active certificate (seeded into the store) is revoked:
    the renewal watchdog renews it (AH10500) although it is far from expiry."""
    name = "acme.example.org"
    leaf = ca.issue("acme", [name], ocsp_url=responder.url, days=90)
    ca.revoke(leaf)
    ddir = os.path.join(env.store_dir, "domains", name)
    os.makedirs(ddir, exist_ok=True)
    with open(leaf["chain"]) as f, open(os.path.join(ddir, "pubcert.pem"), "w") as o:
        o.write(f.read())
    with open(leaf["key"]) as f, open(os.path.join(ddir, "privkey.pem"), "w") as o:
        o.write(f.read())
    conf = """
LogLevel warn md:debug
SSLStaplingCache shmcb:%(logs)s/ocsp_cache(128000)
MDCertificateAuthority http://127.0.0.1:%(dead)d/dir
MDCertificateAgreement accepted
MDRetryDelay 30s
<MDomain %(name)s>
  MDStapling on
</MDomain>
<VirtualHost *:%(port)d>
  ServerName %(name)s
  SSLEngine on
  SSLUseStapling on
</VirtualHost>
""" % {"logs": env.logs_dir, "name": name, "port": env.https_port,
       "dead": responder.port + 1 if responder.port < 65535 else 1}
    env.allow_log(r"md\[%s\]" % re.escape(name), r"AH10056", r"AH10057")
    start(env, conf)
    wait_for(lambda: read_json(ocsp_file(env, leaf, name)), what="ocsp response file")
    assert wait_staple(env, name) == "revoked"
    # the renewal watchdog ran before the answer came; it looks again at restart
    env.graceful()
    lines = wait_for(lambda: [ln for ln in env.log_lines() if "AH10500" in ln],
                     timeout=40, what="AH10500")
    assert "md(%s): need to renew, OCSP reports revoked certificate(s)" % name in lines[0]


def test_600_unreachable(env, ca):
    port = OcspResponder(ca).port      # nobody listens there
    leaf = ca.issue("static", [NAME], ocsp_url="http://127.0.0.1:%d/ocsp" % port)
    env.allow_log(r"md\[%s\].*unable to contact OCSP responder" % re.escape(NAME))
    start(env, config(env, leaf))
    job = wait_for(lambda: job_errors(env), what="failed ocsp job")
    assert job["finished"] is False
    assert job["last"]["status"] == 111
    assert job["last"]["status-description"] == "Connection refused"
    assert "next-run" in job
    types = [e["type"] for e in job["log"]["entries"]]
    assert "ocsp-error" in types and "message-ocsp-errored" in types
    assert not os.path.exists(ocsp_file(env, leaf))
    # the handshake does not wait for the responder, there is just no staple
    t0 = time.time()
    assert staple(env) is None
    assert time.time() - t0 < 5
    auto = get(env, "/server-status?auto")
    assert "ManagedStaplingsErrored: 1\n" in auto
    assert "ManagedStapling[0]ActivityLastStatus: Connection refused" in auto or \
        "ManagedStapling[0]OCSPStatus: unknown\n" in auto


@pytest.mark.parametrize("mode,detail", [
    ("garbage", "invalid OCSP response from"),
    ("http500", "answered with HTTP status 500"),
    ("other-ca", "signature does not verify"),
])
def test_600_bad_answers(env, ca, mode, detail):
    responder = OcspResponder(ca, mode=mode).start()
    try:
        leaf = ca.issue("static", [NAME], ocsp_url=responder.url)
        env.allow_log(r"md\[%s\]" % re.escape(NAME))
        start(env, config(env, leaf))
        job = wait_for(lambda: job_errors(env), what="failed ocsp job")
        assert detail in job["last"]["detail"], job["last"]
        assert not os.path.exists(ocsp_file(env, leaf))
        assert staple(env) is None
    finally:
        responder.stop()


def test_600_recovers_after_error(env, ca):
    responder = OcspResponder(ca, mode="http500").start()
    try:
        leaf = ca.issue("static", [NAME], ocsp_url=responder.url)
        env.allow_log(r"md\[%s\]" % re.escape(NAME))
        start(env, config(env, leaf, extra="MDRetryDelay 1s"))
        wait_for(lambda: job_errors(env), what="failed ocsp job")
        responder.mode = "openssl"
        wait_for(lambda: read_json(ocsp_file(env, leaf)), timeout=20,
                 what="ocsp response after retry")
        assert wait_staple(env) == "good"
    finally:
        responder.stop()


def test_600_short_lived_refresh(env, ca):
    """Responses valid 1 minute with MDStaplingRenewWindow 50%: refreshed in
    the background after ~30 s, handshakes get the new one."""
    responder = OcspResponder(ca, valid_minutes=1).start()
    try:
        leaf = ca.issue("static", [NAME], ocsp_url=responder.url)
        start(env, config(env, leaf, extra="MDStaplingRenewWindow 50%"))
        first = wait_for(lambda: read_json(ocsp_file(env, leaf)), what="first response")
        wait_for(lambda: (read_json(ocsp_file(env, leaf)) or first)["valid"]["from"]
                 != first["valid"]["from"], timeout=50, what="refreshed response")
        assert responder.requests >= 2
        assert staple(env) == "good"
    finally:
        responder.stop()


def test_600_staple_others(env, ca, responder):
    """MDStapling + MDStapleOthers (default on): a vhost with its own
    certificate (no MD) is stapled under ocsp/other."""
    leaf = ca.issue("plain", ["plain.example.org"], ocsp_url=responder.url)
    conf = """
LogLevel warn md:debug
SSLStaplingCache shmcb:%(logs)s/ocsp_cache(128000)
MDStapling on
<VirtualHost *:%(port)d>
  ServerName plain.example.org
  SSLEngine on
  SSLUseStapling on
  SSLCertificateFile %(chain)s
  SSLCertificateKeyFile %(key)s
</VirtualHost>
""" % {"logs": env.logs_dir, "port": env.https_port, "chain": leaf["chain"],
       "key": leaf["key"]}
    start(env, conf)
    resp = wait_for(lambda: read_json(ocsp_file(env, leaf, "other")), what="other response")
    assert resp["status"] == "good"
    assert read_json(job_file(env, "other"))["name"] == "other"
    assert wait_staple(env, "plain.example.org") == "good"


def test_600_staple_others_off(env, ca, responder):
    leaf = ca.issue("plain", ["plain.example.org"], ocsp_url=responder.url)
    conf = """
LogLevel warn md:debug
SSLStaplingCache shmcb:%(logs)s/ocsp_cache(128000)
MDStapling on
MDStapleOthers off
<VirtualHost *:%(port)d>
  ServerName plain.example.org
  SSLEngine on
  SSLUseStapling on
  SSLCertificateFile %(chain)s
  SSLCertificateKeyFile %(key)s
</VirtualHost>
""" % {"logs": env.logs_dir, "port": env.https_port, "chain": leaf["chain"],
       "key": leaf["key"]}
    start(env, conf)
    staple(env, "plain.example.org")    # mod_ssl's own stapling may ask now
    time.sleep(2)
    assert not os.path.exists(os.path.join(env.store_dir, "ocsp", "other"))
    # what the responder saw came from mod_ssl (no User-Agent), none from mod_md
    assert all(ua is None for ua in responder.user_agents), responder.user_agents
    assert "AH10197" not in "\n".join(env.log_lines())


def test_600_no_ocsp_url(env, ca, responder):
    # an MD's certificate without responder (its CA runs no OCSP): one INFO
    # line, nothing stapled or fetched, and mod_ssl's own stapling is not
    # asked (the original declines it, and mod_ssl logs AH02218/AH02604
    # errors, which the log guard refuses here)
    leaf = ca.issue("static", [NAME])
    start(env, config(env, leaf))
    lines = wait_for(lambda: [ln for ln in env.log_lines() if "has no OCSP responder URL"
                              in ln], what="no url message")
    assert len(lines) == 1, lines
    assert "AH10742: md[%s]: certificate with serial %s has no OCSP responder URL, " \
        "not stapling it" % (NAME, leaf["serial"]) in lines[0]
    assert "[md:info]" in lines[0]
    assert staple(env) is None
    time.sleep(1)
    assert not os.path.exists(os.path.join(env.store_dir, "ocsp", NAME, "job.json"))
    assert "ManagedStaplingsTotal" not in get(env, "/server-status?auto")
    md = json.loads(get(env, "/md-status/%s" % NAME))
    assert "ocsp" not in md["cert"]["0"]


def test_600_md_stapling_off(env, ca, responder):
    leaf = ca.issue("static", [NAME], ocsp_url=responder.url)
    start(env, config(env, leaf, md_stapling=""))
    time.sleep(2)
    assert responder.requests == 0
    assert not os.path.exists(os.path.join(env.store_dir, "ocsp", NAME))
    md = json.loads(get(env, "/md-status/%s" % NAME))
    assert md["stapling"] is False and "ocsp" not in md["cert"]["0"]


def test_600_same_files_as_reference(env_factory, ca, responder):
    """The reference module writes the same store documents."""
    leaf = ca.issue("static", [NAME], ocsp_url=responder.url)
    docs = []
    for reference in (False, True):
        e = env_factory(reference=reference)
        start(e, config(e, leaf))
        resp = wait_for(lambda: read_json(ocsp_file(e, leaf)), what="ocsp response file")
        job = read_json(job_file(e))
        docs.append((resp, job))
        e.stop()
    (ours, our_job), (ref, ref_job) = docs
    assert list(ours.keys()) == list(ref.keys())
    assert ours["status"] == ref["status"]
    assert list(our_job.keys()) == list(ref_job.keys())
    assert list(our_job["last"].keys()) == list(ref_job["last"].keys())
    assert [e["type"] for e in our_job["log"]["entries"]] == \
        [e["type"] for e in ref_job["log"]["entries"]]


# --- every handshake staples once a response exists (issue 12) ------------------------------

SEVERAL_CHILDREN = """
StartServers 4
ServerLimit 4
ThreadsPerChild 4
MaxRequestWorkers 16
MinSpareThreads 4
MaxSpareThreads 16
"""


def _handshakes(env, stop, results, counter):
    """s_client -status handshakes, each with a request GET /?hs=N, until
    stop is set: (start, end, stapled, N)."""
    while not stop.is_set():
        n = next(counter)
        t0 = time.time()
        p = subprocess.run(["openssl", "s_client", "-connect",
                            "127.0.0.1:%d" % env.https_port, "-servername", NAME,
                            "-status", "-ign_eof"],
                           input=b"GET /?hs=%d HTTP/1.0\r\nHost: %s\r\n\r\n"
                           % (n, NAME.encode()), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
        out = p.stdout.decode(errors="replace")
        if "Certificate chain" in out:
            results.append((t0, time.time(), "OCSP Response Status: successful" in out, n))


def _serving_pids(env):
    """{N: pid of the child that answered GET /?hs=N} from the access log."""
    pids = {}
    with open(os.path.join(env.logs_dir, "hs_log")) as f:
        for line in f:
            m = re.match(r"(\d+) \?hs=(\d+)$", line.strip())
            if m:
                pids[int(m.group(2))] = int(m.group(1))
    return pids


def test_600_every_handshake_after_first_staple(env, ca, responder):
    """Handshakes over several child processes while the first response is
    fetched (the responder answers after 2 seconds): once one handshake got
    a staple, every handshake that starts later gets one, whichever process
    serves it (they learn of the saved response at their next handshake,
    not up to a second later)."""
    import threading
    answer = responder.answer

    def slow_answer(req_der):
        time.sleep(2)
        return answer(req_der)

    responder.answer = slow_answer
    leaf = ca.issue("static", [NAME], ocsp_url=responder.url)
    import itertools
    start(env, config(env, leaf, extra=SEVERAL_CHILDREN + 'CustomLog %s/hs_log "%%P %%q"'
                      % env.logs_dir))
    stop, results, counter = threading.Event(), [], itertools.count()
    threads = [threading.Thread(target=_handshakes, args=(env, stop, results, counter))
               for _ in range(6)]
    for t in threads:
        t.start()
    try:
        first = wait_for(lambda: min((r[1] for r in list(results) if r[2]),
                                     default=None), timeout=30, what="first staple")
        wait_for(lambda: len([r for r in list(results) if r[0] > first]) >= 120,
                 timeout=60, what="handshakes after the first staple")
    finally:
        stop.set()
        for t in threads:
            t.join()
    before = [r for r in results if r[1] < first]
    after = [r for r in results if r[0] > first]
    missing = [r for r in after if not r[2]]
    pids = _serving_pids(env)
    serving = {pids.get(r[3]) for r in after} - {None}
    assert before, "no handshake before the first staple: the test proves nothing"
    assert len(serving) >= 2, "one child served all: the test proves nothing"
    assert not missing, "%d of %d handshakes after the first staple had none" % (
        len(missing), len(after))
