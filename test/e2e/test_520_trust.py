# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# What the parent (root) takes from staging/, which the httpd User can
# write: a staged md.json naming its own MDChallengeDns01 command and an
# order.json with crafted teardown arguments, activated at a graceful
# restart. The reference runs the staged command as root; ours runs only
# the configured one, with the checked arguments.

import json
import os

import pytest

from md_acme_env import acme_factory, wait_until  # noqa: F401


@pytest.mark.parametrize("reference", [False, True], ids=["ours", "ref"])
def test_520_staged_dns01_cmd_not_run_by_root(acme_factory, reference):
    name = "trust.mdspec.org"
    ae = acme_factory(reference=reference)
    dns = ae.dns_script()
    marker = os.path.join(ae.out_dir, "staged-cmd-ran")
    evil = ae._script("staged-cmd.py", (
        "import os, sys\n"
        "with open(%r, 'a') as f:\n"
        "    f.write('%%d %%s\\n' %% (os.getuid(), ' '.join(sys.argv[1:])))\n"
    ) % marker)
    ae.write(["MDChallengeDns01 %s" % dns, "MDChallengeDns01Version 2",
              "<MDomain %s>" % name, "  MDCAChallenges dns-01", "</MDomain>"],
             vhosts=[[name]])
    if not reference:
        # the two crafted teardowns are refused, each with an ERR line
        ae.env.allow_log(r"AH10702: %s: dns-01 teardown of '-rf " % name,
                         r"AH10702: %s: dns-01 teardown of 'other\.mdspec\.org " % name)
    ae.start()
    ae.wait_staged(name)
    wait_until(lambda: any(r["argv"][1] == "teardown"
                           for r in ae.read_argv_log(ae.dns_log)), 20,
               what="dns-01 teardown by the renewal")
    token = [r["argv"][3] for r in ae.read_argv_log(ae.dns_log)
             if r["argv"][1] == "setup"][0]
    # what anything running as User could write into the staged set
    md_path = ae.path("staging", name, "md.json")
    with open(md_path) as f:
        md = json.load(f)
    md["cmd-dns-01"] = evil
    with open(md_path, "w") as f:
        json.dump(md, f)
    with open(ae.path("staging", name, "order.json"), "w") as f:
        json.dump({"status": "valid", "authorizations": [],
                   "challenge-setups": ["dns-01:%s %s" % (name, token),
                                        "dns-01:-rf %s" % token,
                                        "dns-01:other.mdspec.org %s" % token]}, f)
    before = len(ae.read_argv_log(ae.dns_log))
    ae.graceful()
    ae.wait_active(name)
    if reference:
        # the original runs the staged command, as root
        wait_until(lambda: os.path.exists(marker), 10, what="staged command")
        with open(marker) as f:
            assert f.readline().startswith("0 teardown %s" % name)
        return
    assert not os.path.exists(marker)
    teardowns = [r for r in ae.read_argv_log(ae.dns_log)[before:]
                 if r["argv"][1] == "teardown"]
    assert [r["argv"][1:] for r in teardowns] == [["teardown", name, token]]
    assert teardowns[0]["uid"] == 0
    # domains/ holds the configuration, not the staged command
    assert "cmd-dns-01" not in ae.load_json("domains", name, "md.json")
    rc, out = ae.verify_https(name)
    assert rc == 0, out
