#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""How fast the control socket installs child-SA pairs (2 SAs + 2 policies in
one transaction, what an IKE daemon installs per CHILD_SA), with 0, 1,000,
10,000 ... pairs already installed; how long one change takes to reach the
workers at those sizes (the reply comes once the change is published), for a
child-SA pair and for a route (which rebuilds the forwarding table of both
families); and the memory per installed pair (the process's resident memory).

espgw runs on two net_null ports (no traffic: the cost measured is the
control path's). Usage:

  scripts/bench/ctl_rate.py --espgw build-release/app/espgw/espgw [--sizes 0,1000,10000]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

KEY = "0x" + "11" * 16
SALT = "0x22334455"
CONF = """port add lan0 dev net_null0 role protected address 10.1.0.1/24
port add wan0 dev net_null1 role unprotected address 198.51.100.1/24 address 2001:db8:2::1/64
route add 0.0.0.0/0 via 198.51.100.254 port wan0
route add ::/0 via 2001:db8:2::fe port wan0
set max-sa %d
"""


def pair(i):
    """The requests of child SA pair i (unique SPIs and selectors)."""
    dst = "172.%d.%d.%d/32" % (16 + (i >> 16), (i >> 8) & 255, i & 255)
    sa = ("sa add %s%d dir %s spi %d mode tunnel local 198.51.100.1 remote 203.0.113.1 "
          "aead aes-gcm-128 key " + KEY + " salt " + SALT)
    return [sa % ("o", i, "out", 0x10000000 + i), sa % ("i", i, "in", 0x20000000 + i),
            "sp add out src 10.1.0.0/24 dst %s protect o%d" % (dst, i),
            "sp add in src %s dst 10.1.0.0/24 protect i%d" % (dst, i)]


class Ctl:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(600)
        self.s.connect(path)
        self.buf = b""

    def lines(self, n):
        out = []
        while len(out) < n:
            while b"\n" not in self.buf:
                data = self.s.recv(1 << 20)
                if not data:
                    raise EOFError("espgw closed the control socket")
                self.buf += data
            line, self.buf = self.buf.split(b"\n", 1)
            out.append(json.loads(line))
        return out

    def txns(self, groups):
        """Send every group as one transaction, pipelined; check every reply."""
        text = "".join("begin\n" + "".join(r + "\n" for r in g) + "commit\n" for g in groups)
        self.s.sendall(text.encode())
        n = sum(len(g) + 2 for g in groups)
        bad = [r for r in self.lines(n) if not r.get("ok")]
        if bad:
            raise RuntimeError("refused: %s" % bad[:3])


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(espgw, work, max_sa, mem):
    conf = os.path.join(work, "gw.conf")
    with open(conf, "w") as f:
        f.write(CONF % max_sa)
    os.chmod(conf, 0o600)
    sock = os.path.join(work, "ctl.sock")
    log = open(os.path.join(work, "log"), "w")
    p = subprocess.Popen([espgw, "-l", "0,1", "--no-huge", "-m", str(mem), "--no-pci",
                          "--file-prefix", "espgw-ctlrate-%d" % os.getpid(),
                          "--log-level=*:warning", "--vdev", "net_null0", "--vdev", "net_null1",
                          "--", "-f", conf, "--ctl-socket", sock, "--log-level", "warning"],
                         stdout=log, stderr=subprocess.STDOUT)
    for _ in range(600):
        if os.path.exists(sock) or p.poll() is not None:
            break
        time.sleep(0.1)
    if p.poll() is not None:
        raise RuntimeError("espgw exited: see %s/log" % work)
    return p, sock


def measure(ctl, installed, k):
    """k pairs, one transaction each, pipelined: pairs per second."""
    groups = [pair(installed + j) for j in range(k)]
    t0 = time.monotonic()
    ctl.txns(groups)
    return k / (time.monotonic() - t0)


def latency(ctl, installed):
    """One pair, alone: the time until espgw says the workers use it (median of 5)."""
    t = []
    for j in range(5):
        t0 = time.monotonic()
        ctl.txns([pair(installed + j)])
        t.append(time.monotonic() - t0)
    return sorted(t)[2]


def route_latency(ctl):
    """A route added, then deleted, alone: the time until the workers use the
    new forwarding table (median of 9 of each)."""
    t = []
    for j in range(9):
        for req in ("route add 192.0.2.0/24 via 198.51.100.253 port wan0",
                    "route del 192.0.2.0/24"):
            t0 = time.monotonic()
            ctl.txns([[req]])
            t.append(time.monotonic() - t0)
    return sorted(t)[len(t) // 2]


def fill(ctl, have, want, chunk=1000, window=10):
    """Install up to want pairs, chunk pairs per transaction, window transactions in flight."""
    while have < want:
        groups = []
        while have < want and len(groups) < window:
            n = min(chunk, want - have)
            groups.append(sum((pair(have + j) for j in range(n)), []))
            have += n
        ctl.txns(groups)
    return have


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--espgw", default="build-release/app/espgw/espgw")
    ap.add_argument("--sizes", default="0,1000,10000", help="pairs installed before measuring")
    ap.add_argument("--pairs", type=int, default=1000, help="pairs installed per measurement")
    ap.add_argument("--mem", type=int, default=4096, help="EAL -m (MB, --no-huge)")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    work = tempfile.mkdtemp(prefix="espgw-ctlrate-")
    max_sa = 2 * (max(sizes) + a.pairs + 16) + 64
    p, sock = start(a.espgw, work, max_sa, a.mem)
    rows = []
    try:
        ctl = Ctl(sock)
        have = 0
        # A route change touches a second forwarding table's pages: before the baseline.
        route_latency(ctl)
        rss0 = rss_kib(p.pid)
        for n in sizes:
            have = fill(ctl, have, n)
            rss = rss_kib(p.pid)
            lat = latency(ctl, have)
            have += 5
            rate = measure(ctl, have, a.pairs)
            have += a.pairs
            # After the pairs: group commit waits up to twice the previous
            # publication, and a route change's is far cheaper than an SPD
            # build (the first batch of pairs would be cut short).
            rlat = route_latency(ctl)
            per = (rss - rss0) * 1024 / n if n else 0
            rows.append((n, rate, lat * 1000, rlat * 1000, per))
            print("installed %7d pairs: %7.0f pairs/s, one change in %7.1f ms, a route in "
                  "%7.1f ms, %s" % (n, rate, lat * 1000, rlat * 1000,
                                    "%.0f B per pair" % per if n else "-"), flush=True)
    finally:
        p.terminate()
        p.wait(60)
        shutil.rmtree(work, ignore_errors=True)
    print("\n| pairs installed | pairs/s (1 transaction each, pipelined) | one change reaches the workers | a route change | memory per pair |")
    print("| --- | --- | --- | --- | --- |")
    for n, rate, lat, rlat, per in rows:
        print("| %d | %.0f | %.1f ms | %.1f ms | %s |" % (n, rate, lat, rlat,
                                                      "%.1f KiB" % (per / 1024) if n else "-"))


if __name__ == "__main__":
    sys.exit(main())
