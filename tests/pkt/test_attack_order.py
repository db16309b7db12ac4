# SPDX-License-Identifier: BSD-3-Clause
"""seq-order strict under attack (lib/dp/order.c): paths where a number is
taken and the packet goes elsewhere, the end of the sequence space, config
misuse. Two workers, lan0/wan0 with two queues each (harness.run_two_queues),
one outbound SA with seq-order strict on the direct path, its traffic on
both workers' queues."""

import struct

import pytest
from scapy.layers.inet import IP, UDP

import harness
from harness import Tunnel

FLOWS = (1000, 2000)


def lan_queues(t, n, size=0):
    return tuple([harness.lan_frame(IP(src=t.lan_host, dst=t.host, id=k & 0xffff) /
                                    UDP(sport=sport, dport=5001) /
                                    (struct.pack("!I", k) + b"x" * size))
                  for k in range(n)] for sport in FLOWS)


def esp_seqs(frames):
    """The 32-bit sequence number field of every ESP frame, in order."""
    return [harness.esp_seq(f) for f in frames]


def run(t, n, conf=None, size=0, timeout=60):
    conf = conf or harness.base_conf(crypto_path="direct")
    r, log = harness.run_two_queues(conf + t.conf(), lan=lan_queues(t, n, size),
                                    timeout=timeout)
    return r, log


def one_queue(r):
    q = [r.out["wan0.q%d" % i] for i in (0, 1)]
    assert not (q[0] and q[1]), "ESP of one ordered SA on both TX queues"
    return q[0] or q[1]


def test_sqn_overflow_reason():
    """RFC 4303 3.3.3: an SA at the end of its numbers drops what comes as
    sqn_overflow (the operator's sign to rekey), not as order_full (the
    owner falling behind), however much comes."""
    n = 3000
    t = Tunnel(3, "aes-gcm-128", 4, 4, out_opts="seq-order strict seq 0xfffffff0")
    r, _ = run(t, n)
    st = r.stats
    sent = esp_seqs(one_queue(r))
    assert sent == list(range(0xfffffff0, 0xfffffff0 + len(sent))), sent
    harness.assert_drops(st, sqn_overflow=2 * n - len(sent))
    assert st["dataplane"]["pending"] == 0


def test_esn_crossing():
    """ESN: the low 32 bits wrap inside the window (skip tokens carry 31 bits)."""
    n = 960  # within the ring to the owner: nothing dropped (test_order.LIGHT)
    t = Tunnel(3, "aes-gcm-128", 4, 4, esn=True, out_opts="seq-order strict seq 0xfffffe00")
    r, _ = run(t, n)
    harness.assert_drops(r.stats)
    sent = esp_seqs(one_queue(r))
    want = [(0xfffffe00 + i) & 0xffffffff for i in range(2 * n)]
    assert sent == want
    assert r.stats["dataplane"]["pending"] == 0


def test_no_route():
    """The peer has no route: every number taken is passed over (a skip
    token), none waited for: all dropped as no_route, nothing held."""
    n = 960  # within the ring to the owner: nothing dropped (test_order.LIGHT)
    t = Tunnel(3, "aes-gcm-128", 4, 4, out_opts="seq-order strict")
    conf = [l for l in harness.base_conf(crypto_path="direct")
            if not l.startswith("route add 0.0.0.0/0")]
    r, _ = run(t, n, conf=conf)
    harness.assert_drops(r.stats, no_route=2 * n)
    assert r.stats["dataplane"]["pending"] == 0


def test_unresolved_neighbor():
    """The next hop is unknown: each packet waits in the control path for
    ARP (a skip token in the window), none wedges the window."""
    n = 200
    t = Tunnel(3, "aes-gcm-128", 4, 4, out_opts="seq-order strict")
    conf = [l for l in harness.base_conf(crypto_path="direct")
            if not l.startswith("neighbor add %s " % harness.NH4)]
    r, _ = run(t, n, conf=conf, timeout=90)
    assert r.stats["dataplane"]["pending"] == 0


def test_encap_udp_in_order():
    """ESP in UDP on the direct path: ordered as plain ESP."""
    n = 960  # within the ring to the owner: nothing dropped (test_order.LIGHT)
    t = Tunnel(3, "aes-gcm-128", 4, 4, out_opts="seq-order strict encap udp",
               in_opts="encap udp")
    r, _ = run(t, n)
    harness.assert_drops(r.stats)
    frames = one_queue(r)
    seqs = [struct.unpack("!I", f[14 + 20 + 8 + 4:14 + 20 + 8 + 8])[0] for f in frames]
    assert seqs == list(range(1, 2 * n + 1))


@pytest.mark.parametrize("mode, algo, why", [
    ("transport", None, "seq-order strict needs the direct path"),
    ("tunnel", "ah", "seq-order strict needs the direct path"),
])
def test_refused(mode, algo, why):
    t = Tunnel(3, "aes-gcm-128", 4, 4, out_opts="seq-order strict")
    conf = t.conf()
    conf[0] = conf[0].replace("mode tunnel", "mode " + mode)
    if mode == "transport":
        conf = conf[:2] + ["sp add out priority 10 src %s/32 dst %s/32 protect %s"
                           % (t.local, t.peer, t.out_name)]
    if algo == "ah":
        conf[0] = conf[0].split(" aead ")[0] + " proto ah auth hmac-sha256-128 auth-key 0x" + \
            "11" * 32 + " seq-order strict"
    with pytest.raises(harness.GatewayError) as e:
        harness.run_two_queues(harness.base_conf(crypto_path="direct") + conf,
                               start_timeout=30)
    assert why in str(e.value), str(e.value)[-2000:]


def test_check_refuses_cpu_path():
    """espgw --check refuses what espgw would refuse to start (the SA's own
    lines rule the direct path out), whatever the worker count."""
    t = Tunnel(3, "aes-gcm-128", 4, 4, out_opts="seq-order strict crypto-path cpu")
    with harness.Workdir() as d:
        r = harness.check_conf(harness.base_conf() + t.conf(), d)
    assert r.returncode != 0 and "direct path" in r.stderr, r
