# SPDX-License-Identifier: BSD-3-Clause
"""Inbound packets that must not pass, each with its exact drop counter, in one
espgw run, and the genuine packets around them that must pass: a forged packet
must not move the replay window (RFC 4303 3.4.3: update only after the ICV
verified). Window edges are tested twice: with all packets in one RX burst and
with 40 filler frames between them (separate bursts), since the window check
before decryption and the update after it must agree either way."""

import pytest
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from harness import Tunnel, inner_pkt, HOST4, HOST6

FILL = 40  # frames between two window steps: more than one RX burst


# Drops decided after ESP processing (decryption, trailer, RFC 6040 decapsulation)
# succeeded: the SA counts the packet (pkts) and the drop (errors); earlier
# drops with a known SA count as errors only.
AFTER_ESP = ("policy_mismatch", "ttl_exceeded")


def bump(d, k):
    d[k] = d.get(k, 0) + 1


class Neg:
    def __init__(self):
        self.p = harness.Plan()
        self.drops = {}
        self.passed = {}  # tunnel name -> packets that must come out
        self.esp_ok = {}  # tunnel name -> packets through ESP processing (SA "pkts")
        self.errors = {}  # tunnel name -> drops attributed to the SA (SA "errors")
        self.cases = []   # (label, index in p.wan, expected drop reason or None)
        self.leak = {}    # inner packet (one hop later) of a frame to drop -> its label

    def drop(self, label, frame, why, sa=None, inner=None):
        """A frame espgw must drop for reason why; sa: the tunnel it is attributed
        to; inner: the packet it carries (to name the case if it comes out)."""
        self.cases.append((label, len(self.p.wan), why))
        if inner is not None:
            self.leak[harness.ttl_dec(inner)] = label
        self.p.wan_in(frame)
        bump(self.drops, why)
        if sa is not None:
            bump(self.errors, sa)
            if why in AFTER_ESP:
                bump(self.esp_ok, sa)

    def good(self, label, name, t, pkt, seq, **kw):
        self.cases.append((label, len(self.p.wan), None))
        self.p.wan_in(t.encap(pkt, seq, **kw), pkt)
        bump(self.passed, name)
        bump(self.esp_ok, name)

    def fill(self):
        for i in range(FILL):
            self.drop("filler", harness.wan_frame(inner_pkt(4, "10.9.8.%d" % (i % 250 + 1),
                                                            HOST4, "udp", i)), "no_policy")


def flip(frame, pos):
    b = bytearray(bytes(frame))
    b[pos] ^= 0x04
    return bytes(b)


def build():
    T = {
        "A": Tunnel(40, "aes-gcm-128", 4, 4, in_opts="replay-window 64"),
        "B": Tunnel(41, "null+hmac-sha256-128", 4, 4, in_opts="replay-window 64"),
        "C": Tunnel(42, "aes-cbc-128+hmac-sha1-96", 6, 6, in_opts="replay-window 64"),
        "D1": Tunnel(43, "aes-gcm-128", 4, 4, in_opts="replay-window 64"),
        "D2": Tunnel(44, "aes-cbc-256+hmac-sha256-128", 4, 4, in_opts="replay-window 64"),
        "E": Tunnel(45, "chacha20-poly1305", 6, 4, in_opts="replay-window 64"),
    }
    conf = harness.base_conf()
    for t in T.values():
        conf += t.conf()
    n = Neg()
    for cases in (cases_a, cases_b, cases_c, cases_window, cases_forged, cases_clear):
        cases(n, T)
    return T, conf, n


def pk(t, i, **kw):
    """The i-th test packet of tunnel t (distinct payload sizes)."""
    return t.wan_pkt("udp", 30 + i, **kw)


