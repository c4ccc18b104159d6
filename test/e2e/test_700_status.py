# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# The status interfaces (contract.md 3): md-status (all and single forms),
# /.httpd/certificate-status and the server-status section, on a server
# holding issued, dual-key, staged, errored, static (stapled and expiring)
# and manual MDs. The same scenario runs with the reference module; the
# documents are compared after normalising times, serials, fingerprints
# and ports. Then HTTP details, MDServerStatus / MDCertificateStatus and
# documents that follow state changes without a restart.

import json
import os
import re
import time

import pytest
import requests

import md_status_scenario as sc
from md_env import HttpdEnv, REFERENCE_MODULE, our_module

pytestmark = [
    pytest.mark.skipif(not os.path.exists(REFERENCE_MODULE),
                       reason="reference module not installed"),
    pytest.mark.skipif(not os.path.exists(our_module()), reason="module not built"),
]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    """Both scenarios run; the reference is captured and stopped, ours keeps
    running for the tests. Error logs are checked at the end."""
    ref = sc.Scenario(str(tmp_path_factory.mktemp("ref")), reference=True)
    try:
        ref.run()
        ref_caps = ref.captures()
    finally:
        ref.stop()
    ours = sc.Scenario(str(tmp_path_factory.mktemp("ours")), reference=False)
    try:
        ours.run()
        caps = ours.captures()
        yield {"ref": ref_caps, "ours": caps, "scenario": ours}
    finally:
        ours.stop()
        bad = ref.cleanup() + ours.cleanup()
    assert not bad, "unexpected error log lines:\n" + "\n".join(bad)


# --- comparison helpers -------------------------------------------------------------------

def norm_account(text):
    # our watchdog drives MDs in parallel, the reference one after the other:
    # which account an MD got is not part of the status format
    return re.sub(r"ACME-localhost-\d{4}", "ACME-localhost-<N>", text)


def strip_logs(obj):
    """obj without job logs; returns the removed logs' entry types (progress
    entries and repeated runs of the same event dropped)."""
    types = []
    if isinstance(obj, dict):
        if "log" in obj and isinstance(obj["log"], dict):
            types += sorted(set(e.get("type") for e in obj.pop("log").get("entries", [])
                                if e.get("type") != "progress"))
        for v in obj.values():
            types += strip_logs(v)
    elif isinstance(obj, list):
        for v in obj:
            types += strip_logs(v)
    return types


def activity_tail(text):
    """Removes what depends on the timing of a retry: the next run or
    'Ongoing' of an unfinished job."""
    text = re.sub(r"ManagedDomain\[\d+\]Activity(NextRun: <N>|: Ongoing)\n", "", text)
    return re.sub(r"\nNext run <span title='<TIME>'>in <ROUGH></span>|\nOngoing\.\.\.",
                  "", text)


def md_lines(auto):
    """The mod_md lines of server-status?auto."""
    return "".join(line + "\n" for line in auto.splitlines()
                   if re.match(r"Managed(Certificates|Domain\[|Staplings|Stapling\[)", line))


# --- differential ---------------------------------------------------------------------------

def test_700_md_status_all_as_reference(scenarios):
    ours = norm_account(sc.normalize(scenarios["ours"]["md-status"]))
    ref = norm_account(sc.normalize(scenarios["ref"]["md-status"]))
    assert ours == ref
    doc = json.loads(scenarios["ours"]["md-status"])
    assert list(doc.keys()) == ["version", "managed-domains"]
    assert [m["name"] for m in doc["managed-domains"]] == sorted(sc.ALL)
    assert "\"log\":" not in json.dumps(doc)


@pytest.mark.parametrize("name", sc.ALL + ["www." + sc.ISSUED])
def test_700_md_status_single_as_reference(scenarios, name):
    key = "md-status/" + name
    ours = json.loads(norm_account(sc.normalize(scenarios["ours"][key])))
    ref = json.loads(norm_account(sc.normalize(scenarios["ref"][key])))
    ours_types, ref_types = strip_logs(ours), strip_logs(ref)
    assert json.dumps(ours, indent=2) == json.dumps(ref, indent=2)
    assert ours_types == ref_types
    # the text layout: 2-space indent, no trailing newline
    text = scenarios["ours"][key]
    assert text.startswith('{\n  "name": ') and text.endswith("}")


