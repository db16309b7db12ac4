# SPDX-License-Identifier: BSD-3-Clause
"""Reproducers of the security review of sa update, the store's dirty-slot
list and group commit (99eaedf). Each test's docstring says what it proves;
those marked "Failed" failed on 99eaedf and 09195a3 and pass since the fixes. The store-level
reproducers of the same findings are in tests/unit/test_store_model.c.
Runs inside its own network namespace (netns_run.sh)."""

import os
import threading
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether

import live
from live import OUT3, Ctl, Gateway, send_lan, tunnel_conf

PEER2, PEER3 = "203.0.113.9", "203.0.113.17"



def esp_out(frames, key=OUT3):
    """(seq, outer dst, marker index) of each frame, decrypted by scapy."""
    live.assert_no_clear(frames)
    sa = key.scapy_sa(live.WAN, live.PEER)
    res = []
    for f in frames:
        ip = Ether(f)[IP]
        assert ip.proto == 50 and ip[ESP].spi == key.spi, ip
        res.append((ip[ESP].seq, ip.dst, live.marker_index(sa.decrypt(ip)[UDP].payload)))
    return res


def moved_twice(gw, lines):
    """10 packets, the transaction of lines, 10 packets: the sequence numbers
    after it (they must go on from 11: one key, one counter)."""
    gw.ctl.txn(tunnel_conf())
    send_lan(gw, range(10))
    first = esp_out(gw.wan.drain(want=10))
    assert [s for s, _, _ in first] == list(range(1, 11)), first
    r = gw.ctl.txn(lines)
    assert r == {"ok": True, "applied": len(lines)}, r
    send_lan(gw, range(10, 20))
    return esp_out(gw.wan.drain(want=10))


def test_two_remote_updates_in_one_transaction_reuse_seq(gw):
    """Failed on 99eaedf (fixed since): AES-GCM nonce reuse. Two 'sa update out3 remote' in
    one transaction: the store moves the SA from slot A to B, then from B to
    C; B never reaches the data path, so C's move from B finds nothing to
    carry (sa_move.c move_source: B not live) and C starts at the configured
    sequence number 1, under the key A already sent 1..10 with: every
    sequence number, the GCM nonce, is sent a second time (RFC 4106 8.1:
    the key's confidentiality and integrity are lost). A is not even frozen:
    it also keeps sending until the publication."""
    after = moved_twice(gw, ["sa update out3 remote " + PEER2, "sa update out3 remote " + PEER3])
    assert {d for _, d, _ in after} == {PEER3}, after
    seqs = [s for s, _, _ in after]
    assert seqs == list(range(11, 21)), \
        "sequence numbers (GCM nonces) sent again under the same key: %s" % seqs
    gw.stop()


def test_update_remote_then_lifetime_in_one_transaction_reuse_seq(gw):
    """Failed on 99eaedf (fixed since): AES-GCM nonce reuse. 'sa update out3 remote X' then
    'sa update out3 lifetime ...' in one transaction (a MOBIKE address update
    and new limits, as a key manager may batch them): the second update
    copies the SA with its new slot but sets moved_from to 0 because its own
    remote did not change (store_sa.c espgw_store_sa_update), so the data
    path brings the new slot into service fresh at sequence number 1."""
    after = moved_twice(gw, ["sa update out3 remote " + PEER2,
                             "sa update out3 lifetime soft packets 1000000"])
    assert {d for _, d, _ in after} == {PEER2}, after
    seqs = [s for s, _, _ in after]
    assert seqs == list(range(11, 21)), \
        "sequence numbers (GCM nonces) sent again under the same key: %s" % seqs
    gw.stop()


def test_double_update_revives_expired_sa(gw):
    """Failed on 99eaedf (fixed since): the hard lifetime is bypassed (and the nonces reused).
    An SA that reached its hard lifetime (out of service, sa_expired) is put
    back in service with fresh counters, age and sequence numbers by two
    updates in one transaction; a single update keeps it expired."""
    conf = tunnel_conf()
    conf[0] += " lifetime hard packets 5"
    gw.ctl.txn(conf)
    send_lan(gw, range(5), gap=0.02)
    assert len(gw.wan.drain(want=5)) == 5
    time.sleep(0.1)  # the control path's 10 ms lifetime check
    send_lan(gw, range(5, 8))
    assert gw.wan.drain() == []
    assert gw.ctl.ok("show sa out3")["sa"][0]["state"] == "expired"
    gw.ctl.ok("sa update out3 remote " + PEER2)  # one update: still expired
    send_lan(gw, range(8, 10))
    assert gw.wan.drain() == []
    r = gw.ctl.txn(["sa update out3 remote " + PEER3, "sa update out3 remote " + PEER2])
    assert r["ok"], r
    send_lan(gw, range(10, 13))
    out = gw.wan.drain()
    seqs = [s for s, _, _ in esp_out(out)]
    assert out == [], "an expired SA sends again, sequence numbers %s" % seqs
    gw.stop()


