# SPDX-License-Identifier: BSD-3-Clause
"""Attacks on the folded per-packet passes of the data path (review of the
direct path's one-pass outbound framing, esp_gcm.c espgw_esp_gcm_outb, and of
the inbound commit that takes the window, RFC 6040 and the byte count in one
loop, esp_in.c inb_commit).

One espgw run on pcap ports with bursts that mix, packet by packet, SAs of
every kind the outbound grouping splits (direct AES-GCM tunnels of the four
families, NAT-T, a CBC SA on the CPU path, an AH SA), so that a meta value
read from the wrong packet or the wrong moment shows as a wrong outer header
or byte count:
- outbound: the outer DSCP/ECN (RFC 4301 5.1.2.1, RFC 6040 4.1 normal mode:
  copied, or DSCP set and ECN copied), DF (copied, set, clear; an IPv6 inner
  packet counts as DF) of every packet, opened by scapy (and espcodec /
  ahcodec where scapy cannot), inner packets exact; per-SA pkts, bytes
  (inner bytes sent) and errors (sequence number overflow on a direct SA in
  the middle of a mixed burst);
- inbound: in one burst per SA, RFC 6040 4.2 drops (inner Not-ECT, outer CE)
  next to replays of accepted and of ECN-dropped packets (the window was
  committed before the drop: a copy is a replay), duplicates, forged ICVs,
  ECN rewrites; on the direct path without and with a NAT-T note (a packet
  from another port), on the CPU path; per-SA pkts, bytes (inner bytes
  delivered) and errors, drop reasons exact;
- two workers: decrypt any (the shared window, then the delivery pass) with
  the same mix, and seq-order strict outbound (order.c reads the mbuf's SA
  and sequence fields the direct path writes) with the outer header checks."""

import collections
import copy
import struct

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import ahcodec
import harness
from espcodec import NH_IPV4, NH_IPV6
from harness import Tunnel

NOT_ECT, ECT1, ECT0, CE = 0, 1, 2, 3
NATT = 4500
NATT_ELSEWHERE = 31337  # a NAT rebinding: noted (natt_scan), published if it passes
# Inner TOS values: DSCP EF / AF11 / CS0 / CS7 with every ECN codepoint.
TOS = [(d << 2) | e for d in (46, 10, 0, 56) for e in (NOT_ECT, ECT1, ECT0, CE)]


class AhTunnel(Tunnel):
    """Tunnel with AH SAs (ahcodec), as test_ah's."""

    def __init__(self, slot, algo, fam, out_opts=""):
        super().__init__(slot, "aes-gcm-128", inner=fam, outer=fam)
        self.out_sa = ahcodec.AhSA(0x50000000 + slot, algo)
        self.in_sa = ahcodec.AhSA(0x60000000 + slot, algo)
        self.ah_out_opts = out_opts

    def conf(self):
        sa = "sa add %s dir %s spi 0x%x mode tunnel local %s remote %s %s"
        return [sa % (self.out_name, "out", self.out_sa.spi, self.local, self.peer,
                      self.out_sa.conf_algo() + self.ah_out_opts),
                sa % (self.in_name, "in", self.in_sa.spi, self.local, self.peer,
                      self.in_sa.conf_algo()),
                "sp add out priority 10 src %s dst %s protect %s"
                % (self.lan_net, self.net, self.out_name),
                "sp add in priority 10 src %s dst %s protect %s"
                % (self.net, self.lan_net, self.in_name)]


