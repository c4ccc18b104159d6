# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Certificates end to end against pebble: the renewal watchdog drives an
# http-01 issuance into staging, a graceful restart activates it (store
# files, modes, encryption, job.json, md-status forms, the fallback replaced
# by a certificate that verifies against pebble's root), renew modes, the
# activation delay, MDRequireHttps, a server killed mid-order resuming from
# staging, and a differential run against the reference module.

import os
import re
import shutil
import signal
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest
import requests
from cryptography import x509

from md_acme_env import (acme_factory, file_mode, log_details, log_types,  # noqa: F401
                         make_static_cert, pem_kind, wait_until)


ALWAYS_VALID = {"PEBBLE_VA_ALWAYS_VALID": "1"}
FALLBACK_CN = "Apache Managed Domain Fallback"

# job.json members in write order (contract.md 2.3)
JOB_ORDER = ["name", "finished", "notified", "notified-renewed", "next-run", "last-run",
             "valid-from", "errors", "last", "log"]


def in_order(keys, order):
    """True if keys only holds members of order, in that order."""
    positions = [order.index(k) if k in order else -1 for k in keys]
    return -1 not in positions and positions == sorted(positions)


def cn_of(cert):
    from cryptography.x509.oid import NameOID
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return attrs[0].value if attrs else None


def watchdog_runs(ae):
    return sum(1 for line in ae.env.log_lines() if "AH10055" in line)


def log_time(line):
    """The time of an error log line ("[Sun Dec 06 09:48:05.123456 2026] ...")."""
    stamp = re.match(r"^\[([^\]]+)\]", line).group(1)
    return datetime.strptime(stamp, "%a %b %d %H:%M:%S.%f %Y").timestamp()


def wait_watchdog_runs(ae, n, timeout=30):
    start = watchdog_runs(ae)
    wait_until(lambda: watchdog_runs(ae) >= start + n, timeout,
               what="%d watchdog runs" % n)


# --- a first certificate: store, modes, activation ----------------------------------------

def test_400_first_certificate_store_and_activation(acme_factory):
    name = "test1.mdspec.org"
    ae = acme_factory()
    ae.write(["MDomain %s www.%s" % (name, name)], vhosts=[[name, "www." + name]])
    ae.start()
    # the fallback certificate first
    cert = ae.server_cert(name)
    assert cert is not None and cn_of(cert) == FALLBACK_CN
    ae.wait_staged(name)
    ae.wait_renewed_message(name)
    # the job is saved once the `renewed` command has returned
    wait_until(lambda: (ae.job(name) or {}).get("notified-renewed") is True, 20,
               what="job.json after the renewed event")

    # staging: md/job/account/encrypted keys and the chain
    for fn in ("md.json", "job.json", "account.json", "account.pem", "privkey.pem",
               "pubcert.pem"):
        assert ae.exists("staging", name, fn), fn
    assert pem_kind(ae.path("staging", name, "account.pem")) == "ENCRYPTED"
    assert pem_kind(ae.path("staging", name, "privkey.pem")) == "ENCRYPTED"
    staged_md = ae.load_json("staging", name, "md.json")
    assert "account" not in staged_md["ca"]          # the account is only staged
    assert staged_md["ca"]["url"] == ae.peb.url
    job = ae.job(name)
    assert job["finished"] is True and job["notified-renewed"] is True
    assert job["errors"] == 0 and job["last"]["status"] == 0
    assert in_order(list(job.keys()), JOB_ORDER), list(job.keys())
    assert in_order(list(job["last"].keys()),
                    ["status", "status-description", "problem", "detail", "activity",
                     "valid-from", "subproblems"]), job["last"]
    types = log_types(job)
    assert types[0] == "message-renewing" and types[1] == "starting"
    assert "finished" in types and types[-1] == "message-renewed"
    assert any(d.startswith("The certificate for the managed domain has been renewed "
                            "successfully") for d in log_details(job))
    acct = ae.load_json("staging", name, "account.json")
    assert list(acct.keys())[:4] == ["status", "url", "ca-url", "contact"]
    assert acct["status"] == "valid" and acct["ca-url"] == ae.peb.url
    assert "registration" in acct

    # md-status: the single form carries the job log, the all-MDs form does not
    single = ae.md_status(name)
    assert single["name"] == name and single["renew"] is True
    assert single["renewal"]["log"]["entries"], single["renewal"]
    assert single["renewal"]["cert"]["rsa"]["sha256-fingerprint"]
    everything = ae.md_status()
    md = [m for m in everything["managed-domains"] if m["name"] == name][0]
    assert "renewal" in md and "log" not in md["renewal"]
    assert md["cert"] == {}

    ae.graceful()
    ae.wait_active(name)
    dom = ae.path("domains", name)
    for fn in ("privkey.pem", "pubcert.pem", "md.json", "job.json"):
        assert os.path.exists(os.path.join(dom, fn)), fn
        assert file_mode(os.path.join(dom, fn)) == 0o600, fn
    assert pem_kind(os.path.join(dom, "privkey.pem")) == "PLAIN"
    assert file_mode(dom) == 0o700
    assert os.path.isdir(ae.path("archive", name + ".1"))
    assert ae.exists("accounts", "ACME-localhost-0000", "account.json")
    assert ae.exists("accounts", "ACME-localhost-0000", "account.pem")
    assert pem_kind(ae.path("accounts", "ACME-localhost-0000", "account.pem")) \
        == "ENCRYPTED"
    promoted = ae.load_json("accounts", "ACME-localhost-0000", "account.json")
    assert "registration" not in promoted and promoted["url"] == acct["url"]
    assert not os.path.exists(ae.path("staging", name))
    live_md = ae.load_json("domains", name, "md.json")
    assert live_md["ca"]["account"] == "ACME-localhost-0000"
    assert live_md["state"] == 2
    live_job = ae.load_json("domains", name, "job.json")
    assert in_order(list(live_job.keys()), JOB_ORDER)

    # the fallback is gone: the served chain verifies against pebble's root
    for host in (name, "www." + name):
        rc, out = ae.verify_https(host)
        assert rc == 0, out
    served = ae.server_cert(name)
    with open(os.path.join(dom, "pubcert.pem"), "rb") as f:
        assert served == x509.load_pem_x509_certificate(f.read())
    status = ae.md_status(name)
    assert status["state"] == 2 and "renewal" not in status
    assert status["cert"]["rsa"]["serial"]
    # installed ran as root in the parent
    inst = [m for m in ae.messages() if m["argv"][-2] == "installed"]
    assert inst and inst[0]["uid"] == 0
    # the watchdog's own lines (the original's ids and texts)
    lines = "\n".join(ae.env.log_lines())
    assert "AH10054: md watchdog start, auto drive 1 mds" in lines
    assert "AH10055: md watchdog run, auto drive 1 mds" in lines
    assert re.search(r"AH10107: next run in \d+", lines)


