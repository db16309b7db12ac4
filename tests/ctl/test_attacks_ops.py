# SPDX-License-Identifier: BSD-3-Clause
"""Security review of the operator-facing features of issue 13 (reload,
metrics, capture, logs): each test is a reproducer of a finding, run against
a live gateway on net_tap ports inside its own network namespace
(netns_run.sh), judged by scapy on the wire."""

import os
import socket
import time

import pytest

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether

import live
from live import IN3, OUT3, Gateway, send_lan, tunnel_conf



@pytest.fixture
def gw():
    g = Gateway(extra_conf="\n".join(tunnel_conf()) + "\n")
    try:
        yield g
    finally:
        g.kill()


def reload(gw, lines):
    path = live.write_conf(gw, "new.conf", live.BASE + "\n".join(lines) + "\n")
    return live.espgwctl(gw, "reload", path)


def out_seqs(gw, n):
    frames = gw.wan.drain(want=n)
    live.assert_no_clear(frames)
    assert len(live.decrypt_all(frames, [OUT3])) == n
    return sorted(Ether(f)[IP][ESP].seq for f in frames)


def esp_in(seq, i):
    sa = IN3.scapy_sa(live.PEER, live.WAN)
    inner = IP(src=live.REMOTE, dst=live.HOST) / UDP(sport=5000, dport=4000) / \
        (live.MARKER + i.to_bytes(4, "big"))
    return Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=seq)


def reload_after_ten(gw, conf, what):
    """out3 sends sequence numbers 1..10, then conf is reloaded: if accepted,
    the next ten never repeat one of them under the key (what: which key)."""
    send_lan(gw, range(10))
    assert out_seqs(gw, 10) == list(range(1, 11))
    r = reload(gw, conf)
    if r.returncode == 0:
        send_lan(gw, range(100, 110))
        again = set(out_seqs(gw, 10)) & set(range(1, 11))
        assert not again, "sequence numbers %s sent again under %s after '%s'" % (
            sorted(again), what, r.stdout.strip())
    return r


def delivered(gw):
    return sorted(live.marker_index(Ether(f)[UDP].payload) for f in gw.lan.drain())


def test_reload_same_key_no_repeated_nonce(gw):
    """A reload that only gives out3 a lifetime (same key, same SPI) must not
    start its sequence numbers again: with AES-GCM the sequence number is the
    nonce (RFC 4106 8.1), so a number sent twice under one key is a repeated
    nonce (keystream and GHASH key exposed). Refusing the reload is fine."""
    conf = tunnel_conf()
    conf[0] += " lifetime hard time 86400"
    reload_after_ten(gw, conf, "the same key")
    gw.stop()


def test_reload_same_key_no_replay(gw):
    """A reload that only widens in3's replay window (same key, same SPI)
    must not give it a fresh window: ESP packets the gateway already accepted
    (an attacker recorded them) must not be delivered a second time
    (RFC 4303 3.4.3). Refusing the reload is fine."""
    frames = [esp_in(i + 1, i) for i in range(5)]
    for f in frames:
        gw.wan.send(f)
    assert delivered(gw) == list(range(5))
    conf = tunnel_conf()
    conf[1] += " replay-window 1024"
    r = reload(gw, conf)
    d0 = gw.drops()
    for f in frames:
        gw.wan.send(f)
    got = delivered(gw)
    assert got == [], "replayed packets %s delivered again after '%s' (rc %d) drops %s" % (
        got, (r.stdout + r.stderr).strip(), r.returncode, gw.drops_since(d0))
    gw.stop()


def test_capture_of_deleted_sa_takes_no_other_sa():
    """A capture of SA in3 follows in3's slot, not in3: once in3 is deleted
    and its slot (retired 3 s) is given to another inbound SA, the other
    SA's decrypted traffic lands in the file of 'sa in3' (status still says
    it runs for in3). The capture must end (or capture nothing) once its SA
    is gone."""
    g = Gateway(extra_conf="set max-sa 4\n" + "\n".join(tunnel_conf()) + "\n")
    try:
        path = os.path.join(g.dir, "in3.pcapng")
        r = live.espgwctl(g, "capture", "in3", path, "--count", "1000")
        assert r.returncode == 0, r.stderr
        g.ctl.ok("sa del in3")           # p3in now names a declaration (a new slot)
        victim = live.Key(0x4101, 0x41)
        # the last slot, under a key of its own (no two SAs share one)
        g.ctl.ok(live.Key(0x4102, 0x42).conf("pad", "in"))
        time.sleep(3.5)                  # in3's old slots retired, free again
        g.ctl.ok(victim.conf("victim", "in"))  # wraps around into a free slot
        sa = victim.scapy_sa(live.PEER, live.WAN)
        for i in range(5):
            inner = IP(src="10.5.0.10", dst=live.HOST) / UDP(sport=5000, dport=4000) / \
                (live.MARKER + i.to_bytes(4, "big"))
            g.wan.send(Ether(src=live.NH_MAC, dst=live.WAN_MAC) / sa.encrypt(inner, seq_num=i + 1))
        g.lan.drain(settle=0.5)
        st = g.ctl.ok("capture status")["capture"]
        assert not (st["running"] and st["captured"] > 0), \
            "the capture of deleted SA in3 took another SA's decrypted packets: %s" % st
    finally:
        g.kill()


def test_reload_renamed_sa_no_repeated_nonce(gw):
    """A reload that renames out3 (out3b: same key, same SPI, p3out follows)
    deletes out3 and adds out3b: out3b's sequence numbers start again at 1
    under the key out3 already sent 1..10 with (AES-GCM: repeated nonces,
    RFC 4106 8.1). Refusing the reload is fine."""
    r = reload_after_ten(gw, tunnel_conf(out_name="out3b"), "out3's key after renaming it")
    if r.returncode != 0:
        assert "its key is SA out3's" in r.stderr, r.stderr
    gw.stop()


def test_capture_into_stalling_file_does_not_wedge_the_control_thread(gw):
    """espgwctl capture's FILE is the client's, passed open: a regular, empty,
    writable file on a FUSE filesystem (any user may mount one with
    fusermount; a hung NFS or SMB server is the same) whose writes are never
    answered. espgw writes the pcapng header (and later the packets) from its
    control thread: write() blocks, and with it the control socket, ARP,
    publications and the lifetimes' expiry, for as long as the file's server
    wishes. espgw must stay responsive (refusing such a file is fine)."""
    from stallfs import StallFs
    mnt = os.path.join(gw.dir, "mnt")
    os.mkdir(mnt)
    try:
        fs = StallFs(mnt)
    except OSError as e:
        pytest.skip("no FUSE mount here: %s" % e)
    c = live.Ctl(gw.sock)
    try:
        fd = os.open(os.path.join(mnt, "f"), os.O_RDWR)
        socket.send_fds(c.s, [b"capture lan0 %s/f --count 10\n" % mnt.encode()], [fd])
        os.close(fd)
        probe = live.Ctl(gw.sock, timeout=5)
        try:
            probe.ok("show stats")
        except socket.timeout:
            pytest.fail("the control socket no longer answers: espgw's control thread "
                        "waits in write() on the client's file (%d writes pending)" % fs.writes)
        finally:
            probe.close()
    finally:
        fs.stop()
        c.close()
    gw.ctl.ok("capture stop")
    gw.stop()
