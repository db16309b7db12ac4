/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * enum espgw_algo -> rte_crypto transforms. Sizes follow what rte_ipsec
 * builds per packet: a 12-byte nonce (salt || IV) for GCM, GMAC and
 * ChaCha20-Poly1305, a 16-byte counter block for AES-CTR, an 8-byte AAD
 * (SPI || seq) that grows to 12 with ESN (RFC 4106 5, RFC 7634 2.1).
 */
#include <stdio.h>
#include <string.h>

#include "espgw_crypto_xform.h"
#include "espgw_gcm.h"

#define AEAD_AAD_LEN 8	/* SPI || 32-bit sequence number */
#define ESN_AAD_LEN  4	/* high-order sequence bits */
#define NONCE_LEN    12 /* salt || 8-byte IV */
#define CTR_BLK_LEN  16 /* RFC 3686 4: nonce || IV || counter */

struct algo_map {
	enum rte_crypto_sym_xform_type type;
	int algo;	    /* rte_crypto_{aead,cipher,auth}_algorithm */
	uint16_t xf_iv_len; /* IV length the device is told */
};

static const struct algo_map algo_map[ESPGW_ALGO_MAX] = {
		[ESPGW_ALGO_AES_GCM_128] = {RTE_CRYPTO_SYM_XFORM_AEAD, RTE_CRYPTO_AEAD_AES_GCM,
				NONCE_LEN},
		[ESPGW_ALGO_AES_GCM_256] = {RTE_CRYPTO_SYM_XFORM_AEAD, RTE_CRYPTO_AEAD_AES_GCM,
				NONCE_LEN},
		[ESPGW_ALGO_CHACHA20_POLY1305] = {RTE_CRYPTO_SYM_XFORM_AEAD,
				RTE_CRYPTO_AEAD_CHACHA20_POLY1305, NONCE_LEN},
		[ESPGW_ALGO_AES_CBC_128] = {RTE_CRYPTO_SYM_XFORM_CIPHER, RTE_CRYPTO_CIPHER_AES_CBC,
				16},
		[ESPGW_ALGO_AES_CBC_256] = {RTE_CRYPTO_SYM_XFORM_CIPHER, RTE_CRYPTO_CIPHER_AES_CBC,
				16},
		[ESPGW_ALGO_AES_CTR_128] = {RTE_CRYPTO_SYM_XFORM_CIPHER, RTE_CRYPTO_CIPHER_AES_CTR,
				CTR_BLK_LEN},
		[ESPGW_ALGO_AES_CTR_256] = {RTE_CRYPTO_SYM_XFORM_CIPHER, RTE_CRYPTO_CIPHER_AES_CTR,
				CTR_BLK_LEN},
		[ESPGW_ALGO_NULL_CIPHER] = {RTE_CRYPTO_SYM_XFORM_CIPHER, RTE_CRYPTO_CIPHER_NULL, 0},
		[ESPGW_ALGO_HMAC_SHA1_96] = {RTE_CRYPTO_SYM_XFORM_AUTH, RTE_CRYPTO_AUTH_SHA1_HMAC,
				0},
		[ESPGW_ALGO_HMAC_SHA256_128] = {RTE_CRYPTO_SYM_XFORM_AUTH,
				RTE_CRYPTO_AUTH_SHA256_HMAC, 0},
		[ESPGW_ALGO_HMAC_SHA384_192] = {RTE_CRYPTO_SYM_XFORM_AUTH,
				RTE_CRYPTO_AUTH_SHA384_HMAC, 0},
		[ESPGW_ALGO_HMAC_SHA512_256] = {RTE_CRYPTO_SYM_XFORM_AUTH,
				RTE_CRYPTO_AUTH_SHA512_HMAC, 0},
		[ESPGW_ALGO_AES_GMAC_128] = {RTE_CRYPTO_SYM_XFORM_AUTH, RTE_CRYPTO_AUTH_AES_GMAC,
				NONCE_LEN},
		[ESPGW_ALGO_AES_GMAC_256] = {RTE_CRYPTO_SYM_XFORM_AUTH, RTE_CRYPTO_AUTH_AES_GMAC,
				NONCE_LEN},
};

