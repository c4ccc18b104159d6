# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# IP addresses as names of an MD (RFC 8738). Debian's pebble 2.4 validates
# identifiers of type "ip" itself: http-01 against <address>:httpPort and
# tls-alpn-01 against <address>:tlsPort with the reverse-DNS name as SNI;
# it offers no dns-01 for them. It has no profiles: the "shortlived" choice
# is checked through the acme_proxy fixture in front of it, which also
# records the newOrder identifiers and the CSR. ::1 is validated at [::1]
# (pebble connects to the address of an ip identifier itself; the harness's
# ipv6=True lets httpd listen there too); the IPv6 cases are skipped where
# ::1 cannot be bound. More IPv6 forms are checked in the configuration and
# in the unit suite md_ip.
#
# Measured with the reference module: it starts with "MDomain 127.0.0.1",
# also with dns-01 as the only challenge type, and orders the address as a
# "dns" identifier, which pebble refuses (malformed). Ours starts too.

import base64
import ipaddress
import json
import os
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from acme_proxy import proxy_factory  # noqa: F401
from md_acme_env import acme_factory, log_details, wait_until  # noqa: F401
from md_env import has_ipv6_loopback

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
    job = ae.wait_job(name, lambda j: j.get("errors", 0) > 0, 30,
                      what="failed renewal of %s" % name)
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


# --- IPv6: pebble validates ::1 at [::1] ------------------------------------------------------

IP6 = "::1"


def need_ipv6():
    if not has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1 cannot be bound)")


@pytest.mark.parametrize("challenge", ["http-01", "tls-alpn-01"])
def test_550_ipv6_issued(acme_factory, challenge):
    """pebble connects to [::1] itself for the ip identifier "::1": http-01
    with Host "[::1]:port", tls-alpn-01 with the ip6.arpa name as SNI.
    httpd takes the IPv6 address as ServerAlias only; the vhost's ServerName
    is then the server's, which MDMembers manual keeps out of the MD."""
    need_ipv6()
    ae = acme_factory(ipv6=True)
    # as the original: the inherited ServerName is not in the certificate
    ae.env.allow_log(r"AH10040: Virtual Host localhost:\d+ matches Managed Domain '::1'")
    ae.write(["<MDomain %s>" % IP6, "  MDMembers manual",
              "  MDCAChallenges %s" % challenge, "</MDomain>"],
             vhosts=[[IP6]], protocols="http/1.1 acme-tls/1")
    ae.start()
    ae.issue(IP6)
    assert setups(ae, IP6) == ["challenge-setup:%s:%s" % (challenge, IP6)]
    assert sans(live_cert(ae, IP6)) == ([IP6], [])
    # curl at [::1] checks the address against the iPAddress SAN
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                        "--max-time", "10", "--cacert", ae.pebble_chain_file(),
                        "https://[::1]:%d/" % ae.env.https_port],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert ae.load_json("domains", IP6, "md.json")["domains"] == [IP6]
    assert not ae.exists("challenges", IP6)


def test_550_ipv6_answers_from_store(env_factory):
    """The answers a CA gets for ::1, straight from challenges/::1/: http-01
    for a bracketed Host (as sent to [::1], and in a longer form over
    IPv4), tls-alpn-01 for the ip6.arpa name as SNI at [::1]; MDRequireHttps
    redirects a bracketed Host to https with the brackets kept."""
    from md_certs import curl, fingerprint, s_client, write_cred
    need_ipv6()
    e = env_factory(ipv6=True)
    e.allow_log(r"AH10045", r"AH10085",
                r"AH10040: Virtual Host localhost:\d+ matches Managed Domain '::1'")
    e.write_config("\n".join([
        "<MDomain ::1>", "  MDMembers manual", "  MDRenewMode manual",
        "  MDRequireHttps temporary", "</MDomain>",
        "<VirtualHost 127.0.0.1:%d [::1]:%d>" % (e.https_port, e.https_port),
        "  ServerAlias ::1", "  Protocols acme-tls/1 http/1.1", "  SSLEngine on",
        "</VirtualHost>",
        "<VirtualHost 127.0.0.1:%d [::1]:%d>" % (e.http_port, e.http_port),
        "  ServerAlias ::1", "</VirtualHost>"]), listen_https=True)
    rc, out = e.start()
    assert rc == 0, out + "\n".join(e.log_lines())
    chall = os.path.join(e.store_dir, "challenges", IP6)
    os.makedirs(chall, exist_ok=True)
    with open(os.path.join(chall, "acme-http-01.txt"), "w") as f:
        f.write("tok6.thumb")
    base = "/.well-known/acme-challenge/"
    # curl sends "Host: [::1]:port" for this url
    status, _, body = curl("http://[::1]:%d%stok6" % (e.http_port, base))
    assert (status, body) == (200, b"tok6.thumb")
    for host in ("[0:0:0:0:0:0:0:1]:%d" % e.http_port, "[::1]"):
        status, _, body = curl("http://127.0.0.1:%d%stok6" % (e.http_port, base),
                               headers=["Host: %s" % host])
        assert (status, body) == (200, b"tok6.thumb"), host
    # another address has no answer there
    status, _, _ = curl("http://127.0.0.1:%d%stok6" % (e.http_port, base),
                        headers=["Host: [::2]:%d" % e.http_port])
    assert status == 404
    # tls-alpn-01: the reverse-DNS name is the SNI, the answer is the address's
    cert = write_cred(chall, ["alpn.mdspec.org"], cert_name="acme-tls-alpn-01-pubcert.pem",
                      key_name="acme-tls-alpn-01-privkey.pem")
    for name in os.listdir(chall):
        os.chmod(os.path.join(chall, name), 0o644)      # the child reads them
    sni = "1." + "0." * 31 + "ip6.arpa"
    got, out = s_client(e.https_port, sni, alpn="acme-tls/1",
                        extra=["-connect", "[::1]:%d" % e.https_port])
    assert got is not None and fingerprint(got) == fingerprint(cert), out
    # MDRequireHttps: the redirect keeps the address in brackets (port 443
    # as for any name)
    status, hdrs, _ = curl("http://[::1]:%d/page?q=1" % e.http_port)
    assert status == 302, hdrs
    assert hdrs["location"] == "https://[::1]/page?q=1"
    status, hdrs, _ = curl("http://127.0.0.1:%d/page" % e.http_port,
                           headers=["Host: [0::1]:%d" % e.http_port])
    assert (status, hdrs.get("location")) == (302, "https://[::1]/page")
