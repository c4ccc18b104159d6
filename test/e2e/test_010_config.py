# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Configuration directives checked with `apache2 -t`: a good and a bad value
# for every directive, location classes and contexts, the stricter checks
# that the original only found at start or at the CA, crash resistance, and
# a differential comparison of error texts with the reference module.

import json
import os
import re
import time

import pytest

from md_env import HttpdEnv

SYNTAX_OK = "Syntax OK"


def check(env, extra, listen_https=False):
    env.write_config(extra, listen_https=listen_https)
    return env.apache2("-t")


def error_text(out):
    """The module's message of an `apache2 -t` failure: the line after
    'Syntax error on line N of FILE:' or the logged check_config error."""
    lines = [l for l in out.splitlines() if l.strip()]
    for i, line in enumerate(lines):
        if "Syntax error on line" in line and i + 1 < len(lines):
            return lines[i + 1].strip()
    return "\n".join(lines)


# --- good values: every directive --------------------------------------------------

GOOD = [
    "MDomain example.org www.example.org",
    "MDomain example.org auto",
    "MDomain example.org MANUAL www.example.org",
    "<MDomainSet example.org>\n</MDomainSet>",
    "<MDomain example.org www.example.org manual>\nMDMember a.example.org\n"
    "MDMembers b.example.org c.example.org auto\n</MDomain>",
    "MDMember auto",
    "MDMembers manual",
    "MDCertificateAuthority",
    "MDCertificateAuthority letsencrypt",
    "MDCertificateAuthority LetsEncrypt-Test buypass Buypass-Test",
    "MDCertificateAuthority https://acme.example.org/directory http://127.0.0.1:14000/dir",
    "MDCertificateAgreement accepted",
    "MDCertificateAgreement https://example.org/tos.pdf",
    "MDCertificateProtocol ACME",
    "MDCAChallenges",
    "MDCAChallenges http-01 tls-alpn-01 dns-01",
    "MDContactEmail admin@example.org",
    "MDContactEmail mailto:admin@example.org",
    "MDRenewMode auto",
    "MDRenewMode Automatic",
    "MDCRLCheck on",
    "MDCRLCheck OFF",
    "MDRenewMode always",
    "MDRenewMode manual",
    "MDRenewMode stick",
    "MDDriveMode always",
    "MDRenewWindow 33%",
    "MDRenewWindow 0%",
    "MDRenewWindow 99%",
    "MDRenewWindow 30",
    "MDRenewWindow 21d",
    "MDRenewWindow 30s",
    "MDRenewWindow 12h",
    "MDRenewWindow 90mi",
    "MDRenewWindow 10days",
    "MDWarnWindow 10%",
    "MDWarnWindow 7d",
    "MDPrivateKeys Default",
    "MDPrivateKeys RSA",
    "MDPrivateKeys rsa 3072",
    "MDPrivateKeys RSA4096",
    "MDPrivateKeys secp384r1 rsa3072",
    "MDPrivateKeys P-256 P-384 P-521 X25519 rsa 2048",
    "MDPrivateKeys prime256v1 brainpoolP256r1",
    "MDMustStaple on",
    "MDMustStaple OFF",
    "MDRequireHttps off",
    "MDRequireHttps temporary",
    "MDRequireHttps Permanent",
    "MDStapling on",
    "MDStapleOthers off",
    "MDRenewViaARI off",
    "MDProfile shortlived",
    "MDProfileMandatory on",
    "MDExternalAccountBinding none",
    "MDExternalAccountBinding kid-1 zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W",
    "MDHttpProxy http://proxy.example.org:3128",
    "MDHttpProxy https://127.0.0.1:8443/",
    "MDCACertificateFile none",
    "MDCACertificateFile /etc/ssl/certs/ca-certificates.crt",
    "MDHttpProxyCACertificateFile none",
    "MDHttpProxyCACertificateFile /etc/ssl/certs/ca-certificates.crt",
    "MDChallengeDns01 /bin/true",
    "MDChallengeDns01 /bin/echo some args",
    "MDChallengeDns01",
    "MDChallengeDns01Version 1",
    "MDChallengeDns01Version 2",
    "MDStoreDir md-other",
    "MDStoreDir /tmp",
    "MDPortMap 80:8080 443:8443",
    "MDPortMap http:- https:443",
    "MDPortMap https:8443",
    "MDBaseServer on",
    "MDNotifyCmd /bin/true",
    "MDNotifyCmd",
    "MDMessageCmd /bin/echo fred",
    "MDActivationDelay 0",
    "MDActivationDelay 2h",
    "MDActivationDelay -1d",
    "MDServerStatus off",
    "MDCertificateStatus off",
    "MDCertificateCheck crt.sh https://crt.sh?q=",
    "MDCertificateMonitor censys https://search.censys.io/certificates/",
    "MDStaplingKeepResponse 7d",
    "MDStaplingKeepResponse 100%",
    "MDStaplingRenewWindow 33%",
    "MDStaplingRenewWindow 2d",
    "MDRetryDelay 30",
    "MDRetryDelay 500ms",
    "MDRetryFailover 13",
    "MDStoreLocks on",
    "MDStoreGroup root",
    "MDStoreLocks off",
    "MDStoreLocks 10",
    "MDStoreLocks 0",
    "MDMatchNames all",
    "MDMatchNames ServerNames",
    "MDInitialDelay 0",
    "MDInitialDelay 5mi",
    "MDCheckInterval 1s",
    "MDCheckInterval 12h",
    # names
    "MDomain münchen.example",
    "MDomain xn--mnchen-3ya.example",
    "MDomain 127.0.0.1",
    "MDomain localhost",
    "MDomain *.example.org\nMDChallengeDns01 /bin/true",
    "<MDomain *.example.org example.org>\nMDChallengeDns01 /bin/true\n</MDomain>",
    "<MDomain *.example.org>\nMDCAChallenges dns-01\nMDChallengeDns01 /bin/true\n</MDomain>",
    "<MDomain *.example.org>\nMDRenewMode manual\n</MDomain>",
    "MDomain a.org\nMDomain b.org\nMDomain www.a.org.example",
    "MDMatchNames servernames\nMDomain a.org *.a.org\nMDomain sub.a.org\n"
    "MDChallengeDns01 /bin/true",
    # contexts: <If> is transparent
    '<If "true">\nMDRequireHttps temporary\n</If>',
]


