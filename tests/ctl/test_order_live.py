# SPDX-License-Identifier: BSD-3-Clause
"""An outbound SA with seq-order strict, encrypted by two workers, changed
live while its traffic runs (issue 14): sa update moving its peer there and
back and a rolled-back update, then sa del and a new SA in its place.

The gateway runs two workers (--lcores 0@a,1@b,2@c), so each net_tap port
has two queues; the kernel's tun picks each frame's queue by its flow hash,
and 64 UDP flows from the LAN host reach both workers (tests/interop/
test_workers.py says why). What leaves the WAN is judged by scapy: every
frame decrypts, the numbers rise in wire order (never one twice, never one
back: what was dropped before its number, sa_updating, leaves no gap at
all), each flow stays in order, both workers encrypted a share, and the
counters balance per worker with what they handed to the SA's owner."""

import threading
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import live  # first: it puts tests/pkt on the path
from live import OUT3, Key, tunnel_conf

import harness  # noqa: E402

NEW_PEER = "203.0.113.9"
OUT5 = Key(0x3005, 0x70)
FLOWS = 64
SHARE = 0.1  # each worker's least share of the SA's packets


@pytest.fixture
def gw2():
    g = live.Gateway(lcores=harness.two_workers())
    try:
        yield g
    finally:
        g.kill()


def flow_frame(i):
    """Frame i of the stream: flow i % FLOWS (its UDP source port)."""
    body = live.MARKER + i.to_bytes(4, "big") + bytes(32)
    return Ether(src=live.HOST_MAC, dst=live.LAN_MAC) / \
        IP(src=live.HOST, dst=live.REMOTE, id=i & 0xFFFF) / \
        UDP(sport=4000 + i % FLOWS, dport=5000) / Raw(body)


class Stream(threading.Thread):
    """Sends frames 0..n-1 from the LAN host; at(k) waits until k are out, so
    that the changes land at known points of the stream, not at times."""

    def __init__(self, gw, n, burst=32, gap=0.01, make=flow_frame, wait=30):
        super().__init__()
        self.gw, self.burst, self.gap, self.wait = gw, burst, gap, wait
        self.frames = [bytes(make(i)) for i in range(n)]
        self.sent = 0
        self.cv = threading.Condition()

    def run(self):
        # In bursts: both workers then encrypt at the same moments, which is
        # when their frames could overtake each other on the wire.
        for k in range(0, len(self.frames), self.burst):
            for f in self.frames[k:k + self.burst]:
                self.gw.lan.send(f)
            with self.cv:
                self.sent = min(k + self.burst, len(self.frames))
                self.cv.notify_all()
            time.sleep(self.gap)

    def at(self, k):
        with self.cv:
            assert self.cv.wait_for(lambda: self.sent >= k, timeout=self.wait), self.sent


def strict_conf():
    conf = tunnel_conf()
    conf[0] += " seq-order strict"
    return conf


def judge(frames, keys):
    """(per SPI: the numbers in wire order; the stream indices decrypted; the
    outer destinations in wire order). Every frame is ESP of a known SPI and
    decrypts; no index twice; each flow's indices rise in wire order."""
    live.assert_no_clear(frames)
    sas = {k.spi: {p: k.scapy_sa(live.WAN, p) for p in (live.PEER, NEW_PEER)} for k in keys}
    seqs = {k.spi: [] for k in keys}
    seen, dsts, last = set(), [], {}
    for f in frames:
        ip = Ether(f)[IP]
        assert ip.proto == 50 and ip[ESP].spi in sas, ip
        seqs[ip[ESP].spi].append(ip[ESP].seq)
        dsts.append(ip.dst)
        i = live.marker_index(sas[ip[ESP].spi][ip.dst].decrypt(ip)[UDP].payload)
        assert i is not None and i not in seen, i
        seen.add(i)
        assert last.get(i % FLOWS, -1) < i, ("flow out of order", i % FLOWS, last, i)
        last[i % FLOWS] = i
    return seqs, seen, dsts


def rising(seqs):
    return all(a < b for a, b in zip(seqs, seqs[1:]))


