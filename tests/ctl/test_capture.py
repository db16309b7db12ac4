# SPDX-License-Identifier: BSD-3-Clause
"""espgwctl capture (README "Packet capture"): pcapng written by espgw itself
under --no-huge, of a port and of an SA's decrypted side, N packets, judged by
tshark; and a capture of a busy port never costs the workers a packet (all
frames forwarded, counters balanced in gw.stop())."""

import os
import subprocess
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

import pytest

import live
from live import IN3, OUT3, Gateway, send_lan, tunnel_conf


@pytest.fixture
def gw():
    """The shared gateway, with espgw.capture's info and notice lines in its log."""
    g = Gateway(eal=["--log-level=espgw.capture:info"])
    try:
        yield g
    finally:
        g.kill()


def tshark(path, fields):
    cmd = ["tshark", "-r", path, "-T", "fields"] + sum([["-e", f] for f in fields], [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def espgwctl(gw, *words):
    r = subprocess.run([os.environ["ESPGWCTL"], "-s", gw.sock, "--json", *words],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def wait_done(gw, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        st = gw.ctl.ok("capture status")["capture"]
        if not st["running"]:
            return st
        time.sleep(0.1)
    raise AssertionError("capture still running: %s" % st)


def test_capture_port(gw):
    gw.ctl.txn(tunnel_conf())
    path = os.path.join(gw.dir, "lan.pcapng")
    espgwctl(gw, "capture", "lan0", path, "--count", "10")
    send_lan(gw, range(30))
    assert len(gw.wan.drain(want=30)) == 30
    st = wait_done(gw)
    assert st["written"] == 10, st
    rows = tshark(path, ["ip.src", "ip.dst", "udp.dstport"])
    assert rows == [[live.HOST, live.REMOTE, "5000"]] * 10, rows
    assert "espgw.capture: capture of port lan0 started: 10 packets to " + path in gw.logs_all()
    gw.stop()


def test_capture_sa_decrypted(gw):
    """in3's traffic as decrypted: the inner packets, and a notice in the log."""
    gw.ctl.txn(tunnel_conf())
    path = os.path.join(gw.dir, "in3.pcapng")
    espgwctl(gw, "capture", "in3", path, "--count", "5")
    sa = IN3.scapy_sa(live.PEER, live.WAN)
    for i in range(8):
        inner = IP(src=live.REMOTE, dst=live.HOST) / UDP(sport=5000, dport=4000) / \
            (live.MARKER + i.to_bytes(4, "big"))
        gw.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=i + 1))
    assert len(gw.lan.drain(want=8)) == 8
    st = wait_done(gw)
    assert st["written"] == 5, st
    rows = tshark(path, ["ip.src", "ip.dst", "udp.dstport", "esp.spi"])
    assert rows == [[live.REMOTE, live.HOST, "4000", ""]] * 5, rows
    assert "espgw.capture: capture of sa in3 (decrypted) started" in gw.logs_all()
    gw.stop()


def test_capture_sa_filter_on_the_inner_packet(gw):
    """An SA's --filter sees the decrypted packet behind the zero Ethernet
    header the capture gives it (compiled for Ethernet, as for a port):
    "udp dst port 4001" takes exactly those."""
    gw.ctl.txn(tunnel_conf())
    path = os.path.join(gw.dir, "in3f.pcapng")
    espgwctl(gw, "capture", "in3", path, "--count", "3", "--filter", "udp", "dst", "port", "4001")
    sa = IN3.scapy_sa(live.PEER, live.WAN)
    for i in range(12):
        inner = IP(src=live.REMOTE, dst=live.HOST) / UDP(sport=5000, dport=4000 + i % 2) / \
            (live.MARKER + i.to_bytes(4, "big"))
        gw.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=i + 1))
    assert len(gw.lan.drain(want=12)) == 12
    st = wait_done(gw)
    assert st["written"] == 3, st
    assert tshark(path, ["udp.dstport"]) == [["4001"]] * 3
    gw.stop()


def test_capture_busy_port_loses_nothing(gw):
    """A capture smaller than the traffic: every frame still forwarded; what the
    capture could not take is capture_dropped, never a packet drop."""
    gw.ctl.txn(tunnel_conf())
    path = os.path.join(gw.dir, "busy.pcapng")
    d0 = gw.drops()
    espgwctl(gw, "capture", "lan0", path, "--count", "50")
    send_lan(gw, range(400))
    out = gw.wan.drain(want=400, timeout=20)
    assert sorted(live.decrypt_all(out, [OUT3])) == list(range(400))
    st = wait_done(gw)
    assert st["written"] == 50 and st["captured"] + st["capture_dropped"] >= 50, st
    assert len(tshark(path, ["frame.number"])) == 50
    assert gw.drops_since(d0) == {}, gw.drops_since(d0)
    gw.stop()


def test_capture_filter(gw):
    """--filter EXPR (pcap syntax, the rest of the line): only what it takes is
    written; a bad expression is refused with libpcap's reason."""
    gw.ctl.txn(tunnel_conf())
    r = subprocess.run([os.environ["ESPGWCTL"], "-s", gw.sock, "capture", "lan0",
                        os.path.join(gw.dir, "bad.pcapng"), "--filter", "udp", "frob"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "filter:" in r.stderr, (r.returncode, r.stderr)
    path = os.path.join(gw.dir, "f.pcapng")
    espgwctl(gw, "capture", "lan0", path, "--count", "5", "--filter", "udp", "dst", "port", "5001")
    for i in range(20):
        f = live.lan_frame(i)
        f[UDP].dport = 5000 + i % 2
        gw.lan.send(f)
    assert len(gw.wan.drain(want=20)) == 20
    st = wait_done(gw)
    assert st["written"] == 5, st
    assert tshark(path, ["udp.dstport"]) == [["5001"]] * 5
    gw.stop()
