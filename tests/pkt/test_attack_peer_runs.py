# SPDX-License-Identifier: BSD-3-Clause
"""Attack on esp_hops' runs of one peer (lib/dp/fwd.c esp_hops, espgw_ip_equal): peers that
look alike but are not the same, interleaved SA by SA in each burst, each
behind its own next hop. A run merged across them sends ESP to another
peer's next hop.

  v6a / v6b: IPv6 peers that differ only in their last byte (beyond the
             first 4 bytes an IPv4 compare would look at);
  v4x:       an IPv4 peer whose 4 bytes are v6a's first 4 (32.1.13.184 ==
             2001:0db8:...), its own next hop;
  nat:       an ESP-in-UDP SA to v4x's address family, another peer;
  a:         the default IPv4 peer."""

import struct

import pytest
from scapy.layers.l2 import Ether

import harness
from harness import Tunnel

V6A = "2001:db8:200::1"            # default IPv6 route (NH6)
V6B = "2001:db8:200::2"            # differs only in byte 15
NH6B, NH6B_MAC = "2001:db8:100::fc", "02:00:00:00:02:fb"
V4X = "32.1.13.184"                # == first 4 bytes of 2001:db8:...
NH4X, NH4X_MAC = "198.51.100.252", "02:00:00:00:02:fc"
NAT = "203.0.113.99"
NH4N, NH4N_MAC = "198.51.100.251", "02:00:00:00:02:fa"

PATTERN = ["v6a", "v6b", "v4x", "v6a", "v6b", "v6b", "v4x", "v6a", "a", "nat", "a", "nat",
           "v6b2", "v6a", "v6b", "v6b2", "v4x", "v4x2", "v6a", "nat", "v4x2", "a", "v6b2",
           "v6a"] * 3


def tunnels(path):
    opts = "crypto-path %s" % path
    t = {"v6a": Tunnel(400, "aes-gcm-128", 4, 6, out_opts=opts),
         "v6b": Tunnel(401, "aes-gcm-128", 4, 6, out_opts=opts),
         "v6b2": Tunnel(402, "aes-gcm-256", 6, 6, out_opts=opts),
         "v4x": Tunnel(403, "aes-gcm-128", 4, 4, out_opts=opts),
         "v4x2": Tunnel(404, "aes-gcm-128", 6, 4, out_opts=opts),
         "a": Tunnel(405, "aes-gcm-128", 4, 4, out_opts=opts),
         "nat": Tunnel(406, "aes-gcm-128", 4, 4, out_opts=opts + " encap udp",
                       in_opts="encap udp")}
    t["v6a"].peer = V6A
    t["v6b"].peer = t["v6b2"].peer = V6B
    t["v4x"].peer = t["v4x2"].peer = V4X
    t["nat"].peer = NAT
    return t


HOP = {V6A: harness.NH6_MAC, V6B: NH6B_MAC, V4X: NH4X_MAC, NAT: NH4N_MAC,
       harness.PEER4: harness.NH4_MAC}


def esp_bytes(frame):
    eth = Ether(frame)
    ip = eth.payload
    raw = bytes(ip)
    if ip.version == 4:
        ihl = (raw[0] & 0xf) * 4
        if raw[9] == 17:
            return eth, ip.dst, raw[ihl + 8:]
        return eth, ip.dst, raw[ihl:]
    return eth, ip.dst, raw[40:]


