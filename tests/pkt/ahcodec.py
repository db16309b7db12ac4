# SPDX-License-Identifier: BSD-3-Clause
"""An independent Authentication Header codec (RFC 4302) for the packet tests,
on python3-cryptography: the judge of espgw's AH where scapy cannot be (AES-GMAC,
RFC 4543 5; ESN, RFC 4302 2.5.1), and a second judge where it can.

ICV input (RFC 4302 3.3.3): the IP header with its mutable fields zeroed
(IPv4: TOS, flags + fragment offset, TTL, checksum and every mutable option
whole, 3.3.3.1.1; IPv6: traffic class, flow label, hop limit and the data of
every option whose "may change" bit is set, 3.3.3.1.2), the AH header with
the ICV field zeroed, the payload, and with ESN the high 32 sequence bits
appended (2.5.1, for the ICV only). AES-GMAC (RFC 4543 5): an 8-byte IV leads
the Authentication Data, is part of the authenticated data (not zeroed), and
the nonce is salt || IV.
"""

import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

AH = 51
ALGOS = {  # name: (hash or None for GMAC, key bytes, ICV bytes)
    "hmac-sha1-96": (hashlib.sha1, 20, 12),
    "hmac-sha256-128": (hashlib.sha256, 32, 16),
    "hmac-sha384-192": (hashlib.sha384, 48, 24),
    "hmac-sha512-256": (hashlib.sha512, 64, 32),
    "aes-gmac-128": (None, 16, 16),
    "aes-gmac-256": (None, 32, 16),
}
SCAPY = {"hmac-sha1-96": "HMAC-SHA1-96", "hmac-sha256-128": "SHA2-256-128",
         "hmac-sha384-192": "SHA2-384-192", "hmac-sha512-256": "SHA2-512-256"}
TSHARK = {"hmac-sha1-96": "HMAC-SHA-1-96 [RFC2404]",
          "hmac-sha256-128": "HMAC-SHA-256-128 [RFC4868]",
          "hmac-sha384-192": "HMAC-SHA-384-192 [RFC4868]",
          "hmac-sha512-256": "HMAC-SHA-512-256 [RFC4868]"}
GMAC_IV = 8
# RFC 4302 Appendix A.1: the IPv4 options that do not change in transit.
V4_IMMUTABLE = {0, 1, 130, 133, 134, 148, 149}
V6_EXT = {0, 43, 44, 60}  # hop-by-hop, routing, fragment, destination options


def key_of(spi, n):
    """Key bytes for an SPI. The top byte of the SPI counts too, so that an
    inbound and an outbound SA (SPIs apart by 0x10000000 and more) never get
    one key (espgw refuses two SAs keyed alike); SPIs below 2^24 keep the
    keys they always had."""
    return bytes((spi * 7 + i * 13 + (spi >> 24) * (i + 1)) & 0xff for i in range(n))


class AhSA:
    def __init__(self, spi, algo, esn=False):
        self.spi, self.algo, self.esn = spi, algo, esn
        self.hash, klen, self.icv_len = ALGOS[algo]
        self.key = key_of(spi, klen)
        self.salt = key_of(spi + 1, 4) if self.gmac else b""
        self.iv_len = GMAC_IV if self.gmac else 0

    @property
    def gmac(self):
        return self.hash is None

    def conf_algo(self):
        if self.gmac:
            return "proto ah auth %s key 0x%s salt 0x%s" % (self.algo, self.key.hex(),
                                                            self.salt.hex())
        return "proto ah auth %s auth-key 0x%s" % (self.algo, self.key.hex())

    def ah_len(self, fam):
        """Bytes of the AH header: 12 fixed, IV, ICV, padded to 4 (IPv4) or 8 (IPv6)
        bytes (RFC 4302 2.6, 3.3.3.2.1)."""
        n = 12 + self.iv_len + self.icv_len
        a = 4 if fam == 4 else 8
        return (n + a - 1) // a * a

    def scapy_sa(self, tunnel_header=None):
        from scapy.layers.ipsec import AH as SAH, SecurityAssociation
        return SecurityAssociation(SAH, spi=self.spi, auth_algo=SCAPY[self.algo],
                                   auth_key=self.key, tunnel_header=tunnel_header)

    def tshark_uat(self, fam, src, dst):
        return '"%s","%s","%s","0x%08x","NULL","","%s","0x%s"' % (
            "IPv4" if fam == 4 else "IPv6", src, dst, self.spi,
            TSHARK.get(self.algo, "NULL"), self.key.hex())

    def mac(self, data, iv):
        if self.gmac:
            return AESGCM(self.key).encrypt(self.salt + iv, b"", data)
        return hmac.new(self.key, data, self.hash).digest()[:self.icv_len]


def zero_v4(hdr):
    """RFC 4302 3.3.3.1.1: IPv4 header with TOS, flags/offset, TTL, checksum and
    the mutable options (each one whole, 3.3.3.1.1.2) zeroed."""
    b = bytearray(hdr)
    b[1] = 0
    b[6:10] = bytes([0, 0, 0, b[9]])
    b[10:12] = b"\0\0"
    i, end = 20, (b[0] & 0xf) * 4
    while i < end:
        t = b[i]
        if t == 0:
            break
        if t == 1:
            i += 1
            continue
        ln = b[i + 1]
        if t not in V4_IMMUTABLE:
            b[i:i + ln] = bytes(ln)
        i += ln
    return bytes(b)


