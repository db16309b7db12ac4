# SPDX-License-Identifier: BSD-3-Clause
"""Attacks on "decrypt any" (lib/dp/handoff.c, lib/sad/replay.c shared).

test_handoff_run_overwritten: stage_handoff keeps a decrypt-any packet in
place even when its SA's owner is the owner of the run of handed packets
still pending before it (s < i, same owner): the "flush the run" test
compares owners only, so the kept packet is written over m[s] before the
run is handed. The pending packets are neither handed, nor dropped, nor
freed: an mbuf leak per packet, counted nowhere. Three inbound SAs on two
workers: in60 (decrypt any) -> worker 0, in61 -> worker 1, in62 -> worker 0.
Worker 1 receives in62, in60, in62, in60, ...: each in62 packet is pending
for worker 0 when the in60 packet behind it (owner 0, decrypt any) is kept.
No key is needed: any ESP with in62's and in60's SPIs (bad ICVs) leaked.
Fixed (3d31dd1): a kept packet hands the pending run over first.

test_esn_stale_tag_blocks_sa: with ESN an authenticated sender's jumps left
window words untouched for more than 2^31 blocks; their tags, compared
modulo 2^32 blocks, then read as ahead and refused 3/4 of the new numbers.
Fixed: raising the top retags the blocks it enters (lib/sad/replay.c retag;
tests/unit/test_replay.c stale_tag_esn is the same case on the window alone).

test_check_refuses_inherited_cpu: espgw --check accepted decrypt any under
the file's own "set crypto-path cpu", which start refuses. Fixed: the store
checks the SA's effective crypto path (lib/ctl/store_sa.c sa_check_direct).
"""

import harness
from harness import Tunnel
from test_handoff import frame, inner, seq_of

K = 200


def tunnels(any_opts="decrypt any"):
    a = Tunnel(60, "aes-gcm-128", 4, 4, in_opts="replay-window 1024 " + any_opts)
    b = Tunnel(61, "aes-gcm-128", 4, 4)
    c = Tunnel(62, "aes-gcm-128", 4, 4)
    return a, b, c


def interleaved(a, c, k=K):
    q1 = []
    for seq in range(1, k + 1):
        q1.append(frame(c.in_sa.seal(inner(c, seq), 4, seq), c.peer, c.local))
        q1.append(frame(a.in_sa.seal(inner(a, seq), 4, seq), a.peer, a.local))
    return q1


def run_it(any_opts, k=K):
    a, b, c = tunnels(any_opts)
    conf = harness.base_conf(crypto_path="direct") + a.conf() + b.conf() + c.conf()
    try:
        r, log = harness.run_two_queues(conf, wan=((), interleaved(a, c, k)), timeout=20,
                                        extra_eal=["--log-level=espgw.dp:info"])
    except harness.GatewayError as e:
        return None, str(e)
    return r, log


def test_handoff_run_overwritten():
    """Every packet of in62 handed to worker 0 and delivered: 2K frames out."""
    r, log = run_it("decrypt any")
    assert r is not None, "gateway never accounted for all frames (leaked mbufs): %s" % \
        log[:1500]
    st = r.stats
    got = len(r.out["lan0"])
    assert got == 2 * K, "delivered %d of %d; dataplane %s drops %s" % (
        got, 2 * K, st["dataplane"]["workers"], {k: v for k, v in st["drops"].items() if v})


def test_handoff_run_owner_control():
    """Control: the same traffic without decrypt any is delivered whole."""
    r, log = run_it("")
    assert r is not None, log[:1500]
    assert len(r.out["lan0"]) == 2 * K


def garbage(spi, seq):
    """ESP with the SA's SPI and nothing valid behind it: no key needed."""
    import os
    import struct
    return struct.pack("!II", spi, seq) + os.urandom(8 + 40 + 16)


def test_handoff_leak_wedges_gateway():
    """Unauthenticated: ESP with in62's and in60's SPIs (bad ICVs), alternating,
    more pairs than the mbuf pool holds, then 50 genuine packets of in61. Every
    frame must be received and accounted for (the garbage as auth_fail drops)
    and in61's delivered; with the leak the pool runs dry and RX stops."""
    import time
    a, b, c = tunnels("decrypt any")
    conf = harness.base_conf(crypto_path="direct") + a.conf() + b.conf() + c.conf()
    n_pairs = 14000  # > the mbuf pool (2 workers: 2*2048 + 2 ports*2*(1024+1024) = 12288)
    q1 = []
    for seq in range(1, n_pairs + 1):
        q1.append(frame(garbage(c.in_sa.spi, seq), c.peer, c.local))
        q1.append(frame(garbage(a.in_sa.spi, seq), a.peer, a.local))
    good = [frame(b.in_sa.seal(inner(b, s), 4, s), b.peer, b.local) for s in range(1, 51)]
    q1 += good
    with harness.Workdir() as d:
        import os
        f = {n: os.path.join(d, n) for n in
             ("lan_in0", "lan_in1", "lan_out0", "lan_out1", "wan_in0", "wan_in1",
              "wan_out0", "wan_out1")}
        for n, fr in (("lan_in0", []), ("lan_in1", []), ("wan_in0", []), ("wan_in1", q1)):
            harness.write_pcap(f[n], fr)
        vdevs = ["net_pcap%d,rx_pcap=%s,rx_pcap=%s,tx_pcap=%s,tx_pcap=%s"
                 % (i, f[p + "_in0"], f[p + "_in1"], f[p + "_out0"], f[p + "_out1"])
                 for i, p in enumerate(("lan", "wan"))]
        gw = harness.Gateway(d, conf, vdevs, lcores=harness.two_workers())
        try:
            gw.wait_telemetry(60)
            prev, stable = None, 0
            end = time.monotonic() + 60
            while time.monotonic() < end and stable < 6:
                s = gw.stats()
                cur = None if s is None else (s["rx"], s["tx"], s["drops"])
                stable = stable + 1 if cur is not None and cur == prev else 0
                prev = cur
                time.sleep(0.5)
            s = gw.stats()
        finally:
            gw.kill()
    assert s["rx"] == len(q1) and s["tx"] == len(good), \
        "RX stopped: received %d of %d frames, delivered %d of %d genuine (stats %s)" % (
            s["rx"], len(q1), s["tx"], len(good), s)


