# SPDX-License-Identifier: BSD-3-Clause
"""The IPsec boundary holds for what the audit found open (each case fails on
the release before this one):

- the gateway's own traffic is classified like any other (RFC 4301 5.1, 5.2):
  clear traffic to the gateway's LAN address "from" a remote branch that a
  protect policy covers is dropped (policy_mismatch), not answered in clear;
  clear traffic to the gateway that no inbound rule lets in is dropped
  (no_policy); an echo reply the outbound SPD does not let out is dropped;
  neighbor discovery needs no rule;
- non-initial fragments get their first fragment's verdict (RFC 4301 7.3),
  against policies that select ports (protect udp 5000 under a broader
  bypass): a fragmented datagram to port 5000 leaves entirely in ESP, a clear
  non-initial fragment "from" the remote branch is dropped (frag_no_first),
  the later fragments of a clear first fragment that policy refuses are
  refused too; inside a tunnel, fragments pass as their packet does;
- an ICMP error about a decrypted packet goes back through the SA of the
  traffic it quotes, reversed (RFC 4301 6.2), exactly as tshark and our codec
  decrypt it; if no SA carries that traffic back it is dropped
  (policy_mismatch), never sent in clear with the tunnel's plaintext quoted.
"""

import pytest
from scapy.layers.inet import IP, UDP, ICMP, fragment
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrFragment, ICMPv6EchoRequest, ICMPv6ND_NS,
                                ICMPv6NDOptSrcLLAddr, fragment6)
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from harness import (HOST4, HOST6, HOST_MAC, LAN_MAC, NH4_MAC, NH6_MAC, WAN4, WAN6, WAN_MAC,
                     Tunnel)

LAN4, LAN6 = "10.1.0.1", "2001:db8:1::1"
FAR4, FAR6 = "192.0.2.50", "2001:db8:9::50"
BYPASS = ["sp add out priority 60000 src 0.0.0.0/0 dst 0.0.0.0/0 bypass",
          "sp add in priority 60000 src 0.0.0.0/0 dst 0.0.0.0/0 bypass",
          "sp add out priority 60000 src ::/0 dst ::/0 bypass",
          "sp add in priority 60000 src ::/0 dst ::/0 bypass"]


def tunnels():
    """T4/T6 protect only UDP to port 5000 outbound and to port 6000 inbound;
    A4/A6 protect everything between the two subnets."""
    return {
        "T4": Tunnel(1, "aes-gcm-128", 4, 4, policy_out="proto udp dport 5000",
                     policy_in="proto udp dport 6000"),
        "T6": Tunnel(2, "aes-gcm-128", 6, 6, policy_out="proto udp dport 5000",
                     policy_in="proto udp dport 6000"),
        "A4": Tunnel(3, "aes-gcm-128", 4, 4),
        "A6": Tunnel(4, "aes-gcm-128", 6, 6),
    }


def udp4(src, dst, dport, size, ttl=64, pid=1, data=None):
    data = data if data is not None else bytes((i * 7 + 3) & 0xff for i in range(size))
    p = IP(src=src, dst=dst, ttl=ttl, id=pid) / UDP(sport=40000, dport=dport) / Raw(data)
    return IP(bytes(p))


def udp6(src, dst, dport, size, hlim=64, fid=None):
    data = bytes((i * 7 + 3) & 0xff for i in range(size))
    p = IPv6(src=src, dst=dst, hlim=hlim)
    if fid is not None:
        p = p / IPv6ExtHdrFragment(id=fid)
    p = p / UDP(sport=40000, dport=dport) / Raw(data)
    return IPv6(bytes(p))


def frags4(p, size=600):
    return [IP(bytes(f)) for f in fragment(p, fragsize=size)]


def frags6(p, size=700):
    return [IPv6(bytes(f)) for f in fragment6(p, size)]


def lan(p, dst=LAN_MAC):
    return Ether(src=HOST_MAC, dst=dst) / p


class Run:
    pass


