# SPDX-License-Identifier: BSD-3-Clause
"""Transport mode behind NAT (RFC 3948): `mode transport ... encap udp`. One
espgw run for the module on pcap ports, an IPv4 and an IPv6 transport SA pair
for AES-GCM and AES-CBC + HMAC-SHA-256:
- inbound: echo requests in transport ESP in UDP, sealed by espcodec (and by
  scapy with its nat_t_header), are decrypted and answered;
- outbound: the replies leave as IP | UDP 4500->4500 | ESP: lengths, IPv4
  header checksum, UDP checksum 0 over IPv4 (RFC 3948 2.1), a valid one over
  IPv6 (RFC 8200 8.1); espcodec and scapy open them, tshark verifies the ICVs;
- nat-oa (RFC 3948 3.1.2): an ICMPv6 echo whose checksum the peer computed
  over its original addresses is answered through an SA with nat-oa-src /
  nat-oa-dst, refused (bad checksum) through one without;
- negative cases with exact counters: forged ICV, replay, plain ESP for the
  encap SA, ESP in UDP on another SA's port, a lying UDP length, a keepalive.
TCP and UDP checksums fixed by nat-oa: tests/ctl/test_natoa.py (decrypted
TCP/UDP for the gateway leaves only through a host interface, judged there by
the kernel)."""

import copy
import struct

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.ipsec import ESP
from scapy.packet import Raw

import harness
from espcodec import EspSA

OWN = {4: harness.WAN4, 6: harness.WAN6}
SUITES = ["aes-gcm-128", "aes-cbc-128+hmac-sha256-128"]
ECHOES = 3
NATT = 4500
# The peer's private address behind its NAT, and ours as the peer saw it (RFC 3948 3.1.2).
OA = {4: ("192.168.77.5", "100.64.0.9"), 6: ("fd00:77::5", "2001:db8:ffff::9")}


class TrsNat:
    """An outbound and an inbound transport SA in UDP between us and a peer."""

    def __init__(self, fam, slot, suite, opts="encap udp", natoa=False):
        self.fam, self.suite, self.slot = fam, suite, slot
        self.out_sa = EspSA(0x31000000 + slot, suite)
        self.in_sa = EspSA(0x41000000 + slot, suite)
        self.out_name, self.in_name = "tno%d" % slot, "tni%d" % slot
        self.peer = "203.0.113.%d" % (60 + slot) if fam == 4 else "2001:db8:200::%x" % (
            0x60 + slot)
        self.own = OWN[fam]
        self.plen = 32 if fam == 4 else 128
        self.opts = opts
        self.natoa = natoa
        self.seq = 0
        self.sport = 4600 if "4600" in opts else NATT

    def conf(self):
        sa = "sa add %s dir %s spi 0x%x mode transport local %s remote %s %s %s"
        oa = " nat-oa-src %s nat-oa-dst %s" % OA[self.fam] if self.natoa else ""
        return [
            sa % (self.out_name, "out", self.out_sa.spi, self.own, self.peer,
                  self.out_sa.conf_algo(), self.opts),
            sa % (self.in_name, "in", self.in_sa.spi, self.own, self.peer,
                  self.in_sa.conf_algo(), self.opts + oa),
            "sp add out priority 10 src %s/%d dst %s/%d protect %s"
            % (self.own, self.plen, self.peer, self.plen, self.out_name),
            "sp add in priority 10 src %s/%d dst %s/%d protect %s"
            % (self.peer, self.plen, self.own, self.plen, self.in_name),
        ]

    def ip(self, src=None, dst=None, **kw):
        cls = IP if self.fam == 4 else IPv6
        return cls(src=src or self.peer, dst=dst or self.own, **kw)

    def echo(self, i, src=None, dst=None):
        """An echo request; src/dst: the addresses its checksum is computed over."""
        data = Raw(b"tnat-%d-" % i + bytes(range(30)))
        if self.fam == 4:
            p = self.ip(src, dst) / ICMP(id=9, seq=i) / data
        else:
            p = self.ip(src, dst) / ICMPv6EchoRequest(id=9, seq=i) / data
        p = p.__class__(bytes(p))
        p.src, p.dst = self.peer, self.own  # arrives from the NAT, checksum as built
        return p

    def esp_of(self, pkt, seq=None):
        raw = bytes(pkt)
        hlen = (raw[0] & 0xf) * 4 if self.fam == 4 else 40
        upper = raw[9] if self.fam == 4 else raw[6]
        if seq is None:
            self.seq += 1
            seq = self.seq
        return self.in_sa.seal(raw[hlen:], upper, seq)

    def udp_frame(self, esp, dport=None, udp_len=None):
        """A WAN frame: the peer's header, UDP 4500 -> our port, then esp. IPv4
        checksum 0 (RFC 3948 2.1), IPv6 a computed one; udp_len lies."""
        u = UDP(sport=NATT, dport=self.sport if dport is None else dport)
        if self.fam == 4:
            u.chksum = 0
        p = self.ip() / u / Raw(esp)
        b = bytearray(bytes(p))
        if udp_len is not None:
            off = 20 if self.fam == 4 else 40
            b[off + 4:off + 6] = struct.pack("!H", udp_len)
            b[off + 6:off + 8] = b"\0\0"
        return harness.wan_frame((IP if self.fam == 4 else IPv6)(bytes(b)))

    def plain_frame(self, esp):
        nh = {"proto": 50} if self.fam == 4 else {"nh": 50}
        return harness.wan_frame(self.ip(**nh) / Raw(esp))

    def scapy_frame(self, pkt):
        """The same sealed by scapy's SecurityAssociation with nat_t_header;
        framed as udp_frame does (scapy writes an IPv4 UDP length of 8 and an
        IPv6 checksum of 0, TESTING.md)."""
        self.seq += 1
        sa = self.in_sa.scapy_sa()
        sa.nat_t_header = UDP(sport=NATT, dport=self.sport)
        e = bytes(sa.encrypt(pkt.__class__(bytes(pkt)), seq_num=self.seq))
        return self.udp_frame(e[(20 if self.fam == 4 else 40) + 8:])


