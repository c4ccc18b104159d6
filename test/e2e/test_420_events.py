# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Events of the renewal cycle (contract.md 4.2-4.4) with scripts logging
# their argv and uid: renewing, challenge-setup:<type>:<domain>, renewed,
# installed (after the graceful restart, as root), errored (CA refusing
# connections), expiring (static certificate inside MDWarnWindow),
# MDNotifyCmd arguments, a failing MDMessageCmd vetoing 'renewing'
# (AH10060) and a failing MDNotifyCmd holding back 'renewed'.

import os
import re

import pytest

from md_acme_env import (acme_factory, log_types, make_static_cert,  # noqa: F401
                         wait_until)
from md_env import free_port

ALWAYS_VALID = {"PEBBLE_VA_ALWAYS_VALID": "1"}


def watchdog_runs(ae):
    return sum(1 for line in ae.env.log_lines() if "AH10055" in line)


def wait_watchdog_runs(ae, n, timeout=30):
    start = watchdog_runs(ae)
    wait_until(lambda: watchdog_runs(ae) >= start + n, timeout,
               what="%d watchdog runs" % n)


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_420_sequence_and_notify(acme_factory, reference):
    name = "events.mdspec.org"
    ae = acme_factory(reference=reference,
                 pebble_env={"PEBBLE_AUTHZREUSE": "0"})
    ae.write(["<MDomain %s www.%s>" % (name, name), "  MDCAChallenges http-01",
              "</MDomain>"], vhosts=[[name, "www." + name]], notify_cmd=True)
    ae.start()
    ae.wait_staged(name)
    ae.wait_renewed_message(name)
    reasons = ae.reasons(name)
    assert reasons[0] == "renewing" and reasons[-1] == "renewed"
    assert sorted(reasons[1:-1]) == ["challenge-setup:http-01:%s" % name,
                                     "challenge-setup:http-01:www.%s" % name]
    msgs = ae.messages()
    assert all(m["uid"] != 0 for m in msgs)      # the child runs as User
    assert all(m["argv"][0] == os.path.join(ae.out_dir, "message.py") for m in msgs)
    assert all(len(m["argv"]) == 3 and m["argv"][2] == name for m in msgs)
    notes = ae.read_argv_log(ae.notify_log)
    assert [n["argv"][1:] for n in notes] == [[name]]
    assert any("AH10059" in l and name in l for l in ae.env.log_lines())
    ae.graceful()
    ae.wait_active(name)
    wait_until(lambda: "installed" in ae.reasons(name), 10, what="installed")
    inst = [m for m in ae.messages() if m["argv"][-2] == "installed"]
    assert len(inst) == 1 and inst[0]["uid"] == 0
    # no second round after the restart
    wait_watchdog_runs(ae, 2)
    assert ae.reasons(name).count("renewing") == 1


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_420_errored(acme_factory, reference):
    name = "fail.mdspec.org"
    ae = acme_factory(reference=reference)
    closed = "https://localhost:%d/dir" % free_port()
    ae.write(["<MDomain %s>" % name, "  MDCertificateAuthority %s" % closed,
              "</MDomain>"], vhosts=[[name]])
    ae.env.allow_log(r"Unsuccessful in contacting ACME server", r"AH10056")
    ae.start()
    # the job saved after the run, which the errored message is part of
    job = ae.wait_job(name, lambda j: "message-errored" in log_types(j), 30,
                      what="errored")
    assert ae.reasons(name)[:2] == ["renewing", "errored"]
    assert job["errors"] >= 1 and job["finished"] is False
    assert job["last"]["status"] == 111
    assert job["last"]["status-description"] == "Connection refused"
    assert closed in job["last"]["detail"]
    assert "next-run" in job
    types = log_types(job)
    assert types[:4] == ["message-renewing", "starting", "progress", "progress"] \
        or types[:3] == ["message-renewing", "starting", "progress"]
    assert "renewal-error" in types and "message-errored" in types
    assert any("AH10057" in l for l in ae.env.log_lines())
    # rate limits: retries do not repeat the messages within the hour
    wait_until(lambda: (ae.job(name) or {}).get("errors", 0) >= 2, 30, what="retry")
    assert ae.reasons(name).count("renewing") == 1
    assert ae.reasons(name).count("errored") == 1


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_420_expiring_static(acme_factory, reference):
    name = "static.mdspec.org"
    ae = acme_factory(reference=reference)
    cert, key = make_static_cert(ae.env.root, [name], days=5)
    ae.write(["<MDomain %s>" % name, "  MDWarnWindow 10d",
              "  MDCertificateFile %s" % cert, "  MDCertificateKeyFile %s" % key,
              "</MDomain>"], vhosts=[[name]])
    ae.start()
    wait_until(lambda: "expiring" in ae.reasons(name), 30, what="expiring")
    wait_watchdog_runs(ae, 2)
    assert ae.reasons(name) == ["expiring"]
    msg = [m for m in ae.messages() if m["argv"][-2] == "expiring"][0]
    assert msg["argv"][1:] == ["expiring", name] and msg["uid"] != 0
    job = ae.job(name)
    assert job["notified"] is True and "message-expiring" in log_types(job)
    assert not ae.exists("staging", name, "pubcert.pem")


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
@pytest.mark.parametrize("cmd", ["exit", "missing"])
def test_420_renewing_veto(acme_factory, reference, cmd):
    """A MDMessageCmd that exits non-zero or cannot be executed vetoes
    'renewing' (AH10060), the job's last is its problem (AH10109, as the
    reference). Ours also counts it as an error (MDRetryDelay back-off) and
    logs AH10060 at error level; the reference waits for the next check."""
    name = "veto.mdspec.org"
    ae = acme_factory(reference=reference, pebble_env=ALWAYS_VALID)
    if cmd == "exit":
        msg_cmd, code = ae.message_script(fail_reasons=["renewing"]), 3
    else:
        msg_cmd, code = "nosuchcommand", 255
    ae.write(["MDomain %s" % name], vhosts=[[name]], message_cmd=msg_cmd,
             check_interval="1h", retry_delay="2s")
    detail = "MDMessageCmd %s failed with exit code %d." % (msg_cmd, code)
    ae.env.allow_log(r"AH10109", r"AH10060: %s: event-handler" % name)
    ae.start()
    wait_until(lambda: any("AH10060" in l for l in ae.env.log_lines()), 30,
               what="AH10060")
    line = [l for l in ae.env.log_lines() if "AH10060" in l][0]
    assert ("[md:info]" if reference else "[md:error]") in line
    assert "%s: event-handler for 'renewing' returned" % name in line
    assert "preventing renewal to proceed." in line
    job = ae.wait_job(name, lambda j: "message-error" in log_types(j), 10, what="job")
    assert job["last"]["problem"] == "urn:org:apache:httpd:log:AH10109:"
    assert job["last"]["detail"] == detail
    last = ae.md_status(name)["renewal"]["last"]
    assert last["problem"] == "urn:org:apache:httpd:log:AH10109:"
    assert last["detail"] == detail
    types = log_types(job)
    assert "starting" not in types
    if reference:
        assert job["errors"] == 0
    else:
        assert job["errors"] >= 1 and "next-run" in job
        assert ae.md_status(name)["renewal"]["errors"] >= 1
        # the next try on the back-off, not after the 1h check interval
        wait_until(lambda: (ae.job(name) or {}).get("errors", 0) >= 2, 20,
                   what="second veto")
        assert [e for e in ae.env.log_lines() if "[md:error]" in e
                and "AH10109" not in e and "AH10060" not in e] == []
    if cmd == "exit":
        assert set(ae.reasons(name)) == {"renewing"}
    assert not ae.exists("staging", name, "pubcert.pem")


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_420_errored_failing_cmd(acme_factory, reference):
    """A failing command for 'errored' replaces the renewal's problem in the
    job's last (as the reference); a working one leaves it (test_420_errored)."""
    name = "fail.mdspec.org"
    ae = acme_factory(reference=reference)
    cmd = ae.message_script(fail_reasons=["errored"])
    closed = "https://localhost:%d/dir" % free_port()
    ae.write(["<MDomain %s>" % name, "  MDCertificateAuthority %s" % closed,
              "</MDomain>"], vhosts=[[name]], message_cmd=cmd)
    ae.env.allow_log(r"Unsuccessful in contacting ACME server", r"AH10056", r"AH10109")
    ae.start()
    job = ae.wait_job(name, lambda j: "message-error" in log_types(j), 30, what="errored")
    assert job["last"]["status"] == 20014
    assert job["last"]["problem"] == "urn:org:apache:httpd:log:AH10109:"
    assert job["last"]["detail"] == "MDMessageCmd %s failed with exit code 3." % cmd
    assert job["last"]["activity"].startswith("Contacting ACME server for %s" % name)
    assert ae.md_status(name)["renewal"]["last"]["problem"] == \
        "urn:org:apache:httpd:log:AH10109:"


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_420_notify_cmd_missing(acme_factory, reference):
    """A MDNotifyCmd that cannot be executed fails as one that exits with 255:
    problem AH10108 in md-status, error lines that carry AH10108 and no other
    error lines (as the reference)."""
    name = "notify.mdspec.org"
    ae = acme_factory(reference=reference, pebble_env=ALWAYS_VALID)
    ae.write(["MDomain %s" % name], vhosts=[[name]], notify_cmd="nosuchcommand")
    ae.env.allow_log(r"AH10108")
    ae.start()
    ae.wait_staged(name)
    wait_until(lambda: "notify-error" in log_types(ae.job(name)), 20,
               what="notify-error")
    last = ae.md_status(name)["renewal"]["last"]
    assert last["problem"] == "urn:org:apache:httpd:log:AH10108:"
    assert last["detail"] == "MDNotifyCmd nosuchcommand failed with exit code 255."
    assert last["status"] == 20022
    errors = [l for l in ae.env.log_lines() if re.search(r"\[md:(error|crit)\]", l)]
    assert errors and all("AH10108" in l for l in errors), errors
    assert "renewed" not in ae.reasons(name)


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_420_challenge_setup_fails(acme_factory, reference):
    """A failing command for challenge-setup:<type>:<domain>: the challenge is
    not triggered, the run fails with challenge-setup-failure and the failed
    notification is an error of its own: two errors after the first run."""
    name = "setup.mdspec.org"
    ae = acme_factory(reference=reference)
    reason = "challenge-setup:http-01:%s" % name
    cmd = ae.message_script(fail_reasons=[reason])
    ae.write(["<MDomain %s>" % name, "  MDCAChallenges http-01", "</MDomain>"],
             vhosts=[[name]], message_cmd=cmd, retry_delay="30s")
    ae.env.allow_log(r"AH10109", r"AH10056", r"problem\[challenge-setup-failure\]")
    ae.start()
    # the run saves its progress (with the setup's error counted) before it
    # ends and counts its own: wait for the job the finished run saved
    job = ae.wait_job(name, lambda j: j.get("errors", 0) >= 2, 30, what="two errors")
    assert job["errors"] == 2, job
    assert job["last"]["problem"] == "challenge-setup-failure"
    assert ae.reasons(name) == ["renewing", reason, "errored"]


