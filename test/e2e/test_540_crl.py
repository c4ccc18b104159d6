# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Issue 15, revocation without OCSP (MDCRLCheck): an MD with static files
# from a loopback CA (ocsp_ca.py) whose leaf names a CRL distribution point
# on a loopback CrlServer, renewed from pebble (MDRenewMode always). The
# renewal watchdog fetches the CRL (never the start-up), keeps it in
# ocsp/NAME/crl-<id>.json and md-status shows it; a listed serial means
# AH10743, a 'revoked' message and a renewal now; without MDCRLCheck (or
# with auto and an OCSP URL) nothing is fetched.

import os
import time

import pytest

from md_acme_env import acme_factory, wait_until  # noqa: F401
from ocsp_ca import CrlServer, OcspCA

ALWAYS_VALID = {"PEBBLE_VA_ALWAYS_VALID": "1"}


@pytest.fixture
def crl_env(acme_factory):  # noqa: F811
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    ca = OcspCA(os.path.join(ae.env.root, "ca"))
    server = CrlServer(ca).start()
    yield ae, ca, server
    server.stop()


def write_conf(ae, name, leaf, crl_check="auto"):
    body = ["<MDomain %s>" % name,
            "  MDRenewMode always",
            "  MDRenewWindow 1d",
            "  MDCertificateFile %s" % leaf["chain"],
            "  MDCertificateKeyFile %s" % leaf["key"]]
    if crl_check:
        body.append("  MDCRLCheck %s" % crl_check)
    body.append("</MDomain>")
    ae.write(body, vhosts=[[name]])


def crl_state(ae, name, leaf):
    path = ae.path("ocsp", name, "crl-%s.json" % leaf["id"])
    return ae.load_json("ocsp", name, "crl-%s.json" % leaf["id"]) \
        if os.path.exists(path) else None


def watchdog_runs(ae):
    return sum(1 for line in ae.env.log_lines() if "AH10055" in line)


def test_540_good_crl_kept(crl_env):
    ae, ca, server = crl_env
    name = "crl.mdspec.org"
    leaf = ca.issue("static", [name], crl_url=server.url)
    write_conf(ae, name, leaf)
    ae.start()
    state = wait_until(lambda: crl_state(ae, name, leaf), 15, what="crl state")
    assert state["url"] == server.url
    assert state["status"] == "good"
    assert "error" not in state and "crl" in state
    status = ae.md_status(name)
    crl = status["cert"]["0"]["crl"]
    assert crl["status"] == "good" and crl["url"] == server.url and "crl" not in crl
    # honours nextUpdate / a day: more watchdog runs fetch nothing more
    runs = watchdog_runs(ae)
    wait_until(lambda: watchdog_runs(ae) >= runs + 2, 15, what="watchdog runs")
    assert server.requests == 1
    assert "revoked" not in ae.reasons(name)
    assert not ae.exists("staging", name, "pubcert.pem")


def test_540_revoked_renews(crl_env):
    ae, ca, server = crl_env
    name = "revoked.mdspec.org"
    leaf = ca.issue("static", [name], crl_url=server.url)
    ca.revoke(leaf)
    write_conf(ae, name, leaf)
    ae.env.allow_log(r"AH10743: md\(%s\): the CRL at %s lists certificate %s as revoked"
                     % (name.replace(".", r"\."), server.url.replace(".", r"\."),
                        leaf["serial"]))
    ae.start()
    ae.wait_staged(name)
    reasons = ae.reasons(name)
    assert "revoked" in reasons and "renewing" in reasons
    assert reasons.index("revoked") < reasons.index("renewing")
    lines = [ln for ln in ae.env.log_lines() if "AH10743" in ln]
    assert len(lines) == 1 and "[md:error]" in lines[0], lines
    assert crl_state(ae, name, leaf)["status"] == "revoked"
    status = ae.md_status(name)
    assert status["cert"]["0"]["crl"]["status"] == "revoked"
    assert "revoked-at" in status["cert"]["0"]["crl"]


def test_540_garbage_keeps_nothing_quietly(crl_env):
    ae, ca, server = crl_env
    server.mode = "garbage"
    name = "garbage.mdspec.org"
    leaf = ca.issue("static", [name], crl_url=server.url)
    write_conf(ae, name, leaf)
    ae.env.allow_log(r"AH10744: md\(%s\): CRL check of certificate %s: .*not a CRL"
                     % (name.replace(".", r"\."), leaf["serial"]))
    ae.start()
    state = wait_until(lambda: crl_state(ae, name, leaf), 15, what="crl state")
    assert "not a CRL" in state["error"]
    assert "status" not in state
    # retried after an hour, not every run
    runs = watchdog_runs(ae)
    wait_until(lambda: watchdog_runs(ae) >= runs + 2, 15, what="watchdog runs")
    assert server.requests == 1
    assert not ae.exists("staging", name, "pubcert.pem")


@pytest.mark.parametrize("crl_check, ocsp", [(None, False), ("off", False),
                                              ("auto", True)])
def test_540_not_checked(crl_env, crl_check, ocsp):
    # the default (off), off, and auto for a certificate with an OCSP URL
    ae, ca, server = crl_env
    name = "nocheck.mdspec.org"
    leaf = ca.issue("static", [name], crl_url=server.url,
                    ocsp_url="http://127.0.0.1:9/ocsp" if ocsp else None)
    ca.revoke(leaf)
    write_conf(ae, name, leaf, crl_check=crl_check)
    ae.start()
    runs = watchdog_runs(ae)
    wait_until(lambda: watchdog_runs(ae) >= runs + 2, 15, what="watchdog runs")
    time.sleep(0.5)
    assert server.requests == 0
    assert crl_state(ae, name, leaf) is None
    assert "crl" not in ae.md_status(name)["cert"]["0"]
    assert "revoked" not in ae.reasons(name)