static int
key_check(const struct espgw_sa_conf *sa, enum espgw_algo a, unsigned int len,
		struct espgw_err *err)
{
	const struct espgw_algo_info *i = espgw_algo_info(a);

	if (len == i->key_len)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "sa %s: %s needs a %u-byte key, got %u", sa->name,
			i->name, i->key_len, len);
	return -1;
}

static const char *
kind_name(enum espgw_algo_kind kind)
{
	static const char *const names[] = {
			[ESPGW_ALGO_KIND_AEAD] = "aead",
			[ESPGW_ALGO_KIND_CIPHER] = "cipher",
			[ESPGW_ALGO_KIND_AUTH] = "auth",
	};

	return names[kind];
}

static int
kind_check(const struct espgw_sa_conf *sa, enum espgw_algo a, enum espgw_algo_kind kind,
		struct espgw_err *err)
{
	const struct espgw_algo_info *i = espgw_algo_info(a);

	if (i != NULL && i->kind == kind)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "sa %s: %s is not usable as %s", sa->name,
			espgw_algo_name(a), kind_name(kind));
	return -1;
}

static void
fill_aead(struct rte_crypto_sym_xform *xf, const struct espgw_sa_conf *sa)
{
	xf->type = RTE_CRYPTO_SYM_XFORM_AEAD;
	xf->aead.algo = algo_map[sa->aead].algo;
	xf->aead.op = sa->dir == ESPGW_DIR_OUT ? RTE_CRYPTO_AEAD_OP_ENCRYPT
					       : RTE_CRYPTO_AEAD_OP_DECRYPT;
	xf->aead.key.data = sa->key;
	xf->aead.key.length = sa->key_len;
	xf->aead.iv.offset = ESPGW_CRYPTO_IV_OFFSET;
	xf->aead.iv.length = algo_map[sa->aead].xf_iv_len;
	xf->aead.digest_length = espgw_algo_info(sa->aead)->icv_len;
	xf->aead.aad_length = AEAD_AAD_LEN + (sa->esn ? ESN_AAD_LEN : 0);
}

/*
 * RFC 3602 3: the AES-CBC IV must be unpredictable. DPDK 22.11 rte_ipsec
 * writes seq || 0 (64-bit sequence number, 64 zero bits) into the IV field
 * and encrypts it as the first CBC block, so the wire IV is
 * E_K(X xor (seq || 0)) with X the device IV, which rte_ipsec never fills for
 * outbound CBC. Point X at the op's block that is always zero: the wire IV is
 * then E_K(seq || 0), the forward cipher applied to a nonce (NIST SP 800-38A
 * Appendix C, first method), unique per packet since a sequence number is
 * never reused under one key (RFC 4303 3.3.3) and unpredictable without the
 * key. Decryption reads the IV from the wire: inbound keeps the IV room.
 */
static uint16_t
cipher_iv_offset(const struct espgw_sa_conf *sa, enum espgw_algo a)
{
	bool cbc = algo_map[a].algo == RTE_CRYPTO_CIPHER_AES_CBC;

	return cbc && sa->dir == ESPGW_DIR_OUT ? ESPGW_CRYPTO_ZERO_IV : ESPGW_CRYPTO_IV_OFFSET;
}

static void
fill_cipher(struct rte_crypto_sym_xform *xf, const struct espgw_sa_conf *sa, enum espgw_algo a)
{
	xf->type = RTE_CRYPTO_SYM_XFORM_CIPHER;
	xf->cipher.algo = algo_map[a].algo;
	xf->cipher.op = sa->dir == ESPGW_DIR_OUT ? RTE_CRYPTO_CIPHER_OP_ENCRYPT
						 : RTE_CRYPTO_CIPHER_OP_DECRYPT;
	xf->cipher.key.data = sa->key;
	xf->cipher.key.length = sa->key_len;
	xf->cipher.iv.offset = cipher_iv_offset(sa, a);
	xf->cipher.iv.length = algo_map[a].xf_iv_len;
}

