# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# IP addresses as names of an MD (RFC 8738). Debian's pebble 2.4 validates
# identifiers of type "ip" itself: http-01 against <address>:httpPort and
# tls-alpn-01 against <address>:tlsPort with the reverse-DNS name as SNI;
# it offers no dns-01 for them. It has no profiles: the "shortlived" choice
# is checked through the acme_proxy fixture in front of it, which also
# records the newOrder identifiers and the CSR. Only 127.0.0.1 can be
# validated here (httpd and pebble listen on IPv4 loopback); IPv6 forms are
# checked in the configuration and in the unit suite md_ip.
#
# Measured with the reference module: it starts with "MDomain 127.0.0.1",
# also with dns-01 as the only challenge type, and orders the address as a
# "dns" identifier, which pebble refuses (malformed). Ours starts too.

import base64
import ipaddress
import json
import os
import shutil

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from acme_proxy import proxy_factory  # noqa: F401
from md_acme_env import acme_factory, log_details, wait_until  # noqa: F401

IP = "127.0.0.1"
DNS = "ip.mdspec.org"


def sans(cert):
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (sorted(str(a) for a in ext.get_values_for_type(x509.IPAddress)),
            sorted(ext.get_values_for_type(x509.DNSName)))


def live_cert(ae, name):
    with open(ae.path("domains", name, "pubcert.pem"), "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def finalize_csrs(proxy):
    """The CSRs the client sent to finalize (through the proxy)."""
    return [x509.load_der_x509_csr(b64url(r["payload"]["csr"]))
            for r in proxy.recorded("POST", "/finalize")
            if isinstance(r.get("payload"), dict) and "csr" in r["payload"]]


def setups(ae, name):
    return [r for r in ae.reasons(name) if r.startswith("challenge-setup:")]


# --- issuance against pebble's own validation -------------------------------------------------

@pytest.mark.parametrize("challenge", ["http-01", "tls-alpn-01"])
def test_550_address_issued(acme_factory, challenge):
    ae = acme_factory()
    ae.write(["<MDomain %s>" % IP, "  MDCAChallenges %s" % challenge, "</MDomain>"],
             vhosts=[[IP]], protocols="http/1.1 acme-tls/1")
    ae.start()
    ae.issue(IP)
    assert setups(ae, IP) == ["challenge-setup:%s:%s" % (challenge, IP)]
    cert = live_cert(ae, IP)
    assert sans(cert) == ([IP], [])
    # curl checks the address against the iPAddress SAN (no SNI for it)
    rc, out = ae.verify_https(IP)
    assert rc == 0, out
    # md.json keeps the address as a plain string name (the original reads it)
    md = ae.load_json("domains", IP, "md.json")
    assert md["name"] == IP and md["domains"] == [IP]
    status = ae.md_status(IP)
    assert status["name"] == IP and status["domains"] == [IP]
    assert not ae.exists("challenges", IP)


def test_550_store_readable_by_reference(acme_factory):
    """The reference module serves the certificate ours got for an address
    from the same store (md.json domains are strings)."""
    ae = acme_factory()
    ae.write(["<MDomain %s>" % IP, "  MDCAChallenges http-01", "</MDomain>"],
             vhosts=[[IP]])
    ae.start()
    ae.issue(IP)
    ours = live_cert(ae, IP)
    ae.env.stop()
    ref = acme_factory(reference=True)
    # its watchdog may still be talking to the CA when the test's pebbles stop
    ref.env.allow_log(r"Unsuccessful in contacting ACME server",
                      r"setup ACME communications")
    shutil.rmtree(ref.store, ignore_errors=True)
    shutil.copytree(ae.store, ref.store, symlinks=True)
    extra = "MDCertificateAuthority %s\nMDCACertificateFile %s" % (ae.peb.url, ref.ca_file)
    ref.write(["<MDomain %s>" % IP, "  MDCAChallenges http-01", "</MDomain>"],
              vhosts=[[IP]], ca=False, global_extra=extra)
    ref.start()
    served = ref.server_cert(IP)
    assert served is not None and served.fingerprint(served.signature_hash_algorithm) \
        == ours.fingerprint(ours.signature_hash_algorithm)
    status = ref.md_status(IP)
    assert status["domains"] == [IP] and status["state"] == 2, status
    assert not any("AH10056" in line for line in ref.env.log_lines())


# --- orders: identifiers, CSR, profile (through the proxy) ------------------------------------

def proxied(proxy_factory, acme_factory, md_lines, names=(IP, DNS), profiles=True):
    ae = acme_factory()
    proxy = proxy_factory(ae.peb)
    if not profiles:
        proxy.profiles = None
    extra = "MDCertificateAuthority %s\nMDCACertificateFile %s" % (proxy.url, ae.ca_file)
    ae.write(["<MDomain %s>" % " ".join(names), "  MDCAChallenges http-01"]
             + list(md_lines) + ["</MDomain>"],
             vhosts=[list(names)], ca=False, global_extra=extra)
    return ae, proxy


def test_550_order_ip_identifier_and_shortlived(proxy_factory, acme_factory):
    ae, proxy = proxied(proxy_factory, acme_factory, [])
    ae.start()
    ae.wait_staged(IP)
    order = proxy.new_orders()[-1]
    assert order["identifiers"] == [{"type": "ip", "value": IP},
                                    {"type": "dns", "value": DNS}]
    # an address and no MDProfile: the CA's "shortlived" (logged)
    assert order["profile"] == "shortlived"
    assert any("AH10801: %s: has the address '%s' and no MDProfile, ordering with the "
               "CA's profile 'shortlived'" % (IP, IP) in line for line in ae.env.log_lines())
    # the CSR: the address as iPAddress SAN, no CN (the MD is named by it)
    csr = finalize_csrs(proxy)[-1]
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME) == []
    ext = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ext.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address(IP)]
    assert ext.get_values_for_type(x509.DNSName) == [DNS]
    with open(ae.path("staging", IP, "pubcert.pem"), "rb") as f:
        assert sans(x509.load_pem_x509_certificate(f.read())) == ([IP], [DNS])


