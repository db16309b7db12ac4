# SPDX-License-Identifier: BSD-3-Clause
"""What a security review broke, kept broken-proof: one test per finding, each
built so that it failed on the release the review attacked (the docstrings say
what came out then) and asserts exactly what comes out now (frames, drop
counters, SA and control-path counters).

- F1: a packet that entered from the unprotected side (decrypted, or in clear
  by an inbound bypass) and is routed back out of wan0 crosses the IPsec
  boundary outward, so the outbound SPD decides it (RFC 4301 5.1): a hub
  re-encrypts spoke-to-spoke traffic with the other spoke's SA, an outbound
  discard drops;
- F2: clear traffic to one of the gateway's addresses that an inbound protect
  policy covers is dropped (policy_mismatch) by the worker, not answered;
- F3: a fragment header in front hides neither a type 0 routing header with
  segments left (source_route) nor a hop-by-hop header out of place (bad_l3);
- F4: no ICMPv6 time exceeded about an ICMPv6 error or a redirect, whatever
  extension headers stand in front of its ICMPv6 header;
- F5: a link-local source never comes out of a tunnel (a tunnel is no link;
  the reply would be routed off-link): link_local, in the worker;
- F6: a frame from a group (broadcast/multicast) source MAC is dropped
  (l2_group_src): the gateway would answer every station of the link;
- F7: an inner packet for the gateway refused by the extension-header check
  (source_route, ipv6_option) is an error of the SA it came through.

Each test is one espgw run with its cases and the controls that show the fix
is no broader than the finding. Packets carry their label (test_input's tags),
so a frame that comes out names its case."""

import struct

from scapy.layers.inet6 import (ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                                ICMPv6NDOptSrcLLAddr, IPv6)
from scapy.layers.l2 import ARP, Ether

import harness
from harness import HOST4, HOST6, HOST_MAC, LAN_MAC, Tunnel
from test_input import (BCAST_MAC, FAR4, FAR6, LAN4, LAN6, MCAST6_MAC, ODD, RH_ADDRS, TAG_RE,
                        dest_opt, echo_reply, eth, fwd, hop_by_hop, ip4, ip6, l4_csum, lan,
                        pkt4, pkt6, routing, tag_of, wan)


# ---------------------------------------------------------------- helpers
def esp_in(t, inner, seq):
    """A wan0 frame from tunnel t's peer: inner (L3 bytes) in ESP of t's inbound SA."""
    e = t.in_sa.seal(inner, 4 if inner[0] >> 4 == 4 else 41, seq)
    if t.outer == 4:
        return wan(ip4(t.peer, t.local, 50, e))
    return wan(ip6(t.peer, t.local, 50, e))


def outputs(res, *tunnels):
    """Every frame out, in order per port: (port, "clear" or the name of the outbound
    SA of one of tunnels whose ESP it is, the label it carries (None if none), the
    frame, the inner L3 bytes of ESP (None for clear frames))."""
    by_spi = {t.out_sa.spi: t for t in tunnels}
    out = []
    for port in ("lan0", "wan0"):
        for f in res.out[port]:
            t = by_spi.get(harness.esp_spi(f))
            if t is None:
                what, inner, data = "clear", None, f
            else:
                d = harness.Decap(f, t)
                what, inner, data = t.out_name, d.inner, d.inner
            m = TAG_RE.search(data)
            out.append((port, what, m.group(1).decode() if m else None, f, inner))
    return out


def fragment(more=0, ident=0x1234):
    """An IPv6 fragment header (RFC 8200 4.5) at offset 0: atomic (RFC 6946) or,
    with more=1, a first fragment."""
    return 44, bytes([0, 0]) + struct.pack("!HI", more, ident)


def expected_reply(p):
    """The frame in which the gateway answers an echo request p from the LAN host."""
    return eth(HOST_MAC, LAN_MAC, echo_reply(p))


def assert_sa(st, **want):
    """SA counters: name=(pkts, errors) for each SA named; others not checked."""
    got = {k: (st["sa"][k]["pkts"], st["sa"][k]["errors"]) for k in want}
    assert got == want, "SA (pkts, errors): got %s, expected %s" % (got, want)


def assert_ctl(st, **want):
    ctl = st["control"]
    got = {k: ctl[k] for k in want}
    assert got == want, "control counters: got %s, expected %s\n%s" % (got, want, ctl)


# ---------------------------------------------------------------- F1
def test_f1_routed_back_to_wan_meets_outbound_spd():
    """F1: a packet from the unprotected side routed back out of wan0 met no
    outbound SPD. A hub between spoke A and spoke B (inbound A->B protect with
    A's SA, outbound A->B protect with B's SA, everything else discarded):

    - A->B, IPv4 and IPv6, decrypted from A: out of wan0 in ESP of B's
      outbound SA, the inner packet one hop later (TTL / hop limit - 1, once);
    - A -> 192.0.2.77 (the inbound SPD lets it out of A; the outbound SPD only
      has the discard): dropped, spd_discard;
    - a clear packet 192.0.2.50 -> 192.0.2.77 let in by an inbound bypass,
      routed back out of wan0 into the same discard: spd_discard;
    - control: A->B received on lan0 is encrypted with B's SA as well.

    Promise: README threat model "protect-class traffic leaves only as ESP";
    RFC 4301 5.1 (a packet crossing the boundary outbound meets the outbound
    SPD; discard or no rule: dropped). Before the fix all four packets from
    wan0 left wan0 in clear (tx 5, drops {}; B's outbound SA carried only the
    LAN control)."""
    A, B = Tunnel(90, "aes-gcm-128", 4, 4), Tunnel(91, "aes-gcm-128", 4, 4)
    A6, B6 = Tunnel(92, "aes-gcm-128", 6, 6), Tunnel(93, "aes-gcm-128", 6, 6)
    conf = harness.base_conf()
    for t in (A, B, A6, B6):
        conf += t.conf()
    conf += [
        "sp add in priority 20 src %s dst %s protect %s" % (A.net, B.net, A.in_name),
        "sp add out priority 20 src %s dst %s protect %s" % (A.net, B.net, B.out_name),
        "sp add in priority 20 src %s dst %s protect %s" % (A6.net, B6.net, A6.in_name),
        "sp add out priority 20 src %s dst %s protect %s" % (A6.net, B6.net, B6.out_name),
        "sp add in priority 30 src %s dst 192.0.2.0/24 protect %s" % (A.net, A.in_name),
        "sp add in priority 30 src 192.0.2.0/24 dst 192.0.2.0/24 bypass",
        "sp add out priority 65535 src 0.0.0.0/0 dst 0.0.0.0/0 discard",
        "sp add in priority 65535 src 0.0.0.0/0 dst 0.0.0.0/0 discard",
        "sp add out priority 65535 src ::/0 dst ::/0 discard",
        "sp add in priority 65535 src ::/0 dst ::/0 discard",
    ]
    hub4 = pkt4(A.host, B.host, "hub4")
    hub6 = pkt6(A6.host, B6.host, "hub6")
    ctl4 = pkt4(A.host, B.host, "lan-a-to-b")
    wan_in = [esp_in(A, hub4, 1), esp_in(A6, hub6, 1),
              esp_in(A, pkt4(A.host, "192.0.2.77", "esp-discard"), 2),
              wan(pkt4(FAR4, "192.0.2.77", "bypass-discard"))]
    res = harness.run(conf, lan=[lan(ctl4)], wan=wan_in)
    got = sorted((p, w, label, inner) for p, w, label, _, inner in outputs(res, B, B6))
    want = sorted([("wan0", B.out_name, "hub4", fwd(hub4)),
                   ("wan0", B6.out_name, "hub6", fwd(hub6)),
                   ("wan0", B.out_name, "lan-a-to-b", fwd(ctl4))])
    assert got == want, "frames out (port, SA, label, inner):\n got  %s\n want %s" % (got, want)
    st = res.stats
    harness.assert_drops(st, spd_discard=2)
    harness.assert_totals(st, rx=5, tx=3, drops=2)
    assert_sa(st, **{A.in_name: (2, 0), A6.in_name: (1, 0), B.out_name: (2, 0),
                     B6.out_name: (1, 0), A.out_name: (0, 0), A6.out_name: (0, 0)})