@pytest.mark.parametrize("extra", GOOD)
def test_010_good_value(env, extra):
    rc, out = check(env, extra)
    assert rc == 0, out
    assert SYNTAX_OK in out


# --- ALL-class directives: global, vhost and inside an MD section ------------------

ALL_CLASS = [
    "MDCertificateAuthority letsencrypt",
    "MDCertificateAgreement accepted",
    "MDCertificateProtocol ACME",
    "MDCAChallenges http-01",
    "MDContactEmail a@example.org",
    "MDRenewMode always",
    "MDDriveMode manual",
    "MDRenewWindow 40%",
    "MDWarnWindow 10d",
    "MDPrivateKeys secp384r1",
    "MDMustStaple on",
    "MDRequireHttps permanent",
    "MDStapling on",
    "MDStapleOthers off",
    "MDRenewViaARI on",
    "MDProfile classic",
    "MDProfileMandatory off",
    "MDExternalAccountBinding kid aGVsbG8",
    "MDHttpProxy http://proxy.example.org:3128",
    "MDCACertificateFile none",
    "MDHttpProxyCACertificateFile none",
    "MDChallengeDns01 /bin/true",
    "MDServerStatus on",
    "MDCertificateStatus on",
    "MDCertificateCheck crt.sh https://crt.sh?q=",
    "MDStaplingKeepResponse 2d",
    "MDStaplingRenewWindow 50%",
    "MDCRLCheck auto",
]


@pytest.mark.parametrize("line", ALL_CLASS)
@pytest.mark.parametrize("where", ["global", "vhost", "section"])
def test_010_all_class_contexts(env, line, where):
    if where == "global":
        extra = line
    elif where == "vhost":
        extra = "<VirtualHost 127.0.0.1:%d>\nServerName a.org\n%s\n</VirtualHost>" % (
            env.http_port, line)
    else:
        extra = "<MDomain a.org>\n%s\n</MDomain>" % line
    rc, out = check(env, extra)
    assert rc == 0, out


NOT_MD_CLASS = [
    "MDomain b.org",
    "MDStoreDir md",
    "MDPortMap 80:80",
    "MDBaseServer off",
    "MDNotifyCmd /bin/true",
    "MDMessageCmd /bin/true",
    "MDChallengeDns01Version 2",
    "MDActivationDelay 1d",
    "MDRetryDelay 5s",
    "MDRetryFailover 3",
    "MDStoreLocks on",
    "MDStoreGroup root",
    "MDMatchNames all",
    "MDInitialDelay 1s",
    "MDCheckInterval 1h",
]


@pytest.mark.parametrize("line", NOT_MD_CLASS)
def test_010_not_md_class(env, line):
    name = line.split()[0]
    rc, out = check(env, line)
    assert rc == 0, out
    rc, out = check(env, "<VirtualHost 127.0.0.1:%d>\n%s\n</VirtualHost>" % (
        env.http_port, line))
    assert rc == 0, out
    rc, out = check(env, "<MDomain a.org>\n%s\n</MDomain>" % line)
    assert rc != 0
    assert error_text(out) == "%s is not allowed inside an '<MDomainSet' context" % name


@pytest.mark.parametrize("line", [
    "MDCertificateFile /etc/passwd", "MDCertificateKeyFile /etc/passwd",
    "MDMembers a.org b.org", "MDMember",
])
def test_010_md_class_outside(env, line):
    name = line.split()[0]
    for extra in [line, "<VirtualHost 127.0.0.1:%d>\n%s\n</VirtualHost>" % (
            env.http_port, line)]:
        rc, out = check(env, extra)
        assert rc != 0
        assert error_text(out) == \
            "%s is only valid inside a '<MDomainSet' context, not here" % name


def test_010_static_files_in_section(env):
    cert = env.write_file("ssl/cert.pem", "x")
    key = env.write_file("ssl/key.pem", "x")
    rc, out = check(env, "<MDomain a.org>\nMDCertificateFile ssl/cert.pem\n"
                         "MDCertificateKeyFile %s\n</MDomain>" % key)
    assert rc == 0, out
    assert cert


# --- bad values: the captured texts of contract.md 5.1 ------------------------------

