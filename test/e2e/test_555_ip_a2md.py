# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# a2md with IP addresses as names (RFC 8738, issue 15): add, update and
# store add/update keep an address in the normal form the module gives it
# (md_ip.h: IPv6 compressed, lower case, no brackets), refuse what the
# module only warns about (a zone id, a wildcard of an address) with a
# message naming the value, and the commands that look an MD up (list,
# drive, update, store update/remove, doctor) find it by any form of its
# address. a2md doctor against a running server for an MD of 127.0.0.1 and
# ::1: no DNS or CAA checks for an address, the http-01 probe at the
# address with a bracketed Host, the tls-alpn-01 probe with the reverse-DNS
# name as SNI.

import json
import os
import re
import subprocess

import pytest

from md_acme_env import acme_factory  # noqa: F401
from md_env import has_ipv6_loopback
from test_710_a2md import ERR_LINE, a2md, a2md_bin, md_file, store  # noqa: F401

IP = "127.0.0.1"
IP6 = "::1"


def domains_of(store, name):
    with open(md_file(store, name)) as f:
        md = json.load(f)
    return md["name"], md["domains"]


# --- names in their normal form -----------------------------------------------------------

def test_555_add_normalises_addresses(store):
    rc, out, err = a2md("-d", store, "add", "2001:DB8:0::10", "[2001:db8::11]", IP,
                        "www.mdspec.org", "2001:db8:0:0:0:0:0:10")
    assert rc == 0, err
    want = ["2001:db8::10", "2001:db8::11", IP, "www.mdspec.org"]
    assert out == "md: 2001:db8::10 [%s]\n" % ", ".join(want)
    assert domains_of(store, "2001:db8::10") == ("2001:db8::10", want)
    # an MD of one IPv6 address alone (was "invalid domain name")
    rc, out, err = a2md("-d", store, "add", "[0:0::1]")
    assert rc == 0, err
    assert domains_of(store, IP6) == (IP6, [IP6])
    # the same address in another form is the same name: it exists (as a
    # second "add" of any name fails)
    rc, out, err = a2md("-d", store, "add", "0::1")
    assert rc == 1 and out == ""
    assert sorted(os.listdir(os.path.join(store, "domains"))) == ["2001:db8::10", IP6]


def test_555_store_add_and_update_normalise(store):
    rc, out, err = a2md("-d", store, "store", "add", "2001:DB8::1", "a.mdspec.org")
    assert rc == 0, err
    assert out == "md: 2001:db8::1 [2001:db8::1, a.mdspec.org]\n"
    rc, out, err = a2md("-d", store, "store", "update", "[2001:db8:0::1]", "domains",
                        "2001:DB8::1", "[2001:db8::2]")
    assert rc == 0, err
    assert domains_of(store, "2001:db8::1") == ("2001:db8::1",
                                                ["2001:db8::1", "2001:db8::2"])
    rc, out, err = a2md("-d", store, "store", "remove", "2001:DB8:0:0::1")
    assert rc == 0, err
    assert not os.path.exists(md_file(store, "2001:db8::1"))


@pytest.mark.parametrize("cmd", [["add"], ["store", "add"]])
def test_555_refused_names(store, cmd):
    """What the module only warns about is refused here, the store stays
    as it was."""
    assert a2md("-d", store, "list")[0] == 0
    rc, out, err = a2md("-d", store, *cmd, "fe80::1%eth0", "a.mdspec.org")
    assert rc == 1 and out == ""
    assert re.fullmatch(ERR_LINE + r"add: the address 'fe80::1%eth0' has a zone id, "
                        r"which names an interface of this host and no certificate "
                        r"can: give 'fe80::1'\n", err), err
    rc, out, err = a2md("-d", store, *cmd, "a.mdspec.org", "*.192.0.2.10")
    assert rc == 1 and out == ""
    assert re.fullmatch(ERR_LINE + r"add: '\*\.192\.0\.2\.10' is a wildcard of the "
                        r"address '192\.0\.2\.10', which no CA can validate\n", err), err
    assert not os.path.exists(os.path.join(store, "domains", "fe80::1"))
    assert not os.path.exists(os.path.join(store, "domains", "a.mdspec.org"))


def test_555_update_domains(store):
    assert a2md("-d", store, "add", "192.0.2.10")[0] == 0
    rc, out, err = a2md("-d", store, "update", "192.0.2.10", "domains", "192.0.2.10",
                        "2001:DB8::A")
    assert rc == 0, err
    assert domains_of(store, "192.0.2.10") == ("192.0.2.10", ["192.0.2.10", "2001:db8::a"])
    rc, out, err = a2md("-d", store, "update", "192.0.2.10", "domains", "192.0.2.10",
                        "2001:db8::a%1")
    assert rc == 1 and "update: the address '2001:db8::a%1' has a zone id" in err, err
    assert domains_of(store, "192.0.2.10")[1] == ["192.0.2.10", "2001:db8::a"]