# --- renew modes -------------------------------------------------------------------------

def test_400_renew_mode_manual_does_not_renew(acme_factory):
    name = "manual.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    ae.write(["<MDomain %s>" % name, "  MDRenewMode manual", "</MDomain>"],
             vhosts=[[name]], check_interval="1s")
    ae.start()
    wait_watchdog_runs(ae, 3)
    assert ae.reasons() == []
    assert not ae.exists("staging", name, "order.json")
    assert not ae.exists("staging", name, "pubcert.pem")
    status = ae.md_status(name)
    assert status["renew-mode"] == 0 and status["cert"] == {}


def test_400_renew_mode_always_renews_static(acme_factory):
    name = "static.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    cert, key = make_static_cert(ae.env.root, [name], days=10)
    body = ["<MDomain %s>" % name, "  MDRenewMode always", "  MDRenewWindow 30d",
            "  MDCertificateFile %s" % cert, "  MDCertificateKeyFile %s" % key,
            "</MDomain>"]
    ae.write(body, vhosts=[[name]])
    ae.start()
    ae.wait_staged(name)
    assert ae.reasons(name)[:1] == ["renewing"]
    # the static files stay in use
    served = ae.server_cert(name)
    assert cn_of(served) == name and "Pebble" not in served.issuer.rfc4514_string()


def test_400_initial_delay(acme_factory):
    """MDInitialDelay: the watchdog starts, waits the delay without logging a
    next run, then runs."""
    name = "initial.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    ae.write(["MDInitialDelay 4s", "MDomain %s" % name], vhosts=[[name]])
    ae.start()
    wait_watchdog_runs(ae, 1)
    lines = ae.env.log_lines()
    start = [i for i, line in enumerate(lines) if "AH10054" in line][0]
    run = [i for i, line in enumerate(lines) if "AH10055" in line][0]
    assert start < run
    assert log_time(lines[run]) - log_time(lines[start]) >= 3.9, lines[start:run + 1]
    assert not any("AH10107" in line for line in lines[start:run]), lines[start:run]


# --- activation delay ----------------------------------------------------------------------

