# SPDX-License-Identifier: BSD-3-Clause
"""Transport mode (RFC 4303 3.1.1, RFC 4301 4.1): ESP between the gateway's own
address and a peer's, behind the packets' own header. One espgw run for the
module: an IPv4 and an IPv6 transport SA pair for every algorithm espgw offers.
espcodec (python3-cryptography) encrypts echo requests and UDP to the gateway
in transport mode, IPv6 ones also behind extension headers; espgw decrypts
them, checks the inbound policy, answers the echo requests, and the replies
leave in transport mode through the outbound SA: espcodec and scapy decrypt
them, tshark verifies their ICVs. Negative cases with exact counters: a
tampered ICV, a replay, clear traffic that the policy says must come in ESP,
IKE in clear without a host interface, what espgw does not serve itself (no
host interface here: local_unhandled)."""

import copy

import pytest
from scapy.layers.inet import IP, ICMP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.packet import Raw

import harness
from espcodec import EspSA

OWN = {4: harness.WAN4, 6: harness.WAN6}
# One transport SA pair per (suite, family), each with a peer of its own (its
# policies select exactly its two endpoints). Every algorithm espgw offers.
SUITES = ["aes-gcm-128", "aes-gcm-256", "chacha20-poly1305", "aes-cbc-128+hmac-sha256-128",
          "aes-cbc-256+hmac-sha1-96", "aes-ctr-128+hmac-sha384-192",
          "aes-ctr-256+hmac-sha512-256", "null+hmac-sha256-128", "aes-gmac-128", "aes-gmac-256"]
ECHOES = 3
DST_OPTS, HOP_BY_HOP = 60, 0


class Trs:
    """An outbound and an inbound transport SA between the WAN address and a peer."""

    def __init__(self, fam, slot, suite):
        self.fam, self.suite = fam, suite
        self.out_sa = EspSA(0x30000000 + slot, suite)
        self.in_sa = EspSA(0x40000000 + slot, suite)
        self.out_name, self.in_name = "tro%d" % slot, "tri%d" % slot
        self.peer = "203.0.113.%d" % (10 + slot) if fam == 4 else "2001:db8:200::%x" % (
            0x10 + slot)
        self.own = OWN[fam]
        self.plen = 32 if fam == 4 else 128
        self.seq = 0

    def conf(self):
        sa = "sa add %s dir %s spi 0x%x mode transport local %s remote %s %s"
        return [
            sa % (self.out_name, "out", self.out_sa.spi, self.own, self.peer,
                  self.out_sa.conf_algo()),
            sa % (self.in_name, "in", self.in_sa.spi, self.own, self.peer,
                  self.in_sa.conf_algo()),
            "sp add out priority 10 src %s/%d dst %s/%d protect %s"
            % (self.own, self.plen, self.peer, self.plen, self.out_name),
            "sp add in priority 10 src %s/%d dst %s/%d protect %s"
            % (self.peer, self.plen, self.own, self.plen, self.in_name),
        ]

    def ip(self, **kw):
        if self.fam == 4:
            return IP(src=self.peer, dst=self.own, **kw)
        return IPv6(src=self.peer, dst=self.own, **kw)

    def echo(self, i):
        data = Raw(b"trs-%d-" % i + bytes(range(40)))
        if self.fam == 4:
            return self.ip(id=100 + i) / ICMP(id=7, seq=i) / data
        return self.ip() / ICMPv6EchoRequest(id=7, seq=i) / data

    def udp(self, i, port=9):
        return self.ip() / UDP(sport=4000 + i, dport=port) / Raw(b"udp-%d" % i)

    def seal(self, pkt, exts=b"", ext_nh=None):
        """A WAN frame: pkt in transport-mode ESP of the inbound SA, sealed by
        espcodec (every suite, GMAC too): the packet's own header, then exts
        (IPv6 extension headers whose chain ends in ESP: ext_nh is the first),
        then ESP carrying its upper-layer part (RFC 4303 3.1.1)."""
        self.seq += 1
        raw = bytes(pkt)
        hlen = (raw[0] & 0xf) * 4 if self.fam == 4 else 40
        upper = raw[9] if self.fam == 4 else raw[6]
        esp = self.in_sa.seal(raw[hlen:], upper, self.seq)
        hdr = bytearray(raw[:hlen])
        if self.fam == 4:
            hdr[9] = 50
            hdr[2:4] = (hlen + len(esp)).to_bytes(2, "big")
            hdr[10:12] = b"\0\0"
            hdr[10:12] = harness.ip_checksum(bytes(hdr)).to_bytes(2, "big")
        else:
            hdr[6] = 50 if ext_nh is None else ext_nh
            hdr[4:6] = (len(exts) + len(esp)).to_bytes(2, "big")
        cls = IP if self.fam == 4 else IPv6
        return harness.wan_frame(cls(bytes(hdr) + exts + esp))

    def open(self, l3):
        """The outbound ESP of an L3 packet, opened by espcodec (and by scapy
        where it can): (Opened, scapy's packet or None)."""
        hlen = 20 if self.fam == 4 else 40
        op = self.out_sa.open(l3[hlen:])
        dec = None
        if self.out_sa.scapy_ok():
            cls = IP if self.fam == 4 else IPv6
            dec = self.out_sa.scapy_sa().decrypt(copy.deepcopy(cls(l3)))
        return op, dec


