# SPDX-License-Identifier: BSD-3-Clause
"""Key hygiene: keys are never logged (espgw at debug level, every EAL log
type at debug), never in the counters (stdout, --stats-json), never in any
telemetry reply (every command DPDK and espgw register, each SA by name);
and the key of an SA removed by "sa del" is nowhere in the running
gateway's memory, neither as bytes nor as the hex text of the config
(buffers that held it are wiped: file text, command line, request, store).
A live SA's key bytes are found by the same scan (it works), its hex text
is not (the config text is gone once parsed)."""

import json
import os
import time

import pytest

from smoke_util import (LAN_HOST, LAN_HOST_MAC, LAN_MAC, Gateway, eal_args, pcap_vdev,
                        telemetry, write_file)

# Distinct random-looking keys (never used elsewhere).
K = {
    "gcm": "9f3c1ad2e4b75068c1d2e3f4a5b6c7d8",
    "gcm_salt": "7e1d2c3b",
    "cbc": "4b8e2f71c6d9a3051e7f2a6c9d3b8e40f1a2b3c4d5e6f708192a3b4c5d6e7f80",
    "hmac": "2d6a9e1f4c7b0a3d5e8f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
    "doomed": "c0ffee11d00d2222e3e3e4e45f5f6a6a",
    "doomed_salt": "a1b2c3d4",
}
LIVE_NAME = "live-sa-name-5a1f"  # ASCII the memory scan must find


def config():
    return """\
port add lan0 dev net_pcap0 role protected address 10.1.0.1/24 mac %s
port add wan0 dev net_pcap1 role unprotected address 198.51.100.1/24 mac 02:00:00:00:02:01
neighbor add 198.51.100.254 lladdr 02:00:00:00:02:fe port wan0
neighbor add %s lladdr %s port lan0
route add 0.0.0.0/0 via 198.51.100.254 port wan0
sa add %s dir out spi 0x1001 mode tunnel local 198.51.100.1 remote 203.0.113.1 \\
	aead aes-gcm-128 key 0x%s salt 0x%s
sa add in-cbc dir in spi 0x2001 mode tunnel local 198.51.100.1 remote 203.0.113.1 \\
	cipher aes-cbc-256 key 0x%s auth hmac-sha256-128 auth-key 0x%s
sa add doomed dir out spi 0x1002 mode tunnel local 198.51.100.1 remote 203.0.113.1 \\
	aead aes-gcm-128 key 0x%s salt 0x%s
sa del doomed
sp add out src 10.1.0.0/24 dst 10.2.0.0/24 protect %s
sp add in src 10.2.0.0/24 dst 10.1.0.0/24 protect in-cbc
""" % (LAN_MAC, LAN_HOST, LAN_HOST_MAC, LIVE_NAME, K["gcm"], K["gcm_salt"], K["cbc"],
       K["hmac"], K["doomed"], K["doomed_salt"], LIVE_NAME)


def key_forms(hexkey):
    """The ways a key could show up in text: hex either case, with or without
    0x, with separators (colons, spaces), and the bytes themselves."""
    b = bytes.fromhex(hexkey)
    forms = [hexkey, hexkey.upper(), ":".join("%02x" % x for x in b),
             " ".join("%02x" % x for x in b), ", ".join("%d" % x for x in b)]
    return [f.encode() for f in forms] + [b]


def find_keys(blob, names=K):
    """{key name: form found} over blob (bytes)."""
    found = {}
    for name, hexkey in names.items():
        for f in key_forms(hexkey):
            if len(f) >= 4 and f in blob:
                found[name] = f
    return found


def all_commands(prefix, timeout=30):
    """Every telemetry command, with the parameters that name an object, once
    espgw has registered its own (after its setup)."""
    end = time.monotonic() + timeout
    while True:
        cmds = json.loads(telemetry(prefix, ["/"])[0])["/"]
        if "/espgw/stats" in cmds and json.loads(
                telemetry(prefix, ["/espgw/stats"])[0])["/espgw/stats"] is not None:
            break
        assert time.monotonic() < end, "espgw telemetry not up: %s" % cmds
        time.sleep(0.1)
    out = []
    for c in cmds:
        if c in ("/help",):
            continue
        out.append(c)
        if c in ("/espgw/sa",):
            out += ["%s,%s" % (c, n) for n in (LIVE_NAME, "in-cbc", "doomed")]
        elif c.startswith("/ethdev/") or c.startswith("/cryptodev/"):
            out += ["%s,%d" % (c, i) for i in range(3)]
    return out


