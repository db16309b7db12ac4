# SPDX-License-Identifier: BSD-3-Clause
"""Attack round 3, finding 3: the make-before-break rekey, inbound side.

Inbound, a decrypted packet must match a policy that protects with the very
SA it came through (RFC 4301 5.2; lib/dp/inbound.c inner_verdict), and a
policy names one SA. Before the fix, during a rekey's overlap the peer's
packets on whichever SA p3in did not name dropped as policy_mismatch,
although both SAs were installed and valid (RFC 7296 2.8: the old inbound
SA keeps working until it is deleted).

Now "sp set" of an inbound policy to a new SA keeps the one before accepted
under that policy until it is deleted (lib/ctl/store_sp.c sp_prev, the SPD's
pairs in lib/spd/espgw_spd.h). These tests hold the overlap to what it was
before the switch and no more: nothing of the old SA once deleted, nothing of
another SA that takes the old one's name, nothing of the old SA under another
policy, nothing after the policy moved on again. Each runs inside its own
network namespace (netns_run.sh)."""

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import live
from live import IN3, Key, deliver, tunnel_conf

OUT4, IN4 = Key(0x3004, 0x50), Key(0x4004, 0x60)
IN5 = Key(0x4005, 0x70)
# An SA that takes in3's name once in3 is deleted: other keys, other SPI.
IN3_AGAIN = Key(0x4006, 0x80)


def peer_frames(key, seqs, tag, src="10.3.0.5"):
    sa = key.scapy_sa(live.PEER, live.WAN)
    return [Ether(src=live.NH_MAC, dst=live.WAN_MAC) /
            sa.encrypt(IP(src=src, dst=live.HOST) / UDP(sport=1, dport=2) / Raw(tag + b"%d" % i),
                       seq_num=i) for i in seqs]


def prev_of(gw, policy):
    return gw.ctl.ok("show sp %s" % policy)["sp"][0]["prev_sa"]


def rekeyed(gw):
    """The tunnel up, in3 carrying, then the rekey: new SAs, both policies switched."""
    assert gw.ctl.txn(tunnel_conf())["ok"]
    n, d = deliver(gw, peer_frames(IN3, range(1, 6), b"old"))
    assert n == 5, d
    assert gw.ctl.txn([OUT4.conf("out4", "out"), IN4.conf("in4", "in")])["ok"]
    assert gw.ctl.ok("sp set p3out protect out4")
    assert gw.ctl.ok("sp set p3in protect in4")
    assert prev_of(gw, "p3in") == "in3"
    assert prev_of(gw, "p3out") is None


def test_inbound_make_before_break_loses_nothing(gw):
    rekeyed(gw)
    # The peer sends on in4 while in3's last packets are in flight, mixed.
    new, late = peer_frames(IN4, range(1, 6), b"new"), peer_frames(IN3, range(6, 11), b"late")
    n, d = deliver(gw, [f for pair in zip(new, late) for f in pair])
    assert n == 10, "the rekey's overlap lost inbound packets: %s" % d
    # in3 deleted: its packets have no SA; in4's go on.
    assert gw.ctl.ok("sa del in3")
    assert prev_of(gw, "p3in") is None
    n, d = deliver(gw, peer_frames(IN3, range(11, 14), b"gone"))
    assert n == 0 and sum(d.values()) == 3, d
    n, d = deliver(gw, peer_frames(IN4, range(6, 9), b"new"))
    assert n == 3, d
    gw.stop()


def test_old_name_again_is_not_the_old_sa(gw):
    """in3 deleted, another SA added as in3: p3in does not take it for the old one."""
    rekeyed(gw)
    assert gw.ctl.ok("sa del in3")
    assert gw.ctl.ok(IN3_AGAIN.conf("in3", "in"))
    assert prev_of(gw, "p3in") is None
    n, d = deliver(gw, peer_frames(IN3_AGAIN, range(1, 4), b"imp"))
    assert n == 0 and d.get("policy_mismatch") == 3, d
    gw.stop()


def test_old_sa_only_under_its_policy(gw):
    """in3 is accepted under p3in alone, the policy it was switched from, not under p5in."""
    rekeyed(gw)
    assert gw.ctl.txn([IN5.conf("in5", "in"),
                       "sp add in src 10.5.0.0/24 dst 10.1.0.0/24 name p5in protect in5"])["ok"]
    n, d = deliver(gw, peer_frames(IN3, range(6, 9), b"p5", src="10.5.0.5"))
    assert n == 0 and d.get("policy_mismatch") == 3, d
    n, d = deliver(gw, peer_frames(IN5, range(1, 4), b"p5", src="10.5.0.5"))
    assert n == 3, d
    gw.stop()


def test_one_sa_deep(gw):
    """A second switch (in4 -> in5) ends in3's overlap; a switch to bypass ends every one."""
    rekeyed(gw)
    assert gw.ctl.ok(IN5.conf("in5", "in"))
    assert gw.ctl.ok("sp set p3in protect in5")
    assert prev_of(gw, "p3in") == "in4"
    n, d = deliver(gw, peer_frames(IN3, range(6, 9), b"old"))
    assert n == 0 and d.get("policy_mismatch") == 3, d
    n, d = deliver(gw, peer_frames(IN4, range(1, 4), b"mid") + peer_frames(IN5, range(1, 4), b"new"))
    assert n == 6, d
    assert gw.ctl.ok("sp set p3in discard")
    assert prev_of(gw, "p3in") is None
    n, d = deliver(gw, peer_frames(IN4, range(4, 7), b"mid"))
    assert n == 0 and d.get("policy_mismatch") == 3, d
    gw.stop()


def test_rolled_back_switch_keeps_what_was(gw):
    """A failed transaction that switched p3in and deleted in3 changes nothing."""
    rekeyed(gw)
    r = gw.ctl.txn([IN5.conf("in5", "in"), "sp set p3in protect in5", "sa del in3",
                    "sa del nosuch"])
    assert not r["ok"], r
    assert prev_of(gw, "p3in") == "in3"
    n, d = deliver(gw, peer_frames(IN3, range(6, 9), b"old") + peer_frames(IN4, range(1, 4), b"new"))
    assert n == 6, d
    gw.stop()
