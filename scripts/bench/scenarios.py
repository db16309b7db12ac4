# SPDX-License-Identifier: BSD-3-Clause
"""What the benchmark measures: frame sizes, transforms, scenarios, and the
espgw and ipsec-secgw configurations that run them.

Sizes are Ethernet frame sizes including the 4-byte FCS (RFC 2544 and CSIT
convention): a "64 B" frame is 60 bytes in a pcap and carries a 46-byte IPv4
packet; 1518 B carries a full 1500-byte packet. For inbound scenarios the size
is that of the plaintext frame espgw delivers, not of the ESP frame it gets.

Topology (one worker; both implementations use the same addresses):
  protected port  lan0 10.1.0.1/24      MAC 02:00:00:00:01:01, LAN host 10.1.0.10
  unprotected port wan0 198.51.100.1/24 MAC 02:00:00:00:02:01,
                   next hop 198.51.100.254, peer gateway 203.0.113.1
  remote networks  SA i protects 10.(64 + i / 256).(i % 256).0/24
"""

import fnmatch
import hashlib
import random
from dataclasses import dataclass
from typing import Optional

FCS = 4
ETH = 14
IMIX = ((64, 7), (570, 4), (1518, 1))  # CSIT IMIX_v4_1: 7:4:1
SIZES = ("64", "imix", "1420")
MTU = 2000  # above 1500 so that a 1518 B frame still leaves in one ESP packet

LAN_MAC, HOST_MAC = "02:00:00:00:01:01", "02:00:00:00:01:10"
WAN_MAC, NH_MAC = "02:00:00:00:02:01", "02:00:00:00:02:fe"
LAN_ADDR, HOST = "10.1.0.1/24", "10.1.0.10"
WAN_IP, NH, PEER = "198.51.100.1", "198.51.100.254", "203.0.113.1"
LAN_NET = "10.1.0.0/24"
SPI_OUT, SPI_IN = 1000, 3000
IDLE_NET = "192.0.2.0/24"


@dataclass(frozen=True)
class Transform:
    """One ESP transform as espgw, ipsec-secgw, crypto-perf and scapy name it."""
    name: str
    label: str
    espgw: str           # espgw `sa add` clause; {k} key, {s} salt, {a} auth key
    secgw: str           # ipsec-secgw clause; {k} key(+salt), {a} auth key
    cperf: tuple         # dpdk-test-crypto-perf options without the operation
    cperf_op: str        # "aead" or "cipher-then-auth"
    key_len: int
    salt_len: int
    auth_key_len: int
    block: int           # ESP payload alignment (RFC 4303 2.4)
    scapy_crypt: Optional[str]
    scapy_auth: Optional[str] = None
    ah_len: int = 0      # AH (proto ah): header with ICV, RFC 4302 2; 0 for ESP


def _aead(name, label, algo, key_len, cperf_algo, secgw, scapy):
    return Transform(
        name, label, "aead %s key {k} salt {s}" % algo, "aead_algo %s aead_key {k}" % secgw,
        ("--aead-algo", cperf_algo, "--aead-key-sz", str(key_len), "--aead-iv-sz", "12",
         "--aead-aad-sz", "8", "--digest-sz", "16"), "aead", key_len, 4, 0, 4, scapy)


def _cbc(name, label, auth, auth_key_len, digest, cperf_auth, secgw_auth, scapy_auth):
    return Transform(
        name, label, "cipher aes-cbc-128 key {k} auth %s auth-key {a}" % auth,
        "cipher_algo aes-128-cbc cipher_key {k} auth_algo %s auth_key {a}" % secgw_auth,
        ("--cipher-algo", "aes-cbc", "--cipher-key-sz", "16", "--cipher-iv-sz", "16",
         "--auth-algo", cperf_auth, "--auth-key-sz", str(auth_key_len), "--digest-sz",
         str(digest)), "cipher-then-auth", 16, 0, auth_key_len, 16, "AES-CBC", scapy_auth)


def _ah(name, label, auth, auth_key_len, digest, cperf_auth, scapy_auth):
    """An AH transform (RFC 4302): authentication only, auth-only crypto-perf."""
    return Transform(
        name, label, "proto ah auth %s auth-key {a}" % auth, "",
        ("--auth-algo", cperf_auth, "--auth-key-sz", str(auth_key_len), "--digest-sz",
         str(digest)), "auth-only", 0, 0, auth_key_len, 1, None, scapy_auth, 12 + digest)


