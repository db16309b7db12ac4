# SPDX-License-Identifier: BSD-3-Clause
"""Security review of eeff443 (no two SAs under one key), on the socket.

test_inbound_key_reused_outbound: the peer sent in3's packets 1..5 under
in3's AES-GCM key and salt. One transaction deletes in3 and adds an outbound
SA x3 with in3's key and salt: the store's check (store_sa.c sa_check_key)
no longer sees in3, and lib/gw/publish.c sa_key_fresh compares a new
outbound SA only with outbound slots (o->dir != ESPGW_DIR_OUT: skipped),
though in3's slot is still live and took packets under the key. x3 then
sends salt|1..5 under the key: the nonces the peer already used (RFC 4106
8.1), the "from both ends" case key_clash refuses within one store.
Fixed: sa_key_fresh compares a new SA of either direction with every live
slot that ran under the key and is no longer the store's
(espgw_store_sa_key_reused: the same direction, or with a salt the other).
Runs inside its own network namespace (netns_run.sh)."""

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import live
from live import IN3, OUT3, send_lan


def peer_sends(gw, n):
    sa = IN3.scapy_sa(live.PEER, live.WAN)
    for i in range(n):
        inner = IP(src="10.3.0.5", dst=live.HOST) / UDP(sport=1, dport=2) / Raw(b"peer%d" % i)
        gw.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) /
                    sa.encrypt(inner, seq_num=i + 1))
    return gw.lan.drain(want=n)


def test_inbound_key_reused_outbound(gw):
    assert gw.ctl.txn(live.tunnel_conf())["ok"]
    got = peer_sends(gw, 5)
    assert len(got) == 5, "in3 did not deliver the peer's packets"
    x3 = live.Key(0x3009, 0x40)
    assert (x3.key, x3.salt) == (IN3.key, IN3.salt)
    r = gw.ctl.txn(["sp del p3in", "sa del in3", x3.conf("x3", "out"),
                    "sp set p3out protect x3"])
    if r["ok"]:
        send_lan(gw, range(5))
        frames = gw.wan.drain(want=5)
        live.assert_no_clear(frames)
        live.decrypt_all(frames, [x3])
        seqs = [Ether(f)[ESP].seq for f in frames]
        raise AssertionError(
            "x3 (outbound, in3's AES-GCM key and salt) accepted in the transaction that "
            "deletes in3 and sent sequence numbers %s: the nonces salt|1..5 the peer "
            "already sent under that key" % seqs)
    assert "its key is SA in3's" in r["error"], r
    gw.stop()


def test_inbound_readded_same_key_keeps_replays_out(gw):
    """'sa del in3' and 'sa add in3' with in3's key in one transaction would
    give in3 a fresh replay window under the key the peer already used: the
    peer's captured packets 1..5 would be accepted once more (RFC 4303
    3.4.3). Refused (lib/gw/publish.c sa_key_fresh: in3's slot took packets
    under the key), and a replayed packet stays a replay drop."""
    assert gw.ctl.txn(live.tunnel_conf())["ok"]
    sa = IN3.scapy_sa(live.PEER, live.WAN)
    frames = []
    for i in range(5):
        inner = IP(src="10.3.0.5", dst=live.HOST) / UDP(sport=1, dport=2) / Raw(b"peer%d" % i)
        frames.append(Ether(src=live.NH_MAC, dst=live.WAN_MAC) /
                      sa.encrypt(inner, seq_num=i + 1))
    for f in frames:
        gw.wan.send(f)
    assert len(gw.lan.drain(want=5)) == 5, "in3 did not deliver the peer's packets"
    r = gw.ctl.txn(["sa del in3", IN3.conf("in3", "in")])
    assert r["ok"] is False and "its key is SA in3's" in r["error"], r
    d0 = gw.drops()
    gw.wan.send(frames[0])
    assert gw.lan.drain(settle=0.5) == [], "a replayed packet of in3 was delivered again"
    assert gw.drops_since(d0).get("replay", 0) == 1, gw.drops_since(d0)
    gw.stop()
