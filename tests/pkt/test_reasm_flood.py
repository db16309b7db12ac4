# SPDX-License-Identifier: BSD-3-Clause
"""Reassembly of outer ESP fragments under a flood of spoofed fragments
(README: "Fragmented ESP arriving at the gateway").

Legitimate ESP packets that a router on the way cut into three fragments
(scapy's fragment()) are interleaved with thousands of spoofed 16-byte first
fragments that never complete, all in one pcap that espgw reads as fast as it
can (about 170,000 fragments a second on the 2-core test VM, 80 times the
audit's flood of 2048 a second). The flood starts FLOOD_AHEAD spoofed fragments
before the first legitimate packet, so the table would be full when it comes
(the audit's finding: every legitimate packet then failed). Three runs:

- random sources (IPv4 and IPv6, never an SA's peer): every one is dropped
  before reassembly (reasm_not_peer), every legitimate packet comes out;
- the peer's own address, random IDs (a blind spoofer): the table stays
  bounded by giving up its oldest packets, so legitimate packets, whose
  fragments arrive together, complete; those whose ID a spoofed fragment
  still in the table took are lost (RFC 4963: the IPv4 ID is all that tells
  two packets of one peer apart): at least MIN_SUCCESS_PEER of them come out
  (246-248 of 256 measured);
- two peers, one of them spoofed: the spoofed peer may hold only its share
  of the table (refused beyond it: reasm_peer_full), the other peer's
  packets come out (all of them measured; at least MIN_SUCCESS_OTHER asserted). At this rate the spoofed peer's share is nearly
  always full of fragments younger than the pressure timeout, so few of its own
  packets get through (not asserted; dpdk-frag measures the rates at which
  they do).

Judges: the inner packets out of lan0 must be exactly (bytes) inner packets
that were sent, each once; the counters must account for every fragment
(reassembled, merged, given up, evicted, refused) exactly; the harness checks
the balance and the pools after every run."""

import random
import socket
import struct

import pytest
from scapy.layers.inet import IP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, fragment6
from scapy.packet import Raw

import harness
from harness import Tunnel

WAN4, WAN6 = harness.WAN4, harness.WAN6
PEER2 = "203.0.113.2"
LEGIT = 256            # legitimate packets per run
FLOOD = 12288          # spoofed fragments per run (three reassembly tables' worth)
FLOOD_AHEAD = 4096     # of them before the first legitimate packet
FRAG_SIZE = 600        # the legitimate packets' fragments (three per packet)
# Measured 96% and 100% here; the margins keep a slow or busy machine (the
# sanitizer run, a shared CI core: a fragment's wait is measured in time) from
# failing what still proves the point (before: 11% and 6%).
MIN_SUCCESS_PEER = 0.80
MIN_SUCCESS_OTHER = 0.90


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def spoof4(src, ident):
    """An Ethernet frame with a 16-byte first fragment (MF set) of an ESP packet to wan0."""
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 36, ident, 0x2000, 64, 50, 0,
                                socket.inet_aton(src), socket.inet_aton(WAN4)))
    struct.pack_into("!H", hdr, 10, csum(bytes(hdr)))
    eth = bytes.fromhex(harness.WAN_MAC.replace(":", "")) + \
        bytes.fromhex(harness.NH4_MAC.replace(":", "")) + b"\x08\x00"
    return eth + bytes(hdr) + bytes(range(16))


def spoof6(src, ident):
    """The same over IPv6: fragment header (offset 0, M set, next header ESP)."""
    fh = struct.pack("!BBHI", 50, 0, 1, ident)
    hdr = struct.pack("!IHBB16s16s", 0x60000000, 8 + 16, 44, 64,
                      socket.inet_pton(socket.AF_INET6, src),
                      socket.inet_pton(socket.AF_INET6, WAN6))
    eth = bytes.fromhex(harness.WAN_MAC.replace(":", "")) + \
        bytes.fromhex(harness.NH6_MAC.replace(":", "")) + b"\x86\xdd"
    return eth + hdr + fh + bytes(range(16))


def random_source(rng, family):
    """An address that is no SA's peer and passes the input rules (no martian)."""
    if family == 4:
        return "%d.%d.%d.%d" % (rng.randint(11, 99), rng.randint(0, 255), rng.randint(0, 255),
                                rng.randint(1, 254))
    return "2001:db8:%x:%x::%x" % (rng.randint(0x300, 0xffff), rng.randint(0, 0xffff),
                                    rng.randint(1, 0xffff))