/* GMAC keys sit in "key" (they are AES keys); HMAC keys in "auth-key". */
static void
auth_key(const struct espgw_sa_conf *sa, const uint8_t **key, unsigned int *len)
{
	bool gmac = algo_map[sa->auth].algo == RTE_CRYPTO_AUTH_AES_GMAC;

	if (gmac && sa->key_len != 0) {
		*key = sa->key;
		*len = sa->key_len;
	} else {
		*key = sa->auth_key;
		*len = sa->auth_key_len;
	}
}

static void
fill_auth(struct rte_crypto_sym_xform *xf, const struct espgw_sa_conf *sa)
{
	const uint8_t *key;
	unsigned int len;

	auth_key(sa, &key, &len);
	xf->type = RTE_CRYPTO_SYM_XFORM_AUTH;
	xf->auth.algo = algo_map[sa->auth].algo;
	xf->auth.op = sa->dir == ESPGW_DIR_OUT ? RTE_CRYPTO_AUTH_OP_GENERATE
					       : RTE_CRYPTO_AUTH_OP_VERIFY;
	xf->auth.key.data = key;
	xf->auth.key.length = len;
	xf->auth.iv.offset = ESPGW_CRYPTO_IV_OFFSET;
	xf->auth.iv.length = algo_map[sa->auth].xf_iv_len;
	xf->auth.digest_length = espgw_algo_info(sa->auth)->icv_len;
}

static int
build_aead(struct espgw_crypto_xforms *x, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	if (sa->cipher != ESPGW_ALGO_NONE || sa->auth != ESPGW_ALGO_NONE) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: aead %s cannot be combined with cipher or auth", sa->name,
				espgw_algo_name(sa->aead));
		return -1;
	}
	if (kind_check(sa, sa->aead, ESPGW_ALGO_KIND_AEAD, err) != 0 ||
			key_check(sa, sa->aead, sa->key_len, err) != 0)
		return -1;
	fill_aead(&x->xf[0], sa);
	x->algo[0] = sa->aead;
	x->n = 1;
	return 0;
}

/* RFC 4543: AES-GMAC protects integrity only; rte_ipsec wants it as a lone auth xform. */
static int
build_gmac(struct espgw_crypto_xforms *x, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	const uint8_t *key;
	unsigned int len;

	if (sa->cipher != ESPGW_ALGO_NONE && sa->cipher != ESPGW_ALGO_NULL_CIPHER) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: %s is integrity-only (RFC 4543), its cipher must be null",
				sa->name, espgw_algo_name(sa->auth));
		return -1;
	}
	auth_key(sa, &key, &len);
	if (key_check(sa, sa->auth, len, err) != 0)
		return -1;
	fill_auth(&x->xf[0], sa);
	x->algo[0] = sa->auth;
	x->n = 1;
	return 0;
}

static int
build_pair(struct espgw_crypto_xforms *x, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	const uint8_t *key;
	unsigned int len;
	unsigned int c = sa->dir == ESPGW_DIR_OUT ? 0 : 1; /* rte_ipsec's order */

	if (kind_check(sa, sa->cipher, ESPGW_ALGO_KIND_CIPHER, err) != 0 ||
			key_check(sa, sa->cipher, sa->key_len, err) != 0)
		return -1;
	auth_key(sa, &key, &len);
	if (key_check(sa, sa->auth, len, err) != 0)
		return -1;
	fill_cipher(&x->xf[c], sa, sa->cipher);
	fill_auth(&x->xf[1 - c], sa);
	x->algo[c] = sa->cipher;
	x->algo[1 - c] = sa->auth;
	x->xf[0].next = &x->xf[1];
	x->n = 2;
	return 0;
}

/*
 * AH (RFC 4302): one auth transform that GENERATES in both directions. The
 * ICV is computed over the packet with its mutable fields and ICV zeroed
 * (lib/esp/ah_icv.c), so inbound compares the result with the received ICV
 * itself, in constant time, instead of letting the device verify.
 */
static int
build_ah(struct espgw_crypto_xforms *x, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	const uint8_t *key;
	unsigned int len;

	if (kind_check(sa, sa->auth, ESPGW_ALGO_KIND_AUTH, err) != 0)
		return -1;
	auth_key(sa, &key, &len);
	if (key_check(sa, sa->auth, len, err) != 0)
		return -1;
	fill_auth(&x->xf[0], sa);
	x->xf[0].auth.op = RTE_CRYPTO_AUTH_OP_GENERATE;
	x->algo[0] = sa->auth;
	x->n = 1;
	return 0;
}

