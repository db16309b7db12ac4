# SPDX-License-Identifier: BSD-3-Clause
"""Routes and static neighbors changed live through the control socket
while traffic runs (issue 11): a more specific route to the peer switches
the tunnel's next hop and back with no packet lost; a next hop added
without a MAC is resolved by ARP while packets wait, and what waits on a
deleted route is routed again; a static neighbor taken away keeps its MAC
while it is probed, a new one applies at once; bad changes are refused with
their reason and change nothing. scapy decrypts what leaves; the counters
balance after every run. Runs inside its own network namespace
(netns_run.sh)."""

import threading
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether

import live
from live import OUT3, send_lan, tunnel_conf

NH2, NH2_MAC = "198.51.100.253", "02:00:00:00:02:fd"
NH3, NH3_MAC = "198.51.100.77", "02:00:00:00:02:77"
NEW_NH_MAC = "02:00:00:00:02:ee"
PEER_NET = "203.0.113.0/24"



def split(frames):
    """(ESP frames, ARP frames) of what left the WAN; nothing else may."""
    esp, arp = [], []
    for f in frames:
        e = Ether(f)
        if ARP in e:
            arp.append(e)
        else:
            assert IP in e and e[IP].proto == 50, "unexpected frame on the WAN: %r" % e
            esp.append(f)
    return esp, arp


def macs_by_index(frames):
    """{index: destination MAC} of the tunnel's ESP frames (each decrypted by scapy)."""
    sa = OUT3.scapy_sa(live.WAN, live.PEER)
    got = {}
    for f in frames:
        e = Ether(f)
        i = live.marker_index(sa.decrypt(e[IP])[UDP].payload)
        assert i is not None and i not in got, i
        got[i] = e.dst
    return got


def neighbors(gw, kind=None):
    """{ip: (lladdr, kind, state)} of show neighbor (of one kind)."""
    return {n["ip"]: (n["lladdr"], n["kind"], n["state"])
            for n in gw.ctl.ok("show neighbor")["neighbor"] if kind in (None, n["kind"])}


def arp_reply(ip, mac, to_mac=live.WAN_MAC):
    return Ether(src=mac, dst=to_mac) / ARP(op=2, hwsrc=mac, psrc=ip, hwdst=live.WAN_MAC,
                                            pdst=live.WAN)


def test_route_switch_loses_nothing(gw):
    """A /24 route to the peer through another router, added (with its static
    neighbor, in one transaction) and deleted while traffic flows: every
    packet leaves encrypted, first to the default router, then to the new
    one, then to the default again; none lost, none waits for a MAC."""
    gw.ctl.txn(tunnel_conf())
    n = 1500
    sender = threading.Thread(target=send_lan, args=(gw, range(n), 0.0005))
    sender.start()
    time.sleep(0.25)
    r = gw.ctl.txn(["neighbor add %s lladdr %s port wan0" % (NH2, NH2_MAC),
                    "route add %s via %s port wan0" % (PEER_NET, NH2)])
    assert r == {"ok": True, "applied": 2}, r
    time.sleep(0.25)
    r = gw.ctl.txn(["route del " + PEER_NET, "neighbor del " + NH2])
    assert r == {"ok": True, "applied": 2}, r
    sender.join()
    esp, arp = split(gw.wan.drain(want=n, timeout=20))
    assert arp == []
    got = macs_by_index(esp)
    assert sorted(got) == list(range(n)), "lost: %s" % sorted(set(range(n)) - set(got))
    seq = [got[i] for i in range(n)]
    a = seq.index(NH2_MAC)
    b = a + seq[a:].index(live.NH_MAC)
    assert set(seq[:a]) == {live.NH_MAC} and set(seq[a:b]) == {NH2_MAC}, seq
    assert set(seq[b:]) == {live.NH_MAC}, seq
    drops = gw.drops()
    assert drops["no_route"] == 0 and drops["no_neighbor"] == 0, drops
    st = gw.stop()
    assert st["control"]["drops"].get("no_route", 0) == 0, st["control"]


def test_via_resolved_then_rerouted(gw):
    """A route via a router nobody named: packets wait while espgw asks for its
    MAC by ARP and leave when it answers. Deleting the route while packets
    wait for an unanswered router sends them by the route that is left (the
    default), not to the bin."""
    gw.ctl.txn(tunnel_conf())
    gw.ctl.ok("route add %s via %s port wan0" % (PEER_NET, NH3))
    send_lan(gw, range(3))
    esp, arp = split(gw.wan.drain())
    assert esp == [] and arp, "no ARP request for the new next hop"
    assert arp[0][ARP].op == 1 and arp[0][ARP].pdst == NH3 and arp[0].dst == "ff:ff:ff:ff:ff:ff"
    assert neighbors(gw)[NH3] == (None, "via", "incomplete")
    gw.wan.send(arp_reply(NH3, NH3_MAC))
    esp, _ = split(gw.wan.drain(want=3))
    assert neighbors(gw)[NH3] == (NH3_MAC, "via", "reachable")
    assert macs_by_index(esp) == {0: NH3_MAC, 1: NH3_MAC, 2: NH3_MAC}
    send_lan(gw, range(3, 5))
    esp, _ = split(gw.wan.drain(want=2))
    assert macs_by_index(esp) == {3: NH3_MAC, 4: NH3_MAC}

    # Another route via a router that never answers: packets wait, the route goes.
    gw.ctl.ok("route del " + PEER_NET)
    gw.ctl.ok("route add %s via %s port wan0" % (PEER_NET, NH2))
    send_lan(gw, range(5, 8))
    esp, arp = split(gw.wan.drain())
    assert esp == [] and [a[ARP].pdst for a in arp][:1] == [NH2], arp
    gw.ctl.ok("route del " + PEER_NET)
    assert NH2 not in neighbors(gw) and NH3 not in neighbors(gw)
    esp, _ = split(gw.wan.drain(want=3))
    assert macs_by_index(esp) == {5: live.NH_MAC, 6: live.NH_MAC, 7: live.NH_MAC}
    shown = gw.ctl.ok("show route")["route"]
    assert [r["dst"] for r in shown] == ["0.0.0.0/0"], shown
    st = gw.stop()
    assert st["control"]["drops"].get("neigh_failed", 0) == 0, st["control"]