@pytest.mark.parametrize("name", sc.ALL)
def test_700_cert_status_as_reference(scenarios, name):
    key = "cert-status/" + name
    assert sc.normalize(scenarios["ours"][key]) == sc.normalize(scenarios["ref"][key])


def test_700_server_status_auto_as_reference(scenarios):
    ours = activity_tail(sc.normalize(md_lines(scenarios["ours"]["server-status?auto"])))
    ref = activity_tail(sc.normalize(md_lines(scenarios["ref"]["server-status?auto"])))
    assert ours == ref
    assert "ManagedCertificatesTotal: %d\n" % len(sc.ALL) in ours


def test_700_server_status_html_as_reference(scenarios):
    ours = activity_tail(sc.normalize(sc.mod_status_part(scenarios["ours"]["server-status"])))
    ref = activity_tail(sc.normalize(sc.mod_status_part(scenarios["ref"]["server-status"])))
    assert ours == ref
    assert "<h3>Managed Staplings</h3>" in ours


# --- the documents of our module ------------------------------------------------------------

def test_700_document_contents(scenarios):
    s = scenarios["scenario"]
    mds = {m["name"]: m for m in json.loads(scenarios["ours"]["md-status"])["managed-domains"]}
    dual = mds[sc.DUAL]
    assert list(dual["cert"].keys()) == ["secp384r1", "rsa", "valid"]
    for spec in ("secp384r1", "rsa"):
        c = dual["cert"][spec]
        assert list(c.keys()) == ["issuer-name", "valid", "serial", "sha256-fingerprint",
                                  "ari-cert-id"]
        # BN_bn2hex: whole bytes, no leading zero byte ("06BF..." is fine)
        assert re.fullmatch(r"([0-9A-F]{2})+", c["serial"]) and not c["serial"].startswith("00")
        assert re.fullmatch(r"[0-9a-f]{64}", c["sha256-fingerprint"])
    staged = mds[sc.STAGED]
    assert staged["state"] == 1 and staged["cert"] == {} and staged["renew"] is True
    assert staged["renewal"]["finished"] is True
    assert list(staged["renewal"]["cert"].keys()) == ["rsa", "valid"]
    fail = mds[sc.FAIL]
    assert fail["renewal"]["errors"] > 0 and fail["renewal"]["finished"] is False
    assert fail["renewal"]["last"]["status"] != 0
    static = mds[sc.STATIC]
    assert static["stapling"] is True
    # hex of whole bytes (BN_bn2hex, as the reference): "0A..." keeps its zero
    assert static["cert"]["0"]["serial"] == s.static["serial"]
    assert static["cert"]["0"]["sha256-fingerprint"] == s.static["sha256"]
    assert static["cert"]["0"]["ocsp"]["status"] == "good"
    assert "log" not in static["cert"]["0"]["ocsp"]["renewal"]
    single = json.loads(scenarios["ours"]["md-status/" + sc.STATIC])
    assert "log" in single["cert"]["0"]["ocsp"]["renewal"]
    manual = mds[sc.MANUAL]
    assert manual["renew-mode"] == 0 and "renewal" not in manual
    # certificate-status: active per key spec, staged set in renewal
    cs = json.loads(scenarios["ours"]["cert-status/" + sc.STAGED])
    assert cs["rsa"] == {} and list(cs["renewal"]["cert"]["rsa"].keys()) == \
        ["issuer-name", "valid", "serial", "sha256-fingerprint", "ari-cert-id"]
    assert "scts" not in cs["renewal"]      # pebble adds no SCTs
    cs = json.loads(scenarios["ours"]["cert-status/" + sc.DUAL])
    assert list(cs.keys()) == ["valid", "secp384r1", "rsa"]
    assert cs["rsa"]["sha256-fingerprint"] == dual["cert"]["rsa"]["sha256-fingerprint"]
    # server-status: check links from the fingerprints
    auto = scenarios["ours"]["server-status?auto"]
    fp = dual["cert"]["rsa"]["sha256-fingerprint"]
    assert "CheckAtURL: https://crt.sh?q=%s\n" % fp in auto
    assert '<a href="https://crt.sh?q=%s">crt.sh[rsa]</a><br>' % fp \
        in scenarios["ours"]["server-status"]


