# SPDX-License-Identifier: BSD-3-Clause
"""The operator's whole path in one run (issue 13, done when): espgw as
`meson install` lays it out, started the way its systemd unit starts it (the
unit's Environment= defaults, the example /etc/default/espgw with an
operator's settings, every ExecStartPre= line, then ExecStart=, expanded as
systemd expands them), with the installed example config gw-a.conf. A LAN
host pings branch B; a real Prometheus scrapes --metrics and its API returns
the SA's packet count that espgwctl shows; DPDK's dpdk-dumpcap captures wan0
(only ESP of SA ab4 on the wire, judged by tshark); `man espgw` reads the
installed page; the unit's ExecReload= applies the unchanged file (nothing
changes, counters kept); SIGTERM (KillSignal=) stops it cleanly.

Usage (root; netns_run.sh gives it a network namespace of its own, so the
fixed loopback ports collide with nothing): pytest test_e2e.py, with
ESPGW_BUILD_DIR set. The unit's ExecStartPre= reserves 512 MiB of hugepages
with dpdk-hugepages.py; they are given back afterwards."""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from hugepages import BASE_VA, MNT, NR, remove_files
from proclog import ProcLog
from prom import Prometheus
from staged import Staged
from tshark import fields as tshark

METRICS, PROM = "127.0.0.1:9477", "127.0.0.1:9090"
DUMPCAP = shutil.which("dpdk-dumpcap") or "/usr/bin/dpdk-dumpcap"
LAN, WAN = "e2elan", "e2ewan"  # the taps' kernel sides
HOST, REMOTE, ROUTER = "10.1.0.10", "10.2.0.10", "198.51.100.254"
PINGS, CAPTURED = 100, 20


def unit_service(text):
    """[Service] of a unit file: (key, value) in order, continuation lines joined."""
    text = re.sub(r"\\\n", " ", text)
    section, out = None, []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and line and line[0] not in "#;" and "=" in line:
            out.append(tuple(line.split("=", 1)))
    return out


def assignments(words):
    """KEY=VALUE words (Environment= lines, environment files) as a dict."""
    return dict(w.split("=", 1) for w in words if "=" in w)


def env_file(path):
    with open(path) as f:
        return assignments(w for line in f if not line.lstrip().startswith("#")
                           for w in shlex.split(line))


def expand(line, env):
    """A command line as systemd runs it (systemd.service(5), Command lines):
    its prefix characters dropped, "$VAR" as a word of its own split at blanks,
    "${VAR}" anywhere replaced by the whole value."""
    words = []
    for w in shlex.split(line):
        m = re.fullmatch(r"\$(\w+)", w)
        if m:
            words += env.get(m.group(1), "").split()
        else:
            words.append(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), w))
    words[0] = words[0].lstrip("-+@!:")
    return words


class Hugepages:
    """What the unit's ExecStartPre= changes, put back afterwards."""

    def __init__(self):
        with open(NR) as f:
            self.before = int(f.read())
        self.mounted = subprocess.run(["mountpoint", "-q", MNT]).returncode == 0

    def restore(self):
        if not self.mounted:
            subprocess.run(["umount", MNT], check=False, capture_output=True)
        with open(NR, "w") as f:
            f.write(str(self.before))


