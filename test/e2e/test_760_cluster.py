# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# MDStoreDB (docs/cluster.md): two httpd nodes, each with its own MDStoreDir,
# share a private PostgreSQL (initdb in a temp dir, a loopback port, stopped
# at the end) and one pebble. One order serves both nodes; a node answers the
# challenge of an order another node started; a database that is down at
# start-up stops nothing; a killed node's lease is taken over.

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from md_acme_env import AcmeEnv, acme_factory, chain_file, wait_until  # noqa: F401
from md_env import E2E_TMP, free_port

PG_BIN = "/usr/lib/postgresql/15/bin"
DBD_PGSQL = "/usr/lib/x86_64-linux-gnu/apr-util-1/apr_dbd_pgsql.so"

# warnings the cluster tests expect: another node renews (AH10840 is INFO),
# the database is down (AH10851)
DB_DOWN = r"AH10851"


def _as_postgres(args, **kw):
    """Runs a PostgreSQL program as the postgres user (it refuses root)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + args
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60, **kw)


class PrivatePg:
    """A PostgreSQL cluster of its own in a temp dir on a loopback port."""

    def __init__(self):
        os.makedirs(E2E_TMP, mode=0o755, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="pg-", dir=E2E_TMP)
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        p = _as_postgres([PG_BIN + "/initdb", "-D", self.data, "-A", "trust",
                          "-U", "postgres", "--no-sync"])
        assert p.returncode == 0, p.stdout.decode()

    @property
    def params(self):
        return ("host=127.0.0.1 port=%d dbname=postgres user=postgres "
                "connect_timeout=3" % self.port)

    def start(self):
        opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off"
                % (self.port, self.dir))
        p = _as_postgres([PG_BIN + "/pg_ctl", "-D", self.data, "-o", opts, "-l",
                          self.log, "-w", "start"])
        assert p.returncode == 0, p.stdout.decode()

    def stop(self):
        _as_postgres([PG_BIN + "/pg_ctl", "-D", self.data, "-m", "immediate", "-w",
                      "stop"])

    def sql(self, query, check=True):
        p = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                            "postgres", "-d", "postgres", "-Atc", query],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        assert p.returncode == 0 or not check, p.stdout.decode()
        return p.stdout.decode().strip() if p.returncode == 0 else ""


    def add_password_user(self, user, password):
        """A role that logs in over TCP with a password only (scram)."""
        self.sql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (user, password))
        self.sql("GRANT ALL ON SCHEMA public TO %s" % user)
        hba = os.path.join(self.data, "pg_hba.conf")
        with open(hba) as f:
            lines = f.read()
        with open(hba, "w") as f:
            f.write("host all %s 127.0.0.1/32 scram-sha-256\n" % user + lines)
        p = _as_postgres([PG_BIN + "/pg_ctl", "-D", self.data, "reload"])
        assert p.returncode == 0, p.stdout.decode()

    def cleanup(self):
        self.stop()
        if not os.environ.get("MD_E2E_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def pg():
    for prog in ("initdb", "pg_ctl", "postgres"):
        if not os.path.exists(os.path.join(PG_BIN, prog)):
            pytest.skip("PostgreSQL 15 is not installed (%s/%s missing): "
                        "apt-get install postgresql" % (PG_BIN, prog))
    if not os.path.exists(DBD_PGSQL):
        pytest.skip("APR-util's pgsql driver is missing (%s): apt-get install "
                    "libaprutil1-dbd-pgsql" % DBD_PGSQL)
    if not shutil.which("psql"):
        pytest.skip("psql is not installed")
    db = PrivatePg()
    db.start()
    yield db
    db.cleanup()


class Cluster:
    """Nodes (AcmeEnv) sharing one pebble and one database. The first node
    made starts pebble with its ports: the CA validates there."""

    def __init__(self, env_factory, pebble_factory, pg):
        self.env_factory = env_factory
        self.pebble_factory = pebble_factory
        self.pg = pg
        self.peb = None
        self.key_file = None
        self.nodes = []

    def _pebble(self, **kw):
        if not self.peb:
            self.peb = self.pebble_factory(**kw)
        return self.peb

    def node(self, name, pebble_env=None):
        """A node; pebble_env applies when this node starts pebble (the
        first one)."""
        n = AcmeEnv(self.env_factory, self._pebble, pebble_env=pebble_env)
        n.name = name
        if not self.key_file:
            self.key_file = os.path.join(os.path.dirname(n.env.root),
                                         "cluster-key-%s" % secrets.token_hex(4))
            with open(self.key_file, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
            os.chmod(self.key_file, 0o600)
        self.nodes.append(n)
        return n

    def db_line(self, node, lease=None):
        line = 'MDStoreDB pgsql "%s" key=%s node=%s' % (self.pg.params, self.key_file,
                                                         node.name)
        return line + (" lease=%s" % lease if lease else "")

    def two_nodes(self, name):
        """Nodes A (validated by the CA) and B, both managing name."""
        nodes = (self.node("A"), self.node("B"))
        for n in nodes:
            n.write(["MDomain %s" % name, self.db_line(n)], vhosts=[[name]])
        return nodes

    def cleanup(self):
        if self.key_file and os.path.exists(self.key_file):
            os.remove(self.key_file)


@pytest.fixture
def cluster(pebble_factory, env_factory, pg):
    c = Cluster(env_factory, pebble_factory, pg)
    yield c
    c.cleanup()


def leaf_serial(node, name):
    from cryptography import x509
    with open(node.path("domains", name, chain_file())) as f:
        pem = f.read()
    return x509.load_pem_x509_certificate(pem.encode()).serial_number


def issued_count(peb):
    """Certificates pebble issued (its log has a line per issuance)."""
    with open(os.path.join(peb.workdir, "pebble.log")) as f:
        return sum(1 for line in f if "Issued certificate serial" in line)


def test_760_one_order_for_two_nodes(cluster):
    """Node A orders; node B, started afterwards, takes A's set from the
    database without an order of its own and serves it after a restart."""
    name = "one.mdspec.org"
    a, b = cluster.two_nodes(name)
    a.start()
    a.wait_staged(name)
    assert issued_count(cluster.peb) == 1
    b.start()
    b.wait_staged(name)
    assert "AH10848" in "\n".join(b.env.log_lines())
    assert not b.exists("staging", name, "order.json")
    for n in (a, b):
        n.graceful()
        n.wait_active(name)
    assert leaf_serial(a, name) == leaf_serial(b, name)
    cert = b.server_cert(name)
    assert cert is not None and cert.serial_number == leaf_serial(a, name)
    assert issued_count(cluster.peb) == 1


def test_760_challenge_answered_by_other_node(cluster):
    """The CA validates at node B (pebble's http port is B's) while node A
    orders: B answers the http-01 challenge from the database."""
    name = "cha.mdspec.org"
    b = cluster.node("B")       # first: pebble validates at B
    a = cluster.node("A")
    b.write(["MDomain %s" % name, "MDRenewMode manual", cluster.db_line(b)],
            vhosts=[[name]])
    a.write(["MDomain %s" % name, cluster.db_line(a)], vhosts=[[name]])
    b.start()
    a.start()
    a.wait_staged(name)
    assert not b.exists("staging", name)
    assert not b.exists("challenges", name)
    assert issued_count(cluster.peb) == 1


def test_760_tls_alpn_answered_by_other_node(cluster):
    """The same with tls-alpn-01: pebble's TLS port is B's, B answers the
    handshake with A's challenge certificate from the database."""
    name = "alpn.mdspec.org"
    b = cluster.node("B")       # first: pebble validates at B
    a = cluster.node("A")
    alpn = "h2 http/1.1 acme-tls/1"
    b.write(["MDomain %s" % name, "MDRenewMode manual", cluster.db_line(b)],
            vhosts=[[name]], protocols=alpn)
    a.write(["MDomain %s" % name, "MDCAChallenges tls-alpn-01", cluster.db_line(a)],
            vhosts=[[name]], protocols=alpn)
    b.start()
    a.start()
    a.wait_staged(name)
    assert not b.exists("challenges", name)
    assert issued_count(cluster.peb) == 1