# ---------------------------------------------------------------- F2
def test_f2_clear_to_gateway_under_protect_policy_dropped():
    """F2: clear traffic to one of the gateway's own addresses went to the control
    path before (and instead of) the inbound SPD, and the reply left without
    the outbound SPD. An echo request in clear on wan0 from a host of tunnel
    A4's (A6's) protected net to the gateway's LAN address, which the inbound
    policy net -> LAN protect A4 (A6) covers: dropped by the worker as
    policy_mismatch, never handed to the control path, nothing out. Control:
    the same echo requests through the tunnels are answered, encrypted with
    the tunnels' outbound SAs (exact reply).

    Promise: README fail-closed rules "Clear traffic that an inbound protect
    policy covers is dropped (policy_mismatch), it does not bypass the
    tunnel", "The control path's own replies to hosts behind a tunnel ... go
    through the outbound policy"; RFC 4301 5.2, 5.1. Before the fix both
    requests went to the control path and were answered, the replies
    (10.1.0.1 -> 10.64.80.5 and 2001:db8:1::1 -> 2001:db8:2:51::5) left wan0
    in clear, drops {}."""
    A4, A6 = Tunnel(80, "aes-gcm-128", 4, 4), Tunnel(81, "aes-gcm-128", 6, 6)
    conf = harness.base_conf() + A4.conf() + A6.conf()  # no bypass anywhere
    t4 = pkt4(A4.host, LAN4, "esp-echo4", echo=True)
    t6 = pkt6(A6.host, LAN6, "esp-echo6", echo=True)
    res = harness.run(conf, wan=[wan(pkt4(A4.host, LAN4, "clear-echo4", echo=True)),
                                 wan(pkt6(A6.host, LAN6, "clear-echo6", echo=True)),
                                 esp_in(A4, t4, 1), esp_in(A6, t6, 1)])
    got = sorted((p, w, label, inner) for p, w, label, _, inner in outputs(res, A4, A6))
    want = sorted([("wan0", A4.out_name, "esp-echo4", echo_reply(t4)),
                   ("wan0", A6.out_name, "esp-echo6", echo_reply(t6))])
    assert got == want, "frames out (port, SA, label, inner):\n got  %s\n want %s" % (got, want)
    st = res.stats
    harness.assert_drops(st, policy_mismatch=2)
    harness.assert_totals(st, rx=4, tx=2, drops=2, to_ctl=2)
    assert_ctl(st, **{"in": 2, "echo_reply": 2, "injected": 2})
    assert_sa(st, **{A4.in_name: (1, 0), A6.in_name: (1, 0), A4.out_name: (1, 0),
                     A6.out_name: (1, 0)})


# ---------------------------------------------------------------- F3
def test_f3_fragment_header_hides_no_rh0_or_hop_by_hop():
    """F3: the parser's walk stopped at a fragment header while the SPD key
    walked past it, so a routing header type 0 with segments left, or a
    hop-by-hop header out of place, behind a fragment header (atomic, RFC 6946,
    or a first fragment) was classified and forwarded. Refused now: wan0
    transit (atomic and first fragment), lan0 bypass, lan0 protect, inside
    tunnel A6 (source_route, an error of A6's inbound SA), and a hop-by-hop
    header behind a fragment header (bad_l3). Nothing out. Controls: an atomic
    fragment with plain UDP from the LAN, and one with RH0 whose segments left
    is 0 (RFC 5095: ignored) from the WAN, are forwarded unchanged but for the
    hop limit.

    Promise: README input rules "routing header type 0 with segments left
    (RFC 5095 3)" -> source_route, "hop-by-hop options only first (RFC 8200
    4.1)" -> bad_l3, on all packets, decrypted too; a first fragment holds the
    whole chain (RFC 7112 5, RFC 8200 4.5). Before the fix all six were
    forwarded with their headers intact (the lan0 protect case encrypted in
    A6's SA, the inner one delivered to the LAN host), drops {}."""
    A6 = Tunnel(81, "aes-gcm-128", 6, 6)
    conf = harness.base_conf() + A6.conf() + [
        "sp add out priority 60000 src ::/0 dst ::/0 bypass",
        "sp add in priority 60000 src ::/0 dst ::/0 bypass",
        "sp add in priority 5 src ::/0 dst ::/0 proto udp dport %d protect %s" % (ODD,
                                                                                 A6.in_name),
    ]
    rh0 = routing(0, 2, RH_ADDRS)
    lan_in = [lan(pkt6(HOST6, FAR6, "lan-bypass-atomic-rh0", ext=[fragment(), rh0])),
              lan(pkt6(HOST6, A6.host, "lan-protect-atomic-rh0", ext=[fragment(), rh0]))]
    wan_in = [wan(pkt6(FAR6, HOST6, "wan-atomic-rh0", ext=[fragment(), rh0])),
              wan(pkt6(FAR6, HOST6, "wan-first-rh0", ext=[fragment(more=1), rh0])),
              esp_in(A6, pkt6(A6.host, HOST6, "inner-atomic-rh0", dport=ODD,
                              ext=[fragment(), rh0]), 1),
              wan(pkt6(FAR6, HOST6, "wan-atomic-hbh", ext=[fragment(), hop_by_hop()]))]
    c_lan = pkt6(HOST6, FAR6, "ctl-atomic", ext=[fragment()])
    c_wan = pkt6(FAR6, HOST6, "ctl-atomic-rh0-sl0", ext=[fragment(), routing(0, 0, RH_ADDRS)])
    res = harness.run(conf, lan=lan_in + [lan(c_lan)], wan=wan_in + [wan(c_wan)])
    got = [(p, w, label) for p, w, label, _, _ in outputs(res, A6)]
    assert sorted(got) == [("lan0", "clear", "ctl-atomic-rh0-sl0"),
                           ("wan0", "clear", "ctl-atomic")], "frames out: %s" % got
    p = harness.Plan()
    p.to_wan, p.to_lan = [fwd(c_lan)], [fwd(c_wan)]
    p.check_clear(res)
    st = res.stats
    harness.assert_drops(st, source_route=5, bad_l3=1)
    harness.assert_totals(st, rx=8, tx=2, drops=6)
    assert_sa(st, **{A6.in_name: (1, 1), A6.out_name: (0, 0)})


# ---------------------------------------------------------------- F4
def icmp6_error(label, ext, typ=1, code=3):
    """An ICMPv6 message (destination unreachable by default, or a redirect) from the
    LAN host to a host beyond wan0 with hop limit 1, behind extension headers ext."""
    body = struct.pack("!BBHI", typ, code, 0, 0) + tag_of(label)
    body = body[:2] + struct.pack("!H", l4_csum(HOST6, FAR6, 58, body, True)) + body[4:]
    return ip6(HOST6, FAR6, 58, body, hlim=1, ext=ext)