class Service(ProcLog):
    """espgw.service run by hand: its environment and command lines."""

    def __init__(self, stage, d):
        self.stage, self.d = stage, d
        self.lines = unit_service(stage.unit_text("espgw.service"))
        env = assignments(w for k, v in self.lines if k == "Environment"
                          for w in shlex.split(v))
        # The operator's /etc/default/espgw: the installed example, edited.
        default = os.path.join(d, "default-espgw")
        shutil.copy(stage.path(stage.opts["datadir"], "doc", "espgw", "examples",
                               "espgw.default"), default)
        with open(default, "a") as f:
            f.write("ESPGW_CONF=%s/espgw.conf\n" % d)
            f.write("ESPGW_CTL_SOCKET=%s/run/espgw.sock\n" % d)
            f.write("ESPGW_HUGEPAGES=512M\n")
            f.write('ESPGW_EAL_OPTS="-l 0,1 --no-pci --file-prefix %s --base-virtaddr %s '
                    '--vdev net_tap0,iface=%s --vdev net_tap1,iface=%s"\n'
                    % (self.prefix(), BASE_VA, LAN, WAN))
            f.write('ESPGW_OPTS="--strict-perms --metrics %s"\n' % METRICS)
        env.update(env_file(default))
        self.env = dict(os.environ, **env)
        self.env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
        self.proc = None

    def prefix(self):
        return "espgw-e2e-%d" % os.getpid()

    def commands(self, key):
        return [expand(v, self.env) for k, v in self.lines if k == key]

    def start_unit(self):
        # RuntimeDirectory=espgw, RuntimeDirectoryMode=0750: systemd's part.
        os.makedirs(os.path.join(self.d, "run"), mode=0o750)
        for cmd in self.commands("ExecStartPre"):
            r = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, (cmd, r.stdout + r.stderr)
        (cmd,) = self.commands("ExecStart")
        assert cmd[0] == self.stage.path(self.stage.opts["sbindir"], "espgw"), cmd
        self.start(cmd, env=self.env)

    def ctl(self, *words):
        """The installed espgwctl, on the unit's socket (ESPGW_CTL_SOCKET)."""
        r = subprocess.run([self.stage.path(self.stage.opts["bindir"], "espgwctl"), *words],
                           env=self.env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (words, r.stdout + r.stderr)
        return r.stdout

    def reload(self):
        (cmd,) = self.commands("ExecReload")
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (cmd, r.stdout + r.stderr)
        return r.stdout

    def stop(self):
        """KillSignal= and TimeoutStopSec= of the unit."""
        kill = dict(self.lines)
        self.proc.send_signal(getattr(signal, kill["KillSignal"]))
        assert self.proc.wait(int(kill["TimeoutStopSec"])) == 0, self.logs()[-3000:]

    def kill(self):
        """A killed espgw's hugepage files go too (hugepages.remove_files)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        remove_files(self.prefix())


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=30)


def links_up():
    """The taps' kernel sides: the LAN host and the internet router, in this
    namespace (its ping to branch B goes through espgw; the router's side
    answers espgw's ARP and drops the ESP)."""
    for iface in (LAN, WAN):
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % iface)
        sh("ip", "link", "set", iface, "up")
    sh("ip", "addr", "add", HOST + "/24", "dev", LAN)
    sh("ip", "addr", "add", ROUTER + "/24", "dev", WAN)
    sh("ip", "route", "add", "10.2.0.0/24", "via", "10.1.0.1", "dev", LAN)


def dumpcap(svc, out):
    """dpdk-dumpcap, a secondary process with the unit's --file-prefix, on wan0."""
    return subprocess.Popen([DUMPCAP, "--file-prefix", svc.prefix(), "-i", "net_tap1",
                             "-w", out, "-c", str(CAPTURED), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def check_capture(path):
    """ESP of ab4 from gw-a to gw-b, and nothing else but ARP."""
    rows = tshark(path, ["frame.protocols", "ip.src", "ip.dst", "esp.spi"])
    esp = [r[1:] for r in rows if r[0].endswith(":esp")]
    assert len(esp) >= CAPTURED - 2, rows
    assert all(r == ["198.51.100.1", "203.0.113.1", "0xa0b00004"] for r in esp), esp
    assert all(r[0].endswith(":esp") or r[0].endswith(":arp") for r in rows), rows
    print(subprocess.run(["capinfos", "-c", "-u", "-E", path], capture_output=True,
                         text=True).stdout)
    print("\n".join("\t".join(r) for r in tshark(path, ["frame.number", "ip.src", "ip.dst",
                                                        "esp.spi", "esp.sequence"])[:5]))


def sa_packets(svc, name):
    return json.loads(svc.ctl("--json", "show", "sa", name))["sa"][0]["packets"]


@pytest.fixture
def svc():
    if os.geteuid() != 0:
        pytest.skip("needs root (hugepages, taps)")
    d = tempfile.mkdtemp(prefix="espgw-e2e-")
    os.chmod(d, 0o700)
    stage = Staged(os.environ["ESPGW_BUILD_DIR"])
    huge = Hugepages()
    s = Service(stage, d)
    # The operator's /etc/espgw/espgw.conf: the installed example, 0600 (it holds keys).
    shutil.copy(stage.path(stage.opts["datadir"], "doc", "espgw", "examples", "gw-a.conf"),
                os.path.join(d, "espgw.conf"))
    os.chmod(os.path.join(d, "espgw.conf"), 0o600)
    try:
        yield s
    finally:
        s.kill()
        huge.restore()
        stage.remove()
        if not os.environ.get("ESPGW_CTL_KEEP"):
            shutil.rmtree(d, ignore_errors=True)


def test_installed_gateway(svc):
    svc.start_unit()
    svc.wait_log("pdump ready")
    svc.wait_log("running: ")
    links_up()
    pcap = os.path.join(svc.d, "wan0.pcapng")
    cap = dumpcap(svc, pcap)
    time.sleep(2)  # attached (a secondary process maps the primary's memory)
    subprocess.run(["ping", "-q", "-c", str(PINGS), "-i", "0.05", "-W", "1", REMOTE],
                   capture_output=True, timeout=60)
    out, _ = cap.communicate(timeout=60)
    assert cap.returncode == 0, out
    check_capture(pcap)
    sent = sa_packets(svc, "ab4")
    assert PINGS - 5 <= sent <= PINGS, sent  # the first may wait on ARP
    prom = Prometheus(METRICS, PROM)
    try:
        got = prom.wait('espgw_sa_packets_total{sa="ab4"}',
                        lambda r: len(r) == 1 and int(r[0]["value"][1]) == sent)
        print("prometheus espgw_sa_packets_total{sa=\"ab4\"}:", json.dumps(got))
        assert got[0]["metric"]["spi"] == "0xa0b00004"
    finally:
        prom.stop()
    env = dict(os.environ, MANPATH=svc.stage.path(svc.stage.opts["mandir"]) + ":",
               MANWIDTH="100")
    page = subprocess.run(["man", "-P", "cat", "espgw"], env=env, capture_output=True,
                          text=True, timeout=60).stdout
    assert "espgw - " in page and "--metrics" in page, page[:500]
    assert svc.reload().startswith("reload: 0 added, 0 removed, 0 changed"), svc.logs()
    assert sa_packets(svc, "ab4") == sent
    svc.stop()