def cases_a(n, T):
    """A: AES-GCM, IPv4 in IPv4: ICV, ciphertext, key, replay, policy, trailer, TTL, length."""
    A = T["A"]
    n.drop("A icv bit", flip(A.encap(pk(A, 0), 1), -3), "auth_fail", sa="A", inner=pk(A, 0))
    n.good("A seq 1 after forged seq 1", "A", A, pk(A, 1), 1)
    n.drop("A ciphertext bit", flip(A.encap(pk(A, 2), 2), 14 + 20 + 16 + 5), "auth_fail",
           sa="A", inner=pk(A, 2))
    n.good("A seq 2", "A", A, pk(A, 3), 2)
    n.good("A seq 3", "A", A, pk(A, 4), 3)
    n.drop("A seq 3 replayed", A.encap(pk(A, 5), 3), "replay", sa="A", inner=pk(A, 5))
    wrong = harness.EspSA(A.in_sa.spi, "aes-gcm-128", key=bytes(16), salt=A.in_sa.salt)
    n.drop("A wrong key", harness.encap(wrong, A.outer_hdr(), pk(A, 6), 4), "auth_fail",
           sa="A", inner=pk(A, 6))
    n.drop("A inner from B's subnet", A.encap(T["B"].wan_pkt("udp", 1), 5), "policy_mismatch",
           sa="A")
    n.drop("A inner from nowhere", A.encap(inner_pkt(4, "10.9.9.9", HOST4), 6),
           "policy_mismatch", sa="A")
    n.drop("A next header 41 on IPv4", A.encap(pk(A, 7), 7, nh=41), "bad_padding",
           sa="A", inner=pk(A, 7))
    n.drop("A wrong pad bytes", A.encap(pk(A, 8), 8, padding=bad_pad(len(pk(A, 8)), 4)),
           "bad_padding", sa="A", inner=pk(A, 8))
    n.drop("A inner TTL 1", A.encap(pk(A, 9, ttl=1), 9), "ttl_exceeded",
           sa="A", inner=pk(A, 9, ttl=1))
    # ... and its sender, behind tunnel A, hears of it through tunnel A (RFC 792),
    # from the gateway's LAN address, one hop later (TTL 64).
    n.p.esp.setdefault(A.out_sa.spi, []).append(
        harness.time_exceeded("10.1.0.1", A.host, pk(A, 9, ttl=1)))
    n.good("A seq 10", "A", A, pk(A, 10), 10)
    # Replays in the upper half of a 64-bit window word (seq % 64 >= 32), in a
    # later burst and in the same burst as the original.
    n.good("A seq 40", "A", A, pk(A, 12), 40)
    n.fill()
    n.drop("A seq 40 replayed, later burst", A.encap(pk(A, 13), 40), "replay",
           sa="A", inner=pk(A, 13))
    n.good("A seq 41", "A", A, pk(A, 14), 41)
    n.drop("A seq 41 replayed, same burst", A.encap(pk(A, 15), 41), "replay",
           sa="A", inner=pk(A, 15))
    n.fill()
    short = A.in_sa.seal(bytes(pk(A, 11)), 4, 11)[:8 + 8 + 10]
    n.drop("A truncated below IV+ICV", esp_frame(A, short), "bad_length", sa="A")
    n.drop("A ESP of 6 bytes", esp_frame(A, A.in_sa.seal(b"", 4, 12)[:6]), "bad_length")


def cases_b(n, T):
    """B: NULL + HMAC, trailers readable on the wire; unknown SPIs."""
    B = T["B"]
    n.drop("B pad bytes 1 2 4", B.encap(pk(B, 0), 1, padding=bad_pad(len(pk(B, 0)), 4)),
           "bad_padding", sa="B", inner=pk(B, 0))
    n.drop("B pad length beyond payload", B.encap(pk(B, 1), 2, pad_len=250), "bad_padding",
           sa="B", inner=pk(B, 1))
    n.good("B seq 3", "B", B, pk(B, 2), 3)
    n.drop("B unknown SPI", B.encap(pk(B, 3), 4, spi=B.in_sa.spi + 0x100), "no_sa", inner=pk(B, 3))
    n.drop("B outbound SA's SPI", harness.encap(B.out_sa, B.outer_hdr(), pk(B, 4), 5),
           "no_sa", inner=pk(B, 4))
    n.drop("B next header 0", B.encap(pk(B, 5), 6, nh=0), "bad_padding", sa="B", inner=pk(B, 5))


def cases_c(n, T):
    """C: AES-CBC + HMAC-SHA1, IPv6 in IPv6: alignment, ICV, inner family."""
    C = T["C"]
    n.drop("C ciphertext not block aligned",
           esp_frame(C, C.in_sa.sign_raw(1, bytes(16), bytes(range(17)))), "bad_length", sa="C")
    n.drop("C icv bit", flip(C.encap(pk(C, 1), 2), -1), "auth_fail", sa="C", inner=pk(C, 1))
    n.good("C seq 2", "C", C, pk(C, 2), 2)
    v4 = inner_pkt(4, "10.64.42.5", HOST4, "udp", 3)
    n.drop("C IPv4 inside an IPv6 SA", C.encap(v4, 3, nh=4), "bad_padding", sa="C")
    n.drop("C IPv4 inside, next header 41", C.encap(v4, 4, nh=41), "policy_mismatch", sa="C")


