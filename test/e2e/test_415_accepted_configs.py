# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Configurations that the original starts with although they cannot renew:
# both modules start, and the renewal against pebble fails with the
# original's problem type and detail, visible in md-status (wildcard without
# dns-01, unknown challenge types, a name the CA refuses, an EAB HMAC that
# is not base64url, a CA protocol other than ACME).

import re

import pytest

from md_acme_env import acme_factory, wait_until  # noqa: F401
from md_certs import FALLBACK_CN, cert_cn, cert_sans, curl, s_client

EAB_KID = "kid-1"
EAB_HMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
BOTH = pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])


def failed_renewal(ae, name, timeout=40):
    """Waits until the renewal of name counted an error; md-status's entry."""
    def failed():
        status = ae.md_status(name)
        renewal = status.get("renewal") or {}
        return renewal.get("errors", 0) > 0 and status
    return wait_until(failed, timeout, what="failed renewal of %s" % name)


def run_failing(ae, name, section, allow):
    """Starts with <MDomain name> + section lines and an SSL vhost for name;
    returns md-status's entry once the renewal failed. allow: the log
    lines the failure writes (besides the warnings and the retry)."""
    ae.env.allow_log(r"AH10660", r"AH10056", r"AH10085", r"md\[%s" % re.escape(name),
                     re.escape(name), *allow)
    ae.write(["<MDomain %s>" % name] + ["  " + l for l in section] + ["</MDomain>"],
             vhosts=[[name]])
    ae.start()
    return failed_renewal(ae, name)


def last(status):
    return status["renewal"]["last"]


def https_status(ae, host):
    status, _, _ = curl("https://%s:%d/" % (host, ae.env.https_port), host=host,
                        port=ae.env.https_port)
    return status


@BOTH
@pytest.mark.parametrize("variant", ["plain", "servernames"])
def test_415_wildcard_without_dns01(acme_factory, reference, variant):
    base = "wc.mdspec.org"
    name = "*." + base
    ae = acme_factory(reference=reference)
    body = ["MDomain %s" % name]
    vhosts = [[base, name]]
    if variant == "servernames":
        body = ["MDMatchNames servernames", "MDomain %s" % name,
                "MDomain sub.%s" % base]
        vhosts = [["x." + base], ["sub." + base]]
    ae.env.allow_log(r"AH10602", r"AH10056", r"challenge", r"md\[\*\.wc\.mdspec\.org\]",
                     r"AH10085", r"\*\.wc\.mdspec\.org")
    ae.write(body, vhosts=vhosts)
    ae.start()
    status = failed_renewal(ae, name)
    assert last(status)["problem"] == "challenge-mismatch"
    # pebble names the wildcard authorization by its base name
    assert last(status)["detail"].startswith(
        "None of offered challenge types for domain %s are supported. The server "
        "offered 'dns-01' and available are: '" % base), last(status)
    assert status["renewal"]["errors"] > 0


@BOTH
def test_415_unknown_challenge_types(acme_factory, reference):
    name = "unknown-cha.mdspec.org"
    ae = acme_factory(reference=reference)
    status = run_failing(ae, name, ["MDCAChallenges foo-01 bar-02"], [r"challenge"])
    assert last(status)["problem"] == "challenge-mismatch"
    assert last(status)["detail"].startswith(
        "None of offered challenge types for domain %s are supported." % name)
    assert last(status)["detail"].endswith("available are: 'foo-01 bar-02'."), \
        last(status)
    # no certificate: the vhost keeps the fallback and answers 503
    cert, out = s_client(ae.env.https_port, name)
    assert cert is not None, out
    assert cert_cn(cert) == FALLBACK_CN and cert_sans(cert) == [name]
    assert https_status(ae, name) == 503


def _rejected_name(acme_factory, reference):
    name = "bad_name.mdspec.org"
    ae = acme_factory(reference=reference, pebble_env={"PEBBLE_VA_ALWAYS_VALID": "1"})
    return last(run_failing(ae, name, [], [r"acme problem"]))


def test_415_name_refused_by_ca(acme_factory):
    """Not checked at start: the CA's problem is shown verbatim, as the
    original shows it."""
    ours = _rejected_name(acme_factory, False)
    ref = _rejected_name(acme_factory, True)
    assert ours["problem"].startswith("urn:ietf:params:acme:error:"), ours
    assert "'_'" in ours["detail"], ours
    for key in ("problem", "detail", "subproblems"):
        assert ours.get(key) == ref.get(key), key


@BOTH
def test_415_eab_hmac_invalid(acme_factory, reference):
    name = "eab-bad.mdspec.org"
    ae = acme_factory(reference=reference, pebble_env={"PEBBLE_VA_ALWAYS_VALID": "1"},
                      eab_keys={EAB_KID: EAB_HMAC})
    # "$$$$" decodes to no byte at all (the original decodes up to the first
    # character outside the alphabet: "ab$$" would reach the CA)
    status = run_failing(ae, name, ["MDExternalAccountBinding %s $$$$" % EAB_KID],
                         [r"external account binding"])
    assert last(status)["problem"] == "apache:eab-hmac-invalid"
    assert last(status)["detail"] == \
        "external account binding HMAC value is not valid base64"
    assert not ae.exists("staging", name, "pubcert.pem")


def _eab_prefix(acme_factory, reference):
    name = "eab-prefix.mdspec.org"
    ae = acme_factory(reference=reference, pebble_env={"PEBBLE_VA_ALWAYS_VALID": "1"},
                      eab_keys={EAB_KID: EAB_HMAC})
    # the key is what decodes before '$': the CA gets a binding and refuses it
    return last(run_failing(ae, name, ["MDExternalAccountBinding %s %s$$" % (
        EAB_KID, EAB_HMAC[:8])], [r"acme problem", r"register"]))


def test_415_eab_hmac_prefix_reaches_ca(acme_factory):
    ours = _eab_prefix(acme_factory, False)
    ref = _eab_prefix(acme_factory, True)
    assert ours["problem"].startswith("urn:ietf:params:acme:error:"), ours
    assert ours["problem"] == ref["problem"]
    assert ours.get("detail") == ref.get("detail")


def test_415_unknown_protocol(acme_factory):
    """The original refuses to start with it (test_010_protocol_starts);
    ours starts and fails the renewal before it contacts the CA."""
    name = "proto.mdspec.org"
    ae = acme_factory()
    status = run_failing(ae, name, ["MDCertificateProtocol FOO"],
                         [r"Unknown CA protocol"])
    assert last(status)["detail"] == "Unknown CA protocol 'FOO'", last(status)
