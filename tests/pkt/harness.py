# SPDX-License-Identifier: BSD-3-Clause
"""The packet suite's harness: build an espgw configuration, write input pcaps,
run espgw on net_pcap vdevs (unique --file-prefix, temporary directory), wait
through the telemetry socket until every input frame was processed, stop it
with SIGTERM and hand back the frames sent on each port and the counters JSON.

Judges: scapy (SecurityAssociation), tshark (ICV verdicts) and espcodec (our
python3-cryptography ESP, itself checked against both in test_oracle.py).

Topology used by every test (IPv4 and IPv6 on both sides):
    LAN host 10.1.0.10 / 2001:db8:1::10 (02:00:00:00:01:10)
      -- lan0 10.1.0.1 / 2001:db8:1::1 (02:00:00:00:01:01)  [espgw]
         wan0 198.51.100.1 / 2001:db8:100::1 (02:00:00:00:02:01) --
      next hops 198.51.100.254 (02:00:00:00:02:fe), 2001:db8:100::fe (02:00:00:00:02:fd)
    peer gateway 203.0.113.1 / 2001:db8:200::1, protected nets per tunnel slot."""

import copy
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid

from scapy.layers.inet import IP, UDP, TCP, ICMP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from espcodec import EspSA, NH_IPV4, NH_IPV6

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from espgw_telemetry import Telemetry, runtime_dir  # noqa: E402,F401 (runtime_dir: for tests)

ESPGW = os.environ.get("ESPGW", "")
SRC = os.environ.get("ESPGW_SRC", "")
KEEP = os.environ.get("ESPGW_PKT_KEEP", "") != ""  # keep temp dirs for debugging

LAN_MAC = "02:00:00:00:01:01"
HOST_MAC = "02:00:00:00:01:10"
WAN_MAC = "02:00:00:00:02:01"
NH4_MAC = "02:00:00:00:02:fe"
NH6_MAC = "02:00:00:00:02:fd"
HOST4, HOST6 = "10.1.0.10", "2001:db8:1::10"
LAN_NET4, LAN_NET6 = "10.1.0.0/24", "2001:db8:1::/64"
WAN4, WAN6 = "198.51.100.1", "2001:db8:100::1"
NH4, NH6 = "198.51.100.254", "2001:db8:100::fe"
PEER4, PEER6 = "203.0.113.1", "2001:db8:200::1"
MTU = 1500

def drop_reasons():
    """Drop reason names from lib/stats/espgw_drop.h (declared once, there)."""
    import re
    path = os.path.join(SRC, "lib", "stats", "espgw_drop.h")
    with open(path) as f:
        names = re.findall(r'^\s*X\(\s*\w+\s*,\s*"(\w+)"', f.read(), re.M)
    assert names, "no drop reasons found in %s" % path
    return names


DROP_REASONS = drop_reasons() if SRC else []


def base_conf(lan_dev="net_pcap0", wan_dev="net_pcap1", crypto_path=None):
    """Ports, routes and neighbors of the test topology; the crypto path the
    test asks for, else ESPGW_TEST_CRYPTO_PATH's (meson's pkt-*-cpu runs: the
    same tests on the CPU path that "auto" no longer picks for AES-GCM)."""
    crypto_path = crypto_path or os.environ.get("ESPGW_TEST_CRYPTO_PATH")
    lines = [
        "port add lan0 dev %s role protected address 10.1.0.1/24 address 2001:db8:1::1/64"
        " mac %s" % (lan_dev, LAN_MAC),
        "port add wan0 dev %s role unprotected address %s/24 address %s/64 mac %s"
        % (wan_dev, WAN4, WAN6, WAN_MAC),
        "route add 0.0.0.0/0 via %s port wan0" % NH4,
        "route add ::/0 via %s port wan0" % NH6,
        "neighbor add %s lladdr %s port wan0" % (NH4, NH4_MAC),
        "neighbor add %s lladdr %s port wan0" % (NH6, NH6_MAC),
        "neighbor add %s lladdr %s port lan0" % (HOST4, HOST_MAC),
        "neighbor add %s lladdr %s port lan0" % (HOST6, HOST_MAC),
    ]
    if crypto_path:
        lines.append("set crypto-path %s" % crypto_path)
    return lines


