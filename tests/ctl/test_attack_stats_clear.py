# SPDX-License-Identifier: BSD-3-Clause
"""Attack round 3: "stats clear" zeroes the per-SA counters (lib/dp/worker.c
stats_clear: memset of l->sa), and two safety checks read those counters.

test_stats_clear_then_readd_outbound_same_key: lib/gw/publish.c
sa_key_fresh refuses a new SA whose key is that of a live slot no longer in
the store only if that slot "ran under it", decided by slot_sent(): the
slot's packet counter != 0 (espgw_stats_sa). After "stats clear" the counter
is 0: "sa del out3" + "sa add out3" with out3's AES-GCM key and salt in one
transaction is accepted, and the new out3 sends salt|1, 2, 3... again: the
nonces the old out3 already sent under that key (RFC 4106 8.1).

test_stats_clear_then_readd_inbound_same_key: the same for in3: a fresh
replay window under the key, the peer's captured packets 1..5 delivered a
second time (RFC 4303 3.4.3).

test_stats_clear_resets_hard_lifetime: lib/gw/sa_watch.c life_check
measures "lifetime hard packets N" on the same counters: "stats clear"
(a monitoring system's routine) starts the count again, so an SA with a
hard packet limit never expires.

Runs inside its own network namespace (netns_run.sh)."""

import time

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import live
from live import IN3, OUT3, send_lan, tunnel_conf


def clear(gw):
    assert gw.ctl.ok("stats clear")
    time.sleep(0.3)  # the workers zero their counters at their next loop


def peer_frames(n):
    sa = IN3.scapy_sa(live.PEER, live.WAN)
    return [Ether(src=live.NH_MAC, dst=live.WAN_MAC) /
            sa.encrypt(IP(src="10.3.0.5", dst=live.HOST) / UDP(sport=1, dport=2) /
                       Raw(b"peer%d" % i), seq_num=i + 1) for i in range(n)]


def readd(name, key, direction):
    return ["sp del p3%s" % direction, "sa del %s" % name, key.conf(name, direction),
            "sp add %s src %s dst %s name p3%s protect %s" % (
                direction, "10.1.0.0/24" if direction == "out" else "10.3.0.0/24",
                "10.3.0.0/24" if direction == "out" else "10.1.0.0/24", direction, name)]


def test_stats_clear_then_readd_outbound_same_key(gw):
    assert gw.ctl.txn(tunnel_conf())["ok"]
    send_lan(gw, range(5))
    first = gw.wan.drain(want=5)
    live.decrypt_all(first, [OUT3])
    seq1 = [Ether(f)[ESP].seq for f in first]
    clear(gw)
    r = gw.ctl.txn(readd("out3", OUT3, "out"))
    if r["ok"]:
        send_lan(gw, range(5, 10))
        again = gw.wan.drain(want=5)
        live.decrypt_all(again, [OUT3])
        seq2 = [Ether(f)[ESP].seq for f in again]
        twice = sorted(set(seq1) & set(seq2))
        raise AssertionError(
            "after 'stats clear', out3 deleted and added again under its AES-GCM key and "
            "salt was accepted; sequence numbers %s went out twice under that key (the "
            "same GCM nonces): first %s, then %s" % (twice, seq1, seq2))
    assert "its key is SA out3's" in r["error"], r
    gw.stop()


def test_stats_clear_then_readd_inbound_same_key(gw):
    assert gw.ctl.txn(tunnel_conf())["ok"]
    frames = peer_frames(5)
    for f in frames:
        gw.wan.send(f)
    assert len(gw.lan.drain(want=5)) == 5, "in3 did not deliver the peer's packets"
    clear(gw)
    r = gw.ctl.txn(readd("in3", IN3, "in"))
    if r["ok"]:
        for f in frames:
            gw.wan.send(f)
        again = gw.lan.drain(want=5, settle=0.5)
        raise AssertionError(
            "after 'stats clear', in3 deleted and added again under its key was accepted "
            "(a fresh replay window): %d of the peer's 5 captured packets delivered a "
            "second time" % len(again))
    assert "its key is SA in3's" in r["error"], r
    gw.stop()


def test_stats_clear_resets_hard_lifetime(gw):
    conf = tunnel_conf()
    conf[0] += " lifetime hard packets 8"
    assert gw.ctl.txn(conf)["ok"]
    sent = 0
    for _ in range(3):
        send_lan(gw, range(sent, sent + 6))
        sent += 6
        gw.wan.drain(want=6)
        clear(gw)
    time.sleep(1.5)  # the watch runs every second or so
    d0 = gw.drops()
    send_lan(gw, range(sent, sent + 6))
    out = gw.wan.drain(want=6, settle=0.5)
    live.assert_no_clear(out)
    state = [s for s in gw.ctl.ok("show sa")["sa"] if s["name"] == "out3"]
    assert not out, ("out3 has 'lifetime hard packets 8' and was given %d packets, with a "
                     "'stats clear' between every 6: it never expired and sent %d more "
                     "(show sa: %s, drops %s)" % (sent + 6, len(out), state,
                                                  gw.drops_since(d0)))
    gw.stop()


def test_control_hard_lifetime_without_clear(gw):
    """Control (holds): without 'stats clear' the same traffic expires out3."""
    conf = tunnel_conf()
    conf[0] += " lifetime hard packets 8"
    assert gw.ctl.txn(conf)["ok"]
    for k in range(3):
        send_lan(gw, range(6 * k, 6 * k + 6))
        gw.wan.drain(settle=0.3)
    time.sleep(1.5)
    send_lan(gw, range(18, 24))
    assert gw.wan.drain(settle=0.5) == [], "out3 sent past its hard packet lifetime"
    gw.stop()
