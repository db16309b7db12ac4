# SPDX-License-Identifier: BSD-3-Clause
"""The Authentication Header (RFC 4302) in tunnel mode, IPv4 and IPv6 outer
headers, every AH algorithm espgw runs (ALGOS). One espgw run for the module:
per (algorithm, family) an outbound and an inbound AH SA pair.

Judges, never espgw itself: scapy's SecurityAssociation(AH) (HMAC; decrypt()
checks the ICV), ahcodec (python3-cryptography, every algorithm; checked
against DPDK's AH vectors and scapy in pkt-ah-vectors) and tshark's AH
dissector (header fields).

Outbound: LAN packets leave in AH; the outer header, AH fields, ICV and the
inner packet are checked. Inbound: scapy- (HMAC) or ahcodec-sealed (GMAC) AH
comes out of lan0 as its inner packet, also when mutable outer fields changed
on the way (TTL, TOS; hop limit, traffic class, flow label: RFC 4302
3.3.3.1). Exact counters for what must be refused: a tampered ICV, a tampered
immutable field (the outer source, a payload byte), a replay, an unknown SPI,
an AH header length that does not fit, a next header the SA does not carry,
AH behind IPv4 options or IPv6 extension headers (not taken yet), the 33rd
bit of a 32-bit sequence number (never sent), an AH packet carrying an ESP SA's SPI
and an ESP packet carrying an AH SA's SPI (one SAD, the protocol is part of an
SA's identity, RFC 4301 4.1).
"""

import copy
import os
import subprocess

import pytest
from scapy.layers.inet import IP, IPOption_Router_Alert
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import ahcodec
import harness
from espcodec import EspSA

ALGOS = list(ahcodec.ALGOS)  # HMAC-SHA1/256/384/512, AES-GMAC-128/256
PKTS = 3
FAMS = (4, 6)


class AhTunnel(harness.Tunnel):
    """harness.Tunnel (addresses, nets, policies) with AH SAs from ahcodec."""

    def __init__(self, slot, algo, fam, esn=False, out_opts=""):
        super().__init__(slot, "aes-gcm-128", inner=fam, outer=fam)
        self.algo = algo
        self.out_sa = ahcodec.AhSA(0x50000000 + slot, algo, esn=esn)
        self.in_sa = ahcodec.AhSA(0x60000000 + slot, algo, esn=esn)
        self.opts = " esn on" if esn else ""
        self.out_opts = out_opts
        self.seq = 0

    def conf(self):
        sa = "sa add %s dir %s spi 0x%x mode tunnel local %s remote %s %s"
        return [sa % (self.out_name, "out", self.out_sa.spi, self.local, self.peer,
                      self.out_sa.conf_algo() + self.opts + self.out_opts),
                sa % (self.in_name, "in", self.in_sa.spi, self.local, self.peer,
                      self.in_sa.conf_algo() + self.opts),
                "sp add out priority 10 src %s dst %s protect %s"
                % (self.lan_net, self.net, self.out_name),
                "sp add in priority 10 src %s dst %s protect %s"
                % (self.net, self.lan_net, self.in_name)]

    def seal(self, inner, seq=None, sa=None):
        """A WAN frame: inner in tunnel-mode AH of the inbound SA (or sa): scapy
        seals HMAC SAs, ahcodec GMAC and ESN ones. seq: the full (64-bit with
        ESN) number, the next one by default."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        sa = sa or self.in_sa
        o = self.outer_hdr()
        if not sa.gmac and not sa.esn:
            s = sa.scapy_sa(tunnel_header=o)
            return bytes(harness.wan_frame(s.encrypt(inner.__class__(bytes(inner)),
                                                     seq_num=seq)))
        return seal_codec(self, sa, inner, seq, 4 if self.inner == 4 else 41)


def seal_codec(t, sa, inner, seq, nh):
    """A WAN frame: inner in tunnel-mode AH of sa from t's peer, sealed by
    ahcodec with AH next header nh; seq: the full (ESN) number."""
    ob = bytearray(bytes(t.outer_hdr() / Raw(b""))[:20 if t.outer == 4 else 40])
    ob[9 if t.outer == 4 else 6] = nh
    l3 = ahcodec.seal(sa, bytes(ob) + bytes(inner), seq & 0xffffffff, t.outer, nh_inner=nh,
                      seq_hi=seq >> 32)
    return bytes(harness.wan_frame((IP if t.outer == 4 else IPv6)(l3)))


def outer_options(t, inner, seq):
    """AH of t's inbound SA behind a Router Alert option (IPv4, RFC 2113) or a
    destination options header with a PadN option (IPv6)."""
    nh = 4 if t.inner == 4 else 41
    if t.outer == 4:
        o = IP(src=t.peer, dst=t.local, proto=nh, options=[IPOption_Router_Alert()])
        head = bytes(o / Raw(b""))[:24]
    else:
        head = bytes(IPv6(src=t.peer, dst=t.local, nh=60) / Raw(b""))[:40] + \
            bytes([nh, 0, 1, 4, 0, 0, 0, 0])
    l3 = ahcodec.seal(t.in_sa, head + bytes(inner), seq, t.outer, nh_inner=nh)
    return bytes(harness.wan_frame((IP if t.outer == 4 else IPv6)(l3)))


def mutate(frame, **kw):
    """The frame with outer header fields changed after sealing; the IPv4
    checksum (mutable, not in the ICV) made right again for espgw's input."""
    e = Ether(frame)
    for k, v in kw.items():
        setattr(e.payload, k, v)
    if e.payload.version == 4:
        del e.payload.chksum
    return bytes(Ether(bytes(e)))


