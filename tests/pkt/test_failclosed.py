# SPDX-License-Identifier: BSD-3-Clause
"""Fail closed (RFC 4301 4.4.1, 5.1): whatever goes wrong with the SA of a
protect policy, protect-class traffic is dropped and counted, never sent in
clear. Each fault is run, the unprotected port's output is captured, and
every frame in it is scanned for the inner packets' payload marker and inner
addresses: only ESP that decrypts to a genuine packet may appear.

Faults:
- crypto device errors and a crypto queue that is always nearly full, injected
  by espgw-fault (espgw with tests/pkt/fault_shim.c: failed ops come back
  untouched, plaintext inside), in both directions;
- a device that cannot run the SA's algorithm: nothing starts at all;
- an SA whose sequence numbers are exhausted (RFC 4303 3.3.3);
- an SA missing: refused by the config; deleted while a policy uses it:
  the policy drops (no_sa_yet);
- a TX queue that never takes anything (net_memif without a peer): tx_full.
Every run also passes the harness's checks (counter balance, no mbuf leak)."""

import os

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

import harness
from harness import Tunnel

ESPGW_FAULT = os.environ.get("ESPGW_FAULT", "")
MARKER = b"ESPGW-CLEARTEXT!"  # 16 bytes, in every inner payload
N = 90  # packets per tunnel and direction


def tunnels():
    return [Tunnel(60, "aes-gcm-128", 4, 4), Tunnel(61, "aes-cbc-256+hmac-sha256-128", 6, 6),
            Tunnel(62, "chacha20-poly1305", 4, 6)]


def marked(tun, i, outbound):
    """An inner packet of tun whose payload carries MARKER (i makes it unique)."""
    src, dst = (tun.lan_host, tun.host) if outbound else (tun.host, tun.lan_host)
    body = Raw(MARKER * (1 + i % 5) + i.to_bytes(2, "big"))
    if tun.inner == 4:
        p = IP(src=src, dst=dst, id=i) / UDP(sport=4000, dport=5000) / body
    else:
        p = IPv6(src=src, dst=dst, fl=i) / UDP(sport=4000, dport=5000) / body
    return p.__class__(bytes(p))


def inner_addrs(tuns):
    """The packed inner addresses that must never appear on the unprotected side."""
    import socket
    out = set()
    for t in tuns:
        fam = socket.AF_INET if t.inner == 4 else socket.AF_INET6
        out |= {socket.inet_pton(fam, t.lan_host), socket.inet_pton(fam, t.host)}
    return out


def assert_no_cleartext(frames, tuns):
    """No frame leaving the unprotected port carries an inner payload or inner
    address in clear, and each one is ESP."""
    addrs = inner_addrs(tuns)
    for i, f in enumerate(frames):
        assert MARKER not in f, "frame %d carries the inner payload in clear: %s" % (i, f.hex())
        for a in addrs:
            assert a not in f, "frame %d carries inner address %s: %s" % (i, a.hex(), f.hex())
        assert harness.esp_spi(f) is not None, "frame %d is not ESP: %s" % (i, f.hex())


def check_genuine_esp(frames, tuns, sent):
    """Every ESP frame decrypts (espcodec, scapy) to one of the packets sent
    into its tunnel, one hop later; returns how many there were."""
    by_spi, clear = harness.split_esp(frames)
    assert clear == []
    n = 0
    for t in tuns:
        want = {harness.ttl_dec(p) for p in sent[t.slot]}
        for f in by_spi.pop(t.out_sa.spi, []):
            assert harness.Decap(f, t).inner in want, "ESP of %s carries an unknown packet" % t
            n += 1
    assert by_spi == {}, "ESP with unknown SPIs: %s" % sorted(map(hex, by_spi))
    return n


def fault_run(spec, crypto_path="cryptodev"):
    """LAN and WAN traffic of every tunnel through espgw-fault with ESPGW_FAULT_CRYPTO=spec.
    The cryptodev path unless told: the shim sits in the cryptodev's enqueue and
    dequeue, which the default ("auto") takes only for SAs the CPU path cannot serve."""
    if not os.access(ESPGW_FAULT, os.X_OK):
        pytest.fail("ESPGW_FAULT=%r is not an executable (run through meson test)" % ESPGW_FAULT)
    tuns = tunnels()
    conf = harness.base_conf(crypto_path=crypto_path)
    for t in tuns:
        conf += t.conf()
    lan, wan, sent_out, sent_in = [], [], {}, {}
    for i in range(N):
        for t in tuns:
            p = marked(t, i, True)
            sent_out.setdefault(t.slot, []).append(p)
            lan.append(harness.lan_frame(p))
            q = marked(t, i, False)
            sent_in.setdefault(t.slot, []).append(q)
            wan.append(t.encap(q, i + 1))
    res = harness.run(conf, lan=lan, wan=wan, binary=ESPGW_FAULT,
                      env={"ESPGW_FAULT_CRYPTO": spec})
    return res, tuns, sent_out, sent_in


