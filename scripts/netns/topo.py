#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two branch offices over a simulated internet, in network namespaces: the
testbed of scripts/demo.sh and of the interop tests (tests/interop).

    branch-a ns    host 10.1.0.10  2001:db8:a::10  2001:db8:a::46   (default via gw-a)
        | tap
    gw-a (espgw)   lan0 10.1.0.1 2001:db8:a::1    wan0 198.51.100.1 2001:db8:100::1
        | tap
    internet ns    router 198.51.100.254 2001:db8:100::fe | 203.0.113.254 2001:db8:200::fe
        | tap
    gw-b (espgw)   wan0 203.0.113.1 2001:db8:200::1    lan0 10.2.0.1 2001:db8:b::1
        | tap
    branch-b ns    host 10.2.0.10  2001:db8:b::10  2001:db8:b::46   (default via gw-b)

Both gateways are espgw processes (--no-huge -m 512 --no-pci -l 0,1, one
--file-prefix each) with two net_tap ports whose kernel sides are moved into
the namespaces once espgw is running; they resolve the router and the branch
hosts by ARP/ND (config/gw-a.conf and gw-b.conf have no static neighbors).

A gateway may run several workers (Topology(workers={"a": 2})): its lcores
share the machine's CPUs (eal_lcores) and each of its taps gets one queue per
worker. Which queue a packet from the kernel reaches is the tun driver's
choice, not RSS (net_tap's RSS needs rte_flow, i.e. tc flower, which this
kernel lacks, and espgw installs no flow rules): a flow espgw sent out in the
last seconds goes back to the queue it left from (symmetric flow hash), any
other packet to the queue of its flow hash. For ESP that hash covers the SPI
(the kernel's flow dissector reads it where ports would be), so each inbound
SA keeps to one queue; outer IP fragments hash on addresses and protocol only,
so reassembled ESP may reach another worker than the same SA's whole packets.

Only what this module creates is touched: three namespaces and four tap
interfaces whose names carry a random tag, the two gateways and the helper
processes started through spawn() (signalled by PID, never by name), the
gateways' EAL runtime directories, and files in the caller's work directory.
Everything goes away in down(), also after a failure; a state file in the work
directory lets "topo.py down DIR" clean up after a process that was killed.

  topo.py hold [--build DIR] [--workers-a N] [--workers-b N]
                               bring the topology up, print how to use it,
                               wait for Ctrl-C, tear it down
  topo.py down DIR             remove what the topology of DIR's state file created
"""

import argparse
import ipaddress
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from espgw_telemetry import Telemetry  # noqa: E402
from espgw_telemetry import runtime_dir as eal_runtime_dir  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"  # Debian's: it sees python3-scapy
XFER = os.path.join(HERE, "xfer.py")

# Addresses of the picture above; config/gw-a.conf and gw-b.conf use the same.
SITES = {
    "a": {
        "title": "branch-a",
        "host4": "10.1.0.10", "host6": "2001:db8:a::10", "mixed6": "2001:db8:a::46",
        "gw4": "10.1.0.1", "gw6": "2001:db8:a::1", "net4": "10.1.0.0/24",
        "net6": "2001:db8:a::/64", "mac": "02:00:00:0a:01:10",
    },
    "b": {
        "title": "branch-b",
        "host4": "10.2.0.10", "host6": "2001:db8:b::10", "mixed6": "2001:db8:b::46",
        "gw4": "10.2.0.1", "gw6": "2001:db8:b::1", "net4": "10.2.0.0/24",
        "net6": "2001:db8:b::/64", "mac": "02:00:00:0b:01:10",
    },
}
# The router's leg towards each gateway, and that gateway's public addresses.
ROUTER = {
    "a": {"ip4": "198.51.100.254", "ip6": "2001:db8:100::fe", "mac": "02:00:00:0a:02:fe",
          "gw4": "198.51.100.1", "gw6": "2001:db8:100::1", "gw_mac": "02:00:00:0a:02:01"},
    "b": {"ip4": "203.0.113.254", "ip6": "2001:db8:200::fe", "mac": "02:00:00:0b:02:fe",
          "gw4": "203.0.113.1", "gw6": "2001:db8:200::1", "gw_mac": "02:00:00:0b:02:01"},
}
# gw-a behind a NAT box (Topology(nat_a=True)): its WAN on a private link, the
# NAT box's public address on the router's link (config/gw-a-nat.conf).
NAT = {"inside_ip": "192.168.100.254", "inside_mac": "02:00:00:0a:03:fe",
       "gw4": "192.168.100.1", "public": "198.51.100.2"}
PUBLIC4 = (ROUTER["a"]["gw4"], ROUTER["b"]["gw4"])
PUBLIC6 = (ROUTER["a"]["gw6"], ROUTER["b"]["gw6"])

# Quiet links: no duplicate address detection (static test addresses), no
# router solicitations or advertisements; IPv4 and IPv6 forwarding only where asked.
NS_SYSCTLS = [
    "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
    "net.ipv6.conf.default.router_solicitations=0", "net.ipv6.conf.default.accept_ra=0",
]
ROUTER_SYSCTLS = ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]
# Packets the kernel holds per tap queue for espgw (the tun's ring; 1000 by
# default): like a NIC's RX ring, it carries traffic over the milliseconds a
# polling lcore is off its CPU on a machine with more pollers than CPUs.
TAP_QLEN = 4096


def link_local(mac):
    """The EUI-64 link-local address of a MAC (RFC 4291 2.5.1, appendix A)."""
    b = bytes.fromhex(mac.replace(":", ""))
    iid = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))


def sh(args, timeout=30, check=True):
    """Run a command to completion, text output; TopologyError if it fails and check."""
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise TopologyError("%s: exit status %d: %s" % (" ".join(args), r.returncode,
                                                        r.stderr.strip()))
    return r


def start_time(pid):
    """The process's start time (clock ticks since boot), or None if it is gone:
    with the PID it identifies a process, so a reused PID is never signalled."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


class TopologyError(RuntimeError):
    pass


def eal_lcores(workers):
    """EAL options for the main lcore and WORKERS worker lcores: one worker is
    "-l 0,1"; more get lcore ids 1..N (--lcores LCORE@CPU), the main lcore on
    the first CPU this process may use and the workers sharing the others (the
    machine of the tests has two CPUs, so "0@0,1@1,2@1"). No worker polls on the
    first CPU: on the test VM a polling lcore there starved the kernel's work of
    that CPU (workqueue lockup, RCU stall, "ip link set netns" hung in rcu_barrier)."""
    if workers < 1:
        raise TopologyError("a gateway needs at least one worker, not %d" % workers)
    if workers == 1:
        return ["-l", "0,1"]
    cpus = sorted(os.sched_getaffinity(0))
    spare = cpus[1:] or cpus
    spec = ["0@%d" % cpus[0]] + ["%d@%d" % (i, spare[(i - 1) % len(spare)])
                                 for i in range(1, workers + 1)]
    return ["--lcores", ",".join(spec)]


class Gateway:
    """One espgw process with two net_tap ports (lan0 = net_tap0, wan0 = net_tap1).
    With several workers each port has one RX and one TX queue per worker
    (lib/port/port.c); a net_tap queue pair is one file descriptor of the
    kernel's multiqueue tun device, which picks the RX queue (see the top)."""

    def __init__(self, name, espgw, conf, taps, workdir, tag, workers=1, netns=None):
        """netns: run espgw in this namespace (its host interfaces appear there);
        None: in the caller's."""
        self.name, self.conf, self.taps = name, conf, taps
        self.prefix = "espgw-netns-%s-%s" % (name, tag)
        self.json = os.path.join(workdir, name + ".json")
        self.log_path = os.path.join(workdir, name + ".log")
        self.out_path = os.path.join(workdir, name + ".out")
        # "ip netns exec" execs espgw in place: the PID stays the gateway's.
        self.cmd = ((["ip", "netns", "exec", netns] if netns else []) + [espgw]
                    + eal_lcores(workers)
                    + ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", self.prefix,
                       "--vdev", "net_tap0,iface=%s" % taps[0],
                       "--vdev", "net_tap1,iface=%s" % taps[1],
                       "--", "-f", conf, "--stats-json", self.json])
        self.proc = None
        self.started = None
        self.tel = Telemetry(self.prefix)

    def start(self):
        with open(self.out_path, "w") as out, open(self.log_path, "w") as err:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        self.started = start_time(self.proc.pid)

    def log(self, tail=4000):
        try:
            with open(self.log_path) as f:
                return f.read()[-tail:]
        except OSError:
            return ""

    def wait_ready(self, timeout):
        """Until /espgw/stats answers: registered once the ports and workers run."""
        end = time.monotonic() + timeout
        while self.tel.try_query("/espgw/stats") is None:
            if self.proc.poll() is not None:
                raise TopologyError("%s exited with %d while starting:\n%s"
                                    % (self.name, self.proc.returncode, self.log()))
            if time.monotonic() > end:
                raise TopologyError("%s not running after %d s:\n%s"
                                    % (self.name, timeout, self.log()))
            time.sleep(0.1)

    def stop(self, timeout=30):
        """SIGTERM, wait, return the --stats-json counters (TopologyError otherwise)."""
        self.tel.close()
        if self.proc is None or self.proc.poll() is not None:
            raise TopologyError("%s is not running (exit status %s):\n%s"
                                % (self.name, self.proc and self.proc.returncode, self.log()))
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TopologyError("%s still running %d s after SIGTERM" % (self.name, timeout))
        if rc != 0:
            raise TopologyError("%s: exit status %d after SIGTERM:\n%s"
                                % (self.name, rc, self.log()))
        try:
            with open(self.json) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            raise TopologyError("%s: no valid --stats-json file: %s" % (self.name, e))

    def kill(self):
        """Cleanup only: the process started here, if still running."""
        self.tel.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(eal_runtime_dir(self.prefix), ignore_errors=True)


