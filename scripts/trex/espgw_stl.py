# SPDX-License-Identifier: BSD-3-Clause
"""TRex stateless (STL) profile for espgw on bare metal. Not run in espgw's
CI (no NICs there): written against the TRex STL API (trex_stl_lib /
trex.stl.api), check it with `stl-sim -f espgw_stl.py` before a campaign.

Topology (README, Performance):
    TRex port 0 -- lan0 [espgw A] wan0 ==ESP== wan0 [espgw B] lan0 -- TRex port 1
Port 0 (direction 0) sends from A's LAN 10.1.0.0/24 to the networks behind B,
10.(64 + i / 256).(i % 256).0/24 for tunnel i < N: the destination sweeps over
the N networks, so A encrypts with N SAs in turn, and B decrypts them. Port 1
(direction 1) sends the reverse traffic. The same profile drives a single
espgw (encrypt-only: port 1 just counts the ESP packets). Configurations for
A and B: scripts/bench/baremetal.py.

Tunables (TRex >= 2.89 argparse style, e.g. `start -f espgw_stl.py -m 1mpps
--port 0 1 -t --size imix --tunnels 1000`; older TRex: `-t size=imix,tunnels=1000`):
  --size     frame size incl. FCS (64..9216) or imix (7:4:1 of 64/570/1518 B)
  --tunnels  number of remote networks (= SAs on A), 1..16384
  --flows    UDP source ports per tunnel (RSS spreads them over A's workers)
"""

import argparse

from trex.stl.api import (STLPktBuilder, STLProfile, STLScVmRaw, STLStream, STLTXCont,
                          STLVmFixIpv4, STLVmFlowVar, STLVmWrFlowVar)
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

IMIX = ((64, 7), (570, 4), (1518, 1))  # CSIT IMIX_v4_1
FCS = 4
LAN_A_HOST = "10.1.0.10"
REMOTE_BASE = "10.64.0.1"  # first host of tunnel 0's network; tunnel i: + i * 256


def ip2int(ip):
    a, b, c, d = (int(x) for x in ip.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def parse(tunables, kwargs):
    p = argparse.ArgumentParser(prog="espgw_stl.py")
    p.add_argument("--size", default="64", help="frame size incl. FCS, or imix")
    p.add_argument("--tunnels", type=int, default=1, help="remote networks (SAs)")
    p.add_argument("--flows", type=int, default=64, help="UDP source ports per tunnel")
    argv = list(tunables or [])
    for k, v in kwargs.items():  # old TRex passes tunables as keyword arguments
        if k in ("size", "tunnels", "flows"):
            argv += ["--" + k, str(v)]
    a = p.parse_args(argv)
    if not 1 <= a.tunnels <= 16384 or not 1 <= a.flows <= 60000:
        p.error("--tunnels 1..16384, --flows 1..60000")
    if a.size != "imix" and not 64 <= int(a.size) <= 9216:
        p.error("--size 64..9216 or imix")
    return a


def field_engine(direction, tunnels, flows):
    """Sweep the remote side over the tunnels' networks (step one /24) and the
    UDP source port over the flows; fix the IPv4 checksum."""
    first = ip2int(REMOTE_BASE)
    remote = "IP.dst" if direction == 0 else "IP.src"
    return STLScVmRaw([
        STLVmFlowVar(name="net", min_value=first, max_value=first + (tunnels - 1) * 256,
                     size=4, step=256, op="inc"),
        STLVmWrFlowVar(fv_name="net", pkt_offset=remote),
        STLVmFlowVar(name="sport", min_value=1024, max_value=1024 + flows - 1, size=2,
                     op="inc"),
        STLVmWrFlowVar(fv_name="sport", pkt_offset="UDP.sport"),
        STLVmFixIpv4(offset="IP"),
    ])


def stream(direction, frame, pps, vm):
    src, dst = (LAN_A_HOST, REMOTE_BASE) if direction == 0 else (REMOTE_BASE, LAN_A_HOST)
    # UDP checksum 0 (none, RFC 768): the field engine rewrites addresses.
    base = Ether() / IP(src=src, dst=dst, ttl=64) / UDP(sport=1024, dport=5001, chksum=0)
    pad = max(0, frame - FCS - len(base))
    return STLStream(packet=STLPktBuilder(pkt=base / (b"\x00" * pad), vm=vm),
                     mode=STLTXCont(pps=pps))


class EspgwProfile(object):
    def get_streams(self, tunables=None, direction=0, port_id=0, **kwargs):
        a = parse(tunables, kwargs)
        vm = field_engine(direction % 2, a.tunnels, a.flows)
        mix = IMIX if a.size == "imix" else ((int(a.size), 1),)
        # pps values are ratios: TRex's -m sets the total rate.
        return STLProfile([stream(direction % 2, f, w, vm) for f, w in mix]).get_streams()


def register():
    return EspgwProfile()
