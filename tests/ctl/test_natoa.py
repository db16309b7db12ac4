# SPDX-License-Identifier: BSD-3-Clause
"""nat-oa (RFC 3948 3.1.2) judged by the Linux kernel. A peer behind a NAT
computed its TCP and UDP checksums over its private address A and the address
it sent to, B (our address as its NAT saw it); the packets arrive from the
NAT's address to ours. espgw (live.Gateway, in the test's namespace) has a host
interface on wan0 and, per family, two inbound + outbound transport SA pairs
with `encap udp`: one with `nat-oa-src A nat-oa-dst B` (peer address .7), one
without (.8). The kernel behind the host interface verifies every checksum:
- a UDP datagram through the nat-oa pair reaches a socket on our address,
  through the other pair it does not (the kernel's InCsumErrors counts it);
- a TCP SYN through the nat-oa pair is answered, the SYN-ACK leaves in ESP in
  UDP and espcodec opens it; through the other pair no answer, TCP's
  InCsumErrors counts it;
- an IPv4 UDP checksum of 0 (not computed) reaches the kernel as 0.
The packets the kernel got are read off the host interface too, their
checksums recomputed by scapy over the addresses they carry."""

import socket
import struct
import subprocess
import time

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from espcodec import EspSA
from live import BASE, NH_MAC, WAN_MAC, Gateway

HOSTIF = "egwan-host"
NATT, UPORT, TPORT = 4500, 5555, 2222
SUITE = "aes-gcm-128"
FAM = {
    4: dict(own="198.51.100.1", peer="203.0.113.%d", net="203.0.113.0/24",
            oa=("192.168.1.7", "100.64.0.9"), plen=32, ip=IP),
    6: dict(own="2001:db8:100::1", peer="2001:db8:200::%d", net="2001:db8:200::/64",
            oa=("fd00:1::7", "2001:db8:ffff::9"), plen=128, ip=IPv6),
}
GW_BASE = BASE.replace("address 198.51.100.1/24 mac %s" % WAN_MAC,
                       "address 198.51.100.1/24 address 2001:db8:100::1/64 mac %s host-if %s"
                       % (WAN_MAC, HOSTIF)) + \
    "neighbor add 2001:db8:100::fe lladdr %s port wan0\n" \
    "route add ::/0 via 2001:db8:100::fe port wan0\n" % NH_MAC
assert "host-if" in GW_BASE


class Pair:
    """An outbound and an inbound transport SA in UDP with the peer host,
    with nat-oa on the inbound one or not."""

    def __init__(self, fam, host, natoa):
        f = FAM[fam]
        self.fam, self.natoa, self.own = fam, natoa, f["own"]
        self.peer = f["peer"] % host
        self.out_sa = EspSA(0x5a000000 + fam * 16 + host, SUITE)
        self.in_sa = EspSA(0x5b000000 + fam * 16 + host, SUITE)
        self.seq = 0

    def conf(self):
        f = FAM[self.fam]
        sa = "sa add %s dir %s spi %#x mode transport local %s remote %s %s encap udp%s"
        tag = "%d%s" % (self.fam, "oa" if self.natoa else "no")
        oa = " nat-oa-src %s nat-oa-dst %s" % f["oa"] if self.natoa else ""
        return [
            sa % ("o" + tag, "out", self.out_sa.spi, self.own, self.peer,
                  self.out_sa.conf_algo(), ""),
            sa % ("i" + tag, "in", self.in_sa.spi, self.own, self.peer,
                  self.in_sa.conf_algo(), oa),
            "sp add out priority 10 src %s/%d dst %s/%d protect o%s"
            % (self.own, f["plen"], self.peer, f["plen"], tag),
            "sp add in priority 10 src %s/%d dst %s/%d protect i%s"
            % (self.peer, f["plen"], self.own, f["plen"], tag),
        ]

    def frame(self, l4):
        """l4 (UDP or TCP, its checksum over the original addresses A -> B, or
        as set) sealed in transport ESP and sent in UDP from the NAT's address
        to ours: an Ethernet frame for egwan."""
        f = FAM[self.fam]
        ip = f["ip"]
        inner = ip(src=f["oa"][0], dst=f["oa"][1]) / l4
        raw = bytes(inner)
        hl = 20 if self.fam == 4 else 40
        self.seq += 1
        esp = self.in_sa.seal(raw[hl:], raw[9] if self.fam == 4 else raw[6], self.seq)
        u = UDP(sport=NATT, dport=NATT)
        if self.fam == 4:
            u.chksum = 0  # RFC 3948 2.1
        return Ether(src=NH_MAC, dst=WAN_MAC) / ip(src=self.peer, dst=self.own) / u / Raw(esp)

    def answers(self, frames):
        """The transport payloads (upper protocol, bytes) of the frames espgw
        sent in this pair's outbound SA, opened by espcodec."""
        out = []
        for fr in frames:
            p = Ether(fr)
            ip = p.getlayer(FAM[self.fam]["ip"])
            if ip is None or UDP not in p or p[UDP].dport != NATT:
                continue
            esp = bytes(p[UDP].payload)
            if struct.unpack("!I", esp[:4])[0] != self.out_sa.spi:
                continue
            assert (ip.src, ip.dst) == (self.own, self.peer)
            o = self.out_sa.open(esp)
            out.append((o.nh, o.payload))
        return out


