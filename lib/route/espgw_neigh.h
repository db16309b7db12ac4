/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbor table (internal to lib/route): rte_hash keyed by (port, family, ip)
 * to a struct espgw_l2_hop in a fixed array, so a hop's address never changes
 * while the table lives and the data path may keep hop pointers for a burst.
 * The port is part of the key because IPv6 link-local addresses are per link.
 *
 * Today every entry comes from the configuration: static neighbors (resolved)
 * and the "via" of routes without one (unresolved). Dynamic ARP/ND (a later
 * issue) fits without redesign:
 * - the hash is created lock-free for readers (RW_CONCURRENCY_LF) with one
 *   writer, the control thread, so it can add entries while workers look up;
 * - resolving writes hop->dst and then sets hop->resolved with a release store,
 *   so a worker that sees resolved also sees the MAC;
 * - the array keeps ESPGW_NEIGH_SPARE free slots for learned entries;
 * - aging deletes the key and reuses the slot only after an RCU grace period
 *   (LF mode keeps the key index until rte_hash_free_key_with_position).
 */
#ifndef ESPGW_NEIGH_H
#define ESPGW_NEIGH_H

#include <stdint.h>

#include <rte_common.h>

#include "espgw_route.h"

#define ESPGW_NEIGH_SPARE 256

/* Aligned because rte_hash_crc() reads the key in 8-byte words; zeroed whole (padding too). */
struct espgw_neigh_key {
	uint16_t port_idx;
	uint8_t family;
	uint8_t pad;
	uint8_t ip[16]; /* IPv4 in the first 4 bytes, the rest zero */
} __rte_aligned(8);

struct espgw_neigh;

/* cap: entries the table can ever hold (configured + ESPGW_NEIGH_SPARE). */
struct espgw_neigh *espgw_neigh_create(const char *name, unsigned int cap, int socket);
void espgw_neigh_free(struct espgw_neigh *t);

/* family is ESPGW_AF_INET (ip: 4 bytes, network order) or ESPGW_AF_INET6 (16). */
void espgw_neigh_key_set(
		struct espgw_neigh_key *k, uint16_t port_idx, uint8_t family, const void *ip);

/* The entry for (hop->port_idx, hop->ip), added as a copy of hop when absent; NULL when full. */
struct espgw_l2_hop *espgw_neigh_get(struct espgw_neigh *t, const struct espgw_l2_hop *hop);

/* hop[i] = the entry for k[i], or NULL; n <= RTE_HASH_LOOKUP_BULK_MAX. */
void espgw_neigh_lookup_bulk(const struct espgw_neigh *t, const struct espgw_neigh_key *k[],
		uint32_t n, const struct espgw_l2_hop *hop[]);

#endif
