# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Keep renewing when things go wrong: error back-off visible in job.json and
# md-status, CA failover past a refusing CA, a CA that rejects nonces or is
# restarted mid-order, renewals through an HTTP CONNECT proxy, a CA dribbling
# its answers, a broken store at start-up (corrupt md_store.json, store path
# not a directory) and two servers sharing one store with MDStoreLocks. In
# each case the server keeps serving and no valid certificate or key is lost.

import json
import os
import shutil
import subprocess
import threading
import time
from email.utils import parsedate_to_datetime

import pytest
import requests

from acme_proxy import proxy_factory  # noqa: F401
from faults import ConnectProxy, DribbleServer, refused_url
from md_acme_env import AcmeEnv, acme_factory, key_file, log_types, wait_until  # noqa: F401

ALWAYS_VALID = {"PEBBLE_VA_ALWAYS_VALID": "1"}


def ts(value):
    return parsedate_to_datetime(value).timestamp()


def errors_of(ae, name):
    return (ae.job(name) or {}).get("errors", 0)


def wait_errors(ae, name, n, timeout=60):
    return ae.wait_job(name, lambda j: j.get("errors", 0) >= n, timeout,
                       what="%d errors of %s" % (n, name))


def count_in_logs(envs, text):
    return sum(1 for e in envs for line in e.log_lines() if text in line)


# --- 1. retries --------------------------------------------------------------------------

def test_500_backoff_doubles_and_is_visible(acme_factory):
    """A CA that refuses connections: errors count up, the delay doubles from
    MDRetryDelay (jittered +-50%), job.json and md-status say what failed and
    when the next try is."""
    name = "retry.mdspec.org"
    ae = acme_factory()
    url = refused_url()
    ae.write(["MDomain %s" % name], vhosts=[[name]], ca=False, retry_delay="1s",
             global_extra="MDCertificateAuthority %s" % url)
    ae.env.allow_log(r"AH10056|AH10057|md\[%s\]" % name, name)
    ae.start()
    job = wait_errors(ae, name, 3, timeout=40)
    assert job["finished"] is False
    last = job["last"]
    assert last["status"] != 0
    assert url.split("/dir")[0] in json.dumps(last), last
    delay = ts(job["next-run"]) - ts(job["last-run"])
    n = job["errors"]
    # the delay of the n-th error: 1s * 2^(n-1), +-50% (+ the run's own time)
    assert 0.5 * 2 ** (n - 1) - 1 <= delay <= 1.5 * 2 ** (n - 1) + 2, (n, delay)
    assert "renewal-error" in log_types(job)
    status = ae.md_status(name)
    assert status["renewal"]["errors"] >= 3
    assert status["renewal"]["last"]["status"] != 0
    assert "next-run" in status["renewal"]
    assert count_in_logs([ae.env], "AH10057") >= 3
    # the server keeps serving (fallback certificate) meanwhile
    assert ae.server_cert(name) is not None


def test_500_bad_input_problem_waits_longest(acme_factory):
    """A CA problem that waiting cannot heal (here: the CA refuses the
    contact address) goes straight to the 24 h delay."""
    name = "contact.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    ae.write(["<MDomain %s>" % name, "  MDContactEmail \"not an address@\"", "</MDomain>"],
             vhosts=[[name]], retry_delay="1s")
    ae.env.allow_log(name, r"AH10056|AH10057|invalidContact")
    ae.start()
    job = wait_errors(ae, name, 1, timeout=40)
    assert "invalidContact" in (job["last"].get("problem") or ""), job["last"]
    delay = ts(job["next-run"]) - ts(job["last-run"])
    assert 12 * 3600 - 5 <= delay <= 36 * 3600 + 5, delay
    time.sleep(3)
    assert errors_of(ae, name) == 1         # no second try soon


# --- 2. failover --------------------------------------------------------------------------

