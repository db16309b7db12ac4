# SPDX-License-Identifier: BSD-3-Clause
"""What a router must refuse, on both ports, before anything else: every case
here is a frame the configuration would otherwise forward, encrypt, or
decrypt and deliver (broad bypass policies both ways at priority 60000, and
inbound policies of tunnels A4 and A6 that let any UDP port-7777 packet out
of them), so without the rule it comes out somewhere. Each must be dropped
under its own counter, with nothing out of either port and no ICMP error
(not even to the gateway itself):

- bad_cksum: IPv4 header checksum wrong (RFC 1122 3.2.1.2, RFC 1812 5.2.2),
  of a frame or of an inner packet after a good ICV (an error of its SA);
- l2_other_host: a unicast frame for another station's MAC;
- l2_group_unicast: an Ethernet broadcast/multicast frame with a unicast IP
  destination (RFC 1122 3.3.6, RFC 1812 5.3.4);
- source_route: IPv4 LSRR/SSRR; IPv6 routing header type 0 with segments
  left (RFC 5095), any routing type with segments left addressed to the
  gateway (RFC 8200 4.4);
- ipv6_option: an unknown option that must be understood (high bits not
  00, RFC 8200 4.2) in a destination options header of a packet to the gateway;
- martian_src: 0/8, 127/8, 224/4, 240/4, 255.255.255.255, a subnet
  broadcast; ::, ::1, ff00::/8, ::ffff:0:0/96 (RFC 1812 5.3.7, RFC 4291);
- own_src: one of the gateway's own addresses (link-local too), TTL 1
  included: no time exceeded to the gateway itself, no echo reply to it;
- martian_dst: 0/8, 127/8, 240/4; ::, ::1, ::ffff:0:0/96, multicast of
  scope 0 or 1 (RFC 1812 5.3.7, RFC 4291 2.7);
- bcast_mcast_dst: IPv4 broadcast (limited or a connected subnet's) or
  multicast destination: never forwarded (RFC 1812 5.3.5);
- link_local: 169.254/16 source or destination to forward (RFC 3927 7), an
  IPv6 link-local source to a global address not the gateway's (RFC 4291 2.5.6).

Decrypted inner packets pass the IP checks too. The order (README, input
rules): the link layer (l2_group_src, l2_other_host), parsing (bad_l3,
bad_cksum, source routes), the address rules, of which the first of
martian_src, martian_dst, own_src, l2_group_unicast, bcast_mcast_dst,
link_local counts, and last, for packets addressed to the gateway, their IPv6
extension headers (source_route for any routing type, ipv6_option). Cases are
built so that one rule applies (the few that test the precedence say so).

The controls, which today's gateway passes as well, must still work: ARP to
broadcast, neighbor solicitation to the solicited-node address and DAD from
::, echo from a LAN host's link-local address, RH0 with segments left 0
(RFC 5095), a routing header type 4 in transit, IPv4 Record Route in transit,
NOP options and an unknown skippable option before ESP, an unknown
must-understand option in transit (RFC 8200 4: only the destination reads
it), a TTL-1 packet of a LAN host (time exceeded still sent).

Two espgw runs: the controls, then all the cases to drop. Every frame
carries its case's label in its payload, so a frame that comes out names
its case; a per-reason counter that is off is bisected in runs of its cases
alone to name the cases that broke (at most PINPOINT_RUNS runs per module)."""

import collections
import re
import socket
import struct

import pytest
from scapy.layers.inet6 import (ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                                ICMPv6NDOptSrcLLAddr, IPv6)
from scapy.layers.l2 import ARP, Ether

import harness
from espcodec import IcvError
from harness import HOST4, HOST6, HOST_MAC, LAN_MAC, NH4_MAC, NH6_MAC, WAN_MAC, Tunnel

LAN4, LAN6 = "10.1.0.1", "2001:db8:1::1"
WAN4, WAN6 = harness.WAN4, harness.WAN6


def eui64_link_local(mac):
    """fe80::/64 + the modified EUI-64 of mac (RFC 4291 2.5.1, appendix A)."""
    b = bytes.fromhex(mac.replace(":", ""))
    iid = bytes([b[0] ^ 0x02]) + b[1:3] + b"\xff\xfe" + b[3:]
    return socket.inet_ntop(socket.AF_INET6, b"\xfe\x80" + bytes(6) + iid)


LAN_LL, WAN_LL = eui64_link_local(LAN_MAC), eui64_link_local(WAN_MAC)
assert LAN_LL == "fe80::ff:fe00:101"
FAR4, FAR6 = "192.0.2.50", "2001:db8:9::50"  # beyond wan0 (default routes)
OTHER_MAC = "02:00:00:00:99:99"               # another station's
BCAST_MAC = "ff:ff:ff:ff:ff:ff"
MCAST4_MAC, MCAST6_MAC = "01:00:5e:00:00:01", "33:33:00:00:00:01"
ODD = 7777  # UDP port the broad inbound policies of A4 and A6 let out of the tunnel
PINPOINT_RUNS = 16

# The rules in order of the drop counters' declaration.
RULES = ["bad_cksum", "l2_other_host", "l2_group_unicast", "source_route", "ipv6_option",
         "martian_src", "own_src", "martian_dst", "bcast_mcast_dst", "link_local"]


# ---------------------------------------------------------------- packets, as bytes
def a4(x):
    return socket.inet_aton(x)


def a6(x):
    return socket.inet_pton(socket.AF_INET6, x)


