#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""What the hand-off of inbound ESP between workers costs (README, "The
hand-off"): two workers, two inbound SAs, the same packets, decrypted where
they arrive or handed over first.

lib/sad deals the inbound SAs in turn: in0 is owned by worker 0, in1 by
worker 1. The unprotected port is one net_pcap with two RX queues (one
rx_pcap each, infinite_rx), the protected port a net_null sink; AES-GCM-128,
replay window off (the replayed pcaps repeat their sequence numbers), the
configuration and frames of the benchmark's in-gcm128-cpu (scripts/bench):
  direct   queue i carries SA i's ESP: every packet is decrypted by the
           worker that received it
  crossed  queue i carries the other SA's ESP: every packet goes through a
           hand-off ring to the other worker first
  nosa     ESP of SPIs no SA has: received, looked up and dropped (no_sa),
           what a receiving worker spends on a packet it hands over
Rates at the sink (/ethdev/stats opackets) over a window after a warm-up,
each worker's on-CPU share (/proc/PID/task/TID/schedstat), and the on-CPU
cycles of both workers together per packet delivered (nosa: received). The
modes take turns (the order reversed every other repetition); crossed/direct
is the median of per-repetition ratios. From the medians: what the owner
spends on a handed packet, (cycles - received x nosa cycles) / handed in,
against what a worker spends beyond the reception on one it received
(direct - nosa). Sources replayed from memory are faster than the gateway:
crossed runs overloaded, and a receiving worker that outpaces the owner
fills its ring and drops (handoff_full) what it already received. Needs as
many CPUs as workers for a fair figure: with fewer, the workers share CPUs
and the share column says so.

    scripts/bench/handoff.py --espgw build-release/app/espgw/espgw --sizes 64,1420 --reps 3
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen  # noqa: E402
import runner  # noqa: E402
import scenarios as S  # noqa: E402

WORKERS = 2
TRANSFORM = "gcm128"


def lcores():
    """--lcores: the main lcore and the workers, the workers on distinct CPUs if possible."""
    cpus = sorted(os.sched_getaffinity(0))
    w = cpus[1:WORKERS + 1] if len(cpus) > WORKERS else (cpus * WORKERS)[-WORKERS:]
    return "0@%d," % cpus[0] + ",".join("%d@%d" % (i + 1, c) for i, c in enumerate(w))


def conf(devs, path):
    return S.espgw_conf(S.Scenario("in-gcm128-2sa", "in", TRANSFORM, path, WORKERS), devs)


def pcaps(size, d):
    """One pcap per SA: SA i's ESP frames only, i < 2 * WORKERS (SAs from
    WORKERS on are not configured: their SPIs are unknown)."""
    t = S.TRANSFORMS[TRANSFORM]
    n, out = 2 * WORKERS, []
    frames = pcapgen.esp_frames(t, n, size)
    order = pcapgen.sa_order(n)
    for i in range(n):
        path = os.path.join(d, "sa%d-%s.pcap" % (i, size))
        pcapgen.write_pcap(path, [f for k, f in enumerate(frames) if order[k % n] == i])
        out.append(path)
    return out


def sample(gw, port, tids):
    return {"t": time.monotonic(), "opackets": runner.opackets(gw.tel, port),
            "oncpu": [runner.oncpu_ns(gw.proc.pid, t) for t in tids],
            "rx": (gw.tel.query("/espgw/stats") or {}).get("rx", 0),
            "handed_in": (gw.tel.query("/espgw/dp") or {}).get("handed_in", 0)}


