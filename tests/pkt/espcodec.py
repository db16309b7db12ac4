# SPDX-License-Identifier: BSD-3-Clause
"""ESP (RFC 4303) built and opened with python3-cryptography, for what the
independent oracles cannot do: AES-GMAC (RFC 4543, which neither scapy 2.5 nor
tshark 4.0 knows), HMAC with extended sequence numbers (scapy leaves seq_hi out
of the ICV), padding checks (scapy checks none) and malformed packets (wrong
padding or next header under a valid ICV). test_oracle.py checks this codec
against scapy and tshark wherever they overlap, so the tests can trust it.

Also: the algorithm table (config names -> sizes, scapy names, tshark names)
and per-SA key material derived from the SPI so every run is reproducible."""

import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.exceptions import InvalidTag

GCM16 = "AES-GCM with 16 octet ICV [RFC4106]"

# Encryption side ("aead NAME" or "cipher NAME"): key and salt bytes, IV and ICV
# bytes on the wire, ESP payload alignment (RFC 4303 2.4: at least 4).
ENC = {
    "aes-gcm-128": dict(kind="aead", key=16, salt=4, iv=8, icv=16, align=4,
                        scapy="AES-GCM", tshark=GCM16),
    "aes-gcm-256": dict(kind="aead", key=32, salt=4, iv=8, icv=16, align=4,
                        scapy="AES-GCM", tshark=GCM16),
    "chacha20-poly1305": dict(kind="aead", key=32, salt=4, iv=8, icv=16, align=4,
                              scapy="CHACHA20-POLY1305", tshark=None),
    "aes-cbc-128": dict(kind="cipher", key=16, salt=0, iv=16, icv=0, align=16,
                        scapy="AES-CBC", tshark="AES-CBC [RFC3602]"),
    "aes-cbc-256": dict(kind="cipher", key=32, salt=0, iv=16, icv=0, align=16,
                        scapy="AES-CBC", tshark="AES-CBC [RFC3602]"),
    "aes-ctr-128": dict(kind="cipher", key=16, salt=4, iv=8, icv=0, align=4,
                        scapy="AES-CTR", tshark="AES-CTR [RFC3686]"),
    "aes-ctr-256": dict(kind="cipher", key=32, salt=4, iv=8, icv=0, align=4,
                        scapy="AES-CTR", tshark="AES-CTR [RFC3686]"),
    "null": dict(kind="cipher", key=0, salt=0, iv=0, icv=0, align=4,
                 scapy="NULL", tshark="NULL"),
}

# Integrity side ("auth NAME").
AUTH = {
    "hmac-sha1-96": dict(kind="hmac", key=20, icv=12, hash="sha1",
                         scapy="HMAC-SHA1-96", tshark="HMAC-SHA-1-96 [RFC2404]"),
    "hmac-sha256-128": dict(kind="hmac", key=32, icv=16, hash="sha256",
                            scapy="SHA2-256-128", tshark="HMAC-SHA-256-128 [RFC4868]"),
    "hmac-sha384-192": dict(kind="hmac", key=48, icv=24, hash="sha384",
                            scapy="SHA2-384-192", tshark="HMAC-SHA-384-192 [RFC4868]"),
    "hmac-sha512-256": dict(kind="hmac", key=64, icv=32, hash="sha512",
                            scapy="SHA2-512-256", tshark="HMAC-SHA-512-256 [RFC4868]"),
    "aes-gmac-128": dict(kind="gmac", key=16, salt=4, iv=8, icv=16, align=4,
                         scapy=None, tshark=None),
    "aes-gmac-256": dict(kind="gmac", key=32, salt=4, iv=8, icv=16, align=4,
                         scapy=None, tshark=None),
}

# Suites by a short name: "aes-gcm-128", "aes-cbc-128+hmac-sha256-128", "aes-gmac-128".
AEADS = ["aes-gcm-128", "aes-gcm-256", "chacha20-poly1305"]
CIPHERS = ["aes-cbc-128", "aes-cbc-256", "aes-ctr-128", "aes-ctr-256", "null"]
HMACS = ["hmac-sha1-96", "hmac-sha256-128", "hmac-sha384-192", "hmac-sha512-256"]
GMACS = ["aes-gmac-128", "aes-gmac-256"]
ALL_SUITES = AEADS + ["%s+%s" % (c, a) for c in CIPHERS for a in HMACS] + GMACS

NH_IPV4 = 4
NH_IPV6 = 41


class IcvError(Exception):
    """The ICV (or AEAD tag) did not verify."""


def split_suite(suite):
    """(enc, auth): enc None for GMAC, auth None for AEAD."""
    if "+" in suite:
        enc, auth = suite.split("+")
        return enc, auth
    if suite in AUTH:
        return None, suite
    return suite, None


