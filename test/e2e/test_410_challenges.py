# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Each ACME challenge type against pebble's real validation: http-01,
# tls-alpn-01 (acme-tls/1 in Protocols), dns-01 through an MDChallengeDns01
# script driving challtestsrv (argument lists of versions 1 and 2), a
# wildcard via dns-01, RSA + ECDSA certificates served to matching clients,
# and External Account Binding (kid + hmac, and the JSON file form).

import json
import os

import pytest
import requests

from md_acme_env import (acme_factory, chain_file, key_file, pem_kind,  # noqa: F401
                         wait_until)

EAB_KID = "kid-1"
EAB_HMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"


def setups(ae, name):
    return [r for r in ae.reasons(name) if r.startswith("challenge-setup:")]


def issued_ok(ae, name, hosts=None, specs=("rsa",)):
    ae.issue(name, specs=specs)
    for host in hosts or [name]:
        rc, out = ae.verify_https(host)
        assert rc == 0, "%s: %s" % (host, out)


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_410_http01(acme_factory, reference):
    name = "http.mdspec.org"
    ae = acme_factory(reference=reference)
    ae.write(["<MDomain %s www.%s>" % (name, name), "  MDCAChallenges http-01",
              "</MDomain>"], vhosts=[[name, "www." + name]])
    ae.start()
    issued_ok(ae, name, [name, "www." + name])
    assert sorted(setups(ae, name)) == ["challenge-setup:http-01:%s" % name,
                                        "challenge-setup:http-01:www.%s" % name]
    # challenge data is gone once the order is done
    assert not ae.exists("challenges", name, "acme-http-01.txt")


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_410_tls_alpn01(acme_factory, reference):
    name = "alpn.mdspec.org"
    ae = acme_factory(reference=reference)
    ae.write(["<MDomain %s>" % name, "  MDCAChallenges tls-alpn-01", "</MDomain>"],
             vhosts=[[name]], protocols="h2 http/1.1 acme-tls/1")
    ae.start()
    issued_ok(ae, name)
    assert setups(ae, name) == ["challenge-setup:tls-alpn-01:%s" % name]
    md = ae.load_json("domains", name, "md.json")
    assert md["proto"]["acme-tls/1"] == [name]


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_410_reachability_choice(acme_factory, reference):
    """No MDCAChallenges: with acme-tls/1 in Protocols and both ports
    reachable, the types come from reachability."""
    name = "reach.mdspec.org"
    ae = acme_factory(reference=reference)
    ae.write(["MDomain %s" % name], vhosts=[[name]], protocols="h2 http/1.1 acme-tls/1")
    ae.start()
    issued_ok(ae, name)
    assert setups(ae, name) == ["challenge-setup:tls-alpn-01:%s" % name]


NOT_SUITABLE = "None of the ACME challenge methods configured for this domain are suitable."
NO_HTTP = (" The http: challenge 'http-01' is disabled because the server seems not "
           "reachable on public port 80.")
NO_HTTPS = (" The https: challenge 'tls-alpn-01' is disabled because the server seems "
            "not reachable on public port 443.")
NO_PROTO = (" The https: challenge 'tls-alpn-01' is disabled because the Protocols "
            "configuration does not include the 'acme-tls/1' protocol.")
