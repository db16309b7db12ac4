/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's cache of inbound SAD lookups: rte_ipsec_sad takes two hash
 * lookups per key for the default match (SPI, then SPI and destination),
 * and a burst of many tunnels pays them for almost every packet (perf on
 * in-gcm128-1k: librte_hash and librte_ipsec 12% of the worker). Fixed size
 * (nothing to exhaust), per worker (no sharing).
 *
 * Exact: an entry is the whole key a lookup was made with and the SA it
 * found, so a hit returns what the SAD itself would for that key (the most
 * specific match, whatever the other SAs' match types). Only found SAs are
 * kept: a flood of unknown SPIs never fills it.
 *
 * Fresh: the control path bumps espgw_sad.in_gen after every change of the
 * inbound SAD, and an entry counts only under the generation it was filled
 * in (loaded before the lookup, so a change during it ages the entry). A
 * worker loads the generation at each burst; a slot is reused only after
 * every worker passed a quiescent state since the change (lib/gw/publish.c),
 * so no stale pointer survives into a burst.
 *
 * An IPv4 packet's key (its SPI and outer addresses, espgw_sad_key4, read
 * from the header: the SAD's 36-byte key is made only on a miss) goes to
 * sets of four 16-byte entries, a cache line each: the key and the SA's
 * slot. At 1,000 tunnels they take some 640 lines where one 64-byte
 * entry per key took 1,000, and a key shares its set with three others
 * before one is evicted, where a direct-mapped table of 4,096 entries put
 * one in five of 1,000 random SPIs in a slot that another one also takes
 * (each of that pair then missing every time). The sets hold no
 * generation: a worker empties them when the generation it loads at a
 * burst is not the one it last saw (espgw_sad_cache_gen), which changes
 * happen seldom enough to afford. IPv6 packets' keys keep a 64-byte entry
 * each, direct mapped, with the generation in it.
 */
#ifndef ESPGW_ESP_SAD_CACHE_H
#define ESPGW_ESP_SAD_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ipsec_sad.h>

#include "espgw_esp.h"

#define ESPGW_SAD_CACHE_SIZE  4096 /* IPv6 entries, a power of two */
#define ESPGW_SAD_CACHE4_SETS 1024 /* IPv4 sets, a power of two: 4,096 keys */
#define ESPGW_SAD_CACHE4_WAYS 4

struct espgw_sad_cache_ent {
	union rte_ipsec_sad_key key;
	uint64_t gen; /* 0: never filled (a SAD's generations start at 2^32 or above) */
	struct espgw_sa_rt *sa;
} __rte_cache_aligned;

/* One IPv4 key's lookup: the key in network order, what it found. */
struct espgw_sad_cache4_way {
	uint32_t spi, dst, src;
	uint32_t slot; /* 1 + the SA's slot in the SAD's array; 0: free */
};

struct espgw_sad_cache4_set {
	struct espgw_sad_cache4_way w[ESPGW_SAD_CACHE4_WAYS];
} __rte_cache_aligned;

struct espgw_sad_cache {
	struct espgw_sad_cache4_set s4[ESPGW_SAD_CACHE4_SETS];
	struct espgw_sad_cache_ent e[ESPGW_SAD_CACHE_SIZE];
	uint64_t gen;	 /* the generation the sets hold lookups of */
	uint32_t victim; /* a full set's way the next IPv4 key takes, in turn */
};

/*
 * At each burst, before any lookup under gen (the SAD's, loaded then): the
 * sets hold lookups made under gen only.
 */
static inline void
espgw_sad_cache_gen(struct espgw_sad_cache *c, uint64_t gen)
{
	if (likely(gen == c->gen))
		return;
	memset(c->s4, 0, sizeof(c->s4));
	c->gen = gen;
}

/* An IPv4 packet's key: what espgw_sad_key_v4 maps into the SAD's, network order. */
struct espgw_sad_key4 {
	uint32_t spi, dst, src;
};

static inline uint64_t
espgw_sad_cache_mix(uint32_t spi, uint32_t d, uint32_t s)
{
	return ((uint64_t)(spi ^ d) << 32 | s) * UINT64_C(0x9E3779B97F4A7C15);
}

/* SPI and the last words of both addresses (IPv4 ones are there), mixed. */
static inline uint64_t
espgw_sad_cache_hash(const union rte_ipsec_sad_key *k)
{
	uint32_t d, s;

	memcpy(&d, k->v6.dip + 12, sizeof(d));
	memcpy(&s, k->v6.sip + 12, sizeof(s));
	return espgw_sad_cache_mix(k->v6.spi, d, s);
}

static inline struct espgw_sad_cache_ent *
espgw_sad_cache_ent(struct espgw_sad_cache *c, const union rte_ipsec_sad_key *k)
{
	return &c->e[espgw_sad_cache_hash(k) >> (64 - 12)];
}

static inline struct espgw_sad_cache4_set *
espgw_sad_cache_set(struct espgw_sad_cache *c, const struct espgw_sad_key4 *k)
{
	return &c->s4[espgw_sad_cache_mix(k->spi, k->dst, k->src) >> (64 - 10)];
}

static inline bool
espgw_sad_cache4_is(const struct espgw_sad_cache4_way *w, const struct espgw_sad_key4 *k)
{
	return w->spi == k->spi && w->dst == k->dst && w->src == k->src;
}

/*
 * The SA cached for an IPv4 key, or NULL; base: the array of SAs of the SAD
 * whose generation espgw_sad_cache_gen was given last.
 */
static inline struct espgw_sa_rt *
espgw_sad_cache4_get(
		struct espgw_sad_cache *c, const struct espgw_sad_key4 *k, struct espgw_sa_rt *base)
{
	const struct espgw_sad_cache4_set *set = espgw_sad_cache_set(c, k);
	unsigned int i;

	for (i = 0; i < ESPGW_SAD_CACHE4_WAYS; i++)
		if (set->w[i].slot != 0 && espgw_sad_cache4_is(&set->w[i], k))
			return &base[set->w[i].slot - 1];
	return NULL;
}

/*
 * What the SAD found for an IPv4 key: nothing to do if a lookup of the same
 * burst put it already, else a free way of its set, else the next in turn.
 */
static inline void
espgw_sad_cache4_put(struct espgw_sad_cache *c, const struct espgw_sad_key4 *k,
		const struct espgw_sa_rt *sa, const struct espgw_sa_rt *base)
{
	struct espgw_sad_cache4_set *set = espgw_sad_cache_set(c, k);
	struct espgw_sad_cache4_way *w = NULL;
	unsigned int i;

	for (i = 0; i < ESPGW_SAD_CACHE4_WAYS; i++) {
		if (set->w[i].slot != 0 && espgw_sad_cache4_is(&set->w[i], k))
			return;
		if (w == NULL && set->w[i].slot == 0)
			w = &set->w[i];
	}
	if (w == NULL)
		w = &set->w[c->victim++ % ESPGW_SAD_CACHE4_WAYS];
	w->spi = k->spi;
	w->dst = k->dst;
	w->src = k->src;
	w->slot = (uint32_t)(sa - base) + 1;
}

/* The SA cached for an IPv6 key under gen, or NULL. */
static inline struct espgw_sa_rt *
espgw_sad_cache_get(struct espgw_sad_cache *c, const union rte_ipsec_sad_key *k, uint64_t gen)
{
	const struct espgw_sad_cache_ent *e = espgw_sad_cache_ent(c, k);

	if (e->gen != gen || memcmp(&e->key.v6, &k->v6, sizeof(k->v6)) != 0)
		return NULL;
	return e->sa;
}

/* What the SAD found for an IPv6 key under gen. */
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
