# SPDX-License-Identifier: BSD-3-Clause
"""Reproducers of the control socket's security review (issue 11), each
failing on the reviewed code (de40f9b):
1. a transaction that failed after deleted SAs were taken out of service
   left them unlinked and freed 3 s later while the store still listed them;
   the next change re-created them from the store with fresh counters: AES-GCM
   sequence numbers (its nonces) sent twice under one key, and an inbound SA
   with an empty replay window (captured ESP delivered again);
2. a same-SPI rekey in one transaction (sa del in3; sa add in3 ...) was
   refused: the old SA still held the SPI when the new one came in;
3. a client streaming 3,000 single "sp add" made the control lcore rebuild
   both SPDs 3,000 times: no ARP answer for over a minute.
Runs inside its own network namespace (netns_run.sh)."""

import threading
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import ARP, Ether

import live
from live import IN3, Ctl, Key, tunnel_conf


def esp_seqs(frames):
    return [Ether(f)[ESP].seq for f in frames]


def captured_in(n, first=0, key=IN3):
    sa = key.scapy_sa(live.PEER, live.WAN)
    out = []
    for i in range(first, first + n):
        inner = IP(src=live.REMOTE, dst=live.HOST) / UDP(sport=5000, dport=4000) / \
            (live.MARKER + i.to_bytes(4, "big"))
        out.append(Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=i + 1))
    return out


def test_failed_transaction_keeps_sas_and_counters(gw):
    assert gw.ctl.txn(tunnel_conf())["ok"]
    send = captured_in(5)
    for f in send:
        gw.wan.send(f)
    assert len(gw.lan.drain(want=5)) == 5
    for i in range(10):
        gw.lan.send(live.lan_frame(i))
    seq1 = esp_seqs(gw.wan.drain(want=10))
    assert seq1 == list(range(1, 11)), seq1

    # Valid for the store, refused when brought into service (after out3
    # and in3 were taken out): everything must come back as it was.
    bad = live.REFUSED_SA
    r = gw.ctl.txn(["sa del out3", "sa del in3", bad])
    assert r["ok"] is False and "crypto path cpu" in r["error"], r
    time.sleep(4)  # past the 3 s after which deleted SAs are freed
    gw.ctl.ok("sa declare other dir out")  # any later change
    for f in send:  # replayed: refused by the window the SA kept
        gw.wan.send(f)
    assert gw.lan.drain() == []
    for f in captured_in(3, first=5):
        gw.wan.send(f)
    assert len(gw.lan.drain(want=3)) == 3
    for i in range(10, 15):
        gw.lan.send(live.lan_frame(i))
    seq2 = esp_seqs(gw.wan.drain(want=5))
    assert seq2 == list(range(11, 16)), "sequence numbers (GCM nonces) again: %s" % seq2
    gw.stop()


def test_same_spi_rekey_in_one_transaction(gw):
    """The old SA leaves the SAD before the new one with its SPI comes in; the
    new one starts a new window (the peer rekeyed with the same SPI)."""
    assert gw.ctl.txn(tunnel_conf())["ok"]
    new_in = Key(IN3.spi, 0x77)
    r = gw.ctl.txn(["sa del in3", new_in.conf("in3", "in")])
    assert r == {"ok": True, "applied": 2}, r
    for f in captured_in(3, key=new_in):
        gw.wan.send(f)
    assert len(gw.lan.drain(want=3)) == 3
    for f in captured_in(3, first=10):  # the old key no longer decrypts
        gw.wan.send(f)
    assert gw.lan.drain() == []
    gw.stop()


def arp_rtt(g, timeout=30.0):
    req = Ether(src=live.HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / \
        ARP(op=1, hwsrc=live.HOST_MAC, psrc=live.HOST, pdst="10.1.0.1")
    g.lan.drain(settle=0.05, timeout=0.2)
    t0 = time.monotonic()
    g.lan.send(req)
    while time.monotonic() - t0 < timeout:
        for f in g.lan.drain(settle=0.02, timeout=0.1):
            if ARP in Ether(f) and Ether(f)[ARP].op == 2:
                return time.monotonic() - t0
    return None


def test_change_stream_does_not_wedge(gw):
    n = 3000
    c = Ctl(gw.sock, timeout=120)
    lines = "".join("sp add out src 10.1.0.0/24 dst 10.%d.%d.0/24 proto udp dport %d discard\n"
                    % (100 + i // 250, i % 250, 1000 + i) for i in range(n))
    sender = threading.Thread(target=c.s.sendall, args=(lines.encode(),))
    sender.start()
    time.sleep(0.2)
    rtts = [arp_rtt(gw, timeout=60) for _ in range(3)]
    for _ in range(n):
        assert c.line()["ok"]
    sender.join()
    worst = max(r if r is not None else 999 for r in rtts)
    assert worst < 1.0, "no ARP answer for %.1f s during the stream" % worst
    st = gw.ctl.ok("show ctl")["ctl"]
    assert st["publications"] < n / 10, st  # batched
    gw.stop()
