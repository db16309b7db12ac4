# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the smoke suite: run the espgw binary, start and stop it on
net_pcap vdevs, and read pcap files strictly (scapy's reader silently accepts
a record cut short, which is exactly what an unclean stop produces)."""

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from espgw_telemetry import runtime_dir  # noqa: E402,F401 (for the tests)

ESPGW = os.environ.get("ESPGW", "")
SRC = os.environ.get("ESPGW_SRC", "")
VERSION = os.environ.get("ESPGW_VERSION", "")
MINIMAL_CONF = os.path.join(SRC, "config", "minimal.conf")

# minimal.conf's addressing (README / config/minimal.conf).
LAN_MAC = "02:00:00:00:01:01"
LAN_HOST_MAC = "02:00:00:00:01:10"
LAN_HOST = "10.1.0.10"
WAN_MAC = "02:00:00:00:02:01"
NEXT_HOP_MAC = "02:00:00:00:02:fe"

# One error per command; continuation lines report the line the command starts on.
BROKEN = """\
# broken on purpose: the smoke suite expects errors on lines 4 5 7 8 9
port add lan0 dev net_pcap0 role protected address 10.1.0.1/24
port add wan0 dev net_pcap1 role unprotected address 198.51.100.1/24
port add lan1 dev net_pcap2 role sideways
sa add s1 dir out spi 0x1001 mode tunnel local 198.51.100.1 remote 203.0.113.1 \\
	aead aes-gcm-128 key 0x0102 salt 0x01020304
route add 10.2.0.0/24 via 198.51.100.254 port nope
frobnicate now
sp add out src 10.1.0.0/24 dst 10.2.0.0/24 protect missing-sa
neighbor add 198.51.100.254 lladdr 02:00:00:00:02:fe port wan0
"""
BROKEN_LINES = [4, 5, 7, 8, 9]


def write_file(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def error_lines(text, name):
    """Line numbers reported as NAME:LINE: in text, in order."""
    pat = re.compile(r"^(?:\S*/)?" + re.escape(name) + r":(\d+): \S", re.M)
    return [int(m) for m in pat.findall(text)]


def unique_prefix(tag):
    return "espgw-smoke-%s-%s" % (tag, uuid.uuid4().hex[:8])


def hugepage_files(prefix):
    """The EAL's hugepage files of prefix in every hugetlbfs mount (PREFIXmap_N)."""
    out = []
    with open("/proc/mounts") as f:
        dirs = [line.split()[1] for line in f if line.split()[2] == "hugetlbfs"]
    for d in dirs:
        out += [os.path.join(d, n) for n in os.listdir(d) if n.startswith(prefix + "map_")]
    return out


def hugepages_free():
    """Free 2 MiB hugepages (0 when none are reserved or no hugetlbfs is mounted)."""
    with open("/proc/mounts") as f:
        if not any(line.split()[2] == "hugetlbfs" for line in f):
            return 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                return int(line.split()[1])
    return 0


def telemetry(prefix, cmds, timeout=30):
    """Replies (raw JSON text) of the DPDK telemetry commands cmds, from the espgw
    running with --file-prefix prefix; waits for its socket up to timeout."""
    import socket
    path = os.path.join(runtime_dir(prefix), "dpdk_telemetry.v2")
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(path)
            break
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise AssertionError("no telemetry socket %s" % path)
            time.sleep(0.1)
    try:
        s.settimeout(5)
        s.recv(16384)  # greeting
        out = []
        for c in cmds:
            s.send(c.encode())
            out.append(s.recv(1 << 20).decode())
        return out
    finally:
        s.close()


def remove_runtime(prefix):
    shutil.rmtree(runtime_dir(prefix), ignore_errors=True)
    if os.path.isdir("/dev/hugepages"):
        for f in os.listdir("/dev/hugepages"):
            if f.startswith(prefix + "map_"):
                os.unlink(os.path.join("/dev/hugepages", f))


def run(args, timeout=30):
    """Run espgw with args to completion; CompletedProcess with text output."""
    return subprocess.run([ESPGW] + args, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def eal_args(prefix, vdevs):
    args = ["-l", "0,1", "--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix]
    for v in vdevs:
        args += ["--vdev", v]
    return args


def pcap_vdev(idx, rx, tx):
    return "net_pcap%d,rx_pcap=%s,tx_pcap=%s" % (idx, rx, tx)


def read_pcap_strict(path):
    """Packets of a classic pcap file; AssertionError if the file is cut short."""
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) >= 24, "%s: %d bytes, no complete pcap header" % (path, len(data))
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise AssertionError("%s: not a pcap file (magic %s)" % (path, magic.hex()))
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    assert linktype == 1, "%s: link type %d, expected Ethernet" % (path, linktype)
    pkts, off = [], 24
    while off < len(data):
        assert off + 16 <= len(data), "%s: record header cut short at %d" % (path, off)
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        assert off + 16 + incl <= len(data), "%s: packet cut short at %d" % (path, off)
        pkts.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return pkts


class Gateway:
    """One espgw process on net_pcap vdevs; stop() sends SIGTERM and waits."""

    def __init__(self, args, log_dir):
        self.out_path = os.path.join(log_dir, "espgw.stdout")
        self.err_path = os.path.join(log_dir, "espgw.stderr")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([ESPGW] + args, stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL)

    def logs(self):
        self.out.flush()
        self.err.flush()
        with open(self.out_path) as o, open(self.err_path) as e:
            return "--- stdout\n%s--- stderr\n%s" % (o.read(), e.read())

    def alive_for(self, seconds):
        """True if still running after seconds (it should be: it forwards until stopped)."""
        try:
            self.proc.wait(timeout=seconds)
            return False
        except subprocess.TimeoutExpired:
            return True

    def stop(self, timeout):
        """SIGTERM; exit status and seconds taken, or (None, timeout) if it hung."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, timeout
        return rc, time.monotonic() - t0

    def kill(self):
        """Cleanup only: the process this object started, if still there."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        self.err.close()
