#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpora for the fuzzers, written under tests/fuzz/corpus/ (committed;
rerun after changing pkt.conf or this file, with Debian's /usr/bin/python3).

corpus/pkt: frames for fuzz_pkt in its input format (FLAGS LEN_HI LEN_LO
BYTES, repeated; FLAGS bit 0 = received on the protected port, bit 1 = an
inner packet for the harness to seal for SA i1, bit 2 = for i6). ESP frames
are sealed with the keys read from pkt.conf by tests/pkt/espcodec.py (the
packet suite's codec, itself checked against scapy and tshark by
test_oracle.py), so they decrypt in the harness and the fuzzer starts beyond
the ICV check. Fixed IVs: the output is the same on every run.

corpus/conf: the example configs, pkt.conf, the broken example, and commands
covering every keyword (valid and invalid) after a base config that defines
what they refer to; plus commands as NUL-separated words (fuzz_conf's argv
mode).

    gen_seeds.py                           regenerate both corpora
    gen_seeds.py --from-pcap lan|wan PCAP  add the frames of a pcap (e.g. one the
                                           packet suite wrote) as pkt seeds
"""

import argparse
import ipaddress
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "pkt"))

import espcodec  # noqa: E402  (after the path change)
from scapy.layers.inet import IP, UDP, TCP, ICMP, fragment  # noqa: E402
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,  # noqa: E402
                                IPv6ExtHdrFragment, IPv6ExtHdrRouting, ICMPv6EchoRequest,
                                ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6NDOptSrcLLAddr, ICMPv6ND_RA,
                                fragment6)
from scapy.layers.l2 import ARP, Dot1Q, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import rdpcap  # noqa: E402

PKT_CONF = os.path.join(HERE, "pkt.conf")
CORPUS = os.path.join(HERE, "corpus")
LAN_HOST4, LAN_HOST6 = "10.1.0.10", "2001:db8:a::10"
HOST_MAC, NH_MAC = "02:00:00:00:01:10", "02:00:00:00:02:fe"
PROTECTED, SEAL, SEAL6, RAW = 1, 2, 4, 8  # fuzz_pkt FLAGS
FOREIGN_MAC = "02:00:00:00:99:99"


# ---------------------------------------------------------------- pkt.conf
def commands(path):
    """Token lists of the commands in a config file (comments, continuations)."""
    cmd = []
    for line in open(path):
        line = line.split("#", 1)[0].rstrip()
        cont = line.endswith("\\")
        cmd += line.rstrip("\\").split()
        if not cont and cmd:
            yield cmd
            cmd = []


def opts(tokens):
    """'name value' pairs after 'OBJ add NAME' (flags do not occur in pkt.conf)."""
    return dict(zip(tokens[0::2], tokens[1::2]))


def unhex(v):
    return bytes.fromhex(v[2:])


class Sa:
    def __init__(self, name, o):
        self.name, self.dir, self.spi = name, o["dir"], int(o["spi"], 0)
        self.local, self.remote = o["local"], o["remote"]
        self.esn = o.get("esn") == "on"
        if "aead" in o:
            suite = o["aead"]
        elif "cipher" in o:
            suite = "%s+%s" % (o["cipher"], o["auth"])
        else:
            suite = o["auth"]
        salt = unhex(o["salt"]) if "salt" in o else b""
        key = unhex(o["key"]) if "key" in o else b""
        akey = unhex(o["auth-key"]) if "auth-key" in o else b""
        self.codec = espcodec.EspSA(self.spi, suite, esn=self.esn, key=key, salt=salt,
                                    auth_key=akey)
        self.src_net = self.dst_net = None

    @property
    def outer6(self):
        return ":" in self.local


def load_conf():
    ports, sas = {}, {}
    for c in commands(PKT_CONF):
        if c[:2] == ["port", "add"]:
            o = opts(c[3:])
            ports[o["role"]] = o["mac"]
        elif c[:2] == ["sa", "add"]:
            sas[c[2]] = Sa(c[2], opts(c[3:]))
        elif c[:2] == ["sp", "add"] and "protect" in c:
            o = opts(c[3:])
            sa = sas[o["protect"]]
            sa.src_net = ipaddress.ip_network(o["src"])
            sa.dst_net = ipaddress.ip_network(o["dst"])
    return ports, sas


# ---------------------------------------------------------------- frames
def inner(src, dst, l4="udp", size=32, **ip):
    v6 = ":" in src
    hdr = IPv6(src=src, dst=dst, **ip) if v6 else IP(src=src, dst=dst, **ip)
    l4p = {"udp": UDP(sport=40000, dport=5001),
           "tcp": TCP(sport=40001, dport=5002, flags="PA", seq=1000),
           "icmp": ICMPv6EchoRequest(id=7, seq=1) if v6 else ICMP(type=8, id=7, seq=1)}[l4]
    return hdr / l4p / Raw(bytes((i * 7 + 3) & 0xff for i in range(size)))


BAD_PAD = object()


def bad_padding(sa, payload_len):
    """Padding of the right length (RFC 4303 2.4 alignment) whose bytes are not 1, 2, 3..."""
    n = (-(payload_len + 2)) % sa.codec.align
    if n < 2:
        n += sa.codec.align
    return bytes([2, 1] + list(range(3, n + 1)))


def host(net, n=5):
    return str(net.network_address + n)


class Gen:
    def __init__(self):
        self.ports, self.sas = load_conf()
        self.lan_mac = self.ports["protected"]
        self.wan_mac = self.ports["unprotected"]
        self.n = 0

    # -- L2
    def wan(self, l3):
        return bytes(Ether(src=NH_MAC, dst=self.wan_mac) / l3)

    def lan(self, l3):
        return bytes(Ether(src=HOST_MAC, dst=self.lan_mac) / l3)

    # -- ESP from the peer
    def outer(self, sa, **kw):
        if sa.outer6:
            return IPv6(src=sa.remote, dst=sa.local, nh=50, **kw)
        return IP(src=sa.remote, dst=sa.local, proto=50, **kw)

    def esp(self, sa, seq=1, pkt=None, outer_kw=None, **seal):
        """The bytes of a WAN frame: outer / ESP of sa carrying pkt (default: a
        UDP packet its inbound policy allows)."""
        if pkt is None:
            pkt = inner(host(sa.src_net), LAN_HOST6 if sa.src_net.version == 6 else LAN_HOST4)
        b = bytes(pkt)
        if seal.get("padding") is BAD_PAD:
            seal["padding"] = bad_padding(sa, len(b))
        nh = seal.pop("nh", espcodec.NH_IPV4 if b[0] >> 4 == 4 else espcodec.NH_IPV6)
        iv = bytes((seq + i) & 0xff for i in range(sa.codec.iv_len))
        body = sa.codec.seal(b, nh, seq, iv=iv, **seal)
        return self.wan(self.outer(sa, **(outer_kw or {})) / Raw(body))

    def plain(self, sa, l4="udp", size=32, **ip):
        """A LAN frame its outbound policy protects with sa."""
        src = LAN_HOST6 if sa.src_net.version == 6 else LAN_HOST4
        return self.lan(inner(src, host(sa.dst_net), l4, size, **ip))

    def by_dir(self, d):
        """SAs of direction d that a policy uses (not the harness's sealing twins)."""
        return [s for s in self.sas.values() if s.dir == d and s.src_net is not None]


def record(frames):
    """fuzz_pkt input from (flags, bytes) pairs; flags True/False: protected port or not."""
    out = b""
    for flags, f in frames:
        flags = {True: PROTECTED, False: 0}.get(flags, flags)
        out += struct.pack("!BH", flags, len(f)) + f
    return out


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pkt_inbound(g):
    """(name, frames) seeds received on the unprotected port."""
    s = g.sas
    i1, i2, i3, i4, i5, i6 = (s["i%d" % k] for k in range(1, 7))
    seeds = []
    for sa in g.by_dir("in"):
        seeds.append(("in-%s-valid" % sa.name, [g.esp(sa)]))
        seeds.append(("in-%s-tcp" % sa.name, [g.esp(sa, seq=2, pkt=inner(
            host(sa.src_net), LAN_HOST6 if sa.src_net.version == 6 else LAN_HOST4, "tcp"))]))
        bad = bytearray(g.esp(sa, seq=3))
        bad[-1] ^= 0x40
        seeds.append(("in-%s-icv" % sa.name, [bytes(bad)]))
        seeds.append(("in-%s-bad-padding" % sa.name, [g.esp(sa, seq=4, padding=BAD_PAD)]))
        seeds.append(("in-%s-bad-nh" % sa.name, [g.esp(sa, seq=5, nh=59)]))
        seeds.append(("in-%s-pad-len" % sa.name, [g.esp(sa, seq=6, pad_len=250)]))
    seeds += [
        ("in-i1-burst", [g.esp(i1, seq=k) for k in range(1, 9)]),
        ("in-i3-replay", [g.esp(i3, seq=k) for k in (10, 9, 10, 2000, 5, 2001)]),
        ("in-i4-replay-wrap", [g.esp(i4, seq=k) for k in (1, 64, 65, 1, 200, 137)]),
        ("in-i3-esn-high", [g.esp(i3, seq=(1 << 32) + 3)]),
        ("in-i2-big", [g.esp(i2, pkt=inner(host(i2.src_net), LAN_HOST6, size=1300))]),
        ("in-i1-too-big", [g.esp(i1, pkt=inner(host(i1.src_net), LAN_HOST4, size=1700))]),
        ("in-i1-ttl1", [g.esp(i1, pkt=inner(host(i1.src_net), LAN_HOST4, ttl=1))]),
        ("in-i1-ce-not-ect", [g.esp(i1, outer_kw=dict(tos=3))]),
        ("in-i1-ce-ect0", [g.esp(i1, pkt=inner(host(i1.src_net), LAN_HOST4, tos=2),
                                 outer_kw=dict(tos=3))]),
        ("in-i6-ce-ect1", [g.esp(i6, pkt=inner(host(i6.src_net), LAN_HOST6, tc=1),
                                 outer_kw=dict(tc=3))]),
        ("in-i1-wrong-inner", [g.esp(i1, pkt=inner("10.3.0.5", LAN_HOST4))]),
        ("in-i1-inner-garbage", [g.esp(i1, pkt=Raw(b"\x45" + bytes(30)))]),
        ("in-i1-inner-v6-in-v4-sa", [g.esp(i1, pkt=inner("2001:db8:b::5", LAN_HOST6))]),
        ("in-i5-misaligned", [g.wan(g.outer(i5) / Raw(g.esp(i5)[14 + 20:][:-1]))]),
        ("in-i2-misaligned", [g.wan(g.outer(i2) / Raw(g.esp(i2)[14 + 40:][:-5]))]),
        ("in-esp-short", [g.wan(g.outer(i1) / Raw(struct.pack("!II", i1.spi, 1)))]),
        ("in-esp-hdr-only", [g.wan(g.outer(i1) / Raw(struct.pack("!I", i1.spi)))]),
        ("in-esp-unknown-spi", [g.esp(i1, spi=0x9999)]),
        ("in-esp-outbound-spi", [g.esp(i1, spi=0x1001)]),
        ("in-i3-wrong-src", [g.wan(IPv6(src="2001:db8:200::2", dst=i3.local, nh=50) /
                                   Raw(g.esp(i3)[14 + 40:]))]),
        ("in-i1-ipv4-options", [g.wan(IP(src=i1.remote, dst=i1.local, proto=50,
                                         options=b"\x94\x04\x00\x00") /
                                      Raw(g.esp(i1)[14 + 20:]))]),
        ("in-i1-eth-padding", [g.esp(i1) + bytes(16)]),
        ("in-i1-fragment", [g.wan(IP(src=i1.remote, dst=i1.local, proto=50, flags="MF") /
                                  Raw(g.esp(i1)[14 + 20:][:40]))]),
        ("in-i2-ext-headers", [g.wan(IPv6(src=i2.remote, dst=i2.local) / IPv6ExtHdrHopByHop() /
                                     IPv6ExtHdrDestOpt(nh=50) / Raw(g.esp(i2)[14 + 40:]))]),
        ("in-i6-routing-hdr", [g.wan(IPv6(src=i6.remote, dst=i6.local) /
                                     IPv6ExtHdrRouting(nh=50) / Raw(g.esp(i6)[14 + 40:]))]),
        ("in-i2-frag-hdr", [g.wan(IPv6(src=i2.remote, dst=i2.local) /
                                  IPv6ExtHdrFragment(nh=50, m=1) / Raw(g.esp(i2)[14 + 40:]))]),
        ("in-clear-bypass", [g.wan(IP(src="192.0.2.5", dst=LAN_HOST4) / UDP(sport=53, dport=999))]),
        ("in-clear-discard", [g.wan(inner("192.0.2.5", LAN_HOST4, "tcp"))]),
        ("in-clear-must-be-esp", [g.wan(inner("10.2.0.5", LAN_HOST4))]),
        ("in-clear-no-policy", [g.wan(inner("8.8.8.8", LAN_HOST4))]),
        ("in-clear-no-neighbor", [g.wan(IP(src="192.0.2.5", dst="10.1.0.99") / UDP(sport=53))]),
        ("in-clear-icmpv6-bypass", [g.wan(inner("2001:db8:f::1", LAN_HOST6, "icmp"))]),
        ("in-clear-ttl1", [g.wan(IP(src="192.0.2.5", dst=LAN_HOST4, ttl=1) / UDP(sport=53))]),
        ("in-arp-request", [g.wan(ARP(op=1, hwsrc=NH_MAC, psrc="198.51.100.254",
                                      pdst="198.51.100.1"))]),
        ("in-arp-reply", [g.wan(ARP(op=2, hwsrc=NH_MAC, psrc="198.51.100.254",
                                    hwdst=g.wan_mac, pdst="198.51.100.1"))]),
        ("in-icmp-echo-gw", [g.wan(inner("203.0.113.9", "198.51.100.1", "icmp"))]),
        ("in-icmpv6-echo-gw", [g.wan(inner("2001:db8:200::9", "2001:db8:100::1", "icmp"))]),
        ("in-nd-ns", [bytes(Ether(src=NH_MAC, dst="33:33:ff:00:00:01") /
                            IPv6(src="2001:db8:100::fe", dst="ff02::1:ff00:1", hlim=255) /
                            ICMPv6ND_NS(tgt="2001:db8:100::1") /
                            ICMPv6NDOptSrcLLAddr(lladdr=NH_MAC))]),
        ("in-nd-na", [g.wan(IPv6(src="2001:db8:100::fe", dst="2001:db8:100::1", hlim=255) /
                            ICMPv6ND_NA(tgt="2001:db8:100::fe", R=1, S=1, O=1))]),
        ("in-nd-ra", [g.wan(IPv6(src="fe80::1", dst="ff02::1", hlim=255) / ICMPv6ND_RA())]),
        ("in-udp-gw", [g.wan(inner("203.0.113.9", "198.51.100.1"))]),
        ("in-ipv4-bad-len", [g.wan(IP(src="192.0.2.5", dst=LAN_HOST4, len=400) / UDP())]),
        ("in-ipv4-bad-ihl", [g.wan(IP(src="192.0.2.5", dst=LAN_HOST4, ihl=4) / UDP())]),
        ("in-ipv4-ihl15", [g.wan(IP(src="192.0.2.5", dst=LAN_HOST4, ihl=15) / UDP())]),
        ("in-ipv4-version6", [g.wan(IP(src="192.0.2.5", dst=LAN_HOST4, version=6) / UDP())]),
        ("in-ipv6-bad-plen", [g.wan(IPv6(src="2001:db8:f::1", dst=LAN_HOST6, plen=900) /
                                    UDP())]),
        ("in-ipv6-truncated", [g.wan(IPv6(src="2001:db8:f::1", dst=LAN_HOST6))[:40]]),
        ("in-eth-short", [bytes(Ether(dst=g.wan_mac))[:10]]),
        ("in-eth-only", [bytes(Ether(dst=g.wan_mac, type=0x800))]),
        ("in-empty", [b""]),
        ("in-vlan", [g.wan(Dot1Q(vlan=5) / IP(src="192.0.2.5", dst=LAN_HOST4) / UDP())]),
        ("in-lldp", [bytes(Ether(dst="01:80:c2:00:00:0e", type=0x88cc) / Raw(bytes(40)))]),
    ]
    return seeds


def pkt_fragments(g):
    """Outer ESP fragments addressed to the gateway (reassembled before decryption)."""
    i1, i2 = g.sas["i1"], g.sas["i2"]
    big4 = inner(host(i1.src_net), LAN_HOST4, size=600)
    big6 = inner(host(i2.src_net), LAN_HOST6, size=600)
    ip4 = IP(g.esp(i1, seq=20, pkt=big4)[14:])
    ip4.id = 4242
    f4 = [g.wan(f) for f in fragment(ip4, fragsize=256)]
    esp6 = g.esp(i2, seq=20, pkt=big6)[14 + 40:]
    ip6 = IPv6(src=i2.remote, dst=i2.local) / IPv6ExtHdrFragment(id=77, nh=50) / Raw(esp6)
    f6 = [g.wan(f) for f in fragment6(ip6, 400)]
    return [
        ("frag-i1", f4),
        ("frag-i1-reversed", f4[::-1]),
        ("frag-i1-dup", f4 + f4[:1]),
        ("frag-i1-missing", f4[:-1]),
        ("frag-i1-overlap", f4[:1] + [g.wan(IP(src=i1.remote, dst=i1.local, proto=50, id=4242,
                                               frag=16, flags="MF") / Raw(bytes(300)))] + f4[1:]),
        ("frag-i2-v6", f6),
        ("frag-i2-v6-reversed", f6[::-1]),
    ]


def pkt_outbound(g):
    """(name, frames) seeds received on the protected port."""
    s = g.sas
    o1, o2, o5 = s["o1"], s["o2"], s["o5"]
    seeds = []
    for sa in g.by_dir("out"):
        seeds.append(("out-%s-udp" % sa.name, [g.plain(sa)]))
        seeds.append(("out-%s-tcp" % sa.name, [g.plain(sa, "tcp")]))
        seeds.append(("out-%s-icmp" % sa.name, [g.plain(sa, "icmp", size=56)]))
    seeds += [
        ("out-o1-burst", [g.plain(o1, size=k) for k in range(0, 64, 8)]),
        ("out-o5-exhaust", [g.plain(o5, size=k) for k in range(20)]),
        ("out-o1-df-dscp", [g.plain(o1, tos=0xb9, flags="DF")]),
        ("out-o2-tc-flow", [g.plain(o2, tc=0xb9, fl=0x12345)]),
        ("out-o2-ext-hdr", [g.lan(IPv6(src=LAN_HOST6, dst=host(o2.dst_net)) /
                                  IPv6ExtHdrHopByHop() / UDP())]),
        ("out-o1-ttl1", [g.plain(o1, ttl=1)]),
        ("out-o1-too-big", [g.plain(o1, size=1472)]),
        ("out-o1-too-big-df", [g.plain(o1, size=1472, flags="DF")]),
        ("out-o2-too-big", [g.plain(o2, size=1440)]),
        ("out-bypass-too-big-df", [g.lan(IP(src=LAN_HOST4, dst="192.0.2.5", flags="DF") /
                                         UDP(dport=53) / Raw(bytes(1600)))]),
        ("out-o1-max", [g.plain(o1, size=2000)]),
        ("out-bypass", [g.lan(IP(src=LAN_HOST4, dst="192.0.2.5") / UDP(dport=53))]),
        ("out-bypass-ttl1", [g.lan(IP(src=LAN_HOST4, dst="192.0.2.5", ttl=1) / UDP(dport=53))]),
        ("out-discard", [g.lan(inner(LAN_HOST4, "192.0.2.5", "tcp"))]),
        ("out-no-policy", [g.lan(inner(LAN_HOST4, "8.8.8.8"))]),
        ("out-icmpv6-bypass", [g.lan(inner(LAN_HOST6, "2001:db8:f::1", "icmp"))]),
        ("out-to-gw", [g.lan(inner(LAN_HOST4, "10.1.0.1", "icmp"))]),
        ("out-to-gw6", [g.lan(inner(LAN_HOST6, "2001:db8:a::1", "icmp"))]),
        ("out-arp-request", [g.lan(ARP(op=1, hwsrc=HOST_MAC, psrc=LAN_HOST4, pdst="10.1.0.1"))]),
        ("out-nd-ns", [bytes(Ether(src=HOST_MAC, dst="33:33:ff:00:00:01") /
                             IPv6(src=LAN_HOST6, dst="ff02::1:ff00:1", hlim=255) /
                             ICMPv6ND_NS(tgt="2001:db8:a::1") /
                             ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC))]),
        ("out-link-local", [g.lan(IPv6(src="fe80::10", dst="fe80::1") / UDP())]),
        ("out-ipv4-bad-len", [g.lan(IP(src=LAN_HOST4, dst=host(o1.dst_net), len=1000) / UDP())]),
        ("out-esp-from-lan", [g.lan(IP(src=LAN_HOST4, dst=host(o1.dst_net), proto=50) /
                                    Raw(bytes(40)))]),
        ("out-short-udp", [g.lan(IP(src=LAN_HOST4, dst=host(o1.dst_net), proto=17) /
                                 Raw(b"\x01"))]),
    ]
    return seeds