def slot_churn(gw, lines, rounds):
    """rounds transactions of lines; a refusal is retried once after the
    3 s a retiring slot waits. Returns the refusals that stayed."""
    bad = []
    for k in range(rounds):
        r = gw.ctl.txn([line.format(k=k) for line in lines])
        if not r["ok"]:
            time.sleep(4)
            r = gw.ctl.txn([line.format(k=k) for line in lines])
            if not r["ok"]:
                bad.append((k, r["error"]))
    return bad


TMP = ("sa add tmp dir out spi 0x6001 mode tunnel local %s remote %s aead aes-gcm-128 "
       "key 0x%s salt 0x01020304" % (live.WAN, live.PEER, "ab" * 16))


def test_slot_taken_and_dropped_in_one_transaction_leaks():
    """Failed on 99eaedf (fixed since): SA slots leak for ever (max-sa exhausted: no SA can
    be added any more, no rekey, no sa update of a remote). A slot taken and
    given up in one transaction ('sa add tmp; sa del tmp', 'sa declare d;
    sa add d', two remote updates) goes to RETIRING in the store
    (slot_drop), but the data path never had a runtime there, so sa_unlink
    skips it and nothing ever releases it. With set max-sa 8 and the tunnel's
    2 SAs, the 7th such transaction is refused, and still after 4 s."""
    g = Gateway(extra_conf="set max-sa 8\n")
    try:
        g.ctl.txn(tunnel_conf())
        bad = slot_churn(g, [TMP, "sa del tmp"], 8)
        assert bad == [], "slots leaked: %s" % bad
        g.stop()
    finally:
        g.kill()


def test_declare_then_add_in_one_transaction_leaks():
    """Failed on 99eaedf (fixed since): the same leak through 'sa declare d; sp add ... protect d;
    sa add d' in one transaction (a trap policy and its SA installed together)
    followed by their removal: each round leaks the declaration's slot."""
    g = Gateway(extra_conf="set max-sa 8\n")
    try:
        g.ctl.txn(tunnel_conf())
        bad = slot_churn(g, ["sa declare tmp dir out",
                             "sp add out src 10.1.0.0/24 dst 10.9.0.0/24 name ptmp protect tmp",
                             TMP], 1)
        assert bad == []
        for k in range(6):
            r = g.ctl.txn(["sp del ptmp", "sa del tmp", "sa declare tmp dir out",
                           "sp add out src 10.1.0.0/24 dst 10.9.0.0/24 name ptmp protect tmp",
                           TMP])
            if not r["ok"]:
                time.sleep(4)
                r = g.ctl.txn(["sp del ptmp", "sa del tmp", "sa declare tmp dir out",
                               "sp add out src 10.1.0.0/24 dst 10.9.0.0/24 name ptmp "
                               "protect tmp", TMP])
            assert r["ok"], "round %d: %s" % (k, r)
        g.stop()
    finally:
        g.kill()


def test_group_commit_bounded_under_flood(gw):
    """HOLDS on 99eaedf: a client that keeps the server busy (pipelined
    'hello' as fast as it can, so that a publication is always deferred)
    delays another client's change by at most the group-commit bound (250 ms)
    plus a publication, and that change's reply only comes once it is in the
    data path (its traffic is encrypted right after the reply)."""
    gw.ctl.txn(tunnel_conf())
    stop = threading.Event()
    flood = Ctl(gw.sock)

    def flooder():
        chunk = b"hello\n" * 4096
        while not stop.is_set():
            try:
                flood.s.sendall(chunk)
                flood.s.setblocking(False)
                try:
                    while flood.s.recv(1 << 20):
                        pass
                except (BlockingIOError, OSError):
                    pass
                flood.s.setblocking(True)
            except OSError:
                return

    t = threading.Thread(target=flooder)
    t.start()
    try:
        time.sleep(0.5)
        worst = 0.0
        for k in range(10):
            t0 = time.monotonic()
            gw.ctl.ok("sp add out src 10.1.0.0/24 dst 10.%d.0.0/24 name f%d protect out3"
                      % (100 + k, k))
            worst = max(worst, time.monotonic() - t0)
            gw.lan.send(live.lan_frame(k, dst="10.%d.0.10" % (100 + k)))
            assert len(esp_out(gw.wan.drain(want=1))) == 1
        assert worst < 1.0, worst
        served = gw.ctl.ok("show ctl")
        print("group commit: worst change latency %.3f s under the flood; %s" % (worst, served))
    finally:
        stop.set()
        t.join()
        flood.close()
    gw.stop()


