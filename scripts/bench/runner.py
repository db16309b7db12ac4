# SPDX-License-Identifier: BSD-3-Clause
"""Runs one gateway process (espgw or DPDK's ipsec-secgw) on vdevs and
measures it over a fixed window through the DPDK telemetry socket.

Method (see shared TESTING.md, "Benchmark method that holds on a noisy shared
VM"): EAL `-l 0,1` (main lcore 0, the one worker on lcore 1), `--no-huge -m
1024 --no-pci`, a unique --file-prefix; the source is net_pcap with
infinite_rx=1, the sink net_null with no-rx=1. After the first packet reaches
the sink and a warm-up, two samples WINDOW seconds apart give:
  packets   sink port opackets (telemetry /ethdev/stats,ID), the same counter
            for both implementations
  cycles    espgw's busy_cycles (/espgw/stats, TSC cycles spent in loop
            iterations that did work) per packet sent
  cpu share the worker thread's on-CPU time (/proc/PID/task/TID/schedstat) over
            the window: below ~0.95 another process took the core from it;
            on-CPU time x TSC Hz / packets gives cycles per packet for any
            gateway, preemption excluded
Only the process started here is ever signalled.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from espgw_telemetry import Telemetry, runtime_dir  # noqa: E402,F401 (runtime_dir: cryptoperf)

EAL_MEM = ["--no-huge", "-m", "1024", "--no-pci"]
# With 2 MiB pages reserved (TESTING.md), as a production gateway runs: 4 KiB
# pages cost every pass over a burst DTLB misses (README "Hugepages or not").
EAL_MEM_HUGE = ["-m", "1024", "--no-pci", "--huge-unlink"]
HUGE_PAGES_NEEDED = 600  # 2 MiB pages: 1 GiB of -m, and some slack


def hugepages_free():
    """Free 2 MiB hugepages (0 when none are reserved)."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                return int(line.split()[1])
    return 0


def use_hugepages():
    """Run every EAL process (gateways, crypto-perf) on hugepages."""
    EAL_MEM[:] = EAL_MEM_HUGE


HUGEPAGES_HELP = ("run the gateways and crypto-perf on 2 MiB hugepages instead of "
                  "--no-huge (reserve %d first, as root: echo %d > /proc/sys/vm/nr_hugepages)"
                  % (HUGE_PAGES_NEEDED, HUGE_PAGES_NEEDED))


def hugepages_missing():
    """Why --hugepages cannot run now (too few free pages), or None."""
    if hugepages_free() >= HUGE_PAGES_NEEDED:
        return None
    return ("--hugepages: %d free 2 MiB pages, %d needed (as root: echo %d > "
            "/proc/sys/vm/nr_hugepages; mount -t hugetlbfs none /dev/hugepages)"
            % (hugepages_free(), HUGE_PAGES_NEEDED, HUGE_PAGES_NEEDED))


LCORES = "0,1"
BURST_CYCLES = re.compile(
    r"worker (\d+): cycles a packet over (\d+) full bursts: min (\d+) p10 (\d+) median (\d+)")
WORKER_LCORE = 1
START_TIMEOUT = 60.0


class RunError(Exception):
    pass


def vdevs(source_pcap, roles, source_role):
    """--vdev arguments, protected port first (port 0), unprotected second."""
    src = "net_pcap0,rx_pcap=%s,infinite_rx=1" % source_pcap
    sink = "net_null0,no-rx=1"
    if "," in source_pcap or " " in source_pcap:
        raise RunError("pcap path must not contain ',' or blanks: %s" % source_pcap)
    devs = {r: (src if r == source_role else sink) for r in roles}
    return [devs["protected"], devs["unprotected"]]


class Gateway:
    """One gateway process: command line, log file, telemetry."""

    def __init__(self, name, cmd_prefix, app_args, vdev_list, workdir, extra_eal=(),
                 lcores=LCORES):
        self.name = name
        self.prefix = "espgw-bench-%s" % uuid.uuid4().hex[:10]
        self.main_works = lcores == str(WORKER_LCORE)
        # "0@0,1@1": lcores placed on CPUs (--lcores), else a plain list (-l).
        eal = ["--lcores" if "@" in lcores else "-l", lcores] + EAL_MEM + [
            "--file-prefix", self.prefix, "--log-level=lib.eal:debug"]
        for v in vdev_list:
            eal += ["--vdev", v]
        self.cmd = list(cmd_prefix) + eal + list(extra_eal) + ["--"] + list(app_args)
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = None
        self.tel = Telemetry(self.prefix)

    def start(self):
        with open(self.log_path, "w") as log:
            log.write("# " + " ".join(self.cmd) + "\n")
            log.flush()
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    def log_tail(self, n=25):
        """The last n log lines, without EAL's debug chatter (kept for the TSC)."""
        try:
            with open(self.log_path, errors="replace") as f:
                lines = f.readlines()
        except OSError:
            return ""
        return "".join([ln for ln in lines if not ln.startswith("EAL: ") or "rror" in ln][-n:])

    def fail(self, what):
        raise RunError("%s: %s\n--- %s (last lines)\n%s" % (
            self.name, what, self.log_path, self.log_tail()))

    def alive(self):
        if self.proc.poll() is not None:
            self.fail("exited with status %d" % self.proc.returncode)

    def connect(self, deadline):
        while not self.tel.connect():
            self.alive()
            if time.monotonic() > deadline:
                self.fail("no telemetry socket after %.0f s" % START_TIMEOUT)
            time.sleep(0.05)

    def stop(self):
        """SIGTERM, then SIGKILL after 15 s; remove the EAL runtime files."""
        self.tel.close()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(runtime_dir(self.prefix), ignore_errors=True)

    def burst_cycles_all(self):
        """{worker index: {min, p10, median, bursts}}: each worker's cycles a
        packet over full bursts, logged at its end by a -Dburst_cycles=true
        build (lib/dp/burst_cycles.h); empty from other builds."""
        try:
            with open(self.log_path, errors="replace") as f:
                log = f.read()
        except OSError:
            return {}
        return {int(m.group(1)): {"bursts": int(m.group(2)), "min": int(m.group(3)),
                                  "p10": int(m.group(4)), "median": int(m.group(5))}
                for m in BURST_CYCLES.finditer(log)}

    def burst_cycles(self):
        """The first worker's burst_cycles_all() entry, or None."""
        w = self.burst_cycles_all()
        return w[min(w)] if w else None

    def tsc_hz(self):
        """TSC frequency EAL measured (its debug log line), or None."""
        try:
            with open(self.log_path, errors="replace") as f:
                m = re.search(r"TSC frequency is ~(\d+) KHz", f.read())
        except OSError:
            return None
        return int(m.group(1)) * 1000 if m else None


