# SPDX-License-Identifier: BSD-3-Clause
"""Two workers, 1,000 tunnels (2,000 SAs): nothing lost, every SA's counter
whole, on each crypto path that runs on the workers' CPUs (direct, cpu).

The ports are net_pcap with two queues each, worker q polls queue q (as in
test_handoff.py). Every SA's packets arrive on both queues:

- Outbound, packet k of every tunnel on queue k mod 2: both workers encrypt
  for every SA, each taking its sequence numbers from the SA's one counter.
  Each SA's ESP must carry the numbers 1..K once each (RFC 4303 3.3.3: no
  number twice, and none skipped while nothing is dropped), and decrypt
  (scapy) to the K packets sent, TTL less one.
- Inbound, the ESP numbered s of every tunnel on queue s mod 2: lib/sad deals
  the inbound SAs to the workers in turn, so each worker receives half of the
  packets of every SA and hands those of the SAs the other one owns to it
  (lib/dp/handoff.c). Every inner packet must come out of lan0 once, with no
  replay drop; the owner alone decrypts. A ring holds 1,023 packets and each
  worker hands over (N / 2) * (K / 2) = 1,000: no handoff_full drop can
  happen, whatever the timing.

Counters: no drop at all, each SA's packet count K, and per worker rx +
handed_in = tx + drops + handed_out.

One hot SA (the elephant) makes the two workers take numbers from one counter
at the same time: 2 x ELEPHANT packets of one outbound SA, half on each
queue. The numbers must still be 1..2 x ELEPHANT once each (their order on
the wire is each worker's own: README, "Two workers").
"""

import collections

import pytest

import harness
from harness import Tunnel

N = 1000  # tunnels: N outbound and N inbound SAs
K = 4     # packets per SA
ELEPHANT = 16384  # packets of the hot SA per queue
SAMPLE = 64  # of them decrypted by scapy (all are numbered)
SUITE = "aes-gcm-128"


def lan_stream(tun):
    """Queue q: packet k (k mod 2 == q) of every tunnel, tunnels interleaved."""
    q, expect = ([], []), {}
    for k in range(K):
        for t in tun:
            pkt = t.lan_pkt("udp", 40 + k, id=k + 1)
            q[k % 2].append(harness.lan_frame(pkt))
            expect.setdefault(t.out_sa.spi, set()).add(harness.ttl_dec(pkt))
    return q, expect


def wan_stream(tun):
    """Queue q: the ESP numbered s (s mod 2 == q) of every tunnel."""
    q, expect = ([], []), []
    for s in range(1, K + 1):
        for t in tun:
            pkt = t.wan_pkt("udp", 40 + s, id=s)
            q[s % 2].append(t.encap(pkt, s))
            expect.append(harness.ttl_dec(pkt))
    return q, expect


@pytest.fixture(scope="module", params=["direct", "cpu"])
def res(request):
    tun = [Tunnel(i, SUITE, 4, 4) for i in range(N)]
    conf = harness.base_conf(crypto_path=request.param)
    for t in tun:
        conf += t.conf()
    lan, esp = lan_stream(tun)
    wan, clear = wan_stream(tun)
    r, log = harness.run_two_queues(conf, lan=lan, wan=wan, mem=1024,
                                    extra_eal=["--log-level=espgw.dp:info"])
    return dict(tun=tun, r=r, esp=esp, clear=clear, log=log)


def test_counters(res):
    """Nothing dropped; every SA carried its K packets."""
    st = res["r"].stats
    harness.assert_drops(st)
    harness.assert_totals(st, rx=4 * N * K // 2, tx=4 * N * K // 2, drops=0)
    for t in res["tun"]:
        assert st["sa"][t.out_name]["pkts"] == K and st["sa"][t.in_name]["pkts"] == K, \
            (t.out_name, st["sa"][t.out_name], st["sa"][t.in_name])


def test_outbound_numbers_whole(res):
    """Each outbound SA: numbers 1..K once each, decrypting to what was sent."""
    by_spi, clear = harness.split_esp(res["r"].out["wan0"])
    assert clear == []
    assert len(by_spi) == N
    for t in res["tun"]:
        frames = by_spi.get(t.out_sa.spi, [])
        d = [harness.Decap(f, t) for f in frames]
        assert sorted(x.seq for x in d) == list(range(1, K + 1)), \
            (t.out_name, sorted(x.seq for x in d))
        assert {x.inner for x in d} == res["esp"][t.out_sa.spi], t.out_name


def test_outbound_both_workers(res):
    """Both workers encrypted K / 2 packets of every outbound SA."""
    w = res["r"].stats["workers"]
    for t in res["tun"]:
        assert [x["sa"][t.out_name] for x in w] == [K // 2, K // 2], t.out_name


def test_inbound_once(res):
    """Every inner packet out of lan0 exactly once."""
    got = collections.Counter(harness.trim_l3(f[14:]) for f in res["r"].out["lan0"])
    assert got == collections.Counter(res["clear"])


def test_inbound_owner_only(res):
    """Only an inbound SA's owner decrypted its packets; what the other worker
    received of them it handed over, and the owner took all of it."""
    st = res["r"].stats
    w, dpw = st["workers"], st["dataplane"]["workers"]
    for t in res["tun"]:
        counts = [x["sa"][t.in_name] for x in w]
        assert sorted(counts) == [0, K], (t.in_name, counts)
    assert dpw[0]["handed_out"] == dpw[1]["handed_in"] == N * K // 4, dpw
    assert dpw[1]["handed_out"] == dpw[0]["handed_in"] == N * K // 4, dpw
    assert st["dataplane"]["pending"] == 0, st["dataplane"]


def test_balance_per_worker(res):
    """rx + handed_in = tx + drops + to_ctl + handed_out, per worker."""
    for x, d in zip(res["r"].stats["workers"], res["r"].stats["dataplane"]["workers"]):
        assert x["rx"] + d["handed_in"] == x["tx"] + x["drops"] + x["to_ctl"] + d["handed_out"], \
            (x, d)


@pytest.fixture(scope="module", params=["direct", "cpu"])
def elephant(request):
    t = Tunnel(7, SUITE, 4, 4)
    conf = harness.base_conf(crypto_path=request.param) + t.conf()
    q = ([], [])
    for k in range(2 * ELEPHANT):
        q[k % 2].append(harness.lan_frame(t.lan_pkt("udp", 16, id=k & 0xffff)))
    r, _ = harness.run_two_queues(conf, lan=q)
    return dict(t=t, r=r)


def test_elephant_numbers_whole(elephant):
    """Both workers encrypted for the one SA; its numbers are 1..2N once each."""
    r, t = elephant["r"], elephant["t"]
    harness.assert_drops(r.stats)
    assert [x["sa"][t.out_name] for x in r.stats["workers"]] == [ELEPHANT, ELEPHANT]
    by_spi, clear = harness.split_esp(r.out["wan0"])
    assert clear == [] and list(by_spi) == [t.out_sa.spi]
    seqs = [harness.esp_seq(f) for f in by_spi[t.out_sa.spi]]
    twice = [s for s, c in collections.Counter(seqs).items() if c > 1]
    assert not twice, "%d numbers sent twice, e.g. %s" % (len(twice), sorted(twice)[:10])
    assert sorted(seqs) == list(range(1, 2 * ELEPHANT + 1))
    frames = by_spi[t.out_sa.spi]
    for f in frames[::len(frames) // SAMPLE]:
        assert harness.Decap(f, t).seq == harness.esp_seq(f)