class Topology:
    """The testbed. up() builds it, down() removes every part of it."""

    def __init__(self, workdir, espgw, conf_a=None, conf_b=None, router_mtu_b=None, tag=None,
                 verbose=False, workers=None, gw_netns=False, nat_a=False):
        """workers: worker lcores per gateway, e.g. {"a": 2} (default 1 each).
        gw_netns: each gateway runs in a namespace of its own (sites "gw-a",
        "gw-b"), so that its host interfaces (port ... host-if) and the
        daemons that use them live there, not in the caller's namespace.
        nat_a: gw-a sits behind a NAT box (site "nat", NAT above): its WAN
        port is on a private link, and the NAT box masquerades towards the
        router (nftables, conntrack)."""
        self.workdir = workdir
        self.tag = tag or secrets.token_hex(2)
        self.router_mtu_b = router_mtu_b
        self.verbose = verbose
        self.ns = {site: "espgw-%s-%s" % (self.tag, title) for site, title in
                   (("a", "branch-a"), ("net", "internet"), ("b", "branch-b"))}
        if gw_netns:
            self.ns.update({"gw-" + g: "espgw-%s-gw-%s" % (self.tag, g) for g in "ab"})
        self.nat_a = nat_a
        if nat_a:
            self.ns["nat"] = "espgw-%s-nat" % self.tag
        # Kernel sides of the taps: <= 15 characters, unique through the tag.
        self.taps = {gw: ("gw%s-lan-%s" % (gw, self.tag), "gw%s-wan-%s" % (gw, self.tag))
                     for gw in "ab"}
        conf = {"a": conf_a or os.path.join(ROOT, "config", "gw-a.conf"),
                "b": conf_b or os.path.join(ROOT, "config", "gw-b.conf")}
        workers = workers or {}
        self.gw = {g: Gateway("gw-" + g, espgw, conf[g], self.taps[g], workdir, self.tag,
                              workers.get(g, 1), self.ns.get("gw-" + g)) for g in "ab"}
        # Where each tap's kernel side is created: espgw's namespace.
        self.tap_home = {tap: ("gw-" + g if gw_netns else None)
                         for g in "ab" for tap in self.taps[g]}
        self.created_ns = []
        self.procs = []
        self.state_path = os.path.join(workdir, "topo.json")

    # ------------------------------------------------------------ state
    def save_state(self):
        """What down() must remove, for 'topo.py down DIR' after a crash."""
        st = {
            "ns": self.created_ns,
            "taps": [t for g in "ab" for t in self.taps[g]],
            "pids": [[p.pid, start_time(p.pid)] for p in self.live_procs()],
            "prefixes": [g.prefix for g in self.gw.values()],
        }
        with open(self.state_path, "w") as f:
            json.dump(st, f)

    def live_procs(self):
        procs = [g.proc for g in self.gw.values() if g.proc] + self.procs
        return [p for p in procs if p.poll() is None]

    def say(self, msg):
        if self.verbose:
            print("    " + msg, flush=True)

    # ------------------------------------------------------------ commands
    def ip(self, *args, site=None):
        cmd = ["ip"] + (["-n", self.ns[site]] if site else []) + list(args)
        self.say(" ".join(cmd))
        return sh(cmd)

    def run(self, site, args, timeout=60, check=False):
        """A command in a namespace, to completion (text output). It is in the
        state file while it runs, like everything spawn() starts."""
        p = self.spawn(site, args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
        if check:
            r.check_returncode()
        return r

    def spawn(self, site, args, **kw):
        """A background command in a namespace; down() ends it if still running."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[site]] + [str(a) for a in args],
                             **kw)
        self.procs = [q for q in self.procs if q.poll() is None] + [p]
        self.save_state()
        return p

    # ------------------------------------------------------------ traffic
    def ping(self, site, dst, count=3, size=56, df=None, src=None, wait=2):
        """ping from a namespace; df: None (ping's default), "do", "want", "dont"."""
        args = ["ping", "-6" if ":" in dst else "-4", "-n", "-c", str(count), "-i", "0.2",
                "-W", str(wait), "-s", str(size)]
        args += ["-M", df] if df else []
        args += ["-I", src] if src else []
        return self.run(site, args + [dst], timeout=count * (wait + 1) + 10)

    def receiver(self, site, args):
        """Start an xfer.py receiver in a namespace; returns once it listens."""
        p = self.spawn(site, [PYTHON, XFER] + [str(a) for a in args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if not line.startswith('{"ready"'):
            p.wait(10)
            raise TopologyError("receiver %s did not start: %s %s"
                                % (args, line, p.stderr.read()))
        return p

    def xfer(self, src, send_args, dst, recv_args, timeout=120):
        """One transfer: (sender's JSON report, receiver's JSON report)."""
        r = self.receiver(dst, recv_args)
        s = None
        try:
            s = self.run(src, [PYTHON, XFER] + [str(a) for a in send_args], timeout=timeout)
            # A failed sender: the receiver would wait for its idle timeout.
            out, err = r.communicate(timeout=timeout if s.returncode == 0 else 0.1)
        except subprocess.TimeoutExpired:
            r.kill()
            out, err = r.communicate()
        if s is None or s.returncode != 0:
            raise TopologyError("sender %s failed: %s" % (
                send_args, s.stdout + s.stderr if s else "no end after %d s" % timeout))
        if r.returncode != 0:
            raise TopologyError("receiver %s failed: %s%s" % (recv_args, out, err))
        return json.loads(s.stdout), json.loads(out.strip().splitlines()[-1])

    def tcp(self, src, dst, dst_addr, nbytes, seed="espgw", port=5001, timeout=120):
        return self.xfer(src, ["tcp-send", dst_addr, port, nbytes, seed], dst,
                         ["tcp-recv", dst_addr, port], timeout)

    def udp(self, src, dst, dst_addr, nbytes, df, seed="espgw", port=5002, timeout=5):
        return self.xfer(src, ["udp-send", dst_addr, port, nbytes, seed, df], dst,
                         ["udp-recv", dst_addr, port, timeout], timeout + 10)

    def tcp_flows(self, src, dst, dst_addr, flows, nbytes, seed, port=5003, timeout=120):
        """flows concurrent connections (own source ports) of nbytes each."""
        return self.xfer(src, ["tcp-flows-send", dst_addr, port, flows, nbytes, seed], dst,
                         ["tcp-flows-recv", dst_addr, port, flows], timeout)

    def udp_flows(self, src, dst, dst_addr, flows, count, nbytes, seed, port=5004, idle=5):
        """count datagrams of nbytes (DF set) from each of flows source ports."""
        return self.xfer(src, ["udp-flows-send", dst_addr, port, flows, count, nbytes, seed],
                         dst, ["udp-flows-recv", dst_addr, port, flows * count, idle], 60)

    def start_capture(self, path, site="net", timeout=10):
        """tcpdump on every interface of a namespace (Linux cooked frames) into
        path; returns once it captures."""
        p = self.spawn(site, ["tcpdump", "-Z", "root", "-i", "any", "-n", "-U", "-s", "0",
                              "-w", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end, seen = time.monotonic() + timeout, b""
        while time.monotonic() < end and p.poll() is None:
            if select.select([p.stderr], [], [], 0.2)[0]:
                seen += os.read(p.stderr.fileno(), 4096)
                if b"listening on" in seen:
                    return p
        self.stop_capture(p)
        raise TopologyError("tcpdump did not start (exit status %s): %s"
                            % (p.returncode, seen.decode(errors="replace")))

    def stop_capture(self, p, timeout=10):
        """SIGINT: tcpdump writes what it holds and exits."""
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stderr.close()

    def link_drops(self):
        """{tap: (kernel side RX dropped, TX dropped)} for the taps in the
        namespaces: where packets were lost outside espgw's counters (TX dropped
        there: the tun's ring towards espgw was full)."""
        out = {}
        for site in self.ns:
            for link in json.loads(self.ip("-j", "-s", "link", "show", site=site).stdout):
                st = link.get("stats64", {})
                if link["ifname"] != "lo":
                    out[link["ifname"]] = (st.get("rx", {}).get("dropped"),
                                           st.get("tx", {}).get("dropped"))
        return out

    # ------------------------------------------------------------ up
    def up(self, timeout=60):
        try:
            self.make_namespaces()
            for g in self.gw.values():
                self.say(" ".join(g.cmd))
                g.start()
            self.save_state()
            for g in self.gw.values():
                g.wait_ready(timeout)
            self.wire()
        except BaseException:
            self.down()
            raise

    def make_namespaces(self):
        for site, name in self.ns.items():
            self.ip("netns", "add", name)
            self.created_ns.append(name)
            self.save_state()
            sh(["ip", "netns", "exec", name, "sysctl", "-qw"] + NS_SYSCTLS
               + (ROUTER_SYSCTLS if site in ("net", "nat") else []))
            self.ip("link", "set", "lo", "up", site=site)

    def wire(self):
        """Move the taps' kernel sides into the namespaces and address them. The
        kernel side has the DPDK port's MAC until it is given its own here."""
        self.host_link("a", self.taps["a"][0])
        self.host_link("b", self.taps["b"][0])
        if self.nat_a:
            self.nat_link(self.taps["a"][1])
        else:
            self.router_link("a", self.taps["a"][1], None)
        self.router_link("b", self.taps["b"][1], self.router_mtu_b)

    def nat_link(self, tap):
        """gw-a's WAN tap into the NAT box (inside), a veth from the NAT box to the
        router (outside), masquerade on the way out (TESTING.md's recipe)."""
        n, r = NAT, ROUTER["a"]
        self.move(tap, "nat", n["inside_mac"])
        self.ip("addr", "add", n["inside_ip"] + "/24", "dev", tap, site="nat")
        out, rtr = "natout-" + self.tag, "natrtr-" + self.tag
        self.ip("link", "add", out, "netns", self.ns["nat"], "type", "veth", "peer", rtr,
                "netns", self.ns["net"])
        self.ip("addr", "add", n["public"] + "/24", "dev", out, site="nat")
        self.ip("link", "set", out, "up", site="nat")
        self.ip("addr", "add", r["ip4"] + "/24", "dev", rtr, site="net")
        self.ip("link", "set", rtr, "up", site="net")
        self.ip("route", "add", "default", "via", r["ip4"], site="nat")
        rules = ("table ip nat {\n chain post {\n  type nat hook postrouting priority 100;\n"
                 "  oifname \"%s\" masquerade\n }\n}\n" % out)
        p = self.spawn("nat", ["nft", "-f", "-"], stdin=subprocess.PIPE, text=True)
        p.communicate(rules, timeout=30)
        if p.returncode != 0:
            raise TopologyError("nft refused the NAT ruleset")

    def move(self, tap, site, mac, mtu=None):
        self.ip("link", "set", tap, "netns", self.ns[site], site=self.tap_home[tap])
        extra = ["mtu", str(mtu)] if mtu else []
        self.ip("link", "set", tap, "address", mac, "txqueuelen", str(TAP_QLEN), *extra, "up",
                site=site)

    def host_link(self, site, tap):
        s = SITES[site]
        self.move(tap, site, s["mac"])
        self.ip("addr", "add", s["host4"] + "/24", "dev", tap, site=site)
        self.ip("addr", "add", s["host6"] + "/64", "dev", tap, "nodad", site=site)
        # Deprecated (preferred_lft 0): used only when asked for (ping -I, bind), so
        # that the host's own traffic keeps host6 as its source (RFC 6724 rule 3).
        self.ip("addr", "add", s["mixed6"] + "/64", "dev", tap, "nodad", "preferred_lft", "0",
                site=site)
        self.ip("route", "add", "default", "via", s["gw4"], site=site)
        self.ip("-6", "route", "add", "default", "via", s["gw6"], site=site)

    def router_link(self, side, tap, mtu):
        r = ROUTER[side]
        self.move(tap, "net", r["mac"], mtu)
        self.ip("addr", "add", r["ip4"] + "/24", "dev", tap, site="net")
        self.ip("addr", "add", r["ip6"] + "/64", "dev", tap, "nodad", site="net")

    # ------------------------------------------------------------ down
    def stop_gateways(self, timeout=30):
        """Stop both gateways in order; their final counters, by gateway ('a', 'b')."""
        return {g: self.gw[g].stop(timeout) for g in "ab"}

    def down(self):
        """Remove everything this topology created; idempotent."""
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for g in self.gw.values():
            g.kill()
        for name in self.created_ns:
            sh(["ip", "netns", "del", name], check=False)
        self.created_ns = []
        if os.path.isdir(self.workdir):
            self.save_state()

    def leftovers(self):
        """What is still there of this topology (empty after a complete down())."""
        return find_leftovers(list(self.ns.values()), [t for g in "ab" for t in self.taps[g]],
                              [[p.pid, None] for p in self.live_procs()],
                              [g.prefix for g in self.gw.values()])


def counter_problems(st):
    """The invariants of a gateway's --stats-json counters (README, Counters):
    every packet a worker received (or made: fragments) was transmitted, dropped
    under one reason, handed to the control path, or merged into / waits for a
    reassembled packet; and the control path accounts for each packet it got.
    An empty list when they hold."""
    t, c = st["totals"], st["control"]
    # Fragmenting makes packets, reassembly merges and holds them (lib/dp/espgw_dp.h).
    dp = st.get("dataplane", {"created": 0, "absorbed": 0, "pending": 0})
    checks = [
        ("received + created = transmitted + dropped + to control path + absorbed + pending",
         t["rx"] + dp["created"],
         t["tx"] + t["drops"] + t["to_ctl"] + dp["absorbed"] + dp["pending"]),
        ("dropped = sum of the drop reasons", t["drops"], sum(st["drops"].values())),
        ("received = sum over the ports", t["rx"], sum(p["rx"] for p in st["ports"].values())),
        ("port transmissions = transmitted + sent by the control path",
         sum(p["tx"] for p in st["ports"].values()), t["tx"] + t["ctl_tx"]),
        ("control path: in = to control path", c["in"], t["to_ctl"]),
        ("control path: in = sent + absorbed + dropped + pending",
         c["in"], c["sent"] + c["absorbed"] + sum(c["drops"].values()) + c["pending"]),
    ]
    return ["%s: %d != %d" % (what, a, b) for what, a, b in checks if a != b]


def find_leftovers(ns, taps, pids, prefixes):
    left = []
    listed = sh(["ip", "netns", "list"]).stdout.split()
    left += ["namespace " + n for n in ns if n in listed]
    links = sh(["ip", "-o", "link", "show"]).stdout
    left += ["link " + t for t in taps if (" %s:" % t) in links or (" %s@" % t) in links]
    left += ["process %d" % pid for pid, st in pids
             if start_time(pid) is not None and (st is None or start_time(pid) == st)]
    left += ["EAL directory " + eal_runtime_dir(p) for p in prefixes
             if os.path.exists(eal_runtime_dir(p))]
    return left


def down_from_state(workdir):
    """'topo.py down DIR': the cleanup of a Topology whose process is gone."""
    path = os.path.join(workdir, "topo.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        st = json.load(f)
    for pid, started in st["pids"]:
        if started is not None and start_time(pid) == started:
            os.kill(pid, signal.SIGKILL)
    for _ in range(50):  # the taps go away with the gateways
        if not any(start_time(pid) == s for pid, s in st["pids"] if s is not None):
            break
        time.sleep(0.1)
    for name in st["ns"]:
        sh(["ip", "netns", "del", name], check=False)
    for p in st["prefixes"]:
        shutil.rmtree(eal_runtime_dir(p), ignore_errors=True)
    return find_leftovers(st["ns"], st["taps"], st["pids"], st["prefixes"])


def raise_exit(sig, frame):
    """SIGTERM/SIGHUP end the program through its finally clauses, as Ctrl-C does."""
    raise SystemExit(128 + sig)


def hold(build, workers):
    import tempfile
    signal.signal(signal.SIGTERM, raise_exit)
    signal.signal(signal.SIGHUP, raise_exit)
    workdir = tempfile.mkdtemp(prefix="espgw-netns-")
    topo = Topology(workdir, os.path.join(build, "app", "espgw", "espgw"), verbose=True,
                    workers=workers)
    try:
        topo.up()
        print("\nup: namespaces %s; logs in %s" % (", ".join(topo.ns.values()), workdir))
        print("try: ip netns exec %s ping %s" % (topo.ns["a"], SITES["b"]["host4"]))
        print("Ctrl-C tears it down.", flush=True)
        signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        topo.down()
        shutil.rmtree(workdir, ignore_errors=True)
        left = topo.leftovers()
        print("down%s" % (": LEFT BEHIND " + ", ".join(left) if left else ", nothing left"))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hold")
    h.add_argument("--build", default=os.path.join(ROOT, "build"))
    for g in "ab":
        h.add_argument("--workers-" + g, type=int, default=1, metavar="N",
                       help="worker lcores of gw-%s (default 1)" % g)
    d = sub.add_parser("down")
    d.add_argument("dir")
    a = ap.parse_args(argv[1:])
    if a.cmd == "hold":
        hold(a.build, {"a": a.workers_a, "b": a.workers_b})
        return 0
    left = down_from_state(a.dir)
    if left:
        print("topo.py: still there: " + ", ".join(left), file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
