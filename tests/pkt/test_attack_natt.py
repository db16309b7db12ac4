# SPDX-License-Identifier: BSD-3-Clause
"""Red-team reproducers for NAT traversal (RFC 3948, `encap udp`). Each test
states what espgw should do; a failing test is a finding (see the report in
the commit message). One espgw run per test on net_pcap ports."""

import os
import struct
import subprocess
import sys
import time

import pytest

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

import harness
from espcodec import NH_IPV4, NH_IPV6
from harness import PEER4, WAN4, Tunnel

NATT = 4500


def frame(t, payload, sport=NATT, dport=NATT, udp_len=None, cksum=None, src=None):
    """A WAN frame from t's peer (or src) to us: outer IP, UDP, payload bytes.
    udp_len / cksum override the UDP header fields after scapy built it."""
    o = t.outer_hdr()
    if src is not None:
        o.src = src
    if t.outer == 4:
        o.proto = 17
    else:
        o.nh = 17
    pkt = o / UDP(sport=sport, dport=dport) / Raw(payload)
    b = bytearray(bytes(pkt.__class__(bytes(pkt))))
    off = 20 if t.outer == 4 else 40
    if udp_len is not None:
        b[off + 4:off + 6] = struct.pack("!H", udp_len)
        if t.outer == 4:
            b[off + 6:off + 8] = b"\0\0"
    if cksum is not None:
        b[off + 6:off + 8] = struct.pack("!H", cksum)
    return harness.wan_frame((IP if t.outer == 4 else IPv6)(bytes(b)))


def seal(t, pkt, seq):
    raw = bytes(pkt)
    return t.in_sa.seal(raw, NH_IPV4 if raw[0] >> 4 == 4 else NH_IPV6, seq)


def conf_with(*tuns, extra=()):
    conf = harness.base_conf()
    for t in tuns:
        conf += t.conf()
    return conf + list(extra)


def lan_out(res):
    return len(res.out["lan0"])


# ---------------------------------------------------------------- demux state
def test_encap_sport_ike_port_refused(tmp_path):
    """`encap udp sport 500` makes the IKE port a NAT-T port: IKE (no non-ESP
    marker on 500, RFC 7296 2.23) would then be parsed as ESP and dropped.
    The store should refuse sport 500 (as it refuses port 0)."""
    t = Tunnel(72, "aes-gcm-128", 4, 4, out_opts="encap udp sport 500",
               in_opts="encap udp sport 500")
    r = harness.check_conf(conf_with(t), tmp_path)
    assert r.returncode != 0, "sport 500 accepted: %s" % (r.stdout + r.stderr)


def test_sa_only_on_its_own_port():
    """An SA received on 4600 (sport 4600) must not take ESP in UDP sent to
    another SA's NAT-T port (4500): the port is part of what the peer and
    we agreed (RFC 3948 2.1). espgw looks up by SPI only once the port is any
    NAT-T port."""
    a = Tunnel(73, "aes-gcm-128", 4, 4, out_opts="encap udp sport 4600 dport 4700",
               in_opts="encap udp sport 4600 dport 4700")
    b = Tunnel(74, "aes-gcm-128", 4, 4, out_opts="encap udp", in_opts="encap udp")
    pk = a.wan_pkt("udp", 20)
    res = harness.run(conf_with(a, b), wan=[frame(a, seal(a, pk, 1), 4700, NATT)])
    harness.check_stats_consistent(res.stats)
    assert lan_out(res) == 0, "an SA on 4600 decrypted ESP in UDP sent to 4500"


