# SPDX-License-Identifier: BSD-3-Clause
"""Red-team reproducers against transport mode (sa ... mode transport). One
espgw run (pcap vdevs) with an IPv4 and an IPv6 transport SA pair between the
WAN address and a peer, as tests/pkt/test_transport.py sets them up, fed with
what an attacker on either side can send. Each test states what must hold."""

import pytest
from scapy.layers.inet import IP, ICMP, UDP, IPOption_NOP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

import harness
from test_transport import Trs

HOST4, HOST6 = harness.HOST4, harness.HOST6


def cases():
    t4, t6 = Trs(4, 1, "aes-gcm-128"), Trs(6, 2, "aes-gcm-128")
    conf = harness.base_conf() + t4.conf() + t6.conf()
    lan, wan = [], []
    # 1. From the LAN, the gateway's own WAN address as source, to the peer:
    # the transport SA's policy (src own/32 dst peer/32) would take it.
    lan.append(harness.lan_frame(IP(src=harness.WAN4, dst=t4.peer) / UDP(sport=7, dport=9)
                                 / Raw(b"SPOOF-LAN-OWN4")))
    lan.append(harness.lan_frame(IPv6(src=harness.WAN6, dst=t6.peer) / UDP(sport=7, dport=9)
                                 / Raw(b"SPOOF-LAN-OWN6")))
    # 2. Upper-layer headers cut inside valid transport ESP (authentic, so
    # only the peer can send them; a buggy or hostile peer).
    for proto, body in ((1, b"\x08"), (1, b"\x08\x00\x00"), (17, b"\x00\x07\x00"),
                        (6, b"\x00\x07\x00\x09\x00"), (1, b"")):
        wan.append(t4.seal(IP(src=t4.peer, dst=t4.own, proto=proto) / Raw(body)))
    for nh, body in ((58, b"\x80"), (58, b"\x80\x00\x00"), (17, b"\x00"), (0, b"\x3a\x00")):
        wan.append(t6.seal(IPv6(src=t6.peer, dst=t6.own, nh=nh) / Raw(body)))
    # 3. IPv4 options in front of transport ESP (the header is not authenticated).
    wan.append(t4.seal(IP(src=t4.peer, dst=t4.own, options=[IPOption_NOP()] * 4)
                       / ICMP(id=9, seq=1) / Raw(b"opts")))
    # 4. The clear header of a valid transport packet rewritten by someone on
    # path: another source. Authentic ESP, not the SA's endpoint.
    good = bytearray(bytes(t4.seal(t4.echo(5))))
    good[14 + 12:14 + 16] = bytes([192, 0, 2, 66])
    good[14 + 10:14 + 12] = b"\0\0"
    good[14 + 10:14 + 12] = harness.ip_checksum(bytes(good[14:34])).to_bytes(2, "big")
    wan.append(bytes(good))
    # 5. IP-in-IP inside transport ESP: an authentic packet whose upper layer is
    # a whole packet for the LAN.
    wan.append(t4.seal(IP(src=t4.peer, dst=t4.own, proto=4) /
                       IP(src=t4.peer, dst=HOST4) / UDP(sport=7, dport=9) / Raw(b"IPIP-LAN")))
    # 6. IPv6 routing header (type 0, one segment left, to the LAN host) in
    # front of transport ESP: the packet is not for the gateway alone.
    rh0 = bytes([50, 2, 0, 1, 0, 0, 0, 0]) + bytes(IPv6(dst=HOST6))[24:40]
    wan.append(t6.seal(t6.udp(3), exts=rh0, ext_nh=43))
    # 7. A transport echo of 3000 bytes, IPv4-fragmented by the peer.
    from scapy.layers.inet import fragment
    big = t4.seal(IP(src=t4.peer, dst=t4.own, id=4242) / ICMP(id=9, seq=2) / Raw(b"B" * 3000))
    for fr in fragment(big[IP], fragsize=1400):
        wan.append(harness.wan_frame(IP(bytes(fr))))
    # 8. IPv6 atomic fragment header in front of transport ESP.
    wan.append(t6.seal(t6.echo(7), exts=bytes([50, 0, 0, 0, 0, 0, 0, 9]), ext_nh=44))
    # 9. A small transport echo, IPv4-fragmented by the peer (fits the MTU after).
    sm = t4.seal(IP(src=t4.peer, dst=t4.own, id=4343) / ICMP(id=9, seq=3) / Raw(b"s" * 200))
    for fr in fragment(sm[IP], fragsize=120):
        wan.append(harness.wan_frame(IP(bytes(fr))))
    return t4, t6, conf, lan, wan


