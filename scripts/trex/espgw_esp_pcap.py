# SPDX-License-Identifier: BSD-3-Clause
"""TRex stateless profile that replays a pre-encrypted ESP pcap into espgw's
unprotected port: the inbound (decrypt-only) half of a single-DUT run. Not run
in espgw's CI (no NICs there): written against the TRex STL API; check it with
`stl-sim -f espgw_esp_pcap.py -t --pcap FILE` first.

Make the pcap and the matching espgw configuration with
    scripts/bench/baremetal.py pcap --dir in --tunnels N --size S -o in.pcap
    scripts/bench/baremetal.py dut --tunnels N ... > dut.conf
The pcap repeats its sequence numbers on every pass, so the inbound SAs in
that configuration have `replay-window 0`; say so with the results.

Each frame becomes one continuous stream at an equal share of the rate (TRex's
-m sets the total), so the frames interleave as in the pcap's mix.

Tunables: --pcap FILE (required)
"""

import argparse

from trex.stl.api import STLPktBuilder, STLProfile, STLStream, STLTXCont
from scapy.utils import rdpcap


def parse(tunables, kwargs):
    p = argparse.ArgumentParser(prog="espgw_esp_pcap.py")
    p.add_argument("--pcap", required="pcap" not in kwargs, help="pre-encrypted ESP pcap")
    argv = list(tunables or [])
    if "pcap" in kwargs:  # old TRex passes tunables as keyword arguments
        argv += ["--pcap", str(kwargs["pcap"])]
    return p.parse_args(argv)


class EspPcapProfile(object):
    def get_streams(self, tunables=None, direction=0, port_id=0, **kwargs):
        a = parse(tunables, kwargs)
        frames = rdpcap(a.pcap)
        if not frames:
            raise ValueError("%s holds no frames" % a.pcap)
        return STLProfile([STLStream(packet=STLPktBuilder(pkt_buffer=bytes(f)),
                                     mode=STLTXCont(pps=1)) for f in frames]).get_streams()


def register():
    return EspPcapProfile()
