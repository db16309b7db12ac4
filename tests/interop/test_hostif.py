# SPDX-License-Identifier: BSD-3-Clause
"""The gateway's own traffic through its host interfaces (port ... host-if):
gw-a runs in a namespace of its own with both ports given a kernel interface
(espgw-lan0, espgw-wan0) carrying the ports' addresses; Linux sockets in that
namespace serve and talk through the ports DPDK owns. The peers are the
Linux kernels of the testbed (scripts/netns/topo.py): a TCP exchange and a
UDP echo from the internet, IKE's port past the SPD, the host's own ping to
branch B protected by the tunnel, and a kernel packet with a foreign source
refused."""

import os
import subprocess
import time

import pytest

from interop_util import CONFS, ping_ok, problems_after_stop, start_testbed, tel, topo

A, B, RA = topo.SITES["a"], topo.SITES["b"], topo.ROUTER["a"]
WAN4, WAN6 = RA["gw4"], RA["gw6"]

# Echo the first datagram of each sender on (addr, port), forever.
UDP_ECHO = ("import socket,sys\n"
            "s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET,"
            "socket.SOCK_DGRAM)\n"
            "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
            "s.bind((sys.argv[1],int(sys.argv[2])))\n"
            "print('ready',flush=True)\n"
            "ike=len(sys.argv)>3\n"
            "def hdr(n):\n"
            "    return bytes(16)+bytes([0,0x20,34,0x20])+bytes(4)+(28+n).to_bytes(4,'big')\n"
            "while True:\n"
            "    d,a=s.recvfrom(65535)\n"
            "    r=b'echo:'+(d[28:] if ike else d)\n"
            "    s.sendto(hdr(len(r))+r if ike else r,a)\n")

# Send one datagram, print the answer (or nothing after 3 s).
UDP_ASK = ("import socket,sys\n"
           "s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET,"
           "socket.SOCK_DGRAM)\n"
           "s.settimeout(3)\n"
           "ike=len(sys.argv)>4\n"
           "d=sys.argv[3].encode()\n"
           "h=bytes(16)+bytes([0,0x20,34,8])+bytes(4)+(28+len(d)).to_bytes(4,'big')\n"
           "s.sendto(h+d if ike else d,(sys.argv[1],int(sys.argv[2])))\n"
           "try:\n"
           "    r=s.recvfrom(65535)[0]\n"
           "    print((r[28:] if ike else r).decode())\n"
           "except socket.timeout:\n"
           "    print('timeout')\n")

# An IPv4 packet with a source the gateway does not own, down espgw-wan0.
FOREIGN = ("import socket,struct\n"
           "s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_RAW)\n"
           "s.setsockopt(socket.SOL_SOCKET,socket.SO_BINDTODEVICE,b'espgw-wan0')\n"
           "hdr=struct.pack('!BBHHHBBH4s4s',0x45,0,28,1,0,64,17,0,"
           "socket.inet_aton('192.0.2.99'),socket.inet_aton('%s'))\n"
           "s.sendto(hdr+struct.pack('!HHHH',9999,9999,8,0),('%s',0))\n"
           % (RA["ip4"], RA["ip4"]))

# From the gateway's port 4500: IKE behind the non-ESP marker, a NAT keepalive,
# and what would be ESP in UDP (an SPI first), in that order.
NATT_SEND = ("import socket,sys,time\n"
             "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
             "s.bind((sys.argv[1],4500))\n"
             "ike=bytes(16)+bytes([0,0x20,34,8])+bytes(4)+(31).to_bytes(4,'big')+b'ike'\n"
             "for d in (bytes(4)+ike,b'\\xff',b'\\x12\\x34\\x56\\x78esp',bytes(4)+b'ike'):\n"
             "    s.sendto(d,(sys.argv[2],4500))\n"
             "    time.sleep(0.2)\n")

# Print each datagram received on (addr, 4500) for 3 s, as hex.
NATT_RECV = ("import socket,sys\n"
             "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
             "s.bind((sys.argv[1],4500))\n"
             "s.settimeout(3)\n"
             "print('ready',flush=True)\n"
             "try:\n"
             "    while True:\n"
             "        print(s.recv(100).hex(),flush=True)\n"
             "except socket.timeout:\n"
             "    pass\n")

