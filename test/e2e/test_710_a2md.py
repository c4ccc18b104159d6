# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# The a2md command-line tool (contract.md 6): global options, the usage
# text byte for byte, -V, exit codes, plain and -j output, the store and
# registry commands with their messages, the log line format, and a store
# created by Debian's reference module read and driven by our a2md
# (encrypted account and keys, list, validate, drive --force).

import json
import os
import re
import subprocess

import pytest
from cryptography import x509

from md_acme_env import acme_factory, chain_file  # noqa: F401
from md_env import build_dir, our_module

URL = "https://localhost:44000/dir"
# the order of md.json members as the store commands write them (contract.md 6.3)
STORE_ADD_KEYS = ["name", "domains", "contacts", "transitive", "ca", "state", "renew-mode",
                  "must-staple", "proto", "stapling", "profile-mandatory", "ari-renewals"]


def a2md_bin():
    path = os.path.join(build_dir(), "src", "a2md", "a2md")
    if not os.path.exists(path):
        pytest.skip("a2md not built: %s (set MD_BUILD_DIR)" % path)
    return path


def a2md(*args):
    r = subprocess.run([a2md_bin()] + list(args), capture_output=True, text=True,
                       timeout=120)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture
def store(tmp_path):
    return str(tmp_path / "store")


# contract.md 6.1, captured from the reference a2md (plus our commands at the end)
USAGE = (
    'usage: a2md [options] cmd [cmd options] [args]\n'
    '\tShow and manipulate Apache Managed Domains\n'
    '  with the following options:\n'
    '  -a | --acme    arg\tthe url of the ACME server directory\n'
    '  -C | --cafile    arg\tfile with root certificates (PEM format)\n'
    '  -d | --dir    arg\tdirectory for file data\n'
    '  -h | --help    \tprint usage information\n'
    '  -j | --json    \tproduce json output\n'
    '  -p | --proxy    arg\tuse the HTTP proxy url\n'
    '  -q | --quiet    \tproduce less output\n'
    '  -t | --terms    arg\tyou agree to the terms of services (url)\n'
    '  -v | --verbose    \tproduce more output\n'
    '  -V | --version    \tprint version\n'
    '  using one of the following commands:\n'
    '  \tacme cmd [opts] [args]\n'
    '  \t\tplay with the ACME server\n'
    '  \tadd [opts] domain [domain...]\n'
    '  \t\tAdds a new managed domain. Must not overlap with existing domains.\n'
    "  \tupdate name [ 'aspect' args ]\n"
    "  \t\tupdate a managed domain's properties, where 'aspect' is one of: 'domains', 'ca', 'account', 'contacts' or 'agreement'\n"
    '  \tdrive [md...]\n'
    '  \t\tdrive all or the mentioned managed domains toward completeness\n'
    '  \tlist\n'
    '  \t\tlist all managed domains\n'
    '  \tstore cmd [opts] [args]\n'
    '  \t\tmanipulate the MD store\n'
    # ours only (issue 16): after the original's commands
    '  \trenew [--force] [--dry-run [--ca url]] md [md...]\n'
    '  \t\trenew now: in the store, or by a request to the running server\n'
    '  \trevoke [--reason reason] [--cert-key] [--no-renew] md\n'
    '  \t\trevoke the certificate of a managed domain at its CA, then renew it\n'
    '  \taccount cmd [opts] [args]\n'
    '  \t\tlist and manage the ACME accounts in the store\n'
    '  \tdoctor [--http-port port] [--https-port port] [--server addr] '
    '[--dns-server addr[:port]] [--status url] [md...]\n'
    '  \t\tchecks what makes renewals fail, each with a verdict and a fix\n'
    '  \tdb push|pull driver params key=FILE\n'
    '  \t\tcopy the store into a cluster database (MDStoreDB) or from it\n'
)

USAGE_HEAD = "usage: a2md [options] cmd [cmd options] [args]\n"


# --- global options ----------------------------------------------------------------------