TRANSFORMS = {t.name: t for t in (
    _aead("gcm128", "AES-GCM-128", "aes-gcm-128", 16, "aes-gcm", "aes-128-gcm", "AES-GCM"),
    _aead("gcm256", "AES-GCM-256", "aes-gcm-256", 32, "aes-gcm", "aes-256-gcm", "AES-GCM"),
    _cbc("cbc-sha256", "AES-CBC-128+HMAC-SHA256-128", "hmac-sha256-128", 32, 16,
         "sha2-256-hmac", "sha256-hmac", "SHA2-256-128"),
    _cbc("cbc-sha1", "AES-CBC-128+HMAC-SHA1-96", "hmac-sha1-96", 20, 12, "sha1-hmac",
         "sha1-hmac", "HMAC-SHA1-96"),
    _aead("chacha", "ChaCha20-Poly1305", "chacha20-poly1305", 32, "chacha20-poly1305",
          "chacha20-poly1305", "CHACHA20-POLY1305"),
    _ah("ah-sha256", "AH HMAC-SHA256-128", "hmac-sha256-128", 32, 16, "sha2-256-hmac",
        "SHA2-256-128"),
)}


@dataclass(frozen=True)
class Scenario:
    name: str
    dir: str                  # "out", "in" or "bypass"
    transform: Optional[str]  # None for bypass
    path: Optional[str]       # "cryptodev", "cpu", "direct"; None for bypass
    n_sa: int                 # SAs (and policies); bypass: bypass policies
    encap: bool = False       # ESP in UDP (RFC 3948, "encap udp"): espgw only
    transport: bool = False   # mode transport, bump in the wire for HOST <-> PEER
    seq_order: str = ""       # outbound "seq-order" of the SAs (espgw only; "": the default)
    decrypt: str = ""         # inbound "decrypt" of the SAs (espgw only; "": the default)

    @property
    def espgw_only(self):
        """Compared with espgw's own tunnel rows, not ipsec-secgw: its NAT-T is
        for inline devices, it has no AH, its transport mode is not this one."""
        return self.encap or self.transport or (
            self.transform is not None and TRANSFORMS[self.transform].ah_len != 0)

    @property
    def source_role(self):
        return "unprotected" if self.dir == "in" else "protected"

    @property
    def crypto_op(self):
        """Crypto-perf direction that bounds this scenario, None without crypto."""
        return {"out": "encrypt", "in": "decrypt"}.get(self.dir)


def _all_scenarios():
    out = []
    for t in (t for t in TRANSFORMS if not TRANSFORMS[t].ah_len):
        for p in ("cryptodev", "cpu"):
            out.append(Scenario(_name("out", t, p, 1), "out", t, p, 1))
    for d in ("out", "in"):
        for n in ((1, 1000) if d == "in" else (1000,)):
            for p in ("cryptodev", "cpu"):
                out.append(Scenario(_name(d, "gcm128", p, n), d, "gcm128", p, n))
    # The direct path (IPsec-MB called by espgw itself), what "auto" runs for these
    # SAs; ipsec-secgw runs its fastest, CPU crypto, in its rows.
    for d in ("out", "in"):
        for n in (1, 1000):
            out.append(Scenario(_name(d, "gcm128", "direct", n), d, "gcm128", "direct", n))
    # NAT traversal: the same single SA in UDP, to compare with its tunnel rows.
    # The protocols round: NAT traversal, transport mode, AH, each against the
    # single-SA tunnel row of its direction.
    for d in ("out", "in"):
        out.append(Scenario("%s-gcm128-natt-cpu" % d, d, "gcm128", "cpu", 1, True))
        out.append(Scenario("%s-gcm128-natt-direct" % d, d, "gcm128", "direct", 1, True))
        out.append(Scenario("%s-gcm128-trs-cpu" % d, d, "gcm128", "cpu", 1, transport=True))
        out.append(Scenario("%s-ah-sha256-cpu" % d, d, "ah-sha256", "cpu", 1))
    out.append(Scenario("bypass", "bypass", None, None, 1))
    out.append(Scenario("bypass-1k", "bypass", None, None, 1000))
    return out


def _name(d, t, path, n):
    suffix = {"cpu": "-cpu", "direct": "-direct"}.get(path, "")
    return "%s-%s%s%s" % (d, t, "-1k" if n == 1000 else "", suffix)


SCENARIOS = _all_scenarios()


