# SPDX-License-Identifier: BSD-3-Clause
"""What crossed the wire, judged without espgw's help (shared by scripts/demo.py
and tests/interop):

- config reading: the SAs of an espgw config file and the tshark options that
  decrypt them (Wireshark's ESP SA table, keys from the file);
- audit(): every frame of a capture classified by a small pcap parser of its
  own (Ethernet, Linux cooked v1/v2): ESP between the gateways' public
  addresses, link control (ARP, ND, MLD), or a violation; plus a byte search
  for secrets (branch host addresses, pieces of the data sent);
- esp_verdicts(): tshark decrypts every ESP packet and says whether its ICV
  verified and what was inside.
"""

import ipaddress
import os
import struct
import subprocess
from collections import Counter

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


# ------------------------------------------------------------------ config files
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


def with_sa_options(path, extra):
    """The config of path as text, one command a line, with extra[NAME] (a string
    of SA options) appended to 'sa add NAME'."""
    out = []
    for t in commands(path):
        if t[:2] == ["sa", "add"] and t[2] in extra:
            t = t + extra[t[2]].split()
        out.append(" ".join(t))
    return "\n".join(out) + "\n"


class Conf:
    """What the demo and the tests need from a config file."""

    def __init__(self, path):
        self.path = path
        self.ports, self.sas, self.neigh, self.protect_out, self.sps = {}, {}, [], [], []
        for t in commands(path):
            if t[:2] == ["port", "add"]:
                self.ports[t[2]] = options(t[3:])
                self.ports[t[2]]["address"] = t[t.index("address") + 1] if "address" in t \
                    else None
            elif t[:2] == ["sa", "add"]:
                self.sas[t[2]] = options(t[3:])
            elif t[:2] == ["neighbor", "add"]:
                self.neigh.append(dict(options(t[3:]), ip=t[2]))
            elif t[:2] == ["sp", "add"]:
                sp = dict(options(t[3:]), dir=t[2])
                self.sps.append(sp)
                if t[2] == "out" and "protect" in t:
                    self.protect_out.append(sp)

    def port(self, role):
        for name, p in self.ports.items():
            if p.get("role") == role:
                return name, p
        raise SystemExit("%s has no %s port" % (self.path, role))

    def neighbor_on(self, port):
        return next((n for n in self.neigh if n.get("port") == port), None)

    def sa_dir(self, direction):
        return next(((n, s) for n, s in self.sas.items() if s.get("dir") == direction),
                    (None, None))

    def selectors(self, sa_name):
        """(src, dst) networks of the policies protected by SA sa_name."""
        return [(ipaddress.ip_network(p.get("src", "::/0" if ":" in p.get("dst", "") else
                                            "0.0.0.0/0")),
                 ipaddress.ip_network(p.get("dst", "::/0" if ":" in p.get("src", "") else
                                            "0.0.0.0/0")))
                for p in self.sps if p.get("protect") == sa_name]


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


def sa_endpoints(sa):
    """(source, destination) of the SA's ESP packets on the wire."""
    return (sa["local"], sa["remote"]) if sa["dir"] == "out" else (sa["remote"], sa["local"])


def tshark_sa(sa):
    """One -o value for Wireshark's ESP SA table, or None."""
    k = sa_keys(sa)
    if k is None:
        return None
    enc, key, auth, akey = k
    src, dst = sa_endpoints(sa)
    fam = "IPv6" if ":" in src else "IPv4"
    fields = [fam, src, dst, "0x%08x" % int(sa["spi"], 0), ENC[enc][0],
              "0x" + key.hex() if key else "", AUTH[auth][0], "0x" + akey.hex() if akey else ""]
    return "uat:esp_sa:" + ",".join('"%s"' % f for f in fields)


def tshark_esp_args(conf_paths):
    """tshark options that decrypt and authenticate every SA of the configs."""
    args = ["-o", "esp.enable_encryption_decode:TRUE",
            "-o", "esp.enable_authentication_check:TRUE"]
    seen = set()
    for path in conf_paths:
        for sa in Conf(path).sas.values():
            uat = tshark_sa(sa)
            if uat and uat not in seen:
                seen.add(uat)
                args += ["-o", uat]
    return args


