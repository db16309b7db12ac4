/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct path's AES-GCM (RFC 4106 for ESP): an SA's Intel IPsec-MB key
 * schedule and the library's GCM functions for this CPU, chosen once at
 * setup, called by lib/esp per packet without a crypto op or a cryptodev.
 * DPDK offers no API for this (its crypto_aesni_mb PMD wraps the same
 * functions in a job per operation), hence IPsec-MB directly; what the
 * direct path covers, and why, is in espgw_crypto_direct_unfit().
 */
#ifndef ESPGW_GCM_H
#define ESPGW_GCM_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>
#include <rte_byteorder.h>
#include <rte_common.h>

#include "espgw_store.h"

#define ESPGW_GCM_ICV_LEN   16 /* RFC 4106 6: this path writes and takes 16-byte ICVs only */
#define ESPGW_GCM_IV_LEN    8  /* RFC 4106 3.1 */
#define ESPGW_GCM_SALT_LEN  4  /* RFC 4106 4 */
#define ESPGW_GCM_NONCE_LEN 12 /* salt || IV */
#define ESPGW_GCM_TMPL_MAX  48 /* IPv6 and, for ESP in UDP (RFC 3948), UDP */

/*
 * One direct SA's state. Its first line holds all a packet of an IPv4
 * tunnel (ESP in UDP or not) reads besides the key schedule: with many SAs
 * each packet finds its SA cold, and a line is a miss. The library's calls
 * for segmented packets follow; the key schedule starts on the third line,
 * aligned as IPsec-MB wants it.
 */
struct espgw_gcm_sa {
	aes_gcm_enc_dec_t crypt; /* one-shot: encrypt (outbound) or decrypt */
	uint64_t seq;		 /* outbound: the next number to send */
	rte_be32_t spi;		 /* network order, as on the wire */
	uint8_t salt[ESPGW_GCM_SALT_LEN];
	uint32_t ptype;			  /* outbound: the result's packet_type (outer family) */
	uint8_t esn;			  /* RFC 4303 2.2.1: high 32 bits in the AAD (RFC 4106 5) */
	uint8_t atomic;			  /* outbound: several workers take numbers */
	uint8_t ordered;		  /* outbound seq-order strict (espgw_sa_rt.order) */
	uint8_t tmpl_len;		  /* outbound: ip_len, plus 8 with UDP */
	uint8_t ip_len;			  /* outbound: 20 (IPv4) or 40 (IPv6) */
	uint8_t udp6;			  /* outbound IPv6 in UDP: the checksum after the crypto */
	uint8_t tmpl[ESPGW_GCM_TMPL_MAX]; /* outbound: outer header (UDP), next ESP */
	aes_gcm_init_t init;		  /* segmented packets: init, update, finalize */
	aes_gcm_enc_dec_update_t update;
	aes_gcm_enc_dec_finalize_t finalize;
	struct gcm_key_data key __rte_aligned(64);
};

/* The first line ends after an IPv4 header and a UDP header of the template. */
static_assert(offsetof(struct espgw_gcm_sa, tmpl) + 28 <= RTE_CACHE_LINE_SIZE,
		"espgw_gcm_sa: an IPv4 tunnel's state must fit its first cache line");

/* RFC 4303 2.2.1: the last sequence number, 2^32 - 1, or 2^64 - 1 with ESN. */
static inline uint64_t
espgw_gcm_sqn_max(const struct espgw_gcm_sa *g)
{
	return g->esn ? UINT64_MAX : UINT32_MAX;
}

/*
 * Why the direct path cannot serve sa (a phrase that follows "on crypto path
 * direct"), or NULL when it can.
 */
const char *espgw_crypto_direct_unfit(const struct espgw_sa_conf *sa);

/*
 * Fill g's key schedule, functions and sequence start for sa (the outer
 * header template is the caller's). Returns 0, or -1 when sa does not fit
 * or IPsec-MB could not be initialised.
 */
int espgw_gcm_sa_init(struct espgw_gcm_sa *g, const struct espgw_sa_conf *sa);

#endif
