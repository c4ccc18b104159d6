# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Issue 15, a web without OCSP, against pebble configured without an OCSP
# responder (its certificates then name none, as CAs that stopped OCSP):
# MDMustStaple on gets a start-up warning (AH10741) naming the cause; a CA
# that rejects the Must-Staple extension (acme_proxy.py answers badCSR, as
# such CAs do) fails the renewal with a detail saying so, in md-status too;
# MDStapling for such certificates is skipped with one INFO line (AH10742),
# no request, no job, no error from mod_ssl's own stapling.

import re
import subprocess
import time

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from acme_proxy import proxy_factory  # noqa: F401
from md_acme_env import acme_factory, wait_until  # noqa: F401

ALWAYS_VALID = {"PEBBLE_VA_ALWAYS_VALID": "1"}


def live_cert(ae, name):
    with open(ae.path("domains", name, "pubcert.pem"), "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def ocsp_urls(cert):
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    except x509.ExtensionNotFound:
        return []
    return [d.access_location.value for d in aia.value
            if d.access_method == AuthorityInformationAccessOID.OCSP]


def serial_hex(cert):
    """The serial as mod_md prints it: its bytes in upper-case hex."""
    n = cert.serial_number
    return n.to_bytes((n.bit_length() + 7) // 8 or 1, "big").hex().upper()


def gen_lines(ae, tag):
    """Lines of the running generation with tag."""
    text = ae.env._log_tail(ae.env._gen_offset)
    return [line for line in text.splitlines() if tag in line]


def stapled(ae, name):
    p = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % ae.env.https_port, "-servername", name,
                        "-status"], input=b"", stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    out = p.stdout.decode(errors="replace")
    assert "BEGIN CERTIFICATE" in out or "Server certificate" in out, out
    return "OCSP Response Status: successful" in out


def stapling_conf(ae):
    return ("SSLStaplingCache shmcb:%s/ocsp_cache(128000)" % ae.env.logs_dir)


def must_staple_conf(ae, name, stapling=False):
    body = ["<MDomain %s>" % name, "  MDMustStaple on"]
    if stapling:
        body.append("  MDStapling on")
    body.append("</MDomain>")
    ae.write(body, vhosts=[[name]], global_extra=stapling_conf(ae) if stapling else "")
    if stapling:
        # SSLUseStapling on in the vhost: mod_ssl asks mod_md
        with open(ae.env.conf_path) as f:
            conf = f.read().replace("  SSLEngine on\n", "  SSLEngine on\n  SSLUseStapling on\n")
        with open(ae.env.conf_path, "w") as f:
            f.write(conf)


def issue_must_staple(acme_factory, name):  # noqa: F811
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    must_staple_conf(ae, name)
    ae.env.allow_log(r"AH10741")
    ae.start()
    ae.issue(name)
    return ae


def test_530_pebble_names_no_ocsp(acme_factory):  # noqa: F811
    # the premise: pebble as the tests run it issues certificates without an
    # OCSP URL (and takes the Must-Staple extension)
    name = "plain.mdspec.org"
    ae = issue_must_staple(acme_factory, name)
    cert = live_cert(ae, name)
    assert ocsp_urls(cert) == []


def test_530_must_staple_warns_at_start(acme_factory):  # noqa: F811
    name = "staple.mdspec.org"
    ae = issue_must_staple(acme_factory, name)
    cert = live_cert(ae, name)
    lines = wait_until(lambda: gen_lines(ae, "AH10741"), 10, what="AH10741")
    assert len(lines) == 1, lines
    assert "[md:warn]" in lines[0]
    serial = serial_hex(cert)
    assert ("AH10741: %s: MDMustStaple is on, but its certificate (serial %s) names no "
            "OCSP responder: its CA %s may no longer run OCSP, no response can be "
            "stapled" % (name, serial, ae.peb.url)) in lines[0], lines[0]
    assert "Switch MDMustStaple off for this MD." in lines[0]
    # without MDMustStaple: no warning for the same certificate
    ae.write(["MDomain %s" % name], vhosts=[[name]])
    ae.graceful()
    time.sleep(1)
    assert gen_lines(ae, "AH10741") == []


def test_530_stapling_skipped_quietly(acme_factory):  # noqa: F811
    name = "quiet.mdspec.org"
    ae = issue_must_staple(acme_factory, name)
    # stapling on once the certificate is there (mod_ssl's own stapling
    # refuses the self-signed fallback before, which is not this test's)
    must_staple_conf(ae, name, stapling=True)
    ae.graceful()
    cert = live_cert(ae, name)
    lines = wait_until(lambda: gen_lines(ae, "AH10742"), 10, what="AH10742")
    assert len(lines) == 1, lines
    assert "[md:info]" in lines[0]
    assert ("AH10742: md[%s]: certificate with serial %s has no OCSP responder URL, "
            "not stapling it" % (name, serial_hex(cert))) in lines[0]
    assert not stapled(ae, name)
    time.sleep(2)
    # no fetch, no job, no error in md-status; mod_ssl's own stapling was not
    # asked (it would log AH02218/AH02604, which the log guard refuses)
    assert not ae.exists("ocsp", name, "job.json")
    status = ae.md_status(name)
    assert "ocsp" not in status["cert"]["rsa"], status["cert"]
    assert status.get("renewal", {}).get("errors", 0) == 0


def test_530_ca_rejects_must_staple(proxy_factory, acme_factory):  # noqa: F811
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    proxy = proxy_factory(ae.peb)
    proxy.reject_must_staple = True
    name = "rejected.mdspec.org"
    extra = "\n".join(["MDCertificateAuthority %s" % proxy.url,
                       "MDCACertificateFile %s" % ae.ca_file])
    ae.write(["<MDomain %s>" % name, "  MDMustStaple on", "</MDomain>"],
             vhosts=[[name]], ca=False, global_extra=extra, retry_delay="1h")
    ae.env.allow_log(r"AH10056: processing %s: The CA %s rejects the Must-Staple "
                     % (re.escape(name), re.escape(proxy.url)),
                     r"acme problem urn:ietf:params:acme:error:badCSR: "
                     + re.escape(proxy.MUST_STAPLE_DETAIL))
    ae.start()
    expected = ("The CA %s rejects the Must-Staple extension that 'MDMustStaple on' puts "
                "into the CSR for %s (it may no longer run OCSP). Switch MDMustStaple off "
                "for this MD. The CA said: %s" % (proxy.url, name,
                                                  proxy.MUST_STAPLE_DETAIL))

    def failed():
        job = ae.job(name)
        return job and job.get("errors", 0) > 0 and job
    job = wait_until(failed, 30, what="failed renewal")
    assert job["last"]["detail"] == expected, job["last"]
    assert job["last"]["problem"] == "urn:ietf:params:acme:error:badCSR"
    status = ae.md_status(name)
    assert status["renewal"]["last"]["detail"] == expected
    assert status["renewal"]["errors"] >= 1