BAD_51 = [
    ("MDPrivateKeys", "needs to specify the private key type"),
    ("MDPrivateKeys Default RSA 1024", "'Default' allows no other parameter"),
    ("MDPrivateKeys RSA 1024", "must be 2048 or higher in order to be considered safe."),
    ("MDPrivateKeys RSA1024", "must be 2048 or higher in order to be considered safe."),
    ("MDPrivateKeys rsa 2048 rsa 4096", "two keys of type 'RSA' are not possible."),
    ("MDPrivateKeys p-256 secp384r1 P-256", "two keys of type 'P-256' are not possible."),
    ("MDPrivateKeys rsa 2147483647", "is too large for an RSA key length."),
    ("MDRenewWindow dec-31", "MDRenewWindow has unrecognized format"),
    ("MDRenewWindow 1y", "MDRenewWindow has unrecognized format"),
    ("MDRenewWindow 10 d", "MDRenewWindow takes one argument, Time length for renewal "
                           "before certificate expires (defaults to days)."),
    ("MDRenewWindow 102%", "MDRenewWindow a length of 100% or more is not allowed."),
    ("MDRenewWindow 100%", "MDRenewWindow a length of 100% or more is not allowed."),
    ("MDRenewWindow -5%", "MDRenewWindow percent must be less than 100"),
    ("MDWarnWindow 100%", "MDWarnWindow a length of 100% or more is not allowed."),
    ("MDWarnWindow -5%", "MDWarnWindow percent must be less than 100"),
    ("MDWarnWindow 2y", "MDWarnWindow has unrecognized format"),
    ("MDStaplingRenewWindow 100%",
     "MDStaplingRenewWindow with a length of 100% or more is not allowed."),
    ("MDStaplingRenewWindow -5%", "MDStaplingRenewWindow percent must be less than 100"),
    ("MDStaplingKeepResponse 2y", "MDStaplingKeepResponse has unrecognized format"),
    ("MDStaplingKeepResponse -5%", "MDStaplingKeepResponse percent must be less than 100"),
    ("MDHttpProxy localhost:8080", "uri scheme must be http or https"),
    ("MDHttpProxy ftp://p", "uri scheme must be http or https"),
    ("MDHttpProxy https://127.0.0.1:-443", "invalid port"),
    ("MDRequireHttps yes",
     "unknown 'yes', supported parameter values are 'temporary' and 'permanent'"),
    ("MDMustStaple yes", "unknown 'yes', supported parameter values are 'on' and 'off'"),
    ("MDBaseServer yes", "unknown 'yes', supported parameter values are 'on' and 'off'"),
    ("MDStapling 1", "unknown '1', supported parameter values are 'on' and 'off'"),
    ("MDStapleOthers true",
     "unknown 'true', supported parameter values are 'on' and 'off'"),
    ("MDServerStatus x", "unknown 'x', supported parameter values are 'on' and 'off'"),
    ("MDCertificateStatus x", "unknown 'x', supported parameter values are 'on' and 'off'"),
    ("MDRenewViaARI x", "unknown 'x', supported parameter values are 'on' and 'off'"),
    ("MDProfileMandatory x", "unknown 'x', supported parameter values are 'on' and 'off'"),
    ("MDCertificateAuthority yes",
     "The CA name 'yes' is not known and it is not a URL either (missing uri scheme). "
     "Known CA names are: LetsEncrypt LetsEncrypt-Test Buypass Buypass-Test."),
    ('MDCertificateAuthority letsencrypt "https://a b.org"',
     "The CA name 'https://a b.org' is not known and it is not a URL either "
     "(whitespace in uri)."),
    ("MDRenewMode sometimes", "unknown MDDriveMode sometimes"),
    ("MDDriveMode sometimes", "unknown MDDriveMode sometimes"),
    ("MDPortMap 80", "no ':' after first port number"),
    ("MDPortMap abc:80", "no ':' after first port number"),
    ("MDPortMap 81:8080", "mapped port number must be 80 or 443"),
    ("MDPortMap :80", "mapped port number must be 80 or 443"),
    ("MDPortMap 80:0", "invalid number for port map, must be in ]0,65535]"),
    ("MDPortMap 80:70000", "invalid number for port map, must be in ]0,65535]"),
    ("MDPortMap https:abc", "invalid number for port map, must be in ]0,65535]"),
    ("MDPortMap 99999999999999999999:80", "unable to parse first port number"),
    ("MDPortMap 80:99999999999999999999", "unable to parse second port number"),
    ("MDChallengeDns01Version 3", "Only versions `1` and `2` are supported"),
    ("MDRetryFailover 0", "invalid argument, must be a number > 0"),
    ("MDRetryFailover -1", "invalid argument, must be a number > 0"),
    ("MDRetryDelay 0", "minimum delay must be greater than 0"),
    ("MDRetryDelay xyz", "unrecognized duration format"),
    ("MDActivationDelay 3x", "unrecognized duration format"),
    ("MDCheckInterval x", "unrecognized duration format"),
    ("MDInitialDelay x", "unrecognized duration format"),
    ("MDCheckInterval 0", "check interval cannot be less than one second"),
    ("MDCheckInterval 500ms", "check interval cannot be less than one second"),
    ("MDInitialDelay -5", "initial delay must not be negative"),
    ("MDStoreLocks maybe", "neither 'on', 'off' or a duration specified"),
    ("MDMatchNames some", "invalid argument, must be a 'all' or 'servernames'"),
    ("MDMember foo", 'unknown value, use "auto|manual"'),
    ("MDMembers a.org b.org",
     "MDMembers is only valid inside a '<MDomainSet' context, not here"),
    ("MDCertificateFile x",
     "MDCertificateFile is only valid inside a '<MDomainSet' context, not here"),
    ("MDCertificateKeyFile x",
     "MDCertificateKeyFile is only valid inside a '<MDomainSet' context, not here"),
    ("MDExternalAccountBinding /nonexist.json",
     "MDExternalAccountBinding: file not found: /nonexist.json"),
    ("MDExternalAccountBinding /etc/passwd",
     "MDExternalAccountBinding: error reading JSON file /etc/passwd"),
    ("MDomain", "needs at least one domain name"),
    ("MDomain auto", "needs at least one domain name"),
    ("<MDomainSet a.org\n</MDomainSet>", "<MDomainSet> directive missing closing '>'"),
    ("<MDomain >\n</MDomain>", "<MDomainSet > section must specify a unique domain name"),
    ("<MDomain a.org>\nMDStoreDir x\n</MDomain>",
     "MDStoreDir is not allowed inside an '<MDomainSet' context"),
    ("<MDomain a.org>\nMDomain b.org\n</MDomain>",
     "MDomain is not allowed inside an '<MDomainSet' context"),
    ("<MDomain a.org>\n<MDomain b.org>\n</MDomain>\n</MDomain>",
     "<MDomain is not allowed inside an '<MDomainSet' context"),
    ("<MDomainSet a.org>\n<MDomainSet b.org>\n</MDomainSet>\n</MDomainSet>",
     "<MDomainSet is not allowed inside an '<MDomainSet' context"),
    ("<Directory />\nMDRequireHttps temporary\n</Directory>",
     "MDRequireHttps cannot occur within <Directory> section"),
    ("<Location />\nMDRequireHttps temporary\n</Location>",
     "MDRequireHttps cannot occur within <Location> section"),
    ("<Directory />\nMDStapling on\n</Directory>",
     "MDStapling not allowed in <Directory> context"),
    ("<Location />\nMDomain a.org\n</Location>", "MDomain not allowed in <Location> context"),
    ("MDContactEmail",
     "MDContactEmail takes one argument, Email address used for account registration"),
    ("MDCertificateCheck crt", "MDCertificateCheck takes two arguments, Set name and URL "
                               "pattern for a certificate monitoring site."),
    ("MDExternalAccountBinding a b c",
     "MDExternalAccountBinding takes 1-2 arguments, Set the external account binding "
     "keyid and hmac values to use at CA"),
    ("MDPortMap 443:80 443:90 80:1", "MDPortMap takes 1-2 arguments, Declare the mapped "
                                     "ports 80 and 443 on the local server."),
]