def pkt_sealed(g):
    """Inner packets the harness seals for i1 (SEAL) or i6 (SEAL | SEAL6)."""
    h4, h6 = LAN_HOST4, LAN_HOST6
    t4 = lambda **kw: inner("10.2.0.5", h4, **kw)  # noqa: E731
    t6 = lambda **kw: inner("2001:db8:6::5", h6, **kw)  # noqa: E731
    s4 = [
        ("udp", t4()), ("tcp", t4(l4="tcp")), ("icmp", t4(l4="icmp")), ("ttl1", t4(ttl=1)),
        ("ect0", t4(tos=2)), ("ce", t4(tos=3)), ("big", t4(size=1400)),
        ("options", IP(src="10.2.0.5", dst=h4, options=b"\x94\x04\x00\x00") / UDP()),
        ("bad-ihl", IP(src="10.2.0.5", dst=h4, ihl=3) / UDP()),
        ("bad-len", IP(src="10.2.0.5", dst=h4, len=1000) / UDP()),
        ("wrong-policy", inner("10.3.0.5", h4)), ("to-gw", inner("10.2.0.5", "10.1.0.1", "icmp")),
        ("no-neighbor", inner("10.2.0.5", "10.1.0.77")), ("v6-inside", t6()),
        ("garbage", Raw(bytes(range(60)))),
    ]
    s6 = [
        ("udp", t6()), ("tcp", t6(l4="tcp")), ("icmp", t6(l4="icmp")), ("hlim1", t6(hlim=1)),
        ("ext", IPv6(src="2001:db8:6::5", dst=h6) / IPv6ExtHdrHopByHop() /
         IPv6ExtHdrRouting() / UDP()),
        ("frag", IPv6(src="2001:db8:6::5", dst=h6) / IPv6ExtHdrFragment(m=1) / UDP()),
        ("bad-plen", IPv6(src="2001:db8:6::5", dst=h6, plen=999) / UDP()),
        ("v4-inside", t4()), ("link-local", IPv6(src="fe80::5", dst="fe80::1") / UDP()),
    ]
    return ([("seal-t1-" + n, [(SEAL, bytes(p))]) for n, p in s4] +
            [("seal-t6-" + n, [(SEAL | SEAL6, bytes(p))]) for n, p in s6] +
            [("seal-burst", [(SEAL, bytes(t4(size=k))) for k in range(8)] +
              [(SEAL | SEAL6, bytes(t6(size=k))) for k in range(8)])])