def flip(frame, at):
    b = bytearray(frame)
    b[at] ^= 0x01
    return bytes(b)


def negatives(t, esp_t, plan, drops):
    """What one family's first tunnel must refuse, with the reason each counts under."""
    hl = 14 + (20 if t.outer == 4 else 40)
    # Mutable outer fields changed on the way: still accepted (RFC 4302 3.3.3.1).
    inner = t.wan_pkt(size=11)
    kw = dict(ttl=3, tos=0xb8) if t.outer == 4 else dict(hlim=3, tc=0xb8, fl=0xabcde)
    plan.wan_in(mutate(t.seal(inner), **kw), inner)
    accepted = t.seq
    # ICV, payload byte (inner destination), outer source: each fails the ICV.
    plan.wan.append(flip(t.seal(t.wan_pkt(size=12)), hl + 12))
    plan.wan.append(flip(t.seal(t.wan_pkt(size=13)), -1))
    src = "203.0.113.99" if t.outer == 4 else "2001:db8:200::99"
    plan.wan.append(mutate(t.seal(t.wan_pkt(size=14)), src=src))
    drops["auth_fail"] += 3
    # A number already accepted, again (RFC 4302 3.4.3; the tampered ones above
    # failed their ICV and never entered the window, 3.4.4).
    plan.wan.append(t.seal(t.wan_pkt(size=15), seq=accepted))
    drops["replay"] += 1
    # An SPI no SA has.
    plan.wan.append(t.seal(t.wan_pkt(size=16), sa=ahcodec.AhSA(0x0fff0000 + t.slot, t.algo)))
    drops["no_sa"] += 1
    # Payload length 0: an 8-byte AH, shorter than its fixed 12 bytes and than
    # the SA's ICV needs (RFC 4302 2.2).
    bad = bytearray(t.seal(t.wan_pkt(size=17)))
    bad[hl + 1] = 0
    plan.wan.append(bytes(bad))
    # A valid ICV over the wrong next header: IPv6 in an IPv4 SA, or the reverse
    # (RFC 4302 2.1: what the SA carries).
    t.seq += 1
    plan.wan.append(seal_codec(t, t.in_sa, t.wan_pkt(size=19), t.seq, 41 if t.inner == 4 else 4))
    drops["ah_bad_header"] += 2
    # Options (IPv4) or extension headers (IPv6) in front of AH, the ICV right
    # (ahcodec zeroes what may change): accepted (test_ah_opts.py changes them).
    t.seq += 1
    inner = t.wan_pkt(size=20)
    plan.wan_in(outer_options(t, inner, t.seq), inner)
    # AH with the SPI of an inbound ESP SA, ESP with the SPI of an inbound AH SA.
    plan.wan.append(t.seal(esp_t.wan_pkt(), sa=ahcodec.AhSA(esp_t.in_sa.spi, t.algo)))
    fake = EspSA(t.in_sa.spi, "aes-gcm-128")
    plan.wan.append(bytes(harness.encap(fake, t.outer_hdr(), t.wan_pkt(size=18), 1,
                                        oracle="codec")))
    drops["ah_proto_mismatch"] += 2


ESN_START = 0xffffffff  # the outbound ESN SA crosses 2^32 on its second packet
WRAP_START = 0xfffffffe  # the 32-bit SA sends two packets, then none (RFC 4302 2.5)