def check_workers(st, name, total):
    """Both workers encrypted a share of the SA; each worker's balance, with
    what it handed to the owner, holds; nothing is left in a window."""
    if name is not None:  # a deleted SA has no counters left
        per = [w["sa"].get(name, 0) for w in st["workers"]]
        assert sum(per) == total and min(per) >= SHARE * total, (name, per)
    dp = st["dataplane"]
    for x, d in zip(st["workers"], dp["workers"]):
        assert x["rx"] + d["handed_in"] == x["tx"] + x["drops"] + x["to_ctl"] + d["handed_out"], \
            (x, d)
    assert dp["pending"] == 0, dp
    assert sum(d["handed_out"] for d in dp["workers"]) > 0, dp


def test_update_under_traffic(gw2):
    """The peer moved and moved back, and an update rolled back, while both
    workers encrypt the SA: the numbers rise without a gap across all of it,
    the owner (and its TX queue) stays the same, what was lost is exactly what
    counted as sa_updating."""
    gw = gw2
    assert gw.ctl.txn(strict_conf())["ok"]
    shown = gw.ctl.ok("show sa out3")["sa"][0]
    assert shown["seq_order"] == "strict" and shown["crypto_path"] == "direct", shown
    n = 4000
    d0 = gw.drops()
    sender = Stream(gw, n)
    sender.start()
    bad = live.REFUSED_SA
    try:
        sender.at(1000)
        gw.ctl.ok("sa update out3 remote " + NEW_PEER)
        sender.at(2000)
        gw.ctl.ok("sa update out3 remote " + live.PEER)
        sender.at(3000)
        r = gw.ctl.txn(["sa update out3 remote " + NEW_PEER, bad])
        assert r["ok"] is False and "crypto path cpu" in r["error"], r
    finally:
        sender.join()
    out = gw.wan.drain(want=n, timeout=20)
    seqs, seen, dsts = judge(out, [OUT3])
    s = seqs[OUT3.spi]
    assert s == list(range(1, len(s) + 1)), "a gap or a number out of order"
    # Moved there and back: PEER, NEW_PEER, PEER; the rolled-back update never
    # showed (lib/gw/publish.c moves SAs only once the whole batch is in service).
    runs = [d for k, d in enumerate(dsts) if k == 0 or dsts[k - 1] != d]
    assert runs == [live.PEER, NEW_PEER, live.PEER], runs
    lost = gw.drops_since(d0)
    assert set(lost) <= {"sa_updating"} and lost.get("sa_updating", 0) == n - len(seen), lost
    assert shown["packets"] == 0 and gw.ctl.ok("show sa out3")["sa"][0]["packets"] == len(seen)
    st = gw.stop()
    check_workers(st, "out3", len(seen))


def test_rekey_and_delete_under_traffic(gw2):
    """A make-before-break rekey of the ordered SA (a new ordered SA, the
    policy switched, the old SA deleted) and then sa del of the SA in use,
    all under traffic: each SA's numbers run 1, 2, 3, ... in wire order; the
    rekey loses nothing; after the delete nothing leaves (no_sa_yet, never
    clear); no frame is left in a window or leaked."""
    gw = gw2
    assert gw.ctl.txn(strict_conf())["ok"]
    n = 4000
    d0 = gw.drops()
    sender = Stream(gw, n)
    sender.start()
    try:
        sender.at(1000)
        gw.ctl.ok(OUT5.conf("out5", "out") + " seq-order strict")
        gw.ctl.ok("sp set p3out protect out5")
        sender.at(2000)
        gw.ctl.ok("sa del out3")
        sender.at(3000)
        gw.ctl.ok("sa del out5")
    finally:
        sender.join()
    out = gw.wan.drain(want=n, timeout=20)
    seqs, seen, _ = judge(out, [OUT3, OUT5])
    for spi, s in seqs.items():
        assert s and s == list(range(1, len(s) + 1)), (hex(spi), "a gap or a number out of order")
    # The rekey lost nothing: all that was sent well before the delete is there
    # (the frames still in the tap's two queues meet the delete at two moments).
    assert set(range(2800)) <= seen, sorted(set(range(2800)) - seen)
    lost = gw.drops_since(d0)
    assert set(lost) == {"no_sa_yet"} and lost["no_sa_yet"] == n - len(seen), lost
    st = gw.stop()
    check_workers(st, None, 0)
