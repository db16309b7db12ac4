# SPDX-License-Identifier: BSD-3-Clause
"""Security review of eeff443 (no two SAs under one key): the key check of the
store (lib/ctl/store_sa.c key_clash / espgw_store_sa_same_key) counts the
HMAC auth-key as part of an AES-CTR SA's key material, and does not compare a
GCM key with a CTR key of the same length. Two outbound SAs then encrypt with
one AES-CTR keystream on the wire (tests/unit/test_key_attack.c is the same
on the store alone).

test_ctr_same_cipher_key_other_hmac_key: o70 and o71 have one AES-CTR-128
key and salt, only their HMAC keys differ. espgw starts with both; one packet
through each goes out with IV = 1 (the sequence number) under the same
counter blocks: XOR of the two ciphertexts is XOR of the two plaintexts.

test_gcm_and_ctr_same_key: o72 (AES-GCM-128) and o73 (AES-CTR-128 + HMAC),
one key and salt: GCM block j uses counter j + 2, CTR block j counter j + 1.

Fixed: with a salt the cipher or AEAD key and the salt alone are compared
(espgw_store_sa_same_key), whatever the transform and the HMAC key. espgw
now refuses both configurations; if one ever starts again, the frames are
checked for the shared keystream as before.
"""


import harness
from espcodec import EspSA
from harness import Tunnel

KEY = bytes(range(0x40, 0x50))
SALT = b"\xa0\xa1\xa2\xa3"


def tunnel(slot, suite, auth_key=None):
    t = Tunnel(slot, suite, 4, 4)
    t.out_sa = EspSA(t.out_sa.spi, suite, key=KEY, salt=SALT, auth_key=auth_key)
    return t


def body(frame, tun):
    """The ESP ciphertext after the IV, without the ICV, of an outbound frame."""
    d = harness.Decap(frame, tun)
    esp = harness.esp_of(frame)
    ct = esp[8 + tun.out_sa.iv_len:len(esp) - tun.out_sa.icv_len]
    pt = d.esp.payload + d.esp.padding + bytes([len(d.esp.padding), d.esp.nh])
    return d.seq, d.iv, ct, pt


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def run(a, b):
    conf = harness.base_conf() + a.conf() + b.conf()
    pa = a.lan_pkt(size=200)
    pb = b.lan_pkt(size=200)
    try:
        r = harness.run(conf, lan=[harness.lan_frame(pa), harness.lan_frame(pb)])
    except harness.GatewayError as e:
        assert "SA %s: its key is SA %s's" % (b.out_name, a.out_name) in str(e), e
        return None
    return body_pair(r, a, b)


def body_pair(r, a, b):
    by_spi, clear = harness.split_esp(r.out["wan0"])
    assert not clear, "clear frames on the WAN"
    return body(by_spi[a.out_sa.spi][0], a), body(by_spi[b.out_sa.spi][0], b)


def test_ctr_same_cipher_key_other_hmac_key():
    a = tunnel(70, "aes-ctr-128+hmac-sha256-128", auth_key=b"\x01" * 32)
    b = tunnel(71, "aes-ctr-128+hmac-sha256-128", auth_key=b"\x02" * 32)
    got = run(a, b)
    if got is None:
        return  # refused at start
    (sa_, iva, cta, pta), (sb, ivb, ctb, ptb) = got
    n = min(len(cta), len(ctb))
    same = xor(cta[:n], ctb[:n]) == xor(pta[:n], ptb[:n])
    assert not same, ("o70 and o71 sent seq %d / %d, IV %s / %s under one AES-CTR keystream: "
                      "ct70 ^ ct71 == pt70 ^ pt71 over %d bytes" % (
                          sa_, sb, iva.hex(), ivb.hex(), n))


def test_gcm_and_ctr_same_key():
    a = tunnel(72, "aes-gcm-128")
    b = tunnel(73, "aes-ctr-128+hmac-sha256-128", auth_key=b"\x01" * 32)
    got = run(a, b)
    if got is None:
        return  # refused at start
    (sa_, iva, cta, pta), (sb, ivb, ctb, ptb) = got
    # GCM block j = CTR block j + 1 (same IV): skip CTR's first 16 bytes.
    n = min(len(cta), len(ctb) - 16)
    same = xor(cta[:n], ctb[16:16 + n]) == xor(pta[:n], ptb[16:16 + n])
    assert not same, ("o72 (GCM) and o73 (CTR) sent seq %d / %d, IV %s / %s under one "
                      "keystream: GCM block j == CTR block j+1 over %d bytes" % (
                          sa_, sb, iva.hex(), ivb.hex(), n))
