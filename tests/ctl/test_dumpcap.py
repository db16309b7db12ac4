# SPDX-License-Identifier: BSD-3-Clause
"""DPDK's own capture tool on a running espgw (README "Packet capture"):
espgw with hugepages calls rte_pdump_init(); dpdk-dumpcap, a secondary
process with the same --file-prefix, captures lan0 (plaintext from the LAN
host) and wan0 (the ESP that espgw sends) into pcapng while traffic flows
(net_pcap infinite_rx into lan0; wan0 a net_null sink); tshark reads the files. Needs root and 512 MiB of
2 MiB hugepages, reserved here and given back (skipped when they cannot be
had). espgw gets --base-virtaddr (hugepages.BASE_VA) so that dumpcap can map
its memory under any build, ASan's included.

dpdk-dumpcap waits 5 s (hard-coded in librte_pdump) for the primary's answer
to its enable request. Under ASan on a loaded 2-vCPU machine that answer once
came late (the whole test took 41 s against 2.6 s alone); a late enable
cannot be retried against the same primary (pdump then refuses a second
callback on the port), so that one failure, and only it, is retried on a
fresh espgw, at most TRIES times. Any other failure fails at once."""

import os
import shutil
import subprocess
import tempfile

import pytest
from scapy.utils import wrpcap

from hugepages import BASE_VA, Hugepages, remove_files
from proclog import ProcLog
from tshark import fields as tshark
from live import BASE, ESPGW, HOST, PEER, REMOTE, WAN, lan_frame, tunnel_conf

DUMPCAP = shutil.which("dpdk-dumpcap") or "/usr/bin/dpdk-dumpcap"
COUNT = 50
DEADLINE = 20
TRIES = 3
NO_REPLY = "Fail to recv reply"


class NoReply(Exception):
    """dumpcap's enable request timed out in librte_pdump (see above)."""


class PdumpGateway(ProcLog):
    """espgw on net_pcap ports with hugepages: lan0 replays frames forever."""

    def __init__(self, d, attempt):
        self.d, self.prefix = d, "espgw-dumpcap-%d-%d" % (os.getpid(), attempt)
        conf = os.path.join(d, "gw.conf")
        with open(conf, "w") as f:
            f.write(BASE.replace("net_tap0", "net_pcap0").replace("net_tap1", "net_null0") + "\n".join(tunnel_conf()) + "\n")
        os.chmod(conf, 0o600)
        wrpcap(os.path.join(d, "lan.pcap"), [lan_frame(i) for i in range(64)])
        self.start(
            [ESPGW, "-l", "0,1", "--no-pci", "--file-prefix", self.prefix,
             "--base-virtaddr", BASE_VA,  # hugepages.py: where a secondary can map it
             "--vdev", "net_pcap0,rx_pcap=%s/lan.pcap,infinite_rx=1" % d,
             "--vdev", "net_null0,no-rx=1",
             "--", "-f", conf, "--ctl-socket", "none", "--stats-interval", "1"])
        self.wait_log("pdump ready")

    def dumpcap(self, iface, out):
        """COUNT packets of iface, or what came before DEADLINE seconds: a
        capture that falls short fails with dumpcap's own received/dropped
        counts and espgw's log, not with a bare timeout."""
        r = subprocess.run([DUMPCAP, "--file-prefix", self.prefix, "-i", iface, "-w", out,
                            "-c", str(COUNT), "-a", "duration:%d" % DEADLINE],
                           capture_output=True, text=True, timeout=DEADLINE + 60)
        if r.returncode != 0 and NO_REPLY in r.stderr + r.stdout:
            raise NoReply(r.stdout + r.stderr)
        assert r.returncode == 0, r.stdout + r.stderr
        return "dpdk-dumpcap -i %s: %s\nespgw: %s" % (
            iface, (r.stdout + r.stderr)[-1500:], self.logs()[-2500:])

    def stop(self):
        self.proc.send_signal(2)
        assert self.proc.wait(30) == 0, self.logs()[-3000:]

    def kill(self):
        """A killed primary's hugepage files go too (hugepages.remove_files)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        remove_files(self.prefix)
        self.log.close()


def test_dumpcap_ports():
    with Hugepages(256) as h:
        if h.skip_reason:
            pytest.skip(h.skip_reason)
        for attempt in range(1, TRIES + 1):
            try:
                return capture_both(attempt)
            except NoReply as e:
                print("attempt %d of %d: no reply from espgw to dpdk-dumpcap:\n%s" % (attempt, TRIES, e))
                if attempt == TRIES:
                    raise AssertionError("espgw never answered dpdk-dumpcap's enable request") from e


def capture_both(attempt):
    """One fresh espgw: capture both ports, stop it, read the files."""
    d = tempfile.mkdtemp(prefix="espgw-dumpcap-")
    gw = PdumpGateway(d, attempt)
    try:
        lan, wan = os.path.join(d, "lan.pcapng"), os.path.join(d, "wan.pcapng")
        lan_info = gw.dumpcap("net_pcap0", lan)
        wan_info = gw.dumpcap("net_null0", wan)
        gw.stop()
        check_lan(lan, lan_info)
        check_wan(wan, wan_info)
    finally:
        gw.kill()
        if not os.environ.get("ESPGW_CTL_KEEP"):
            shutil.rmtree(d, ignore_errors=True)


def check_lan(path, info):
    """The LAN host's UDP frames, as espgw received them."""
    rows = tshark(path, ["ip.src", "ip.dst", "udp.dstport"])
    assert len(rows) >= COUNT, (len(rows), info)  # -c N stops after the burst that reached N
    assert all(r == [HOST, REMOTE, "5000"] for r in rows), rows[:5]


def check_wan(path, info):
    """What espgw sent to the peer: ESP of SA out3 only."""
    rows = tshark(path, ["ip.src", "ip.dst", "esp.spi"])
    assert len(rows) >= COUNT, (len(rows), info)  # -c N stops after the burst that reached N
    assert all(r == [WAN, PEER, "0x00003001"] for r in rows), rows[:5]
