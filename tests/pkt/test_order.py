# SPDX-License-Identifier: BSD-3-Clause
"""seq-order strict (README, "One SA over two workers"): one outbound SA,
its traffic on both workers' queues, both workers encrypting for it; its ESP
leaves through one TX queue, its owner's, in sequence number order: numbers
consecutive from 1 in the order sent, and each flow's packets in the order
they came in, also when the owner falls behind (the surplus drops before it
takes a number).

lan0 has two queues, worker q polls queue q (harness.run_two_queues). Queue 0
carries flow A (UDP sport 1000), queue 1 flow B (sport 2000), n packets each,
numbered in their IP id and payload. The ESP is decrypted here by the
packet suite's own codec (tests/pkt/espcodec.py, checked against scapy and
tshark by test_oracle.py), a sample again by scapy (harness.Decap).

Refused, with the reason: seq-order strict on an SA that cannot take the
direct path, and on an inbound SA.
"""

import collections
import re
import struct

import pytest
from scapy.layers.inet import IP, UDP

import harness
from harness import Tunnel

FLOWS = (1000, 2000)  # the UDP source port of queue 0's flow and queue 1's
# Packets per queue. LIGHT: both workers' numbers together stay within the
# window's span (ESPGW_ORDER_SPAN, 2048) and one worker's within the ring to
# the owner (1,023), with a burst to spare, so nothing can be dropped,
# whatever the timing. HEAVY:
# the pcap queues are read as fast as the workers can, the owner sends
# everything and falls behind: the other worker's surplus must drop as
# order_full before it takes a number, so what leaves is still numbered
# 1, 2, 3, ... with no gap.
LIGHT, HEAVY = 960, 16384
SAMPLE = 64
# The packet buffers (--mbuf-pools, README "The buffer pool"): a pool per
# worker (the owner only reads the other worker's frames and frees them back
# to their pool), as the elephant SA is run; the heavy run again with the
# default, one shared pool.
RUNS = [(LIGHT, "worker"), (HEAVY, "worker"), (HEAVY, None)]


def lan_queues(t, n):
    """Queue i: flow i's packets k = 0..n-1 (k in the IP id and the payload)."""
    return tuple([harness.lan_frame(IP(src=t.lan_host, dst=t.host, id=k) /
                                    UDP(sport=sport, dport=5001) / struct.pack("!I", k))
                  for k in range(n)] for sport in FLOWS)


@pytest.fixture(scope="module", params=RUNS,
                ids=["light-worker-pools", "heavy-worker-pools", "heavy"])
def res(request):
    n, pools = request.param
    t = Tunnel(3, "aes-gcm-128", 4, 4, out_opts="seq-order strict")
    conf = harness.base_conf(crypto_path="direct") + t.conf()
    r, log = harness.run_two_queues(
            conf, lan=lan_queues(t, n),
            extra_eal=["--log-level=espgw.dp:info", "--log-level=espgw.port:info"],
            extra_args=["--mbuf-pools", pools] if pools else [])
    return dict(t=t, r=r, log=log, n=n, pools=pools)


def test_pools(res):
    """--mbuf-pools worker: each worker receives into a pool of its own, the
    control path's apart; by default one pool for all. None is left in use
    (harness.run_two_queues checks every pool)."""
    names = set(re.findall(r"mbuf pool (espgw_mbuf_\S+): \d+ buffers", res["log"]))
    if res["pools"] is None:
        assert names == {"espgw_mbuf_s0"}, names
    else:
        assert names == {"espgw_mbuf_s0", "espgw_mbuf_s0_w0", "espgw_mbuf_s0_w1"}, names


def opened(res):
    """(seq, sport, k) of every ESP frame out of wan0, in the order sent."""
    return harness.esp_udp_rows(res["t"], res["r"].out["wan0"])


def test_counters(res):
    """Light: nothing dropped, both workers encrypted their queue's packets.
    Heavy: only order_full drops, every packet sent or dropped."""
    st, t, n = res["r"].stats, res["t"], res["n"]
    full = st["drops"]["order_full"]
    if n == LIGHT:
        harness.assert_drops(st)
        assert [x["sa"][t.out_name] for x in st["workers"]] == [n, n]
    else:
        harness.assert_drops(st, order_full=full)
    harness.assert_totals(st, rx=2 * n, tx=2 * n - full, drops=full)
    assert st["sa"][t.out_name]["pkts"] == 2 * n - full
    assert st["dataplane"]["pending"] == 0, st["dataplane"]


def test_one_queue(res):
    """Every ESP frame left through one TX queue: the owner's."""
    sent = len(res["r"].out["wan0"])
    q = [len(res["r"].out["wan0.q%d" % i]) for i in (0, 1)]
    assert sorted(q) == [0, sent], q
    owner = q.index(sent)
    w, dpw = res["r"].stats["workers"], res["r"].stats["dataplane"]["workers"]
    helped = w[1 - owner]["sa"][res["t"].out_name]
    assert dpw[1 - owner]["handed_out"] == helped == dpw[owner]["handed_in"], dpw
    assert dpw[owner]["order_in"] == dpw[owner]["order_out"] == sent, dpw
    assert "map: sa %s (outbound, seq-order strict) -> worker %d" % (
        res["t"].out_name, owner) in res["log"], res["log"][-3000:]


def test_numbers_in_order(res):
    """RFC 4303 3.3.3 numbers, consecutive from 1 in the order they left."""
    seqs = [s for s, _, _ in opened(res)]
    assert seqs == list(range(1, len(seqs) + 1)), next(
        (i, s) for i, s in enumerate(seqs) if s != i + 1)


def test_flows_in_order(res):
    """Each flow's packets left in the order they came in, each once (all of
    them in the light run)."""
    by_flow = collections.defaultdict(list)
    for _, sport, k in opened(res):
        by_flow[sport].append(k)
    assert set(by_flow) <= set(FLOWS)
    for sport in FLOWS:
        ks = by_flow[sport]
        assert all(a < b for a, b in zip(ks, ks[1:])), sport
        if res["n"] == LIGHT:
            assert ks == list(range(LIGHT)), sport


def test_scapy_sample(res):
    """scapy decrypts a sample to the numbers the codec read."""
    frames = res["r"].out["wan0"]
    for f in frames[::max(1, len(frames) // SAMPLE)]:
        harness.Decap(f, res["t"])


@pytest.mark.parametrize("extra, why", [
    ("crypto-path cpu", "seq-order strict needs the direct path"),
])
def test_refused_without_direct(extra, why):
    t = Tunnel(3, "aes-gcm-128", 4, 4, out_opts="seq-order strict " + extra)
    with pytest.raises(harness.GatewayError) as e:
        harness.run_two_queues(harness.base_conf() + t.conf(), start_timeout=30)
    assert why in str(e.value)


def test_refused_inherited_one_worker():
    """set crypto-path cpu takes the SA off the direct path: refused at start
    with one worker too, so a configuration that starts on one starts on two."""
    t = Tunnel(3, "aes-gcm-128", 4, 4, out_opts="seq-order strict")
    with pytest.raises(harness.GatewayError) as e:
        harness.run(harness.base_conf(crypto_path="cpu") + t.conf())
    assert "seq-order strict needs the direct path" in str(e.value)


def test_refused_inbound():
    t = Tunnel(3, "aes-gcm-128", 4, 4, in_opts="seq-order strict")
    with harness.Workdir() as d:
        r = harness.check_conf(harness.base_conf() + t.conf(), d)
    assert r.returncode == 2 and "seq-order is only valid for outbound SAs" in r.stderr, r