def bad_cksum(pkt, l3=14):
    """pkt with the checksum of its IPv4 header at offset l3 broken (send with RAW,
    or the harness sets it right)."""
    b = bytearray(pkt)
    b[l3 + 10] ^= 0x5a
    return bytes(b)


def redirect(frame, mac):
    """The frame sent to another link-layer destination."""
    return bytes(Ether(dst=mac))[:6] + frame[6:]


def pkt_input_rules(g):
    """What the input rules refuse (README: input rules), both ports: fuzz_pkt
    aborts if any of them leaves a port; the named drop is what each should get."""
    i1, i2, o1 = g.sas["i1"], g.sas["i2"], g.sas["o1"]
    rh0 = g.wan(IPv6(src=i2.remote, dst=i2.local) / IPv6ExtHdrRouting(
        nh=50, type=0, segleft=1, addresses=["2001:db8:100::99"]) / Raw(g.esp(i2)[14 + 40:]))
    return [
        ("rule-in-bad-cksum", [(RAW, bad_cksum(g.esp(i1, seq=30)))]),
        ("rule-in-foreign-mac", [(0, redirect(g.esp(i1, seq=31), FOREIGN_MAC))]),
        ("rule-in-bcast-esp", [(0, redirect(g.esp(i1, seq=32), "ff:ff:ff:ff:ff:ff"))]),
        ("rule-in-mcast-esp6", [(0, redirect(g.esp(i2, seq=33), "33:33:00:00:00:01"))]),
        ("rule-in-rh0", [(0, rh0)]),
        ("rule-in-martian-src", [(0, g.wan(IP(src="127.0.0.1", dst=LAN_HOST4) / UDP(sport=53)))]),
        ("rule-in-own-src-ttl1", [(0, g.wan(IP(src="10.1.0.1", dst=LAN_HOST4, ttl=1) /
                                            UDP(sport=53)))]),
        ("rule-in-inner-bad-cksum",
         [(SEAL | RAW, bad_cksum(bytes(inner("10.2.0.5", LAN_HOST4)), 0))]),
        ("rule-in-inner-own-src", [(SEAL, bytes(inner("10.1.0.1", LAN_HOST4, ttl=1)))]),
        ("rule-out-bad-cksum", [(PROTECTED | RAW, bad_cksum(g.plain(o1)))]),
        ("rule-out-foreign-mac", [(PROTECTED, redirect(g.plain(o1), FOREIGN_MAC))]),
        ("rule-out-bcast", [(PROTECTED, redirect(g.plain(o1), "ff:ff:ff:ff:ff:ff"))]),
        ("rule-out-own-src-ttl1", [(PROTECTED, g.lan(inner("10.1.0.1", host(o1.dst_net),
                                                           ttl=1)))]),
        ("rule-out-martian-src6", [(PROTECTED, g.lan(IPv6(src="::1", dst="2001:db8:f::1") /
                                                     UDP(dport=53)))]),
    ]


