# SPDX-License-Identifier: BSD-3-Clause
"""A gateway on two net_tap ports (eglan, egwan) inside the test's network
namespace (netns_run.sh), changed live through its control socket while
traffic runs. Frames go in and come out through AF_PACKET sockets on the tap
interfaces; scapy's IPsec is the independent judge of what espgw encrypts
and decrypts."""

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.layers.l2 import Ether
from scapy.packet import Raw

ESPGW = os.environ.get("ESPGW", "")
SRC = os.environ.get("ESPGW_SRC", "")
sys.path.insert(0, os.path.join(SRC, "tests", "pkt"))
sys.path.insert(0, os.path.join(SRC, "scripts"))

LAN_MAC, HOST_MAC = "02:00:00:00:01:01", "02:00:00:00:01:10"
WAN_MAC, NH_MAC = "02:00:00:00:02:01", "02:00:00:00:02:fe"
WAN, PEER = "198.51.100.1", "203.0.113.1"
HOST, REMOTE = "10.1.0.10", "10.3.0.10"
MARKER = b"ESPGW-CLEARTEXT!"
ETH_P_ALL = 3
PACKET_OUTGOING = 4

BASE = """port add lan0 dev net_tap0 role protected address 10.1.0.1/24 mac %s
port add wan0 dev net_tap1 role unprotected address 198.51.100.1/24 mac %s
neighbor add 198.51.100.254 lladdr %s port wan0
neighbor add 10.1.0.10 lladdr %s port lan0
route add 0.0.0.0/0 via 198.51.100.254 port wan0
""" % (LAN_MAC, WAN_MAC, NH_MAC, HOST_MAC)
# meson's pkt-*-cpu runs (tests/pkt/harness.py base_conf): the CPU path for live gateways too.
if os.environ.get("ESPGW_TEST_CRYPTO_PATH"):
    BASE += "set crypto-path %s\n" % os.environ["ESPGW_TEST_CRYPTO_PATH"]


# An SA the store accepts and the data path refuses when it is brought into
# service (AES-CBC on the CPU path): the transaction fails after its earlier
# commands were applied, and is rolled back.
REFUSED_SA = ("sa add bad dir out spi 0x5001 mode tunnel local %s remote %s cipher aes-cbc-128 "
              "key 0x%s auth hmac-sha256-128 auth-key 0x%s crypto-path cpu"
              % (WAN, PEER, "11" * 16, "22" * 32))


class Key:
    """An AES-GCM-128 SA's material, as the config takes it and scapy wants it."""

    def __init__(self, spi, seed):
        self.spi = spi
        self.key = bytes((seed + i) & 0xFF for i in range(16))
        self.salt = bytes((seed * 7 + i) & 0xFF for i in range(4))

    def conf(self, name, direction, remote=PEER):
        return ("sa add %s dir %s spi %#x mode tunnel local %s remote %s aead aes-gcm-128 "
                "key 0x%s salt 0x%s" % (name, direction, self.spi, WAN, remote,
                                        self.key.hex(), self.salt.hex()))

    def scapy_sa(self, src, dst):
        return SecurityAssociation(ESP, spi=self.spi, crypt_algo="AES-GCM",
                                   crypt_key=self.key + self.salt,
                                   tunnel_header=IP(src=src, dst=dst))


