# SPDX-License-Identifier: BSD-3-Clause
"""Two branch offices over a simulated internet (scripts/netns/topo.py with
config/gw-a.conf and gw-b.conf as shipped): real kernels on both sides of
both gateways, so ARP, ND, ICMP, TCP and path MTU discovery are the Linux
ones. One topology for the whole module; the capture of the internet runs
from the start, and the last two tests judge it and take everything down.
Tests are independent of each other except for that order (pytest keeps the
file's order)."""

import hashlib
import ipaddress
import re

import pytest

from interop_util import (CLEAN_DROPS, CONFS, cached_mtu, flush_pmtu, ping_ok,
                          problems_after_stop, sa_selectors, start_testbed, tel, topo, wire,
                          xfer)

A, B = topo.SITES["a"], topo.SITES["b"]
RA, RB = topo.ROUTER["a"], topo.ROUTER["b"]


@pytest.fixture(scope="module")
def tb():
    yield from start_testbed("branches")


# -------------------------------------------------------------------- pings
# (from, to, address key, source address key or None, outbound SA at the sender)
PINGS = [
    ("a", "b", "host4", None, "ab4"),
    ("b", "a", "host4", None, "ba4"),
    ("a", "b", "host6", None, "ab6"),
    ("b", "a", "host6", None, "ba6"),
    ("a", "b", "mixed6", "mixed6", "ab64"),  # IPv6 inside the IPv4 tunnel
    ("b", "a", "mixed6", "mixed6", "ba64"),
]


@pytest.mark.parametrize("src,dst,addr,via,sa", PINGS,
                         ids=["%s-%s-%s" % (p[0], p[1], p[2]) for p in PINGS])
def test_ping_branch_to_branch(tb, src, dst, addr, via, sa):
    """Echo requests and replies cross both gateways, through the expected SA."""
    gw = "gw-" + src
    before = tel(tb.t, src, "/espgw/sa," + sa)["pkts"]
    s, d = topo.SITES[src], topo.SITES[dst]
    r = tb.t.ping(src, d[addr], count=3, src=s[via] if via else None)
    assert ping_ok(r, 3), "%s -> %s:\n%s%s" % (s[via or addr], d[addr], r.stdout, r.stderr)
    after = tel(tb.t, src, "/espgw/sa," + sa)["pkts"]
    assert after - before >= 3, "%s: SA %s carried %d packets, expected 3" % (gw, sa,
                                                                            after - before)


# The gateways' own addresses, from the namespace each one is on.
OWN = [("a", A["gw4"]), ("a", A["gw6"]), ("net", RA["gw4"]), ("net", RA["gw6"]),
       ("net", RB["gw4"]), ("net", RB["gw6"]), ("b", B["gw4"]), ("b", B["gw6"])]


@pytest.mark.parametrize("site,addr", OWN, ids=["%s-%s" % o for o in OWN])
def test_gateway_answers_ping(tb, site, addr):
    r = tb.t.ping(site, addr, count=2)
    assert ping_ok(r, 2), "%s from %s:\n%s%s" % (addr, site, r.stdout, r.stderr)
    assert "from %s:" % addr in r.stdout, r.stdout


def test_router_resolved_by_arp_and_nd(tb):
    """No static neighbor anywhere: each gateway resolved the router (and its
    branch host) itself, and answered the router's own requests."""
    for c in CONFS:
        assert not wire.Conf(c).neigh, "%s has static neighbors" % c
    for src, dst in (("a", B["host4"]), ("a", B["host6"]), ("b", A["host4"]),
                     ("b", A["host6"])):
        assert ping_ok(tb.t.ping(src, dst, count=1), 1)
    for g in "ab":
        c = tel(tb.t, g, "/espgw/control")
        assert c["arp_request_tx"] >= 1 and c["ns_tx"] >= 1, "gw-%s: %s" % (g, c)
        assert c["resolved"] >= 2 and c["resolve_failed"] == 0, "gw-%s: %s" % (g, c)
    neigh = tb.t.run("net", ["ip", "neigh", "show"]).stdout
    for r in (RA, RB):
        for ip in (r["gw4"], r["gw6"]):
            assert re.search(r"^%s .*lladdr %s" % (re.escape(ip), r["gw_mac"]), neigh,
                             re.M), neigh


# -------------------------------------------------------------------- data
@pytest.mark.parametrize("src,dst,addr", [("a", "b", "host4"), ("b", "a", "host6")],
                         ids=["ipv4-a-to-b", "ipv6-b-to-a"])