def cases_window(n, T):
    """D1 (separate bursts) and D2 (one burst): the edges of a 64-packet window."""
    for name, sep in (("D1", True), ("D2", False)):
        D = T[name]
        steps = [(200, True), (100, False), (137, True), (136, False), (200, False),
                 (201, True), (138, True), (137, False), (73, False), (202, True)]
        for i, (seq, ok) in enumerate(steps):
            label = "%s seq %d" % (name, seq)
            if ok:
                n.good(label, name, D, pk(D, i), seq)
            else:
                n.drop(label, D.encap(pk(D, i), seq), "replay", sa=name, inner=pk(D, i))
            if sep:
                n.fill()


def cases_forged(n, T):
    """E: a forged packet far ahead must not move the window."""
    E = T["E"]
    n.drop("E forged seq 10000", flip(E.encap(pk(E, 0), 10000), -2), "auth_fail",
           sa="E", inner=pk(E, 0))
    n.fill()
    n.good("E seq 5 after forged 10000", "E", E, pk(E, 1), 5)
    n.good("E seq 10000", "E", E, pk(E, 2), 10000)
    n.fill()
    n.drop("E seq 5 now left of window", E.encap(pk(E, 3), 5), "replay", sa="E", inner=pk(E, 3))


def cases_clear(n, T):
    """Clear and malformed traffic from the WAN."""
    A, C = T["A"], T["C"]
    n.drop("clear, inbound protect policy", harness.wan_frame(A.wan_pkt("udp", 9)),
           "policy_mismatch")
    n.drop("clear IPv6, inbound protect policy", harness.wan_frame(C.wan_pkt("tcp", 9)),
           "policy_mismatch")
    n.drop("clear, no policy", harness.wan_frame(inner_pkt(4, "10.9.9.9", HOST4)), "no_policy")
    n.drop("clear IPv6, no policy", harness.wan_frame(inner_pkt(6, "2001:db8:9::9", HOST6)),
           "no_policy")
    n.drop("not IP", Ether(src=harness.NH4_MAC, dst=harness.WAN_MAC, type=0x88b5) / Raw(
        bytes(50)), "unsupported_l3")
    bad = bytearray(bytes(harness.wan_frame(inner_pkt(4, "10.9.9.9", HOST4, "udp", 20))))
    bad[14] = 0x43  # IHL 3
    n.drop("IPv4 IHL 3", bytes(bad), "bad_l3")


def bad_pad(inner_len, align):
    """Padding of the right length whose bytes break the 1, 2, 3 ... rule."""
    k = (-(inner_len + 2)) % align
    k = k + align if k < 3 else k
    return bytes(range(1, k)) + bytes([k + 1])


def esp_frame(t, esp):
    o = t.outer_hdr()
    return harness.wan_frame(o.__class__(bytes(o / Raw(esp))))


@pytest.fixture(scope="module")
def neg():
    T, conf, n = build()
    n.res = harness.run(conf, wan=n.p.wan)
    n.t = T
    return n


def test_drop_counters_exact(neg):
    harness.assert_drops(neg.res.stats, **neg.drops)


def test_totals_exact(neg):
    n_err = sum(len(v) for v in neg.p.esp.values())  # ICMP errors out through tunnels
    harness.assert_totals(neg.res.stats, rx=len(neg.p.wan),
                          tx=sum(neg.passed.values()) + n_err, drops=sum(neg.drops.values()))


def test_nothing_to_drop_came_out(neg):
    leaked = [neg.leak[harness.trim_l3(f[14:])] for f in neg.res.out["lan0"]
              if harness.trim_l3(f[14:]) in neg.leak]
    assert leaked == [], "delivered, should have been dropped: %s" % leaked


def test_genuine_packets_pass(neg):
    """Each genuine packet (and nothing else) came out, exact bytes, in order per flow;
    on the WAN only the ICMP errors, encrypted in the tunnel their packet came by."""
    by_spi, clear = harness.split_esp(neg.res.out["wan0"])
    assert clear == [] and set(by_spi) == set(neg.p.esp), sorted(map(hex, by_spi))
    for name, t in neg.t.items():
        want = neg.p.esp.get(t.out_sa.spi, [])
        got = [harness.Decap(f, t).inner for f in by_spi.get(t.out_sa.spi, [])]
        assert got == want, "%s: inner packets out\n got  %s\n want %s" % (
            name, [g.hex() for g in got], [w.hex() for w in want])
    neg.p.check_clear(neg.res)


def test_per_sa_counters(neg):
    """pkts: through ESP processing (ICV, replay, trailer good); errors: drops of that SA."""
    st = neg.res.stats["sa"]
    for name, t in neg.t.items():
        got = (st[t.in_name]["pkts"], st[t.in_name]["errors"])
        want = (neg.esp_ok.get(name, 0), neg.errors.get(name, 0))
        assert got == want, "%s (pkts, errors): got %s, expected %s" % (name, got, want)