def test_760_tls_alpn_ec_only_answered_by_other_node(cluster):
    """tls-alpn-01 for an MD with a P-256 key only: node B answers with the
    challenge certificate of the MD's key type from the database (there is
    no RSA one), as it would answer its own."""
    name = "alpn-ec.mdspec.org"
    b = cluster.node("B")       # first: pebble validates at B
    a = cluster.node("A")
    alpn = "h2 http/1.1 acme-tls/1"
    keys = "MDPrivateKeys secp256r1"
    b.write(["<MDomain %s>" % name, keys, "</MDomain>", "MDRenewMode manual",
             cluster.db_line(b)], vhosts=[[name]], protocols=alpn)
    a.write(["<MDomain %s>" % name, keys, "</MDomain>", "MDCAChallenges tls-alpn-01",
             cluster.db_line(a)], vhosts=[[name]], protocols=alpn)
    b.start()
    a.start()
    a.wait_staged(name, specs=("secp256r1",))
    assert not b.exists("challenges", name)
    assert issued_count(cluster.peb) == 1


def test_760_db_down_at_start(cluster):
    """With the database stopped, a node starts, serves and tells it in
    md-status and the log; once the database is back, it renews."""
    name = "down.mdspec.org"
    a = cluster.node("A")
    a.write(["MDomain %s" % name, cluster.db_line(a)], vhosts=[[name]])
    a.env.allow_log(DB_DOWN)
    cluster.pg.stop()
    started = time.time()
    a.start()
    assert time.time() - started < 10
    status = wait_until(lambda: (lambda s: s if s.get("cluster-store", {}).get("error")
                                 else None)(a.md_status()), 15, what="db error in status")
    db = status["cluster-store"]
    assert db["driver"] == "pgsql" and db["connected"] is False
    assert "connecting" in db["error"]
    assert "password" not in str(db) and "host=" not in str(db)
    wait_until(lambda: any("AH10851" in line for line in a.env.log_lines()), 20,
               what="AH10851 in the log")
    # retried every MDRetryDelay (1s), warned once (then DEBUG)
    time.sleep(3)
    lines = [line for line in a.env.log_lines() if "AH10851" in line]
    assert len(lines) >= 3 and len([x for x in lines if "[md:warn]" in x]) == 1, lines
    assert not a.exists("staging", name, chain_file())
    cluster.pg.start()
    a.wait_staged(name, timeout=60)
    wait_until(lambda: a.md_status()["cluster-store"]["connected"], 15,
               what="connected in md-status")