def test_tcp_transfer_intact(tb, src, dst, addr):
    n, seed = 4 << 20, "tcp-%s-%s" % (src, addr)
    sent, got = tb.tcp(src, dst, topo.SITES[dst][addr], n, seed=seed)
    want = hashlib.sha256(xfer.data(seed, n)).hexdigest()
    assert (sent["bytes"], sent["sha256"]) == (n, want), sent
    assert (got["bytes"], got["sha256"]) == (n, want), got
    assert got["peer"] == topo.SITES[src][addr], got


@pytest.mark.parametrize("size", [1472, 4000])
def test_df_clear_udp_fragmented_by_gateway(tb, size):
    """A DF-clear IPv4 datagram bigger than the tunnel MTU: the host sends
    1500-byte packets (it knows no smaller path MTU), gw-a fragments them before
    encryption, branch-b's kernel reassembles the datagram."""
    flush_pmtu(tb.t, "a", "b")
    assert cached_mtu(tb.t, "a", B["host4"]) is None
    before = tel(tb.t, "a", "/espgw/dp")
    sent, got = tb.udp("a", "b", B["host4"], size, "clear", seed="udp-%d" % size)
    assert got["bytes"] == size and got["sha256"] == sent["sha256"], (sent, got)
    after = tel(tb.t, "a", "/espgw/dp")
    assert after["fragmented"] > before["fragmented"], (before, after)


# -------------------------------------------------------------------- PMTU
# RFC 4303 2.4 / 3.3: per algorithm, (IV, ICV, alignment of payload + trailer).
ESP_SIZES = {"aes-gcm-128": (8, 16, 4), "aes-gcm-256": (8, 16, 4),  # RFC 4106 3, 8.1
             "aes-cbc-256": (16, None, 16)}                          # RFC 3602 2.4
ICV = {"hmac-sha256-128": 16}                                         # RFC 4868 2.6


def tunnel_mtu(sa, link_mtu=1500):
    """The largest inner packet an ESP tunnel packet of sa carries within link_mtu."""
    iv, icv, align = ESP_SIZES[sa.get("aead") or sa["cipher"]]
    icv = icv or ICV[sa["auth"]]
    room = link_mtu - (40 if ":" in sa["local"] else 20) - 8 - iv - icv
    return room // align * align - 2


# (from, to, address key, source key, outbound SA)
PMTU = [("a", "b", "host4", None, "ab4"), ("a", "b", "host6", None, "ab6"),
        ("a", "b", "mixed6", "mixed6", "ab64")]
PMTU_MSG = re.compile(r"From (\S+) icmp_seq=\d+ (?:Frag needed and DF set \(mtu = (\d+)\)"
                      r"|Packet too big: mtu=(\d+))")


def too_big(tb, src, dst_addr, src_addr, size):
    """Send one DF packet of size payload bytes; (who answered, reported MTU)."""
    r = tb.t.ping(src, dst_addr, count=1, size=size, df="do", src=src_addr)
    m = PMTU_MSG.search(r.stdout)
    assert m, "no frag-needed / packet-too-big for %d bytes:\n%s%s" % (size, r.stdout,
                                                                        r.stderr)
    return m.group(1), int(m.group(2) or m.group(3))


@pytest.mark.parametrize("src,dst,addr,via,sa", PMTU, ids=["ipv4", "ipv6", "ipv6-in-ipv4"])
def test_pmtu(tb, src, dst, addr, via, sa):
    """The largest packet that fits the tunnel passes with DF; a link-sized one
    gets ICMP "fragmentation needed" / ICMPv6 "packet too big" from the gateway
    with the tunnel's inner MTU; once both hosts learned it, packets of that size
    pass (fragmented by the hosts)."""
    conf = {g: wire.Conf(c) for g, c in zip("ab", CONFS)}
    s, d = topo.SITES[src], topo.SITES[dst]
    hdr = 28 if addr == "host4" else 48
    mtu = tunnel_mtu(conf[src].sas[sa])
    flush_pmtu(tb.t, src, dst)
    r = tb.t.ping(src, d[addr], count=2, size=mtu - hdr, df="do", src=s[via] if via else None)
    assert ping_ok(r, 2), "%d bytes should fit:\n%s%s" % (mtu, r.stdout, r.stderr)
    for a, b_ in ((src, dst), (dst, src)):
        x, y = topo.SITES[a], topo.SITES[b_]
        who, got = too_big(tb, a, y[addr], x[via] if via else None, 1500 - hdr)
        assert (who, got) == (x["gw6"] if ":" in y[addr] else x["gw4"], mtu)
        assert cached_mtu(tb.t, a, y[addr], x[via] if via else None) == mtu
    r = tb.t.ping(src, d[addr], count=3, size=1500 - hdr, df="want",
                  src=s[via] if via else None)
    assert ping_ok(r, 3), r.stdout + r.stderr
    flush_pmtu(tb.t, src, dst)