def test_f4_no_time_exceeded_about_icmpv6_error_behind_extension_headers():
    """F4: whether a packet is an ICMPv6 error or a redirect was judged by the
    IPv6 header's next header only, so an extension header in front (a
    destination options header with a skippable option, an atomic fragment
    header, a hop-by-hop header) hid it, and a LAN host's ICMPv6 error with hop
    limit 1 got a time exceeded back. Now: each is dropped ttl_exceeded by
    the worker and the control path suppresses the error (error_suppressed),
    nothing out. Controls: the same destination unreachable without extension
    header is suppressed too; an echo request with hop limit 1 behind the same
    destination options header still gets its time exceeded (exact bytes).

    Promise: RFC 4443 2.4 (e.1) no ICMPv6 error about an ICMPv6 error, (e.2)
    none about a redirect; README "No error is ever sent ... about an ICMP
    error". Before the fix the three cases each got a time exceeded on lan0
    (time_exceeded 4 with the control's, error_suppressed 1: the plain one)."""
    conf = harness.base_conf() + ["sp add out priority 100 src ::/0 dst ::/0 bypass"]
    echo = pkt6(HOST6, FAR6, "ctl-echo-dstopt", hlim=1, echo=True, ext=[dest_opt(0x0b)])
    frames = [icmp6_error("unreach-behind-dstopt", [dest_opt(0x0b)]),
              icmp6_error("unreach-behind-frag", [fragment()]),
              icmp6_error("redirect-behind-hbh", [hop_by_hop()], typ=137, code=0),
              icmp6_error("ctl-unreach-plain", []),
              echo]
    res = harness.run(conf, lan=[lan(x) for x in frames])
    assert res.out["wan0"] == [], "frames out of wan0: %s" % [
        Ether(f).summary() for f in res.out["wan0"]]
    got = res.out["lan0"]
    want = eth(HOST_MAC, LAN_MAC, harness.time_exceeded(LAN6, HOST6, echo))
    assert got == [want], "frames out of lan0:\n got  %s\n want %s" % (
        [f.hex() for f in got], [want.hex()])
    st = res.stats
    harness.assert_drops(st, ttl_exceeded=5)
    harness.assert_totals(st, rx=5, tx=0, drops=5)
    assert_ctl(st, ttl_reports=5, time_exceeded=1, error_suppressed=4, tx=1)


# ---------------------------------------------------------------- F5
def test_f5_link_local_source_out_of_tunnel_dropped():
    """F5: an IPv4 link-local source (169.254/16) was let through to the
    gateway's own address out of a tunnel ("unless it is to us"), and the echo
    reply to 169.254.1.1, injected into the outbound path, was routed off-link
    by the default route. A tunnel is no link: the decrypted echo request
    169.254.1.1 -> 10.1.0.1 from tunnel A4 is dropped by the worker as
    link_local, an error of A4's inbound SA, never handed to the control path;
    nothing out. The IPv6 control (fe80::1 -> 2001:db8:1::1 through A6, whose
    reply was not sent before either) is now dropped the same way. Control: an
    echo request from 169.254.1.1 on the LAN's own link is still answered
    there (RFC 3927: to us from the link).

    Promise: RFC 3927 2.6.2 (no packet to a link-local destination handed to a
    router), 7 (never forwarded); RFC 4291 2.5.6; README input rules
    link_local. Before the fix both requests went to the control path
    (drops {}), and the echo reply 10.1.0.1 -> 169.254.1.1 left wan0 in
    clear, to the WAN next hop."""
    A4, A6 = Tunnel(80, "aes-gcm-128", 4, 4), Tunnel(81, "aes-gcm-128", 6, 6)
    conf = harness.base_conf() + A4.conf() + A6.conf() + [
        # The peers may reach the gateway's LAN side from any address.
        "sp add in priority 5 src 0.0.0.0/0 dst 10.1.0.0/24 proto icmp protect %s" % A4.in_name,
        "sp add in priority 5 src ::/0 dst 2001:db8:1::/64 proto icmpv6 protect %s" % A6.in_name,
        "sp add out priority 60000 src 0.0.0.0/0 dst 0.0.0.0/0 bypass",
        "sp add out priority 60000 src ::/0 dst ::/0 bypass",
    ]
    on_link = pkt4("169.254.1.1", LAN4, "ctl-ll4-on-link", echo=True)
    res = harness.run(conf, lan=[lan(on_link)], wan=[
        esp_in(A4, pkt4("169.254.1.1", LAN4, "ll4-echo", echo=True), 1),
        esp_in(A6, pkt6("fe80::1", LAN6, "ll6-echo", echo=True), 1)])
    assert res.out["wan0"] == [], "frames out of wan0: %s" % [
        (label, Ether(f).summary()) for p, _, label, f, _ in outputs(res) if p == "wan0"]
    want = expected_reply(on_link)
    assert res.out["lan0"] == [want], "frames out of lan0:\n got  %s\n want %s" % (
        [f.hex() for f in res.out["lan0"]], [want.hex()])
    st = res.stats
    harness.assert_drops(st, link_local=2)
    harness.assert_totals(st, rx=3, tx=0, drops=2, to_ctl=1)
    assert_ctl(st, **{"in": 1, "echo_reply": 1, "injected": 0})
    assert_sa(st, **{A4.in_name: (1, 1), A6.in_name: (1, 1), A4.out_name: (0, 0),
                     A6.out_name: (0, 0)})


# ---------------------------------------------------------------- F6
def test_f6_echo_from_group_source_mac_not_answered():
    """F6: an echo request in a frame whose source MAC was a group address was
    answered to that address (the reply's destination is the request's
    source), so to every station of the link. A frame from a broadcast or
    multicast source MAC is dropped at the link layer now (l2_group_src), never
    handed to the control path: the echo requests to 10.1.0.1 from
    ff:ff:ff:ff:ff:ff and to 2001:db8:1::1 from 33:33:00:00:00:01. Control: the
    same request from the LAN host's MAC is answered to it (exact frame).

    Promise: IEEE 802.3 3.2.3 (a source address is an individual address);
    README input rules, step 1 (link layer). Before the fix both were
    answered to the group address they came from (ff:ff:ff:ff:ff:ff,
    33:33:00:00:00:01), drops {}."""
    conf = harness.base_conf()
    ctl = pkt4(HOST4, LAN4, "ctl-echo", echo=True)
    res = harness.run(conf, lan=[
        eth(LAN_MAC, BCAST_MAC, pkt4(HOST4, LAN4, "bcast-src", echo=True)),
        eth(LAN_MAC, MCAST6_MAC, pkt6(HOST6, LAN6, "mcast-src", echo=True)),
        lan(ctl)])
    assert res.out["wan0"] == [], "frames out of wan0: %d" % len(res.out["wan0"])
    want = expected_reply(ctl)
    assert res.out["lan0"] == [want], "frames out of lan0:\n got  %s\n want %s" % (
        [f.hex() for f in res.out["lan0"]], [want.hex()])
    st = res.stats
    harness.assert_drops(st, l2_group_src=2)
    harness.assert_totals(st, rx=3, tx=0, drops=2, to_ctl=1)
    assert_ctl(st, **{"in": 1, "echo_reply": 1})