def test_random_changes_under_traffic(gw):
    """HOLDS on 99eaedf (run it with the ASan build too: ESPGW=build-san/...):
    random pipelined transactions of sa add/del/declare/update, sp set and a
    command that fails in the data path, over 4 outbound and 4 inbound SAs
    while LAN traffic flows to all four tunnels. Every frame on the WAN must be
    ESP that scapy decrypts with the key of its SPI (no clear traffic), no
    (SPI, sequence number) may be sent twice (a GCM nonce), and espgw must
    stop cleanly with every counter balanced. Two updates of one SA in one
    transaction are left out: that is the known nonce reuse above."""
    import random
    rnd = random.Random(int(os.environ.get("ESPGW_ATTACK_SEED", "5")))
    known = os.environ.get("ESPGW_ATTACK_KNOWN") is not None  # allow the known reuse
    keys, spi_next = {}, [0x7000]
    remotes = [live.PEER, PEER2, PEER3]

    def sa_line(name, direction):
        spi_next[0] += 1
        k = live.Key(spi_next[0], spi_next[0] & 0xFF)
        keys[k.spi] = k
        line = k.conf(name, direction, remote=rnd.choice(remotes))
        return line + (" match spi-dst-src" if direction == "in" and rnd.random() < 0.5 else "")

    setup = []
    for k in range(4):
        setup += [sa_line("o%d" % k, "out"), sa_line("i%d" % k, "in"),
                  "sp add out src 10.1.0.0/24 dst 10.%d.0.0/24 name po%d protect o%d" % (3 + k, k, k),
                  "sp add in src 10.%d.0.0/24 dst 10.1.0.0/24 name pi%d protect i%d" % (3 + k, k, k)]
    assert gw.ctl.txn(setup)["ok"]
    bad = live.REFUSED_SA

    def op(updated):
        k, d = rnd.randrange(4), rnd.choice("oi")
        name = "%s%d" % (d, k)
        direction = "out" if d == "o" else "in"
        x = rnd.randrange(8)
        if x == 0:
            return sa_line(name, direction)
        if x == 1:
            return "sa del " + name
        if x == 2:
            return "sa declare %s dir %s" % (name, direction)
        if (x in (3, 4) or known and x in (5, 6)) and (known or name not in updated):
            updated.add(name)
            if rnd.random() < 0.7:
                return "sa update %s remote %s" % (name, rnd.choice(remotes))
            return "sa update %s lifetime soft packets %d" % (name, rnd.randrange(10**5, 10**6))
        if x == 5:
            return "sp set p%s%d protect %s" % (d, k, name)
        if x == 6:
            return "sp set p%s%d discard" % (d, k)
        return "hello"

    stop = threading.Event()

    def sender():
        i = 0
        while not stop.is_set():
            gw.lan.send(live.lan_frame(i, dst="10.%d.0.10" % (3 + i % 4)))
            i += 1
            time.sleep(0.0005)

    t = threading.Thread(target=sender)
    t.start()
    frames = []
    try:
        for rnd_round in range(int(os.environ.get("ESPGW_ATTACK_ROUNDS", "600"))):
            lines = []
            for _ in range(rnd.randrange(1, 4)):  # transactions sent together
                updated = set()
                ops = [op(updated) for _ in range(rnd.randrange(1, 4))]
                ops = [o for o in ops if o != "hello"] or ["hello"]
                if rnd.random() < 0.15:
                    ops.append(bad)
                lines += ["begin"] + ops + ["commit"]
            gw.ctl.s.sendall("".join(line + "\n" for line in lines).encode())
            for _ in lines:
                gw.ctl.line()
            frames += gw.wan.drain(settle=0.0, timeout=0.01)
            time.sleep(0.01)
    finally:
        stop.set()
        t.join()
    frames += gw.wan.drain()
    live.assert_no_clear(frames)
    seen = set()
    for f in frames:
        ip = Ether(f)[IP]
        if ip.proto != 50:
            continue  # ARP and such
        spi, seq = ip[ESP].spi, ip[ESP].seq
        assert spi in keys, "unknown SPI %#x" % spi
        assert (spi, seq) not in seen, "SPI %#x sequence number %d sent twice" % (spi, seq)
        seen.add((spi, seq))
        keys[spi].scapy_sa(live.WAN, ip.dst).decrypt(ip)
    assert len(seen) > 300, len(seen)
    gw.stop()


