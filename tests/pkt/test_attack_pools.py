# SPDX-License-Identifier: BSD-3-Clause
"""Attacks on the per-worker mbuf pools (--mbuf-pools worker; lib/port/port.c).

Each worker's pool is sized for every TX queue of every port (workers' and
the control path's) plus every lcore's cache, and the control path gets a
pool of its own of the same shape without RX queues: the buffer memory grows
with the square of the workers. The first tests start espgw in
configurations that started with one shared pool (and with the commit
before, c0c54d6) at the packet suite's usual EAL memory (--no-huge -m 512):
when per-worker pools were the default with 2 to 4 workers (e1b66ae), two of
them no longer started; the default is one shared pool again, and the pools
per worker are asked for.

The others are probes that held: buffers of both workers' pools parked at
the control path (ARP for an unresolved next hop), in the strict windows of
several SAs owned by either worker, and in the reassembly tables of both
workers, all given back by the stop (the harness's leak check compares every
pool's use after the stop with its use at the start).
"""

import collections
import os
import struct
import time

import pytest
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

import harness
from harness import Tunnel


def lcores(n_workers):
    """The main lcore and n_workers workers spread over the CPUs we may use
    (several lcores per CPU where there are fewer CPUs: enough to start)."""
    cpus = sorted(os.sched_getaffinity(0))
    return ["--lcores", ",".join("%d@%d" % (i, cpus[i % len(cpus)])
                                 for i in range(n_workers + 1))]


def start_stop(conf, vdevs, n_workers, mem, extra_args):
    """Start espgw, wait until the gateway runs (/espgw/stats not null), stop
    it: (True, counters JSON) or (False, the log's espgw lines)."""
    with harness.Workdir() as d:
        gw = harness.Gateway(d, conf, vdevs, mem=mem, lcores=lcores(n_workers),
                             extra_args=extra_args)
        try:
            end = time.monotonic() + 90
            while True:
                if gw.proc.poll() is not None:
                    return False, [l for l in gw.logs().splitlines()
                                   if "espgw" in l or "pool" in l], gw.proc.returncode
                try:
                    if gw.tel.connect() and gw.stats() is not None:
                        break
                except OSError:  # the process is going away
                    pass
                assert time.monotonic() < end, gw.logs()
                time.sleep(0.1)
            return True, gw.stop(), 0
        finally:
            gw.kill()


WORKER = ["--mbuf-pools", "worker"]

# (workers, rx-desc = tx-desc of both ports (None: the default 1024), EAL -m)
START_CASES = {
    # The default worker count range's top: 4 workers, default descriptors.
    "4w-default-desc": (4, None, 512),
    # Two workers (the most common multi-worker setup), larger rings.
    "2w-desc4096": (2, 4096, 512),
}


@pytest.mark.parametrize("pools", [None, "shared"], ids=["default-pools", "shared-pools"])
@pytest.mark.parametrize("case", sorted(START_CASES))
def test_starts_where_shared_pool_started(case, pools):
    """The gateway starts and stops cleanly with its default pools wherever it
    did with one shared pool (and before the per-worker pools existed) at the
    same EAL memory. Failed on e1b66ae: 4 workers with default descriptors at
    -m 512 stop with 'out of memory for the fragment tables of worker 2',
    2 workers with rx-desc/tx-desc 4096 with 'route: rte_lpm6_create failed'
    (the mbuf pools took the memory the later allocations needed)."""
    n_workers, desc, mem = START_CASES[case]
    conf = harness.base_conf("net_null0", "net_null1")
    if desc:
        conf = [l + " rx-desc %d tx-desc %d" % (desc, desc) if l.startswith("port add") else l
                for l in conf]
    ok, what, rc = start_stop(conf, ["net_null0", "net_null1"], n_workers, mem,
                              ["--mbuf-pools", pools] if pools else [])
    assert ok, "did not start (exit %d) with %s pools, %d workers, descriptors %s, -m %d:\n%s" % (
        rc, pools or "default", n_workers, desc or "default", mem, "\n".join(what))


@pytest.mark.parametrize("n_workers, mem", [(2, 512), (4, 768)], ids=["2w-m512", "4w-m768"])
def test_worker_pools_start(n_workers, mem):
    """--mbuf-pools worker starts with the default descriptors: two workers
    at the suite's -m 512, four at -m 768 (README, Command line)."""
    conf = harness.base_conf("net_null0", "net_null1")
    ok, what, rc = start_stop(conf, ["net_null0", "net_null1"], n_workers, mem, WORKER)
    assert ok, "did not start (exit %d):\n%s" % (rc, "\n".join(what))
    assert {n for n in what["pools"] if n.startswith("espgw_mbuf_")} == {
        "espgw_mbuf_s0"} | {"espgw_mbuf_s0_w%d" % i for i in range(n_workers)}, what["pools"]


# ------------------------------------------------------------------ traffic probes

def udp_frame(t, sport, k):
    return harness.lan_frame(IP(src=t.lan_host, dst=t.host, id=k & 0xffff) /
                             UDP(sport=sport, dport=5001) / struct.pack("!I", k))