def pkt_mixed(g):
    s = g.sas
    return [
        ("mixed-both-ways", [(True, g.plain(s["o1"])), (False, g.esp(s["i1"])),
                             (True, g.plain(s["o2"])), (False, g.esp(s["i2"])),
                             (False, g.esp(s["i6"]))]),
        ("mixed-sas-one-burst", [(False, g.esp(sa, seq=7)) for sa in g.by_dir("in")] * 2),
    ]


def gen_pkt(g):
    d = os.path.join(CORPUS, "pkt")
    n = 0
    for name, frames in pkt_inbound(g) + pkt_fragments(g):
        write(d, name, record([(False, f) for f in frames]))
        n += 1
    for name, frames in pkt_outbound(g):
        write(d, name, record([(True, f) for f in frames]))
        n += 1
    for name, frames in pkt_sealed(g) + pkt_mixed(g) + pkt_input_rules(g):
        write(d, name, record(frames))
        n += 1
    return n


# ---------------------------------------------------------------- conf
BASE = """\
port add lan0 dev net_null0 role protected address 10.1.0.1/24 address 2001:db8:a::1/64
port add wan0 dev net_null1 role unprotected address 198.51.100.1/24 address 2001:db8:100::1/64
crypto add c0 dev crypto_aesni_mb0
sa add o4 dir out spi 0x1001 mode tunnel local 198.51.100.1 remote 203.0.113.1 \\
  aead aes-gcm-128 key 0x000102030405060708090a0b0c0d0e0f salt 0xa0a1a2a3
sa add i4 dir in spi 0x2001 mode tunnel local 198.51.100.1 remote 203.0.113.1 \\
  aead aes-gcm-128 key 0x101112131415161718191a1b1c1d1e1f salt 0xb0b1b2b3
sp add out src 10.1.0.0/24 dst 10.2.0.0/24 protect o4
route add 0.0.0.0/0 via 198.51.100.254 port wan0
"""
SA4 = "sa add x dir out spi 0x3001 mode tunnel local 198.51.100.1 remote 203.0.113.1 "
SA6 = "sa add x dir in spi 0x3001 mode tunnel local 2001:db8:100::1 remote 2001:db8:200::1 "
K16 = "0x00112233445566778899aabbccddeeff"
K32 = "0x" + "00112233445566778899aabbccddeeff" * 2
GCM = "aead aes-gcm-128 key %s salt 0x01020304" % K16

