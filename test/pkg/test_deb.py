# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# The Debian package (scripts/deb): built with dpkg-buildpackage, unpacked
# with dpkg-deb -x/-e into a temp dir (never installed here: Debian's
# mod_md must stay as the reference). Its metadata, that none of its files
# belongs to apache2-bin or any other installed package, the md_ng module
# entry, the packaged module loaded by a real httpd, the packaged a2md, and
# the maintainer scripts run against a fake apache2 module tree.

import os
import shutil
import stat
import subprocess
import sys

import pytest
import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "test", "e2e"))

from md_env import HttpdEnv  # noqa: E402

PKG = "libapache2-mod-md-ng"
MODULE = "usr/lib/apache2/modules/mod_md_ng.so"


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kw)


@pytest.fixture(scope="module")
def deb():
    """The package: $MD_DEB, else built now by scripts/deb."""
    path = os.environ.get("MD_DEB")
    if not path:
        p = run([os.path.join(REPO, "scripts", "deb")], timeout=900)
        assert p.returncode == 0, p.stdout
        path = p.stdout.strip().splitlines()[-1]
    assert os.path.isfile(path), path
    return path


@pytest.fixture(scope="module")
def unpacked(deb, tmp_path_factory):
    root = tmp_path_factory.mktemp("deb")
    data, ctl = root / "data", root / "control"
    assert run(["dpkg-deb", "-x", deb, str(data)]).returncode == 0
    assert run(["dpkg-deb", "-e", deb, str(ctl)]).returncode == 0
    return data, ctl


def package_files(data):
    files = []
    for dirpath, _, names in os.walk(data):
        for n in names:
            files.append("/" + os.path.relpath(os.path.join(dirpath, n), data))
    return sorted(files)


def test_deb_metadata(deb):
    fields = run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture",
                  "Depends"]).stdout
    assert "Package: %s" % PKG in fields
    with open(os.path.join(REPO, "src", "md", "md_version.h")) as f:
        version = [l.split('"')[1] for l in f if "MOD_MD_VERSION " in l][0]
    assert "Version: %s" % version in fields
    depends = fields.split("Depends:", 1)[1]
    for dep in ("apache2-bin", "apache2-api-20120211", "libssl3", "libcurl4",
                "libjansson4"):
        assert dep in depends, depends


def test_deb_never_replaces_an_installed_file(unpacked):
    data, ctl = unpacked
    files = package_files(data)
    assert "/" + MODULE in files and "/usr/bin/a2md" in files
    assert "/usr/lib/apache2/modules/mod_md.so" not in files
    owned = [f for f in files if not f.startswith("/usr/share/doc/")
             and run(["dpkg", "-S", f]).returncode == 0]
    assert owned == [], "files of other installed packages: %s" % owned
    with open(ctl / "conffiles") as f:
        assert f.read().split() == ["/etc/apache2/mods-available/md_ng.load"]


def test_deb_module_entry(unpacked):
    data, _ = unpacked
    with open(data / "etc/apache2/mods-available/md_ng.load") as f:
        lines = [l.strip() for l in f if l.strip()]
    assert "# Conflicts: md" in lines
    assert "LoadModule md_module /%s" % MODULE in lines
    mode = os.stat(data / MODULE).st_mode
    assert stat.S_IMODE(mode) == 0o644
    syms = run(["nm", "-D", "--defined-only", str(data / MODULE)]).stdout
    assert " md_module" in syms


def test_deb_module_runs_in_httpd(unpacked):
    data, _ = unpacked
    env = HttpdEnv(module=str(data / MODULE))
    rc, out = env.test_config("MDomain pkg.example.org\n"
                              "<Location /md-status>\n  SetHandler md-status\n</Location>\n")
    assert rc == 0 and "Syntax OK" in out, out
    rc, out = env.start()
    assert rc == 0, out
    try:
        r = requests.get("http://127.0.0.1:%d/md-status" % env.http_port, timeout=10)
        assert r.status_code == 200
        assert [m["name"] for m in r.json()["managed-domains"]] == ["pkg.example.org"]
    finally:
        env.stop()


