# SPDX-License-Identifier: BSD-3-Clause
"""Transport mode in a realistic use: a VXLAN tunnel (the Linux kernel's) between
the two gateways' host interfaces, protected by transport-mode ESP between
their public addresses (RFC 4303 3.1.1). Each gateway runs in a namespace of
its own (topo.py gw_netns) with a host interface on its WAN port; the kernels
there run VXLAN 42 over UDP 4789 to each other, and a ping between the two
VXLAN addresses crosses the internet only as ESP: tshark verifies every ICV
and finds no VXLAN (UDP 4789) in clear."""

import os
import subprocess
import time

import pytest

from interop_util import CONFS, ping_ok, problems_after_stop, start_testbed, tel, topo, wire

RA, RB = topo.ROUTER["a"], topo.ROUTER["b"]
VNI, VX_PORT = 42, 4789
U6_PORT = 7777  # IPv6 datagrams with a destination options header, in transport ESP

# Send one UDP datagram over IPv6 with a destination options header (a PadN
# option), which the kernel puts in front of the upper layer (IPV6_DSTOPTS).
SEND_DSTOPTS = ("import socket,sys\n"
                "s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n"
                "s.setsockopt(socket.IPPROTO_IPV6,59,bytes([0,0,1,4,0,0,0,0]))\n"
                "s.sendto(b'behind-dstopts',(sys.argv[1],%d))\n" % U6_PORT)
RECV_ONE = ("import socket,sys\n"
            "s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n"
            "s.bind((sys.argv[1],%d))\n"
            "s.settimeout(10)\n"
            "print('ready',flush=True)\n"
            "print(s.recv(100).decode(),flush=True)\n" % U6_PORT)
VX_ADDR = {"a": "192.168.42.1", "b": "192.168.42.2"}
# DEMO KEYS, published with espgw (as in config/gw-*.conf).
KEY_AB = "0x7a0b7a0b7a0b7a0b7a0b7a0b7a0b7a0b"
KEY_BA = "0x7b0a7b0a7b0a7b0a7b0a7b0a7b0a7b0a"


def transport_rules(me, peer, out_name, out_spi, out_key, in_name, in_spi, in_key,
                    port=VX_PORT):
    # One key for both pairs, a salt each: two outbound SAs never share both.
    sa = ("sa add {n} dir {d} spi {spi} mode transport local {me} remote {peer} "
          "aead aes-gcm-128 key {k} salt %s" % ("0x00c0ffee" if port == VX_PORT else "0x00c0ff66"))
    plen = 32 if ":" not in me else 128
    return "\n".join([
        "# UDP port %d between the host interfaces, in transport-mode ESP." % port,
        sa.format(n=out_name, d="out", spi=out_spi, me=me, peer=peer, k=out_key),
        sa.format(n=in_name, d="in", spi=in_spi, me=me, peer=peer, k=in_key),
        "sp add out priority 500 src %s/%d dst %s/%d proto udp dport %d protect %s"
        % (me, plen, peer, plen, port, out_name),
        "sp add in  priority 500 src %s/%d dst %s/%d proto udp dport %d protect %s"
        % (peer, plen, me, plen, port, in_name),
    ]) + "\n"


def conf_with(workdir, g):
    """config/gw-<g>.conf with a host interface on wan0 and the VXLAN transport SAs."""
    with open(CONFS[0 if g == "a" else 1]) as f:
        text = f.read()
    wan_mac = "02:00:00:0%s:02:01" % g
    text = text.replace("mac " + wan_mac, "mac %s host-if espgw-wan0" % wan_mac)
    assert text.count("host-if") == 1, "config/gw-%s.conf's wan0 line changed" % g
    if g == "a":
        text += transport_rules(RA["gw4"], RB["gw4"], "vxab", "0x7a0b0001", KEY_AB,
                                "vxba", "0x7b0a0001", KEY_BA)
        text += transport_rules(RA["gw6"], RB["gw6"], "u6ab", "0x7a0b0006", KEY_AB,
                                "u6ba", "0x7b0a0006", KEY_BA, port=U6_PORT)
    else:
        text += transport_rules(RB["gw4"], RA["gw4"], "vxba", "0x7b0a0001", KEY_BA,
                                "vxab", "0x7a0b0001", KEY_AB)
        text += transport_rules(RB["gw6"], RA["gw6"], "u6ba", "0x7b0a0006", KEY_BA,
                                "u6ab", "0x7a0b0006", KEY_AB, port=U6_PORT)
    path = os.path.join(workdir, "gw-%s-vxlan.conf" % g)
    with open(path, "w") as f:
        f.write(text)
    return path


