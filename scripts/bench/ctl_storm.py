#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The change storm (issue 11): while espgw forwards one SA's traffic, apply
N changes through the control socket. A change is a child-SA pair (2 SAs + 2
policies, ctl_rate.py's pair(), on 172.16.0.0/12 selectors the traffic never
matches) added in one transaction and deleted in another (`sp del` by
selectors, then `sa del`). Changes go in rounds on one connection: round k
adds BATCH pairs and deletes the pairs round k-1 added, so every pair is in
the workers' tables (its commit was answered) before its deletion is sent.

Windows without and with the storm take turns in the same gateway process
(quiet, storm, quiet, ..., quiet) until N changes are applied: the rate with
the storm is compared with the quiet windows next to it (A/B in one run).

Two sources, one gateway process each:

  full rate  the benchmark's scenario (scenarios.py, out-gcm128-cpu: 1 SA,
             AES-GCM-128, one worker on lcore 1) with its source and sink:
             net_pcap infinite_rx (pcapgen.py's frames) into the protected
             port, net_null into the unprotected one (runner.py). That source
             is pulled: each RX burst replays frames from memory, as many as
             the worker asks for, so it never runs above what espgw forwards
             (no RX ring that could overflow) and a worker stall shows as a
             lower rate, never as loss. Checked: every packet the source
             gave (the port's ipackets) left through the SA into the sink,
             and espgw's counters balance.
  paced      a source that pushes at a fixed rate into a finite RX ring, so
             that a stall of the worker would lose packets: a process of
             this script sends the same frames (sendmmsg on an AF_PACKET
             socket) into a veth pair whose other end is espgw's
             net_af_packet port (a ring of RING frames). First, without a
             storm, the source runs flat out: what espgw forwarded then is
             the rate it sustains; the source is then paced at FRACTION of
             it for the quiet and storm windows. Every packet sent must
             reach the sink: a worker that does not poll for longer than
             RING / rate loses packets at its RX ring. Needs root (a network
             namespace of its own, which goes with this process).

The script, the source and espgw's control threads run on CPU 0, the worker
alone on CPU 1 at nice -20 (its on-CPU share and the time other tasks took
CPU 1 from it are reported per window; the rate per second it was on its
CPU leaves that time out). The control lcore's on-CPU time per change is
reported too: unlike changes per second, it does not depend on what else
wanted CPU 0. Exit status 1 if any packet of the untouched SA was lost or
did not go through it, a counter invariant or a pool count failed, a change
was refused or espgw holds more than the scenario's SA and policy after the
storm; 2 on a usage error.

  flock /tmp/espgw-bench.lock /usr/bin/python3 scripts/bench/ctl_storm.py \\
      --espgw build-release/app/espgw/espgw --changes 10000
"""

import argparse
import contextlib
import ctypes
import errno
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "netns"))

import pcapgen  # noqa: E402
import runner  # noqa: E402
import scenarios as S  # noqa: E402
from ctl_rate import Ctl, pair  # noqa: E402
from topo import counter_problems  # noqa: E402

SCENARIO = "out-gcm128-cpu"
SA_NAME = "out0"  # the scenario's one SA, the untouched one
CTL_CPU, WORKER_CPU = 0, runner.WORKER_LCORE
VETH_SRC, VETH_GW = "stsrc", "stgw"  # the paced source's end, espgw's end


def unpair(i):
    """The requests that delete child SA pair i: its policies by the selectors
    pair(i) added them with, then its SAs."""
    p = pair(i)
    return (["sp del " + p[k][len("sp add "):p[k].index(" protect ")] for k in (2, 3)]
            + ["sa del " + p[k].split()[2] for k in (0, 1)])


# ---------------------------------------------------------------- the storm
class Storm:
    """total changes, BATCH per round; run() applies them for a while."""

    def __init__(self, ctl, total, batch):
        self.ctl, self.total, self.batch = ctl, total, batch
        self.next = 0        # the next pair to add
        self.done = 0        # changes applied: added, then deleted
        self.rounds = []     # seconds from a round's first request to its last reply
        self.log = []        # (start, seconds, adds, deletes) of every round

    def finished(self):
        return self.next >= self.total

    def _round(self, adds, dels):
        t0 = time.monotonic()
        self.ctl.txns([pair(i) for i in adds] + [unpair(i) for i in dels])
        self.rounds.append(time.monotonic() - t0)
        self.log.append((round(t0, 4), round(self.rounds[-1], 5), len(adds), len(dels)))
        self.done += len(dels)

    def run(self, seconds):
        """Rounds for about `seconds` or until all changes are applied; the
        last one deletes what the one before added. The changes applied."""
        before, end, added = self.done, time.monotonic() + seconds, []
        while time.monotonic() < end and not self.finished():
            adds = range(self.next, min(self.next + self.batch, self.total))
            self._round(adds, added)
            self.next, added = adds.stop, adds
        if added:
            self._round([], added)
        return self.done - before


# ---------------------------------------------------------------- CPUs and processes
@contextlib.contextmanager
def all_cpus():
    """Children started here may use every CPU (EAL pins its lcores itself)."""
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, range(os.cpu_count()))
    try:
        yield
    finally:
        os.sched_setaffinity(0, mine)


def task_sched(pid, tid):
    """(on-CPU ns, runnable-but-waiting ns, involuntary switches) of a thread."""
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
            run, wait = (int(x) for x in f.read().split()[:2])
        with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
            inv = next(int(ln.split()[1]) for ln in f if ln.startswith("nonvoluntary"))
        return run, wait, inv
    except (OSError, ValueError, StopIteration, TypeError):
        return None, None, None


def wait_path(gw, path, timeout=60):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        gw.alive()
        if time.monotonic() > end:
            gw.fail("no control socket %s" % path)
        time.sleep(0.05)


def raise_exit(sig, frame):
    """SIGTERM/SIGHUP end the script through its finally clauses, as Ctrl-C does."""
    raise SystemExit(128 + sig)


# ---------------------------------------------------------------- the paced source
class _Iov(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _Msg(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(_Iov)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class _MMsg(ctypes.Structure):
    _fields_ = [("hdr", _Msg), ("len", ctypes.c_uint)]


# Shared with the source process: the rate (0: flat out, -1: paused), stop,
# and what it counts: sent (taken by the kernel), refused (ENOBUFS: dropped
# on the veth before espgw), behind (not sent in time: the source was late).
RATE, STOP, SENT, REFUSED, BEHIND = range(5)
SOL_PACKET, PACKET_QDISC_BYPASS = 263, 20  # <linux/socket.h>, <linux/if_packet.h>
BURST, MAX_LATE = 64, 2048


def source_main(iface, frames, sh):
    """The paced source: sendmmsg bursts of the frames on an AF_PACKET socket,
    the schedule restarted whenever the rate changes. A source that falls
    more than MAX_LATE packets behind skips them (counted in BEHIND) rather
    than bursting them into the ring all at once."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    libc = ctypes.CDLL(None, use_errno=True)
    n = len(frames)
    bufs = [ctypes.create_string_buffer(f, len(f)) for f in frames]
    iovs = (_Iov * n)(*[_Iov(ctypes.addressof(b), len(f)) for b, f in zip(bufs, frames)])
    msgs = (_MMsg * (n + BURST))()
    for k in range(n + BURST):
        msgs[k].hdr.iov = ctypes.pointer(iovs[k % n])
        msgs[k].hdr.iovlen = 1
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((iface, 0))
    s.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
    fd, size, k, rate = s.fileno(), ctypes.sizeof(_MMsg), 0, None
    t0 = base = 0
    while not sh[STOP]:
        if sh[RATE] != rate:
            rate, t0, base = sh[RATE], time.monotonic(), sh[SENT] + sh[REFUSED] + sh[BEHIND]
        if rate < 0:
            time.sleep(0.001)
            continue
        due, late = BURST, False
        if rate > 0:
            due = int(rate * (time.monotonic() - t0)) - (sh[SENT] + sh[REFUSED] + sh[BEHIND] - base)
            if due <= 0:
                time.sleep(0.0001)
                continue
            if due > MAX_LATE:
                sh[BEHIND] += due - MAX_LATE
                due, late = MAX_LATE, True
        while due > 0:
            r = libc.sendmmsg(fd, ctypes.byref(msgs, k * size), min(due, BURST), 0)
            if r < 0:
                if ctypes.get_errno() != errno.ENOBUFS:
                    raise OSError(ctypes.get_errno(), "sendmmsg")
                sh[REFUSED] += 1
                r = 1
            else:
                sh[SENT] += r
            due -= r
            k = (k + r) % n
        if late:
            time.sleep(0.0002)  # behind: still leave CPU 0 to the others now and then


def netdev(iface):
    """{rx, tx, tx_drop} of an interface of this network namespace (/proc/net/dev)."""
    with open("/proc/net/dev") as f:
        for ln in f:
            name, _, rest = ln.partition(":")
            if name.strip() == iface:
                v = [int(x) for x in rest.split()]
                return {"rx": v[1], "rx_drop": v[3], "tx": v[9], "tx_drop": v[11]}
    raise RuntimeError("no interface %s" % iface)


def new_netns():
    """This process (and what it starts) in a network namespace of its own,
    deleted by the kernel when the last of them exits: the veth pair too."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    with open("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w") as f:
        f.write("1")  # no router solicitations or MLD from the kernel on the veth
    for cmd in (["ip", "link", "add", VETH_SRC, "type", "veth", "peer", "name", VETH_GW],
                ["ip", "link", "set", VETH_SRC, "up"], ["ip", "link", "set", VETH_GW, "up"]):
        subprocess.run(cmd, check=True)


# ---------------------------------------------------------------- one gateway
class Run:
    """One espgw process on the scenario with a control socket, its probes."""

    def __init__(self, a, work, name, devs, vdev_list):
        self.a, self.name = a, name
        sc = S.select(SCENARIO)[0]
        conf = os.path.join(work, name + ".conf")
        lines = S.espgw_conf(sc, devs).splitlines()
        # Every SA of the run may be retiring at once (3 s after its deletion).
        lines.insert(1, "set max-sa %d" % (a.max_sa or 2 * a.changes + 64))
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.json = os.path.join(work, name + ".json")
        self.sock = os.path.join(work, name + ".sock")
        extra = ["-m", str(a.mem)] if a.mem else []
        self.gw = runner.Gateway("storm-" + name, [a.espgw],
                                 ["-f", conf, "--stats-json", self.json, "--ctl-socket",
                                  self.sock], vdev_list, work, extra_eal=extra)
        self.src_dev, self.sink_dev = devs["protected"], devs["unprotected"]
        self.rc = None

    def start(self):
        gw = self.gw
        with all_cpus():
            gw.start()
        deadline = time.monotonic() + runner.START_TIMEOUT
        gw.connect(deadline)
        self.src = runner.port_id_of(gw.tel, self.src_dev, 0)
        self.sink = runner.port_id_of(gw.tel, self.sink_dev, 1)
        wait_path(gw, self.sock)
        self.tid = runner.worker_tid(gw.proc.pid)
        if self.a.worker_nice and self.tid:
            os.setpriority(os.PRIO_PROCESS, self.tid, self.a.worker_nice)
        self.ctl = Ctl(self.sock)
        self.ctl.s.sendall(b"hello\n")
        self.ctl.lines(1)

    def probe(self):
        """The counters now: the worker's CPU time next to the clock, the
        sink port first (the window's rate), then the others."""
        tel, t = self.gw.tel, time.monotonic()
        run, wait, inv = task_sched(self.gw.proc.pid, self.tid)
        ctl_run, ctl_wait, _ = task_sched(self.gw.proc.pid, self.gw.proc.pid)
        sink = tel.query("/ethdev/stats,%d" % self.sink) or {}
        src = tel.query("/ethdev/stats,%d" % self.src) or {}
        es = tel.query("/espgw/stats") or {}
        sa = tel.query("/espgw/sa,%s" % SA_NAME) or {}
        return {"t": t, "src_in": src.get("ipackets"), "src_missed": src.get("imissed"),
                "src_nombuf": src.get("rx_nombuf"), "sink_out": sink.get("opackets"),
                "rx": es.get("rx"), "tx": es.get("tx"), "drops": es.get("drops"),
                "sa_pkts": sa.get("pkts"), "cpu_ns": run, "wait_ns": wait, "preempt": inv,
                "ctl_cpu_ns": ctl_run, "ctl_wait_ns": ctl_wait}

    def installed(self):
        """Names of the SAs and policies espgw has now (show sa, show sp)."""
        self.ctl.s.sendall(b"show sa\nshow sp\n")
        sa, sp = self.ctl.lines(2)
        return ([x["name"] for x in sa.get("sa", [])],
                [x.get("name") or "-" for x in sp.get("sp", [])])

    def stop(self):
        """SIGTERM (SIGKILL after 15 s), the EAL files removed."""
        with contextlib.suppress(AttributeError, OSError):
            self.ctl.s.close()
        self.gw.stop()
        self.rc = self.gw.proc.returncode if self.gw.proc else None

    def exit_stats(self):
        """espgw's exit counters (--stats-json)."""
        try:
            with open(self.json) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            self.gw.fail("no exit counters (%s)" % e)


def delta(kind, s0, s1, changes):
    """A window from its first and last samples: seconds and counter deltas."""
    d = {"kind": kind, "seconds": s1["t"] - s0["t"], "changes": changes}
    for k in s0:
        if k != "t" and isinstance(s0[k], int) and isinstance(s1.get(k), int):
            d[k] = s1[k] - s0[k]
    return d


def windows(storm, window, probe):
    """quiet, storm, quiet, ... until the storm is done, ending quiet."""
    out, s0, kind = [], probe(), "quiet"
    while True:
        n = 0
        if kind == "quiet":
            time.sleep(window)
        else:
            n = storm.run(window)
        s1 = probe()
        out.append(delta(kind, s0, s1, n))
        s0 = s1
        print("    %-6s %6.2f s  %6d changes  %9.0f pps out" % (
            kind, out[-1]["seconds"], n, out[-1].get("sink_out", 0) / out[-1]["seconds"]),
            flush=True)
        if kind == "quiet" and storm.finished():
            return out
        kind = "storm" if kind == "quiet" else "quiet"


# ---------------------------------------------------------------- figures
def rate(w, key="sink_out"):
    """Packets of counter key per second of the window."""
    return w.get(key, 0) / w["seconds"] if w["seconds"] else 0.0


def cpu_rate(w):
    """Packets into the sink per second the worker was on its CPU: the rate
    with the time other processes took the CPU from it left out."""
    return w["sink_out"] / (w["cpu_ns"] * 1e-9) if w.get("cpu_ns") else 0.0


def ab(ws, fn=rate):
    """(quiet median, storm median, median of the storm windows' ratios to
    the mean of the quiet windows on either side) of fn(window)."""
    q = [fn(w) for w in ws if w["kind"] == "quiet"]
    s = [fn(w) for w in ws if w["kind"] == "storm"]
    ratios = []
    for i, w in enumerate(ws):
        if w["kind"] == "storm":
            ref = (fn(ws[i - 1]) + fn(ws[i + 1])) / 2
            ratios.append(fn(w) / ref if ref else 0.0)
    return statistics.median(q), statistics.median(s), statistics.median(ratios)


def share(w):
    return w["cpu_ns"] / (w["seconds"] * 1e9) if w.get("cpu_ns") is not None else None


def window_table(ws, paced=False):
    """One line per window. src: what the source gave (full rate: the
    source port's ipackets; paced: what it sent); sink: the sink port's
    opackets (the two are read a moment apart: per window they differ by
    what was forwarded meanwhile; the exact balance is taken at the end);
    sink pps/cpu-s: per second the worker was on its CPU; drops: espgw's;
    worker cpu: its on-CPU share;
    preempted: how often another task took its CPU and for how long in
    all (runnable, not running)."""
    lines = ["  window   seconds  changes    src pps   sink pps  sink pps/cpu-s  drops  "
             "worker cpu  preempted"]
    for w in ws:
        cpu = share(w)
        lines.append("  %-6s %9.2f %8d %10.0f %10.0f %15.0f  %5d %11s  %d x, %.1f ms" % (
            w["kind"], w["seconds"], w["changes"], rate(w, "offered" if paced else "src_in"),
            rate(w), cpu_rate(w), w.get("drops", 0), "-" if cpu is None else "%.3f" % cpu,
            w.get("preempt", 0), w.get("wait_ns", 0) / 1e6))
    return lines


def storm_lines(storm, ws):
    """The storm's figures. The control lcore (espgw's main thread, on CPU 0
    with this script and whatever else runs there) is timed too: its on-CPU
    time per change does not depend on what else wanted CPU 0."""
    sw = [w for w in ws if w["kind"] == "storm"]
    secs = sum(w["seconds"] for w in sw)
    cpu = sum(w.get("ctl_cpu_ns", 0) for w in sw) * 1e-9
    wait = sum(w.get("ctl_wait_ns", 0) for w in sw) * 1e-9
    r = sorted(storm.rounds)
    return ["changes applied: %d of %d in %.2f s of storm windows: %.0f changes/s "
            "(%.0f transactions/s)" % (storm.done, storm.total, secs, storm.done / secs,
                                       2 * storm.done / secs),
            "control lcore in the storm windows: on CPU %.2f s (%.0f us a change: %.0f changes "
            "per on-CPU second), runnable but waiting for CPU %d %.2f s" % (
                cpu, 1e6 * cpu / storm.done if storm.done else 0,
                storm.done / cpu if cpu else 0, CTL_CPU, wait),
            "round trip of a round (%d adds + %d deletes, published to the worker): "
            "median %.1f ms, max %.1f ms" % (storm.batch, storm.batch,
                                             1e3 * r[len(r) // 2], 1e3 * r[-1])]


def exit_problems(st, rc):
    """espgw's exit status, counter invariants and pools."""
    bad = ["espgw exit status %s" % rc] if rc != 0 else []
    bad += counter_problems(st)
    pools = st.get("pools") or {}
    bad += ["pool %s: %d in use at start, %d at the end" % (n, p["in_use_start"], p["in_use_end"])
            for n, p in pools.items() if p["in_use_end"] != p["in_use_start"]]
    if not pools:
        bad.append("no pool counts in the exit JSON")
    return bad


def check_changes(storm, want, left):
    """Every change applied; afterwards espgw holds the scenario's SA and
    policy only (left: installed())."""
    bad = [] if storm.done == want else ["%d of %d changes applied" % (storm.done, want)]
    sas, sps = left
    if sas != [SA_NAME] or len(sps) != 1:
        bad.append("after the storm espgw has %d SAs and %d policies (want %s and its "
                   "policy): %s" % (len(sas), len(sps), SA_NAME, sas[:5]))
    return bad


def drop_reasons(st):
    return ", ".join("%s %d" % kv for kv in st["drops"].items() if kv[1]) or "none"


# ---------------------------------------------------------------- full rate
def full_rate(a, work):
    print("==> full rate: %s, %s B, source net_pcap infinite_rx (pulled by the worker), "
          "sink net_null" % (SCENARIO, a.size), flush=True)
    sc = S.select(SCENARIO)[0]
    pcap = pcapgen.pcap_for(sc, a.size, work, {})
    devs = {"protected": "net_pcap0", "unprotected": "net_null0"}
    run = Run(a, work, "full", devs,
              runner.vdevs(pcap, ("protected", "unprotected"), sc.source_role))
    try:
        run.start()
        runner.wait_traffic(run.gw, run.sink, time.monotonic() + runner.START_TIMEOUT)
        time.sleep(a.warmup)
        storm = Storm(run.ctl, a.changes, a.batch)
        ws = windows(storm, a.window, run.probe)
        left = run.installed()
    finally:
        run.stop()
    st = run.exit_stats()
    port_src, port_sink = st["ports"]["lan0"], st["ports"]["wan0"]
    sa = st["sa"].get(SA_NAME, {}).get("pkts", 0)
    lost = port_src["rx"] - port_sink["tx"]
    bad = exit_problems(st, run.rc)
    if lost or st["totals"]["drops"] or sa != port_sink["tx"] or port_src.get("imissed"):
        bad.append("packets of %s lost or not through it: source %d, sink %d, through %s %d, "
                   "drops: %s" % (SA_NAME, port_src["rx"], port_sink["tx"], SA_NAME, sa,
                                  drop_reasons(st)))
    bad += check_changes(storm, a.changes, left)
    q, s, ratio = ab(ws)
    cq, cs, cratio = ab(ws, cpu_rate)
    out = window_table(ws) + [""] + storm_lines(storm, ws) + [
        "forwarding (sink): %.3f Mpps quiet, %.3f Mpps in the storm (medians); storm / quiet "
        "%.3f (median of each storm window against the quiet ones beside it)"
        % (q / 1e6, s / 1e6, ratio),
        "per second the worker was on its CPU: %.3f Mpps quiet, %.3f Mpps in the storm; "
        "storm / quiet %.3f" % (cq / 1e6, cs / 1e6, cratio),
        "packets of %s over the whole run: source gave %d (imissed %d), espgw received %d, "
        "sent %d, dropped %d (%s), through the SA %d; sink received %d: lost %d"
        % (SA_NAME, port_src["rx"], port_src.get("imissed", 0), st["totals"]["rx"],
           st["totals"]["tx"], st["totals"]["drops"], drop_reasons(st), sa, port_sink["tx"],
           lost),
        "counter invariants (rx + created = tx + drops + to_ctl + absorbed + pending, ...) and "
        "pools: %s" % ("hold" if not exit_problems(st, run.rc) else "FAIL")]
    return {"windows": ws, "quiet_pps": q, "storm_pps": s, "ratio": ratio, "cpu_ratio": cratio,
            "rounds": storm.log, "changes": storm.done, "lost": lost,
            "exit": st["totals"]}, out, bad


# ---------------------------------------------------------------- paced
def paced(a, work):
    print("==> paced: %s, %s B, source AF_PACKET sendmmsg -> veth -> net_af_packet "
          "(ring %d frames), sink net_null" % (SCENARIO, a.size, a.ring), flush=True)
    new_netns()
    frames = pcapgen.plain_frames(1, a.size)
    devs = {"protected": "net_af_packet0", "unprotected": "net_null0"}
    vd = ["net_af_packet0,iface=%s,blocksz=4096,framesz=2048,framecnt=%d" % (VETH_GW, a.ring),
          "net_null0,no-rx=1"]
    run = Run(a, work, "paced", devs, vd)
    sh = multiprocessing.RawArray(ctypes.c_longlong, 5)
    sh[RATE] = -1
    src = multiprocessing.Process(target=source_main, args=(VETH_SRC, frames, sh), daemon=True)

    def probe():
        """The source's counters, then espgw's (run.probe) at once after."""
        t = time.monotonic()
        mine = {"offered": sh[SENT] + sh[REFUSED], "behind": sh[BEHIND],
                "veth_drop": netdev(VETH_SRC)["tx_drop"], "at_gw": netdev(VETH_GW)["rx"]}
        p = run.probe()
        p.update(mine, t=t)
        return p

    def settle():
        """Source paused: wait until espgw has taken and sent all that reached it."""
        sh[RATE] = -1
        end, last = time.monotonic() + 5, probe()
        while time.monotonic() < end:
            time.sleep(0.2)
            p = probe()
            if (p["src_in"], p["sink_out"]) == (last["src_in"], last["sink_out"]):
                return p
            last = p
        return last

    try:
        run.start()
        src.start()
        # Calibration: what espgw sustains from this source, no storm.
        sh[RATE] = 0
        time.sleep(a.warmup)
        c0 = probe()
        time.sleep(a.window * 2)
        c1 = probe()
        cal = delta("flat out", c0, c1, 0)
        sustained = rate(cal)
        pps = a.rate or int(a.fraction * sustained)
        if not src.is_alive() or pps < 1:
            raise RuntimeError("the paced source sent nothing (exit status %s)" % src.exitcode)
        print("    flat out: sent %.0f pps, espgw forwarded %.0f pps; paced at %d pps" % (
            rate(cal, "offered"), sustained, pps), flush=True)
        p0 = settle()
        sh[RATE] = pps
        time.sleep(a.warmup)
        storm = Storm(run.ctl, a.changes, a.batch)
        ws = windows(storm, a.window, probe)
        p1 = settle()
        died = not src.is_alive()
        left = run.installed()
    finally:
        sh[STOP] = 1
        if src.pid is not None:
            src.join(5)
            if src.is_alive():
                os.kill(src.pid, signal.SIGKILL)
                src.join()
        run.stop()
    st = run.exit_stats()
    d = delta("paced", p0, p1, storm.done)
    offered, sink = d["offered"], d["sink_out"]
    lost = offered - sink
    veth_lost = offered - d["at_gw"]
    ring_lost = d["at_gw"] - d["src_in"]
    gw_lost = d["src_in"] - sink
    bad = exit_problems(st, run.rc)
    if lost or d["drops"] or d["sa_pkts"] != sink:
        bad.append("paced packets of %s lost: %d sent, %d reached the sink (%d on the veth, %d "
                   "at espgw's RX ring, %d in espgw), %d through the SA" % (
                       SA_NAME, offered, sink, veth_lost, ring_lost, gw_lost, d["sa_pkts"]))
    bad += check_changes(storm, a.changes, left)
    if died:
        bad.append("the paced source exited early (status %s)" % src.exitcode)
    late = [w for w in ws if rate(w, "offered") < 0.97 * pps]
    q, s, ratio = ab(ws, lambda w: rate(w, "offered"))
    ring_ms = 1e3 * a.ring / pps
    out = window_table(ws, paced=True) + [""] + storm_lines(storm, ws) + [
        "calibration (flat out, no storm): source %.0f pps, espgw forwarded %.0f pps; paced at "
        "%d pps (%s)" % (rate(cal, "offered"), sustained, pps,
                         "--rate" if a.rate else "%.2f of it" % a.fraction),
        "the source sent %.0f pps in quiet windows, %.0f pps in storm windows (medians); %s"
        % (q, s, "it kept its rate in every window" if not late else
           "it fell behind in %d window(s) (CPU 0 busy: %d packets not sent in time)"
           % (len(late), d["behind"])),
        "RX ring: a worker that stops polling for more than %.3g ms (%d frames at %d pps) "
        "loses packets there" % (ring_ms, a.ring, pps),
        "packets of %s while paced (calibration excluded): sent %d, lost on the veth %d, lost "
        "at espgw's RX ring %d, espgw received %d, dropped %d, through the SA %d; sink "
        "received %d: lost %d" % (SA_NAME, offered, veth_lost, ring_lost, d["src_in"],
                                  d["drops"], d["sa_pkts"], sink, lost),
        "over the whole run (calibration's flat out included): espgw received %d, sent %d, "
        "dropped %d (%s); counter invariants and pools: %s"
        % (st["totals"]["rx"], st["totals"]["tx"], st["totals"]["drops"], drop_reasons(st),
           "hold" if not exit_problems(st, run.rc) else "FAIL")]
    if ring_lost:
        worst = max(ws, key=lambda w: w.get("wait_ns", 0))
        out.append("the worker lost CPU %d to other tasks for up to %.0f ms in a window (%s; "
                   "see the preempted column): RX ring losses come from that or from espgw"
                   % (WORKER_CPU, worst.get("wait_ns", 0) / 1e6, worst["kind"]))
    return {"windows": ws, "rounds": storm.log, "rate_pps": pps, "sustained_pps": sustained,
            "quiet_pps": q, "storm_pps": s, "ratio": ratio, "changes": storm.done, "lost": lost,
            "exit": st["totals"]}, out, bad


# ---------------------------------------------------------------- main
def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--espgw", default="build-release/app/espgw/espgw",
                    help="espgw binary (default build-release/app/espgw/espgw)")
    ap.add_argument("--changes", type=int, default=10000,
                    help="child-SA pairs added and deleted, per part (default 10000)")
    ap.add_argument("--batch", type=int, default=32,
                    help="pairs added (and deleted) per round (default 32)")
    ap.add_argument("--window", type=float, default=1.0,
                    help="seconds per quiet / storm window (default 1)")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds before the first window")
    ap.add_argument("--size", default="64", help="frame size incl. FCS (default 64)")
    ap.add_argument("--rate", type=int, default=0,
                    help="paced: packets/s (default: FRACTION of what espgw forwarded flat out)")
    ap.add_argument("--fraction", type=float, default=0.25,
                    help="paced: share of the flat-out rate (default 0.25: the source shares "
                    "CPU 0 with the control lcore and must keep its rate)")
    ap.add_argument("--ring", type=int, default=8192,
                    help="paced: espgw's RX ring, net_af_packet frames (default 8192)")
    ap.add_argument("--worker-nice", type=int, default=-20,
                    help="nice value of espgw's worker thread (default -20: other processes "
                    "on a shared machine take its CPU less often; 0 leaves it)")
    ap.add_argument("--parts", default="full,paced", help="full, paced or both (default)")
    ap.add_argument("--max-sa", type=int, default=0, help="set max-sa (default 2 x changes + 64)")
    ap.add_argument("--mem", type=int, default=0, help="EAL -m in MB (default: the bench's)")
    ap.add_argument("--json", help="write the windows and figures to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    a = ap.parse_args(argv)
    a.parts = [p.strip() for p in a.parts.split(",") if p.strip()]
    if not a.parts or set(a.parts) - {"full", "paced"}:
        ap.error("--parts: full, paced or full,paced")
    if a.changes < 1 or a.batch < 1 or a.window <= 0 or not 0 < a.fraction <= 1:
        ap.error("--changes, --batch >= 1, --window > 0, 0 < --fraction <= 1")
    if not os.access(a.espgw, os.X_OK):
        ap.error("no espgw binary at %s" % a.espgw)
    if "paced" in a.parts and os.getuid() != 0:
        ap.error("the paced part needs root (a network namespace); --parts full skips it")
    try:
        S.parse_sizes(a.size)
    except ValueError as e:
        ap.error("--size: %s" % e)
    if a.size == "imix":
        ap.error("--size: one frame size")
    return a


def main(argv):
    a = parse_args(argv)
    signal.signal(signal.SIGTERM, raise_exit)
    signal.signal(signal.SIGHUP, raise_exit)
    # The script (and the paced source it forks) stays off the worker's CPU.
    os.sched_setaffinity(0, {CTL_CPU})
    work = tempfile.mkdtemp(prefix="espgw-storm-")
    res, report, bad = {}, [], []
    try:
        for part, fn in (("full", full_rate), ("paced", paced)):
            if part in a.parts:
                r, lines, b = fn(a, work)
                res[part] = r
                report += ["", "%s:" % ("full rate" if part == "full" else "paced")] + lines
                bad += ["%s: %s" % (part, x) for x in b]
    except (runner.RunError, RuntimeError, OSError, EOFError, subprocess.SubprocessError) as e:
        bad.append("run failed: %s" % e)
    finally:
        if a.keep:
            print("work directory: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(report))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "results": res, "problems": bad}, f, indent=1)
    print("\n%s" % ("PASS: no packet of %s lost, the counters balance" % SA_NAME if not bad
                    else "FAIL:\n  " + "\n  ".join(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