def test_710_help_usage_exact():
    rc, out, err = a2md("-h")
    assert rc == 2 and out == ""
    assert err == USAGE
    assert a2md("--help")[0] == 2


def test_710_version():
    for opt in ("-V", "--version"):
        rc, out, err = a2md(opt)
        assert rc == 0 and err == ""
        assert re.fullmatch(r"version: \d+\.\d+\.\d+(-git)?\n", out)


def test_710_missing_and_unknown_commands(store):
    rc, out, err = a2md()
    assert rc == 1 and err.startswith("sub command is missing\n" + USAGE_HEAD)
    rc, out, err = a2md("nocmd")
    assert rc == 1 and err == "unknown cmd: nocmd\n"
    rc, out, err = a2md("-d", store, "store")
    assert rc == 1 and err.startswith("sub command is missing\nusage: store cmd [opts] [args]")
    rc, out, err = a2md("-d", store, "store", "nocmd")
    assert rc == 1 and err == "unknown cmd: nocmd\n"
    rc, out, err = a2md("-x")
    assert rc == 1 and USAGE_HEAD in err
    for cmd in (["list"], ["store", "list"], ["drive"], ["add", "a.org"]):
        rc, out, err = a2md(*cmd)
        assert rc == 1 and err == "need store directory for command: %s\n" % cmd[-1 if
                                                                                cmd[0] != "add"
                                                                                else 0]


def test_710_log_levels(store):
    # default: status 0 bare, errors with brackets
    a2md("-d", store, "store", "add", "a.mdspec.org")
    rc, out, err = a2md("-d", store, "store", "update", "a.mdspec.org")
    assert rc == 0 and err == "no changes necessary\n"
    rc, out, err = a2md("-v", "-d", store, "store", "update", "a.mdspec.org")
    assert re.search(r"^\[[^ \]]+:\d+ info\]\[ok\] no changes necessary$", err, re.M), err
    rc, out, err = a2md("-q", "-d", store, "store", "update", "a.mdspec.org")
    assert "no changes necessary" not in err
    rc, out, err = a2md("-d", store, "store", "remove", "nonexist.org")
    assert rc == 1
    assert re.fullmatch(r"\[[^ \]]+:\d+ err\]\[2\(No such file or directory\)\] "
                        r"removing md nonexist.org\n", err)


# --- store commands ------------------------------------------------------------------------

