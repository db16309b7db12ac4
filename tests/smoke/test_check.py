# SPDX-License-Identifier: BSD-3-Clause
"""espgw --check: every shipped config is valid; a broken one exits 2 with one
FILE:LINE: message per error, at the right lines, and no EAL is started."""

import glob
import os

import pytest

from smoke_util import (BROKEN, BROKEN_LINES, SRC, error_lines, run, runtime_dir,
                        write_file)

CONFIGS = sorted(glob.glob(os.path.join(SRC, "config", "*.conf")))


@pytest.fixture
def broken(workdir):
    return write_file(workdir, "broken.conf", BROKEN)


def test_configs_exist():
    names = [os.path.basename(c) for c in CONFIGS]
    assert "minimal.conf" in names, "config/*.conf: %s" % names


@pytest.mark.parametrize("conf", CONFIGS, ids=os.path.basename)
def test_config_is_valid(conf):
    """Valid; the only message allowed is the warning about a file others can
    read (a git checkout makes them 0644; test_perms.py checks that rule)."""
    r = run(["--check", "-f", conf])
    want = ""
    if os.stat(conf).st_mode & 0o044:
        want = "%s: warning: readable by group/others; it holds keys (chmod 600)\n" % conf
    assert (r.returncode, r.stderr) == (0, want), r.stderr


def test_broken_config_reports_each_line(broken):
    r = run(["--check", "-f", broken])
    assert r.returncode == 2, r.stderr
    assert error_lines(r.stderr, "broken.conf") == BROKEN_LINES, r.stderr


def test_broken_config_check_starts_no_eal(broken, prefix):
    r = run(["--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix, "--",
             "-f", broken, "--check"])
    assert r.returncode == 2, r.stderr
    assert error_lines(r.stderr, "broken.conf") == BROKEN_LINES, r.stderr
    assert not os.path.exists(runtime_dir(prefix)), "--check initialised the EAL"


def test_missing_config_is_an_error(workdir):
    path = os.path.join(workdir, "absent.conf")
    r = run(["--check", "-f", path])
    assert r.returncode == 2, r.stderr
    assert "absent.conf" in r.stderr
