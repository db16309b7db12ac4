#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Scaling over workers (README, "Two workers"): the 1,000-SA scenarios of the
benchmark (out-gcm128-1k, in-gcm128-1k; AES-GCM-128, 1,000 SAs and policies,
consecutive frames of different SAs) with 1 worker and with 2.

The source port is one net_pcap with one RX queue per worker (one rx_pcap
each, infinite_rx); worker w polls queue w. The frames of SA i go to queue
i mod W: inbound that is the queue of the SA's owner (lib/sad deals the
inbound SAs to the workers in turn, in the order they are configured), so
nothing is handed over; outbound any worker may encrypt for any SA (the
sequence number is taken with an atomic add). The sink is net_null. The
main lcore shares CPU 0 with worker 1 and sleeps when idle; with one worker,
the worker has CPU 1 alone, as in scripts/bench/bench.py.

--sas 1 measures one SA (the elephant flow) on two workers: its frames dealt
to the queues in turn; outbound both workers encrypt for it, sequence numbers
from one atomic counter: with seq-order worker (the default) each worker
sends on its own TX queue (the order on the wire is not kept across the
workers), with --seq-order strict the SA's owner sends all of them in order
(lib/dp/order.c); inbound the SA's owner decrypts and the other worker hands
its packets over, or with --decrypt any each worker decrypts what its queue
brings (one replay window shared by atomics; the benchmark's SAs have
replay-window 0, since the looped pcaps repeat their numbers: the window's
cost is measured by scripts/bench/replay_race.c).

--dirs bypass is the control: the outbound frames let through by as many
bypass policies, no crypto. It shows what the two CPUs give a gateway that
only forwards, the same PMDs, frames and lcores: where bypass does not
scale either, the limit lies outside the crypto path.

Rates at the sink (/ethdev/stats opackets) over a window after a warm-up,
each worker's on-CPU share (/proc/PID/task/TID/schedstat). The worker
counts take turns (the order reversed every other repetition); "x1" is the
median of the per-repetition ratios of 2 workers to 1. A build with
-Dburst_cycles=true also logs each worker's cycles a packet over full bursts
(lib/dp/burst_cycles.h): "x1 median" and "x1 min" are the medians over the
repetitions of what those give two workers against one (the sum over the two
of one worker's cycles a packet over its own), by the bursts' median and by
their minimum. The minimum is what the code costs two workers in their best
bursts, the median adds what the CPUs lose within bursts, the rate also what
they lose between them: where "x1 min" reaches a target and "x1" does not,
the gap lies outside the workers' code, and bypass (no crypto, nothing
shared) shows how much of it the machine takes from any forwarding. Where
one worker hands the other its packets (--sas 1 with seq-order strict, or
inbound without --decrypt any) both columns stay "-".

Memory as bench.py's: 4 KiB pages (--no-huge) by default, with --hugepages
2 MiB pages, as a production gateway runs (README, "Two workers").

    scripts/bench/scale.py --espgw build-release/app/espgw/espgw --sizes 64,1420 --reps 3
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

TRANSFORM = "gcm128"


def lcores(workers):
    """--lcores: the main lcore on the first CPU, workers from the last CPU down."""
    cpus = sorted(os.sched_getaffinity(0))
    w = [cpus[-1 - (i % len(cpus))] for i in range(workers)]
    return "0@%d," % cpus[0] + ",".join("%d@%d" % (i + 1, c) for i, c in enumerate(w))


def split_pcaps(direction, size, workers, d, n_sa=1000):
    """One pcap per queue: the frames of the SAs (bypass: policies) i with
    i mod workers == q, or with fewer than workers, frame k on queue k mod
    workers."""
    t = S.TRANSFORMS[TRANSFORM]
    frames = (pcapgen.esp_frames(t, n_sa, size) if direction == "in"
              else pcapgen.plain_frames(n_sa, size))
    order, out = pcapgen.sa_order(n_sa), []
    for q in range(workers):
        path = os.path.join(d, "%s-%s-w%d-q%d.pcap" % (direction, size, workers, q))
        pcapgen.write_pcap(path, [f for k, f in enumerate(frames)
                                  if (order[k % n_sa] if n_sa >= workers else k) % workers == q])
        out.append(path)
    return out


def sample(gw, port, tids):
    return {"t": time.monotonic(), "opackets": runner.opackets(gw.tel, port),
            "oncpu": [runner.oncpu_ns(gw.proc.pid, t) for t in tids]}


def scenario(a, direction):
    """bypass: the same frames as outbound, let through by as many bypass
    policies: what the two CPUs forward when the gateway adds no crypto."""
    if direction == "bypass":
        return S.Scenario("bypass-scale", "bypass", None, None, a.sas)
    return S.Scenario("%s-gcm128-scale" % direction, direction, TRANSFORM, a.path, a.sas,
                      seq_order=a.seq_order, decrypt=a.decrypt)


