# SPDX-License-Identifier: BSD-3-Clause
"""Red-team reproducers for AH (RFC 4302) in tunnel mode. Each test FAILS on
the code it was written against (main 89c1514) and says which rule it holds
espgw to. One espgw run for the whole module (run()): every probe below uses
its own tunnel slot, so the probes do not see each other's packets.

Findings probed here:
  1. The AH SA's tunnel MTU (and so "too big" and mss-clamp auto) is computed
     with the ESP overhead formula (8-byte ESP header, 2-byte trailer, no ICV
     padding): an AH packet built for an inner packet of exactly the SA's MTU
     is 2-6 bytes larger than the path MTU, so it is dropped as too_big at the
     egress (or fragmented, which the peer cannot take: AH is not reassembled)
     and the sender never hears of it: a PMTU black hole.
  2. An IPv4 AH packet that is a fragment (MF set or an offset) is processed
     as a whole packet (RFC 4302 3.4.1: MUST be discarded): the fragment
     fields are zeroed for the ICV, so an on-path change to them goes
     unnoticed and a genuine packet marked as a fragment is forwarded.
  4. (live, control socket) An outbound AH SA close to the end of its
     sequence numbers never raises "expire soft" (limit seq): sa_watch.c
     reads the counter from the rte_ipsec SA, which AH SAs do not have
     (sa_seq() returns 0), so the key manager is never warned before the SA
     stops sending (sqn_overflow).
  3. With ESN, the outbound counter is a plain 64-bit add per burst
     (ah_out.c seq_take): past 2^64 - 1 it wraps, and the SA sends again with
     small sequence numbers (RFC 4302 2.5 / 3.3.2: MUST NOT cycle).
"""

import os
import struct
import subprocess
import sys
import time

import pytest
from scapy.layers.inet import IP, ICMP
from scapy.layers.l2 import Ether
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

import ahcodec
import harness
from test_ah import AhTunnel, ah_spi

AH_V4 = {"hmac-sha1-96": 44, "hmac-sha256-128": 48, "hmac-sha384-192": 56,
         "hmac-sha512-256": 64, "aes-gmac-128": 56}
AH_V6 = {"hmac-sha1-96": 64, "hmac-sha256-128": 72, "hmac-sha384-192": 80,
         "hmac-sha512-256": 88, "aes-gmac-128": 80}

# ---- probe 1: tunnel MTU (slots 301..)
MTU_CASES = [("hmac-sha256-128", 4), ("hmac-sha1-96", 4), ("hmac-sha256-128", 6),
             ("hmac-sha512-256", 6), ("aes-gmac-128", 6)]


def esp_formula_mtu(algo, fam):
    """What espgw computes (espgw_host_tunnel_mtu with the ESP lengths)."""
    icv = {"hmac-sha1-96": 12, "hmac-sha256-128": 16, "hmac-sha384-192": 24,
           "hmac-sha512-256": 32, "aes-gmac-128": 16}[algo]
    iv = 8 if algo.startswith("aes-gmac") else 0
    fixed = (20 if fam == 4 else 40) + 8 + iv + icv
    return (harness.MTU - fixed) // 4 * 4 - 2


def mtu_probe(plan, slot, algo, fam):
    t = AhTunnel(slot, algo, fam)
    n = esp_formula_mtu(algo, fam)
    hdr = 20 if fam == 4 else 40
    udp = 8
    kw = {"flags": "DF"} if fam == 4 else {}
    pkt = t.lan_pkt(size=n - hdr - udp, **kw)
    assert len(bytes(pkt)) == n
    plan.lan.append(harness.lan_frame(pkt))
    return t, pkt


# ---- probe 2: IPv4 AH fragments (slot 320)
def frag_probe(plan):
    t = AhTunnel(320, "hmac-sha256-128", 4)
    frames = []
    for flags, frag in ((1, 0), (0, 8), (1, 8)):  # MF; offset 64; both
        inner = t.wan_pkt(size=40 + frag + flags)
        f = Ether(t.seal(inner))
        f[IP].flags = flags
        f[IP].frag = frag
        del f[IP].chksum
        frames.append(bytes(Ether(bytes(f))))
    plan.wan.extend(frames)
    return t, frames