NO_DNS = (" The DNS challenge 'dns-01' is disabled because the directive "
          "'MDChallengeDns01' is not configured.")


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
@pytest.mark.parametrize("case", ["no-ports", "no-80-no-proto"])
def test_410_no_usable_challenge(acme_factory, reference, case):
    """No MDCAChallenges and no usable type (MDPortMap to ports the server does
    not listen on, no acme-tls/1, no dns-01): every renewal fails at once as an
    error, AH10056 with the reasons (as the reference)."""
    name = "nochal.mdspec.org"
    ae = acme_factory(reference=reference)
    # ports the server does not listen on (1, 2): not reachable
    https = 2 if case == "no-ports" else ae.env.https_port
    ae.write(["MDomain %s" % name], vhosts=[[name]],
             global_extra="MDPortMap http:1 https:%d" % https)
    detail = NOT_SUITABLE + NO_HTTP + (NO_HTTPS if case == "no-ports" else NO_PROTO) \
        + NO_DNS
    ae.env.allow_log(r"AH10173", r"AH10056", r"md\[%s\]: None of the ACME" % name)
    ae.start()
    job = ae.wait_job(name, lambda j: j.get("errors", 0) >= 2, 30, what="errors")
    assert job["last"]["status"] == 20014
    assert job["last"]["detail"] == detail
    assert "problem" not in job["last"]
    assert ae.md_status(name)["renewal"]["errors"] >= 2
    assert any("AH10056: processing %s: %s" % (name, detail) in l and "[md:error]" in l
               for l in ae.env.log_lines())
    assert setups(ae, name) == []
    assert not ae.exists("staging", name, "pubcert.pem")


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_410_tls_alpn01_other_name(acme_factory, reference):
    """tls-alpn-01 only (port 80 mapped away): www has no vhost of its own,
    the connection lands on the default vhost, which answers from
    challenges/www.../ because another name of the MD has acme-tls/1."""
    name = "alpn.mdspec.org"
    ae = acme_factory(reference=reference)
    ae.write(["MDomain %s www.%s" % (name, name)], vhosts=[[name]],
             protocols="h2 http/1.1 acme-tls/1",
             global_extra="MDPortMap http:1 https:%d" % ae.env.https_port)
    ae.start()
    ae.issue(name)
    assert sorted(setups(ae, name)) == ["challenge-setup:tls-alpn-01:%s" % name,
                                        "challenge-setup:tls-alpn-01:www.%s" % name]


@pytest.mark.parametrize("version", [1, 2])
def test_410_dns01_versions(acme_factory, version):
    name = "dns%d.mdspec.org" % version
    ae = acme_factory()
    dns = ae.dns_script()
    ae.write(["MDChallengeDns01 %s" % dns, "MDChallengeDns01Version %d" % version,
              "<MDomain %s>" % name, "  MDCAChallenges dns-01", "</MDomain>"],
             vhosts=[[name]])
    ae.start()
    ae.wait_staged(name)
    calls = [r["argv"][1:] for r in ae.read_argv_log(ae.dns_log)]
    assert calls[0][:2] == ["setup", name] and len(calls[0]) == 3
    token = calls[0][2]
    assert len(token) == 43 and "=" not in token
    wait_until(lambda: any(c[0] == "teardown" for c in
                           [r["argv"][1:] for r in ae.read_argv_log(ae.dns_log)]), 20,
               what="dns-01 teardown")
    calls = [r["argv"][1:] for r in ae.read_argv_log(ae.dns_log)]
    teardown = [c for c in calls if c[0] == "teardown"]
    expected = ["teardown", name] + ([token] if version == 2 else [])
    assert teardown == [expected]
    assert setups(ae, name) == ["challenge-setup:dns-01:%s" % name]
    ae.graceful()
    ae.wait_active(name)
    rc, out = ae.verify_https(name)
    assert rc == 0, out


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_410_wildcard_dns01(acme_factory, reference):
    name = "wild.mdspec.org"
    ae = acme_factory(reference=reference)
    dns = ae.dns_script()
    ae.write(["MDChallengeDns01 %s" % dns, "MDChallengeDns01Version 2",
              "<MDomain %s *.%s>" % (name, name), "  MDCAChallenges dns-01",
              "</MDomain>"], vhosts=[[name, "*." + name]])
    ae.start()
    issued_ok(ae, name, [name, "foo." + name])
    assert setups(ae, name) == ["challenge-setup:dns-01:%s" % name] * 2
    calls = [r["argv"][1:] for r in ae.read_argv_log(ae.dns_log)]
    tokens = [c[2] for c in calls if c[0] == "setup"]
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    assert sorted(c[2] for c in calls if c[0] == "teardown") == sorted(tokens)


