#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Configurations and pcaps for a bare-metal benchmark with a hardware
traffic generator (TRex: scripts/trex/, pktgen-dpdk: scripts/pktgen/). The
addressing matches those scripts and the VM benchmark (scenarios.py).

  baremetal.py ab  --tunnels N --a-lan DEV --a-wan DEV --b-lan DEV --b-wan DEV
                   --tg-mac0 MAC --tg-mac1 MAC [--transform T] --out DIR
      gw-a.conf and gw-b.conf for  TG p0 - lan0 [A] wan0 == wan0 [B] lan0 - TG p1
  baremetal.py dut --tunnels N --lan DEV --wan DEV --tg-mac0 MAC --tg-mac1 MAC
                   [--transform T]
      one gateway between TG p0 (LAN) and TG p1 (its next hop 198.51.100.254):
      N outbound SAs (encrypt-only runs) and N inbound SAs with the replay
      window off (decrypt-only runs replaying a pre-encrypted pcap)
  baremetal.py pcap --dir in|out --tunnels N --size S [--transform T] -o FILE
      the pre-encrypted ESP frames (in) or plain frames (out) for `dut`

Port MACs are fixed in the configurations (A/DUT lan0 02:00:00:00:01:01, wan0
02:00:00:00:02:01; B lan0 02:00:00:00:03:01, wan0 02:00:00:00:02:02): give
them to the generator as destination MACs. Keys are published bench keys:
never use these configurations for real traffic.
"""

import argparse
import sys

import pcapgen
import scenarios as S

A_WAN, B_WAN = "198.51.100.1", "198.51.100.2"
B_WAN_MAC, B_LAN_MAC = "02:00:00:00:02:02", "02:00:00:00:03:01"
B_LAN, TG1_B = "10.255.0.1/24", "10.255.0.2"
REMOTE_SUPERNET = "10.64.0.0/10"  # every remote_net(i) for i < 16384


def port_lines(lan_dev, wan_dev, lan_addr, wan_addr, lan_mac, wan_mac):
    return ["port add lan0 dev %s role protected address %s mac %s" % (lan_dev, lan_addr, lan_mac),
            "port add wan0 dev %s role unprotected address %s/24 mac %s mtu %d"
            % (wan_dev, wan_addr, wan_mac, S.MTU)]


def sa_line(name, d, t, keys_dir, i, local, remote, replay=None):
    """SA i; keys_dir says whose keys and SPI it carries (B mirrors A)."""
    extra = "" if replay is None else " replay-window %d" % replay
    return "sa add %s%d dir %s spi %d mode tunnel local %s remote %s %s%s" % (
        name, i, d, S.sa_spi(keys_dir, i), local, remote, S.sa_clause(t, keys_dir, i), extra)


def sp_line(d, src, dst, sa):
    return "sp add %s src %s dst %s protect %s" % (d, src, dst, sa)


def gw_a(a, t):
    lines = port_lines(a.a_lan, a.a_wan, S.LAN_ADDR, A_WAN, S.LAN_MAC, S.WAN_MAC) + [
        "neighbor add %s lladdr %s port lan0" % (S.HOST, a.tg_mac0),
        "neighbor add %s lladdr %s port wan0" % (B_WAN, B_WAN_MAC),
        "route add %s via %s port wan0" % (REMOTE_SUPERNET, B_WAN)]
    for i in range(a.tunnels):
        net = S.remote_net(i)
        lines += [sa_line("out", "out", t, "out", i, A_WAN, B_WAN),
                  sa_line("in", "in", t, "in", i, A_WAN, B_WAN),
                  sp_line("out", S.LAN_NET, net, "out%d" % i),
                  sp_line("in", net, S.LAN_NET, "in%d" % i)]
    return lines


def gw_b(a, t):
    lines = port_lines(a.b_lan, a.b_wan, B_LAN, B_WAN, B_LAN_MAC, B_WAN_MAC) + [
        "neighbor add %s lladdr %s port lan0" % (TG1_B, a.tg_mac1),
        "neighbor add %s lladdr %s port wan0" % (A_WAN, S.WAN_MAC),
        "route add %s via %s port lan0" % (REMOTE_SUPERNET, TG1_B),
        "route add %s via %s port wan0" % (S.LAN_NET, A_WAN)]
    for i in range(a.tunnels):
        net = S.remote_net(i)
        lines += [sa_line("out", "out", t, "in", i, B_WAN, A_WAN),
                  sa_line("in", "in", t, "out", i, B_WAN, A_WAN),
                  sp_line("out", net, S.LAN_NET, "out%d" % i),
                  sp_line("in", S.LAN_NET, net, "in%d" % i)]
    return lines


def gw_dut(a, t):
    lines = port_lines(a.lan, a.wan, S.LAN_ADDR, S.WAN_IP, S.LAN_MAC, S.WAN_MAC) + [
        "neighbor add %s lladdr %s port lan0" % (S.HOST, a.tg_mac0),
        "neighbor add %s lladdr %s port wan0" % (S.NH, a.tg_mac1),
        "route add 0.0.0.0/0 via %s port wan0" % S.NH]
    for i in range(a.tunnels):
        net = S.remote_net(i)
        lines += [sa_line("out", "out", t, "out", i, S.WAN_IP, S.PEER),
                  sa_line("in", "in", t, "in", i, S.WAN_IP, S.PEER, replay=0),
                  sp_line("out", S.LAN_NET, net, "out%d" % i),
                  sp_line("in", net, S.LAN_NET, "in%d" % i)]
    return lines


def header(what, a):
    return ["# espgw bare-metal benchmark: %s, %d tunnel(s), %s (scripts/bench/baremetal.py)"
            % (what, a.tunnels, S.TRANSFORMS[a.transform].label),
            "# BENCH KEYS: published with espgw, never use them for real traffic."]


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def cmd_ab(a):
    t = S.TRANSFORMS[a.transform]
    write("%s/gw-a.conf" % a.out, header("gateway A", a) + gw_a(a, t))
    write("%s/gw-b.conf" % a.out, header("gateway B", a) + gw_b(a, t))
    print("wrote %s/gw-a.conf and %s/gw-b.conf" % (a.out, a.out))


def cmd_dut(a):
    print("\n".join(header("single gateway", a) + gw_dut(a, S.TRANSFORMS[a.transform])))


def cmd_pcap(a):
    t = S.TRANSFORMS[a.transform]
    n = max(pcapgen.N_FRAMES, a.tunnels)
    n += -n % 12  # whole IMIX patterns
    frames = (pcapgen.esp_frames(t, a.tunnels, a.size, n) if a.dir == "in"
              else pcapgen.plain_frames(a.tunnels, a.size, n))
    pcapgen.write_pcap(a.o, frames)
    print("wrote %d frames to %s" % (len(frames), a.o))


def parse(argv):
    p = argparse.ArgumentParser(prog="baremetal.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    cmds = {"ab": cmd_ab, "dut": cmd_dut, "pcap": cmd_pcap}
    args = {"ab": ("a-lan", "a-wan", "b-lan", "b-wan", "tg-mac0", "tg-mac1", "out"),
            "dut": ("lan", "wan", "tg-mac0", "tg-mac1"), "pcap": ("dir", "size", "o")}
    for name, req in args.items():
        sp = sub.add_parser(name)
        sp.add_argument("--tunnels", type=int, default=1)
        sp.add_argument("--transform", default="gcm128", choices=sorted(S.TRANSFORMS))
        for r in req:
            sp.add_argument(("-" if len(r) == 1 else "--") + r, required=True)
        sp.set_defaults(fn=cmds[name])
    a = p.parse_args(argv)
    if not 1 <= a.tunnels <= 16384:
        p.error("--tunnels must be 1..16384")
    if a.cmd == "pcap" and (a.dir not in ("in", "out") or a.size not in S.parse_sizes(a.size)):
        p.error("--dir in|out, --size 64..1518 or imix")
    return a


def main(argv):
    a = parse(argv)
    a.fn(a)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