def tunnels():
    T, slot = [], 0
    for suite in SUITES:
        for fam in (4, 6):
            slot += 1
            T.append(TrsNat(fam, slot, suite))
    return T


def build():
    T = tunnels()
    oa6 = TrsNat(6, 5, "aes-gcm-128", natoa=True)  # nat-oa: the echo's checksum fixed
    other = TrsNat(4, 6, "aes-gcm-128", opts="encap udp sport 4600 dport 4600")
    conf = harness.base_conf()
    for t in T + [oa6, other]:
        conf += t.conf()
    wan = []
    drops = dict(auth_fail=0, replay=0, encap_mismatch=0, natt_malformed=0)
    answered = {}
    for t in T:
        for i in range(ECHOES):
            wan.append(t.udp_frame(t.esp_of(t.echo(i))))
        wan.append(t.scapy_frame(t.echo(ECHOES)))
        answered[t.out_name] = ECHOES + 1
    for t in T[:2]:
        pk = t.echo(50)
        wan.append(t.udp_frame(t.esp_of(pk, seq=t.seq)))  # the last one again: replay
        drops["replay"] += 1
        bad = bytearray(t.esp_of(pk))
        bad[-1] ^= 1  # under a valid UDP checksum (IPv6 checks it)
        wan.append(t.udp_frame(bytes(bad)))
        drops["auth_fail"] += 1
        wan.append(t.plain_frame(t.esp_of(pk)))  # plain ESP for an encap udp SA
        wan.append(t.udp_frame(t.esp_of(pk), dport=4600))  # another SA's NAT-T port
        drops["encap_mismatch"] += 2
        esp = t.esp_of(pk)
        wan.append(t.udp_frame(esp, udp_len=8 + len(esp) - 4))
        wan.append(t.udp_frame(esp, udp_len=8 + len(esp) + 4))
        drops["natt_malformed"] += 2
        wan.append(t.udp_frame(b"\xff"))  # a keepalive
    # nat-oa: the checksum over the original addresses; without nat-oa refused as bad_l3.
    for i in range(2):
        wan.append(oa6.udp_frame(oa6.esp_of(oa6.echo(i, *OA[6]))))
    answered[oa6.out_name] = 2
    t6 = T[1]
    wan.append(t6.udp_frame(t6.esp_of(t6.echo(60, *OA[6]))))
    return dict(t=T, oa6=oa6, conf=conf, wan=wan, drops=drops, answered=answered)


@pytest.fixture(scope="module")
def trs():
    b = build()
    b["res"] = harness.run(b["conf"], wan=b["wan"])
    return b


def udp_esp(f, fam):
    l3 = f[14:]
    if (fam == 4 and (l3[0] >> 4 != 4 or l3[9] != 17)) or (
            fam == 6 and (l3[0] >> 4 != 6 or l3[6] != 17)):
        return None
    off = 20 if fam == 4 else 40
    return l3, l3[off:off + 8], l3[off + 8:]


def replies(res, t):
    out = []
    for f in res.out["wan0"]:
        u = udp_esp(f, t.fam)
        if u and struct.unpack("!I", u[2][:4])[0] == t.out_sa.spi:
            out.append(u)
    return out


IDS = ["%s-v%d" % (s, f) for s in SUITES for f in (4, 6)]


