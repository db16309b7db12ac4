# SPDX-License-Identifier: BSD-3-Clause
"""The judges judged: espcodec (our python3-cryptography ESP) against scapy and
tshark wherever they overlap, in both directions, and each oracle shown able to
reject a corrupted packet. Needs no espgw: if these fail, the other pkt tests
mean nothing."""

import copy
import hmac
import struct

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP, IPSecIntegrityError

import espcodec
import harness
from espcodec import EspSA, IcvError

SCAPY_SUITES = [s for s in espcodec.ALL_SUITES if not s.startswith("aes-gmac")]
TSHARK_SUITES = [s for s in SCAPY_SUITES if not s.startswith("chacha")]


def tunnel(suite, inner, outer, esn=False):
    return harness.Tunnel(7, suite, inner=inner, outer=outer, esn=esn)


def sizes(t):
    return [n for n in (0, 1, 2, 3, 13, 14, 15, 16, 17, 100, 1000) if t.fits(48 + n)]


@pytest.mark.parametrize("suite", SCAPY_SUITES)
@pytest.mark.parametrize("fam", [(4, 4), (6, 6), (4, 6), (6, 4)], ids=str)
def test_scapy_encrypts_codec_opens(suite, fam):
    t = tunnel(suite, *fam)
    for seq, n in enumerate(sizes(t), 1):
        inner = t.wan_pkt("udp", n)
        fr = t.encap(inner, seq, oracle="scapy")
        l3 = bytes(fr)[14:]
        esp = l3[20:] if fam[1] == 4 else l3[40:]
        op = t.in_sa.open(esp)
        assert op.payload == bytes(inner) and op.seq == seq
        assert op.padding == bytes(range(1, len(op.padding) + 1))
        assert (len(op.payload) + len(op.padding) + 2) % t.in_sa.align == 0


@pytest.mark.parametrize("suite", SCAPY_SUITES)
@pytest.mark.parametrize("fam", [(4, 4), (6, 6), (4, 6), (6, 4)], ids=str)
def test_codec_seals_scapy_decrypts(suite, fam):
    t = tunnel(suite, *fam)
    s = t.in_sa.scapy_sa(tunnel_header=t.outer_hdr())
    for seq, n in enumerate(sizes(t), 1):
        inner = t.wan_pkt("tcp", n)
        fr = t.encap(inner, seq, oracle="codec")
        pkt = fr.payload
        dec = s.decrypt(copy.deepcopy(pkt))
        assert bytes(dec) == bytes(inner)


@pytest.mark.parametrize("suite", ["aes-gcm-128", "aes-gcm-256", "chacha20-poly1305"])
def test_esn_aead_matches_scapy(suite):
    t = tunnel(suite, 4, 4, esn=True)
    for seq in (0xfffffffe, 0xffffffff, 1 << 32, (1 << 32) + 1, (5 << 32) + 9):
        inner = t.wan_pkt("udp", 33)
        a = bytes(t.encap(inner, seq, oracle="scapy"))[34:]
        op = t.in_sa.open(a, seq_hi=seq >> 32)
        assert op.payload == bytes(inner)
        with pytest.raises(IcvError):  # the high half really is in the AAD
            t.in_sa.open(a, seq_hi=(seq >> 32) + 1)


def test_esn_hmac_icv_covers_seq_hi():
    """RFC 4303 2.2.1: ICV over SPI..next header followed by seq_hi. Checked
    with scapy's own HMAC over the bytes laid out by hand."""
    sa = EspSA(0x77, "aes-cbc-128+hmac-sha256-128", esn=True)
    seq = (3 << 32) | 5
    esp = sa.seal(b"\x45" + bytes(39), 4, seq, iv=bytes(range(16)))
    icv = esp[-16:]
    s = sa.scapy_sa()
    probe = ESP(spi=sa.spi, seq=5, data=esp[8:-16] + struct.pack("!I", 3))
    s.auth_algo.sign(probe, sa.auth_key)  # scapy appends the ICV to data
    assert bytes(probe)[-16:] == icv
    assert hmac.new(sa.auth_key, esp[:-16], "sha256").digest()[:16] != icv


@pytest.mark.parametrize("suite", TSHARK_SUITES)
def test_tshark_judges_codec(suite):
    frames, uats, want = [], [], []
    for fam in ((4, 4), (6, 6), (4, 6), (6, 4)):
        t = tunnel(suite, *fam)
        for seq in (1, 2):
            fr = bytearray(bytes(t.encap(t.wan_pkt("icmp", 40), seq, oracle="codec")))
            if seq == 2:
                fr[-1] ^= 0x10  # last ICV byte
            frames.append(bytes(fr))
            want.append((t.in_sa.spi, seq, seq == 1))
        uats += t.uats()
    assert harness.tshark_icv(frames, uats) == want


def test_tshark_unchecked_is_failure():
    t = tunnel("aes-gcm-128", 4, 4)
    fr = bytes(t.encap(t.wan_pkt(), 1))
    with pytest.raises(AssertionError, match="did not check"):
        harness.tshark_icv([fr], ['"IPv4","*","*","0x00000001","NULL","","NULL",""'])


@pytest.mark.parametrize("suite", espcodec.ALL_SUITES)
def test_codec_rejects_flipped_bits(suite):
    sa = EspSA(0x99, suite)
    esp = sa.seal(bytes(IP(src="1.2.3.4", dst="5.6.7.8") / b"abcdefgh"), 4, 9)
    for pos in (4, 7, 8 + sa.iv_len, len(esp) - sa.icv_len - 1, len(esp) - 1):
        b = bytearray(esp)
        b[pos] ^= 1
        with pytest.raises(IcvError):
            sa.open(bytes(b))
    if sa.scapy_ok():
        pkt = IP(bytes(IP(src="5.6.7.8", dst="1.2.3.4", proto=50) / esp))
        b = bytearray(bytes(pkt))
        b[-sa.icv_len - 2] ^= 1
        with pytest.raises(IPSecIntegrityError):
            sa.scapy_sa(tunnel_header=IP()).decrypt(IP(bytes(b)))


def test_gmac_is_integrity_only():
    """RFC 4543: the payload travels in clear; the tag covers it."""
    sa = EspSA(0x55, "aes-gmac-128")
    inner = bytes(IPv6(src="::1", dst="::2") / b"visible payload")
    esp = sa.seal(inner, 41, 1)
    assert esp[16:16 + len(inner)] == inner
    assert sa.open(esp).payload == inner


def test_pcap_roundtrip(tmp_path):
    frames = [bytes(range(60)), bytes(1514), b"\x01" * 61]
    p = str(tmp_path / "x.pcap")
    harness.write_pcap(p, frames)
    assert harness.read_pcap(p) == frames
    with open(p, "r+b") as f:
        f.truncate(24 + 16 + 60 + 16 + 100)
    with pytest.raises(AssertionError, match="cut short"):
        harness.read_pcap(p)
