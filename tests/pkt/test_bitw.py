# SPDX-License-Identifier: BSD-3-Clause
"""Transport mode as a bump in the wire (RFC 4301 3.3, 4.1): a transport SA
between a LAN host (not the gateway) and a peer. The host's clear packets to
the peer leave with ESP between their own header and payload, one hop later;
the peer's transport ESP to the host is decrypted, checked against the
inbound policy and forwarded to the host in clear. One espgw run, IPv4 and
IPv6, AES-GCM-128 and AES-CBC-128 + HMAC-SHA-256-128: espcodec and scapy
open espgw's ESP, tshark verifies its ICVs, espcodec seals the peer's; and
AH (HMAC-SHA-256-128, AES-GMAC-128) the same way, judged by ahcodec and
scapy.
Negative cases with exact counters: a replay, a forged ICV, clear traffic the
policy wants in ESP, and ESP that is not the SA's (another host's address, an
unknown SPI) staying transit for the SPD (no rule; the host's policy)."""

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, PadN
from scapy.packet import Raw

import ahcodec
import harness
from test_ah_trs import AhTrs
from test_transport import Trs

SUITES = ["aes-gcm-128", "aes-cbc-128+hmac-sha256-128"]
N = 3
OTHER = {4: "10.1.0.11", 6: "2001:db8:1::11"}


class Bitw(Trs):
    """Trs with the LAN host as its local end: sealed frames go to the host."""

    def __init__(self, fam, slot, suite):
        super().__init__(fam, slot, suite)
        self.slot = slot
        self.own = harness.HOST4 if fam == 4 else harness.HOST6
        self.out_name, self.in_name = "bwo%d" % slot, "bwi%d" % slot

    def up(self, i):
        """A clear UDP packet of the host to the peer (into the LAN port)."""
        cls = IP if self.fam == 4 else IPv6
        return cls(src=self.own, dst=self.peer) / UDP(sport=5000 + i, dport=7) / Raw(
            b"bitw-up-%d" % i)

    def up_ext(self, i):
        """An IPv6 one behind a destination options header (PadN): ESP and AH
        go behind it on the way out (RFC 4303 3.1.1, RFC 4302 3.1.1)."""
        return IPv6(src=self.own, dst=self.peer) / IPv6ExtHdrDestOpt(
            options=[PadN(optdata=b"\0\0\0\0")]) / UDP(sport=5000 + i, dport=7) / Raw(
            b"bitw-up-%d" % i)


class BitwAh(AhTrs):
    """The same with transport AH SAs (ahcodec), the LAN host as local."""

    def __init__(self, fam, slot, algo):
        super().__init__(fam, slot, algo)
        self.own = harness.HOST4 if fam == 4 else harness.HOST6
        self.out_name, self.in_name = "bao%d" % slot, "bai%d" % slot

    up = Bitw.up
    up_ext = Bitw.up_ext


AH_ALGOS = ["hmac-sha256-128", "aes-gmac-128"]


def build():
    B = [Bitw(fam, 40 + 2 * k + (fam == 6), s) for k, s in enumerate(SUITES) for fam in (4, 6)]
    A = [BitwAh(fam, 50 + 2 * k + (fam == 6), a) for k, a in enumerate(AH_ALGOS)
         for fam in (4, 6)]
    conf = harness.base_conf()
    for b in B + A:
        conf += b.conf()
    lan, wan, down = [], [], []
    for b in B + A:
        lan += [harness.lan_frame(b.up(i)) for i in range(N)]
        for i in range(N):
            down.append((b, b.udp(i, port=9)))
            wan.append(b.seal(down[-1][1], i) if b in A else b.seal(down[-1][1]))
    # The IPv6 SAs: one more packet, behind a destination options header.
    for b in (B[1], A[1]):
        lan.append(harness.lan_frame(b.up_ext(N)))
    drops = {"replay": 0, "auth_fail": 0, "policy_mismatch": 0, "no_policy": 0}
    for b in B[:2]:  # once per family
        b.seq -= 1
        wan.append(b.seal(b.udp(N - 1, port=9)))
        drops["replay"] += 1
        bad = bytearray(bytes(b.seal(b.udp(90, port=9))))
        bad[-1] ^= 0x80
        wan.append(bytes(bad))
        drops["auth_fail"] += 1
        # The host's traffic from the peer in clear: the policy wants it in ESP.
        wan.append(harness.wan_frame(b.udp(91, port=9)))
        drops["policy_mismatch"] += 1
        # The SA's ESP to another LAN host is not the SA's: transit, no rule.
        other = bytearray(bytes(b.seal(b.udp(92, port=9))))
        wan.append(retarget(bytes(other), b.fam, OTHER[b.fam]))
        drops["no_policy"] += 1
        # An SPI no SA has, to the host: transit too, where the host's inbound
        # policy (any protocol) wants what comes from the peer in the SA.
        wan.append(respi(bytes(b.seal(b.udp(93, port=9))), b.fam, 0x0bad0bad))
        drops["policy_mismatch"] += 1
    # AH of the host's SA with a byte of the payload changed: refused.
    a = A[0]
    bad = bytearray(a.seal_codec(a.udp(94, port=9)))
    bad[-1] ^= 1
    wan.append(bytes(bad))
    drops["auth_fail"] += 1
    return B + A, conf, lan, wan, down, drops


