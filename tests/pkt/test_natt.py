# SPDX-License-Identifier: BSD-3-Clause
"""NAT traversal (RFC 3948): ESP in UDP, both ways, every tunnel family. One
espgw run for the module on pcap ports:
- outbound: LAN packets leave in UDP from port 4500 to 4500 (or the SA's own
  ports); the UDP header is checked (IPv4 checksum 0, RFC 3948 2.1; IPv6 a
  valid one, RFC 8200 8.1), espcodec and scapy (nat_t_header) open the ESP,
  tshark verifies every ICV through its UDP-encapsulated ESP dissector;
- inbound: ESP in UDP sealed by espcodec is decrypted and forwarded;
- on the NAT-T port: a keepalive (one 0xff byte) is absorbed and counted,
  IKE behind the non-ESP marker goes to the SPD when no host interface takes
  it, malformed UDP, ESP in UDP for a plain SA and plain ESP for an encap SA,
  forged ICVs and replays are dropped by named reasons, counters exact;
- strongSwan's own ESP in UDP (tests/pkt/data/strongswan) is decrypted."""

import copy
import json
import os
import struct

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from espcodec import NH_IPV4, NH_IPV6
from harness import Tunnel

FAMILIES = [(4, 4), (6, 6), (6, 4), (4, 6)]
SUITES = ["aes-gcm-128", "aes-cbc-128+hmac-sha256-128"]
SIZES = [0, 1, 37, 200, 1000]
NATT = 4500


def tunnels():
    T, slot = [], 40
    for suite in SUITES:
        for inner, outer in FAMILIES:
            slot += 1
            T.append(Tunnel(slot, suite, inner, outer, out_opts="encap udp",
                            in_opts="encap udp"))
    # Ports of its own: from 4600 to the peer's 4700, received on 4600.
    slot += 1
    T.append(Tunnel(slot, "aes-gcm-256", 4, 4, out_opts="encap udp sport 4600 dport 4700",
                    in_opts="encap udp sport 4600 dport 4700"))
    return T


def ports(t):
    return (4600, 4700) if "4600" in t.out_opts else (NATT, NATT)


def udp_frame(t, esp, sport=None, dport=None, udp_len=None):
    """A WAN frame: t's outer header (peer -> us), UDP, then the bytes esp."""
    us, them = ports(t)
    u = UDP(sport=them if sport is None else sport, dport=us if dport is None else dport)
    o = t.outer_hdr()
    if t.outer == 4:
        o.proto = 17
        pkt = o / u / Raw(esp)
    else:
        o.nh = 17
        pkt = o / u / Raw(esp)
    b = bytearray(bytes(pkt.__class__(bytes(pkt))))
    if udp_len is not None:  # lie about the UDP length (checksum 0: not checked)
        off = 20 if t.outer == 4 else 40
        b[off + 4:off + 6] = struct.pack("!H", udp_len)
        b[off + 6:off + 8] = b"\0\0"
    return harness.wan_frame((IP if t.outer == 4 else IPv6)(bytes(b)))


def seal(t, pkt, seq):
    raw = bytes(pkt)
    nh = NH_IPV4 if raw[0] >> 4 == 4 else NH_IPV6
    return t.in_sa.seal(raw, nh, seq)


