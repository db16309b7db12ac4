# SPDX-License-Identifier: BSD-3-Clause
"""espgwctl reload FILE (systemctl reload espgw) against a gateway with two
tunnels carrying traffic: the new file changes one policy, adds an SA and a
policy, removes an SA and its policy, and leaves tunnel 3 alone. The
unchanged SA keeps forwarding with its counters and its outbound sequence
number carried on (scapy reads the ESP sequence numbers on the wire); an
invalid file (a syntax error, a changed port) changes nothing and names
FILE:LINE; reloading the same file again is a no-op; an SA and a policy
made through the socket at run time (as an IKE daemon makes them) are kept. Runs inside its own
network namespace (netns_run.sh)."""


import pytest

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether

import live
from live import OUT3, Gateway, Key, lan_frame, tunnel_conf

OUT4, IN4, OUT5 = Key(0x5001, 0x50), Key(0x6001, 0x60), Key(0x7001, 0x70)
OUT9 = Key(0x9001, 0x90)
IN4X = Key(IN4.spi, 0x61)  # in4 under a new key, same SPI

OLD = tunnel_conf() + [
    OUT4.conf("out4", "out"), IN4.conf("in4", "in"),
    "sp add out src 10.1.0.0/24 dst 10.4.0.0/24 name p4out protect out4",
    "sp add in src 10.4.0.0/24 dst 10.1.0.0/24 name p4in protect in4"]
# p4out switched to the new out5; p6out added (protect out4); in4 and p4in gone.
NEW = tunnel_conf() + [
    OUT4.conf("out4", "out"), OUT5.conf("out5", "out"),
    "sp add out src 10.1.0.0/24 dst 10.4.0.0/24 name p4out protect out5",
    "sp add out src 10.1.0.0/24 dst 10.6.0.0/24 name p6out protect out4"]


@pytest.fixture
def gw():
    g = Gateway(extra_conf="\n".join(OLD) + "\n")
    try:
        yield g
    finally:
        g.kill()


def reload(gw, path):
    return live.espgwctl(gw, "reload", path)


def send(gw, dst, idx):
    for i in idx:
        gw.lan.send(lan_frame(i, dst=dst))


def esp_out(gw, n, keys):
    """{spi: [sequence numbers]} of n frames leaving on the WAN, each decrypted."""
    frames = gw.wan.drain(want=n)
    live.assert_no_clear(frames)
    assert len(live.decrypt_all(frames, keys)) == n
    seqs = {}
    for f in frames:
        esp = Ether(f)[IP][ESP]
        seqs.setdefault(esp.spi, []).append(esp.seq)
    return {spi: sorted(s) for spi, s in seqs.items()}


def packets(gw, name):
    return gw.ctl.ok("show sa %s" % name)["sa"][0]["packets"]


def traffic(gw, base):
    """10 frames through tunnel 3, 5 to 10.4 and 5 to 10.6 (after the reload)."""
    send(gw, "10.3.0.10", range(base, base + 10))
    send(gw, "10.4.0.10", range(base + 10, base + 15))
    send(gw, "10.6.0.10", range(base + 15, base + 20))
    return esp_out(gw, 20, [OUT3, OUT4, OUT5])


def test_reload(gw):
    send(gw, "10.3.0.10", range(20))
    send(gw, "10.4.0.10", range(20, 30))
    assert esp_out(gw, 30, [OUT3, OUT4]) == {
        OUT3.spi: list(range(1, 21)), OUT4.spi: list(range(1, 11))}
    before = packets(gw, "out3")
    assert before == 20
    # Made at run time (as an IKE daemon would): no file names them, reload keeps them.
    assert gw.ctl.txn([OUT9.conf("rt9", "out"),
                       "sp add out src 10.1.0.0/24 dst 10.9.0.0/24 name prt9 protect rt9"]
                      )["ok"]

    new = live.write_conf(gw, "new.conf", live.BASE + "\n".join(NEW) + "\n")
    r = reload(gw, new)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "reload: 2 added, 2 removed, 1 changed, 8 unchanged, 2 kept", r.stdout

    # out3 and out4 carry on (sequence numbers continue), p4out now uses out5.
    assert traffic(gw, 100) == {OUT3.spi: list(range(21, 31)), OUT5.spi: list(range(1, 6)),
                                OUT4.spi: list(range(11, 16))}
    assert packets(gw, "out3") == before + 10
    assert not gw.ctl.request("show sa in4")["ok"]

    # Refused files change nothing and name FILE:LINE.
    bad = live.write_conf(gw, "bad.conf",
                          live.BASE + "\n".join(NEW) + "\nsa add x dir sideways\n")
    r = reload(gw, bad)
    assert r.returncode == 2 and "bad.conf:%d:" % (len(NEW) + 6) in r.stderr, r.stderr
    port = live.write_conf(gw, "port.conf",
                           live.BASE.replace("198.51.100.1/24", "198.51.100.1/24 mtu 1400")
                           + "\n".join(NEW) + "\n")
    r = reload(gw, port)
    assert r.returncode == 2, r.stderr
    assert "port.conf:2: restart needed: port wan0 changed" in r.stderr, r.stderr

    # The same file again: nothing to do, and the traffic still carries on.
    r = reload(gw, new)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "reload: 0 added, 0 removed, 0 changed, 11 unchanged, 2 kept", r.stdout
    assert traffic(gw, 200) == {OUT3.spi: list(range(31, 41)), OUT5.spi: list(range(6, 11)),
                                OUT4.spi: list(range(16, 21))}
    # The runtime tunnel still carries its traffic after both reloads.
    send(gw, "10.9.0.10", range(300, 305))
    assert esp_out(gw, 5, [OUT9]) == {OUT9.spi: list(range(1, 6))}
    for k in (OUT3, OUT4, OUT5, OUT9):
        assert k.key.hex() not in gw.logs()
    gw.stop()


def inbound_ok(gw, key, seq, src="10.4.0.10"):
    """One ESP frame from the peer under key: decrypted and forwarded to the LAN?"""
    inner = IP(src=src, dst=live.HOST) / UDP(sport=5000, dport=4000) / \
        (live.MARKER + seq.to_bytes(4, "big"))
    sa = key.scapy_sa(live.PEER, live.WAN)
    gw.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=seq))
    return bool(gw.lan.drain(settle=0.3))


def test_reload_inbound_sa_not_found_stale(gw):
    """The workers' cache of inbound SAD lookups (lib/esp/esp_sad_cache.h) across
    reloads: in4, found (and cached) before, is taken under its new key once a
    reload changed its key (same SPI and addresses), and not at all once a
    reload removed it; the old key is refused from the first packet after."""
    assert [inbound_ok(gw, IN4, s) for s in (1, 2, 3)] == [True] * 3
    changed = [IN4X.conf("in4", "in") if line.startswith("sa add in4 ") else line
               for line in OLD]
    r = reload(gw, live.write_conf(gw, "in4x.conf", live.BASE + "\n".join(changed) + "\n"))
    assert r.returncode == 0, r.stderr
    assert not inbound_ok(gw, IN4, 4)
    assert inbound_ok(gw, IN4X, 1)
    r = reload(gw, live.write_conf(gw, "new.conf", live.BASE + "\n".join(NEW) + "\n"))
    assert r.returncode == 0, r.stderr
    assert not inbound_ok(gw, IN4X, 2)
    assert not inbound_ok(gw, IN4, 5)
    # Tunnel 3's inbound SA, left alone, still finds its packets.
    assert inbound_ok(gw, live.IN3, 1, src=live.REMOTE)
    gw.stop()