# ---- probe 3: ESN counter at 2^64 (slot 330)
WRAP64 = 0xfffffffffffffff0
WRAP_PKTS = 40


def wrap64_probe(plan):
    t = AhTunnel(330, "aes-gmac-128", 4, esn=True, out_opts=" seq 0x%x" % WRAP64)
    for i in range(WRAP_PKTS):
        plan.lan.append(harness.lan_frame(t.lan_pkt(size=10 + i)))
    return t


@pytest.fixture(scope="module")
def attack():
    plan = harness.Plan()
    conf = harness.base_conf()
    mtu = []
    for i, (algo, fam) in enumerate(MTU_CASES):
        t, pkt = mtu_probe(plan, 301 + i, algo, fam)
        conf += t.conf()
        mtu.append((t, pkt))
    ft, frags = frag_probe(plan)
    conf += ft.conf()
    wt = wrap64_probe(plan)
    conf += wt.conf()
    res = harness.run(conf, lan=plan.lan, wan=plan.wan)
    return dict(res=res, mtu=mtu, frag=(ft, frags), wrap=wt)


def out_of(res, spi):
    return [f for f in res.out["wan0"] if ah_spi(f) == spi]


def frag_needed_for(res, pkt):
    """ICMP "fragmentation needed" / ICMPv6 "packet too big" about pkt on lan0: its MTU."""
    for f in res.out["lan0"]:
        l3 = f[14:]
        if pkt.version == 4 and l3[0] >> 4 == 4 and l3[9] == 1:
            ic = IP(l3)[ICMP]
            if ic.type == 3 and ic.code == 4 and bytes(ic.payload)[:20] == bytes(pkt)[:20]:
                return ic.nexthopmtu
        if pkt.version == 6 and l3[0] >> 4 == 6 and l3[6] == 58 and l3[40] == 2:
            if l3[48:48 + 40] == bytes(pkt)[:40]:
                return struct.unpack("!I", l3[44:48])[0]
    return None


@pytest.mark.parametrize("k", range(len(MTU_CASES)),
                         ids=["%s-v%d" % c for c in MTU_CASES])
def test_ah_tunnel_mtu_fits_the_path(attack, k):
    """An inner packet the SA says fits (its length is the SA's MTU: no "too
    big" comes back) must leave in one AH packet within the WAN MTU (1500).
    Either it leaves whole, or the gateway tells the sender a smaller MTU;
    silently dropping it (too_big at the egress of the outer packet) is a
    PMTU black hole: TCP with DF (and mss-clamp auto) never gets through."""
    t, pkt = attack["mtu"][k]
    res = attack["res"]
    got = out_of(res, t.out_sa.spi)
    hint = frag_needed_for(res, pkt)
    over = len(bytes(pkt)) + (AH_V4 if t.outer == 4 else AH_V6)[t.algo] - harness.MTU
    if hint is not None:
        assert hint + over <= len(bytes(pkt)), "frag-needed says %d: still too big" % hint
        return
    assert len(got) == 1, (
        "inner packet of %d bytes (the SA's MTU by the ESP formula) would be a %d-byte AH "
        "packet (%d over the path MTU): no AH packet left and no frag-needed came back; "
        "drops %s" % (len(bytes(pkt)), harness.MTU + over, over, res.drops()))
    assert len(got[0]) - 14 <= harness.MTU


def test_ipv4_ah_fragments_discarded(attack):
    """RFC 4302 3.4.1: an AH packet that appears to be an IP fragment (offset
    non-zero or MF set) MUST be discarded. Here genuine AH packets of the SA
    whose fragment fields were changed on the path (they are zeroed for the
    ICV): none may come out of lan0."""
    t, frames = attack["frag"]
    res = attack["res"]
    net = t.host
    leaked = [f for f in res.out["lan0"] if f[14] >> 4 == 4 and IP(f[14:]).src == net]
    assert not leaked, "%d AH fragments were taken as whole packets and forwarded" % len(leaked)