# One command per keyword and value shape; a few are wrong on purpose.
LINES = [
    "port add p2 dev net_null2 role protected address 10.7.0.1/24 mtu 9000 rx-desc 512 "
    "tx-desc 512 mac 02:00:00:00:07:01",
    "port add p3 dev 0000:03:00.0 role unprotected address 2001:db8:7::1/64 mtu 1280",
    "port add p4 dev net_null3 role sideways",
    "port add lan0 dev net_null9 role protected",
    "crypto add c1 dev crypto_openssl0",
    SA4 + GCM,
    SA4 + GCM + " esn on seq 18446744073709551615 ttl 255 dscp 46 df clear",
    SA4 + GCM + " seq 4294967295 df set dscp copy crypto-path cpu cryptodev c0",
    SA4 + "aead aes-gcm-256 key %s salt 0x01020304" % K32,
    SA4 + "aead chacha20-poly1305 key %s salt 0x01020304" % K32,
    SA4 + "cipher aes-cbc-256 key %s auth hmac-sha384-192 auth-key 0x%s" % (K32, "ab" * 48),
    SA4 + "cipher aes-ctr-256 key %s salt 0x01020304 auth hmac-sha512-256 auth-key 0x%s"
    % (K32, "cd" * 64),
    SA4 + "cipher null auth hmac-sha1-96 auth-key 0x%s" % ("ef" * 20),
    SA4 + "auth aes-gmac-256 key %s salt 0x01020304" % K32,
    SA6 + GCM + " replay-window 65536 match spi-dst-src esn on",
    SA6 + GCM + " replay-window 0 match spi flow-label 0xfffff",
    SA6 + "cipher aes-cbc-128 key %s auth hmac-sha256-128 auth-key %s" % (K16, K32),
    SA4 + "aead aes-gcm-128 key 0x0011 salt 0x01020304",
    SA4 + GCM + " replay-window 63",
    SA4 + GCM + " key " + K16,
    "sa add x dir out spi 0 mode transport local 10.1.0.1 remote ::1 " + GCM,
    "sa del i4",
    "sa del o4",
    "sa del",
    "sp add out priority 5 src 10.1.0.0/24 dst 10.9.0.0/16 proto tcp sport 1024-65535 "
    "dport 443 bypass",
    "sp add in priority 16777215 src 10.2.0.0/24 dst 10.1.0.0/24 proto udp dport 500 discard",
    "sp add in src 10.2.0.0/24 dst 10.1.0.0/24 protect i4",
    "sp add out src 2001:db8:a::/64 dst 2001:db8:b::/48 proto icmpv6 bypass",
    "sp add out dst 10.2.0.0/24 proto 255 discard",
    "sp add out dst 10.2.0.0/24 proto esp bypass",
    "sp add out dst 10.2.0.0/24 proto sctp sport 9-9 protect o4",
    "sp add out src 10.1.0.1/24 dst 10.2.0.0/24 bypass",
    "sp add both dst 0.0.0.0/0 bypass discard",
    "route add 10.8.0.0/16 via 198.51.100.254 port wan0",
    "route add 2001:db8:9::/48 via 2001:db8:100::fe port wan0",
    "route add 10.1.5.0/24 port lan0",
    "route add 10.8.0.0/16 via 192.0.2.1 port wan0",
    "neighbor add 198.51.100.254 lladdr 02:00:00:00:02:fe port wan0",
    "neighbor add 2001:db8:100::fe lladdr 02:00:00:00:02:fe port wan0",
    "neighbor add 10.1.0.10 lladdr 02:00:00:00:01:zz port lan0",
    "set crypto-path cpu",
    "set crypto-path default",
    "set burst 256",
    "set burst 0",
    "set mtu 1500",
    "frobnicate",
    "sa",
    "sa add x dir out spi 0x3001 \\\n  mode tunnel local 198.51.100.1 "
    "remote 203.0.113.1 \\\n  " + GCM,
    "sa add x dir out spi 0x3001 # a comment \\\n" + GCM,
    "sa add " + "a" * 40 + " dir out",
    "port add p9 dev " + "n" * 200 + " role protected",
    "sp add out dst 10.2.0.0/24 " + "bypass " * 130,
]
WORDS = [
    ["sa", "add", "w", "dir", "out", "spi", "0x3002", "mode", "tunnel", "local", "198.51.100.1",
     "remote", "203.0.113.1", "aead", "aes-gcm-128", "key", K16, "salt", "0x01020304"],
    ["sp", "add", "in", "src", "10.2.0.0/24", "dst", "10.1.0.0/24", "protect", "i4"],
    ["port", "add", "p 2", "dev", "net_null2", "role", "protected", "address", "10.7.0.1/24"],
    ["route", "add", "10.8.0.0/16", "via", "198.51.100.254", "port", "wan0"],
    ["neighbor", "add", "198.51.100.7", "lladdr", "02:00:00:00:02:07", "port", "wan0"],
    ["sa", "del", "i4"],
    ["set", "burst", "64"],
    ["crypto", "add", "c1", "dev", ""],
    ["sa", "add", "", "dir", "in"],
    [""],
]


