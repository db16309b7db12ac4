# SPDX-License-Identifier: BSD-3-Clause
"""Transport mode (RFC 4303 3.1.1, RFC 4301 4.1): ESP between the gateway's own
address and a peer's, behind the packets' own header. One espgw run for the
module, IPv4 and IPv6 transport SAs with AES-GCM-128 and AES-CBC + HMAC-SHA-256:
scapy encrypts echo requests and UDP to the gateway in transport mode; espgw
decrypts them, checks the inbound policy, answers the echo requests, and the
replies leave in transport mode through the outbound SA, which scapy decrypts
and tshark verifies. Negative cases with exact counters: a tampered ICV, a
replay, clear traffic that the policy says must come in ESP, what espgw does
not serve itself (no host interface here: local_unhandled)."""

import copy

import pytest
from scapy.layers.inet import IP, ICMP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.packet import Raw

import harness
from espcodec import EspSA

PEER = {4: harness.PEER4, 6: harness.PEER6}
OWN = {4: harness.WAN4, 6: harness.WAN6}
SUITES = {4: "aes-gcm-128", 6: "aes-cbc-128+hmac-sha256-128"}
ECHOES = 5


class Trs:
    """An outbound and an inbound transport SA between the WAN address and the peer."""

    def __init__(self, fam, slot):
        self.fam = fam
        self.out_sa = EspSA(0x30000000 + slot, SUITES[fam])
        self.in_sa = EspSA(0x40000000 + slot, SUITES[fam])
        self.out_name, self.in_name = "tro%d" % fam, "tri%d" % fam
        self.plen = 32 if fam == 4 else 128

    def conf(self):
        sa = "sa add %s dir %s spi 0x%x mode transport local %s remote %s %s"
        own, peer = OWN[self.fam], PEER[self.fam]
        return [
            sa % (self.out_name, "out", self.out_sa.spi, own, peer, self.out_sa.conf_algo()),
            sa % (self.in_name, "in", self.in_sa.spi, own, peer, self.in_sa.conf_algo()),
            "sp add out priority 10 src %s/%d dst %s/%d protect %s"
            % (own, self.plen, peer, self.plen, self.out_name),
            "sp add in priority 10 src %s/%d dst %s/%d protect %s"
            % (peer, self.plen, own, self.plen, self.in_name),
        ]

    def echo(self, i, hlim=64):
        data = Raw(b"trs-%d-" % i + bytes(range(40)))
        if self.fam == 4:
            return IP(src=PEER[4], dst=OWN[4], ttl=hlim, id=100 + i) / ICMP(id=7, seq=i) / data
        return IPv6(src=PEER[6], dst=OWN[6], hlim=hlim) / ICMPv6EchoRequest(id=7, seq=i) / data

    def udp(self, i):
        ip = IP(src=PEER[4], dst=OWN[4]) if self.fam == 4 else IPv6(src=PEER[6], dst=OWN[6])
        return ip / UDP(sport=4000 + i, dport=9) / Raw(b"udp-%d" % i)

    def seal(self, pkt, seq):
        """A WAN frame: pkt in transport-mode ESP of the inbound SA (scapy)."""
        s = self.in_sa.scapy_sa()
        s.seq_num = seq
        return harness.wan_frame(s.encrypt(pkt.__class__(bytes(pkt))))

    def open(self, l3):
        """scapy's decryption of an outbound frame's L3 (transport mode)."""
        s = self.out_sa.scapy_sa()
        cls = IP if self.fam == 4 else IPv6
        return s.decrypt(copy.deepcopy(cls(l3)))


def build():
    T = {4: Trs(4, 1), 6: Trs(6, 2)}
    conf = harness.base_conf()
    for t in T.values():
        conf += t.conf()
    wan, seqs = [], {4: 0, 6: 0}
    drops = {"auth_fail": 0, "replay": 0, "policy_mismatch": 0}
    for t in T.values():
        for i in range(ECHOES):
            seqs[t.fam] += 1
            wan.append(t.seal(t.echo(i), seqs[t.fam]))
        # The last echo again: a replay.
        wan.append(t.seal(t.echo(ECHOES - 1), seqs[t.fam]))
        drops["replay"] += 1
        # A bit of the ICV flipped.
        seqs[t.fam] += 1
        bad = bytearray(bytes(t.seal(t.echo(99), seqs[t.fam])))
        bad[-1] ^= 0x01
        wan.append(bytes(bad))
        drops["auth_fail"] += 1
        # The policy protects this traffic: arriving in clear, it is refused.
        wan.append(harness.wan_frame(t.echo(98)))
        drops["policy_mismatch"] += 1
        # IKE in clear: with no host interface nothing would take it, so it stays
        # the SPD's (whose rule wants this peer's traffic in ESP).
        ike = t.udp(0)
        ike[UDP].sport = ike[UDP].dport = 500
        wan.append(harness.wan_frame(ike))
        drops["policy_mismatch"] += 1
        # UDP to the gateway: decrypted, but nothing here serves it.
        seqs[t.fam] += 1
        wan.append(t.seal(t.udp(1), seqs[t.fam]))
    return T, conf, wan, drops