# -------------------------------------------------------------------- the capture
def test_capture_only_esp_between_gateways(tb):
    """What crossed the internet: ESP between the two public addresses, ARP/ND
    for the links, nothing else; no branch address and none of the data sent
    in the clear; tshark verifies every ICV with the keys of the config files,
    and each SA carried only what its policies allow."""
    for src, dst, addr, via, _ in PINGS:
        s, d = topo.SITES[src], topo.SITES[dst]
        assert ping_ok(tb.t.ping(src, d[addr], count=1, src=s[via] if via else None), 1)
    tb.tcp("a", "b", B["host4"], 1 << 20, seed="capture")
    tb.stop_capture()
    nets = [topo.SITES[s][k] for s in "ab" for k in ("net4", "net6")]
    secrets = {}
    for seed, n in tb.transfers:
        secrets.update({"%s %s" % (seed, k): v for k, v in
                        wire.secret_pieces(xfer.data(seed, n), n=8).items()})
    # test_gateway_answers_ping pinged the gateways from the router.
    echo = [(r[k], r["gw" + k[-1]]) for r in (RA, RB) for k in ("ip4", "ip6")]
    au = wire.audit(tb.pcap, [topo.PUBLIC4, topo.PUBLIC6], nets, secrets, echo)
    assert not au.violations, au.violations[:20]
    assert not au.secrets_found, au.secrets_found
    assert au.kinds["esp4"] > 0 and au.kinds["esp6"] > 0, au.summary()
    # Each link resolved by ARP and ND (either side may ask first: RFC 826 lets
    # the asked one learn the asker).
    for r in (RA, RB):
        arp = {(op, frozenset((s, t))) for op, s, t in au.arp}
        assert {(1, frozenset((r["gw4"], r["ip4"]))), (2, frozenset((r["gw4"], r["ip4"])))} \
            <= arp, "no ARP request and reply between %s and %s: %s" % (r["gw4"], r["ip4"],
                                                                        au.arp)
        link = {r["gw6"], r["ip6"], topo.link_local(r["mac"]), topo.link_local(r["gw_mac"])}
        for t in (135, 136):
            assert any(t == t_ and s in link for t_, s, _ in au.nd), \
                "no %s on the link of %s: %s" % ("NS" if t == 135 else "NA", r["ip6"], au.nd)
    check_esp_verdicts(tb.pcap)


def check_esp_verdicts(pcap):
    v = wire.esp_verdicts(pcap, CONFS)
    sels = sa_selectors(CONFS)
    assert v, "tshark saw no ESP"
    bad = [x for x in v if not x["good"] or x["bad"]]
    assert not bad, "%d of %d ESP packets without a good ICV, e.g. %s" % (len(bad), len(v),
                                                                        bad[:3])
    seen = set()
    for x in v:
        name, allowed = sels[x["spi"]]
        inner = tuple(map(ipaddress.ip_address, x["inner"]))
        assert any(inner[0] in s and inner[1] in d for s, d in allowed), \
            "SA %s carried %s -> %s" % (name, x["inner"][0], x["inner"][1])
        seen.add(name)
    assert seen == {n for n, _ in sels.values()}, "SAs never seen on the wire: %s" % (
        {n for n, _ in sels.values()} - seen)


# -------------------------------------------------------------------- the end
def test_counters_then_nothing_left(tb):
    """Stopped with SIGTERM, both gateways' counters add up, nothing went wrong
    on the way, each SA's packets arrived at the peer; then the topology goes
    and leaves no namespace, link, process or EAL directory behind."""
    tb.stop_capture()
    st, bad = problems_after_stop(tb)
    assert not bad, bad
    for g in "ab":
        drops = {k: v for k, v in st[g]["drops"].items() if v and k in CLEAN_DROPS}
        assert not drops, "gw-%s drops: %s" % (g, drops)
        assert st[g]["control"]["resolve_failed"] == 0, st[g]["control"]
    for name, sa in st["a"]["sa"].items():
        peer = st["b"]["sa"][name]
        out, inb = (sa, peer) if sa["dir"] == "out" else (peer, sa)
        assert 0 < inb["pkts"] <= out["pkts"], "SA %s: out %s, in %s" % (name, out, inb)
        assert sa["errors"] == 0 and peer["errors"] == 0, (name, sa, peer)
    tb.t.down()
    assert tb.t.leftovers() == []
