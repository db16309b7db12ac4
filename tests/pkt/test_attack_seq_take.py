# SPDX-License-Identifier: BSD-3-Clause
"""Review of 38d6168 (with several workers, outb_burst takes the sequence
numbers of every direct-path SA group of a burst before any group is framed:
espgw_esp_gcm_outb_take, then espgw_esp_gcm_outb with the numbers taken).

Two workers (harness.run_two_queues: lan0/wan0 with two queues, worker q
polls queue q), every SA's traffic on both queues, each RX burst holding
packets of many SAs at once, so that the take step runs for several groups
(and drops at it: sqn_overflow at the end of the 32-bit space, crypto_error
for no tailroom under seq-order strict) before the framing of any.

test_limit_mixed: direct SAs (plain, UDP/IPv6, MSS clamp, seq-order strict)
and an rte_ipsec CPU-path SA all 255 numbers from the end of the 32-bit
space, an ESN direct SA crossing 2^32, a far direct SA, ChaCha20 (CPU), AH,
packets of no SA (a policy protecting with a declared SA: no_sa_yet; packets
no policy matches: no_policy), DF-clear packets fragmented before
encryption: nothing in clear, every SA's numbers unique and contiguous, none
past 0xfffffffe without ESN, each inner packet at most once, the clamped
SYNs' MSS lowered, the strict SA in order on one queue and its window empty
at the end, drops exactly sqn_overflow + no_sa_yet + no_policy, no mbuf
leaked (check_pools in harness.Gateway.stop).

test_strict_fit_clamp_limit: one seq-order strict direct SA with an MSS clamp
near its last number; frames of 2048 bytes (wan0 mtu 9000: no tailroom left
in the RX mbuf for the ESP trailer and ICV) interleaved with TCP SYNs and
UDP: the jumbo ones dropped at the take step as crypto_error (never
clamped nor framed: a freed mbuf touched would show as a leak, a double
send or a crash), the rest in number order on one TX queue, no number
skipped, nothing left in the owner's window (a number taken and never sent
would wedge it: pending != 0 / frames missing after it).
"""


from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

import ahcodec
import harness
from harness import Tunnel
from test_attack_outb_mix import AhTunnel, classify, check_udp, natt

MARK = b"SEQTAKE-CLEAR"
LAST = 0xFFFFFFFE           # the last number an SA without ESN sends
START_LEFT = 0xFFFFFF00     # 255 numbers left (0xffffff00 .. 0xfffffffe)
MSS_IN, MSS_CLAMP = 1460, 1200


def payload(i, size=0):
    body = MARK + b"%07d" % i
    return body + bytes((i * 13 + k) & 0xff for k in range(max(0, size - len(body))))


def udp_pkt(t, i, size=0, df=True):
    if t.inner == 4:
        hdr = IP(src=t.lan_host, dst=t.host, id=i & 0xffff, flags="DF" if df else 0)
    else:
        hdr = IPv6(src=t.lan_host, dst=t.host)
    p = hdr / UDP(sport=30000 + i % 1000, dport=5001) / Raw(payload(i, size))
    return p.__class__(bytes(p))


def syn_pkt(t, i, mss):
    p = IP(src=t.lan_host, dst=t.host, id=i & 0xffff) / \
        TCP(sport=20000 + i % 1000, dport=443, flags="S", seq=i, options=[("MSS", mss)]) / \
        Raw(payload(i, 8))
    return p.__class__(bytes(p))


def tcp_mss(l3):
    p = IP(l3)
    for k, v in p[TCP].options:
        if k == "MSS":
            return v
    return None


def open_frame(t, f):
    """(seq, inner bytes) of one ESP / ESP-in-UDP / AH frame of t's outbound SA."""
    l3 = f[14:]
    off = 20 if t.outer == 4 else 40
    if isinstance(t, AhTunnel):
        op = ahcodec.open_(t.out_sa, l3, t.outer)
        assert op.ok, t.out_name
        return op.seq, op.payload
    if "encap udp" in t.out_opts:
        check_udp(t, l3)
        op = t.out_sa.open(l3[off + 8:])
        return op.seq, op.payload
    if t.out_sa.esn:  # RFC 4303 A2: the high half is not on the wire
        hi = 0 if harness.esp_seq(f) >= START_LEFT else 1
        d = harness.Decap(f, t, seq_hi=hi)
        return d.seq, d.inner
    d = harness.Decap(f, t)
    return d.seq, d.inner