def test_f6_group_link_layer_address_in_nd_refused():
    """F6: a neighbor advertisement (O set) for the WAN next hop
    2001:db8:100::fe carrying the target link-layer address ff:ff:ff:ff:ff:ff
    was learned, and LAN traffic routed via that hop left wan0 to the
    broadcast MAC (every station of the link got it); a neighbor solicitation
    whose source link-layer option was ff:ff:ff:ff:ff:ff got its advertisement
    sent there. Both are now invalid ND messages (bad_l3 on the control path,
    nothing learned, nothing answered), as ARP already refused a group sender
    address (the control: a reply with a broadcast sender MAC for the IPv4 next
    hop).

    Promise: README Neighbors / threat model (the cache cannot be poisoned with
    a group address); RFC 4861 4.6.1 (a link-layer address, i.e. a station's).
    Before the fix the LAN packet left to ff:ff:ff:ff:ff:ff and the NA to the
    broadcast MAC."""
    conf = [ln for ln in harness.base_conf()
            if not ln.startswith("neighbor add %s " % harness.NH6)
            and not ln.startswith("neighbor add %s " % harness.NH4)]
    conf += ["sp add out priority 100 src ::/0 dst ::/0 bypass",
             "sp add out priority 100 src 0.0.0.0/0 dst 0.0.0.0/0 bypass"]
    na = bytes(Ether(dst=harness.WAN_MAC, src=harness.NH6_MAC) /
               IPv6(src=harness.NH6, dst=harness.WAN6, hlim=255) /
               ICMPv6ND_NA(R=1, S=0, O=1, tgt=harness.NH6) /
               ICMPv6NDOptDstLLAddr(lladdr=BCAST_MAC))
    arp = bytes(Ether(dst=harness.WAN_MAC, src=harness.NH4_MAC) /
                ARP(op=2, hwsrc=BCAST_MAC, psrc=harness.NH4, hwdst=harness.WAN_MAC,
                    pdst=harness.WAN4))
    ns = bytes(Ether(dst=LAN_MAC, src=HOST_MAC) / IPv6(src=HOST6, dst=LAN6, hlim=255) /
               ICMPv6ND_NS(tgt=LAN6) / ICMPv6NDOptSrcLLAddr(lladdr=BCAST_MAC))
    res = harness.run(conf, wan=[na, arp],
                      lan=[ns, lan(pkt6(HOST6, FAR6, "via-nh6")), lan(pkt4(HOST4, FAR4, "via-nh4"))])
    group = [f.hex() for port in ("lan0", "wan0") for f in res.out[port] if f[0] & 1 and
             TAG_RE.search(f)]
    assert not group, "sent to a group MAC: %s" % group
    assert not [f for f in res.out["lan0"] if f[0] & 1], "an answer to a group MAC on lan0"
    assert res.stats["control"]["drops"]["bad_l3"] == 3, res.stats["control"]["drops"]


# ---------------------------------------------------------------- F7
def test_f7_inner_local_extension_header_refusals_are_sa_errors():
    """F7: an inner packet for the gateway refused by the extension-header check
    of packets for the gateway (README input rules step 4) was counted as a
    plain drop, not as an error of the SA it came through. Through tunnel A6,
    to 2001:db8:1::1: UDP behind a destination option that must be understood
    (0x8b) -> ipv6_option, UDP behind a routing header type 4 with segments
    left 1 -> source_route; each an error of A6's inbound SA, nothing out,
    nothing to the control path.

    Promise: test_input / README "A decrypted inner packet refused by a rule
    is an error of its SA". Before the fix the drops were {ipv6_option: 1,
    source_route: 1} as now, but A6's inbound SA counted 0 errors, not 2."""
    A6 = Tunnel(81, "aes-gcm-128", 6, 6)
    conf = harness.base_conf() + A6.conf() + [
        "sp add in priority 5 src ::/0 dst ::/0 proto udp dport %d protect %s" % (ODD,
                                                                                 A6.in_name)]
    res = harness.run(conf, wan=[
        esp_in(A6, pkt6(A6.host, LAN6, "in-opt", dport=ODD, ext=[dest_opt(0x8b)]), 1),
        esp_in(A6, pkt6(A6.host, LAN6, "in-rh4", dport=ODD, ext=[routing(4, 1, RH_ADDRS)]), 2)])
    assert res.out == {"lan0": [], "wan0": []}, "frames out: %s" % [
        (p, label) for p, _, label, _, _ in outputs(res)]
    st = res.stats
    harness.assert_drops(st, ipv6_option=1, source_route=1)
    harness.assert_totals(st, rx=2, tx=0, drops=2)
    assert_sa(st, **{A6.in_name: (2, 2), A6.out_name: (0, 0)})


# ================================================================ the second review
# A second review attacked the release after the first one's fixes; one test
# per finding again (S1..S8), each failing on the release it attacked:
#
# - S1: an ICMP error about a decrypted packet that routing sends back out of
#   wan0 (a hub) goes back only through an SA, else it is dropped
#   (policy_mismatch): it quotes the tunnel's plaintext;
# - S2: fragment state (RFC 4301 7.3): clear traffic routed back out of wan0
#   has a region of its own (it cannot overwrite the LAN's verdicts), and two
#   live first fragments of one key that disagree leave no verdict: the later
#   fragments are dropped (frag_no_first), never given the spoofer's;
# - S3: the neighbor quota counts the gateway's own replies and errors leaving
#   by an unprotected port against the unprotected side's half;
# - S4: the ICMP error budgets per kind are kept apart for errors answering a
#   protected link and for everything else: nothing from outside spends the
#   LAN's packet-too-big;
# - S5: reverse path (RFC 3704): clear traffic from the unprotected side with a
#   source whose route leaves by a protected port is dropped (spoofed_src);
# - S6: the gateway's link-local address answers only link-local peers;
# - S7: a DF-clear IPv4 packet too big for the egress port is fragmented (RFC
#   1812 5.2.6), after decryption too; a decrypted packet dropped on its way
#   out is an error of its SA;
# - S8: a reply to a request that came out of a tunnel goes back only through
#   an SA.

from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import ICMPv6PacketTooBig  # noqa: E402
from scapy.packet import Raw  # noqa: E402

from harness import NH4, NH4_MAC, NH6_MAC, PEER4, WAN4, WAN6, WAN_MAC  # noqa: E402
from test_boundary import BYPASS, frags4, tunnels, udp4  # noqa: E402
from test_frag import frag_needed, rfc791_fragments, sa_mtu  # noqa: E402
from test_input import OTHER_MAC, WAN_LL, csum  # noqa: E402


def df(l3):
    """An IPv4 packet (bytes) with DF set (header checksum redone)."""
    b = bytearray(l3)
    b[6] |= 0x40
    struct.pack_into("!H", b, 10, 0)
    struct.pack_into("!H", b, 10, csum(bytes(b[:20])))
    return bytes(b)


def too_big6(src, dst, offending, mtu):
    """The exact ICMPv6 packet too big (RFC 4443 3.2) the gateway sends, quoting
    as much as fits in 1280 bytes."""
    p = IPv6(src=src, dst=dst, hlim=64) / ICMPv6PacketTooBig(mtu=mtu) / \
        Raw(bytes(offending)[:1280 - 48])
    return bytes(p.__class__(bytes(p)))


def hub(a, b):
    """A hub's rules for spoke a -> spoke b: out of a's SA, into b's."""
    return ["sp add in priority 20 src %s dst %s protect %s" % (a.net, b.net, a.in_name),
            "sp add out priority 20 src %s dst %s protect %s" % (a.net, b.net, b.out_name)]


def esp_inners(res, t):
    """The inner packets of tunnel t's outbound SA leaving wan0, in order."""
    return [harness.Decap(f, t).inner for f in res.out["wan0"]
            if harness.esp_spi(f) == t.out_sa.spi]


def clear_out(res, port):
    """The L3 bytes of every clear (non-ESP) frame out of port, in order."""
    return [harness.trim_l3(f[14:]) for f in res.out[port] if harness.esp_spi(f) is None]


def assert_no_clear(res, secret):
    """No clear frame out of either port carries secret (the failure lists those
    that do: port, summary, IPv4 ID)."""
    leaked = [(port, Ether(f).summary(), IP(f[14:]).id if f[12:14] == b"\x08\x00" else None)
              for port in ("lan0", "wan0") for f in res.out[port]
              if secret in f and harness.esp_spi(f) is None]
    assert leaked == [], "%s in clear: %s" % (secret.decode(), leaked)


# config/gw-a.conf's rules for the gateway's own ICMP on its WAN addresses.
GW_ICMP = ["sp add in priority 1000 dst %s/32 proto icmp bypass" % WAN4,
           "sp add out priority 1000 src %s/32 proto icmp bypass" % WAN4,
           "sp add in priority 1000 dst %s/128 proto icmpv6 bypass" % WAN6,
           "sp add out priority 1000 src %s/128 proto icmpv6 bypass" % WAN6]


