# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Managed domains assigned to virtual hosts (issue item 4): ServerName and
# ServerAlias, names added to md.json from SSL vhosts (MDMembers auto), the
# AH10040 warning with manual, AH10042/AH10238 conflicts, AH10045, MDBaseServer,
# MDMatchNames servernames and wildcard MDs. Where cheap, the reference module
# runs the same config and must assign the same names.

import glob
import json
import os
import re

import pytest

CLOSED_CA = "https://127.0.0.1:1/dir"


def vhost(env, name, aliases=(), ssl=True, extra=""):
    lines = ["<VirtualHost 127.0.0.1:%d>" % (env.https_port if ssl else env.http_port),
             "  ServerName %s" % name]
    if aliases:
        lines.append("  ServerAlias %s" % " ".join(aliases))
    if ssl:
        lines.append("  SSLEngine on")
    lines += [extra, "</VirtualHost>", ""]
    return "\n".join(lines)


def write(env, body):
    env.write_config("MDCertificateAuthority %s\nMDRenewMode manual\n%s"
                     % (CLOSED_CA, body), listen_https=True)


def start(env, body):
    write(env, body)
    env.allow_log(r"AH10085")
    return env.start()


def stored_domains(env):
    """{md name: domains} of all md.json in domains/."""
    res = {}
    for path in glob.glob(os.path.join(env.store_dir, "domains", "*", "md.json")):
        with open(path) as f:
            md = json.load(f)
        res[md["name"]] = md["domains"]
    return res


def md_log(env, level):
    return [l for l in env.log_lines() if "[md:%s]" % level in l]


def both(env_factory, make_body, allow=()):
    """Starts ours and the reference with the same config; returns both envs
    (started) after checking that they stored the same domains."""
    envs = []
    for ref in (False, True):
        e = env_factory(reference=ref)
        e.allow_log(*allow)
        rc, out = start(e, make_body(e))
        assert rc == 0, out + "\n".join(e.log_lines())
        envs.append(e)
    ours, ref = envs
    assert stored_domains(ours) == stored_domains(ref)
    return ours, ref


# --- assignment and transitive names -------------------------------------------------------

def test_110_aliases_added_from_ssl_vhosts(env_factory):
    ours, ref = both(env_factory, lambda e: (
        "MDomain a.org\n"
        + vhost(e, "www.a.org", ["a.org", "Other.org"])
        + vhost(e, "a.org", ["http-only.org"], ssl=False)))
    assert stored_domains(ours) == {"a.org": ["a.org", "www.a.org", "other.org"]}
    with open(os.path.join(ours.store_dir, "domains", "a.org", "md.json")) as f:
        assert json.load(f)["transitive"] == 1


def test_110_members_manual_warns(env_factory):
    ours, ref = both(env_factory, lambda e: (
        "MDMembers manual\nMDomain a.org\nMDomain b.org\n"
        + vhost(e, "a.org", ["www.a.org"])
        + vhost(e, "b.org", ["www.b.org"], ssl=False)),
        allow=[r"AH10040: Virtual Host a\.org:0 matches Managed Domain 'a\.org', but the "
               r"name/alias www\.a\.org itself is not managed"])
    assert stored_domains(ours) == {"a.org": ["a.org"], "b.org": ["b.org"]}
    for e in (ours, ref):
        warns = [l for l in md_log(e, "warn") if "AH10040" in l]
        assert len(warns) == 1, warns
        assert warns[0].endswith(
            "AH10040: Virtual Host a.org:0 matches Managed Domain 'a.org', but the "
            "name/alias www.a.org itself is not managed. A requested MD certificate "
            "will not match ServerName.")


def test_110_mdmember_and_section_auto(env_factory):
    ours, _ = both(env_factory, lambda e: (
        "MDMembers manual\n<MDomain a.org auto>\nMDMember www.a.org\n"
        "MDMembers x.a.org Y.a.org\n</MDomain>\n"
        + vhost(e, "a.org", ["z.a.org"])))
    assert stored_domains(ours) == {
        "a.org": ["a.org", "www.a.org", "x.a.org", "y.a.org", "z.a.org"]}


def test_110_no_vhost_warning(env_factory):
    ours, ref = both(env_factory, lambda e: (
        "MDomain a.org\nMDomain unused.org\n" + vhost(e, "a.org")),
        allow=[r"AH10045: No VirtualHost matches Managed Domain unused\.org$"])
    for e in (ours, ref):
        warns = [l for l in md_log(e, "warn") if "AH10045" in l]
        assert len(warns) == 1, warns


