#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""espgw benchmark runner (started by scripts/bench.sh, which builds the
optimised binary and installs what is missing).

For every repetition: dpdk-test-crypto-perf once per transform (the crypto
limit), then every (scenario, size) point, each a fresh espgw process measured
over a fixed window; with --vs-espgw the same point on a baseline espgw binary
(e.g. the previous commit's) and with --vs-secgw on DPDK's ipsec-secgw, in turn
(the order reverses every other repetition: A B C / C B A). Results:
results.txt (table), results.json, results.png in the output directory, with
the generated configurations, pcaps and every process log next to them.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import cryptoperf
import pcapgen
import report
import runner
import scenarios as S

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench.sh", description="espgw single-core benchmark (see README, Performance)")
    p.add_argument("--espgw", help="espgw binary (bench.sh: the build-release one)")
    p.add_argument("--build-dir", help=argparse.SUPPRESS)  # consumed by bench.sh
    p.add_argument("--scenarios", default="", metavar="PATTERNS",
                   help="comma-separated names or globs, e.g. 'out-gcm128*,bypass' "
                   "(default: all; --list shows them)")
    p.add_argument("--sizes", default=",".join(S.SIZES),
                   help="frame sizes incl. FCS and/or imix (default: 64,imix,1420)")
    p.add_argument("--reps", type=int, default=3, help="repetitions per point (default 3)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds before the window")
    p.add_argument("--window", type=float, default=5.0, help="measured seconds (default 5)")
    p.add_argument("--cperf-ops", type=int, default=5000000,
                   help="crypto-perf operations per buffer size (default 5000000)")
    p.add_argument("--no-cperf", action="store_true", help="skip the crypto limit")
    p.add_argument("--vs-secgw", metavar="PATH",
                   help="a built DPDK ipsec-secgw: run it on every point too")
    p.add_argument("--vs-espgw", metavar="PATH",
                   help="a baseline espgw binary, e.g. one built from the previous commit: "
                   "run it on every point too, interleaved with the espgw under test "
                   "(rows 'espgw-base', column 'vs base')")
    p.add_argument("--smoke", action="store_true",
                   help="keep-it-working mode: each scenario once, at one size (the sizes "
                   "rotate over the scenarios), 1 s window, no speed asserted")
    p.add_argument("--out", help="output directory (default: a new one under /tmp)")
    p.add_argument("--hugepages", action="store_true", help=runner.HUGEPAGES_HELP)
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--random-spi", action="store_true",
                   help="random 32-bit SPIs, as IKE daemons pick them (default: 1000 + i "
                        "outbound, 3000 + i inbound)")
    a = p.parse_args(argv)
    S.SPI_RANDOM = a.random_spi
    missing = a.hugepages and not a.list and runner.hugepages_missing()
    if missing:
        p.error(missing)
    if a.smoke:
        a.reps, a.warmup, a.window = 1, 0.3, 1.0
        a.cperf_ops = min(a.cperf_ops, 100000)
    if not a.list and not a.espgw:
        p.error("--espgw PATH is required (scripts/bench.sh passes it)")
    if a.reps < 1 or a.window <= 0 or a.warmup < 0:
        p.error("--reps must be >= 1, --window > 0, --warmup >= 0")
    if not a.list and a.vs_espgw and not os.access(a.vs_espgw, os.X_OK):
        p.error("--vs-espgw: no executable at %s" % a.vs_espgw)
    return a


# The meson options that change the code an A/B compares: two builds that
# differ in one measure the option too (-Dnative alone moves inbound by about 7
# cycles a packet on the Zen 5 VM; README "The gateway's own ESP").
CODE_OPTIONS = ("buildtype", "optimization", "debug", "b_lto", "b_ndebug", "b_sanitize",
                "b_pgo", "native", "burst_cycles", "c_args")