def seq_tunnels(plan, slot, drops):
    """An ESN SA pair (RFC 4302 2.5.1: the high bits in the ICV only) whose
    outbound numbers cross 2^32 and whose inbound packets do too; and a 32-bit
    SA that starts two numbers before the end and must not wrap."""
    e = AhTunnel(slot, "hmac-sha256-128", 4, esn=True, out_opts=" seq 0x%x" % ESN_START)
    w = AhTunnel(slot + 1, "hmac-sha1-96", 6, out_opts=" seq 0x%x" % WRAP_START)
    for i in range(PKTS):
        plan.protect(e, e.lan_pkt(size=30 + i))
        pkt = w.lan_pkt(size=30 + i)
        plan.lan.append(harness.lan_frame(pkt))
        if WRAP_START + i <= 0xffffffff:
            plan.esp.setdefault(w.out_sa.spi, []).append(harness.ttl_dec(pkt))
        else:
            drops["sqn_overflow"] += 1
    # The receiver infers the high bits from its window's top (RFC 4303 A2.1,
    # as RFC 4302 2.5.1 says), and espgw infers a burst's numbers before it
    # commits any: the number across 2^32 comes last, bursts (32) after the
    # window moved up (build() places it), as it would in a real flow.
    for seq in (0x80000000, 0xfffffffe, 0xffffffff):
        inner = e.wan_pkt(size=seq & 0xff)
        plan.wan_in(e.seal(inner, seq=seq), inner)
    return e, w


def ah_pairs(make):
    """One AH SA pair per (algorithm, family), make(slot, algo, fam), the ESP
    tunnels whose SPIs the protocol-mismatch probes borrow, and the config."""
    T, slot = [], 0
    for algo in ALGOS:
        for fam in FAMS:
            slot += 1
            T.append(make(slot, algo, fam))
    conf = harness.base_conf()
    esp = {fam: harness.Tunnel(100 + fam, "aes-gcm-128", inner=fam, outer=fam) for fam in FAMS}
    for t in T:
        conf += t.conf()
    for x in esp.values():
        conf += x.conf()
    return T, esp, conf


def build():
    plan = harness.Plan()
    T, esp, conf = ah_pairs(AhTunnel)
    slot = len(T)
    drops = {"auth_fail": 0, "replay": 0, "no_sa": 0, "ah_bad_header": 0, "ah_proto_mismatch": 0,
             "sqn_overflow": 0, "ah_outer_options": 0}
    e, w = seq_tunnels(plan, slot + 1, drops)
    conf += e.conf() + w.conf()
    for t in T:
        for i in range(PKTS):
            plan.protect(t, t.lan_pkt(size=40 + i))
            inner = t.wan_pkt(size=20 + i)
            plan.wan_in(t.seal(inner), inner)
    for t in T[:len(FAMS)]:
        negatives(t, esp[t.outer], plan, drops)
    assert len(plan.wan) > 32 + 3, "the ESN crossing must come bursts later"
    inner = e.wan_pkt(size=1)
    plan.wan_in(e.seal(inner, seq=0x100000001), inner)
    return T, (e, w), plan, conf, drops


@pytest.fixture(scope="module")
def ah():
    T, (e, w), plan, conf, drops = build()
    res = harness.run(conf, lan=plan.lan, wan=plan.wan)
    return dict(t=T, esn=e, wrap=w, plan=plan, res=res, drops=drops)


def ah_spi(frame):
    """SPI of an AH Ethernet frame (AH right after the base header), or None."""
    l3 = frame[14:]
    if l3[0] >> 4 == 4 and l3[9] == ahcodec.AH:
        off = (l3[0] & 0xf) * 4
    elif l3[0] >> 4 == 6 and l3[6] == ahcodec.AH:
        off = 40
    else:
        return None
    return int.from_bytes(l3[off + 4:off + 8], "big")


def out_of(ah, spi):
    return [f for f in ah["res"].out["wan0"] if ah_spi(f) == spi]


IDS = ["%s-v%d" % (a, f) for a in ALGOS for f in FAMS]


@pytest.mark.parametrize("k", range(len(IDS)), ids=IDS)
def test_outbound_ah_verified(ah, k):
    """Each LAN packet leaves in tunnel-mode AH: the SA's outer header (IPv4
    length and checksum right), protocol 51, AH next header 4/41, payload
    length for an ICV padded to 4 (IPv4) / 8 (IPv6) bytes (RFC 4302 2.2,
    3.3.3.2.1), the SA's SPI, sequence numbers from 1; ahcodec verifies the
    ICV, and scapy too (HMAC); the inner packet is the LAN packet a hop later."""
    t = ah["t"][k]
    want, got = ah["plan"].esp[t.out_sa.spi], out_of(ah, t.out_sa.spi)
    assert len(got) == len(want), "%d AH packets, expected %d" % (len(got), len(want))
    cls = IP if t.outer == 4 else IPv6
    for i, f in enumerate(got):
        l3 = f[14:]
        hdr = cls(l3)
        assert (hdr.src, hdr.dst) == (t.local, t.peer)
        if t.outer == 4:
            assert hdr.len == len(l3) and hdr.chksum == harness.ip_checksum(l3[:20])
        else:
            assert hdr.plen == len(l3) - 40
        op = ahcodec.open_(t.out_sa, l3, t.outer)
        assert op.ok, "ahcodec: ICV does not verify"
        assert (op.spi, op.seq, op.length) == (t.out_sa.spi, i + 1, t.out_sa.ah_len(t.outer))
        assert op.nh == (4 if t.inner == 4 else 41)
        assert op.payload == want[i]
        if not t.out_sa.gmac:
            dec = t.out_sa.scapy_sa(tunnel_header=hdr.copy()).decrypt(copy.deepcopy(cls(l3)))
            assert bytes(dec) == want[i], "scapy disagrees"