def test_limit_mixed():
    near = [
        Tunnel(61, "aes-gcm-128", 4, 4, out_opts="seq 0x%x" % START_LEFT),
        natt(62, "aes-gcm-256", 6, 6, extra="seq 0x%x" % START_LEFT),
        Tunnel(63, "aes-gcm-128", 4, 4, out_opts="mss-clamp %d seq 0x%x" % (MSS_CLAMP,
                                                                          START_LEFT)),
        Tunnel(64, "aes-gcm-128", 4, 4, out_opts="seq-order strict seq 0x%x" % START_LEFT),
        Tunnel(65, "aes-gcm-128", 4, 4, out_opts="crypto-path cpu seq 0x%x" % START_LEFT),
    ]
    far = [
        Tunnel(66, "aes-gcm-128", 4, 6),
        Tunnel(67, "chacha20-poly1305", 6, 4),
        AhTunnel(68, "hmac-sha256-128", 4),
        Tunnel(69, "aes-gcm-128", 4, 4, esn=True, out_opts="seq 0x%x" % START_LEFT),
    ]
    T = near + far
    conf = harness.base_conf(crypto_path="direct")
    for t in T:
        conf += t.conf()
    # A protect policy whose SA was never added (declared) and a net no policy covers.
    conf += ["sa declare ghost dir out",
             "sp add out priority 10 src %s dst 10.77.0.0/24 protect ghost" % harness.LAN_NET4]
    per_q = 330  # per SA and queue; the near SAs get 2 x 330 > 255
    queues, expect = ([], []), {t.out_sa.spi: {} for t in T}
    n_ghost = n_nopol = n_frag_pkts = 0
    for q in (0, 1):
        for i in range(per_q):
            for j, t in enumerate(T):
                k = (q * per_q + i) * 100 + j
                if t.slot == 63 and i % 2 == 0:
                    p = syn_pkt(t, k, MSS_IN)
                    queues[q].append(harness.lan_frame(p))
                    expect[t.out_sa.spi][harness.ttl_dec(syn_pkt(t, k, MSS_CLAMP))] = p
                    continue
                elif t.slot in (61, 66) and i % 17 == 3:
                    # DF clear, too big for the SA: fragmented before encryption.
                    p = udp_pkt(t, k, size=1460, df=False)
                    n_frag_pkts += 1
                else:
                    p = udp_pkt(t, k, size=(k * 29) % 300)
                queues[q].append(harness.lan_frame(p))
                expect[t.out_sa.spi][harness.ttl_dec(p)] = p
            if i % 5 == 0:
                g = IP(src=harness.HOST4, dst="10.77.0.9") / UDP() / Raw(payload(i))
                queues[q].append(harness.lan_frame(g.__class__(bytes(g))))
                n_ghost += 1
                g = IP(src=harness.HOST4, dst="10.78.0.9") / UDP() / Raw(payload(i))
                queues[q].append(harness.lan_frame(g.__class__(bytes(g))))
                n_nopol += 1
    r, _ = harness.run_two_queues(conf, lan=queues, timeout=120)
    st = r.stats
    assert r.out["lan0"] == []
    spis = {t.out_sa.spi: t for t in T}
    got = {}
    for f in r.out["wan0"]:
        kind, spi, _ = classify(f)
        assert kind is not None, "a frame out of wan0 that is neither ESP nor AH: %s" % f.hex()
        assert spi in spis, "SPI 0x%x" % spi
        if kind != "ah":
            assert MARK not in f, "%s: inner packet in clear" % spis[spi].out_name
        got.setdefault(spi, []).append(f)
    overflow = 0
    for t in T:
        frames = got.get(t.out_sa.spi, [])
        seqs, inners = [], []
        for f in frames:
            s, inner = open_frame(t, f)
            seqs.append(s)
            inners.append(inner)
        assert len(set(seqs)) == len(seqs), "%s: a number sent twice: %s" % (
            t.out_name, sorted(s for s in seqs if seqs.count(s) > 1)[:10])
        assert t.out_sa.esn or all(s <= LAST for s in seqs), \
            "%s: number past 0xfffffffe" % t.out_name
        start = START_LEFT if t in near or t.out_sa.esn else 1
        assert sorted(seqs) == list(range(start, start + len(seqs))), \
            "%s: numbers not contiguous from 0x%x" % (t.out_name, start)
        whole = [x for x in inners if x in expect[t.out_sa.spi]]
        assert len(set(whole)) == len(whole), "%s: an inner packet sent twice" % t.out_name
        for x in inners:
            if x not in expect[t.out_sa.spi]:  # a fragment of a DF-clear packet
                ip = IP(x)
                assert t.slot in (61, 66) and (ip.flags.MF or ip.frag), t.out_name
                assert ip.src == t.lan_host and ip.dst == t.host
        if t.slot == 63:
            syns = [x for x in inners if IP(x).proto == 6]
            assert syns and all(tcp_mss(x) == MSS_CLAMP for x in syns), "MSS not clamped"
        want = sum(2 if (t.slot in (61, 66) and i % 17 == 3) else 1
                   for _ in (0, 1) for i in range(per_q))
        if t in near:
            assert len(seqs) == LAST - START_LEFT + 1, (t.out_name, len(seqs))
            overflow += want - len(seqs)
        else:
            assert len(seqs) == want, (t.out_name, len(seqs), want)
    # seq-order strict: on the wire in number order, one TX queue.
    ordered = near[3].out_sa.spi
    q = [[f for f in r.out["wan0.q%d" % i] if classify(f)[1] == ordered] for i in (0, 1)]
    assert not (q[0] and q[1]), "ESP of one ordered SA on both TX queues"
    assert [harness.esp_seq(f) for f in q[0] or q[1]] == \
        list(range(START_LEFT, LAST + 1))
    assert st["dataplane"]["pending"] == 0
    d = {k: v for k, v in st["drops"].items() if v}
    assert d.get("sqn_overflow", 0) == overflow, d
    assert d.get("no_sa_yet", 0) == n_ghost, d
    assert d.get("no_policy", 0) == n_nopol, d
    assert set(d) <= {"sqn_overflow", "no_sa_yet", "no_policy"}, d
    assert st["dataplane"]["fragmented"] == n_frag_pkts


