# SPDX-License-Identifier: BSD-3-Clause
"""Attack (helper-51) on the kept verdicts of fragments (lib/dp/fragstate.c,
RFC 4301 7.3). A LAN host sends a datagram that a tunnel's policy protects
(UDP dport 5001) in fragments. A spoofer on the LAN sends, between the
host's first and later fragments, one first fragment of a key of its own
that shares the host's slot in the direct-mapped table (the slot is an
unkeyed CRC32C of the key: found offline, here by this file), which evicts
the host's verdict, then a first fragment under the host's key (its source,
its identification) to a port the bypass selects. The table now knows only
the spoofer's verdict: the host's later fragments must not leave in clear
(they leave in clear on 9a2fd5f).

Reproducer: fails while a live entry can be replaced by another key's first
fragment, and a re-put of an evicted key is taken as a fresh first fragment."""

import socket
import struct

from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from harness import Tunnel

SECRET = b"FRAG-EVICT-SECRT" * 16
OPEN = b"FRAG-EVICT-OPEN!" * 2
FS_ENTRIES = 1024   # lib/gw/gw.c FRAGSTATE_ENTRIES
FS_OUT = 0          # enum espgw_fragstate_dir ESPGW_FS_OUT


def _crc32c(data, crc=0):
    """rte_hash_crc(data, len, 0): CRC32C, no pre- or post-inversion."""
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def _slot(proto, ident, src, dst):
    """The fragment state's slot of an IPv4 key (fragstate.c struct fs_key)."""
    k = struct.pack("<BBBBI", FS_OUT, 4, proto, 0, 0) + struct.pack(">H", ident) + \
        b"\0\0" + socket.inet_aton(src) + b"\0" * 12 + socket.inet_aton(dst) + b"\0" * 12
    return _crc32c(k) & (FS_ENTRIES - 1)


def _run(with_evict):
    t = Tunnel(530, "aes-gcm-128", 4, 4, policy_out="proto udp dport 5001")
    conf = harness.base_conf() + t.conf() + [
        "sp add out priority 100 src 0.0.0.0/0 dst 0.0.0.0/0 bypass"]
    host, spoofer, ident = harness.HOST4, "10.1.0.99", 0x1234
    want = _slot(17, ident, host, t.host)
    cid = next(c for c in range(1, 65536) if _slot(17, c, spoofer, t.host) == want)

    dgram = IP(src=host, dst=t.host, id=ident) / UDP(sport=40000, dport=5001) / Raw(SECRET)
    frags = fragment(dgram.__class__(bytes(dgram)), fragsize=128)
    assert len(frags) >= 3
    evict = IP(src=spoofer, dst=t.host, id=cid, flags="MF") / UDP(sport=40000, dport=53) / \
        Raw(OPEN)
    spoof = IP(src=host, dst=t.host, id=ident, flags="MF") / UDP(sport=40000, dport=53) / \
        Raw(OPEN)
    lan = [harness.lan_frame(p.__class__(bytes(p))) for p in
           [frags[0]] + ([evict] if with_evict else []) + [spoof] + list(frags[1:])]
    r = harness.run(conf, lan=lan)
    wan = r.out["wan0"]
    leaked = [Ether(f) for f in wan if IP in Ether(f) and Ether(f)[IP].proto != 50 and
              Ether(f)[IP].id == ident and Ether(f)[IP].frag != 0]
    return leaked, frags, cid


def test_without_eviction_the_conflict_holds():
    """The control: the spoofer's first fragment alone voids the verdict."""
    leaked, _, _ = _run(False)
    assert not leaked


def test_spoofer_takes_over_a_datagrams_verdict():
    leaked, frags, cid = _run(True)
    assert not leaked, "%d of %d later fragments of a protect-class datagram out in " \
        "clear after one colliding first fragment (id %#x): %r" % (
            len(leaked), len(frags) - 1, cid, leaked[0])
