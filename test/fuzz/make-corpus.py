#!/usr/bin/python3
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# (Re)writes the seed corpora test/fuzz/corpus/<target>/seed-* from the unit
# test fixtures and the examples of the interface spec. Files found by
# fuzzing (crash-*, regression-*) are kept. Run from anywhere; with target
# names as arguments only their corpora are written (keys are generated
# anew on each run, so the others would change for nothing).

import glob
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(TOP, "test", "unit", "data")
CA = "https://ca.fuzz"
ONLY = sys.argv[1:]


def seeds(target, items):
    if ONLY and target not in ONLY:
        return
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "seed-*")):
        os.unlink(f)
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = item.encode()
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(item)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def files(*patterns):
    out = []
    for pat in patterns:
        out += [read(p) for p in sorted(glob.glob(os.path.join(DATA, pat)))]
    return out


# directive values: first byte = flags
values = ["30d", "10%", "33%", "1d", "12h", "500ms", "2w", "5s", "0", "-1", "99%",
          "100%", "30", "1h 2m", "https://acme.example.org/dir", "http://127.0.0.1:9/dir",
          "https://[::1]:443/x", "mailto:admin@example.org", "acme.example.org",
          "*.example.org", "example.org", "xn--bcher-kva.example", "a..b", "-a.example",
          "https:/x", "http://host:99999/", "LetsEncrypt", "urn:ietf:params:acme"]
seeds("fuzz_directives", [bytes([f]) + v.encode() for f in (0, 7) for v in values])

md_json = {
    "name": "example.org", "domains": ["example.org", "www.example.org"],
    "contacts": ["mailto:admin@example.org"], "transitive": 1,
    "ca": {"account": "ACME-localhost-0000", "proto": "ACME",
           "urls": ["https://localhost:14000/dir"], "agreement": "accepted"},
    "state": 2, "renew-mode": 1, "renew-window": "33%", "warn-window": "10%",
    "privkey": [{"type": "RSA", "bits": 2048}, {"type": "EC", "curve": "P-256"}],
    "must-staple": False, "proto": {"acme-tls/1": []}, "stapling": False,
    "cert": {"expires": "Wed, 21 Oct 2026 07:28:00 GMT"},
}
job_json = {
    "name": "example.org", "finished": True, "notified": True, "notified-renewed": True,
    "errors": 2, "last": {"status": 0, "detail": "done", "activity": "x",
                          "problem": "urn:ietf:params:acme:error:badNonce",
                          "valid-from": "Wed, 21 Oct 2026 07:28:00 GMT"},
    "log": {"entries": [{"when": "Wed, 21 Oct 2026 07:28:00 GMT", "type": "progress",
                         "detail": "Waiting"}]},
    "next-run": "Wed, 21 Oct 2026 07:28:00 GMT",
}
acct_json = {"status": "valid", "url": CA + "/acct/1", "ca-url": CA + "/dir",
             "contact": ["mailto:a@example.org"], "registration": {"status": "valid"},
             "agreement": CA + "/tos"}
order_json = {"url": CA + "/order/1", "status": "pending",
              "authorizations": [CA + "/authz/1"], "challenge-setups": ["x"],
              "finalize": CA + "/finalize/1", "certificate": CA + "/cert/1"}
ocsp_json = {"response": "MIIB", "status": "good",
             "valid": {"from": "Wed, 21 Oct 2026 07:28:00 GMT",
                       "until": "Thu, 22 Oct 2026 07:28:00 GMT"}}
store = [json.dumps(x, indent=2) for x in (md_json, job_json, acct_json, order_json,
                                          ocsp_json, {"type": "RSA", "bits": 4096},
                                          [{"type": "EC", "curve": "secp384r1"}])]
store += files("status/job-*.json", "store_v1/md_store.json", "store_v1/*/*/*.json")
seeds("fuzz_store_json", store)

seeds("fuzz_pem", files("*.pem", "*.key", "store_v1/*/*/*.pem", "ocsp/*.pem",
                        "status/*.pem"))
seeds("fuzz_ocsp", files("ocsp/resp-*.der"))

directory = json.dumps({"newNonce": CA + "/nonce", "newAccount": CA + "/new-acct",
                        "newOrder": CA + "/new-order", "revokeCert": CA + "/revoke",
                        "keyChange": CA + "/key-change", "renewalInfo": CA + "/ari",
                        "meta": {"termsOfService": CA + "/tos",
                                 "externalAccountRequired": True,
                                 "profiles": {"classic": "x", "tlsserver": "y"}}})
order = json.dumps({"status": "ready", "expires": "2026-10-21T07:28:00Z",
                    "identifiers": [{"type": "dns", "value": "example.org"}],
                    "authorizations": [CA + "/authz/1", CA + "/authz/2"],
                    "finalize": CA + "/finalize/1", "certificate": CA + "/cert/1"})