def retarget(frame, fam, dst):
    """The frame with its IP destination replaced (IPv4 checksum fixed)."""
    from scapy.layers.l2 import Ether
    e = Ether(frame)
    e.payload.dst = dst
    if fam == 4:
        del e[IP].chksum
    return bytes(e)


def respi(frame, fam, spi):
    hlen = 14 + (20 if fam == 4 else 40)
    return frame[:hlen] + spi.to_bytes(4, "big") + frame[hlen + 4:]


@pytest.fixture(scope="module")
def bw():
    B, conf, lan, wan, down, drops = build()
    res = harness.run(conf, lan=lan, wan=wan)
    return dict(b=B, res=res, down=down, drops=drops, n_in=len(lan) + len(wan), lan=lan)


IDS = ["%s-v%d" % (s, f) for s in SUITES for f in (4, 6)]
AH_IDS = ["ah-%s-v%d" % (a, f) for a in AH_ALGOS for f in (4, 6)]


def leaving(bw, b):
    """b's frames out of wan0: ESP or AH (by b's kind) with b's outbound SPI."""
    proto, ofs = (50, 0) if isinstance(b, Bitw) else (51, 4)
    return [f for f in bw["res"].out["wan0"] if spi_of(f, proto, ofs) == b.out_sa.spi]


def host_l3(bw, b):
    """(i, L3 bytes, parsed IP header) of b's first N frames out of wan0: as
    many as the host sent (and the extension header case), from the host to
    its peer."""
    out = leaving(bw, b)
    assert len(out) == N + extra(b)
    for i, f in enumerate(out[:N]):
        l3 = f[14:]
        hdr = IP(l3) if b.fam == 4 else IPv6(l3)
        assert (hdr.src, hdr.dst) == (b.own, b.peer)
        yield i, l3, hdr


def spi_of(frame, proto, ofs):
    """The SPI of the IPsec header proto behind the IP header (and IPv6
    extension headers), ofs bytes into it; None for anything else."""
    l3 = frame[14:]
    if l3[0] >> 4 == 4:
        nh, h = l3[9], (l3[0] & 0xf) * 4
    else:
        _, _, h, nh = ahcodec.split_v6(l3)
    return int.from_bytes(l3[h + ofs:h + ofs + 4], "big") if nh == proto else None


@pytest.mark.parametrize("k", range(2 * len(AH_ALGOS)), ids=AH_IDS)
def test_host_packets_leave_in_transport_ah(bw, k):
    """The host's packets leave with AH behind their own header, one hop
    later; ahcodec verifies every ICV (scapy too for HMAC), sequence 1, 2, 3."""
    b = bw["b"][2 * len(SUITES) + k]
    for i, l3, hdr in host_l3(bw, b):
        assert (hdr.ttl if b.fam == 4 else hdr.hlim) == 63
        op = ahcodec.open_(b.out_sa, l3, b.fam)
        assert op.ok and op.seq == i + 1 and op.nh == 17
        assert bytes(UDP(op.payload).payload) == b"bitw-up-%d" % i
        if not b.out_sa.gmac:
            dec = b.out_sa.scapy_sa().decrypt((IP if b.fam == 4 else IPv6)(l3))
            assert bytes(dec.payload) == op.payload, "scapy and ahcodec disagree"


