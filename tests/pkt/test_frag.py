# SPDX-License-Identifier: BSD-3-Clause
"""Fragmentation, reassembly, MSS clamping and the control path's answers
through tunnels, in one espgw run for the module.

- DF-clear IPv4 packets too big for their SA are fragmented BEFORE encryption
  (RFC 4301 8.1): every fragment leaves as an ESP packet of its own that fits
  the WAN MTU. Judges: this file's own RFC 791 fragmenter gives the exact
  inner bytes each ESP packet must carry (scapy/espcodec decrypt), and the
  decrypted fragments put together again must be the original datagram.
- DF set: ICMP "fragmentation needed" with the SA's inner MTU (RFC 1191),
  the MTU derived here from espcodec's ESP overhead.
- Outer ESP packets that arrive in fragments (IPv4, out of order; IPv6 with a
  fragment header, made by scapy's fragment()/fragment6()) are reassembled
  before decryption: the inner packet leaves lan0 exactly.
- TCP MSS clamping: a fixed value on an outbound SA, "auto" on an inbound one
  (tunnel MTU - 40); scapy builds the expected segment with its checksum.
- Ping to the gateway's LAN address through a tunnel: the reply goes back
  encrypted in that tunnel (IPv4 and IPv6)."""

import struct

import pytest
from scapy.layers.inet import IP, TCP, ICMP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, ICMPv6EchoRequest, fragment6
from scapy.packet import Raw
from scapy.utils import checksum

import harness
from harness import Tunnel, HOST4

LAN4, LAN6 = "10.1.0.1", "2001:db8:1::1"
WAN_MTU = 1500


def sa_mtu(t):
    """The largest inner packet the tunnel carries within the WAN MTU (espcodec's sizes)."""
    return max(n for n in range(1200, WAN_MTU + 1) if t.fits(n))


def rfc791_fragments(pkt, mtu):
    """pkt (scapy IPv4, DF clear) cut into fragments of at most mtu bytes (RFC 791
    3.2): payloads in multiples of 8, offsets and MF from the original kept."""
    b = bytes(pkt)
    ihl = (b[0] & 0xf) * 4
    if len(b) <= mtu:
        return [b]
    hdr, data = b[:ihl], b[ihl:]
    fo = struct.unpack("!H", hdr[6:8])[0]
    base, orig_mf = (fo & 0x1fff) * 8, fo & 0x2000
    size = (mtu - ihl) // 8 * 8
    out = []
    for off in range(0, len(data), size):
        chunk = data[off:off + size]
        last = off + size >= len(data)
        mf = orig_mf if last else 0x2000
        h = bytearray(hdr)
        struct.pack_into("!HHH", h, 2, ihl + len(chunk), struct.unpack("!H", hdr[4:6])[0],
                         mf | (base + off) // 8)
        h[10:12] = b"\0\0"
        struct.pack_into("!H", h, 10, checksum(bytes(h)))
        out.append(bytes(h) + chunk)
    return out


def reassemble(frags):
    """Put IPv4 fragments (bytes) together, strictly: one ID, contiguous offsets, no
    overlap, MF on all but the last. Returns the IP payload."""
    parts = sorted((struct.unpack("!H", f[6:8])[0] & 0x1fff) * 8 for f in frags)
    by_off = {(struct.unpack("!H", f[6:8])[0] & 0x1fff) * 8: f for f in frags}
    assert len(by_off) == len(frags), "two fragments at one offset"
    assert len({f[4:6] for f in frags}) == 1, "fragments of different IDs"
    data = b""
    for i, off in enumerate(parts):
        f = by_off[off]
        mf = struct.unpack("!H", f[6:8])[0] & 0x2000
        assert off == len(data), "hole or overlap at %d" % off
        assert bool(mf) == (i < len(parts) - 1), "MF wrong at offset %d" % off
        data += f[(f[0] & 0xf) * 4:struct.unpack("!H", f[2:4])[0]]
    return data


def frag_needed(src, dst, offending, mtu):
    """ICMP type 3 code 4 with the next-hop MTU (RFC 1191 4), quoting 548 bytes."""
    body = bytearray(struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + bytes(offending)[:548])
    struct.pack_into("!H", body, 2, checksum(bytes(body)))
    p = IP(src=src, dst=dst, ttl=64, id=0, flags=0, proto=1) / Raw(bytes(body))
    return bytes(p.__class__(bytes(p)))


def syn(src, dst, mss, flags="S", ttl=64):
    """A SYN as Linux sends it (MSS first, then SACK, timestamps, window scale)."""
    p = IP(src=src, dst=dst, ttl=ttl, id=5) / TCP(
        sport=40001, dport=443, flags=flags, seq=1000, ack=0 if flags == "S" else 77,
        options=[("MSS", mss), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None),
                 ("WScale", 7)])
    return p.__class__(bytes(p))


