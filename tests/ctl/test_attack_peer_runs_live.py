# SPDX-License-Identifier: BSD-3-Clause
"""Attack on esp_hops' runs of one peer (lib/dp/fwd.c esp_hops, espgw_ip_equal) with
peers changing live: two outbound SAs interleaved frame by frame, their
remotes flipped between two peers behind different next hops by `sa update`
(MOVED slots) while traffic flows. Every ESP frame must go to the next hop
of its own outer destination, decrypt with its SPI's key, and no (SPI, seq)
may repeat. Run inside a network namespace (netns_run.sh)."""

import os
import threading
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether

import live

PEER2 = "203.0.113.9"
NH2, NH2_MAC = "198.51.100.253", "02:00:00:00:02:fc"
HOP = {live.PEER: live.NH_MAC, PEER2: NH2_MAC}


@pytest.fixture(params=["one", "two"])
def gw(request):
    import harness
    g = live.Gateway(lcores=harness.two_workers()) if request.param == "two" else live.Gateway()
    try:
        yield g
    finally:
        g.kill()


@pytest.mark.parametrize("extra", ["", " seq-order strict", " encap udp"])
def test_live_peer_flips(gw, extra, request):
    if extra == " seq-order strict" and request.node.callspec.params["gw"] == "one":
        pytest.skip("seq-order strict needs two workers")
    if extra == " seq-order strict" and os.environ.get("ESPGW_TEST_CRYPTO_PATH") == "cpu":
        pytest.skip("seq-order strict needs the direct path")
    k1, k2 = live.Key(0x7101, 0x51), live.Key(0x7102, 0x52)
    keys = {k1.spi: k1, k2.spi: k2}
    assert gw.ctl.txn([
        "neighbor add %s lladdr %s port wan0" % (NH2, NH2_MAC),
        "route add %s/32 via %s port wan0" % (PEER2, NH2),
        k1.conf("o1", "out", remote=live.PEER) + extra, k2.conf("o2", "out", remote=PEER2) + extra,
        "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name p1 protect o1",
        "sp add out src 10.1.0.0/24 dst 10.4.0.0/24 name p2 protect o2"])["ok"]
    stop = threading.Event()
    sent = [0]

    def sender():
        i = 0
        while not stop.is_set():
            for _ in range(8):
                gw.lan.send(live.lan_frame(i, dst="10.%d.0.10" % (3 + i % 2)))
                i += 1
            time.sleep(0.0005)
        sent[0] = i

    t = threading.Thread(target=sender)
    t.start()
    frames = []
    try:
        for r in range(150):
            a, b = (live.PEER, PEER2) if r % 2 else (PEER2, live.PEER)
            res = gw.ctl.txn(["sa update o1 remote %s" % a])
            assert res["ok"], res
            res = gw.ctl.txn(["sa update o2 remote %s" % b])
            assert res["ok"], res
            frames += gw.wan.drain(settle=0.0, timeout=0.01)
    finally:
        stop.set()
        t.join()
    frames += gw.wan.drain()
    live.assert_no_clear(frames)
    seen, n = set(), 0
    for f in frames:
        eth = Ether(f)
        if IP not in eth or eth[IP].proto not in (50, 17):
            continue
        ip = eth[IP]
        if ip.proto == 17:  # ESP in UDP (RFC 3948): judged as ESP in IP
            ip = IP(src=ip.src, dst=ip.dst) / ESP(bytes(ip[UDP].payload))
        assert eth.dst == HOP[ip.dst], "ESP to %s goes to next hop %s, not %s" % (
            ip.dst, eth.dst, HOP[ip.dst])
        spi, seq = ip[ESP].spi, ip[ESP].seq
        assert (spi, seq) not in seen, "SPI %#x seq %d twice" % (spi, seq)
        seen.add((spi, seq))
        keys[spi].scapy_sa(live.WAN, ip.dst).decrypt(ip)
        n += 1
    assert n > 150, (n, sent[0])
    gw.stop()
