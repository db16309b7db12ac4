#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Third-party ESP-in-UDP (RFC 3948) packets with their keys: two strongSwan
charons (Debian's 5.9.8, kernel-libipsec: userspace ESP, always UDP-encapsulated)
in two network namespaces of this script's own negotiate IKEv2 with a PSK and
two CHILD_SAs (AES-GCM-128; AES-CBC-128 with HMAC-SHA-256-128), ping through
both, and tcpdump records the wire. charon's file log at level 4 for "chd"
prints each CHILD_SA's derived keys; they are parsed into keys.json next to
the capture, so that tshark, scapy and espgw can each decrypt the packets.

  strongswan_vectors.py OUTDIR     writes OUTDIR/strongswan-natt.pcap and OUTDIR/keys.json

Needs root and the packages strongswan-charon strongswan-swanctl
libcharon-extra-plugins libstrongswan-extra-plugins libstrongswan-standard-plugins.
Everything it starts (two namespaces, two charons, tcpdump, pings) is ended
by PID or deleted by name before it returns, also after a failure.
"""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CHARON = "/usr/lib/ipsec/charon"
# The two ends: the veth between them, and the networks each protects (on lo).
ENDS = {
    "a": {"wan": "192.0.2.1", "nets": ["10.10.1.1/24", "10.11.1.1/24"]},
    "b": {"wan": "192.0.2.2", "nets": ["10.10.2.1/24", "10.11.2.1/24"]},
}
CHILDREN = {  # name: (ESP proposal, local net of a, local net of b)
    "gcm": ("aes128gcm16", "10.10.1.0/24", "10.10.2.0/24"),
    "cbc": ("aes128-sha256", "10.11.1.0/24", "10.11.2.0/24"),
}
PINGS = 6

STRONGSWAN_CONF = """charon {{
  load_modular = no
  load = random nonce openssl aes sha1 sha2 hmac gcm curve25519 kdf pem pkcs1 x509 pubkey \
kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = yes
  plugins {{
    vici {{ socket = unix://{dir}/vici }}
    kernel-libipsec {{ allow_peer_ts = yes }}
  }}
  filelog {{
    log {{ path = {dir}/charon.log
          time_format = %s
          default = 1
          chd = 4
          ike = 1 }}
  }}
}}
"""

SWANCTL_CONF = """connections {{
  vec {{
    version = 2
    local_addrs = {me}
    remote_addrs = {peer}
    proposals = aes128-sha256-x25519
    encap = yes
    local {{ auth = psk
            id = {me} }}
    remote {{ auth = psk
             id = {peer} }}
    children {{
{children}
    }}
  }}
}}
secrets {{
  ike-vec {{ secret = "espgw-demo-psk-not-secret" }}
}}
"""

CHILD = """      {name} {{
        local_ts = {lts}
        remote_ts = {rts}
        esp_proposals = {prop}
        mode = tunnel
      }}"""


def sh(args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=60, **kw)


class Bed:
    """The namespaces, charons and capture; down() removes all of it."""

    def __init__(self, work):
        self.work = work
        tag = secrets.token_hex(2)
        self.ns = {e: "espgw-ss-%s-%s" % (tag, e) for e in ENDS}
        self.procs = []

    def up(self):
        for e, n in self.ns.items():
            sh(["ip", "netns", "add", n])
            sh(["ip", "-n", n, "link", "set", "lo", "up"])
            for net in ENDS[e]["nets"]:
                sh(["ip", "-n", n, "addr", "add", net, "dev", "lo"])
        sh(["ip", "link", "add", "ssv-a", "netns", self.ns["a"], "type", "veth", "peer",
            "ssv-b", "netns", self.ns["b"]])
        for e in ENDS:
            sh(["ip", "-n", self.ns[e], "addr", "add", ENDS[e]["wan"] + "/24", "dev", "ssv-" + e])
            sh(["ip", "-n", self.ns[e], "link", "set", "ssv-" + e, "up"])

    def spawn(self, e, args, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[e]] + args, **kw)
        self.procs.append(p)
        return p

    def charon(self, e):
        d = os.path.join(self.work, e)
        os.makedirs(d, exist_ok=True)
        me, peer = ENDS[e]["wan"], ENDS["b" if e == "a" else "a"]["wan"]
        with open(os.path.join(d, "strongswan.conf"), "w") as f:
            f.write(STRONGSWAN_CONF.format(dir=d))
        kids = "\n".join(CHILD.format(name=n, prop=c[0], lts=c[1] if e == "a" else c[2],
                                      rts=c[2] if e == "a" else c[1])
                         for n, c in CHILDREN.items())
        with open(os.path.join(d, "swanctl.conf"), "w") as f:
            f.write(SWANCTL_CONF.format(me=me, peer=peer, children=kids))
        # A private /run: charon's pid file path is fixed (TESTING.md).
        cmd = "mount -t tmpfs none /run && exec %s" % CHARON
        self.spawn(e, ["unshare", "-m", "sh", "-c", cmd], env=dict(
            os.environ, STRONGSWAN_CONF=os.path.join(d, "strongswan.conf")),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        vici = "unix://%s/vici" % d
        for _ in range(100):
            if os.path.exists(os.path.join(d, "vici")):
                break
            time.sleep(0.1)
        sh(["swanctl", "--load-all", "--file", os.path.join(d, "swanctl.conf"), "--uri", vici])
        return vici

    def down(self):
        """Idempotent."""
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for n in self.ns.values():
            sh(["ip", "netns", "del", n], check=False)
        self.ns = {}


KEY_LINE = re.compile(r"(encryption|integrity) (initiator|responder) key => (\d+) bytes")
SPI_LINE = re.compile(r"CHILD_SA (\w+)\{\d+\} established with SPIs ([0-9a-f]+)_i ([0-9a-f]+)_o")


def hexdump_bytes(lines, i, n):
    """The n bytes of charon's hex dump that starts at lines[i]."""
    out = b""
    while len(out) < n and i < len(lines):
        m = re.search(r": ((?:[0-9A-F]{2} ){1,16})", lines[i])
        if m:
            out += bytes.fromhex(m.group(1).replace(" ", ""))
        i += 1
    return out[:n]


def child_keys(log_path):
    """{child: {"spi_i", "spi_o" (the initiator's view), keys by (kind, side)}}, in log order."""
    with open(log_path, errors="replace") as f:
        lines = f.read().splitlines()
    keys, found = {}, {}
    for i, line in enumerate(lines):
        m = KEY_LINE.search(line)
        if m:
            keys[(m.group(1), m.group(2))] = hexdump_bytes(lines, i + 1, int(m.group(3)))
        m = SPI_LINE.search(line)
        if m and m.group(1) not in found:
            found[m.group(1)] = dict(spi_in=int(m.group(2), 16), spi_out=int(m.group(3), 16),
                                     keys=dict(keys))
            keys = {}
    return found


def sa_records(a_children):
    """One record per ESP SA on the wire, from initiator a's log (its i/r keys)."""
    recs = []
    for name, c in a_children.items():
        prop = CHILDREN[name][0]
        k = c["keys"]
        for direction, spi, side in (("a->b", c["spi_out"], "initiator"),
                                     ("b->a", c["spi_in"], "responder")):
            src, dst = (("192.0.2.1", "192.0.2.2") if direction == "a->b"
                        else ("192.0.2.2", "192.0.2.1"))
            enc = k[("encryption", side)]
            r = {"child": name, "spi": "0x%08x" % spi, "src": src, "dst": dst,
                 "sport": 4500, "dport": 4500}
            if prop.startswith("aes128gcm16"):
                r.update(aead="aes-gcm-128", key="0x" + enc[:16].hex(), salt="0x" + enc[16:].hex())
            else:
                r.update(cipher="aes-cbc-128", key="0x" + enc.hex(), auth="hmac-sha256-128",
                         auth_key="0x" + k[("integrity", side)].hex())
            recs.append(r)
    return recs


def capture(out_dir):
    work = tempfile.mkdtemp(prefix="espgw-ss-")
    bed = Bed(work)
    pcap = os.path.join(out_dir, "strongswan-natt.pcap")
    try:
        bed.up()
        cap = bed.spawn("b", ["tcpdump", "-Z", "root", "-i", "ssv-b", "-n", "-U", "-w", pcap,
                              "udp port 4500"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
        vici_a = bed.charon("a")
        bed.charon("b")
        time.sleep(1)
        for name in CHILDREN:
            sh(["swanctl", "--initiate", "--child", name, "--uri", vici_a, "--timeout", "20"])
        for name, c in CHILDREN.items():
            src, dst = c[1].replace("0/24", "1"), c[2].replace("0/24", "1")
            sh(["ip", "netns", "exec", bed.ns["a"], "ping", "-c", str(PINGS), "-i", "0.2",
                "-I", src, dst])
        time.sleep(1)
        cap.send_signal(signal.SIGINT)
        cap.wait(10)
        bed.down()  # charon's log is complete once it has stopped
        recs = sa_records(child_keys(os.path.join(work, "a", "charon.log")))
        if len(recs) != 2 * len(CHILDREN):
            raise RuntimeError("keys of %d SAs in charon's log, expected %d"
                               % (len(recs), 2 * len(CHILDREN)))
        with open(os.path.join(out_dir, "keys.json"), "w") as f:
            json.dump({"source": "strongSwan 5.9.8 (Debian 12), kernel-libipsec, captured by "
                                 "scripts/netns/strongswan_vectors.py",
                       "sas": recs}, f, indent=1)
            f.write("\n")
    finally:
        bed.down()
        if not os.environ.get("ESPGW_SS_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.makedirs(sys.argv[1], exist_ok=True)
    capture(sys.argv[1])