def test_500_failover_to_second_ca(acme_factory):
    """The first CA refuses connections; after MDRetryFailover errors the
    second (pebble) is used, the certificate comes from it and md-status
    names it after activation."""
    name = "failover.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    bad = refused_url()
    ae.write(["MDomain %s" % name], vhosts=[[name]], ca=False, retry_delay="1s",
             global_extra="MDCertificateAuthority %s %s\nMDCACertificateFile %s\n"
                          "MDRetryFailover 2" % (bad, ae.peb.url, ae.ca_file))
    ae.env.allow_log(r"AH10056|AH10057|md\[%s\]" % name, name)
    ae.start()
    ae.wait_staged(name, timeout=60)
    staged = ae.load_json("staging", name, "md.json")
    assert staged["ca"]["url"] == ae.peb.url
    assert staged["ca"]["urls"] == [bad, ae.peb.url]
    job = ae.job(name)
    assert job["errors"] == 0 and job["finished"] is True
    # two failed tries at the first CA were logged before
    assert count_in_logs([ae.env], "AH10057") >= 2
    ae.graceful()
    ae.wait_active(name)
    st = ae.md_status(name)
    assert st["ca"]["url"] == ae.peb.url
    assert ae.load_json("domains", name, "md.json")["ca"]["url"] == ae.peb.url


# --- 9. a CA misbehaving ------------------------------------------------------------------

def test_500_pebble_rejects_nonces(acme_factory):
    """pebble rejects a third of all nonces: badNonce is retried, the
    certificate arrives."""
    name = "nonce.mdspec.org"
    ae = acme_factory(pebble_env={"PEBBLE_WFE_NONCEREJECT": "33"})
    ae.write(["MDomain %s" % name], vhosts=[[name]], retry_delay="1s")
    ae.env.allow_log(r"AH10056|AH10057|md\[%s\]" % name, name)
    ae.start()
    ae.issue(name, timeout=90)
    cert = ae.server_cert(name)
    assert cert is not None


def test_500_pebble_restarted_mid_order(acme_factory):
    """pebble is stopped while the dns-01 challenge is being set up and
    started again (it forgets accounts and orders): the next try starts
    over with a new account and order instead of looping, once."""
    name = "restart.mdspec.org"
    ae = acme_factory()
    sleep_file = os.path.join(ae.out_dir, "hold")
    with open(sleep_file, "w"):
        pass
    dns = ae.dns_script(sleep_file=sleep_file)
    ae.write(["<MDomain %s>" % name, "  MDCAChallenges dns-01", "</MDomain>"],
             vhosts=[[name]], retry_delay="1s",
             global_extra="MDChallengeDns01 %s" % dns)
    ae.env.allow_log(r"AH10056|AH10057|md\[%s\]" % name, name, r"account .* is not "
                     r"accepted by the CA", r"accountDoesNotExist|http status 404")
    ae.start()
    wait_until(lambda: os.path.exists(ae.dns_log), 30, what="dns-01 setup")
    ae.peb.stop()
    ae.peb.start()
    os.remove(sleep_file)
    ae.wait_staged(name, timeout=90)
    job = ae.job(name)
    assert job["finished"] is True
    # it started over: few errors, not a loop until the next restart
    assert count_in_logs([ae.env], "AH10057") <= 3
    ae.graceful()
    ae.wait_active(name)


def test_500_dribbling_ca_times_out(acme_factory):
    """A CA that sends its answer at 12 bytes/s (above curl's low-speed limit)
    is given up after the request time limit (~60 s); another MD with a good
    CA gets its certificate meanwhile."""
    slow = DribbleServer().start()
    try:
        good, bad = "good.mdspec.org", "slow.mdspec.org"
        ae = acme_factory(pebble_env=ALWAYS_VALID)
        ae.write(["<MDomain %s>" % bad, "  MDCertificateAuthority %s" % slow.url,
                  "</MDomain>", "MDomain %s" % good],
                 vhosts=[[good], [bad]], retry_delay="1s")
        ae.env.allow_log(r"AH10056|AH10057|md\[%s\]" % bad, bad)
        ae.start()
        ae.wait_staged(good, timeout=40)
        assert errors_of(ae, bad) == 0      # still hanging on the slow CA
        wait_errors(ae, bad, 1, timeout=100)
        wait_until(lambda: slow.requests, 10, what="the dribbled request to end")
        start, end = slow.requests[0]
        assert 50 <= end - start <= 90, end - start
    finally:
        slow.stop()


# --- 6. network settings --------------------------------------------------------------------

def test_500_renewal_through_proxy(acme_factory):
    """MDHttpProxy: all ACME traffic goes through a CONNECT proxy."""
    proxy = ConnectProxy().start()
    try:
        name = "proxied.mdspec.org"
        ae = acme_factory(pebble_env=ALWAYS_VALID)
        ae.write(["MDomain %s" % name], vhosts=[[name]],
                 global_extra="MDHttpProxy %s" % proxy.url)
        ae.start()
        ae.wait_staged(name, timeout=60)
        assert proxy.tunnels, "no CONNECT seen"
        assert all(t.endswith(":%d" % ae.peb.port) for t in proxy.tunnels), proxy.tunnels
    finally:
        proxy.stop()


