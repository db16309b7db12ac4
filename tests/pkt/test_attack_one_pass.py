# SPDX-License-Identifier: BSD-3-Clause
"""Attack (helper-51) on the one-pass IPv4 classification (lib/dp/classify.c
classify4_one, espgw_spd_sel.h) on the packet path, each direction's IPv4
rules few enough to be scanned, IPv6 packets in the same bursts (the key
path; results must come back in burst order). Selectors behind IPv4 options,
total lengths shorter than the frame (link padding) and cut inside the L4
header (ICMP's type/code too), ICMP and UDP policies, ports the wrong way
round.
Outbound: what a protect rule selects leaves only in ESP of its SA, what it
does not select leaves in clear (bypass), a packet whose ports are cut off
never leaves. Inbound: clear packets a protect rule selects are dropped,
the others pass; decrypted packets pass only under their SA's policy."""

from scapy.layers.inet import IP, UDP, TCP, ICMP, IPOption_NOP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from harness import Tunnel

SECRET = b"ONE-PASS-SECRET!" * 4
OPEN = b"ONE-PASS-BYPASS!"
OPTS = [IPOption_NOP()] * 12   # IHL 8


def _ip4(src, dst, l4, opts=True, payload=SECRET, **kw):
    p = IP(src=src, dst=dst, options=OPTS if opts else [], **kw) / l4 / Raw(payload)
    return p.__class__(bytes(p))


def _padded(pkt, n=24):
    """The frame carries n bytes past the IPv4 datagram (link padding)."""
    return harness.lan_frame(pkt) / Raw(b"\x55" * n)


def _cut(pkt, keep):
    """total_length ends keep bytes into the L4 header; the frame holds the rest."""
    b = bytearray(bytes(pkt))
    hl = (b[0] & 15) * 4
    b[2:4] = (hl + keep).to_bytes(2, "big")
    b[10:12] = b"\0\0"
    ck = IP(bytes(b[:hl]))
    del ck.chksum
    b[10:12] = bytes(IP(bytes(ck)))[10:12]
    return bytes(b)


def _spi(f):
    e = Ether(f)
    if IP in e and e[IP].proto == 50:
        return int.from_bytes(bytes(e[IP].payload)[:4], "big")
    if IPv6 in e and e[IPv6].nh == 50:
        return int.from_bytes(bytes(e[IPv6].payload)[:4], "big")
    return None


def test_outbound_one_pass():
    tu = Tunnel(520, "aes-gcm-128", 4, 4, policy_out="proto udp dport 5000-5010")
    ti = Tunnel(521, "aes-gcm-128", 4, 4, policy_out="proto icmp")
    t6 = Tunnel(522, "aes-gcm-128", 6, 4, policy_out="proto udp dport 5001")
    conf = harness.base_conf() + tu.conf() + ti.conf() + t6.conf() + [
        "sp add out priority 100 src 0.0.0.0/0 dst 0.0.0.0/0 bypass",
        "sp add out priority 100 src ::/0 dst ::/0 bypass"]
    h = harness.HOST4
    v6 = IPv6(src=harness.HOST6, dst=t6.host) / UDP(sport=40000, dport=5001) / Raw(SECRET)
    v6c = IPv6(src=harness.HOST6, dst=t6.host) / UDP(sport=40000, dport=5002) / Raw(OPEN)
    protect = [  # (frame, SPI it must leave under)
        (_padded(_ip4(h, tu.host, UDP(sport=40000, dport=5005))), tu.out_sa.spi),
        (harness.lan_frame(_ip4(h, tu.host, UDP(sport=40000, dport=5000), opts=False)),
         tu.out_sa.spi),
        (_padded(_ip4(h, ti.host, ICMP(type=8, code=0, id=1))), ti.out_sa.spi),
        (harness.lan_frame(v6), t6.out_sa.spi),
    ]
    clear = [
        _padded(_ip4(h, tu.host, UDP(sport=40000, dport=5011), payload=OPEN)),
        harness.lan_frame(_ip4(h, tu.host, TCP(sport=5005, dport=80), payload=OPEN)),
        _padded(_ip4(h, tu.host, ICMP(type=8, code=0, id=1), payload=OPEN)),
        _padded(_ip4(h, ti.host, UDP(sport=40000, dport=5005), payload=OPEN)),
        harness.lan_frame(v6c),
    ]
    # Ports (or type/code) cut off by total_length: no selectors, never out.
    cut = [
        Ether(bytes(harness.lan_frame(IP()))[:14] +
              _cut(_ip4(h, tu.host, UDP(sport=40000, dport=5005)), 3)),
        Ether(bytes(harness.lan_frame(IP()))[:14] +
              _cut(_ip4(h, ti.host, ICMP(type=8, code=0, id=1)), 1)),
    ]
    lan = []
    for i in range(max(len(protect), len(clear))):   # families and verdicts interleaved
        if i < len(protect):
            lan.append(protect[i][0])
        if i < len(clear):
            lan.append(clear[i])
        if i < len(cut):
            lan.append(cut[i])
    r = harness.run(conf, lan=lan)
    wan = r.out["wan0"]
    for f in wan:
        assert SECRET[:16] not in bytes(f), "protect-class packet in clear: %r" % Ether(f)
    spis = sorted(s for s in (_spi(f) for f in wan) if s is not None)
    assert spis == sorted(s for _, s in protect), (spis, r.drops())
    assert sum(1 for f in wan if OPEN in bytes(f)) == len(clear), r.drops()
    assert len(wan) == len(protect) + len(clear), r.drops()