authz = json.dumps({"status": "pending", "identifier": {"type": "dns",
                                                        "value": "example.org"},
                    "wildcard": False,
                    "challenges": [{"type": "http-01", "url": CA + "/chall/1",
                                    "token": "tok-1_abc", "status": "pending"},
                                   {"type": "tls-alpn-01", "url": CA + "/chall/2",
                                    "token": "tok-2", "status": "pending"},
                                   {"type": "dns-01", "url": CA + "/chall/3",
                                    "token": "tok-3", "status": "invalid",
                                    "error": {"type": "urn:ietf:params:acme:error:dns",
                                              "detail": "x"}}]})
problem = json.dumps({"type": "urn:ietf:params:acme:error:rateLimited",
                      "detail": "too many", "subproblems": [
                          {"type": "urn:ietf:params:acme:error:rejectedIdentifier",
                           "identifier": {"type": "dns", "value": "x"}}]})
account = json.dumps({"status": "valid", "contact": ["mailto:a@example.org"],
                      "orders": CA + "/orders/1"})
chain = files("crypto-chain.pem")[0] if files("crypto-chain.pem") else b""
# byte 0: 0 directory, 1 order, 2 authz, 3 chain, 4 account; byte 1: status
# index (0 = 200, 3 = 400, 8 = 500); byte 2: content type (0 json, 1 problem,
# 2 pem chain, 3 none) and header bits 0x10.. 0x80
acme = [bytes([0, 0, 0]) + directory.encode(), bytes([0, 9, 0x21]) + problem.encode(),
        bytes([1, 0, 0x10]) + order.encode(), bytes([1, 3, 1]) + problem.encode(),
        bytes([2, 0, 0x20]) + authz.encode(), bytes([2, 7, 0xa1]) + problem.encode(),
        bytes([3, 0, 0x42]) + chain, bytes([3, 0, 0x03]) + chain,
        bytes([4, 0, 0]) + account.encode(), bytes([4, 5, 1]) + problem.encode()]
authz_valid = json.dumps({"status": "valid", "identifier": {"type": "dns",
                                                             "value": "example.org"},
                          "wildcard": True, "expires": "2026-10-21T07:28:00Z",
                          "challenges": [{"type": "dns-01", "url": CA + "/chall/3",
                                          "token": "tok-3", "status": "valid",
                                          "validated": "2026-10-20T07:28:00.123+02:00"}]})
authz_invalid = json.dumps({"status": "invalid", "identifier": {"type": "dns",
                                                                "value": "-x.example.org"},
                            "challenges": [{"type": "http-01", "url": CA + "/chall/1",
                                            "token": "../../etc", "status": "invalid",
                                            "error": {"type": "urn:ietf:params:acme:error:"
                                                      "unauthorized", "detail": "404",
                                                      "subproblems": []}}]})
acme += [bytes([2, 0, 0x30]) + authz_valid.encode(),
         bytes([2, 0, 0]) + authz_invalid.encode(),
         bytes([2, 0, 0]) + b'{"status": "pending", "identifier": {"value": "a/b"}}']
seeds("fuzz_acme", acme)

# response header blocks ("Name: value" lines)
seeds("fuzz_http_headers", [
    "Retry-After: 120\r\nReplay-Nonce: abc_DEF-123\r\nLocation: " + CA + "/order/1\r\n",
    "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\nLink: <" + CA + "/chain/2>;rel=\"alternate\"\n",
    "Retry-After: -5\nRetry-After: 99999999999999999999\n",
    "Retry-After:    2026-10-21T07:28:00Z\nContent-Type: application/json; charset=utf-8\n",
    "Link: <" + CA + "/dir>;rel=\"index\", <" + CA + "/tos>;rel=\"terms-of-service\"\n",
])

# renewalInfo documents (RFC 9773), ari.json entries, RFC 3339 timestamps
seeds("fuzz_ari", [
    json.dumps({"suggestedWindow": {"start": "2026-10-21T07:28:00Z",
                                    "end": "2026-10-22T07:28:00Z"},
                "explanationURL": CA + "/why"}),
    json.dumps({"suggestedWindow": {"start": "2026-10-21T07:28:00.999999+05:30",
                                    "end": "2026-10-21T07:28:00-23:59"}}),
    json.dumps({"suggestedWindow": {"start": "2026-02-30T25:61:61Z", "end": 5}}),
    json.dumps({"id": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", "window": {
        "start": "Wed, 21 Oct 2026 07:28:00 GMT", "end": "Thu, 22 Oct 2026 07:28:00 GMT"},
        "explanation": CA + "/why", "renew-at": "Wed, 21 Oct 2026 09:00:00 GMT",
        "next-poll": "Wed, 21 Oct 2026 13:28:00 GMT"}),
    "2026-11-30T11:54:24Z", "1985-04-12T23:20:50.52Z", "1996-12-19T16:39:57-08:00",
    "9999-12-31T23:59:60Z",
])