def csum(b):
    """Internet checksum (RFC 1071) of b."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def l4_csum(src, dst, proto, l4, v6):
    """UDP/ICMPv6 checksum over the pseudo-header (RFC 768, RFC 8200 8.1)."""
    if v6:
        ph = a6(src) + a6(dst) + struct.pack("!IxxxB", len(l4), proto)
    else:
        ph = a4(src) + a4(dst) + struct.pack("!xBH", proto, len(l4))
    c = csum(ph + l4)
    return c or 0xffff


def upper(src, dst, tag, v6, dport=5001, echo=False):
    """(protocol, bytes): UDP to dport, or an ICMP(v6) echo request, carrying tag."""
    if echo:
        proto, typ = (58, 128) if v6 else (1, 8)
        b = struct.pack("!BBHHH", typ, 0, 0, 0x77, 1) + tag
        c = l4_csum(src, dst, 58, b, True) if v6 else csum(b)
        return proto, b[:2] + struct.pack("!H", c) + b[4:]
    b = struct.pack("!HHHH", 40000, dport, 8 + len(tag), 0) + tag
    return 17, b[:6] + struct.pack("!H", l4_csum(src, dst, 17, b, v6)) + b[8:]


def ip4(src, dst, proto, payload, ttl=64, opts=b"", ck="good"):
    """IPv4 header (+ options, a multiple of 4 bytes) + payload. ck: "good",
    "bad" (a wrong checksum), "20" (computed over the first 20 bytes only)."""
    assert len(opts) % 4 == 0
    hl = 20 + len(opts)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(payload), 0x4d2, 0, ttl, proto,
                    0, a4(src), a4(dst)) + opts
    c = csum(h)
    if ck == "bad":
        c ^= 0x5a5a
    elif ck == "20":
        c, good = csum(h[:20]), c
        assert c != good, "options that do not change the checksum"
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def ip6(src, dst, proto, payload, hlim=64, ext=()):
    """IPv6 header + extension headers ext ((type, bytes) each; the first byte,
    the next header, is filled in here) + payload of protocol proto."""
    chain, nxt = b"", proto
    for typ, body in reversed(ext):
        chain = bytes([nxt]) + body[1:] + chain
        nxt = typ
    body = chain + payload
    return struct.pack("!IHBB16s16s", 6 << 28, len(body), nxt, hlim, a6(src), a6(dst)) + body


def tag_of(label):
    return b"<espgw:" + label.encode() + b">"


TAG_RE = re.compile(rb"<espgw:([^>]*)>")


def pkt4(src, dst, label, ttl=64, dport=5001, opts=b"", ck="good", echo=False):
    proto, l4 = upper(src, dst, tag_of(label), False, dport, echo)
    return ip4(src, dst, proto, l4, ttl, opts, ck)


def pkt6(src, dst, label, hlim=64, dport=5001, ext=(), echo=False):
    proto, l4 = upper(src, dst, tag_of(label), True, dport, echo)
    return ip6(src, dst, proto, l4, hlim, ext)


def routing(rtype, segleft, addrs):
    """A routing header (RFC 8200 4.4) with addresses; type 4 (RFC 8754) with
    its last-entry field set."""
    last = len(addrs) - 1 if rtype == 4 else 0
    return 43, bytes([0, 2 * len(addrs), rtype, segleft, last, 0, 0, 0]) + \
        b"".join(a6(x) for x in addrs)


def dest_opt(otype):
    """A destination options header with one 2-byte option of type otype and a PadN."""
    return 60, bytes([0, 0, otype, 2, 0, 0, 1, 0])


def hop_by_hop():
    return 0, bytes([0, 0, 1, 4, 0, 0, 0, 0])


RH_ADDRS = ["2001:db8:9::1", "2001:db8:9::2"]


def route_opt(otype, addrs=("10.9.9.1", "10.9.9.2")):
    """IPv4 LSRR (131), SSRR (137) or Record Route (7, empty slots), pointer 4, EOL."""
    data = b"".join(a4(x) for x in addrs) if otype != 7 else bytes(4 * len(addrs))
    return bytes([otype, 3 + len(data), 4]) + data + b"\0"


NOPS = b"\x01\x01\x01\x00"


def fwd(l3):
    """The L3 bytes one router hop later (TTL / hop limit - 1, IPv4 checksum)."""
    b = bytearray(l3)
    if b[0] >> 4 == 4:
        b[8] -= 1
        struct.pack_into("!H", b, 10, 0)
        struct.pack_into("!H", b, 10, csum(bytes(b[:(b[0] & 0xf) * 4])))
    else:
        b[7] -= 1
    return bytes(b)


def echo_reply(l3):
    """The gateway's answer to an echo request (no options or extension headers)."""
    b = bytearray(l3)
    if b[0] >> 4 == 4:
        b[12:16], b[16:20] = l3[16:20], l3[12:16]
        b[8], b[20] = 64, 0
        struct.pack_into("!H", b, 10, 0)
        struct.pack_into("!H", b, 10, csum(bytes(b[:20])))
        struct.pack_into("!H", b, 22, 0)
        struct.pack_into("!H", b, 22, csum(bytes(b[20:])))
        return bytes(b)
    b[8:24], b[24:40] = l3[24:40], l3[8:24]
    b[7], b[40] = 64, 129
    struct.pack_into("!H", b, 42, 0)
    src, dst = socket.inet_ntop(socket.AF_INET6, l3[24:40]), socket.inet_ntop(
        socket.AF_INET6, l3[8:24])
    struct.pack_into("!H", b, 42, l4_csum(src, dst, 58, bytes(b[40:]), True))
    return bytes(b)


def mac(x):
    return bytes.fromhex(x.replace(":", ""))


def eth(dst, src, l3, etype=None):
    if etype is None:
        etype = 0x0800 if l3[0] >> 4 == 4 else 0x86dd
    return mac(dst) + mac(src) + struct.pack("!H", etype) + l3


def lan(l3, dst=LAN_MAC):
    """A frame from the LAN host."""
    return eth(dst, HOST_MAC, l3)


def wan(l3, dst=WAN_MAC):
    """A frame from the next hop on the WAN."""
    return eth(dst, NH4_MAC if l3[0] >> 4 == 4 else NH6_MAC, l3)


def arp_request(sha, spa, tpa, dst=BCAST_MAC, label=""):
    """An ARP request for tpa (its label in the frame's trailing bytes)."""
    return bytes(Ether(dst=dst, src=sha) / ARP(op=1, hwsrc=sha, psrc=spa,
                                               hwdst="00:00:00:00:00:00", pdst=tpa)) + \
        tag_of(label)


def neighbor_solicit(src, target, sha=None, dst_mac=None):
    """RFC 4861 4.3 to the target's solicited-node address; an SLLA option unless DAD."""
    snm = a6("ff02::1:ff00:0")[:13] + a6(target)[13:]
    ns = IPv6(src=src, dst=socket.inet_ntop(socket.AF_INET6, snm), hlim=255) / \
        ICMPv6ND_NS(tgt=target)
    if sha is not None:
        ns = ns / ICMPv6NDOptSrcLLAddr(lladdr=sha)
    group = "33:33:" + ":".join("%02x" % x for x in snm[12:])  # RFC 2464 7
    return bytes(Ether(dst=dst_mac or group, src=sha or HOST_MAC) / ns)


def neighbor_advert(dst, dst_mac, solicited):
    """The gateway's answer for LAN6 on lan0 (RFC 4861 7.2.4: router, override)."""
    return bytes(Ether(dst=dst_mac, src=LAN_MAC) / IPv6(src=LAN6, dst=dst, hlim=255) /
                 ICMPv6ND_NA(R=1, S=int(solicited), O=1, tgt=LAN6) /
                 ICMPv6NDOptDstLLAddr(lladdr=LAN_MAC))


# ---------------------------------------------------------------- cases
class Case:
    def __init__(self, label, rule, port, frame, sa=None, keys=()):
        self.label, self.rule, self.port, self.frame = label, rule, port, frame
        self.sa = sa      # tunnel whose inbound SA the drop is an error of (inner packets)
        self.keys = set(keys)  # what names the case in a frame without its tag (ARP, ND)
        self.want = []    # controls: (port, kind, expected) of each frame that must come out