def select(patterns):
    """Scenarios whose name matches one of the comma-separated glob patterns,
    in the canonical order; ValueError for a pattern that matches nothing."""
    if not patterns:
        return list(SCENARIOS)
    pats = [p.strip() for p in patterns.split(",") if p.strip()]
    for p in pats:
        if not any(fnmatch.fnmatchcase(s.name, p) for s in SCENARIOS):
            raise ValueError("no scenario matches '%s' (see --list)" % p)
    return [s for s in SCENARIOS if any(fnmatch.fnmatchcase(s.name, p) for p in pats)]


def parse_sizes(text):
    sizes = [s.strip().lower() for s in text.split(",") if s.strip()]
    for s in sizes:
        if s != "imix" and not (s.isdigit() and 64 <= int(s) <= 1518):
            raise ValueError("size '%s': use imix or a frame size 64..1518" % s)
    return sizes


# ---------------------------------------------------------------- size arithmetic
def size_mix(size):
    """((frame size, weight), ...) for a size name."""
    return IMIX if size == "imix" else ((int(size), 1),)


def inner_len(frame):
    """IPv4 packet carried by a frame of this size (FCS included)."""
    return frame - ETH - FCS


def mean_inner(size):
    mix = size_mix(size)
    return sum(inner_len(f) * w for f, w in mix) / sum(w for _, w in mix)


def cipher_len(t, frame):
    """Bytes the cipher processes for one frame: inner packet, padding, pad
    length and next header, aligned as RFC 4303 2.4 / the cipher requires.
    AH authenticates the outer IPv4 header, AH with its ICV and the inner
    packet (RFC 4302 3.3.3)."""
    if t.ah_len:
        return inner_len(frame) + 20 + t.ah_len
    n = inner_len(frame) + 2
    return (n + t.block - 1) // t.block * t.block