# ---------------------------------------------------------------- run A: tunnels + bypass
@pytest.fixture(scope="module")
def a():
    r = Run()
    r.T = tunnels()
    conf = harness.base_conf()
    for t in r.T.values():
        conf += t.conf()
    conf += BYPASS
    T4, T6, A4, A6 = r.T["T4"], r.T["T6"], r.T["A4"], r.T["A6"]
    r.lan, r.wan = [], []
    # Fragments from the LAN to port 5000 (protect), as the LAN host sent them.
    r.out4 = frags4(udp4(HOST4, T4.host, 5000, 1400, pid=0x501))
    r.out6 = frags6(udp6(HOST6, T6.host, 5000, 1400, fid=0x601))
    r.lan += [lan(f) for f in r.out4 + r.out6]
    # A later fragment alone (its first never came): frag_no_first.
    r.lan.append(lan(frags4(udp4(HOST4, T4.host, 5000, 1400, pid=0x502))[1]))
    # Fragments to the internet under the bypass: all in clear, TTL - 1.
    r.bypass4 = frags4(udp4(HOST4, FAR4, 7000, 1400, pid=0x503))
    r.lan += [lan(f) for f in r.bypass4]
    # From the WAN, in clear: echo to the gateway's LAN address "from" branch A.
    r.wan.append(harness.wan_frame(IP(src=A4.host, dst=LAN4) / ICMP(id=7, seq=1)))
    r.wan.append(harness.wan_frame(IPv6(src=A6.host, dst=LAN6) / ICMPv6EchoRequest(id=7)))
    # Echo to the gateway's WAN address from the internet (bypass both ways): answered.
    r.echo = IP(bytes(IP(src=FAR4, dst=WAN4) / ICMP(id=8, seq=1) / Raw(b"espgw")))
    r.wan.append(harness.wan_frame(r.echo))
    # Clear fragments "from" branch T to the LAN: a lone later one, a first + later
    # one to port 6000 (which policy wants protected).
    r.wan.append(harness.wan_frame(frags4(udp4(T4.host, HOST4, 6000, 1400, pid=0x701))[1]))
    f = frags4(udp4(T4.host, HOST4, 6000, 1400, pid=0x702))
    r.wan += [harness.wan_frame(f[0]), harness.wan_frame(f[1])]
    r.wan.append(harness.wan_frame(frags6(udp6(T6.host, HOST6, 6000, 1400, fid=0x703))[1]))
    # Through tunnel T4: UDP 6000 with TTL 1 (the error's way back is not T4's:
    # T4 carries only UDP to 5000 out), a fragmented datagram, a lone later fragment.
    r.expired_t = udp4(T4.host, HOST4, 6000, 0, ttl=1, data=b"tunnel plaintext " * 16)
    r.wan.append(T4.encap(r.expired_t, 1))
    r.inner_frags = frags4(udp4(T4.host, HOST4, 6000, 1400, pid=0x704))
    r.wan += [T4.encap(f, 2 + i) for i, f in enumerate(r.inner_frags)]
    r.wan.append(T4.encap(frags4(udp4(T4.host, HOST4, 6000, 1400, pid=0x705))[1], 10))
    # Through tunnel A4 / A6: TTL 1, answered back through A4 / A6.
    r.expired_a = udp4(A4.host, HOST4, 9, 300, ttl=1)
    r.wan.append(A4.encap(r.expired_a, 1))
    r.expired_a6 = udp6(A6.host, HOST6, 9, 300, hlim=1)
    r.wan.append(A6.encap(r.expired_a6, 1))
    # Through tunnel T6: hop limit 1 to UDP 6000 (no SA back: dropped).
    r.wan.append(T6.encap(udp6(T6.host, HOST6, 6000, 300, hlim=1), 1))
    # Clear IPv6 first + later fragment "from" branch T6 to port 6000.
    f = frags6(udp6(T6.host, HOST6, 6000, 1400, fid=0x706))
    r.wan += [harness.wan_frame(f[0]), harness.wan_frame(f[1])]
    r.res = harness.run(conf, lan=r.lan, wan=r.wan)
    r.by_spi, r.clear_wan = harness.split_esp(r.res.out["wan0"])
    return r


def test_a_drops(a):
    """Each hole closed under its named reason, nothing else dropped."""
    harness.assert_drops(a.res.stats, policy_mismatch=2 + 2 + 1 + 1 + 2,
                         frag_no_first=1 + 1 + 1 + 1, ttl_exceeded=4)
    st = a.res.stats["sa"]
    assert st[a.T["T4"].in_name]["errors"] == 1 + 1, st  # the lone inner fragment, TTL 1
    assert st[a.T["A4"].in_name]["errors"] == 1, st     # TTL 1
    assert st[a.T["A6"].in_name]["errors"] == 1, st
    assert st[a.T["T6"].in_name]["errors"] == 1, st