def test_710_store_commands(store):
    rc, out, err = a2md("-a", URL, "-d", store, "-j", "store", "add", "a2.mdspec.org",
                        "www.a2.mdspec.org")
    assert rc == 0
    doc = json.loads(out)
    assert out.endswith("}\n") and list(doc.keys()) == ["output", "status"]
    md = doc["output"][0]
    assert list(md.keys()) == STORE_ADD_KEYS
    assert md == {"name": "a2.mdspec.org", "domains": ["a2.mdspec.org", "www.a2.mdspec.org"],
                  "contacts": [], "transitive": -1,
                  "ca": {"proto": "ACME", "urls": [URL]}, "state": 0, "renew-mode": -1,
                  "must-staple": False, "proto": {"acme-tls/1": []}, "stapling": False,
                  "profile-mandatory": False, "ari-renewals": False}
    with open(os.path.join(store, "domains", "a2.mdspec.org", "md.json")) as f:
        assert json.load(f) == md
    # plain output, exclusive create, no -a: no urls
    rc, out, err = a2md("-d", store, "store", "add", "b2.mdspec.org")
    assert rc == 0 and out == "md: b2.mdspec.org [b2.mdspec.org]\n"
    with open(os.path.join(store, "domains", "b2.mdspec.org", "md.json")) as f:
        assert json.load(f)["ca"] == {"proto": "ACME"}
    assert a2md("-d", store, "store", "add", "b2.mdspec.org")[0] == 1
    # list: every MD, plain and JSON
    rc, out, err = a2md("-d", store, "store", "list")
    assert rc == 0 and sorted(out.splitlines()) == [
        "md: a2.mdspec.org [a2.mdspec.org, www.a2.mdspec.org]",
        "md: b2.mdspec.org [b2.mdspec.org]"]
    rc, out, err = a2md("-j", "-d", store, "store", "list")
    assert sorted(m["name"] for m in json.loads(out)["output"]) == ["a2.mdspec.org",
                                                                    "b2.mdspec.org"]
    # update
    rc, out, err = a2md("-d", store, "store", "update", "b2.mdspec.org", "foo")
    assert rc == 1 and err == "unknown update aspect: foo\n"
    rc, out, err = a2md("-d", store, "store", "update", "nonexist.org")
    assert rc == 1 and err == "nonexist.org: not found\n"
    rc, out, err = a2md("-a", URL, "-d", store, "store", "update", "b2.mdspec.org",
                        "domains", "b2.mdspec.org", "www.b2.mdspec.org")
    assert rc == 0 and out == "md: b2.mdspec.org [b2.mdspec.org, www.b2.mdspec.org]\n"
    with open(os.path.join(store, "domains", "b2.mdspec.org", "md.json")) as f:
        assert json.load(f)["ca"]["urls"] == [URL]
    # remove: missing fails, unless forced
    rc, out, err = a2md("-a", URL, "-d", store, "-j", "store", "remove", "nonexist.org")
    assert rc == 1
    assert out == ('{\n  "output": [],\n  "status": 2,\n'
                   '  "description": "No such file or directory"\n}\n')
    assert a2md("-d", store, "store", "remove", "-f", "nonexist.org")[0] == 0
    assert a2md("-d", store, "store", "remove", "--force", "nonexist.org")[0] == 0
    rc, out, err = a2md("-j", "-d", store, "store", "remove", "a2.mdspec.org")
    assert rc == 0 and json.loads(out) == {"output": [], "status": 0}
    assert not os.path.exists(os.path.join(store, "domains", "a2.mdspec.org", "md.json"))


# --- registry commands ---------------------------------------------------------------------

def test_710_registry_commands(store):
    rc, out, err = a2md("-a", URL, "-j", "-d", store, "add", "c.mdspec.org", "www.c.mdspec.org")
    assert rc == 0
    md = json.loads(out)["output"][0]
    assert md["transitive"] == 0 and md["state"] == 1 and md["renew"] is True
    assert md["state-descr"] == "certificate(rsa) is missing"
    # exists: exit 1 without message; overlap; bad names
    rc, out, err = a2md("-d", store, "add", "c.mdspec.org")
    assert rc == 1 and err == ""
    rc, out, err = a2md("-d", store, "add", "d.mdspec.org", "www.c.mdspec.org")
    assert rc == 1
    assert "md d.mdspec.org shares domain 'www.c.mdspec.org' with md c.mdspec.org" in err
    assert a2md("-d", store, "add", "not a name")[0] == 1
    assert a2md("-d", store, "add", "a.mdspec.org", "*.a.mdspec.org")[0] == 0
    # list: sorted, with lookups by domain
    rc, out, err = a2md("-d", store, "list")
    assert out == ("md: a.mdspec.org [a.mdspec.org, *.a.mdspec.org]\n"
                   "md: c.mdspec.org [c.mdspec.org, www.c.mdspec.org]\n")
    rc, out, err = a2md("-d", store, "list", "www.c.mdspec.org")
    assert rc == 0 and out == "md: c.mdspec.org [c.mdspec.org, www.c.mdspec.org]\n"
    rc, out, err = a2md("-d", store, "list", "nope.org")
    assert rc == 1 and err == "managed domain not found: nope.org\n"
    # update aspects
    rc, out, err = a2md("-d", store, "update")
    assert rc == 1 and err.startswith("needs md name\nusage: update name [ 'aspect' args ]")
    rc, out, err = a2md("-d", store, "update", "c.mdspec.org", "contacts")
    assert rc == 1 and err.startswith("update contacts needs at least 1 contact email\n")
    rc, out, err = a2md("-d", store, "update", "c.mdspec.org", "domains")
    assert rc == 1
    assert err.startswith("update domains needs at least 1 domain name as parameter\n")
    rc, out, err = a2md("-d", store, "update", "nope.org", "contacts", "a@b.org")
    assert rc == 1 and err == "nope.org: not found\n"
    for args in (["contacts", "admin@mdspec.org", "mailto:x@mdspec.org"],
                 ["agreement", "accepted"], ["account", "ACME-localhost-0007"],
                 ["ca", "https://ca.mdspec.org/dir", "ACME"],
                 ["domains", "c.mdspec.org", "c2.mdspec.org"]):
        rc, out, err = a2md("-d", store, "update", "c.mdspec.org", *args)
        assert rc == 0, err
    rc, out, err = a2md("-j", "-d", store, "list", "c.mdspec.org")
    md = json.loads(out)["output"][0]
    assert md["contacts"] == ["mailto:admin@mdspec.org", "mailto:x@mdspec.org"]
    assert md["ca"]["agreement"] == "accepted"
    assert md["ca"]["account"] == "ACME-localhost-0007"
    assert md["ca"]["urls"] == ["https://ca.mdspec.org/dir"]
    assert md["domains"] == ["c.mdspec.org", "c2.mdspec.org"]
    assert md["renew"] is True
    rc, out, err = a2md("-d", store, "update", "c.mdspec.org", "agreement", "accepted")
    assert rc == 0 and err == "no changes necessary\n"
    # drive: unknown names
    rc, out, err = a2md("-d", store, "drive", "nope.org")
    assert rc == 1 and err == "nope.org: not found\n"


