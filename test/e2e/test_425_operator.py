# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# What an operator's scripts and daemons get (docs/events.md, docs/store.md):
# the MD_* environment of MDMessageCmd / MDNotifyCmd next to their unchanged
# argv, and MDStoreGroup handing domains/ to a group (modes as before
# without it).

import grp
import os
import stat
import subprocess

import pytest

from md_acme_env import (acme_factory, chain_file, file_mode, key_file,  # noqa: F401
                         wait_until)

SPECS = ("rsa", "secp384r1")


def test_425_command_environment(acme_factory):
    name = "hookenv.mdspec.org"
    ae = acme_factory()
    ae.write(["<MDomain %s www.%s>" % (name, name), "  MDPrivateKeys RSA secp384r1",
              "</MDomain>"], vhosts=[[name, "www." + name]], notify_cmd=True)
    ae.start()
    ae.wait_staged(name, specs=SPECS)
    ae.wait_renewed_message(name)
    script = os.path.join(ae.out_dir, "message.py")
    live = ae.path("domains", name)
    staging = ae.path("staging", name)
    common = {"MD_NAME": name, "MD_STORE_DIR": ae.store,
              "MD_DOMAINS": "%s www.%s" % (name, name),
              "MD_CERT_FILE": os.path.join(live, "pubcert.pem"),
              "MD_KEY_FILE": os.path.join(live, "privkey.pem"),
              "MD_CERT_FILE_RSA": os.path.join(live, "pubcert.pem"),
              "MD_KEY_FILE_RSA": os.path.join(live, "privkey.pem"),
              "MD_CERT_FILE_SECP384R1": os.path.join(live, chain_file("secp384r1")),
              "MD_KEY_FILE_SECP384R1": os.path.join(live, key_file("secp384r1"))}
    staged = {"MD_STAGING_DIR": staging,
              "MD_STAGED_CERT_FILE": os.path.join(staging, "pubcert.pem"),
              "MD_STAGED_CERT_FILE_RSA": os.path.join(staging, "pubcert.pem"),
              "MD_STAGED_CERT_FILE_SECP384R1":
                  os.path.join(staging, chain_file("secp384r1"))}
    renewed = [m for m in ae.messages() if m["argv"][-2] == "renewed"]
    assert len(renewed) == 1
    # the argv is the original's, the variables come on top
    assert renewed[0]["argv"] == [script, "renewed", name]
    assert renewed[0]["env"] == dict(common, MD_EVENT="renewed", **staged)
    for path in staged.values():
        assert os.path.exists(path), path
    notes = ae.read_argv_log(ae.notify_log)
    assert [n["argv"][1:] for n in notes] == [[name]]
    assert notes[0]["env"] == dict(common, MD_EVENT="renewed", **staged)
    # the renewal's other events: the MD and no staging variables
    renewing = [m for m in ae.messages() if m["argv"][-2] == "renewing"]
    assert renewing[0]["env"] == dict(common, MD_EVENT="renewing")

    ae.graceful()
    ae.wait_active(name, specs=SPECS)
    wait_until(lambda: "installed" in ae.reasons(name), 10, what="installed")
    inst = [m for m in ae.messages() if m["argv"][-2] == "installed"]
    assert inst[0]["argv"] == [script, "installed", name]
    assert inst[0]["uid"] == 0
    assert inst[0]["env"] == dict(common, MD_EVENT="installed")
    for var in ("MD_CERT_FILE", "MD_KEY_FILE", "MD_CERT_FILE_SECP384R1",
                "MD_KEY_FILE_SECP384R1"):
        assert os.path.isfile(inst[0]["env"][var]), var


def store_group_name():
    """An existing group that is not root's (created when the machine has
    none of the usual ones)."""
    for name in ("ssl-cert", "mdtest-certs"):
        try:
            grp.getgrnam(name)
            return name
        except KeyError:
            pass
    subprocess.run(["groupadd", "--system", "mdtest-certs"], check=True)
    return "mdtest-certs"


def domains_modes(ae):
    """{relative path: (mode, gid)} of domains/ and everything below it."""
    top = ae.path("domains")
    out = {"domains": (file_mode(top), os.stat(top).st_gid)}
    for dirpath, dirs, files in os.walk(top):
        for n in dirs + files:
            path = os.path.join(dirpath, n)
            st = os.lstat(path)
            out[os.path.relpath(path, ae.store)] = (stat.S_IMODE(st.st_mode), st.st_gid)
    return out


def test_425_store_group(acme_factory):
    name = "storegroup.mdspec.org"
    group = store_group_name()
    gid = grp.getgrnam(group).gr_gid
    ae = acme_factory()
    ae.write(["MDomain %s" % name], vhosts=[[name]],
             global_extra="MDStoreGroup %s" % group)
    ae.start()
    ae.issue(name)
    modes = domains_modes(ae)
    assert "domains/%s/privkey.pem" % name in modes
    assert "domains/%s/pubcert.pem" % name in modes
    for path, (mode, g) in modes.items():
        is_dir = os.path.isdir(ae.path(path))
        assert (mode, g) == ((0o750 if is_dir else 0o640), gid), path

    # existing files with the old modes are repaired at the next start
    os.chmod(ae.path("domains", name, "privkey.pem"), 0o600)
    os.chown(ae.path("domains", name), -1, 0)
    ae.graceful()
    assert domains_modes(ae)["domains/%s/privkey.pem" % name] == (0o640, gid)
    assert domains_modes(ae)["domains/%s" % name] == (0o750, gid)


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_425_store_group_unset(acme_factory, reference):
    """Without MDStoreGroup: 0700 directories, 0600 files, root's group (the
    original's modes, measured with it too)."""
    name = "nogroup.mdspec.org"
    ae = acme_factory(reference=reference)
    ae.write(["MDomain %s" % name], vhosts=[[name]])
    ae.start()
    ae.issue(name)
    modes = domains_modes(ae)
    assert "domains/%s/privkey.pem" % name in modes
    for path, (mode, g) in modes.items():
        is_dir = os.path.isdir(ae.path(path))
        assert (mode, g) == ((0o700 if is_dir else 0o600), 0), path


@pytest.mark.parametrize("value", ["no-such-group-md", "12x"])
def test_425_store_group_unknown(acme_factory, value):
    ae = acme_factory()
    ae.write(["MDomain unknowngroup.mdspec.org"], vhosts=[["unknowngroup.mdspec.org"]],
             global_extra="MDStoreGroup %s" % value)
    rc, out = ae.env.start()
    assert rc != 0
    assert "MDStoreGroup: unknown group '%s'" % value in out, out