def echo_reply(req, src):
    """The reply espgw builds from an echo request: same header but addresses
    swapped, TTL/hop limit 64 once it left (65 less the hop it crossed)."""
    if req.version == 4:
        r = IP(bytes(req))
        r.src, r.dst, r.ttl = src, req.src, 64
        r[ICMP].type = 0
        del r.chksum
        del r[ICMP].chksum
    else:
        from scapy.layers.inet6 import ICMPv6EchoReply
        e = req[ICMPv6EchoRequest]
        r = IPv6(src=src, dst=req.src, hlim=64, tc=req.tc, fl=req.fl) / ICMPv6EchoReply(
            id=e.id, seq=e.seq, data=e.data)
    return bytes(r.__class__(bytes(r)))


class Run:
    pass


def build():
    T = {
        "g4": Tunnel(50, "aes-gcm-128", 4, 4),
        "c6": Tunnel(51, "aes-cbc-128+hmac-sha256-128", 4, 6),
        "m4": Tunnel(52, "aes-gcm-128", 4, 4, out_opts="mss-clamp 1300",
                     in_opts="mss-clamp auto"),
        "e4": Tunnel(53, "aes-gcm-128", 4, 4),
        "e6": Tunnel(54, "chacha20-poly1305", 6, 6),
        "r4": Tunnel(55, "aes-gcm-128", 4, 4),
        "r6": Tunnel(56, "aes-cbc-128+hmac-sha256-128", 4, 6),
    }
    conf = harness.base_conf()
    for t in T.values():
        conf += t.conf()
    r = Run()
    r.t, r.conf, r.p = T, conf, harness.Plan()
    r.dp = {"fragmented": 0, "fragments": 0, "reassembled": 0, "reasm_fragments": 0,
            "injected": 0}
    r.drops = {}
    for add in (lan_fragments, lan_df, lan_mss, wan_fragments, wan_mss, wan_ping):
        add(r)
    return r


def lan_send_fragmented(r, t, pkt):
    """pkt from the LAN (DF clear): what the SA must carry is exactly this file's
    RFC 791 fragmentation of it, one hop later."""
    mtu = sa_mtu(t)
    r.p.lan.append(harness.lan_frame(pkt))
    cut = rfc791_fragments(IP(harness.ttl_dec(pkt)), mtu)
    r.p.esp.setdefault(t.out_sa.spi, []).extend(cut)
    if len(cut) > 1:
        r.dp["fragmented"] += 1
        r.dp["fragments"] += len(cut)


def lan_fragments(r):
    """A 3000-byte UDP datagram the LAN host sends in three 1500-byte fragments
    (each too big for the tunnel again), a whole 1500-byte one, and one over an
    IPv6 outer header (a smaller SA MTU)."""
    g4, c6 = r.t["g4"], r.t["c6"]
    big = g4.lan_pkt("udp", 3000 - 28, id=0x3000)
    r.big = big
    for f in fragment(big, fragsize=1480):
        lan_send_fragmented(r, g4, f.__class__(bytes(f)))
    lan_send_fragmented(r, g4, g4.lan_pkt("udp", 1500 - 28, id=0x1500))
    lan_send_fragmented(r, c6, c6.lan_pkt("udp", 1500 - 28, id=0x1501))


def lan_df(r):
    """DF set and too big for the tunnel: dropped with ICMP frag-needed and the SA's MTU."""
    g4 = r.t["g4"]
    pkt = g4.lan_pkt("udp", 1500 - 28, id=0x1502, flags="DF")
    r.p.lan.append(harness.lan_frame(pkt))
    r.p.to_lan.append(frag_needed(LAN4, HOST4, pkt, sa_mtu(g4)))


def lan_mss(r):
    """mss-clamp 1300 on the outbound SA: the SYN leaves with MSS 1300."""
    m4 = r.t["m4"]
    pkt = syn(HOST4, m4.host, 1460)
    r.p.lan.append(harness.lan_frame(pkt))
    r.p.esp.setdefault(m4.out_sa.spi, []).append(bytes(syn(HOST4, m4.host, 1300, ttl=63)))


def wan_fragments(r):
    """Outer ESP in fragments: IPv4 out of order (last first), IPv6 in order."""
    r4, r6 = r.t["r4"], r.t["r6"]
    inner = r4.wan_pkt("udp", 1400, id=0x77)
    outer = IP(bytes(r4.encap(inner, 1))[14:])
    frags = [harness.wan_frame(f.__class__(bytes(f))) for f in fragment(outer, fragsize=600)]
    assert len(frags) == 3
    for f in reversed(frags):
        r.p.wan_in(f)
    r.p.to_lan.append(harness.ttl_dec(inner))
    inner6 = r6.wan_pkt("udp", 1300, id=0x78)
    outer6 = IPv6(bytes(r6.encap(inner6, 1))[14:])
    esp6 = IPv6(src=outer6.src, dst=outer6.dst, hlim=outer6.hlim) / \
        IPv6ExtHdrFragment(id=0x1234, nh=50) / Raw(bytes(outer6.payload))
    frags6 = fragment6(esp6, 700)
    assert len(frags6) > 1
    for f in frags6:
        r.p.wan_in(harness.wan_frame(f.__class__(bytes(f))))
    r.p.to_lan.append(harness.ttl_dec(inner6))
    # A lone fragment that never completes: pending until the gateway stops.
    lone = [f for f in fragment(IP(bytes(r4.encap(r4.wan_pkt("udp", 1000, id=0x79), 2))[14:]),
                                fragsize=600)]
    r.p.wan_in(harness.wan_frame(lone[0].__class__(bytes(lone[0]))))
    r.drops["shutdown"] = 1
    r.dp["reasm_fragments"] += len(frags) + len(frags6) + 1
    r.dp["reassembled"] += 2