def build_options(exe):
    """The CODE_OPTIONS of the meson build directory exe lies in (its
    meson-info, up to four levels above), or None outside one."""
    d = os.path.dirname(os.path.abspath(exe))
    for _ in range(5):
        f = os.path.join(d, "meson-info", "intro-buildoptions.json")
        if os.path.exists(f):
            with open(f) as fh:
                return {o["name"]: o["value"] for o in json.load(fh)
                        if o["name"] in CODE_OPTIONS}
        d = os.path.dirname(d)
    return None


def options_differ(a, b):
    """[(option, a's value, b's value)] where builds a and b differ; [] when
    either build's options are unknown."""
    if a is None or b is None:
        return []
    return [(k, a.get(k), b.get(k)) for k in CODE_OPTIONS if a.get(k) != b.get(k)]


def base_warning(a):
    """A method note, also printed, when --vs-espgw compares unlike builds."""
    diff = options_differ(build_options(a.espgw), build_options(a.vs_espgw))
    if not diff:
        return []
    note = ("WARNING: espgw and espgw-base were built with different options (%s): vs base "
            "measures them too" % ", ".join("%s %s / %s" % d for d in diff))
    print(note, file=sys.stderr, flush=True)
    return [note]


def points_of(scens, sizes, smoke):
    if smoke:
        return [(sc, sizes[i % len(sizes)]) for i, sc in enumerate(scens)]
    return [(sc, sz) for sc in scens for sz in sizes]


def list_scenarios():
    for sc in S.SCENARIOS:
        what = S.TRANSFORMS[sc.transform].label if sc.transform else "no crypto (bypass)"
        print("%-20s %-6s %-28s %-9s %4d %s" % (
            sc.name, sc.dir, what, sc.path or "-", sc.n_sa,
            "SAs+policies" if sc.transform else "bypass policies"))


# ---------------------------------------------------------------- one point
class Bench:
    def __init__(self, a):
        self.a = a
        self.out = a.out or "/tmp/espgw-bench-%s" % time.strftime("%Y%m%d-%H%M%S")
        self.dirs = {d: os.path.join(self.out, d) for d in ("pcap", "conf", "logs")}
        self.base_warning = base_warning(a) if a.vs_espgw else []
        for d in self.dirs.values():
            os.makedirs(d, exist_ok=True)
        self.pcaps = {}
        self.tsc_hz = None

    def run_espgw(self, sc, size, rep, binary=None, name="espgw"):
        """One point on the espgw under test, or (binary, name) on another
        espgw binary run exactly the same way (--vs-espgw)."""
        tag = "%s-%s-r%d" % (sc.name, size, rep)
        pcap = pcapgen.pcap_for(sc, size, self.dirs["pcap"], self.pcaps)
        conf = os.path.join(self.dirs["conf"], "%s.conf" % sc.name)
        with open(conf, "w") as f:
            f.write(S.espgw_conf(sc, {r: ("net_pcap0" if r == sc.source_role else "net_null0")
                                      for r in ("protected", "unprotected")}))
        stats = os.path.join(self.dirs["logs"], "%s-%s.json" % (name, tag))
        vd = runner.vdevs(pcap, ("protected", "unprotected"), sc.source_role)
        gw = runner.Gateway("%s-%s" % (name, tag), [binary or self.a.espgw],
                            ["-f", conf, "--stats-json", stats], vd, self.dirs["logs"])
        r = runner.measure(gw, "net_null0", self.sink_fallback(sc), self.a.warmup,
                           self.a.window, espgw=True)
        r["sa_share"] = sa_share(stats)
        return r

    def run_espgw_base(self, sc, size, rep):
        return self.run_espgw(sc, size, rep, self.a.vs_espgw, "espgw-base")

    def run_secgw(self, sc, size, rep):
        tag = "%s-%s-r%d" % (sc.name, size, rep)
        pcap = pcapgen.pcap_for(sc, size, self.dirs["pcap"], self.pcaps)
        conf = os.path.join(self.dirs["conf"], "secgw-%s.cfg" % sc.name)
        with open(conf, "w") as f:
            f.write(S.secgw_conf(sc, {"protected": 0, "unprotected": 1}))
        vd = runner.vdevs(pcap, ("protected", "unprotected"), sc.source_role)
        args = ["-p", "0x3", "-P", "-u", "0x2", "--config", "(0,0,1),(1,0,1)", "-f", conf,
                "-l", "-w", "0", "--mtu", str(S.MTU)]
        # One lcore, as in TESTING.md: it wants a TX queue per lcore, the
        # pcap port has one. Its main lcore (1) is then the worker.
        gw = runner.Gateway("secgw-" + tag, [self.a.vs_secgw], args, vd, self.dirs["logs"],
                            extra_eal=["--vdev", "crypto_aesni_mb"],
                            lcores=str(runner.WORKER_LCORE))
        return runner.measure(gw, "net_null0", self.sink_fallback(sc), self.a.warmup,
                              self.a.window, espgw=False)

    @staticmethod
    def sink_fallback(sc):
        return 0 if sc.source_role == "unprotected" else 1

    def attempt(self, impl, fn, sc, size, rep):
        try:
            r = fn(sc, size, rep)
        except (runner.RunError, OSError) as e:
            print("    %-11s FAILED: %s" % (impl, e), flush=True)
            return None
        self.tsc_hz = self.tsc_hz or r.get("tsc_hz")
        bc = r.get("burst_cycles")
        print("    %-11s %8.3f Mpps  %s cyc/pkt  cpu %s%s" % (
            impl, r["mpps"], _fmt(r.get("cycles_per_pkt"), "%.0f"),
            _fmt(r.get("cpu_share"), "%.2f"),
            "  full bursts min %d p10 %d" % (bc["min"], bc["p10"]) if bc else ""), flush=True)
        return r


