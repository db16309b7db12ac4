# SPDX-License-Identifier: BSD-3-Clause
"""SPD changes under traffic, for the attacks on the SPD's classifiers
(test_attack_spd_scan_live.py, test_attack_spd_bucket_live.py): LAN traffic
to the tunnel, and clear frames from the WAN (the tunnel's, which must drop,
and bypass ones, which must pass) while a list of transactions is applied
over and over; then no protect-class traffic on the WAN in clear, none of
the tunnel's in on the LAN in clear, the bypass traffic through, and the
tunnel's ESP decrypted by scapy."""

import threading
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import live

BYPASS_MARK = b"ESPGW-BYPASS-OK!"


def wan_clear(i, src, mark):
    """A clear frame from the WAN next hop to the LAN host."""
    return Ether(src=live.NH_MAC, dst=live.WAN_MAC) / IP(src=src, dst=live.HOST) / \
        UDP(sport=4000, dport=5000) / Raw(mark + i.to_bytes(4, "big") + bytes(32))


def churn(gw, steps, rounds):
    """Apply each transaction of steps in turn, rounds times, under traffic:
    (frames out of the WAN, frames out of the LAN, packets sent a kind)."""
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
        for _ in range(rounds):
            for s in steps:
                res = gw.ctl.txn(s)
                assert res["ok"], res
                wan += gw.wan.drain(settle=0.0, timeout=0.01)
                lan += gw.lan.drain(settle=0.0, timeout=0.01)
    finally:
        stop.set()
        t.join()
    return wan + gw.wan.drain(), lan + gw.lan.drain(), sent[0]


def check(wan, lan, sent, esp_part):
    """The verdicts above; at least sent // esp_part of the tunnel's packets in ESP."""
    live.assert_no_clear(wan)
    for f in lan:
        assert live.MARKER not in f, "the tunnel's clear traffic in on the LAN: %r" % Ether(f)
    assert sent > 40, sent
    passed = sum(1 for f in lan if BYPASS_MARK in f)
    assert passed > sent // 2, (passed, sent)
    sa = live.OUT3.scapy_sa(live.WAN, live.PEER)
    n = 0
    for f in wan:
        eth = Ether(f)
        if IP not in eth or eth[IP].proto != 50:
            continue
        assert eth[IP][ESP].spi == live.OUT3.spi
        sa.decrypt(eth[IP])
        n += 1
    assert n > sent // esp_part, (n, sent)
