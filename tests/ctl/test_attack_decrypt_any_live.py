# SPDX-License-Identifier: BSD-3-Clause
"""Attack round 3: an inbound SA with "decrypt any" on two workers (two-queue
net_tap ports; the peer's ESP comes from 16 outer sources, so the kernel's
flow hash spreads it over both queues) changed live through the socket:
sa update (lifetime, new source), reload keeping it, rolled-back deletes and
updates, a make-before-break rekey while the new SA's traffic runs, and the
old SA's slot freed (3 s) under traffic. After every change the peer's
captured packets are sent again: each must be a replay (or no_sa) drop,
never delivered a second time; both workers decrypted a share.

Run under ASan too (ESPGW_ASAN=build dir with espgw built with
-Db_sanitize=address,undefined): a use of a freed runtime aborts espgw."""

import os
import threading
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import live  # first: it puts tests/pkt on the path
from live import IN3, Key, tunnel_conf

import harness  # noqa: E402

N = 96
IN4 = Key(0x4004, 0x90)
SRCS = ["203.0.113.%d" % (1 + i) for i in range(16)]
NEW_PEER = "203.0.113.9"


def any_conf():
    conf = tunnel_conf()
    conf[1] += " decrypt any replay-window 4096"
    return conf


def binary():
    san = os.environ.get("ESPGW_ASAN")
    return os.path.join(san, "app/espgw/espgw") if san else None


@pytest.fixture(params=["file", "socket"])
def gw2(request):
    extra = "\n".join(any_conf()) + "\n" if request.param == "file" else ""
    env = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1"} if binary() else None
    g = live.Gateway(extra_conf=extra, lcores=harness.two_workers(), binary=binary(), env=env)
    g.mode = request.param
    try:
        if request.param == "socket":
            assert g.ctl.txn(any_conf())["ok"]
        yield g
    finally:
        g.kill()


def frames(key, n, first=1, tag=b"p"):
    """The peer's ESP frames of key's SA, numbers first..first+n-1, from 16 sources."""
    out = []
    for i in range(first, first + n):
        sa = key.scapy_sa(SRCS[i % len(SRCS)], live.WAN)
        inner = IP(src="10.3.0.5", dst=live.HOST) / UDP(sport=1000 + i % 64, dport=2) / \
            Raw(tag + b"%06d" % i)
        out.append(bytes(Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=i)))
    return out


def send(gw, fr):
    for f in fr:
        gw.wan.send(f)


def delivered(gw, want=None, settle=0.7):
    got = gw.lan.drain(want=want, settle=settle)
    return [bytes(Ether(f)[UDP].payload) for f in got if UDP in Ether(f)]


def worker_share(gw, name):
    st = gw.ctl.ok("show stats")["stats"]
    return [w["sa"].get(name, 0) for w in st["workers"]]


def replays_refused(gw, fr, what):
    d0 = gw.drops()
    send(gw, fr)
    got = delivered(gw)
    assert got == [], "%s: %d captured packets delivered again (%s), drops %s" % (
        what, len(got), got[:4], gw.drops_since(d0))
    return gw.drops_since(d0)


def test_decrypt_any_changes_keep_replays_out(gw2):
    gw = gw2
    f3 = frames(IN3, N)
    d0 = gw.drops()
    send(gw, f3)
    got = delivered(gw, want=N)
    assert sorted(got) == sorted(set(got)) and len(got) == N, (len(got), len(set(got)),
                                                               gw.drops_since(d0))
    share = worker_share(gw, "in3")
    assert min(share) > 0, "one worker took all of in3 (%s): the test spreads nothing" % share

    d = replays_refused(gw, f3, "first replay")
    assert d.get("replay", 0) == N, d

    assert gw.ctl.ok("sa update in3 lifetime soft packets 1000000")
    replays_refused(gw, f3, "after sa update lifetime")

    if gw.mode == "file":
        path = live.write_conf(gw, "same.conf", live.BASE + "\n".join(any_conf()) + "\n")
        r = live.espgwctl(gw, "reload", path)
        assert r.returncode == 0, (r.stdout, r.stderr)
        replays_refused(gw, f3, "after a reload (%s)" % r.stdout.strip())

    r = gw.ctl.txn(["sa del in3", live.REFUSED_SA])
    assert not r["ok"], r
    replays_refused(gw, f3, "after a rolled-back sa del")

    r = gw.ctl.txn(["sp del p3in", "sa del in3", IN3.conf("in3", "in") + " decrypt any replay-window 4096",
                    "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 name p3in protect in3"])
    assert not r["ok"], ("in3 deleted and added again under its key (a fresh shared window)",
                         r)
    replays_refused(gw, f3, "after a refused del+add")

    # Make before break: in4 added (decrypt any) and the policy switched while in4's
    # traffic runs; in3 deleted under in3 and in4 traffic; slots freed after 3 s.
    assert gw.ctl.txn([IN4.conf("in4", "in") + " decrypt any replay-window 4096", "sp set p3in protect in4"])["ok"]
    f4 = frames(IN4, 4 * N, tag=b"q")
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            send(gw, f3[:16])
            time.sleep(0.005)

    t = threading.Thread(target=hammer)
    t.start()
    try:
        send(gw, f4[:N])
        assert gw.ctl.ok("sa del in3")
        send(gw, f4[N:2 * N])
        time.sleep(3.5)  # in3's slot freed while its ESP still arrives
        send(gw, f4[2 * N:3 * N])
    finally:
        stop.set()
        t.join()
    got = delivered(gw, want=3 * N, settle=1.0)
    assert all(g.startswith(b"q") for g in got), "in3's replays delivered: %s" % [
        g for g in got if not g.startswith(b"q")][:4]
    assert len(got) == 3 * N == len(set(got)), (len(got), len(set(got)))
    replays_refused(gw, f4[:3 * N], "in4 after in3's slot was freed")
    replays_refused(gw, f3, "in3 after its slot was freed")
    # A slot freed: a new decrypt any SA through the socket takes it; in4 still refuses.
    in5 = Key(0x4005, 0xA0)
    assert gw.ctl.txn([in5.conf("in5", "in") + " decrypt any replay-window 4096"])["ok"]
    replays_refused(gw, f4[:N], "in4 after in5 took a freed slot")
    send(gw, f4[3 * N:])
    got = delivered(gw, want=N)
    assert len(got) == N, len(got)
    assert gw.proc.poll() is None, gw.logs()
    gw.stop()