def zero_v6_opts(ext):
    """Hop-by-hop / destination options: data of the options with the "may
    change" bit (0x20) zeroed (RFC 4302 3.3.3.1.2.1, RFC 8200 4.2)."""
    b = bytearray(ext)
    i = 2
    while i < len(b):
        t = b[i]
        if t == 0:
            i += 1
            continue
        ln = b[i + 1]
        if t & 0x20:
            b[i + 2:i + 2 + ln] = bytes(ln)
        i += 2 + ln
    return bytes(b)


def zero_v6(hdr, exts):
    """IPv6 header with version kept, traffic class, flow label, hop limit zeroed;
    its extension headers (list of (type, bytes)) with mutable option data zeroed."""
    b = bytearray(hdr)
    b[0] &= 0xf0
    b[1:4] = b"\0\0\0"
    b[7] = 0
    out = bytes(b)
    for t, e in exts:
        out += zero_v6_opts(e) if t in (0, 60) else e
    return out


def split_v6(l3):
    """(base header, [(type, ext bytes)], offset of the upper part, its next header)."""
    nh, off, exts = l3[6], 40, []
    while nh in V6_EXT:
        ln = 8 if nh == 44 else (l3[off + 1] + 1) * 8
        exts.append((nh, l3[off:off + ln]))
        nh, off = l3[off], off + ln
    return l3[:40], exts, off, nh


def iv_of(seq):
    return struct.pack("!Q", seq)


class Opened:
    def __init__(self, nh, spi, seq, payload, ok, length):
        self.nh, self.spi, self.seq, self.payload, self.ok, self.length = \
            nh, spi, seq, payload, ok, length


def icv_input(sa, fam, zhdr, ah, payload, seq_hi):
    """What the ICV covers: zeroed header, AH with the ICV zeroed, payload, ESN high."""
    fixed = 12 + sa.iv_len
    zah = ah[:fixed] + bytes(len(ah) - fixed)
    return zhdr + zah + payload + (struct.pack("!I", seq_hi) if sa.esn else b"")


def seal(sa, l3, seq, fam, nh_inner=None, seq_hi=0, iv=None):
    """l3 (bytes of an IP packet) with AH inserted after its header (IPv4) or its
    extension headers (IPv6) in transport mode; for tunnel mode pass the outer
    header followed by the inner packet as l3 with nh_inner set (4 or 41): the
    outer header's protocol becomes AH with next header nh_inner. iv: the
    GMAC IV (the sender's choice, RFC 4543 5), by default the full sequence number."""
    alen = sa.ah_len(fam)
    if fam == 4:
        hl = (l3[0] & 0xf) * 4
        hdr, exts, off, nh = l3[:hl], [], hl, l3[9]
    else:
        hdr, exts, off, nh = split_v6(l3)
    if nh_inner is not None:
        nh = nh_inner
    payload = l3[off:]
    if iv is None:
        iv = iv_of(seq + (seq_hi << 32)) if sa.gmac else b""
    ah = struct.pack("!BBHII", nh, alen // 4 - 2, 0, sa.spi, seq & 0xffffffff) + iv
    ah += bytes(alen - len(ah))
    h = bytearray(hdr)
    if fam == 4:
        h[9] = AH
        h[2:4] = struct.pack("!H", hl + alen + len(payload))
        h[10:12] = b"\0\0"
        s = sum(struct.unpack("!%dH" % (hl // 2), bytes(h)))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        h[10:12] = struct.pack("!H", ~s & 0xffff)
        z = zero_v4(bytes(h))
    else:
        extb = b"".join(e for _, e in exts)
        h[4:6] = struct.pack("!H", len(extb) + alen + len(payload))
        if exts:
            last = bytearray(exts[-1][1])
            last[0] = AH
            exts = exts[:-1] + [(exts[-1][0], bytes(last))]
        else:
            h[6] = AH
        z = zero_v6(bytes(h), exts)
    icv = sa.mac(icv_input(sa, fam, z, ah, payload, seq_hi), iv)
    ah = ah[:12 + sa.iv_len] + icv + ah[12 + sa.iv_len + len(icv):]
    return bytes(h) + b"".join(e for _, e in exts) + ah + payload


def open_(sa, l3, fam, seq_hi=0):
    """Check the AH of l3 (the header that carries it: transport, or a tunnel's
    outer header): Opened with the ICV verdict, AH fields and what follows AH."""
    if fam == 4:
        hl = (l3[0] & 0xf) * 4
        hdr, exts, off, nh = l3[:hl], [], hl, l3[9]
        z = zero_v4(hdr)
    else:
        hdr, exts, off, nh = split_v6(l3)
        z = zero_v6(hdr, exts)
    assert nh == AH, "no AH (next header %d)" % nh
    ln = (l3[off + 1] + 2) * 4
    ah, payload = l3[off:off + ln], l3[off + ln:]
    nxt, _, _, spi, seq = struct.unpack("!BBHII", ah[:12])
    iv = ah[12:12 + sa.iv_len]
    icv = ah[12 + sa.iv_len:12 + sa.iv_len + sa.icv_len]
    want = sa.mac(icv_input(sa, fam, z, ah, payload, seq_hi), iv)
    return Opened(nxt, spi, seq, payload, hmac.compare_digest(icv, want), ln)
