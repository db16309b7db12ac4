# SPDX-License-Identifier: BSD-3-Clause
"""Reproducers of the review of 50031b2 / 7dadf78 (ordered SAs moved by sa
update, the moves of sa update done last in a publication). Each test's
docstring says what it proves. Runs inside its own network namespace
(netns_run.sh)."""

import time

from scapy.layers.inet import IP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether

import live
from live import IN3, OUT3, Gateway, send_lan

PEER2, PEER3 = "203.0.113.9", "203.0.113.17"


def esp_seqs(frames, key=OUT3):
    """(seq, outer dst) of each frame; every one must be ESP of key that scapy decrypts."""
    live.assert_no_clear(frames)
    live.decrypt_all(frames, [key])
    return [(Ether(f)[ESP].seq, Ether(f)[IP].dst) for f in frames]


def added_and_updated(gw):
    """out3 added and its remote updated in one transaction, 10 packets sent."""
    r = gw.ctl.txn([OUT3.conf("out3", "out"), "sa update out3 remote " + PEER2,
                    IN3.conf("in3", "in"),
                    "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name p3out protect out3",
                    "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 name p3in protect in3"])
    assert r["ok"], r
    send_lan(gw, range(10))
    first = esp_seqs(gw.wan.drain(want=10))
    assert first == [(s, PEER2) for s in range(1, 11)], first


def test_update_after_add_in_one_transaction_reuses_seq(gw):
    """AES-GCM nonce reuse. 'sa add out3' and 'sa update out3 remote P2' in one
    transaction: the store gives the update moved_from = the add's slot + 1
    (store_sa.c espgw_store_sa_update), the data path never brings that slot
    into service, so espgw_gw_sa_move returns 0 at once (nothing to carry)
    WITHOUT espgw_store_sa_moved: moved_from stays set in the store after the
    publication. The SA sends 1..10 from its slot. A later 'sa update out3
    remote P3' keeps the stale moved_from (it is only set when 0), the new
    slot's move again finds its source not live and does nothing: the new
    slot starts at sequence number 1 under the key that already sent 1..10."""
    added_and_updated(gw)
    r = gw.ctl.request("sa update out3 remote " + PEER3)
    assert r["ok"], r
    send_lan(gw, range(10, 20))
    after = esp_seqs(gw.wan.drain(want=10))
    assert [d for _, d in after] == [PEER3] * 10, after
    seqs = [s for s, _ in after]
    assert seqs == list(range(11, 21)), \
        "sequence numbers (GCM nonces) sent again under the same key: %s" % seqs
    gw.stop()


def test_update_after_add_then_slot_reused_wedges_update():
    """The same stale moved_from, once its slot is taken by another SA (set
    max-sa 4: slots are dealt round-robin, so the fourth SA gets the slot the
    add took and the update gave up): a later 'sa update out3 remote' is
    refused ('the SA it replaces (slot 0) is not in service': move_source
    compares the other SA's name), and so is every one after: the key manager
    can never move the SA to its peer's new address."""
    g = Gateway(extra_conf="set max-sa 5\n")
    try:
        added_and_updated(g)  # slots 0 (given up), 1 (out3), 2 (in3)
        g.ctl.ok(live.Key(0x3006, 0x56).conf("f1", "out", remote=PEER3))  # slot 3
        g.ctl.ok(live.Key(0x3007, 0x57).conf("f2", "out", remote=PEER3))  # slot 4
        g.ctl.ok(live.Key(0x3005, 0x55).conf("other", "out", remote=PEER3))  # slot 0
        g.ctl.ok("sa del f1")
        time.sleep(3.5)  # slot 3 retired (RETIRE_MS), free for the update
        r = g.ctl.request("sa update out3 remote " + PEER3)
        assert r["ok"], r
        send_lan(g, range(10, 20))
        after = esp_seqs(g.wan.drain(want=10))
        assert [s for s, _ in after] == list(range(11, 21)), after
        g.stop()
    finally:
        g.kill()


def test_update_after_add_then_moved_onto_itself():
    """The same stale moved_from, when the next update's new slot is the very
    slot moved_from names (set max-sa 3: round-robin wraps to it): the move's
    source is the new SA itself (live, same name and SPI: move_source agrees),
    sa_move.c freezes it, carries its own fresh number 1 to itself and marks
    it MOVED to itself: every packet of the policy follows the loop
    (outbound.c sa_follow, MOVE_HOPS) and is dropped as sa_updating, for good;
    the old slot, whose numbers were 1..10, is retired, so its number is
    lost too."""
    g = Gateway(extra_conf="set max-sa 3\n")
    try:
        added_and_updated(g)
        r = g.ctl.request("sa update out3 remote " + PEER3)
        assert r["ok"], r
        d0 = g.drops()
        send_lan(g, range(10, 20))
        after = esp_seqs(g.wan.drain(want=10))
        assert [s for s, _ in after] == list(range(11, 21)), (after, g.drops_since(d0),
                                                              g.ctl.ok("show sa out3"))
        g.stop()
    finally:
        g.kill()


def monitor_events(mon, settle=0.5):
    """(event, SA name) of what the monitor connection got until none came for settle s."""
    mon.s.settimeout(settle)
    out = []
    try:
        while True:
            e = mon.line()
            out.append((e["event"], e.get("sa") or e.get("name")))
    except (OSError, EOFError):
        pass
    return out