# --- 8. commands, store trouble ------------------------------------------------------------

def _issued(ae, name):
    ae.write(["MDomain %s" % name], vhosts=[[name]])
    ae.start()
    ae.issue(name)
    cert = ae.server_cert(name)
    ae.env.stop()
    return cert


@pytest.mark.parametrize("breakage", ["newer-store-json", "store-json-dir"])
def test_500_broken_store_still_serves(acme_factory, breakage):
    """md_store.json of a newer store version (or one that is a directory):
    not ours to replace. The server starts, serves the certificate domains/
    holds, logs AH10630, renews nothing and md-status shows the error.
    Nothing in the store is touched."""
    name = "broken.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    cert = _issued(ae, name)
    store_json = ae.path("md_store.json")
    if breakage == "newer-store-json":
        with open(store_json, "w") as f:
            f.write('{"store": {"version": 99}, "key": "x"}')
    else:
        os.remove(store_json)
        os.mkdir(store_json)
    before = sorted(os.path.join(d, f) for d, _, fs in os.walk(ae.store) for f in fs)
    ae.env.allow_log(r"AH10630|AH10631|AH10046|md_store.json|init fs store|"
                     r"failed to load JSON|version too new")
    ae.start()
    assert ae.server_cert(name).serial_number == cert.serial_number
    assert count_in_logs([ae.env], "AH10630") >= 1
    st = ae.md_status(name)
    assert "not usable" in json.dumps(st["renewal"]["last"]), st
    after = sorted(os.path.join(d, f) for d, _, fs in os.walk(ae.store) for f in fs)
    assert after == before


def test_500_corrupt_store_json_rekeyed(acme_factory):
    """md_store.json emptied between two starts (a power loss; issue 13,
    item 15): it is set aside with a timestamp, a new store key is made; the
    account and the staged renewal, encrypted with the old key, are set
    aside (accounts/broken-ID, archive/NAME.N), not removed; the current
    certificate keeps being served, md-status and the log say what happened,
    and the renewal is done again with a new account and key."""
    name = "rekey.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    cert = _issued(ae, name)
    # a renewal staged (key encrypted with the store key), not activated
    ae.write(["<MDomain %s>" % name, "  MDRenewWindow 3000d", "</MDomain>"],
             vhosts=[[name]])
    ae.start()
    ae.wait_staged(name, timeout=60)
    ae.env.stop()
    staged_key = open(ae.path("staging", name, key_file())).read()
    acct_key = open(ae.path("accounts", "ACME-localhost-0000", "account.pem")).read()
    store_json = ae.path("md_store.json")
    old_key = json.load(open(store_json))["key"]
    open(store_json, "w").close()
    ae.env.allow_log(r"AH10870|AH10872|AH10873|AH10046|md_store.json|init fs store|"
                     r"failed to load JSON", r"md\[%s\]" % name,
                     # the old key's files, tried with the new key
                     r"bad decrypt|error loading private key .*(account|privkey)\.pem")
    ae.start()
    assert ae.server_cert(name).serial_number == cert.serial_number
    asides = [f for f in os.listdir(ae.store) if f.startswith("md_store.json.corrupt-")]
    assert len(asides) == 1, asides
    assert open(ae.path(asides[0])).read() == ""
    assert json.load(open(store_json))["key"] != old_key
    broken = ae.path("accounts", "broken-ACME-localhost-0000", "account.pem")
    assert open(broken).read() == acct_key
    archived = [d for d in os.listdir(ae.path("archive")) if d.startswith(name + ".")
                and ae.exists("archive", d, key_file())]
    assert [d for d in archived
            if open(ae.path("archive", d, key_file())).read() == staged_key], archived
    assert count_in_logs([ae.env], "AH10870") == 1
    assert count_in_logs([ae.env], "AH10872") == 2
    renewal = json.dumps(ae.md_status(name).get("renewal"))
    assert "store-key-lost" in renewal and asides[0] in renewal, renewal
    assert ("staging/%s -> archive/%s." % (name, name)) in renewal, renewal
    # renewals go on: a new account, a new key, activated at the next restart
    ae.wait_staged(name, timeout=60)
    assert open(ae.path("staging", name, key_file())).read() != staged_key
    assert sum(1 for line in ae.env.log_lines(since_start=True)
               if "registered new account" in line) == 1
    ae.graceful()
    ae.wait_active(name)
    wait_until(lambda: ae.server_cert(name).serial_number != cert.serial_number, 20,
               what="the renewed certificate served")