class Ctl:
    """One control socket connection: request() sends a line, returns the reply."""

    def __init__(self, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, line):
        self.s.sendall(line.encode() + b"\n")

    def line(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                raise EOFError("control socket closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, line):
        self.send(line)
        return self.line()

    def ok(self, line):
        r = self.request(line)
        assert r["ok"], (line, r)
        return r

    def txn(self, lines):
        self.ok("begin")
        for line in lines:
            self.ok(line)
        return self.request("commit")

    def close(self):
        self.s.close()


class Port:
    """An AF_PACKET socket on a tap interface: frames in and out of espgw."""

    def __init__(self, iface):
        self.iface = iface
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        # Room for a whole test's frames: they are read after the sending.
        self.s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE (root)
        self.s.bind((iface, 0))
        self.s.setblocking(False)

    def send(self, frame):
        self.s.send(bytes(frame))

    def drain(self, settle=0.3, timeout=10.0, want=None):
        """Frames espgw sent out of this port until none came for settle
        seconds (or want of them came, or timeout)."""
        frames, last = [], time.monotonic()
        end = last + timeout
        while time.monotonic() < end and time.monotonic() - last < settle:
            if want is not None and len(frames) >= want:
                break
            r, _, _ = select.select([self.s], [], [], 0.05)
            if not r:
                continue
            data, addr = self.s.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING:
                continue
            frames.append(data)
            last = time.monotonic()
        return frames


def lan_frame(i, dst=REMOTE, size=64):
    body = MARKER + i.to_bytes(4, "big") + bytes(size)
    return Ether(src=HOST_MAC, dst=LAN_MAC) / IP(src=HOST, dst=dst, id=i & 0xFFFF) / \
        UDP(sport=4000, dport=5000) / Raw(body)


def send_lan(g, idx, gap=0.0):
    """lan_frame(i) for each i of idx from the LAN host, gap seconds apart."""
    for i in idx:
        g.lan.send(lan_frame(i))
        if gap:
            time.sleep(gap)


def marker_index(payload):
    """The index a lan_frame carried, or None."""
    p = bytes(payload)
    k = p.find(MARKER)
    return None if k < 0 else int.from_bytes(p[k + 16:k + 20], "big")


def decrypt_all(frames, keys):
    """{index: spi} of the ESP frames, each decrypted by scapy with its SPI's key;
    fails on anything that is not ESP of a known SPI or does not decrypt."""
    sas = {k.spi: k.scapy_sa(WAN, PEER) for k in keys}
    seen = {}
    for f in frames:
        ip = Ether(f)[IP]
        assert ip.proto == 50, "not ESP on the WAN: %r" % ip
        spi = ip[ESP].spi
        assert spi in sas, "unknown SPI %#x" % spi
        inner = sas[spi].decrypt(ip)
        i = marker_index(inner[UDP].payload)
        assert i is not None and i not in seen, (i, inner)
        seen[i] = spi
    return seen


def assert_no_clear(frames):
    for f in frames:
        assert MARKER not in f, "clear protect-class traffic on the WAN: %r" % f


class Gateway:
    """espgw on net_tap ports in this namespace, with a control socket."""

    def __init__(self, extra_conf="", lcores="0,1", ctl_group=None, binary=None, env=None,
                 base=None, args=(), eal=()):
        """lcores: "-l" list, or a list of EAL arguments (harness.two_workers())."""
        self.dir = tempfile.mkdtemp(prefix="espgw-ctl-")
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.json = os.path.join(self.dir, "stats.json")
        conf = os.path.join(self.dir, "gw.conf")
        with open(conf, "w") as f:
            # BASE looked up now: tests may monkeypatch it (test_attack_routes).
            f.write((BASE if base is None else base) + extra_conf)
        os.chmod(conf, 0o600)
        self.log = open(os.path.join(self.dir, "log"), "w")
        lcore_args = list(lcores) if isinstance(lcores, (list, tuple)) else ["-l", lcores]
        self.cmd = [binary or ESPGW, *lcore_args, "--no-huge", "-m", "512", "--no-pci",
                    "--file-prefix", "espgw-ctl-%d" % os.getpid(), "--log-level=*:warning",
                    *eal, "--vdev", "net_tap0,iface=eglan", "--vdev", "net_tap1,iface=egwan",
                    "--", "-f", conf, "--ctl-socket", self.sock, "--stats-json", self.json]
        if ctl_group:
            self.cmd += ["--ctl-group", ctl_group]
        self.cmd += list(args)
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **env) if env else None)
        try:
            self._attach()
        except BaseException:
            # No object for the test to kill(): espgw and its directory (keys) go now.
            self.kill()
            raise

    def _attach(self):
        self.wait_socket()
        for iface in ("eglan", "egwan"):
            subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % iface],
                           check=False)
            subprocess.run(["ip", "link", "set", iface, "up"], check=True)
        self.lan, self.wan = Port("eglan"), Port("egwan")
        self.ctl = Ctl(self.sock)

    def wait_socket(self, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("espgw exited %d: %s" % (self.proc.returncode, self.logs()))
            if os.path.exists(self.sock):
                return
            time.sleep(0.1)
        raise RuntimeError("no control socket: %s" % self.logs())

    def logs(self):
        self.log.flush()
        with open(os.path.join(self.dir, "log")) as f:
            return f.read()[-4000:]

    def logs_all(self):
        """The whole log (logs() keeps its tail)."""
        self.log.flush()
        with open(os.path.join(self.dir, "log")) as f:
            return f.read()

    def drops(self):
        return self.ctl.ok("show stats")["stats"]["drops"]

    def drops_since(self, before):
        """Drops by reason since the snapshot before (the kernel's own frames on
        the taps, if any, must not make the counts flaky)."""
        now = self.drops()
        return {k: v - before.get(k, 0) for k, v in now.items() if v != before.get(k, 0)}

    def stop(self):
        """SIGTERM; the final counters (the harness's invariants are checked)."""
        import harness
        self.ctl.close()
        self.proc.terminate()
        assert self.proc.wait(30) == 0, self.logs()
        with open(self.json) as f:
            st = json.load(f)
        harness.check_stats_consistent(st, ports_exact=False)
        return st

    def kill(self):
        """End espgw if it still runs, and remove its directory (its config holds
        keys): every test ends with this (ESPGW_CTL_KEEP=1 keeps the directory)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if not os.environ.get("ESPGW_CTL_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def deliver(gw, frames, settle=0.5):
    """Send frames into the WAN tap: how many came out of the LAN, and the drops since."""
    d0 = gw.drops()
    for f in frames:
        gw.wan.send(f)
    got = gw.lan.drain(want=len(frames), settle=settle)
    return len(got), gw.drops_since(d0)


# The tunnel most tests install: an outbound and an inbound SA to 10.3.0.0/24, named policies.
OUT3, IN3 = Key(0x3001, 0x30), Key(0x4001, 0x40)


def espgwctl(gw, *words, cwd=None):
    """The espgwctl under test ($ESPGWCTL) on gw's socket: its CompletedProcess."""
    return subprocess.run([os.environ["ESPGWCTL"], "-s", gw.sock, *words], capture_output=True,
                          text=True, timeout=30, cwd=cwd)


def write_conf(gw, name, text):
    """A config file in gw's directory, 0600 as espgw wants one with keys."""
    path = os.path.join(gw.dir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def tunnel_conf(out_key=OUT3, in_key=IN3, out_name="out3", in_name="in3"):
    return [out_key.conf(out_name, "out"), in_key.conf(in_name, "in"),
            "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name p3out protect %s" % out_name,
            "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 name p3in protect %s" % in_name]