def test_110_http_vhost_names_not_added(env_factory):
    ours, _ = both(env_factory, lambda e: (
        "MDomain a.org\nMDomain b.org\n"
        + vhost(e, "a.org", ["b.org"], ssl=False)))
    assert stored_domains(ours) == {"a.org": ["a.org"], "b.org": ["b.org"]}


# --- conflicts -------------------------------------------------------------------------------

def test_110_conflict_fails_start(env_factory):
    texts = ("AH10042: conflict: 2 MDs match to SSL VirtualHost a.org, there can at most "
             "be one.",
             "AH10238: conflict: 2 MDs match Virtualhost a.org which uses SSL, however "
             "there can be at most 1.")
    for ref in (False, True):
        e = env_factory(reference=ref)
        e.allow_log(r"AH10042", r"AH10238", r"AH02572", r"AH02312", r"SSL Library Error",
                    r"AH10085")
        write(e, "MDomain a.org\nMDomain b.org\n" + vhost(e, "a.org", ["b.org"]))
        rc, out = e.start(wait=False)
        assert rc != 0, out
        log = "\n".join(e.log_lines())
        assert any(t in log for t in texts), log


def test_110_two_mds_on_http_vhost_is_fine(env):
    rc, out = start(env, "MDomain a.org\nMDomain b.org\n"
                         + vhost(env, "a.org", ["b.org"], ssl=False))
    assert rc == 0, out


# --- base server ------------------------------------------------------------------------------

def test_110_base_server(env_factory):
    # the base server is ServerName localhost
    ours, ref = both(env_factory, lambda e: "MDomain localhost\n",
                     allow=[r"AH10045: No VirtualHost matches Managed Domain localhost"])
    for e in (ours, ref):
        assert len([l for l in md_log(e, "warn") if "AH10045" in l]) == 1
    ours, ref = both(env_factory, lambda e: "MDBaseServer on\nMDomain localhost\n")
    for e in (ours, ref):
        assert not [l for l in md_log(e, "warn") if "AH10045" in l]


# --- MDMatchNames and wildcards ------------------------------------------------------------------

def test_110_match_servernames_prefers_exact(env_factory):
    ours, _ = both(env_factory, lambda e: (
        "MDMatchNames servernames\nMDChallengeDns01 /bin/true\n"
        "MDomain a.org *.a.org\nMDomain sub.a.org\n"
        + vhost(e, "sub.a.org", ["x.a.org"])
        + vhost(e, "y.a.org", ["sub.a.org"])))
    assert stored_domains(ours) == {"a.org": ["a.org", "*.a.org"],
                                    "sub.a.org": ["sub.a.org", "x.a.org"]}


def test_110_wildcard_md_matches_vhost_names(env_factory):
    ours, _ = both(env_factory, lambda e: (
        "MDChallengeDns01 /bin/true\nMDomain *.w.org\nMDomain c.org\nMDomain x.d.org\n"
        + vhost(e, "x.w.org", ["y.w.org"])
        + vhost(e, "c.org", ["*.c.org"])
        + vhost(e, "d.org", ["*.d.org"], ssl=False)))
    assert stored_domains(ours) == {"*.w.org": ["*.w.org"], "c.org": ["c.org"],
                                    "x.d.org": ["x.d.org"]}
    # the vhost of x.w.org got the wildcard MD: its fallback covers *.w.org
    from md_certs import cert_sans, s_client
    cert, out = s_client(ours.https_port, "y.w.org")
    assert cert is not None and cert_sans(cert) == ["*.w.org"], out


def test_110_no_conflict_for_unassigned_ssl_vhost(env):
    from md_certs import write_cred
    write_cred(os.path.join(env.root, "ssl"), ["other.org"], cert_name="c.pem",
               key_name="k.pem")
    rc, out = start(env, "MDomain a.org\n" + vhost(env, "a.org")
                    + vhost(env, "other.org", extra=(
                        "SSLCertificateFile %s/ssl/c.pem\n"
                        "SSLCertificateKeyFile %s/ssl/k.pem" % (env.root, env.root))))
    assert rc == 0, out
    assert stored_domains(env) == {"a.org": ["a.org"]}


# --- contacts (issue 12, item 12) -------------------------------------------------------------

def stored_contacts(env):
    """{md name: contacts} of all md.json in domains/."""
    res = {}
    for path in glob.glob(os.path.join(env.store_dir, "domains", "*", "md.json")):
        with open(path) as f:
            md = json.load(f)
        res[md["name"]] = md.get("contacts")
    return res