@pytest.mark.parametrize("extra,text", BAD_51)
def test_010_bad_value(env, extra, text):
    rc, out = check(env, extra)
    assert rc != 0, out
    assert "Syntax error on line" in out
    assert error_text(out).startswith(text), out


# directives only ours has: a bad value stops `apache2 -t` naming it
OURS_BAD = [
    ("MDActivation sometimes",
     "unknown 'sometimes', supported parameter values are 'restart' and 'live'"),
    ("MDCRLCheck maybe",
     "MDCRLCheck: unknown 'maybe', supported parameter values are 'auto', 'on' and 'off'"),
]


@pytest.mark.parametrize("extra,text", OURS_BAD)
def test_010_bad_value_ours_only(env, extra, text):
    rc, out = check(env, extra)
    assert rc != 0, out
    assert "Syntax error on line" in out
    assert error_text(out).startswith(text), out


def test_010_eab_file_errors(env):
    nokid = env.write_file("eab/nokid.json", json.dumps({"hmac": "aGVsbG8"}))
    nohmac = env.write_file("eab/nohmac.json", json.dumps({"kid": "k"}))
    good = env.write_file("eab/good.json", json.dumps({"kid": "k", "hmac": "aGVsbG8"}))
    badhmac = env.write_file("eab/bad.json", json.dumps({"kid": "k", "hmac": "a b"}))
    rc, out = check(env, "MDExternalAccountBinding eab/good.json")
    assert rc == 0, out
    rc, out = check(env, "MDExternalAccountBinding %s" % nokid)
    assert error_text(out) == ("MDExternalAccountBinding: JSON does not contain 'kid' "
                               "element in file %s" % nokid)
    rc, out = check(env, "MDExternalAccountBinding %s" % nohmac)
    assert error_text(out) == ("MDExternalAccountBinding: JSON does not contain 'hmac' "
                               "element in file %s" % nohmac)
    rc, out = check(env, "MDExternalAccountBinding eab/missing.json")
    assert error_text(out) == ("MDExternalAccountBinding: file not found: %s/eab/missing.json"
                               % env.root)
    rc, out = check(env, "MDExternalAccountBinding %s" % badhmac)
    assert rc == 0, out
    assert "not base64url encoded" in out and "[md:warn]" in out
    assert "a b" not in out     # never print the hmac


def test_010_eab_not_read_in_dump_mode(env):
    env.write_config("MDExternalAccountBinding /nonexist.json")
    rc, out = env.apache2("-t", "-D", "DUMP_CONFIG")
    assert rc == 0, out


# --- differential: same texts as the reference module ------------------------------------

DIFF_CASES = [extra for extra, _ in BAD_51 if "/nonexist" not in extra] + [
    "MDomain a.org",
    "MDCertificateAuthority",
    "MDCAChallenges",
    "MDNotifyCmd",
    "MDMembers auto",
    "MDChallengeDns01",
    "<MDomain a.org>\nMDMember b.org auto c.org\nMDRequireHttps permanent\n</MDomain>",
    "<VirtualHost *:80>\nMDStoreDir md2\nMDPortMap 80:81\n"
    "MDCertificateAuthority letsencrypt\nMDomain x.org\n</VirtualHost>",
    "MDRenewWindow 0%",
    "MDPortMap 80:- https:8443",
    "MDHttpProxy http://a_b:3128",
    "MDHttpProxy http://a.b:0",
    "MDCertificateAuthority http://a_b/dir",
    "MDCertificateAuthority https://a.b:0/dir",
    "MDCertificateAuthority https://a.b:-1/dir",
    "MDPortMap 80: 81",
    "MDRetryFailover abc",
]


@pytest.mark.parametrize("extra", DIFF_CASES)
def test_010_same_as_reference(env, ref_env, extra):
    rc, out = check(env, extra)
    ref_rc, ref_out = check(ref_env, extra)
    assert (rc == 0) == (ref_rc == 0), "ours: %s\nref: %s" % (out, ref_out)
    assert error_text(out) == error_text(ref_out)


def test_010_help_texts_as_reference(env, ref_env):
    """`apache2 -L` lists every directive with the original help text."""
    def directives(e):
        e.write_config("")
        rc, out = e.apache2("-L")
        assert rc == 0, out
        result, name = {}, None
        for line in out.splitlines():
            if not line.startswith("\t") and "(mod_md.c)" in line:
                name = line.split()[0]
            elif name and line.startswith("\t") and name not in result:
                result[name] = line.strip()
        return result
    ours, ref = directives(env), directives(ref_env)
    for name, text in ref.items():
        assert ours.get(name) == text, name
    # ours only: the original's MDCertificateMonitor name, MDCRLCheck (issue 15),
    # MDActivation (issue 14), MDStoreGroup (issue 16) and MDStoreDB (issue 17)
    assert set(ours) - set(ref) == {"MDCertificateMonitor", "MDCRLCheck", "MDActivation",
                                    "MDStoreGroup", "MDStoreDB"}


