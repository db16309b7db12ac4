# SPDX-License-Identifier: BSD-3-Clause
"""NAT traversal across a real NAT (RFC 3948): gw-a sits behind a NAT box
(topo.py nat_a: an nftables masquerade in a namespace of its own) and runs
config/gw-a-nat.conf, gw-b config/gw-b-nat.conf, both tunnels in UDP 4500.
The branches ping and move data as without NAT; the capture of the internet
holds only UDP between the NAT's public address and gw-b (tshark verifies
every ICV with gw-b's keys); a silent tunnel sends keepalives; when the NAT
rebinds gw-a to another port, gw-b raises one nat-mapping event and, once
told with "sa update NAME dport N" (what an IKE daemon does), answers there."""

import json
import os
import socket
import subprocess
import time

import pytest

from interop_util import SRC, ping_ok, problems_after_stop, start_testbed, tel, topo, wire

A, B, NAT = topo.SITES["a"], topo.SITES["b"], topo.NAT
CONF_A = os.path.join(SRC, "config", "gw-a-nat.conf")
CONF_B = os.path.join(SRC, "config", "gw-b-nat.conf")
KEEPALIVE_S = 2


def conf_a(workdir):
    """gw-a-nat.conf with keepalives every KEEPALIVE_S seconds (the test cannot wait 20)."""
    path = os.path.join(workdir, "gw-a-nat.conf")
    with open(CONF_A) as f, open(path, "w") as g:
        g.write("set nat-keepalive %d\n" % KEEPALIVE_S + f.read())
    return path


@pytest.fixture(scope="module")
def tb():
    yield from start_testbed("natt", conf_a=conf_a, conf_b=CONF_B, nat_a=True)


class Ctl:
    """gw-b's control socket: requests, and the monitor's events."""

    def __init__(self, t):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect("/run/espgw/espgw-%s.sock" % t.gw["b"].prefix)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            self.buf += self.s.recv(65536)
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, text):
        self.s.sendall(text.encode() + b"\n")
        while True:
            r = self.line()
            if "event" not in r:
                return r


def test_branches_talk_through_the_nat(tb):
    """Ping both ways (the first packet from behind the NAT opens the mapping),
    IPv6 inside the IPv4 tunnel, and a TCP transfer with matching SHA-256."""
    r = tb.t.ping("a", B["host4"], count=3)
    assert ping_ok(r, 3), r.stdout + r.stderr
    r = tb.t.ping("b", A["host4"], count=3)
    assert ping_ok(r, 3), r.stdout + r.stderr
    r = tb.t.ping("a", B["mixed6"], count=3, src=A["mixed6"])
    assert ping_ok(r, 3), r.stdout + r.stderr
    s, rcv = tb.tcp("a", "b", B["host4"], 1 << 20, "natt")
    assert s["sha256"] == rcv["sha256"] and rcv["bytes"] == 1 << 20


def test_keepalives_while_silent(tb):
    """RFC 3948 2.3: silent for KEEPALIVE_S seconds, gw-a's outbound encap SAs send
    keepalives through the NAT; gw-b absorbs and counts them."""
    before = tel(tb.t, "b", "/espgw/dp")["nat_keepalives"]
    time.sleep(KEEPALIVE_S * 2 + 1.5)
    assert tel(tb.t, "a", "/espgw/control")["nat_keepalives_tx"] >= 2
    assert tel(tb.t, "b", "/espgw/dp")["nat_keepalives"] - before >= 2


def test_rebinding_raises_one_event_and_update_follows(tb):
    """The NAT moves gw-a to another port: gw-b still decrypts (the SPI finds the
    SA), tells its monitor once, and answers the new port after sa update."""
    ctl = Ctl(tb.t)
    assert ctl.request("monitor")["ok"]
    out = "natout-" + tb.t.tag
    nft = ("flush chain ip nat post\nadd rule ip nat post oifname \"%s\" "
           "ip protocol udp snat to %s:40000-40100\n" % (out, NAT["public"]))
    p = tb.t.spawn("nat", ["nft", "-f", "-"], stdin=subprocess.PIPE, text=True)
    p.communicate(nft, timeout=30)
    assert p.returncode == 0
    tb.t.run("nat", ["conntrack", "-D", "-p", "udp", "--orig-port-src", "4500"])
    tb.t.ping("a", B["host4"], count=2)  # replies go to the old port: lost
    ev = None
    deadline = time.monotonic() + 10
    while ev is None and time.monotonic() < deadline:
        e = ctl.line()
        if e.get("event") == "nat-mapping" and e.get("sa") in ("ab4", "ab64"):
            ev = e
    assert ev is not None and ev["remote"] == NAT["public"], ev
    assert 40000 <= ev["dport"] <= 40100, ev
    assert ctl.request("begin")["ok"]
    for sa in ("ba4", "ba64"):
        assert ctl.request("sa update %s dport %d" % (sa, ev["dport"]))["ok"]
    assert ctl.request("commit")["ok"]
    r = tb.t.ping("a", B["host4"], count=3)
    assert ping_ok(r, 3), r.stdout + r.stderr
    # Only one event for this mapping, however many packets came from it.
    ctl.s.settimeout(1)
    more = []
    try:
        while True:
            more.append(ctl.line())
    except (socket.timeout, TimeoutError):
        pass
    assert not [e for e in more if e.get("event") == "nat-mapping" and e["sa"] == ev["sa"]
                and e["dport"] == ev["dport"]], more


def test_internet_sees_only_udp_between_nat_and_gw_b(tb):
    """What crossed the internet: ESP in UDP, keepalives, between the NAT's public
    address and gw-b, nothing else; tshark verifies each ICV with gw-b's keys."""
    deadline, last, still = time.monotonic() + 20, -1, 0
    while time.monotonic() < deadline and still < 8:
        n = len(wire.read_pcap(tb.pcap)[1])
        still = still + 1 if n == last else 0
        last = n
        time.sleep(0.2)
    tb.stop_capture()
    au = wire.audit(tb.pcap, [(NAT["public"], topo.ROUTER["b"]["gw4"])],
                    [A["net4"], A["net6"], B["net4"], B["net6"]])
    # While gw-b still answered the old port, the NAT box said "port unreachable".
    unreach = "IPv4 %s > %s protocol 1" % (NAT["public"], topo.ROUTER["b"]["gw4"])
    other = [v for v in au.violations if not v.endswith(unreach)]
    assert not other and not au.secrets_found, other[:10] + au.secrets_found
    assert len(au.violations) - len(other) <= 8
    assert au.kinds["esp4"] == 0 and au.kinds["natt"] > 20 and au.kinds["keepalive"] >= 2
    v = wire.esp_verdicts(tb.pcap, [CONF_B], udp=True)
    v = [x for x in v if x["outer"] in ((NAT["public"], topo.ROUTER["b"]["gw4"]),
                                       (topo.ROUTER["b"]["gw4"], NAT["public"]))]
    assert len(v) > 20 and all(x["good"] for x in v), [x for x in v if not x["good"]][:5]


def test_stop_clean(tb):
    st, bad = problems_after_stop(tb)
    assert not bad, bad
