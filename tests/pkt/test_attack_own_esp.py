# SPDX-License-Identifier: BSD-3-Clause
"""Which ESP is the gateway's (lib/dp/inbound.c: the outer route says local).
Written by helper-55 against a shortcut that took ESP to the gateway's own
addresses past the route lookup (tried and reverted: no gain measured with
-march=native, README "What changed the numbers"); they pin the route
lookup's verdicts and counters for any such shortcut to come.

- An IPv4-only gateway (no IPv6 address, no IPv6 route) has no IPv6 route
  table, so no local fe80::/10: IPv6 ESP to a port's EUI-64 link-local address
  (in the input rules' list of own addresses all the same, which the first
  shortcut scanned) is transit, refused by the inbound SPD (no_policy). It
  must not become the gateway's: not looked up in the SAD, and with "match
  spi" never decrypted and forwarded to the LAN.
- One mixed WAN run, rounds in bursts: ESP to our IPv4 and IPv6 addresses
  (each also has a configured /32 or /128 route via the WAN next hop, which
  the local host route overrides), their outer fragments, ESP in UDP, AH,
  bump-in-the-wire ESP to a LAN host, the same ESP to another LAN host
  (transit), ESP to our link-local address and to a multicast group, IKE,
  a NAT-T keepalive, a truncated ESP, an unknown SPI: every good packet
  leaves lan0 once, in order per flow, nothing leaves wan0, and each drop is
  counted under the reason the route lookup gives.
- Eight and nine configured IPv4 addresses (the shortcut scanned eight at
  most): ESP to any of them is the gateway's."""

import os
import subprocess
import sys

import pytest
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, PadN
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from harness import Tunnel
from test_attack_inb_mix import Mix

WAN_LL = "fe80::ff:fe00:201"  # EUI-64 of wan0's 02:00:00:00:02:01
LAN_LL = "fe80::ff:fe00:101"  # lan0's (a protected port's), reached from the WAN
NH_MAC = "02:00:00:00:02:fe"


def conf_v4_only(in_opts):
    t = Tunnel(7, "aes-gcm-128", 4, 4, in_opts=in_opts)
    return [
        "port add lan0 dev net_pcap0 role protected address 10.1.0.1/24 mac %s"
        % harness.LAN_MAC,
        "port add wan0 dev net_pcap1 role unprotected address %s/24 mac %s"
        % (harness.WAN4, harness.WAN_MAC),
        "route add 0.0.0.0/0 via %s port wan0" % harness.NH4,
        "neighbor add %s lladdr %s port wan0" % (harness.NH4, harness.NH4_MAC),
        "neighbor add %s lladdr %s port lan0" % (harness.HOST4, harness.HOST_MAC),
    ] + t.conf(), t


@pytest.mark.parametrize("match", ["", "match spi"], ids=["spi-dst", "spi"])
def test_v4_only_link_local_esp_is_not_ours(match):
    conf, t = conf_v4_only(match)
    wan = []
    for i, dst in enumerate((WAN_LL, LAN_LL, WAN_LL, LAN_LL)):
        esp = bytes(t.encap(t.wan_pkt("udp", 20 + i), i + 1))[34:]
        src = "fe80::1" if i < 2 else "2001:db8:300::1"
        wan.append(Ether(src=NH_MAC, dst=harness.WAN_MAC) /
                   IPv6(src=src, dst=dst, nh=50, hlim=64) / Raw(esp))
    res = harness.run(conf, wan=wan)
    assert res.out["lan0"] == [], "IPv6 ESP to a link-local address decrypted on an " \
        "IPv4-only gateway"
    assert res.out["wan0"] == []
    harness.assert_drops(res.stats, no_policy=4)


