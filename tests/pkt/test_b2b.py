# SPDX-License-Identifier: BSD-3-Clause
"""Two espgw processes back to back: A's wan0 and B's wan0 joined by net_memif
(A server, B client, a socket file in the test's temp dir), each with a
net_pcap LAN port. A encrypts what its LAN sends, B decrypts it onto its LAN,
and the reverse; the frames out of each LAN must equal what went into the
other one, two hops later (TTL - 2).

The LAN inputs are FIFOs: net_pcap reads its rx_pcap from the start, so with
plain files the frames would be gone before memif connects. The test writes
the pcap header (espgw's EAL init waits for it), waits until telemetry says
every port is up on both sides, then writes B's frames, waits until B handled
them (B then polls memif), and writes A's."""

import os
import struct
import threading
import time

import pytest

import harness
from harness import EspSA, inner_pkt

A_LAN_MAC, A_HOST_MAC, A_WAN_MAC = "02:00:00:00:01:01", "02:00:00:00:01:10", "02:00:00:00:02:01"
B_LAN_MAC, B_HOST_MAC, B_WAN_MAC = "02:00:00:00:03:01", "02:00:00:00:03:10", "02:00:00:00:04:01"
N = 60  # frames each way per family


def gw_conf(me, mac_lan, mac_wan, lan_dev, wan_dev, sas):
    """me: "a" or "b". LANs 10.1.0.0/24 (A) and 10.2.0.0/24 (B), WAN 198.51.100.0/24."""
    o = "b" if me == "a" else "a"
    n = {"a": 1, "b": 2}
    lines = [
        "port add lan0 dev %s role protected address 10.%d.0.1/24 address 2001:db8:%d::1/64"
        " mac %s" % (lan_dev, n[me], n[me], mac_lan),
        "port add wan0 dev %s role unprotected address 198.51.100.%d/24"
        " address 2001:db8:100::%d/64 mac %s" % (wan_dev, n[me], n[me], mac_wan),
        "neighbor add 198.51.100.%d lladdr %s port wan0" % (n[o], B_WAN_MAC if me == "a"
                                                            else A_WAN_MAC),
        "neighbor add 2001:db8:100::%d lladdr %s port wan0" % (n[o], B_WAN_MAC if me == "a"
                                                               else A_WAN_MAC),
        "neighbor add 10.%d.0.10 lladdr %s port lan0" % (n[me], A_HOST_MAC if me == "a"
                                                         else B_HOST_MAC),
        "neighbor add 2001:db8:%d::10 lladdr %s port lan0" % (n[me], A_HOST_MAC if me == "a"
                                                              else B_HOST_MAC),
    ]
    for fam, sa_ab, sa_ba in sas:
        if fam == 4:
            loc, rem = "198.51.100.%d" % n[me], "198.51.100.%d" % n[o]
            mine, theirs = "10.%d.0.0/24" % n[me], "10.%d.0.0/24" % n[o]
        else:
            loc, rem = "2001:db8:100::%d" % n[me], "2001:db8:100::%d" % n[o]
            mine, theirs = "2001:db8:%d::/64" % n[me], "2001:db8:%d::/64" % n[o]
        out_sa, in_sa = (sa_ab, sa_ba) if me == "a" else (sa_ba, sa_ab)
        lines += [
            "sa add o%d dir out spi 0x%x mode tunnel local %s remote %s %s"
            % (fam, out_sa.spi, loc, rem, out_sa.conf_algo()),
            "sa add i%d dir in spi 0x%x mode tunnel local %s remote %s %s replay-window 64"
            % (fam, in_sa.spi, loc, rem, in_sa.conf_algo()),
            "sp add out priority 10 src %s dst %s protect o%d" % (mine, theirs, fam),
            "sp add in priority 10 src %s dst %s protect i%d" % (theirs, mine, fam),
        ]
    return lines


