# SPDX-License-Identifier: BSD-3-Clause
"""espgw --help and --version: answered before (and without) EAL initialisation."""

import os
import re

import pytest

from smoke_util import VERSION, run, runtime_dir

OPTIONS = ["-f", "--check", "--stats-interval", "--stats-json", "--log-level", "--strict-perms",
           "--mbuf-pools", "--help", "--version"]


def mentions(text, opt):
    # Whole option only: "-f" must not be found inside "--foo" or "-fx".
    return re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text) is not None


@pytest.mark.parametrize("argv", [["--help"], ["--", "--help"]], ids=["plain", "after-dashes"])
def test_help_lists_every_option(argv):
    r = run(argv)
    assert r.returncode == 0, r.stderr
    text = r.stdout + r.stderr
    missing = [o for o in OPTIONS if not mentions(text, o)]
    assert not missing, "--help does not mention %s:\n%s" % (missing, text)


@pytest.mark.parametrize("argv", [["--version"], ["--", "--version"]],
                         ids=["plain", "after-dashes"])
def test_version_prints_version(argv):
    assert VERSION, "ESPGW_VERSION not set by meson"
    r = run(argv)
    assert r.returncode == 0, r.stderr
    assert VERSION in r.stdout, "version %s not in %r" % (VERSION, r.stdout)


def test_version_starts_no_eal(prefix):
    r = run(["--no-pci", "--file-prefix", prefix, "--", "--version"])
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(runtime_dir(prefix)), "--version initialised the EAL"


def test_unknown_option_fails(prefix):
    r = run(["--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix, "--",
             "-f", "x.conf", "--no-such-option"])
    assert r.returncode > 0, "exit status %d" % r.returncode
    assert r.stderr.strip(), "an unknown option must be reported on stderr"


def test_bad_mbuf_pools_fails(prefix):
    """--mbuf-pools takes shared or worker; anything else stops before the EAL."""
    r = run(["--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix, "--",
             "-f", "x.conf", "--mbuf-pools", "per-core"])
    assert r.returncode == 2, "exit status %d" % r.returncode
    assert "invalid --mbuf-pools 'per-core'" in r.stderr, r.stderr
    assert not os.path.exists(runtime_dir(prefix)), "a bad option initialised the EAL"
