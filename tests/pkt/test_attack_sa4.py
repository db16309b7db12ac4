# SPDX-License-Identifier: BSD-3-Clause
"""Attack on the rule kept per inbound SA (lib/spd/spd_sa.c, lib/dp/classify.c
match4) from the wire: decrypted IPv4 packets through SAs whose own rule is
kept (no better rule overlaps it) and through SAs whose rule is overlapped by
a better one (a discard for one port, another SA's /25 inside the /24, a
catch-all discard ranked between two rules of one SA), in one burst, so that
the kept-rule path and the full lookup run side by side. Each packet must get
the full lookup's verdict (RFC 4301 5.2): exactly the packets listed as good
leave by lan0; the others count as policy_mismatch.

  A 10.64.120.0/24 (slot-net of 120): its rule kept.
  B 10.64.121.0/24: a better rule gives 10.64.121.128/25 to A.
  D 10.64.122.0/24: a better rule discards UDP dport 5001 from it.
  E 10.64.123.0/24 via its own (kept) rule; a second, worse E rule covers
    10.64.124.0/24 behind a better any-address discard for TCP: TCP from there
    must drop.
Eight inbound IPv4 rules: the SPD is scanned (ESPGW_SPD_SCAN_MAX), so the kept
rules are in use (A and E kept; B, D and E's second rule overlapped)."""

from scapy.layers.inet import IP, TCP, UDP
from scapy.packet import Raw

import harness
from harness import Tunnel, HOST4


def test_kept_rule_verdicts():
    A, B, D, E = (Tunnel(s, "aes-gcm-128", 4, 4) for s in (120, 121, 122, 123))
    conf = harness.base_conf()
    for t in (A, B, D, E):
        conf += t.conf()
    conf += [
        "sp add in priority 5 src 10.64.121.128/25 dst 10.1.0.0/24 protect in120",
        "sp add in priority 1 src 10.64.122.0/24 dst 10.1.0.0/24 proto udp dport 5001 discard",
        "sp add in priority 11 src 0.0.0.0/0 dst 10.1.0.0/24 proto tcp discard",
        "sp add in priority 12 src 10.64.124.0/24 dst 10.1.0.0/24 protect in123",
    ]
    seq = {}
    cases = []  # (tunnel, inner, good)

    def add(t, src, l4, good, dport=5001):
        k = len(cases)
        mark = b"SA4-%03d-" % k + (b"G" if good else b"X") * 8
        if l4 == "udp":
            inner = IP(src=src, dst=HOST4) / UDP(sport=40000, dport=dport) / Raw(mark)
        elif l4 == "tcp":
            inner = IP(src=src, dst=HOST4) / TCP(sport=40001, dport=dport) / Raw(mark)
        else:
            inner = IP(src=src, dst=HOST4, proto=47) / Raw(mark)
        cases.append((t, inner, good, mark))

    add(A, "10.64.120.5", "udp", True)          # A's kept rule
    add(A, "10.64.121.5", "udp", False)         # B's subnet through A
    add(A, "10.64.121.200", "udp", True)        # the /25 A is given
    add(B, "10.64.121.200", "udp", False)       # ... not B
    add(B, "10.64.121.5", "udp", True)          # B's own half (full lookup)
    add(D, "10.64.122.5", "udp", False)         # the better discard
    add(D, "10.64.122.5", "udp", True, 5002)    # another port: D's rule
    add(D, "10.64.122.5", "tcp", True)
    add(E, "10.64.123.5", "udp", True)
    add(E, "10.64.123.5", "gre", True)          # proto any: E's rule
    add(E, "10.64.124.5", "udp", True)          # E's second rule
    add(E, "10.64.124.5", "tcp", False)         # the tcp discard ranks before it
    add(A, "10.64.124.5", "udp", False)         # E's second net through A
    add(B, "10.64.120.5", "udp", False)         # A's net through B
    wan = []
    for t, inner, good, mark in cases:
        seq[t.slot] = seq.get(t.slot, 0) + 1
        wan.append(t.encap(IP(bytes(inner)), seq[t.slot]))
    r = harness.run(conf, wan=wan)
    out = b"".join(bytes(f) for f in r.out["lan0"])
    for t, inner, good, mark in cases:
        assert (mark in out) == good, ("slot", t.slot, inner.summary(), good, r.drops())
    n_bad = sum(1 for c in cases if not c[2])
    assert r.drops().get("policy_mismatch", 0) == n_bad, r.drops()
    assert len(r.out["lan0"]) == len(cases) - n_bad