def test_strict_windows_of_several_sas():
    """Four seq-order strict SAs, their owners dealt over both workers, each
    worker's queue carrying all four interleaved: every worker's buffers wait
    in the other's windows and rings. Only order_full drops, each SA's
    numbers consecutive from 1 and each flow in order, nothing pending, no
    buffer left in use after the stop (both worker pools and the control
    path's)."""
    tuns = [Tunnel(s, "aes-gcm-128", 4, 4, out_opts="seq-order strict") for s in (3, 4, 5, 6)]
    conf = harness.base_conf(crypto_path="direct")
    for i, t in enumerate(tuns):
        c = t.conf()  # SAs dealt round robin in order (lib/sad): alternate the out SA's place
        conf += c if i % 2 == 0 else [c[1], c[0]] + c[2:]
    n = 3000
    queues = tuple([udp_frame(tuns[k % 4], 1000 + 1000 * q + k % 4, k) for k in range(n)]
                   for q in (0, 1))
    r, log = harness.run_two_queues(conf, lan=queues, extra_args=WORKER,
                                    extra_eal=["--log-level=espgw.port:info"])
    assert "espgw_mbuf_s0_w1" in log, log[-2000:]
    st = r.stats
    full = st["drops"]["order_full"]
    harness.assert_drops(st, order_full=full)
    harness.assert_totals(st, rx=2 * n, tx=2 * n - full, drops=full)
    assert st["dataplane"]["pending"] == 0, st["dataplane"]
    by_spi = collections.defaultdict(list)
    for f in r.out["wan0"]:
        by_spi[harness.esp_spi(f)].append(f)
    owners = set()
    for t in tuns:
        frames = by_spi[t.out_sa.spi]
        rows = harness.esp_udp_rows(t, frames)
        seqs = [s for s, _, _ in rows]
        assert seqs == list(range(1, len(seqs) + 1)), t.out_name
        flows = collections.defaultdict(list)
        for _, sport, k in rows:
            flows[sport].append(k)
        for sport, ks in flows.items():
            assert all(a < b for a, b in zip(ks, ks[1:])), (t.out_name, sport)
        q = [sum(1 for f in r.out["wan0.q%d" % i] if harness.esp_spi(f) == t.out_sa.spi)
             for i in (0, 1)]
        assert sorted(q) == [0, len(frames)], (t.out_name, q)
        owners.add(q.index(len(frames)))
    assert owners == {0, 1}, "all four SAs on one owner: the probe needs both"


UNRESOLVED = "198.51.100.77"  # on wan0's link, no neighbor entry, never answers


def test_neigh_pending_from_both_pools():
    """A strict SA whose peer is reached through a next hop that never
    answers ARP: both workers' ESP frames wait at the control path (its
    neighbor queue, lib/host/neigh_resolve.c) and are dropped there
    (neigh_queue_full) or at the stop (shutdown). Nothing leaves but ARP
    requests (no clear inner packet, no ESP), and every buffer is back in its
    pool after the stop."""
    t = Tunnel(7, "aes-gcm-128", 4, 4, out_opts="seq-order strict")
    conf = harness.base_conf(crypto_path="direct") + t.conf() + [
        "route add %s/32 via %s port wan0" % (t.peer, UNRESOLVED)]
    n = 1500
    queues = tuple([udp_frame(t, 1000 + q, k) for k in range(n)] for q in (0, 1))
    r, _ = harness.run_two_queues(conf, lan=queues, extra_args=WORKER)
    st = r.stats
    for f in r.out["wan0"] + r.out["lan0"]:
        e = Ether(f)
        assert ARP in e and e[ARP].op == 1 and e[ARP].pdst == UNRESOLVED, e.summary()
    assert r.out["wan0"], "no ARP request for the next hop"
    ctl = st["control"]
    assert ctl["in"] == st["totals"]["to_ctl"] > 0, (ctl, st["totals"])
    assert st["totals"]["tx"] == 0, st["totals"]


def esp_fragments(t, seq, size, fragsize):
    """ESP of t's inbound SA (number seq) carrying size bytes of UDP, in IPv4
    fragments of fragsize bytes from the peer."""
    inner = bytes(IP(src=t.host, dst=harness.HOST4, id=seq) /
                  UDP(sport=40000, dport=5001) / Raw(struct.pack("!Q", seq) + bytes(size)))
    esp = t.in_sa.seal(inner, 4, seq)
    outer = IP(src=t.peer, dst=t.local, proto=50, id=seq) / Raw(esp)
    return [bytes(Ether(src=harness.NH4_MAC, dst=harness.WAN_MAC) / f)
            for f in fragment(outer, fragsize=fragsize)]


def test_reasm_tables_of_both_workers():
    """Outer-fragmented ESP of one inbound SA on both WAN queues, every
    second packet missing its last fragment: each worker reassembles what it
    received (its table and pool), worker 1 hands the results to the owner.
    Complete packets are delivered once each; the incomplete ones stay in the
    tables until the stop, which gives every buffer back."""
    t = Tunnel(8, "aes-gcm-128", 4, 4, in_opts="replay-window 1024")  # the queues run apart
    conf = harness.base_conf(crypto_path="direct") + t.conf()
    n = 400
    q = ([], [])
    for seq in range(1, n + 1):
        frags = esp_fragments(t, seq, 900, 256)
        assert len(frags) >= 3
        if seq % 4 in (2, 3):
            frags = frags[:-1]
        q[seq % 2].extend(frags)
    r, _ = harness.run_two_queues(conf, wan=q, extra_args=WORKER)
    got = sorted(struct.unpack("!Q", bytes(IP(f[14:])[UDP].payload)[:8])[0]
                 for f in r.out["lan0"])
    assert got == [s for s in range(1, n + 1) if s % 4 in (0, 1)], got[:20]
    assert r.out["wan0"] == []