# ---------------------------------------------------------------- addresses and keys
def remote_net(i):
    return "10.%d.%d.0/24" % (64 + i // 256, i % 256)


def remote_host(i, k=1):
    return "10.%d.%d.%d" % (64 + i // 256, i % 256, 1 + k % 250)


def key_bytes(tag, i, n):
    """Deterministic bench key material, distinct per SA (never for real traffic)."""
    return hashlib.shake_256(b"espgw bench key %d %d" % (tag, i)).digest(n)


def sa_keys(t, d, i):
    """(key, salt, auth key) of SA i of direction d."""
    tag = 1 if d == "out" else 2
    return (key_bytes(tag, i, t.key_len), key_bytes(tag + 4, i, t.salt_len),
            key_bytes(tag + 8, i, t.auth_key_len))


SPI_RANDOM = False  # bench.py --random-spi


def sa_spi(d, i):
    """SA i's SPI: consecutive numbers, or with SPI_RANDOM a random 32-bit one
    (fixed per SA, 256 or above: RFC 4303 2.1 reserves 1-255), as IKE daemons
    pick them, which spreads differently over the lookup caches' sets."""
    if SPI_RANDOM:
        return random.Random("%s-%d" % (d, i)).getrandbits(32) | 0x100
    return (SPI_OUT if d == "out" else SPI_IN) + i


# ---------------------------------------------------------------- espgw configuration
def _espgw_ports(sc, devs):
    return [
        "port add lan0 dev %s role protected address %s mac %s mtu %d"
        % (devs["protected"], LAN_ADDR, LAN_MAC, MTU),
        "port add wan0 dev %s role unprotected address %s/24 mac %s mtu %d"
        % (devs["unprotected"], WAN_IP, WAN_MAC, MTU),
        "neighbor add %s lladdr %s port wan0" % (NH, NH_MAC),
        "neighbor add %s lladdr %s port lan0" % (HOST, HOST_MAC),
        "route add 0.0.0.0/0 via %s port wan0" % NH,
    ]


def sa_clause(t, keys_dir, i):
    """espgw transform clause with the keys of SA i of direction keys_dir."""
    k, s, a = sa_keys(t, keys_dir, i)
    return t.espgw.format(k="0x" + k.hex(), s="0x" + s.hex(), a="0x" + a.hex())


def _espgw_sa(sc, t, i):
    clause = sa_clause(t, sc.dir, i)
    extra = " replay-window 0" if sc.dir == "in" else ""
    extra += " encap udp" if sc.encap else ""
    extra += " seq-order " + sc.seq_order if sc.seq_order and sc.dir == "out" else ""
    extra += " decrypt " + sc.decrypt if sc.decrypt and sc.dir == "in" else ""
    # Transport: a bump in the wire for the LAN host, its own header.
    mode, local = ("transport", HOST) if sc.transport else ("tunnel", WAN_IP)
    return "sa add %s%d dir %s spi %d mode %s local %s remote %s %s%s" % (
        sc.dir, i, sc.dir, sa_spi(sc.dir, i), mode, local, PEER, clause, extra)


def flow_nets(sc, i):
    """(LAN side, remote side) of SA i's policies: the endpoints in transport."""
    if sc.transport:
        return HOST + "/32", PEER + "/32"
    return LAN_NET, remote_net(i)


def _espgw_sp(sc, i):
    if sc.dir == "bypass":
        return "sp add out dst %s bypass" % remote_net(i)
    lan, remote = flow_nets(sc, i)
    if sc.dir == "out":
        return "sp add out src %s dst %s protect out%d" % (lan, remote, i)
    return "sp add in src %s dst %s protect in%d" % (remote, lan, i)


def espgw_conf(sc, devs):
    """espgw configuration text; devs maps role -> ethdev name."""
    lines = ["# espgw bench scenario %s (generated by scripts/bench)" % sc.name]
    lines += _espgw_ports(sc, devs)
    if sc.path:
        lines.append("set crypto-path %s" % sc.path)
    if sc.transform:
        t = TRANSFORMS[sc.transform]
        lines += [_espgw_sa(sc, t, i) for i in range(sc.n_sa)]
    lines += [_espgw_sp(sc, i) for i in range(sc.n_sa)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- ipsec-secgw configuration
def _colon(b):
    return ":".join("%02x" % x for x in b)


def _secgw_sa(sc, t, i):
    k, s, a = sa_keys(t, sc.dir, i)
    clause = t.secgw.format(k=_colon(k + s), a=_colon(a))
    src, dst = (WAN_IP, PEER) if sc.dir == "out" else (PEER, WAN_IP)
    typ = " type cpu-crypto" if sc.path in ("cpu", "direct") else ""
    return "sa %s %d %s mode ipv4-tunnel src %s dst %s%s" % (
        sc.dir, sa_spi(sc.dir, i), clause, src, dst, typ)


def _secgw_sp(sc, i):
    ports = "sport 0:65535 dport 0:65535"
    if sc.dir == "bypass":
        return "sp ipv4 out esp bypass pri 1 dst %s %s" % (remote_net(i), ports)
    if sc.dir == "out":
        return "sp ipv4 out esp protect %d pri 1 src %s dst %s %s" % (
            sa_spi("out", i), LAN_NET, remote_net(i), ports)
    return "sp ipv4 in esp protect %d pri 1 src %s dst %s %s" % (
        sa_spi("in", i), remote_net(i), LAN_NET, ports)


def secgw_conf(sc, port_ids):
    """ipsec-secgw configuration text; port_ids maps role -> port id. Its LPM
    takes no /0 route, hence two /1 halves for the default route."""
    prot, unprot = port_ids["protected"], port_ids["unprotected"]
    lines = ["# ipsec-secgw equivalent of espgw bench scenario %s" % sc.name,
             "neigh port %d %s" % (unprot, NH_MAC), "neigh port %d %s" % (prot, HOST_MAC),
             "rt ipv4 dst 0.0.0.0/1 port %d" % unprot, "rt ipv4 dst 128.0.0.0/1 port %d" % unprot,
             "rt ipv4 dst %s port %d" % (LAN_NET, prot)]
    if sc.transform:
        t = TRANSFORMS[sc.transform]
        lines += [_secgw_sa(sc, t, i) for i in range(sc.n_sa)]
    lines += [_secgw_sp(sc, i) for i in range(sc.n_sa)]
    # It refuses an unprotected port without an inbound SA, so each direction
    # gets an SA, one that no packet matches;
    # and every SA needs a policy: the idle ones protect TEST-NET-1 (RFC 5737).
    for d in ("in", "out"):
        if sc.dir != d:
            idle = Scenario("idle", d, "gcm128", sc.path, 1)
            lines.append(_secgw_sa(idle, TRANSFORMS["gcm128"], 999))
            lines.append("sp ipv4 %s esp protect %d pri 1 src %s dst %s sport 0:65535 "
                         "dport 0:65535" % (d, sa_spi(d, 999), IDLE_NET, IDLE_NET))
    return "\n".join(lines) + "\n"
