/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbor table: rte_hash of (port, family, ip) -> hop in a fixed array,
 * read lock-free by the workers, deleted entries reused after an RCU grace
 * period (neigh_table.h). Who fills the MACs in, by ARP and ND, is lib/host
 * (neigh_resolve.c).
 */
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "neigh_table.h"

/* A deleted entry waiting for its grace period. */
struct limbo {
	uint64_t token; /* rte_rcu_qsbr_start() at delete time */
	int32_t pos;	/* key position, freed with rte_hash_free_key_with_position */
	uint32_t slot;
};

struct espgw_neigh {
	struct rte_hash *h;
	struct espgw_l2_hop *hops; /* never reallocated: hop addresses are stable */
	uint32_t *free;		   /* stack of free slots */
	struct limbo *limbo;	   /* FIFO in delete order, so tokens ascend */
	struct rte_rcu_qsbr *qsv;
	unsigned int n_free, limbo_head, n_limbo, cap;
	unsigned int refs; /* route versions sharing the table (espgw_route_rebuild) */
};

static int
arrays_alloc(struct espgw_neigh *t, int socket)
{
	unsigned int i;

	t->hops = rte_zmalloc_socket("espgw_neigh_hops", t->cap * sizeof(*t->hops), 0, socket);
	t->free = rte_malloc_socket("espgw_neigh_free", t->cap * sizeof(*t->free), 0, socket);
	t->limbo = rte_malloc_socket("espgw_neigh_limbo", t->cap * sizeof(*t->limbo), 0, socket);
	if (t->hops == NULL || t->free == NULL || t->limbo == NULL)
		return -1;
	/* Pop order 0, 1, 2 ...: configured entries take the first slots. */
	for (i = 0; i < t->cap; i++)
		t->free[i] = t->cap - 1 - i;
	t->n_free = t->cap;
	return 0;
}

