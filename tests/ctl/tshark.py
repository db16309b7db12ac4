# SPDX-License-Identifier: BSD-3-Clause
"""tshark, the independent judge of capture files."""

import subprocess


def fields(path, names, dfilter=""):
    """One row per frame of path (matching the display filter dfilter): the
    values of the fields names, as tshark -T fields prints them."""
    cmd = ["tshark", "-r", path, "-T", "fields"] + sum([["-e", f] for f in names], [])
    if dfilter:
        cmd += ["-Y", dfilter]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]
