# SPDX-License-Identifier: BSD-3-Clause
"""Live changes through the control socket while traffic runs (issue 11):
an SA pair and its policies added in one transaction are used at once
(scapy decrypts what leaves, and what scapy encrypts is delivered); a
deleted SA's policy drops its traffic (no_sa_yet), never sends it clear; a
make-before-break rekey (sp set) loses no packet; a failing transaction
changes nothing; events reach every subscriber; the counters balance after
every run. Runs inside its own network namespace (netns_run.sh)."""

import threading
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

import live
from live import Ctl, Gateway, Key

OUT3, IN3, OUT4 = Key(0x3001, 0x30), Key(0x4001, 0x40), Key(0x3002, 0x50)


def tunnel_conf(out_key=OUT3, in_key=IN3, out_name="out3", in_name="in3"):
    return [out_key.conf(out_name, "out"), in_key.conf(in_name, "in"),
            "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name p3out protect %s" % out_name,
            "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 name p3in protect %s" % in_name]


@pytest.fixture
def gw():
    g = Gateway()
    try:
        yield g
    finally:
        g.kill()


def send_lan(g, idx, gap=0.0):
    for i in idx:
        g.lan.send(live.lan_frame(i))
        if gap:
            time.sleep(gap)


def test_add_use_delete(gw):
    d0 = gw.drops()
    send_lan(gw, range(5))
    assert gw.wan.drain() == []
    assert gw.drops_since(d0).get("no_policy") == 5, gw.drops_since(d0)

    r = gw.ctl.txn(tunnel_conf())
    assert r == {"ok": True, "applied": 4}, r
    send_lan(gw, range(100, 120))
    out = gw.wan.drain(want=20)
    live.assert_no_clear(out)
    assert sorted(live.decrypt_all(out, [OUT3])) == list(range(100, 120))

    # Inbound: what scapy encrypts with in3 is delivered to the LAN host.
    sa = IN3.scapy_sa(live.PEER, live.WAN)
    for i in range(5):
        inner = IP(src=live.REMOTE, dst=live.HOST) / UDP(sport=5000, dport=4000) / \
            (live.MARKER + i.to_bytes(4, "big"))
        gw.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=i + 1))
    got = gw.lan.drain(want=5)
    assert sorted(live.marker_index(Ether(f)[UDP].payload) for f in got) == list(range(5))

    # Deleted: the policy stays and drops; nothing clear leaves.
    gw.ctl.ok("sa del out3")
    sa_show = gw.ctl.ok("show sa out3")["sa"][0]
    assert sa_show["state"] == "declared", sa_show
    d0 = gw.drops()
    send_lan(gw, range(200, 210))
    out = gw.wan.drain()
    live.assert_no_clear(out)
    assert out == []
    assert gw.drops_since(d0) == {"no_sa_yet": 10}, gw.drops_since(d0)
    gw.stop()


def test_show_sa_has_no_keys(gw):
    gw.ctl.txn(tunnel_conf())
    text = gw.ctl.s.getsockname() and str(gw.ctl.ok("show sa"))
    for k in (OUT3, IN3):
        assert k.key.hex() not in text and k.salt.hex() not in text.lower()
    gw.stop()


def test_rekey_loses_nothing(gw):
    """Make-before-break: new SA added, the policy switched in one step while
    traffic flows, the old SA deleted later: every packet leaves, encrypted
    with one SA or the other, none lost, none clear."""
    gw.ctl.txn(tunnel_conf())
    n = 1500
    sender = threading.Thread(target=send_lan, args=(gw, range(n), 0.0005))
    sender.start()
    time.sleep(0.2)
    gw.ctl.ok(OUT4.conf("out4", "out"))
    gw.ctl.ok("sp set p3out protect out4")
    time.sleep(0.2)
    gw.ctl.ok("sa del out3")
    sender.join()
    out = gw.wan.drain(want=n, timeout=20)
    live.assert_no_clear(out)
    seen = live.decrypt_all(out, [OUT3, OUT4])
    assert sorted(seen) == list(range(n)), "lost: %s" % sorted(set(range(n)) - set(seen))
    spis = set(seen.values())
    assert spis == {OUT3.spi, OUT4.spi}, spis
    assert gw.drops()["no_sa_yet"] == 0
    gw.stop()


def test_failed_transaction_changes_nothing(gw):
    before = gw.ctl.ok("show sa")
    r = gw.ctl.txn(tunnel_conf()[:2] + [
        "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 protect nosuch"])
    assert r == {"ok": False, "error": "command 3 (sp add): SA nosuch does not exist"}, r
    assert gw.ctl.ok("show sa") == before
    assert gw.ctl.ok("show sp")["sp"] == []
    d0 = gw.drops()
    send_lan(gw, range(3))
    assert gw.wan.drain() == []
    assert gw.drops_since(d0) == {"no_policy": 3}, gw.drops_since(d0)
    # The same SPIs install cleanly afterwards: the failed SAs left nothing behind.
    assert gw.ctl.txn(tunnel_conf())["ok"]
    gw.stop()


def test_events_reach_every_subscriber(gw):
    mons = [Ctl(gw.sock), Ctl(gw.sock)]
    for m in mons:
        assert m.request("monitor") == {"ok": True, "monitor": True}
    gw.ctl.txn(tunnel_conf())
    gw.ctl.ok("sa del out3")
    want = [{"event": "sa-added", "sa": "out3"}, {"event": "sa-added", "sa": "in3"},
            {"event": "sa-deleted", "sa": "out3"}]
    for m in mons:
        got = [m.line() for _ in want]
        assert sorted(map(str, got)) == sorted(map(str, want)), got
        m.close()
    gw.stop()


def test_declared_sa_drops_until_installed(gw):
    """A trap policy: sa declare, the policy on it drops (no_sa_yet) until the
    SA is added under that name; then the same policy encrypts."""
    r = gw.ctl.txn(["sa declare out3 dir out",
                    "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name p3out protect out3"])
    assert r["ok"], r
    d0 = gw.drops()
    send_lan(gw, range(4))
    assert gw.wan.drain() == []
    assert gw.drops_since(d0) == {"no_sa_yet": 4}, gw.drops_since(d0)
    gw.ctl.ok(OUT3.conf("out3", "out"))
    send_lan(gw, range(10, 14))
    out = gw.wan.drain(want=4)
    assert sorted(live.decrypt_all(out, [OUT3])) == list(range(10, 14))
    gw.stop()
