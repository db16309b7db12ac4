# SPDX-License-Identifier: BSD-3-Clause
"""Attacks on live routes and static neighbors (2cb6282): what a route or
neighbor change does to packets that wait, to the neighbor table's room and
to the publication. Each test states the invariant it checks; a failure is a
finding. Runs inside its own network namespace (netns_run.sh)."""

import socket
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

import live
from live import IN3, tunnel_conf

LAN_RTR = "10.1.0.254"  # a LAN router that never answers ARP: packets wait on it
NET9 = "10.9.0.0/24"


def inner_to(dst, i):
    return IP(src="10.3.0.10", dst=dst, id=i) / UDP(sport=4000, dport=5000) / \
        Raw(live.MARKER + i.to_bytes(4, "big") + bytes(32))


def test_rerouted_decrypted_packet_never_leaves_in_clear(gw):
    """Failed on 2cb6282 (the 5 packets left the WAN in clear). Decrypted
    packets for 10.9.0.0/24 wait for the MAC of the LAN router
    the route names. The route is deleted: what waited is routed again by
    the table that is left, whose default route leaves by the WAN. A
    decrypted packet routed back out of an unprotected port must cross the
    outbound SPD (stage_outbound_again), which only the data path does: the
    control path drops them (route_changed); they never leave the WAN in
    clear."""
    gw.ctl.txn(tunnel_conf() + [
        "sp add in src 10.3.0.0/24 dst %s name p9in protect in3" % NET9,
        "route add %s via %s port lan0" % (NET9, LAN_RTR)])
    sa = IN3.scapy_sa(live.PEER, live.WAN)
    for i in range(5):
        gw.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) /
                    sa.encrypt(inner_to("10.9.0.5", i), seq_num=i + 1))
    lan = gw.lan.drain(settle=0.5)
    asked = [Ether(f) for f in lan if ARP in Ether(f)]
    assert asked and asked[0][ARP].pdst == LAN_RTR, "the packets do not wait on the LAN router"
    # The same packets, if they had been routed by a table without the route:
    # the workers send them through the outbound SPD, which has no rule: dropped.
    r = gw.ctl.request("route del " + NET9)
    assert r == {"ok": True}, r
    wan = gw.wan.drain(settle=1.0)
    clear = [Ether(f) for f in wan if live.MARKER in f]
    assert clear == [], "decrypted tunnel traffic left the WAN in clear: %r" % clear[0]
    st = gw.stop()
    assert st["control"]["drops"].get("route_changed") == 5, st["control"]


def test_worker_path_drops_the_same_packet(gw):
    """Control for the test above: with the route already gone, the same
    decrypted packets are dropped by the data path (outbound SPD again),
    never sent in clear."""
    gw.ctl.txn(tunnel_conf() + [
        "sp add in src 10.3.0.0/24 dst %s name p9in protect in3" % NET9])
    sa = IN3.scapy_sa(live.PEER, live.WAN)
    for i in range(5):
        gw.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) /
                    sa.encrypt(inner_to("10.9.0.5", i), seq_num=i + 1))
    wan = gw.wan.drain(settle=1.0)
    assert [f for f in wan if live.MARKER in f] == []
    gw.stop()


WIDE = live.BASE.replace("198.51.100.1/24", "198.51.100.1/16")