# ---------------------------------------------------------------- UDP header lies
def test_udp_length_short_of_payload():
    """RFC 768: the UDP length bounds the datagram. A UDP length covering
    only SPI and sequence (16) with the rest of a valid ESP packet behind it
    in the IP payload is not that ESP packet: espgw should refuse it
    (natt_malformed) or read only 8 bytes of ESP; it decrypts the bytes past
    the datagram (a filter that trusts the UDP length sees 8 bytes)."""
    t = Tunnel(75, "aes-gcm-128", 4, 4, out_opts="encap udp", in_opts="encap udp")
    pk = t.wan_pkt("udp", 64)
    res = harness.run(conf_with(t), wan=[frame(t, seal(t, pk, 1), udp_len=16)])
    harness.check_stats_consistent(res.stats)
    assert lan_out(res) == 0, "ESP beyond the UDP length was decrypted and forwarded"


def test_ipv6_udp_zero_checksum_dropped():
    """RFC 8200 8.1 (and RFC 6936 5): a UDP/IPv6 datagram with checksum 0
    must be discarded; espgw sends real ones (outb_udp6_cksum) but accepts 0."""
    t = Tunnel(76, "aes-gcm-128", 6, 6, out_opts="encap udp", in_opts="encap udp")
    pk = t.wan_pkt("udp", 20)
    res = harness.run(conf_with(t), wan=[frame(t, seal(t, pk, 1), cksum=0)])
    harness.check_stats_consistent(res.stats)
    assert lan_out(res) == 0, "UDP/IPv6 with checksum 0 decrypted"


def test_ipv6_udp_bad_checksum_dropped():
    """A UDP/IPv6 datagram whose checksum does not verify is not a datagram."""
    t = Tunnel(77, "aes-gcm-128", 6, 6, out_opts="encap udp", in_opts="encap udp")
    pk = t.wan_pkt("udp", 20)
    res = harness.run(conf_with(t), wan=[frame(t, seal(t, pk, 1), cksum=0x1234)])
    harness.check_stats_consistent(res.stats)
    assert lan_out(res) == 0, "UDP/IPv6 with a wrong checksum decrypted"


# ---------------------------------------------------------------- sanity probes
def test_ipv4_options_decrypted():
    """ESP in UDP behind an IPv4 header with options still decrypts (l3_len)."""
    t = Tunnel(78, "aes-gcm-128", 4, 4, out_opts="encap udp", in_opts="encap udp")
    pk = t.wan_pkt("udp", 20)
    o = t.outer_hdr()
    o.proto = 17
    o.options = [b"\x01\x01\x01\x00"]  # NOP NOP NOP EOL
    ip = o / UDP(sport=NATT, dport=NATT, chksum=0) / Raw(seal(t, pk, 1))
    ip = IP(bytes(ip))
    res = harness.run(conf_with(t), wan=[harness.wan_frame(ip)])
    harness.check_stats_consistent(res.stats)
    assert lan_out(res) == 1, res.drops()


# ---------------------------------------------------------------- in a namespace of its own
NETNS_RUN = os.path.join(harness.SRC, "tests", "ctl", "netns_run.sh")


def in_netns(name):
    """Run this module's test NAME again inside a fresh network namespace
    (tests/ctl/netns_run.sh: tap and tun interfaces stay in it). True in
    the outer call (which has then checked the inner result)."""
    if os.environ.get("ESPGW_ATTACK_NATT_NS"):
        return False
    r = subprocess.run([NETNS_RUN, sys.executable, "-m", "pytest", "-q", "-p",
                        "no:cacheprovider", "%s::%s" % (os.path.abspath(__file__), name)],
                       env=dict(os.environ, ESPGW_ATTACK_NATT_NS="1"), capture_output=True,
                       text=True, timeout=240)
    if r.returncode == 77:
        pytest.skip("needs root for a network namespace")
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    return True


