# SPDX-License-Identifier: BSD-3-Clause
"""Two worker lcores on multi-queue ports: gw-a runs workers on lcores 1 and 2
(--lcores 0@0,1@1,2@1 on the two-core machine, topo.eal_lcores), so each of its
net_tap ports has two RX/TX queues, each queue one file descriptor of the
kernel's multiqueue tun device. gw-b keeps one worker.

Who picks the queue: net_tap's own RSS needs rte_flow (tc flower, multiq) that
this kernel lacks, so espgw's RSS request changes nothing and the kernel's tun
chooses the queue of each packet it hands to espgw. A flow espgw sent out
recently (symmetric flow hash, entry expiring after a few seconds) goes to the
queue it was sent from; any other packet by its flow hash, which for ESP covers
the addresses and the SPI (the "ports" of ESP in the kernel's flow dissector).
So:
  - one-way flows from branch-a (UDP) spread over both workers by their ports;
  - each inbound SA's ESP lands on one queue (gw-a never sends the inbound
    SPI), not necessarily the queue of the worker that owns the SA: espgw
    deals the inbound SAs to the workers in turn ("map: sa NAME (inbound) ->
    worker N" in the log) and a worker hands ESP of an SA it does not own to
    the owner (lib/dp/handoff.c), so each SA's replay window has one writer
    whatever queue its packets reach (the source of ESP is not authenticated:
    anyone can re-send it from elsewhere and so onto another queue);
  - two-way flows (TCP) follow the worker that received the inbound SA of
    their replies: all IPv4 TCP on one worker, all IPv6 TCP on one.
The tests check that both workers carried a real share, that every inbound SA
was decrypted by its owner alone, the data end to end, and the counters per
worker (with what they handed to each other). Nothing here is fragmented, so
the per-worker balance needs no reassembly terms.
"""

import hashlib
import re

import pytest

from interop_util import CLEAN_DROPS, ping_ok, problems_after_stop, start_testbed, tel, topo, xfer

A, B = topo.SITES["a"], topo.SITES["b"]
WORKERS = 2
LCORES = [1, 2]  # topo.eal_lcores: lcore ids 1..N
SHARE = 0.10  # each worker's least share of what gw-a received
UDP_FLOWS, UDP_ROUNDS, UDP_BYTES = 64, 30, 200  # DF set, far below the tunnel MTU
TCP_FLOWS, TCP_BYTES = 8, 128 << 10


@pytest.fixture(scope="module")
def tb():
    yield from start_testbed("workers", workers={"a": WORKERS})


def workers_tel(tb):
    """gw-a's /espgw/workers: {counter: [value per worker]}."""
    return tel(tb.t, "a", "/espgw/workers")


def rx_delta(before, after):
    return [a - b for a, b in zip(after["rx"], before["rx"])]


def test_workers_running(tb):
    w = workers_tel(tb)
    assert w["lcore"] == LCORES, w
    assert tel(tb.t, "a", "/espgw/stats")["lcores"] == WORKERS
    assert tel(tb.t, "b", "/espgw/workers")["lcore"] == [1]
    assert "rxq 1 -> worker 1 (lcore 2)" in tb.t.gw["a"].log(20000)


PINGS = [("a", "b", "host4", None), ("b", "a", "host4", None), ("a", "b", "host6", None),
         ("b", "a", "host6", None), ("a", "b", "mixed6", "mixed6"),
         ("b", "a", "mixed6", "mixed6")]


@pytest.mark.parametrize("src,dst,addr,via", PINGS, ids=["%s-%s-%s" % p[:3] for p in PINGS])
def test_ping(tb, src, dst, addr, via):
    """Every SA carries something (and the neighbors are resolved)."""
    s, d = topo.SITES[src], topo.SITES[dst]
    r = tb.t.ping(src, d[addr], count=3, src=s[via] if via else None)
    assert ping_ok(r, 3), r.stdout + r.stderr


UDP = [("a", "b", "host4"), ("a", "b", "host6"), ("b", "a", "host4")]


@pytest.mark.parametrize("src,dst,addr", UDP, ids=["%s-%s-%s" % u for u in UDP])
def test_udp_flows(tb, src, dst, addr):
    """UDP_FLOWS source ports, every datagram arrives intact; from branch-a
    (flows nobody answers, queue by flow hash) both workers take a share."""
    before = workers_tel(tb)
    seed = "udp-flows-%s-%s" % (src, addr)
    sent, got = tb.t.udp_flows(src, dst, topo.SITES[dst][addr], UDP_FLOWS, UDP_ROUNDS,
                               UDP_BYTES, seed)
    n = UDP_FLOWS * UDP_ROUNDS
    assert sent["datagrams"] == n and sent["src_ports"] == UDP_FLOWS, sent
    assert (got["datagrams"], got["digest"]) == (n, sent["digest"]), \
        (sent, got, "kernel drops (rx, tx) per tap: %s" % tb.t.link_drops())
    assert got["src_ports"] == UDP_FLOWS, got
    if src == "a":
        d = rx_delta(before, workers_tel(tb))
        assert len(d) == WORKERS and sum(d) >= n and min(d) > SHARE * sum(d), \
            "gw-a workers received %s of %d datagrams" % (d, n)


TCP = [("a", "b", "host4"), ("b", "a", "host6"), ("a", "b", "host6"), ("b", "a", "host4")]


