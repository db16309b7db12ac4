# SPDX-License-Identifier: BSD-3-Clause
"""Soak: two espgw processes back to back under mixed valid and hostile
traffic for ESPGW_SOAK_SECONDS (default 60): the gateways of
tests/pkt/test_b2b.py, their wan0 net_tap ports joined by a bridge in a
network namespace the test creates and deletes. Every input replays forever
(net_pcap infinite_rx, outputs discarded), so both gateways run flat out:

- LAN of each: genuine UDP/TCP/ICMP, IPv4 and IPv6, for the other LAN
  through the tunnel, mixed with what a LAN may send by mistake (no policy,
  TTL 1, garbage, ARP and echo for the gateway);
- a second unprotected port on each (wan1) where a rogue peer with an SA of
  its own sends: its genuine packets (accepted once, replays ever after),
  forged ICVs, truncated and unknown-SPI ESP, garbage, lying IPv4/IPv6
  headers, extension headers before ESP, outer fragments (whole, lone,
  overlapping), clear traffic for protected hosts, ARP and ICMP for us.

While it runs, telemetry is read every few seconds: both processes answer,
their counters move and the tunnel keeps carrying traffic. At the end both
stop cleanly (exit 0), and the harness checks each one's counter balance
(rx + created = tx + drops + to_ctl + absorbed + pending) and that every
pool is back to its baseline (no mbuf leaked). The rogue SA must have
accepted each of its genuine packets exactly once however often they came
back (RFC 4303 3.4.3 under load).

Not net_memif as in test_b2b: DPDK 22.11's net_memif unmaps its rings from
its interrupt thread when the peer leaves, under a worker that may be polling
them, and a gateway still running at full load when the other one stopped
crashed there (README, Known limits). The kernel's taps have no such race.
Needs root (the namespace, taps); without it the suite is skipped (exit
status 77).

Longer: ESPGW_SOAK_SECONDS=3600 meson test -C build --suite soak -t 10"""

import os
import random
import signal
import struct
import subprocess
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.join(os.environ.get("ESPGW_SRC", ""), "tests", "pkt"))
import harness  # noqa: E402
import test_b2b as b2b  # noqa: E402
from harness import EspSA, inner_pkt  # noqa: E402
from scapy.layers.inet import IP, ICMP, UDP, fragment  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import ARP, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

if os.getuid() != 0:
    pytest.exit("the soak needs root (a network namespace, taps): skipped",
                returncode=77)

SECONDS = int(os.environ.get("ESPGW_SOAK_SECONDS", "60"))
SAMPLE = 5  # seconds between telemetry samples
ROGUE, ROGUE_MAC, ROGUE_NET = "192.0.2.9", "02:00:00:00:09:09", "10.99.0.0/24"
ROGUE_HOST = "10.99.0.5"
WAN1, WAN1_MAC = "192.0.2.1", "02:00:00:00:05:01"
GENUINE = 32  # the rogue SA's genuine packets (sequence numbers 1..GENUINE)


def rogue_sa():
    return EspSA(0x3001, "aes-gcm-128")


def gw_conf(me):
    """test_b2b's gateway plus wan1 and the rogue peer's inbound SA and policy."""
    lm, wm = (b2b.A_LAN_MAC, b2b.A_WAN_MAC) if me == "a" else (b2b.B_LAN_MAC, b2b.B_WAN_MAC)
    sas = [(4, EspSA(0x1001, "aes-gcm-128"), EspSA(0x2001, "aes-gcm-128")),
           (6, EspSA(0x1006, "aes-cbc-256+hmac-sha256-128"),
            EspSA(0x2006, "aes-cbc-256+hmac-sha256-128"))]
    lines = b2b.gw_conf(me, lm, wm, "net_pcap0", "net_tap0", sas)
    lan = "10.%d.0.0/24" % (1 if me == "a" else 2)
    sa = rogue_sa()
    lines += [
        "port add wan1 dev net_pcap1 role unprotected address %s/24 mac %s" % (WAN1, WAN1_MAC),
        "neighbor add %s lladdr %s port wan1" % (ROGUE, ROGUE_MAC),
        "sa add rogue dir in spi 0x%x mode tunnel local %s remote %s %s replay-window 64"
        % (sa.spi, WAN1, ROGUE, sa.conf_algo()),
        "sp add in priority 5 src %s dst %s protect rogue" % (ROGUE_NET, lan),
        # The gateway's own traffic on wan1 crosses the SPD too: let it in (so the
        # rogue's UDP reaches the control path, local_unhandled), answer pings.
        "sp add in priority 1000 dst %s/32 bypass" % WAN1,
        "sp add out priority 1000 src %s/32 proto icmp bypass" % WAN1,
    ]
    return lines


