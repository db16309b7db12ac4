# SPDX-License-Identifier: BSD-3-Clause
"""Protocol MUSTs under attack, through the unprotected port, in one espgw
run with an exact expectation per frame (test_negative.py has the ESP
trailer, ICV and policy cases; this file the gaps):

- outer headers that lie: IPv4 total length beyond or short of the frame,
  below the IHL, IHL beyond the frame, truncated headers and frames, IPv6
  payload length beyond or short of the frame, a frame larger than a buffer:
  dropped as bad_l3 (or, where the IP length is shorter than the frame,
  trimmed to it and judged on what remains);
- IPv4 options and IPv6 extension headers (hop-by-hop, destination options,
  routing) before ESP: handled, the packet decrypts; too many or cut short:
  bad_l3;
- inner packets that lie after a good ICV: bad_l3, counted on their SA;
- replay (RFC 4303 3.4.3) while the window slides over many of its words and
  after a jump of several windows, and across the ESN 2^32 boundary
  (RFC 4303 2.2.1, A2): duplicates and packets left of the window dropped,
  unseen packets inside it accepted; a forged packet far ahead moves nothing.
The sanitizer run (scripts/test.sh --sanitize) makes any out-of-bounds read
on these inputs a failure."""

import socket
import struct

import pytest
from scapy.layers.l2 import Ether

import harness
from harness import Tunnel

W = 64  # replay window of every SA here