@pytest.mark.parametrize("src,dst,addr", TCP, ids=["%s-%s-%s" % t for t in TCP])
def test_tcp_flows(tb, src, dst, addr):
    """TCP_FLOWS concurrent connections, each stream intact (SHA-256)."""
    seed = "tcp-flows-%s-%s" % (src, addr)
    sent, got = tb.t.tcp_flows(src, dst, topo.SITES[dst][addr], TCP_FLOWS, TCP_BYTES, seed)
    want = sorted(hashlib.sha256(xfer.data("%s:%d" % (seed, i), TCP_BYTES)).hexdigest()
                  for i in range(TCP_FLOWS))
    assert sent["sha256"] == want and sent["src_ports"] == TCP_FLOWS, sent
    assert got["sha256"] == want and got["bytes"] == TCP_FLOWS * TCP_BYTES, got


def sa_per_worker(tb, g):
    """{SA name: (direction, [packets per worker])} from telemetry."""
    out = {}
    for name in tel(tb.t, g, "/espgw/sa"):
        r = tel(tb.t, g, "/espgw/sa," + name)
        out[name] = (r["dir"], r["workers"])
    return out


def owners(tb):
    """{inbound SA name: owner worker index} from gw-a's log (lib/sad deals them)."""
    found = re.findall(r"map: sa (\S+) \(inbound\) -> worker (\d+) \(lcore \d+\)",
                       tb.t.gw["a"].log(20000))
    return {n: int(w) for n, w in found}


def test_inbound_sa_on_one_worker(tb):
    """The replay window is single-writer: each inbound SA's packets were all
    decrypted by its owner, dealt in turn (the k-th inbound SA to worker
    k % 2), whichever worker received them. Outbound SAs may use both
    (atomic sequence numbers)."""
    sas = sa_per_worker(tb, "a")
    inbound = {n: w for n, (d, w) in sas.items() if d == "in"}
    assert inbound and all(sum(w) > 0 for w in inbound.values()), sas
    own = owners(tb)
    assert sorted(own) == sorted(inbound) and sorted(own.values()) == [0, 0, 1], own
    wrong = {n: w for n, w in inbound.items() if sum(w) != w[own[n]]}
    assert not wrong, "inbound SAs decrypted by another worker than their owner: %s %s" % (
        wrong, own)


def test_load_shared(tb):
    w = workers_tel(tb)
    assert len(w["rx"]) == WORKERS and min(w["rx"]) > SHARE * sum(w["rx"]), w


def worker_problems(st):
    """The per-worker counters of a --stats-json: they add up to the totals;
    with nothing fragmented or reassembled, every worker's packets balance
    (received + injected by the control path + handed over by the other
    worker = transmitted + dropped + to control path + handed to the other
    worker, README: Counters); per-worker SA packets add up to the SA's."""
    w, t, dp = st["workers"], st["totals"], st["dataplane"]
    bad = ["%s: %s" % (k, dp[k]) for k in ("fragmented", "fragments", "reasm_fragments")
           if dp[k] != 0]
    for k in ("rx", "tx", "drops", "to_ctl"):
        if sum(x[k] for x in w) != t[k]:
            bad.append("sum of workers' %s %d != %d" % (k, sum(x[k] for x in w), t[k]))
    if sum(d["handed_out"] for d in dp["workers"]) != sum(d["handed_in"] for d in dp["workers"]):
        bad.append("handed out != handed in: %s" % dp["workers"])
    for i, (x, d) in enumerate(zip(w, dp["workers"])):
        if x["rx"] + d["injected"] + d["handed_in"] != \
                x["tx"] + x["drops"] + x["to_ctl"] + d["handed_out"]:
            bad.append("worker %d: rx %d + injected %d + handed_in %d != tx %d + drops %d + "
                       "to_ctl %d + handed_out %d" % (i, x["rx"], d["injected"], d["handed_in"],
                                                      x["tx"], x["drops"], x["to_ctl"],
                                                      d["handed_out"]))
    for name, sa in st["sa"].items():
        if sum(x["sa"][name] for x in w) != sa["pkts"]:
            bad.append("SA %s: workers %s != %d" % (name, [x["sa"][name] for x in w],
                                                   sa["pkts"]))
    return bad


def test_counters_then_nothing_left(tb):
    """Stopped with SIGTERM: gw-a's workers are the expected lcores, each took
    a share, the counters add up per worker and in total, each inbound SA
    was decrypted by one worker, no replay or ICV drop on either gateway."""
    live = workers_tel(tb)
    st, bad = problems_after_stop(tb)
    assert not bad, bad
    a = st["a"]
    assert a["lcores"] == WORKERS and [x["lcore"] for x in a["workers"]] == LCORES, a["workers"]
    for i, x in enumerate(a["workers"]):
        assert x["rx"] >= live["rx"][i] and x["tx"] >= live["tx"][i], (a["workers"], live)
        assert x["rx"] > SHARE * a["totals"]["rx"], a["workers"]
    for g in "ab":
        assert not worker_problems(st[g]), (g, worker_problems(st[g]))
        drops = {k: v for k, v in st[g]["drops"].items() if v and k in CLEAN_DROPS}
        assert not drops, "gw-%s drops: %s" % (g, drops)
    for name, sa in a["sa"].items():
        used = [x["sa"][name] for x in a["workers"]]
        assert sa["dir"] == "out" or sum(1 for n in used if n) == 1, (name, used)
    tb.t.down()
    assert tb.t.leftovers() == []
