# SPDX-License-Identifier: BSD-3-Clause
"""The inbound checks folded into the SAD lookup's last pass (lib/esp/esp_in.c
inb_lookup, inb_check_one, inb_not_host), attacked from the wire (helper-50):
one espgw run, every WAN frame of a round in one RX burst (fewer than 32),
the rounds interleaved differently, each kind beside and between the others:

  G  ESP of a direct AES-GCM tunnel          U  ESP in UDP of a NAT-T tunnel
  C  ESP of a ChaCha20-Poly1305 tunnel (IPv6) B  a bump-in-the-wire SA's ESP to its host
  b  that SA's ESP to the gateway: no SA of the gateway's (no_sa)
  e  the NAT-T tunnel's ESP without UDP      w  the plain tunnel's ESP in UDP to 4500
  h  ESP under an AH SA's SPI                 g  AH under the plain tunnel's ESP SPI
  t  the plain tunnel's ESP a byte short      u  an SPI no SA has
  r  a G again (replay)

Every good packet comes out of lan0 (one hop later) exactly once, nothing
else does, nothing leaves wan0, and each refusal is counted under its own
reason: encap_mismatch, ah_proto_mismatch, bad_length, no_sa, replay."""

import struct

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from harness import Tunnel
from test_attack_outb_mix import AhTunnel
from test_bitw import Bitw

NATT = 4500
ROUNDS = ["GbUeCwBhGgtuUrB", "uGtGhUgbUeBwCrC", "hgtubewrGGUUCCB", "BCUGrwebhgtuGUC"]
REASON = {"b": "no_sa", "u": "no_sa", "e": "encap_mismatch", "w": "encap_mismatch",
          "h": "ah_proto_mismatch", "g": "ah_proto_mismatch", "t": "bad_length",
          "r": "replay"}


class Mix:
    def __init__(self):
        self.g = Tunnel(101, "aes-gcm-128", 4, 4)
        self.n = Tunnel(102, "aes-gcm-256", 4, 6, out_opts="encap udp", in_opts="encap udp")
        self.c = Tunnel(103, "chacha20-poly1305", 6, 6)
        self.a = AhTunnel(104, "hmac-sha256-128", 4)
        self.bw = Bitw(4, 105, "aes-gcm-128")
        self.seq = {"g": 0, "n": 0, "c": 0}
        self.k = 0
        self.last_g = None

    def conf(self):
        conf = harness.base_conf()
        for t in (self.g, self.n, self.c, self.a, self.bw):
            conf += t.conf()
        return conf

    def esp(self, name):
        """(ESP bytes of tunnel name's next packet, its inner packet)."""
        t = getattr(self, name)
        self.seq[name] += 1
        self.k += 1
        pk = t.wan_pkt("udp", 10 + self.k % 50)
        raw = bytes(pk)
        return t.in_sa.seal(raw, 4 if raw[0] >> 4 == 4 else 41, self.seq[name]), pk

    def frame(self, t, body, proto=50, udp=False):
        """A WAN frame from t's peer: body behind the outer header (in UDP
        4500 -> 4500, its length and checksum computed, when udp)."""
        o = t.outer_hdr()
        if udp:
            proto = 17
        if t.outer == 4:
            o.proto = proto
        else:
            o.nh = proto
        o = o / UDP(sport=NATT, dport=NATT) / Raw(body) if udp else o / Raw(body)
        return bytes(harness.wan_frame(o.__class__(bytes(o))))

    def make(self, c, plan):
        g, n = self.g, self.n
        if c == "G":
            esp, pk = self.esp("g")
            self.last_g = self.frame(g, esp)
            plan.wan_in(self.last_g, pk)
        elif c == "U":
            esp, pk = self.esp("n")
            plan.wan_in(self.frame(n, esp, udp=True), pk)
        elif c == "C":
            esp, pk = self.esp("c")
            plan.wan_in(self.frame(self.c, esp), pk)
        elif c == "B":
            pk = self.bw.udp(self.k, port=9)
            self.k += 1
            plan.wan_in(bytes(self.bw.seal(pk)), pk)
        elif c == "b":
            self.k += 1
            f = Ether(bytes(self.bw.seal(self.bw.udp(self.k, port=9))))
            f[IP].dst = harness.WAN4
            del f[IP].chksum
            plan.wan_in(bytes(f))
        elif c == "e":
            esp, _ = self.esp("n")
            plan.wan_in(self.frame(n, esp))
        elif c == "w":
            esp, _ = self.esp("g")
            plan.wan_in(self.frame(g, esp, udp=True))
        elif c == "h":
            body = struct.pack("!II", self.a.in_sa.spi, 1) + bytes(48)
            plan.wan_in(self.frame(g, body))
        elif c == "g":
            # AH (RFC 4302 2): next header, payload length (12 + ICV 16: 5), reserved,
            # SPI, sequence number, ICV; then something.
            body = struct.pack("!BBHII", 4, 5, 0, g.in_sa.spi, 1) + bytes(16) + bytes(28)
            plan.wan_in(self.frame(g, body, proto=51))
        elif c == "t":
            esp, _ = self.esp("g")
            plan.wan_in(self.frame(g, esp[:-1]))
        elif c == "u":
            esp, _ = self.esp("g")
            plan.wan_in(self.frame(g, struct.pack("!I", 0x0BAD0BAD) + esp[4:]))
        elif c == "r":
            assert self.last_g is not None, "a replay before any G"
            plan.wan_in(self.last_g)
        else:
            raise ValueError(c)


def build():
    mx = Mix()
    p = harness.Plan()
    drops = {}
    for rnd in ROUNDS:
        for c in rnd:
            mx.make(c, p)
            if c in REASON:
                drops[REASON[c]] = drops.get(REASON[c], 0) + 1
    return mx, p, drops


def test_inbound_mix():
    mx, p, drops = build()
    res = harness.run(mx.conf(), lan=p.lan, wan=p.wan)
    assert res.out["wan0"] == [], "something left wan0"
    p.check_clear(res)
    st = res.stats["drops"]
    bad = {k: (st[k], drops.get(k, 0)) for k in st if st[k] != drops.get(k, 0)}
    assert not bad, "drops (got, want): %s" % bad
