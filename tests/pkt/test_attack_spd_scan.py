# SPDX-License-Identifier: BSD-3-Clause
"""Attack on the SPD's scan of small families (lib/spd/spd_scan.c) on the
packet path: each family's outbound SPD holds two rules (scanned), a tunnel
for UDP dport 5001 only, ahead of a catch-all bypass. Port selectors make
fragments take their first fragment's verdict (RFC 4301 7.3): the first
fragments (behind IPv4 options, behind an IPv6 destination options header)
and their later fragments (ports 0, which the bypass alone would match)
must all leave in ESP; a later fragment without its first must not leave;
other ports leave in clear (bypass)."""

from scapy.layers.inet import IP, UDP, IPOption_NOP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, fragment6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from harness import Tunnel

MARK = b"SPD-SCAN-SECRET!" * 24   # every fragment holds a whole copy
OPEN = b"SPD-SCAN-BYPASS!"


def test_fragments_protected_by_scan():
    t4 = Tunnel(510, "aes-gcm-128", 4, 4, policy_out="proto udp dport 5001")
    t6 = Tunnel(511, "aes-gcm-128", 6, 4, policy_out="proto udp dport 5001")
    conf = harness.base_conf() + t4.conf() + t6.conf() + [
        "sp add out priority 100 src 0.0.0.0/0 dst 0.0.0.0/0 bypass",
        "sp add out priority 100 src ::/0 dst ::/0 bypass"]
    p4 = IP(src=harness.HOST4, dst=t4.host, id=0x4242, options=[IPOption_NOP()] * 4) / \
        UDP(sport=40000, dport=5001) / Raw(MARK)
    f4 = fragment(p4, fragsize=128)
    p6 = IPv6(src=harness.HOST6, dst=t6.host) / IPv6ExtHdrDestOpt() / \
        IPv6ExtHdrFragment(id=0x6161) / UDP(sport=40000, dport=5001) / Raw(MARK)
    f6 = fragment6(p6, 200)
    assert len(f4) > 2 and len(f6) > 2
    # Later fragments of datagrams whose first fragment never came.
    o4 = [f for f in fragment(p4.__class__(bytes(p4)), fragsize=128)][1]
    o4.id = 0x4343
    o6 = fragment6(IPv6(src=harness.HOST6, dst=t6.host) / IPv6ExtHdrFragment(id=0x6262) /
                   UDP(sport=40000, dport=5001) / Raw(MARK), 200)[1]
    ctl4 = IP(src=harness.HOST4, dst=t4.host) / UDP(sport=40000, dport=5002) / Raw(OPEN)
    ctl6 = IPv6(src=harness.HOST6, dst=t6.host) / UDP(sport=40000, dport=5002) / Raw(OPEN)
    lan = [harness.lan_frame(p) for p in list(f4) + list(f6) + [o4, o6, ctl4, ctl6]]
    r = harness.run(conf, lan=lan)
    wan = r.out["wan0"]
    for f in wan:
        assert MARK[:16] not in bytes(f), "protect-class fragment in clear: %r" % Ether(f)
    esp = [f for f in wan if IP in Ether(f) and Ether(f)[IP].proto == 50]
    assert len(esp) == len(f4) + len(f6), (len(esp), len(f4), len(f6), r.drops())
    assert sum(1 for f in wan if OPEN in bytes(f)) == 2, r.drops()
    assert len(wan) == len(esp) + 2