def test_deb_a2md(unpacked):
    data, _ = unpacked
    p = run([str(data / "usr/bin/a2md"), "-V"])
    assert p.returncode == 0 and p.stdout.startswith("version: "), p.stdout
    assert (data / "usr/share/man/man1/a2md.1.gz").is_file()


# --- maintainer scripts against a fake apache2 ------------------------------------

FAKE_HELPER = """
apache2_reload() { echo "reload $*" >> "$CALLS"; }
apache2_invoke() {
    echo "invoke $*" >> "$CALLS"
    [ "$1" = dismod ] && rm -f "$MODS_ENABLED/$2.load"
    return 0
}
"""

FAKE_A2 = """#!/bin/sh
echo "$(basename "$0") $*" >> "$CALLS"
for m; do case "$m" in -*) ;; *) mod=$m ;; esac; done
case "$(basename "$0")" in
    a2enmod) touch "$MODS_ENABLED/$mod.load" ;;
    a2dismod) rm -f "$MODS_ENABLED/$mod.load" ;;
esac
"""


@pytest.fixture
def fake_apache(unpacked, tmp_path):
    """The package's maintainer scripts with their paths moved into tmp_path,
    fake a2enmod/a2dismod and a fake apache2-maintscript-helper that record
    their calls."""
    _, ctl = unpacked
    mods, state, bindir = tmp_path / "mods-enabled", tmp_path / "state", tmp_path / "bin"
    for d in (mods, bindir):
        d.mkdir()
    helper = tmp_path / "helper"
    helper.write_text(FAKE_HELPER)
    for tool in ("a2enmod", "a2dismod"):
        (bindir / tool).write_text(FAKE_A2)
        (bindir / tool).chmod(0o755)
    scripts = {}
    for name in ("postinst", "prerm", "postrm"):
        text = (ctl / name).read_text()
        assert run(["sh", "-n", str(ctl / name)]).returncode == 0, name
        for old, new in (("/usr/share/apache2/apache2-maintscript-helper", str(helper)),
                         ("/etc/apache2/mods-enabled", str(mods)),
                         ("/var/lib/libapache2-mod-md-ng", str(state))):
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text)
        scripts[name] = path
    calls = tmp_path / "calls"
    env = dict(os.environ, CALLS=str(calls), MODS_ENABLED=str(mods),
               PATH="%s:%s" % (bindir, os.environ["PATH"]))

    class Fake:
        def run(self, script, *args):
            if calls.exists():
                calls.unlink()
            p = run(["sh", str(scripts[script])] + list(args), env=env)
            assert p.returncode == 0, p.stdout
            return calls.read_text().splitlines() if calls.exists() else []

        def enabled(self):
            return sorted(f[:-5] for f in os.listdir(mods))

    fake = Fake()
    fake.state = state
    fake.mods = mods
    return fake


def test_deb_scripts_switch_from_md_and_back(fake_apache):
    (fake_apache.mods / "md.load").touch()
    calls = fake_apache.run("postinst", "configure")
    assert calls == ["a2dismod -m -q md", "a2enmod -m -q md_ng", "reload restart"]
    assert fake_apache.enabled() == ["md_ng"]
    assert (fake_apache.state / "switched-from-md").exists()
    # an upgrade of the package changes nothing
    assert fake_apache.run("postinst", "configure", "2.7.0") == []
    calls = fake_apache.run("prerm", "remove")
    assert calls == ["a2enmod -m -q md", "invoke dismod md_ng"]
    assert fake_apache.enabled() == ["md"]
    assert not (fake_apache.state / "switched-from-md").exists()
    assert fake_apache.run("postrm", "purge") == ["invoke dismod md_ng"]
    assert not fake_apache.state.exists()


def test_deb_scripts_leave_a_server_without_md_alone(fake_apache):
    assert fake_apache.run("postinst", "configure") == []
    assert fake_apache.enabled() == []
    # the admin enabled md_ng by hand: removal disables it, md stays off
    (fake_apache.mods / "md_ng.load").touch()
    assert fake_apache.run("prerm", "remove") == ["invoke dismod md_ng"]
    assert fake_apache.enabled() == []
    # an upgrade (prerm upgrade) touches nothing
    (fake_apache.mods / "md_ng.load").touch()
    assert fake_apache.run("prerm", "upgrade", "2.7.1") == []
    assert fake_apache.enabled() == ["md_ng"]