def test_500_store_path_not_a_directory(env_factory, acme_factory):
    """MDStoreDir names a file: the server starts with fallback certificates
    (kept outside the store), logs AH10630 and renews nothing."""
    name = "nodir.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    path = os.path.join(ae.env.root, "not-a-dir")
    with open(path, "w") as f:
        f.write("x")
    ae.write(["MDStoreDir %s" % path, "MDomain %s" % name], vhosts=[[name]])
    ae.env.allow_log(r"AH10630|AH10631|AH10046|md_store.json|init fs store|"
                     r"not a plain directory", r"is not usable: certificate file")
    ae.start()
    assert ae.server_cert(name) is not None
    assert count_in_logs([ae.env], "AH10630") >= 1
    time.sleep(2)
    assert open(path).read() == "x"


def test_500_store_path_not_a_directory_config_test(env_factory):
    """The same mistake is a clear error for `apache2 -t` (naming the
    directive and the path), while a real start goes on (test above)."""
    env = env_factory()
    path = os.path.join(env.root, "not-a-dir")
    with open(path, "w") as f:
        f.write("x")
    rc, out = env.test_config("MDStoreDir %s\nMDomain t.mdspec.org" % path)
    assert rc != 0, out
    assert "MDStoreDir" in out and path in out and "not a directory" in out, out


def test_500_permissions_repaired(acme_factory):
    """staging/ entries left owned by root (a restore): the parent hands them
    back to the child's user at start-up and the renewal works."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = "perms.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    os.makedirs(ae.path("staging", name))
    with open(ae.path("staging", name, "job.json"), "w") as f:
        json.dump({"name": name, "finished": False, "errors": 0}, f)
    ae.write(["MDomain %s" % name], vhosts=[[name]])
    ae.start()
    ae.wait_staged(name, timeout=60)
    assert os.stat(ae.path("staging", name)).st_uid != 0
    assert count_in_logs([ae.env], "AH10632") == 1


@pytest.mark.parametrize("breakage", ["store-dir-0700", "staging-entry-0500"])
def test_500_permissions_hint(acme_factory, breakage):
    """A restore left what the repair does not change wrong (the store
    directory 0700 root, a staging/ directory of User without write
    permission; issue 13, item 16): the error log (AH10874) and md-status
    name the path and the command to run; after running it and a graceful
    restart the renewal works and the hint is gone."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = "hint.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    _issued(ae, name)
    if breakage == "store-dir-0700":
        os.chmod(ae.store, 0o700)
        path, fix = ae.store, "chmod 755 %s" % ae.store
    else:
        path = ae.path("staging", name)
        os.makedirs(path, exist_ok=True)
        os.chown(path, _www_data().pw_uid, -1)
        os.chmod(path, 0o500)
        fix = "chmod -R u+rwX %s" % ae.path("staging")
    ae.write(["<MDomain %s>" % name, "  MDRenewWindow 3000d", "</MDomain>"],
             vhosts=[[name]], retry_delay="1s")
    ae.env.allow_log(r"AH10874", r"AH10056|AH10057", r"md\[%s\]" % name,
                     r"Permission denied|saving .*%s" % ae.store)
    ae.start()
    lines = set(line.split("AH10874")[1] for line in ae.env.log_lines()
                if "AH10874" in line)
    assert len(lines) == 1, lines
    line = lines.pop()
    assert (path + " (") in line and line.endswith("run: " + fix), line
    renewal = json.dumps(wait_until(lambda: ae.md_status(name).get("renewal"), 20,
                                    what="md-status renewal"))
    assert "store-permissions" in renewal and fix in renewal, renewal
    subprocess.run(fix, shell=True, check=True)
    before = count_in_logs([ae.env], "AH10874")
    ae.graceful()
    ae.wait_staged(name, timeout=60)
    assert count_in_logs([ae.env], "AH10874") == before


def _www_data():
    import pwd
    return pwd.getpwnam("www-data")