# --- accepted with a warning, as the original accepts them -----------------------------------
#
# Checks that the original does not make: the config starts (Debian runs
# `apache2 -t` before every restart), ours warns with AH10660 and a renewal
# reports the problem (see docs/compatibility.md).

WARNED = [
    ("MDomain bad_name.org", "MDomain: 'bad_name.org' is not a valid domain name"),
    ("MDomain a..org", "'a..org' is not a valid domain name"),
    ("MDomain -a.org", "'-a.org' is not a valid domain name"),
    ("MDomain a-.org", "'a-.org' is not a valid domain name"),
    ("MDomain %s.org" % ("a" * 64), "is not a valid domain name"),
    ("MDomain a.*.org", "'a.*.org' is not a valid domain name"),
    ("<MDomain a.org>\nMDMember b_c.org\n</MDomain>",
     "MDMember: 'b_c.org' is not a valid domain name"),
    ("MDomain münchen.example",
     "MDomain: 'm\\xc3\\xbcnchen.example' is not in the ASCII form "
     "'xn--mnchen-3ya.example' that CAs expect, it is used as written"),
    ("MDomain \udcff\udcfe.org", "is not a valid internationalized domain name"),
    ("MDPrivateKeys DSA", "MDPrivateKeys: unknown key type 'DSA' is ignored"),
    ("MDPrivateKeys rsa 4096 3072", "MDPrivateKeys: unknown key type '3072' is ignored"),
    ("MDPrivateKeys rsa abc", "MDPrivateKeys: unknown key type 'abc' is ignored"),
    ("MDPrivateKeys secp999r1", "MDPrivateKeys: unknown key type 'secp999r1' is ignored"),
    ("MDPrivateKeys rsa4096x",
     "MDPrivateKeys: '4096x' is not a valid RSA key length, the RSA key is ignored"),
    ("MDPrivateKeys rsa 99999", "MDPrivateKeys: 99999 bits is too large for an RSA key "
                                "length (at most 16384), the RSA key is ignored"),
    ("MDRenewWindow -5", "MDRenewWindow: a negative length is not possible, '-5' is "
                         "ignored"),
    ("MDWarnWindow -1d", "MDWarnWindow: a negative length is not possible"),
    ("MDCertificateAuthority ftp://x.org/dir",
     "MDCertificateAuthority: 'ftp://x.org/dir' is not an http(s) url (uri scheme must "
     "be http or https), renewals with this CA will fail"),
    ("MDCertificateAuthority http://x.org:99999/dir", "(invalid port)"),
    ("MDExternalAccountBinding kid1 hmac$$",
     "MDExternalAccountBinding: the hmac value is not base64url encoded, registering "
     "an account with it will likely fail"),
    ("MDCAChallenges http-01 foo-01", "MDCAChallenges: unknown challenge type 'foo-01'"),
    ("MDCertificateProtocol FOO", "MDCertificateProtocol: unknown CA protocol 'FOO', "
                                  "the only supported protocol is 'ACME'"),
    ("MDRetryFailover 1x", "MDRetryFailover: '1x' is not a plain number > 0, 1 is used"),
    ("MDRetryFailover 99999999999", "2147483647 is used"),
    ("MDStoreLocks -5", "MDStoreLocks: a negative lock wait time is not possible"),
    ("MDCACertificateFile /nonexist",
     "MDCACertificateFile: file '/nonexist' does not exist (yet)"),
    ("MDHttpProxyCACertificateFile /nonexist",
     "MDHttpProxyCACertificateFile: file '/nonexist' does not exist (yet)"),
    ("<MDomain a.org>\nMDCertificateFile /nonexist\nMDCertificateKeyFile nokey.pem\n"
     "</MDomain>", "MDCertificateKeyFile: file '%(root)s/nokey.pem' does not exist"),
    ("MDCertificateCheck crt.sh notaurl", "MDCertificateCheck: 'notaurl' is not an "
                                          "http(s) url"),
    ("<Files x>\nMDRequireHttps temporary\n</Files>",
     "MDRequireHttps inside a <Files> section applies to the whole server"),
    ("MDMatchNames servernames\nMDomain a.org\nMDomain A.ORG b.org",
     "AH10600: two Managed Domains have the same name 'a.org'"),
    ("MDomain *.a.org", "AH10602: *.a.org: the wildcard domain '*.a.org' can only be "
                        "validated with the challenge type 'dns-01', but no "
                        "MDChallengeDns01 command is configured"),
    ("MDChallengeDns01 /bin/true\n<MDomain *.a.org>\nMDCAChallenges http-01 "
     "tls-alpn-01\n</MDomain>", "AH10601: *.a.org: the wildcard domain '*.a.org' can "
                                 "only be validated with the challenge type 'dns-01', "
                                 "but MDCAChallenges does not include it"),
    ("MDomain münchen.example\nMDomain xn--mnchen-3ya.example", "AH10660"),
    ("<MDomain auto>\n</MDomain>", None),
    ("MDomain *", "MDomain: '*' is not a valid domain name"),
    ("MDomain a/b.org www.b.org", "MDomain: the Managed Domain 'a/b.org' is ignored, "
                                  "its name cannot be a directory in the store"),
    ("<MDomain .>\nMDRenewMode manual\n</MDomain>",
     "the Managed Domain '.' is ignored"),
    ("MDCertificateAuthority https://:443/dir", "MDCertificateAuthority: "
     "'https://:443/dir' is not an http(s) url (missing hostname)"),
    ("MDPortMap 80:8080x", "MDPortMap: '80:8080x' has more than a port number after "
                           "':', 8080 is used"),
    ('MDPortMap "http:81 "', "MDPortMap: 'http:81 ' has more than a port number"),
    ("MDPortMap 80:+81", None),
    ("MDRetryFailover +5", None),
    ("MDHttpProxy http://", "MDHttpProxy: 'http://' is not usable as a proxy (missing "
                            "hostname), requests through it will fail"),
    ("MDHttpProxy http://a.b:99999", "MDHttpProxy: 'http://a.b:99999' is not usable as "
                                     "a proxy (invalid port)"),
    ("MDActivationDelay 9999999999999d", "MDActivationDelay: '9999999999999d' is beyond "
                                         "the range of a duration, it is ignored"),
    ("MDInitialDelay -9999999999999d", "MDInitialDelay: '-9999999999999d' is beyond"),
    ("MDRenewWindow 9223372036854775807d", "MDRenewWindow: '9223372036854775807d' is "
                                           "beyond the range of a duration"),
]


