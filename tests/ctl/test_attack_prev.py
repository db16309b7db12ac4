# SPDX-License-Identifier: BSD-3-Clause
"""Attack on the inbound make-before-break rekey (prev_sa, SPD pairs).

Edges of the overlap the rekey tests do not reach: inner fragments whose
verdict is kept (an SPD with a port selector) across the two SAs and from a
foreign SA, clear traffic that an inbound pair rule covers, and a deleted old
SA's slot reused by another peer's SA. Each runs inside its own network
namespace (netns_run.sh)."""

import time

from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import live
from live import IN3, Key, deliver, tunnel_conf

OUT4, IN4 = Key(0x3004, 0x50), Key(0x4004, 0x60)
IN5 = Key(0x4005, 0x70)   # another peer's SA, for 10.5.0.0/24
IN6 = Key(0x4006, 0x90)   # an SA added once in3's slot is free again

PORTS = "sp add in priority 5 src 10.9.0.0/24 dst 10.1.0.0/24 proto udp dport 7 name pports discard"


def inner(src, ident, tag, size=1200):
    return IP(src=src, dst=live.HOST, id=ident) / UDP(sport=1, dport=2) / Raw(tag * (size // len(tag)))


def esp(key, pkts, seq0):
    sa = key.scapy_sa(live.PEER, live.WAN)
    return [Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(p, seq_num=seq0 + i)
            for i, p in enumerate(pkts)]


def frags(src, ident, tag):
    f = fragment(inner(src, ident, tag), fragsize=600)
    assert len(f) >= 2
    return f


def rekeyed(gw, extra=()):
    assert gw.ctl.txn(tunnel_conf() + list(extra))["ok"]
    assert gw.ctl.txn([OUT4.conf("out4", "out"), IN4.conf("in4", "in")])["ok"]
    assert gw.ctl.ok("sp set p3out protect out4")
    assert gw.ctl.ok("sp set p3in protect in4")
    assert gw.ctl.ok("show sp p3in")["sp"][0]["prev_sa"] == "in3"


def test_fragments_of_both_sas_and_a_foreign_one(gw):
    """Kept verdicts: each SA's own datagram passes whole; a later fragment
    through another peer's SA (in5) under p3in's selectors does not."""
    rekeyed(gw, [IN5.conf("in5", "in"),
                 "sp add in src 10.5.0.0/24 dst 10.1.0.0/24 name p5in protect in5", PORTS])
    f = frags("10.3.0.5", 0x1111, b"old")
    n, d = deliver(gw, esp(IN3, f, 1))
    assert n == len(f), d
    f = frags("10.3.0.5", 0x2222, b"new")
    n, d = deliver(gw, esp(IN4, f, 1))
    assert n == len(f), d
    # The legitimate peer's first fragment through in4, then in5's owner
    # sends a later fragment of that datagram (same addresses, id).
    f = frags("10.3.0.5", 0x3333, b"new")
    n, d = deliver(gw, esp(IN4, f[:1], 10))
    assert n == 1, d
    n, d = deliver(gw, esp(IN5, f[1:], 1))
    assert n == 0 and d.get("frag_no_first") == len(f) - 1, d
    # ...and through in3, the old SA: verdicts are kept per SA (in4's here).
    n, d = deliver(gw, esp(IN3, f[1:], 20))
    assert n == 0 and d.get("frag_no_first") == len(f) - 1, d
    # in5's own first fragment under p3in's selectors: dropped, and its kept
    # verdict is p3in's current SA, never in5.
    f = frags("10.3.0.5", 0x4444, b"imp")
    n, d = deliver(gw, esp(IN5, f, 10))
    assert n == 0 and d.get("policy_mismatch") == len(f), d
    gw.stop()


def test_foreign_first_fragment_leaves_the_verdict(gw):
    """The kept-verdict denial of service the attack round noted: another
    peer (in5) sends a first fragment with the real datagram's addresses and
    identification, to a port that another rule (discard) covers. Keyed by
    addresses and identification alone, the two first fragments disagreed, no
    verdict was left, and the real peer's later fragments dropped as
    frag_no_first. Kept per SA, they pass, whichever first fragment came first."""
    assert gw.ctl.txn(tunnel_conf() + [
        IN5.conf("in5", "in"), "sp add in src 10.5.0.0/24 dst 10.1.0.0/24 name p5in protect in5",
        "sp add in priority 5 src 10.3.0.0/24 dst 10.1.0.0/24 proto udp dport 7 name p3port discard"])["ok"]
    for ident, seq, real_first in ((0x7777, 1, True), (0x7778, 20, False)):
        f = frags("10.3.0.5", ident, b"real")
        spoof = fragment(IP(src="10.3.0.5", dst=live.HOST, id=ident) / UDP(sport=1, dport=7) /
                         Raw(b"s" * 1200), fragsize=600)[0]
        first = [(IN3, f[:1], 1), (IN5, [spoof], 0)]   # and how many come out
        for key, pkts, out in first if real_first else first[::-1]:
            n, d = deliver(gw, esp(key, pkts, seq))
            assert n == out, d
        n, d = deliver(gw, esp(IN3, f[1:], seq + 1))
        assert n == len(f) - 1, d
    gw.stop()


def test_clear_under_a_pair_rule(gw):
    """Clear traffic from the WAN that p3in (a pair rule) covers drops, whole or in fragments."""
    rekeyed(gw, [PORTS])
    pkts = [Ether(src=live.NH_MAC, dst=live.WAN_MAC) / p
            for p in [inner("10.3.0.5", 0x5555, b"clr", 200)] + frags("10.3.0.5", 0x6666, b"clr")]
    n, d = deliver(gw, pkts)
    assert n == 0, d
    assert d.get("policy_mismatch", 0) + d.get("frag_no_first", 0) >= 2, d
    gw.stop()


def test_old_slot_reused_by_another_peer(gw):
    """in3 deleted, its slot free after the retire delay, taken by in6 for 10.6.0.0/24:
    in6 is not accepted under p3in, whose pair named that slot."""
    rekeyed(gw)
    assert gw.ctl.ok("sa del in3")
    time.sleep(3.5)
    assert gw.ctl.txn([IN6.conf("in6", "in"),
                       "sp add in src 10.6.0.0/24 dst 10.1.0.0/24 name p6in protect in6"])["ok"]
    n, d = deliver(gw, esp(IN6, [inner("10.3.0.5", 7, b"imp", 100) for _ in range(3)], 1))
    assert n == 0 and d.get("policy_mismatch") == 3, d
    n, d = deliver(gw, esp(IN6, [inner("10.6.0.5", 8, b"own", 100) for _ in range(3)], 4))
    assert n == 3, d
    n, d = deliver(gw, esp(IN4, [inner("10.3.0.5", 9, b"new", 100) for _ in range(3)], 1))
    assert n == 3, d
    gw.stop()


def test_new_sa_deleted_old_still_accepted_only_under_its_policy(gw):
    """in4 (the new SA) deleted: p3in's SA is a declaration; in3 stays accepted
    under p3in alone (as before the switch) and nothing of in4 gets in."""
    rekeyed(gw, [IN5.conf("in5", "in"),
                 "sp add in src 10.5.0.0/24 dst 10.1.0.0/24 name p5in protect in5"])
    assert gw.ctl.ok("sa del in4")
    n, d = deliver(gw, esp(IN4, [inner("10.3.0.5", 1, b"del", 100) for _ in range(2)], 1))
    assert n == 0, d
    n, d = deliver(gw, esp(IN3, [inner("10.5.0.5", 2, b"x", 100) for _ in range(2)], 1))
    assert n == 0 and d.get("policy_mismatch") == 2, d
    gw.stop()