def _generations(ae):
    return count_in_logs([ae.env], "resuming normal operations")


def test_500_fifo_in_staging_graceful_completes(acme_factory):
    """A FIFO that User put at staging/NAME/md.json: the parent reads it at
    the graceful restart without blocking (it waited forever for a writer),
    names it (AH10690), drops the staged set and serves on."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = "fifo.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    ae.write(["MDomain %s" % name], vhosts=[[name]])
    ae.start()
    ae.issue(name)
    cert = ae.server_cert(name)
    user = _www_data()
    staged = ae.path("staging", name)
    os.makedirs(staged, exist_ok=True)
    os.chown(staged, user.pw_uid, user.pw_gid)
    fifo = os.path.join(staged, "md.json")
    os.mkfifo(fifo)
    os.chown(fifo, user.pw_uid, user.pw_gid)
    ae.env.allow_log(r"AH10690: .*staging/%s/md.json is not a regular file" % name,
                     r"AH10069: %s: error loading staged set, purging it" % name)
    before = _generations(ae)
    ae.graceful()
    wait_until(lambda: _generations(ae) > before, 15, what="graceful restart done")
    assert ae.server_cert(name).serial_number == cert.serial_number
    assert count_in_logs([ae.env], "AH10690") >= 1
    assert not os.path.exists(fifo)


def test_500_links_in_staging_not_followed(acme_factory):
    """Links User put into staging/ point outside the store: root neither
    hands their targets to User at start-up (a hard link to a root file was
    chowned) nor removes or changes them when it purges staging/."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = "links.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    outside = os.path.join(ae.env.root, "outside")
    os.makedirs(outside)
    os.chmod(outside, 0o700)
    secret = os.path.join(outside, "secret")
    with open(secret, "w") as f:
        f.write("root only")
    os.chmod(secret, 0o600)
    staged = ae.path("staging", name)
    os.makedirs(staged)
    os.link(secret, os.path.join(staged, "hard.pem"))
    os.symlink(secret, os.path.join(staged, "privkey.pem"))
    os.symlink(outside, os.path.join(staged, "dir"))
    with open(os.path.join(staged, "job.json"), "w") as f:
        json.dump({"name": name, "finished": False, "errors": 1}, f)
    ae.write(["MDomain %s" % name], vhosts=[[name]])
    ae.start()
    ae.issue(name)
    for path, mode in ((secret, 0o600), (outside, 0o700)):
        st = os.lstat(path)
        assert (st.st_uid, st.st_mode & 0o7777) == (0, mode), (path, st)
    with open(secret) as f:
        assert f.read() == "root only"


# --- 5. two servers, one store ----------------------------------------------------------------

def _twin(acme_factory, env_factory, name, store_locks="on"):
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    extra = "MDStoreLocks %s" % store_locks
    ae.write(["MDomain %s" % name], vhosts=[[name]], global_extra=extra)
    env2 = env_factory(log_level="debug")
    body = ae.config(["MDStoreDir %s" % ae.store, "MDomain %s" % name], [],
                     global_extra=extra)
    body += ("<VirtualHost 127.0.0.1:%d>\n  ServerName %s\n  SSLEngine on\n"
             "</VirtualHost>\n" % (env2.https_port, name))
    env2.write_config(body, listen_https=True)
    for e in (ae.env, env2):
        e.allow_log(r"AH10085")
    return ae, env2