def test_natt_port_released_after_live_sa_del():
    """Live: an inbound encap udp SA on port 4777 and an inbound bypass rule
    for UDP 4777 (a service behind it, once the SA is gone). `sa del` the SA;
    UDP to 4777 must then be the SPD's again. espgw keeps the port in its
    NAT-T bitmap for ever (natt_ports, never cleared) and drops the datagram
    as ESP of no SA: every port an IKE daemon ever gave an SA stays captured
    (and behind the non-ESP marker goes past the SPD to a host interface)."""
    if in_netns("test_natt_port_released_after_live_sa_del"):
        return
    sys.path.insert(0, os.path.join(harness.SRC, "tests", "ctl"))
    import live
    from scapy.layers.l2 import Ether
    k = live.Key(0x4777, 0x47)
    conf = "\n".join([k.conf("nin", "in") + " encap udp sport 4777 dport 4777",
                      "sp add in priority 5 src %s/32 dst %s/32 proto udp dport 4777 bypass"
                      % (live.PEER, live.WAN), ""])
    g = live.Gateway(extra_conf=conf)
    try:
        g.ctl.ok("sa del nin")
        time.sleep(3.5)  # past the workers' quiescent period and the SA's free
        before = g.drops()
        f = Ether(src=live.NH_MAC, dst=live.WAN_MAC) / IP(src=live.PEER, dst=live.WAN) / \
            UDP(sport=4777, dport=4777) / Raw(b"a datagram of the service on 4777")
        for _ in range(3):
            g.wan.send(f)
        time.sleep(1.0)
        got = g.drops_since(before)
        g.stop()
    finally:
        g.kill()
    assert "no_sa" not in got, "UDP to the port of a deleted SA eaten as ESP: %s" % got


@pytest.mark.parametrize("port,payload", [(NATT, b"\0\0\0\0" + b"IKE" * 8),
                                          (500, b"IKE" * 10)], ids=["natt-marker", "ike500"])
def test_marker_from_lan_source_is_spoofed(port, payload):
    """With a host interface (IKE up), UDP 4500 behind the non-ESP marker goes
    to the control path and up the host interface. From the unprotected side
    with a source that lives on the protected side (10.1.0.10, the LAN host)
    it is spoofed (RFC 3704, inbound.c reverse_path: spoofed_src) and must be
    dropped like any clear packet; natt_one hands it to the control path
    before the reverse-path check (so does local_is_ike for port 500): the
    kernel's IKE socket gets a datagram "from the LAN" and answers the LAN
    host with it."""
    if in_netns("test_marker_from_lan_source_is_spoofed[%s]"
                % ("natt-marker" if port == NATT else "ike500")):
        return
    t = Tunnel(79, "aes-gcm-128", 4, 4, out_opts="encap udp", in_opts="encap udp")
    conf = [ln.replace("mac %s" % harness.WAN_MAC, "mac %s host-if egwnat" % harness.WAN_MAC)
            for ln in conf_with(t)]
    assert any("host-if" in ln for ln in conf)
    f = frame(t, payload, sport=port, dport=port, src=harness.HOST4)
    res = harness.run(conf, wan=[f])
    st = res.stats
    harness.check_stats_consistent(st, ports_exact=False)
    assert res.drops() == {"spoofed_src": 1} and st["totals"]["to_ctl"] == 0, \
        "UDP %d from a LAN address on the WAN: drops %s, to_ctl %d" % (
            port, res.drops(), st["totals"]["to_ctl"])


