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
from scapy.layers.inet6 import IPv6
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
        self.own = harness.HOST4 if fam == 4 else harness.HOST6
        self.out_name, self.in_name = "bwo%d" % slot, "bwi%d" % slot

    def up(self, i):
        """A clear UDP packet of the host to the peer (into the LAN port)."""
        cls = IP if self.fam == 4 else IPv6
        return cls(src=self.own, dst=self.peer) / UDP(sport=5000 + i, dport=7) / Raw(
            b"bitw-up-%d" % i)


class BitwAh(AhTrs):
    """The same with transport AH SAs (ahcodec), the LAN host as local."""

    def __init__(self, fam, slot, algo):
        super().__init__(fam, slot, algo)
        self.own = harness.HOST4 if fam == 4 else harness.HOST6
        self.out_name, self.in_name = "bao%d" % slot, "bai%d" % slot

    up = Bitw.up


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
    return [f for f in bw["res"].out["wan0"]
            if (harness.esp_spi(f) if isinstance(b, Bitw) else ah_spi_of(f)) == b.out_sa.spi]


def ah_spi_of(frame):
    l3 = frame[14:]
    v4 = l3[0] >> 4 == 4
    if (l3[9] if v4 else l3[6]) != 51:
        return None
    h = (l3[0] & 0xf) * 4 if v4 else 40
    return int.from_bytes(l3[h + 4:h + 8], "big")


@pytest.mark.parametrize("k", range(2 * len(AH_ALGOS)), ids=AH_IDS)
def test_host_packets_leave_in_transport_ah(bw, k):
    """The host's packets leave with AH behind their own header, one hop
    later; ahcodec verifies every ICV (scapy too for HMAC), sequence 1, 2, 3."""
    b = bw["b"][2 * len(SUITES) + k]
    out = leaving(bw, b)
    assert len(out) == N
    for i, f in enumerate(out):
        l3 = f[14:]
        hdr = IP(l3) if b.fam == 4 else IPv6(l3)
        assert (hdr.src, hdr.dst) == (b.own, b.peer)
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
    out = [f for f in bw["res"].out["wan0"] if harness.esp_spi(f) == b.out_sa.spi]
    assert len(out) == N
    for i, f in enumerate(out):
        l3 = f[14:]
        hdr = IP(l3) if b.fam == 4 else IPv6(l3)
        assert (hdr.src, hdr.dst) == (b.own, b.peer)
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


def test_tshark_verifies_every_icv(bw):
    frames, uats = [], []
    for b in bw["b"][:2 * len(SUITES)]:
        frames += leaving(bw, b)
        uats.append(b.out_sa.tshark_uat(b.fam, b.own, b.peer))
    verdicts = harness.tshark_icv(frames, [u for u in uats if u])
    assert len(verdicts) == len(frames) == 4 * N and all(g for _, _, g in verdicts), verdicts


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
        assert st["sa"][b.out_name]["pkts"] == N, b.out_name
        assert st["sa"][b.in_name]["pkts"] == N, b.in_name
    n = len(bw["b"]) * N
    harness.assert_totals(st, rx=bw["n_in"], tx=2 * n, drops=sum(bw["drops"].values()))


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