def ip4(src, dst, payload, options=b"", tot=None, ihl=None):
    """Raw IPv4 header (protocol ESP) + payload; tot/ihl override the honest values."""
    hl = 20 + len(options)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ((ihl if ihl is not None else hl // 4) & 0xf), 0,
                    tot if tot is not None else hl + len(payload), 0, 0, 64, 50, 0,
                    socket.inet_aton(src), socket.inet_aton(dst)) + options
    ck = harness.ip_checksum(h)
    return h[:10] + struct.pack("!H", ck) + h[12:] + payload


def ip6(src, dst, payload, nh=50, plen=None):
    return struct.pack("!IHBB16s16s", 6 << 28, plen if plen is not None else len(payload), nh,
                       64, socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def ext6(nh, units=0):
    """An IPv6 options header (hop-by-hop or destination) of 8 * (1 + units)
    bytes: next header, length, a PadN option."""
    return bytes([nh, units, 1, 4 + 8 * units, 0, 0, 0, 0]) + bytes(8 * units)


def routing6(nh):
    """A routing header with segments left 0 (RFC 8200 4.4: nothing left to do)."""
    return bytes([nh, 0, 4, 0, 0, 0, 0, 0])


def frame4(l3):
    return bytes(Ether(src=harness.NH4_MAC, dst=harness.WAN_MAC, type=0x0800)) + l3


def frame6(l3):
    return bytes(Ether(src=harness.NH6_MAC, dst=harness.WAN_MAC, type=0x86dd)) + l3


class Cases:
    def __init__(self):
        self.p = harness.Plan()
        self.drops = {}
        self.labels = []

    def good(self, label, frame, inner):
        self.labels.append(label)
        self.p.wan_in(frame, inner)

    def bad(self, label, frame, why):
        self.labels.append(label)
        self.p.wan_in(frame)
        self.drops[why] = self.drops.get(why, 0) + 1


def esp(t, inner, seq):
    """The ESP bytes (header to ICV) of inner in t's inbound SA (espcodec)."""
    b = bytes(inner)
    return t.in_sa.seal(b, 4 if b[0] >> 4 == 4 else 41, seq)


def cases_v4(c, A):
    """A: AES-GCM, IPv4 outer."""
    def pk(i):
        return A.wan_pkt("udp", 20 + i)

    e = esp(A, pk(0), 1)
    c.good("v4 honest", frame4(ip4(A.peer, A.local, e)), pk(0))
    e = esp(A, pk(1), 2)
    c.good("v4 trailing bytes beyond total length", frame4(ip4(A.peer, A.local, e) + bytes(30)),
           pk(1))
    e = esp(A, pk(2), 3)
    c.bad("v4 total length beyond frame", frame4(ip4(A.peer, A.local, e, tot=20 + len(e) + 8)),
          "bad_l3")
    c.bad("v4 total length below IHL", frame4(ip4(A.peer, A.local, e, tot=12)), "bad_l3")
    c.bad("v4 IHL 15 beyond frame", frame4(ip4(A.peer, A.local, e[:20], ihl=15)), "bad_l3")
    c.bad("v4 IHL 4", frame4(ip4(A.peer, A.local, e, ihl=4)), "bad_l3")
    c.bad("v4 total length cuts 4 bytes of ESP",
          frame4(ip4(A.peer, A.local, e, tot=20 + len(e) - 4)), "auth_fail")
    c.bad("v4 total length cuts 1 byte of ESP",
          frame4(ip4(A.peer, A.local, e, tot=20 + len(e) - 1)), "bad_length")
    c.bad("v4 header cut short", frame4(ip4(A.peer, A.local, e)[:12]), "bad_l3")
    c.bad("Ethernet header only", frame4(b""), "bad_l3")
    c.bad("10-byte frame", frame4(b"")[:10], "bad_l3")
    e = esp(A, pk(3), 4)
    c.good("v4 options (NOP NOP NOP EOL) before ESP",
           frame4(ip4(A.peer, A.local, e, options=b"\x01\x01\x01\x00")), pk(3))
    e = esp(A, pk(4), 5)
    c.good("v4 40 bytes of options before ESP",
           frame4(ip4(A.peer, A.local, e, options=b"\x01" * 39 + b"\x00")), pk(4))
    big = esp(A, A.wan_pkt("udp", 8000), 6)
    c.bad("jumbo frame larger than one buffer", frame4(ip4(A.peer, A.local, big)), "bad_l3")


def cases_v6(c, B):
    """B: AES-CBC + HMAC-SHA1, IPv6 outer and inner."""
    def pk(i):
        return B.wan_pkt("udp", 20 + i)

    e = esp(B, pk(0), 1)
    c.good("v6 honest", frame6(ip6(B.peer, B.local, e)), pk(0))
    e = esp(B, pk(1), 2)
    c.good("v6 trailing bytes beyond payload length",
           frame6(ip6(B.peer, B.local, e) + bytes(17)), pk(1))
    e = esp(B, pk(2), 3)
    c.bad("v6 payload length beyond frame", frame6(ip6(B.peer, B.local, e, plen=len(e) + 1)),
          "bad_l3")
    c.bad("v6 header cut short", frame6(ip6(B.peer, B.local, e)[:39]), "bad_l3")
    c.bad("v6 payload length cuts 16 bytes of ESP",
          frame6(ip6(B.peer, B.local, e, plen=len(e) - 16)), "auth_fail")
    e = esp(B, pk(3), 4)
    c.good("v6 hop-by-hop + destination options before ESP",
           frame6(ip6(B.peer, B.local, ext6(60) + ext6(50, 1) + e, nh=0)), pk(3))
    e = esp(B, pk(4), 5)
    c.good("v6 routing header before ESP",
           frame6(ip6(B.peer, B.local, routing6(50) + e, nh=43)), pk(4))
    chain = b"".join(ext6(60) for _ in range(8)) + ext6(50)
    c.bad("v6 nine extension headers before ESP",
          frame6(ip6(B.peer, B.local, chain + esp(B, pk(5), 6), nh=60)), "bad_l3")
    c.bad("v6 extension header longer than the packet",
          frame6(ip6(B.peer, B.local, ext6(50, 4)[:16], nh=60)), "bad_l3")
    c.bad("v6 version 4 in an IPv6 frame", frame6(b"\x45" + ip6(B.peer, B.local, e)[1:]),
          "bad_l3")


def cases_inner(c, A, B):
    """Inner packets that lie after a good ICV: counted as errors of their SA."""
    v4 = bytearray(bytes(A.wan_pkt("udp", 40)))
    struct.pack_into("!H", v4, 2, len(v4) + 20)  # total length beyond the decrypted data
    c.bad("inner v4 total length beyond data",
          frame4(ip4(A.peer, A.local, esp(A, bytes(v4), 7))), "bad_l3")
    v4 = bytearray(bytes(A.wan_pkt("udp", 41)))
    v4[0] = 0x43  # IHL 3
    c.bad("inner v4 IHL 3", frame4(ip4(A.peer, A.local, esp(A, bytes(v4), 8))), "bad_l3")
    v6 = bytearray(bytes(B.wan_pkt("udp", 42)))
    struct.pack_into("!H", v6, 4, len(v6))  # payload length 40 too long
    c.bad("inner v6 payload length beyond data",
          frame6(ip6(B.peer, B.local, esp(B, bytes(v6), 7))), "bad_l3")


def cases_replay(c, R):
    """R: the window slides over several of its 64-bit words, then jumps."""
    n = [0]

    def send(seq, why, label):
        p = R.wan_pkt("udp", n[0] % 600)
        n[0] += 1
        if why is None:
            c.good("R seq %d" % seq, R.encap(p, seq), p)
        else:
            c.bad("R seq %d %s" % (seq, label), R.encap(p, seq), why)

    for seq in range(1, 301):
        send(seq, None, "")
        if seq % 10 == 0:
            send(seq - 3, "replay", "duplicate inside the window")
        if seq % 37 == 0 and seq > W + 1:
            send(seq - W - 1, "replay", "left of the window")
    top = 300 + 3 * W
    send(top, None, "a jump of three windows")
    send(300, "replay", "left after the jump")
    send(top - 20, None, "unseen, inside the window")
    send(top - 20, "replay", "duplicate after the jump")
    send(300 + 2 * W, "replay", "left after the jump")


def esn_pkt(E, i):
    return E.wan_pkt("udp", 100 + i)


def cases_esn_start(c, E):
    """E: the first packet near 2^32, in a burst of its own (from a fresh window at 0,
    2^32 + n in the same burst would be inferred as n, RFC 4303 A2.1)."""
    c.good("E seq 2^32-3", E.encap(esn_pkt(E, 0), (1 << 32) - 3), esn_pkt(E, 0))


def cases_esn(c, E):
    """E: ESN across 2^32 within one burst; then a forged packet far ahead must not
    move the window."""
    def pk(i):
        return esn_pkt(E, i)

    top = 1 << 32
    for i, s in enumerate([top - 2, top - 1, top, top + 1, top + 2]):
        c.good("E seq 2^32%+d" % (s - top), E.encap(pk(i + 1), s), pk(i + 1))
    c.bad("E seq 2^32-1 replayed", E.encap(pk(10), top - 1), "replay")
    c.bad("E seq 2^32 replayed", E.encap(pk(11), top), "replay")
    # Left of the window and below 2^32: RFC 4303 A2.1 infers the next subspace
    # (2^33 - 70), so the ICV, computed by the sender with the high half 0, fails.
    c.bad("E seq 2^32-70 left of the window", E.encap(pk(12), top - 70), "auth_fail")
    forged = bytearray(bytes(E.encap(pk(13), top + 100000)))
    forged[-1] ^= 1
    c.bad("E forged seq 2^32+100000", bytes(forged), "auth_fail")
    c.good("E seq 2^32-10, inside the window the forgery did not move",
           E.encap(pk(14), top - 10), pk(14))
    c.good("E seq 2^32+3", E.encap(pk(15), top + 3), pk(15))


@pytest.fixture(scope="module")
def mal():
    T = {"A": Tunnel(70, "aes-gcm-128", 4, 4, in_opts="replay-window %d" % W),
         "B": Tunnel(71, "aes-cbc-128+hmac-sha1-96", 6, 6, in_opts="replay-window %d" % W),
         "R": Tunnel(72, "aes-gcm-256", 4, 4, in_opts="replay-window %d" % W),
         "E": Tunnel(73, "aes-gcm-128", 4, 4, esn=True, in_opts="replay-window %d" % W)}
    conf = harness.base_conf()
    for t in T.values():
        conf += t.conf()
    c = Cases()
    cases_v4(c, T["A"])
    cases_v6(c, T["B"])
    cases_inner(c, T["A"], T["B"])
    cases_esn_start(c, T["E"])
    cases_replay(c, T["R"])  # hundreds of frames: many bursts after the ESN start
    cases_esn(c, T["E"])
    c.res = harness.run(conf, wan=c.p.wan, timeout=60)
    return c


def test_drops_exact(mal):
    harness.assert_drops(mal.res.stats, **mal.drops)


def test_delivered_exact(mal):
    """Each packet expected to pass came out of lan0, byte for byte, in order per
    flow, and nothing else did (nothing at all on wan0)."""
    assert mal.res.out["wan0"] == []
    mal.p.check_clear(mal.res)


def test_totals(mal):
    harness.assert_totals(mal.res.stats, rx=len(mal.p.wan), tx=len(mal.p.to_lan),
                          drops=sum(mal.drops.values()))


def test_inner_lies_are_sa_errors(mal):
    """Inner packets that fail after decryption count as errors of their SA."""
    st = mal.res.stats["sa"]
    assert st["in70"]["errors"] == 2 + 2 and st["in71"]["errors"] == 1 + 1, st