# --- a store written by the reference module --------------------------------------------------

def test_710_reference_store(acme_factory):
    name = "ref.mdspec.org"
    ae = acme_factory(reference=True)
    ae.write(["MDomain %s www.%s" % (name, name)], vhosts=[[name, "www." + name]])
    ae.start()
    ae.issue(name)
    ae.env.stop()
    store = ae.store
    with open(os.path.join(store, "domains", name, "pubcert.pem"), "rb") as f:
        old = x509.load_pem_x509_certificate(f.read())
    acct = json.loads(open(os.path.join(store, "domains", name, "md.json")).read())["ca"]
    acct = acct["account"]
    assert "ENCRYPTED" in open(os.path.join(store, "accounts", acct, "account.pem")).read()

    # list: plain, JSON (state re-evaluated: complete, no renewal due)
    rc, out, err = a2md("-d", store, "list")
    assert rc == 0 and out == "md: %s [%s, www.%s]\n" % (name, name, name)
    rc, out, err = a2md("-j", "-d", store, "list")
    md = json.loads(out)["output"][0]
    assert md["state"] == 2 and md["renew"] is False and md["ca"]["account"] == acct
    rc, out, err = a2md("-d", store, "store", "list")
    assert rc == 0 and out == "md: %s [%s, www.%s]\n" % (name, name, name)
    # the encrypted account key works against the CA
    ca = ["-a", ae.peb.url, "-C", ae.ca_file, "-d", store]
    rc, out, err = a2md(*ca, "acme", "validate", acct)
    assert rc == 0 and out == "account valid: %s\n" % acct, err
    # not due: complete; forced: a new certificate with the reference's account
    rc, out, err = a2md(*ca, "drive", name)
    assert rc == 0 and "complete." in err
    # pebble checks http-01 on the server's port: our module answers from the
    # store's challenges (renew mode manual: it does not renew by itself)
    ae.env.module = our_module()
    ae.write(["MDomain %s www.%s" % (name, name), "MDRenewMode manual"],
             vhosts=[[name, "www." + name]], http_vhost=True)
    ae.start()
    try:
        rc, out, err = a2md(*ca, "drive", "-c", "http-01", "--force", name)
        assert rc == 0, err
        assert "md[%s] detail[should renew (forced).]" % name in err
        assert ("md[%s] while[moving tmp to become new domains] detail[new certificate "
                "successfully saved in domains]" % name) in err
    finally:
        ae.env.stop()
    with open(os.path.join(store, "domains", name, chain_file()), "rb") as f:
        new = x509.load_pem_x509_certificate(f.read())
    assert new.serial_number != old.serial_number
    rc, out, err = a2md("-j", "-d", store, "list", name)
    md = json.loads(out)["output"][0]
    assert md["state"] == 2 and md["ca"]["account"] == acct
    assert os.listdir(os.path.join(store, "accounts")) == [acct]