def test_strict_fit_clamp_limit():
    left = 200
    start = LAST + 1 - left
    t = Tunnel(71, "aes-gcm-128", 4, 4,
               out_opts="seq-order strict mss-clamp %d seq 0x%x" % (MSS_CLAMP, start))
    u = Tunnel(72, "aes-gcm-128", 4, 4, out_opts="seq 0x%x" % start)  # not ordered, near too
    conf = harness.base_conf(crypto_path="direct")
    conf[1] += " mtu 9000"
    conf += t.conf() + u.conf()
    per_q = 160
    queues, jumbo, small = ([], []), 0, {}
    for q in (0, 1):
        for i in range(per_q):
            k = q * per_q + i
            for tun in (t, u):
                if i % 4 == 1:
                    # 14 + 2034 = 2048 bytes: fills the RX mbuf, no tailroom.
                    p = udp_pkt(tun, k, size=2034 - 28)
                    assert len(p) == 2034
                    jumbo += 1
                elif i % 4 == 2 and tun is t:
                    p = syn_pkt(tun, k, MSS_IN)
                    small[harness.ttl_dec(syn_pkt(tun, k, MSS_CLAMP))] = tun
                else:
                    p = udp_pkt(tun, k, size=(k * 31) % 200)
                    small[harness.ttl_dec(p)] = tun
                queues[q].append(harness.lan_frame(p))
    r, _ = harness.run_two_queues(conf, lan=queues, timeout=120)
    st = r.stats
    assert MARK not in b"".join(r.out["wan0"]), "inner packet in clear"
    # The strict SA: one queue, numbers in order from start, no gap.
    q = [[f for f in r.out["wan0.q%d" % i] if harness.esp_spi(f) == t.out_sa.spi]
         for i in (0, 1)]
    assert not (q[0] and q[1]), "ESP of one ordered SA on both TX queues"
    frames = q[0] or q[1]
    seqs, inners = [], []
    for f in frames:
        d = harness.Decap(f, t)
        seqs.append(d.seq)
        inners.append(d.inner)
        assert small.get(d.inner) is t, "an unexpected inner packet (a jumbo one?)"
        if IP(d.inner).proto == 6:
            assert tcp_mss(d.inner) == MSS_CLAMP
    n_small_t = sum(1 for v in small.values() if v is t)
    assert seqs == list(range(start, start + len(seqs))), seqs[:20]
    assert len(set(inners)) == len(inners)
    assert len(seqs) == min(left, n_small_t), (len(seqs), n_small_t)
    # The unordered one: numbers unique and in range (jumbo ones drop after taking theirs).
    useqs = [harness.Decap(f, u).seq for f in r.out["wan0"] if harness.esp_spi(f) == u.out_sa.spi]
    assert len(set(useqs)) == len(useqs) and all(start <= s <= LAST for s in useqs)
    assert st["dataplane"]["pending"] == 0
    d = {k: v for k, v in st["drops"].items() if v}
    n_u = 2 * per_q
    assert set(d) <= {"sqn_overflow", "crypto_error"}, d
    # Strict: every jumbo one a crypto_error before any number; the rest beyond 'left' overflow.
    t_jumbo = jumbo // 2
    assert d["crypto_error"] >= t_jumbo, d
    assert d["crypto_error"] + d.get("sqn_overflow", 0) + len(seqs) + len(useqs) == \
        n_u + n_small_t + t_jumbo, d
