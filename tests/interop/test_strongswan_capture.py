# SPDX-License-Identifier: BSD-3-Clause
"""The strongSwan vectors of the packet suite (tests/pkt/data/strongswan) can be
made again: scripts/netns/strongswan_vectors.py runs two charons in network
namespaces of its own, captures their ESP in UDP and parses their keys from
charon's log; the fresh capture passes the same judges as the stored one
(tests/pkt/test_strongswan.py: tshark verifies each ICV, scapy decrypts each
packet). Needs root and Debian's strongSwan (scripts/test.sh installs it)."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from interop_util import SRC, topo

sys.path.insert(0, os.path.join(SRC, "tests", "pkt"))
import test_strongswan  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/lib/ipsec/charon"),
                                reason="strongSwan (strongswan-charon) is not installed")


@pytest.fixture(scope="module")
def fresh():
    d = tempfile.mkdtemp(prefix="espgw-ss-vectors-")
    try:
        subprocess.run([topo.PYTHON, os.path.join(SRC, "scripts", "netns",
                                                  "strongswan_vectors.py"), d],
                       check=True, timeout=120)
        saved = test_strongswan.DATA, test_strongswan.PCAP
        test_strongswan.DATA = d
        test_strongswan.PCAP = os.path.join(d, "strongswan-natt.pcap")
        yield d
        test_strongswan.DATA, test_strongswan.PCAP = saved
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_fresh_capture_covers_both_sas_both_ways(fresh):
    test_strongswan.test_vectors_cover_both_sas_both_ways()


def test_fresh_capture_tshark(fresh):
    test_strongswan.test_tshark_verifies_every_icv()


def test_fresh_capture_scapy(fresh):
    test_strongswan.test_scapy_decrypts_every_packet()