def test_400_activation_delay(acme_factory):
    """notBefore + delay (contract.md 9). Not run against the reference: it
    re-drives the finished job when valid-from is reached and moves valid-from
    another delay ahead each time, so 'renewed' never comes while the current
    certificate is valid (observed with httpd 2.4.71's mod_md)."""
    name = "delay.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    # a renew window longer than pebble's 5 year certificates: renew at once
    body = ["MDActivationDelay 8s",
            "<MDomain %s>" % name, "  MDRenewWindow 2000d", "</MDomain>"]
    ae.write(body, vhosts=[[name]])
    ae.start()
    ae.issue(name)                  # no current certificate: no delay
    first = ae.load_json("domains", name, "md.json")
    assert first["state"] == 2
    # the renewal of a good certificate waits for the delay
    n_renewed = ae.reasons(name).count("renewed")
    ae.wait_staged(name)
    job = ae.job(name)
    valid_from = parsedate_to_datetime(job["valid-from"]).timestamp()
    with open(ae.path("staging", name, "pubcert.pem"), "rb") as f:
        staged = x509.load_pem_x509_certificate(f.read())
    not_before = staged.not_valid_before.replace(tzinfo=timezone.utc).timestamp()
    assert 7 <= valid_from - not_before <= 9, (job["valid-from"], not_before)
    if time.time() < valid_from - 1:
        assert ae.reasons(name).count("renewed") == n_renewed
        assert ae.md_status(name)["renewal"]["valid-from"] == job["valid-from"]
    wait_until(lambda: ae.reasons(name).count("renewed") > n_renewed, 30,
               what="second 'renewed'")
    assert time.time() >= valid_from - 1


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_400_clock_behind_ca(acme_factory, reference):
    """httpd's clock 3 hours behind pebble's (libfaketime): the new certificate's
    notBefore lies in httpd's future. Clients judge validity by their own clocks,
    so it is activated at the next graceful restart (as the reference does); ours
    warns about the clock (AH10680)."""
    if not reference and os.environ.get("MD_HTTPD_PRELOAD"):
        # measured: an httpd with both the ASan runtime and libfaketime
        # preloaded does not come up within 30 s; the plain e2e stage runs it
        pytest.skip("libfaketime next to the ASan runtime")
    name = "clock.mdspec.org"
    ae = acme_factory(reference=reference, pebble_env=ALWAYS_VALID)
    ae.env.clock_offset = "-3h"
    ae.write(["MDomain %s" % name], vhosts=[[name]])
    ae.env.allow_log(r"AH10680")
    ae.start()
    ae.wait_staged(name)
    with open(ae.path("staging", name, "pubcert.pem"), "rb") as f:
        staged = x509.load_pem_x509_certificate(f.read())
    not_before = staged.not_valid_before.replace(tzinfo=timezone.utc).timestamp()
    assert not_before > time.time() - 2 * 3600, "pebble backdates: no clock skew seen"
    ae.graceful()
    ae.wait_active(name)
    served = ae.server_cert(name)
    assert served is not None and served.serial_number == staged.serial_number
    if not reference:
        lines = [l for l in ae.env.log_lines() if "AH10680" in l]
        assert len(lines) == 1 and "[md:warn]" in lines[0], lines
        assert "%s: the new certificate is valid from " % name in lines[0]
        assert "this server's clock seems to be behind the CA's" in lines[0]


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
@pytest.mark.parametrize("flag", ["finished", "notified-renewed"])
def test_400_staged_job_without_results(acme_factory, reference, flag):
    """A staging job.json that claims success while staging holds no md.json
    counts as absent: the MD is renewed normally (as the reference)."""
    import json
    name = "ghost.mdspec.org"
    ae = acme_factory(reference=reference, pebble_env=ALWAYS_VALID)
    ae.write(["MDomain %s" % name], vhosts=[[name]])
    os.makedirs(ae.path("staging", name))
    with open(ae.path("staging", name, "job.json"), "w") as f:
        json.dump({"name": name, "finished": True, "notified": True,
                   "notified-renewed": flag == "notified-renewed",
                   "last": {"status": 0, "detail": "done"}}, f)
    # as the renewing child (User www-data) would have left them
    for d in (ae.path("staging"), ae.path("staging", name),
              ae.path("staging", name, "job.json")):
        shutil.chown(d, "www-data", "www-data")
    ae.start()
    ae.issue(name)
    assert ae.reasons(name)[0] == "renewing"


# --- MDRequireHttps ------------------------------------------------------------------------