struct espgw_neigh *
espgw_neigh_create(const char *name, unsigned int cap, int socket)
{
	struct rte_hash_parameters prm = {
			.name = name,
			/* Cuckoo buckets fill before every entry is used: leave room. */
			.entries = 2 * cap < 64 ? 64 : 2 * cap,
			.key_len = sizeof(struct espgw_neigh_key),
			.hash_func = rte_hash_crc,
			.socket_id = socket,
			.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct espgw_neigh *t;

	t = rte_zmalloc_socket("espgw_neigh", sizeof(*t), 0, socket);
	if (t == NULL)
		return NULL;
	t->cap = cap;
	t->refs = 1;
	t->h = rte_hash_create(&prm);
	if (t->h == NULL || arrays_alloc(t, socket) < 0) {
		espgw_neigh_free(t);
		return NULL;
	}
	return t;
}

struct espgw_neigh *
espgw_neigh_ref(struct espgw_neigh *t)
{
	t->refs++;
	return t;
}

void
espgw_neigh_free(struct espgw_neigh *t)
{
	if (t == NULL || --t->refs != 0)
		return;
	rte_hash_free(t->h);
	rte_free(t->hops);
	rte_free(t->free);
	rte_free(t->limbo);
	rte_free(t);
}

void
espgw_neigh_rcu_set(struct espgw_neigh *t, struct rte_rcu_qsbr *qsv)
{
	t->qsv = qsv;
}

void
espgw_neigh_key_set(struct espgw_neigh_key *k, uint16_t port_idx, uint8_t family, const void *ip)
{
	memset(k, 0, sizeof(*k));
	k->port_idx = port_idx;
	k->family = family;
	memcpy(k->ip, ip, family == ESPGW_AF_INET ? 4 : 16);
}

static void
slot_release(struct espgw_neigh *t, int32_t pos, uint32_t slot)
{
	rte_hash_free_key_with_position(t->h, pos);
	t->free[t->n_free++] = slot;
}

/* Give back the slots whose grace period is over (oldest first). */
static void
limbo_reclaim(struct espgw_neigh *t)
{
	struct limbo *l;

	while (t->n_limbo != 0) {
		l = &t->limbo[t->limbo_head];
		if (t->qsv != NULL && rte_rcu_qsbr_check(t->qsv, l->token, false) != 1)
			return;
		slot_release(t, l->pos, l->slot);
		t->limbo_head = (t->limbo_head + 1) % t->cap;
		t->n_limbo--;
	}
}

void
espgw_neigh_reclaim(struct espgw_neigh *t)
{
	if (t->n_limbo == 0)
		return;
	if (t->qsv != NULL)
		rte_rcu_qsbr_synchronize(t->qsv, RTE_QSBR_THRID_INVALID);
	limbo_reclaim(t);
}

struct espgw_l2_hop *
espgw_neigh_find(const struct espgw_neigh *t, uint16_t port_idx, const struct espgw_ip *ip)
{
	struct espgw_neigh_key k;
	void *data;

	espgw_neigh_key_set(&k, port_idx, ip->family, ip->bytes);
	if (rte_hash_lookup_data(t->h, &k, &data) < 0)
		return NULL;
	return data;
}

struct espgw_l2_hop *
espgw_neigh_get(struct espgw_neigh *t, const struct espgw_l2_hop *hop)
{
	struct espgw_neigh_key k;
	struct espgw_l2_hop *e = espgw_neigh_find(t, hop->port_idx, &hop->ip);
	uint32_t slot;

	if (e != NULL)
		return e;
	limbo_reclaim(t);
	if (t->n_free == 0)
		return NULL;
	slot = t->free[--t->n_free];
	e = &t->hops[slot];
	*e = *hop;
	/* Filled before the key is published: a reader that finds it sees it whole. */
	espgw_neigh_key_set(&k, hop->port_idx, hop->ip.family, hop->ip.bytes);
	if (rte_hash_add_key_data(t->h, &k, e) < 0) {
		t->free[t->n_free++] = slot;
		return NULL;
	}
	return e;
}

int
espgw_neigh_del(struct espgw_neigh *t, struct espgw_l2_hop *hop)
{
	struct espgw_neigh_key k;
	struct limbo *l;
	int32_t pos;

	espgw_neigh_key_set(&k, hop->port_idx, hop->ip.family, hop->ip.bytes);
	pos = rte_hash_del_key(t->h, &k);
	if (pos < 0)
		return -1;
	l = &t->limbo[(t->limbo_head + t->n_limbo++) % t->cap];
	l->pos = pos;
	l->slot = (uint32_t)(hop - t->hops);
	l->token = t->qsv != NULL ? rte_rcu_qsbr_start(t->qsv) : 0;
	limbo_reclaim(t);
	return 0;
}

unsigned int
espgw_neigh_cap(const struct espgw_neigh *t)
{
	return t->cap;
}

struct espgw_l2_hop *
espgw_neigh_at(const struct espgw_neigh *t, unsigned int slot)
{
	struct espgw_l2_hop *e;

	if (slot >= t->cap)
		return NULL;
	/* A slot is in use when its entry's own key finds it. */
	e = &t->hops[slot];
	if (e->ip.family == 0 || espgw_neigh_find(t, e->port_idx, &e->ip) != e)
		return NULL;
	return e;
}

unsigned int
espgw_neigh_slot(const struct espgw_neigh *t, const struct espgw_l2_hop *hop)
{
	return (unsigned int)(hop - t->hops);
}

void
espgw_neigh_lookup_bulk(const struct espgw_neigh *t, const struct espgw_neigh_key *k[], uint32_t n,
		const struct espgw_l2_hop *hop[])
{
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t hits = 0;
	uint32_t i;

	if (n == 0)
		return;
	/*
	 * A burst's on-link destinations are mostly one host: the bulk call
	 * first clears two 64-entry hit masks, which costs more than the lookup.
	 */
	if (n == 1) {
		hop[0] = rte_hash_lookup_data(t->h, k[0], &data[0]) < 0 ? NULL : data[0];
		return;
	}
	rte_hash_lookup_bulk_data(t->h, (const void **)k, n, &hits, data);
	for (i = 0; i < n; i++)
		hop[i] = (hits >> i) & 1 ? data[i] : NULL;
}