# ---------------------------------------------------------------- S1
def test_s1_error_about_hairpinned_decrypted_packet_only_through_an_sa():
    """S1: an ICMP error about a decrypted packet that the hub routes back out
    of wan0 was taken for an error about a clear packet off the WAN link (the
    packet had been given a frame and wan0 as its port to meet the outbound
    SPD), so the catch-all bypass sent it in clear. Hub A -> B (B -> A has no
    protect rule): a TTL-1 packet and a DF packet too big for B's SA, out of
    A: the time exceeded and the fragmentation needed are dropped
    (policy_mismatch), nothing out of either port. Control: the same two
    from spoke C to D, where D -> C is protected with C's SA: both errors go
    back in C's SA, from 198.51.100.1 (exact; the MTU is D's SA's).

    Promise: README fail-closed rules "An ICMP error ... About a packet that
    came out of a tunnel only through an SA ... dropped (policy_mismatch),
    because it quotes the tunnel's plaintext"; RFC 4301 6.2. Before the fix
    both errors about A's packets left wan0 in clear to 10.64.90.5, quoting
    them (drops: only the two ttl_exceeded)."""
    A, B, C, D = (Tunnel(n, "aes-gcm-128", 4, 4) for n in (90, 91, 94, 95))
    conf = harness.base_conf() + A.conf() + B.conf() + C.conf() + D.conf() + \
        hub(A, B) + hub(C, D) + [
            "sp add out priority 20 src %s dst %s protect %s" % (D.net, C.net, C.out_name)] + \
        BYPASS
    size = 1480  # fits wan0 in clear, not an SA (sa_mtu 1446)
    ttl1 = pkt4(A.host, B.host, "hub-ttl1", ttl=1)
    big = df(pkt4(A.host, B.host, "hub-big-" + "x" * (size - 36 - 8)))
    c_ttl1 = pkt4(C.host, D.host, "ctl-ttl1", ttl=1)
    c_big = df(pkt4(C.host, D.host, "ctl-big-" + "x" * (size - 36 - 8)))
    res = harness.run(conf, wan=[esp_in(A, ttl1, 1), esp_in(A, big, 2),
                                 esp_in(C, c_ttl1, 1), esp_in(C, c_big, 2)])
    clear = [Ether(f).summary() for f in res.out["lan0"] + res.out["wan0"]
             if harness.esp_spi(f) is None]
    assert clear == [], "in clear: %s" % clear
    got = [(w, inner) for _, w, _, _, inner in outputs(res, A, B, C, D)]
    want = [(C.out_name, harness.time_exceeded(WAN4, C.host, c_ttl1)),
            (C.out_name, frag_needed(WAN4, C.host, c_big, sa_mtu(D)))]
    assert sorted(got) == sorted(want), "frames out (SA, inner):\n got  %s\n want %s" % (
        got, want)
    st = res.stats
    harness.assert_drops(st, ttl_exceeded=2, policy_mismatch=2)
    harness.assert_totals(st, rx=4, tx=2, drops=4, to_ctl=2)
    assert_ctl(st, ttl_reports=2, time_exceeded=2, icmp_error=2, injected=4)
    assert_sa(st, **{A.in_name: (2, 0), C.in_name: (2, 0), C.out_name: (2, 0),
                     B.out_name: (0, 0), D.out_name: (0, 0), A.out_name: (0, 0)})


def test_s1_error_about_hairpinned_decrypted_packet_only_through_an_sa_ipv6():
    """S1 in IPv6: hub A6 -> B6, a hop-limit-1 packet and one too big for B6's
    SA: the time exceeded and the packet too big are dropped
    (policy_mismatch), nothing out of either port. Control: from C6 to D6
    (D6 -> C6 protected with C6's SA) both come back in C6's SA, from
    2001:db8:100::1 (exact).

    Promise: as for IPv4 (RFC 4301 6.2, README fail-closed rules). Before the
    fix both ICMPv6 errors about A6's packets left wan0 in clear to
    2001:db8:2:5c::5, quoting them."""
    A, B, C, D = (Tunnel(n, "aes-gcm-128", 6, 6) for n in (92, 93, 96, 97))
    conf = harness.base_conf() + A.conf() + B.conf() + C.conf() + D.conf() + \
        hub(A, B) + hub(C, D) + [
            "sp add out priority 20 src %s dst %s protect %s" % (D.net, C.net, C.out_name)] + \
        BYPASS
    size = 1460  # fits wan0 in clear, not an SA
    hl1 = pkt6(A.host, B.host, "hub-hlim1", hlim=1)
    big = pkt6(A.host, B.host, "hub-big-" + "x" * (size - 56 - 8))
    c_hl1 = pkt6(C.host, D.host, "ctl-hlim1", hlim=1)
    c_big = pkt6(C.host, D.host, "ctl-big-" + "x" * (size - 56 - 8))
    res = harness.run(conf, wan=[esp_in(A, hl1, 1), esp_in(A, big, 2),
                                 esp_in(C, c_hl1, 1), esp_in(C, c_big, 2)])
    clear = [Ether(f).summary() for f in res.out["lan0"] + res.out["wan0"]
             if harness.esp_spi(f) is None]
    assert clear == [], "in clear: %s" % clear
    got = [(w, inner) for _, w, _, _, inner in outputs(res, A, B, C, D)]
    want = [(C.out_name, harness.time_exceeded(WAN6, C.host, c_hl1)),
            (C.out_name, too_big6(WAN6, C.host, c_big, sa_mtu(D)))]
    assert sorted(got) == sorted(want), "frames out (SA, inner):\n got  %s\n want %s" % (
        got, want)
    st = res.stats
    harness.assert_drops(st, ttl_exceeded=2, policy_mismatch=2)
    harness.assert_totals(st, rx=4, tx=2, drops=4, to_ctl=2)
    assert_ctl(st, ttl_reports=2, time_exceeded=2, icmp_error=2, injected=4)
    assert_sa(st, **{A.in_name: (2, 0), C.in_name: (2, 0), C.out_name: (2, 0),
                     B.out_name: (0, 0), D.out_name: (0, 0), A.out_name: (0, 0)})


# ---------------------------------------------------------------- S2
SECRET = b"PROTECT-CLASS-PAYLOAD-" * 60


def victim_frags(src, dst, ident):
    """A 1328-byte UDP datagram to port 5000 (T4's protect rule) in 3 fragments."""
    return [bytes(f) for f in frags4(udp4(src, dst, 5000, 0, pid=ident, data=SECRET[:1300]))]


def first_frag(src, dst, ident, dport=7000):
    """A first fragment of another datagram with the same key (src, dst, proto,
    ID), to a port the catch-all bypass lets out in clear."""
    return bytes(IP(bytes(IP(src=src, dst=dst, id=ident, flags="MF", ttl=64) /
                          UDP(sport=40000, dport=dport, len=1308) / Raw(b"A" * 592))))