@pytest.fixture(scope="module")
def trs():
    T, conf, wan, drops = build()
    res = harness.run(conf, wan=wan)
    return dict(t=T, res=res, drops=drops, n_in=len(wan))


def replies(trs, fam):
    t = trs["t"][fam]
    return [f for f in trs["res"].out["wan0"] if harness.esp_spi(f) == t.out_sa.spi]


@pytest.mark.parametrize("fam", [4, 6])
def test_echo_replies_leave_in_transport_mode(trs, fam):
    """Each echo request that came in ESP is answered in ESP, transport mode:
    the reply's own header (gateway -> peer, protocol/next header ESP), scapy
    decrypts it to the echo reply, sequence numbers from 1."""
    t = trs["t"][fam]
    out = replies(trs, fam)
    assert len(out) == ECHOES, "%d replies in ESP, expected %d" % (len(out), ECHOES)
    for i, f in enumerate(out):
        l3 = f[14:]
        hdr = IP(l3) if fam == 4 else IPv6(l3)
        assert (hdr.src, hdr.dst) == (OWN[fam], PEER[fam])
        if fam == 4:
            assert hdr.proto == 50 and hdr.len == len(l3)
            assert hdr.chksum == harness.ip_checksum(l3[:20]), "IPv4 checksum"
        else:
            assert hdr.nh == 50 and hdr.plen == len(l3) - 40
        dec = t.open(l3)
        if fam == 4:
            assert dec.proto == 1 and dec[ICMP].type == 0 and dec[ICMP].seq == i
        else:
            assert dec.nh == 58 and dec[ICMPv6EchoReply].seq == i
        data = dec[ICMP].load if fam == 4 else dec[ICMPv6EchoReply].data
        assert data.startswith(b"trs-%d-" % i)
        assert t.out_sa.open(l3[20 if fam == 4 else 40:]).seq == i + 1


def test_tshark_verifies_every_icv(trs):
    """tshark (independent of scapy) checks the ICV of every reply."""
    frames, uats = [], []
    for fam, t in trs["t"].items():
        frames += replies(trs, fam)
        uats.append(t.out_sa.tshark_uat(fam, OWN[fam], PEER[fam]))
    verdicts = harness.tshark_icv(frames, uats)
    assert all(good for _, _, good in verdicts), verdicts


def test_counters_exact(trs):
    """Every frame in ends as counted: replies out, the negative cases dropped by reason."""
    st = trs["res"].stats
    harness.assert_drops(st, **trs["drops"])
    for fam, t in trs["t"].items():
        assert st["sa"][t.in_name]["pkts"] == ECHOES + 1  # the echoes and the UDP datagram
        assert st["sa"][t.out_name]["pkts"] == ECHOES
    assert st["control"]["echo_reply"] == 2 * ECHOES
    assert st["control"]["drops"]["local_unhandled"] == 2  # UDP port 9, nothing serves it
    # Decrypted packets for the gateway go to the control path; the replies come back.
    harness.assert_totals(st, rx=trs["n_in"], tx=2 * ECHOES, drops=sum(trs["drops"].values()),
                          to_ctl=2 * ECHOES + 2)


def test_refused_configurations(tmp_path):
    """What transport mode cannot mean is refused with file:line."""
    t = Trs(4, 1)
    base = harness.base_conf() + t.conf()[:2]
    cases = [
        ("sp add out priority 10 src 10.1.0.0/24 dst %s/32 protect tro4" % PEER[4],
         "transport SA: its policies need src %s and dst %s" % (OWN[4], PEER[4])),
        (t.conf()[0].replace("tro4", "x").replace("0x30000001", "0x5") + " ttl 9",
         "not with mode transport"),
    ]
    for line, want in cases:
        r = harness.check_conf(base + [line], tmp_path)
        assert r.returncode != 0 and want in r.stdout + r.stderr, r.stdout + r.stderr