def test_esn_counter_never_cycles(attack):
    """RFC 4302 2.5, 3.3.2: the sender's counter MUST NOT cycle, with ESN
    either. Starting at 2^64 - 16, at most 15 numbers (up to 2^64 - 2, as
    espgw's own limit says) may be sent, each >= the start; every later
    packet is sqn_overflow."""
    t = attack["wrap"]
    res = attack["res"]
    got = out_of(res, t.out_sa.spi)
    seqs = []
    for f in got:
        l3 = f[14:]
        seqs.append(int.from_bytes(l3[28:32], "big"))
    low_start = WRAP64 & 0xffffffff
    wrapped = [s for s in seqs if s < low_start]
    assert not wrapped, ("the 64-bit ESN counter wrapped: after %d packets up to 2^64-2, "
                         "%d more left with sequence numbers %s..." %
                         (len(seqs) - len(wrapped), len(wrapped), wrapped[:4]))
    assert len(seqs) <= 15


def test_counter_balance(attack):
    """rx + created = tx + drops + to_ctl + absorbed + pending, after all of the above."""
    harness.check_stats_consistent(attack["res"].stats)


# ---------------------------------------------------------------- live, in a namespace
NETNS_RUN = os.path.join(harness.SRC, "tests", "ctl", "netns_run.sh")


def in_netns(name):
    """Run this module's test NAME again in a fresh network namespace
    (tests/ctl/netns_run.sh); True in the outer call, which checked the result."""
    if os.environ.get("ESPGW_ATTACK_AH_NS"):
        return False
    r = subprocess.run([NETNS_RUN, sys.executable, "-m", "pytest", "-q", "-p",
                        "no:cacheprovider", "%s::%s" % (os.path.abspath(__file__), name)],
                       env=dict(os.environ, ESPGW_ATTACK_AH_NS="1"), capture_output=True,
                       text=True, timeout=240)
    if r.returncode == 77:
        pytest.skip("needs root for a network namespace")
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    return True


NEAR_END = 0xfffff000  # 4096 numbers before 2^32: well inside the 2^20 soft room


def test_ah_outbound_soft_expiry_on_seq():
    """README (sa add, lifetime): outbound SAs raise "expire soft" (limit seq)
    2^20 sequence numbers before they run out. Two outbound SAs added live
    with seq 0xfffff000, an ESP one (the probe: its event must come) and an AH
    one: the AH SA's event never comes (sa_watch.c sa_seq() reads rte_ipsec's
    counter; an AH SA has none and reads 0)."""
    if in_netns("test_ah_outbound_soft_expiry_on_seq"):
        return
    sys.path.insert(0, os.path.join(harness.SRC, "tests", "ctl"))
    import live
    k = live.Key(0x7001, 0x70)
    ah = ahcodec.AhSA(0x7002, "hmac-sha256-128")
    g = live.Gateway()
    try:
        mon = live.Ctl(g.sock)
        assert mon.request("monitor")["ok"]
        g.ctl.ok(k.conf("espx", "out") + " seq %#x" % NEAR_END)
        g.ctl.ok("sa add ahx dir out spi %#x mode tunnel local %s remote %s %s seq %#x"
                 % (ah.spi, live.WAN, live.PEER, ah.conf_algo(), NEAR_END))
        mon.s.settimeout(1.0)
        events, end = [], time.time() + 3
        while time.time() < end:
            try:
                ev = mon.line()
            except (OSError, EOFError):
                continue
            if ev.get("event") == "expire":
                events.append(ev)
        mon.close()
        g.stop()
    finally:
        g.kill()
    names = [e.get("sa") for e in events]
    assert "espx" in names, "probe: the ESP SA's soft expiry never came: %s" % events
    assert "ahx" in names, "no expire soft (limit seq) for the AH SA: %s" % events