@pytest.mark.parametrize("total", [8, 9])
def test_esp_to_each_configured_address(total):
    """Eight or nine configured IPv4 addresses (the reverted shortcut scanned
    eight at most, leaving more to the route lookup): ESP to the last of them
    (wan0's, after lan0's) is the gateway's, decrypted and delivered in
    order; ESP from the WAN to one of lan0's extra addresses too (each has a
    local host route)."""
    conf, t = conf_v4_only("match spi")
    extra = ["address 10.3.%d.1/24" % k for k in range(total - 2)]
    conf[0] = conf[0].replace("/24 mac", "/24 %s mac" % " ".join(extra))
    wan = [t.encap(t.wan_pkt("udp", 30 + i), i + 1) for i in range(4)]
    late = Ether(bytes(t.encap(t.wan_pkt("udp", 40), 5)))
    late[IP].dst = "10.3.%d.1" % (total - 3)
    del late[IP].chksum
    res = harness.run(conf, wan=wan + [Ether(bytes(late))])
    got = [bytes(Ether(f)[UDP].payload) for f in res.out["lan0"]]
    want = [bytes(t.wan_pkt("udp", n)[UDP].payload) for n in (30, 31, 32, 33, 40)]
    assert got == want, (total, res.out["lan0"])
    assert res.out["wan0"] == []
    harness.assert_drops(res.stats)


class OwnMix(Mix):
    """test_attack_inb_mix's kinds, and more around the gateway's own addresses:

      L  the IPv6 tunnel's ESP to our link-local address (no SA there: no_sa)
      M  the same to ff02::1 (no_sa)          F  a G in two outer IPv4 fragments
      D  a C behind a destination options header (decrypted)
      T  a G to another host behind the gateway: transit, no rule (no_policy)
      I  IKE to our IPv4 address, no host interface: the SPD's (no_policy)
      K  a NAT-T keepalive to the NAT-T SA's port (absorbed)
      X  a G whose IPv4 total length exceeds the frame (bad_l3)
      V  a C to another IPv6 host behind the gateway: transit (no_policy)
      P  clear IPv4 to the LAN host under an inbound bypass rule (forwarded)
      Q  the same in IPv6"""

    def conf(self):
        return super().conf() + [
            "route add %s/32 via %s port wan0" % (harness.WAN4, harness.NH4),
            "route add %s/128 via %s port wan0" % (harness.WAN6, harness.NH6),
            "sp add in priority 5 src 192.0.2.0/24 dst %s bypass" % harness.LAN_NET4,
            "sp add in priority 5 src 2001:db8:300::/64 dst %s bypass" % harness.LAN_NET6,
        ]

    def make(self, c, plan):
        g, cc = self.g, self.c
        if c in "LMD":
            esp, pk = self.esp("c")
            o = cc.outer_hdr()
            if c == "L":
                o.src, o.dst = "fe80::1", WAN_LL
                plan.wan_in(bytes(Ether(src=NH_MAC, dst=harness.WAN_MAC) / o / Raw(esp)))
            elif c == "M":
                plan.wan_in(bytes(Ether(src=NH_MAC, dst="33:33:00:00:00:01") /
                                  IPv6(src=o.src, dst="ff02::1", nh=50) / Raw(esp)))
            else:
                o.nh = 60
                plan.wan_in(bytes(harness.wan_frame(
                    o / IPv6ExtHdrDestOpt(nh=50, options=[PadN(optdata=b"\0\0\0\0")]) /
                    Raw(esp))), pk)
        elif c == "F":
            esp, pk = self.esp("g")
            o = g.outer_hdr() / Raw(esp)
            frags = fragment(IP(bytes(o)), fragsize=48)
            assert len(frags) >= 2
            for k, f in enumerate(reversed(frags)):
                plan.wan_in(bytes(harness.wan_frame(f)), pk if k == len(frags) - 1 else None)
        elif c == "T":
            esp, _ = self.esp("g")
            o = g.outer_hdr()
            o.dst = "10.1.0.77"
            plan.wan_in(bytes(harness.wan_frame(o / Raw(esp))))
        elif c == "V":
            esp, _ = self.esp("c")
            o = cc.outer_hdr()
            o.dst = "2001:db8:1::77"
            plan.wan_in(bytes(harness.wan_frame(o / Raw(esp))))
        elif c in "PQ":
            self.k += 1
            if c == "P":
                pk = IP(src="192.0.2.9", dst=harness.HOST4, ttl=9)
            else:
                pk = IPv6(src="2001:db8:300::9", dst=harness.HOST6, hlim=9)
            pk = pk / UDP(sport=6000 + self.k, dport=7) / Raw(b"bypass-%d" % self.k)
            pk = pk.__class__(bytes(pk))
            plan.wan_in(bytes(harness.wan_frame(pk)), pk)
        elif c == "I":
            plan.wan_in(bytes(harness.wan_frame(
                IP(src=g.peer, dst=harness.WAN4) / UDP(sport=500, dport=500) / Raw(bytes(40)))))
        elif c == "K":
            plan.wan_in(bytes(harness.wan_frame(
                IPv6(src=self.n.peer, dst=self.n.local) / UDP(sport=4500, dport=4500) /
                Raw(b"\xff"))))
        elif c == "X":
            esp, _ = self.esp("g")
            o = g.outer_hdr()
            o.len = 20 + len(esp) + 40
            plan.wan_in(bytes(harness.wan_frame(o / Raw(esp))))
        else:
            super().make(c, plan)