# ---------------------------------------------------------------- what held (passes)
def test_malformed_battery_holds():
    """Held: truncated and lying UDP headers, tiny ESP, SPI 0 without the
    marker, IPv6 extension headers and fragments, IPv4 first fragments,
    frames of 3000 bytes (refused at input, bad_l3): no crash, nothing
    decrypted but the hop-by-hop one and the short-UDP-length one
    (test_udp_length_short_of_payload), every counter balanced, no mbuf leaked.
    Run under ASan/UBSan too (ESPGW=build-san/app/espgw/espgw)."""
    from scapy.layers.inet6 import IPv6ExtHdrFragment, IPv6ExtHdrHopByHop
    t4 = Tunnel(80, "aes-gcm-128", 4, 4, out_opts="encap udp", in_opts="encap udp")
    t6 = Tunnel(81, "aes-cbc-128+hmac-sha256-128", 6, 6, out_opts="encap udp",
                in_opts="encap udp")
    fr = []
    esp4 = seal(t4, t4.wan_pkt("udp", 40), 1)
    # UDP header cut short by the IP length, Ethernet padding behind it.
    ip = IP(src=PEER4, dst=WAN4, proto=17) / Raw(struct.pack("!HH", NATT, NATT))
    fr.append(harness.wan_frame(IP(bytes(ip))) / Raw(bytes(40)))
    for ulen in (0, 7, 8, 9, 15, 16, 17):
        fr.append(frame(t4, esp4, udp_len=ulen))
    fr.append(frame(t4, esp4[:8]))                       # SPI and sequence only
    fr.append(frame(t4, b"\0\0\0\x01" + esp4[4:]))      # SPI 1 (not the marker)
    fr.append(frame(t4, b"\0\0\0\0"))                   # the marker, nothing behind
    fr.append(frame(t4, b"\xff\xff"))                   # not a keepalive
    fr.append(frame(t4, esp4, sport=0))
    # IPv4 first fragment of a valid ESP in UDP (not reassembled: the SPD's).
    f = IP(src=PEER4, dst=WAN4, proto=17, flags="MF") / UDP(sport=NATT, dport=NATT,
                                                            chksum=0) / Raw(esp4)
    fr.append(harness.wan_frame(IP(bytes(f))))
    # IPv6: hop-by-hop before UDP; a first fragment.
    esp6 = seal(t6, t6.wan_pkt("udp", 40), 1)
    for ext in (IPv6ExtHdrHopByHop(), IPv6ExtHdrFragment(m=1, id=7)):
        p = IPv6(src=t6.peer, dst=t6.local) / ext / UDP(sport=NATT, dport=NATT) / Raw(esp6)
        fr.append(harness.wan_frame(IPv6(bytes(p))))
    # Big enough to arrive in several segments.
    big = seal(t4, t4.wan_pkt("udp", 2900), 2)
    fr.append(frame(t4, big))
    fr.append(frame(t4, big[:-1]))
    res = harness.run(conf_with(t4, t6), wan=fr)
    st = res.stats
    harness.check_stats_consistent(st)
    assert st["totals"]["rx"] == len(fr)
    # Decrypted: the UDP length 16 one (a finding of its own) and the hop-by-hop one.
    assert lan_out(res) <= 2, res.drops()


def nat_mapping_events(mon):
    """The nat-mapping events a monitor connection has, until it is quiet for 1 s."""
    mon.s.settimeout(1.0)
    events = []
    try:
        while True:
            ev = mon.line()
            if ev.get("event") == "nat-mapping":
                events.append(ev)
    except (OSError, EOFError):
        pass
    return events


def test_nat_mapping_events_bounded():
    """Live: the UDP header is outside the ICV, so whoever sits on the path
    (or a NAT that flaps between two mappings) sets the source port of each
    authenticated packet. Packets of one inbound encap udp SA alternating
    between source ports 40001 and 40002, 30 ms apart (past the control
    path's 10 ms poll), make one nat-mapping event and one NOTICE log line
    each: sa_watch.c natt_check compares only with the last mapping reported
    and has no rate limit (acquire has one a second per SA). Bounded would
    be at most one a second per SA (or per new address/port ever seen)."""
    if in_netns("test_nat_mapping_events_bounded"):
        return
    sys.path.insert(0, os.path.join(harness.SRC, "tests", "ctl"))
    import live
    from scapy.layers.ipsec import ESP
    from scapy.layers.l2 import Ether
    k = live.Key(0x4778, 0x48)
    conf = "\n".join([k.conf("nin", "in") + " encap udp",
                      "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 protect nin", ""])
    g = live.Gateway(extra_conf=conf)
    n = 40
    try:
        mon = live.Ctl(g.sock)
        assert mon.request("monitor")["ok"]
        sa = k.scapy_sa(live.PEER, live.WAN)
        for i in range(n):
            inner = IP(src=live.REMOTE, dst=live.HOST) / UDP(sport=4000, dport=5000) / \
                Raw(b"x" * 32)
            sa.seq_num = i + 1
            e = sa.encrypt(inner)
            esp = bytes(e[ESP])
            f = Ether(src=live.NH_MAC, dst=live.WAN_MAC) / \
                IP(src=live.PEER, dst=live.WAN, proto=17) / \
                UDP(sport=40001 + i % 2, dport=NATT, chksum=0) / Raw(esp)
            g.wan.send(f)
            time.sleep(0.03)
        lan = g.lan.drain(settle=0.5)
        drops = g.drops()
        events = nat_mapping_events(mon)
        g.stop()
    finally:
        g.kill()
    assert len(lan) >= n - 2, "the packets were not decrypted (%d): the probe is wrong: %s" % (
        len(lan), {d: v for d, v in drops.items() if v})
    assert len(events) <= 4, "%d nat-mapping events for %d packets of one SA" % (len(events), n)


