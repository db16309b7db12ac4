#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Helper of scripts/demo.sh (Debian's python3, scapy and tshark).

  demo.py branches BUILD DIR MIB  the two-branch-office demo: the topology of
                             scripts/netns/topo.py with both gateways, then
                             1. pings, 2. a TCP transfer of MIB MiB checked by
                             SHA-256, 3. the internet capture judged (only ESP
                             between the gateways, tshark verifies every ICV),
                             4. the gateways' counters; everything removed at
                             the end, also on failure, Ctrl-C or SIGTERM.
                             Work files (capture, logs, counters) go to DIR.

  demo.py nat BUILD DIR MIB  the same with gw-a behind a NAT box (an nftables
                             masquerade; config/gw-a-nat.conf, gw-b-nat.conf):
                             the tunnels in UDP (RFC 3948), and the capture
                             must hold only UDP 4500 between the NAT's public
                             address and gw-b.

The --pcap variant of demo.sh (one gateway on two pcap-file ports):
  demo.py prepare CONF DIR   read CONF, write DIR/lan-in.pcap (plain LAN traffic to
                             the remote branch), DIR/wan-in.pcap (the same traffic
                             from the peer, ESP-encrypted with CONF's inbound SA),
                             DIR/demo.env (port devices) and DIR/tshark.args
                             (tshark options that decrypt CONF's SAs)
  demo.py counters JSON      print espgw's exit counters readably
  demo.py show PCAP ARGS     one line per packet; for ESP: outer header, SPI,
                             sequence number, ICV verdict, decrypted inner packet

Only the few config commands the demo needs are read (port, sa, sp, neighbor);
espgw itself validates the files (espgw --check).
"""

import collections
import ipaddress
import json
import os
import re
import shlex
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "netns"))
import topo  # noqa: E402
import wire  # noqa: E402
import xfer  # noqa: E402

ROOT = topo.ROOT
CONFS = [os.path.join(ROOT, "config", "gw-a.conf"), os.path.join(ROOT, "config", "gw-b.conf")]
NAT_CONFS = [os.path.join(ROOT, "config", "gw-a-nat.conf"),
             os.path.join(ROOT, "config", "gw-b-nat.conf")]
N_PACKETS = 4  # per direction, --pcap variant


class DemoFailure(Exception):
    pass


def step(msg):
    print("\n==> %s" % msg, flush=True)


def say(msg=""):
    print("    " + msg, flush=True)


def rel(path):
    return os.path.relpath(path, os.getcwd()) if path.startswith(ROOT) else path


# ------------------------------------------------------------ the topology
def show_topology(t):
    a, b, ra, rb = topo.SITES["a"], topo.SITES["b"], topo.ROUTER["a"], topo.ROUTER["b"]
    nat = topo.NAT
    rows = [
        ("branch-a", t.ns["a"], "host %s  %s" % (a["host4"], a["host6"])),
        ("  | tap", "", ""),
        ("gw-a", "espgw -f %s" % rel(t.gw["a"].conf),
         "lan0 %s  wan0 %s" % (a["gw4"], nat["gw4"] if t.nat_a else ra["gw4"])),
        ("  | tap", "", ""),
    ]
    if t.nat_a:
        rows += [("NAT box", t.ns["nat"], "%s | %s (nftables masquerade)"
                  % (nat["inside_ip"], nat["public"])), ("  | veth", "", "")]
    rows += [
        ("internet", t.ns["net"], "router %s | %s" % (ra["ip4"], rb["ip4"])),
        ("  | tap", "", ""),
        ("gw-b", "espgw -f %s" % rel(t.gw["b"].conf),
         "wan0 %s  lan0 %s" % (rb["gw4"], b["gw4"])),
        ("  | tap", "", ""),
        ("branch-b", t.ns["b"], "host %s  %s" % (b["host4"], b["host6"])),
    ]
    for r in rows:
        say(("%-9s %-28s %s" % r).rstrip())
    say("(and IPv6 on every link; neither gateway has a static neighbor: ARP and ND find them)")


def bring_up(t):
    step("Creating the two branch offices and the internet (network namespaces)")
    t.up()
    show_topology(t)
    for g in "ab":
        gw = t.gw[g]
        say("%s: pid %d, EAL file prefix %s" % (gw.name, gw.proc.pid, gw.prefix))


# ------------------------------------------------------------ 1. ping
PINGS = [
    ("a", "b", "IPv4", "host4", None),
    ("b", "a", "IPv4", "host4", None),
    ("a", "b", "IPv6", "host6", None),
    ("b", "a", "IPv6", "host6", None),
    ("a", "b", "IPv6 in the IPv4 tunnel", "mixed6", "mixed6"),
    ("b", "a", "IPv6 in the IPv4 tunnel", "mixed6", "mixed6"),
]


def rtt(out):
    m = re.search(r"= [\d.]+/([\d.]+)/", out)
    return "(avg %.1f ms)" % float(m.group(1)) if m else ""


# Behind the IPv4-only NAT: IPv4, and IPv6 inside the IPv4 tunnel.
NAT_PINGS = [p for p in PINGS if p[3] != "host6"]


def pings(t):
    step("1. ping from branch to branch, through the tunnel")
    for src, dst, what, addr, via in (NAT_PINGS if t.nat_a else PINGS):
        s, d = topo.SITES[src], topo.SITES[dst]
        r = t.ping(src, d[addr], count=3, src=s[via] if via else None)
        m = re.search(r"(\d+) received", r.stdout)
        got = int(m.group(1)) if m else 0
        say("%s -> %s  %-24s %s -> %s: %d/3 replies %s"
            % (s["title"], d["title"], what, s[addr], d[addr], got, rtt(r.stdout)))
        if got == 0:
            raise DemoFailure("no reply:\n%s%s" % (r.stdout, r.stderr))


# ------------------------------------------------------------ 2. TCP
def pmtu(t, site, dst):
    out = t.run(site, ["ip", "route", "get", dst]).stdout
    m = re.search(r"mtu (\d+)", out)
    return int(m.group(1)) if m else None


def transfer(t, mib):
    dst = topo.SITES["b"]["host4"]
    n = mib << 20
    step("2. TCP transfer of %d MiB from branch-a to branch-b (%s port 5001)" % (mib, dst))
    sent, got = t.tcp("a", "b", dst, n, timeout=300)
    say("sent %d bytes in %.2f s: %.1f Mbit/s (TCP MSS %d)"
        % (sent["bytes"], sent["seconds"], sent["mbit_s"], sent["mss"]))
    mtu = pmtu(t, "a", dst)
    if mtu:
        say("path MTU branch-a -> branch-b: %d, learned from gw-a's ICMP \"fragmentation "
            "needed\"" % mtu)
    say("sender   SHA-256 %s" % sent["sha256"])
    say("receiver SHA-256 %s  (%d bytes)" % (got["sha256"], got["bytes"]))
    if (sent["sha256"], sent["bytes"]) != (got["sha256"], got["bytes"]):
        raise DemoFailure("the data arrived changed")
    say("identical")
    return n


# ------------------------------------------------------------ 3. capture
def audit_capture(t, pcap, nbytes):
    step("3. What crossed the internet (tcpdump in %s), judged" % t.ns["net"])
    public = [(topo.NAT["public"], topo.ROUTER["b"]["gw4"])] if t.nat_a else \
        [topo.PUBLIC4, topo.PUBLIC6]
    nets = [topo.SITES[s][k] for s in "ab" for k in ("net4", "net6")]
    secrets = {"branch host " + topo.SITES[s][k]: ipaddress.ip_address(topo.SITES[s][k]).packed
               for s in "ab" for k in ("host6", "mixed6")}
    pieces = wire.secret_pieces(xfer.data("espgw", nbytes))
    secrets.update(pieces)
    au = wire.audit(pcap, public, nets, secrets)
    say(au.summary())
    say("(the router forwards each packet: it is seen twice, on its way in and on its way out)")
    for (src, dst), n in sorted(au.esp_pairs.items()):
        say("  ESP %s > %s: %d" % (src, dst, n))
    for (src, dst), n in sorted(au.natt_pairs.items()):
        say("  ESP in UDP %s > %s: %d" % (src, dst, n))
    if t.nat_a and (au.kinds["esp4"] or not au.kinds["natt"]):
        raise DemoFailure("behind the NAT, the tunnels must cross as ESP in UDP only")
    say("  ARP: %s" % ", ".join("%s %s for %s" % ("request" if op == 1 else "reply", s, d)
                                for (op, s, d) in sorted(au.arp)))
    if au.violations or au.secrets_found:
        raise DemoFailure("not only ESP: %s %s" % (au.violations[:10], au.secrets_found))
    say("no packet with a branch address in the clear; none of %d samples of the "
        "transferred data in the clear" % len(pieces))
    verdicts(pcap, t.nat_a)


def verdicts(pcap, nat=False):
    # Behind the NAT, gw-b's config names the addresses on the wire (the NAT's public one).
    confs = NAT_CONFS[1:] if nat else CONFS
    v = wire.esp_verdicts(pcap, confs, udp=nat)
    good = sum(1 for x in v if x["good"])
    say("tshark with the demo keys of %s: %d ESP packets decrypted, %d with a "
        "good ICV" % (rel(confs[0]), len(v), good))
    names = {int(sa["spi"], 0): name for name, sa in wire.Conf(confs[0]).sas.items()}
    per = collections.Counter((x["spi"], x["inner"]) for x in v)
    for (spi, inner), n in sorted(per.items()):
        say("  spi 0x%08x (%-4s) %6d packets, inside: %s > %s"
            % (spi, names.get(spi, "?"), n, inner[0] if inner else "?",
               inner[1] if inner else "?"))
    if good != len(v) or not v:
        raise DemoFailure("%d ESP packets without a good ICV" % (len(v) - good))
    if not nat:
        sample(pcap)


def sample(pcap):
    """What tshark shows of the first packets of the transfer, keys given."""
    cmd = ["tshark", "-n", "-r", pcap] + wire.tshark_esp_args(CONFS) + [
        "-c", "400", "-Y", "esp && tcp.len > 0", "-T", "fields", "-e", "frame.number",
        "-e", "ip.src", "-e", "ip.dst", "-e", "esp.spi", "-e", "esp.sequence",
        "-e", "esp.icv_good", "-e", "tcp.len"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=wire.tshark_env())
    say("the first data packets, as tshark decodes them (each seen once):")
    seen = set()
    for line in res.stdout.splitlines():
        f = line.split("\t")
        if (f[3], f[4]) in seen:
            continue
        seen.add((f[3], f[4]))
        if len(seen) > 3:
            break
        src, dst = f[1].split(","), f[2].split(",")
        say("  #%s ESP %s > %s spi %s seq %s ICV %s | inside: TCP %s > %s, %s bytes"
            % (f[0], src[0], dst[0], f[3], f[4], "good" if f[5] == "1" else "BAD",
               src[-1], dst[-1], f[6]))


# ------------------------------------------------------------ 4. counters
def show_counters(name, st):
    t = st["totals"]
    say("%s: received %d, transmitted %d, dropped %d, to the control path %d"
        % (name, t["rx"], t["tx"], t["drops"], t["to_ctl"]))
    say("  ports: " + ", ".join("%s rx %d tx %d" % (n, p["rx"], p["tx"])
                                for n, p in st["ports"].items()))
    for n, sa in st["sa"].items():
        say("  SA %-5s %-3s spi 0x%08x %7d packets %10d bytes %d errors"
            % (n, sa["dir"], sa["spi"], sa["pkts"], sa["bytes"], sa["errors"]))
    drops = {k: v for k, v in st["drops"].items() if v}
    say("  drops: " + (", ".join("%s %d" % kv for kv in drops.items())
                       or "none (0 for each of the %d reasons)" % len(st["drops"])))
    c = st["control"]
    ctl = {k: v for k, v in c.items() if v and k not in ("drops", "in")}
    say("  control path: %d in: %s" % (c["in"], ", ".join("%s %d" % kv for kv in ctl.items())))
    cd = {k: v for k, v in c["drops"].items() if v}
    if cd:
        say("  control path drops: " + ", ".join("%s %d" % kv for kv in cd.items()))
    bad = topo.counter_problems(st)
    if bad:
        raise DemoFailure("%s: counters do not add up: %s" % (name, "; ".join(bad)))
    say("  every packet accounted for: received = transmitted + dropped + to control path"
        + (" (+ fragments made / merged)" if "dataplane" in st else ""))


def counters_step(t):
    step("4. Counters of both gateways (SIGTERM, then their --stats-json)")
    st = t.stop_gateways()
    for g in "ab":
        show_counters(t.gw[g].name, st[g])
    say("(local_unhandled: mostly the IPv6 multicast listener reports (MLD) that the kernels "
        "of the namespaces send to the gateways; espgw has no use for them)")


# ------------------------------------------------------------ the whole demo
def raise_exit(sig, frame):
    raise SystemExit(128 + sig)


def branches(build, workdir, mib, nat=False):
    signal.signal(signal.SIGTERM, raise_exit)
    signal.signal(signal.SIGHUP, raise_exit)
    espgw = os.path.join(build, "app", "espgw", "espgw")
    if nat:
        t = topo.Topology(workdir, espgw, conf_a=NAT_CONFS[0], conf_b=NAT_CONFS[1], nat_a=True)
    else:
        t = topo.Topology(workdir, espgw)
    rc = 1
    try:
        bring_up(t)
        pcap = os.path.join(workdir, "internet.pcap")
        cap = t.start_capture(pcap)
        say("capturing every frame of the internet namespace into %s" % pcap)
        pings(t)
        n = transfer(t, mib)
        t.stop_capture(cap)
        audit_capture(t, pcap, n)
        counters_step(t)
        rc = 0
    except DemoFailure as e:
        print("\nerror: %s" % e, file=sys.stderr)
    except topo.TopologyError as e:
        print("\nerror: %s" % e, file=sys.stderr)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        rc = 130
    finally:
        step("Removing the namespaces, links and processes the demo created")
        t.down()
        left = t.leftovers()
        say("nothing left" if not left else "LEFT BEHIND: " + ", ".join(left))
    return rc if not left else 1


# ------------------------------------------------------------ --pcap variant
def lan_traffic(conf):
    """Plain packets from the LAN host to hosts of the remote branch."""
    from scapy.all import ICMP, IP, UDP, Ether

    lan_name, lan = conf.port("protected")
    host = conf.neighbor_on(lan_name) or {"ip": "10.1.0.10", "lladdr": "02:00:00:00:01:10"}
    dst_net = ipaddress.ip_network(conf.protect_out[0]["dst"] if conf.protect_out
                                   else "10.2.0.0/24")
    eth = Ether(src=host["lladdr"], dst=lan.get("mac", "ff:ff:ff:ff:ff:ff"))
    pkts = []
    for i in range(N_PACKETS - 1):
        ip = IP(src=host["ip"], dst=str(dst_net.network_address + 20 + i))
        pkts.append(eth / ip / UDP(sport=40000 + i, dport=9) / ("hello branch %d" % i).encode())
    ip = IP(src=host["ip"], dst=str(dst_net.network_address + 1))
    pkts.append(eth / ip / ICMP(id=1, seq=1) / b"ping through the tunnel")
    return pkts


def reply(ip):
    """The answer a branch host would send to ip (UDP echo or ICMP echo reply)."""
    from scapy.all import ICMP, IP, UDP

    back = IP(src=ip.dst, dst=ip.src)
    if ICMP in ip:
        return back / ICMP(type=0, id=ip[ICMP].id, seq=ip[ICMP].seq) / bytes(ip[ICMP].payload)
    return back / UDP(sport=ip[UDP].dport, dport=ip[UDP].sport) / bytes(ip[UDP].payload)


def wan_traffic(conf, lan_pkts):
    """Replies to lan_pkts, encrypted by the peer with the inbound SA."""
    from scapy.all import IP, Ether
    from scapy.layers.ipsec import ESP, SecurityAssociation

    name, sa = conf.sa_dir("in")
    k = wire.sa_keys(sa) if sa else None
    if k is None or wire.ENC[k[0]][1] is None or ":" in sa["local"]:
        print("    (no inbound IPv4 SA with an algorithm scapy knows: no ESP input)")
        return []
    wan_name, wan = conf.port("unprotected")
    hop = conf.neighbor_on(wan_name) or {"lladdr": "02:00:00:00:02:fe"}
    sec = SecurityAssociation(ESP, spi=int(sa["spi"], 0), crypt_algo=wire.ENC[k[0]][1],
                              crypt_key=k[1], auth_algo=wire.AUTH[k[2]][1], auth_key=k[3] or None,
                              tunnel_header=IP(src=sa["remote"], dst=sa["local"]))
    eth = Ether(src=hop["lladdr"], dst=wan.get("mac", "ff:ff:ff:ff:ff:ff"))
    out = [eth / sec.encrypt(reply(p[IP]), seq_num=seq) for seq, p in enumerate(lan_pkts, 1)]
    print("    %d ESP packets from peer %s with SA %s (spi %s)"
          % (len(out), sa["remote"], name, sa["spi"]))
    return out


def prepare(conf_path, d):
    from scapy.all import wrpcap

    conf = wire.Conf(conf_path)
    for name, port in conf.ports.items():
        if not port.get("dev", "").startswith("net_pcap"):
            sys.exit("demo: port %s is dev %s; the demo needs net_pcap ports (see "
                     "config/minimal.conf)" % (name, port.get("dev")))
    lan_pkts = lan_traffic(conf)
    wrpcap(os.path.join(d, "lan-in.pcap"), lan_pkts)
    print("    %d plain packets from LAN host %s" % (len(lan_pkts), lan_pkts[0]["IP"].src))
    # net_pcap needs an Ethernet pcap even when it holds no packet.
    wrpcap(os.path.join(d, "wan-in.pcap"), wan_traffic(conf, lan_pkts), linktype=1)
    with open(os.path.join(d, "demo.env"), "w") as f:
        for var, role in (("LAN", "protected"), ("WAN", "unprotected")):
            name, port = conf.port(role)
            f.write("%s_NAME=%s\n%s_DEV=%s\n" % (var, shlex.quote(name), var,
                                                  shlex.quote(port["dev"])))
    with open(os.path.join(d, "tshark.args"), "w") as f:
        for sa in conf.sas.values():
            uat = wire.tshark_sa(sa)
            if uat:
                f.write("-o\n%s\n" % uat)


def counters(path):
    with open(path) as f:
        c = json.load(f)
    t = c.get("totals", {})
    print("    packets received %s, sent %s, to control %s"
          % (t.get("rx", "?"), t.get("tx", "?"), t.get("to_ctl", "?")))
    for name, p in sorted(c.get("ports", {}).items()):
        print("    port %-8s rx %-6s tx %s" % (name, p.get("rx", "?"), p.get("tx", "?")))
    for name, s in sorted(c.get("sa", {}).items()):
        print("    SA   %-8s packets %-6s bytes %-8s errors %s"
              % (name, s.get("pkts", "?"), s.get("bytes", "?"), s.get("errors", "?")))
    drops = {k: v for k, v in c.get("drops", {}).items() if v}
    for k, v in sorted(drops.items()):
        print("    drop %-20s %s" % (k, v))
    if not drops:
        print("    no drops")


TSHARK_FIELDS = ["frame.number", "ip.src", "ip.dst", "esp.spi", "esp.sequence",
                 "esp.icv_good", "esp.icv_bad", "_ws.col.Protocol", "_ws.col.Info"]


def show(pcap, args_file):
    if not os.path.exists(pcap):
        print("    %s: not written" % os.path.basename(pcap))
        return
    with open(args_file) as f:
        sa_args = [line.rstrip("\n") for line in f if line.strip()]
    cmd = ["tshark", "-r", pcap, "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE"] + sa_args + ["-T", "fields"]
    for fld in TSHARK_FIELDS:
        cmd += ["-e", fld]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        err = [ln for ln in res.stderr.splitlines() if not ln.startswith("Running as user")]
        sys.exit("tshark failed: %s" % "\n".join(err))
    pkts = [ln.split("\t") for ln in res.stdout.splitlines() if ln.strip()]
    n_esp = sum(1 for f in pkts if f[3])
    n_ok = sum(1 for f in pkts if f[3] and f[5] == "1")
    print("    %s: %d packets, %d ESP (%d with a good ICV), %d plain"
          % (os.path.basename(pcap), len(pkts), n_esp, n_ok, len(pkts) - n_esp))
    for f in pkts:
        print("    " + pkt_line(f))


def pkt_line(f):
    num, src, dst, spi, seq, good, bad, proto, info = (f + [""] * 9)[:9]
    src, dst = src.split(","), dst.split(",")
    if not spi:
        return "%s  %s > %s  %s plain  %s" % (num, src[0], dst[0], proto, info)
    icv = "ICV ok" if good == "1" else ("ICV BAD" if bad == "1" else "ICV not checked")
    inner = "%s > %s %s %s" % (src[-1], dst[-1], proto, info) if len(src) > 1 \
        else "(not decrypted)"
    return "%s  ESP %s > %s spi %s seq %s %s | inner: %s" % (num, src[0], dst[0], spi, seq,
                                                             icv, inner)


def main(argv):
    if len(argv) == 5 and argv[1] in ("branches", "nat"):
        return branches(argv[2], argv[3], int(argv[4]), nat=argv[1] == "nat")
    if len(argv) == 4 and argv[1] == "prepare":
        prepare(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "counters":
        counters(argv[2])
    elif len(argv) == 4 and argv[1] == "show":
        show(argv[2], argv[3])
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