def sa_share(stats_json):
    """Share of the packets espgw sent over its whole run that went through an
    SA (its exit counters): ~1 when every packet was encrypted or decrypted,
    0 for bypass. A check that a scenario measures what it says."""
    try:
        with open(stats_json) as f:
            st = json.load(f)
        tx = st["totals"]["tx"]
        return sum(sa["pkts"] for sa in st["sa"].values()) / tx if tx else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _fmt(x, f):
    return "-" if x is None else f % x


# ---------------------------------------------------------------- crypto limits
def limit_keys(points):
    """{(transform, op): [size names]} the points need."""
    need = {}
    for sc, size in points:
        if sc.transform:
            sizes = need.setdefault((sc.transform, sc.crypto_op), [])
            if size not in sizes:
                sizes.append(size)
    return need


def run_limits(b, need, rep):
    """{(transform, op): {size: Mops}} for one repetition; failures -> {}."""
    out = {}
    for (t, op), sizes in need.items():
        log = os.path.join(b.dirs["logs"], "cperf-%s-%s-r%d.log" % (t, op, rep))
        try:
            out[(t, op)] = cryptoperf.run(S.TRANSFORMS[t], op, sizes, b.a.cperf_ops, log)
        except (runner.RunError, OSError, ValueError, subprocess.SubprocessError) as e:
            print("    crypto-perf %s %s FAILED: %s" % (t, op, e), flush=True)
            out[(t, op)] = {}
            continue
        print("    crypto-perf %-10s %-7s %s" % (t, op, "  ".join(
            "%s %.3f Mops" % (s, m) for s, m in out[(t, op)].items())), flush=True)
    return out


# ---------------------------------------------------------------- the run
def implementations(b):
    """[(impl, run function)]: the espgw under test, then the baseline espgw
    (--vs-espgw) and ipsec-secgw (--vs-secgw) when asked for."""
    impls = [("espgw", b.run_espgw)]
    if b.a.vs_espgw:
        impls.append(("espgw-base", b.run_espgw_base))
    if b.a.vs_secgw:
        impls.append(("ipsec-secgw", b.run_secgw))
    return impls