# --- update checks its input, removes, add/update write the windows (as the original) ---

ERR_LINE = r"\[[^ \]]+:\d+ err\]\[22\(Invalid argument\)\] "


def md_file(store, name):
    return os.path.join(store, "domains", name, "md.json")


def test_710_update_validates(store):
    name = "c.mdspec.org"
    assert a2md("-d", store, "add", name, "www.c.mdspec.org")[0] == 0
    assert a2md("-d", store, "add", "d.mdspec.org", "*.e.mdspec.org")[0] == 0
    with open(md_file(store, name), "rb") as f:
        before = f.read()
    cases = [
        (["domains", "bad_name.org"], "md %s with invalid domain name: bad_name.org"),
        (["domains", "localhost"], "md %s with invalid domain name: localhost"),
        (["domains", "a..mdspec.org"], "md %s with invalid domain name: a..mdspec.org"),
        (["domains", "www.*.mdspec.org"],
         r"md %s with invalid domain name: www\.\*\.mdspec\.org"),
        (["domains", "\u00fc.mdspec.org"], "md %s with invalid domain name: \u00fc.mdspec.org"),
        (["domains", "*.org"], r"md %s with invalid domain name: \*\.org"),
        (["domains", name, "d.mdspec.org"],
         "md %s shares domain 'd.mdspec.org' with md d.mdspec.org"),
        (["domains", name, "x.e.mdspec.org"],
         "md %s shares domain 'x.e.mdspec.org' with md d.mdspec.org"),
        (["ca", "ca.mdspec.org"], r"CA url for %s invalid \(missing uri scheme\): ca.mdspec.org"),
        (["ca", "https://ca.mdspec.org:65354/dir", "ACME"],
         r"CA url for %s invalid \(invalid port\): https://ca.mdspec.org:65354/dir"),
        (["ca", "https://bad_host/dir"],
         r"CA url for %s invalid \(invalid hostname\): https://bad_host/dir"),
        (["ca", "https://a.org/x\ty"], r"CA url for %s invalid \(whitespace in uri\): "),
        (["contacts", "admin.mdspec.org"],
         r"contact for %s invalid \(missing @\): mailto:admin.mdspec.org"),
        (["contacts", "ok@mdspec.org", "a@b@mdspec.org"],
         r"contact for %s invalid \(duplicate @\): mailto:a@b@mdspec.org"),
        (["contacts", "mailto:@mdspec.org"],
         r"contact for %s invalid \(missing local part\): mailto:@mdspec.org"),
        (["contacts", "admin@"], r"contact for %s invalid \(missing hostname\): mailto:admin@"),
        (["contacts", "admin@mdspec..org"],
         r"contact for %s invalid \(double period\): mailto:admin@mdspec..org"),
        (["contacts", "mailto:"], r"contact for %s invalid \(missing uri identifier\): mailto:"),
        (["agreement", "terms"], r"CA url for %s invalid \(missing uri scheme\): terms"),
    ]
    for args, msg in cases:
        rc, out, err = a2md("-d", store, "update", name, *args)
        assert rc == 1 and out == "", args
        assert re.fullmatch(ERR_LINE + (msg % name) + ".*\n", err), (args, err)
        rc, out, err = a2md("-j", "-d", store, "update", name, *args)
        assert rc == 1 and json.loads(out) == {"output": [], "status": 22,
                                               "description": "Invalid argument"}, args
        with open(md_file(store, name), "rb") as f:
            assert f.read() == before, args
    # -a with update is checked as well
    rc, out, err = a2md("-a", "ca.mdspec.org", "-d", store, "update", name)
    assert rc == 1 and out == ""
    assert re.fullmatch(ERR_LINE + r"CA url for %s invalid \(missing uri scheme\): "
                        r"ca.mdspec.org\n" % name, err)
    # valid values: contacts without a scheme get mailto:, others as given
    rc, out, err = a2md("-j", "-d", store, "update", name, "contacts", "admin@mdspec.org",
                        "tel:+49-30-1234", "MAILTO:x@mdspec.org")
    assert rc == 0, err
    assert json.loads(out)["output"][0]["contacts"] == [
        "mailto:admin@mdspec.org", "tel:+49-30-1234", "MAILTO:x@mdspec.org"]
    for args in (["agreement", "https://ca.mdspec.org/terms"], ["agreement", "accepted"],
                 ["ca", "http://127.0.0.1:14000/dir"], ["domains", name, "x.mdspec.org"]):
        rc, out, err = a2md("-d", store, "update", name, *args)
        assert rc == 0, (args, err)


