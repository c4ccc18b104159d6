# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# md-metrics (SetHandler md-metrics, docs/metrics.md) against pebble: the
# text parses with Debian's python3-prometheus-client in both formats
# (OpenMetrics when asked for, else Prometheus' text format), its values
# agree with md-status through a first certificate (incomplete, staged,
# active after a graceful restart), and a failing renewal shows in the
# error and order counters.

import time
from email.utils import parsedate_to_datetime

import pytest
import requests

from faults import refused_url
from md_acme_env import acme_factory, wait_until  # noqa: F401

prom_om = pytest.importorskip("prometheus_client.openmetrics.parser")
prom_text = pytest.importorskip("prometheus_client.parser")

METRICS = "<Location /md-metrics>\n  SetHandler md-metrics\n</Location>"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"


def fetch(ae, accept=OPENMETRICS):
    headers = {"Accept": accept} if accept else {}
    r = requests.get("http://127.0.0.1:%d/md-metrics" % ae.env.http_port, headers=headers,
                     timeout=10)
    assert r.status_code == 200, r.text
    return r


def samples(ae):
    """{(sample name, frozenset of labels): value} of the OpenMetrics form."""
    r = fetch(ae)
    assert r.headers["Content-Type"].startswith("application/openmetrics-text")
    out = {}
    for fam in prom_om.text_string_to_metric_families(r.text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(smp, name, **labels):
    return smp.get((name, frozenset(labels.items())))


def ts(text):
    return parsedate_to_datetime(text).timestamp()


def test_720_metrics_follow_a_first_certificate(acme_factory):
    name = "metrics.mdspec.org"
    ae = acme_factory()
    ae.write(["MDomain %s" % name], vhosts=[[name]], global_extra=METRICS)
    ae.start()
    smp = samples(ae)
    assert value(smp, "mod_md_managed_domains") == 1
    assert value(smp, "mod_md_domain_watched", md=name) == 1
    assert value(smp, "mod_md_ca_info", md=name, url=ae.peb.url) == 1
    assert value(smp, "mod_md_certificate_not_after_seconds", md=name, key="rsa") is None

    ae.wait_staged(name)
    smp = samples(ae)
    assert value(smp, "mod_md_domain_state", md=name) == 1
    assert value(smp, "mod_md_orders_total", result="ok") == 1
    assert value(smp, "mod_md_orders_total", result="failed") == 0
    assert value(smp, "mod_md_order_duration_seconds_count") == 1
    assert 0 < value(smp, "mod_md_order_duration_seconds_sum") < 120
    assert value(smp, "mod_md_renewal_last_success", md=name) == 1
    assert value(smp, "mod_md_renewal_errors", md=name) == 0
    age = value(smp, "mod_md_renewal_staged_age_seconds", md=name)
    assert age is not None and 0 <= age < 120

    ae.graceful()
    ae.wait_active(name)
    status = ae.md_status(name)
    smp = samples(ae)
    cert = status["cert"]["rsa"]
    assert value(smp, "mod_md_domain_state", md=name) == 2
    assert value(smp, "mod_md_certificate_not_after_seconds", md=name, key="rsa") \
        == ts(cert["valid"]["until"])
    assert value(smp, "mod_md_certificate_not_before_seconds", md=name, key="rsa") \
        == ts(cert["valid"]["from"])
    assert value(smp, "mod_md_renew_at_seconds", md=name) == ts(status["renew-at"])
    assert value(smp, "mod_md_renewal_staged_age_seconds", md=name) is None
    # a new server generation counts anew
    assert value(smp, "mod_md_orders_total", result="ok") == 0

    # Prometheus' text format without an Accept header, parsed by its parser
    r = fetch(ae, accept=None)
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    fams = {f.name: f for f in prom_text.text_string_to_metric_families(r.text)}
    nafter = fams["mod_md_certificate_not_after_seconds"].samples
    assert [(s.labels, s.value) for s in nafter] == \
        [({"md": name, "key": "rsa"}, ts(cert["valid"]["until"]))]
    assert "# EOF" not in r.text and "# UNIT" not in r.text
    # other methods are not for this handler
    r = requests.post("http://127.0.0.1:%d/md-metrics" % ae.env.http_port, timeout=10)
    assert r.status_code == 501


def test_720_metrics_show_a_failing_renewal(acme_factory):
    name = "metrics-fail.mdspec.org"
    ae = acme_factory()
    ae.write(["MDomain %s" % name], vhosts=[[name]], ca=False, retry_delay="1s",
             global_extra=METRICS + "\nMDCertificateAuthority %s" % refused_url())
    ae.env.allow_log(r"AH10056|AH10057|md\[%s\]" % name, name)
    ae.start()
    wait_until(lambda: (ae.job(name) or {}).get("errors", 0) >= 2, 40, what="2 errors")
    deadline = time.time() + 10
    while True:
        smp = samples(ae)
        errors = value(smp, "mod_md_renewal_errors", md=name)
        if errors >= 2 or time.time() > deadline:
            break
        time.sleep(0.5)
    assert errors >= 2
    assert value(smp, "mod_md_renewal_last_success", md=name) == 0
    assert value(smp, "mod_md_orders_total", result="failed") >= 2
    assert value(smp, "mod_md_orders_total", result="ok") == 0
    assert value(smp, "mod_md_domain_state", md=name) == 1