def test_s2_first_fragment_from_wan_cannot_set_lan_verdict():
    """S2 from the WAN: the fragment state kept one region for "outbound", and
    clear traffic from wan0 routed back out of wan0 (inbound bypass, outbound
    bypass) was classified in the LAN's region: a first fragment from the WAN
    with a LAN datagram's key overwrote its verdict (protect, T4: UDP to port
    5000) with bypass, and the LAN datagram's later fragments left wan0 in
    clear. Two victims, each sends its first fragment, the WAN one frame
    with its key, then the victim its two later fragments (the worker takes
    32 frames a burst from lan0, then wan0: 30 frames for another MAC pad the
    first burst):

    - 10.1.0.10 -> 10.64.1.5, the reviewer's case: the WAN frame claims
      10.1.0.10, a LAN source: dropped as spoofed_src (S5);
    - 10.99.0.7 -> 10.64.1.5, from a host behind a router on the LAN whose
      subnet the gateway has no route for (the default route points out of
      wan0) and a policy protects into T4: the WAN frame claiming 10.99.0.7
      passes the reverse-path check, hairpins and leaves in clear, and its
      verdict is kept in a region of its own (shared, the two disagreeing
      first fragments would cost the victim its later fragments, see below);

    all 6 fragments of both datagrams leave in ESP of T4's SA, in order.

    Promise: README fail-closed rules "A non-initial fragment never gets
    another policy than its packet (RFC 4301 7.3)", espgw_fragstate.h "one
    region per direction, so that clear fragments from the unprotected side
    cannot evict the state of the LAN's"; threat model "protect-class traffic
    leaves only as ESP". Before the fix both WAN frames hairpinned and the
    later fragments of both victims left wan0 in clear (4; only the two first
    fragments in ESP), drops only the padding's."""
    T4 = tunnels()["T4"]
    router = "10.99.0.7"
    conf = harness.base_conf() + T4.conf() + [
        "sp add out priority 10 src 10.99.0.0/24 dst %s proto udp dport 5000 protect %s"
        % (T4.net, T4.out_name)] + BYPASS
    v1 = victim_frags(HOST4, T4.host, 0x4242)
    v2 = victim_frags(router, T4.host, 0x4243)
    spoof1, spoof2 = first_frag(HOST4, T4.host, 0x4242), first_frag(router, T4.host, 0x4243)
    pad = eth(OTHER_MAC, HOST_MAC, v1[0])  # l2_other_host
    res = harness.run(conf, lan=[lan(v1[0]), lan(v2[0])] + [pad] * 30 +
                      [lan(f) for f in v1[1:] + v2[1:]], wan=[wan(spoof1), wan(spoof2)])
    assert_no_clear(res, b"PROTECT-CLASS")
    assert esp_inners(res, T4) == [fwd(f) for f in v1[:1] + v2[:1] + v1[1:] + v2[1:]], \
        "T4's ESP: %s" % [IP(x).summary() for x in esp_inners(res, T4)]
    assert clear_out(res, "wan0") == [fwd(spoof2)], \
        "clear out of wan0: %s" % [IP(x).summary() for x in clear_out(res, "wan0")]
    assert res.out["lan0"] == []
    st = res.stats
    harness.assert_drops(st, l2_other_host=30, spoofed_src=1)
    harness.assert_totals(st, rx=38, tx=7, drops=31)
    assert_sa(st, **{T4.out_name: (6, 0)})


def test_s2_disagreeing_first_fragments_from_lan_leave_no_verdict():
    """S2 from the LAN, no hairpin: a second first fragment with a datagram's
    key (another station claiming 10.1.0.10, or a sender repeating a first
    fragment with other ports) replaced the verdict kept for it: after the
    protect-class first fragment (T4: UDP to port 5000) and a bypass-class one
    (port 7000) of the same key, the later fragments took the bypass and left
    wan0 in clear. Now the two live first fragments disagree and leave no
    verdict: each goes as its own policy says (ESP; clear), the later
    fragments are dropped as frag_no_first. Control: a datagram whose first
    fragment is sent twice (the same verdict) still leaves whole in ESP.

    Promise: README fail-closed rules (RFC 4301 7.3) "one whose first
    fragment was not seen, or whose key two first fragments claimed with
    different verdicts (a spoofer and a host), is dropped (frag_no_first)";
    espgw_fragstate.h "a drop, never a wrong verdict". Before the fix the two
    later fragments of the port-5000 datagram left wan0 in clear, drops {}."""
    T4 = tunnels()["T4"]
    conf = harness.base_conf() + T4.conf() + [
        "sp add out priority 60000 src 0.0.0.0/0 dst 0.0.0.0/0 bypass"]
    victim = victim_frags(HOST4, T4.host, 0x4343)
    spoof = first_frag(HOST4, T4.host, 0x4343)
    ctl = victim_frags(HOST4, T4.host, 0x4344)
    res = harness.run(conf, lan=[lan(victim[0]), eth(LAN_MAC, "02:00:00:00:01:66", spoof),
                                 lan(ctl[0]), lan(ctl[0])] +
                      [lan(f) for f in victim[1:] + ctl[1:]])
    assert_no_clear(res, b"PROTECT-CLASS")
    assert esp_inners(res, T4) == [fwd(f) for f in victim[:1] + ctl[:1] + ctl], \
        "T4's ESP: %s" % [IP(x).summary() for x in esp_inners(res, T4)]
    assert clear_out(res, "wan0") == [fwd(spoof)]
    assert res.out["lan0"] == []
    st = res.stats
    harness.assert_drops(st, frag_no_first=2)
    harness.assert_totals(st, rx=8, tx=6, drops=2)
    assert_sa(st, **{T4.out_name: (5, 0)})


# ---------------------------------------------------------------- S3
def test_s3_own_replies_out_of_wan_count_against_its_neighbor_quota():
    """S3: the gateway's echo replies (injected by the control path, no port)
    to on-link sources of wan0's subnets were not taken for the unprotected
    side's: a WAN sender pinging 198.51.100.1 / 2001:db8:100::1 (gw-a.conf's
    ICMP bypass) from spoofed, never answering on-link addresses had the
    gateway make neighbor entries for them outside the quota, filled the 256
    dynamic slots, and the LAN's own resolutions failed. 200 IPv4 and 100
    IPv6 sources (20000 frames for another MAC then give the replies time to
    go round), then 4 decrypted packets from tunnel T for new LAN hosts
    10.1.0.100..103: the replies resolve within the unprotected side's half
    (128 entries, ARP requests for 128 distinct spoofed sources, no NS: the
    IPv4 ones came first), the other 172 replies are dropped as neigh_quota;
    the 4 LAN hosts are resolved (an ARP request each on lan0), none dropped
    as neigh_table_full. Nothing answers, so the 132 queued packets go at
    the stop (shutdown, or neigh_failed if the retries ran out first).

    Promise: README Neighbors "Entries made for the unprotected side (...,
    for the gateway's own replies and errors going out there, ...) may take
    at most half of them"; "packets from protected ports, and decrypted
    ones, ... resolve within the other half". Before the fix 258 ARP/NS
    requests left wan0 for the spoofed sources, none on lan0, and the
    control path dropped 46 as neigh_table_full (42 replies, the 4 decrypted
    packets)."""
    T = Tunnel(3, "aes-gcm-128", 4, 4)
    conf = harness.base_conf() + T.conf() + GW_ICMP
    srcs = ["198.51.100.%d" % i for i in range(2, 202)]
    srcs6 = ["2001:db8:100::1:%x" % i for i in range(100)]
    pings = [wan(pkt4(s, WAN4, "ping-" + s, echo=True)) for s in srcs] + \
        [wan(pkt6(s, WAN6, "ping-" + s, echo=True)) for s in srcs6]
    pad = [wan(pkt4(FAR4, WAN4, "pad"), dst=OTHER_MAC)] * 20000
    new_hosts = ["10.1.0.%d" % (100 + i) for i in range(4)]
    esp = [esp_in(T, pkt4(T.host, h, "to-" + h), 1 + i) for i, h in enumerate(new_hosts)]
    res = harness.run(conf, wan=pings + pad + esp, timeout=60)

    def arp_requests(port, mac, ip):
        """Targets of the ARP requests on port (each from the gateway's mac and ip)."""
        got = set()
        for f in res.out[port]:
            p = Ether(f)
            assert ARP in p and p[ARP].op == 1, "%s: not an ARP request: %s" % (port, p.summary())
            assert (p.dst, p.src, p[ARP].hwsrc, p[ARP].psrc) == (BCAST_MAC, mac, mac, ip), \
                p.summary()
            got.add(p[ARP].pdst)
        return got

    lan_arps = arp_requests("lan0", LAN_MAC, LAN4)
    assert lan_arps == set(new_hosts), "ARP requests on lan0 for %s" % sorted(lan_arps)
    wan_arps = arp_requests("wan0", WAN_MAC, WAN4)  # no NS, no echo reply either
    assert len(wan_arps) == 128 and wan_arps <= set(srcs), \
        "%d entries made for the WAN sender's sources" % len(wan_arps)
    st = res.stats
    harness.assert_drops(st, l2_other_host=20000)
    harness.assert_totals(st, rx=20304, tx=0, drops=20000, to_ctl=300 + 300 + 4)
    cd = {k: v for k, v in st["control"]["drops"].items() if v}
    queued = cd.pop("shutdown", 0) + cd.pop("neigh_failed", 0)
    assert (cd, queued) == ({"neigh_quota": 172}, 128 + 4), "control drops %s" % st[
        "control"]["drops"]
    assert_ctl(st, echo_reply=300, queued=132, released=0)
    assert_sa(st, **{T.in_name: (4, 0)})


