# SPDX-License-Identifier: BSD-3-Clause
"""espgwctl capture (README "Packet capture"): pcapng written by espgw itself
under --no-huge, of a port and of an SA's decrypted side, N packets, judged by
tshark; and a capture of a busy port never costs the workers a packet (all
frames forwarded, counters balanced in gw.stop()). The file is the client's:
espgwctl creates it with its own rights and passes it open (SCM_RIGHTS);
espgw (root) never opens a path a client names."""

import json
import os
import shutil
import socket
import subprocess
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

import pytest

import live
from live import IN3, OUT3, Gateway, send_lan, tunnel_conf
from tshark import fields as tshark


@pytest.fixture
def gw():
    """The shared gateway, with espgw.capture's info and notice lines in its log."""
    g = Gateway(eal=["--log-level=espgw.capture:info"])
    try:
        yield g
    finally:
        g.kill()


def espgwctl(gw, *words):
    r = live.espgwctl(gw, "--json", *words)
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
    r = live.espgwctl(gw, "capture", "lan0", os.path.join(gw.dir, "bad.pcapng"),
                      "--filter", "udp", "frob")
    assert r.returncode == 2 and "filter:" in r.stderr, (r.returncode, r.stderr)
    # Every packet of the port runs the filter: a long one is refused.
    hosts = " or ".join("portrange %d-%d" % (i, i + 1) for i in range(1, 41))  # 574
    r = live.espgwctl(gw, "capture", "lan0", os.path.join(gw.dir, "long.pcapng"),
                      "--filter", hosts)
    assert r.returncode == 2 and "BPF instructions, at most 256" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(gw.dir, "long.pcapng"))
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


def raw_capture(gw, line, fd=None):
    """One capture request on a socket of our own, with fd passed (SCM_RIGHTS)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(gw.sock)
        data = (line + "\n").encode()
        if fd is None:
            s.sendall(data)
        else:
            socket.send_fds(s, [data], [fd])
        return json.loads(s.makefile().readline())


def test_capture_file_comes_from_the_client(gw):
    """A request naming a path but passing no file writes nothing there; an
    fd that is no empty writable regular file is refused; each refusal
    leaves espgw without a capture and with no fd kept (status, then a good
    capture)."""
    gw.ctl.txn(tunnel_conf())
    path = os.path.join(gw.dir, "named.pcapng")
    r = raw_capture(gw, "capture lan0 " + path)
    assert not r["ok"] and "FILE must come open with the request" in r["error"], r
    assert not os.path.exists(path)
    rd, wr = os.pipe()
    bad = os.path.join(gw.dir, "bad")
    with open(bad, "w") as f:
        f.write("x")
    ro = os.open(bad, os.O_RDONLY)
    full = os.open(bad, os.O_WRONLY)
    # A pseudo file the client may write (its own /proc/PID/comm): refused too.
    comm = os.open("/proc/self/comm", os.O_WRONLY)
    for fd, why in ((wr, "not a regular file"), (ro, "not open for writing"),
                    (full, "not empty"), (comm, "not on a local disk or tmpfs file system")):
        r = raw_capture(gw, "capture lan0 " + bad, fd)
        assert not r["ok"] and r["error"] == "cannot capture into %s: %s" % (bad, why), r
    for fd in (rd, wr, ro, full, comm):
        os.close(fd)
    with open(bad) as f:
        assert f.read() == "x"
    # An fd passed with another request is not kept for a later capture.
    empty = os.open(os.path.join(gw.dir, "empty"), os.O_WRONLY | os.O_CREAT, 0o600)
    assert raw_capture(gw, "capture status", empty)["capture"]["running"] is False
    os.close(empty)
    assert os.path.getsize(os.path.join(gw.dir, "empty")) == 0
    # A relative FILE: espgwctl creates it where it runs, named absolutely.
    r = live.espgwctl(gw, "--json", "capture", "lan0", "rel.pcapng", "--count", "2", cwd=gw.dir)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["capture"]["file"] == os.path.join(gw.dir, "rel.pcapng")
    send_lan(gw, range(4))
    assert len(gw.wan.drain(want=4)) == 4
    assert wait_done(gw)["written"] == 2
    assert len(tshark(os.path.join(gw.dir, "rel.pcapng"), ["frame.number"])) == 2
    gw.stop()


def test_capture_refusals_leave_no_file(gw):
    """espgwctl refuses an existing FILE (untouched) and removes the file it
    made when espgw refuses the capture."""
    gw.ctl.txn(tunnel_conf())
    there = os.path.join(gw.dir, "there")
    with open(there, "w") as f:
        f.write("keep")
    for words, err in ((["lan0", there], "cannot create %s: File exists" % there),
                       (["nosuch", there + "2"], "no port or SA nosuch"),
                       (["lan0", there + "3", "--count", "0"], "usage: capture")):
        r = live.espgwctl(gw, "capture", *words)
        assert r.returncode == 2 and err in r.stderr, (words, r.returncode, r.stderr)
    with open(there) as f:
        assert f.read() == "keep"
    assert not os.path.exists(there + "2")
    assert not os.path.exists(there + "3")
    gw.stop()


@pytest.fixture
def gw_group():
    g = Gateway(ctl_group="daemon")
    try:
        yield g
    finally:
        g.kill()


def test_capture_by_a_group_member_writes_only_where_it_may(gw_group):
    """A member of the control group (nobody:daemon) captures into a directory
    it may write, the file its own; a directory only root may write stays
    empty, whether asked through espgwctl or by a raw request."""
    gw = gw_group
    gw.ctl.txn(tunnel_conf())
    os.chmod(gw.dir, 0o755)  # the socket's directory must be reachable
    ctl = os.path.join(gw.dir, "espgwctl")  # where nobody may run it
    shutil.copy(os.environ["ESPGWCTL"], ctl)
    os.chmod(ctl, 0o755)
    mine, roots = os.path.join(gw.dir, "mine"), os.path.join(gw.dir, "roots")
    os.mkdir(mine, 0o777)
    os.chmod(mine, 0o777)
    os.mkdir(roots, 0o755)
    user = ["setpriv", "--reuid=nobody", "--regid=daemon", "--clear-groups"]

    def as_member(path):
        return subprocess.run(user + [ctl, "-s", gw.sock, "capture", "lan0", path,
                                      "--count", "1"],
                              capture_output=True, text=True, timeout=30)

    r = as_member(os.path.join(roots, "x.pcapng"))
    assert r.returncode == 2 and "Permission denied" in r.stderr, r.stderr
    code = ("import json, socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]);"
            "s.sendall(sys.argv[2].encode() + b'\\n'); print(s.makefile().readline())")
    r = subprocess.run(user + ["/usr/bin/python3", "-c", code, gw.sock,
                               "capture lan0 " + os.path.join(roots, "y.pcapng")],
                       capture_output=True, text=True, timeout=30)
    assert '"ok":false' in r.stdout, r.stdout + r.stderr
    assert os.listdir(roots) == []
    r = as_member(os.path.join(mine, "z.pcapng"))
    assert r.returncode == 0, r.stderr
    st = os.stat(os.path.join(mine, "z.pcapng"))
    assert (st.st_uid, oct(st.st_mode & 0o777)) == (65534, "0o600"), st
    send_lan(gw, range(2))
    assert len(gw.wan.drain(want=2)) == 2
    assert wait_done(gw)["written"] == 1
    gw.stop()