def ext_hdr(nh, kind):
    """An 8-byte IPv6 extension header (hop-by-hop or destination options) with
    a PadN option, followed by next header nh."""
    return bytes([nh, 0, 1, 4, 0, 0, 0, 0])


def build():
    T, slot = [], 0
    for suite in SUITES:
        for fam in (4, 6):
            slot += 1
            T.append(Trs(fam, slot, suite))
    conf = harness.base_conf()
    for t in T:
        conf += t.conf()
    wan = []
    drops = {"auth_fail": 0, "replay": 0, "policy_mismatch": 0}
    unhandled = 0
    for t in T:
        for i in range(ECHOES):
            wan.append(t.seal(t.echo(i)))
        # UDP to the gateway: decrypted, but nothing here serves it (no host interface).
        wan.append(t.seal(t.udp(1)))
        unhandled += 1
    for t in T[:2]:  # the negative cases, once per family
        # The last echo again: a replay.
        t.seq -= 1
        wan.append(t.seal(t.echo(ECHOES - 1)))
        drops["replay"] += 1
        # A bit of the ICV flipped.
        bad = bytearray(bytes(t.seal(t.echo(99))))
        bad[-1] ^= 0x01
        wan.append(bytes(bad))
        drops["auth_fail"] += 1
        # The policy protects this traffic: arriving in clear, it is refused.
        wan.append(harness.wan_frame(t.echo(98)))
        drops["policy_mismatch"] += 1
        # IKE in clear: with no host interface nothing would take it, so it stays
        # the SPD's (whose rule wants this peer's traffic in ESP).
        wan.append(harness.wan_frame(t.udp(0, port=500)))
        drops["policy_mismatch"] += 1
    # IPv6 extension headers in front of ESP (RFC 4303 3.1.1): found, decrypted,
    # the chain restored with the upper protocol behind them.
    t6 = T[1]
    for kind in (DST_OPTS, HOP_BY_HOP):
        wan.append(t6.seal(t6.udp(2 + kind), exts=ext_hdr(50, kind), ext_nh=kind))
        unhandled += 1
    return T, conf, wan, drops, unhandled


@pytest.fixture(scope="module")
def trs():
    T, conf, wan, drops, unhandled = build()
    res = harness.run(conf, wan=wan)
    return dict(t=T, res=res, drops=drops, unhandled=unhandled, n_in=len(wan))


def replies(trs, t):
    return [f for f in trs["res"].out["wan0"] if harness.esp_spi(f) == t.out_sa.spi]


IDS = ["%s-v%d" % (s, f) for s in SUITES for f in (4, 6)]


