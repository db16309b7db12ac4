# SPDX-License-Identifier: BSD-3-Clause
"""AH (RFC 4302) behind outer IPv4 options and an IPv6 destination options
header: the ICV covers the immutable options and not the mutable ones
(3.3.3.1.1.2: IPv4 options other than end of list, NOP, security and router
alert are zeroed whole; 3.3.3.1.2.2 / RFC 8200 4.2: an IPv6 option whose type
has the 0x20 "may change" bit has its data zeroed).

Judge: ahcodec (tests/pkt/ahcodec.py, checked against DPDK's AH vectors in
pkt-ah-vectors) seals every packet; espgw must accept the untouched one and
the one whose mutable option changed on the way, and refuse (auth_fail) the
one whose immutable option changed.
"""

import struct

import ahcodec
import harness
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from test_ah import AhTunnel

RA = bytes([148, 4, 0, 0])  # router alert: immutable
RR_AT = 20 + len(RA) + 3  # record route (type 7): mutable, its data starts here
NEW = b"\x09\x09\x09\x09"


def v4_cksum(l3):
    h = bytearray(l3)
    hl = (h[0] & 0xf) * 4
    h[10:12] = b"\0\0"
    s = sum(struct.unpack("!%dH" % (hl // 2), bytes(h[:hl])))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    h[10:12] = struct.pack("!H", ~s & 0xffff)
    return bytes(h)


def v4_frame(t, inner, seq, at=None, n=4):
    """AH tunnel behind router alert + record route; n bytes at 'at' then changed."""
    opts = RA + bytes([7, 7, 4]) + b"\1\2\3\4" + bytes([0])
    h = bytearray(bytes(t.outer_hdr())[:20])
    h[0] = 0x40 | (20 + len(opts)) // 4
    l3 = bytearray(ahcodec.seal(t.in_sa, bytes(h) + opts + bytes(inner), seq, 4, nh_inner=4))
    if at is not None:
        l3[at:at + n] = NEW[:n]
    return bytes(harness.wan_frame(IP(v4_cksum(l3))))


def v6_frame(t, inner, seq, opt_type, change=False):
    """AH tunnel behind a destination options header with one 4-byte option."""
    o = bytearray(bytes(t.outer_hdr())[:40])
    o[6] = 60
    ext = bytes([41, 0, opt_type, 4]) + b"\1\2\3\4"
    l3 = bytearray(ahcodec.seal(t.in_sa, bytes(o) + ext + bytes(inner), seq, 6, nh_inner=41))
    if change:
        l3[44:48] = NEW
    return bytes(harness.wan_frame(IPv6(bytes(l3))))


def test_ah_behind_options():
    for fam in (4, 6):
        plan = harness.Plan()
        t = AhTunnel(1, "hmac-sha256-128", fam)
        a, b, c = (t.wan_pkt(size=n) for n in (11, 12, 13))
        if fam == 4:
            plan.wan_in(v4_frame(t, a, 1), a)
            plan.wan_in(v4_frame(t, b, 2, at=RR_AT), b)
            plan.wan.append(v4_frame(t, c, 3, at=20 + 2, n=2))  # the router alert's value
        else:
            plan.wan_in(v6_frame(t, a, 1, 0x3e), a)
            plan.wan_in(v6_frame(t, b, 2, 0x3e, change=True), b)
            plan.wan.append(v6_frame(t, c, 3, 0x1e, change=True))
        res = harness.run(harness.base_conf() + t.conf(), lan=plan.lan, wan=plan.wan)
        plan.check_clear(res)
        harness.assert_drops(res.stats, auth_fail=1)
