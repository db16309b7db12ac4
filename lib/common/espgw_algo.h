/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP transforms by their config-language names, with the sizes the config
 * checker needs. Pure C: lib/crypto maps these to rte_crypto enums.
 */
#ifndef ESPGW_ALGO_H
#define ESPGW_ALGO_H

#include <stdint.h>

enum espgw_algo_kind {
	ESPGW_ALGO_KIND_AEAD,	/* "aead NAME": combined mode (RFC 4106, 7634) */
	ESPGW_ALGO_KIND_CIPHER, /* "cipher NAME" */
	ESPGW_ALGO_KIND_AUTH,	/* "auth NAME": integrity (RFC 4868, 2404, 4543) */
};

/* X(id, name, kind, key_len, salt_len, iv_len, icv_len, block, rfc) */
#define ESPGW_ALGO_LIST(X)                                                           \
	X(AES_GCM_128, "aes-gcm-128", AEAD, 16, 4, 8, 16, 4, "RFC 4106")             \
	X(AES_GCM_256, "aes-gcm-256", AEAD, 32, 4, 8, 16, 4, "RFC 4106")             \
	X(CHACHA20_POLY1305, "chacha20-poly1305", AEAD, 32, 4, 8, 16, 4, "RFC 7634") \
	X(AES_CBC_128, "aes-cbc-128", CIPHER, 16, 0, 16, 0, 16, "RFC 3602")          \
	X(AES_CBC_256, "aes-cbc-256", CIPHER, 32, 0, 16, 0, 16, "RFC 3602")          \
	X(AES_CTR_128, "aes-ctr-128", CIPHER, 16, 4, 8, 0, 4, "RFC 3686")            \
	X(AES_CTR_256, "aes-ctr-256", CIPHER, 32, 4, 8, 0, 4, "RFC 3686")            \
	X(NULL_CIPHER, "null", CIPHER, 0, 0, 0, 0, 4, "RFC 2410")                    \
	X(HMAC_SHA1_96, "hmac-sha1-96", AUTH, 20, 0, 0, 12, 0, "RFC 2404")           \
	X(HMAC_SHA256_128, "hmac-sha256-128", AUTH, 32, 0, 0, 16, 0, "RFC 4868")     \
	X(HMAC_SHA384_192, "hmac-sha384-192", AUTH, 48, 0, 0, 24, 0, "RFC 4868")     \
	X(HMAC_SHA512_256, "hmac-sha512-256", AUTH, 64, 0, 0, 32, 0, "RFC 4868")     \
	X(AES_GMAC_128, "aes-gmac-128", AUTH, 16, 4, 8, 16, 4, "RFC 4543")           \
	X(AES_GMAC_256, "aes-gmac-256", AUTH, 32, 4, 8, 16, 4, "RFC 4543")

enum espgw_algo {
	ESPGW_ALGO_NONE = 0,
#define X(id, name, kind, key, salt, iv, icv, block, rfc) ESPGW_ALGO_##id,
	ESPGW_ALGO_LIST(X)
#undef X
			ESPGW_ALGO_MAX
};

struct espgw_algo_info {
	const char *name;
	const char *rfc;
	enum espgw_algo_kind kind;
	uint8_t key_len;  /* bytes, without salt */
	uint8_t salt_len; /* bytes of nonce/salt configured separately */
	uint8_t iv_len;	  /* bytes of IV on the wire */
	uint8_t icv_len;  /* bytes of ICV on the wire (0 for ciphers) */
	uint8_t block;	  /* ESP payload alignment (RFC 4303 2.4) */
};

/* NULL for ESPGW_ALGO_NONE or out of range. */
const struct espgw_algo_info *espgw_algo_info(enum espgw_algo a);
/* ESPGW_ALGO_NONE when the name is unknown or of another kind. */
enum espgw_algo espgw_algo_lookup(const char *name, enum espgw_algo_kind kind);
const char *espgw_algo_name(enum espgw_algo a);

#endif