class Book:
    """The configuration and the cases of one module."""

    def __init__(self):
        self.T = {
            "A4": Tunnel(80, "aes-gcm-128", 4, 4),
            "A6": Tunnel(81, "aes-gcm-128", 6, 6),
            "A46": Tunnel(82, "aes-gcm-128", 4, 6),
            "A64": Tunnel(83, "aes-gcm-128", 6, 4),
        }
        self.conf = harness.base_conf()
        for t in self.T.values():
            self.conf += t.conf()
        self.conf += [
            # Anything a tunnel does not claim crosses in clear, both ways.
            "sp add out priority 60000 src 0.0.0.0/0 dst 0.0.0.0/0 bypass",
            "sp add in priority 60000 src 0.0.0.0/0 dst 0.0.0.0/0 bypass",
            "sp add out priority 60000 src ::/0 dst ::/0 bypass",
            "sp add in priority 60000 src ::/0 dst ::/0 bypass",
            # Any UDP port-7777 packet may come out of A4 / A6 (inner cases' way out).
            "sp add in priority 5 src 0.0.0.0/0 dst 0.0.0.0/0 proto udp dport %d protect %s"
            % (ODD, self.T["A4"].in_name),
            "sp add in priority 5 src ::/0 dst ::/0 proto udp dport %d protect %s"
            % (ODD, self.T["A6"].in_name),
        ]
        self.by_spi = {t.out_sa.spi: k for k, t in self.T.items()}
        self.seq = collections.Counter()
        self.controls, self.drops = [], []
        self.labels, self.keys = set(), set()
        self.esp_tag = None  # tag of the inner packet of the last ESP frame built

    def _case(self, label, rule, port, frame, sa, keys):
        """A case; its tag is the one in its frame, or in the inner packet of
        the ESP frame just built for it (Book.esp)."""
        assert label not in self.labels, "two cases labelled %r" % label
        assert len(frame) >= 14
        m = TAG_RE.search(frame)
        tag = m.group(1).decode() if m else self.esp_tag
        self.esp_tag = None
        keys = list(keys)
        if tag is not None:
            assert ("tag", tag) not in self.keys, "two cases tagged %r" % tag
            keys.append(("tag", tag))
        assert keys, "case %r: nothing names its frames" % label
        self.keys.update(keys)
        self.labels.add(label)
        return Case(label, rule, port, frame, sa, keys)

    def drop(self, rule, label, port, frame, sa=None, keys=()):
        """A frame received on port that must be dropped under rule (an error of
        tunnel sa's inbound SA when sa is given)."""
        assert rule in RULES
        self.drops.append(self._case("%s: %s" % (rule, label), rule, port, frame, sa, keys))

    def control(self, label, port, frame, *want, keys=()):
        """A frame that must still pass: want = (port, kind, expected) for each frame
        that comes out of it; kind "clear" (L3 bytes, harness.clear_frame_check),
        "esp" (expected = (tunnel, inner L3 bytes)) or "frame" (exact bytes)."""
        c = self._case("control: " + label, None, port, frame, None, keys)
        c.want = list(want)
        self.controls.append(c)

    def esp(self, tname, inner, src=None, ext=(), opts=b"", ck="good"):
        """The L3 bytes of inner in tunnel tname's inbound SA (next sequence number),
        with an outer source, extension headers, IPv4 options or checksum of choice."""
        t = self.T[tname]
        assert not (opts or ck != "good") or t.outer == 4, "IPv4 options of an IPv6 outer header"
        assert not ext or t.outer == 6, "extension headers of an IPv4 outer header"
        self.esp_tag = TAG_RE.search(inner).group(1).decode()
        self.seq[tname] += 1
        e = t.in_sa.seal(inner, 4 if inner[0] >> 4 == 4 else 41, self.seq[tname])
        if t.outer == 4:
            return ip4(src or t.peer, t.local, 50, e, opts=opts, ck=ck)
        return ip6(src or t.peer, t.local, 50, e, ext=ext)


def build():
    b = Book()
    controls(b)
    for add in (bad_cksum, l2_other_host, l2_group_unicast, source_route, ipv6_option,
                martian_src, own_src, martian_dst, bcast_mcast_dst, link_local):
        add(b)
    return b


