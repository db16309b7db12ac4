/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's cache of inbound SAD lookups: rte_ipsec_sad takes two hash
 * lookups per key for the default match (SPI, then SPI and destination),
 * and a burst of many tunnels pays them for almost every packet (perf on
 * in-gcm128-1k: librte_hash and librte_ipsec 12% of the worker). Direct
 * mapped, fixed size (nothing to exhaust), per worker (no sharing).
 *
 * Exact: an entry is the whole 36-byte key a lookup was made with and the SA
 * it found, so a hit returns what the SAD itself would for that key (the
 * most specific match, whatever the other SAs' match types). Only found SAs
 * are kept: a flood of unknown SPIs never fills it.
 *
 * Fresh: the control path bumps espgw_sad.in_gen after every change of the
 * inbound SAD, and an entry counts only under the generation it was filled
 * in (loaded before the lookup, so a change during it ages the entry). A
 * worker loads the generation at each burst; a slot is reused only after
 * every worker passed a quiescent state since the change (lib/gw/publish.c),
 * so no stale pointer survives into a burst.
 */
#ifndef ESPGW_ESP_SAD_CACHE_H
#define ESPGW_ESP_SAD_CACHE_H

#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ipsec_sad.h>

#include "espgw_esp.h"

#define ESPGW_SAD_CACHE_SIZE 4096 /* entries, a power of two */

struct espgw_sad_cache_ent {
	union rte_ipsec_sad_key key;
	uint64_t gen; /* 0: never filled (a SAD's generations start at 2^32 or above) */
	struct espgw_sa_rt *sa;
} __rte_cache_aligned;

struct espgw_sad_cache {
	struct espgw_sad_cache_ent e[ESPGW_SAD_CACHE_SIZE];
};

/* SPI and the last words of both addresses (IPv4 ones are there), mixed. */
static inline struct espgw_sad_cache_ent *
espgw_sad_cache_ent(struct espgw_sad_cache *c, const union rte_ipsec_sad_key *k)
{
	uint32_t d, s;
	uint64_t h;

	memcpy(&d, k->v6.dip + 12, sizeof(d));
	memcpy(&s, k->v6.sip + 12, sizeof(s));
	h = ((uint64_t)(k->v6.spi ^ d) << 32 | s) * UINT64_C(0x9E3779B97F4A7C15);
	return &c->e[h >> (64 - 12)];
}

static inline struct espgw_sa_rt *
espgw_sad_cache_get(struct espgw_sad_cache *c, const union rte_ipsec_sad_key *k, uint64_t gen)
{
	const struct espgw_sad_cache_ent *e = espgw_sad_cache_ent(c, k);

	if (e->gen != gen || memcmp(&e->key.v6, &k->v6, sizeof(k->v6)) != 0)
		return NULL;
	return e->sa;
}

static inline void
espgw_sad_cache_put(struct espgw_sad_cache *c, const union rte_ipsec_sad_key *k, uint64_t gen,
		struct espgw_sa_rt *sa)
{
	struct espgw_sad_cache_ent *e = espgw_sad_cache_ent(c, k);

	e->key.v6 = k->v6;
	e->gen = gen;
	e->sa = sa;
}

#endif