def run_order(impls, rep):
    """The order of repetition rep: as given, reversed every other repetition
    (A B C / C B A), so that each pair of implementations alternates."""
    return impls if rep % 2 == 0 else impls[::-1]


def run_all(b, points):
    need = {} if b.a.no_cperf else limit_keys(points)
    res, limits = {}, []
    impls = implementations(b)
    for rep in range(b.a.reps):
        print("==> repetition %d/%d" % (rep + 1, b.a.reps), flush=True)
        limits.append(run_limits(b, need, rep))
        for sc, size in points:
            print("  %s %s" % (sc.name, size), flush=True)
            for impl, fn in run_order(impls, rep):
                if impl == "ipsec-secgw" and sc.espgw_only:
                    continue  # compared with espgw's tunnel rows (Scenario.espgw_only)
                res.setdefault((impl, sc.name, size), []).append(
                    b.attempt(impl, fn, sc, size, rep))
    return res, limits


BYPASS = "bypass"  # the scenario that forwards in clear: the forwarding limit


def rows_of(points, res, limits, secgw=False, base=False):
    """Rows per point: espgw (with 'vs secgw' and 'vs base': per-repetition
    ratios to ipsec-secgw and to the baseline espgw), then espgw-base (with
    'vs secgw') and ipsec-secgw where measured. res[(impl, scenario, size)]
    holds one runner.measure() dict or None per repetition."""
    def mpps(impl, sc, size):
        return [r["mpps"] if r else None for r in res[(impl, sc.name, size)]]

    def bypass(size):
        """espgw's bypass Mpps per repetition at size, when the run has it."""
        key = ("espgw", BYPASS, size)
        return [r["mpps"] if r else None for r in res[key]] if key in res else None

    rows = []
    for sc, size in points:
        lim = [lm.get((sc.transform, sc.crypto_op), {}).get(size) if sc.transform else None
               for lm in limits]
        bp = bypass(size) if sc.transform else None
        sg = mpps("ipsec-secgw", sc, size) if secgw and not sc.espgw_only else None
        bs = mpps("espgw-base", sc, size) if base else None
        rows.append(report.build_row("espgw", sc, size, res[("espgw", sc.name, size)], lim,
                                     sg, bs, bp))
        if base:
            rows.append(report.build_row("espgw-base", sc, size,
                                         res[("espgw-base", sc.name, size)], lim, sg,
                                         bypass=bp))
        if secgw and not sc.espgw_only:
            rows.append(report.build_row("ipsec-secgw", sc, size,
                                         res[("ipsec-secgw", sc.name, size)], lim,
                                         bypass=bp))
    return rows


def method(b):
    a = b.a
    base = ["vs base: espgw Mpps / espgw-base Mpps; espgw-base: %s (--vs-espgw), run the "
            "same way on every point, in turn with the others (order reversed every other "
            "repetition)" % os.path.abspath(a.vs_espgw)] + b.base_warning if a.vs_espgw else []
    return [
        "one worker on lcore %d (main lcore 0): EAL -l %s %s; source net_pcap infinite_rx "
        "(%d frames), sink net_null no-rx" % (runner.WORKER_LCORE, runner.LCORES,
                                             " ".join(runner.EAL_MEM), pcapgen.N_FRAMES),
        "Mpps: sink port opackets (telemetry /ethdev/stats) over %.1f s after %.1f s warm-up; "
        "median of %d rep(s), ±half the min..max spread" % (a.window, a.warmup, a.reps),
        "sizes: Ethernet frames incl. FCS; IMIX 7:4:1 of 64/570/1518 B; inbound: size of the "
        "decrypted frame. Gbps: inner IPv4 packets (frame - 18 B)",
        "cyc/pkt: espgw busy_cycles (TSC cycles of loop iterations with work) / packets "
        "sent; cpu cyc: the worker's on-CPU time x TSC Hz / packets (any gateway, "
        "preemption excluded); TSC %s Hz (EAL's measurement, its debug log)" % (b.tsc_hz or "?"),
        "limit: dpdk-test-crypto-perf, crypto_aesni_mb, lcore 1, same cipher lengths; ratio, "
        "vs secgw and vs base: median of per-repetition ratios",
        "comp: the composed limit 1 / (1/limit + 1/bypass), with espgw's bypass Mpps at the "
        "same size in the same repetition (what adds nothing to crypto and forwarding; '-' "
        "when the run has no bypass point); c.ratio: Mpps / comp, per-repetition median",
        "inbound: replay window off (replay-window 0; ipsec-secgw -w 0) because the "
        "replayed pcap repeats its sequence numbers",
        "cpu: worker thread on-CPU share over the window; '!': below 0.95 in some repetition, "
        "the core was shared (Mpps too low, cyc/pkt too high: busy_cycles count TSC time)",
    ] + base