@pytest.mark.parametrize("path", ["direct", "cpu"])
def test_lookalike_peers(path):
    T = tunnels(path)
    conf = harness.base_conf()
    for t in T.values():
        conf += t.conf()
    conf += ["route add %s/128 via %s port wan0" % (V6B, NH6B),
             "neighbor add %s lladdr %s port wan0" % (NH6B, NH6B_MAC),
             "route add %s/32 via %s port wan0" % (V4X, NH4X),
             "neighbor add %s lladdr %s port wan0" % (NH4X, NH4X_MAC),
             "route add %s/32 via %s port wan0" % (NAT, NH4N),
             "neighbor add %s lladdr %s port wan0" % (NH4N, NH4N_MAC)]
    sent, lan = harness.lan_pattern(T, PATTERN)
    res = harness.run(conf, lan=lan)
    assert res.out["lan0"] == []
    by_spi = {}
    for f in res.out["wan0"]:
        eth, dst, esp = esp_bytes(f)
        by_spi.setdefault(struct.unpack("!I", esp[:4])[0], []).append((eth, dst, esp))
    for k, t in T.items():
        got = []
        for eth, dst, esp in by_spi.get(t.out_sa.spi, []):
            assert eth.dst == HOP[t.peer], "%s: ESP to %s, its peer %s's next hop is %s" % (
                k, eth.dst, t.peer, HOP[t.peer])
            assert dst == t.peer, "%s: outer destination %s" % (k, dst)
            got.append(t.out_sa.open(esp).payload)
        assert got == sent[k], "%s: %d of %d packets" % (k, len(got), len(sent[k]))
    assert len(res.out["wan0"]) == len(PATTERN)
    harness.assert_drops(res.stats)


@pytest.mark.parametrize("esn,start", [(False, 0xffffffc0), (True, 0xffffffc0)])
def test_lookalike_peers_ordered_two_workers(esn, start):
    """seq-order strict on two workers (stage_forward_esp_ready: frames
    routed before the window), the SAs of look-alike peers interleaved on
    both queues, numbers near 2^32 (across it with ESN, to its end
    without): each frame to its peer's next hop, numbers per SA in order,
    none twice, none past 2^32 - 1 without ESN."""
    opts = "seq-order strict seq %#x" % start
    T = {"v6a": Tunnel(400, "aes-gcm-128", 4, 6, esn=esn, out_opts=opts),
         "v6b": Tunnel(401, "aes-gcm-128", 4, 6, esn=esn, out_opts=opts),
         "v4x": Tunnel(403, "aes-gcm-128", 4, 4, esn=esn, out_opts=opts),
         "a": Tunnel(405, "aes-gcm-128", 4, 4, esn=esn, out_opts=opts)}
    T["v6a"].peer, T["v6b"].peer, T["v4x"].peer = V6A, V6B, V4X
    conf = harness.base_conf(crypto_path="direct")
    for t in T.values():
        conf += t.conf()
    conf += ["route add %s/128 via %s port wan0" % (V6B, NH6B),
             "neighbor add %s lladdr %s port wan0" % (NH6B, NH6B_MAC),
             "route add %s/32 via %s port wan0" % (V4X, NH4X),
             "neighbor add %s lladdr %s port wan0" % (NH4X, NH4X_MAC)]
    keys = list(T)
    n = 200
    lanq = ([], [])
    for q in (0, 1):
        for i in range(n):
            k = keys[(i + q) % len(keys)]
            lanq[q].append(harness.lan_frame(T[k].lan_pkt(size=20 + (i % 50))))
    res, _ = harness.run_two_queues(conf, lan=lanq, timeout=60)
    by_spi = {}
    for f in res.out["wan0"]:
        eth, dst, esp = esp_bytes(f)
        by_spi.setdefault(struct.unpack("!I", esp[:4])[0], []).append((eth, dst, esp))
    total = 0
    for k, t in T.items():
        seqs = []
        for eth, dst, esp in by_spi.get(t.out_sa.spi, []):
            assert eth.dst == HOP[t.peer], "%s: ESP to %s, its peer %s's next hop is %s" % (
                k, eth.dst, t.peer, HOP[t.peer])
            assert dst == t.peer
            seqs.append(struct.unpack("!I", esp[4:8])[0])
        total += len(seqs)
        if esn:
            want = [(start + i) & 0xffffffff for i in range(len(seqs))]
            assert len(seqs) == 2 * n // len(T), (k, len(seqs))
        else:
            want = list(range(start, start + len(seqs)))
            assert len(seqs) == 0xffffffff - start, (k, len(seqs))
        assert seqs == want, (k, seqs[:5], seqs[-5:])
    ovf = 0 if esn else 2 * n - total
    harness.assert_drops(res.stats, sqn_overflow=ovf)
