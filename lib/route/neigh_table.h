/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbor table (internal to lib/route): rte_hash keyed by (port, family, ip)
 * to a struct espgw_l2_hop in a fixed array, so a hop's address never changes
 * while the table lives and the data path may keep hop pointers for a burst.
 * The port is part of the key because IPv6 link-local addresses are per link.
 *
 * Entries come from the operator (static neighbors, resolved; the "via" of
 * routes, unresolved), at start and while espgw runs, and from the control
 * path (on-link destinations it resolves by ARP/ND). The table outlives the
 * forwarding tables built around it: every version of the routes (one per
 * change) shares it, so learned MACs and waiting packets survive a change:
 * - the hash is created lock-free for readers (RW_CONCURRENCY_LF) with one
 *   writer, the control lcore, so it adds and deletes while workers look up;
 * - an entry is filled before its key is published with it, so a reader that
 *   finds the key finds a complete hop;
 * - a deleted entry's key position and array slot are reused only after an
 *   RCU grace period: every worker has passed a quiescent state since the
 *   delete (LF mode keeps the key position until rte_hash_free_key_with_position).
 */
#ifndef ESPGW_NEIGH_TABLE_H
#define ESPGW_NEIGH_TABLE_H

#include <stdint.h>

#include <rte_common.h>

#include "espgw_route.h"

/*
 * Aligned because rte_hash_crc() reads the key in 8-byte words; zeroed whole
 * (padding too). 32 bytes, not 20: rte_hash compares keys of 16, 32, ... bytes
 * with vector code and other lengths with memcmp(), which cost a third of
 * every lookup (callgrind, inbound to an on-link host).
 */
struct espgw_neigh_key {
	uint16_t port_idx;
	uint8_t family;
	uint8_t pad;
	uint8_t ip[16]; /* IPv4 in the first 4 bytes, the rest zero */
	uint8_t pad2[12];
} __rte_aligned(8);

struct espgw_neigh;
struct rte_rcu_qsbr;

/* cap: entries the table can ever hold (configured + ESPGW_NEIGH_LIVE + ESPGW_NEIGH_SPARE). */
struct espgw_neigh *espgw_neigh_create(const char *name, unsigned int cap, int socket);
/* One more user (a route version); espgw_neigh_free frees it with the last. */
struct espgw_neigh *espgw_neigh_ref(struct espgw_neigh *t);
void espgw_neigh_free(struct espgw_neigh *t);
/* Readers report quiescent states on qsv; NULL: deletes are reclaimed at once. */
void espgw_neigh_rcu_set(struct espgw_neigh *t, struct rte_rcu_qsbr *qsv);

/* family is ESPGW_AF_INET (ip: 4 bytes, network order) or ESPGW_AF_INET6 (16). */
void espgw_neigh_key_set(
		struct espgw_neigh_key *k, uint16_t port_idx, uint8_t family, const void *ip);

/* The entry for (hop->port_idx, hop->ip), added as a copy of hop when absent; NULL when full. */
struct espgw_l2_hop *espgw_neigh_get(struct espgw_neigh *t, const struct espgw_l2_hop *hop);
/* The entry for (port, ip), or NULL. */
struct espgw_l2_hop *espgw_neigh_find(
		const struct espgw_neigh *t, uint16_t port_idx, const struct espgw_ip *ip);
/* Wait for the grace period of every deleted entry, and take their slots back. */
void espgw_neigh_reclaim(struct espgw_neigh *t);
/* Remove the entry; its slot is reused after the grace period. */
int espgw_neigh_del(struct espgw_neigh *t, struct espgw_l2_hop *hop);

unsigned int espgw_neigh_cap(const struct espgw_neigh *t);
/* The entry in slot, or NULL when the slot is free (or waits for its grace period). */
struct espgw_l2_hop *espgw_neigh_at(const struct espgw_neigh *t, unsigned int slot);
unsigned int espgw_neigh_slot(const struct espgw_neigh *t, const struct espgw_l2_hop *hop);

/* hop[i] = the entry for k[i], or NULL; n <= RTE_HASH_LOOKUP_BULK_MAX. */
void espgw_neigh_lookup_bulk(const struct espgw_neigh *t, const struct espgw_neigh_key *k[],
		uint32_t n, const struct espgw_l2_hop *hop[]);

#endif
