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