int
espgw_crypto_xforms_build(struct espgw_crypto_xforms *x, const struct espgw_sa_conf *sa,
		struct espgw_err *err)
{
	memset(x, 0, sizeof(*x));
	if (sa->proto == ESPGW_SA_AH)
		return build_ah(x, sa, err);
	if (sa->aead != ESPGW_ALGO_NONE)
		return build_aead(x, sa, err);
	if (sa->auth == ESPGW_ALGO_NONE) {
		/* RFC 4303 3.2.2 allows it, RFC 8221 5 says MUST NOT: refuse. */
		snprintf(err->msg, sizeof(err->msg), "sa %s: no integrity algorithm (aead or auth)",
				sa->name);
		return -1;
	}
	if (kind_check(sa, sa->auth, ESPGW_ALGO_KIND_AUTH, err) != 0)
		return -1;
	if (algo_map[sa->auth].algo == RTE_CRYPTO_AUTH_AES_GMAC)
		return build_gmac(x, sa, err);
	if (sa->cipher == ESPGW_ALGO_NONE) {
		snprintf(err->msg, sizeof(err->msg), "sa %s: %s needs a cipher (null for none)",
				sa->name, espgw_algo_name(sa->auth));
		return -1;
	}
	return build_pair(x, sa, err);
}

/*
 * DPDK 22.11 rte_ipsec on the CPU path, outbound: for AES-CBC it passes the
 * seq || 0 block itself as the device IV, so every packet of the SA carries
 * E_K(0) as its IV (RFC 3602 3 wants it unpredictable); for AES-GMAC it builds
 * neither the nonce nor valid offsets and the device fails every packet.
 * Inbound decryption takes the IV from the wire and works for both.
 */
const char *
espgw_crypto_cpu_unfit(const struct espgw_sa_conf *sa, enum espgw_algo *algo)
{
	enum espgw_algo a = ESPGW_ALGO_NONE;
	const char *why = NULL;

	/* AH does not go through rte_ipsec (lib/esp/ah_*.c): none of this applies. */
	if (algo != NULL)
		*algo = ESPGW_ALGO_NONE;
	if (sa->dir != ESPGW_DIR_OUT || sa->aead != ESPGW_ALGO_NONE || sa->proto == ESPGW_SA_AH)
		return NULL;
	if (sa->cipher == ESPGW_ALGO_AES_CBC_128 || sa->cipher == ESPGW_ALGO_AES_CBC_256) {
		a = sa->cipher;
		why = "would send a constant IV (DPDK 22.11 rte_ipsec)";
	} else if (sa->auth == ESPGW_ALGO_AES_GMAC_128 || sa->auth == ESPGW_ALGO_AES_GMAC_256) {
		a = sa->auth;
		why = "would fail every packet (DPDK 22.11 rte_ipsec)";
	}
	if (algo != NULL)
		*algo = a;
	return why;
}

enum espgw_crypto_path
espgw_crypto_sa_path(const struct espgw_store *s, const struct espgw_sa_conf *sa)
{
	enum espgw_crypto_path p = espgw_store_sa_crypto_path(s, sa);
	bool inherited = sa->crypto_path == ESPGW_CRYPTO_PATH_DEFAULT;

	if ((p == ESPGW_CRYPTO_PATH_AUTO || (p == ESPGW_CRYPTO_PATH_DIRECT && inherited)) &&
			espgw_crypto_direct_unfit(sa) == NULL)
		return ESPGW_CRYPTO_PATH_DIRECT;
	if (p == ESPGW_CRYPTO_PATH_AUTO ||
			(inherited && (p == ESPGW_CRYPTO_PATH_CPU ||
						      p == ESPGW_CRYPTO_PATH_DIRECT)))
		return espgw_crypto_cpu_unfit(sa, NULL) == NULL ? ESPGW_CRYPTO_PATH_CPU
								: ESPGW_CRYPTO_PATH_CRYPTODEV;
	return p;
}