def _children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                         stdout=subprocess.PIPE).stdout.decode().split()
    return [int(x) for x in out]


def test_760_lease_taken_over_after_kill(cluster):
    """Node A is killed (-9) while it holds the lease of an order; node B
    waits for the lease to run out, then orders and stages the set."""
    name = "kill.mdspec.org"
    b = cluster.node("B")       # pebble validates at B: A's death does not matter
    a = cluster.node("A")
    for n in (a, b):
        n.write(["MDomain %s" % name, cluster.db_line(n, lease="8s")], vhosts=[[name]])
    a.start()
    wait_until(lambda: cluster.pg.sql(
        "SELECT holder FROM md_lease WHERE name = '%s' AND expires > "
        "extract(epoch FROM now())" % name, check=False).startswith("A/"), 30,
        interval=0.05,
        what="A holding the lease")
    pid = a.env.read_pid()
    for p in [pid] + _children(pid):
        os.kill(p, signal.SIGKILL)
    os.remove(a.env.pid_file)
    b.start()
    b.wait_staged(name, timeout=60)
    log = "\n".join(b.env.log_lines())
    holder = cluster.pg.sql("SELECT holder FROM md_lease WHERE name = '%s'" % name)
    assert holder.startswith("B/")
    assert "AH10840" in log or "AH10848" in log


