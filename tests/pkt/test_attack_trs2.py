# SPDX-License-Identifier: BSD-3-Clause
"""Red-team probes of the transport additions (bump in the wire, transport
ESP in UDP with nat-oa, transport AH), second round. Each probe asserts the
correct behaviour with exact counters; the ones that found a fault say so.
"""

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

import harness
from test_bitw import Bitw, BitwAh, retarget
from test_transport import Trs, ext_hdr

SUITE = "aes-gcm-128"
WAN = {4: harness.WAN4, 6: harness.WAN6}


def bitw_spi_only():
    """A bump-in-the-wire pair per family whose inbound SA matches on SPI alone,
    and a gateway-local transport pair (also SPI alone)."""
    B = [Bitw(fam, 60 + (fam == 6), SUITE) for fam in (4, 6)]
    T = [Trs(fam, 62 + (fam == 6), SUITE) for fam in (4, 6)]
    A = [BitwAh(fam, 64 + (fam == 6), "hmac-sha256-128") for fam in (4, 6)]
    conf = harness.base_conf()
    for x in B + T + A:
        c = x.conf()
        c[1] += " match spi"
        conf += c
    return B, T, A, conf


def routing_hdr(nh, segments_left):
    """An IPv6 segment routing header (RFC 8754, type 4, one segment) with
    segments_left (type 0 is refused for every packet, RFC 5095)."""
    return bytes([nh, 2, 4, segments_left, 0, 0, 0, 0]) + bytes(16)


@pytest.fixture(scope="module")
def spi_only():
    B, T, A, conf = bitw_spi_only()
    wan, want_lan = [], []
    drops = {"no_sa": 0, "no_policy": 0, "source_route": 0}
    for b, t in zip(B, T):
        # 1. The bump-in-the-wire SA's ESP sent to the gateway's own address
        #    (the header is not covered by the ICV: anyone on the path can
        #    retarget a copy of the peer's packet). That SA is the host's, not
        #    the gateway's: no SA here. Found, it was decrypted there and took
        #    the sequence number from the genuine packet when it came first
        #    (a burst later; in one burst the host's ESP goes first).
        wan.append(retarget(bytes(b.seal(b.udp(1, port=9))), b.fam, WAN[b.fam]))
        drops["no_sa"] += 1
        p = b.udp(4, port=9)
        wan.append(b.seal(p))
        want_lan.append(harness.ttl_dec(p))
        # 2. The gateway-local transport SA's ESP to the host: not a bump in
        #    the wire SA, so transit, and no rule lets the peer's ESP in.
        wan.append(retarget(bytes(t.seal(t.udp(2, port=9))), t.fam, b.own))
        drops["no_policy"] += 1
        # 3. IPv6: a destination options header in front of the host's ESP
        #    stays in front, the packet is decrypted and delivered.
        if b.fam == 6:
            p = b.udp(3, port=9)
            wan.append(b.seal(p, exts=ext_hdr(50, "dst"), ext_nh=60))
            want_lan.append(None)
    for a in A:
        # 4. The same for a bump-in-the-wire AH SA: its AH sent to the gateway
        #    is no SA's there (not even a verification spent on it).
        wan.append(retarget(a.seal_codec(a.udp(1, port=9)), a.fam, WAN[a.fam]))
        drops["no_sa"] += 1
    b6 = B[1]
    # 5. IPv6: a routing header with segments left in front of the host's ESP:
    #    espgw takes the packet off the wire in the host's place, and the
    #    host's next hop is not the peer's to choose (as for the gateway's own).
    wan.append(b6.seal(b6.udp(5, port=9), exts=routing_hdr(50, 1), ext_nh=43))
    drops["source_route"] += 1
    res = harness.run(conf, wan=wan)
    return dict(B=B, res=res, wan=wan, drops=drops, want=want_lan)


def test_bitw_sa_not_taken_at_the_gateway_address(spi_only):
    st = spi_only["res"].stats
    harness.assert_drops(st, **spi_only["drops"])
    for b in spi_only["B"]:
        assert st["sa"][b.in_name]["pkts"] == 1 + (b.fam == 6), b.in_name
        assert st["sa"][b.in_name]["errors"] == 0, b.in_name
    got = spi_only["res"].out["lan0"]
    assert len(got) == len(spi_only["want"])
    harness.assert_totals(st, rx=len(spi_only["wan"]), tx=len(got),
                          drops=sum(spi_only["drops"].values()))