def check_lan_genuine(res, sent_in):
    """What left the LAN port is exactly some of the packets the peer sent."""
    want = {harness.ttl_dec(p) for ps in sent_in.values() for p in ps}
    got = [harness.trim_l3(f[14:]) for f in res.out["lan0"]]
    assert all(g in want for g in got), "unknown packet out of lan0"
    assert len(set(got)) == len(got), "a packet left lan0 twice"
    return len(got)


def test_crypto_device_errors():
    """Every 3rd op fails without being processed: those packets are crypto_error
    drops, in both directions; the rest passes; nothing in clear."""
    res, tuns, sent_out, sent_in = fault_run("error:3")
    ops = 2 * N * len(tuns)
    assert_no_cleartext(res.out["wan0"], tuns)
    n_esp = check_genuine_esp(res.out["wan0"], tuns, sent_out)
    n_lan = check_lan_genuine(res, sent_in)
    harness.assert_drops(res.stats, crypto_error=ops // 3)
    assert n_esp + n_lan == ops - ops // 3
    assert n_esp > 0 and n_lan > 0
    for t in tuns:  # each SA saw its share of the failures
        assert res.stats["sa"][t.out_name]["errors"] > 0, res.stats["sa"]


def test_crypto_queue_full():
    """The device takes at most 5 ops per enqueue: the rest of each burst is
    crypto_enqueue_full, already in ESP shape around plaintext, and dropped."""
    res, tuns, sent_out, sent_in = fault_run("full:5")
    ops = 2 * N * len(tuns)
    assert_no_cleartext(res.out["wan0"], tuns)
    n_esp = check_genuine_esp(res.out["wan0"], tuns, sent_out)
    n_lan = check_lan_genuine(res, sent_in)
    full = res.stats["drops"]["crypto_enqueue_full"]
    assert full > 0, res.drops()
    harness.assert_drops(res.stats, crypto_enqueue_full=full)
    assert n_esp + n_lan + full == ops


@pytest.mark.parametrize("path", ["cpu", None])
def test_crypto_faults_on_cpu_path_config(path):
    """With "set crypto-path cpu", and by default ("auto" on crypto_aesni_mb),
    the AEAD SAs run synchronously (the shim does not reach them); the CBC SA
    stays on the cryptodev (RFC 3602 IVs, README) and still fails closed."""
    res, tuns, sent_out, _ = fault_run("error:2", crypto_path=path)
    assert_no_cleartext(res.out["wan0"], tuns)
    check_genuine_esp(res.out["wan0"], tuns, sent_out)
    assert res.stats["drops"]["crypto_error"] > 0, res.drops()
    assert res.stats["sa"]["out61"]["errors"] > 0, res.stats["sa"]
    for name in ("out60", "in60", "out62", "in62"):  # AEAD: CPU path, the shim never saw them
        assert res.stats["sa"][name]["errors"] == 0, res.stats["sa"]


def test_sqn_exhausted():
    """An SA at the end of its sequence numbers stops (RFC 4303 3.3.3; DPDK 22.11
    ends at 0xfffffffe, test_outbound.py): later packets of its policy are
    sqn_overflow drops, never sent in clear or with a wrapped number."""
    t = Tunnel(63, "aes-gcm-256", 4, 4, out_opts="seq 0xfffffffd")
    conf = harness.base_conf() + t.conf()
    sent = [marked(t, i, True) for i in range(40)]
    res = harness.run(conf, lan=[harness.lan_frame(p) for p in sent])
    assert_no_cleartext(res.out["wan0"], [t])
    seqs = [harness.Decap(f, t).seq for f in res.out["wan0"]]
    assert seqs == [0xfffffffd, 0xfffffffe], seqs
    harness.assert_drops(res.stats, sqn_overflow=len(sent) - 2)
    assert res.stats["sa"][t.out_name]["errors"] == len(sent) - 2


def test_protect_without_sa_refused(tmp_path):
    """A protect policy naming no SA cannot exist: the config is refused."""
    t = Tunnel(64, "aes-gcm-128")
    lines = harness.base_conf() + [l for l in t.conf() if not l.startswith("sa add out")]
    r = harness.check_conf(lines, tmp_path)
    n = lines.index(next(l for l in lines if l.startswith("sp add out"))) + 1
    assert r.returncode == 2, r
    assert r.stderr.startswith("%s:%d: " % (tmp_path / "gw.conf", n)), r.stderr
    assert "out64" in r.stderr, r.stderr


def test_sa_del_in_use_fails_closed():
    """Deleting the SA a protect policy uses leaves the policy in place with no
    SA (a declaration, issue 11): its traffic is dropped as no_sa_yet, never
    sent in clear; the inbound side still refuses clear traffic the policy
    covers (policy_mismatch)."""
    t = Tunnel(65, "aes-gcm-128")
    conf = harness.base_conf() + t.conf() + ["sa del %s" % t.out_name, "sa del %s" % t.in_name]
    out = [marked(t, i, True) for i in range(20)]
    clear_in = [marked(t, 100 + i, False) for i in range(7)]
    res = harness.run(conf, lan=[harness.lan_frame(p) for p in out],
                      wan=[harness.wan_frame(p) for p in clear_in])
    assert_no_cleartext(res.out["wan0"], [t])
    assert res.out["wan0"] == [], res.out["wan0"]
    assert res.out["lan0"] == [], res.out["lan0"]
    harness.assert_drops(res.stats, no_sa_yet=len(out), policy_mismatch=len(clear_in))


def test_crypto_refused_starts_nothing(tmp_path):
    """An SA whose device cannot run its algorithm (crypto_null has no AES-GCM):
    exit 2 with FILE:LINE naming SA, algorithm and device; no frame sent, no
    EAL files left."""
    t = Tunnel(66, "aes-gcm-128")
    lines = harness.base_conf() + ["crypto add nul dev crypto_null0"]
    lines += [l + " cryptodev nul" if l.startswith("sa add") else l for l in t.conf()]
    lan = [harness.lan_frame(marked(t, i, True)) for i in range(5)]
    with harness.Workdir() as d:
        p = {n: os.path.join(d, n) for n in ("lan_in", "lan_out", "wan_in", "wan_out")}
        harness.write_pcap(p["lan_in"], lan)
        harness.write_pcap(p["wan_in"], [])
        vdevs = ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (p["lan_in"], p["lan_out"]),
                 "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (p["wan_in"], p["wan_out"]),
                 "crypto_null0"]
        gw = harness.Gateway(d, lines, vdevs)
        try:
            rc = gw.proc.wait(timeout=60)
            log = gw.logs()
        finally:
            gw.kill()
        assert rc == 2, log
        line = lines.index(next(l for l in lines if l.startswith("sa add out"))) + 1
        assert "%s:%d: sa %s: aes-gcm-128 not supported by crypto device crypto_null0" % (
            gw.conf, line, t.out_name) in log, log
        assert "nothing started" in log, log
        for name in ("lan_out", "wan_out"):  # net_pcap creates them at probe, empty
            assert not os.path.exists(p[name]) or harness.read_pcap(p[name]) == [], name
        assert not os.path.exists(harness.runtime_dir(gw.prefix)), "EAL files left behind"


def test_tx_full_no_leak():
    """The unprotected port takes nothing (net_memif, no peer): every ESP packet
    is a tx_full drop, nothing leaks, nothing else leaves."""
    t = Tunnel(67, "aes-gcm-128")
    conf = harness.base_conf(wan_dev="net_memif0") + t.conf()
    lan = [harness.lan_frame(marked(t, i, True)) for i in range(N)]
    with harness.Workdir() as d:
        lan_in, lan_out = os.path.join(d, "lan_in"), os.path.join(d, "lan_out")
        harness.write_pcap(lan_in, lan)
        vdevs = ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (lan_in, lan_out),
                 "net_memif0,role=server,id=0,socket=%s,socket-abstract=no"
                 % os.path.join(d, "memif.sock")]
        gw = harness.Gateway(d, conf, vdevs)
        try:
            gw.wait_telemetry(60)
            gw.wait_processed(len(lan))
            st = gw.stop()  # balance and pools checked here
        finally:
            gw.kill()
        assert harness.read_pcap(lan_out) == []
    harness.assert_drops(st, tx_full=N)
    harness.assert_totals(st, rx=N, tx=0, drops=N)
    assert st["sa"][t.out_name]["pkts"] == N  # encrypted, then the port refused them
