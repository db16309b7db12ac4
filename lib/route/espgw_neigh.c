/* SPDX-License-Identifier: BSD-3-Clause */
/* Neighbor table: rte_hash of (port, family, ip) -> hop in a fixed array. */
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "espgw_neigh.h"

struct espgw_neigh {
	struct rte_hash *h;
	struct espgw_l2_hop *hops; /* never reallocated: hop addresses are stable */
	unsigned int n, cap;
};

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
	t->hops = rte_zmalloc_socket("espgw_neigh_hops", cap * sizeof(*t->hops), 0, socket);
	t->h = rte_hash_create(&prm);
	if (t->hops == NULL || t->h == NULL) {
		espgw_neigh_free(t);
		return NULL;
	}
	return t;
}

void
espgw_neigh_free(struct espgw_neigh *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->h);
	rte_free(t->hops);
	rte_free(t);
}

void
espgw_neigh_key_set(struct espgw_neigh_key *k, uint16_t port_idx, uint8_t family, const void *ip)
{
	memset(k, 0, sizeof(*k));
	k->port_idx = port_idx;
	k->family = family;
	memcpy(k->ip, ip, family == ESPGW_AF_INET ? 4 : 16);
}

struct espgw_l2_hop *
espgw_neigh_get(struct espgw_neigh *t, const struct espgw_l2_hop *hop)
{
	struct espgw_neigh_key k;
	struct espgw_l2_hop *e;
	void *data;

	espgw_neigh_key_set(&k, hop->port_idx, hop->ip.family, hop->ip.bytes);
	if (rte_hash_lookup_data(t->h, &k, &data) >= 0)
		return data;
	if (t->n == t->cap)
		return NULL;
	e = &t->hops[t->n];
	*e = *hop;
	if (rte_hash_add_key_data(t->h, &k, e) < 0)
		return NULL;
	t->n++;
	return e;
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
	rte_hash_lookup_bulk_data(t->h, (const void **)k, n, &hits, data);
	for (i = 0; i < n; i++)
		hop[i] = (hits >> i) & 1 ? data[i] : NULL;
}