def write_admin(env, admin, body):
    """The test config with the main server's ServerAdmin replaced (None:
    no ServerAdmin, the compiled-in default)."""
    text = env.base_config(True).replace(
        "ServerAdmin admin@example.org\n", "ServerAdmin %s\n" % admin if admin else "")
    text += "MDCertificateAuthority %s\nMDRenewMode manual\n%s\n" % (CLOSED_CA, body)
    env.write_config(text, base=False)


CONTACT_CASES = [
    # main ServerAdmin, no vhost matches: in md.json all the same
    ("admin@example.org", "MDomain a.org\n", {"a.org": ["mailto:admin@example.org"]}),
    ("mailto:adm@example.org", "MDomain a.org\n", {"a.org": ["mailto:adm@example.org"]}),
    # MDContactEmail (section over main server) wins over ServerAdmin
    ("admin@example.org", "MDContactEmail main@example.org\nMDomain a.org\n"
     "<MDomain b.org>\n  MDContactEmail sec@example.org\n</MDomain>\n",
     {"a.org": ["mailto:main@example.org"], "b.org": ["mailto:sec@example.org"]}),
    # the main ServerAdmin wins over the vhost's
    ("admin@example.org", "MDomain a.org\n<VirtualHost 127.0.0.1:{https}>\n"
     "  ServerName a.org\n  ServerAdmin vhost@example.org\n</VirtualHost>\n",
     {"a.org": ["mailto:admin@example.org"]}),
    # only without a main one: the vhost's ServerAdmin or MDContactEmail
    (None, "MDomain a.org\nMDomain b.org\nMDomain c.org\n"
     "<VirtualHost 127.0.0.1:{https}>\n  ServerName a.org\n"
     "  ServerAdmin vhost@example.org\n</VirtualHost>\n"
     "<VirtualHost 127.0.0.1:{https}>\n  ServerName b.org\n"
     "  MDContactEmail vmd@example.org\n</VirtualHost>\n",
     {"a.org": ["mailto:vhost@example.org"], "b.org": ["mailto:vmd@example.org"],
      "c.org": []}),
    # a vhost with both: its MDContactEmail
    (None, "MDomain a.org\n"
     "<VirtualHost 127.0.0.1:{https}>\n  ServerName a.org\n"
     "  ServerAdmin vhost@example.org\n  MDContactEmail vmd@example.org\n</VirtualHost>\n",
     {"a.org": ["mailto:vmd@example.org"]}),
    # two vhosts: the first in httpd's list of servers, the one defined last
    (None, "MDomain a.org\n"
     "<VirtualHost 127.0.0.1:{https}>\n  ServerName a.org\n"
     "  ServerAdmin first@example.org\n</VirtualHost>\n"
     "<VirtualHost 127.0.0.1:{https}>\n  ServerName www.a.org\n  ServerAlias a.org\n"
     "  ServerAdmin second@example.org\n</VirtualHost>\n",
     {"a.org": ["mailto:second@example.org"]}),
]


@pytest.mark.parametrize("admin,body,expected", CONTACT_CASES)
def test_110_contacts_differential(env_factory, admin, body, expected):
    """md.json contacts as the reference writes them, also for an MD that
    matches no vhost (AH10045)."""
    results = []
    for ref in (False, True):
        e = env_factory(reference=ref)
        e.allow_log(r"AH10045", r"AH10085")
        write_admin(e, admin, body.replace("{https}", str(e.https_port)))
        rc, out = e.start()
        assert rc == 0, out + "\n".join(e.log_lines())
        results.append(stored_contacts(e))
    assert results[0] == results[1]
    assert results[0] == expected


def test_110_contacts_replace_stored(env_factory):
    """Config contacts replace the stored ones at each start; with none in
    the config the stored ones stay."""
    steps = [("MDContactEmail one@example.org\n", ["mailto:one@example.org"]),
             ("MDContactEmail two@example.org\n", ["mailto:two@example.org"]),
             ("", ["mailto:two@example.org"])]
    for ref in (False, True):
        e = env_factory(reference=ref)
        e.allow_log(r"AH10045", r"AH10085")
        for body, expected in steps:
            write_admin(e, None, body + "MDomain a.org\n")
            rc, out = e.start()
            assert rc == 0, out
            e.stop()
            assert stored_contacts(e) == {"a.org": expected}, (ref, body)