def test_policy_added_later_sets_inner_family(monkeypatch):
    """Failed on 99eaedf (IPv6 through an IPv4 tunnel installed live sent
    with ESP next header 4). An SA added alone takes its ESP next header from
    its outer family (sa_rt.c espgw_sa_inner_proto: IPv4 -> 4, IPIP); a first
    protect policy of the other family, added in a later transaction, cannot
    change rte_ipsec's template under the workers: it is refused, and
    nothing changes. The SA and its IPv6 policy in one transaction carry
    next header 41."""
    from scapy.layers.inet6 import IPv6
    monkeypatch.setattr(live, "BASE", live.BASE.replace(
        "address 10.1.0.1/24", "address 10.1.0.1/24 address 2001:db8:1::1/64") +
        "neighbor add 2001:db8:1::10 lladdr %s port lan0\n" % live.HOST_MAC)
    g = Gateway()
    try:
        assert g.ctl.ok(OUT3.conf("out3", "out"))
        r = g.ctl.request("sp add out src 2001:db8:1::/64 dst 2001:db8:3::/64 protect out3")
        assert r["ok"] is False and "carries IPv4" in r["error"], r
        assert g.ctl.ok("show sp")["sp"] == []
        g.ctl.ok("sa del out3")
        assert g.ctl.txn([OUT3.conf("out3", "out"),
                          "sp add out src 2001:db8:1::/64 dst 2001:db8:3::/64 protect out3"])["ok"]
        g.lan.send(Ether(src=live.HOST_MAC, dst=live.LAN_MAC) /
                   IPv6(src="2001:db8:1::10", dst="2001:db8:3::10", hlim=64) /
                   UDP(sport=4000, dport=5000) / (live.MARKER + bytes(20)))
        out = g.wan.drain(want=1)
        assert len(out) == 1, g.drops()
        ip = Ether(out[0])[IP]
        sa = OUT3.scapy_sa(live.WAN, live.PEER)
        esp = sa.crypt_algo.decrypt(sa, ip[ESP], sa.crypt_key, 16)
        assert esp.nh == 41, "IPv6 inner packet sent with ESP next header %d" % esp.nh
        g.stop()
    finally:
        g.kill()


BAD_DP = live.REFUSED_SA


def test_inbound_update_sequences_leave_no_stale_key(gw):
    """HOLDS on 99eaedf: an inbound SA that matches on the source, moved by
    updates in every combination tried (two in one transaction, one undone
    by a later command that fails in the data path, one followed in the same
    batch by a deletion that is undone): only its current source finds it
    (no stale SAD entry accepts the old addresses), and its replay window
    goes on."""
    from live import IN3
    conf = tunnel_conf()
    conf[1] += " match spi-dst-src"
    gw.ctl.txn(conf)
    seq = [0]

    def accepted(srcs):
        got = set()
        for src in srcs:
            seq[0] += 1
            sa = IN3.scapy_sa(src, live.WAN)
            inner = IP(src=live.REMOTE, dst=live.HOST) / UDP(sport=5000, dport=4000) / \
                (live.MARKER + seq[0].to_bytes(4, "big"))
            gw.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=seq[0]))
            if gw.lan.drain(settle=0.2):
                got.add(src)
        return got

    alls = [live.PEER, PEER2, PEER3]
    assert accepted(alls) == {live.PEER}
    assert gw.ctl.txn(["sa update in3 remote " + PEER2, "sa update in3 remote " + PEER3])["ok"]
    assert accepted(alls) == {PEER3}
    r = gw.ctl.txn(["sa update in3 remote " + PEER2, BAD_DP])
    assert not r["ok"], r
    assert accepted(alls) == {PEER3}
    # Two transactions in one batch: the update stays, the deletion is undone.
    gw.ctl.s.sendall(("begin\nsa update in3 remote %s\ncommit\nbegin\nsa del in3\n%s\ncommit\n"
                      % (PEER2, BAD_DP)).encode())
    replies = [gw.ctl.line() for _ in range(7)]
    assert replies[2]["ok"] and not replies[6]["ok"], replies
    assert accepted(alls) == {PEER2}
    # An old number from the new source: the window went on.
    sa = IN3.scapy_sa(PEER2, live.WAN)
    inner = IP(src=live.REMOTE, dst=live.HOST) / UDP(sport=5000, dport=4000) / live.MARKER
    gw.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=1))
    assert gw.lan.drain() == []
    gw.stop()