def build():
    T = tunnels()
    conf = harness.base_conf()
    plain = Tunnel(60, "aes-gcm-128", 4, 4)  # an SA without encap udp
    for t in T + [plain]:
        conf += t.conf()
    p = harness.Plan()
    drops = dict(auth_fail=0, replay=0, encap_mismatch=0, natt_malformed=0, no_policy=0)
    counts = {}
    for t in T:
        seq = 0
        for i, n in enumerate(SIZES):
            pk = t.lan_pkt("udp", n, **({"id": i} if t.inner == 4 else {}))
            if t.fits(len(pk) + 8):
                p.protect(t, pk)
            pk = t.wan_pkt("udp", n)
            seq += 1
            p.wan_in(udp_frame(t, seal(t, pk, seq)), pk)
        counts[t.in_name] = seq
    t = T[0]
    pk = t.wan_pkt("udp", 10)
    # The last one again: a replay. A flipped ICV bit: forged.
    p.wan_in(udp_frame(t, seal(t, t.wan_pkt("udp", SIZES[-1]), counts[t.in_name])))
    drops["replay"] += 1
    bad = bytearray(seal(t, pk, 100))
    bad[-1] ^= 1
    p.wan_in(udp_frame(t, bytes(bad)))
    drops["auth_fail"] += 1
    # Plain ESP for an encap SA; ESP in UDP for a plain SA.
    p.wan_in(t.encap(pk, 101, oracle="espcodec"))
    p.wan_in(udp_frame(plain, plain.in_sa.seal(bytes(plain.wan_pkt("udp", 5)), NH_IPV4, 1)))
    drops["encap_mismatch"] += 2
    # Malformed UDP: a length beyond the packet, one short of it (bytes outside the
    # datagram must not pass for ESP), and ESP too short to hold SPI and sequence.
    esp = seal(t, pk, 102)
    p.wan_in(udp_frame(t, esp, udp_len=2000))
    p.wan_in(udp_frame(t, esp, udp_len=8 + len(esp) - 4))
    p.wan_in(udp_frame(t, b"\x01\x02\x03\x04\x05"))
    drops["natt_malformed"] += 3
    # A keepalive: absorbed. IKE behind the marker, no host interface: the SPD's, no rule.
    p.wan_in(udp_frame(t, b"\xff"))
    p.wan_in(udp_frame(t, b"\0\0\0\0" + b"ike" * 10))
    drops["no_policy"] += 1
    return T, conf, p, drops, counts


@pytest.fixture(scope="module")
def natt():
    T, conf, p, drops, counts = build()
    res = harness.run(conf, lan=p.lan, wan=p.wan)
    return dict(t=T, plan=p, res=res, drops=drops, counts=counts)


def udp_of(l3, outer):
    off = 20 if outer == 4 else 40
    return l3[off:off + 8], l3[off + 8:]


def test_outbound_is_esp_in_udp(natt):
    """Every protected LAN packet leaves in UDP: ports, length and checksum per
    RFC 3948 2.1 (IPv6: a valid checksum), the ESP inside opened by espcodec
    to the LAN packet one hop later, and by scapy with its nat_t_header."""
    wan = [f for f in natt["res"].out["wan0"]]
    for t in natt["t"]:
        want = natt["plan"].esp[t.out_sa.spi]
        got = []
        for f in wan:
            l3 = f[14:]
            if (l3[0] >> 4 == 4 and l3[9] != 17) or (l3[0] >> 4 == 6 and l3[6] != 17):
                continue
            udp, esp = udp_of(l3, l3[0] >> 4)
            if struct.unpack("!I", esp[:4])[0] == t.out_sa.spi:
                got.append((l3, udp, esp))
        assert len(got) == len(want), "%s: %d packets, expected %d" % (t.out_name, len(got),
                                                                       len(want))
        us, them = ports(t)
        for (l3, udp, esp), inner in zip(got, want):
            sport, dport, ulen, ck = struct.unpack("!HHHH", udp)
            assert (sport, dport, ulen) == (us, them, len(esp) + 8), (sport, dport, ulen)
            ip = (IP if t.outer == 4 else IPv6)(l3)
            assert ip.proto == 17 if t.outer == 4 else ip.nh == 17
            if t.outer == 4:
                assert ck == 0, "IPv4 ESP in UDP: checksum 0 (RFC 3948 2.1)"
            else:
                p = copy.deepcopy(ip)
                del p[UDP].chksum
                assert ck == (IPv6(bytes(p)))[UDP].chksum and ck != 0, "UDP/IPv6 checksum"
            assert t.out_sa.open(esp).payload == inner
            assert t.scapy_open_natt(esp) == inner, "scapy disagrees"


def test_tshark_verifies_every_icv(natt):
    """tshark dissects UDP 4500 as ESP in UDP and checks each ICV (the SA on
    ports of its own is left to espcodec and scapy)."""
    frames, uats = [], []
    for t in natt["t"]:
        uat = t.out_sa.tshark_uat(t.outer, t.local, t.peer)
        if uat:
            uats.append(uat)
    frames = [f for f in natt["res"].out["wan0"]
              if is_udp(f) and struct.unpack("!H", udp_of(f[14:], f[14] >> 4)[0][:2])[0] == NATT]
    verdicts = harness.tshark_icv(frames, uats, udp=True)
    assert len(verdicts) == len(frames) > 0 and all(g for _, _, g in verdicts), verdicts