def host_info():
    info = {"kernel": platform.release(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in f
                                if ln.startswith("model name")), None)
        info["dpdk"] = subprocess.run(["pkg-config", "--modversion", "libdpdk"],
                                      capture_output=True, text=True).stdout.strip()
        info["git"] = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                     capture_output=True, text=True).stdout.strip()
    except (OSError, StopIteration):
        pass
    return info


def finish(b, points, rows, sizes):
    notes = method(b)
    doc = {"version": 1, "tool": "espgw scripts/bench.sh", "smoke": b.a.smoke,
           "espgw": os.path.abspath(b.a.espgw), "ipsec_secgw": b.a.vs_secgw,
           "espgw_base": os.path.abspath(b.a.vs_espgw) if b.a.vs_espgw else None,
           "host": host_info(), "tsc_hz": b.tsc_hz, "method": notes,
           "settings": {"reps": b.a.reps, "warmup_s": b.a.warmup, "window_s": b.a.window,
                        "cperf_ops": None if b.a.no_cperf else b.a.cperf_ops,
                        "frames_per_pcap": pcapgen.N_FRAMES, "sizes": sizes,
                        "scenarios": [sc.name for sc in dict.fromkeys(p[0] for p in points)]},
           "rows": rows}
    report.write_json(os.path.join(b.out, "results.json"), doc)
    text = report.table(rows, notes)
    with open(os.path.join(b.out, "results.txt"), "w") as f:
        f.write(text)
    print("\n" + text)
    why = report.plot(os.path.join(b.out, "results.png"), rows, sizes)
    if why:
        print("no plot: " + why)
    print("results: %s/results.{txt,json%s}" % (b.out, "" if why else ",png"))


def main(argv):
    a = parse_args(argv)
    if a.list:
        list_scenarios()
        return 0
    try:
        scens, sizes = S.select(a.scenarios), S.parse_sizes(a.sizes)
    except ValueError as e:
        print("bench: %s" % e, file=sys.stderr)
        return 2
    if a.hugepages:
        runner.use_hugepages()
    b = Bench(a)
    points = points_of(scens, sizes, a.smoke)
    print("==> %d points x %d rep(s), output in %s" % (len(points), a.reps, b.out), flush=True)
    res, limits = run_all(b, points)
    rows = rows_of(points, res, limits, bool(a.vs_secgw), bool(a.vs_espgw))
    finish(b, points, rows, sizes)
    failed = [r for r in rows if not row_ok(r, not a.no_cperf)]
    for r in failed:
        print("FAILED: %s %s %s (%d of %d repetitions failed%s)" % (
            r["impl"], r["scenario"], r["size"], r["failed_reps"], r["reps"],
            "" if a.no_cperf or r["limit_mops"] else ", crypto limit missing"), file=sys.stderr)
    return 1 if failed else 0


def row_ok(r, want_limit):
    """Every repetition sent packets, and crypto rows have their limit."""
    if r["failed_reps"] or not r["mpps"] or not r["mpps"]["min"]:
        return False
    return not (want_limit and r["transform"] and not r["limit_mops"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