def test_710_add_checks_with_original_messages(store):
    assert a2md("-d", store, "list")[0] == 0    # the store exists: no "creating" line
    rc, out, err = a2md("-a", "ca.mdspec.org", "-d", store, "add", "f.mdspec.org")
    assert rc == 1 and out == ""
    assert re.fullmatch(ERR_LINE + r"CA url for f.mdspec.org invalid \(missing uri scheme\): "
                        r"ca.mdspec.org\n", err)
    rc, out, err = a2md("-d", store, "add", "f.mdspec.org", "bad_name.org")
    assert rc == 1 and out == ""
    assert re.fullmatch(ERR_LINE + "md f.mdspec.org with invalid domain name: bad_name.org\n",
                        err)
    assert not os.path.exists(md_file(store, "f.mdspec.org"))


def test_710_update_removes_account_and_agreement(store):
    name = "g.mdspec.org"
    assert a2md("-d", store, "add", name)[0] == 0
    # values after the first are ignored
    assert a2md("-d", store, "update", name, "account", "ACME-x-0001", "more")[0] == 0
    assert a2md("-d", store, "update", name, "agreement", "accepted", "more")[0] == 0
    with open(md_file(store, name)) as f:
        ca = json.load(f)["ca"]
    assert ca["account"] == "ACME-x-0001" and ca["agreement"] == "accepted"
    for aspect, key in (("account", "account"), ("agreement", "agreement")):
        rc, out, err = a2md("-j", "-d", store, "update", name, aspect)
        assert rc == 0, err
        assert key not in json.loads(out)["output"][0]["ca"]
        with open(md_file(store, name)) as f:
            assert key not in json.load(f)["ca"]
    assert json.load(open(md_file(store, name)))["ca"] == {"proto": "ACME"}


def test_710_add_update_write_windows(store):
    rc, out, err = a2md("-j", "-d", store, "add", "h.mdspec.org")
    md = json.loads(out)["output"][0]
    assert md["renew-window"] == "33%" and md["warn-window"] == "10%"
    with open(md_file(store, "h.mdspec.org")) as f:
        md = json.load(f)
    assert md["renew-window"] == "33%" and md["warn-window"] == "10%"
    # an MD without windows (store add) gets them when updated, list shows them
    assert a2md("-d", store, "store", "add", "i.mdspec.org")[0] == 0
    with open(md_file(store, "i.mdspec.org")) as f:
        assert "renew-window" not in json.load(f)
    rc, out, err = a2md("-j", "-d", store, "list", "i.mdspec.org")
    md = json.loads(out)["output"][0]
    assert md["renew-window"] == "33%" and md["warn-window"] == "10%"
    rc, out, err = a2md("-j", "-d", store, "update", "i.mdspec.org", "contacts", "a@mdspec.org")
    md = json.loads(out)["output"][0]
    assert rc == 0 and md["renew-window"] == "33%" and md["warn-window"] == "10%"
    with open(md_file(store, "i.mdspec.org")) as f:
        md = json.load(f)
    assert md["renew-window"] == "33%" and md["warn-window"] == "10%"


