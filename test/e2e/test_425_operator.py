# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# What an operator's scripts get (docs/events.md): the MD_* environment of
# MDMessageCmd / MDNotifyCmd next to their unchanged argv.

import os

from md_acme_env import acme_factory, chain_file, key_file, wait_until  # noqa: F401

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