def test_400_require_https_permanent(acme_factory):
    name = "secure.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    ae.write(["<MDomain %s>" % name, "  MDRequireHttps permanent", "</MDomain>"],
             vhosts=[[name]], http_vhost=True)
    ae.start()
    ae.issue(name)
    r = requests.get("http://127.0.0.1:%d/index.html?a=b" % ae.env.http_port,
                     headers={"Host": "%s:%d" % (name, ae.env.http_port)},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"] == "https://%s/index.html?a=b" % name
    r = requests.post("http://127.0.0.1:%d/x" % ae.env.http_port, data="x",
                      headers={"Host": name}, allow_redirects=False, timeout=10)
    assert r.status_code == 308
    ae.env.write_file("htdocs/index.html", "hello\n")
    rc, out = ae.verify_https(name, "/index.html")
    assert rc == 0, out
    assert "strict-transport-security: max-age=15768000" in out.lower(), out


# --- killed mid-order, resumed after restart ---------------------------------------------

def _process_tree(root_pid):
    """root_pid and all its descendants (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError):
            continue
    pids, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def test_400_killed_mid_order_resumes(acme_factory):
    name = "resume.mdspec.org"
    ae = acme_factory()
    sleep_file = os.path.join(ae.out_dir, "dns-sleep")
    with open(sleep_file, "w"):
        pass
    os.chmod(sleep_file, 0o666)
    dns = ae.dns_script(sleep_file=sleep_file)
    ae.write(["MDChallengeDns01 %s" % dns,
              "<MDomain %s>" % name, "  MDCAChallenges dns-01", "</MDomain>"],
             vhosts=[[name]])
    ae.start()
    # the dns-01 setup hangs: the order is in staging
    wait_until(lambda: ae.read_argv_log(ae.dns_log), 60, what="dns-01 setup call")
    assert ae.exists("staging", name, "order.json")
    order = ae.load_json("staging", name, "order.json")
    assert order["status"] == "pending"
    pid = ae.env.read_pid()
    for p in _process_tree(pid):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not os.path.exists("/proc/%d" % pid), 10, what="httpd gone")
    os.unlink(sleep_file)
    ae.env.allow_log(r"AH00098")    # pid file overwritten, unclean shutdown
    ae.start()
    ae.wait_staged(name)
    job = ae.job(name)
    assert "Loaded order from staging" in log_details(job), log_details(job)
    # the resumed order was completed and purged with its challenge data
    assert not ae.exists("staging", name, "order.json")
    assert [c["argv"][1] for c in ae.read_argv_log(ae.dns_log)][-1] == "teardown"
    ae.graceful()
    ae.wait_active(name)
    rc, out = ae.verify_https(name)
    assert rc == 0, out


# --- differential: the same configuration with the reference module --------------------

def key_paths(obj, prefix=""):
    """The set of member paths of a JSON value (values ignored, arrays merged)."""
    paths = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            path = "%s/%s" % (prefix, k)
            paths.add(path)
            paths |= key_paths(v, path)
    elif isinstance(obj, list):
        for v in obj:
            paths |= key_paths(v, prefix + "[]")
    return paths


def normalized(reasons):
    """reasons with each run of challenge-setup events sorted."""
    out, block = [], []
    for r in reasons + [None]:
        if r and r.startswith("challenge-setup:"):
            block.append(r)
            continue
        out += sorted(block)
        block = []
        if r:
            out.append(r)
    return out


def run_scenario(acme_factory, reference):
    name = "test1.mdspec.org"
    ae = acme_factory(reference=reference,
                 pebble_env={"PEBBLE_AUTHZREUSE": "0"})
    ae.write(["MDomain %s www.%s" % (name, name)], vhosts=[[name, "www." + name]],
             notify_cmd=True)
    ae.start()
    ae.wait_staged(name)
    ae.wait_renewed_message(name)
    facts = {"staging-files": sorted(f for f in os.listdir(ae.path("staging", name))
                                     if not f.endswith(".tmp"))}
    for fn in ("md.json", "job.json", "account.json"):
        facts["staging/" + fn] = key_paths(ae.load_json("staging", name, fn))
    facts["staging/job-order"] = list(ae.job(name).keys())
    facts["status-single"] = key_paths(ae.md_status(name))
    facts["status-all"] = key_paths(ae.md_status())
    ae.graceful()
    ae.wait_active(name)
    wait_until(lambda: "installed" in ae.reasons(name), 10, what="installed")
    facts["domains-files"] = sorted(os.listdir(ae.path("domains", name)))
    for fn in ("md.json", "job.json"):
        facts["domains/" + fn] = key_paths(ae.load_json("domains", name, fn))
    facts["account.json"] = key_paths(ae.load_json("accounts", "ACME-localhost-0000",
                                                   "account.json"))
    facts["status-active"] = key_paths(ae.md_status(name))
    # pebble hands out the authorizations in no fixed order
    facts["reasons"] = normalized(ae.reasons(name))
    facts["notify"] = [r["argv"][1:] for r in ae.read_argv_log(ae.notify_log)]
    facts["uids"] = sorted(set((r["argv"][-2], r["uid"]) for r in ae.messages()))
    return facts


def test_400_differential_reference(acme_factory):
    ours = run_scenario(acme_factory, reference=False)
    ref = run_scenario(acme_factory, reference=True)
    diffs = []
    for key in ref:
        if ours.get(key) != ref[key]:
            if isinstance(ref[key], set):
                diffs.append("%s: missing %s, extra %s" % (
                    key, sorted(ref[key] - ours[key]), sorted(ours[key] - ref[key])))
            else:
                diffs.append("%s: ours %s, reference %s" % (key, ours.get(key), ref[key]))
    assert not diffs, "\n".join(diffs)