def snmp(key):
    """A kernel counter of this namespace: ("Udp", "InCsumErrors") from
    /proc/net/snmp, ("Udp6", "InCsumErrors") from /proc/net/snmp6."""
    proto, name = key
    if proto.endswith("6"):
        with open("/proc/net/snmp6") as f:
            for line in f:
                k, v = line.split()
                if k == proto + name:
                    return int(v)
        raise KeyError(key)
    with open("/proc/net/snmp") as f:
        lines = [line.split() for line in f if line.startswith(proto + ":")]
    return int(dict(zip(lines[0][1:], lines[1][1:]))[name])


class Tap:
    """What goes up the host interface to the kernel, as IP packets."""

    def __init__(self):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
        self.s.bind((HOSTIF, 0))
        self.s.settimeout(0.2)

    def packets(self, seconds=1.0):
        got, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data, addr = self.s.recvfrom(65536)
            except socket.timeout:
                continue
            if addr[2] != 4:  # not PACKET_OUTGOING: up to the kernel
                got.append(data)
        return got


@pytest.fixture(scope="module")
def gw():
    pairs = {(fam, oa): Pair(fam, 7 if oa else 8, oa) for fam in (4, 6) for oa in (True, False)}
    conf = "\n".join(line for p in pairs.values() for line in p.conf()) + "\n"
    g = Gateway(extra_conf=conf, base=GW_BASE)
    try:
        for fam in (4, 6):
            subprocess.run(["ip", "-%d" % fam, "route", "add", FAM[fam]["net"], "dev", HOSTIF],
                           check=True)
        g.pairs = pairs
        g.tap = Tap()
        yield g
    finally:
        g.kill()