def one(a, direction, workers, files, d):
    src = "net_pcap0," + ",".join("rx_pcap=%s" % p for p in files) + ",infinite_rx=1"
    sink = "net_null0,no-rx=1"
    src_role = "unprotected" if direction == "in" else "protected"
    devs = {r: ("net_pcap0" if r == src_role else "net_null0")
            for r in ("protected", "unprotected")}
    conf_path = os.path.join(d, "scale-%s.conf" % direction)
    with open(os.open(conf_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(S.espgw_conf(scenario(a, direction), devs))
    vd = [src, sink] if src_role == "protected" else [sink, src]
    pools = ["--mbuf-pools", a.mbuf_pools] if a.mbuf_pools else []
    gw = runner.Gateway("espgw-%s-w%d" % (direction, workers), [a.espgw],
                        ["-f", conf_path] + pools, vd, d, lcores=lcores(workers))
    gw.start()
    try:
        deadline = time.monotonic() + runner.START_TIMEOUT
        gw.connect(deadline)
        port = runner.port_id_of(gw.tel, "net_null0", 0 if src_role == "unprotected" else 1)
        while not runner.opackets(gw.tel, port):
            gw.alive()
            if time.monotonic() > deadline:
                gw.fail("nothing sent")
            time.sleep(0.05)
        time.sleep(a.warmup)
        tids = runner.worker_tids(gw.proc.pid, workers)
        s0 = sample(gw, port, tids)
        time.sleep(a.window)
        s1 = sample(gw, port, tids)
        gw.alive()
        drops = {k: v for k, v in (gw.tel.query("/espgw/drops") or {}).items() if v}
    finally:
        gw.stop()
    dt = s1["t"] - s0["t"]
    return {"mpps": (s1["opackets"] - s0["opackets"]) / dt / 1e6,
            "cpu": [(y - x) / (dt * 1e9) for x, y in zip(s0["oncpu"], s1["oncpu"])],
            "drops": drops, "cycles": gw.burst_cycles_all()}


def cycles_text(x):
    """Each worker's minimum/median cycles a packet over full bursts, or ''."""
    c = x["cycles"]
    return "  cyc/pkt min/median %s" % " ".join(
        "%d/%d" % (c[w]["min"], c[w]["median"]) for w in sorted(c)) if c else ""


def cycles_ratio(one, two, key):
    """What two workers' own timing of their bursts gives against one's: the
    sum of one worker's cycles a packet over each of the two's (key: "min"
    or "median" over full bursts), or None. The minimum is what the code
    costs in its best bursts; the median adds what the CPU loses within
    them; the rate's ratio also what it loses between them (other threads,
    interrupts)."""
    c1, c2 = one["cycles"], two["cycles"]
    if len(c1) != 1 or len(c2) != 2:
        return None
    m1 = next(iter(c1.values()))[key]
    return sum(m1 / w[key] for w in c2.values())


def handed_over(a, direction):
    """Whether one worker passes the other its packets (one SA: seq-order
    strict outbound, the owner's decryption inbound): then a worker's bursts
    are not its packets' whole work, and their cycles compare with nothing."""
    if a.sas >= 2 or direction == "bypass":
        return False
    return a.seq_order == "strict" if direction == "out" else a.decrypt != "any"


def cycles_column(res, key):
    cyc = [c for c in (cycles_ratio(x, b, key) for x, b in zip(res[1], res[2])) if c]
    return "%.2f" % statistics.median(cyc) if cyc else "-"


def run(a, d):
    rows = []
    for direction in a.dirs.split(","):
        for size in a.sizes.split(","):
            files = {w: split_pcaps(direction, size, w, d, a.sas) for w in (1, 2)}
            res = {1: [], 2: []}
            for r in range(a.reps):
                for w in ((1, 2) if r % 2 == 0 else (2, 1)):
                    x = one(a, direction, w, files[w], d)
                    res[w].append(x)
                    print("  %-3s %5s B  %d worker%s %7.3f Mpps  cpu %s  drops %s%s" % (
                        direction, size, w, " " if w == 1 else "s", x["mpps"],
                        " ".join("%.2f" % c for c in x["cpu"]), x["drops"],
                        cycles_text(x)), flush=True)
            rows.append((direction, size, res))
    print("\n%-4s %6s %12s %12s %6s %10s %10s" % (
        "dir", "size", "1 worker", "2 workers", "x1", "x1 median", "x1 min"))
    for direction, size, res in rows:
        ratio = statistics.median(b["mpps"] / x["mpps"] for x, b in zip(res[1], res[2]))
        print("%-4s %6s %7.3f Mpps %7.3f Mpps %6.2f %10s %10s" % (
            direction, size, statistics.median(x["mpps"] for x in res[1]),
            statistics.median(x["mpps"] for x in res[2]), ratio,
            *(("-", "-") if handed_over(a, direction) else
              (cycles_column(res, "median"), cycles_column(res, "min")))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--espgw", required=True)
    ap.add_argument("--dirs", default="out,in",
                    help="out, in, bypass (the control without crypto), comma-separated")
    ap.add_argument("--sas", type=int, default=1000,
                    help="SAs and policies (default 1000; 1: one SA over both workers)")
    ap.add_argument("--sizes", default="64,1420")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--path", default="direct", choices=("direct", "cpu", "cryptodev"),
                    help="crypto path of the SAs (default direct, what auto picks for GCM)")
    ap.add_argument("--seq-order", default="", choices=("", "worker", "strict"),
                    help="seq-order of the outbound SAs (default: espgw's, worker)")
    ap.add_argument("--decrypt", default="", choices=("", "owner", "any"),
                    help="decrypt of the inbound SAs (default: espgw's, owner)")
    ap.add_argument("--mbuf-pools", default="", choices=("", "shared", "worker"),
                    help="espgw's --mbuf-pools (default: espgw's, shared)")
    ap.add_argument("--hugepages", action="store_true", help=runner.HUGEPAGES_HELP)
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (configuration, pcaps, logs)")
    a = ap.parse_args()
    if a.hugepages:
        missing = runner.hugepages_missing()
        if missing:
            ap.error(missing)
        runner.use_hugepages()
    d = tempfile.mkdtemp(prefix="espgw-scale-")
    print("lcores: 1 worker %s, 2 workers %s; work directory %s%s; %s"
          % (lcores(1), lcores(2), d, "" if a.keep else " (removed at the end)",
             "2 MiB pages" if a.hugepages else "4 KiB pages (--no-huge)"))
    try:
        run(a, d)
    finally:
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