# ------------------------------------------------------------------ pcap reading
LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 = 1, 113, 276
ETH_IPV4, ETH_ARP, ETH_IPV6, ETH_VLAN = 0x0800, 0x0806, 0x86DD, 0x8100


def read_pcap(path):
    """(link type, [frame bytes]) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: no pcap header" % path)
    e = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
         b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(data[:4])
    if e is None:
        raise ValueError("%s: not a classic pcap file" % path)
    link = struct.unpack(e + "I", data[20:24])[0]
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return link, frames


def l3_of(link, frame):
    """(ethertype, L3 bytes) of a frame, or (None, frame) for an unknown link type."""
    if link == LINKTYPE_ETHERNET:
        et, off = struct.unpack("!H", frame[12:14])[0], 14
        if et == ETH_VLAN:
            et, off = struct.unpack("!H", frame[16:18])[0], 18
        return et, frame[off:]
    if link == LINKTYPE_LINUX_SLL:
        return struct.unpack("!H", frame[14:16])[0], frame[16:]
    if link == LINKTYPE_LINUX_SLL2:
        return struct.unpack("!H", frame[0:2])[0], frame[20:]
    return None, frame


def ipv4_fields(b):
    ihl = (b[0] & 0x0F) * 4
    frag = struct.unpack("!H", b[6:8])[0]
    return {"src": ipaddress.ip_address(b[12:16]), "dst": ipaddress.ip_address(b[16:20]),
            "proto": b[9], "df": bool(frag & 0x4000), "mf": bool(frag & 0x2000),
            "offset": (frag & 0x1FFF) * 8, "len": struct.unpack("!H", b[2:4])[0], "ihl": ihl}


def ipv6_fields(b):
    """Addresses and the upper-layer protocol after hop-by-hop / fragment headers."""
    nh, off, frag = b[6], 40, False
    while nh in (0, 44) and off + 8 <= len(b):
        if nh == 44:
            frag = True
            nh, off = b[off], off + 8
        else:
            nh, off = b[off], off + 8 * (b[off + 1] + 1)
    icmp_type = b[off] if nh == 58 and off < len(b) else None
    return {"src": ipaddress.ip_address(b[8:24]), "dst": ipaddress.ip_address(b[24:40]),
            "proto": nh, "fragment": frag, "icmp6_type": icmp_type}


# ICMPv6 that stays on a link: MLD (RFC 3810: 130-132, 143), ND (RFC 4861: 133-137).
ICMP6_LINK = {130, 131, 132, 133, 134, 135, 136, 137, 143}
ESP = 50
UDP = 17
NAT_T = 4500


class Audit:
    """The verdict on one capture; see audit()."""

    def __init__(self):
        self.frames = 0
        self.kinds = Counter()     # "esp4", "esp6", "arp", "nd/mld", "echo"
        self.esp_pairs = Counter()  # (src, dst) of ESP packets
        self.natt_pairs = Counter()  # (src:port, dst:port) of ESP in UDP (RFC 3948)
        self.outer_fragments = 0   # IPv4 ESP fragments (MF set or offset > 0)
        self.arp = Counter()       # (op, sender IP, target IP)
        self.nd = Counter()        # (ICMPv6 type, src, dst)
        self.violations = []       # one line each
        self.secrets_found = []    # names of secrets seen in clear

    def ok(self):
        return not self.violations and not self.secrets_found

    def summary(self):
        k = self.kinds
        echo = ", %d ICMP echo router <-> gateway" % k["echo"] if k["echo"] else ""
        natt = (", %d ESP in UDP, %d NAT keepalives, %d IKE on 4500"
                % (k["natt"], k["keepalive"], k["ike4500"])) if k["natt"] else ""
        return ("%d frames: %d ESP over IPv4, %d ESP over IPv6%s, %d ARP, %d ND/MLD%s, "
                "%d violations" % (self.frames, k["esp4"], k["esp6"], natt, k["arp"],
                                   k["nd/mld"], echo,
                                   len(self.violations) + len(self.secrets_found)))


def audit(pcap, public, branch_nets, secrets=None, echo_pairs=()):
    """Classify every frame of pcap. Allowed: ESP (and its fragments) between the
    two addresses of a pair in public, over IP or in UDP from or to port 4500
    (RFC 3948: with IKE and NAT keepalives there); ARP and ND/MLD that name no
    branch address;
    ICMP echo between the two addresses of a pair in echo_pairs (a router and a
    gateway on one link, say). Anything else, or a frame holding one of secrets
    ({name: bytes}), is reported."""
    link, frames = read_pcap(pcap)
    a = Audit()
    pairs = {frozenset(ipaddress.ip_address(x) for x in p) for p in public}
    echo = {frozenset(ipaddress.ip_address(x) for x in p) for p in echo_pairs}
    nets = [ipaddress.ip_network(n) for n in branch_nets]
    secrets = secrets or {}
    found = set()
    for i, fr in enumerate(frames, 1):
        a.frames += 1
        et, l3 = l3_of(link, fr)
        why = classify(a, et, l3, pairs, nets)
        if why and is_echo(et, l3, echo):
            a.kinds["echo"] += 1
            why = None
        if why:
            a.violations.append("frame %d: %s" % (i, why))
        found.update(name for name, s in secrets.items() if s in fr)
    a.secrets_found = sorted(found)
    return a


def is_echo(et, l3, pairs):
    """ICMP/ICMPv6 echo request or reply between the addresses of one of pairs."""
    if et == ETH_IPV4 and len(l3) >= 21:
        ip = ipv4_fields(l3)
        ok = ip["proto"] == 1 and len(l3) > ip["ihl"] and l3[ip["ihl"]] in (0, 8)
    elif et == ETH_IPV6 and len(l3) >= 41:
        ip = ipv6_fields(l3)
        ok = ip["icmp6_type"] in (128, 129)
    else:
        return False
    return ok and frozenset((ip["src"], ip["dst"])) in pairs


def in_branch(addr, nets):
    return any(addr in n for n in nets if n.version == addr.version)


def classify(a, et, l3, pairs, nets):
    """Count the frame in a; return why it is a violation, or None."""
    if et == ETH_ARP and len(l3) >= 28:
        op = struct.unpack("!H", l3[6:8])[0]
        spa, tpa = ipaddress.ip_address(l3[14:18]), ipaddress.ip_address(l3[24:28])
        a.kinds["arp"] += 1
        a.arp[(op, str(spa), str(tpa))] += 1
        return "ARP names a branch address" if in_branch(spa, nets) or in_branch(tpa, nets) \
            else None
    if et == ETH_IPV4 and len(l3) >= 20:
        ip = ipv4_fields(l3)
        if ip["proto"] == UDP and frozenset((ip["src"], ip["dst"])) in pairs and \
                natt_count(a, ip, l3[ip["ihl"]:]):
            return None
        if ip["proto"] == ESP and frozenset((ip["src"], ip["dst"])) in pairs:
            a.kinds["esp4"] += 1
            a.esp_pairs[(str(ip["src"]), str(ip["dst"]))] += 1
            a.outer_fragments += ip["mf"] or ip["offset"] > 0
            return None
        return "IPv4 %s > %s protocol %d" % (ip["src"], ip["dst"], ip["proto"])
    if et == ETH_IPV6 and len(l3) >= 40:
        ip = ipv6_fields(l3)
        if ip["proto"] == ESP and frozenset((ip["src"], ip["dst"])) in pairs:
            a.kinds["esp6"] += 1
            a.esp_pairs[(str(ip["src"]), str(ip["dst"]))] += 1
            return None
        if ip["icmp6_type"] in ICMP6_LINK and not in_branch(ip["src"], nets) \
                and not in_branch(ip["dst"], nets):
            a.kinds["nd/mld"] += 1
            a.nd[(ip["icmp6_type"], str(ip["src"]), str(ip["dst"]))] += 1
            return None
        return "IPv6 %s > %s next header %d" % (ip["src"], ip["dst"], ip["proto"])
    return "ethertype 0x%04x" % et if et is not None else "unknown link type"


def natt_count(a, ip, udp):
    """Count a UDP datagram from or to port 4500 (RFC 3948 2.2): ESP in UDP, IKE
    behind the non-ESP marker, or a keepalive; False for anything else."""
    if len(udp) < 9 or NAT_T not in struct.unpack("!HH", udp[:4]):
        return False
    body = udp[8:]
    kind = "keepalive" if body == b"\xff" else "ike4500" if body[:4] == bytes(4) else "natt"
    a.kinds[kind] += 1
    if kind == "natt":
        sport, dport = struct.unpack("!HH", udp[:4])
        a.natt_pairs[("%s:%d" % (ip["src"], sport), "%s:%d" % (ip["dst"], dport))] += 1
    return True


def secret_pieces(blob, n=16, size=16):
    """n pieces of size bytes spread over blob, named by their offset."""
    step = max(1, (len(blob) - size) // n)
    return {"data@%d" % o: blob[o:o + size] for o in range(0, len(blob) - size + 1, step)[:n]}


# ------------------------------------------------------------------ tshark
TSHARK_FIELDS = ["frame.number", "esp.spi", "esp.sequence", "esp.icv_good", "esp.icv_bad",
                 "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "frame.protocols"]


def esp_verdicts(pcap, conf_paths, udp=False):
    """One dict per ESP packet tshark saw: spi, seq, good (ICV verified), bad,
    outer and inner (source, destination) pairs, inner None if not decrypted.
    TCP/UDP/ICMP dissectors are off: a dissector that throws on decrypted data
    would leave the ICV fields unset (Wireshark 4.0)."""
    cmd = ["tshark", "-n", "-r", pcap] + tshark_esp_args(conf_paths)
    # udp: ESP in UDP (RFC 3948), whose UDP dissector must stay on.
    for proto in ["tcp", "icmp"] + ([] if udp else ["udp"]):
        cmd += ["--disable-protocol", proto]
    cmd += ["-Y", "esp", "-T", "fields", "-E", "occurrence=a"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, env=tshark_env())
    if res.returncode != 0:
        raise RuntimeError("tshark failed: %s" % res.stderr.strip())
    out = []
    for line in res.stdout.splitlines():
        f = (line.split("\t") + [""] * len(TSHARK_FIELDS))[:len(TSHARK_FIELDS)]
        ips = ip_layers(f[5:9], f[9])
        out.append({"frame": int(f[0]), "spi": int(f[1].split(",")[0], 0),
                    "seq": f[2].split(",")[0], "good": f[3].split(",")[0] == "1",
                    "bad": f[4].split(",")[0] == "1", "outer": ips[0] if ips else None,
                    "inner": ips[1] if len(ips) > 1 else None})
    return out


def ip_layers(addrs, protocols):
    """(src, dst) of each IP layer of a packet, outermost first: tshark lists the
    IPv4 and IPv6 addresses apart; frame.protocols gives their order."""
    v4 = iter(zip(addrs[0].split(","), addrs[1].split(","))) if addrs[0] else iter(())
    v6 = iter(zip(addrs[2].split(","), addrs[3].split(","))) if addrs[2] else iter(())
    layers = [p for p in protocols.split(":") if p in ("ip", "ipv6")]
    return [x for x in (next(v4 if p == "ip" else v6, None) for p in layers) if x]


def tshark_env():
    """A private, empty Wireshark profile: the caller's preferences do not apply."""
    env = dict(os.environ)
    env["WIRESHARK_CONFIG_DIR"] = os.environ.get("ESPGW_TSHARK_DIR", "/nonexistent")
    return env