def lan_frames(me):
    """Genuine traffic for the other LAN, and LAN mistakes, from A's or B's host."""
    n = 1 if me == "a" else 2
    o = 3 - n
    hmac, gmac = (b2b.A_HOST_MAC, b2b.A_LAN_MAC) if me == "a" else (b2b.B_HOST_MAC,
                                                                    b2b.B_LAN_MAC)
    pk = b2b.packets("10.%d.0.10" % n, "10.%d.0.10" % o, 4, 40) + \
        b2b.packets("2001:db8:%d::10" % n, "2001:db8:%d::10" % o, 6, 40)
    pk += [inner_pkt(4, "10.%d.0.10" % n, "10.77.0.1", "udp", 20),  # no policy
           inner_pkt(4, "10.%d.0.10" % n, "10.%d.0.10" % o, "udp", 20, ttl=1),
           IP(src="10.%d.0.10" % n, dst="10.%d.0.1" % n) / ICMP(id=3, seq=1)]
    frames = [Ether(src=hmac, dst=gmac) / p for p in pk]
    frames.append(Ether(src=hmac, dst="ff:ff:ff:ff:ff:ff") /
                  ARP(op=1, hwsrc=hmac, psrc="10.%d.0.10" % n, pdst="10.%d.0.1" % n))
    rnd = random.Random(n)
    frames += [Ether(src=hmac, dst=gmac, type=rnd.choice([0x0800, 0x86dd, 0x88b5])) /
               Raw(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 120))))
               for _ in range(8)]
    return [bytes(f) for f in frames]


def w1(pkt):
    return bytes(Ether(src=ROGUE_MAC, dst=WAN1_MAC) / pkt)


def rogue_esp(sa, inner, seq):
    return IP(src=ROGUE, dst=WAN1, proto=50) / Raw(sa.seal(bytes(inner), 4, seq))


def rogue_frames(me):
    """What the rogue peer sends to wan1: genuine once, hostile always."""
    lan_host = "10.%d.0.10" % (1 if me == "a" else 2)
    sa, rnd = rogue_sa(), random.Random(7)
    inner = [inner_pkt(4, ROGUE_HOST, lan_host, "udp", 10 + i) for i in range(GENUINE + 8)]
    f = [w1(rogue_esp(sa, inner[i], i + 1)) for i in range(GENUINE)]
    for i in range(GENUINE, GENUINE + 8):  # forged ICVs
        b = bytearray(w1(rogue_esp(sa, inner[i], i + 1)))
        b[-1 - i % 16] ^= 0x10
        f.append(bytes(b))
    esp = sa.seal(bytes(inner[0]), 4, 5000)
    f.append(w1(IP(src=ROGUE, dst=WAN1, proto=50) / Raw(esp[:12])))  # truncated
    bad_spi = struct.pack("!I", 0x3999) + esp[4:]
    f.append(w1(IP(src=ROGUE, dst=WAN1, proto=50) / Raw(bad_spi)))  # unknown SPI
    ip = bytearray(bytes(rogue_esp(sa, inner[1], 6000)))
    ip[0] = 0x4f  # IHL 15
    f.append(w1(bytes(ip)))
    ip = bytearray(bytes(rogue_esp(sa, inner[1], 6001)))
    struct.pack_into("!H", ip, 2, len(ip) + 100)  # total length beyond the frame
    f.append(w1(bytes(ip)))
    v6 = IPv6(src="2001:db8:99::9", dst="2001:db8:99::1", nh=0) / Raw(
        bytes([60, 0, 1, 4, 0, 0, 0, 0, 50, 0, 1, 4, 0, 0, 0, 0]) + esp)
    f.append(bytes(Ether(src=ROGUE_MAC, dst=WAN1_MAC) / v6))  # ext headers, not ours
    whole = rogue_esp(sa, inner_pkt(4, ROGUE_HOST, lan_host, "udp", 900), GENUINE + 100)
    whole.id = 0x1111
    frags = [w1(x) for x in fragment(IP(bytes(whole)), fragsize=400)]
    f += frags  # a genuine packet in outer fragments: accepted once, then a replay
    lone = rogue_esp(sa, inner[2], 7000)
    lone.id, lone.flags = 0x4242, "MF"
    f.append(w1(IP(bytes(lone))))  # a first fragment that never completes
    over = rogue_esp(sa, inner[3], 7001)
    over.id = 0x2222
    over = [w1(x) for x in fragment(IP(bytes(over)), fragsize=16)]
    f += over[:2] + over[1:3]  # a duplicate fragment
    f.append(w1(inner_pkt(4, ROGUE_HOST, lan_host, "udp", 30)))  # clear: policy mismatch
    f.append(w1(IP(src=ROGUE, dst=WAN1) / ICMP(id=9, seq=1)))
    f.append(w1(IP(src=ROGUE, dst=WAN1) / UDP(sport=7, dport=9)))
    f.append(bytes(Ether(src=ROGUE_MAC, dst="ff:ff:ff:ff:ff:ff") /
                   ARP(op=1, hwsrc=ROGUE_MAC, psrc=ROGUE, pdst=WAN1)))
    f += [bytes(Ether(src=ROGUE_MAC, dst=WAN1_MAC, type=0x0800) /
                Raw(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 200)))))
          for _ in range(16)]
    return f