def controls(b):
    """What must pass, with and without the rules. The first ones show that the
    paths the cases to drop rely on are open."""
    T = b.T
    A4, A6 = T["A4"], T["A6"]

    def through(tname, inner, label, **kw):
        b.control(label, "wan0", wan(b.esp(tname, inner, **kw)), ("lan0", "clear", fwd(inner)))

    p = pkt4(HOST4, A4.host, "c1")
    b.control("LAN v4 protect", "lan0", lan(p), ("wan0", "esp", ("A4", fwd(p))))
    p = pkt6(HOST6, A6.host, "c2")
    b.control("LAN v6 protect", "lan0", lan(p), ("wan0", "esp", ("A6", fwd(p))))
    p = pkt4(HOST4, FAR4, "c3")
    b.control("LAN v4 bypass", "lan0", lan(p), ("wan0", "clear", fwd(p)))
    p = pkt6(HOST6, FAR6, "c4")
    b.control("LAN v6 bypass", "lan0", lan(p), ("wan0", "clear", fwd(p)))
    p = pkt4(FAR4, HOST4, "c5")
    b.control("WAN v4 bypass", "wan0", wan(p), ("lan0", "clear", fwd(p)))
    p = pkt6(FAR6, HOST6, "c6")
    b.control("WAN v6 bypass", "wan0", wan(p), ("lan0", "clear", fwd(p)))
    for k in ("A4", "A6", "A46", "A64"):
        t = T[k]
        mk = pkt4 if t.inner == 4 else pkt6
        through(k, mk(t.host, t.lan_host, "c-" + k), "ESP " + k)
    through("A4", pkt4("10.9.9.9", HOST4, "c7", dport=ODD), "A4 inner from anywhere, port 7777")
    through("A6", pkt6("2001:db8:9::9", HOST6, "c8", dport=ODD),
            "A6 inner from anywhere, port 7777")
    p = pkt4(A4.host, "192.0.2.77", "c9", dport=ODD)
    b.control("A4 inner to the WAN, port 7777", "wan0", wan(b.esp("A4", p)),
              ("wan0", "clear", fwd(p)))
    p = pkt4(HOST4, LAN4, "c10", echo=True)
    b.control("echo v4 to the gateway", "lan0", lan(p), ("lan0", "clear", echo_reply(p)))
    # RFC 1812 5.3.1: delivered to the gateway before the TTL is looked at, even out
    # of a tunnel; the reply goes back through it.
    p = pkt4(A4.host, LAN4, "c-ttl1-echo4", ttl=1, echo=True)
    b.control("A4 inner echo to the gateway, TTL 1", "wan0", wan(b.esp("A4", p)),
              ("wan0", "esp", ("A4", echo_reply(p))))
    p = pkt6(A6.host, LAN6, "c-ttl1-echo6", hlim=1, echo=True)
    b.control("A6 inner echo to the gateway, hop limit 1", "wan0", wan(b.esp("A6", p)),
              ("wan0", "esp", ("A6", echo_reply(p))))
    p = pkt4(HOST4, FAR4, "c11", ttl=1)
    b.control("LAN v4 TTL 1: time exceeded", "lan0", lan(p),
              ("lan0", "clear", harness.time_exceeded(LAN4, HOST4, p)))
    # l2_group_unicast: ARP and ND to group addresses still work.
    b.control("ARP request to broadcast", "lan0",
              arp_request(HOST_MAC, HOST4, LAN4, label="c12"),
              ("lan0", "frame", bytes(Ether(dst=HOST_MAC, src=LAN_MAC) / ARP(
                  op=2, hwsrc=LAN_MAC, psrc=LAN4, hwdst=HOST_MAC, pdst=HOST4))),
              keys=[("arp", HOST4)])
    b.control("NS to the solicited-node address", "lan0",
              neighbor_solicit(HOST6, LAN6, sha=HOST_MAC),
              ("lan0", "frame", neighbor_advert(HOST6, HOST_MAC, True)), keys=[("nd", HOST6)])
    # martian_src: :: is a source to ff02::/16 (DAD, RFC 4862 5.4.3: defended by an NA).
    b.control("DAD NS from ::", "lan0", neighbor_solicit("::", LAN6),
              ("lan0", "frame", neighbor_advert("ff02::1", MCAST6_MAC, False)),
              keys=[("nd", "ff02::1")])
    # link_local: a link-local source to the gateway is not forwarded.
    p = pkt6("fe80::1", LAN_LL, "c13", echo=True)
    b.control("echo from fe80::1 to the gateway's link-local address", "lan0", lan(p),
              ("lan0", "clear", echo_reply(p)))
    p = pkt6("fe80::1", LAN6, "c14", echo=True)
    b.control("echo from fe80::1 to the gateway's global address", "lan0", lan(p),
              ("lan0", "clear", echo_reply(p)))
    # source_route: nothing to do, or not the gateway's business.
    through("A6", pkt6(A6.host, HOST6, "c15"), "RH0 segments left 0 before ESP",
            ext=[routing(0, 0, RH_ADDRS[:1])])
    p = pkt6(HOST6, FAR6, "c16", ext=[routing(4, 2, RH_ADDRS)])
    b.control("LAN RH type 4 segments left 2, bypass", "lan0", lan(p),
              ("wan0", "clear", fwd(p)))
    p = pkt6(FAR6, HOST6, "c17", ext=[routing(4, 1, RH_ADDRS)])
    b.control("WAN RH type 4 segments left 1, bypass", "wan0", wan(p),
              ("lan0", "clear", fwd(p)))
    p = pkt4(HOST4, FAR4, "c18", opts=route_opt(7))
    b.control("LAN v4 Record Route, bypass", "lan0", lan(p), ("wan0", "clear", fwd(p)))
    p = pkt4(FAR4, HOST4, "c19", opts=route_opt(7))
    b.control("WAN v4 Record Route, bypass", "wan0", wan(p), ("lan0", "clear", fwd(p)))
    through("A4", pkt4(A4.host, HOST4, "c20"), "NOP options before ESP", opts=NOPS)
    # ipv6_option: skippable, or not for the gateway to read (RFC 8200 4).
    through("A6", pkt6(A6.host, HOST6, "c21"), "option 0x0b before ESP", ext=[dest_opt(0x0b)])
    p = pkt6(HOST6, FAR6, "c22", ext=[dest_opt(0x8b)])
    b.control("LAN option 0x8b in transit, bypass", "lan0", lan(p), ("wan0", "clear", fwd(p)))


def bad_cksum(b):
    T, R = b.T, "bad_cksum"
    A4 = T["A4"]
    b.drop(R, "LAN v4, protect", "lan0", lan(pkt4(HOST4, A4.host, "k1", ck="bad")))
    b.drop(R, "LAN v4, bypass", "lan0", lan(pkt4(HOST4, FAR4, "k2", ck="bad")))
    b.drop(R, "LAN v4 with options, summed over 20 bytes, bypass", "lan0",
           lan(pkt4(HOST4, FAR4, "k3", opts=route_opt(7), ck="20")))
    b.drop(R, "LAN echo to the gateway", "lan0", lan(pkt4(HOST4, LAN4, "k4", echo=True,
                                                           ck="bad")))
    b.drop(R, "WAN ESP A4, outer", "wan0",
           wan(b.esp("A4", pkt4(A4.host, HOST4, "k5"), ck="bad")))
    b.drop(R, "WAN ESP A64, outer", "wan0",
           wan(b.esp("A64", pkt6(T["A64"].host, HOST6, "k6"), ck="bad")))
    b.drop(R, "WAN v4 transit, bypass", "wan0", wan(pkt4(FAR4, HOST4, "k7", ck="bad")))
    b.drop(R, "inner v4 of A4", "wan0", wan(b.esp("A4", pkt4(A4.host, HOST4, "k8", ck="bad"))),
           sa="A4")
    b.drop(R, "inner v4 of A46", "wan0",
           wan(b.esp("A46", pkt4(T["A46"].host, HOST4, "k9", ck="bad"))), sa="A46")


def l2_other_host(b):
    T, R, O = b.T, "l2_other_host", OTHER_MAC
    A4, A6 = T["A4"], T["A6"]
    b.drop(R, "LAN v4, protect", "lan0", lan(pkt4(HOST4, A4.host, "o1"), O))
    b.drop(R, "LAN v6, protect", "lan0", lan(pkt6(HOST6, A6.host, "o2"), O))
    b.drop(R, "LAN v4, bypass", "lan0", lan(pkt4(HOST4, FAR4, "o3"), O))
    b.drop(R, "LAN v6, bypass", "lan0", lan(pkt6(HOST6, FAR6, "o4"), O))
    b.drop(R, "LAN echo to the gateway", "lan0", lan(pkt4(HOST4, LAN4, "o5", echo=True), O))
    b.drop(R, "LAN ARP request for the gateway", "lan0",
           arp_request("02:00:00:00:01:21", "10.1.0.21", LAN4, O, "o6"),
           keys=[("arp", "10.1.0.21")])
    b.drop(R, "LAN NS for the gateway", "lan0",
           neighbor_solicit("2001:db8:1::21", LAN6, sha="02:00:00:00:01:21", dst_mac=O),
           keys=[("nd", "2001:db8:1::21")])
    b.drop(R, "WAN ESP v4 (A4)", "wan0", wan(b.esp("A4", pkt4(A4.host, HOST4, "o7")), O))
    b.drop(R, "WAN ESP v6 (A6)", "wan0", wan(b.esp("A6", pkt6(A6.host, HOST6, "o8")), O))
    b.drop(R, "WAN v4 transit, bypass", "wan0", wan(pkt4(FAR4, HOST4, "o9"), O))
    b.drop(R, "WAN v6 transit, bypass", "wan0", wan(pkt6(FAR6, HOST6, "o10"), O))
    b.drop(R, "WAN ARP request for the gateway", "wan0",
           arp_request(NH4_MAC, "198.51.100.21", WAN4, O, "o11"),
           keys=[("arp", "198.51.100.21")])