def test_esn_outbound_crosses_2_32(ah):
    """With ESN the sender goes on past 2^32: the wire carries the low 32 bits
    (0xffffffff, 0, 1), the ICV covers the high ones (RFC 4302 2.5.1, 3.3.3.3):
    ahcodec verifies each with its high bits and refuses it with others."""
    t = ah["esn"]
    want, got = ah["plan"].esp[t.out_sa.spi], out_of(ah, t.out_sa.spi)
    assert len(got) == PKTS
    for i, f in enumerate(got):
        seq = ESN_START + i
        op = ahcodec.open_(t.out_sa, f[14:], 4, seq_hi=seq >> 32)
        assert op.ok and op.seq == seq & 0xffffffff and op.payload == want[i]
        assert not ahcodec.open_(t.out_sa, f[14:], 4, seq_hi=(seq >> 32) ^ 1).ok


def test_32bit_sequence_never_wraps(ah):
    """Without ESN the last numbers are 0xfffffffe and 0xffffffff; then the SA
    sends nothing more (RFC 4302 2.5: no wrap; sqn_overflow in test_exact_drops)."""
    t = ah["wrap"]
    got = out_of(ah, t.out_sa.spi)
    seqs = [ahcodec.open_(t.out_sa, f[14:], 6).seq for f in got]
    assert seqs == [0xfffffffe, 0xffffffff]
    assert all(ahcodec.open_(t.out_sa, f[14:], 6).ok for f in got)


def test_tshark_reads_the_ah_headers(ah):
    """tshark's AH dissector reads each outbound AH header as the RFC defines
    it: SPI, sequence number, length (32-bit words minus 2), next header."""
    frames, want = [], []
    for t in ah["t"]:
        for i, f in enumerate(out_of(ah, t.out_sa.spi)):
            frames.append(f)
            want.append((t.out_sa.spi, i + 1, t.out_sa.ah_len(t.outer) // 4 - 2,
                         4 if t.inner == 4 else 41))
    assert tshark_ah_fields(frames) == want


def tshark_ah_fields(frames):
    """(SPI, sequence, length, next header) of each frame's AH, as tshark reads it."""
    with harness.Workdir() as d:
        pcap = os.path.join(d, "ah.pcap")
        harness.write_pcap(pcap, frames)
        r = subprocess.run(["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "separator=,",
                            "-e", "ah.spi", "-e", "ah.sequence", "-e", "ah.length",
                            "-e", "ah.next_header"], capture_output=True, text=True,
                           timeout=300)
    assert r.returncode == 0, r.stderr
    return [tuple(int(x, 0) for x in line.split(",")[:4]) for line in r.stdout.splitlines()]


def test_inbound_ah_forwarded(ah):
    """Every AH packet scapy or ahcodec sealed, also those whose mutable outer
    fields changed, comes out of lan0 as its inner packet one hop later, in
    order; nothing else comes out in clear."""
    res = ah["res"]
    wan_clear = [f for f in res.out["wan0"] if ah_spi(f) is None]
    ah["plan"].check_clear(harness.Result(dict(res.out, wan0=wan_clear), res.stats, None))


def test_exact_drops(ah):
    """Each refused packet under its own reason, nothing else dropped."""
    harness.assert_drops(ah["res"].stats, **ah["drops"])


def test_sa_counters(ah):
    """Each SA counted its packets: outbound sent, inbound verified and
    forwarded (with the changed-mutable-fields one and the one behind options
    on each family's first)."""
    st = ah["res"].stats["sa"]
    for k, t in enumerate(ah["t"]):
        assert st[t.out_name]["pkts"] == PKTS, (t.out_name, st[t.out_name])
        extra = 2 if k < len(FAMS) else 0
        assert st[t.in_name]["pkts"] == PKTS + extra, (t.in_name, st[t.in_name])
