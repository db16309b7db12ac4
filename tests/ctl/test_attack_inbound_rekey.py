# SPDX-License-Identifier: BSD-3-Clause
"""Attack round 3: the make-before-break rekey, inbound side.

README (sp set) says: "the make-before-break rekey: add the new inbound and
outbound SAs, sp set the outbound policy to the new SA, delete the old SAs a
few seconds later: no packet is lost". tests/ctl/test_live.py
test_rekey_loses_nothing checks the outbound side only.

Inbound, a decrypted packet must match a policy that protects with the very
SA it came through (lib/dp/inbound.c inner_verdict: ESPGW_SPD_SA_INDEX(res)
!= *espgw_mbuf_sa(m) -> policy_mismatch), and one policy names one SA. So
during the overlap, whichever SA p3in names, the peer's packets on the other
are dropped although both SAs are installed and valid: following the README
(p3in left on in3), every packet the peer sends on the new SA in4 before
in3 is deleted is lost; switching p3in to in4 first loses the packets still
in flight on in3 (RFC 7296 2.8: the old inbound SA must keep working until
deleted). Runs inside its own network namespace (netns_run.sh).

Not fixed yet: kept as a strict expected failure (README, Known limits; the
fix needs an inbound policy that accepts its previous SA until that one is
deleted), so that it turns into a failure once the inbound side holds."""

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import live
from live import IN3, OUT3, Key, tunnel_conf

OUT4, IN4 = Key(0x3004, 0x50), Key(0x4004, 0x60)


def peer_frames(key, n, tag):
    sa = key.scapy_sa(live.PEER, live.WAN)
    out = []
    for i in range(n):
        inner = IP(src="10.3.0.5", dst=live.HOST) / UDP(sport=1, dport=2) / Raw(tag + b"%d" % i)
        out.append(Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=i + 1))
    return out


def deliver(gw, frames):
    d0 = gw.drops()
    for f in frames:
        gw.wan.send(f)
    got = gw.lan.drain(want=len(frames), settle=0.5)
    return len(got), gw.drops_since(d0)


@pytest.mark.xfail(strict=True, reason="an inbound policy names one SA: during a "
                   "make-before-break rekey the other one's packets drop as policy_mismatch "
                   "(README, Known limits)")
def test_inbound_make_before_break_loses_nothing(gw):
    assert gw.ctl.txn(tunnel_conf())["ok"]
    n, d = deliver(gw, peer_frames(IN3, 5, b"old"))
    assert n == 5, d
    # The README's rekey: new inbound and outbound SAs, the outbound policy switched.
    assert gw.ctl.txn([OUT4.conf("out4", "out"), IN4.conf("in4", "in")])["ok"]
    assert gw.ctl.ok("sp set p3out protect out4")
    lost = []
    # The peer (the IKE initiator) now sends on in4; in3's last packets are in flight.
    n, d = deliver(gw, peer_frames(IN4, 5, b"new"))
    if n != 5:
        lost.append("%d of 5 packets of the new inbound SA in4 while p3in names in3: %s"
                    % (5 - n, d))
    # The other order: the inbound policy switched to in4 before in3 is deleted.
    assert gw.ctl.ok("sp set p3in protect in4")
    sa3 = IN3.scapy_sa(live.PEER, live.WAN)
    late = [Ether(src=live.NH_MAC, dst=live.WAN_MAC) /
            sa3.encrypt(IP(src="10.3.0.5", dst=live.HOST) / UDP(sport=1, dport=2) /
                        Raw(b"late%d" % i), seq_num=6 + i) for i in range(5)]
    n, d = deliver(gw, late)
    if n != 5:
        lost.append("%d of 5 in-flight packets of in3 (still installed) after p3in "
                    "switched to in4: %s" % (5 - n, d))
    assert not lost, "make-before-break rekey lost inbound packets: " + "; ".join(lost)
    gw.stop()