def test_410_dual_certificates(acme_factory):
    name = "dual.mdspec.org"
    ae = acme_factory(pebble_env={"PEBBLE_VA_ALWAYS_VALID": "1"})
    ae.write(["<MDomain %s>" % name, "  MDPrivateKeys secp256r1 rsa2048", "</MDomain>"],
             vhosts=[[name]])
    ae.start()
    specs = ("secp256r1", "rsa")
    ae.issue(name, specs=specs)
    for spec in specs:
        assert ae.exists("domains", name, key_file(spec))
        assert pem_kind(ae.path("domains", name, key_file(spec))) == "PLAIN"
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    ec_cert = ae.server_cert(name, extra=["-sigalgs", "ecdsa_secp256r1_sha256"])
    rsa_cert = ae.server_cert(name, extra=["-sigalgs",
                                           "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"])
    assert isinstance(ec_cert.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(rsa_cert.public_key(), rsa.RSAPublicKey)
    assert rsa_cert.public_key().key_size == 2048
    status = ae.md_status(name)
    assert set(status["cert"].keys()) == {"secp256r1", "rsa", "valid"}
    for spec, cert in (("secp256r1", ec_cert), ("rsa", rsa_cert)):
        with open(ae.path("domains", name, chain_file(spec)), "rb") as f:
            from cryptography import x509
            assert x509.load_pem_x509_certificate(f.read()) == cert


@pytest.mark.parametrize("form", ["args", "file"])
def test_410_eab(acme_factory, form):
    name = "eab-%s.mdspec.org" % form
    ae = acme_factory(pebble_env={"PEBBLE_VA_ALWAYS_VALID": "1"},
                 eab_keys={EAB_KID: EAB_HMAC})
    if form == "args":
        eab = "MDExternalAccountBinding %s %s" % (EAB_KID, EAB_HMAC)
    else:
        path = ae.env.write_file("conf/eab.json",
                                 json.dumps({"kid": EAB_KID, "hmac": EAB_HMAC}))
        eab = "MDExternalAccountBinding %s" % path
    ae.write(["<MDomain %s>" % name, "  " + eab, "</MDomain>"], vhosts=[[name]])
    ae.start()
    ae.wait_staged(name)
    acct = ae.load_json("staging", name, "account.json")
    assert acct["eab"] == {"kid": EAB_KID, "hmac": EAB_HMAC}
    md = ae.load_json("staging", name, "md.json")
    assert md["eab"] == {"kid": EAB_KID, "hmac": EAB_HMAC}
    assert ae.md_status(name)["eab"]["hmac"] == "***"
    ae.graceful()
    ae.wait_active(name)
    rc, out = ae.verify_https(name)
    assert rc == 0, out


def _files_holding(root, secret):
    """{relative path: (mode, group name)} of the store files containing secret."""
    import grp
    found = {}
    for d, _, files in os.walk(root):
        for fn in files:
            path = os.path.join(d, fn)
            with open(path, "rb") as f:
                if secret.encode() in f.read():
                    st = os.stat(path)
                    found[os.path.relpath(path, root)] = (
                        st.st_mode & 0o777, grp.getgrgid(st.st_gid).gr_name)
    return found


def test_410_eab_secrets_not_world_readable(acme_factory):
    """The hmac and a proxy password are in no file other users can read;
    the child still reads the account (a second MD reuses it) and md-status
    shows neither."""
    name, name2 = "eab-modes.mdspec.org", "eab-modes2.mdspec.org"
    proxied = "proxied.mdspec.org"
    ae = acme_factory(pebble_env={"PEBBLE_VA_ALWAYS_VALID": "1"},
                      eab_keys={EAB_KID: EAB_HMAC})
    eab = "  MDExternalAccountBinding %s %s" % (EAB_KID, EAB_HMAC)
    proxy = ["<MDomain %s>" % proxied, "  MDRenewMode manual",
             "  MDHttpProxy http://puser:pr0xyPW@127.0.0.1:9/", "</MDomain>"]
    status = "<Location /server-status>\n  SetHandler server-status\n</Location>"
    ae.write(["<MDomain %s>" % name, eab, "</MDomain>"] + proxy, vhosts=[[name], [proxied]],
             global_extra=status)
    ae.start()
    ae.wait_staged(name)
    staged = _files_holding(ae.store, EAB_HMAC)
    assert set(staged) >= {"staging/%s/md.json" % name, "staging/%s/account.json" % name}
    for f in ("md.json", "account.json"):
        assert staged["staging/%s/%s" % (name, f)] == (0o640, "www-data"), staged
    assert all(not (m & 0o004) for m, _ in staged.values()), staged
    ae.graceful()
    ae.wait_active(name)
    active = _files_holding(ae.store, EAB_HMAC)
    accts = [f for f in active if f.startswith("accounts/")]
    assert len(accts) == 1, active
    assert active[accts[0]] == (0o640, "www-data")
    assert all(not (m & 0o004) for m, _ in active.values()), active
    assert all(not (m & 0o004) for m, _ in _files_holding(ae.store, "pr0xyPW").values())
    # a second MD with the same binding: the child finds the account
    ae.write(["<MDomain %s>" % name, eab, "</MDomain>", "<MDomain %s>" % name2, eab,
              "</MDomain>"] + proxy, vhosts=[[name], [name2], [proxied]],
             global_extra=status)
    ae.graceful()
    ae.wait_staged(name2)
    assert len(os.listdir(ae.path("accounts"))) == 1
    assert _files_holding(ae.store, EAB_HMAC)[accts[0]] == (0o640, "www-data")
    status = requests.get("http://127.0.0.1:%d/md-status" % ae.env.http_port).text
    assert "pr0xyPW" not in status and EAB_HMAC not in status
    assert ae.md_status(proxied)["proxy-url"] == "http://puser:***@127.0.0.1:9/"
    text = requests.get("http://127.0.0.1:%d/server-status?auto" % ae.env.http_port).text
    assert "pr0xyPW" not in text


def test_410_eab_missing_is_refused(acme_factory):
    """pebble in EAB mode refuses an account without binding: errors, no cert."""
    name = "noeab.mdspec.org"
    ae = acme_factory(pebble_env={"PEBBLE_VA_ALWAYS_VALID": "1"},
                 eab_keys={EAB_KID: EAB_HMAC})
    ae.write(["MDomain %s" % name], vhosts=[[name]])
    ae.env.allow_log(r"externalAccountRequired", r"md\[noeab.mdspec.org\]", r"AH10056")
    ae.start()
    job = ae.wait_job(name, lambda j: j.get("errors", 0) > 0, 30, what="failed run")
    assert job["last"].get("problem") == "urn:ietf:params:acme:error:externalAccountRequired"
    assert not ae.exists("staging", name, "pubcert.pem")


def _dual_facts(acme_factory, reference):
    from test_400_drive import key_paths
    name = "dual.mdspec.org"
    ae = acme_factory(reference=reference, pebble_env={"PEBBLE_VA_ALWAYS_VALID": "1"})
    ae.write(["<MDomain %s>" % name, "  MDPrivateKeys secp256r1 rsa2048", "</MDomain>"],
             vhosts=[[name]])
    ae.start()
    specs = ("secp256r1", "rsa")
    ae.wait_staged(name, specs=specs)
    ae.wait_renewed_message(name)
    # the job is saved once the `renewed` command has returned (both modules)
    wait_until(lambda: (ae.job(name) or {}).get("notified-renewed") is True, 20,
               what="job.json after the renewed event")
    facts = {"staging": sorted(os.listdir(ae.path("staging", name))),
             "staged-md": ae.load_json("staging", name, "md.json")["privkey"],
             "status": key_paths(ae.md_status(name))}
    ae.graceful()
    ae.wait_active(name, specs=specs)
    facts["domains"] = sorted(os.listdir(ae.path("domains", name)))
    facts["status-active"] = key_paths(ae.md_status(name))
    facts["cert-status"] = key_paths(requests.get(
        "http://127.0.0.1:%d/.httpd/certificate-status" % ae.env.http_port,
        headers={"Host": name}, timeout=10).json())
    return facts


def test_410_dual_differential(acme_factory):
    ours = _dual_facts(acme_factory, False)
    ref = _dual_facts(acme_factory, True)
    diffs = ["%s: ours %s, reference %s" % (k, ours[k], ref[k])
             for k in ref if ours[k] != ref[k]]
    assert not diffs, "\n".join(diffs)


# --- answers from the store alone (issue 12, items 13 and 15) -----------------------------

STORE_HOST = "store-only.mdspec.org"


def _store_only_env(env_factory, reference, body=""):
    """A server without MDomain (unless body has one): an http vhost and an
    https vhost with acme-tls/1 and a certificate of its own."""
    from md_certs import write_cred
    e = env_factory(reference=reference)
    e.allow_log(r"AH10045", r"AH10085")
    ssl_dir = os.path.join(e.root, "ssl")
    write_cred(ssl_dir, ["vhost.mdspec.org"], cert_name="c.pem", key_name="k.pem")
    e.write_config(
        "%s\n<VirtualHost 127.0.0.1:%d>\n  ServerName vhost.mdspec.org\n"
        "  ServerAlias *.mdspec.org\n  Protocols acme-tls/1 http/1.1\n"
        "  SSLEngine on\n  SSLCertificateFile %s/c.pem\n"
        "  SSLCertificateKeyFile %s/k.pem\n</VirtualHost>\n"
        % (body, e.https_port, ssl_dir, ssl_dir), listen_https=True)
    rc, out = e.start()
    assert rc == 0, out + "\n".join(e.log_lines())
    return e


def _http01_answers(e):
    from md_certs import curl
    chall = os.path.join(e.store_dir, "challenges", STORE_HOST)
    os.makedirs(chall, exist_ok=True)
    with open(os.path.join(chall, "acme-http-01.txt"), "w") as f:
        f.write("tok123.thumb")
    url = "http://127.0.0.1:%d/.well-known/acme-challenge/" % e.http_port
    res = {}
    for key, u, host, method in [
            ("get", url + "tok123", STORE_HOST, None),
            ("post", url + "tok123", STORE_HOST, "POST"),
            ("put", url + "tok123", STORE_HOST, "PUT"),
            ("other-host", url + "tok123", "other.example.org", None),
            ("bare", url[:-1], STORE_HOST, None),
            ("slash", url, STORE_HOST, None),
            ("deeper", url + "a/b", STORE_HOST, None)]:
        status, _, body = curl(u, method=method, headers=["Host: %s" % host])
        res[key] = (status, body if status == 200 else None)
    return res


@pytest.mark.parametrize("body", ["", "MDRenewMode manual\nMDomain other.mdspec.org"],
                         ids=["no-md", "md"])
def test_410_http01_from_store_differential(env_factory, body):
    """http-01 files in the store are answered for any host, also without
    any MDomain; the same answers as the reference."""
    answers = [_http01_answers(_store_only_env(env_factory, ref, body))
               for ref in (False, True)]
    assert answers[0] == answers[1]
    assert answers[0]["get"] == (200, b"tok123.thumb")
    assert answers[0]["post"][0] == 501
    assert answers[0]["other-host"][0] == 404
    assert answers[0]["bare"][0] == 404
    assert answers[0]["slash"][0] == 404


def _write_alpn_certs(e, host, kinds):
    """Challenge certificates for host of the given kinds ("rsa" writes the
    names without suffix); returns {kind: fingerprint}."""
    from md_certs import fingerprint, write_cred
    chall = os.path.join(e.store_dir, "challenges", host)
    fps = {}
    for kind in kinds:
        suffix = "" if kind == "rsa" else "." + kind
        cert = write_cred(chall, [host], kind=kind,
                          cert_name="acme-tls-alpn-01-pubcert%s.pem" % suffix,
                          key_name="acme-tls-alpn-01-privkey%s.pem" % suffix)
        fps[kind] = fingerprint(cert)
    for name in os.listdir(chall):
        os.chmod(os.path.join(chall, name), 0o644)      # the child reads them
    return fps


def test_410_tls_alpn01_from_store_differential(env_factory):
    """A tls-alpn-01 certificate in the store is served on acme-tls/1 with
    SNI of its host, also without any MDomain, as by the reference."""
    from md_certs import fingerprint, s_client
    served = []
    for ref in (False, True):
        e = _store_only_env(env_factory, ref)
        fps = _write_alpn_certs(e, STORE_HOST, ["rsa"])
        cert, out = s_client(e.https_port, STORE_HOST, alpn="acme-tls/1")
        assert cert is not None, out
        served.append(fingerprint(cert) == fps["rsa"])
    assert served == [True, True]


def test_410_tls_alpn01_from_store_ec_only(env_factory):
    """Without an MDomain for the host, the challenge files of other key
    types are found by listing the host's challenges in the store (sorted
    names): an EC-only challenge certificate is served."""
    from md_certs import fingerprint, s_client
    e = _store_only_env(env_factory, False)
    fps = _write_alpn_certs(e, STORE_HOST, ["secp384r1", "secp256r1"])
    cert, out = s_client(e.https_port, STORE_HOST, alpn="acme-tls/1",
                         sigalgs=EC_SIGALGS)
    assert cert is not None, out
    assert fingerprint(cert) == fps["secp256r1"]


ALPN_ORDER_MDS = [("ec-a.mdspec.org", "secp256r1 secp384r1"),
                  ("ec-b.mdspec.org", "secp384r1 secp256r1"),
                  ("mixed.mdspec.org", "secp384r1 rsa2048")]
EC_SIGALGS = "ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384"
RSA_SIGALGS = "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"


def _alpn_order_served(env_factory, reference):
    """{md: served challenge kind} for MDs with several key types and the
    same challenge files: two with opposite EC orders (directory order can
    satisfy at most one), one with RSA and EC files."""
    from md_certs import fingerprint, s_client
    e = env_factory(reference=reference)
    e.allow_log(r"AH10085", r"AH10045")
    body = ["MDRenewMode manual"]
    for name, keys in ALPN_ORDER_MDS:
        body += ["<MDomain %s>" % name, "  MDPrivateKeys %s" % keys, "</MDomain>",
                 "<VirtualHost 127.0.0.1:%d>" % e.https_port, "  ServerName %s" % name,
                 "  Protocols acme-tls/1 http/1.1", "  SSLEngine on", "</VirtualHost>"]
    e.write_config("\n".join(body), listen_https=True)
    rc, out = e.start()
    assert rc == 0, out + "\n".join(e.log_lines())
    served = {}
    for name, keys in ALPN_ORDER_MDS:
        kinds = ["secp256r1", "secp384r1"] + (["rsa"] if "rsa" in keys else [])
        fps = _write_alpn_certs(e, name, kinds)
        by_fp = {fp: kind for kind, fp in fps.items()}
        sigalgs = RSA_SIGALGS if "rsa" in keys else EC_SIGALGS
        cert, out = s_client(e.https_port, name, alpn="acme-tls/1", sigalgs=sigalgs)
        assert cert is not None, out
        served[name] = by_fp.get(fingerprint(cert), "other")
    return served


def test_410_tls_alpn01_key_order(env_factory):
    """tls-alpn-01 with several key types: the RSA challenge certificate
    first (not the vhost's fallback in the RSA slot), then the MD's order.
    The reference agrees on the RSA case; for MDs with EC keys only it
    served no challenge certificate here (ours: the MD's first type)."""
    assert _alpn_order_served(env_factory, False) == {
        "ec-a.mdspec.org": "secp256r1", "ec-b.mdspec.org": "secp384r1",
        "mixed.mdspec.org": "rsa"}
    assert _alpn_order_served(env_factory, True)["mixed.mdspec.org"] == "rsa"