def test_static_neighbor_changes(gw):
    """The default router's static neighbor deleted: traffic keeps its MAC
    while espgw probes it (a unicast ARP request to that MAC); answered, it
    stays. Added again with another MAC: used from the next packet on."""
    gw.ctl.txn(tunnel_conf())
    gw.ctl.ok("neighbor del 198.51.100.254")
    send_lan(gw, range(3))
    esp, arp = split(gw.wan.drain(want=4))
    assert macs_by_index(esp) == {0: live.NH_MAC, 1: live.NH_MAC, 2: live.NH_MAC}
    probes = [a for a in arp if a[ARP].op == 1 and a[ARP].pdst == "198.51.100.254"]
    assert probes and probes[0].dst == live.NH_MAC, arp
    assert neighbors(gw)["198.51.100.254"][:2] == (live.NH_MAC, "via")
    gw.wan.send(arp_reply("198.51.100.254", live.NH_MAC))
    time.sleep(0.2)
    assert neighbors(gw)["198.51.100.254"] == (live.NH_MAC, "via", "reachable")
    assert list(neighbors(gw, "static")) == ["10.1.0.10"]

    gw.ctl.ok("neighbor add 198.51.100.254 lladdr %s port wan0" % NEW_NH_MAC)
    assert neighbors(gw)["198.51.100.254"] == (NEW_NH_MAC, "static", "permanent")
    send_lan(gw, range(3, 6))
    esp, _ = split(gw.wan.drain(want=3))
    assert macs_by_index(esp) == {3: NEW_NH_MAC, 4: NEW_NH_MAC, 5: NEW_NH_MAC}
    # An unsolicited ARP for a static neighbor changes nothing.
    gw.wan.send(arp_reply("198.51.100.254", live.NH_MAC))
    time.sleep(0.2)
    send_lan(gw, range(6, 8))
    esp, _ = split(gw.wan.drain(want=2))
    assert macs_by_index(esp) == {6: NEW_NH_MAC, 7: NEW_NH_MAC}
    gw.stop()


def test_bad_changes_refused(gw):
    """Each refused with its reason, in a transaction or alone; none changes
    routes, neighbors or traffic. More next hops than the room kept for live
    changes are refused as a whole."""
    before = (gw.ctl.ok("show route"), gw.ctl.ok("show neighbor"))
    cases = [
        ("route add 192.0.2.0/24 via 10.9.9.9 port wan0",
         "via 10.9.9.9 is not on a subnet of port wan0"),
        ("route del 192.0.2.0/24", "route 192.0.2.0/24 does not exist"),
        ("route add 0.0.0.0/0 via 198.51.100.254 port wan0", "route 0.0.0.0/0 already exists"),
        ("route add 192.0.2.0/24 port nosuch", "port nosuch does not exist"),
        ("neighbor add 198.51.100.254 lladdr 02:00:00:00:00:01 port wan0",
         "neighbor 198.51.100.254 already exists"),
        ("neighbor del 198.51.100.99", "neighbor 198.51.100.99 does not exist"),
        ("neighbor add 198.51.100.9 lladdr 01:00:5e:00:00:01 port wan0",
         "lladdr of 198.51.100.9 must be a unicast address"),
    ]
    for line, err in cases:
        assert gw.ctl.request(line) == {"ok": False, "error": err}, line
    # 2 entries in use (the router, the LAN host), room for 3 + 256: 258 more do not fit.
    lines = ["neighbor add 10.1.0.%d lladdr 02:00:00:00:01:%02x port lan0" % (i, i)
             for i in range(20, 255)]
    lines += ["route add 192.0.%d.0/24 via 198.51.100.%d port wan0" % (i, i)
              for i in range(2, 25)]
    r = gw.ctl.txn(lines)
    assert r["ok"] is False and "would exceed the room of 259" in r["error"], r
    assert (gw.ctl.ok("show route"), gw.ctl.ok("show neighbor")) == before
    # One fewer fits.
    assert gw.ctl.txn(lines[:-2])["ok"]
    assert len(neighbors(gw, "static")) == 2 + 235
    assert len(neighbors(gw, "via")) == 21
    gw.ctl.txn(tunnel_conf())
    send_lan(gw, range(3))
    esp, _ = split(gw.wan.drain(want=3))
    assert macs_by_index(esp) == {0: live.NH_MAC, 1: live.NH_MAC, 2: live.NH_MAC}
    gw.stop()
