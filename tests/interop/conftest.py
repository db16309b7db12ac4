# SPDX-License-Identifier: BSD-3-Clause
"""pytest setup of the interop suite: the two-branch-office topology of
scripts/netns/topo.py (network namespaces, two espgw processes on net_tap
ports, a capture of the internet), one per test module (interop_util.py).

Needs root, /dev/net/tun, iproute2, iputils-ping, tcpdump and tshark. Without
root the whole suite is skipped (exit status 77, which meson reports as SKIP);
a missing tool is an error."""

import os
import shutil

import pytest

TOOLS = {"ip": "iproute2", "ping": "iputils-ping", "tcpdump": "tcpdump", "tshark": "tshark"}


def pytest_configure(config):
    espgw = os.environ.get("ESPGW", "")
    if not os.access(espgw, os.X_OK):
        raise pytest.UsageError("ESPGW=%r is not an executable (run through meson test)" % espgw)
    if os.getuid() != 0:
        pytest.exit("the interop suite needs root (network namespaces, taps): skipped",
                    returncode=77)
    missing = ["%s (%s)" % (t, p) for t, p in TOOLS.items() if shutil.which(t) is None]
    if not os.path.exists("/dev/net/tun"):
        missing.append("/dev/net/tun (the tun module)")
    if missing:
        raise pytest.UsageError("the interop suite needs: " + ", ".join(missing))
