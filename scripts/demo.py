#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Helper of scripts/demo.sh (Debian's python3, scapy and tshark).

  demo.py prepare CONF DIR   read CONF, write DIR/lan-in.pcap (plain LAN traffic to
                             the remote branch), DIR/wan-in.pcap (the same traffic
                             from the peer, ESP-encrypted with CONF's inbound SA),
                             DIR/demo.env (port devices) and DIR/tshark.args
                             (tshark options that decrypt CONF's SAs)
  demo.py counters JSON      print espgw's exit counters readably
  demo.py show PCAP ARGS     one line per packet; for ESP: outer header, SPI,
                             sequence number, ICV verdict, decrypted inner packet

Only the few config commands the demo needs are read (port, sa, sp, neighbor);
espgw itself validates the file (espgw --check).
"""

import ipaddress
import json
import os
import shlex
import subprocess
import sys

N_PACKETS = 4  # per direction

# espgw algorithm name -> (Wireshark ESP UAT name, scapy name); ICVs as RFC 4106/4868.
ENC = {
    "aes-gcm-128": ("AES-GCM with 16 octet ICV [RFC4106]", "AES-GCM"),
    "aes-gcm-256": ("AES-GCM with 16 octet ICV [RFC4106]", "AES-GCM"),
    "chacha20-poly1305": ("ChaCha20 with Poly1305 [RFC7634]", None),
    "aes-cbc-128": ("AES-CBC [RFC3602]", "AES-CBC"),
    "aes-cbc-256": ("AES-CBC [RFC3602]", "AES-CBC"),
    "aes-ctr-128": ("AES-CTR [RFC3686]", "AES-CTR"),
    "aes-ctr-256": ("AES-CTR [RFC3686]", "AES-CTR"),
    "null": ("NULL", "NULL"),
}
AUTH = {
    None: ("NULL", None),
    "hmac-sha1-96": ("HMAC-SHA-1-96 [RFC2404]", "HMAC-SHA1-96"),
    "hmac-sha256-128": ("HMAC-SHA-256-128 [RFC4868]", "SHA2-256-128"),
    "hmac-sha384-192": ("HMAC-SHA-384-192 [RFC4868]", "SHA2-384-192"),
    "hmac-sha512-256": ("HMAC-SHA-512-256 [RFC4868]", "SHA2-512-256"),
}


def commands(path):
    """Token lists of the config's commands (comments, blank lines, '\\' joins)."""
    cmds, pending = [], ""
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].rstrip()
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            toks = (pending + line).split()
            pending = ""
            if toks:
                cmds.append(toks)
    return cmds


def options(toks):
    """'key value' pairs of a command after its fixed prefix."""
    return dict(zip(toks[0::2], toks[1::2]))


class Conf:
    """What the demo needs from the config file."""

    def __init__(self, path):
        self.ports, self.sas, self.neigh, self.protect_out = {}, {}, [], []
        for t in commands(path):
            if t[:2] == ["port", "add"]:
                self.ports[t[2]] = options(t[3:])
                self.ports[t[2]]["address"] = t[t.index("address") + 1] if "address" in t \
                    else None
            elif t[:2] == ["sa", "add"]:
                self.sas[t[2]] = options(t[3:])
            elif t[:2] == ["neighbor", "add"]:
                self.neigh.append(dict(options(t[3:]), ip=t[2]))
            elif t[:3] == ["sp", "add", "out"] and "protect" in t:
                self.protect_out.append(options(t[3:]))

    def port(self, role):
        for name, p in self.ports.items():
            if p.get("role") == role:
                return name, p
        sys.exit("demo: %s has no %s port" % ("config", role))

    def neighbor_on(self, port):
        return next((n for n in self.neigh if n.get("port") == port), None)

    def sa_dir(self, direction):
        return next(((n, s) for n, s in self.sas.items() if s.get("dir") == direction),
                    (None, None))


def unhex(s):
    return bytes.fromhex(s[2:] if s.lower().startswith("0x") else s)


def sa_keys(sa):
    """(encryption algo, key incl. salt, auth algo, auth key) or None if unsupported."""
    enc = sa.get("aead") or sa.get("cipher")
    auth = None if "aead" in sa else sa.get("auth")
    if enc not in ENC or auth not in AUTH:
        return None
    key = unhex(sa.get("key", "")) + unhex(sa.get("salt", ""))
    return enc, key, auth, unhex(sa.get("auth-key", ""))


def tshark_sa(sa):
    """One -o value for Wireshark's ESP SA table, or None."""
    k = sa_keys(sa)
    if k is None:
        return None
    enc, key, auth, akey = k
    src, dst = (sa["local"], sa["remote"]) if sa["dir"] == "out" else (sa["remote"], sa["local"])
    fam = "IPv6" if ":" in src else "IPv4"
    fields = [fam, src, dst, "0x%08x" % int(sa["spi"], 0), ENC[enc][0],
              "0x" + key.hex() if key else "", AUTH[auth][0], "0x" + akey.hex() if akey else ""]
    return "uat:esp_sa:" + ",".join('"%s"' % f for f in fields)


def lan_traffic(conf):
    """Plain packets from the LAN host to hosts of the remote branch."""
    from scapy.all import ICMP, IP, UDP, Ether

    lan_name, lan = conf.port("protected")
    host = conf.neighbor_on(lan_name) or {"ip": "10.1.0.10", "lladdr": "02:00:00:00:01:10"}
    dst_net = ipaddress.ip_network(conf.protect_out[0]["dst"] if conf.protect_out
                                   else "10.2.0.0/24")
    eth = Ether(src=host["lladdr"], dst=lan.get("mac", "ff:ff:ff:ff:ff:ff"))
    pkts = []
    for i in range(N_PACKETS - 1):
        ip = IP(src=host["ip"], dst=str(dst_net.network_address + 20 + i))
        pkts.append(eth / ip / UDP(sport=40000 + i, dport=9) / ("hello branch %d" % i).encode())
    ip = IP(src=host["ip"], dst=str(dst_net.network_address + 1))
    pkts.append(eth / ip / ICMP(id=1, seq=1) / b"ping through the tunnel")
    return pkts


def reply(ip):
    """The answer a branch host would send to ip (UDP echo or ICMP echo reply)."""
    from scapy.all import ICMP, IP, UDP

    back = IP(src=ip.dst, dst=ip.src)
    if ICMP in ip:
        return back / ICMP(type=0, id=ip[ICMP].id, seq=ip[ICMP].seq) / bytes(ip[ICMP].payload)
    return back / UDP(sport=ip[UDP].dport, dport=ip[UDP].sport) / bytes(ip[UDP].payload)


def wan_traffic(conf, lan_pkts):
    """Replies to lan_pkts, encrypted by the peer with the inbound SA."""
    from scapy.all import IP, Ether
    from scapy.layers.ipsec import ESP, SecurityAssociation

    name, sa = conf.sa_dir("in")
    k = sa_keys(sa) if sa else None
    if k is None or ENC[k[0]][1] is None or ":" in sa["local"]:
        print("    (no inbound IPv4 SA with an algorithm scapy knows: no ESP input)")
        return []
    wan_name, wan = conf.port("unprotected")
    hop = conf.neighbor_on(wan_name) or {"lladdr": "02:00:00:00:02:fe"}
    sec = SecurityAssociation(ESP, spi=int(sa["spi"], 0), crypt_algo=ENC[k[0]][1],
                              crypt_key=k[1], auth_algo=AUTH[k[2]][1], auth_key=k[3] or None,
                              tunnel_header=IP(src=sa["remote"], dst=sa["local"]))
    eth = Ether(src=hop["lladdr"], dst=wan.get("mac", "ff:ff:ff:ff:ff:ff"))
    out = [eth / sec.encrypt(reply(p[IP]), seq_num=seq) for seq, p in enumerate(lan_pkts, 1)]
    print("    %d ESP packets from peer %s with SA %s (spi %s)"
          % (len(out), sa["remote"], name, sa["spi"]))
    return out


def prepare(conf_path, d):
    from scapy.all import wrpcap

    conf = Conf(conf_path)
    for name, port in conf.ports.items():
        if not port.get("dev", "").startswith("net_pcap"):
            sys.exit("demo: port %s is dev %s; the demo needs net_pcap ports (see "
                     "config/minimal.conf)" % (name, port.get("dev")))
    lan_pkts = lan_traffic(conf)
    wrpcap(os.path.join(d, "lan-in.pcap"), lan_pkts)
    print("    %d plain packets from LAN host %s" % (len(lan_pkts), lan_pkts[0]["IP"].src))
    # net_pcap needs an Ethernet pcap even when it holds no packet.
    wrpcap(os.path.join(d, "wan-in.pcap"), wan_traffic(conf, lan_pkts), linktype=1)
    with open(os.path.join(d, "demo.env"), "w") as f:
        for var, role in (("LAN", "protected"), ("WAN", "unprotected")):
            name, port = conf.port(role)
            f.write("%s_NAME=%s\n%s_DEV=%s\n" % (var, shlex.quote(name), var,
                                                  shlex.quote(port["dev"])))
    with open(os.path.join(d, "tshark.args"), "w") as f:
        for sa in conf.sas.values():
            uat = tshark_sa(sa)
            if uat:
                f.write("-o\n%s\n" % uat)


def counters(path):
    with open(path) as f:
        c = json.load(f)
    t = c.get("totals", {})
    print("    packets received %s, sent %s, to control %s"
          % (t.get("rx", "?"), t.get("tx", "?"), t.get("to_ctl", "?")))
    for name, p in sorted(c.get("ports", {}).items()):
        print("    port %-8s rx %-6s tx %s" % (name, p.get("rx", "?"), p.get("tx", "?")))
    for name, s in sorted(c.get("sa", {}).items()):
        print("    SA   %-8s packets %-6s bytes %-8s errors %s"
              % (name, s.get("pkts", "?"), s.get("bytes", "?"), s.get("errors", "?")))
    drops = {k: v for k, v in c.get("drops", {}).items() if v}
    for k, v in sorted(drops.items()):
        print("    drop %-20s %s" % (k, v))
    if not drops:
        print("    no drops")


TSHARK_FIELDS = ["frame.number", "ip.src", "ip.dst", "esp.spi", "esp.sequence",
                 "esp.icv_good", "esp.icv_bad", "_ws.col.Protocol", "_ws.col.Info"]


def show(pcap, args_file):
    if not os.path.exists(pcap):
        print("    %s: not written" % os.path.basename(pcap))
        return
    with open(args_file) as f:
        sa_args = [line.rstrip("\n") for line in f if line.strip()]
    cmd = ["tshark", "-r", pcap, "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE"] + sa_args + ["-T", "fields"]
    for fld in TSHARK_FIELDS:
        cmd += ["-e", fld]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        err = [ln for ln in res.stderr.splitlines() if not ln.startswith("Running as user")]
        sys.exit("tshark failed: %s" % "\n".join(err))
    pkts = [ln.split("\t") for ln in res.stdout.splitlines() if ln.strip()]
    n_esp = sum(1 for f in pkts if f[3])
    n_ok = sum(1 for f in pkts if f[3] and f[5] == "1")
    print("    %s: %d packets, %d ESP (%d with a good ICV), %d plain"
          % (os.path.basename(pcap), len(pkts), n_esp, n_ok, len(pkts) - n_esp))
    for f in pkts:
        print("    " + pkt_line(f))


def pkt_line(f):
    num, src, dst, spi, seq, good, bad, proto, info = (f + [""] * 9)[:9]
    src, dst = src.split(","), dst.split(",")
    if not spi:
        return "%s  %s > %s  %s plain  %s" % (num, src[0], dst[0], proto, info)
    icv = "ICV ok" if good == "1" else ("ICV BAD" if bad == "1" else "ICV not checked")
    inner = "%s > %s %s %s" % (src[-1], dst[-1], proto, info) if len(src) > 1 \
        else "(not decrypted)"
    return "%s  ESP %s > %s spi %s seq %s %s | inner: %s" % (num, src[0], dst[0], spi, seq,
                                                             icv, inner)


def main(argv):
    if len(argv) == 4 and argv[1] == "prepare":
        prepare(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "counters":
        counters(argv[2])
    elif len(argv) == 4 and argv[1] == "show":
        show(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