# private keys: byte 0 = 0 the store key, 1 a wrong one, 2 none (fuzz_pkcs8.c)
FUZZ_KEY = "fuzz-store-key-0123456789abcdef0123456789abcdef!"


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data, check=True,
                          capture_output=True).stdout


ec = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
rsa = openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024")
enc = [openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256",
               "-passout", "pass:" + FUZZ_KEY, data=k) for k in (ec, rsa)]
seeds("fuzz_pkcs8", [bytes([0]) + enc[0], bytes([0]) + enc[1], bytes([1]) + enc[0],
                     bytes([2]) + ec, bytes([2]) + rsa, bytes([0]) + ec])

# command lines (MDMessageCmd, MDNotifyCmd, MDChallengeDns01)
seeds("fuzz_cmd_argv", [
    "/usr/bin/logger -t mod_md", "'/opt/my scripts/notify' --flag \"a b\" c\\ d",
    "  leading   and trailing  ", "\"unterminated", "a\\", "", "x ''  \"\"",
])
# chain file NUL key file (fuzz_chain_key.c): a self-signed certificate
# of every key type with its key as mod_md writes it (PKCS#8) and in the
# traditional forms, a certificate with the test CA's chain, mismatches
def selfsigned(key):
    with open("/tmp/md-fuzz-corpus-key.pem", "wb") as f:
        f.write(key)
    try:
        return openssl("req", "-new", "-x509", "-key", "/tmp/md-fuzz-corpus-key.pem",
                       "-subj", "/CN=fuzz.example", "-days", "30",
                       "-addext", "subjectAltName=DNS:fuzz.example")
    finally:
        os.unlink("/tmp/md-fuzz-corpus-key.pem")


ck_keys = {
    "rsa": openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"),
    "p256": ec,
    "p384": openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"),
    "ed25519": openssl("genpkey", "-algorithm", "ED25519"),
}
ck_certs = {name: selfsigned(key) for name, key in ck_keys.items()}
ck = []
for name, key in ck_keys.items():
    ck += [bytes([0]) + ck_certs[name] + b"\0" + key,
           bytes([0]) + ck_certs[name] + chain + b"\0" + key,
           bytes([1]) + ck_certs[name] + b"\0" + key]
ck += [bytes([0]) + ck_certs["rsa"] + b"\0" + openssl("rsa", "-traditional", data=ck_keys["rsa"]),
       bytes([0]) + ck_certs["p256"] + b"\0" + openssl("ec", data=ec),
       bytes([0]) + ck_certs["p256"] + b"\0" + openssl("ec", "-conv_form", "compressed",
                                                        data=ec),
       bytes([0]) + ck_certs["p384"] + b"\0" + openssl("ec", "-no_public",
                                                        data=ck_keys["p384"]),
       bytes([0]) + ck_certs["rsa"] + b"\0" + ck_keys["p256"],
       bytes([0]) + ck_certs["p256"] + b"\0" + ck_keys["p384"],
       bytes([0]) + ck_certs["p384"] + b"\0" + ck_keys["ed25519"],
       bytes([0]) + ck_certs["rsa"] + b"\0" + rsa,
       bytes([0]) + chain, bytes([0]) + ck_certs["p256"] + b"junk\n" + ck_certs["rsa"]]
ck += [bytes([0]) + f for f in files("crypto-leaf1.pem", "crypto-small-junk.pem",
                                     "crypto-large-junk.pem", "status/status-sct.pem")]
ck += [bytes([0]) + read(os.path.join(DATA, "crypto-leaf1.pem")) + b"\0"
       + read(os.path.join(DATA, k)) for k in ("crypto-rsa-trad.key", "crypto-ec-trad.key")]
seeds("fuzz_chain_key", ck)

# md.json NUL job.json NUL certificate NUL ari.json (fuzz_status.c); byte 0
# picks staged-live, renewal due, watched, error, OCSP data, no job, gaps
ari_entry = json.dumps({"id": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", "window": {
    "start": "Wed, 21 Oct 2026 07:28:00 GMT", "end": "Thu, 22 Oct 2026 07:28:00 GMT"},
    "explanation": CA + "/why", "renew-at": "Wed, 21 Oct 2026 09:00:00 GMT",
    "next-poll": "Wed, 21 Oct 2026 13:28:00 GMT"}).encode()
crl = json.dumps({"status": "revoked", "url": "http://crl.fuzz/ca.crl",
                  "reason": "keyCompromise"}).encode()