def udp_socket(fam):
    s = socket.socket(socket.AF_INET if fam == 4 else socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((FAM[fam]["own"], UPORT))
    s.settimeout(1.5)
    return s


def received(s):
    try:
        return s.recvfrom(2048)
    except socket.timeout:
        return None


def l4_of(pkt_bytes, fam):
    p = (IP if fam == 4 else IPv6)(pkt_bytes)
    return p, p.getlayer(UDP) or p.getlayer(TCP)


def assert_checksum_valid(p, layer):
    """scapy recomputes the transport checksum over the packet's own addresses."""
    again = p.__class__(bytes(p))
    got = again[layer].chksum
    del again[layer].chksum
    assert again.__class__(bytes(again))[layer].chksum == got, p.summary()


def up_for(g, fam, proto, dport):
    """The packets to dport that went up the host interface since the last call."""
    out = []
    for b in g.tap.packets():
        if (b[0] >> 4) != fam:
            continue
        p, l4 = l4_of(b, fam)
        if l4 is not None and isinstance(l4, proto) and l4.dport == dport:
            out.append(p)
    return out


def csum_errors(proto, fam):
    if proto == "Tcp":
        return snmp(("Tcp", "InCsumErrors"))  # one TCP MIB for both families
    return snmp(("Udp", "InCsumErrors") if fam == 4 else ("Udp6", "InCsumErrors"))


@pytest.mark.parametrize("fam", [4, 6])
def test_udp_checksum_fixed(gw, fam):
    """A datagram checksummed over A -> B reaches a socket on our address through
    the nat-oa SA, with a checksum valid for the addresses it carries."""
    pair = gw.pairs[(fam, True)]
    s = udp_socket(fam)
    try:
        gw.tap.packets(0.1)
        before = csum_errors("Udp", fam)
        gw.wan.send(pair.frame(UDP(sport=40001, dport=UPORT) / Raw(b"natoa-udp-%d" % fam)))
        r = received(s)
    finally:
        s.close()
    assert r is not None, "not received: %s" % gw.drops_since({})
    assert r[0] == b"natoa-udp-%d" % fam and r[1][0] == pair.peer and r[1][1] == 40001
    assert csum_errors("Udp", fam) == before
    up = up_for(gw, fam, UDP, UPORT)
    assert len(up) == 1 and up[0].src == pair.peer and up[0].dst == pair.own
    assert_checksum_valid(up[0], UDP)


@pytest.mark.parametrize("fam", [4, 6])
def test_udp_without_natoa_refused_by_the_kernel(gw, fam):
    """The same datagram through the SA without nat-oa goes up with the peer's
    checksum: the kernel drops it and counts a checksum error."""
    pair = gw.pairs[(fam, False)]
    s = udp_socket(fam)
    try:
        gw.tap.packets(0.1)
        before = csum_errors("Udp", fam)
        gw.wan.send(pair.frame(UDP(sport=40002, dport=UPORT) / Raw(b"plain-udp")))
        r = received(s)
    finally:
        s.close()
    assert r is None, r
    up = up_for(gw, fam, UDP, UPORT)
    assert len(up) == 1, "espgw did not deliver it: %s" % gw.drops_since({})
    assert csum_errors("Udp", fam) == before + 1


def test_udp_zero_checksum_v4_untouched(gw):
    """IPv4 UDP checksum 0 (not computed, RFC 768) stays 0 and is received."""
    pair = gw.pairs[(4, True)]
    s = udp_socket(4)
    try:
        gw.tap.packets(0.1)
        gw.wan.send(pair.frame(UDP(sport=40003, dport=UPORT, chksum=0) / Raw(b"zero")))
        r = received(s)
    finally:
        s.close()
    assert r is not None and r[0] == b"zero"
    up = up_for(gw, 4, UDP, UPORT)
    assert len(up) == 1 and up[0][UDP].chksum == 0


def syn_acks(gw, pair, sport):
    time.sleep(0.5)
    out = []
    for nh, payload in pair.answers(gw.wan.drain(settle=0.5, timeout=3)):
        assert nh == 6, nh
        t = TCP(payload)
        if t.dport == sport and t.flags == "SA":
            out.append(t)
    return out


@pytest.mark.parametrize("fam", [4, 6])
def test_tcp_syn_answered_only_with_natoa(gw, fam):
    """A SYN checksummed over A -> B is answered through the nat-oa SA (the
    SYN-ACK leaves in the outbound SA, ESP in UDP); without nat-oa the kernel
    drops it as a checksum error and nothing is answered."""
    ls = socket.socket(socket.AF_INET if fam == 4 else socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((FAM[fam]["own"], TPORT))
    ls.listen(4)
    try:
        oa, plain = gw.pairs[(fam, True)], gw.pairs[(fam, False)]
        gw.wan.drain(settle=0.2)
        gw.tap.packets(0.1)
        before = csum_errors("Tcp", fam)
        sport = 41000 + fam
        gw.wan.send(oa.frame(TCP(sport=sport, dport=TPORT, flags="S", seq=1000)))
        sa = syn_acks(gw, oa, sport)
        assert sa and sa[0].ack == 1001, "no SYN-ACK: %s" % gw.drops_since({})
        assert csum_errors("Tcp", fam) == before
        gw.wan.send(plain.frame(TCP(sport=sport + 10, dport=TPORT, flags="S", seq=2000)))
        assert syn_acks(gw, plain, sport + 10) == []
        assert csum_errors("Tcp", fam) == before + 1
        up = up_for(gw, fam, TCP, TPORT)
        assert len(up) >= 2
        assert_checksum_valid(up[0], TCP)
    finally:
        ls.close()


def test_counters_balance(gw):
    """A clean stop; the counters add up (harness invariants)."""
    gw.tap.s.close()
    gw.stop()