# ---------------------------------------------------------------- S4
def test_s4_outside_cannot_spend_the_lan_packet_too_big_budget():
    """S4: the gateway-wide budget for "fragmentation needed" (100/s, burst
    100) was one for all destinations, and a WAN sender could spend it: DF
    packets let in by the catch-all bypass and routed back out of wan0 into
    a protect SA they are too big for each got an error, to as many spoofed
    sources as it liked (each within its own destination's 10/s), and then
    the LAN host's own fragmentation needed was refused (icmp_ratelimited):
    a path MTU black hole for the LAN through the tunnel. On wan0 (in this
    order):

    - 320 DF 1500-byte packets from 150 internet sources 192.0.2.10..159 to
      branch X's host (a hub: "src 0.0.0.0/0 dst X's net protect X"), too big
      for X's SA: each gets its error from the outside budget, from
      198.51.100.1 in clear (bypass), until that budget is spent
      (icmp_ratelimited);
    - 640 like those of the review: "from" 150 LAN addresses to A4's host:
      dropped as spoofed_src (S5), no error at all;

    and on lan0, once 320 of the WAN frames were taken (320 frames for
    another MAC first), the LAN host's DF 1500-byte packet to A4's host: its
    fragmentation needed comes on lan0, exactly (the LAN's own budget).

    Promise: README threat model "ICMP errors are rate limited per
    destination and per kind ... each of those twice: once for errors to
    hosts on a protected link, once for everything else ..., and nothing
    from outside spends the LAN's"; RFC 1191. Before the fix the LAN host got
    no fragmentation needed: 100 errors went out of wan0 and the other 861
    (the LAN host's among them) were rate limited, the spoofed ones provoking
    errors as well."""
    A, X = tunnels()["A4"], Tunnel(98, "aes-gcm-128", 4, 4)
    conf = harness.base_conf() + A.conf() + X.conf() + [
        "sp add out priority 20 src 0.0.0.0/0 dst %s protect %s" % (X.net, X.out_name)] + BYPASS

    def big(src, dst, label):  # 1500 bytes: too big for an SA (sa_mtu 1446)
        return df(pkt4(src, dst, label + "-" + "x" * (1500 - 36 - len(label) - 1)))

    outside = [big("192.0.2.%d" % (10 + i % 150), X.host, "outside") for i in range(320)]
    spoofed = [big("10.1.0.%d" % (50 + i % 150), A.host, "spoofed") for i in range(640)]
    victim = big(HOST4, A.host, "victim")
    res = harness.run(conf, lan=[eth(OTHER_MAC, HOST_MAC, victim)] * 320 + [lan(victim)],
                      wan=[wan(p) for p in outside + spoofed], timeout=60)
    want = eth(HOST_MAC, LAN_MAC, frag_needed(LAN4, HOST4, victim, sa_mtu(A)))
    assert res.out["lan0"] == [want], "frames out of lan0:\n got  %s\n want %s" % (
        [Ether(f).summary() for f in res.out["lan0"]], [Ether(want).summary()])
    errors = clear_out(res, "wan0")
    assert set(errors) <= {frag_needed(WAN4, IP(p).src, p, sa_mtu(X))
                           for p in outside}, "clear out of wan0: not the outside's errors"
    ctl = res.stats["control"]
    sent, limited = len(errors), ctl["icmp_ratelimited"]
    assert sent >= 100 and limited > 0 and sent + limited == 320, \
        "errors to the outside: %d sent, %d rate limited" % (sent, limited)
    assert res.out["wan0"] == [f for f in res.out["wan0"] if harness.esp_spi(f) is None]
    st = res.stats
    harness.assert_drops(st, l2_other_host=320, spoofed_src=640)
    harness.assert_totals(st, rx=1281, tx=sent, drops=960, to_ctl=321)
    assert_ctl(st, sent=sent + 1, icmp_error=sent + 1, icmp_ratelimited_dst=0, injected=sent)


# ---------------------------------------------------------------- S5
def test_s5_lan_source_from_wan_is_spoofed_not_reflected_into_lan():
    """S5: an echo request to the gateway's WAN address (gw-a.conf's ICMP
    bypass) "from" a LAN host was answered, and the reply, with the WAN
    sender's payload, was routed to lan0 and delivered to that host: bytes of
    the sender's choosing onto the LAN that no inbound rule lets in (and
    errors provoked the same way spent the LAN's budgets, S4). With no rule
    for a source, clear traffic from the unprotected side whose source routes
    out of a protected port is dropped as spoofed_src: the requests "from"
    10.1.0.10 and 2001:db8:1::10 to 198.51.100.1 / 2001:db8:100::1, nothing
    out. Controls: the same requests from internet hosts are answered on wan0
    (exact frames); a clear echo request from the internet straight to the
    LAN host meets the inbound discard (spd_discard), as before.

    Promise: RFC 3704 (ingress filtering, reverse path); README input rules
    spoofed_src; "clear traffic for its addresses from the unprotected side
    needs an inbound bypass rule". Before the fix the replies 198.51.100.1
    -> 10.1.0.10 and 2001:db8:100::1 -> 2001:db8:1::10, with the WAN sender's
    payload, came out of lan0 (drops {spd_discard: 1})."""
    T = Tunnel(3, "aes-gcm-128", 4, 4)
    conf = harness.base_conf() + T.conf() + GW_ICMP + [
        "sp add out priority 65535 dst 0.0.0.0/0 discard",
        "sp add in priority 65535 dst 0.0.0.0/0 discard"]
    c4 = pkt4(FAR4, WAN4, "ctl-echo4", echo=True)
    c6 = pkt6(FAR6, WAN6, "ctl-echo6", echo=True)
    res = harness.run(conf, wan=[
        wan(pkt4(HOST4, WAN4, "ATTACKER-BYTES-4", echo=True)),
        wan(pkt6(HOST6, WAN6, "ATTACKER-BYTES-6", echo=True)),
        wan(pkt4(FAR4, HOST4, "ctl-direct", echo=True)), wan(c4), wan(c6)])
    assert_no_clear(res, b"ATTACKER-BYTES")
    assert res.out["lan0"] == [], "frames out of lan0: %s" % [
        Ether(f).summary() for f in res.out["lan0"]]
    want = [eth(NH4_MAC, WAN_MAC, echo_reply(c4)), eth(NH6_MAC, WAN_MAC, echo_reply(c6))]
    assert sorted(res.out["wan0"]) == sorted(want), "frames out of wan0:\n got  %s\n want %s" % (
        [f.hex() for f in res.out["wan0"]], [f.hex() for f in want])
    st = res.stats
    harness.assert_drops(st, spoofed_src=2, spd_discard=1)
    harness.assert_totals(st, rx=5, tx=2, drops=3, to_ctl=2)
    assert_ctl(st, **{"in": 2, "echo_reply": 2, "injected": 2})


