# SPDX-License-Identifier: BSD-3-Clause
"""The direct AES-GCM path's nonce and AAD written as one 16-byte store each
(lib/esp/esp_gcm.c, gcm_nonce / gcm_aad), attacked from the wire (helper-50).
One espgw run ("auto": AES-GCM on the direct path), judged by scapy alone:

test_outbound_scapy_opens: ESN SAs started three numbers below 2^32, in UDP
over IPv6 and over IPv4 and plain over IPv6 (RFC 4106 5: the 12-byte AAD
SPI || seq high || seq low), and a 32-bit SA in UDP running into its last
numbers (the 8-byte AAD): every frame out of wan0 is ESP (in UDP where the SA
says so, the UDP/IPv6 checksum valid over the ciphertext), numbered
start, start + 1, ... across 2^32, with a fresh IV each, and scapy opens it
(with the high half it must carry) to the LAN packet one hop later.

test_inbound_scapy_sealed: the same SAs' peers, sealed by scapy across 2^32
(the receiver infers the high half, RFC 4303 A2) and in UDP where the SA
says so, all delivered in order; the same packets again and one under a
flipped ICV bit refused (replay, auth_fail), counters exact."""

import copy
import struct

from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

import harness
from harness import Tunnel

NATT = 4500
START = 0xFFFFFFFD
N = 6
START32 = 0xFFFFFFFB  # 32-bit: four numbers left (0xffffffff is never sent)
N32 = 6
FILL = 40  # frames between steps: more than one RX burst
FILLER = bytes(harness.wan_frame(harness.inner_pkt(4, "10.9.8.7", harness.HOST4, "udp", 1)))


def tunnels():
    esn_in = "replay-window 64"
    return {
        "esn_udp6": Tunnel(91, "aes-gcm-128", 4, 6, esn=True,
                           out_opts="encap udp seq 0x%x" % START,
                           in_opts="encap udp " + esn_in),
        "esn_udp4": Tunnel(92, "aes-gcm-256", 6, 4, esn=True,
                           out_opts="encap udp seq 0x%x" % START,
                           in_opts="encap udp " + esn_in),
        "esn_v6": Tunnel(93, "aes-gcm-128", 6, 6, esn=True, out_opts="seq 0x%x" % START,
                         in_opts=esn_in),
        "udp4_32": Tunnel(94, "aes-gcm-256", 4, 4, out_opts="encap udp seq 0x%x" % START32,
                          in_opts="encap udp"),
    }


def is_udp(t):
    return "encap udp" in t.out_opts


def scapy_seal(t, inner, seq):
    """ESP bytes (SPI .. ICV) of t's inbound SA carrying inner, sealed by scapy."""
    s = t.in_sa.scapy_sa(tunnel_header=t.outer_hdr())
    s.seq_num = seq & 0xFFFFFFFF
    s.esn = seq >> 32
    ip_esp = s.encrypt(inner.__class__(bytes(inner)))
    hl = 20 if t.outer == 4 else 40
    return bytes(ip_esp)[hl:]


def wan_esp(t, esp):
    """A WAN frame: peer -> us, ESP bytes esp, in UDP 4500 -> 4500 when t is encap."""
    o = t.outer_hdr()
    if is_udp(t):
        if t.outer == 4:
            o.proto = 17
        else:
            o.nh = 17
        pkt = o / UDP(sport=NATT, dport=NATT) / Raw(esp)
    else:
        pkt = o / Raw(esp)
    return bytes(harness.wan_frame(pkt.__class__(bytes(pkt))))