@pytest.mark.parametrize("extra,text", WARNED)
def test_010_warned_like_reference(env, ref_env, extra, text):
    """Both modules pass `apache2 -t`; ours warns (level warn, AH number)."""
    rc, out = check(env, extra)
    ref_rc, ref_out = check(ref_env, extra)
    assert ref_rc == 0, ref_out
    assert rc == 0, out
    if text:
        text = text % {"root": env.root} if "%(root)s" in text else text
        lines = [l for l in out.splitlines() if text in l]
        assert lines, out
        assert all("[md:warn]" in l and re.search(r"AH106\d\d", l) for l in lines), out
    else:
        assert "[md:" not in out, out


# both modules start with these, and ours' running server keeps no error
START_SAME = [
    "MDomain bad_name.org\nMDomain münchen.example xn--mnchen-3ya.example\n"
    "MDPrivateKeys DSA rsa4096x\nMDRenewWindow -5\nMDCAChallenges http-01 foo-01\n"
    "MDExternalAccountBinding kid1 hmac$$\n"
    "MDRetryFailover 1x\nMDStoreLocks -5\nMDCACertificateFile /nonexist\n"
    "MDCertificateCheck crt.sh notaurl\n<Files x>\nMDRequireHttps temporary\n</Files>",
    "MDomain *.a.org",
    "MDMatchNames servernames\nMDomain a.org *.a.org\nMDomain sub.a.org",
    "MDMatchNames servernames\nMDomain a.org\nMDomain A.ORG b.org",
    "MDomain a/b.org\nMDomain .",
]


def test_010_unstorable_name_leaves_others(env):
    """An MD whose name cannot be a store directory is ignored; the others
    are synced and renewable (no AH10630 for the whole store)."""
    env.allow_log(r"AH10045", r"AH10660")
    env.write_config("MDCertificateAuthority http://127.0.0.1:1/dir\nMDRenewMode manual\n"
                     "MDomain a/b.org\nMDomain ..\nMDomain c.org\n")
    rc, out = env.start()
    assert rc == 0, out
    assert out.count("AH10660") >= 2, out
    assert os.path.isfile(os.path.join(env.store_dir, "domains", "c.org", "md.json"))
    assert not any("AH10630" in l or "[md:error]" in l for l in env.log_lines())


def test_010_protocol_starts(env, ref_env):
    """The original refuses to start at the store sync (AH10172) with a CA
    protocol other than 'ACME' (case-sensitive); ours starts, warns, and the
    renewal fails (test_415)."""
    extra = ("MDCertificateAuthority http://127.0.0.1:1/dir\nMDRenewMode manual\n"
             "MDCertificateProtocol FOO\nMDomain a.org\n")
    ref_env.allow_log(r"AH10045", r"unknown CA protocol 'FOO'", r"AH10172", r"AH00020")
    ref_env.write_config(extra)
    rc, out = ref_env.apache2("-t")
    assert rc == 0, out
    ref_env.start(wait=False)
    wait_for = time.time() + 10
    while time.time() < wait_for and "AH00020" not in "\n".join(ref_env.log_lines()):
        time.sleep(0.1)
    assert "AH10172" in "\n".join(ref_env.log_lines())
    env.allow_log(r"AH10045", r"AH10660: MDCertificateProtocol")
    env.write_config(extra)
    rc, out = env.start()
    assert rc == 0, out
    assert "AH10660" in out and "unknown CA protocol 'FOO'" in out
    # and once in the error log of the running server
    logged = [l for l in env.log_lines() if "AH10660" in l]
    assert len(logged) == 1 and "[md:warn]" in logged[0], logged


@pytest.mark.parametrize("extra", START_SAME)
def test_010_starts_like_reference(env, ref_env, extra):
    extra = "MDCertificateAuthority http://127.0.0.1:1/dir\nMDRenewMode manual\n" + extra
    for e in (env, ref_env):
        e.allow_log(r"AH10045", r"AH10398", r"AH10105", r"AH1060[012]", r"AH10660")
        e.write_config(extra)
        rc, out = e.start()
        assert rc == 0, out
        assert e.read_pid(), out
        e.stop()


def test_010_idn_vhost_starts(env, ref_env):
    """An internationalised ServerName/MDomain written in UTF-8: both start and
    answer on the https port the same way."""
    import ssl
    import socket
    answers = []
    for e in (env, ref_env):
        e.allow_log(r"AH10085", r"AH10045", r"AH10660: MDomain: 'm")
        e.write_config("MDCertificateAuthority http://127.0.0.1:1/dir\n"
                       "MDRenewMode manual\nMDomain münchen.example\n"
                       "<VirtualHost 127.0.0.1:%d>\n  ServerName münchen.example\n"
                       "  SSLEngine on\n</VirtualHost>\n" % e.https_port,
                       listen_https=True)
        rc, out = e.start()
        assert rc == 0, out
        e.wait_port(e.https_port)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", e.https_port), timeout=5) as raw:
            with ctx.wrap_socket(raw) as tls:
                tls.sendall("GET / HTTP/1.0\r\nHost: münchen.example\r\n\r\n"
                            .encode("utf-8"))
                head = tls.recv(200).decode("latin-1")
        assert head.startswith("HTTP/1.1 "), head
        answers.append(head.split("\r\n")[0])
        assert os.path.isdir(os.path.join(e.store_dir, "domains", "münchen.example"))
        e.stop()
    assert answers[0] == answers[1], answers