def is_udp(f):
    l3 = f[14:]
    return (l3[0] >> 4 == 4 and l3[9] == 17) or (l3[0] >> 4 == 6 and l3[6] == 17)


def test_inbound_decrypted(natt):
    """ESP in UDP from the peer comes out of lan0 as the inner packets, one hop
    later; nothing leaves wan0 but ESP in UDP."""
    res = natt["res"]
    assert all(is_udp(f) for f in res.out["wan0"])
    clear = harness.Result({"lan0": res.out["lan0"], "wan0": []}, res.stats, res.workdir)
    natt["plan"].check_clear(clear)


def test_counters_exact(natt):
    st = natt["res"].stats
    harness.assert_drops(st, **natt["drops"])
    for t in natt["t"]:
        assert st["sa"][t.in_name]["pkts"] == natt["counts"][t.in_name], t.in_name
        assert st["sa"][t.out_name]["pkts"] == len(natt["plan"].esp[t.out_sa.spi])
    assert st["dataplane"]["nat_keepalives"] == 1
    harness.check_stats_consistent(st)


# ---------------------------------------------------------------- strongSwan
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "strongswan")
SS_LAN_MAC = "02:00:00:00:01:20"


def strongswan_conf(recs):
    """espgw as strongSwan's responder b (192.0.2.2), its inbound SAs from keys.json."""
    conf = [
        "port add lan0 dev net_pcap0 role protected address 10.10.2.254/24 "
        "address 10.11.2.254/24 mac %s" % harness.LAN_MAC,
        "port add wan0 dev net_pcap1 role unprotected address 192.0.2.2/24 mac %s"
        % harness.WAN_MAC,
        "neighbor add 10.10.2.1 lladdr %s port lan0" % SS_LAN_MAC,
        "neighbor add 10.11.2.1 lladdr %s port lan0" % SS_LAN_MAC,
    ]
    for i, r in enumerate(x for x in recs if x["dst"] == "192.0.2.2"):
        algo = ("aead %s key %s salt %s" % (r["aead"], r["key"], r["salt"]) if "aead" in r
                else "cipher %s key %s auth %s auth-key %s" % (r["cipher"], r["key"],
                                                             r["auth"], r["auth_key"]))
        net = "10.10" if r["child"] == "gcm" else "10.11"
        conf += ["sa add ss%d dir in spi %s mode tunnel local 192.0.2.2 remote 192.0.2.1 %s "
                 "encap udp" % (i, r["spi"], algo),
                 "sp add in src %s.1.0/24 dst %s.2.0/24 protect ss%d" % (net, net, i)]
    return conf


def test_espgw_decrypts_strongswan():
    """strongSwan's ESP in UDP to its peer 192.0.2.2, fed to espgw standing in
    for that peer: every packet decrypts (the ICVs verify) and leaves the LAN
    side as strongSwan's ping."""
    with open(os.path.join(DATA, "keys.json")) as f:
        recs = json.load(f)["sas"]
    frames = []
    for fr in harness.read_pcap(os.path.join(DATA, "strongswan-natt.pcap")):
        e = Ether(fr)
        ip = e[IP]
        pl = bytes(ip[UDP].payload) if UDP in ip else b""
        if ip.dst != "192.0.2.2" or len(pl) < 8 or pl[:4] == bytes(4):
            continue
        e.dst = harness.WAN_MAC
        frames.append(bytes(e))
    assert len(frames) >= 12
    res = harness.run(strongswan_conf(recs), wan=frames)
    out = [Ether(f) for f in res.out["lan0"]]
    assert len(out) == len(frames), res.drops()
    assert all(o[IP].src.startswith("10.1") and o[IP].dst.endswith(".2.1") for o in out)
    assert res.drops() == {}, res.drops()
    # The judges saw the same: tshark and scapy verify these (test_strongswan.py).
