# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of the interop suite: a Testbed is the topology of
scripts/netns/topo.py, up, with tcpdump capturing the internet namespace, and
the data sent through it remembered (the capture checks look for it)."""

import os
import shutil
import sys
import tempfile

ESPGW = os.environ.get("ESPGW", "")
SRC = os.environ.get("ESPGW_SRC", "")
KEEP = os.environ.get("ESPGW_INTEROP_KEEP", "") != ""  # keep work dirs for debugging
sys.path.insert(0, os.path.join(SRC, "scripts", "netns"))

import topo  # noqa: E402,F401  (re-exported for the tests)
import wire  # noqa: E402,F401
import xfer  # noqa: E402,F401

CONFS = [os.path.join(SRC, "config", "gw-a.conf"), os.path.join(SRC, "config", "gw-b.conf")]
# Drop reasons that must stay at zero when nothing is wrong on the testbed.
CLEAN_DROPS = ["auth_fail", "replay", "bad_padding", "bad_length", "no_sa", "policy_mismatch",
               "crypto_error", "crypto_enqueue_full", "neigh_failed", "neigh_queue_full",
               "frag_failed", "reasm_failed", "tx_full", "ctl_full", "no_policy"]


class Testbed:
    """A running topology with a capture of the internet namespace; transfers
    remembers (seed, bytes) of the data sent, for the capture's secret search."""

    def __init__(self, topology, pcap):
        self.t = topology
        self.pcap = pcap
        self.cap = None
        self.transfers = []

    def tcp(self, src, dst, addr, nbytes, seed):
        self.transfers.append((seed, nbytes))
        return self.t.tcp(src, dst, addr, nbytes, seed=seed)

    def udp(self, src, dst, addr, nbytes, df, seed):
        self.transfers.append((seed, nbytes))
        return self.t.udp(src, dst, addr, nbytes, df, seed=seed)

    def stop_capture(self):
        if self.cap is not None:
            self.t.stop_capture(self.cap)
            self.cap = None


def start_testbed(name, **topo_args):
    """Bring a topology up and start capturing; the generator form of a fixture."""
    workdir = tempfile.mkdtemp(prefix="espgw-interop-%s-" % name)
    topo_args = {k: (v(workdir) if callable(v) else v) for k, v in topo_args.items()}
    t = topo.Topology(workdir, ESPGW, **topo_args)
    tb = Testbed(t, os.path.join(workdir, "internet.pcap"))
    try:
        t.up()
        tb.cap = t.start_capture(tb.pcap)
        yield tb
    finally:
        t.down()
        if KEEP:
            print("kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def problems_after_stop(tb):
    """Stop the gateways; their counters JSON and what is wrong with them."""
    st = tb.t.stop_gateways()
    bad = ["gw-%s: %s" % (g, p) for g in "ab" for p in topo.counter_problems(st[g])]
    return st, bad


def ping_ok(r, count):
    """True when ping got count replies (and said so)."""
    return r.returncode == 0 and (" %d received" % count) in r.stdout


def tel(t, g, cmd):
    """A telemetry query to gateway g ("a" or "b"); AssertionError if no answer."""
    r = t.gw[g].tel.try_query(cmd)
    assert r is not None, "gw-%s: no answer to %s" % (g, cmd)
    return r


def flush_pmtu(t, *sites):
    """Forget the path MTUs the hosts learned (IPv4 and IPv6 route exceptions)."""
    for s in sites:
        for fam in ("-4", "-6"):
            r = t.run(s, ["ip", fam, "route", "flush", "cache"])
            assert r.returncode == 0, r.stderr


def cached_mtu(t, site, dst, src=None):
    """The path MTU the host of site holds for dst (None: none learned)."""
    import re
    args = ["ip", "route", "get", dst] + (["from", src] if src else [])
    out = t.run(site, args).stdout
    m = re.search(r"\bmtu (\d+)", out)
    return int(m.group(1)) if m else None


def sa_selectors(confs):
    """{SPI: (SA name, [(src net, dst net)])} of the protect policies of gw-a's
    config: what may be inside the ESP packets of each SA."""
    c = wire.Conf(confs[0])
    return {int(sa["spi"], 0): (name, c.selectors(name)) for name, sa in c.sas.items()}


__all__ = ["CLEAN_DROPS", "CONFS", "Testbed", "cached_mtu", "flush_pmtu", "ping_ok", "problems_after_stop",
           "sa_selectors", "start_testbed", "tel", "topo", "wire", "xfer"]