# ---------------------------------------------------------------- outbound
def out_tunnels():
    """name -> (tunnel, dscp set or None, df mode "copy"/"set"/"clear")."""
    return {
        "d44": (Tunnel(70, "aes-gcm-128", 4, 4), None, "copy"),
        "d64": (Tunnel(71, "aes-gcm-256", 6, 4), None, "copy"),
        "d46": (Tunnel(72, "aes-gcm-128", 4, 6), None, "copy"),
        "d66": (Tunnel(73, "aes-gcm-128", 6, 6, out_opts="dscp 46"), 46, "copy"),
        "d44set": (Tunnel(74, "aes-gcm-128", 4, 4, out_opts="dscp 10 df set"), 10, "set"),
        "d44clr": (Tunnel(75, "aes-gcm-128", 4, 4, out_opts="df clear"), None, "clear"),
        "d64set": (Tunnel(76, "aes-gcm-128", 6, 4, out_opts="dscp 8 df clear"), 8, "clear"),
        "n44": (Tunnel(77, "aes-gcm-128", 4, 4, out_opts="encap udp", in_opts="encap udp"),
                None, "copy"),
        "n66": (Tunnel(78, "aes-gcm-128", 6, 6, out_opts="encap udp dscp 12",
                       in_opts="encap udp"), 12, "copy"),
        "cbc44": (Tunnel(79, "aes-cbc-128+hmac-sha256-128", 4, 4, out_opts="dscp 20"),
                  20, "copy"),
        "ah44": (AhTunnel(80, "hmac-sha256-128", 4), None, "copy"),
        "cdev44": (Tunnel(82, "aes-gcm-128", 4, 4, out_opts="crypto-path cryptodev dscp 6 df set"),
                   6, "set"),
        "cpu46": (Tunnel(83, "aes-gcm-128", 4, 6, out_opts="crypto-path cpu"), None, "copy"),
        # seq 0xfffffffc: numbers ...fffc, ...fffd, ...fffe go out, the rest
        # of this SA's packets are sqn_overflow (RFC 4303 3.3.3) mid-burst.
        "ovf": (Tunnel(81, "aes-gcm-128", 4, 4, out_opts="seq 0xfffffffc"), None, "copy"),
    }


OVF_SENT = 3


def want_outer(inner, dscp, df_mode):
    """(outer TOS, outer DF or None for an IPv6 outer) for inner bytes."""
    p = IP(inner) if inner[0] >> 4 == 4 else IPv6(inner)
    tos = p.tos if p.version == 4 else p.tc
    df = bool(p.flags & 2) if p.version == 4 else True
    if dscp is not None:
        tos = (dscp << 2) | (tos & 3)
    df = {"copy": df, "set": True, "clear": False}[df_mode]
    return tos, df


def open_natt(frame, t):
    """(outer IP, ESP opened by espcodec) of an ESP-in-UDP frame; UDP checked
    (RFC 3948 2.1: IPv4 checksum 0; IPv6 a valid one); scapy decrypts too."""
    eth = Ether(frame)
    ip = eth.payload
    assert eth.src == harness.WAN_MAC
    l3 = frame[14:]
    hl = 20 if t.outer == 4 else 40
    assert (ip.proto if t.outer == 4 else ip.nh) == 17, "NAT-T outer protocol"
    sport, dport, ulen, ucs = struct.unpack("!HHHH", l3[hl:hl + 8])
    assert (sport, dport) == (NATT, NATT), (sport, dport)
    assert ulen == len(l3) - hl, "UDP length %d, datagram %d" % (ulen, len(l3) - hl)
    if t.outer == 4:
        assert ip.len == len(l3) and ip.chksum == harness.ip_checksum(l3[:20])
        assert ucs == 0, "IPv4 NAT-T UDP checksum 0x%04x" % ucs
    else:
        assert ip.plen == len(l3) - 40
        chk = IPv6(l3)
        del chk[UDP].chksum
        assert ucs == IPv6(bytes(chk))[UDP].chksum, "IPv6 NAT-T UDP checksum"
    esp = l3[hl + 8:]
    op = t.out_sa.open(esp)
    # scapy on the same bytes, the UDP header taken out (its own NAT-T input
    # wants the header it wrote itself).
    plain = bytearray(l3[:hl] + esp)
    if t.outer == 4:
        plain[9] = 50
        o = IP(bytes(plain))
        o.len, o.chksum = None, None
    else:
        plain[6] = 50
        o = IPv6(bytes(plain))
        o.plen = None
    o = o.__class__(bytes(o))
    s = t.out_sa.scapy_sa(tunnel_header=t.outer_hdr())
    dec = s.decrypt(copy.deepcopy(o))
    assert bytes(dec) == op.payload, "scapy and espcodec disagree (NAT-T)"
    tos = ip.tos if t.outer == 4 else ip.tc
    df = bool(ip.flags & 2) if t.outer == 4 else None
    return tos, df, op.seq, op.payload