class Legit:
    """A legitimate packet: its inner packet and the WAN frames of its outer fragments."""

    def __init__(self, tun, seq, ident):
        self.inner = tun.wan_pkt("udp", 1400, id=seq & 0xffff)
        frame = tun.encap(self.inner, seq)
        if tun.outer == 4:
            outer = IP(bytes(frame)[14:])
            outer.id, outer.chksum = ident, None
            frags = fragment(IP(bytes(outer)), fragsize=FRAG_SIZE)
        else:
            outer = IPv6(bytes(frame)[14:])
            esp = IPv6(src=outer.src, dst=outer.dst, hlim=outer.hlim) / \
                IPv6ExtHdrFragment(id=ident, nh=50) / Raw(bytes(outer.payload))
            frags = fragment6(esp, FRAG_SIZE + 48)
        self.frames = [bytes(harness.wan_frame(f.__class__(bytes(f)))) for f in frags]
        assert len(self.frames) == 3, len(self.frames)
        self.out = harness.ttl_dec(self.inner)


class Flood:
    """One run's input: legitimate packets spread evenly through the flood."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.legit = []    # Legit, in order
        self.spoofs = []   # frames
        self.by_tun = {}   # tunnel name -> [Legit]

    def add_legit(self, name, tun, n):
        for i in range(n):
            ident = self.rng.randint(0, 0xffff if tun.outer == 4 else 0xffffffff)
            lg = Legit(tun, i + 1, ident)
            self.legit.append(lg)
            self.by_tun.setdefault(name, []).append(lg)

    def shuffle(self):
        """Tunnels interleaved at random, each tunnel's packets in sequence order
        (out of order by more than the replay window they would be replays)."""
        queues = [list(v) for v in self.by_tun.values()]
        self.legit = []
        while any(queues):
            q = self.rng.choice([q for q in queues if q])
            self.legit.append(q.pop(0))

    def frames(self):
        """FLOOD_AHEAD spoofed fragments, then one legitimate packet (its three
        fragments back to back, as the router that cut it sent them) after
        every len(rest)/len(legit) spoofed ones."""
        head, rest = self.spoofs[:FLOOD_AHEAD], self.spoofs[FLOOD_AHEAD:]
        out, step = list(head), len(rest) // len(self.legit)
        for i, lg in enumerate(self.legit):
            out += rest[i * step:(i + 1) * step]
            out += lg.frames
        return out + rest[len(self.legit) * step:]


def run_flood(fl, tunnels):
    conf = harness.base_conf()
    for t in tunnels:
        conf += t.conf()
    frames = fl.frames()
    res = harness.run(conf, wan=frames, timeout=60)
    got = [f[14:] for f in res.out["lan0"]]
    sent, out = {lg.out for lg in fl.legit}, set(got)
    assert len(out) == len(got), "an inner packet came out twice"
    unknown = [g.hex()[:80] for g in got if g not in sent]
    assert not unknown, "inner packets out of lan0 that were never sent: %s" % unknown
    assert res.out["wan0"] == [], "frames out of wan0"
    res.ok = {name: sum(1 for lg in lgs if lg.out in out) for name, lgs in fl.by_tun.items()}
    return res


def dp(res):
    return res.stats["dataplane"]


def report(name, res, fl):
    d = dp(res)
    print("%s: %s of %s legitimate packets; dataplane %s; drops %s" % (
        name, res.ok, {k: len(v) for k, v in fl.by_tun.items()},
        {k: d[k] for k in d if k.startswith("reasm") or k == "reassembled"}, res.drops()))


def check_balance(res, n_legit_frags, n_spoofs_taken, ok):
    """Every fragment taken is merged into a reassembled packet or given up
    (reasm_failed while running, shutdown at the stop); each reassembled
    packet is one legitimate packet that came out."""
    d, drops = dp(res), res.stats["drops"]
    assert d["reasm_fragments"] == n_legit_frags + n_spoofs_taken, d
    assert d["reassembled"] == ok, (d, ok)
    assert d["reasm_merged"] == 3 * ok, d
    assert d["reasm_freed"] == d["reasm_fragments"] - d["reasm_merged"], d
    assert d["reasm_freed"] == drops["reasm_failed"] + drops["shutdown"], (d, drops)
    assert d["pending"] == 0, d
    assert res.stats["totals"]["tx"] == ok
    # Nothing else dropped: what is not reassembled is given up, nothing leaves in clear.
    harness.assert_drops(res.stats, reasm_failed=drops["reasm_failed"],
                         shutdown=drops["shutdown"], reasm_not_peer=drops["reasm_not_peer"])


@pytest.fixture(scope="module")
def random_sources():
    """IPv4 and IPv6 tunnels to the peer; spoofs from random addresses, both families."""
    t4, t6 = Tunnel(60, "aes-gcm-128", 4, 4), Tunnel(61, "aes-gcm-128", 4, 6)
    fl = Flood(1)
    fl.add_legit("t4", t4, LEGIT // 2)
    fl.add_legit("t6", t6, LEGIT // 2)
    for i in range(FLOOD):
        fam = 4 if i % 2 == 0 else 6
        src = random_source(fl.rng, fam)
        ident = fl.rng.randint(0, 0xffff if fam == 4 else 0xffffffff)
        fl.spoofs.append(spoof4(src, ident) if fam == 4 else spoof6(src, ident))
    fl.shuffle()
    res = run_flood(fl, [t4, t6])
    report("random sources", res, fl)
    return res


def test_random_sources_all_legit(random_sources):
    res = random_sources
    assert res.ok == {"t4": LEGIT // 2, "t6": LEGIT // 2}, res.ok


def test_random_sources_counters(random_sources):
    res = random_sources
    harness.assert_drops(res.stats, reasm_not_peer=FLOOD)
    check_balance(res, 3 * LEGIT, 0, LEGIT)
    d = dp(res)
    assert d["reasm_freed"] == 0 and d["reasm_evicted"] == 0 and d["reasm_peer_full"] == 0, d


@pytest.fixture(scope="module")
def peer_spoofed():
    """One tunnel; spoofs from the peer's own address with random IDs."""
    t4 = Tunnel(62, "aes-gcm-128", 4, 4)
    fl = Flood(2)
    fl.add_legit("t4", t4, LEGIT)
    for _ in range(FLOOD):
        fl.spoofs.append(spoof4(t4.peer, fl.rng.randint(0, 0xffff)))
    res = run_flood(fl, [t4])
    report("peer address", res, fl)
    return res