@pytest.mark.parametrize("k", range(2 * len(SUITES)), ids=IDS)
def test_host_packets_leave_in_transport_esp(bw, k):
    """The host's packets leave by WAN with its own header (one hop later, the
    protocol ESP, lengths and checksum right), espcodec and scapy open them to
    the very UDP datagram, sequence numbers 1, 2, 3."""
    b = bw["b"][k]
    for i, l3, hdr in host_l3(bw, b):
        if b.fam == 4:
            assert hdr.proto == 50 and hdr.ttl == 63 and hdr.len == len(l3)
            assert hdr.chksum == harness.ip_checksum(l3[:20]), "IPv4 checksum"
        else:
            assert hdr.nh == 50 and hdr.hlim == 63 and hdr.plen == len(l3) - 40
        op, dec = b.open(l3)
        assert op.seq == i + 1 and op.nh == 17
        assert bytes(UDP(op.payload).payload) == b"bitw-up-%d" % i
        if dec is not None:
            assert bytes(dec.payload) == op.payload, "scapy and espcodec disagree"


def extra(b):
    """The packet behind a destination options header: the IPv6 SAs of the
    first ESP suite and of the first AH algorithm."""
    return 1 if b.fam == 6 and b.slot in (41, 51) else 0


def test_extension_header_stays_in_front(bw):
    """The IPv6 packet with a destination options header leaves with that
    header first and ESP (AH) behind it, its next header 50 (51): espcodec
    and ahcodec open what follows to the UDP datagram."""
    esp_b, ah_b = bw["b"][1], bw["b"][2 * len(SUITES) + 1]
    l3 = leaving(bw, esp_b)[-1][14:]
    assert l3[6] == 60 and l3[40] == 50, "ESP not behind the destination options"
    op = esp_b.out_sa.open(l3[48:])
    assert op.nh == 17 and bytes(UDP(op.payload).payload) == b"bitw-up-%d" % N
    l3 = leaving(bw, ah_b)[-1][14:]
    assert l3[6] == 60 and l3[40] == 51, "AH not behind the destination options"
    op = ahcodec.open_(ah_b.out_sa, l3, 6)
    assert op.ok and op.nh == 17 and bytes(UDP(op.payload).payload) == b"bitw-up-%d" % N


def test_tshark_verifies_every_icv(bw):
    frames, uats = [], []
    for b in bw["b"][:2 * len(SUITES)]:
        frames += leaving(bw, b)
        uats.append(b.out_sa.tshark_uat(b.fam, b.own, b.peer))
    verdicts = harness.tshark_icv(frames, [u for u in uats if u])
    assert len(verdicts) == len(frames) == 4 * N + 1 and all(g for _, _, g in verdicts), verdicts


def test_peer_packets_reach_the_host_in_clear(bw):
    """Each of the peer's ESP packets reaches the host as the datagram the
    peer sealed, one hop later, with the host's Ethernet addresses."""
    got = bw["res"].out["lan0"]
    want = [harness.ttl_dec(p) for _, p in bw["down"]]
    assert len(got) == len(want)
    for f, w in zip(sorted(got, key=lambda f: f[14:]), sorted(want)):
        harness.clear_frame_check(f, w, "lan0")


def test_counters_exact(bw):
    st = bw["res"].stats
    harness.assert_drops(st, **bw["drops"])
    for i, b in enumerate(bw["b"]):
        assert st["sa"][b.out_name]["pkts"] == N + extra(b), b.out_name
        assert st["sa"][b.in_name]["pkts"] == N, b.in_name
    n = len(bw["b"]) * N
    harness.assert_totals(st, rx=bw["n_in"], tx=2 * n + 2, drops=sum(bw["drops"].values()))


def test_refused_configurations(tmp_path):
    """A bump in the wire whose remote is the gateway, or in UDP, is refused."""
    b = Bitw(4, 40, "aes-gcm-128")
    cases = [
        (b.conf()[0].replace(b.peer, harness.WAN4), "remote %s is an address of the gateway"
         % harness.WAN4),
        (b.conf()[0] + " encap udp", "a bump in the wire does not use UDP"),
    ]
    for line, want in cases:
        r = harness.check_conf(harness.base_conf() + [line], tmp_path)
        assert r.returncode != 0 and want in r.stdout + r.stderr, r.stdout + r.stderr
