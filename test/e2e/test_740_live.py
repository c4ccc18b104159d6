# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# MDActivation live (docs/live.md) against pebble: a renewal becomes visible
# to TLS clients without a restart, in every child process (also those
# started after the switch); a staged set that fails its checks never goes
# live; a graceful restart afterwards makes the live set permanent without a
# new order; MDActivation restart keeps the original's behaviour; with
# stapling, the live certificate's response is there when it goes live.

import datetime
import os
import re
import shutil
import subprocess
import time

from cryptography import x509

from md_acme_env import acme_factory, wait_until  # noqa: F401
from md_certs import cert_pem, key_pem, make_cert, write_pem
from ocsp_ca import OcspCA, PebbleOcspResponder

# children are replaced after a few connections: later ones must serve the
# live set too, not what the parent loaded at start
MPM = "MaxConnectionsPerChild 6\nStartServers 2"


def put_due_cert(ae, name, domains):
    """domains/NAME with a certificate that is due for renewal: valid for 10
    days, 9 of them gone."""
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=9)
    cert, key = make_cert(domains, valid_from=start, days=10)
    d = ae.path("domains", name)
    write_pem(os.path.join(d, "pubcert.pem"), cert_pem(cert))
    write_pem(os.path.join(d, "privkey.pem"), key_pem(key))
    return cert


def pem_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def serial(cert):
    return cert.serial_number if cert is not None else None


def loaded_pids(ae):
    """The processes that logged serving a live set (AH10712)."""
    return {m.group(1) for line in ae.env.log_lines() if "AH10712" in line
            for m in [re.search(r"\[pid (\d+)", line)] if m}


def test_740_live_renewal_without_restart(acme_factory):
    name = "live.mdspec.org"
    ae = acme_factory()
    old = put_due_cert(ae, name, [name])
    ae.write(["MDomain %s" % name, "MDActivation live"], vhosts=[[name]],
             global_extra=MPM)
    ae.start()
    assert serial(ae.server_cert(name)) == old.serial_number
    ae.wait_staged(name)
    # no restart, no signal: new connections get the renewed certificate
    wait_until(lambda: serial(ae.server_cert(name)) not in (None, old.serial_number), 30,
               what="the live certificate on new connections")
    live = pem_cert(ae.path("live", name, "pubcert.pem"))
    staged = pem_cert(ae.path("staging", name, "pubcert.pem"))
    assert live == staged
    served = [serial(ae.server_cert(name)) for _ in range(24)]
    assert served == [live.serial_number] * 24
    # several processes took it, among them children started after the switch
    assert len(loaded_pids(ae)) >= 2, ae.env.log_lines()[-30:]
    # md-status tells which one is live
    status = ae.md_status(name)
    assert status["activation"] == "live"
    assert int(status["cert"]["rsa"]["serial"], 16) == live.serial_number
    assert status["renewal"]["live"] is True and "renew" not in status
    # the event ran as the server's User, once
    live_msgs = [m for m in ae.messages() if m["argv"][-2] == "live"]
    assert len(live_msgs) == 1 and live_msgs[0]["uid"] != 0
    assert live_msgs[0]["argv"][-1] == name
    assert ae.reasons(name).count("renewing") == 1

    # a graceful restart makes it permanent, without a new order
    ae.graceful()
    wait_until(lambda: not os.path.exists(ae.path("staging", name)), 30,
               what="activation of the staged set")
    assert pem_cert(ae.path("domains", name, "pubcert.pem")) == live
    assert not os.path.exists(ae.path("live", name))
    assert serial(ae.server_cert(name)) == live.serial_number
    time.sleep(3)
    assert ae.reasons(name).count("renewing") == 1
    status = ae.md_status(name)
    assert "renewal" not in status and "renew" not in status
    assert int(status["cert"]["rsa"]["serial"], 16) == live.serial_number


