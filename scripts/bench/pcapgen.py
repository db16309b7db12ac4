# SPDX-License-Identifier: BSD-3-Clause
"""Input pcaps for the benchmark, built with scapy.

Every pcap has the same number of frames (N_FRAMES), whatever the SA count, so
that 1 SA and 1,000 SAs differ only in the SA count: the source (net_pcap with
infinite_rx) copies the same amount of data from the same footprint. Frame k
belongs to SA order[k % n_sa] (a fixed shuffle: consecutive frames hit
different SAs, as with many interleaved flows) and has its own UDP source
port. An IMIX pcap repeats a fixed 12-frame pattern holding 7 x 64 B, 4 x 570 B
and 1 x 1518 B frames.

Outbound and bypass frames are plain UDP from the LAN host to the remote
networks. Inbound frames are the same traffic coming back, encrypted by the
peer (scapy SecurityAssociation) with per-SA sequence numbers 1, 2, ...; the
replayed pcap repeats them, so the inbound SAs run with the replay window off.
"""

import random
import struct

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import AH, ESP, SecurityAssociation
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import scenarios as S

N_FRAMES = 1200  # a multiple of 12 (IMIX) and more than the largest SA count
IMIX_PATTERN = (64, 570, 64, 64, 1518, 64, 570, 64, 64, 570, 64, 570)


def frame_sizes(size, n=N_FRAMES):
    if size == "imix":
        return [IMIX_PATTERN[k % len(IMIX_PATTERN)] for k in range(n)]
    return [int(size)] * n


def sa_order(n_sa, seed=5):
    order = list(range(n_sa))
    random.Random(seed).shuffle(order)
    return order


def inner_packet(i, k, frame, outbound, transport=False):
    """IPv4/UDP packet number k of SA i, sized for a frame of `frame` bytes;
    transport: between the LAN host and the peer itself (a bump in the wire)."""
    far = S.PEER if transport else S.remote_host(i, k)
    src, dst = (S.HOST, far) if outbound else (far, S.HOST)
    pad = S.inner_len(frame) - 28
    pkt = IP(src=src, dst=dst, ttl=64, id=k & 0xffff) / UDP(sport=1024 + k, dport=5001)
    return pkt / Raw(bytes(k & 0xff for _ in range(pad)))


def plain_frames(n_sa, size, n=N_FRAMES, transport=False):
    """Frames from the LAN host into the protected port (outbound, bypass)."""
    order, out = sa_order(n_sa), []
    for k, f in enumerate(frame_sizes(size, n)):
        pkt = Ether(dst=S.LAN_MAC, src=S.HOST_MAC) / inner_packet(
            order[k % n_sa], k, f, True, transport)
        out.append(bytes(pkt))
    return out


def peer_sa(t, i, encap=False, transport=False):
    """The peer's outbound SA matching espgw's inbound SA i (in UDP 4500 with
    encap; without a tunnel header in transport mode; AH for an AH transform)."""
    k, s, a = S.sa_keys(t, "in", i)
    kw = {} if transport else dict(tunnel_header=IP(src=S.PEER, dst=S.WAN_IP, ttl=64))
    if t.scapy_crypt:
        kw.update(crypt_algo=t.scapy_crypt, crypt_key=k + s)
    if encap:
        kw["nat_t_header"] = UDP(sport=4500, dport=4500)
    if t.scapy_auth:
        kw.update(auth_algo=t.scapy_auth, auth_key=a)
    return SecurityAssociation(AH if t.ah_len else ESP, spi=S.sa_spi("in", i), **kw)


def udp_fix(pkt):
    """scapy's NAT-T leaves the UDP length at 8 (TESTING.md): the real one."""
    pkt[UDP].len = len(pkt[UDP])
    pkt[IP].len, pkt[IP].chksum, pkt[UDP].chksum = None, None, 0
    return IP(bytes(pkt))


def esp_frames(t, n_sa, size, n=N_FRAMES, encap=False, transport=False):
    """ESP (AH) frames from the next hop into the unprotected port (inbound)."""
    order, sas, seq, out = sa_order(n_sa), {}, {}, []
    for k, f in enumerate(frame_sizes(size, n)):
        i = order[k % n_sa]
        if i not in sas:
            sas[i] = peer_sa(t, i, encap, transport)
        seq[i] = seq.get(i, 0) + 1
        esp = sas[i].encrypt(inner_packet(i, k, f, False, transport), seq_num=seq[i])
        if encap:
            esp = udp_fix(esp)
        out.append(bytes(Ether(dst=S.WAN_MAC, src=S.NH_MAC) / esp))
    return out


def write_pcap(path, frames):
    """Classic pcap, microsecond timestamps, Ethernet link type."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for k, b in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, k, len(b), len(b)))
            f.write(b)


def read_pcap(path):
    """Frames of a classic little-endian pcap (the ones write_pcap makes)."""
    with open(path, "rb") as f:
        data = f.read()
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def pcap_for(sc, size, directory, cache):
    """Path of the input pcap of scenario sc at size, generated once per run."""
    tail = ("-natt" if sc.encap else "") + ("-trs" if sc.transport else "")
    if sc.dir == "in":
        key = "in-%s-%d-%s%s" % (sc.transform, sc.n_sa, size, tail)
    else:
        key = "plain-%d-%s%s" % (sc.n_sa, size, tail)
    if key not in cache:
        path = "%s/%s.pcap" % (directory, key)
        if sc.dir == "in":
            frames = esp_frames(S.TRANSFORMS[sc.transform], sc.n_sa, size, encap=sc.encap,
                                transport=sc.transport)
        else:
            frames = plain_frames(sc.n_sa, size, transport=sc.transport)
        write_pcap(path, frames)
        cache[key] = path
    return cache[key]