def l2_group_unicast(b):
    T, R = b.T, "l2_group_unicast"
    A4, A6 = T["A4"], T["A6"]
    b.drop(R, "LAN v4 protect, broadcast MAC", "lan0",
           lan(pkt4(HOST4, A4.host, "g1"), BCAST_MAC))
    b.drop(R, "LAN v6 protect, multicast MAC", "lan0",
           lan(pkt6(HOST6, A6.host, "g2"), MCAST6_MAC))
    b.drop(R, "LAN v4 bypass, multicast MAC", "lan0", lan(pkt4(HOST4, FAR4, "g3"), MCAST4_MAC))
    b.drop(R, "LAN v6 bypass, broadcast MAC", "lan0", lan(pkt6(HOST6, FAR6, "g4"), BCAST_MAC))
    b.drop(R, "LAN echo v4 to the gateway, broadcast MAC", "lan0",
           lan(pkt4(HOST4, LAN4, "g5", echo=True), BCAST_MAC))
    b.drop(R, "LAN echo v6 to the gateway, multicast MAC", "lan0",
           lan(pkt6(HOST6, LAN6, "g6", echo=True), MCAST6_MAC))
    b.drop(R, "WAN ESP v4 (A4), broadcast MAC", "wan0",
           wan(b.esp("A4", pkt4(A4.host, HOST4, "g7")), BCAST_MAC))
    b.drop(R, "WAN ESP v4 (A64), multicast MAC", "wan0",
           wan(b.esp("A64", pkt6(T["A64"].host, HOST6, "g8")), MCAST4_MAC))
    b.drop(R, "WAN ESP v6 (A6), multicast MAC", "wan0",
           wan(b.esp("A6", pkt6(A6.host, HOST6, "g9")), MCAST6_MAC))
    b.drop(R, "WAN ESP v6 (A46), broadcast MAC", "wan0",
           wan(b.esp("A46", pkt4(T["A46"].host, HOST4, "g10")), BCAST_MAC))
    b.drop(R, "WAN v4 transit, broadcast MAC", "wan0", wan(pkt4(FAR4, HOST4, "g11"), BCAST_MAC))
    b.drop(R, "WAN v6 transit, multicast MAC", "wan0",
           wan(pkt6(FAR6, HOST6, "g12"), MCAST6_MAC))


def source_route(b):
    T, R = b.T, "source_route"
    A4, A6 = T["A4"], T["A6"]
    rh0 = routing(0, 2, RH_ADDRS)
    b.drop(R, "WAN ESP v6 (A6) behind RH0 segments left 2", "wan0",
           wan(b.esp("A6", pkt6(A6.host, HOST6, "s1"), ext=[rh0])))
    b.drop(R, "WAN ESP v6 (A46) behind RH type 4 segments left 1", "wan0",
           wan(b.esp("A46", pkt4(T["A46"].host, HOST4, "s2"), ext=[routing(4, 1, RH_ADDRS)])))
    b.drop(R, "WAN ESP v6 (A6) behind RH type 253 segments left 1", "wan0",
           wan(b.esp("A6", pkt6(A6.host, HOST6, "s3"), ext=[routing(253, 1, RH_ADDRS)])))
    b.drop(R, "WAN ESP v4 (A4) with LSRR", "wan0",
           wan(b.esp("A4", pkt4(A4.host, HOST4, "s4"), opts=route_opt(131))))
    b.drop(R, "WAN ESP v4 (A64) with SSRR", "wan0",
           wan(b.esp("A64", pkt6(T["A64"].host, HOST6, "s5"), opts=route_opt(137))))
    b.drop(R, "LAN v6 RH0 segments left 2, bypass", "lan0",
           lan(pkt6(HOST6, FAR6, "s6", ext=[rh0])))
    b.drop(R, "LAN v6 RH0 segments left 2, protect", "lan0",
           lan(pkt6(HOST6, A6.host, "s7", ext=[rh0])))
    b.drop(R, "LAN v4 LSRR, bypass", "lan0", lan(pkt4(HOST4, FAR4, "s8", opts=route_opt(131))))
    b.drop(R, "LAN v4 SSRR, protect", "lan0",
           lan(pkt4(HOST4, A4.host, "s9", opts=route_opt(137))))
    b.drop(R, "LAN echo to the gateway behind RH type 4 segments left 1", "lan0",
           lan(pkt6(HOST6, LAN6, "s15", echo=True, ext=[routing(4, 1, RH_ADDRS)])))
    b.drop(R, "WAN v6 transit RH0 segments left 2, bypass", "wan0",
           wan(pkt6(FAR6, HOST6, "s10", ext=[rh0])))
    b.drop(R, "WAN v4 transit LSRR, bypass", "wan0",
           wan(pkt4(FAR4, HOST4, "s11", opts=route_opt(131))))
    b.drop(R, "WAN v4 transit SSRR, bypass", "wan0",
           wan(pkt4(FAR4, HOST4, "s12", opts=route_opt(137))))
    b.drop(R, "inner v4 of A4 with LSRR", "wan0",
           wan(b.esp("A4", pkt4(A4.host, HOST4, "s13", opts=route_opt(131)))), sa="A4")
    b.drop(R, "inner v6 of A6 with RH0 segments left 2", "wan0",
           wan(b.esp("A6", pkt6(A6.host, HOST6, "s14", ext=[rh0]))), sa="A6")


def ipv6_option(b):
    T, R = b.T, "ipv6_option"
    A6 = T["A6"]
    for i, ot in enumerate((0x8b, 0x4b)):
        b.drop(R, "WAN ESP v6 (A6) behind option 0x%02x" % ot, "wan0",
               wan(b.esp("A6", pkt6(A6.host, HOST6, "v%d" % i), ext=[dest_opt(ot)])))
    b.drop(R, "WAN ESP v6 (A46) behind option 0xcb", "wan0",
           wan(b.esp("A46", pkt4(T["A46"].host, HOST4, "v3"), ext=[dest_opt(0xcb)])))
    b.drop(R, "WAN ESP v6 (A6) behind hop-by-hop and option 0x8b", "wan0",
           wan(b.esp("A6", pkt6(A6.host, HOST6, "v4"), ext=[hop_by_hop(), dest_opt(0x8b)])))
    b.drop(R, "LAN echo to the gateway behind option 0x8b", "lan0",
           lan(pkt6(HOST6, LAN6, "v5", echo=True, ext=[dest_opt(0x8b)])))


