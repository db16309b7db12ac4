# SPDX-License-Identifier: BSD-3-Clause
"""espgw on net_pcap vdevs: starts with config/minimal.conf, stops cleanly on
SIGTERM (complete output pcaps, parseable JSON counters), and refuses to start
on a broken config without creating any output."""

import json
import os
import time

from scapy.all import ICMP, IP, UDP, Ether, rdpcap, wrpcap

from smoke_util import (BROKEN, BROKEN_LINES, LAN_HOST, LAN_HOST_MAC, LAN_MAC, MINIMAL_CONF,
                        WAN_MAC, Gateway, eal_args, error_lines, pcap_vdev, read_pcap_strict,
                        run, runtime_dir, telemetry, write_file)
from espgw_telemetry import Telemetry  # on the path smoke_util set  # noqa: E402

STOP_LIMIT_S = 5


def lan_packets():
    """A few LAN packets towards the remote branch (10.2.0.0/24)."""
    eth = Ether(src=LAN_HOST_MAC, dst=LAN_MAC)
    return [eth / IP(src=LAN_HOST, dst="10.2.0.%d" % (20 + i)) / UDP(sport=4000 + i, dport=9)
            / bytes(range(32 + i)) for i in range(3)] + \
           [eth / IP(src=LAN_HOST, dst="10.2.0.1") / ICMP(id=7, seq=1) / b"smoke"]


def wan_packets():
    """One plain (not ESP) packet for a protected host: must not get through."""
    return [Ether(src="02:00:00:00:02:fe", dst=WAN_MAC) / IP(src="10.2.0.20", dst=LAN_HOST)
            / UDP(sport=9, dport=4000) / b"not protected"]


def pcap_setup(workdir):
    """Input pcaps written, vdev strings and output paths returned."""
    paths = {n: os.path.join(workdir, n + ".pcap") for n in ("lan-in", "lan-out", "wan-in",
                                                              "wan-out")}
    wrpcap(paths["lan-in"], lan_packets())
    wrpcap(paths["wan-in"], wan_packets())
    vdevs = [pcap_vdev(0, paths["lan-in"], paths["lan-out"]),
             pcap_vdev(1, paths["wan-in"], paths["wan-out"])]
    return vdevs, [paths["lan-out"], paths["wan-out"]]


def start_stop(gateways, workdir, prefix):
    vdevs, outs = pcap_setup(workdir)
    stats = os.path.join(workdir, "stats.json")
    gw = Gateway(eal_args(prefix, vdevs) + ["--", "-f", MINIMAL_CONF, "--stats-json", stats],
                 workdir)
    gateways.append(gw)
    assert gw.alive_for(3), "espgw exited at start (%s)\n%s" % (gw.proc.returncode, gw.logs())
    rc, took = gw.stop(STOP_LIMIT_S)
    assert rc is not None, "no exit %d s after SIGTERM\n%s" % (STOP_LIMIT_S, gw.logs())
    assert rc == 0, "exit status %d after SIGTERM\n%s" % (rc, gw.logs())
    return outs, stats, gw


def test_start_stop(gateways, workdir, prefix):
    outs, stats, gw = start_stop(gateways, workdir, prefix)
    with open(stats) as f:
        counters = json.load(f)
    for key in ("drops", "totals", "sa"):
        assert key in counters, "stats JSON without %r: %s" % (key, counters)
    n_in = len(lan_packets()) + len(wan_packets())
    assert counters["totals"]["rx"] == n_in, counters["totals"]
    n_out = 0
    for path in outs:
        pkts = read_pcap_strict(path)
        assert len(rdpcap(path)) == len(pkts)
        n_out += len(pkts)
    # Every packet counted as sent must be in the files (flushed at stop).
    assert n_out >= counters["totals"]["tx"], (n_out, counters["totals"], gw.logs())


def test_broken_config_starts_nothing(workdir, prefix):
    conf = write_file(workdir, "broken.conf", BROKEN)
    vdevs, outs = pcap_setup(workdir)
    r = run(eal_args(prefix, vdevs) + ["--", "-f", conf], timeout=30)
    assert r.returncode == 2, r.stdout + r.stderr
    assert error_lines(r.stderr, "broken.conf") == BROKEN_LINES, r.stderr
    created = [p for p in outs if os.path.exists(p)]
    assert not created, "output pcaps created for a broken config: %s" % created
    assert not os.path.exists(runtime_dir(prefix)), "EAL initialised for a broken config"


TEL_CMDS = ["/espgw/stats", "/espgw/workers", "/espgw/drops", "/espgw/sa", "/espgw/sa,out-gcm",
            "/espgw/dp", "/espgw/control"]


def hammer(prefix, stop, seen):
    """Query every espgw endpoint in a loop until stop is set or espgw went away."""
    tel = Telemetry(prefix)
    if not tel.connect():
        return
    try:
        while not stop.is_set():
            for c in TEL_CMDS:
                seen.append(tel.query(c))
    except (OSError, ValueError):
        return  # the socket is gone: espgw has stopped
    finally:
        tel.close()


def test_telemetry_during_stop(gateways, workdir, prefix):
    """Telemetry read without pause while espgw stops: the callbacks are closed
    before what they read is freed (espgw_tel_gate.h), so the stop is clean (and
    the sanitizer run sees no use after free)."""
    import threading
    vdevs, _ = pcap_setup(workdir)
    gw = Gateway(eal_args(prefix, vdevs) + ["--", "-f", MINIMAL_CONF], workdir)
    gateways.append(gw)
    telemetry(prefix, ["/espgw/stats"])  # up
    stop, seen = threading.Event(), []
    t = threading.Thread(target=hammer, args=(prefix, stop, seen), daemon=True)
    t.start()
    while len(seen) < 50 and t.is_alive():
        time.sleep(0.01)
    rc, _ = gw.stop(STOP_LIMIT_S)
    stop.set()
    t.join(5)
    assert len(seen) >= 50, "telemetry did not answer: %s" % seen[:3]
    assert rc == 0, "exit status %s after SIGTERM\n%s" % (rc, gw.logs())
