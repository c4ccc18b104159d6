# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# HttpdEnv: one httpd instance for one test. It writes a server root with an
# httpd.conf on free loopback ports, loads our built mod_md (MD_BUILD_DIR,
# default <repo>/build) or the reference module, runs `apache2 -t`,
# starts/restarts/stops the server by pid and checks its error log for
# unexpected [warn]/[error]/[crit] lines. Reusable by other test modules.

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

APACHE2 = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
REFERENCE_MODULE = os.path.join(MODULES_DIR, "mod_md.so")
# Debian's libfaketime: moves the clock of the httpd it is preloaded into
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
E2E_TMP = os.environ.get("MD_E2E_TMP", "/tmp/md-e2e")


# Ports are picked below the kernel's ephemeral range (32768-60999 on Linux),
# so that no outgoing connection (curl, pebble, the module's own client) can
# hold one between picking and binding, and never twice by this process.
PORT_RANGE = (20000, 32000)
_handed_out = set()


def _worker_port_range():
    """The part of PORT_RANGE of this pytest-xdist worker (gw0, gw1, ...): a
    port that one worker found free is not taken by another before it is
    bound. The whole range without xdist (or with too many workers)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or not worker[2:].isdigit() or count < 2:
        return PORT_RANGE
    size = (PORT_RANGE[1] - PORT_RANGE[0]) // count
    if size < 2000:
        return PORT_RANGE
    low = PORT_RANGE[0] + (int(worker[2:]) % count) * size
    return (low, low + size)


def free_ports(n, ipv6=False):
    """n distinct TCP ports on 127.0.0.1 (and on ::1 with ipv6) that are free
    right now and were not handed out before by this process."""
    ports = []
    tries = 0
    port_range = _worker_port_range()
    while len(ports) < n:
        tries += 1
        if tries > 20000:
            raise RuntimeError("no free port in %d-%d" % port_range)
        port = random.randrange(*port_range)
        if port in _handed_out:
            continue
        if not _bindable(socket.AF_INET, "127.0.0.1", port) \
                or (ipv6 and not _bindable(socket.AF_INET6, "::1", port)):
            continue
        _handed_out.add(port)
        ports.append(port)
    return ports


def _bindable(family, addr, port):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((addr, port))
        except OSError:
            return False
    return True


def has_ipv6_loopback():
    """Whether ::1 can be bound here (IPv6 on the loopback interface)."""
    return socket.has_ipv6 and _bindable(socket.AF_INET6, "::1", 0)


def free_port():
    """A TCP port on 127.0.0.1 that is free right now."""
    return free_ports(1)[0]


REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_dir():
    return os.environ.get("MD_BUILD_DIR", os.path.join(REPO_DIR, "build"))


def our_module():
    """Path of the mod_md.so we built (MD_MODULE overrides it)."""
    if os.environ.get("MD_MODULE"):
        return os.environ["MD_MODULE"]
    return os.path.join(build_dir(), "src", "mod_md", ".libs", "mod_md.so")


def make_root(prefix="httpd-"):
    """A fresh directory, readable for the unprivileged httpd user."""
    os.makedirs(E2E_TMP, mode=0o755, exist_ok=True)
    os.chmod(E2E_TMP, 0o755)
    path = tempfile.mkdtemp(prefix=prefix, dir=E2E_TMP)
    os.chmod(path, 0o755)
    return path


class HttpdEnv:
    """A server root with its own config, ports, logs and process.

    env = HttpdEnv(reference=False)
    env.write_config("MDomain example.org")
    rc, out = env.test_config()
    env.start(); ...; env.stop(); env.cleanup()
    """

    # Error log lines that are fine in every test.
    DEFAULT_ALLOWED = [
        r"AH00558",                 # could not reliably determine FQDN
        r"AH01909",                 # no server certificate hostname match
    ]
    BASE_MODULES = ["mpm_event", "authz_core", "mime", "socache_shmcb", "ssl",
                    "status", "watchdog"]

    def __init__(self, reference=False, module=None, root=None, log_level="info",
                 ports=None, ipv6=False):
        self.reference = reference
        self.module = module or (REFERENCE_MODULE if reference else our_module())
        self.root = root or make_root("ref-" if reference else "md-")
        self.conf_dir = os.path.join(self.root, "conf")
        self.logs_dir = os.path.join(self.root, "logs")
        self.docs_dir = os.path.join(self.root, "htdocs")
        for d in (self.conf_dir, self.logs_dir, self.docs_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        self.conf_path = os.path.join(self.conf_dir, "httpd.conf")
        self.error_log = os.path.join(self.logs_dir, "error_log")
        self.pid_file = os.path.join(self.logs_dir, "httpd.pid")
        self.store_dir = os.path.join(self.root, "md")
        self.log_level = log_level
        # ipv6: httpd listens on [::1] too, at the same ports
        self.ipv6 = ipv6
        if ports:
            self.http_port, self.https_port = ports
        else:
            self.http_port, self.https_port = free_ports(2, ipv6)
        self.allowed_log = list(self.DEFAULT_ALLOWED)
        self._pids = set()
        self._log_offset = 0
        self.run_as_root = (os.geteuid() == 0)
        # e.g. "-3h": httpd (ours or the reference) runs with its clock moved
        # by libfaketime (FAKETIME syntax), the rest of the test does not
        self.clock_offset = None

    # --- configuration -------------------------------------------------------

    def available_modules(self):
        """LoadModule lines for the base modules that exist as files."""
        lines = []
        for name in self.BASE_MODULES:
            path = os.path.join(MODULES_DIR, "mod_%s.so" % name)
            if os.path.exists(path):
                lines.append("LoadModule %s_module %s" % (name, path))
        return lines

    def base_config(self, listen_https=False):
        lines = [
            "ServerRoot %s" % self.root,
            "DefaultRuntimeDir %s" % self.logs_dir,
            "PidFile %s" % self.pid_file,
            "ErrorLog %s" % self.error_log,
            "LogLevel %s md:%s" % ("warn", self.log_level),
            "Mutex file:%s default" % self.logs_dir,
        ]
        lines += self.available_modules()
        lines.append("LoadModule md_module %s" % self.module)
        if self.run_as_root:
            lines += ["User www-data", "Group www-data"]
        lines += [
            "ServerName localhost",
            "ServerAdmin admin@example.org",
            "DocumentRoot %s" % self.docs_dir,
            "Listen 127.0.0.1:%d" % self.http_port,
        ]
        if self.ipv6:
            lines.append("Listen [::1]:%d" % self.http_port)
        if listen_https:
            lines.append("Listen 127.0.0.1:%d https" % self.https_port)
            if self.ipv6:
                lines.append("Listen [::1]:%d https" % self.https_port)
        lines += [
            "TypesConfig /etc/mime.types",
            "SSLSessionCache shmcb:%s/ssl_scache(512000)" % self.logs_dir,
            "MDPortMap 80:%d 443:%d" % (self.http_port, self.https_port),
        ]
        return "\n".join(lines) + "\n"

    def write_config(self, extra="", base=True, listen_https=False):
        """Writes httpd.conf: the base config (unless base=False) + extra."""
        text = self.base_config(listen_https) if base else ""
        with open(self.conf_path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
            f.write(extra)
            if not extra.endswith("\n"):
                f.write("\n")
        return self.conf_path

    def write_file(self, relpath, content, mode=0o644):
        """Writes a file below the server root, returns its absolute path."""
        path = os.path.join(self.root, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)
        os.chmod(path, mode)
        return path

    def config_line(self, text):
        """Line number in httpd.conf of the first line containing text."""
        with open(self.conf_path, encoding="utf-8", errors="surrogateescape") as f:
            for n, line in enumerate(f, 1):
                if text in line:
                    return n
        return None

    # --- running apache2 -----------------------------------------------------

    def environ(self):
        env = dict(os.environ)
        env.update({
            "APACHE_RUN_DIR": self.logs_dir,
            "APACHE_LOCK_DIR": self.logs_dir,
            "APACHE_LOG_DIR": self.logs_dir,
            "APACHE_PID_FILE": self.pid_file,
            "APACHE_RUN_USER": "www-data",
            "APACHE_RUN_GROUP": "www-data",
            "LANG": "C",
        })
        # a sanitized module needs its runtime preloaded into the httpd that
        # loads it (not the reference's, not curl or openssl)
        preload = os.environ.get("MD_HTTPD_PRELOAD")
        preloads = [preload] if preload and self.module != REFERENCE_MODULE else []
        if self.clock_offset:
            # after a sanitizer's runtime, which must come first
            preloads.append(FAKETIME_LIB)
            env["FAKETIME"] = self.clock_offset
        if preloads:
            env["LD_PRELOAD"] = " ".join(preloads)
        return env

    def apache2(self, *args, timeout=30):
        """Runs apache2 -d root -f conf <args>; returns (exit code, stdout+stderr)."""
        cmd = [APACHE2, "-d", self.root, "-f", self.conf_path] + list(args)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=self.environ(), timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", errors="replace")

    def test_config(self, extra=None, **kw):
        """`apache2 -t` (writing the config first if extra is given)."""
        if extra is not None:
            self.write_config(extra, **kw)
        return self.apache2("-t")

    def read_pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def start(self, wait=True, timeout=10):
        self._log_offset = self._log_size()
        self._gen_offset = self._log_offset
        rc, out = self.apache2("-k", "start", timeout=max(30, timeout))
        if rc != 0:
            return rc, out
        if wait:
            self.wait_pid(timeout)
            self.wait_port(self.http_port, up=True, timeout=timeout)
        pid = self.read_pid()
        if pid:
            self._pids.add(pid)
        return rc, out

    def _wait_running(self, timeout):
        """Waits until the current generation logged that it runs: before
        that the parent may not handle SIGUSR1 yet (and dies of it), although
        its ports already answer."""
        offset = getattr(self, "_gen_offset", 0)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "resuming normal operations" in self._log_tail(offset):
                return
            time.sleep(0.05)

    def graceful(self, timeout=10):
        pid = self.read_pid()
        if not pid:
            raise RuntimeError("httpd not running")
        self._wait_running(timeout)
        gen_before = self._log_size()
        self._gen_offset = gen_before
        os.kill(pid, signal.SIGUSR1)
        # wait until the parent logged the restart ("resuming normal operations")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "resuming normal operations" in self._log_tail(gen_before):
                break
            time.sleep(0.1)
        self.wait_port(self.http_port, up=True, timeout=timeout)
        return self.read_pid()

    def stop(self, timeout=20):
        pid = self.read_pid()
        if not pid:
            return
        self._pids.add(pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.time() + timeout
        while time.time() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid) and time.time() < deadline + 5:
                time.sleep(0.05)
        # a killed httpd leaves its pid file; the next start would warn
        if not _alive(pid) and os.path.exists(self.pid_file):
            os.remove(self.pid_file)

    def cleanup(self, remove=True):
        """Stops the server, kills leftovers by pid, removes the root."""
        try:
            self.stop()
        finally:
            for pid in self._pids:
                if _alive(pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            if remove and not os.environ.get("MD_E2E_KEEP"):
                shutil.rmtree(self.root, ignore_errors=True)

    def wait_pid(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid = self.read_pid()
            if pid and _alive(pid):
                return pid
            time.sleep(0.05)
        raise TimeoutError("no httpd pid in %s" % self.pid_file)

    @staticmethod
    def wait_port(port, up=True, timeout=10, host="127.0.0.1"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    if up:
                        return True
            except OSError:
                if not up:
                    return True
            time.sleep(0.05)
        raise TimeoutError("port %d not %s" % (port, "up" if up else "down"))

    # --- the error log -------------------------------------------------------

    def _log_size(self):
        try:
            return os.path.getsize(self.error_log)
        except OSError:
            return 0

    def _log_tail(self, offset):
        try:
            with open(self.error_log, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_lines(self, since_start=False):
        text = self._log_tail(self._log_offset if since_start else 0)
        return text.splitlines()

    def allow_log(self, *patterns):
        """Regexes of [warn]/[error] lines the current test expects."""
        self.allowed_log.extend(patterns)

    def unexpected_log_lines(self):
        bad = []
        for line in self.log_lines():
            if not re.search(r"\[[a-z_]*:(warn|error|crit|alert|emerg)\]", line):
                continue
            if any(re.search(p, line) for p in self.allowed_log):
                continue
            bad.append(line)
        return bad


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
