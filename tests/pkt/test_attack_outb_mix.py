# SPDX-License-Identifier: BSD-3-Clause
"""Every outbound path in one burst, under attack. Written (helper-49) against
a version of the direct path that encrypted each AES-GCM packet one packet
late, across the SA groups of a burst, and the last at the burst's end
(README, The store buffer): a packet left unsealed would have been a
valid-looking ESP header over the CLEAR inner packet. Kept for any change to
the outbound paths. Every LAN packet here carries a marker in its payload: no
frame out of wan0 but AH may show it.

test_mixed_paths: one espgw run, one worker, the LAN traffic interleaved so
that each RX burst holds packets of every kind of SA at once: direct AES-GCM
over IPv4 and IPv6, in UDP over IPv4 and over IPv6 (both inner families),
AES-GCM on CPU crypto, ChaCha20-Poly1305, AES-CBC + HMAC (cryptodev), an AH
tunnel, and a direct SA with an MSS clamp carrying TCP SYNs. Every frame out
is opened by espcodec and scapy to the LAN packet one hop later (the SYNs'
MSS clamped), in sequence order, UDP headers right (IPv6: a valid checksum
over the ciphertext), tshark verifies every ESP ICV, counters exact.

test_two_workers_ordered: two workers, a seq-order strict direct SA (its
packets handed to the owner, lib/dp/order.c) beside a direct UDP-over-IPv6 SA
and a ChaCha20-Poly1305 one, on both queues: all sealed, the ordered SA's
numbers 1..n in order on the wire."""

import copy
import struct

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

import ahcodec
import harness
from harness import Tunnel

MARK = b"OUTB-CLEAR-LEAK"
NATT = 4500
MSS_IN, MSS_CLAMP = 1460, 1200


class AhTunnel(Tunnel):
    """A tunnel-mode AH SA pair (as test_ah.py's): the packet travels in clear."""

    def __init__(self, slot, algo, fam):
        super().__init__(slot, "aes-gcm-128", inner=fam, outer=fam)
        self.out_sa = ahcodec.AhSA(0x50000000 + slot, algo)
        self.in_sa = ahcodec.AhSA(0x60000000 + slot, algo)
        # Tunnel.conf writes its SAs and policies from out_sa / in_sa.


def natt(slot, suite, inner, outer, extra=""):
    return Tunnel(slot, suite, inner, outer, out_opts=("encap udp " + extra).strip(),
                  in_opts="encap udp")


def tunnels():
    return [
        Tunnel(81, "aes-gcm-128", 4, 4),                              # direct
        natt(82, "aes-gcm-256", 6, 6),                                # direct, UDP/IPv6
        natt(83, "aes-gcm-128", 4, 6),                                # direct, UDP/IPv6
        natt(84, "aes-gcm-128", 6, 4),                                # direct, UDP/IPv4
        Tunnel(85, "aes-gcm-128", 4, 4, out_opts="crypto-path cpu"),  # rte_ipsec, CPU crypto
        Tunnel(86, "chacha20-poly1305", 6, 6),                        # CPU crypto
        Tunnel(87, "aes-cbc-128+hmac-sha256-128", 4, 6),              # cryptodev
        Tunnel(88, "aes-gcm-256", 6, 4),                              # direct, IPv6 outer
        Tunnel(89, "aes-gcm-128", 4, 4, out_opts="mss-clamp %d" % MSS_CLAMP),  # direct, clamp
        AhTunnel(90, "hmac-sha256-128", 6),                           # AH
    ]


def payload(i, size):
    body = MARK + b"%06d" % i
    return body + bytes((i * 7 + k) & 0xff for k in range(max(0, size - len(body))))


def syn(t, i, mss):
    ip = IP(src=t.lan_host, dst=t.host, id=i & 0xffff)
    return IP(bytes(ip / TCP(sport=40000 + i % 1000, dport=443, flags="S", seq=i,
                             options=[("MSS", mss)]) / Raw(payload(i, 20))))