def test_700_http_details(scenarios):
    s = scenarios["scenario"]
    r = s.get("/md-status")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    for method in ("POST", "PUT", "DELETE"):
        assert s.get("/md-status", method=method).status_code == 501
        assert s.get("/md-status/" + sc.ISSUED, method=method).status_code == 501
        assert s.get("/.httpd/certificate-status", host=sc.ISSUED,
                     method=method).status_code == 501
    assert s.get("/md-status", method="HEAD").status_code == 200
    # unknown names: the all-MDs form, never 404
    for path in ("/md-status/", "/md-status/nonexist.org", "/md-status/x/y"):
        r = s.get(path)
        assert r.status_code == 200 and "managed-domains" in r.json(), path
    # a domain of an MD names the MD
    assert s.get("/md-status/www." + sc.ISSUED).json()["name"] == sc.ISSUED
    # certificate-status: only for hosts of an MD, query string ignored
    assert s.get("/.httpd/certificate-status", host="other.org").status_code == 404
    r = s.get("/.httpd/certificate-status?x=1", host=sc.ISSUED)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert "rsa" in r.json()


def test_700_documents_follow_state(scenarios):
    """Served from a cache, but current: a job that changes on disk shows
    in the next request."""
    s = scenarios["scenario"]
    job_path = os.path.join(s.ae.store, "staging", sc.FAIL, "job.json")

    def errors_on_disk():
        with open(job_path) as f:
            return json.load(f)["errors"]

    before = errors_on_disk()
    deadline = time.time() + 30
    while errors_on_disk() <= before:
        assert time.time() < deadline, "no retry of %s" % sc.FAIL
        time.sleep(0.2)
    now = errors_on_disk()
    shown = s.get("/md-status/" + sc.FAIL).json()["renewal"]["errors"]
    assert shown >= now
    shown = [m for m in s.get("/md-status").json()["managed-domains"]
             if m["name"] == sc.FAIL][0]["renewal"]["errors"]
    assert shown >= now


# --- switches ---------------------------------------------------------------------------------

def static_conf(env, extra=""):
    cert, key = sc.expiring_cert(os.path.join(env.root, "static"), sc.STATIC)
    return """
%(extra)s
<MDomain %(name)s>
  MDCertificateFile %(cert)s
  MDCertificateKeyFile %(key)s
</MDomain>
<VirtualHost *:%(port)d>
  ServerName %(name)s
</VirtualHost>
<Location /server-status>
  SetHandler server-status
</Location>
""" % {"extra": extra, "name": sc.STATIC, "cert": cert, "key": key, "port": env.http_port}


def fetch(env, path, host=None):
    return requests.get("http://127.0.0.1:%d%s" % (env.http_port, path),
                        headers={"Host": host} if host else {}, timeout=10)


@pytest.mark.parametrize("reference,extra,shown", [
    (False, "", True),                  # the user guide's default: on
    (True, "", False),                  # the reference build changed it (contract.md 0)
    (False, "MDServerStatus off", False),
    (True, "MDServerStatus on", True),
])
def test_700_server_status_switch(env_factory, reference, extra, shown):
    env = env_factory(reference=reference)
    env.write_config(static_conf(env, extra))
    rc, out = env.start()
    assert rc == 0, out
    env.allow_log(r"AH10045", r"cert has no authority key id")
    auto = fetch(env, "/server-status?auto").text
    html = fetch(env, "/server-status").text
    assert ("ManagedCertificatesTotal: 1\n" in auto) == shown
    assert ("<h3>Managed Certificates</h3>" in html) == shown


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("extra,code", [("", 200), ("MDCertificateStatus off", 404)])
def test_700_cert_status_switch(env_factory, reference, extra, code):
    env = env_factory(reference=reference)
    env.write_config(static_conf(env, extra))
    rc, out = env.start()
    assert rc == 0, out
    env.allow_log(r"AH10045", r"cert has no authority key id")
    r = fetch(env, "/.httpd/certificate-status", host=sc.STATIC)
    assert r.status_code == code
    if code == 200:
        # the static certificate: top-level validity, slot named by key spec
        doc = r.json()
        assert list(doc.keys())[:2] == ["valid", "rsa"] and doc["rsa"] == {}