class Wire:
    """The gateways' WAN link: a bridge joining their taps (ta, tb), in a
    namespace of its own where both run. IPv6 is off there, so the kernel
    adds no frames of its own to the link."""

    def __init__(self):
        self.ns = "espgw-soak-" + uuid.uuid4().hex[:8]
        self.made = False

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.ns] + list(args), check=True)

    def make(self):
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.made = True
        subprocess.run(self.wrap() + ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                                      "net.ipv6.conf.default.disable_ipv6=1"], check=True)
        self.ip("link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0")
        self.ip("link", "set", "br0", "up")

    def join(self, taps):
        """After the gateways made their taps. A tap's kernel side starts with
        its DPDK port's MAC; the bridge would keep frames for a MAC of its own."""
        for i, t in enumerate(taps):
            self.ip("link", "set", t, "address", "02:00:00:00:0e:%02x" % i, "master", "br0",
                    "up")

    def wrap(self):
        return ["ip", "netns", "exec", self.ns]

    def down(self):
        if self.made:
            subprocess.run(["ip", "netns", "del", self.ns], check=False)
            self.made = False


class Soak:
    def __init__(self, d):
        self.d, self.gws, self.wire = d, [], Wire()

    def start(self):
        self.wire.make()
        for me in ("a", "b"):
            paths = {}
            for name, frames in (("lan", lan_frames(me)), ("wan1", rogue_frames(me))):
                paths[name] = os.path.join(self.d, "%s_%s.pcap" % (me, name))
                harness.write_pcap(paths[name], frames)
            vdevs = ["net_pcap0,rx_pcap=%s,infinite_rx=1" % paths["lan"],
                     "net_tap0,iface=t%s" % me,
                     "net_pcap1,rx_pcap=%s,infinite_rx=1" % paths["wan1"]]
            # B's worker on the core where A has its (mostly idle) main lcore.
            extra = ("--main-lcore", "1") if me == "b" else ()
            self.gws.append(harness.Gateway(self.d, gw_conf(me), vdevs, name=me, lcores="0,1",
                                            extra_eal=extra, wrap=self.wire.wrap()))
        for g in self.gws:
            g.wait_telemetry(60)
        for g in self.gws:  # ports started: espgw has set its MACs on the taps
            b2b.wait_links_up(g)
        self.wire.join(["ta", "tb"])

    def sample(self):
        """Per gateway: totals and the tunnel's inbound SA counters."""
        out = []
        for g in self.gws:
            if g.proc.poll() is not None:
                g.fail("exited with %d during the soak" % g.proc.returncode)
            out.append((g.stats(), g.tel.query("/espgw/sa,i4")))
        return out

    def stop(self):
        """Both at once, as an operator would; each must exit 0 and balance."""
        for g in self.gws:
            g.proc.send_signal(signal.SIGTERM)
        return [g.stop(signalled=True) for g in self.gws]

    def kill(self):
        for g in self.gws:
            g.kill()
        self.wire.down()


@pytest.fixture(scope="module")
def soak():
    with harness.Workdir() as d:
        s = Soak(d)
        try:
            s.start()
            samples = [s.sample()]
            end = time.monotonic() + SECONDS
            while time.monotonic() < end:
                time.sleep(min(SAMPLE, max(0.1, end - time.monotonic())))
                samples.append(s.sample())
            stats = s.stop()
        finally:
            s.kill()
    return samples, stats


def test_counters_move(soak):
    """Each gateway keeps receiving, and the tunnel keeps delivering, in every
    sample interval: nothing stalls under the attack."""
    samples, _ = soak
    for gi, name in enumerate("ab"):
        rx = [s[gi][0]["rx"] for s in samples]
        tun = [s[gi][1]["pkts"] for s in samples]
        assert all(b > a for a, b in zip(rx, rx[1:])), "%s rx stalled: %s" % (name, rx)
        assert all(b > a for a, b in zip(tun[1:], tun[2:])), "%s tunnel stalled: %s" % (
            name, tun)


def test_rogue_genuine_once(soak):
    """However many times the rogue's genuine packets came back, each was accepted
    once: GENUINE plus the one that came in fragments."""
    _, stats = soak
    for st in stats:
        assert st["sa"]["rogue"]["pkts"] == GENUINE + 1, st["sa"]["rogue"]
        for why in ("replay", "auth_fail", "bad_length", "no_sa", "bad_l3", "policy_mismatch",
                    "unsupported_l3", "no_policy", "reasm_failed", "local_unhandled"):
            n = st["drops"][why] + st["control"]["drops"].get(why, 0)
            assert n > 0, "no %s drop: %s" % (why, st["drops"])
        # The fragmented genuine packet was put together again on every pass.
        assert st["dataplane"]["reassembled"] > 1, st["dataplane"]


def test_tunnel_carried_traffic(soak):
    """The tunnel between A and B carried traffic both ways (balance and pools
    were checked when each gateway stopped)."""
    _, stats = soak
    for st in stats:
        assert st["sa"]["o4"]["pkts"] > 0 and st["sa"]["i4"]["pkts"] > 0, st["sa"]
        assert st["sa"]["o6"]["pkts"] > 0 and st["sa"]["i6"]["pkts"] > 0, st["sa"]