def test_420_failing_notify_holds_renewed(acme_factory):
    name = "notify.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    notify = ae._script("notify-fail.py", "import sys\nsys.exit(5)\n")
    ae.write(["MDomain %s" % name], vhosts=[[name]], notify_cmd=notify)
    ae.env.allow_log(r"AH10108", r"MDNotifyCmd .* failed with exit code 5")
    ae.start()
    ae.wait_staged(name)
    job = ae.wait_job(name, lambda j: "notify-error" in log_types(j), 20,
                      what="notify-error")
    assert job["notified-renewed"] is False
    entry = [e for e in job["log"]["entries"] if e["type"] == "notify-error"][0]
    assert entry["detail"] == "MDNotifyCmd %s failed with exit code 5." % notify
    assert "renewed" not in ae.reasons(name)


def _failure_facts(acme_factory, reference, veto):
    from test_400_drive import key_paths
    name = "fail.mdspec.org"
    ae = acme_factory(reference=reference, pebble_env=ALWAYS_VALID)
    body = ["MDomain %s" % name]
    kw = {}
    if veto:
        kw["message_cmd"] = ae.message_script(fail_reasons=["renewing"])
        ae.env.allow_log(r"AH10109", r"AH10060")
    else:
        body = ["<MDomain %s>" % name,
                "  MDCertificateAuthority https://localhost:%d/dir" % free_port(),
                "</MDomain>"]
        ae.env.allow_log(r"Unsuccessful in contacting ACME server", r"AH10056")
    ae.write(body, vhosts=[[name]], **kw)
    ae.start()
    if veto:
        job = ae.wait_job(name, lambda j: "message-error" in log_types(j), 30, what="veto")
    else:
        job = ae.wait_job(name, lambda j: "message-errored" in log_types(j), 30,
                          what="errored")
    if veto:
        # ours counts a veto as an error (errors, next-run): see
        # test_420_renewing_veto
        job.pop("next-run", None)
        job["errors"] = 0
    return {"job": key_paths(job), "job-order": list(job.keys()),
            "last": {k: v.replace(ae.peb.url, "CA").split("localhost:")[0]
                     if isinstance(v, str) else v
                     for k, v in job["last"].items() if k != "detail"},
            "errors": job["errors"],
            "types": [t for t in log_types(job) if t != "progress"][:4],
            "status": key_paths(ae.md_status(name)) - ({"/renewal/next-run"} if veto
                                                        else set()),
            "reasons": ae.reasons(name)[:2]}


@pytest.mark.parametrize("veto", [False, True], ids=["errored", "veto"])
def test_420_failure_differential(acme_factory, veto):
    ours = _failure_facts(acme_factory, False, veto)
    ref = _failure_facts(acme_factory, True, veto)
    diffs = ["%s: ours %s, reference %s" % (k, ours[k], ref[k])
             for k in ref if ours[k] != ref[k]]
    assert not diffs, "\n".join(diffs)