class Fifo:
    """The writing end of a FIFO that espgw's net_pcap reads as rx_pcap."""

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)
        self.fd = None
        self.err = None
        self.t = threading.Thread(target=self._open, daemon=True)
        self.t.start()

    def _open(self):
        try:
            fd = os.open(self.path, os.O_WRONLY)  # blocks until espgw opens it
            os.write(fd, struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            self.fd = fd
        except OSError as e:
            self.err = e

    def write_all(self, frames):
        self.t.join(timeout=60)
        assert self.fd is not None, "FIFO %s never opened by espgw: %s" % (self.path, self.err)
        for i, fr in enumerate(frames):
            b = bytes(fr)
            os.write(self.fd, struct.pack("<IIII", 1700000000, i, len(b), len(b)) + b)
        os.close(self.fd)
        self.fd = None

    def abandon(self):
        """Unblock a reader that still waits (test failure path)."""
        if self.fd is None:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
        else:
            os.close(self.fd)
            self.fd = None


def wait_links_up(gw, timeout=30):
    end = time.monotonic() + timeout
    while True:
        ports = gw.tel.query("/ethdev/list")
        st = {p: gw.tel.query("/ethdev/link_status,%d" % p).get("status") for p in ports}
        if ports and all(s == "UP" for s in st.values()):
            return
        if time.monotonic() > end:
            gw.fail("links not up after %ds: %s" % (timeout, st))
        time.sleep(0.1)


def packets(src_host, dst_host, fam, n):
    return [inner_pkt(fam, src_host, dst_host, ("udp", "tcp", "icmp")[i % 3], (i * 23) % 1300,
                      **({"id": i} if fam == 4 else {"fl": i})) for i in range(n)]


def ttl_dec2(pkt):
    p = pkt.__class__(harness.ttl_dec(pkt))
    return harness.ttl_dec(p)


@pytest.fixture(scope="module")
def b2b():
    sas = [(4, EspSA(0x1001, "aes-gcm-128"), EspSA(0x2001, "aes-gcm-128")),
           (6, EspSA(0x1006, "aes-cbc-256+hmac-sha256-128"),
            EspSA(0x2006, "aes-cbc-256+hmac-sha256-128"))]
    a_in = packets("10.1.0.10", "10.2.0.10", 4, N) + packets("2001:db8:1::10",
                                                              "2001:db8:2::10", 6, N)
    b_in = packets("10.2.0.10", "10.1.0.10", 4, N) + packets("2001:db8:2::10",
                                                              "2001:db8:1::10", 6, N)
    from scapy.layers.l2 import Ether
    with harness.Workdir() as d:
        sock = os.path.join(d, "memif.sock")
        memif = "net_memif0,role=%s,id=0,socket=%s,socket-abstract=no"
        gws, fifos = [], []
        try:
            for me, role, lm, wm in (("a", "server", A_LAN_MAC, A_WAN_MAC),
                                     ("b", "client", B_LAN_MAC, B_WAN_MAC)):
                fifo = Fifo(os.path.join(d, me + "_lan_in"))
                fifos.append(fifo)
                vdevs = ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (fifo.path,
                                                              os.path.join(d, me + "_lan_out")),
                         memif % (role, sock)]
                gws.append(harness.Gateway(d, gw_conf(me, lm, wm, "net_pcap0", "net_memif0",
                                                      sas), vdevs, name=me))
                if me == "a":  # the server's socket must exist before the client starts
                    gws[0].wait_telemetry(60)
            gws[1].wait_telemetry(60)
            for g in gws:
                wait_links_up(g)
            # B first: until its FIFO is closed B's worker waits in the pcap read
            # and gives memif no RX buffers, so what A sent would find none
            # (tx_full). Once B has handled its LAN frames it polls memif.
            fifos[1].write_all([Ether(src=B_HOST_MAC, dst=B_LAN_MAC) / p for p in b_in])
            gws[1].wait_processed(len(b_in), timeout=30)
            fifos[0].write_all([Ether(src=A_HOST_MAC, dst=A_LAN_MAC) / p for p in a_in])
            total = len(a_in) + len(b_in)
            for g in gws:
                t = g.wait_processed(total, timeout=30)
                # Port counters now: net_memif resets them when the peer leaves.
                ports = {p: g.tel.query("/ethdev/stats,%d" % p) for p in g.tel.query(
                    "/ethdev/list")}
                harness.check_ports({p: {"rx": s["ipackets"], "tx": s["opackets"]}
                                     for p, s in ports.items()}, t)
            stats = [gws[0].stop(), gws[1].stop(ports_exact=False)]
        finally:
            for f in fifos:
                f.abandon()
            for g in gws:
                g.kill()
        outs = [harness.read_pcap(os.path.join(d, me + "_lan_out")) for me in ("a", "b")]
    return dict(a_in=a_in, b_in=b_in, stats=stats, outs=outs)


def test_counters(b2b):
    n = len(b2b["a_in"])
    for st in b2b["stats"]:
        harness.assert_drops(st)
        harness.assert_totals(st, rx=2 * n, tx=2 * n, drops=0)
        for name in ("o4", "i4", "o6", "i6"):
            assert st["sa"][name]["pkts"] == N, (name, st["sa"][name])


@pytest.mark.parametrize("direction", ["a_to_b", "b_to_a"])
def test_frames_arrive_exact(b2b, direction):
    sent = b2b["a_in"] if direction == "a_to_b" else b2b["b_in"]
    got = b2b["outs"][1] if direction == "a_to_b" else b2b["outs"][0]
    mac_src, mac_dst = (B_LAN_MAC, B_HOST_MAC) if direction == "a_to_b" else (A_LAN_MAC,
                                                                                A_HOST_MAC)
    want = [ttl_dec2(p) for p in sent]
    assert len(got) == len(want), "%d frames out, expected %d" % (len(got), len(want))
    gf, wf = harness.flows([g[14:] for g in got]), harness.flows(want)
    assert set(gf) == set(wf)
    for k in wf:
        assert [harness.trim_l3(x) for x in gf[k]] == wf[k], "flow %s differs" % (k,)
    for g in got:
        assert g[:12] == bytes.fromhex(mac_dst.replace(":", "") + mac_src.replace(":", ""))