@pytest.fixture(scope="module")
def run():
    t4, t6, conf, lan, wan = cases()
    res = harness.run(conf, lan=lan, wan=wan)
    return dict(t4=t4, t6=t6, res=res, n=len(lan) + len(wan))


def esp_out(res, t):
    return [bytes(f) for f in res.out["wan0"] if harness.esp_spi(bytes(f)) == t.out_sa.spi]


def test_lan_cannot_use_gateway_address_for_transport_sa(run):
    """A LAN host sending from the gateway's WAN address to the transport peer
    (what the transport SA's policy selects) is refused as own_src: the SA
    does not carry the LAN's packets under the gateway's name; nothing leaves
    in clear either."""
    res = run["res"]
    assert res.stats["drops"]["own_src"] == 2
    assert res.stats["sa"]["tro1"]["pkts"] == 2 and res.stats["sa"]["tro2"]["pkts"] == 1
    assert not any(b"SPOOF-LAN" in bytes(f) for f in res.out["wan0"])


def test_rewritten_clear_header_refused(run):
    """Transport mode leaves the IP header outside ESP's integrity: an
    authentic packet whose source someone on path rewrote decrypts, but the
    inbound policy (src must be the SA's peer) refuses it: policy_mismatch,
    no reply to the rewritten source."""
    res = run["res"]
    assert res.stats["drops"]["policy_mismatch"] == 1
    for f in res.out["wan0"]:
        assert bytes(f)[14 + 16:14 + 20] != bytes([192, 0, 2, 66])


def test_routing_header_in_front_of_esp_refused(run):
    """An IPv6 routing header with segments left in front of transport ESP
    (the packet's final destination is the LAN host) is refused before
    decryption: source_route."""
    assert run["res"].stats["drops"]["source_route"] == 1


def test_cut_upper_layers_and_ipip_not_served(run):
    """Authentic transport packets with cut ICMP/UDP/TCP/ICMPv6 headers, a
    cut hop-by-hop header and IP-in-IP to a LAN host: each counted
    (bad_l3 or local_unhandled), nothing toward the LAN, espgw stops
    cleanly (harness.run asserts every frame was accounted)."""
    res = run["res"]
    assert res.stats["drops"]["bad_l3"] == 6
    assert res.stats["control"]["drops"]["local_unhandled"] == 4
    assert res.out["lan0"] == []


def test_options_fragments_and_atomic_fragment_answered(run):
    """IPv4 options in front of ESP, a small transport echo fragmented by the
    peer and an IPv6 atomic fragment in front of ESP are each answered in
    transport mode (3 echo replies), the options reply with ESP right behind
    the options and a correct header checksum. A 3000-byte fragmented
    transport echo ends as reasm_too_big (a limit, not a leak)."""
    res = run["res"]
    assert res.stats["control"]["echo_reply"] == 3
    assert res.stats["drops"]["reasm_too_big"] == 1
    opts = [f for f in esp_out(res, run["t4"]) if f[14] == 0x46]
    assert len(opts) == 1
    l3 = opts[0][14:]
    assert l3[20:24] == b"\x01" * 4 and l3[9] == 50
    assert int.from_bytes(l3[10:12], "big") == harness.ip_checksum(
        l3[:10] + b"\0\0" + l3[12:24])
    op = run["t4"].out_sa.open(l3[24:])
    assert op.nh == 1 and op.payload[0] == 0 and op.payload.endswith(b"opts")
    assert len(esp_out(res, run["t6"])) == 1


def test_counters_balance(run):
    st = run["res"].stats
    harness.check_stats_consistent(st)
    harness.check_pools(st)
