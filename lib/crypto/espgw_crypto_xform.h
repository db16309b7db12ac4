/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From an SA's configured algorithms to the rte_crypto transform chain a
 * cryptodev session is made from. The mapping from enum espgw_algo to the
 * rte_crypto enums lives here and nowhere else, so that the capability check
 * (lib/crypto) and the sessions (lib/sad) can never disagree on what an SA
 * asks of a device.
 */
#ifndef ESPGW_CRYPTO_XFORM_H
#define ESPGW_CRYPTO_XFORM_H

#include <rte_crypto.h>

#include "espgw_algo.h"
#include "espgw_store.h"

/*
 * Per-op IV room: rte_ipsec writes the IV / counter block / nonce it builds for
 * a packet right after the symmetric op (16 bytes at most: AES-CTR block).
 * Behind it, one block that is zeroed when the op pool is created and never
 * written: the device IV of outbound AES-CBC (see crypto_xform.c).
 */
#define ESPGW_CRYPTO_IV_OFFSET (sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op))
#define ESPGW_CRYPTO_IV_ROOM   16
#define ESPGW_CRYPTO_ZERO_IV   (ESPGW_CRYPTO_IV_OFFSET + ESPGW_CRYPTO_IV_ROOM) /* its offset */
#define ESPGW_CRYPTO_OP_PRIV   (2 * ESPGW_CRYPTO_IV_ROOM)

struct espgw_crypto_xforms {
	/* Chained in the order rte_ipsec expects; key pointers point into the SA config. */
	struct rte_crypto_sym_xform xf[2];
	enum espgw_algo algo[2]; /* which configured algorithm each xform is, for messages */
	unsigned int n;
};

/*
 * Build the chain for sa's direction: AEAD alone, AES-GMAC alone (RFC 4543
 * integrity-only), outbound cipher then auth, inbound auth then cipher.
 * Checks the algorithm kinds and key lengths. Returns 0, or -1 with err set.
 * The result points into itself: do not copy it.
 */
int espgw_crypto_xforms_build(struct espgw_crypto_xforms *x, const struct espgw_sa_conf *sa,
		struct espgw_err *err);

/*
 * Why DPDK 22.11 rte_ipsec cannot serve sa on the CPU path (a phrase that
 * follows "on crypto path cpu"), or NULL when it can. *algo, when not NULL,
 * gets the algorithm at fault.
 */
const char *espgw_crypto_cpu_unfit(const struct espgw_sa_conf *sa, enum espgw_algo *algo);

/*
 * The crypto path an SA asks for: its own, else the global one ("auto" counts
 * as direct, then cpu here; espgw_crypto_path_of() also asks the device). An
 * SA that only inherits "direct" or "auto" and that the direct path cannot
 * serve (espgw_crypto_direct_unfit) takes the CPU path; one that only
 * inherits "cpu", "direct" or "auto" and that the CPU path cannot serve
 * (above) uses the cryptodev; one that names its path itself keeps it, and
 * the capability check refuses it.
 */
enum espgw_crypto_path espgw_crypto_sa_path(
		const struct espgw_store *s, const struct espgw_sa_conf *sa);

#endif