def test_740_live_set_that_fails_its_checks_is_never_served(acme_factory):
    name = "live-bad.mdspec.org"
    ae = acme_factory()
    old = put_due_cert(ae, name, [name])
    ae.write(["MDomain %s" % name, "MDActivation live", "MDActivationDelay 6s"],
             vhosts=[[name]], retry_delay="2s")
    ae.env.allow_log(r"AH10716|AH10056|AH10057")
    ae.start()
    ae.wait_staged(name)
    # before it goes live, the staged certificate is swapped for one that
    # does not match the staged key
    bad, _ = make_cert([name], days=30)
    write_pem(ae.path("staging", name, "pubcert.pem"), cert_pem(bad), mode=0o644)
    wait_until(lambda: any("AH10716" in line for line in ae.env.log_lines()), 30,
               what="the failed live check")
    assert serial(ae.server_cert(name)) == old.serial_number
    job = ae.job(name) or {}
    assert job.get("errors", 0) >= 1
    assert "live-check-failed" in job["last"]["problem"]
    assert "does not match" in job["last"]["detail"]
    # the renewal runs again and its good set goes live
    wait_until(lambda: serial(ae.server_cert(name)) not in (None, old.serial_number), 60,
               what="a good set going live after the retry")
    live = pem_cert(ae.path("live", name, "pubcert.pem"))
    assert live.serial_number != bad.serial_number
    assert serial(ae.server_cert(name)) == live.serial_number
    # a second order ran for it (the 'renewing' event is rate limited)
    job = ae.job(name)
    assert [e["type"] for e in job["log"]["entries"]].count("starting") == 2
    assert job["errors"] == 0 and job["finished"] is True


def test_740_restart_mode_is_unchanged(acme_factory):
    name = "restart.mdspec.org"
    ae = acme_factory()
    old = put_due_cert(ae, name, [name])
    ae.write(["MDomain %s" % name], vhosts=[[name]], global_extra=MPM)
    ae.start()
    ae.wait_staged(name)
    ae.wait_renewed_message(name)
    time.sleep(3)
    assert serial(ae.server_cert(name)) == old.serial_number
    assert not os.path.exists(ae.path("live", name))
    status = ae.md_status(name)
    assert "activation" not in status and status["renew"] is True
    ae.graceful()
    wait_until(lambda: serial(ae.server_cert(name)) != old.serial_number, 30,
               what="the renewed certificate after the restart")


def staple_of(ae, name):
    """(served serial, stapled serial or None, cert status) of one handshake."""
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % ae.env.https_port,
                        "-servername", name, "-status"],
                       input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    out = p.stdout.decode(errors="replace")
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    served = x509.load_pem_x509_certificate(m.group(0).encode()).serial_number if m else None
    if "OCSP response: no response sent" in out:
        return served, None, None
    sm = re.search(r"Serial Number: ([0-9A-F]+)", out)
    st = re.search(r"Cert Status: (\w+)", out)
    return served, int(sm.group(1), 16) if sm else None, st.group(1) if st else None


def test_740_live_certificate_is_stapled(acme_factory, tmp_path):
    """With MDStapling on, the renewed certificate's OCSP response is fetched
    before it goes live: handshakes with it carry its staple at once."""
    name = "live-ocsp.mdspec.org"
    ca = OcspCA(str(tmp_path / "ca"))
    responder = PebbleOcspResponder([], cas=[ca]).start()
    try:
        ae = acme_factory(ocsp_url=responder.url)
        responder.peb = ae.peb
        responder.dirs = [ae.store]
        # the current certificate: from a CA with a responder, valid 20 days
        # (from 5 minutes ago); a window of 20 days and a minute makes it due
        # (a window as long as the lifetime would mean half of it)
        old = ca.issue("old", [name], ocsp_url=responder.url, days=20)
        d = ae.path("domains", name)
        os.makedirs(d)
        shutil.copyfile(old["chain"], os.path.join(d, "pubcert.secp256r1.pem"))
        shutil.copyfile(old["key"], os.path.join(d, "privkey.secp256r1.pem"))
        ae.write(["<MDomain %s>" % name, "MDPrivateKeys secp256r1", "MDActivation live",
                  "MDStapling on", "MDRenewWindow 28801mi", "</MDomain>"],
                 vhosts=[[name]])
        ae.start()
        wait_until(lambda: staple_of(ae, name)[1] == old["x509"].serial_number, 20,
                   what="the staple of the current certificate")
        ae.wait_staged(name, specs=("secp256r1",))
        wait_until(lambda: staple_of(ae, name)[0] != old["x509"].serial_number, 30,
                   what="the live certificate")
        live = pem_cert(ae.path("live", name, "pubcert.secp256r1.pem"))
        # its response was there before it went live: every handshake staples it
        for _ in range(12):
            served, stapled, status = staple_of(ae, name)
            assert served == live.serial_number
            assert stapled == live.serial_number and status == "good"
        assert live.serial_number in responder.served
    finally:
        responder.stop()
