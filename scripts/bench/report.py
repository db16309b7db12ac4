# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark results: per-point statistics (median and spread of the
repetitions), the text table, the JSON document and the PNG plot."""

import json
import statistics

import scenarios as S

CPU_SHARED = 0.95  # worker on-CPU share below which the core was visibly shared
COLORS = {"espgw": "tab:blue", "espgw-base": "tab:gray", "ipsec-secgw": "tab:green",
          "crypto limit": "tab:orange"}


def summary(samples):
    """{median, min, max, spread_pct, samples} of the numbers in samples
    (None entries ignored); None when there is none."""
    v = [x for x in samples if x is not None]
    if not v:
        return None
    med = statistics.median(v)
    spread = (max(v) - min(v)) / med * 100 if med else 0.0
    return {"median": med, "min": min(v), "max": max(v), "spread_pct": spread, "samples": v}


def ratios(num, den):
    """Per-repetition ratios num[r] / den[r] (TESTING.md: the median of
    per-run ratios, not the ratio of medians)."""
    return [a / b if a is not None and b else None for a, b in zip(num, den)]


def composed(limits, bypass):
    """Per-repetition composed limit 1 / (1/crypto + 1/bypass): what a gateway
    reaches that adds nothing to the crypto device's work and to plain
    forwarding, both measured in that repetition (issue 14); None where either
    is missing."""
    return [1 / (1 / c + 1 / b) if c and b else None for c, b in zip(limits, bypass)]


def gbps(mpps, size):
    """Gbit/s of inner IPv4 packets (what the tunnel carries) at mpps."""
    return None if mpps is None else mpps * S.mean_inner(size) * 8 / 1000


def build_row(impl, sc, size, runs, limits, secgw_mpps=None, base_mpps=None, bypass=None):
    """One result row from the repetitions of one (implementation, scenario,
    size) point. runs[r] is a runner.measure() dict or None (failed);
    limits[r] the crypto limit (Mops) of repetition r or None; secgw_mpps[r]
    and base_mpps[r] the Mpps of ipsec-secgw and of the baseline espgw
    (--vs-espgw) in repetition r, None where not measured or failed;
    bypass[r] espgw's bypass Mpps at this size (for the composed limit)."""
    mpps = [r["mpps"] if r else None for r in runs]
    comp = composed(limits, bypass) if bypass else [None] * len(runs)
    return {"impl": impl, "scenario": sc.name, "dir": sc.dir, "transform": sc.transform,
           "path": sc.path, "sas": sc.n_sa, "size": size, "reps": len(runs),
           "failed_reps": sum(1 for r in runs if not r),
           "mpps": summary(mpps),
           "gbps": summary([gbps(m, size) for m in mpps]),
           "cycles_per_pkt": summary([r.get("cycles_per_pkt") if r else None for r in runs]),
           "oncpu_cycles_per_pkt": summary(
               [r.get("oncpu_cycles_per_pkt") if r else None for r in runs]),
           "cpu_share": summary([r.get("cpu_share") if r else None for r in runs]),
           "sa_share": summary([r.get("sa_share") if r else None for r in runs]),
           "limit_mops": summary(limits),
           "ratio_to_limit": summary(ratios(mpps, limits)),
           "composed_mpps": summary(comp),
           "ratio_to_composed": summary(ratios(mpps, comp)),
           "vs_secgw": summary(ratios(mpps, secgw_mpps)) if secgw_mpps else None,
           "vs_base": summary(ratios(mpps, base_mpps)) if base_mpps else None,
           "runs": runs}


def _med(x, fmt):
    return "-" if x is None else fmt % x["median"]


def _mpps_cell(x):
    if x is None:
        return "FAILED"
    return "%.3f ±%.0f%%" % (x["median"], x["spread_pct"] / 2)


def _cpu_cell(x):
    if x is None:
        return "-"
    return "%.2f%s" % (x["median"], "!" if x["min"] < CPU_SHARED else "")


COLUMNS = (("scenario", "%-20s"), ("impl", "%-11s"), ("size", "%5s"), ("Mpps", "%14s"),
           ("Gbps", "%7s"), ("cyc/pkt", "%8s"), ("cpu cyc", "%8s"), ("limit Mops", "%10s"),
           ("ratio", "%6s"), ("comp", "%6s"), ("c.ratio", "%7s"),
           ("vs secgw", "%8s"), ("vs base", "%7s"), ("cpu", "%5s"))


def table_line(row):
    cells = (row["scenario"], row["impl"], row["size"], _mpps_cell(row["mpps"]),
             _med(row["gbps"], "%.2f"), _med(row["cycles_per_pkt"], "%.0f"),
             _med(row["oncpu_cycles_per_pkt"], "%.0f"),
             _med(row["limit_mops"], "%.3f"), _med(row["ratio_to_limit"], "%.2f"),
             _med(row.get("composed_mpps"), "%.2f"), _med(row.get("ratio_to_composed"), "%.2f"),
             _med(row["vs_secgw"], "%.2f"), _med(row.get("vs_base"), "%.2f"),
             _cpu_cell(row["cpu_share"]))
    return "  ".join(f % c for (_, f), c in zip(COLUMNS, cells))


def table(rows, method_notes):
    head = "  ".join(f % n for n, f in COLUMNS)
    lines = [head, "-" * len(head)] + [table_line(r) for r in rows]
    return "\n".join(lines + [""] + ["  " + n for n in method_notes]) + "\n"


def write_json(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")


# ---------------------------------------------------------------- plot
def _points(rows, scen, impl, key):
    return {r["size"]: r[key] for r in rows
            if r["scenario"] == scen and r["impl"] == impl and r[key]}


def _panel(ax, rows, sizes, scen):
    """Grouped bars per size: espgw, the baseline espgw and ipsec-secgw (if
    measured), crypto limit."""
    series = [(lbl, pts) for lbl, pts in (
        ("espgw", _points(rows, scen, "espgw", "mpps")),
        ("espgw-base", _points(rows, scen, "espgw-base", "mpps")),
        ("ipsec-secgw", _points(rows, scen, "ipsec-secgw", "mpps")),
        ("crypto limit", _points(rows, scen, "espgw", "limit_mops"))) if pts]
    here = [s for s in sizes if any(s in pts for _, pts in series)]
    width = 0.8 / max(1, len(series))
    for j, (label, pts) in enumerate(series):
        xs = [i + (j - (len(series) - 1) / 2) * width for i, s in enumerate(here) if s in pts]
        v = [pts[s] for s in here if s in pts]
        err = [[x["median"] - x["min"] for x in v], [x["max"] - x["median"] for x in v]]
        ax.bar(xs, [x["median"] for x in v], width, yerr=err, label=label, capsize=2,
               color=COLORS[label])
    ax.set_title(scen, fontsize=9)
    ax.set_xticks(range(len(here)), here, fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(fontsize=6)


def plot(path, rows, sizes):
    """PNG with one panel per scenario (Mpps per size, bars at the median,
    whiskers min..max). Returns None on success, else why there is no plot."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        return "matplotlib not available (%s): apt-get install python3-matplotlib" % e
    scens = list(dict.fromkeys(r["scenario"] for r in rows))
    ncol = min(4, len(scens))
    nrow = (len(scens) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 3 * nrow), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < len(scens):
            _panel(ax, rows, sizes, scens[k])
        else:
            ax.axis("off")
    axes.flat[0].set_ylabel("Mpps / Mops")
    fig.suptitle("One worker core: Mpps per frame size (bars: median, whiskers: min..max)")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return None
