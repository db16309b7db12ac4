# SPDX-License-Identifier: BSD-3-Clause
"""ESP results are routed by their SA's peer, once per run of one peer
(lib/dp/fwd.c esp_hops): the SAs of one peer gateway one after the other make
one run, an SA of another peer starts a new one. A run merged across two
peers would send the second peer's ESP to the first one's next hop; this test
interleaves, in every burst, the SAs of two IPv4 peers behind different next
hops and an IPv6 peer, on the direct path and on the CPU path, and checks
each frame's next hop, outer destination and content (espcodec opens it).

Promise: an SA's ESP goes to its peer (RFC 4301 5.1), routed by the route
to the peer (README: routes, "Each SA's ... follow the new route to its
peer")."""

import pytest
from scapy.layers.l2 import Ether

import harness
from harness import Tunnel

PEER_B = "203.0.113.77"  # the second IPv4 peer: its own next hop
NH_B, NH_B_MAC = "198.51.100.253", "02:00:00:00:02:fc"
# One packet per entry, in this order: runs of one SA, of one peer over two
# SAs, and single packets alternating between peers and families.
PATTERN = ["a1", "b1", "a2", "b2", "a1", "a1", "a2", "b1", "b2", "b2", "c", "a1", "c", "b1",
           "a2", "a2", "b2", "a1", "b1", "c", "c", "a2", "b1", "a1"] * 3


def tunnels(path):
    opts = "crypto-path %s" % path
    t = {"a1": Tunnel(300, "aes-gcm-128", 4, 4, out_opts=opts),
         "a2": Tunnel(301, "aes-gcm-256", 4, 4, out_opts=opts),
         "b1": Tunnel(302, "aes-gcm-128", 4, 4, out_opts=opts),
         "b2": Tunnel(303, "aes-gcm-128", 6, 4, out_opts=opts),
         "c": Tunnel(304, "aes-gcm-128", 4, 6, out_opts=opts)}
    t["b1"].peer = t["b2"].peer = PEER_B
    return t


def next_hop_mac(t):
    if t.outer == 6:
        return harness.NH6_MAC
    return NH_B_MAC if t.peer == PEER_B else harness.NH4_MAC


@pytest.mark.parametrize("path", ["direct", "cpu"])
def test_runs_follow_the_peer(path):
    T = tunnels(path)
    conf = harness.base_conf()
    for t in T.values():
        conf += t.conf()
    conf += ["route add %s/32 via %s port wan0" % (PEER_B, NH_B),
             "neighbor add %s lladdr %s port wan0" % (NH_B, NH_B_MAC)]
    sent, lan = harness.lan_pattern(T, PATTERN)
    res = harness.run(conf, lan=lan)
    by_spi, clear = harness.split_esp(res.out["wan0"])
    assert clear == [] and res.out["lan0"] == []
    for k, t in T.items():
        frames = by_spi.get(t.out_sa.spi, [])
        got = []
        for f in frames:
            eth = Ether(f)
            assert eth.dst == next_hop_mac(t), "%s: ESP to %s, its peer's next hop is %s" % (
                k, eth.dst, next_hop_mac(t))
            outer = eth.payload
            assert outer.dst == t.peer, "%s: outer destination %s" % (k, outer.dst)
            got.append(t.out_sa.open(harness.esp_of(f)).payload)
        assert got == sent[k], "%s: %d of %d packets, or not in order" % (
            k, len(got), len(sent[k]))
    assert len(res.out["wan0"]) == len(PATTERN)
    harness.assert_drops(res.stats)