def test_fragments_to_port_5000_all_in_esp(a):
    """RFC 4301 7.3: every fragment of the datagram the first fragment's protect
    rule covers leaves in that SA (before: the first in ESP, the rest in clear)."""
    for tname, frs in (("T4", a.out4), ("T6", a.out6)):
        t = a.T[tname]
        got = [harness.Decap(f, t).inner for f in a.by_spi.get(t.out_sa.spi, [])]
        assert got == [harness.ttl_dec(f) for f in frs], "%s: %d ESP frames for %d fragments" % (
            tname, len(got), len(frs))


def test_clear_out_of_wan(a):
    """In clear on the internet side only the bypass fragments and the echo reply."""
    reply = bytes(IP(src=WAN4, dst=FAR4, ttl=64, id=a.echo.id, flags=a.echo.flags) /
                  ICMP(type=0, id=8, seq=1) / Raw(b"espgw"))
    want = sorted([harness.ttl_dec(f) for f in a.bypass4] + [bytes(IP(reply))])
    got = sorted(harness.trim_l3(f[14:]) for f in a.clear_wan)
    assert got == want


def test_inner_fragments_delivered(a):
    """Fragments inside a tunnel pass as their packet does (the first's verdict)."""
    got = [harness.trim_l3(f[14:]) for f in a.res.out["lan0"]]
    assert got == [harness.ttl_dec(f) for f in a.inner_frags]


def test_error_back_through_the_sa(a):
    """RFC 4301 6.2: the time exceeded about A4's (A6's) packet goes back in
    A4's (A6's) outbound SA (the SA of the quoted traffic, reversed), exactly."""
    for tname, lan_addr, pkt in (("A4", LAN4, a.expired_a), ("A6", LAN6, a.expired_a6)):
        t = a.T[tname]
        frames = a.by_spi.get(t.out_sa.spi, [])
        assert len(frames) == 1, (tname, frames)
        want = harness.time_exceeded(lan_addr, t.host, pkt, ttl=64)
        assert harness.Decap(frames[0], t).inner == want, tname


def test_error_without_an_sa_back_is_dropped(a):
    """T4 carries UDP to port 5000 outbound only: the error about its inbound
    UDP 6000 packet has no SA back and is dropped, never sent in clear (before:
    classified by its own ICMP header, it took the bypass and quoted the plaintext)."""
    data = bytes(a.expired_t[Raw].load)
    for f in a.res.out["wan0"]:
        assert data[:17] not in f, "the tunnel's plaintext left wan0"
    assert a.res.stats["control"]["time_exceeded"] == 4
    assert len(a.by_spi.get(a.T["T4"].out_sa.spi, [])) == len(a.out4), \
        "T4 sent something besides the port-5000 fragments"


# ---------------------------------------------------------------- run B: no bypass
@pytest.fixture(scope="module")
def b():
    r = Run()
    A4 = Tunnel(3, "aes-gcm-128", 4, 4)
    conf = harness.base_conf() + A4.conf() + [
        "sp add in priority 100 dst %s/32 proto icmp bypass" % WAN4]
    r.wan = [
        # Let in, but no outbound rule lets the reply out.
        harness.wan_frame(IP(src=FAR4, dst=WAN4) / ICMP(id=9, seq=1)),
        # No inbound rule at all.
        harness.wan_frame(IP(src=FAR4, dst=WAN4) / UDP(sport=1, dport=2)),
        harness.wan_frame(IPv6(src=FAR6, dst=WAN6) / ICMPv6EchoRequest(id=9)),
        # Neighbor discovery needs no rule.
        Ether(src=NH6_MAC, dst="33:33:ff:00:00:01") /
        IPv6(src=harness.NH6, dst="ff02::1:ff00:1", hlim=255) /
        ICMPv6ND_NS(tgt=WAN6) / ICMPv6NDOptSrcLLAddr(lladdr=NH6_MAC),
    ]
    r.res = harness.run(conf, wan=r.wan)
    return r


def test_b_local_traffic_needs_rules(b):
    """No inbound rule: dropped before the control path; the reply to the echo
    that was let in: dropped by the outbound SPD; ND answered all the same."""
    harness.assert_drops(b.res.stats, no_policy=3)
    ctl = b.res.stats["control"]
    assert (ctl["echo_reply"], ctl["na_tx"]) == (1, 1), ctl
    out = [Ether(f) for f in b.res.out["wan0"]]
    assert len(out) == 1 and out[0].haslayer("ICMPv6 Neighbor Discovery - Neighbor Advertisement"), \
        [f.summary() for f in out]
    assert out[0].dst == NH6_MAC and out[0].src == WAN_MAC
    assert NH4_MAC  # the IPv4 next hop is static: no ARP
