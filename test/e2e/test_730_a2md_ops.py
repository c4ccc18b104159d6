# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# a2md for an operator's bad day (issue 16, 1-3): renew (in the store when
# no server runs, by a request to the watchdog of a running one, a dry run
# in a temporary store), revoke (account key or the certificate's key, then
# a forced renewal) and account list/rollover/deactivate/import, each
# against pebble; bad input fails with a clear message and leaves the store
# as it was.

import base64
import glob
import hashlib
import json
import os
import re
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from md_acme_env import acme_factory, chain_file, wait_until  # noqa: F401
from test_710_a2md import a2md, store  # noqa: F401

NAME = "ops.mdspec.org"
ERR = r"\[[^ \]]+:\d+ err\]\[\d+\([^)]*\)\] "


def snapshot(store_dir):
    """Every file and directory below the store (but challenges/, which
    renewals use and clean up) with a digest of its content."""
    snap = {}
    for root, dirs, files in os.walk(store_dir):
        rel = os.path.relpath(root, store_dir)
        if rel.split(os.sep)[0] == "challenges":
            continue
        snap[rel + "/"] = None
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                snap[os.path.join(rel, f)] = hashlib.sha256(fh.read()).hexdigest()
    return snap


def leaf(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def hexser(cert):
    """The serial as a2md prints it (BN_bn2hex: upper case, even length)."""
    s = "%X" % cert.serial_number
    return "0" + s if len(s) % 2 else s


def cert_status(peb, serial):
    """pebble's view of a certificate: 'Valid' or 'Revoked'."""
    r = requests.get("https://localhost:%d/cert-status-by-serial/%x" % (peb.mgmt_port,
                                                                        serial),
                     verify=peb.ca_file, timeout=5)
    r.raise_for_status()
    return r.json()["Status"]


def plain_account_key(store_dir, acct):
    """The account key of a store as unencrypted PEM (the store key from
    md_store.json is the passphrase)."""
    with open(os.path.join(store_dir, "md_store.json")) as f:
        key64 = json.load(f)["key"]
    password = base64.urlsafe_b64decode(key64 + "=" * (-len(key64) % 4))
    with open(os.path.join(store_dir, "accounts", acct, "account.pem"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=password)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def key_kind(store_dir, acct):
    with open(os.path.join(store_dir, "md_store.json")) as f:
        key64 = json.load(f)["key"]
    password = base64.urlsafe_b64decode(key64 + "=" * (-len(key64) % 4))
    with open(os.path.join(store_dir, "accounts", acct, "account.pem"), "rb") as f:
        text = f.read()
    assert b"ENCRYPTED" in text
    key = serialization.load_pem_private_key(text, password=password)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "EC-" + key.curve.name
    return "RSA-%d" % key.key_size


# --- usage and bad input ---------------------------------------------------------------

def test_730_help_lists_the_commands():
    rc, out, err = a2md("-h")
    assert rc == 2
    assert ("  \trenew [--force] [--dry-run [--ca url]] md [md...]\n"
            "  \t\trenew now: in the store, or by a request to the running server\n"
            "  \trevoke [--reason reason] [--cert-key] [--no-renew] md\n") in err
    assert "  \taccount cmd [opts] [args]\n" in err
    rc, out, err = a2md("account")
    assert rc == 1 and "sub command is missing" in err
    for sub in ("list", "rollover [--key-type type] account", "deactivate account",
                "import --url account-url keyfile"):
        assert "  \t%s\n" % sub in err


def test_730_bad_input_changes_nothing(store, tmp_path):
    assert a2md("-d", store, "-a", "https://localhost:1/dir", "add", NAME)[0] == 0
    before = snapshot(store)
    junk = tmp_path / "junk.pem"
    junk.write_text("no key here\n")
    cfile = tmp_path / "key.pem"
    cfile.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    cases = [
        (["renew"], r"renew needs at least one managed domain name as argument\n"),
        (["renew", "nope.org"],
         ERR + r"renew: no managed domain 'nope.org' in the store .*\n"),
        (["renew", NAME, "nope.org"], ERR + r"renew: no managed domain 'nope.org'"),
        (["renew", "--ca", "https://localhost:1/dir", NAME],
         r"--ca is for --dry-run only"),
        (["revoke", "nope.org"], ERR + r"revoke: no managed domain 'nope.org'"),
        (["revoke", NAME], ERR + r"%s: no account in its md.json, --cert-key" % NAME),
        (["revoke", "--cert-key", NAME],
         ERR + r"%s: no certificate in \S+/domains/%s to revoke" % (NAME, NAME)),
        (["revoke", "--reason", "lost", NAME], r"revoke: unknown reason 'lost'"),
        (["revoke", NAME, NAME], r"revoke needs one managed domain name as argument"),
        (["account", "rollover", "ACME-nope-0000"],
         ERR + r"ACME-nope-0000: no such account in the store\n"),
        (["account", "rollover", "--key-type", "dsa", "ACME-nope-0000"],
         r"account rollover: unknown --key-type 'dsa'"),
        (["account", "deactivate", "ACME-nope-0000"],
         ERR + r"ACME-nope-0000: no such account in the store\n"),
        (["account", "deactivate"], r"deactivate needs one account id as argument"),
        (["-a", "https://localhost:1/dir", "account", "import", str(junk)],
         r"import needs --url <account url> and the key file \(PEM\)"),
        (["account", "import", "--url", "https://localhost:1/acct/1", str(junk)],
         ERR + r"account import: no usable unencrypted account key"),
        (["account", "import", "--url", "https://localhost:1/acct/1", str(cfile)],
         ERR + r"account import: the url of the account's CA directory is needed \(-a\)"),
    ]
    for args, msg in cases:
        rc, out, err = a2md("-d", store, *args)
        assert rc == 1, (args, out, err)
        assert re.search(msg, err), (args, err)
        assert snapshot(store) == before, args
    rc, out, err = a2md("-d", store, "account", "list")
    assert rc == 0 and out == "" and err == ""


def test_730_import_bad_key_and_url(store, pebble_factory, tmp_path):
    peb = pebble_factory()
    ca = ["-a", peb.url, "-C", peb.ca_file, "-d", store]
    assert a2md("-d", store, "list")[0] == 0
    before = snapshot(store)
    junk = tmp_path / "junk.pem"
    junk.write_text("no key here\n")
    rc, out, err = a2md(*ca, "account", "import", "--url", peb.url + "/acct/1", str(junk))
    assert rc == 1 and re.search(ERR + r"account import: no usable unencrypted account "
                                 r"key \(RSA or EC, PEM\) in %s" % junk, err), err
    rc, out, err = a2md(*ca, "account", "import", "--url", "acct/1", str(junk))
    assert rc == 1 and "account url 'acct/1' is not an absolute http(s) url" in err
    # a key the CA does not know at that url
    key = ec.generate_private_key(ec.SECP256R1())
    kfile = tmp_path / "other.pem"
    kfile.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    url = peb.url.replace("/dir", "/my-account/1")
    rc, out, err = a2md(*ca, "account", "import", "--url", url, str(kfile))
    assert rc == 1 and "account import: the CA at %s does not accept %s" % (
        peb.url, url) in err, err
    assert snapshot(store) == before


# --- accounts ---------------------------------------------------------------------------

def register(peb, store_dir):
    ca = ["-a", peb.url, "-C", peb.ca_file, "-d", store_dir]
    rc, out, err = a2md(*ca, "-t", "accepted", "acme", "newreg", "admin@mdspec.org")
    assert rc == 0, err
    return re.fullmatch(r"registered: (ACME-\S+)\n", out).group(1)


def test_730_account_list_rollover_import_deactivate(store, pebble_factory, tmp_path):
    peb = pebble_factory()
    ca = ["-a", peb.url, "-C", peb.ca_file, "-d", store]
    acct = register(peb, store)
    acct_json = json.load(open(os.path.join(store, "accounts", acct, "account.json")))

    second = register(peb, store)
    assert second > acct

    # list: plain (sorted by id) and JSON; the key type of an account as
    # a2md writes it: RSA
    rc, out, err = a2md("-d", store, "account", "list")
    assert rc == 0 and out == "".join("%s %s valid mailto:admin@mdspec.org RSA-3072\n" % (
        a, peb.url) for a in (acct, second)), err
    rc, out, err = a2md("-j", "-d", store, "account", "list")
    assert len(json.loads(out)["output"]) == 2
    entry = json.loads(out)["output"][0]
    assert entry == {"id": acct, "url": acct_json["url"], "ca-url": peb.url,
                     "status": "valid", "contact": ["mailto:admin@mdspec.org"],
                     "key-type": "RSA-3072"}

    # rollover, same type by default; the CA knows the account by the new key only
    old_pem = open(os.path.join(store, "accounts", acct, "account.pem")).read()
    rc, out, err = a2md("-C", peb.ca_file, "-d", store, "account", "rollover", acct)
    assert rc == 0 and out == "%s: account key replaced (RSA-3072 -> RSA-3072)\n" % acct, err
    assert open(os.path.join(store, "accounts", acct, "account.pem")).read() != old_pem
    assert key_kind(store, acct) == "RSA-3072"
    assert sorted(os.listdir(os.path.join(store, "accounts", acct))) == [
        "account.json", "account.pem"]
    assert a2md(*ca, "acme", "validate", acct)[0] == 0
    # RSA -> ECDSA P-256 on request
    rc, out, err = a2md("-C", peb.ca_file, "-d", store, "account", "rollover",
                        "--key-type", "p256", acct)
    assert rc == 0 and out == "%s: account key replaced (RSA-3072 -> prime256v1)\n" % acct
    assert key_kind(store, acct) == "EC-secp256r1"
    rc, out, err = a2md(*ca, "acme", "validate", acct)
    assert rc == 0 and out == "account valid: %s\n" % acct, err

    # import into another store (a cluster's second node): same url, own id
    other = str(tmp_path / "other")
    assert a2md("-d", other, "list")[0] == 0
    kfile = tmp_path / "acct.pem"
    kfile.write_bytes(plain_account_key(store, acct))
    rc, out, err = a2md("-a", peb.url, "-C", peb.ca_file, "-d", other, "account",
                        "import", "--url", acct_json["url"], str(kfile))
    assert rc == 0 and out == "imported: %s\n" % acct, err
    imported = json.load(open(os.path.join(other, "accounts", acct, "account.json")))
    assert imported["url"] == acct_json["url"] and imported["ca-url"] == peb.url
    assert imported["status"] == "valid"
    assert key_kind(other, acct) == "EC-secp256r1"
    rc, out, err = a2md("-a", peb.url, "-C", peb.ca_file, "-d", other, "acme",
                        "validate", acct)
    assert rc == 0, err
    before = snapshot(other)
    rc, out, err = a2md("-a", peb.url, "-C", peb.ca_file, "-d", other, "account",
                        "import", "--url", acct_json["url"], str(kfile))
    assert rc == 1 and "account import: %s is in the store already as %s" % (
        acct_json["url"], acct) in err
    assert snapshot(other) == before

    # deactivate: at the CA and in account.json; after that the CA refuses it
    rc, out, err = a2md("-j", "-C", peb.ca_file, "-d", store, "account", "deactivate",
                        acct)
    assert rc == 0 and json.loads(out)["output"] == [{
        "name": acct, "result": "deactivated",
        "message": "%s: account deactivated" % acct}], err
    assert json.load(open(os.path.join(store, "accounts", acct, "account.json")))[
        "status"] == "deactivated"
    rc, out, err = a2md("-d", store, "account", "list")
    assert out.splitlines()[0] == "%s %s deactivated mailto:admin@mdspec.org prime256v1" % (
        acct, peb.url)
    before = snapshot(store)
    rc, out, err = a2md("-C", peb.ca_file, "-d", store, "account", "deactivate", acct)
    assert rc == 1 and "%s: the CA at %s refused the deactivation" % (acct, peb.url) in err
    rc, out, err = a2md("-C", peb.ca_file, "-d", store, "account", "rollover", acct)
    assert rc == 1 and "%s: the CA at %s refused the key change, the account keeps " \
                       "its key" % (acct, peb.url) in err, err
    assert snapshot(store) == before


# --- renew and revoke with the server stopped ---------------------------------------------

def issued_env(acme_factory, name=NAME, **kw):
    # pebble reuses valid authorizations at random: a renewal must validate
    ae = acme_factory(pebble_env={"PEBBLE_AUTHZREUSE": "0"})
    ae.write(["MDomain %s" % name], vhosts=[[name]], http_vhost=True, **kw)
    ae.start()
    ae.issue(name)
    return ae


def test_730_renew_and_revoke_stopped_server(acme_factory):
    ae = issued_env(acme_factory)
    ae.env.stop()
    store_dir, peb = ae.store, ae.peb
    cert = os.path.join(store_dir, "domains", NAME, chain_file())
    first = leaf(cert)
    dns = ["--dns01-cmd", ae.dns_script()]
    ca = ["-C", ae.ca_file, "-d", store_dir]

    # not due: nothing happens
    before = snapshot(store_dir)
    rc, out, err = a2md(*ca, "renew", NAME)
    assert rc == 0 and out == "%s: not due for renewal (--force renews anyway)\n" % NAME
    rc, out, err = a2md("-j", *ca, "renew", NAME)
    assert rc == 0 and json.loads(out) == {"output": [{
        "name": NAME, "result": "not-due",
        "message": "%s: not due for renewal (--force renews anyway)" % NAME}], "status": 0}
    assert snapshot(store_dir) == before
    # forced, but nobody answers http-01: fails, the certificate stays
    rc, out, err = a2md(*ca, "renew", "--force", "-c", "http-01", NAME)
    assert rc == 1 and out == "", err
    served = {k: v for k, v in before.items() if k.startswith(("domains", "accounts"))}
    assert {k: v for k, v in snapshot(store_dir).items()
            if k.startswith(("domains", "accounts"))} == served
    assert leaf(cert).serial_number == first.serial_number
    assert not os.path.exists(os.path.join(store_dir, "domains", NAME, "renew-request"))
    # the MD's account gets an ECDSA key: the MD keeps using it by its id
    md_json = os.path.join(store_dir, "domains", NAME, "md.json")
    acct = json.load(open(md_json))["ca"]["account"]
    rc, out, err = a2md(*ca, "account", "rollover", "--key-type", "p256", acct)
    assert rc == 0 and out == "%s: account key replaced (RSA-3072 -> prime256v1)\n" % acct
    # forced with dns-01: renewed and activated in the store
    rc, out, err = a2md(*dns, *ca, "renew", "--force", "-c", "dns-01", NAME)
    assert rc == 0, err
    assert out == "%s: renewed and activated in the store (no server running)\n" % NAME
    assert json.load(open(md_json))["ca"]["account"] == acct
    assert os.listdir(os.path.join(store_dir, "accounts")) == [acct]
    second = leaf(cert)
    assert second.serial_number != first.serial_number
    assert cert_status(peb, first.serial_number) == "Valid"

    # revoke with the account key, then a forced renewal
    rc, out, err = a2md(*dns, *ca, "revoke", "--reason", "superseded", "-c", "dns-01",
                        NAME)
    assert rc == 0, err
    assert out == ("%s: certificate %s revoked\n"
                   "%s: renewed and activated in the store (no server running)\n"
                   % (NAME, hexser(second), NAME))
    assert cert_status(peb, second.serial_number) == "Revoked"
    third = leaf(cert)
    assert third.serial_number not in (first.serial_number, second.serial_number)

    # revoke signed by the certificate's own key, no renewal
    before = snapshot(store_dir)
    rc, out, err = a2md(*ca, "revoke", "--cert-key", "--no-renew", NAME)
    assert rc == 0 and out == "%s: certificate %s revoked\n" % (NAME, hexser(third))
    assert cert_status(peb, third.serial_number) == "Revoked"
    assert snapshot(store_dir) == before
    # once more: the CA refuses (already revoked), nothing changes, no renewal
    rc, out, err = a2md(*ca, "revoke", "--cert-key", NAME)
    assert rc == 1 and out == ""
    assert re.search(ERR + r"%s: revoking the certificate %s at %s" % (
        NAME, hexser(third), re.escape(peb.url)), err), err
    assert snapshot(store_dir) == before


# --- a running server -------------------------------------------------------------------

def test_730_renew_revoke_dry_run_running_server(acme_factory, pebble_factory, tmp_path,
                                                 monkeypatch):
    ae = issued_env(acme_factory)
    # from now on, the watchdog runs at (re)starts only
    ae.write(["MDomain %s" % NAME], vhosts=[[NAME]], http_vhost=True, check_interval="1h")
    ae.graceful()
    store_dir = ae.store
    cert = os.path.join(store_dir, "domains", NAME, chain_file())
    first = leaf(cert)
    ca = ["-C", ae.ca_file, "-d", store_dir]
    request = os.path.join(store_dir, "staging", NAME, "renew-request")
    pid = ae.env.read_pid()

    # the parent's lock on md_store.json tells a2md about it: no file of its own
    assert sorted(os.listdir(store_dir)) == ["accounts", "archive", "challenges", "domains",
                                             "md_store.json", "ocsp", "staging", "tmp"]

    # dry run: a whole order at the MD's CA (http-01 answered by the server
    # from the real challenges/), nothing kept, the temporary store removed
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    before = snapshot(store_dir)
    rc, out, err = a2md(*ca, "renew", "--dry-run", NAME)
    assert rc == 0, err
    assert out == ("%s: dry run at %s: the order succeeded, the certificate was "
                   "discarded\n" % (NAME, ae.peb.url))
    assert snapshot(store_dir) == before
    assert os.listdir(str(tmp)) == []
    # at another CA (a "staging" pebble checking http-01 on the same server):
    # an account is registered for it in the temporary store and discarded
    peb2 = pebble_factory(http_port=ae.env.http_port, tls_port=ae.env.https_port)
    rc, out, err = a2md("-C", peb2.ca_file, "-d", store_dir, "renew", "--dry-run",
                        "--ca", peb2.url, NAME)
    assert rc == 0, err
    assert out == ("%s: dry run at %s: the order succeeded, the certificate was "
                   "discarded\n" % (NAME, peb2.url))
    assert snapshot(store_dir) == before
    assert os.listdir(str(tmp)) == []
    # against a CA that is not there: fails, nothing kept either
    rc, out, err = a2md(*ca, "renew", "--dry-run", "--ca", "https://localhost:1/dir", NAME)
    assert rc == 1 and "%s: dry run at https://localhost:1/dir failed" % NAME in err, err
    assert snapshot(store_dir) == before
    assert os.listdir(str(tmp)) == []
    # a failed validation (a dns-01 command that sets no record): the
    # challenges set up for it are torn down, not left for a next run
    dns_log = tmp_path / "dns.log"
    script = tmp_path / "dns01.sh"
    script.write_text("#!/bin/sh\necho \"$@\" >> %s\n" % dns_log)
    script.chmod(0o755)
    rc, out, err = a2md("--dns01-cmd", str(script), *ca, "renew", "--dry-run", "-c",
                        "dns-01", NAME)
    assert rc == 1 and "%s: dry run at %s failed" % (NAME, ae.peb.url) in err, err
    calls = dns_log.read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["setup", "teardown"], calls
    assert snapshot(store_dir) == before
    assert os.listdir(str(tmp)) == []

    # not due: no request
    rc, out, err = a2md(*ca, "renew", NAME)
    assert rc == 0 and "not due" in out and not os.path.exists(request)
    # forced: a request that waits for the watchdog's next run (in 1h); a
    # graceful restart starts a run, which takes it and renews
    rc, out, err = a2md(*ca, "renew", "--force", NAME)
    assert rc == 0, err
    assert out == ("%s: renewal requested from the running server (pid %d), its watchdog "
                   "renews at its next run (a graceful restart runs it now)\n" % (NAME, pid))
    time.sleep(3)
    assert os.path.exists(request)
    ae.graceful()
    wait_until(lambda: not os.path.exists(request), 30, what="request taken")
    ae.wait_staged(NAME)
    assert any("AH10723: %s: renewal requested (a2md renew), renewing now" % NAME in line
               for line in ae.env.log_lines())
    ae.graceful()
    wait_until(lambda: leaf(cert).serial_number != first.serial_number, 30,
               what="new certificate activated")
    second = leaf(cert)

    # revoke on a running server: revoked now, the renewal by request
    rc, out, err = a2md(*ca, "revoke", "--reason", "keyCompromise", "--cert-key", NAME)
    assert rc == 0, err
    assert out == ("%s: certificate %s revoked\n"
                   "%s: renewal requested from the running server (pid %d), its watchdog "
                   "renews at its next run (a graceful restart runs it now)\n"
                   % (NAME, hexser(second), NAME, pid))
    assert cert_status(ae.peb, second.serial_number) == "Revoked"
    # (the run at the start of this generation may have begun with it: a
    # restart cutting it short leaves the request to the next generation)
    ae.graceful()
    wait_until(lambda: not os.path.exists(request), 30, what="request taken")
    ae.wait_staged(NAME)

