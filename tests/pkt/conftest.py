# SPDX-License-Identifier: BSD-3-Clause
"""pytest setup for the packet suite: tests that start espgw need $ESPGW
(meson test sets it); test_oracle.py runs without it."""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    espgw = os.environ.get("ESPGW", "")
    if os.access(espgw, os.X_OK):
        return
    for item in items:
        if not item.module.__name__.endswith("test_oracle"):
            raise pytest.UsageError("ESPGW=%r is not an executable (run through meson test)"
                                    % espgw)