def test_nat_mapping_not_hidden_by_a_duplicate():
    """Live: the peer's NAT moves it to a new port; each of its packets from
    there is followed at once by a copy (a replay, any observer of the WAN can
    send one) from yet another port. The copy is refused (replay) and the
    packet itself passes, so the new mapping is authenticated and must be
    reported. esp_in.c natt_scan notes only the last packet of a group that
    came from elsewhere (the copy); it does not pass, so natt_publish reports
    nothing: a replayed copy in the same burst hides the rebinding."""
    if in_netns("test_nat_mapping_not_hidden_by_a_duplicate"):
        return
    sys.path.insert(0, os.path.join(harness.SRC, "tests", "ctl"))
    import live
    from scapy.layers.ipsec import ESP
    from scapy.layers.l2 import Ether
    k = live.Key(0x4779, 0x49)
    conf = "\n".join([k.conf("nin", "in") + " encap udp",
                      "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 protect nin", ""])
    g = live.Gateway(extra_conf=conf)
    n = 20  # racy by nature (same burst or not): most pairs share a burst
    try:
        mon = live.Ctl(g.sock)
        assert mon.request("monitor")["ok"]
        sa = k.scapy_sa(live.PEER, live.WAN)
        for i in range(n):
            inner = IP(src=live.REMOTE, dst=live.HOST) / UDP(sport=4000, dport=5000) / \
                Raw(b"x" * 32)
            sa.seq_num = i + 1
            esp = bytes(sa.encrypt(inner)[ESP])

            def f(port):
                return bytes(Ether(src=live.NH_MAC, dst=live.WAN_MAC) /
                             IP(src=live.PEER, dst=live.WAN, proto=17) /
                             UDP(sport=port, dport=NATT, chksum=0) / Raw(esp))
            # Its NAT's new port 41000 + i; the copy from 50000 right behind it.
            real, copy = f(41000 + i), f(50000)
            g.wan.s.send(real)
            g.wan.s.send(copy)
            time.sleep(0.1)
        g.lan.drain(settle=0.5)
        drops = g.drops()
        events = nat_mapping_events(mon)
        g.stop()
    finally:
        g.kill()
    ports = [e["dport"] for e in events]
    assert drops.get("replay", 0) == n, drops
    # Events come at most once a second per SA (test_nat_mapping_events_bounded), each
    # with the latest mapping: the copies never pass, so they never show, and the last
    # event is the last genuine port.
    assert ports and 50000 not in ports and ports[-1] == 41000 + n - 1, \
        "nat-mapping events %s: rebindings hidden by a replayed copy" % ports