def data_mapping(parts):
    """A readable mapping that can hold data: anonymous, heap, stacks, DPDK's
    memory (memfd, hugepage files); not the program's or libraries' files,
    not kernel pages, not a sanitizer's shadow (terabytes, mostly unmapped)."""
    lo, hi = (int(x, 16) for x in parts[0].split("-"))
    name = parts[5] if len(parts) > 5 else ""
    if parts[1][0] != "r" or hi - lo > 1 << 30 or name in ("[vvar]", "[vsyscall]", "[vdso]"):
        return None
    if name and not name.startswith(("[", "/memfd:", "/dev/hugepages", "/dev/zero")):
        return None
    return lo, hi


def scan_memory(pid):
    """The data in the memory of process pid (maps, then /proc/PID/mem)."""
    chunks = []
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            r = data_mapping(line.split())
            if r is None:
                continue
            lo, hi = r
            try:
                mem.seek(lo)
                chunks.append(mem.read(hi - lo))
            except (OSError, ValueError, OverflowError):
                continue
    return chunks


@pytest.fixture
def running(gateways, workdir, prefix):
    conf = write_file(workdir, "keys.conf", config())
    os.chmod(conf, 0o600)
    from scapy.all import IP, UDP, Ether, wrpcap
    lan_in = os.path.join(workdir, "lan-in.pcap")
    wrpcap(lan_in, [Ether(src=LAN_HOST_MAC, dst=LAN_MAC) / IP(src=LAN_HOST, dst="10.2.0.9") /
                    UDP(sport=1, dport=2) / b"hello"] * 3)
    wan_in = os.path.join(workdir, "wan-in.pcap")
    wrpcap(wan_in, [])
    vdevs = [pcap_vdev(0, lan_in, os.path.join(workdir, "lan-out.pcap")),
             pcap_vdev(1, wan_in, os.path.join(workdir, "wan-out.pcap"))]
    stats = os.path.join(workdir, "stats.json")
    args = eal_args(prefix, vdevs) + ["--log-level=*:debug", "--", "-f", conf, "--stats-json",
                                      stats, "--log-level", "debug", "--stats-interval", "1"]
    gw = Gateway(args, workdir)
    gateways.append(gw)
    replies = telemetry(prefix, all_commands(prefix))
    time.sleep(1.5)  # one --stats-interval print
    return gw, replies, stats


def test_not_in_logs_counters_or_telemetry(running):
    gw, replies, stats = running
    assert len(replies) > 20 and any('"spi"' in r for r in replies), replies[:5]
    rc, _ = gw.stop(10)
    assert rc == 0, gw.logs()
    text = gw.logs()
    assert "DEBUG" in text or "debug" in text.lower(), "no debug output at all?"
    with open(stats) as f:
        text += f.read()
    text += "\n".join(replies)
    found = find_keys(text.encode())
    assert not found, "key material in logs, counters or telemetry: %s" % found


def test_deleted_sa_key_not_in_memory(running):
    gw, _, _ = running
    chunks = scan_memory(gw.proc.pid)
    assert sum(len(c) for c in chunks) > 100 << 20, "memory scan read too little"
    live_name = LIVE_NAME.encode()
    assert any(live_name in c for c in chunks), "scan cannot find the live SA's name"
    live = bytes.fromhex(K["gcm"])
    assert any(live in c for c in chunks), "scan cannot find the live SA's key bytes"
    found = {}
    for c in chunks:
        # Not the 4-byte salt: in this much memory 4 given bytes turn up by chance.
        found.update(find_keys(c, {"doomed": K["doomed"]}))
        text = {k: v for k, v in K.items() if k != "doomed"}
        found.update({"%s (text)" % k: f for k, f in find_keys(c, text).items()
                      if f != bytes.fromhex(text[k])})
    assert not found, "key material in the gateway's memory: %s" % found