def derive(tag, spi, n):
    """n reproducible key bytes for (tag, spi)."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s-%x-%d" % (tag.encode(), spi, i)).digest()
        i += 1
    return out[:n]


class Opened:
    """A parsed, verified ESP packet (RFC 4303 2)."""

    def __init__(self, spi, seq, iv, payload, padding, nh, icv):
        self.spi, self.seq, self.iv = spi, seq, iv
        self.payload, self.padding, self.nh, self.icv = payload, padding, nh, icv


class EspSA:
    """Key material and transforms of one SA, independent of direction."""

    def __init__(self, spi, suite, esn=False, key=None, salt=None, auth_key=None):
        self.spi, self.suite, self.esn = spi, suite, esn
        self.enc_name, self.auth_name = split_suite(suite)
        self.enc = ENC[self.enc_name] if self.enc_name else None
        self.auth = AUTH[self.auth_name] if self.auth_name else None
        main = self.enc if self.enc else self.auth
        self.key = key if key is not None else derive("key", spi, main["key"])
        self.salt = salt if salt is not None else derive("salt", spi, main.get("salt", 0))
        akey = self.auth["key"] if self.auth and self.auth["kind"] == "hmac" else 0
        self.auth_key = auth_key if auth_key is not None else derive("auth", spi, akey)

    # ---- sizes
    @property
    def kind(self):
        if self.enc is None:
            return "gmac"
        return self.enc["kind"]

    @property
    def iv_len(self):
        return self.auth["iv"] if self.kind == "gmac" else self.enc["iv"]

    @property
    def icv_len(self):
        if self.kind == "aead":
            return self.enc["icv"]
        return self.auth["icv"]

    @property
    def align(self):
        return self.auth["align"] if self.kind == "gmac" else self.enc["align"]

    def overhead(self, inner_len):
        """ESP bytes (header to ICV) around an inner packet of inner_len, minimal padding."""
        pad = (-(inner_len + 2)) % self.align
        return 8 + self.iv_len + inner_len + pad + 2 + self.icv_len

    # ---- configuration text
    def conf_algo(self):
        """The algorithm part of an "sa add" command."""
        h = lambda b: "0x" + b.hex()
        if self.kind == "aead":
            return "aead %s key %s salt %s" % (self.enc_name, h(self.key), h(self.salt))
        if self.kind == "gmac":
            return "auth %s key %s salt %s" % (self.auth_name, h(self.key), h(self.salt))
        s = "cipher %s" % self.enc_name
        if self.enc["key"]:
            s += " key %s" % h(self.key)
        if self.enc["salt"]:
            s += " salt %s" % h(self.salt)
        return s + " auth %s auth-key %s" % (self.auth_name, h(self.auth_key))

    # ---- the transforms
    def _aad(self, seq):
        if self.esn:
            return struct.pack("!III", self.spi, seq >> 32, seq & 0xffffffff)
        return struct.pack("!II", self.spi, seq & 0xffffffff)

    def _hmac(self, data, seq):
        # RFC 4303 2.2.1 / 3.3.2.1: with ESN the high 32 bits follow the
        # payload in the ICV computation, without being transmitted.
        if self.esn:
            data += struct.pack("!I", seq >> 32)
        d = hmac.new(self.auth_key, data, self.auth["hash"]).digest()
        return d[:self.auth["icv"]]

    def _ctr(self, iv):
        # RFC 3686 4: nonce || IV || block counter starting at 1.
        return Cipher(algorithms.AES(self.key), modes.CTR(self.salt + iv + b"\0\0\0\1"))

    def _encrypt(self, hdr, iv, pt, seq):
        """ciphertext || ICV for plaintext pt (payload, padding, pad length, next header)."""
        k = self.kind
        if k == "aead":
            c = AESGCM(self.key) if self.enc_name.startswith("aes") else ChaCha20Poly1305(
                self.key)
            return c.encrypt(self.salt + iv, pt, self._aad(seq))
        if k == "gmac":
            # RFC 4543 3.5: GMAC over SPI, sequence, IV and the clear payload.
            return pt + AESGCM(self.key).encrypt(self.salt + iv, b"", self._aad(seq) + iv + pt)
        if self.enc_name.startswith("aes-cbc"):
            e = Cipher(algorithms.AES(self.key), modes.CBC(iv)).encryptor()
            ct = e.update(pt) + e.finalize()
        elif self.enc_name.startswith("aes-ctr"):
            e = self._ctr(iv).encryptor()
            ct = e.update(pt) + e.finalize()
        else:
            ct = pt
        return ct + self._hmac(hdr + iv + ct, seq)

    def _decrypt(self, hdr, iv, body, icv, seq):
        k = self.kind
        try:
            if k == "aead":
                c = AESGCM(self.key) if self.enc_name.startswith("aes") else ChaCha20Poly1305(
                    self.key)
                return c.decrypt(self.salt + iv, body + icv, self._aad(seq))
            if k == "gmac":
                AESGCM(self.key).decrypt(self.salt + iv, icv, self._aad(seq) + iv + body)
                return body
        except InvalidTag as e:
            raise IcvError("SPI 0x%x seq %d: tag mismatch" % (self.spi, seq)) from e
        if not hmac.compare_digest(self._hmac(hdr + iv + body, seq), icv):
            raise IcvError("SPI 0x%x seq %d: HMAC mismatch" % (self.spi, seq))
        if self.enc_name.startswith("aes-cbc"):
            d = Cipher(algorithms.AES(self.key), modes.CBC(iv)).decryptor()
            return d.update(body) + d.finalize()
        if self.enc_name.startswith("aes-ctr"):
            d = self._ctr(iv).decryptor()
            return d.update(body) + d.finalize()
        return body

    def seal(self, payload, nh, seq, iv=None, padding=None, spi=None, pad_len=None):
        """ESP bytes (SPI .. ICV) carrying payload. seq is the full 64-bit number
        (its low 32 bits go on the wire). padding overrides the RFC 4303 2.4
        default (1, 2, 3, ...) and pad_len the Pad Length byte, so tests can build
        wrong trailers under a valid ICV."""
        if iv is None:
            iv = os.urandom(self.iv_len)
        assert len(iv) == self.iv_len
        if padding is None:
            n = (-(len(payload) + 2)) % self.align
            padding = bytes(range(1, n + 1))
        pl = len(padding) if pad_len is None else pad_len
        pt = payload + padding + bytes([pl, nh])
        hdr = struct.pack("!II", self.spi if spi is None else spi, seq & 0xffffffff)
        return hdr + iv + self._encrypt(hdr, iv, pt, seq)

    def sign_raw(self, seq, iv, body):
        """SPI | seq | iv | body | HMAC ICV over them, body taken as is (no
        encryption, no trailer): for malformed packets with a valid ICV."""
        assert self.kind == "cipher"
        hdr = struct.pack("!II", self.spi, seq & 0xffffffff)
        return hdr + iv + body + self._hmac(hdr + iv + body, seq)

    def open(self, esp, seq_hi=0):
        """Verify and decrypt ESP bytes; the ICV is checked first. seq_hi: the
        high 32 bits assumed for an ESN SA. Raises IcvError or ValueError."""
        n_min = 8 + self.iv_len + self.icv_len
        if len(esp) < n_min + 2:
            raise ValueError("ESP of %d bytes, shorter than %d" % (len(esp), n_min + 2))
        spi, lo = struct.unpack("!II", esp[:8])
        seq = (seq_hi << 32) | lo if self.esn else lo
        hdr, iv = esp[:8], esp[8:8 + self.iv_len]
        body = esp[8 + self.iv_len:len(esp) - self.icv_len]
        icv = esp[len(esp) - self.icv_len:]
        pt = self._decrypt(hdr, iv, body, icv, seq)
        padlen, nh = pt[-2], pt[-1]
        if padlen + 2 > len(pt):
            raise ValueError("pad length %d exceeds the payload" % padlen)
        end = len(pt) - 2 - padlen
        return Opened(spi, seq, iv, pt[:end], pt[end:-2], nh, icv)

    # ---- the independent oracles
    def scapy_sa(self, tunnel_header=None):
        """scapy SecurityAssociation, or None where scapy cannot (GMAC).
        Its ESN is right for AEADs only: callers must not use it for HMAC+ESN."""
        from scapy.layers.ipsec import SecurityAssociation, ESP
        if self.kind == "gmac":
            return None
        kw = dict(spi=self.spi, crypt_algo=self.enc["scapy"], tunnel_header=tunnel_header,
                  esn_en=self.esn)
        # scapy takes the salt (GCM, ChaCha) or CTR nonce as the key's last 4 bytes.
        kw["crypt_key"] = (self.key + self.salt) if self.enc["key"] else None
        if self.kind == "cipher":
            kw["auth_algo"] = self.auth["scapy"]
            kw["auth_key"] = self.auth_key
        return SecurityAssociation(ESP, **kw)

    def scapy_ok(self):
        """True when scapy computes this SA's packets right."""
        return self.kind != "gmac" and not (self.esn and self.kind == "cipher")

    def tshark_uat(self, family, src, dst):
        """One esp_sa UAT record for tshark, or None where tshark 4.0 cannot check."""
        if self.esn or self.kind == "gmac" or self.enc["tshark"] is None:
            return None
        if self.kind == "aead":
            enc, ekey, auth, akey = self.enc["tshark"], self.key + self.salt, "NULL", b""
        else:
            enc, auth = self.enc["tshark"], self.auth["tshark"]
            ekey, akey = self.key + self.salt, self.auth_key
        fam = "IPv4" if family == 4 else "IPv6"
        hx = lambda b: ("0x" + b.hex()) if b else ""
        return '"%s","%s","%s","0x%08x","%s","%s","%s","%s"' % (
            fam, src, dst, self.spi, enc, hx(ekey), auth, hx(akey))