@pytest.mark.parametrize("k", range(len(IDS)), ids=IDS)
def test_replies_leave_in_udp(trs, k):
    """Each echo request is answered in transport ESP in UDP: the reply's own
    header (protocol 17, lengths, IPv4 checksum), UDP 4500 -> 4500 with the
    length of ESP, checksum 0 (IPv4) or valid (IPv6); espcodec opens it to
    the echo reply, scapy (nat_t_header) decrypts it the same."""
    t = trs["t"][k]
    out = replies(trs["res"], t)
    assert len(out) == ECHOES + 1, "%d replies, expected %d" % (len(out), ECHOES + 1)
    for i, (l3, udp, esp) in enumerate(out):
        hdr = IP(l3) if t.fam == 4 else IPv6(l3)
        assert (hdr.src, hdr.dst) == (t.own, t.peer)
        if t.fam == 4:
            assert hdr.len == len(l3) and hdr.chksum == harness.ip_checksum(l3[:20])
        else:
            assert hdr.plen == len(l3) - 40
        sport, dport, ulen, ck = struct.unpack("!HHHH", udp)
        assert (sport, dport, ulen) == (NATT, NATT, len(esp) + 8)
        if t.fam == 4:
            assert ck == 0, "IPv4 ESP in UDP: checksum 0 (RFC 3948 2.1)"
        else:
            p = copy.deepcopy(hdr)
            del p[UDP].chksum
            assert ck != 0 and ck == IPv6(bytes(p))[UDP].chksum, "UDP/IPv6 checksum"
        op = t.out_sa.open(esp)
        assert op.seq == i + 1 and op.nh == (1 if t.fam == 4 else 58)
        icmp = (ICMP if t.fam == 4 else ICMPv6EchoReply)(op.payload)
        assert icmp.type == (0 if t.fam == 4 else 129) and icmp.seq == i
        sa = t.out_sa.scapy_sa()
        sa.nat_t_header = UDP(sport=NATT, dport=NATT)
        bare = copy.deepcopy(hdr)
        bare[UDP].underlayer.remove_payload()
        if t.fam == 4:
            bare.proto = 50
        else:
            bare.nh = 50
        dec = sa.decrypt(bare.__class__(bytes(bare / ESP(esp))))
        assert bytes(dec.payload) == op.payload, "scapy and espcodec disagree"


def test_tshark_verifies_every_icv(trs):
    """tshark dissects UDP 4500 as ESP in UDP and verifies every reply's ICV."""
    frames, uats = [], []
    for t in trs["t"] + [trs["oa6"]]:
        uats.append(t.out_sa.tshark_uat(t.fam, t.own, t.peer))
        frames += [f for f in trs["res"].out["wan0"] if udp_esp(f, t.fam)
                   and struct.unpack("!I", udp_esp(f, t.fam)[2][:4])[0] == t.out_sa.spi]
    verdicts = harness.tshark_icv(frames, uats, udp=True)
    assert len(verdicts) == len(frames) > 0 and all(g for _, _, g in verdicts), verdicts


def test_natoa_fixes_icmpv6_checksum(trs):
    """RFC 3948 3.1.2: the echo whose ICMPv6 checksum covers the peer's
    original addresses is answered through the nat-oa SA (its checksum fixed
    for the addresses it arrived with); through an SA without nat-oa the same
    echo keeps its checksum and is refused (bad_l3 on the control path)."""
    assert len(replies(trs["res"], trs["oa6"])) == 2
    st = trs["res"].stats
    assert st["control"]["drops"].get("bad_l3", 0) == 1, st["control"]["drops"]


def test_counters_exact(trs):
    st = trs["res"].stats
    harness.assert_drops(st, **trs["drops"])
    assert st["dataplane"]["nat_keepalives"] == 2
    for name, n in trs["answered"].items():
        assert st["sa"][name]["pkts"] == n, name
    harness.check_stats_consistent(st)


def test_refused_configurations(tmp_path):
    """nat-oa needs an inbound transport SA in UDP of its family; file:line."""
    t = TrsNat(4, 1, "aes-gcm-128")
    base = harness.base_conf()
    sa_in = t.conf()[1]
    cases = [
        (t.conf()[0] + " nat-oa-src 192.168.1.1", "are for inbound SAs"),
        (sa_in.replace(" encap udp", "") + " nat-oa-src 192.168.1.1",
         "need mode transport and encap udp"),
        (sa_in + " nat-oa-dst 2001:db8::1", "nat-oa-dst 2001:db8::1 is not of the SA's family"),
        (sa_in + " nat-oa-src bogus", "nat-oa-src"),
    ]
    for line, want in cases:
        r = harness.check_conf(base + [line], tmp_path)
        out = r.stdout + r.stderr
        assert r.returncode != 0 and want in out and ":%d" % len(base + [line]) in out, out
