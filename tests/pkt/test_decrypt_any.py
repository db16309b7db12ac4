# SPDX-License-Identifier: BSD-3-Clause
"""Two workers, one inbound SA with "decrypt any": each worker decrypts the
SA's packets it receives, on one replay window shared by atomic operations
(lib/sad/replay.h), and still every sequence number is accepted once
(RFC 4303 3.4.3), whichever queue each of its copies arrives on.

The frames are those of pkt-handoff (test_handoff.py says why copies on
every queue are the attack): the WAN port is a net_pcap with two RX queues,
one per worker. Two layouts:

- "crossing": queue 0 carries numbers 1..N from the peer, queue 1 the same
  ESP re-sent from spoofed sources, last first, with a window of N. The
  workers meet in the middle: both commit, on the same window blocks when
  they cross, and every number comes out exactly once.
- "racing": both queues carry 1..N in order (queue 1's from spoofed
  sources) with a window of 256: the two workers race through the same
  numbers, each burst's commit against the other's on the same blocks, and
  the window's blocks are reused N / 256 times. Every number still comes out
  exactly once: the first worker to reach a number finds it new (a number
  256 above it was taken only by a worker that had passed it already).

What must hold besides: nothing is handed over, both workers decrypted some
of the SA's packets, the only drops are replays, the counters balance per
worker, and the log maps the SA as "decrypt any". Off the direct path the
option is refused with its reason (test_refused).
"""

import collections

import pytest

import harness
from harness import Tunnel
from test_handoff import N, SPOOF_NET, frame, inner, seq_of

LAYOUTS = {"crossing": N, "racing": 256}


def streams(t, layout):
    q0, q1 = [], []
    for seq in range(1, N + 1):
        esp = t.in_sa.seal(inner(t, seq), 4, seq)
        q0.append(frame(esp, t.peer, t.local))
        q1.append(frame(esp, SPOOF_NET + str(1 + seq % 254), t.local))
    return q0, (q1[::-1] if layout == "crossing" else q1)


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def res(request):
    t = Tunnel(41, "aes-gcm-128", 4, 4,
               in_opts="replay-window %d decrypt any" % LAYOUTS[request.param])
    conf = harness.base_conf(crypto_path="direct") + t.conf()
    r, log = harness.run_two_queues(conf, wan=streams(t, request.param),
                                    extra_eal=["--log-level=espgw.dp:info"])
    assert r.out["wan0"] == []
    return dict(t=t, out=r.out["lan0"], st=r.stats, log=log)


def test_every_number_once(res):
    """Each number delivered exactly once, every other copy a replay drop."""
    st, t = res["st"], res["t"]
    seen = collections.Counter(seq_of(f) for f in res["out"])
    twice = sorted(s for s, c in seen.items() if c > 1)
    assert not twice, "%d numbers delivered more than once, e.g. %s" % (len(twice), twice[:10])
    assert sorted(seen) == list(range(1, N + 1)), "delivered %d of %d numbers" % (len(seen), N)
    harness.assert_drops(st, replay=N)
    harness.assert_totals(st, rx=2 * N, tx=N, drops=N)
    assert (st["sa"][t.in_name]["pkts"], st["sa"][t.in_name]["errors"]) == (N, N)


def test_both_decrypt_nothing_handed(res):
    """Both workers took their whole queue and decrypted some of the SA's
    packets themselves; no packet went through a hand-off ring."""
    st, t = res["st"], res["t"]
    w, dpw = st["workers"], st["dataplane"]["workers"]
    assert [x["rx"] for x in w] == [N, N], w
    per = [x["sa"][t.in_name] for x in w]
    assert sum(per) == N and min(per) > 0, "decrypted per worker: %s" % per
    assert [(d["handed_out"], d["handed_in"]) for d in dpw] == [(0, 0), (0, 0)], dpw
    assert st["dataplane"]["pending"] == 0, st["dataplane"]
    for x, d in zip(w, dpw):
        assert x["rx"] == x["tx"] + x["drops"] + x["to_ctl"], (x, d)
    assert "map: sa %s (inbound, decrypt any)" % t.in_name in res["log"], res["log"]


@pytest.mark.parametrize("in_opts,out_opts,why", [
    ("decrypt any crypto-path cpu", "", "decrypt any needs the direct path, not crypto-path cpu"),
    ("", "decrypt any", "decrypt is only valid for inbound SAs"),
    ("decrypt anyone", "", "decrypt"),
])
def test_refused_config(in_opts, out_opts, why):
    """What the SA's own line rules out stops espgw --check with file:line."""
    t = Tunnel(42, "aes-gcm-128", 4, 4, in_opts=in_opts, out_opts=out_opts)
    with harness.Workdir() as d:
        r = harness.check_conf(harness.base_conf() + t.conf(), d)
    assert r.returncode == 2 and why in r.stderr and ".conf:" in r.stderr, r


def test_refused_inherited():
    """set crypto-path cpu takes the SA off the direct path: refused at start
    (with one worker too), never run with a window of one writer shared."""
    t = Tunnel(42, "aes-gcm-128", 4, 4, in_opts="decrypt any")
    with pytest.raises(harness.GatewayError) as e:
        harness.run(harness.base_conf(crypto_path="cpu") + t.conf())
    assert "decrypt any needs the direct path" in str(e.value)
