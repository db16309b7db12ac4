# SPDX-License-Identifier: BSD-3-Clause
"""Attack on the SPD's scan of small families (lib/spd/spd_scan.c, commit
48cb79e) switched live: both directions hold 8 IPv4 rules (classified by
scan) and a ninth is added and deleted by `sp add` / `sp del` over and over,
so each publication moves the SPD between the scan and rte_acl while
traffic flows. A catch-all bypass ranks behind every protect rule in both
directions: a verdict from the wrong rule, a stale or a half-built SPD lets
protect-class traffic out on the WAN in clear, or clear traffic of the
tunnel in on the LAN. Run inside a network namespace (netns_run.sh)."""

import threading
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import live

BYPASS_MARK = b"ESPGW-BYPASS-OK!"

# 2 + 6 fillers = 8 rules a direction: the scan. The toggled ninth: rte_acl.
FILLERS = 6
RULES = [
    "sp add out priority 2000 src 0.0.0.0/0 dst 0.0.0.0/0 name obyp bypass",
    "sp add in priority 2000 src 0.0.0.0/0 dst 0.0.0.0/0 name ibyp bypass",
] + ["sp add out priority 1500 src 10.1.0.0/24 dst 10.200.%d.0/24 name fo%d discard" % (i, i)
     for i in range(FILLERS)] + \
    ["sp add in priority 1500 src 10.200.%d.0/24 dst 10.1.0.0/24 name fi%d discard" % (i, i)
     for i in range(FILLERS)]
# Better than the tunnel's policies, over half of its selectors: discard, never clear.
NINTH = ["sp add out priority 10 src 10.1.0.0/24 dst 10.3.0.128/25 name to discard",
         "sp add in priority 10 src 10.3.0.128/25 dst 10.1.0.0/24 name ti discard"]


def wan_clear(i, src, mark):
    """A clear frame from the WAN next hop to the LAN host."""
    return Ether(src=live.NH_MAC, dst=live.WAN_MAC) / IP(src=src, dst=live.HOST) / \
        UDP(sport=4000, dport=5000) / Raw(mark + i.to_bytes(4, "big") + bytes(32))


@pytest.fixture(params=["one", "two"])
def gw(request):
    import harness
    g = live.Gateway(lcores=harness.two_workers()) if request.param == "two" else live.Gateway()
    try:
        yield g
    finally:
        g.kill()


def test_live_scan_acl_switch(gw):
    assert gw.ctl.txn(live.tunnel_conf() + RULES)["ok"]
    stop = threading.Event()
    sent = [0]

    def sender():
        i = 0
        while not stop.is_set():
            for _ in range(4):
                gw.lan.send(live.lan_frame(i, dst="10.3.0.%d" % (10 if i % 2 else 200)))
                # Tunnel traffic in clear (must drop), and bypass traffic (must pass).
                gw.wan.send(wan_clear(i, "10.3.0.%d" % (10 if i % 2 else 200), live.MARKER))
                gw.wan.send(wan_clear(i, "10.9.0.10", BYPASS_MARK))
                i += 1
            time.sleep(0.001)
        sent[0] = i

    t = threading.Thread(target=sender)
    t.start()
    wan, lan = [], []
    try:
        for r in range(150):
            res = gw.ctl.txn(NINTH)
            assert res["ok"], res
            wan += gw.wan.drain(settle=0.0, timeout=0.01)
            lan += gw.lan.drain(settle=0.0, timeout=0.01)
            res = gw.ctl.txn(["sp del to", "sp del ti"])
            assert res["ok"], res
            wan += gw.wan.drain(settle=0.0, timeout=0.01)
            lan += gw.lan.drain(settle=0.0, timeout=0.01)
    finally:
        stop.set()
        t.join()
    wan += gw.wan.drain()
    lan += gw.lan.drain()
    live.assert_no_clear(wan)
    for f in lan:
        assert live.MARKER not in f, "the tunnel's clear traffic in on the LAN: %r" % Ether(f)
    assert sent[0] > 40, sent[0]
    passed = sum(1 for f in lan if BYPASS_MARK in f)
    assert passed > sent[0] // 2, (passed, sent[0])
    sa = live.OUT3.scapy_sa(live.WAN, live.PEER)
    n = 0
    for f in wan:
        eth = Ether(f)
        if IP not in eth or eth[IP].proto != 50:
            continue
        assert eth[IP][ESP].spi == live.OUT3.spi
        sa.decrypt(eth[IP])
        n += 1
    assert n > sent[0] // 3, (n, sent[0])
    gw.stop()