def test_555_lookups_by_any_form(store):
    assert a2md("-d", store, "add", "2001:db8::10", "www.mdspec.org")[0] == 0
    for form in ("2001:DB8::10", "[2001:db8:0::10]", "2001:db8:0:0:0:0:0:10"):
        rc, out, err = a2md("-d", store, "list", form)
        assert rc == 0, (form, err)
        assert out.startswith("md: 2001:db8::10 [2001:db8::10, www.mdspec.org]"), out
        rc, out, err = a2md("-d", store, "update", form, "contacts", "a@mdspec.org")
        assert rc == 0, (form, err)
        # drive finds it (and then fails for want of a CA, not of the MD)
        rc, out, err = a2md("-d", store, "drive", form)
        assert "not found" not in err, (form, err)
        # renew and revoke find it (and then want a CA)
        rc, out, err = a2md("-d", store, "renew", form)
        assert rc == 1 and "No CA url is configured for 2001:db8::10" in err, (form, err)
        rc, out, err = a2md("-d", store, "revoke", form)
        assert rc == 1 and "2001:db8::10: no CA known for it" in err, (form, err)
    rc, out, err = a2md("-d", store, "list", "2001:db8::11")
    assert rc == 1 and err == "managed domain not found: 2001:db8::11\n"
    rc, out, err = a2md("-d", store, "renew", "[2001:db8::11]")
    assert rc == 1 and "renew: no managed domain '[2001:db8::11]'" in err, err


# --- doctor against a running server -------------------------------------------------------

def doctor(ae, *names, server=None):
    argv = ["-j", "-C", ae.ca_file, "-d", ae.store, "doctor",
            "--http-port", str(ae.env.http_port), "--https-port", str(ae.env.https_port)]
    if server:
        argv += ["--server", server]
    r = subprocess.run([a2md_bin()] + argv + list(names), capture_output=True, text=True,
                       timeout=120)
    checks = {(c["id"], c.get("subject")): c for c in json.loads(r.stdout)["output"]}
    return r.returncode, checks, r


def test_555_doctor_addresses(acme_factory):
    """An MD of 127.0.0.1 and ::1 (httpd at both): the name and CAA checks
    are skipped for an address, the probes reach the server at the address
    itself, as a CA does, and pass."""
    if not has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1 cannot be bound)")
    ae = acme_factory(ipv6=True)
    ae.write(["<MDomain %s %s>" % (IP, IP6), "  MDCAChallenges http-01 tls-alpn-01",
              "</MDomain>"], vhosts=[[IP, IP6]], protocols="http/1.1 acme-tls/1")
    ae.start()
    ae.issue(IP)
    rc, checks, r = doctor(ae)
    assert rc == 0, r.stdout + r.stderr
    assert r.stderr == ""
    for addr in (IP, IP6):
        for check in ("dns.name", "dns.caa"):
            c = checks[(check, addr)]
            assert c["verdict"] == "skipped" and c["detail"].startswith(
                "an IP address: "), c
        assert checks[("dns.name", addr)]["detail"].endswith(
            "; an address of this host")
        c = checks[("challenge.http-01", addr)]
        host = "[%s]" % addr if ":" in addr else addr
        assert c["verdict"] == "ok", c
        assert c["detail"] == ("http://%s:%d/.well-known/acme-challenge/ answers from "
                               "the store (asked at %s)" % (host, ae.env.http_port, addr))
        c = checks[("challenge.tls-alpn-01", addr)]
        assert c["verdict"] == "ok", c
    sni6 = "1." + "0." * 31 + "ip6.arpa"
    assert checks[("challenge.tls-alpn-01", IP6)]["detail"].endswith(
        "for the SNI %s" % sni6)
    assert checks[("challenge.tls-alpn-01", IP)]["detail"].endswith(
        "for the SNI 1.0.0.127.in-addr.arpa")
    assert not [k for k, c in checks.items() if c["verdict"] == "fail"], r.stdout
    assert not ae.exists("challenges", IP) and not ae.exists("challenges", IP6)
    # the MD by another form of its address
    rc, checks, r = doctor(ae, "[0::1]")
    assert rc == 0 and ("challenge.http-01", IP6) in checks, r.stdout + r.stderr

    # an address not of this host, probed through --server (the server
    # answers challenges/<address>/ for any host)
    other = "192.0.2.10"
    assert a2md("-d", ae.store, "add", other)[0] == 0
    rc, checks, r = doctor(ae, other, server=IP)
    assert rc == 0, r.stdout + r.stderr
    c = checks[("dns.name", other)]
    assert c["verdict"] == "skipped" and "not an address of this host" in c["detail"], c
    assert checks[("challenge.http-01", other)]["verdict"] == "ok", r.stdout
    c = checks[("challenge.tls-alpn-01", other)]
    assert c["verdict"] == "ok" and c["detail"].endswith(
        "for the SNI 10.2.0.192.in-addr.arpa"), c
    assert not ae.exists("challenges", other)
