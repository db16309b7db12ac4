# SPDX-License-Identifier: BSD-3-Clause
"""Review of 38d6168, live: two workers take the numbers of every direct-path
group of a burst before framing any (esp_out.c outb_take_all), while the
control socket moves, rekeys and deletes the SAs under traffic. Runs like
tests/ctl's live tests, inside a network namespace of its own:

  meson test -C build ctl-attack_seq_take_live

Two unordered direct SAs (out3 near the end of its 32-bit numbers, out4 from
1) share every burst (frames alternate between their nets, 64 flows so the
tap spreads them on both queues). Under traffic: out3 moved to a new peer
(sa update: a new slot takes over the number), out4 rekeyed make-before-
break to out6 and deleted, out3 moved back, then deleted. Judged by scapy:
nothing in clear, every frame decrypts, per SPI no number twice (across the
moves: one key), none past 0xfffffffe, out3's numbers contiguous from its
start up to its limit (sa_updating and no_sa_yet drop before a number is
taken; sqn_overflow after the last), no frame left over or leaked."""

import os

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import live
from live import Key

import harness  # noqa: E402  (tests/pkt, on the path live.py sets)
from test_order_live import Stream  # noqa: E402

if os.geteuid() != 0:
    pytest.skip("needs root (run through tests/ctl/netns_run.sh)", allow_module_level=True)

NEW_PEER = "203.0.113.9"
OUT3, OUT4, OUT6 = Key(0x3001, 0x30), Key(0x3004, 0x34), Key(0x3006, 0x36)
LAST = 0xFFFFFFFE
LEFT = 2500
START3 = LAST + 1 - LEFT
FLOWS = 64
NETS = ("10.3.0.10", "10.4.0.10")


def frame(i):
    body = live.MARKER + i.to_bytes(4, "big") + bytes(24)
    return bytes(Ether(src=live.HOST_MAC, dst=live.LAN_MAC) /
                 IP(src=live.HOST, dst=NETS[i % 2], id=i & 0xFFFF) /
                 UDP(sport=4000 + (i // 2) % FLOWS, dport=5000) / Raw(body))


@pytest.fixture
def gw2():
    g = live.Gateway(lcores=harness.two_workers())
    try:
        yield g
    finally:
        g.kill()


def test_move_rekey_delete_near_limit(gw2):
    gw = gw2
    conf = [OUT3.conf("out3", "out") + " crypto-path direct seq %#x" % START3,
            OUT4.conf("out4", "out") + " crypto-path direct",
            "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name p3out protect out3",
            "sp add out src 10.1.0.0/24 dst 10.4.0.0/24 name p4out protect out4"]
    assert gw.ctl.txn(conf)["ok"]
    n = 8000
    d0 = gw.drops()
    s = Stream(gw, n, burst=64, gap=0.005, make=frame, wait=60)
    s.start()
    try:
        s.at(1500)
        gw.ctl.ok("sa update out3 remote " + NEW_PEER)
        s.at(3000)
        gw.ctl.ok(OUT6.conf("out6", "out") + " crypto-path direct")
        gw.ctl.ok("sp set p4out protect out6")
        gw.ctl.ok("sa del out4")
        s.at(4500)
        gw.ctl.ok("sa update out3 remote " + live.PEER)
        s.at(6500)
        gw.ctl.ok("sa del out3")
    finally:
        s.join()
    out = gw.wan.drain(want=n, timeout=30)
    live.assert_no_clear(out)
    keys = {k.spi: k for k in (OUT3, OUT4, OUT6)}
    seqs, seen = {k: [] for k in keys}, set()
    for f in out:
        ip = Ether(f)[IP]
        assert ip.proto == 50 and ip[ESP].spi in keys, ip.summary()
        k = keys[ip[ESP].spi]
        seqs[k.spi].append(ip[ESP].seq)
        i = live.marker_index(k.scapy_sa(live.WAN, ip.dst).decrypt(ip)[UDP].payload)
        assert i is not None and i not in seen, i
        seen.add(i)
        assert (i % 2 == 0) == (k is OUT3), (i, hex(k.spi))
    for spi, v in seqs.items():
        dup = sorted({x for x in v if v.count(x) > 1})
        assert not dup, (hex(spi), "numbers sent twice under one key", dup[:10])
        assert all(x <= LAST for x in v), hex(spi)
    s3 = sorted(seqs[OUT3.spi])
    assert s3 == list(range(START3, START3 + len(s3))), "out3: a gap"
    for spi in (OUT4.spi, OUT6.spi):
        assert sorted(seqs[spi]) == list(range(1, len(seqs[spi]) + 1)), hex(spi)
    lost = gw.drops_since(d0)
    assert len(s3) == LEFT, "out3 sent %d, expected all its %d numbers" % (len(s3), LEFT)
    assert set(lost) <= {"sa_updating", "no_sa_yet", "sqn_overflow"}, lost
    assert sum(lost.values()) == n - len(seen), (lost, n, len(seen))
    st = gw.stop()
    assert st["dataplane"]["pending"] == 0
    per = [w["sa"].get("out6", 0) for w in st["workers"]]
    assert len(per) == 2 and min(per) > 0, ("both workers encrypt out6", per)