def esn_jump_stream(t):
    """1..128, 2049 jumps of 2^25 (a multiple of the window's 4 blocks of 32:
    each lands on block slot 0; a burst of up to 64 of them stays within the
    2^32 - W that RFC 4303 A2 infers from the top before the burst), 2^36 +
    2^25 numbers in all, then 256 in order."""
    seqs = list(range(1, 129))
    top = 128
    for _ in range(2049):
        top += 1 << 25
        seqs.append(top)
    seqs += list(range(top + 1, top + 257))
    return seqs, [frame(t.in_sa.seal(inner(t, s), 4, s), t.peer, t.local) for s in seqs]


def test_esn_stale_tag_blocks_sa():
    """Authenticated peer, ESN, decrypt any on two workers (all on queue 0):
    every number it sent is new and must be delivered. Before the retag the
    shared window's stale tags (tag_ahead modulo 2^32 blocks) refused 3/4 of
    what follows."""
    t = Tunnel(63, "aes-gcm-128", 4, 4, esn=True, in_opts="replay-window 64 decrypt any")
    seqs, q0 = esn_jump_stream(t)
    conf = harness.base_conf(crypto_path="direct") + t.conf()
    r, log = harness.run_two_queues(conf, wan=(q0, ()))
    got = len(r.out["lan0"])
    assert got == len(seqs), "delivered %d of %d new numbers; drops %s" % (
        got, len(seqs), {k: v for k, v in r.stats["drops"].items() if v})


def test_esn_jump_owner_control():
    """Control: the same stream on the one-writer window is delivered whole."""
    t = Tunnel(63, "aes-gcm-128", 4, 4, esn=True, in_opts="replay-window 64")
    seqs, q0 = esn_jump_stream(t)
    conf = harness.base_conf(crypto_path="direct") + t.conf()
    r, log = harness.run_two_queues(conf, wan=(q0, ()))
    assert len(r.out["lan0"]) == len(seqs)


def test_check_refuses_inherited_cpu():
    """espgw --check must refuse what start refuses (test_decrypt_any's
    test_refused_inherited): decrypt any under the file's own
    "set crypto-path cpu" (or cryptodev); it exited 0 before the fix."""
    t = Tunnel(42, "aes-gcm-128", 4, 4, in_opts="decrypt any")
    for cp in ("cpu", "cryptodev"):
        with harness.Workdir() as d:
            r = harness.check_conf(harness.base_conf(crypto_path=cp) + t.conf(), d)
        assert r.returncode == 2 and "decrypt any" in r.stderr, \
            "espgw --check with set crypto-path %s: exit %d, stderr %r" % (
                cp, r.returncode, r.stderr)


def test_natt_decrypt_any_each_number_once():
    """Held: encap udp + decrypt any, two workers; queue 0 from the peer's
    4500, queue 1 the same ESP in UDP from other source ports, last first.
    Each number delivered once, every other copy a replay drop."""
    import collections
    import test_attack_natt as NT
    n = 4096
    t = Tunnel(64, "aes-gcm-128", 4, 4, out_opts="encap udp",
               in_opts="encap udp replay-window %d decrypt any" % n)
    q0, q1 = [], []
    for seq in range(1, n + 1):
        esp = t.in_sa.seal(inner(t, seq), 4, seq)
        q0.append(NT.frame(t, esp))
        q1.append(NT.frame(t, esp, sport=10000 + seq % 5000))
    conf = harness.base_conf(crypto_path="direct") + t.conf()
    r, log = harness.run_two_queues(conf, wan=(q0, q1[::-1]))
    seen = collections.Counter(seq_of(f) for f in r.out["lan0"])
    assert max(seen.values()) == 1 and sorted(seen) == list(range(1, n + 1)), \
        "twice: %s, delivered %d" % ([s for s, c in seen.items() if c > 1][:10], len(seen))
    harness.assert_drops(r.stats, replay=n)


def test_window0_and_one_worker_held():
    """Held: decrypt any with replay-window 0 on two workers (no window: both
    copies delivered, as without decrypt any) and decrypt any on one worker
    (the one-writer window: each number once)."""
    n = 512
    t = Tunnel(65, "aes-gcm-128", 4, 4, in_opts="replay-window 0 decrypt any")
    q0 = [frame(t.in_sa.seal(inner(t, s), 4, s), t.peer, t.local) for s in range(1, n + 1)]
    conf = harness.base_conf(crypto_path="direct") + t.conf()
    r, log = harness.run_two_queues(conf, wan=(q0, q0[::-1]))
    assert len(r.out["lan0"]) == 2 * n and not r.drops(), r.drops()
    t = Tunnel(66, "aes-gcm-128", 4, 4, in_opts="replay-window 1024 decrypt any")
    q0 = [frame(t.in_sa.seal(inner(t, s), 4, s), t.peer, t.local) for s in range(1, n + 1)]
    r = harness.run(harness.base_conf(crypto_path="direct") + t.conf(), wan=q0 + q0[::-1])
    assert sorted(seq_of(f) for f in r.out["lan0"]) == list(range(1, n + 1))
    harness.assert_drops(r.stats, replay=n)