# ---------------------------------------------------------------- S6
def test_s6_link_local_address_answers_only_link_local_peers():
    """S6: an ICMPv6 echo request to the gateway's link-local address on wan0
    from a global, off-link source was taken for link mechanics (no rule
    needed) and answered; the reply, from fe80::ff:fe00:201, went through the
    outbound path and, under the catch-all outbound bypass, was routed off
    the link by the default route. Now it is not answered (local_unhandled
    on the control path), nothing out. Control: the same request from the
    link-local address of the router on wan0 is answered on the link, to its
    MAC (exact frame).

    Promise: RFC 4291 2.5.6 (a packet with a link-local source must not be
    forwarded off the link); README fail-closed rules "The gateway's
    link-local address answers only link-local peers on its own link". Before
    the fix the reply fe80::ff:fe00:201 -> 2001:db8:9::50 left wan0 to the
    next hop 02:00:00:00:02:fd, drops {}."""
    conf = harness.base_conf() + ["sp add out priority 60000 src ::/0 dst ::/0 bypass"]
    ctl = pkt6("fe80::fd", WAN_LL, "ctl-ll-echo", echo=True)
    res = harness.run(conf, wan=[wan(pkt6(FAR6, WAN_LL, "ll-echo-offlink", echo=True)),
                                 wan(ctl)])
    want = eth(NH6_MAC, WAN_MAC, echo_reply(ctl))
    assert res.out == {"lan0": [], "wan0": [want]}, "frames out: %s" % {
        p: [(Ether(f)[IPv6].src, Ether(f)[IPv6].dst, Ether(f).dst) for f in fs]
        for p, fs in res.out.items()}
    st = res.stats
    harness.assert_drops(st)
    harness.assert_totals(st, rx=2, tx=0, drops=0, to_ctl=2)
    assert_ctl(st, **{"in": 2, "echo_reply": 1, "injected": 0, "tx": 1})
    assert {k: v for k, v in st["control"]["drops"].items() if v} == {"local_unhandled": 1}, \
        st["control"]["drops"]


# ---------------------------------------------------------------- S7
def test_s7_decrypted_df_clear_fragmented_and_forwarding_drop_is_sa_error():
    """S7: a DF-clear IPv4 packet out of a tunnel too big for lan0 (MTU 1400)
    was dropped (too_big), silently, not fragmented; and a decrypted packet
    dropped on its way out (too_big, no_route, ...) was a plain drop, not an
    error of the SA it came through. Through tunnel T, in a configuration
    without an IPv4 default route (a route to the peer only):

    - a DF-clear 1450-byte UDP packet for the LAN host: out of lan0 in two
      fragments of at most 1400 bytes (RFC 791, exact: ID kept, offsets,
      MF), TTL - 1 (data-path counters fragmented 1, fragments 2);
    - a packet for 192.0.2.99, which T's inbound policy lets out but no route
      covers: no_route, an error of T's inbound SA;
    - control: the same 1450-byte packet with DF set is not fragmented: its
      fragmentation needed (MTU 1400, from 10.1.0.1) goes back in T's SA.

    Promise: RFC 1812 5.2.6, RFC 791; README "Forwarded in clear or after
    decryption, a packet larger than the egress port's MTU is treated the
    same way: IPv4 with DF clear is fragmented to it ... A drop on the way of
    a packet that came out of a tunnel ... counts as an error of that SA";
    stage.h (stage_forward_inner: errors counted on each one's SA). Before
    the fix the DF-clear packet was dropped as too_big, nothing out of lan0,
    and T's inbound SA counted no error for it (nor for the no_route one)."""
    T = Tunnel(3, "aes-gcm-128", 4, 4)
    conf = [ln for ln in harness.base_conf() if not ln.startswith("route add 0.0.0.0/0")]
    conf[0] += " mtu 1400"
    conf += T.conf() + [
        "route add %s/32 via %s port wan0" % (PEER4, NH4),
        "sp add in priority 20 src %s dst 192.0.2.0/24 protect %s" % (T.net, T.in_name)]
    big = pkt4(T.host, HOST4, "big-" + "x" * (1450 - 36 - 4))
    unrouted = pkt4(T.host, "192.0.2.99", "no-route")
    big_df = df(pkt4(T.host, HOST4, "df-" + "x" * (1450 - 36 - 3)))
    res = harness.run(conf, wan=[esp_in(T, big, 1), esp_in(T, unrouted, 2),
                                 esp_in(T, big_df, 3)])
    want = [eth(HOST_MAC, LAN_MAC, f) for f in rfc791_fragments(fwd(big), 1400)]
    assert len(want) == 2
    assert res.out["lan0"] == want, "frames out of lan0:\n got  %s\n want %s" % (
        [IP(f[14:]).summary() for f in res.out["lan0"]], [IP(f[14:]).summary() for f in want])
    assert clear_out(res, "wan0") == []
    assert esp_inners(res, T) == [frag_needed(LAN4, T.host, fwd(big_df), 1400)]  # as forwarded
    st = res.stats
    harness.assert_drops(st, no_route=1)
    harness.assert_totals(st, rx=3, tx=2 + 1, drops=1, to_ctl=1)
    assert {k: st["dataplane"][k] for k in ("fragmented", "fragments")} == \
        {"fragmented": 1, "fragments": 2}, st["dataplane"]
    assert_sa(st, **{T.in_name: (3, 1), T.out_name: (1, 0)})


# ---------------------------------------------------------------- S8
def test_s8_reply_to_tunnelled_request_only_through_an_sa():
    """S8: an echo request that came out of tunnel A (a full-tunnel spoke:
    "src A's net dst 0.0.0.0/0 protect"), addressed to the gateway's WAN
    address, was answered by a reply classified by its own header: under
    gw-a.conf's rule for the gateway's own ICMP ("sp add out src
    198.51.100.1/32 proto icmp bypass") the reply, which echoes the request's
    data, the tunnel's plaintext, left wan0 in clear to the branch host. It
    goes back only through an SA now: no rule protects 198.51.100.1 ->
    10.64.90.5, so the control path's reply is dropped by the worker
    (policy_mismatch), nothing out. Controls: the same request to the
    gateway's LAN address comes back in A's SA (exact), and one in clear from
    an internet host to 198.51.100.1 is answered in clear (exact frame).

    Promise: README fail-closed rules "A reply to a request that came out of
    a tunnel (an echo reply carries the request's data) likewise goes back
    only through an SA (policy_mismatch otherwise)"; RFC 4301 5.1, 6.2.
    Before the fix the reply 198.51.100.1 -> 10.64.90.5 with the request's
    data left wan0 in clear, drops {}."""
    A = Tunnel(90, "aes-gcm-128", 4, 4)
    conf = harness.base_conf() + A.conf() + GW_ICMP + [
        "sp add in priority 50 src %s dst 0.0.0.0/0 protect %s" % (A.net, A.in_name),
        "sp add out priority 65535 dst 0.0.0.0/0 discard"]
    to_lan = pkt4(A.host, LAN4, "ctl-esp-echo-lan", echo=True)
    clear = pkt4(FAR4, WAN4, "ctl-clear-echo", echo=True)
    res = harness.run(conf, wan=[
        esp_in(A, pkt4(A.host, WAN4, "TUNNEL-PLAINTEXT-echo", echo=True), 1),
        esp_in(A, to_lan, 2), wan(clear)])
    assert_no_clear(res, b"TUNNEL-PLAINTEXT")
    got = [(p, w, label, inner or f) for p, w, label, f, inner in outputs(res, A)]
    want = [("wan0", "clear", "ctl-clear-echo", eth(NH4_MAC, WAN_MAC, echo_reply(clear))),
            ("wan0", A.out_name, "ctl-esp-echo-lan", echo_reply(to_lan))]
    assert sorted(got) == sorted(want), "frames out (port, SA, label, inner or frame):\n" \
        " got  %s\n want %s" % (got, want)
    st = res.stats
    harness.assert_drops(st, policy_mismatch=1)
    harness.assert_totals(st, rx=3, tx=2, drops=1, to_ctl=3)
    assert_ctl(st, **{"in": 3, "echo_reply": 3, "injected": 3})
    assert_sa(st, **{A.in_name: (2, 0), A.out_name: (1, 0)})