def test_500_two_servers_one_store(acme_factory, env_factory):
    """Two httpd on one store with MDStoreLocks: one renews, the other waits
    (one account, one staged set), then both restart together and serve the
    new certificate; the store stays consistent."""
    name = "twin.mdspec.org"
    ae, env2 = _twin(acme_factory, env_factory, name)
    ae.start()
    rc, out = env2.start()
    assert rc == 0, out
    ae.wait_staged(name, timeout=60)
    time.sleep(3)
    envs = [ae.env, env2]
    assert count_in_logs(envs, "registered new account") == 1
    assert count_in_logs(envs, "AH10052") == 1          # driven once
    assert count_in_logs(envs, "locked by another process") >= 1
    # restart both at the same time
    threads = [threading.Thread(target=e.graceful) for e in envs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ae.wait_active(name)
    c1 = ae.server_cert(name)
    c2 = wait_until(lambda: ae.server_cert(name, port=env2.https_port), 10,
                    what="server 2 cert")
    wait_until(lambda: ae.server_cert(name, port=env2.https_port).serial_number
               == c1.serial_number, 20, what="same certificate on both")
    assert c1.issuer != c1.subject and c2 is not None
    assert not ae.exists("staging", name, "md.json")
    assert len([d for d in os.listdir(ae.path("accounts"))
                if os.path.isdir(ae.path("accounts", d))]) == 1
    assert ae.exists("domains", name, "privkey.pem")
    for e in envs:
        e.stop()
    # restart both together again: nothing left to activate, nothing lost
    threads = [threading.Thread(target=e.start) for e in envs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ae.server_cert(name).serial_number == c1.serial_number
    assert ae.server_cert(name, port=env2.https_port).serial_number == c1.serial_number


# --- file system trouble (needs mount: root in a sandbox that allows it) ------------------------

def _mount(args, target):
    import subprocess
    p = subprocess.run(["mount"] + args + [target], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if p.returncode != 0:
        pytest.skip("cannot mount: %s" % p.stdout.decode(errors="replace"))


def _umount(target):
    import subprocess
    subprocess.run(["umount", "-l", target], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def _fill(dirpath):
    """Fills the file system of dirpath; returns the filler's path."""
    n = 0
    while os.path.exists(os.path.join(dirpath, "filler%d" % n)):
        n += 1
    path = os.path.join(dirpath, "filler%d" % n)
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    return path


def _count_entries(top):
    return sum(len(ds) + len(fs) for _, ds, fs in os.walk(top))


def test_500_full_disk_no_storm(acme_factory):
    """The store's file system is full: the renewal fails visibly (ERR), no
    storm of files or accounts, the back-off grows although job.json cannot
    be written, the server keeps serving; with space again it renews."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = "full.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    os.makedirs(ae.store)
    _mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs"], ae.store)
    try:
        ae.write(["MDomain %s" % name], vhosts=[[name]], retry_delay="1s")
        ae.env.allow_log(r"No space left|AH10056|AH10057|unable to save|store: |"
                         r"md\[%s\]" % name, name, r"AH10082|AH10174|failed to save")
        # room for the start-up files (md_store.json, fallback), then full
        with open(os.path.join(ae.store, "reserve"), "wb") as f:
            f.write(b"\0" * 4096 * 24)
        filler = _fill(ae.store)
        os.remove(os.path.join(ae.store, "reserve"))
        ae.start()
        filler2 = _fill(ae.store)
        wait_until(lambda: count_in_logs([ae.env], "AH10057") >= 2, 30,
                   what="renewal errors")
        time.sleep(4)
        assert ae.server_cert(name) is not None
        errs = count_in_logs([ae.env], "AH10057")
        assert errs <= 6, errs              # 1s, 2s, 4s... not every second
        # whichever child answers, md-status shows the job that was not saved
        for _ in range(8):
            st = ae.md_status(name)
            assert st.get("renewal", {}).get("errors", 0) >= 1, st
        assert _count_entries(ae.store) < 40, _count_entries(ae.store)
        accounts = ae.path("accounts")
        assert len(os.listdir(accounts)) <= 1 if os.path.isdir(accounts) else True
        os.remove(filler)
        os.remove(filler2)
        ae.wait_staged(name, timeout=60)
    finally:
        ae.env.stop()
        _umount(ae.store)


def test_500_read_only_store_still_serves(acme_factory):
    """The store is on a read-only mount: the server starts, serves the
    certificate in domains/, logs AH10630 and renews nothing."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = "rostore.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    cert = _issued(ae, name)
    _mount(["--bind", ae.store], ae.store)
    try:
        _mount(["-o", "remount,bind,ro"], ae.store)
        ae.env.allow_log(r"AH10630|AH10751|AH10082|AH10047|Read-only file system")
        ae.start()
        assert ae.server_cert(name).serial_number == cert.serial_number
        assert count_in_logs([ae.env], "AH10630") >= 1
        st = ae.md_status(name)
        assert "not usable" in json.dumps(st), st
    finally:
        ae.env.stop()
        _umount(ae.store)


def test_500_read_only_store_writable_again(acme_factory):
    """The store is read-only at start-up and made writable later: the
    watchdog notices (AH10750) and the due renewal runs without a restart."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = old = "rwagain.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    _issued(ae, name)
    _mount(["--bind", ae.store], ae.store)
    try:
        _mount(["-o", "remount,bind,ro"], ae.store)
        # a new MD, to be renewed at once
        name = "new-" + name
        ae.write(["MDomain %s" % name, "MDomain %s" % old], vhosts=[[name], [old]])
        ae.env.allow_log(r"AH10630|AH10751|AH10082|AH10047|Read-only file system")
        ae.start()
        assert count_in_logs([ae.env], "AH10630") >= 1
        time.sleep(3)
        assert not ae.exists("staging", name, "pubcert.pem")
        _mount(["-o", "remount,bind,rw"], ae.store)
        wait_until(lambda: count_in_logs([ae.env], "AH10750") >= 1, 30,
                   what="the store noticed writable")
        ae.wait_staged(name, timeout=60)
    finally:
        ae.env.stop()
        _umount(ae.store)


def test_500_unreadable_account_is_set_aside(acme_factory):
    """accounts/ID/account.json is corrupt: at start-up the parent sets it
    aside as accounts/broken-ID (AH10633, content kept), one new account is
    registered and becomes the MD's account at activation; no loop of
    registrations, staging is kept."""
    name = "badacct.mdspec.org"
    ae = acme_factory(pebble_env=ALWAYS_VALID)
    _issued(ae, name)
    acct = ae.path("accounts", "ACME-localhost-0000", "account.json")
    with open(acct, "w") as f:
        f.write("{ broken")
    ae.write(["<MDomain %s>" % name, "  MDRenewWindow 3000d", "</MDomain>"],
             vhosts=[[name]])
    ae.env.allow_log(r"failed to load JSON file .*account.json", r"md\[%s\]" % name,
                     r"AH10633")
    ae.start()
    assert count_in_logs([ae.env], "AH10633") >= 1
    aside = ae.path("accounts", "broken-ACME-localhost-0000", "account.json")
    assert open(aside).read() == "{ broken"
    ae.wait_staged(name, timeout=60)
    time.sleep(2)
    assert sum(1 for line in ae.env.log_lines(since_start=True)
               if "registered new account" in line) == 1
    ae.graceful()
    wait_until(lambda: not ae.exists("staging", name), 20, what="activation")
    acct_id = ae.load_json("domains", name, "md.json")["ca"]["account"]
    assert acct_id.startswith("ACME-localhost-")
    assert ae.load_json("accounts", acct_id, "account.json")["url"]


# --- a CA that never completes a validation (issue 13, item 17) ---------------------------

def test_500_stuck_authz_shows_in_status(proxy_factory, acme_factory):
    """Authorizations stay "pending" forever: md-status shows what the renewal
    waits for and since when within a minute, and an error once the drive's
    polling cap is over."""
    ae = acme_factory(pebble_env={"PEBBLE_VA_ALWAYS_VALID": "1"})
    proxy = proxy_factory(ae.peb)
    proxy.authz_pending = True
    name = "stuck.mdspec.org"
    extra = "\n".join(["MDCertificateAuthority %s" % proxy.url,
                       "MDCACertificateFile %s" % ae.ca_file])
    # MDRetryDelay 60s: the failed run's result stays in md-status a while
    ae.write(["<MDomain %s>" % name, "</MDomain>"], vhosts=[[name]], ca=False,
             global_extra=extra, retry_delay="60s")
    ae.env.allow_log(r"did not validate all authorizations in time", r"AH10056",
                     r"md\[stuck.mdspec.org\]")
    ae.start()
    started = time.time()

    def waiting():
        job = ae.md_status(name).get("renewal", {})
        last = job.get("last", {})
        return (last.get("activity", "").startswith("Monitoring challenge status")
                and "activity-since" in last and job)
    job = wait_until(waiting, 60, what="the waiting renewal in md-status")
    assert job["errors"] == 0
    since = parsedate_to_datetime(job["last"]["activity-since"]).timestamp()
    assert started - 5 <= since <= time.time() + 1
    assert parsedate_to_datetime(job["last-run"]).timestamp() <= since
    # the drive gives up after its 180 s polling cap: an error in md-status
    def failed():
        # one read: a second one may already see the retry's new run
        job = ae.md_status(name).get("renewal", {})
        return job.get("errors", 0) > 0 and job
    job = wait_until(failed, 240, interval=2, what="the error at the polling cap")
    assert "did not validate all authorizations in time" in job["last"].get("detail", "")
    assert time.time() - since >= 170