def test_710_drive_unknown_protocol(store):
    name = "j.mdspec.org"
    assert a2md("-d", store, "add", name)[0] == 0
    # a CA url nobody listens on: the drive must stop before contacting it
    ca = "https://127.0.0.1:9/dir"
    rc, out, err = a2md("-d", store, "update", name, "ca", ca, "FOO")
    assert rc == 0, err
    with open(md_file(store, name)) as f:
        assert json.load(f)["ca"] == {"proto": "FOO", "urls": [ca]}
    rc, out, err = a2md("-d", store, "drive", name)
    assert rc == 1 and out == ""
    assert re.search(r"^\[[^ \]]+:\d+ warning\]\[22\(Invalid argument\)\] "
                     r"md\[%s\]: Unknown CA protocol 'FOO'$" % name, err, re.M), err
    assert "contact" not in err.lower(), err
    rc, out, err = a2md("-j", "-d", store, "drive", name)
    assert rc == 1 and json.loads(out)["status"] == 22


def test_710_newreg_without_terms(store, pebble_factory):
    peb = pebble_factory()
    ca = ["-a", peb.url, "-C", peb.ca_file, "-d", store]
    assert a2md("-d", store, "list")[0] == 0    # the store exists: no "creating" line
    rc, out, err = a2md(*ca, "acme", "newreg", "admin@mdspec.org")
    assert rc == 1 and out == "", err
    lines = err.splitlines()
    assert len(lines) == 2, err
    # the CA's problem first, then ours
    assert re.fullmatch(r"\[[^ \]]+:\d+ warning\]\[\d+\([^)]*\)\] acme problem "
                        r"urn:ietf:params:acme:error:\w+: .*terms of service.*", lines[0])
    assert re.fullmatch(r"\[[^ \]]+:\d+ err\]\[\d+\([^)]*\)\] register new account", lines[1])
    assert not os.path.exists(os.path.join(store, "accounts"))
    rc, out, err = a2md(*ca, "-t", "accepted", "acme", "newreg", "admin@mdspec.org")
    assert rc == 0 and re.fullmatch(r"registered: ACME-\S+\n", out), err


def test_710_acme_unknown_accounts(store, pebble_factory):
    peb = pebble_factory()
    ca = ["-a", peb.url, "-C", peb.ca_file, "-d", store]
    assert a2md("-d", store, "list")[0] == 0    # the store exists: no "creating" line
    # agree: an ERR line (contract.md 6.3); validate: a bare line, no newline
    rc, out, err = a2md(*ca, "acme", "agree", "ACME-nope-0001")
    assert rc == 1 and out == ""
    assert re.fullmatch(r"\[[^ \]]+:\d+ err\]\[2\(No such file or directory\)\] "
                        r"unknown account: ACME-nope-0001\n", err), err
    rc, out, err = a2md(*ca, "acme", "validate", "ACME-nope-0001")
    assert rc == 1 and out == "" and err == "unknown account: ACME-nope-0001"
    # delreg removes with "force", as the original: unknown is no error
    rc, out, err = a2md("-d", store, "acme", "delreg", "ACME-nope-0001")
    assert rc == 0 and out == "" and err == ""


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_710_drive_next_to_server_without_mdomain(acme_factory, reference):
    """a2md drives an MD that exists only in the store while a server with
    no MDomain at all runs: the server answers pebble's http-01 requests
    from the store's challenges (issue 12, item 13)."""
    name = "storeonly.mdspec.org"
    ae = acme_factory(reference=reference)
    ae.write([])
    ae.start()
    ca = ["-a", ae.peb.url, "-C", ae.ca_file, "-d", ae.store, "-t", "accepted"]
    rc, out, err = a2md(*ca, "add", name)
    assert rc == 0, err
    rc, out, err = a2md(*ca, "update", name, "contacts", "admin@mdspec.org")
    assert rc == 0, err
    rc, out, err = a2md(*ca, "update", name, "agreement", "accepted")
    assert rc == 0, err
    rc, out, err = a2md(*ca, "drive", "-c", "http-01", name)
    assert rc == 0, err
    assert os.path.exists(os.path.join(ae.store, "domains", name, chain_file())), err