def open_ah(frame, t):
    l3 = frame[14:]
    ip = IP(l3)
    assert ip.chksum == harness.ip_checksum(l3[:20])
    op = ahcodec.open_(t.out_sa, l3, 4)
    assert op.ok, "AH ICV bad"
    return ip.tos, bool(ip.flags & 2), op.seq, op.payload


def open_any(frame, name, t):
    if name.startswith("n"):
        return open_natt(frame, t)
    if name.startswith("ah"):
        return open_ah(frame, t)
    d = harness.Decap(frame, t)
    return d.tos, d.df, d.seq, d.inner


def out_plan():
    T = out_tunnels()
    p = harness.Plan()
    counts = collections.Counter()
    drops = collections.Counter()
    names = sorted(T)
    # Round robin over the SAs: every RX burst holds packets of every SA.
    for i in range(3 * len(TOS)):
        for name in names:
            t, _, _ = T[name]
            tos = TOS[(i + len(name)) % len(TOS)]
            if t.inner == 4:
                kw = dict(tos=tos, flags="DF" if (i // 2) % 2 else 0, id=i)
            else:
                kw = dict(tc=tos, fl=i)
            pk = t.lan_pkt(("udp", "tcp", "icmp")[i % 3], 7 * i % 300, **kw)
            if name == "ovf" and counts[name] >= OVF_SENT:
                p.lan_in(pk)
                drops["sqn_overflow"] += 1
                continue
            p.protect(t, pk)
            counts[name] += 1
    return T, p, counts, drops


@pytest.fixture(scope="module")
def outb():
    T, p, counts, drops = out_plan()
    conf = harness.base_conf(crypto_path="auto")
    for t, _, _ in T.values():
        conf += t.conf()
    res = harness.run(conf, lan=p.lan)
    by_spi, clear = harness.split_esp(res.out["wan0"])
    # split_esp knows ESP only: the NAT-T and AH frames are sorted out here.
    other = collections.defaultdict(list)
    for f in clear:
        l3 = f[14:]
        if l3[0] >> 4 == 4:
            hl, proto = 20, l3[9]
        else:
            hl, proto = 40, l3[6]
        if proto == 17:
            other[struct.unpack("!I", l3[hl + 8:hl + 12])[0]].append(f)
        elif proto == 51:
            other[struct.unpack("!I", l3[hl + 4:hl + 8])[0]].append(f)
        else:
            other["clear"].append(f)
    for spi, fs in other.items():
        if spi != "clear":
            by_spi.setdefault(spi, []).extend(fs)
    return dict(t=T, plan=p, res=res, by_spi=by_spi, clear=other["clear"], counts=counts,
                drops=drops)


def test_outb_nothing_in_clear(outb):
    """Every LAN packet of a protect policy left in its SA or was a counted drop."""
    assert outb["clear"] == [], "%d clear frames on the WAN" % len(outb["clear"])
    assert outb["res"].out["lan0"] == []


@pytest.mark.parametrize("name", sorted(out_tunnels()))
def test_outb_outer_header(outb, name):
    """DSCP/ECN and DF of every outer header, the inner packet exact, numbers
    consecutive from the SA's first."""
    t, dscp, df_mode = outb["t"][name]
    frames = outb["by_spi"].get(t.out_sa.spi, [])
    want = outb["plan"].esp.get(t.out_sa.spi, [])
    assert len(frames) == len(want), "%s: %d frames out, expected %d" % (
        name, len(frames), len(want))
    seq0 = 0xfffffffc if name == "ovf" else 1
    for i, (f, w) in enumerate(zip(frames, want)):
        tos, df, seq, inner = open_any(f, name, t)
        assert inner == w, "%s frame %d: inner packet differs" % (name, i)
        assert seq == seq0 + i, "%s frame %d: seq %d" % (name, i, seq)
        wtos, wdf = want_outer(w, dscp, df_mode)
        assert tos == wtos, "%s frame %d: outer TOS 0x%02x, expected 0x%02x (inner %s)" % (
            name, i, tos, wtos, w[:2].hex())
        if t.outer == 4:
            assert df == wdf, "%s frame %d: outer DF %s, expected %s" % (name, i, df, wdf)


def test_outb_counters(outb):
    """Per SA: pkts and bytes (inner bytes, L3, sent) of what left; errors the
    overflow drops; drop reasons and totals exact; no mbuf left behind."""
    st, p = outb["res"].stats, outb["plan"]
    harness.assert_drops(st, **outb["drops"])
    n_out = sum(len(v) for v in p.esp.values())
    harness.assert_totals(st, rx=len(p.lan), tx=n_out, drops=sum(outb["drops"].values()))
    harness.check_stats_consistent(st)
    for name, (t, _, _) in outb["t"].items():
        sa = st["sa"][t.out_name]
        want = p.esp.get(t.out_sa.spi, [])
        assert sa["pkts"] == len(want) == outb["counts"][name], "%s: %s" % (name, sa)
        assert sa["bytes"] == sum(len(x) for x in want), "%s: %s, expected %d bytes" % (
            name, sa, sum(len(x) for x in want))
        assert sa["errors"] == (outb["drops"]["sqn_overflow"] if name == "ovf" else 0), \
            "%s: %s" % (name, sa)


# ---------------------------------------------------------------- inbound
def in_tunnels():
    return {
        "g44": Tunnel(90, "aes-gcm-128", 4, 4),
        "g66": Tunnel(91, "aes-gcm-256", 6, 6),
        "g64": Tunnel(92, "aes-gcm-128", 6, 4),
        "n44": Tunnel(93, "aes-gcm-128", 4, 4, out_opts="encap udp", in_opts="encap udp"),
        "n46": Tunnel(94, "aes-gcm-128", 4, 6, out_opts="encap udp", in_opts="encap udp"),
        "c44": Tunnel(95, "aes-cbc-128+hmac-sha256-128", 4, 4),
        "cd44": Tunnel(98, "aes-gcm-128", 4, 4, in_opts="crypto-path cryptodev"),
        "cp66": Tunnel(99, "aes-gcm-128", 6, 6, in_opts="crypto-path cpu"),
    }


def esp_frame(t, inner, seq, outer_ecn=NOT_ECT, sport=None, forge=False, dscp=26):
    """A WAN frame: inner in ESP of t's inbound SA (espcodec seals), outer
    TOS dscp|outer_ecn, in UDP when the SA is encap udp (from sport)."""
    raw = bytes(inner)
    esp = bytearray(t.in_sa.seal(raw, NH_IPV4 if raw[0] >> 4 == 4 else NH_IPV6, seq))
    if forge:
        esp[-1] ^= 0x40
    o = t.outer_hdr(tos=(dscp << 2) | outer_ecn)
    if "encap udp" in t.in_opts:
        if t.outer == 4:
            o.proto = 17
        else:
            o.nh = 17
        pkt = o / UDP(sport=NATT if sport is None else sport, dport=NATT) / Raw(bytes(esp))
    else:
        pkt = o / Raw(bytes(esp))
    if t.outer == 4:
        pkt.len, pkt.chksum = None, None
    else:
        pkt.plen = None
    return harness.wan_frame(pkt.__class__(bytes(pkt)))


def tos_kw(t, tos):
    return dict(tos=tos) if t.inner == 4 else dict(tc=tos)


def add_burst(p, t, name, base, counts, drops, natt_note=False, exact=False):
    """Sixteen frames of one SA, back to back (one RX burst with the other
    SAs' frames around them): accepted, ECN-dropped, replays of both,
    duplicates in the burst, a forged ICV, ECN rewrites. exact: a replay is
    the very frame of its number sent before (whichever copy wins a race
    between workers, the outcome is the same)."""
    def pk(i, ecn):
        return t.wan_pkt(("udp", "tcp", "icmp")[i % 3], 11 * i % 200,
                         **tos_kw(t, (34 << 2) | ecn))

    sport = NATT_ELSEWHERE if natt_note else None
    steps = [
        # (seq, inner ECN, outer ECN, forged, what: ok / ecn / replay / auth)
        (base + 1, ECT0, NOT_ECT, False, "ok"),
        (base + 2, NOT_ECT, CE, False, "ecn"),       # RFC 6040 4.2: drop
        (base + 2, NOT_ECT, NOT_ECT, False, "replay"),  # its number is taken
        (base + 3, ECT0, ECT1, False, "ok"),         # ECT(0) -> ECT(1)
        (base + 1, ECT0, NOT_ECT, False, "replay"),
        (base + 4, ECT1, CE, False, "ok"),           # -> CE
        (base + 4, ECT1, CE, False, "replay"),       # duplicate in the burst
        (base + 5, NOT_ECT, CE, False, "ecn"),
        (base + 6, CE, ECT0, False, "ok"),
        (base + 7, NOT_ECT, ECT1, False, "ok"),      # Not-ECT stays
        (base + 8, NOT_ECT, CE, True, "auth"),       # forged: never reaches RFC 6040
        (base + 8, NOT_ECT, NOT_ECT, False, "ok"),   # the genuine one after the forgery
        (base + 5, NOT_ECT, NOT_ECT, False, "replay"),
        (base + 9, ECT0, CE, False, "ok"),
        (base + 10, NOT_ECT, CE, False, "ecn"),
        (base + 11, ECT1, ECT0, False, "ok"),
    ]
    ecn_out = {(ECT0, NOT_ECT): ECT0, (ECT0, ECT1): ECT1, (ECT1, CE): CE, (CE, ECT0): CE,
               (NOT_ECT, ECT1): NOT_ECT, (NOT_ECT, NOT_ECT): NOT_ECT, (ECT0, CE): CE,
               (ECT1, ECT0): ECT1}
    first = {}
    for i, (seq, ei, eo, forge, what) in enumerate(steps):
        inner = pk(i, ei)
        f = esp_frame(t, inner, seq, eo, sport=sport, forge=forge)
        if not forge:
            first.setdefault(seq, f)
        if exact and what == "replay":
            f = first[seq]
        if what == "ok":
            out = harness.with_ecn(inner, ecn_out[(ei, eo)])
            p.wan_in(f, out)
            counts[name]["pkts"] += 1
            counts[name]["bytes"] += len(bytes(out))
        else:
            p.wan_in(f)
            drops[{"ecn": "ecn_invalid", "replay": "replay", "auth": "auth_fail"}[what]] += 1
            counts[name]["errors"] += 1


def in_plan(T):
    p = harness.Plan()
    counts = {n: collections.Counter() for n in T}
    drops = collections.Counter()
    # Per SA bursts, then all SAs interleaved frame by frame (other groups
    # between each SA's frames), on numbers of their own.
    for name, t in sorted(T.items()):
        add_burst(p, t, name, 0, counts, drops)
    subs = []
    for name, t in sorted(T.items()):
        sub = harness.Plan()
        add_burst(sub, t, name, 100, counts, drops, natt_note=name.startswith("n"))
        subs.append(sub)
        p.to_lan.extend(sub.to_lan)
    # Interleaved: frame k of every SA, then frame k + 1 ...
    for k in range(len(subs[0].wan)):
        for sub in subs:
            p.wan.append(sub.wan[k])
    return p, counts, drops


@pytest.fixture(scope="module")
def inb():
    T = in_tunnels()
    p, counts, drops = in_plan(T)
    conf = harness.base_conf(crypto_path="auto")
    for t in T.values():
        conf += t.conf()
    res = harness.run(conf, wan=p.wan)
    return dict(t=T, plan=p, res=res, counts=counts, drops=drops)


def test_inb_delivered_exact(inb):
    """What leaves lan0 is exactly the accepted packets (ECN rewritten by
    RFC 6040 4.2, TTL - 1), each once, in order per flow; nothing on the WAN."""
    res, p = inb["res"], inb["plan"]
    assert res.out["wan0"] == []
    p.check_clear(res)


def test_inb_counters(inb):
    """Per SA: pkts and bytes (inner bytes delivered), errors (ECN drops,
    replays, forgeries); drop reasons and totals exact; no mbuf leaked. The
    NAT-T SAs' second bursts come from another port (NATT_ELSEWHERE): those
    take the noted path (inb_window, natt_publish, inb_deliver), the first
    bursts the folded one (inb_commit)."""
    st, p = inb["res"].stats, inb["plan"]
    harness.assert_drops(st, **inb["drops"])
    harness.assert_totals(st, rx=len(p.wan), tx=len(p.to_lan), drops=sum(inb["drops"].values()))
    harness.check_stats_consistent(st)
    for name, t in inb["t"].items():
        sa, want = st["sa"][t.in_name], inb["counts"][name]
        got = {k: sa[k] for k in ("pkts", "bytes", "errors")}
        assert got == {k: want[k] for k in ("pkts", "bytes", "errors")}, \
            "%s: got %s, expected %s" % (name, got, dict(want))


# ---------------------------------------------------------------- two workers
def test_decrypt_any_ecn_and_replay():
    """decrypt any (a window shared by the workers, committed a group at
    once, then the delivery pass): the same mix on both queues, each number
    delivered once, ECN drops and replays counted, bytes exact."""
    t = Tunnel(96, "aes-gcm-128", 4, 4, in_opts="replay-window 128 decrypt any")
    conf = harness.base_conf(crypto_path="direct") + t.conf()
    p0, c0, d0 = harness.Plan(), {"x": collections.Counter()}, collections.Counter()
    add_burst(p0, t, "x", 0, c0, d0, exact=True)
    r, _ = harness.run_two_queues(conf, wan=(p0.wan, list(p0.wan)))
    st = r.stats
    # Queue 1 carries the same frames: each copy of an accepted number (or of an
    # ECN-dropped one, or a forged one) is dropped there or on queue 0.
    delivered = collections.Counter(harness.trim_l3(f[14:]) for f in r.out["lan0"])
    want = collections.Counter(p0.to_lan)
    assert delivered == want, "delivered %s, expected %s" % (
        sorted(delivered.values()), sorted(want.values()))
    n_in = 2 * len(p0.wan)
    n_ok = c0["x"]["pkts"]
    harness.assert_totals(st, rx=n_in, tx=n_ok, drops=n_in - n_ok)
    drops = {k: v for k, v in st["drops"].items() if v}
    # A forged copy whose number the other worker has committed meanwhile is a
    # replay before it is a forgery (RFC 4303 3.4.3: the window first).
    forged = 2 * d0["auth_fail"]
    assert 1 <= drops.get("auth_fail", 0) <= forged, drops
    assert drops.get("ecn_invalid", 0) == d0["ecn_invalid"], drops
    assert drops.get("replay", 0) + drops.get("auth_fail", 0) == \
        2 * d0["replay"] + d0["ecn_invalid"] + n_ok + forged, drops
    assert set(drops) <= {"auth_fail", "ecn_invalid", "replay"}, drops
    sa = st["sa"][t.in_name]
    assert (sa["pkts"], sa["bytes"], sa["errors"]) == (
        n_ok, c0["x"]["bytes"], n_in - n_ok), sa
    harness.check_stats_consistent(st)


def test_seq_order_strict_outer_header():
    """seq-order strict (order.c reads the SA and sequence mbuf fields the
    direct path writes): numbers consecutive, outer TOS/DF right, bytes exact."""
    t = Tunnel(97, "aes-gcm-128", 4, 4, out_opts="seq-order strict dscp 18")
    conf = harness.base_conf(crypto_path="direct") + t.conf()
    lan = ([], [])
    sent = []
    for i in range(96):
        pk = t.lan_pkt("udp", i % 50, tos=TOS[i % len(TOS)], flags="DF" if i % 3 else 0,
                       id=i)
        lan[i % 2].append(harness.lan_frame(pk))
        sent.append(harness.ttl_dec(pk))
    r, _ = harness.run_two_queues(conf, lan=lan)
    st = r.stats
    frames = r.out["wan0"]
    full = st["drops"].get("order_full", 0)
    assert len(frames) + full == len(sent)
    seqs, got = [], []
    for f in frames:
        d = harness.Decap(f, t)
        seqs.append(d.seq)
        got.append(d.inner)
        wtos, wdf = want_outer(d.inner, 18, "copy")
        assert (d.tos, d.df) == (wtos, wdf), "outer TOS/DF %s, expected %s" % (
            (d.tos, d.df), (wtos, wdf))
    assert seqs == list(range(1, len(frames) + 1)), seqs[:20]
    assert collections.Counter(got) <= collections.Counter(sent)
    sa = st["sa"][t.out_name]
    assert (sa["pkts"], sa["bytes"]) == (len(frames), sum(len(x) for x in got)), sa
    harness.check_stats_consistent(st)