HOSTIF_RULES = """
# The host's services on the public address: UDP echo (7) and a TCP service (2222).
sp add in  priority 900 dst {w4}/32 proto udp dport 7 bypass
sp add out priority 900 src {w4}/32 proto udp sport 7 bypass
sp add in  priority 900 dst {w6}/128 proto udp dport 7 bypass
sp add out priority 900 src {w6}/128 proto udp sport 7 bypass
sp add in  priority 900 dst {w4}/32 proto tcp dport 2222 bypass
sp add out priority 900 src {w4}/32 proto tcp sport 2222 bypass
""".format(w4=WAN4, w6=WAN6)


def conf_a(workdir):
    """config/gw-a.conf with a host interface on each port and the services' rules."""
    with open(CONFS[0]) as f:
        text = f.read()
    text = text.replace("mac 02:00:00:0a:01:01", "mac 02:00:00:0a:01:01 host-if espgw-lan0")
    text = text.replace("mac 02:00:00:0a:02:01", "mac 02:00:00:0a:02:01 host-if espgw-wan0")
    assert text.count("host-if") == 2, "config/gw-a.conf's port lines changed"
    path = os.path.join(workdir, "gw-a-hostif.conf")
    with open(path, "w") as f:
        f.write(text + HOSTIF_RULES)
    return path


@pytest.fixture(scope="module")
def tb():
    for t in start_testbed("hostif", conf_a=conf_a, gw_netns=True):
        # The kernel's routes: the internet through wan0's interface, branch B
        # through lan0's (from the LAN address, which the tunnel's policy covers).
        t.t.ip("route", "add", "default", "dev", "espgw-wan0", site="gw-a")
        t.t.ip("-6", "route", "add", "default", "dev", "espgw-wan0", site="gw-a")
        t.t.ip("route", "add", B["net4"], "dev", "espgw-lan0", "src", A["gw4"], site="gw-a")
        yield t


def control(t, key):
    return tel(t, "a", "/espgw/control")[key]