def test_010_overlap_names_both_definitions(env):
    extra = "MDomain a.org www.a.org\n# filler\nMDomain b.org WWW.A.org\n"
    env.write_config(extra)
    rc, out = env.apache2("-t")
    assert rc != 0
    l1, l2 = env.config_line("MDomain a.org"), env.config_line("MDomain b.org")
    assert ("AH10038: two Managed Domains have an overlap in domain 'www.a.org', first "
            "definition in %s(line %d), second in %s(line %d)" % (
                env.conf_path, l1, env.conf_path, l2)) in out
    assert "unknown(line 0)" not in out


def test_010_overlap_wildcard(env):
    extra = ("MDChallengeDns01 /bin/true\n<MDomain *.a.org>\n</MDomain>\n"
             "MDomain x.a.org\n")
    rc, out = check(env, extra)
    assert rc != 0
    assert "AH10038" in out and "'x.a.org'" in out
    # a wildcard does not cover the parent or deeper names
    rc, out = check(env, "MDChallengeDns01 /bin/true\nMDomain *.a.org\n"
                         "MDomain a.org\nMDomain x.y.a.org")
    assert rc == 0, out


def test_010_overlap_in_include(env):
    inc = env.write_file("conf/other.conf", "\n\nMDomain b.org a.org\n")
    rc, out = check(env, "MDomain a.org\nInclude %s\n" % inc)
    assert rc != 0
    assert "second in %s(line 3)" % inc in out


def test_010_overlap_allowed_with_servernames(env):
    rc, out = check(env, "MDMatchNames servernames\nMDomain a.org www.a.org\n"
                         "MDomain www.a.org\n")
    assert rc == 0, out
    rc, out = check(env, "MDMatchNames servernames\nMDomain a.org\nMDomain A.ORG b.org\n")
    assert rc == 0, out
    assert "[md:warn]" in out
    assert "AH10600: two Managed Domains have the same name 'a.org'" in out
    assert "the second is ignored" in out


def test_010_wildcard_without_dns01_warns(env):
    env.allow_log(r"AH10045", r"AH10601", r"AH10602")
    rc, out = check(env, "MDomain *.a.org")
    assert rc == 0, out
    assert "[md:warn]" in out and "AH10602" in out
    assert "no MDChallengeDns01 command is configured" in out
    rc, out = check(env, "MDChallengeDns01 /bin/true\n<MDomain *.a.org>\n"
                         "MDCAChallenges http-01 tls-alpn-01\n</MDomain>")
    assert rc == 0, out
    assert "[md:warn]" in out and "AH10601" in out
    rc, out = check(env, "MDCAChallenges http-01 dns-01\n<MDomain *.a.org>\n"
                         "MDChallengeDns01 /bin/true\n</MDomain>")
    assert rc == 0, out
    assert "AH1060" not in out


def test_010_static_files_pairs(env):
    cert = env.write_file("ssl/cert.pem", "x")
    rc, out = check(env, "<MDomain a.org>\nMDCertificateFile %s\n</MDomain>" % cert)
    assert rc != 0
    assert ("AH10170: The Managed Domain 'a.org' needs one MDCertificateKeyFile for "
            "each MDCertificateFile.") in out
    rc, out = check(env, "<MDomain a.org>\nMDCertificateKeyFile %s\n</MDomain>" % cert)
    assert rc != 0
    assert ("AH10171: The Managed Domain 'a.org' has MDCertificateKeyFile(s) but no "
            "MDCertificateFile.") in out


# --- crash resistance ------------------------------------------------------------------------------

def test_010_many_names_in_one_md(env):
    names = " ".join("n%d.example.org" % i for i in range(10000))
    start = time.time()
    rc, out = check(env, "MDomain example.org %s" % names)
    assert rc == 0, out[-500:]
    assert time.time() - start < 10
    rc, out = check(env, "<MDomain example.org>\nMDMembers %s\n</MDomain>" % names)
    assert rc == 0, out[-500:]


def test_010_many_mds(env):
    extra = "\n".join("MDomain d%d.example.org www.d%d.example.org" % (i, i)
                      for i in range(2000))
    rc, out = check(env, extra)
    assert rc == 0, out[-500:]
    extra += "\nMDomain www.d1999.example.org"
    rc, out = check(env, extra)
    assert rc != 0
    assert "AH10038" in out


@pytest.mark.parametrize("extra", [
    'MDomain ""',
    'MDomain "" a.org',
    'MDMember ""',
    'MDPrivateKeys ""',
    'MDPrivateKeys rsa ""',
    'MDRenewWindow ""',
    'MDRetryDelay ""',
    'MDPortMap ""',
    'MDPortMap ":"',
    'MDStoreDir ""',
    'MDCertificateAuthority ""',
    'MDCAChallenges ""',
    'MDExternalAccountBinding "" ""',
    'MDRequireHttps ""',
    'MDMustStaple ""',
    'MDRenewWindow %',
    'MDRenewWindow 99999999999999999999%',
    'MDRenewWindow 9223372036854775807d',
    'MDRetryDelay -9223372036854775808',
    'MDPortMap 80:-1',
    'MDPrivateKeys %s' % ("x" * 100000),
    'MDomain %s' % ("a" * 100000),
    'MDomain é',
    'MDomain ☃.net',
    'MDomain xn--.org',
    'MDomain *.*.org',
    'MDomain *',
    'MDomain .',
    'MDCertificateAuthority %s' % ("https://a.org/" + "x" * 100000),
    'MDContactEmail %s' % ("x" * 100000),
    'MDMessageCmd %s' % ("x" * 100000),
    '<MDomain a.org "">\n</MDomain>',
    '<MDomain "">\n</MDomain>',
    '<MDomain a.org>>\n</MDomain>',
])
def test_010_no_crash(env, extra):
    rc, out = check(env, extra)
    assert rc in (0, 1), out[-1000:]
    assert "Segmentation" not in out
    if rc != 0:
        assert "Syntax error" in out or "AH00014" in out, out[-1000:]