def martian_src(b):
    T, R = b.T, "martian_src"
    A4, A6 = T["A4"], T["A6"]
    for s in ("0.0.0.0", "127.0.0.1", "224.0.0.5", "240.0.0.1", "255.255.255.255"):
        b.drop(R, "LAN v4 from %s, bypass" % s, "lan0", lan(pkt4(s, FAR4, "m-" + s)))
        b.drop(R, "WAN v4 from %s, bypass" % s, "wan0", wan(pkt4(s, HOST4, "mw-" + s)))
    b.drop(R, "LAN v4 from the subnet broadcast 10.1.0.255, protect", "lan0",
           lan(pkt4("10.1.0.255", A4.host, "m1")))
    b.drop(R, "WAN v4 from 10.1.0.255, bypass", "wan0", wan(pkt4("10.1.0.255", HOST4, "m2")))
    b.drop(R, "WAN v4 from wan0's subnet broadcast 198.51.100.255, bypass", "wan0",
           wan(pkt4("198.51.100.255", HOST4, "m3")))
    for s in ("::1", "ff02::1", "::ffff:10.1.0.10", "::"):
        b.drop(R, "LAN v6 from %s, bypass" % s, "lan0", lan(pkt6(s, FAR6, "m6-" + s)))
        b.drop(R, "WAN v6 from %s, bypass" % s, "wan0", wan(pkt6(s, HOST6, "mw6-" + s)))
    b.drop(R, "WAN ESP v4 (A4) from 127.0.0.1", "wan0",
           wan(b.esp("A4", pkt4(A4.host, HOST4, "m4"), src="127.0.0.1")))
    b.drop(R, "WAN ESP v6 (A6) from ::1", "wan0",
           wan(b.esp("A6", pkt6(A6.host, HOST6, "m5"), src="::1")))
    b.drop(R, "inner v4 of A4 from 127.0.0.1", "wan0",
           wan(b.esp("A4", pkt4("127.0.0.1", HOST4, "m7", dport=ODD))), sa="A4")
    b.drop(R, "inner v4 of A4 from 10.1.0.255", "wan0",
           wan(b.esp("A4", pkt4("10.1.0.255", HOST4, "m8", dport=ODD))), sa="A4")
    b.drop(R, "inner v6 of A6 from ff02::1", "wan0",
           wan(b.esp("A6", pkt6("ff02::1", HOST6, "m9", dport=ODD))), sa="A6")


def own_src(b):
    T, R = b.T, "own_src"
    A4, A6 = T["A4"], T["A6"]
    b.drop(R, "LAN v4 from 10.1.0.1, protect", "lan0", lan(pkt4(LAN4, A4.host, "w1")))
    b.drop(R, "LAN v4 from 10.1.0.1 TTL 1, bypass (no time exceeded)", "lan0",
           lan(pkt4(LAN4, FAR4, "w2", ttl=1)))
    b.drop(R, "LAN v4 from 198.51.100.1, bypass", "lan0", lan(pkt4(WAN4, FAR4, "w3")))
    b.drop(R, "LAN echo from 10.1.0.1 to 10.1.0.1", "lan0",
           lan(pkt4(LAN4, LAN4, "w4", echo=True)))
    b.drop(R, "LAN v6 from 2001:db8:1::1, protect", "lan0", lan(pkt6(LAN6, A6.host, "w5")))
    b.drop(R, "LAN v6 from 2001:db8:100::1 hop limit 1, bypass", "lan0",
           lan(pkt6(WAN6, FAR6, "w6", hlim=1)))
    b.drop(R, "LAN echo from lan0's link-local to 2001:db8:1::1", "lan0",
           lan(pkt6(LAN_LL, LAN6, "w7", echo=True)))
    b.drop(R, "LAN from lan0's link-local hop limit 1, bypass (before link_local)", "lan0",
           lan(pkt6(LAN_LL, FAR6, "w8", hlim=1)))
    b.drop(R, "WAN v4 from 10.1.0.1, bypass", "wan0", wan(pkt4(LAN4, HOST4, "w9")))
    b.drop(R, "WAN v4 from 198.51.100.1 TTL 1, bypass", "wan0",
           wan(pkt4(WAN4, HOST4, "w10", ttl=1)))
    b.drop(R, "WAN echo from 198.51.100.1 to 198.51.100.1", "wan0",
           wan(pkt4(WAN4, WAN4, "w11", echo=True)))
    b.drop(R, "WAN v6 from 2001:db8:1::1, bypass", "wan0", wan(pkt6(LAN6, HOST6, "w12")))
    b.drop(R, "WAN v6 from 2001:db8:100::1, bypass", "wan0", wan(pkt6(WAN6, HOST6, "w13")))
    b.drop(R, "WAN echo from wan0's link-local to 2001:db8:100::1", "wan0",
           wan(pkt6(WAN_LL, WAN6, "w14", echo=True)))
    b.drop(R, "WAN ESP v4 (A4) from 198.51.100.1", "wan0",
           wan(b.esp("A4", pkt4(A4.host, HOST4, "w15"), src=WAN4)))
    b.drop(R, "WAN ESP v6 (A6) from 2001:db8:100::1", "wan0",
           wan(b.esp("A6", pkt6(A6.host, HOST6, "w16"), src=WAN6)))
    b.drop(R, "inner v4 of A4 from 10.1.0.1", "wan0",
           wan(b.esp("A4", pkt4(LAN4, HOST4, "w17", dport=ODD))), sa="A4")
    b.drop(R, "inner v6 of A6 from 2001:db8:1::1", "wan0",
           wan(b.esp("A6", pkt6(LAN6, HOST6, "w18", dport=ODD))), sa="A6")


def martian_dst(b):
    T, R = b.T, "martian_dst"
    A4, A6 = T["A4"], T["A6"]
    for d in ("0.0.0.1", "127.0.0.1", "240.0.0.1"):
        b.drop(R, "LAN v4 to %s, bypass" % d, "lan0", lan(pkt4(HOST4, d, "d-" + d)))
        b.drop(R, "WAN v4 to %s, bypass" % d, "wan0", wan(pkt4(FAR4, d, "dw-" + d)))
    for d in ("::1", "::ffff:10.2.0.5", "::", "ff00::1", "ff01::1"):
        b.drop(R, "LAN v6 to %s, bypass" % d, "lan0", lan(pkt6(HOST6, d, "d6-" + d)))
    for d in ("::1", "::ffff:10.2.0.5", "ff01::1"):
        b.drop(R, "WAN v6 to %s, bypass" % d, "wan0", wan(pkt6(FAR6, d, "dw6-" + d)))
    b.drop(R, "inner v4 of A4 to 127.0.0.1", "wan0",
           wan(b.esp("A4", pkt4(A4.host, "127.0.0.1", "d1", dport=ODD))), sa="A4")
    b.drop(R, "inner v6 of A6 to ::1", "wan0",
           wan(b.esp("A6", pkt6(A6.host, "::1", "d2", dport=ODD))), sa="A6")


