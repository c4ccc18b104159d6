# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Issue 15 against pebble: certificates of a few days (pebble's
# certificateValidityPeriod) renew at half their lifetime at the latest, the
# watchdog comes back at that time (not only after MDCheckInterval) and
# md-status says the same; a 90-day certificate keeps its 33% window.

import re
from datetime import timedelta
from email.utils import parsedate_to_datetime

from md_acme_env import acme_factory, wait_until  # noqa: F401

ALWAYS_VALID = {"PEBBLE_VA_ALWAYS_VALID": "1"}
DAY = 86400
UNITS = {"day": 86400, "days": 86400, "hour": 3600, "hours": 3600, "minute": 60,
         "minutes": 60, "second": 1, "seconds": 1, "ms": 0.001}


def duration_secs(text):
    """Seconds of md_duration_print's '2 days 23 hours 59 minutes 58 seconds'."""
    parts = re.findall(r"(\d+) (days?|hours?|minutes?|seconds?|ms)", text)
    assert parts, text
    return sum(int(n) * UNITS[u] for n, u in parts)


def next_runs(ae):
    """The waits the renewal watchdog of the running generation planned
    (AH10107), in seconds."""
    text = ae.env._log_tail(ae.env._gen_offset)
    # the old generation's watchdog may log its last plan after the restart
    start = text.find("AH10054")
    text = text[start:] if start >= 0 else ""
    return [duration_secs(m.group(1)) for line in text.splitlines()
            for m in [re.search(r"AH10107: next run in (.*)$", line)] if m]


def issue_with_lifetime(acme_factory, name, days, window=None):  # noqa: F811
    ae = acme_factory(pebble_env=ALWAYS_VALID, validity=days * DAY)
    body = ["<MDomain %s>" % name]
    if window:
        body.append("  MDRenewWindow %s" % window)
    body.append("</MDomain>")
    # an interval longer than any lifetime here: only renew-at can wake it
    ae.write(body, vhosts=[[name]], check_interval="200d")
    ae.start()
    ae.issue(name)
    wait_until(lambda: next_runs(ae), 30, what="a planned watchdog run")
    return ae


def half(lifetime):
    return lifetime // 2            # whole seconds, as md-status prints it


def percent_before_end(percent):
    return lambda lifetime: lifetime - lifetime * percent // 100


def check_renew_at(ae, name, days, renew_after):
    """renew-at of md-status is notBefore + renew_after(lifetime) and the
    watchdog waits no longer than until then."""
    status = ae.md_status(name)
    valid = status["cert"]["rsa"]["valid"]
    start = parsedate_to_datetime(valid["from"])
    lifetime = int((parsedate_to_datetime(valid["until"]) - start).total_seconds())
    # pebble's notAfter is the last valid second
    assert abs(lifetime - days * DAY) <= 1, lifetime
    renew_at = parsedate_to_datetime(status["renew-at"])
    expected = renew_after(lifetime)
    assert renew_at - start == timedelta(seconds=expected), status
    wait = next_runs(ae)[-1]
    assert wait <= expected, (wait, expected)
    return wait


def test_520_six_days_renew_at_half(acme_factory):  # noqa: F811
    name = "six.mdspec.org"
    ae = issue_with_lifetime(acme_factory, name, 6)
    # 33% of 6 days would start on day 4.02: short-lived renews on day 3
    wait = check_renew_at(ae, name, 6, half)
    assert wait > 2 * DAY
    # nothing renews before then
    assert ae.reasons(name).count("renewing") == 1


def test_520_six_days_absolute_window(acme_factory):  # noqa: F811
    # a window longer than the lifetime does not renew each certificate at once
    name = "seven.mdspec.org"
    ae = issue_with_lifetime(acme_factory, name, 6, window="7d")
    check_renew_at(ae, name, 6, half)
    assert ae.reasons(name).count("renewing") == 1


def test_520_forty_five_days_percent(acme_factory):  # noqa: F811
    name = "fortyfive.mdspec.org"
    ae = issue_with_lifetime(acme_factory, name, 45)
    # the percentage applies to the certificate's own lifetime
    check_renew_at(ae, name, 45, percent_before_end(33))