def test_010_idn_names(env):
    rc, out = check(env, "MDomain münchen.example xn--mnchen-3ya.example")
    assert rc == 0, out
    # names are not converted: two different MDs, as in the original
    rc, out = check(env, "MDomain münchen.example\nMDomain xn--mnchen-3ya.example")
    assert rc == 0, out


# --- values reach the MDs: section, else global, else default (md.json) -----------------------

def test_010_md_properties_in_store(env):
    env.allow_log(r"AH10045", r"AH10105")
    env.write_config("""
MDRenewMode manual
MDMembers manual
MDContactEmail admin@a.org
MDCertificateAuthority https://127.0.0.1:1/dir
MDPrivateKeys P-256
<MDomain a.org www.a.org auto>
  MDRenewWindow 40%%
  MDWarnWindow 10d
  MDPrivateKeys secp384r1 rsa3072
  MDRequireHttps permanent
  MDCAChallenges http-01 http-01
  MDContactEmail mailto:other@a.org
  MDCertificateAuthority letsencrypt-test
  MDRenewViaARI off
  MDStapling on
  MDExternalAccountBinding kid-1 aGVsbG8
  MDProfile shortlived
  MDChallengeDns01 /bin/true
</MDomain>
MDomain B.org
<VirtualHost 127.0.0.1:%d>
  ServerName a.org
  MDRenewWindow 20%%
  MDMustStaple on
</VirtualHost>
""" % env.http_port)
    rc, out = env.start()
    assert rc == 0, out

    def md_json(name):
        with open("%s/domains/%s/md.json" % (env.store_dir, name)) as f:
            return json.load(f)
    a, b = md_json("a.org"), md_json("b.org")
    assert a["domains"] == ["a.org", "www.a.org"]
    assert a["transitive"] == 1
    assert a["contacts"] == ["mailto:other@a.org"]
    assert a["ca"]["urls"] == ["https://acme-staging-v02.api.letsencrypt.org/directory"]
    assert a["ca"]["challenges"] == ["http-01"]
    assert a["privkey"] == [{"type": "EC", "curve": "secp384r1"},
                            {"type": "RSA", "bits": 3072}]
    assert a["renew-mode"] == 0
    assert a["renew-window"] == "40%"
    assert a["warn-window"] == "10d"
    assert a["require-https"] == "permanent"
    assert a["must-staple"] is False        # vhost values do not change MDs
    assert a["stapling"] is True
    assert a["ari-renewals"] is False
    assert a["eab"] == {"kid": "kid-1", "hmac": "aGVsbG8"}
    assert a["profile"] == "shortlived"
    assert a["cmd-dns-01"] == "/bin/true"
    # b.org: global values, then defaults
    assert b["domains"] == ["b.org"]
    assert b["transitive"] == 0
    assert b["contacts"] == ["mailto:admin@a.org"]
    assert b["ca"]["urls"] == ["https://127.0.0.1:1/dir"]
    assert "challenges" not in b["ca"]
    assert b["privkey"] == {"type": "EC", "curve": "P-256"}
    assert b["renew-window"] == "33%"
    assert b["warn-window"] == "10%"
    assert "require-https" not in b
    assert b["stapling"] is False
    assert b["ari-renewals"] is True
    assert "eab" not in b and "cmd-dns-01" not in b
    # the harness: graceful restart and stop
    assert env.graceful()
    env.stop()


# --- CAs that no longer issue (issue 15) ---------------------------------------------------

GONE_CA = ("AH10740: %s: the CA Buypass (https://api.buypass.com/acme/directory) no "
           "longer issues certificates via ACME (since 2025-10), renewals from it will "
           "fail. Configure a current CA with MDCertificateAuthority, e.g. LetsEncrypt")


@pytest.mark.parametrize("ca", ["buypass", "https://api.buypass.com/acme/directory"])
def test_010_gone_ca_warns(env, ca):
    # the name stays accepted; 'apache2 -t' and the start each warn once per MD,
    # by name or by url; manual renewal: nothing contacts the CA here
    conf = """
MDRenewMode manual
<MDomain gone.org>
  MDCertificateAuthority %s
</MDomain>
MDomain current.org
""" % ca
    rc, out = env.test_config(conf)
    assert rc == 0, out
    assert out.count("AH10740") == 1, out
    assert GONE_CA % "gone.org" in out
    env.allow_log(r"AH10045", r"AH10740")
    rc, out = env.start()
    assert rc == 0, out
    lines = [l for l in env.log_lines(since_start=True) if "AH10740" in l]
    assert len(lines) == 1 and "[md:warn]" in lines[0], lines
    assert GONE_CA % "gone.org" in lines[0]


def test_010_gone_ca_in_failover_list(env):
    conf = "MDRenewMode manual\nMDCertificateAuthority letsencrypt Buypass-Test\n" \
           "MDomain a.org\nMDomain b.org\n"
    rc, out = env.test_config(conf)
    assert rc == 0, out
    assert out.count("AH10740") == 2, out
    assert "a.org: the CA Buypass-Test (https://api.test4.buypass.no/acme/directory)" in out
    rc, out = env.test_config("MDRenewMode manual\nMDCertificateAuthority letsencrypt\n"
                              "MDomain a.org\n")
    assert rc == 0 and "AH10740" not in out, out