# ---------------------------------------------------------------- pcap files
def write_pcap(path, frames):
    """Classic pcap, Ethernet link type; frames are bytes or scapy packets."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            b = bytes(fr)
            f.write(struct.pack("<IIII", 1700000000 + i // 1000000, i % 1000000, len(b), len(b)))
            f.write(b)


def read_pcap(path):
    """Frames of a pcap file written by net_pcap; AssertionError if cut short
    (what an unclean stop leaves) or not Ethernet."""
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) >= 24, "%s: no pcap header (%d bytes)" % (path, len(data))
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise AssertionError("%s: not a pcap file" % path)
    assert struct.unpack(e + "I", data[20:24])[0] == 1, "%s: not Ethernet" % path
    out, off = [], 24
    while off < len(data):
        assert off + 16 <= len(data), "%s: record header cut short" % path
        incl, orig = struct.unpack(e + "II", data[off + 8:off + 16])
        assert off + 16 + incl <= len(data), "%s: record cut short" % path
        assert incl == orig, "%s: frame %d truncated in capture" % (path, len(out))
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


# ---------------------------------------------------------------- telemetry
# ---------------------------------------------------------------- the daemon
class GatewayError(AssertionError):
    pass


class Gateway:
    """One espgw process. Only the PID started here is ever signalled."""

    def __init__(self, workdir, conf_lines, vdevs, name="gw", mem=512, lcores="0,1",
                 extra_eal=(), binary=None, env=None, wrap=(), extra_args=()):
        """binary: another espgw build (ESPGW_FAULT); env: extra environment;
        extra_args: espgw's own options after -f CONFIG;
        wrap: a command that execs espgw, keeping its PID ("ip netns exec NS");
        lcores: "-l" list, or a list of EAL arguments (["--lcores", "0@0,1@1"])."""
        self.workdir, self.name = workdir, name
        self.prefix = "espgw-pkt-%s-%s" % (name, uuid.uuid4().hex[:8])
        self.conf = os.path.join(workdir, name + ".conf")
        self.json = os.path.join(workdir, name + ".json")
        # 0600: it holds keys (espgw warns about a config others can read).
        with open(os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("\n".join(conf_lines) + "\n")
        lcore_args = list(lcores) if isinstance(lcores, (list, tuple)) else ["-l", lcores]
        args = list(wrap) + [binary or ESPGW] + lcore_args + [
                "--no-huge", "-m", str(mem), "--no-pci",
                "--file-prefix", self.prefix, "--log-level=*:warning"]
        for v in vdevs:
            args += ["--vdev", v]
        args += list(extra_eal)
        args += ["--", "-f", self.conf, "--stats-json", self.json] + list(extra_args)
        self.cmd = args
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, **env) if env else None)
        self.tel = Telemetry(self.prefix)
        self.last = None

    def logs(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()[-6000:]

    def fail(self, what):
        raise GatewayError("%s: %s\ncommand: %s\nlast telemetry: %s\n--- log\n%s"
                           % (self.name, what, " ".join(self.cmd), self.last, self.logs()))

    def wait_telemetry(self, timeout):
        end = time.monotonic() + timeout
        while not self.tel.connect():
            if self.proc.poll() is not None:
                self.fail("exited with %d before telemetry came up" % self.proc.returncode)
            if time.monotonic() > end:
                self.fail("no telemetry socket after %ds" % timeout)
            time.sleep(0.05)

    def stats(self):
        self.last = self.tel.query("/espgw/stats")
        return self.last

    def snapshot(self):
        """(/espgw/stats, /espgw/dp, /espgw/control), or None before the gateway started."""
        s = self.stats()
        if s is None:
            return None
        return s, self.tel.query("/espgw/dp") or {}, self.tel.query("/espgw/control") or {}

    def wait_processed(self, expect_rx, timeout=15):
        """Until rx == expect_rx, every received packet is accounted for and the
        control path has dealt with what it was given (the same on two polls in
        a row: the control path counts a packet before it finishes with it)."""
        end, prev = time.monotonic() + timeout, None
        while True:
            if self.proc.poll() is not None:
                self.fail("exited with %d while running" % self.proc.returncode)
            snap = self.snapshot()
            if snap is None:  # endpoint registered, gateway not started yet
                if time.monotonic() > end:
                    self.fail("/espgw/stats still null after %ds" % timeout)
                time.sleep(0.05)
                continue
            s, dp, ctl = snap
            if s["rx"] > expect_rx:
                self.fail("received %d frames, only %d were sent" % (s["rx"], expect_rx))
            if s["rx"] == expect_rx and accounted(s, dp) and ctl_settled(s, dp, ctl):
                if snap == prev:
                    return s
                prev = snap
                time.sleep(0.05)
                continue
            prev = None
            if time.monotonic() > end:
                self.fail("not all %d frames processed after %ds" % (expect_rx, timeout))
            time.sleep(0.05)

    def stop(self, timeout=30, ports_exact=True, signalled=False):
        """SIGTERM, expect exit 0, return the counters JSON (checked for consistency;
        ports_exact=False where a peer's disconnect has reset a port's counters, as
        net_memif's are when the other side stopped first). signalled: the caller
        sent the SIGTERM already (a second one would force the exit)."""
        self.tel.close()
        if not signalled:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail("did not stop within %ds of SIGTERM" % timeout)
        if rc != 0:
            self.fail("exit status %d after SIGTERM" % rc)
        try:
            with open(self.json) as f:
                st = json.load(f)
        except (OSError, ValueError) as e:
            self.fail("no valid --stats-json file: %s" % e)
        check_stats_consistent(st, ports_exact)
        return st

    def kill(self):
        self.tel.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(runtime_dir(self.prefix), ignore_errors=True)


def accounted(t, dp):
    """The workers' balance (lib/dp/espgw_dp.h): packets made (fragments, the
    control path's injected packets) and merged (reassembly) included."""
    return t["rx"] + dp.get("created", 0) == t["tx"] + t["drops"] + t["to_ctl"] + \
        dp.get("absorbed", 0) + dp.get("pending", 0)


def ctl_settled(t, dp, ctl):
    """The control path took everything handed over and passed on what it injected."""
    return ctl.get("in", 0) == t["to_ctl"] and \
        ctl.get("ttl_reports", 0) == dp.get("ttl_reports", 0) and \
        ctl.get("injected", 0) == dp.get("injected", 0)


def check_stats_consistent(st, ports_exact=True):
    """Invariants of every run's counters JSON."""
    t, dp, ctl = st["totals"], st.get("dataplane", {}), st.get("control", {})
    assert accounted(t, dp), \
        "rx + created != tx + drops + to_ctl + absorbed + pending: %s %s" % (t, dp)
    assert sorted(st["drops"]) == sorted(DROP_REASONS), \
        "drop reasons in JSON %s" % sorted(st["drops"])
    assert sum(st["drops"].values()) == t["drops"], \
        "sum of drops %d != totals.drops %d" % (sum(st["drops"].values()), t["drops"])
    if ctl:
        cdrops = sum(ctl["drops"].values())
        assert ctl["in"] == ctl["sent"] + ctl["absorbed"] + cdrops + ctl["pending"], \
            "control: in != sent + absorbed + drops + pending: %s" % ctl
        assert ctl["ttl_reports"] == ctl["time_exceeded"] + ctl["error_suppressed"], \
            "control: ttl_reports != time_exceeded + error_suppressed: %s" % ctl
    if ports_exact:
        check_ports(st["ports"], t, ctl.get("tx", 0))
    check_pools(st)


def check_pools(st):
    """No leak: every mempool (packet buffers, reassembly buffers, crypto ops,
    sessions) has as many objects in use after the stop (ports closed, crypto
    drained, rings emptied) as when the gateway started."""
    pools = st.get("pools")
    assert pools, "no pool counts in the JSON: %s" % sorted(st)
    assert any(n.startswith("espgw_mbuf_") for n in pools), "no mbuf pool in %s" % pools
    leaks = {n: p for n, p in pools.items() if p["in_use_end"] != p["in_use_start"]}
    assert not leaks, "objects not back in their pools after the stop: %s" % leaks


def check_ports(ports, totals, ctl_tx=0):
    """Port counters ({name: {"rx", "tx"}}) add up to the totals; the ports
    also sent what the control path put on them (ctl_tx, less what worker 0
    could not send for it)."""
    assert sum(p["rx"] for p in ports.values()) == totals["rx"], \
        "ports rx %s vs totals.rx %d" % (ports, totals["rx"])
    want = totals["tx"] + ctl_tx - totals.get("ctl_tx_lost", 0)
    assert sum(p["tx"] for p in ports.values()) == want, \
        "ports tx %s vs totals.tx %d + control tx %d" % (ports, totals["tx"], ctl_tx)


class Result:
    def __init__(self, out, stats, workdir):
        self.out, self.stats, self.workdir = out, stats, workdir

    def drops(self):
        return {k: v for k, v in self.stats["drops"].items() if v}


class Workdir:
    """A temporary directory removed on exit (kept with ESPGW_PKT_KEEP=1)."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="espgw-pkt-")
        return self.path

    def __exit__(self, *exc):
        if not KEEP:
            shutil.rmtree(self.path, ignore_errors=True)


def check_conf(conf_lines, directory):
    """espgw --check on conf_lines, written to DIRECTORY/gw.conf (0600): the
    CompletedProcess, output as text."""
    path = os.path.join(str(directory), "gw.conf")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("\n".join(conf_lines) + "\n")
    return subprocess.run([ESPGW, "--check", "-f", path], capture_output=True, text=True,
                          timeout=30)


def run(conf_lines, lan=(), wan=(), mem=512, timeout=15, start_timeout=60, binary=None,
        env=None):
    """Run espgw once: lan/wan frames in, Result(out={"lan0": [...], "wan0": [...]},
    stats=counters JSON) back. binary/env: as for Gateway."""
    lan, wan = list(lan), list(wan)
    with Workdir() as d:
        p = {n: os.path.join(d, n) for n in ("lan_in", "lan_out", "wan_in", "wan_out")}
        write_pcap(p["lan_in"], lan)
        write_pcap(p["wan_in"], wan)
        vdevs = ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (p["lan_in"], p["lan_out"]),
                 "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (p["wan_in"], p["wan_out"])]
        gw = Gateway(d, conf_lines, vdevs, mem=mem, binary=binary, env=env)
        try:
            gw.wait_telemetry(start_timeout)
            gw.wait_processed(len(lan) + len(wan), timeout)
            st = gw.stop()
        finally:
            gw.kill()
        out = {"lan0": read_pcap(p["lan_out"]), "wan0": read_pcap(p["wan_out"])}
        assert st["totals"]["rx"] == len(lan) + len(wan)
        return Result(out, st, d)


def two_workers():
    """EAL arguments for the main lcore and two workers, the workers on two
    CPUs when there are two (the main lcore sleeps when idle)."""
    cpus = sorted(os.sched_getaffinity(0))
    w = cpus[1:3] if len(cpus) >= 3 else cpus[:2] if len(cpus) == 2 else cpus * 2
    return ["--lcores", "0@%d,1@%d,2@%d" % (cpus[0], w[0], w[1])]


def run_two_queues(conf_lines, lan=((), ()), wan=((), ()), mem=512, timeout=60,
                   start_timeout=60, extra_eal=(), extra_args=()):
    """espgw with two workers; lan0 and wan0 have two queues each, worker q
    polls queue q, and lan[q] / wan[q] are the frames in on queue q.
    Returns (Result(out={"lan0": [...], "wan0": [...]}: both TX queues, queue
    0's frames first; "lan0.q0" ... "wan0.q1": each queue's), the log)."""
    n_in = sum(len(q) for q in lan) + sum(len(q) for q in wan)
    with Workdir() as d:
        f = {}
        for port, queues in (("lan", lan), ("wan", wan)):
            for q in (0, 1):
                f["%s_in%d" % (port, q)] = os.path.join(d, "%s_in%d" % (port, q))
                f["%s_out%d" % (port, q)] = os.path.join(d, "%s_out%d" % (port, q))
                write_pcap(f["%s_in%d" % (port, q)], list(queues[q]))
        vdevs = ["net_pcap%d,rx_pcap=%s,rx_pcap=%s,tx_pcap=%s,tx_pcap=%s"
                 % (i, f[port + "_in0"], f[port + "_in1"], f[port + "_out0"], f[port + "_out1"])
                 for i, port in enumerate(("lan", "wan"))]
        gw = Gateway(d, conf_lines, vdevs, mem=mem, lcores=two_workers(),
                     extra_eal=list(extra_eal), extra_args=list(extra_args))
        try:
            gw.wait_telemetry(start_timeout)
            gw.wait_processed(n_in, timeout=timeout)
            st = gw.stop()
            with open(gw.log.name) as lf:
                log = lf.read()
        finally:
            gw.kill()
        out = {"%s0.q%d" % (port, q): read_pcap(f["%s_out%d" % (port, q)])
               for port in ("lan", "wan") for q in (0, 1)}
        for port in ("lan", "wan"):
            out[port + "0"] = out[port + "0.q0"] + out[port + "0.q1"]
        assert st["totals"]["rx"] == n_in
        return Result(out, st, d), log


def assert_drops(stats, **expected):
    """Every drop reason exactly as expected (absent = 0)."""
    for k in expected:
        assert k in DROP_REASONS, "unknown drop reason %s" % k
    got = {k: v for k, v in stats["drops"].items() if v}
    want = {k: v for k, v in expected.items() if v}
    assert got == want, "drops: got %s, expected %s" % (got, want)


def assert_totals(stats, rx, tx, drops, to_ctl=0):
    t = stats["totals"]
    got = (t["rx"], t["tx"], t["drops"], t["to_ctl"])
    assert got == (rx, tx, drops, to_ctl), \
        "totals (rx, tx, drops, to_ctl): got %s, expected %s" % (got, (rx, tx, drops, to_ctl))


# ---------------------------------------------------------------- tunnels
def slot_net(slot, family):
    """The peer's protected subnet and a host in it for tunnel slot (0..16383)."""
    if family == 4:
        a, b = 64 + slot // 256, slot % 256
        return "10.%d.%d.0/24" % (a, b), "10.%d.%d.5" % (a, b)
    return "2001:db8:2:%x::/64" % slot, "2001:db8:2:%x::5" % slot


class Tunnel:
    """An outbound and an inbound SA to one peer with one policy each way:
    LAN net <-> the slot's protected net. inner/outer: address families."""

    def __init__(self, slot, suite, inner=4, outer=4, esn=False, out_opts="", in_opts="",
                 policy_out="", policy_in=""):
        self.slot, self.suite, self.inner, self.outer = slot, suite, inner, outer
        self.out_name, self.in_name = "out%d" % slot, "in%d" % slot
        self.out_sa = EspSA(0x10000000 + slot, suite, esn=esn)
        self.in_sa = EspSA(0x20000000 + slot, suite, esn=esn)
        esn_opt = "esn on " if esn else ""
        self.out_opts, self.in_opts = esn_opt + out_opts, esn_opt + in_opts
        self.policy_out = policy_out + " " if policy_out else ""
        self.policy_in = policy_in + " " if policy_in else ""
        self.net, self.host = slot_net(slot, inner)
        self.lan_net, self.lan_host = (LAN_NET4, HOST4) if inner == 4 else (LAN_NET6, HOST6)
        self.local, self.peer = (WAN4, PEER4) if outer == 4 else (WAN6, PEER6)

    def conf(self):
        sa = "sa add %s dir %s spi 0x%x mode tunnel local %s remote %s %s %s"
        return [
            (sa % (self.out_name, "out", self.out_sa.spi, self.local, self.peer,
                   self.out_sa.conf_algo(), self.out_opts)).rstrip(),
            (sa % (self.in_name, "in", self.in_sa.spi, self.local, self.peer,
                   self.in_sa.conf_algo(), self.in_opts)).rstrip(),
            "sp add out priority 10 src %s dst %s %sprotect %s"
            % (self.lan_net, self.net, self.policy_out, self.out_name),
            "sp add in priority 10 src %s dst %s %sprotect %s"
            % (self.net, self.lan_net, self.policy_in, self.in_name),
        ]

    # ---- packets from the LAN (outbound)
    def lan_pkt(self, l4="udp", size=0, **ip):
        return inner_pkt(self.inner, self.lan_host, self.host, l4, size, **ip)

    def wan_pkt(self, l4="udp", size=0, **ip):
        return inner_pkt(self.inner, self.host, self.lan_host, l4, size, **ip)

    def fits(self, inner_len):
        """True when the ESP packet for an inner packet of inner_len fits the WAN MTU."""
        outer_hdr = 20 if self.outer == 4 else 40
        return outer_hdr + self.out_sa.overhead(inner_len) <= MTU

    def outer_hdr(self, ttl=64, tos=0):
        if self.outer == 4:
            return IP(src=self.peer, dst=self.local, ttl=ttl, proto=50, tos=tos)
        return IPv6(src=self.peer, dst=self.local, hlim=ttl, nh=50, tc=tos)

    def scapy_open_natt(self, esp, esn_hi=None):
        """scapy's plaintext of an outbound ESP-in-UDP payload (esp: from the SPI
        on; plain ESP too): scapy has no ESP in UDP, so the same ESP goes in the
        outbound header without its UDP header. esn_hi: the high 32 bits of an
        ESN SA's sequence number (RFC 4303 A2), which the wire does not carry."""
        o = copy.deepcopy(self.outer_hdr())
        if self.outer == 4:
            o.src, o.dst, o.proto = self.local, self.peer, 50
        else:
            o.src, o.dst, o.nh = self.local, self.peer, 50
        bare = o.__class__(bytes(o / ESP(esp)))
        sa = self.out_sa.scapy_sa(tunnel_header=self.outer_hdr())
        if esn_hi is not None:
            sa.esn = esn_hi
        return bytes(sa.decrypt(bare))

    def encap(self, inner, seq, oracle="scapy", outer_tos=0, **kw):
        """A WAN frame carrying inner in ESP of the inbound SA: scapy encrypts
        when it can compute this SA right, espcodec otherwise (or on request)."""
        return encap(self.in_sa, self.outer_hdr(tos=outer_tos), inner, seq, oracle=oracle, **kw)

    def uats(self):
        fam = self.outer
        return [u for u in (self.out_sa.tshark_uat(fam, self.local, self.peer),
                            self.in_sa.tshark_uat(fam, self.peer, self.local)) if u]


def inner_pkt(family, src, dst, l4="udp", size=0, **ip):
    """A scapy packet: IPv4/IPv6 with UDP, TCP or ICMP(v6) echo, size payload bytes."""
    from scapy.layers.inet6 import ICMPv6EchoRequest
    data = Raw(bytes((i * 7 + 3) & 0xff for i in range(size))) if size else None
    if family == 4:
        hdr = IP(src=src, dst=dst, **ip)
        l4p = {"udp": UDP(sport=40000, dport=5001), "tcp": TCP(sport=40001, dport=5002,
                                                                 flags="PA", seq=1000),
               "icmp": ICMP(type=8, id=77, seq=1)}[l4]
    else:
        hdr = IPv6(src=src, dst=dst, **ip)
        l4p = {"udp": UDP(sport=40000, dport=5001), "tcp": TCP(sport=40001, dport=5002,
                                                                 flags="PA", seq=1000),
               "icmp": ICMPv6EchoRequest(id=77, seq=1)}[l4]
    p = hdr / l4p
    if data is not None:
        p = p / data
    return p.__class__(bytes(p))


def time_exceeded(src, dst, offending, ttl=64):
    """The exact ICMP time exceeded (RFC 792 type 11 / RFC 4443 type 3, code 0)
    espgw sends from src to dst about the offending packet (its L3 bytes, as
    it arrived): as much of it as fits in 576 (IPv4, RFC 1812 4.3.2.3) or 1280
    bytes (IPv6, RFC 4443 2.4 (c)); checksums computed by scapy."""
    from scapy.layers.inet6 import ICMPv6TimeExceeded
    b = bytes(offending)
    if b[0] >> 4 == 4:
        p = IP(src=src, dst=dst, ttl=ttl, id=0, flags=0, tos=0) / ICMP(type=11, code=0) / \
            Raw(b[:576 - 28])
    else:
        p = IPv6(src=src, dst=dst, hlim=ttl) / ICMPv6TimeExceeded(code=0) / Raw(b[:1280 - 48])
    return bytes(p.__class__(bytes(p)))


def lan_frame(pkt):
    return Ether(src=HOST_MAC, dst=LAN_MAC) / pkt


def wan_frame(pkt):
    return Ether(src=NH6_MAC if pkt.version == 6 else NH4_MAC, dst=WAN_MAC) / pkt


def with_ecn(pkt, ecn):
    """pkt with its ECN field set to ecn (checksum recomputed)."""
    p = pkt.__class__(bytes(pkt))
    if p.version == 4:
        p.tos = (p.tos & 0xfc) | ecn
        del p.chksum
    else:
        p.tc = (p.tc & 0xfc) | ecn
    return p.__class__(bytes(p))


def lan_pattern(tunnels, pattern):
    """(sent, frames): a LAN frame for each key of pattern (one packet of that
    tunnel, sizes 20, 21, ...) and, per key, its inner packets one hop later
    in order (what the tunnel's ESP must carry)."""
    sent = {k: [] for k in tunnels}
    frames = []
    for i, k in enumerate(pattern):
        p = tunnels[k].lan_pkt(size=20 + i)
        sent[k].append(ttl_dec(p))
        frames.append(lan_frame(p))
    return sent, frames


def ttl_dec(pkt):
    """The bytes of an IP packet one router hop later (TTL/hop limit - 1)."""
    p = pkt.__class__(bytes(pkt))
    if p.version == 4:
        p.ttl -= 1
        del p.chksum
    else:
        p.hlim -= 1
    return bytes(p.__class__(bytes(p)))


def encap(sa, outer, inner, seq, oracle="scapy", iv=None, padding=None, nh=None, spi=None,
          pad_len=None, raw_esp=None):
    """A WAN frame: outer header / ESP(sa, seq) of inner. seq is the full
    (64-bit for ESN) number. oracle "scapy" falls back to espcodec when scapy
    cannot compute this SA right; padding/nh/spi overrides force espcodec."""
    inner_b = bytes(inner)
    if nh is None:
        nh = NH_IPV4 if inner_b[0] >> 4 == 4 else NH_IPV6
    custom = padding is not None or spi is not None or pad_len is not None or \
        raw_esp is not None or nh != (NH_IPV4 if inner_b[0] >> 4 == 4 else NH_IPV6)
    if oracle == "scapy" and sa.scapy_ok() and not custom:
        s = sa.scapy_sa(tunnel_header=outer.copy())
        s.seq_num = seq & 0xffffffff  # scapy treats seq_num=0 as "use the SA counter"
        s.esn = seq >> 32
        ip_esp = s.encrypt(inner.__class__(inner_b), iv=iv)
        return wan_frame(ip_esp)
    esp = raw_esp if raw_esp is not None else sa.seal(inner_b, nh, seq, iv=iv, padding=padding,
                                                      spi=spi, pad_len=pad_len)
    o = outer.copy()
    if o.version == 4:
        o.len, o.chksum = None, None
    else:
        o.plen = None
    return wan_frame(o.__class__(bytes(o / Raw(esp))))


# ---------------------------------------------------------------- output checks
class Decap:
    """One outbound frame taken apart and judged; raises AssertionError."""

    def __init__(self, frame, tun, seq_hi=0):
        self.frame = frame
        eth = Ether(frame)
        fam = tun.outer
        assert eth.src == WAN_MAC, "Ethernet src %s, expected %s" % (eth.src, WAN_MAC)
        want_dst = NH4_MAC if fam == 4 else NH6_MAC
        assert eth.dst == want_dst, "Ethernet dst %s, expected %s" % (eth.dst, want_dst)
        assert eth.type == (0x0800 if fam == 4 else 0x86dd), "ethertype 0x%04x" % eth.type
        l3 = frame[14:]
        if fam == 4:
            ip = IP(l3)
            assert ip.version == 4 and ip.ihl == 5, "outer IPv4 version/IHL %d/%d" % (
                ip.version, ip.ihl)
            assert ip.len == len(l3), "outer total length %d, frame carries %d" % (
                ip.len, len(l3))
            want_ck = ip_checksum(l3[:20])
            assert ip.chksum == want_ck, "outer IPv4 checksum 0x%04x, expected 0x%04x" % (
                ip.chksum, want_ck)
            assert ip.proto == 50 and ip.frag == 0 and not (ip.flags & 1), \
                "outer proto %d frag %d flags %s" % (ip.proto, ip.frag, ip.flags)
            self.ttl, self.tos, self.df = ip.ttl, ip.tos, bool(ip.flags & 2)
            self.fl = None
            esp = l3[20:]
        else:
            ip = IPv6(l3)
            assert ip.version == 6 and ip.nh == 50, "outer IPv6 nh %d" % ip.nh
            assert ip.plen == len(l3) - 40, "outer payload length %d, frame carries %d" % (
                ip.plen, len(l3) - 40)
            self.ttl, self.tos, self.df, self.fl = ip.hlim, ip.tc, None, ip.fl
            esp = l3[40:]
        assert (ip.src, ip.dst) == (tun.local, tun.peer), \
            "outer %s -> %s, expected %s -> %s" % (ip.src, ip.dst, tun.local, tun.peer)
        self.outer = ip
        sa = tun.out_sa
        op = sa.open(esp, seq_hi=seq_hi)
        assert op.spi == sa.spi, "SPI 0x%x, expected 0x%x" % (op.spi, sa.spi)
        # RFC 4303 2.4: default padding is 1, 2, 3, ...; the payload is aligned.
        n = len(op.padding)
        assert op.padding == bytes(range(1, n + 1)), "padding %s" % op.padding.hex()
        body = len(op.payload) + n + 2
        assert body % sa.align == 0, "ESP payload+trailer %d not %d-aligned" % (body, sa.align)
        assert n < sa.align, "pad length %d with alignment %d (espgw pads minimally)" % (
            n, sa.align)
        want_nh = NH_IPV4 if op.payload[0] >> 4 == 4 else NH_IPV6
        assert op.nh == want_nh, "next header %d for an IPv%d inner packet" % (
            op.nh, op.payload[0] >> 4)
        self.esp, self.seq, self.iv, self.inner = op, op.seq, op.iv, op.payload
        if sa.scapy_ok():
            s = sa.scapy_sa(tunnel_header=tun.outer_hdr())
            s.esn = seq_hi
            pkt = ip.__class__(l3)
            dec = s.decrypt(copy.deepcopy(pkt))  # decrypt() mutates its argument
            assert bytes(dec) == op.payload, "scapy and espcodec disagree on the inner packet"


def ip_checksum(hdr):
    b = bytearray(hdr)
    b[10:12] = b"\0\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), bytes(b)))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def clear_frame_check(frame, want_l3, port):
    """A clear frame espgw forwarded: Ethernet addresses of port and the exact L3 bytes."""
    eth = Ether(frame)
    if port == "lan0":
        src, dst = LAN_MAC, HOST_MAC
    else:
        src, dst = WAN_MAC, NH6_MAC if want_l3[0] >> 4 == 6 else NH4_MAC
    assert (eth.src, eth.dst) == (src, dst), "Ethernet %s -> %s, expected %s -> %s" % (
        eth.src, eth.dst, src, dst)
    assert eth.type == (0x0800 if want_l3[0] >> 4 == 4 else 0x86dd), "ethertype 0x%x" % eth.type
    l3 = frame[14:]
    # net_pcap sends what it gets: no Ethernet padding expected, but tolerate
    # zero padding up to the 60-byte minimum frame.
    if len(l3) > len(want_l3) and len(frame) == 60:
        assert l3[len(want_l3):] == bytes(len(l3) - len(want_l3)), "non-zero Ethernet padding"
        l3 = l3[:len(want_l3)]
    assert l3 == want_l3, "L3 bytes differ:\n got  %s\n want %s" % (l3.hex(), want_l3.hex())


# ---------------------------------------------------------------- tshark
def tshark_icv(frames, uats, workdir=None, udp=False):
    """tshark's ICV verdict per ESP frame: list of (spi, seq, good). A frame
    tshark left unchecked (neither icv_good nor icv_bad) fails here. udp: the
    ESP is in UDP (RFC 3948), so tshark's UDP dissector must stay on."""
    with Workdir() as d:
        pcap = os.path.join(d, "esp.pcap")
        write_pcap(pcap, frames)
        cfg = os.path.join(d, "wireshark")
        os.mkdir(cfg)
        with open(os.path.join(cfg, "esp_sa"), "w") as f:
            f.write("\n".join(uats) + "\n")
        env = dict(os.environ, WIRESHARK_CONFIG_DIR=cfg)
        quiet = ["tcp", "icmp", "icmpv6"] + ([] if udp else ["udp"])
        cmd = ["tshark", "-n", "-r", pcap,
               "-o", "esp.enable_encryption_decode:TRUE",
               "-o", "esp.enable_authentication_check:TRUE"]
        for proto in quiet:
            cmd += ["--disable-protocol", proto]
        if udp:  # the inner UDP ports of the tests are data, not iperf2 and the like
            cmd += ["-d", "udp.port==5001,data", "-d", "udp.port==40000,data"]
        cmd += ["-T", "fields", "-E", "separator=,", "-e", "frame.number", "-e", "esp.spi",
               "-e", "esp.sequence", "-e", "esp.icv_good", "-e", "esp.icv_bad"]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, "tshark failed: %s" % r.stderr
    out = []
    for line in r.stdout.splitlines():
        num, spi, seq, good, bad = line.split(",")
        assert spi, "frame %s: tshark found no ESP" % num
        assert (good, bad) in (("1", "0"), ("0", "1")), \
            "frame %s SPI %s seq %s: tshark did not check the ICV (good=%r bad=%r)" % (
                num, spi, seq, good, bad)
        out.append((int(spi, 16), int(seq), good == "1"))
    assert len(out) == len(frames), "tshark listed %d of %d frames" % (len(out), len(frames))
    return out


# ---------------------------------------------------------------- bookkeeping
def esp_of(frame):
    """The ESP bytes of an ESP-in-IP Ethernet frame, or None for anything else."""
    if len(frame) < 14 + 20:
        return None
    et = struct.unpack("!H", frame[12:14])[0]
    if et == 0x0800 and frame[14 + 9] == 50:
        return frame[14 + (frame[14] & 0xf) * 4:]
    if et == 0x86dd and frame[14 + 6] == 50:
        return frame[14 + 40:]
    return None


def esp_spi(frame):
    """SPI of an ESP-in-IP Ethernet frame, or None for anything else."""
    esp = esp_of(frame)
    return None if esp is None else struct.unpack("!I", esp[:4])[0]


def esp_udp_rows(t, frames):
    """(seq, sport, k) of each of frames, ESP of t's outbound SA carrying an
    IPv4 UDP datagram whose payload starts with a 32-bit k (the numbered
    flows of the ordering tests)."""
    rows = []
    for f in frames:
        o = t.out_sa.open(esp_of(f))
        inner = o.payload
        ihl = (inner[0] & 0xf) * 4
        rows.append((o.seq, struct.unpack("!H", inner[ihl:ihl + 2])[0],
                     struct.unpack("!I", inner[ihl + 8:ihl + 12])[0]))
    return rows


def esp_seq(frame):
    """The 32-bit sequence number field of an ESP-in-IP Ethernet frame (RFC 4303 2.2)."""
    return struct.unpack("!I", esp_of(frame)[4:8])[0]


def split_esp(frames):
    """({spi: [frames in order]}, [non-ESP frames in order])."""
    by_spi, clear = {}, []
    for f in frames:
        spi = esp_spi(f)
        if spi is None:
            clear.append(f)
        else:
            by_spi.setdefault(spi, []).append(f)
    return by_spi, clear


class Plan:
    """Input frames and what each should become."""

    def __init__(self):
        self.lan, self.wan = [], []
        self.esp = {}         # out SPI -> expected inner bytes, in order
        self.to_lan = []      # expected L3 bytes leaving lan0, in order
        self.to_wan = []      # expected clear L3 bytes leaving wan0, in order

    def protect(self, tun, pkt):
        """pkt from the LAN must leave wan0 in tun's outbound SA."""
        self.lan.append(lan_frame(pkt))
        self.esp.setdefault(tun.out_sa.spi, []).append(ttl_dec(pkt))

    def lan_expired(self, pkt):
        """pkt from the LAN with TTL / hop limit 1: dropped (ttl_exceeded), and the
        host gets ICMP time exceeded on lan0 from the gateway's LAN address."""
        self.lan.append(lan_frame(pkt))
        gw = "10.1.0.1" if pkt.version == 4 else "2001:db8:1::1"
        self.to_lan.append(time_exceeded(gw, pkt.src, pkt))

    def lan_in(self, pkt, clear_out=False):
        """pkt from the LAN: forwarded in clear to wan0 (bypass) or dropped."""
        self.lan.append(lan_frame(pkt))
        if clear_out:
            self.to_wan.append(ttl_dec(pkt))

    def wan_in(self, frame, inner=None):
        """A WAN frame; inner: the packet that must come out of lan0 (before TTL-1)."""
        self.wan.append(frame)
        if inner is not None:
            self.to_lan.append(ttl_dec(inner))

    def check_clear(self, res):
        """Clear frames out of both ports exactly as planned: same L3 bytes,
        same order within each (src, dst) flow (bursts may interleave flows)."""
        _, clear_wan = split_esp(res.out["wan0"])
        for port, got, want in (("wan0", clear_wan, self.to_wan),
                                ("lan0", res.out["lan0"], self.to_lan)):
            assert len(got) == len(want), "%d clear frames out of %s, expected %d" % (
                len(got), port, len(want))
            g, w = flows([f[14:] for f in got]), flows(want)
            for key in sorted(set(g) | set(w)):
                gl, wl = g.get(key, []), w.get(key, [])
                assert len(gl) == len(wl), "%s flow %s: %d frames, expected %d" % (
                    port, key, len(gl), len(wl))
            for f in got:
                want_l3 = _find_l3(f[14:], want)
                clear_frame_check(f, want_l3, port)
            for key in g:
                assert [trim_l3(x) for x in g[key]] == w[key], \
                    "%s flow %s: frames differ or out of order" % (port, key)


def trim_l3(l3):
    """An IP packet without trailing Ethernet padding."""
    if l3[0] >> 4 == 4:
        return l3[:struct.unpack("!H", l3[2:4])[0]]
    return l3[:40 + struct.unpack("!H", l3[4:6])[0]]


def flow_key(l3):
    if l3[0] >> 4 == 4:
        return (socket.inet_ntop(socket.AF_INET, l3[12:16]),
                socket.inet_ntop(socket.AF_INET, l3[16:20]))
    return (socket.inet_ntop(socket.AF_INET6, l3[8:24]),
            socket.inet_ntop(socket.AF_INET6, l3[24:40]))


def flows(l3s):
    d = {}
    for x in l3s:
        d.setdefault(flow_key(x), []).append(x)
    return d


def _find_l3(l3, candidates):
    """The expected packet this output should equal (itself when present)."""
    t = trim_l3(l3)
    if t in candidates:
        return t
    same = [c for c in candidates if flow_key(c) == flow_key(l3)]
    return same[0] if same else candidates[0]