@pytest.fixture(scope="module")
def tb():
    for t in start_testbed("vxlan", conf_a=lambda d: conf_with(d, "a"),
                           conf_b=lambda d: conf_with(d, "b"), gw_netns=True):
        for g, me, peer in (("a", RA["gw4"], RB["gw4"]), ("b", RB["gw4"], RA["gw4"])):
            site = "gw-" + g
            t.t.ip("route", "add", "default", "dev", "espgw-wan0", site=site)
            t.t.ip("-6", "route", "add", "default", "dev", "espgw-wan0", site=site)
            t.t.ip("link", "add", "vx0", "type", "vxlan", "id", str(VNI), "local", me,
                   "remote", peer, "dstport", str(VX_PORT), site=site)
            t.t.ip("link", "set", "vx0", "mtu", "1300", "up", site=site)
            t.t.ip("addr", "add", VX_ADDR[g] + "/24", "dev", "vx0", site=site)
        yield t


def test_ping_over_vxlan_in_transport_mode(tb):
    """The two VXLAN ends reach each other, each packet through the transport SAs."""
    before = tel(tb.t, "a", "/espgw/sa,vxab")["pkts"]
    r = tb.t.ping("gw-a", VX_ADDR["b"], count=5)
    assert ping_ok(r, 5), r.stdout + r.stderr
    assert tel(tb.t, "a", "/espgw/sa,vxab")["pkts"] - before >= 5
    assert tel(tb.t, "b", "/espgw/sa,vxab")["pkts"] >= 5
    assert tel(tb.t, "a", "/espgw/sa,vxba")["pkts"] >= 5


def test_ipv6_extension_header_stays_in_front(tb):
    """The host's IPv6 datagram with a destination options header crosses in
    transport ESP (ESP behind that header, RFC 4303 3.1.1) and arrives whole."""
    r = tb.t.spawn("gw-b", [topo.PYTHON, "-c", RECV_ONE, RB["gw6"]], stdout=subprocess.PIPE,
                   text=True)
    try:
        assert r.stdout.readline().strip() == "ready"
        tb.t.run("gw-a", [topo.PYTHON, "-c", SEND_DSTOPTS, RB["gw6"]], check=True)
        got = r.communicate(timeout=15)[0].strip()
    finally:
        r.kill()
        r.wait()
    assert got == "behind-dstopts"
    assert tel(tb.t, "a", "/espgw/sa,u6ab")["pkts"] == 1
    assert tel(tb.t, "b", "/espgw/sa,u6ab")["pkts"] == 1


def test_the_internet_sees_only_esp(tb):
    """tshark verifies the ICV of every transport ESP packet; no VXLAN crossed in clear."""
    # tcpdump shares the two CPUs with four polling lcores: give it the time to
    # write what it saw (until the file stops growing) before it is stopped.
    deadline, last, still = time.monotonic() + 20, -1, 0
    while time.monotonic() < deadline and still < 8:
        n = len(wire.read_pcap(tb.pcap)[1])
        still = still + 1 if n == last and n >= 20 else 0
        last = n
        time.sleep(0.2)
    tb.stop_capture()
    confs = [tb.t.gw[g].conf for g in "ab"]
    esp = [v for v in wire.esp_verdicts(tb.pcap, confs)
           if v["spi"] in (0x7a0b0001, 0x7b0a0001, 0x7a0b0006)]
    assert len(esp) >= 10, "%d transport ESP packets captured" % len(esp)
    assert all(v["good"] for v in esp), [v for v in esp if not v["good"]]
    pairs = {(RA["gw4"], RB["gw4"]), (RB["gw4"], RA["gw4"]), (RA["gw6"], RB["gw6"])}
    assert all(v["outer"] in pairs for v in esp), esp
    assert any(v["spi"] == 0x7a0b0006 for v in esp), "no IPv6 transport ESP captured"
    link, frames = wire.read_pcap(tb.pcap)
    # The IPv6 datagram: its destination options header first, ESP behind it.
    v6 = [l3 for et, l3 in (wire.l3_of(link, f) for f in frames)
          if et == wire.ETH_IPV6 and l3[6] == 60]
    assert v6 and all(l3[40] == 50 for l3 in v6), [l3[:48].hex() for l3 in v6]
    for f in frames:
        et, l3 = wire.l3_of(link, f)
        if et == wire.ETH_IPV4 and l3[9] == 17:
            ihl = (l3[0] & 0xf) * 4
            assert int.from_bytes(l3[ihl + 2:ihl + 4], "big") != VX_PORT, "VXLAN in clear"


def test_stop_clean(tb):
    st, bad = problems_after_stop(tb)
    assert not bad, bad