# ---------------------------------------------------------------- malformed AH battery
def battery(t):
    """Malformed AH of t's inbound SA (IPv4 outer t4 / IPv6 outer t6): every
    truncation, every payload length, options and extension headers in
    front, random bytes behind the fixed header. None may come out; espgw
    must stay up with its counters balanced (run it under ASan too)."""
    import random
    rnd = random.Random(4302)
    frames = []
    good = t.seal(t.wan_pkt(size=64))
    hl = 14 + (20 if t.outer == 4 else 40)
    for cut in range(hl, len(good)):
        b = bytearray(good[:cut])
        if t.outer == 4:
            b[16:18] = (cut - 14).to_bytes(2, "big")
            b[24:26] = b"\0\0"
            b[24:26] = harness.ip_checksum(bytes(b[14:34])).to_bytes(2, "big")
        else:
            b[18:20] = (cut - hl).to_bytes(2, "big")
        frames.append(bytes(b))
    for plen in (0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 255):
        b = bytearray(good)
        b[hl + 1] = plen
        frames.append(bytes(b))
    for _ in range(40):
        b = bytearray(good)
        for _ in range(rnd.randint(1, 6)):
            b[rnd.randrange(hl, len(b))] ^= rnd.randrange(1, 256)
        frames.append(bytes(b))
    return frames


def v6_ext_chain(t, n, hdr=60, optlen=6):
    """IPv6 AH behind n destination options headers (hdr 60) or hop-by-hop (0)."""
    from scapy.layers.inet6 import IPv6
    nh = 41 if t.inner == 6 else 4
    exts = b""
    for i in range(n):
        nxt = 60 if i < n - 1 else 51
        exts += bytes([nxt, 0, 1, optlen - 2]) + bytes(optlen - 2)
    first = hdr if n else 51
    head = bytes(IPv6(src=t.peer, dst=t.local, nh=first) / Raw(b""))[:40] + exts
    l3 = ahcodec.seal(t.in_sa, head + bytes(t.wan_pkt(size=8)), 1, 6, nh_inner=nh)
    return bytes(harness.wan_frame(IPv6(l3)))


def test_malformed_ah_battery():
    """Truncated AH at every length, every payload length 0..13 and 255, random
    corruption, IPv6 AH behind 1..20 destination options headers: nothing
    forwarded, every frame counted, espgw stops cleanly (ESPGW=build-san/...
    runs it under ASan/UBSan)."""
    from scapy.packet import Raw as _R  # noqa: F401
    t4 = AhTunnel(340, "hmac-sha256-128", 4)
    t6 = AhTunnel(341, "aes-gmac-128", 6)
    wan = battery(t4) + battery(t6)
    for n in (1, 2, 8, 20):
        wan.append(v6_ext_chain(t6, n))
    conf = harness.base_conf() + t4.conf() + t6.conf()
    res = harness.run(conf, wan=wan)
    harness.check_stats_consistent(res.stats)
    leaked = [f for f in res.out["lan0"]]
    # Corruption starts behind the outer header: everything there is covered
    # by the ICV but the ICV field and its padding (the padding zeroed too).
    assert len(leaked) <= 2, "%d forwarded" % len(leaked)
    assert res.stats["totals"]["rx"] == len(wan)


def test_mss_clamp_auto_fits_ah():
    """mss-clamp auto on an AH SA: a full-sized segment of the clamped MSS
    (MSS + 40 bytes of IPv4 and TCP headers, + the AH packet's 20 + 28 bytes
    for HMAC-SHA256-128) must fit the WAN MTU (1500). The MSS is computed from
    the ESP overhead (finding 1): every full-sized TCP segment through the
    tunnel is too big for its own path (too_big at the egress, nobody told)."""
    from scapy.layers.inet import TCP
    t = AhTunnel(350, "hmac-sha256-128", 4, out_opts=" mss-clamp auto")
    syn = IP(src=t.lan_host, dst=t.host, flags="DF") / TCP(
        sport=40001, dport=443, flags="S", seq=1, options=[("MSS", 1460)])
    syn = IP(bytes(syn))
    conf = harness.base_conf() + t.conf()
    res = harness.run(conf, lan=[harness.lan_frame(syn)])
    got = [f for f in res.out["wan0"] if ah_spi(f) == t.out_sa.spi]
    assert len(got) == 1, res.drops()
    op = ahcodec.open_(t.out_sa, got[0][14:], 4)
    assert op.ok
    mss = dict(IP(op.payload)[TCP].options)["MSS"]
    assert mss + 40 + 48 <= harness.MTU, (
        "clamped MSS %d: a full segment is a %d-byte AH packet on a %d-byte path"
        % (mss, mss + 40 + 48, harness.MTU))