def test_inbound_one_pass():
    tu = Tunnel(523, "aes-gcm-128", 4, 4, policy_in="proto udp dport 5000-5010")
    tv = Tunnel(524, "aes-gcm-128", 4, 4, policy_in="proto icmp")
    conf = harness.base_conf() + tu.conf() + tv.conf() + [
        "sp add in priority 100 src 0.0.0.0/0 dst 0.0.0.0/0 bypass",
        "sp add in priority 100 src ::/0 dst ::/0 bypass"]
    h = harness.HOST4

    def wan(p, pad=0):
        f = harness.wan_frame(p)
        return f / Raw(b"\xaa" * pad) if pad else f

    inj = [  # clear from the WAN that a protect rule selects: must not reach the LAN
        wan(_ip4(tu.host, h, UDP(sport=40000, dport=5005)), 20),
        wan(_ip4(tu.host, h, UDP(sport=40000, dport=5010), opts=False)),
        wan(_ip4(tv.host, h, ICMP(type=8, code=0, id=2)), 20),
        Ether(bytes(harness.wan_frame(IP()))[:14] +
              _cut(_ip4(tu.host, h, UDP(sport=40000, dport=5005)), 3)),
    ]
    ok_clear = [
        wan(_ip4(tu.host, h, UDP(sport=40000, dport=5011), payload=OPEN), 20),
        wan(_ip4(tu.host, h, ICMP(type=0, code=0, id=2), payload=OPEN), 20),
    ]
    # Through the tunnels: each inner packet under its own SA's policy passes;
    # under the other SA's policy, or under the bypass, it is dropped.
    good = [
        tu.encap(_ip4(tu.host, h, UDP(sport=40000, dport=5005), payload=OPEN), 1),
        tv.encap(_ip4(tv.host, h, ICMP(type=8, code=0, id=3), payload=OPEN), 1),
    ]
    bad = [
        tu.encap(_ip4(tu.host, h, UDP(sport=40000, dport=5011)), 2),      # bypass
        tv.encap(_ip4(tu.host, h, UDP(sport=40000, dport=5005)), 2),      # tu's policy
        tu.encap(_ip4(tv.host, h, ICMP(type=8, code=0, id=4)), 3),         # tv's policy
    ]
    frames = [harness.wan_frame(f) if not isinstance(f, Ether) else f for f in
              inj + ok_clear + good + bad]
    r = harness.run(conf, wan=frames)
    lan = r.out["lan0"]
    for f in lan:
        assert SECRET[:16] not in bytes(f), "injected packet reached the LAN: %r" % Ether(f)
    assert sum(1 for f in lan if OPEN in bytes(f)) == len(ok_clear) + len(good), r.drops()
    assert len(lan) == len(ok_clear) + len(good), r.drops()
