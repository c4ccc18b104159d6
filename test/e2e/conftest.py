# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Shared fixtures of the end-to-end suite: httpd environments (our module or
# the reference module) with an error log check at the end of each test, and
# the pebble CA fixture from pebble.py.

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from md_env import HttpdEnv, REFERENCE_MODULE, our_module  # noqa: E402

try:
    from pebble import pebble_factory  # noqa: F401,E402  (fixture re-export)
except ImportError:  # pragma: no cover
    pass


@pytest.fixture
def env_factory():
    """Creates HttpdEnv instances; at teardown each is stopped and its error
    log is checked for [warn]/[error]/[crit] lines not allowed by the test
    (env.allow_log(regex...))."""
    envs = []

    def make(**kw):
        if not kw.get("reference") and not kw.get("module") \
                and not os.path.exists(our_module()):
            pytest.skip("module not built: %s (set MD_BUILD_DIR or MD_MODULE)"
                        % our_module())
        if kw.get("reference") and not os.path.exists(REFERENCE_MODULE):
            pytest.skip("reference module not installed")
        env = HttpdEnv(**kw)
        envs.append(env)
        return env

    yield make
    problems = []
    for env in envs:
        try:
            bad = env.unexpected_log_lines()
        finally:
            env.cleanup()
        if bad:
            problems.append("%s:\n  %s" % (env.error_log, "\n  ".join(bad)))
    if problems:
        pytest.fail("unexpected lines in error log:\n" + "\n".join(problems))


@pytest.fixture
def env(env_factory):
    """An environment with our module."""
    return env_factory()


@pytest.fixture
def ref_env(env_factory):
    """An environment with the reference module (oracle for differential tests)."""
    return env_factory(reference=True)
