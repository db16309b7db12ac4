# SPDX-License-Identifier: BSD-3-Clause
"""The gateway the live control tests share (live.Gateway, killed whatever happens)."""

import pytest

from live import Gateway


@pytest.fixture
def gw():
    g = Gateway()
    try:
        yield g
    finally:
        g.kill()