def echo_through(t, addr, port, text, ike=False):
    """A UDP echo server on (addr, port) in gw-a's namespace, asked once from
    the internet: the answer, or "timeout". ike: both ways inside an IKEv2
    header (RFC 7296 3.1), as only IKE leaves port 500 past the SPD."""
    extra = ["ike"] if ike else []
    p = t.spawn("gw-a", [topo.PYTHON, "-c", UDP_ECHO, addr, port] + extra,
                stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        r = t.run("net", [topo.PYTHON, "-c", UDP_ASK, addr, port, text] + extra, timeout=20)
        return r.stdout.strip()
    finally:
        p.kill()
        p.wait()


def test_interfaces_carry_the_ports_addresses(tb):
    """espgw made both kernel interfaces, with the ports' addresses and MTU, up."""
    out = tb.t.run("gw-a", ["ip", "-o", "addr", "show"], check=True).stdout
    assert "espgw-wan0    inet %s/24" % WAN4 in out
    assert "espgw-wan0    inet6 %s/64" % WAN6 in out
    assert "espgw-lan0    inet %s/24" % A["gw4"] in out
    link = tb.t.run("gw-a", ["ip", "-o", "link", "show", "espgw-wan0"], check=True).stdout
    assert "mtu 1500" in link and ",UP" in link and "NOARP" in link


@pytest.mark.parametrize("addr", [WAN4, WAN6])
def test_udp_echo_from_the_internet(tb, addr):
    """A UDP server in gw-a's namespace answers the internet through espgw's port."""
    before = control(tb.t, "to_host")
    assert echo_through(tb.t, addr, 7, "hello-" + addr) == "echo:hello-" + addr
    assert control(tb.t, "to_host") - before >= 1


def test_tcp_exchange_from_the_internet(tb):
    """A TCP service on the gateway (what ssh would be) moves data intact both ways."""
    s, r = tb.t.tcp("net", "gw-a", WAN4, 300000, seed="hostif", port=2222)
    assert s["sha256"] == r["sha256"] and r["bytes"] == 300000


def test_ike_port_passes_the_spd(tb):
    """UDP 500 reaches the kernel and its IKE answer leaves, with no policy for
    either; an answer that is not an IKE message stays the SPD's (no rule: dropped)."""
    before = control(tb.t, "from_host_ike")
    assert echo_through(tb.t, WAN4, 500, "ike", ike=True) == "echo:ike"
    assert control(tb.t, "from_host_ike") - before == 1
    assert echo_through(tb.t, WAN4, 500, "not-ike") == "timeout"


def test_natt_port_ike_and_keepalives_pass_the_spd(tb):
    """From port 4500 only IKE (non-ESP marker, an IKEv2 header) and keepalives leave
    without a policy: not what merely starts with the marker, not ESP-looking data."""
    before = control(tb.t, "from_host_ike")
    r = tb.t.spawn("net", [topo.PYTHON, "-c", NATT_RECV, RA["ip4"]], stdout=subprocess.PIPE,
                   text=True)
    try:
        assert r.stdout.readline().strip() == "ready"
        tb.t.run("gw-a", [topo.PYTHON, "-c", NATT_SEND, WAN4, RA["ip4"]], check=True)
        got = r.communicate(timeout=10)[0].split()
    finally:
        r.kill()
        r.wait()
    ike = bytes(16) + bytes([0, 0x20, 34, 8]) + bytes(4) + (31).to_bytes(4, "big") + b"ike"
    assert got == [(bytes(4) + ike).hex(), "ff"], got
    assert control(tb.t, "from_host_ike") - before == 2


def test_other_ports_stay_closed(tb):
    """Without a bypass rule, the inbound SPD drops what the host would have served."""
    before = tel(tb.t, "a", "/espgw/drops")["no_policy"]
    assert echo_through(tb.t, WAN4, 9, "closed") == "timeout"
    assert tel(tb.t, "a", "/espgw/drops")["no_policy"] - before >= 1


def test_host_traffic_to_branch_b_is_protected(tb):
    """The host's own ping to branch B goes through ab4 and comes back through ba4."""
    out_before = tel(tb.t, "a", "/espgw/sa,ab4")["pkts"]
    in_before = tel(tb.t, "a", "/espgw/sa,ba4")["pkts"]
    r = tb.t.ping("gw-a", B["host4"], count=3)
    assert ping_ok(r, 3), r.stdout + r.stderr
    assert tel(tb.t, "a", "/espgw/sa,ab4")["pkts"] - out_before >= 3
    assert tel(tb.t, "a", "/espgw/sa,ba4")["pkts"] - in_before >= 3


def test_host_learns_the_tunnel_mtu(tb):
    """The host's packet too big for the tunnel gets "fragmentation needed" up its
    host interface: the kernel's path MTU discovery learns the SA's MTU (RFC 1191)."""
    before = control(tb.t, "icmp_error")
    r = tb.t.ping("gw-a", B["host4"], count=2, size=1472, df="do")
    out = tb.t.run("gw-a", ["ip", "route", "get", B["host4"]]).stdout
    assert " mtu 14" in out, "no path MTU learned: %s\n%s%s" % (out, r.stdout, r.stderr)
    assert control(tb.t, "icmp_error") - before >= 1
    # Fitting packets cross as before.
    r = tb.t.ping("gw-a", B["host4"], count=2, size=1200, df="do")
    assert ping_ok(r, 2), r.stdout + r.stderr


def test_foreign_source_refused(tb):
    """The kernel cannot send through espgw from an address that is not the gateway's."""
    before = control(tb.t, "from_host_refused")
    tb.t.run("gw-a", [topo.PYTHON, "-c", FOREIGN], check=True)
    deadline = time.monotonic() + 5
    while control(tb.t, "from_host_refused") == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert control(tb.t, "from_host_refused") - before == 1


def test_interfaces_go_with_the_gateway(tb):
    """A clean stop removes the kernel interfaces; the counters add up, no mbuf leaked."""
    tb.stop_capture()
    st, bad = problems_after_stop(tb)
    assert not bad, bad
    assert st["a"]["control"]["to_host"] > 0 and st["a"]["control"]["from_host"] > 0
    out = tb.t.run("gw-a", ["ip", "-o", "link", "show"], check=True).stdout
    assert "espgw-wan0" not in out and "espgw-lan0" not in out