ROUNDS = ["GPLFbCQMUTDVIBKXhGPgtuQUrB", "PGLQFCDGVTMLUIKCXrGP", "FFGGDDCCLLMMTTVVBBUUPPQQ",
          "GCPUQBDFLVMTIKXbhgtur", "GPGQGPCVCQCPUIUKBTB"]
REASON = {"b": "no_sa", "u": "no_sa", "e": "encap_mismatch", "w": "encap_mismatch",
          "h": "ah_proto_mismatch", "g": "ah_proto_mismatch", "t": "bad_length",
          "r": "replay", "L": "no_sa", "M": "no_sa", "T": "no_policy", "I": "no_policy", "V": "no_policy",
          "X": "bad_l3"}


def mixed(host_if=False):
    mx, p, drops = OwnMix(), harness.Plan(), {}
    for rnd in ROUNDS:
        for c in rnd:
            mx.make(c, p)
            if c in REASON and not (host_if and c == "I"):
                drops[REASON[c]] = drops.get(REASON[c], 0) + 1
    conf = mx.conf()
    if host_if:
        conf = [ln.replace("mac %s" % harness.WAN_MAC, "mac %s host-if egwown" % harness.WAN_MAC)
                for ln in conf]
    return p, drops, harness.run(conf, lan=p.lan, wan=p.wan)


def test_own_esp_mixed_bursts():
    p, drops, res = mixed()
    assert res.out["wan0"] == [], "something left wan0"
    p.check_clear(res)
    st = res.stats["drops"]
    bad = {k: (st[k], drops.get(k, 0)) for k in st if st[k] != drops.get(k, 0)}
    assert not bad, "drops (got, want): %s" % bad
    dp = res.stats.get("dataplane", {})
    nf = sum(1 for c in "".join(ROUNDS) if c == "F")
    assert dp.get("reassembled", 0) == nf, dp
    assert dp.get("nat_keepalives", 0) == \
        sum(1 for c in "".join(ROUNDS) if c == "K"), dp


NETNS_RUN = os.path.join(harness.SRC, "tests", "ctl", "netns_run.sh")


def test_own_esp_mixed_bursts_host_if():
    """The same with a host interface on wan0 (IKE up): IKE to our address and
    the NAT-T marker go to the control path, whose hop must be the route's
    (local_is_ike and natt_one read it). In a network namespace of its own."""
    if not os.environ.get("ESPGW_OWN_ESP_NS"):
        r = subprocess.run([NETNS_RUN, sys.executable, "-m", "pytest", "-q", "-p",
                            "no:cacheprovider", "%s::test_own_esp_mixed_bursts_host_if"
                            % os.path.abspath(__file__)],
                           env=dict(os.environ, ESPGW_OWN_ESP_NS="1"), capture_output=True,
                           text=True, timeout=240)
        if r.returncode == 77:
            pytest.skip("needs root for a network namespace")
        assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
        return
    p, drops, res = mixed(host_if=True)
    lan_only = harness.Plan()
    lan_only.to_lan = p.to_lan
    res.out["wan0"] = [f for f in res.out["wan0"] if f[12:14] in (b"\x08\x00", b"\x86\xdd")
                       and harness.flow_key(f[14:])[0] not in (harness.WAN4, harness.WAN6)
                       and not harness.flow_key(f[14:])[0].startswith("fe80")]
    lan_only.check_clear(res)
    st = res.stats["drops"]
    bad = {k: (st[k], drops.get(k, 0)) for k in st if st[k] != drops.get(k, 0)}
    assert not bad, "drops (got, want): %s" % bad
    assert res.stats["totals"]["to_ctl"] >= sum(1 for c in "".join(ROUNDS) if c == "I")