def _a2md(*args):
    from md_env import build_dir
    path = os.path.join(build_dir(), "src", "a2md", "a2md")
    if not os.path.exists(path):
        pytest.skip("a2md not built: %s" % path)
    r = subprocess.run([path] + list(args), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


# what stays with each node: its store key, its httpd view, challenges, tmp
NODE_FILES = ("md_store.json", "httpd.json", "store.lock")
NODE_DIRS = ("challenges", "tmp")


def _store_files(root):
    files = {}
    for d, _, names in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel.split(os.sep)[0] in NODE_DIRS:
            continue
        for n in names:
            if n in NODE_FILES or n.endswith(".lock"):
                continue
            with open(os.path.join(d, n), "rb") as f:
                files[os.path.normpath(os.path.join(rel, n))] = f.read()
    return files


def test_760_a2md_db_push_pull(cluster):
    """a2md copies a file store into the database and back into an empty
    store: every file comes back; keys (encrypted with each store's own key
    where the group encrypts) come back as the same keys."""
    name = "mig.mdspec.org"
    a = cluster.node("A")
    a.write(["MDomain %s" % name], vhosts=[[name]])
    a.start()
    a.issue(name)
    a.env.stop()
    db = cluster.pg.params
    key = "key=%s" % cluster.key_file
    out = _a2md("-d", a.store, "db", "push", "pgsql", db, key)
    assert "copied into pgsql" in out
    back = os.path.join(a.env.root, "md-back")
    out = _a2md("-d", back, "db", "pull", "pgsql", db, key)
    assert "copied from pgsql" in out
    orig, copy = _store_files(a.store), _store_files(back)
    assert sorted(orig) == sorted(copy)
    assert any(p.startswith("accounts" + os.sep) for p in orig)
    assert os.path.join("domains", name, "pubcert.pem") in orig
    for path, data in orig.items():
        if b"PRIVATE KEY-----" in data:
            # saved as the group wants it (encrypted with the new store's
            # own key in accounts, staging, archive): same key, other bytes
            assert b"PRIVATE KEY-----" in copy[path], path
            continue
        assert copy[path] == data, path
    plain = os.path.join("domains", name, "privkey.pem")
    assert copy[plain] == orig[plain]
    # the account key is encrypted with the new store's own key
    acct = [p for p in orig if p.startswith("accounts") and p.endswith("account.pem")][0]
    assert copy[acct].startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY")
    _a2md("-d", back, "db", "push", "pgsql", db, key)   # and it goes back again
    rows = cluster.pg.sql("SELECT count(*) FROM md_value")
    assert int(rows) >= len(orig)


BAD_DB_LINES = [
    ('MDStoreDB pgsql "host=x"', "needs a driver, its parameters and key=FILE"),
    ('MDStoreDB pgsql "host=x user=md"', "needs a driver"),
    ('MDStoreDB pgsql "host=x password=secret" key=k', "no password in the parameters"),
    ('MDStoreDB pgsql "host=x PassWord = secret" key=k', "no password in the parameters"),
    ('MDStoreDB pgsql "host=x" node=a lease=1h', "key=FILE is missing"),
    ('MDStoreDB pgsql "host=x" key=k lease=2s', "'lease=2s' is not a lease time"),
    ('MDStoreDB pgsql "host=x" key=k lease=soon', "'lease=soon' is not a lease time"),
    ('MDStoreDB pgsql "host=x" key=k color=red', "unknown option 'color=red'"),
    ('<VirtualHost *:80>\nMDStoreDB pgsql "host=x" key=k\n</VirtualHost>',
     "cannot occur within <VirtualHost> section"),
]


@pytest.mark.parametrize("line,message", BAD_DB_LINES)
def test_760_bad_directive(env, line, message):
    """apache2 -t refuses a wrong MDStoreDB with the directive's message; a
    password in the parameters is refused, never echoed elsewhere."""
    rc, out = env.test_config(line + "\n")
    assert rc != 0
    assert message in out, out


def test_760_good_directive(env):
    """passfile= is fine (only password= is refused); the key is read at the
    start, not by apache2 -t."""
    rc, out = env.test_config('MDStoreDB pgsql "host=x passfile=/etc/pw" key=/none '
                              'lease=30s node=n1\n')
    assert rc == 0, out


def test_760_key_file_refuses_start(env):
    """A missing or too short cluster key refuses the start (AH10844)."""
    short = os.path.join(env.root, "short.key")
    with open(short, "w") as f:
        f.write("0123456789\n")
    for key, why in ((os.path.join(env.root, "none.key"), "cannot be read"),
                     (short, "holds fewer than 16 bytes")):
        env.write_config('MDStoreDB pgsql "host=127.0.0.1" key=%s\n' % key)
        rc, out = env.start()
        assert rc != 0
        lines = [line for line in env.log_lines() if "AH10844" in line]
        assert lines and why in lines[-1], "\n".join(env.log_lines())
    env.allow_log(r"AH10844", r"AH00016")


def _lease_holder(pg, name):
    return pg.sql("SELECT holder FROM md_lease WHERE name = '%s' AND expires > "
                  "extract(epoch FROM now())" % name, check=False)


def test_760_fenced_out_result_discarded(cluster):
    """Node A's renewal outlives its lease (its dns-01 setup hangs): node B
    takes the lease over and renews. When A's order finishes after all, the
    fencing token refuses A's set (AH10849): B's set is the one in the
    database, and A takes it from there."""
    name = "fence.mdspec.org"
    a = cluster.node("A")
    b = cluster.node("B")
    hold = os.path.join(a.out_dir, "hold")
    open(hold, "w").close()
    for n, script in ((a, a.dns_script(sleep_file=hold)), (b, b.dns_script())):
        n.write(["MDomain %s" % name, "MDCAChallenges dns-01",
                 "MDChallengeDns01 %s" % script, cluster.db_line(n, lease="5s")],
                vhosts=[[name]])
    a.env.allow_log(r"AH10849")
    a.start()
    wait_until(lambda: _lease_holder(cluster.pg, name).startswith("A/")
               and os.path.exists(a.dns_log), 30, what="A holding the lease in setup")
    b.start()
    b.wait_staged(name, timeout=60)
    assert _lease_holder(cluster.pg, name) == ""        # B gave it back
    os.remove(hold)
    wait_until(lambda: any("AH10849" in line for line in a.env.log_lines()), 60,
               what="A's result refused")
    assert issued_count(cluster.peb) == 2
    a.wait_staged(name, timeout=30)
    assert any("AH10848" in line for line in a.env.log_lines())
    with open(a.path("staging", name, chain_file())) as fa, \
            open(b.path("staging", name, chain_file())) as fb:
        assert fa.read() == fb.read()


def test_760_live_on_the_other_node(cluster):
    """With MDActivation live, node B serves the certificate node A renewed
    without a restart and without an order of its own."""
    from test_740_live import pem_cert, put_due_cert, serial
    name = "live.mdspec.org"
    a = cluster.node("A")
    b = cluster.node("B")
    for n in (a, b):
        old = put_due_cert(n, name, [name])
        n.write(["MDomain %s" % name, "MDActivation live", cluster.db_line(n)],
                vhosts=[[name]])
    a.start()
    a.wait_staged(name)
    b.start()
    assert serial(b.server_cert(name)) == old.serial_number
    b.wait_staged(name)
    renewed = pem_cert(a.path("staging", name, "pubcert.pem")).serial_number
    wait_until(lambda: serial(b.server_cert(name)) == renewed, 30,
               what="A's renewed certificate live on B")
    assert renewed != old.serial_number
    assert any("AH10848" in line for line in b.env.log_lines())
    assert issued_count(cluster.peb) == 1


def test_760_two_nodes_start_together(cluster):
    """Two nodes started at once: one order between them, the same
    certificate staged on both."""
    name = "together.mdspec.org"
    a, b = cluster.two_nodes(name)
    a.start()
    b.start()
    a.wait_staged(name)
    b.wait_staged(name)
    with open(a.path("staging", name, chain_file())) as fa, \
            open(b.path("staging", name, chain_file())) as fb:
        assert fa.read() == fb.read()
    assert issued_count(cluster.peb) == 1


def test_760_password_from_file(cluster):
    """The password comes from a passfile (libpq's format, readable by the
    httpd user); a wrong one shows in md-status as an authentication error,
    and the password itself appears nowhere."""
    name = "pw.mdspec.org"
    password = "Pw-" + secrets.token_hex(8)
    cluster.pg.add_password_user("mdnode", password)
    a = cluster.node("A")
    passfile = os.path.join(a.out_dir, "pgpass")

    def write_passfile(pw):
        with open(passfile, "w") as f:
            f.write("127.0.0.1:%d:postgres:mdnode:%s\n" % (cluster.pg.port, pw))
        os.chmod(passfile, 0o600)
        if os.geteuid() == 0:
            shutil.chown(passfile, "www-data")

    params = ("host=127.0.0.1 port=%d dbname=postgres user=mdnode passfile=%s "
              "connect_timeout=3" % (cluster.pg.port, passfile))
    a.write(["MDomain %s" % name, 'MDStoreDB pgsql "%s" key=%s node=A'
             % (params, cluster.key_file)], vhosts=[[name]])
    wrong = "Bad-" + secrets.token_hex(8)
    write_passfile(wrong)
    a.env.allow_log(DB_DOWN)
    a.start()
    status = wait_until(lambda: (lambda s: s if s.get("cluster-store", {}).get("error")
                                 else None)(a.md_status()), 15, what="db error in status")
    assert "authentication failed" in status["cluster-store"]["error"]
    write_passfile(password)
    a.wait_staged(name, timeout=60)
    # a child that failed to connect tries again after 5 s
    wait_until(lambda: a.md_status()["cluster-store"]["connected"], 15,
               what="connected in md-status")
    assert cluster.pg.sql("SELECT count(*) FROM md_value WHERE node LIKE 'A/%'") != "0"
    logs = "\n".join(a.env.log_lines())
    assert password not in logs and wrong not in logs
    assert password not in str(a.md_status())


def _account_urls(node):
    urls = set()
    accounts = node.path("accounts")
    for d in os.listdir(accounts) if os.path.isdir(accounts) else []:
        path = os.path.join(accounts, d, "account.json")
        if os.path.exists(path):
            urls.add(node.load_json("accounts", d, "account.json")["url"])
    return urls


def test_760_account_goes_with_the_set(cluster):
    """A renewal with an account node A had already: the account travels with
    the set, node B activates it and has A's account (no registration)."""
    first, name = "acct1.mdspec.org", "acct2.mdspec.org"
    a = cluster.node("A")
    b = cluster.node("B")
    a.write(["MDomain %s" % first, cluster.db_line(a)], vhosts=[[first]])
    a.start()
    a.issue(first)
    a_urls = _account_urls(a)
    assert len(a_urls) == 1
    a.write(["MDomain %s" % first, "MDomain %s" % name, cluster.db_line(a)],
            vhosts=[[first], [name]])
    a.graceful()
    a.wait_staged(name)
    assert not a.exists("staging", name, "account.json") or \
        a.load_json("staging", name, "account.json")["url"] in a_urls
    b.write(["MDomain %s" % name, cluster.db_line(b)], vhosts=[[name]])
    b.start()
    b.wait_staged(name)
    b.graceful()
    b.wait_active(name)
    assert _account_urls(b) == a_urls
    acct = b.load_json("domains", name, "md.json")["ca"]["account"]
    assert b.load_json("accounts", acct, "account.json")["url"] in a_urls


def test_760_db_stopped_during_renewal(cluster):
    """The database goes away while node A renews: the renewal finishes and
    A keeps its staged set (AH10850). When the database is back, the next
    watchdog runs hand the set to it (AH10856) and node B takes it instead
    of ordering."""
    name = "gone.mdspec.org"
    a = cluster.node("A")
    hold = os.path.join(a.out_dir, "hold")
    open(hold, "w").close()
    a.write(["MDomain %s" % name, "MDCAChallenges dns-01",
             "MDChallengeDns01 %s" % a.dns_script(sleep_file=hold), cluster.db_line(a)],
            vhosts=[[name]])
    a.env.allow_log(r"AH10850", r"AH10842", r"AH10853")
    a.start()
    wait_until(lambda: _lease_holder(cluster.pg, name).startswith("A/")
               and os.path.exists(a.dns_log), 30, what="A holding the lease in setup")
    cluster.pg.stop()
    os.remove(hold)
    a.wait_staged(name, timeout=60)
    wait_until(lambda: any("AH10850" in line for line in a.env.log_lines()), 10,
               what="AH10850")
    assert a.exists("staging", name, "cluster-unpublished")
    assert issued_count(cluster.peb) == 1
    cluster.pg.start()
    wait_until(lambda: any("AH10856" in line for line in a.env.log_lines()), 30,
               what="the set published (AH10856)")
    assert not a.exists("staging", name, "cluster-unpublished")
    aspects = cluster.pg.sql("SELECT aspect FROM md_value WHERE grp = 'staging' AND "
                             "name = '%s'" % name).split()
    assert chain_file() in aspects and "cluster-unpublished" not in aspects
    b = cluster.node("B")
    b.write(["MDomain %s" % name, "MDCAChallenges dns-01",
             "MDChallengeDns01 %s" % b.dns_script(), cluster.db_line(b)],
            vhosts=[[name]])
    b.start()
    b.wait_staged(name)
    assert any("AH10848" in line for line in b.env.log_lines())
    assert issued_count(cluster.peb) == 1


def test_760_set_for_other_names_not_taken(cluster):
    """Node B manages one more name than node A: A's set does not cover it,
    so B orders its own instead of taking A's."""
    name = "names.mdspec.org"
    a = cluster.node("A")
    b = cluster.node("B")
    a.write(["MDomain %s" % name, cluster.db_line(a)], vhosts=[[name]])
    b.write(["MDomain %s www.%s" % (name, name), cluster.db_line(b)],
            vhosts=[[name, "www." + name]])
    a.start()
    a.wait_staged(name)
    b.start()
    b.wait_staged(name)
    assert not any("AH10848" in line for line in b.env.log_lines())
    assert issued_count(cluster.peb) == 2


def test_760_lease_extended_while_renewing(cluster):
    """Node A's renewal takes longer than its lease (each of four dns-01
    setups takes 2 s, the lease is 6 s) but makes progress: A extends the
    lease at its steps (AH10854), so node B, started meanwhile, never takes
    it over and orders nothing: it takes A's set."""
    names = ["ext.mdspec.org"] + ["w%d.ext.mdspec.org" % i for i in range(3)]
    a = cluster.node("A")
    b = cluster.node("B")
    for n, script in ((a, a.dns_script(setup_secs=2)), (b, b.dns_script())):
        n.write(["MDomain %s" % " ".join(names), "MDCAChallenges dns-01",
                 "MDChallengeDns01 %s" % script, cluster.db_line(n, lease="6s")],
                vhosts=[names])
    a.start()
    wait_until(lambda: _lease_holder(cluster.pg, names[0]).startswith("A/")
               and os.path.exists(a.dns_log), 30, what="A holding the lease in setup")
    b.start()
    a.wait_staged(names[0], timeout=60)
    b.wait_staged(names[0], timeout=30)
    a_log = "\n".join(a.env.log_lines())
    assert "AH10854" in a_log and "AH10849" not in a_log
    assert any("AH10848" in line for line in b.env.log_lines())
    assert issued_count(cluster.peb) == 1


def test_760_three_nodes_one_round(cluster):
    """Scale: three nodes with the same 20 MDs, all due for renewal, started
    at once. One renewal round issues each certificate exactly once across
    the nodes, and every node ends up with every set staged."""
    from test_740_live import put_due_cert
    names = ["n%02d.round.mdspec.org" % i for i in range(20)]
    nodes = [cluster.node("A", pebble_env={"PEBBLE_VA_ALWAYS_VALID": "1",
                                           "PEBBLE_VA_NOSLEEP": "1"}),
             cluster.node("B"), cluster.node("C")]
    for n in nodes:
        for name in names:
            put_due_cert(n, name, [name])
        n.write(["MDomain %s" % name for name in names] + [cluster.db_line(n)],
                vhosts=[[name] for name in names])
    started = time.time()
    for n in nodes:
        n.start()
    for n in nodes:
        for name in names:
            n.wait_staged(name, timeout=max(10, 90 - (time.time() - started)))
    assert issued_count(cluster.peb) == len(names)
    ordered = taken = 0
    for n in nodes:
        log = n.env.log_lines()
        taken += sum(1 for line in log if "AH10848" in line)
        ordered += len([name for name in names
                        if not any("AH10848" in line and name in line for line in log)])
    assert ordered == len(names) and taken == 2 * len(names), (ordered, taken)
    for name in names:
        chains = set()
        for n in nodes:
            with open(n.path("staging", name, chain_file())) as f:
                chains.add(f.read())
        assert len(chains) == 1, name