def wan_mss(r):
    """mss-clamp auto on the inbound SA: the SYN-ACK's MSS becomes the tunnel MTU - 40."""
    m4 = r.t["m4"]
    pkt = syn(m4.host, HOST4, 1460, flags="SA")
    r.p.wan_in(m4.encap(pkt, 1), syn(m4.host, HOST4, sa_mtu(m4) - 40, flags="SA"))


def wan_ping(r):
    """Echo requests to the gateway's LAN addresses through tunnels: answered through them."""
    e4, e6 = r.t["e4"], r.t["e6"]
    req = IP(src=e4.host, dst=LAN4, ttl=60, id=0x99) / ICMP(type=8, id=7, seq=1) / Raw(b"ping")
    req = req.__class__(bytes(req))
    r.p.wan_in(e4.encap(req, 1))
    r.p.esp.setdefault(e4.out_sa.spi, []).append(echo_reply(req, LAN4))
    req6 = IPv6(src=e6.host, dst=LAN6, hlim=60) / ICMPv6EchoRequest(id=8, seq=2, data=b"ping6")
    req6 = req6.__class__(bytes(req6))
    r.p.wan_in(e6.encap(req6, 1))
    r.p.esp.setdefault(e6.out_sa.spi, []).append(echo_reply(req6, LAN6))
    r.dp["injected"] += 2


@pytest.fixture(scope="module")
def run():
    r = build()
    r.res = harness.run(r.conf, lan=r.p.lan, wan=r.p.wan)
    r.by_spi, r.clear_wan = harness.split_esp(r.res.out["wan0"])
    return r


def decap_all(r, name):
    t = r.t[name]
    return [harness.Decap(f, t) for f in r.by_spi.get(t.out_sa.spi, [])]


@pytest.mark.parametrize("name", ["g4", "c6", "m4", "e4", "e6"])
def test_esp_out_exact(run, name):
    """Every ESP packet out carries exactly the expected inner packet, in order,
    fits the WAN MTU and is not itself fragmented (Decap checks the outer header)."""
    t = run.t[name]
    ds = decap_all(run, name)
    want = run.p.esp.get(t.out_sa.spi, [])
    assert [d.inner for d in ds] == want, "%s: inner packets differ\n got  %s\n want %s" % (
        name, [d.inner.hex()[:80] for d in ds], [w.hex()[:80] for w in want])
    assert [d.seq for d in ds] == list(range(1, len(want) + 1))
    for d in ds:
        assert len(d.frame) - 14 <= WAN_MTU, "%s: outer packet of %d bytes" % (
            name, len(d.frame) - 14)


def test_fragments_rebuild_the_datagram(run):
    """The decrypted fragments of the 3000-byte datagram put together are its payload,
    and every inner fragment has DF clear and one less TTL."""
    ds = decap_all(run, "g4")
    big = [d.inner for d in ds if d.inner[4:6] == struct.pack("!H", 0x3000)]
    assert len(big) == 5  # 3 LAN fragments, the two big ones cut again
    for f in big:
        assert not (f[6] & 0x40) and f[8] == 63
    assert reassemble(big) == bytes(run.big)[20:]


def test_nothing_else_leaves(run):
    assert run.clear_wan == [], "clear frames on the WAN"
    assert set(run.by_spi) == set(run.p.esp), sorted(map(hex, run.by_spi))
    run.p.check_clear(run.res)


def test_counters(run):
    st = run.res.stats
    dp = st["dataplane"]
    for k, v in run.dp.items():
        assert dp[k] == v, "dataplane %s: %d, expected %d (%s)" % (k, dp[k], v, dp)
    assert dp["pending"] == 0
    harness.assert_drops(st, **run.drops)
    ctl = st["control"]
    assert ctl["injected"] == 2 and ctl["echo_reply"] == 2 and ctl["icmp_error"] == 1


def test_tshark_icv_good(run):
    """tshark decrypts every ESP packet out with a good ICV (the judge of the wire format)."""
    frames, uats = [], []
    for name in ("g4", "c6", "m4", "e4"):
        t = run.t[name]
        frames += run.by_spi.get(t.out_sa.spi, [])
        uats += t.uats()
    verdicts = harness.tshark_icv(frames, uats)
    assert all(good for _, _, good in verdicts), verdicts
