# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Certificate profiles (MDProfile, MDProfileMandatory) and ACME Renewal
# Information (RFC 9773, MDRenewViaARI) end to end. pebble 2.4 has neither,
# so the CA is the acme_proxy fixture in front of pebble: it announces
# meta.profiles and renewalInfo, answers with the window each test sets and
# records the newOrder payloads (profile, replaces).

import datetime
import os
from email.utils import parsedate_to_datetime

from cryptography import x509

from acme_proxy import ari_cert_id, proxy_factory  # noqa: F401
from md_acme_env import acme_factory, log_details, wait_until  # noqa: F401

EXPLAIN = "https://ca.example/incident/42"


def make_env(proxy_factory, acme_factory, md_lines=(), global_extra=""):
    """An httpd whose CA is the fixture in front of its pebble."""
    ae = acme_factory()
    proxy = proxy_factory(ae.peb)
    name = "ari.mdspec.org"
    extra = "\n".join(["MDCertificateAuthority %s" % proxy.url,
                       "MDCACertificateFile %s" % ae.ca_file, global_extra])
    ae.write(["<MDomain %s>" % name] + list(md_lines) + ["</MDomain>"],
             vhosts=[[name]], ca=False, global_extra=extra)
    return ae, proxy, name


def live_cert(ae, name):
    with open(ae.path("domains", name, "pubcert.pem"), "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def when(s):
    return parsedate_to_datetime(s)


def has_detail(job, text):
    return any(text in d for d in log_details(job))


def count_log(ae, text):
    return sum(1 for line in ae.env.log_lines() if text in line)


def wait_watchdog_runs(ae, n, timeout=30):
    start = count_log(ae, "AH10055")
    wait_until(lambda: count_log(ae, "AH10055") >= start + n, timeout,
               what="%d watchdog runs" % n)


# --- profiles ----------------------------------------------------------------------------

def test_510_profile_known_is_ordered(proxy_factory, acme_factory):
    ae, proxy, name = make_env(proxy_factory, acme_factory, ["MDProfile shortlived"])
    ae.start()
    ae.wait_staged(name)
    orders = proxy.new_orders()
    assert orders and orders[-1]["profile"] == "shortlived", orders
    assert "replaces" not in orders[-1]
    assert has_detail(ae.job(name), "Creating new order, key-spec=default, "
                      "profile=shortlived, replacing-cert=none")


def test_510_profile_unknown_is_dropped(proxy_factory, acme_factory):
    ae, proxy, name = make_env(proxy_factory, acme_factory, ["MDProfile nosuch"])
    ae.env.allow_log(r"does not offer the profile 'nosuch', ordering without")
    ae.start()
    ae.wait_staged(name)
    orders = proxy.new_orders()
    assert orders and "profile" not in orders[-1], orders
    assert any("the CA at <%s> does not offer the profile 'nosuch', ordering without"
               % proxy.url in line and "[md:warn]" in line
               for line in ae.env.log_lines())


def test_510_profile_without_ca_profiles_is_dropped(proxy_factory, acme_factory):
    ae, proxy, name = make_env(proxy_factory, acme_factory, ["MDProfile shortlived"])
    proxy.profiles = None
    ae.env.allow_log(r"does not offer the profile 'shortlived', ordering without")
    ae.start()
    ae.wait_staged(name)
    assert "profile" not in proxy.new_orders()[-1]


def test_510_profile_unknown_mandatory_fails(proxy_factory, acme_factory):
    """As the original: the order's activity (naming the profile) comes first
    and stays the job's last activity, then the order fails; md-status shows
    the profile, no certificate and the errors."""
    ae, proxy, name = make_env(proxy_factory, acme_factory,
                            ["MDProfile nosuch", "MDProfileMandatory on"])
    expected = "%s: mandatory ACME profile 'nosuch' is not offered by CA" % name
    ae.env.allow_log(r"AH10056: processing %s: %s" % (name, expected))
    ae.start()

    def failed():
        job = ae.job(name)
        return job and job.get("errors", 0) > 0 and job
    job = wait_until(failed, 30, what="failed renewal")
    activity = "Creating new order, key-spec=default, profile=nosuch, replacing-cert=none"
    assert job["last"]["activity"] == activity, job["last"]
    assert job["last"]["detail"] == expected, job["last"]
    assert job["last"]["status"] == 22
    status = ae.md_status(name)
    assert status["profile"] == "nosuch" and status["cert"] == {}
    assert status["renewal"]["last"]["activity"] == activity
    assert status["renewal"]["last"]["detail"] == expected
    assert status["renewal"]["errors"] >= 1
    assert proxy.new_orders() == []
    assert not ae.exists("staging", name, "pubcert.pem")


# --- ARI ---------------------------------------------------------------------------------

def test_510_ari_window_past_renews_with_replaces(proxy_factory, acme_factory):
    ae, proxy, name = make_env(proxy_factory, acme_factory)
    proxy.set_window_from_now(-7200, -3600, explanation=EXPLAIN)
    ae.start()
    ae.issue(name)
    assert len(proxy.new_orders()) == 1 and "replaces" not in proxy.new_orders()[0]
    cert_id = ari_cert_id(live_cert(ae, name))

    # the CA says: renew now -> a renewal replacing the live certificate
    wait_until(lambda: len(proxy.new_orders()) >= 2, 30, what="second order")
    assert proxy.new_orders()[1].get("replaces") == cert_id, proxy.new_orders()
    assert cert_id in proxy.renewal_info_requests()
    ae.wait_staged(name)
    assert has_detail(ae.job(name), "Creating new order, key-spec=default, profile=none, "
                      "replacing-cert=%s" % cert_id)
    assert count_log(ae, "AH10517: md(%s): CA advises renew via ARI now, for "
                         "explanation see %s" % (name, EXPLAIN))
    # md-status of the live certificate shows its id
    assert ae.md_status(name)["cert"]["rsa"]["ari-cert-id"] == cert_id


def test_510_ari_window_future_waits(proxy_factory, acme_factory):
    ae, proxy, name = make_env(proxy_factory, acme_factory)
    proxy.set_window_from_now(2 * 86400, 3 * 86400, explanation=EXPLAIN, retry_after=7200)
    ae.start()
    ae.issue(name)
    cert_id = ari_cert_id(live_cert(ae, name))

    def ari_status():
        st = ae.md_status(name)
        return "ari" in st and st
    st = wait_until(ari_status, 30, what="ari in md-status")
    ari = st["ari"]
    start, end = when(ari["window"]["start"]), when(ari["window"]["end"])
    at = when(ari["renew-at"])
    assert start <= at <= end, ari
    assert ari["explanation"] == EXPLAIN
    # earlier than the renew window of the certificate: renew-at is ARI's
    assert st["renew-at"] == ari["renew-at"]
    assert "renewal" not in st and not st.get("renew")
    assert count_log(ae, "AH10515: md(%s): CA advises renew via ARI at %s, for explanation "
                         "see %s" % (name, ari["renew-at"], EXPLAIN))

    # the state persists in staging (no renewal job there), next poll from Retry-After
    stored = ae.load_json("staging", name, "ari.json")
    entry = stored["certs"][0]
    assert entry["id"] == cert_id and entry["renew-at"] == ari["renew-at"]
    now = datetime.datetime.now(datetime.timezone.utc)
    poll = when(entry["next-poll"])
    assert now + datetime.timedelta(seconds=7000) < poll \
        < now + datetime.timedelta(seconds=7300), entry
    assert not ae.exists("staging", name, "job.json")

    # more watchdog runs: no further renewalInfo request before next-poll, no order
    asked = len(proxy.renewal_info_requests())
    wait_watchdog_runs(ae, 2)
    assert len(proxy.renewal_info_requests()) == asked
    assert len(proxy.new_orders()) == 1

    # a restart keeps the drawn time
    ae.graceful()
    wait_watchdog_runs(ae, 1)
    assert ae.md_status(name)["ari"]["renew-at"] == ari["renew-at"]
    assert len(proxy.renewal_info_requests()) == asked


def test_510_ari_replaces_rejected_retried_without(proxy_factory, acme_factory):
    ae, proxy, name = make_env(proxy_factory, acme_factory)
    proxy.set_window_from_now(-7200, -3600)
    ae.env.allow_log(r"alreadyReplaced")
    ae.start()
    ae.issue(name)
    cert_id = ari_cert_id(live_cert(ae, name))
    proxy.reject_replaces = True
    wait_until(lambda: len(proxy.new_orders()) >= 3, 30, what="orders after ARI")
    first, rejected, retried = proxy.new_orders()[:3]
    assert rejected.get("replaces") == cert_id
    assert "replaces" not in retried
    ae.wait_staged(name)
    assert count_log(ae, "AH10518: md(%s): CA advises renew via ARI now" % name)


def test_510_ari_off_asks_nothing(proxy_factory, acme_factory):
    ae, proxy, name = make_env(proxy_factory, acme_factory, ["MDRenewViaARI off"])
    proxy.set_window_from_now(-7200, -3600)
    ae.start()
    ae.issue(name)
    wait_watchdog_runs(ae, 3)
    assert proxy.renewal_info_requests() == []
    assert len(proxy.new_orders()) == 1
    assert "ari" not in ae.md_status(name)
    assert count_log(ae, "AH10513: md(%s): ARI is not enabled" % name)
    assert count_log(ae, "AH10514: md(%s): up for configured renewal in" % name)


def test_510_ari_not_offered(proxy_factory, acme_factory):
    ae, proxy, name = make_env(proxy_factory, acme_factory)
    proxy.ari = False
    ae.start()
    ae.issue(name)
    wait_watchdog_runs(ae, 2)
    assert count_log(ae, "AH10514: md(%s): no ARI available, up for configured renewal "
                         "in" % name)
    assert "ari" not in ae.md_status(name)
    # nothing stored for a CA without ARI
    assert not os.path.exists(ae.path("staging", name))


# --- finalizing -------------------------------------------------------------------------------

def order_flow(proxy):
    """The POST paths of one issuance, kinds in order: order, authz, chall,
    finalize, cert (nonces and the directory left out)."""
    kinds = []
    for r in proxy.recorded("POST"):
        for key, kind in (("/order-plz", "new-order"), ("/my-order/", "order"),
                          ("/authZ/", "authz"), ("/chalZ/", "chall"),
                          ("/finalize-order/", "finalize"), ("/certZ/", "cert")):
            if key in r["path"]:
                kinds.append(kind)
    return kinds


def test_510_finalize_when_authorizations_valid(proxy_factory, acme_factory):
    """All authorizations valid means the order is ready (RFC 8555 7.1.6):
    finalize follows the last authorization poll without asking for the
    order; only the finalized order is polled."""
    ae, proxy, name = make_env(proxy_factory, acme_factory)
    ae.start()
    ae.wait_staged(name)
    flow = order_flow(proxy)
    assert flow[0] == "new-order" and flow[-1] == "cert", flow
    i = flow.index("chall")
    j = flow.index("finalize")
    assert set(flow[i + 1:j]) == {"authz"}, flow
    assert flow.count("finalize") == 1, flow
    assert set(flow[j + 1:-1]) <= {"order"}, flow


def test_510_finalize_order_not_ready(proxy_factory, acme_factory):
    """A CA that does not see the order ready yet answers orderNotReady: the
    order is then awaited and finalized again, in the same run."""
    ae, proxy, name = make_env(proxy_factory, acme_factory)
    ae.env.allow_log(r"orderNotReady", r"the order is not ready yet")
    proxy.not_ready = 1
    ae.start()
    ae.wait_staged(name)
    flow = order_flow(proxy)
    assert flow.count("finalize") == 2, flow
    first, second = [k for k, v in enumerate(flow) if v == "finalize"]
    assert "order" in flow[first + 1:second], flow
    assert ae.job(name)["errors"] == 0