def schedule(T, n):
    """Tunnel of packet i: a walk that changes SA almost every packet, with
    runs of two and three, so each RX burst has groups of one and of several."""
    return [T[(i * 7 + i // 3 + (i // 11) % 2) % len(T)] for i in range(n)]


def plan_lan(T, n):
    p = harness.Plan()
    for i, t in enumerate(schedule(T, n)):
        size = (i * 37) % 900
        if t.slot == 89 and i % 2 == 0:
            p.lan.append(harness.lan_frame(syn(t, i, MSS_IN)))
            p.esp.setdefault(t.out_sa.spi, []).append(harness.ttl_dec(syn(t, i, MSS_CLAMP)))
            continue
        hdr = IP(src=t.lan_host, dst=t.host, id=i & 0xffff) if t.inner == 4 else \
            IPv6(src=t.lan_host, dst=t.host)
        pk = hdr / UDP(sport=40000 + i % 1000, dport=5001) / Raw(payload(i, size))
        pk = pk.__class__(bytes(pk))
        p.protect(t, pk)
    return p


def l3_proto(l3):
    return l3[9] if l3[0] >> 4 == 4 else l3[6]


def classify(frame):
    """("esp"|"udp"|"ah"|None, SPI, offset of the ESP/AH header in l3)."""
    l3 = frame[14:]
    off = 20 if l3[0] >> 4 == 4 else 40
    proto = l3_proto(l3)
    if proto == 50:
        return "esp", struct.unpack("!I", l3[off:off + 4])[0], off
    if proto == 17 and struct.unpack("!H", l3[off + 2:off + 4])[0] == NATT:
        return "udp", struct.unpack("!I", l3[off + 8:off + 12])[0], off + 8
    if proto == ahcodec.AH:
        return "ah", struct.unpack("!I", l3[off + 4:off + 8])[0], off
    return None, None, off


def check_udp(t, l3):
    off = 20 if t.outer == 4 else 40
    sport, dport, ulen, ck = struct.unpack("!HHHH", l3[off:off + 8])
    assert (sport, dport, ulen) == (NATT, NATT, len(l3) - off), (sport, dport, ulen)
    if t.outer == 4:
        assert ck == 0, "IPv4 ESP in UDP: checksum 0 (RFC 3948 2.1)"
    else:
        ip = IPv6(l3)
        p = copy.deepcopy(ip)
        del p[UDP].chksum
        want = IPv6(bytes(p))[UDP].chksum
        assert ck == want and ck != 0, \
            "UDP/IPv6 checksum 0x%04x, over the sent bytes 0x%04x: computed before the " \
            "ciphertext was in place" % (ck, want)


def open_natt(t, l3, want):
    """espcodec, and scapy on the same ESP without its UDP header."""
    off = 20 if t.outer == 4 else 40
    esp = l3[off + 8:]
    op = t.out_sa.open(esp)
    assert op.payload == want
    assert t.scapy_open_natt(esp) == want, "scapy disagrees"
    return op.seq


def judge(T, plan, frames):
    """Every frame is one of T's SAs' and sealed; returns {SPI: [frames]}."""
    by_spi, spis = {}, {t.out_sa.spi: t for t in T}
    for f in frames:
        kind, spi, _ = classify(f)
        assert kind is not None, "a frame out of wan0 that is neither ESP nor AH: %s" % f.hex()
        assert spi in spis, "SPI 0x%x is none of the outbound SAs'" % spi
        t = spis[spi]
        assert kind == ("ah" if isinstance(t, AhTunnel) else
                        "udp" if "encap udp" in t.out_opts else "esp"), (kind, t.out_name)
        if kind != "ah":
            assert MARK not in f, "%s: the inner packet in clear inside ESP" % t.out_name
        by_spi.setdefault(spi, []).append(f)
    for t in T:
        want, got = plan.esp[t.out_sa.spi], by_spi.get(t.out_sa.spi, [])
        assert len(got) == len(want), "%s: %d frames, expected %d" % (t.out_name, len(got),
                                                                     len(want))
        for i, (f, w) in enumerate(zip(got, want)):
            l3 = f[14:]
            if isinstance(t, AhTunnel):
                op = ahcodec.open_(t.out_sa, l3, t.outer)
                assert op.ok and op.payload == w and op.seq == i + 1, t.out_name
            elif "encap udp" in t.out_opts:
                check_udp(t, l3)
                assert open_natt(t, l3, w) == i + 1, t.out_name
            else:
                d = harness.Decap(f, t)
                assert d.inner == w and d.seq == i + 1, t.out_name
    return by_spi


def tshark_all(T, by_spi):
    plain, udp, uats = [], [], []
    for t in T:
        if isinstance(t, AhTunnel) or not t.suite.startswith("aes-"):
            continue  # tshark 4.0 leaves ChaCha20-Poly1305's ICV unchecked
        uat = t.out_sa.tshark_uat(t.outer, t.local, t.peer)
        if uat:
            uats.append(uat)
        (udp if "encap udp" in t.out_opts else plain).extend(by_spi[t.out_sa.spi])
    for frames, u in ((plain, False), (udp, True)):
        v = harness.tshark_icv(frames, uats, udp=u)
        assert len(v) == len(frames) > 0 and all(g for _, _, g in v), \
            [x for x in v if not x[2]][:5]


def test_mixed_paths():
    T = tunnels()
    conf = harness.base_conf()
    for t in T:
        conf += t.conf()
    n = 700
    plan = plan_lan(T, n)
    res = harness.run(conf, lan=plan.lan, timeout=60)
    assert res.out["lan0"] == []
    by_spi = judge(T, plan, res.out["wan0"])
    tshark_all(T, by_spi)
    st = res.stats
    harness.assert_drops(st)
    harness.assert_totals(st, rx=n, tx=n, drops=0)
    for t in T:
        assert st["sa"][t.out_name]["pkts"] == len(plan.esp[t.out_sa.spi]), t.out_name
    harness.check_stats_consistent(st)


def test_two_workers_ordered():
    T = [Tunnel(91, "aes-gcm-128", 4, 4, out_opts="seq-order strict"),
         natt(92, "aes-gcm-256", 6, 6),
         Tunnel(93, "chacha20-poly1305", 4, 6)]
    conf = harness.base_conf()
    for t in T:
        conf += t.conf()
    queues, plan = ([], []), harness.Plan()
    for q in (0, 1):
        p = plan_lan(T, 400)
        queues[q].extend(p.lan)
        for spi, v in p.esp.items():
            plan.esp.setdefault(spi, []).extend(v)
    r, _ = harness.run_two_queues(conf, lan=queues, timeout=60)
    harness.assert_drops(r.stats)
    frames = r.out["wan0"]
    spis = {t.out_sa.spi: t for t in T}
    got = {}
    for f in frames:
        kind, spi, off = classify(f)
        assert kind in ("esp", "udp") and spi in spis
        assert MARK not in f, "%s: the inner packet in clear inside ESP" % spis[spi].out_name
        got.setdefault(spi, []).append(f)
    for t in T:
        want = sorted(plan.esp[t.out_sa.spi])
        assert len(got[t.out_sa.spi]) == len(want), t.out_name
        opened, seqs = [], []
        for f in got[t.out_sa.spi]:
            l3 = f[14:]
            if "encap udp" in t.out_opts:
                check_udp(t, l3)
                op = t.out_sa.open(l3[(20 if t.outer == 4 else 40) + 8:])
            else:
                op = t.out_sa.open(harness.esp_of(f))
            opened.append(op.payload)
            seqs.append(op.seq)
        # The two queues' packets interleave: the same packets, each number once.
        assert sorted(opened) == want, t.out_name
        assert sorted(seqs) == list(range(1, len(want) + 1)), t.out_name
    # seq-order strict: on the wire in number order (one TX queue, the owner's).
    ordered = T[0].out_sa.spi
    q = [[f for f in r.out["wan0.q%d" % i] if classify(f)[1] == ordered] for i in (0, 1)]
    assert not (q[0] and q[1]), "ESP of one ordered SA on both TX queues"
    n = len(plan.esp[ordered])
    assert [harness.esp_seq(f) for f in q[0] or q[1]] == list(range(1, n + 1)), \
        (len(q[0]), len(q[1]), n)