def via(k, base):
    return "198.51.%d.%d" % (base + k // 200, 1 + k % 200)


@pytest.fixture
def wide_gw(monkeypatch):
    """The shared gateway with a /16 WAN subnet: room for many next hops."""
    monkeypatch.setattr(live, "BASE", WIDE)
    g = live.Gateway()
    try:
        yield g
    finally:
        g.kill()


def test_swap_of_all_next_hops_within_the_room(wide_gw):
    """Failed on 2cb6282 (wedged: accepted, never published, every later
    reply held). The room is 259 (2 neighbors + 1 route + 256). Fill it with
    257 next hops, then replace them all by 257 others in one transaction:
    the old entries keep their slots until the change is published, so the
    transaction needs 516 at once. It is refused with that reason, nothing
    changes, and later changes are published; the same replacement in two
    transactions (old routes out, then the new ones in) is applied."""
    gw = wide_gw
    old = ["route add 10.%d.%d.0/24 via %s port wan0" % (100 + k // 250, k % 250, via(k, 1))
           for k in range(257)]
    r = gw.ctl.txn(old)
    assert r == {"ok": True, "applied": 257}, r
    out = ["route del 10.%d.%d.0/24" % (100 + k // 250, k % 250) for k in range(257)]
    into = ["route add 10.%d.%d.0/24 via %s port wan0" % (150 + k // 250, k % 250, via(k, 20))
            for k in range(257)]
    gw.ctl.s.settimeout(15)
    r = gw.ctl.txn(out + into)
    assert r["ok"] is False and "would exceed the room of 259" in r["error"], r
    assert "delete them in an earlier one" in r["error"], r
    routes = {x["dst"] for x in gw.ctl.ok("show route")["route"]}
    assert "10.100.0.0/24" in routes and "10.150.0.0/24" not in routes
    assert gw.ctl.txn(out) == {"ok": True, "applied": 257}
    assert gw.ctl.txn(into) == {"ok": True, "applied": 257}
    routes = {x["dst"] for x in gw.ctl.ok("show route")["route"]}
    assert "10.150.0.0/24" in routes and "10.100.0.0/24" not in routes
    assert gw.ctl.ok("show ctl")["ctl"]["publish_failed"] == 0
    gw.stop()


def test_route_changes_with_both_families_under_512m(gw):
    """The test gateway runs with -m 512 --no-huge. An IPv6 route makes each
    forwarding table carry a second 64 MiB first level; a change builds the
    next table beside the published one. Every change must be published (its
    reply comes), over many changes (no memory lost per version)."""
    r = gw.ctl.request("route add 2001:db8::/32 port wan0")
    assert r["ok"], r
    gw.ctl.s.settimeout(15)
    for k in range(60):
        try:
            r = gw.ctl.request("route add 192.0.2.%d/32 via 198.51.100.%d port wan0"
                               % (k, 2 + k))
        except socket.timeout:
            other = live.Ctl(gw.sock)
            pytest.fail("change %d not published: %s %s" % (
                k, other.ok("show ctl")["ctl"], gw.logs()[-400:]))
        assert r == {"ok": True}, (k, r)
    gw.stop()


def test_route_change_beyond_lpm_memory_is_refused_not_wedged(gw):
    """Failed on 2cb6282 (wedged like the swap above). Many IPv6 routes in
    one transaction: rte_lpm6 gives each rule up to
    13 tbl8 groups (lpm_create sizes 14 per rule), so the next table may not
    fit in -m 512 beside the published one. Then the transaction must be
    refused (its reply says so, nothing changed); it must never be accepted
    and left unpublished (every later reply held, the data path and the store
    apart, the publication retried in a loop)."""
    lines = ["route add 2001:db8:%x:%x::/64 port wan0" % (k // 256, k % 256)
             for k in range(9000)]
    gw.ctl.s.settimeout(20)
    try:
        r = gw.ctl.txn(lines)
        if r["ok"]:  # one change more: the next version beside this one
            r = gw.ctl.request("route add 2001:db8:ffff::/48 port wan0")
    except socket.timeout:
        r = None
    other = live.Ctl(gw.sock)
    st = other.ok("show ctl")["ctl"]
    assert r is not None and st["publish_failed"] == 0, \
        "commit accepted, never published: %s %s" % (st, gw.logs()[-300:])
    if not r["ok"]:
        assert r["error"].startswith("routes not changed: "), r
    # Later changes go on being published.
    assert other.request("neighbor add 198.51.100.9 lladdr 02:00:00:00:00:09 port wan0") == \
        {"ok": True}
    assert other.ok("show ctl")["ctl"]["publish_failed"] == 0
    gw.stop()


def test_mixed_transaction_under_traffic(gw):
    """One transaction adds the tunnel's SAs and policies, a route to the
    peer through another router and that router's static neighbor while LAN
    traffic flows; another one that fails at its last command (and carries
    route and neighbor changes) changes nothing. Nothing leaves in clear,
    every ESP frame decrypts."""
    import threading
    from live import send_lan
    nh2, nh2_mac = "198.51.100.253", "02:00:00:00:02:fd"
    sender = threading.Thread(target=send_lan, args=(gw, range(600), 0.001))
    sender.start()
    time.sleep(0.1)
    r = gw.ctl.txn(tunnel_conf() + [
        "neighbor add %s lladdr %s port wan0" % (nh2, nh2_mac),
        "route add 203.0.113.0/24 via %s port wan0" % nh2])
    assert r["ok"], r
    before = (gw.ctl.ok("show route"), gw.ctl.ok("show neighbor"),
              [(x["name"], x["state"], x["spi"]) for x in gw.ctl.ok("show sa")["sa"]])
    r = gw.ctl.txn(["route del 203.0.113.0/24", "neighbor del " + nh2,
                    "route add 192.0.2.0/24 via 198.51.100.7 port wan0",
                    "sp del p3out", "sa del out3", "sa del nosuch"])
    assert r["ok"] is False and "command 6" in r["error"], r
    sender.join()
    assert (gw.ctl.ok("show route"), gw.ctl.ok("show neighbor"),
              [(x["name"], x["state"], x["spi"]) for x in gw.ctl.ok("show sa")["sa"]]) == before
    frames = gw.wan.drain(settle=0.5)
    live.assert_no_clear(frames)
    esp = [f for f in frames if Ether(f).haslayer(IP) and Ether(f)[IP].proto == 50]
    seen = live.decrypt_all(esp, [live.OUT3])
    assert seen, "no ESP at all"
    assert {Ether(f).dst for f in esp} <= {live.NH_MAC, nh2_mac}
    gw.stop()