def test_550_mdprofile_wins(proxy_factory, acme_factory):
    ae, proxy = proxied(proxy_factory, acme_factory, ["  MDProfile classic"])
    ae.start()
    ae.wait_staged(IP)
    assert proxy.new_orders()[-1]["profile"] == "classic"
    assert not any("AH10801" in line for line in ae.env.log_lines())


def test_550_no_shortlived_offered(proxy_factory, acme_factory):
    ae, proxy = proxied(proxy_factory, acme_factory, [], profiles=False)
    ae.start()
    ae.wait_staged(IP)
    assert "profile" not in proxy.new_orders()[-1]


def test_550_dns_names_no_profile(proxy_factory, acme_factory):
    """Without an address, no profile is chosen for the MD."""
    ae, proxy = proxied(proxy_factory, acme_factory, [], names=(DNS,))
    ae.start()
    ae.wait_staged(DNS)
    order = proxy.new_orders()[-1]
    assert "profile" not in order
    assert order["identifiers"] == [{"type": "dns", "value": DNS}]
    csr = finalize_csrs(proxy)[-1]
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] \
        == [DNS]


# --- configurations an address cannot be validated with ---------------------------------------

BAD = {
    # dns-01 only: RFC 8738 has no dns-01 for addresses
    "dns01": (["<MDomain %s www.%s>" % (IP, DNS), "  MDCAChallenges dns-01",
               "  MDChallengeDns01 @DNS@", "</MDomain>"], [IP, "www." + DNS]),
    # a wildcard of an address
    "wildcard": (["<MDomain %s *.%s>" % (DNS, IP), "  MDCAChallenges http-01 dns-01",
                  "  MDChallengeDns01 @DNS@", "</MDomain>"], [DNS]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_550_unvalidatable_reference_starts(acme_factory, case):
    """Measured: the original starts with both. It orders the address as
    a "dns" identifier (pebble refuses: malformed) and "*.127.0.0.1" as a
    DNS wildcard (pebble issues it via dns-01; public CAs refuse it)."""
    body, vhost = BAD[case]
    ae = acme_factory(reference=True)
    body = [line.replace("@DNS@", ae.dns_script()) for line in body]
    ae.env.allow_log(r"AH10056", r"AH10057", r"md\[", r"acme problem",
                     r"setup ACME communications")
    ae.write(body, vhosts=[vhost])
    ae.start()
    job = wait_until(lambda: ae.job(vhost[0]), 30, what="renewal of %s" % vhost[0])
    if "dns01" == case:
        job = wait_until(lambda: (ae.job(vhost[0]) or {}).get("last", {}).get("problem"),
                         30, what="failed renewal")
        assert job == "urn:ietf:params:acme:error:malformed"


@pytest.mark.parametrize("case", sorted(BAD))
def test_550_unvalidatable_starts(acme_factory, case):
    """Ours starts too, warns naming the MD and the address and fails the
    renewal before ordering."""
    body, vhost = BAD[case]
    ae = acme_factory()
    body = [line.replace("@DNS@", ae.dns_script()) for line in body]
    name = vhost[0]
    ae.env.allow_log(r"AH10056", r"AH10057", r"md\[%s\]" % name.replace(".", r"\."),
                     r"AH10800", r"AH10802")
    ae.write(body, vhosts=[vhost])
    ae.start()
    job = wait_until(lambda: (ae.job(name) or {}).get("errors", 0) > 0 and ae.job(name),
                     30, what="failed renewal of %s" % name)
    if "dns01" == case:
        warning = ("AH10800: %s: the address '%s' can only be validated with the "
                   "challenge types 'http-01' or 'tls-alpn-01', but MDCAChallenges "
                   "allows 'dns-01'" % (name, IP))
        detail = ("%s: the address '%s' can only be validated with the challenge types "
                  "'http-01' or 'tls-alpn-01', but the configured ones are 'dns-01'"
                  % (name, IP))
    else:
        warning = ("AH10802: %s: '*.%s' is a wildcard of the address '%s', which no CA "
                   "can validate" % (name, IP, IP))
        detail = ("%s: '*.%s' is a wildcard of the address '%s', which no CA can "
                  "validate" % (name, IP, IP))
    assert any(warning in line and "[md:warn]" in line for line in ae.env.log_lines())
    assert job["last"]["problem"] == "challenge-mismatch", job
    assert job["last"]["detail"] == detail
    # nothing was ordered, no dns-01 command ran
    assert not any(d.startswith("Creating new order") for d in log_details(job))
    assert ae.read_argv_log(ae.dns_log) == []
    status = ae.md_status(name)
    assert status["renewal"]["last"]["detail"] == detail, status


# --- names: normal form -----------------------------------------------------------------------

def test_550_address_forms_normalised(acme_factory):
    ae = acme_factory()
    ae.env.allow_log(r"zone id of the address", r"AH10045: No VirtualHost matches")
    ae.write(["<MDomain 2001:DB8:0:0::10 [2001:db8::11] fe80::1%eth0 127.0.0.1>",
              "  MDRenewMode manual", "</MDomain>"])
    ae.start()
    want = ["2001:db8::10", "2001:db8::11", "fe80::1", IP]
    md = ae.load_json("domains", "2001:db8::10", "md.json")
    assert md["domains"] == want
    assert ae.md_status("2001:db8::10")["domains"] == want
    # the zone id is dropped with a warning naming the written form
    assert any("the zone id of the address 'fe80::1%eth0' is dropped, a certificate "
               "names 'fe80::1'" in line for line in ae.env.log_lines())
    # an address is no "invalid domain name"
    assert not any("is not a valid domain name" in line for line in ae.env.log_lines())
