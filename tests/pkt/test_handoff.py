# SPDX-License-Identifier: BSD-3-Clause
"""Two workers, one inbound SA: every sequence number is accepted once
(RFC 4303 3.4.3), whichever RX queue its copies arrive on.

The attack: ESP does not authenticate the outer source and the default SA
match (spi-dst) ignores it, so anyone on the path can re-send captured ESP
from other sources; RSS, or the kernel's flow hash on a multiqueue tap, then
steers the copies to other queues than the SA's own, and without a hand-off
two workers check and commit the SA's replay window at the same time.

Here the steering is deterministic instead of left to a hash: the WAN port is
a net_pcap with two RX queues (two rx_pcap files), one per worker, the
workers on two CPUs where the machine has them. Queue 0 carries N ESP packets
of the SA (sequence numbers 1..N, from the peer), queue 1 the same N packets
re-sent from spoofed sources, last first: both workers receive ESP of the SA
from the start, and queue 1's copies reach numbers queue 0 has not, so that
without a hand-off both workers decrypt and commit many of them.

lib/sad deals the only inbound SA to worker 0; worker 1 must hand every packet
of it to worker 0 (lib/dp/handoff.c), which alone runs the replay check and
commit. With a window of N, each copy worker 0 received itself is delivered
or is the replay of a delivered one: every number comes out on the LAN
exactly once, whatever the timing; every other copy is a replay drop or, with
the ring full, a handoff_full drop. The counters say so exactly, per worker
too (README, Counters). Every crypto path: the cryptodev's completions finish
the commit in a later loop iteration than the check; the direct path (lib/esp/esp_gcm.c)
runs its own framing between them.
"""

import collections
import socket
import struct

import pytest

import harness
from harness import Tunnel

N = 65536          # sequence numbers, each sent twice (once per queue)
WINDOW = N        # every number stays inside the window: the verdicts do not depend on timing
SPOOF_NET = "192.0.2."  # outer sources of the re-sent copies (RFC 5737 documentation range)
OTHER_DROPS = set(harness.DROP_REASONS) - {"replay", "handoff_full"}
# Drops the cryptodev path may add when its queue pair fills (then a number may be lost).
CRYPTODEV_DROPS = {"crypto_enqueue_full"}


def ipv4(src, dst, proto, payload, ident=0):
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xffff, 0,
                                64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst)))
    hdr[10:12] = struct.pack("!H", harness.ip_checksum(bytes(hdr)))
    return bytes(hdr) + payload


def inner(t, seq):
    """UDP from the peer's host to the LAN host, the sequence number as payload."""
    udp = struct.pack("!HHHH", 40000, 5001, 8 + 8, 0) + struct.pack("!Q", seq)
    return ipv4(t.host, harness.HOST4, 17, udp, ident=seq)


def frame(esp, src, dst):
    eth = bytes.fromhex(harness.WAN_MAC.replace(":", "")) + \
        bytes.fromhex(harness.NH4_MAC.replace(":", "")) + b"\x08\x00"
    return eth + ipv4(src, dst, 50, esp)


def streams(t):
    """(queue 0: from the peer, queue 1: the same ESP from spoofed sources, reversed)."""
    q0, q1 = [], []
    for seq in range(1, N + 1):
        esp = t.in_sa.seal(inner(t, seq), 4, seq)
        q0.append(frame(esp, t.peer, t.local))
        q1.append(frame(esp, SPOOF_NET + str(1 + seq % 254), t.local))
    return q0, q1[::-1]


def seq_of(frame):
    """The sequence number a frame out of lan0 carries (its inner UDP payload)."""
    l3 = frame[14:]
    assert l3[9] == 17 and len(l3) == 36, l3.hex()
    return struct.unpack("!Q", l3[28:36])[0]


@pytest.fixture(scope="module", params=["direct", "cpu", "cryptodev"])
def res(request):
    t = Tunnel(40, "aes-gcm-128", 4, 4, in_opts="replay-window %d" % WINDOW)
    conf = harness.base_conf(crypto_path=request.param) + t.conf()
    q0, q1 = streams(t)
    r, log = harness.run_two_queues(conf, wan=(q0, q1),
                                    extra_eal=["--log-level=espgw.dp:info"])
    assert r.out["wan0"] == []
    return dict(t=t, out=r.out["lan0"], st=r.stats, log=log, path=request.param)


def test_no_number_twice(res):
    """RFC 4303 3.4.3: no sequence number delivered twice."""
    seen = collections.Counter(seq_of(f) for f in res["out"])
    twice = sorted(s for s, c in seen.items() if c > 1)
    assert not twice, "%d sequence numbers delivered more than once, e.g. %s (drops %s)" % (
        len(twice), twice[:10], {k: v for k, v in res["st"]["drops"].items() if v})


def test_counters_exact(res):
    """Every number once (the window holds them all; only the cryptodev path
    may lose one to a full queue pair, counted), every other copy a replay or
    handoff_full drop; nothing else dropped."""
    st, t = res["st"], res["t"]
    drops = {k: v for k, v in st["drops"].items() if v}
    allowed = OTHER_DROPS - (CRYPTODEV_DROPS if res["path"] == "cryptodev" else set())
    assert not set(drops) & allowed, drops
    lost = sum(drops.get(k, 0) for k in CRYPTODEV_DROPS)
    got = sorted(seq_of(f) for f in res["out"])
    if lost == 0:
        assert got == list(range(1, N + 1)), "delivered %d of %d numbers" % (len(got), N)
    assert len(got) + drops.get("replay", 0) + drops.get("handoff_full", 0) + lost == 2 * N
    harness.assert_totals(st, rx=2 * N, tx=len(got), drops=2 * N - len(got))
    sa = st["sa"][t.in_name]
    assert (sa["pkts"], sa["errors"]) == (len(got), 2 * N - len(got)), sa


def test_handed_to_owner(res):
    """Both workers received all N copies of their queue; worker 1 handed each
    one to worker 0 (or dropped it, ring full), worker 0 took every one handed
    and alone decrypted the SA's packets."""
    st, t = res["st"], res["t"]
    w = st["workers"]
    assert [x["rx"] for x in w] == [N, N], w
    assert [x["sa"][t.in_name] for x in w] == [st["sa"][t.in_name]["pkts"], 0], \
        "both workers decrypted packets of the SA: %s" % [x["sa"][t.in_name] for x in w]
    dpw = st["dataplane"]["workers"]
    full = st["drops"]["handoff_full"]
    assert dpw[1]["handed_out"] + full == N and dpw[0]["handed_out"] == 0, (dpw, full)
    assert dpw[0]["handed_in"] == dpw[1]["handed_out"] and dpw[1]["handed_in"] == 0, dpw
    assert st["dataplane"]["pending"] == 0, st["dataplane"]
    assert "map: sa %s (inbound) -> worker 0 (lcore 1)" % t.in_name in res["log"], res["log"]


def test_balance_per_worker(res):
    """rx + created + handed_in = tx + drops + to_ctl + absorbed + pending +
    handed_out for each worker (nothing fragmented, injected or reassembled)."""
    for x, d in zip(res["st"]["workers"], res["st"]["dataplane"]["workers"]):
        assert x["rx"] + d["handed_in"] == x["tx"] + x["drops"] + x["to_ctl"] + d["handed_out"], \
            (x, d)
