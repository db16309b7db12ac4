# SPDX-License-Identifier: BSD-3-Clause
"""Outer ESP fragments, reassembled by the receiving gateway. The internet
router's link to gw-b has an MTU of 1300, smaller than gw-a's full-sized ESP
packets, and gw-a's SA ab4 sends with the outer DF bit clear (config/gw-a.conf
plus "df clear"), so the router fragments them (RFC 791) and gw-b must put
them together before decryption. Only the direction A -> B is checked: the
router's small MTU is on its gw-b side."""

import hashlib
import os

import pytest

from interop_util import (CONFS, flush_pmtu, ping_ok, problems_after_stop, start_testbed, tel,
                          topo, wire, xfer)

B = topo.SITES["b"]
ROUTER_MTU = 1300


def conf_a_df_clear(workdir):
    path = os.path.join(workdir, "gw-a-df-clear.conf")
    with open(path, "w") as f:
        f.write(wire.with_sa_options(CONFS[0], {"ab4": "df clear"}))
    return path


@pytest.fixture(scope="module")
def tb():
    yield from start_testbed("frag", conf_a=conf_a_df_clear, router_mtu_b=ROUTER_MTU)


def test_small_packets_pass(tb):
    assert ping_ok(tb.t.ping("a", B["host4"], count=2), 2)


@pytest.mark.parametrize("df", ["set", "clear"])
def test_udp_through_fragmenting_router(tb, df):
    """A datagram that fits the tunnel (no fragmentation by gw-a) but whose ESP
    packet does not fit the router's link: it arrives whole, through gw-b's
    reassembly, whatever the inner DF bit says."""
    flush_pmtu(tb.t, "a")
    before = tel(tb.t, "b", "/espgw/dp")
    sent, got = tb.udp("a", "b", B["host4"], 1400, df, seed="outer-frag-" + df)
    assert got["bytes"] == 1400 and got["sha256"] == sent["sha256"], (sent, got)
    after = tel(tb.t, "b", "/espgw/dp")
    assert after["reassembled"] > before["reassembled"], (before, after)
    assert after["reasm_fragments"] - before["reasm_fragments"] >= 2, (before, after)


def test_tcp_through_fragmenting_router(tb):
    n, seed = 2 << 20, "outer-frag-tcp"
    sent, got = tb.tcp("a", "b", B["host4"], n, seed=seed)
    want = hashlib.sha256(xfer.data(seed, n)).hexdigest()
    assert (got["bytes"], got["sha256"]) == (n, want), (sent, got)


def test_capture_shows_outer_fragments(tb):
    """The fragments really were on the wire (the router made them), nothing but
    ESP crossed, and tshark, reassembling them itself, verifies every ICV."""
    tb.stop_capture()
    nets = [topo.SITES[s][k] for s in "ab" for k in ("net4", "net6")]
    au = wire.audit(tb.pcap, [topo.PUBLIC4, topo.PUBLIC6], nets)
    assert not au.violations, au.violations[:20]
    assert au.outer_fragments > 0, au.summary()
    v = wire.esp_verdicts(tb.pcap, CONFS)
    assert v and all(x["good"] for x in v), [x for x in v if not x["good"]][:3]


def test_counters_then_nothing_left(tb):
    tb.stop_capture()
    st, bad = problems_after_stop(tb)
    assert not bad, bad
    dp = st["b"]["dataplane"]
    assert dp["reassembled"] > 0 and dp["reasm_freed"] == 0 and dp["pending"] == 0, dp
    for g in "ab":
        drops = {k: v for k, v in st[g]["drops"].items()
                 if v and k in ("reasm_failed", "reasm_too_big", "auth_fail", "replay")}
        assert not drops, "gw-%s drops: %s" % (g, drops)
    tb.t.down()
    assert tb.t.leftovers() == []