def test_update_after_add_announced_as_added(gw):
    """Wrong event. 'sa add out5' and 'sa update out5 remote P2' in one
    transaction install a new SA, but the monitor hears only 'sa-updated
    out5', never 'sa-added' (a key manager keying its state on the events
    never learns the SA exists): publish.c sa_moved rewrites the new slot's
    event from the source slot's (slot_ev[from], 0: the add's slot never had a
    runtime) even when espgw_gw_sa_move found nothing to move."""
    mon = live.Ctl(gw.sock)
    assert mon.request("monitor")["ok"]
    assert gw.ctl.txn(live.tunnel_conf())["ok"]
    assert monitor_events(mon) == [("sa-added", "out3"), ("sa-added", "in3")]
    out5 = live.Key(0x3005, 0x70)
    r = gw.ctl.txn([out5.conf("out5", "out"), "sa update out5 remote " + PEER2])
    assert r["ok"], r
    assert monitor_events(mon) == [("sa-added", "out5")]
    gw.stop()


def nonces(frames, key):
    """The sequence numbers (with key's salt, the GCM nonces) of frames, each decrypted with key."""
    live.assert_no_clear(frames)
    sa = key.scapy_sa(live.WAN, live.PEER)
    for f in frames:
        sa.decrypt(Ether(f)[IP])
    return [Ether(f)[ESP].seq for f in frames]


def test_delete_and_readd_same_key_in_one_transaction(gw):
    """AES-GCM nonce reuse through the socket (as reload refuses it,
    store_diff.c sa_key_taken): 'sa del out3' and 'sa add out3' with the same
    key and salt in one transaction would send 1, 2, 3... again under the key
    that already sent them. Refused (lib/gw/publish.c sa_key_fresh: the
    deleted slot sent under the key), and out3 goes on."""
    assert gw.ctl.txn(live.tunnel_conf())["ok"]
    send_lan(gw, range(5))
    first = nonces(gw.wan.drain(want=5), OUT3)
    assert first == [1, 2, 3, 4, 5], first
    r = gw.ctl.txn(["sa del out3", OUT3.conf("out3", "out")])
    assert r["ok"] is False and "its key is SA out3's" in r["error"], r
    # Refused as a whole: out3 goes on from 6 under its key.
    send_lan(gw, range(5, 10))
    assert nonces(gw.wan.drain(want=5), OUT3) == [6, 7, 8, 9, 10]
    gw.stop()


def test_second_sa_with_same_key(gw):
    """AES-GCM nonce reuse: an SA with another SPI but the key and salt of an
    SA in service would start at 1, so the same (key, nonce) pairs would go
    out twice (the SPI is only in the AAD: the keystream is the same).
    Refused: beside the SA in service and in one transaction with it (by the
    store, lib/ctl/store_sa.c sa_check_key), and while the deleted one's slot
    is not yet freed (lib/gw/publish.c sa_key_fresh)."""
    assert gw.ctl.txn(live.tunnel_conf())["ok"]
    send_lan(gw, range(5))
    nonces(gw.wan.drain(want=5), OUT3)
    twin = live.Key(0x3009, 0x30)
    assert (twin.key, twin.salt) == (OUT3.key, OUT3.salt)
    r = gw.ctl.txn([twin.conf("twin", "out"), "sp set p3out protect twin"])
    assert r["ok"] is False and "its key is SA out3's" in r["error"], r
    # Nor in one transaction with the SA it copies, nor once that one is gone.
    r = gw.ctl.txn([OUT3.conf("o1", "out").replace("0x3001", "0x3011"),
                    OUT3.conf("o2", "out").replace("0x3001", "0x3012")])
    assert r["ok"] is False and "its key is SA out3's" in r["error"], r
    gw.ctl.ok("sa del out3")
    r = gw.ctl.txn([twin.conf("twin", "out")])
    assert r["ok"] is False and "its key is SA out3's" in r["error"], r
    gw.stop()


def test_ordered_sa_update_mixes_under_traffic():
    """HOLDS on 7dadf78 (ASan too): an ordered SA (seq-order strict) encrypted
    by two workers while transactions go on back to back: one update of its
    remote, three in one transaction, one refused when a later SA is brought
    into service (rolled back), remote + lifetime, remote + sp set. Every
    frame decrypts, the numbers run 1, 2, 3... in wire order (no number twice,
    none out of order, no gap: what was lost was dropped before its number, as
    sa_updating), and at the stop the workers balance and no frame is left in
    a window (the pools balance: Gateway.stop)."""
    import harness
    from test_order_live import Stream, check_workers, judge, strict_conf
    bad = live.REFUSED_SA
    gw = Gateway(lcores=harness.two_workers())
    try:
        assert gw.ctl.txn(strict_conf())["ok"]
        n = 8000
        d0 = gw.drops()
        sender = Stream(gw, n, burst=32, gap=0.002)
        sender.start()
        peers = [live.PEER, PEER2]
        k = 0
        try:
            while sender.is_alive():
                k += 1
                p, q = peers[k % 2], peers[(k + 1) % 2]
                lines = [["sa update out3 remote " + p],
                         ["sa update out3 remote " + p, "sa update out3 remote " + q,
                          "sa update out3 remote " + p],
                         ["sa update out3 remote " + q, bad],
                         ["sa update out3 remote " + p,
                          "sa update out3 lifetime soft packets %d" % (10**6 + k)],
                         ["sa update out3 remote " + p, "sp set p3out protect out3"]][k % 5]
                r = gw.ctl.txn(lines)
                assert r["ok"] == (k % 5 != 2), (lines, r)
        finally:
            sender.join()
        out = gw.wan.drain(want=n, timeout=20)
        seqs, seen, _ = judge(out, [OUT3])
        s = seqs[OUT3.spi]
        assert s == list(range(1, len(s) + 1)), \
            [(a, b) for a, b in zip(s, s[1:]) if b != a + 1][:10]
        lost = gw.drops_since(d0)
        assert set(lost) <= {"sa_updating"} and lost.get("sa_updating", 0) == n - len(seen), lost
        st = gw.stop()
        check_workers(st, "out3", len(seen))
    finally:
        gw.kill()