def bcast_mcast_dst(b):
    T, R = b.T, "bcast_mcast_dst"
    A4 = T["A4"]
    b.drop(R, "LAN to 255.255.255.255, broadcast MAC", "lan0",
           lan(pkt4(HOST4, "255.255.255.255", "b1"), BCAST_MAC))
    b.drop(R, "LAN to 255.255.255.255, unicast MAC", "lan0",
           lan(pkt4(HOST4, "255.255.255.255", "b2")))
    b.drop(R, "LAN to wan0's subnet broadcast 198.51.100.255", "lan0",
           lan(pkt4(HOST4, "198.51.100.255", "b3")))
    b.drop(R, "LAN to 224.0.0.251, multicast MAC", "lan0",
           lan(pkt4(HOST4, "224.0.0.251", "b4"), "01:00:5e:00:00:fb"))
    b.drop(R, "LAN to 239.1.1.1, unicast MAC", "lan0", lan(pkt4(HOST4, "239.1.1.1", "b5")))
    b.drop(R, "WAN to 255.255.255.255, broadcast MAC", "wan0",
           wan(pkt4(FAR4, "255.255.255.255", "b6"), BCAST_MAC))
    b.drop(R, "WAN to lan0's subnet broadcast 10.1.0.255", "wan0",
           wan(pkt4(FAR4, "10.1.0.255", "b7")))
    b.drop(R, "WAN to 10.1.0.255, broadcast MAC", "wan0",
           wan(pkt4(FAR4, "10.1.0.255", "b8"), BCAST_MAC))
    b.drop(R, "WAN to 224.0.0.251, multicast MAC", "wan0",
           wan(pkt4(FAR4, "224.0.0.251", "b9"), "01:00:5e:00:00:fb"))
    b.drop(R, "WAN to 239.1.1.1, unicast MAC", "wan0", wan(pkt4(FAR4, "239.1.1.1", "b10")))
    for i, d in enumerate(("239.1.1.1", "255.255.255.255", "10.1.0.255")):
        b.drop(R, "inner v4 of A4 to %s" % d, "wan0",
               wan(b.esp("A4", pkt4(A4.host, d, "bi%d" % i, dport=ODD))), sa="A4")


def link_local(b):
    T, R = b.T, "link_local"
    A4, A6 = T["A4"], T["A6"]
    b.drop(R, "LAN v4 from 169.254.1.1, bypass", "lan0", lan(pkt4("169.254.1.1", FAR4, "l1")))
    b.drop(R, "LAN v4 to 169.254.1.1, bypass", "lan0", lan(pkt4(HOST4, "169.254.1.1", "l2")))
    b.drop(R, "LAN v6 from fe80::1 to a global address, bypass", "lan0",
           lan(pkt6("fe80::1", FAR6, "l3")))
    b.drop(R, "LAN v6 from fe80::1 to A6's net, bypass", "lan0",
           lan(pkt6("fe80::1", A6.host, "l4")))
    b.drop(R, "WAN v4 from 169.254.1.1, bypass", "wan0", wan(pkt4("169.254.1.1", HOST4, "l5")))
    b.drop(R, "WAN v4 to 169.254.1.1, bypass", "wan0", wan(pkt4(FAR4, "169.254.1.1", "l6")))
    b.drop(R, "WAN v6 from fe80::1 to the LAN host, bypass", "wan0",
           wan(pkt6("fe80::1", HOST6, "l7")))
    b.drop(R, "inner v4 of A4 from 169.254.1.1", "wan0",
           wan(b.esp("A4", pkt4("169.254.1.1", HOST4, "l8", dport=ODD))), sa="A4")
    b.drop(R, "inner v4 of A4 to 169.254.1.1", "wan0",
           wan(b.esp("A4", pkt4(A4.host, "169.254.1.1", "l9", dport=ODD))), sa="A4")
    b.drop(R, "inner v6 of A6 from fe80::1", "wan0",
           wan(b.esp("A6", pkt6("fe80::1", HOST6, "l10", dport=ODD))), sa="A6")


# ---------------------------------------------------------------- running, judging
def run_cases(book, cases):
    lan_in = [c.frame for c in cases if c.port == "lan0"]
    wan_in = [c.frame for c in cases if c.port == "wan0"]
    return harness.run(book.conf, lan=lan_in, wan=wan_in)


def esp_open(book, frame):
    """(tunnel name, inner bytes) of an ESP frame of one of our outbound SAs, else None."""
    spi = harness.esp_spi(frame)
    if spi not in book.by_spi:
        return None
    k = book.by_spi[spi]
    off = 14 + (frame[14] & 0xf) * 4 if frame[14] >> 4 == 4 else 14 + 40
    try:
        return k, book.T[k].out_sa.open(frame[off:]).payload
    except (ValueError, IcvError) as e:
        return k, repr(e).encode()


def whose(book, frame):
    """The key naming the case a frame out came from: ("tag", label) from the
    label in its payload (decrypted when it is ESP of ours), ("arp", target) of an
    ARP reply, ("nd", destination) of a neighbor advertisement; None if none."""
    e = Ether(frame)
    if e.type == 0x0806:
        a = e[ARP]
        return ("arp", a.pdst) if a.op == 2 else None
    data = frame
    opened = esp_open(book, frame)
    if opened is not None:
        data = opened[1]
    m = TAG_RE.search(data)
    if m:
        return ("tag", m.group(1).decode())
    if e.type == 0x86dd and ICMPv6ND_NA in e:
        return ("nd", e[IPv6].dst)
    return None


def sort_out(book, cases, res):
    """{case label: [(port, frame)]} of the frames out, and the frames no case claims."""
    names = {}
    for c in cases:
        for k in c.keys:
            names[k] = c.label
    got, stray = collections.defaultdict(list), []
    for port in ("lan0", "wan0"):
        for f in res.out[port]:
            label = names.get(whose(book, f))
            if label is None:
                stray.append((port, Ether(f).summary()))
            else:
                got[label].append((port, f))
    return got, stray


def want_drops(cases):
    return dict(collections.Counter(c.rule for c in cases))


class Mod:
    pass


@pytest.fixture(scope="module")
def mod():
    m = Mod()
    m.book = build()
    m.runs = {}
    m.budget = [PINPOINT_RUNS]
    return m


def result(mod, which):
    """The run of the controls or of all the cases to drop (each run once, when first needed)."""
    if which not in mod.runs:
        cases = mod.book.controls if which == "controls" else mod.book.drops
        res = run_cases(mod.book, cases)
        got, stray = sort_out(mod.book, cases, res)
        mod.runs[which] = (res, got, stray)
    return mod.runs[which]


def frames_equal(got, want):
    """Exact bytes, tolerating zero Ethernet padding up to 60 bytes."""
    return got == want or (len(got) == 60 and len(want) < 60 and got[:len(want)] == want
                           and got[len(want):] == bytes(60 - len(want)))


def check_control(book, c, out):
    """The frames out of control case c are exactly what it wants, or why not."""
    if len(out) != len(c.want):
        return "%d frames out (%s), expected %d" % (
            len(out), [(p, Ether(f).summary()) for p, f in out], len(c.want))
    for (port, f), (wport, kind, exp) in zip(out, c.want):
        if port != wport:
            return "came out of %s, expected %s" % (port, wport)
        try:
            if kind == "esp":
                tname, inner = exp
                d = harness.Decap(f, book.T[tname])
                assert d.inner == inner, "inner packet\n got  %s\n want %s" % (
                    d.inner.hex(), inner.hex())
            elif kind == "clear":
                harness.clear_frame_check(f, exp, port)
            else:
                assert frames_equal(f, exp), "frame\n got  %s\n want %s" % (f.hex(), exp.hex())
        except AssertionError as e:
            return str(e)
    return None