def gen_conf():
    d = os.path.join(CORPUS, "conf")
    n = 0
    for src in sorted(os.listdir(os.path.join(ROOT, "config"))):
        if src.endswith(".conf"):
            write(d, "example-" + src, open(os.path.join(ROOT, "config", src), "rb").read())
            n += 1
    write(d, "fuzz-pkt.conf", open(PKT_CONF, "rb").read())
    write(d, "broken.conf", open(os.path.join(ROOT, "tests", "unit", "data", "broken.conf"),
                                 "rb").read())
    write(d, "base.conf", BASE.encode())
    n += 3
    for i, line in enumerate(LINES):
        write(d, "line-%02d" % i, (BASE + line + "\n").encode())
        n += 1
    for i, words in enumerate(WORDS):
        write(d, "words-%02d" % i, b"\0" + b"\0".join(w.encode() for w in words))
        n += 1
    return n


def from_pcap(port, paths):
    d = os.path.join(CORPUS, "pkt")
    n = 0
    for p in paths:
        base = os.path.splitext(os.path.basename(p))[0]
        for i, fr in enumerate(rdpcap(p)):
            write(d, "pcap-%s-%s-%03d" % (base, port, i), record([(port == "lan", bytes(fr))]))
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--from-pcap", nargs="+", metavar=("lan|wan", "PCAP"))
    a = ap.parse_args()
    if a.from_pcap:
        port, paths = a.from_pcap[0], a.from_pcap[1:]
        if port not in ("lan", "wan") or not paths:
            ap.error("--from-pcap lan|wan PCAP...")
        print("pkt seeds from pcaps: %d" % from_pcap(port, paths))
        return
    print("pkt seeds: %d" % gen_pkt(Gen()))
    print("conf seeds: %d" % gen_conf())


if __name__ == "__main__":
    main()