md_incomplete = dict(md_json, state=1, **{"state-descr": "no certificate yet",
                                          "eab": {"kid": "k", "hmac": "secret"},
                                          "proxy": "http://user:pw@proxy.fuzz:3128"})
md_static = dict(md_json, name="static.example.org", **{
    "cert-files": ["/etc/ssl/a.pem"], "pkey-files": ["/etc/ssl/a.key"]})
st_md = [json.dumps(m).encode() for m in (md_json, md_incomplete, md_static)]
st_md += files("store_v1/domains/*/md.json")
st_jobs = [json.dumps(job_json).encode()] + files("status/job-*.json")
st_certs = files("status/status-*.pem", "crypto-chain.pem")
st = []
for i, m in enumerate(st_md):
    for j, job in enumerate(st_jobs):
        cert = st_certs[(i + j) % len(st_certs)]
        st.append(bytes([(i * 5 + j * 3) % 128]) + m + b"\0" + job + b"\0" + cert + b"\0"
                  + (ari_entry if j % 2 else crl))
st += [bytes([0x10]) + st_md[0] + b"\0\0" + st_certs[0], bytes([0]) + st_md[0],
       bytes([0x7f]) + st_md[1] + b"\0{}\0\0{}"]
seeds("fuzz_status", st)

# configuration files for the real directive handlers (fuzz_config.c);
# byte 0: 1 config test, 2 DUMP_ define, 4 no md_config_check
conf_global = """MDCertificateAuthority https://acme.example.org/dir letsencrypt
MDCertificateAgreement accepted
MDCAChallenges http-01 tls-alpn-01 dns-01
MDCertificateProtocol ACME
MDContactEmail admin@example.org
MDRenewMode auto
MDActivation live
MDPortMap http:80 https:8443
MDPrivateKeys RSA 3072 secp384r1 Ed25519
MDHttpProxy http://user:pw@proxy.example:3128
MDStoreDir md-store
MDStoreGroup www-data
MDRenewWindow 33%
MDRequireHttps permanent
MDNotifyCmd /usr/bin/logger -t "md notify"
MDMessageCmd '/opt/my scripts/msg' a\\ b
MDBaseServer on
MDChallengeDns01 /usr/local/bin/dns01.sh
MDChallengeDns01Version 2
MDServerStatus on
MDCertificateStatus off
MDWarnWindow 10d
MDStapling on
MDStapleOthers off
MDStaplingKeepResponse 7d
MDStaplingRenewWindow 12h
MDCRLCheck auto
MDCertificateCheck crt.sh https://crt.sh?q=
MDActivationDelay 1h
MDCACertificateFile /etc/ssl/certs/ca-certificates.crt
MDExternalAccountBinding kid-1 aGVsbG8td29ybGQtaG1hYy1rZXktMDEyMzQ1Njc4OQ
MDRetryDelay 5s
MDRetryFailover 13
MDStoreLocks on
MDMatchNames servernames
MDInitialDelay 90s
MDCheckInterval 12h
MDProfile tlsserver
MDProfileMandatory on
MDRenewViaARI off
MDomain example.org www.example.org auto
"""
conf_sections = """MDomain a.example.org
<MDomainSet b.example.org c.example.org manual>
  MDMember d.example.org
  MDMembers auto
  MDCertificateAuthority LetsEncrypt-Test
  MDPrivateKeys secp256r1 rsa2048
  MDRenewMode always
  MDMustStaple on
  MDCertificateFile /etc/ssl/b.pem
  MDCertificateKeyFile b.key
  MDExternalAccountBinding none
  MDProfile classic
</MDomainSet>
<MDomain *.e.example.org 192.0.2.7 [2001:db8::1]>
  MDCAChallenges dns-01
</MDomain>
<Directory /var/www>
  MDRequireHttps temporary
  MDStapling on
</Directory>
<Files x>
  MDRenewWindow 10%
</Files>
MDMember outside.example.org
"""
conf_bad = """MDomain
<MDomain>
</MDomain>
MDRenewWindow 101%
MDPortMap 80:99999 443:-
MDPrivateKeys RSA 1024 foo
MDCertificateAuthority ht!tp://x
MDRetryFailover -1
MDCertificateCheck onlyname
MDDriveMode sometimes
MDExternalAccountBinding /nonexistent/eab.json
MDomain a.example.org b.example.org
MDomain b.example.org
MDStoreDir ""
MDStoreGroup no-such-group-here
MDStoreGroup #99999
"""
seeds("fuzz_config", [bytes([f]) + c.encode() for c in (conf_global, conf_sections, conf_bad)
                      for f in (0, 1, 2, 4)])

print("corpus: seeds written to", os.path.join(HERE, "corpus"))