def test_nat_mapping_follows_dport_update():
    """Live: the key manager applies a NAT rebinding with `sa update nin dport
    41000` (README: `sa update NAME remote IP dport N` applies it). The peer's
    packets from 41000 are then from the SA's own port: no nat-mapping event.
    When its NAT moves it back to 4500, that is a change and must be reported.
    espgw_gw_sa_update returned early when only the dport changed (it compared
    remote, lifetimes and inner family), so the worker kept the old port:
    every packet from the configured port was reported, and the move back to
    the old one was hidden."""
    if in_netns("test_nat_mapping_follows_dport_update"):
        return
    sys.path.insert(0, os.path.join(harness.SRC, "tests", "ctl"))
    import live
    from scapy.layers.ipsec import ESP
    from scapy.layers.l2 import Ether
    k = live.Key(0x4781, 0x4b)
    conf = "\n".join([k.conf("nin", "in") + " encap udp",
                      "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 protect nin", ""])
    g = live.Gateway(extra_conf=conf)
    sa = k.scapy_sa(live.PEER, live.WAN)
    seq = [0]

    def send(port, n):
        for _ in range(n):
            seq[0] += 1
            sa.seq_num = seq[0]
            inner = IP(src=live.REMOTE, dst=live.HOST) / UDP(sport=4000, dport=5000) / \
                Raw(b"x" * 32)
            esp = bytes(sa.encrypt(inner)[ESP])
            g.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) /
                       IP(src=live.PEER, dst=live.WAN, proto=17) /
                       UDP(sport=port, dport=NATT, chksum=0) / Raw(esp))
            time.sleep(0.02)
    try:
        mon = live.Ctl(g.sock)
        assert mon.request("monitor")["ok"]
        g.ctl.ok("sa update nin dport 41000")
        send(41000, 5)
        after_update = nat_mapping_events(mon)  # quiet 1 s: past the event rate limit
        time.sleep(0.5)
        send(NATT, 5)
        moved_back = nat_mapping_events(mon)
        lan = g.lan.drain(settle=0.3)
        g.stop()
    finally:
        g.kill()
    assert len(lan) == 10, "the packets were not decrypted (%d): the probe is wrong" % len(lan)
    assert not after_update, "packets from the SA's updated dport reported: %s" % after_update
    assert [e["dport"] for e in moved_back] == [NATT], \
        "the move back to 4500 not reported: %s" % moved_back


@pytest.mark.parametrize("path", ["cpu", "direct"])
def test_nat_mapping_of_ecn_dropped_packet(path):
    """Live: the peer's NAT moves it to port 41000; its packets there carry
    outer CE over a Not-ECT inner packet (RFC 6040 4.2: dropped after
    decapsulation, as ecn_invalid). Each authenticated and took its number
    in the window, so the new mapping is shown (RFC 7296 2.23) by the CPU
    path; the direct path must do the same (it published over what
    inb_commit kept, after the ECN drop, and reported nothing)."""
    if in_netns("test_nat_mapping_of_ecn_dropped_packet[%s]" % path):
        return
    sys.path.insert(0, os.path.join(harness.SRC, "tests", "ctl"))
    import live
    from scapy.layers.ipsec import ESP
    from scapy.layers.l2 import Ether
    k = live.Key(0x4783, 0x4d)
    conf = "\n".join([k.conf("nin", "in") + " encap udp",
                      "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 protect nin",
                      "set crypto-path " + path, ""])
    g = live.Gateway(extra_conf=conf)
    sa = k.scapy_sa(live.PEER, live.WAN)
    try:
        mon = live.Ctl(g.sock)
        assert mon.request("monitor")["ok"]
        for i in range(5):
            sa.seq_num = i + 1
            inner = IP(src=live.REMOTE, dst=live.HOST, tos=0) / \
                UDP(sport=4000, dport=5000) / Raw(b"x" * 32)
            esp = bytes(sa.encrypt(inner)[ESP])
            g.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) /
                       IP(src=live.PEER, dst=live.WAN, proto=17, tos=3) /
                       UDP(sport=41000, dport=NATT, chksum=0) / Raw(esp))
            time.sleep(0.02)
        events = nat_mapping_events(mon)
        drops = g.drops()
        g.stop()
    finally:
        g.kill()
    assert drops.get("ecn_invalid", 0) == 5, drops
    assert [e["dport"] for e in events] == [41000], "nat-mapping events %s" % events