def one(binary, mode, files, d, a):
    rx = {"direct": files[:WORKERS], "crossed": files[WORKERS - 1::-1],
          "nosa": files[WORKERS:]}[mode]
    wan = "net_pcap1," + ",".join("rx_pcap=%s" % p for p in rx) + ",infinite_rx=1"
    lan = "net_null0,no-rx=1"
    conf_path = os.path.join(d, "handoff.conf")
    with open(os.open(conf_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(conf({"protected": "net_null0", "unprotected": "net_pcap1"}, a.path))
    gw = runner.Gateway("espgw-%s" % mode, [binary], ["-f", conf_path], [lan, wan], d,
                        lcores=lcores())
    gw.start()
    try:
        deadline = time.monotonic() + runner.START_TIMEOUT
        gw.connect(deadline)
        port = runner.port_id_of(gw.tel, "net_null0", 0)
        while not (gw.tel.query("/espgw/stats") or {}).get("rx"):  # nosa sends nothing
            gw.alive()
            if time.monotonic() > deadline:
                gw.fail("nothing received")
            time.sleep(0.05)
        time.sleep(a.warmup)
        tids = runner.worker_tids(gw.proc.pid, WORKERS)
        s0 = sample(gw, port, tids)
        time.sleep(a.window)
        s1 = sample(gw, port, tids)
        gw.alive()
        dp = gw.tel.query("/espgw/dp") or {}
        drops = {k: v for k, v in (gw.tel.query("/espgw/drops") or {}).items() if v}
    finally:
        gw.stop()
    dt = s1["t"] - s0["t"]
    d = {k: s1[k] - s0[k] for k in ("opackets", "rx", "handed_in")}
    pkts = d["rx"] if mode == "nosa" else d["opackets"]
    cpu = [(b - a) / (dt * 1e9) for a, b in zip(s0["oncpu"], s1["oncpu"])]
    hz = gw.tsc_hz() or 0
    cycles = sum(b - a for a, b in zip(s0["oncpu"], s1["oncpu"])) * 1e-9 * hz
    return {"mpps": pkts / dt / 1e6, "cpu": cpu, "cyc": cycles / pkts if pkts else 0,
            "cycles": cycles, "d": d, "handed_out": dp.get("handed_out"), "drops": drops}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--espgw", required=True)
    ap.add_argument("--sizes", default="64,1420")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--window", type=float, default=2.0)
    ap.add_argument("--path", default="cpu", choices=("cpu", "cryptodev"),
                    help="crypto path of the SAs (default cpu, what auto picks for GCM)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (configuration, pcaps, logs)")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="espgw-handoff-")
    print("lcores %s; work directory %s%s"
          % (lcores(), d, "" if a.keep else " (removed at the end)"))
    try:
        run(a, d)
    finally:
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)


def run(a, d):
    for size in a.sizes.split(","):
        files = pcaps(size, d)
        res = {"direct": [], "crossed": [], "nosa": []}
        for r in range(a.reps):
            order = ("direct", "crossed", "nosa") if r % 2 == 0 else ("nosa", "crossed", "direct")
            for mode in order:
                x = one(a.espgw, mode, files, d, a)
                res[mode].append(x)
                print("  %5s B %-8s %6.3f Mpps  %5.0f cyc/pkt (both workers on CPU)  cpu %s"
                      "  handed_out %s  drops %s" % (size, mode, x["mpps"], x["cyc"],
                                                    " ".join("%.2f" % c for c in x["cpu"]),
                                                    x["handed_out"], x["drops"]))
        report(size, res)


def report(size, res):
    med = {m: statistics.median(x["cyc"] for x in res[m]) for m in res}
    ratio = statistics.median(c["mpps"] / d["mpps"] for c, d in zip(res["crossed"], res["direct"]))
    owner = statistics.median((c["cycles"] - c["d"]["rx"] * med["nosa"]) / c["d"]["handed_in"]
                              for c in res["crossed"] if c["d"]["handed_in"])
    print("%5s B: direct %.3f Mpps, crossed %.3f Mpps: crossed/direct %.2f; cycles per packet: "
          "reception + lookup (nosa) %.0f, the rest when received (direct - nosa) %.0f, "
          "the rest when handed over (owner) %.0f" % (
              size, statistics.median(x["mpps"] for x in res["direct"]),
              statistics.median(x["mpps"] for x in res["crossed"]), ratio, med["nosa"],
              med["direct"] - med["nosa"], owner))


if __name__ == "__main__":
    main()
