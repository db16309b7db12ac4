# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures for the smoke suite. Each one removes what it created: its temp
directory, the EAL runtime files of its --file-prefix, and the espgw processes
it started (by PID, through the Popen object)."""

import os
import re
import shutil
import tempfile

import pytest

import smoke_util


def pytest_configure(config):
    if not os.access(smoke_util.ESPGW, os.X_OK):
        raise pytest.UsageError("ESPGW=%r is not an executable (run through meson test)"
                                % smoke_util.ESPGW)


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="espgw-smoke-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def prefix(request):
    p = smoke_util.unique_prefix(re.sub(r"[^A-Za-z0-9]", "", request.node.name)[:24])
    yield p
    smoke_util.remove_runtime(p)


@pytest.fixture
def gateways():
    """Start gateways with gateways.append(smoke_util.Gateway(...)); killed at teardown."""
    started = []
    yield started
    for gw in started:
        gw.kill()