def test_peer_spoofed_success_rate(peer_spoofed):
    res = peer_spoofed
    assert res.ok["t4"] >= MIN_SUCCESS_PEER * LEGIT, res.ok


def test_peer_spoofed_counters(peer_spoofed):
    res = peer_spoofed
    d = dp(res)
    check_balance(res, 3 * LEGIT, FLOOD, res.ok["t4"])
    # The table gave up its oldest packets to stay bounded (the other spoofed
    # fragments it gave up met one of the same ID: a duplicate first fragment);
    # one peer holds no share.
    assert d["reasm_evicted"] > 0, d
    assert d["reasm_peer_full"] == 0, d
    assert res.stats["drops"]["reasm_not_peer"] == 0


@pytest.fixture(scope="module")
def two_peers():
    """Tunnels to two peers; spoofs from the first one's address."""
    ta, tb = Tunnel(63, "aes-gcm-128", 4, 4), Tunnel(64, "aes-gcm-128", 4, 4)
    tb.peer = PEER2
    fl = Flood(3)
    fl.add_legit("a", ta, LEGIT // 2)
    fl.add_legit("b", tb, LEGIT // 2)
    fl.shuffle()
    for _ in range(FLOOD):
        fl.spoofs.append(spoof4(ta.peer, fl.rng.randint(0, 0xffff)))
    res = run_flood(fl, [ta, tb])
    report("two peers", res, fl)
    return res


def test_two_peers_other_peer_unharmed(two_peers):
    res = two_peers
    assert res.ok["b"] >= MIN_SUCCESS_OTHER * (LEGIT // 2), res.ok


def test_two_peers_counters(two_peers):
    res = two_peers
    d = dp(res)
    check_balance(res, 3 * LEGIT, FLOOD, res.ok["a"] + res.ok["b"])
    # The spoofed peer was held to its share.
    assert d["reasm_peer_full"] > 0, d
    assert d["reasm_peer_full"] + d["reasm_evicted"] <= d["reasm_freed"], d
    assert res.stats["drops"]["reasm_not_peer"] == 0
