# SPDX-License-Identifier: BSD-3-Clause
"""Red-team probes of AH in transport mode (RFC 4302 3.1.1), run against the
first transport AH commit: forged and short AH, next headers an SA does not
carry, AH for an address that is not the SA's, the SPIs of other protocols'
and modes' SAs, an AH fragment, truncated packets. None found a fault; they
stay as regression tests. One espgw run; each probe says the reason it must
be counted under, and nothing reaches the control path but what a peer sealed
right for the SA's own endpoints.
"""

import pytest
from scapy.layers.inet import IP, ICMP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

import ahcodec
import harness
from espcodec import EspSA
from test_ah import AhTunnel
from test_ah_trs import AhTrs

LAN4 = "10.1.0.1"  # the gateway's LAN address: its own, but not the SA's


def frame(t, l3):
    return bytes(harness.wan_frame((IP if t.fam == 4 else IPv6)(l3)))


def sealed(t, pkt, nh=None, sa=None):
    t.seq += 1
    return ahcodec.seal(sa or t.in_sa, bytes(pkt), t.seq, t.fam, nh_inner=nh)


def v4_len(l3, n):
    """l3 cut to n bytes with its total length and checksum saying so."""
    b = bytearray(l3[:n])
    b[2:4] = n.to_bytes(2, "big")
    b[10:12] = b"\0\0"
    b[10:12] = harness.ip_checksum(bytes(b[:20])).to_bytes(2, "big")
    return bytes(b)


def probes(t4, t6, tun, spi_only):
    """(frame, reason or None for accepted) per probe."""
    P = []
    echo = t4.echo(1)
    # 1. AH cut after its fixed 12 bytes (lengths consistent): no ICV.
    P.append((frame(t4, v4_len(sealed(t4, echo), 20 + 12)), "ah_bad_header"))
    # 2. AH and nothing behind it (the upper part removed, lengths consistent).
    alen = t4.in_sa.ah_len(4)
    P.append((frame(t4, v4_len(sealed(t4, echo), 20 + alen)), "ah_bad_header"))
    # 3. AH whose length field claims more than the SA's (and than the packet).
    b = bytearray(sealed(t4, echo))
    b[21] = 0xff
    P.append((frame(t4, bytes(b)), "ah_bad_header"))
    # 4. A valid ICV over next header 4 behind a transport AH: IP in IP is an
    #    upper protocol here (a GRE/IPIP overlay to the host): accepted, then
    #    the host's business (no host interface in this run: local_unhandled).
    inner = IP(src="192.0.2.1", dst="192.0.2.2") / ICMP()
    pkt = IP(src=t4.peer, dst=t4.own, proto=4) / inner
    P.append((frame(t4, sealed(t4, pkt)), "local_unhandled"))
    # 5. A transport-shaped AH (next header ICMP) with a tunnel SA's SPI: the
    #    tunnel SA carries IPv4 only (RFC 4302 2.1).
    tun.seq += 1
    l3 = ahcodec.seal(tun.in_sa, bytes(IP(src=tun.peer, dst=tun.local) / ICMP()), tun.seq, 4)
    P.append((bytes(harness.wan_frame(IP(l3))), "ah_bad_header"))
    # 6. ESP with a transport AH SA's SPI (RFC 4301 4.1).
    fake = EspSA(t6.in_sa.spi, "aes-gcm-128")
    P.append((bytes(harness.encap(fake, IPv6(src=t6.peer, dst=t6.own, nh=50),
                                  IPv6(src=t6.peer, dst=t6.own) / Raw(b"x" * 8), 1,
                                  oracle="codec")), "ah_proto_mismatch"))
    # 7. AH sealed right for the SA but to the gateway's LAN address: the SA
    #    matches on SPI and destination (no SA), and one matching on SPI alone
    #    finds it, verifies it, and its policy refuses it (RFC 4301 5.2).
    P.append((frame(t4, sealed(t4, IP(src=t4.peer, dst=LAN4) / ICMP())), "no_sa"))
    P.append((frame(spi_only, sealed(spi_only, IP(src=spi_only.peer, dst=LAN4) / ICMP())),
              "policy_mismatch"))
    # 8. AH for an address that is not the gateway's at all: transit, never
    #    looked up; the SPD has no rule for it.
    l3 = sealed(t4, IP(src=t4.peer, dst="10.1.0.77") / ICMP())
    P.append((frame(t4, l3), "no_policy"))
    # 9. A frame cut short of what its IP header says (AH and ICV missing).
    full = frame(t6, sealed(t6, t6.echo(2)))
    P.append((full[:14 + 40 + 8], "bad_l3"))
    # 10. The IPv6 payload length cut to end inside AH.
    b = bytearray(sealed(t6, t6.echo(3)))
    b[4:6] = (16).to_bytes(2, "big")
    P.append((frame(t6, bytes(b[:40 + 16])), "ah_bad_header"))
    # 11. An IPv4 fragment carrying transport AH (MF set, the ICV right over
    #     zeroed flags): discarded, AH is not reassembled (RFC 4302 3.4.1).
    b = bytearray(sealed(t4, t4.echo(5)))
    b[6] |= 0x20
    b[10:12] = b"\0\0"
    b[10:12] = harness.ip_checksum(bytes(b[:20])).to_bytes(2, "big")
    P.append((frame(t4, bytes(b)), "ah_outer_options"))
    # 12. A genuine one last: the probes above left the SA working.
    t6.seq += 1
    P.append((frame(t6, ahcodec.seal(t6.in_sa, bytes(t6.echo(4)), t6.seq, 6)), None))
    return P


@pytest.fixture(scope="module")
def run():
    t4, t6 = AhTrs(4, 1, "hmac-sha256-128"), AhTrs(6, 2, "aes-gmac-128")
    spi_only = AhTrs(4, 3, "hmac-sha1-96")
    tun = AhTunnel(4, "hmac-sha256-128", 4)
    so = spi_only.conf()
    so[1] += " match spi"
    conf = harness.base_conf() + t4.conf() + t6.conf() + so + tun.conf()
    P = probes(t4, t6, tun, spi_only)
    res = harness.run(conf, wan=[f for f, _ in P])
    return dict(res=res, probes=P, t6=t6)


def test_each_probe_counted_under_its_reason(run):
    st = run["res"].stats
    want = {}
    for _, why in run["probes"]:
        if why is not None and why != "local_unhandled":
            want[why] = want.get(why, 0) + 1
    harness.assert_drops(st, **want)
    assert st["control"]["drops"]["local_unhandled"] == 1
    assert st["control"]["echo_reply"] == 1


def test_only_the_genuine_packet_is_answered(run):
    t6 = run["t6"]
    out = [f for f in run["res"].out["wan0"]]
    assert len(out) == 1
    op = ahcodec.open_(t6.out_sa, out[0][14:], 6)
    assert op.ok and op.seq == 1 and op.nh == 58
