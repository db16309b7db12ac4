# SPDX-License-Identifier: BSD-3-Clause
"""The config file holds keys: one that group or others can read gets a
warning naming the file; --strict-perms makes it an error (exit 2, nothing
started), with --check as without."""

import os

import pytest

from smoke_util import MINIMAL_CONF, eal_args, run, runtime_dir, write_file

WARNING = "%s: warning: readable by group/others; it holds keys (chmod 600)\n"
ERROR = "%s: readable by group/others; it holds keys (chmod 600)\n"


@pytest.fixture
def conf(workdir):
    with open(MINIMAL_CONF) as f:
        return write_file(workdir, "gw.conf", f.read())


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o444])
def test_readable_warns(conf, mode):
    os.chmod(conf, mode)
    r = run(["--check", "-f", conf])
    assert (r.returncode, r.stderr) == (0, WARNING % conf), r.stderr


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o620, 0o602])
def test_private_is_quiet(conf, mode):
    os.chmod(conf, mode)
    r = run(["--check", "-f", conf])
    assert (r.returncode, r.stderr) == (0, ""), r.stderr


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_strict_refuses(conf, mode):
    os.chmod(conf, mode)
    r = run(["--check", "--strict-perms", "-f", conf])
    assert r.returncode == 2, r.stderr
    assert r.stderr == ERROR % conf + "espgw: %s: 1 error, nothing started\n" % conf, r.stderr


def test_strict_accepts_private(conf):
    os.chmod(conf, 0o600)
    r = run(["--check", "--strict-perms", "-f", conf])
    assert (r.returncode, r.stderr) == (0, ""), r.stderr


def test_strict_counts_with_other_errors(workdir):
    """One run shows every problem: the mode and the config's own errors."""
    path = write_file(workdir, "bad.conf", "frobnicate\nport add x\n")
    os.chmod(path, 0o644)
    r = run(["--check", "--strict-perms", "-f", path])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == (ERROR % path).rstrip(), r.stderr
    assert [l.split(":")[1] for l in lines[1:3]] == ["1", "2"], r.stderr
    assert lines[-1] == "espgw: %s: 3 errors, nothing started" % path, r.stderr


def test_strict_run_starts_nothing(conf, workdir, prefix):
    """Not only --check: a gateway refuses to start, before the EAL."""
    os.chmod(conf, 0o644)
    out = os.path.join(workdir, "out.pcap")
    r = run(eal_args(prefix, ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (conf, out)]) +
            ["--", "-f", conf, "--strict-perms"])
    assert r.returncode == 2, r.stderr
    assert ERROR % conf in r.stderr, r.stderr
    assert not os.path.exists(runtime_dir(prefix)) and not os.path.exists(out)


def test_run_warns_and_starts(conf, workdir, prefix):
    """Without --strict-perms the warning is all: the gateway runs (a broken
    config would stop it at the port setup, which is after the warning)."""
    os.chmod(conf, 0o644)
    r = run(eal_args(prefix, []) + ["--", "-f", conf])
    assert r.stderr.startswith(WARNING % conf), r.stderr
    assert "net_pcap0" in r.stderr and r.returncode == 2, r.stderr