@pytest.mark.parametrize("k", range(2 * len(SUITES)), ids=IDS)
def test_echo_replies_leave_in_transport_mode(trs, k):
    """Each echo request that came in ESP is answered in ESP, transport mode:
    the reply's own header (gateway -> peer, protocol/next header ESP, lengths
    and IPv4 checksum right), espcodec (and scapy where it can) open it to the
    echo reply, sequence numbers from 1, RFC 4303 2.4 padding."""
    t = trs["t"][k]
    out = replies(trs, t)
    assert len(out) == ECHOES, "%d replies in ESP, expected %d" % (len(out), ECHOES)
    for i, f in enumerate(out):
        l3 = f[14:]
        hdr = IP(l3) if t.fam == 4 else IPv6(l3)
        assert (hdr.src, hdr.dst) == (t.own, t.peer)
        if t.fam == 4:
            assert hdr.proto == 50 and hdr.len == len(l3) and hdr.ihl == 5
            assert hdr.chksum == harness.ip_checksum(l3[:20]), "IPv4 checksum"
        else:
            assert hdr.nh == 50 and hdr.plen == len(l3) - 40
        op, dec = t.open(l3)
        assert op.seq == i + 1 and op.nh == (1 if t.fam == 4 else 58)
        assert op.padding == bytes(range(1, len(op.padding) + 1))
        icmp = (ICMP if t.fam == 4 else ICMPv6EchoReply)(op.payload)
        assert icmp.type == (0 if t.fam == 4 else 129) and icmp.seq == i
        data = icmp.load if t.fam == 4 else icmp.data
        assert data.startswith(b"trs-%d-" % i)
        if dec is not None:
            assert bytes(dec.payload) == op.payload, "scapy and espcodec disagree"


def test_tshark_verifies_every_icv(trs):
    """tshark (independent of scapy and espcodec) checks the ICV of every reply
    of the SAs it knows (tshark 4.0 has no GMAC and no ChaCha20)."""
    frames, uats = [], []
    for t in trs["t"]:
        uat = t.out_sa.tshark_uat(t.fam, t.own, t.peer)
        if uat:
            frames += replies(trs, t)
            uats.append(uat)
    verdicts = harness.tshark_icv(frames, uats)
    assert len(verdicts) >= 6 * ECHOES and all(good for _, _, good in verdicts), verdicts


def test_counters_exact(trs):
    """Every frame in ends as counted: replies out, the negative cases dropped
    by reason, what nothing serves dropped on the control path."""
    st = trs["res"].stats
    harness.assert_drops(st, **trs["drops"])
    for i, t in enumerate(trs["t"]):
        extra = 2 if i == 1 else 0  # the IPv6 packets behind extension headers
        assert st["sa"][t.in_name]["pkts"] == ECHOES + 1 + extra, t.in_name
        assert st["sa"][t.out_name]["pkts"] == ECHOES, t.out_name
    n = len(trs["t"])
    assert st["control"]["echo_reply"] == n * ECHOES
    assert st["control"]["drops"]["local_unhandled"] == trs["unhandled"]
    # Decrypted packets for the gateway go to the control path; the replies come back.
    harness.assert_totals(st, rx=trs["n_in"], tx=n * ECHOES, drops=sum(trs["drops"].values()),
                          to_ctl=n * ECHOES + trs["unhandled"])


def test_refused_configurations(tmp_path):
    """What transport mode cannot mean is refused with file:line."""
    t = Trs(4, 1, "aes-gcm-128")
    base = harness.base_conf() + t.conf()[:2]
    cases = [
        ("sp add out priority 10 src 10.1.0.0/24 dst %s/32 protect tro1" % t.peer,
         "transport SA: its policies need src %s and dst %s" % (t.own, t.peer)),
        (t.conf()[0].replace("tro1", "x").replace("0x30000001", "0x5") + " ttl 9",
         "not with mode transport"),
    ]
    for line, want in cases:
        r = harness.check_conf(base + [line], tmp_path)
        assert r.returncode != 0 and want in r.stdout + r.stderr, r.stdout + r.stderr