# ---------------------------------------------------------------- ports and threads
def port_id_of(tel, devname, fallback):
    """Port id of an ethdev by name (/ethdev/info), else the vdev order."""
    ids = tel.query("/ethdev/list") or []
    for pid in ids:
        info = tel.query("/ethdev/info,%d" % pid)
        if isinstance(info, dict) and info.get("name") == devname:
            return pid
    return fallback


def opackets(tel, port):
    st = tel.query("/ethdev/stats,%d" % port)
    return int(st["opackets"]) if isinstance(st, dict) and "opackets" in st else None


def worker_tid(pid):
    """Thread id of EAL's worker thread for WORKER_LCORE, or None (22.11 names
    it rte-worker-N, older releases lcore-worker-N)."""
    want = ("rte-worker-%d" % WORKER_LCORE, "lcore-worker-%d" % WORKER_LCORE)
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() in want:
                    return int(tid)
    except OSError:
        pass
    return None


def worker_tids(pid, workers):
    """Thread ids of EAL's worker threads for lcores 1..workers (None where not found)."""
    tids = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            name = f.read().strip()
        if name.startswith("rte-worker-"):
            tids[int(name.rsplit("-", 1)[1])] = int(tid)
    return [tids.get(i + 1) for i in range(workers)]


def oncpu_ns(pid, tid):
    if tid is None:
        return None
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- the measurement
def wait_traffic(gw, port, deadline):
    """Until the sink port has sent a packet (ports, SAs and workers are up)."""
    while True:
        gw.alive()
        n = opackets(gw.tel, port)
        if n:
            return
        if time.monotonic() > deadline:
            gw.fail("no packet on the sink port within %.0f s (opackets %s)"
                    % (START_TIMEOUT, n))
        time.sleep(0.05)


def sample(gw, port, tid, espgw):
    s = {"t": time.monotonic(), "opackets": opackets(gw.tel, port),
         "oncpu_ns": oncpu_ns(gw.proc.pid, tid)}
    if espgw:
        s["espgw"] = gw.tel.query("/espgw/stats")
    return s


def _delta(a, b, key):
    return None if a.get(key) is None or b.get(key) is None else b[key] - a[key]


def rates(s0, s1, tsc_hz):
    """The figures of one window from its two samples."""
    dt = s1["t"] - s0["t"]
    pkts = _delta(s0, s1, "opackets") or 0
    r = {"seconds": dt, "packets": pkts, "mpps": pkts / dt / 1e6}
    cpu = _delta(s0, s1, "oncpu_ns")
    r["cpu_share"] = None if cpu is None else cpu / (dt * 1e9)
    # Cycles the worker spent on the CPU per packet: unlike busy_cycles, time
    # the thread was preempted does not count; needs no help from the gateway.
    r["oncpu_cycles_per_pkt"] = cpu * 1e-9 * tsc_hz / pkts if cpu and tsc_hz and pkts else None
    e0, e1 = s0.get("espgw"), s1.get("espgw")
    if isinstance(e0, dict) and isinstance(e1, dict):
        busy = e1["busy_cycles"] - e0["busy_cycles"]
        r["cycles_per_pkt"] = busy / pkts if pkts else None
        r["busy_share"] = busy / (tsc_hz * dt) if tsc_hz else None
        r["espgw_tx"] = e1["tx"] - e0["tx"]
        r["drops"] = e1["drops"] - e0["drops"]
    return r


def measure(gw, sink_dev, sink_fallback, warmup, window, espgw):
    """Start gw, wait for traffic, warm up, measure one window, stop."""
    gw.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        gw.connect(deadline)
        port = port_id_of(gw.tel, sink_dev, sink_fallback)
        wait_traffic(gw, port, deadline)
        time.sleep(warmup)
        tid = gw.proc.pid if gw.main_works else worker_tid(gw.proc.pid)
        s0 = sample(gw, port, tid, espgw)
        time.sleep(window)
        s1 = sample(gw, port, tid, espgw)
        gw.alive()
        drops = gw.tel.query("/espgw/drops") if espgw else None
    finally:
        gw.stop()
    r = rates(s0, s1, gw.tsc_hz())
    r["tsc_hz"] = gw.tsc_hz()
    bc = gw.burst_cycles()
    if bc:
        r["burst_cycles"] = bc
    if isinstance(drops, dict):
        r["drop_reasons"] = {k: v for k, v in drops.items() if v}
    return r