# ---------------------------------------------------------------- the controls (pass today)
def test_controls_exact_output(mod):
    """Each control case's frames, exact, and nothing else out of either port;
    then the plan's exactness (harness.Plan.check_clear) over all clear frames."""
    book = mod.book
    res, got, stray = result(mod, "controls")
    bad = {c.label: check_control(book, c, got.get(c.label, [])) for c in book.controls}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad and not stray, "control cases that broke:\n  %s\nframes of no case: %s" % (
        "\n  ".join("%s: %s" % kv for kv in bad.items()), stray)
    p = harness.Plan()
    for c in book.controls:
        for port, kind, exp in c.want:
            if kind == "clear":
                (p.to_lan if port == "lan0" else p.to_wan).append(exp)
    ctl = [f for f in res.out["lan0"] if Ether(f).type == 0x0806 or ICMPv6ND_NA in Ether(f)]
    clear = harness.Result({"lan0": [f for f in res.out["lan0"] if f not in ctl],
                            "wan0": res.out["wan0"]}, res.stats, res.workdir)
    p.check_clear(clear)


def test_controls_counters(mod):
    """Exact totals: only the TTL-1 packet of the LAN host is dropped (ttl_exceeded);
    ARP, the two NS and the five echo requests went to the control path, which
    answered each: on the link, or (the two out of tunnels) through worker 0's
    outbound path, which encrypted and sent them; the rest was transmitted by
    the workers."""
    book = mod.book
    res = result(mod, "controls")[0]
    st = res.stats
    harness.assert_drops(st, ttl_exceeded=1)
    n_ctl, n_link = 8, 6  # handed to the control path; answered by it on the link
    n_tx = sum(1 for c in book.controls for w in c.want) - n_link - 1  # less time exceeded
    harness.assert_totals(st, rx=len(book.controls), tx=n_tx, drops=1, to_ctl=n_ctl)
    ctl = st["control"]
    got = {k: ctl[k] for k in ("arp_reply_tx", "na_tx", "echo_reply", "time_exceeded",
                                "injected")}
    assert got == {"arp_reply_tx": 1, "na_tx": 2, "echo_reply": 5, "time_exceeded": 1,
                   "injected": 2}, ctl
    for k, t in book.T.items():
        assert st["sa"][t.in_name]["errors"] == 0, (k, st["sa"][t.in_name])


# ---------------------------------------------------------------- the cases to drop
@pytest.mark.parametrize("rule", RULES)
def test_nothing_comes_out(mod, rule):
    """No frame of this rule's cases leaves either port: not forwarded, encrypted,
    delivered, answered, nor reported in an ICMP error."""
    book = mod.book
    res, got, stray = result(mod, "drops")
    cases = [c for c in book.drops if c.rule == rule]
    leaked = ["%s -> %s: %s" % (c.label, port, Ether(f).summary())
              for c in cases for port, f in got.get(c.label, [])]
    assert not leaked, "%d of %d %s cases came out:\n  %s" % (
        len({x.split(" -> ")[0] for x in leaked}), len(cases), rule, "\n  ".join(leaked))


def test_nothing_else_comes_out(mod):
    """Not even frames no case claims (ARP or ND to resolve a destination, errors)."""
    _, _, stray = result(mod, "drops")
    assert not stray, "frames out of the drop run that name no case: %s" % stray


def pinpoint(mod, cases):
    """Bisect cases in runs of their own (at most mod.budget runs): the ones that,
    alone, do not end in their own drop counter with nothing out, with what they got."""
    found, unknown = [], []

    def ok(sub):
        res = run_cases(mod.book, sub)
        out = {p: len(f) for p, f in res.out.items() if f}
        return res.drops() == want_drops(sub) and not out, res.drops(), out

    def walk(sub):
        if mod.budget[0] <= 0:
            unknown.extend(c.label for c in sub)
            return
        mod.budget[0] -= 1
        good, drops, out = ok(sub)
        if good:
            return
        if len(sub) == 1:
            found.append("%s: drops %s, frames out %s" % (sub[0].label, drops, out))
            return
        walk(sub[:len(sub) // 2])
        walk(sub[len(sub) // 2:])

    if len(cases) == 1:
        walk(cases)
    else:
        walk(cases[:len(cases) // 2])
        walk(cases[len(cases) // 2:])
    return found, unknown


@pytest.mark.parametrize("rule", RULES)
def test_drop_counter(mod, rule):
    """The rule's counter counts exactly its cases; when it does not, the cases
    that broke are named (bisected in runs of their own)."""
    assert rule in harness.DROP_REASONS, \
        "drop reason %r unknown to lib/stats/espgw_drop.h under ESPGW_SRC=%s" % (
            rule, harness.SRC)
    book = mod.book
    st = result(mod, "drops")[0].stats
    cases = [c for c in book.drops if c.rule == rule]
    n = st["drops"][rule]
    if n == len(cases):
        return
    found, unknown = pinpoint(mod, cases)
    msg = "%s counted %d, expected %d (one per case)" % (rule, n, len(cases))
    if found:
        msg += "\ncases that, run alone, do not end as %s with nothing out:\n  %s" % (
            rule, "\n  ".join(found))
    elif not unknown:
        msg += "\nevery %s case, run alone, ends right: the difference comes from cases " \
               "of other rules (see their failures)" % rule
    if unknown:
        msg += "\nnot bisected (PINPOINT_RUNS spent): %s" % unknown
    msg += "\nall drops of the run: %s" % {k: v for k, v in st["drops"].items() if v}
    raise AssertionError(msg)


def test_drops_exact(mod):
    """The run's drop counters, totals and control path: every frame dropped by a
    worker under its rule, none handed to the control path, none transmitted."""
    book = mod.book
    st = result(mod, "drops")[0].stats
    harness.assert_drops(st, **want_drops(book.drops))
    n = len(book.drops)
    harness.assert_totals(st, rx=n, tx=0, drops=n, to_ctl=0)
    ctl = st["control"]
    assert ctl["in"] == 0 and ctl["ttl_reports"] == 0 and ctl["tx"] == 0, ctl


def test_inner_drops_are_sa_errors(mod):
    """A decrypted inner packet refused by a rule is an error of its SA; a frame
    refused before its SA was looked up is not; nothing reached an outbound SA."""
    book = mod.book
    st = result(mod, "drops")[0].stats
    want = collections.Counter(c.sa for c in book.drops if c.sa)
    for k, t in book.T.items():
        assert st["sa"][t.in_name]["errors"] == want.get(k, 0), \
            "%s errors %d, expected %d (%s)" % (t.in_name, st["sa"][t.in_name]["errors"],
                                                want.get(k, 0),
                                                [c.label for c in book.drops if c.sa == k])
        assert st["sa"][t.out_name]["pkts"] == 0, (t.out_name, st["sa"][t.out_name])