def build():
    T = tunnels()
    conf = harness.base_conf()
    for t in T.values():
        conf += t.conf()
    p = harness.Plan()
    drops = dict(sqn_overflow=0, replay=0, auth_fail=0, no_policy=0)
    # Outbound: LAN packets, interleaved over the SAs so that bursts mix them.
    for i in range(max(N, N32)):
        for name, t in T.items():
            n = N32 if name == "udp4_32" else N
            if i >= n:
                continue
            pk = t.lan_pkt("udp", 17 + 9 * i, **({"id": 300 + i} if t.inner == 4 else {}))
            if name == "udp4_32" and START32 + i >= 0xFFFFFFFF:
                p.lan_in(pk)
                drops["sqn_overflow"] += 1
            else:
                p.protect(t, pk)
    # Inbound: scapy seals across 2^32 (32-bit: up to 0xffffffff). A fresh
    # window (top 0) takes a first number below 2^32 in a burst of its own
    # (test_esp's esn_cross): the first of each, more than a burst of frames
    # no policy takes, then the rest.
    names = ("esn_udp6", "esn_udp4", "esn_v6", "udp4_32")
    first = {n: START32 if n == "udp4_32" else START for n in names}
    last = {n: 0xFFFFFFFF if n == "udp4_32" else START + N - 1 for n in names}
    frames = {n: [] for n in names}
    for step in range(2):
        for name in names:
            t = T[name]
            seqs = range(first[name], first[name] + 1) if step == 0 else \
                range(first[name] + 1, last[name] + 1)
            for seq in seqs:
                pk = t.wan_pkt("udp", 11 + 5 * (seq - first[name]))
                frames[name].append(wan_esp(t, scapy_seal(t, pk, seq)))
                p.wan_in(frames[name][-1], pk)
        if step == 0:
            for _ in range(FILL):
                p.wan_in(FILLER)
            drops["no_policy"] += FILL
    for name in names:
        t = T[name]
        # The whole stream again (replays), and one never sent, inside the
        # window, under a flipped ICV bit (before any UDP checksum).
        for f in frames[name]:
            p.wan_in(f)
            drops["replay"] += 1
        bad = bytearray(scapy_seal(t, t.wan_pkt("udp", 3), first[name] - 1))
        bad[-1] ^= 1
        p.wan_in(wan_esp(t, bytes(bad)))
        drops["auth_fail"] += 1
    return T, conf, p, drops


_RUN = {}


def run():
    if not _RUN:
        T, conf, p, drops = build()
        _RUN.update(t=T, plan=p, drops=drops, res=harness.run(conf, lan=p.lan, wan=p.wan))
    return _RUN


def esp_frames(res, t):
    """(l3, udp header or None, esp bytes) of every wan0 frame of t's outbound SA."""
    out = []
    for f in res.out["wan0"]:
        l3 = f[14:]
        v = l3[0] >> 4
        hl = 20 if v == 4 else 40
        proto = l3[9] if v == 4 else l3[6]
        assert proto in (17, 50), "a frame out of wan0 is neither ESP nor ESP in UDP"
        udp, esp = (l3[hl:hl + 8], l3[hl + 8:]) if proto == 17 else (None, l3[hl:])
        if struct.unpack("!I", esp[:4])[0] == t.out_sa.spi:
            out.append((l3, udp, esp))
    return out


def test_outbound_scapy_opens():
    r = run()
    for name in ("esn_udp6", "esn_udp4", "esn_v6", "udp4_32"):
        t = r["t"][name]
        want = r["plan"].esp[t.out_sa.spi]
        got = esp_frames(r["res"], t)
        first = START32 if name == "udp4_32" else START
        assert len(got) == len(want), "%s: %d frames, expected %d" % (name, len(got), len(want))
        ivs = set()
        for i, ((l3, udp, esp), inner) in enumerate(zip(got, want)):
            seq = first + i
            assert (udp is not None) == is_udp(t), name
            if udp is not None:
                sport, dport, ulen, ck = struct.unpack("!HHHH", udp)
                assert (sport, dport, ulen) == (NATT, NATT, len(esp) + 8)
                if t.outer == 6:
                    ip = copy.deepcopy(IPv6(l3))
                    del ip[UDP].chksum
                    assert ck != 0 and ck == IPv6(bytes(ip))[UDP].chksum, "UDP/IPv6 checksum"
                else:
                    assert ck == 0
            lo = struct.unpack("!I", esp[4:8])[0]
            assert lo == seq & 0xFFFFFFFF, "%s frame %d: seq 0x%x, expected 0x%x" % (
                name, i, lo, seq & 0xFFFFFFFF)
            iv = esp[8:16]
            assert iv not in ivs, "%s: IV %s twice" % (name, iv.hex())
            ivs.add(iv)
            assert t.scapy_open_natt(esp, seq >> 32) == inner, "%s frame %d (seq 0x%x)" % (
                name, i, seq)


def test_inbound_scapy_sealed():
    r = run()
    res = r["res"]
    clear = harness.Result({"lan0": res.out["lan0"], "wan0": []}, res.stats, res.workdir)
    r["plan"].check_clear(clear)
    st = res.stats["drops"]
    for k, v in r["drops"].items():
        assert st[k] == v, "%s: %d, expected %d" % (k, st[k], v)

