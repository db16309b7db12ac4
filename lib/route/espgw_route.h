/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding: longest-prefix match (rte_lpm / rte_lpm6) to a next hop, and the
 * neighbor table that gives the next hop's MAC. Every port address adds a
 * connected (on-link) route; "route add" adds the rest.
 *
 * A lookup yields a pointer to a hop: NULL means no route; a hop that is not
 * resolved means the route exists but the neighbor's MAC is unknown (workers
 * hand such packets to the control path, which resolves it by ARP/ND). Each
 * gateway address is a host route whose hop has local == true, and so are
 * fe80::/10 and ff00::/8 when any port has IPv6: link-local and multicast
 * packets are never forwarded (RFC 4291 2.5.6) but go to the control path (ND).
 *
 * Concurrency: workers read hops while the control lcore (the only writer)
 * resolves, refreshes and ages them. A hop's MAC is one 64-bit word written
 * atomically and "resolved" is published with release semantics, so a worker
 * that reads resolved with acquire (espgw_hop_resolved) and then the MAC
 * (espgw_hop_dst) never sees a torn or stale-before-resolved address.
 */
#ifndef ESPGW_ROUTE_H
#define ESPGW_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>

#include "espgw_port.h"
#include "espgw_store.h"

/* Who made a hop, which says what the control path may do with it. */
enum espgw_hop_kind {
	ESPGW_HOP_OWN,	   /* route-internal: a local address or an on-link miss hop */
	ESPGW_HOP_STATIC,  /* "neighbor add": never learned over, never aged */
	ESPGW_HOP_VIA,	   /* the "via" of a route: resolved and aged, deleted with its routes */
	ESPGW_HOP_DYNAMIC, /* an on-link host the control path resolves: deleted on failure */
};

struct espgw_l2_hop {
	union {
		struct rte_ether_addr dst; /* next hop MAC (valid when resolved) */
		uint64_t dst_word;	   /* the same, as one atomically written word */
	};
	struct rte_ether_addr src; /* egress port MAC */
	uint16_t port_id;	   /* egress ethdev */
	uint16_t port_idx;	   /* egress port, index in store->ports */
	uint16_t mtu;		   /* egress L3 MTU */
	bool resolved;
	bool local;	  /* the destination is one of the gateway's own addresses (dst = src) */
	bool unprotected; /* the egress port is an unprotected one (the IPsec boundary's outside) */
	uint8_t kind;	  /* enum espgw_hop_kind */
	/*
	 * Next hop address; unspecified (family set, all zero) on the shared
	 * unresolved hop of an on-link route, where the next hop is each
	 * packet's own destination.
	 */
	struct espgw_ip ip;
};

/* Data path: is the MAC usable? (acquire: pairs with the release in espgw_hop_publish) */
static inline bool
espgw_hop_resolved(const struct espgw_l2_hop *h)
{
	return __atomic_load_n(&h->resolved, __ATOMIC_ACQUIRE);
}

/* Data path: the next hop MAC, read as one word so a concurrent change is never torn. */
static inline void
espgw_hop_dst(const struct espgw_l2_hop *h, struct rte_ether_addr *mac)
{
	uint64_t w = __atomic_load_n(&h->dst_word, __ATOMIC_RELAXED);

	memcpy(mac, &w, RTE_ETHER_ADDR_LEN);
}

/* Control path: set the MAC, then publish the hop as resolved. */
static inline void
espgw_hop_publish(struct espgw_l2_hop *h, const struct rte_ether_addr *mac)
{
	uint64_t w = 0;

	memcpy(&w, mac, RTE_ETHER_ADDR_LEN);
	__atomic_store_n(&h->dst_word, w, __ATOMIC_RELAXED);
	__atomic_store_n(&h->resolved, true, __ATOMIC_RELEASE);
}

/* Control path: workers stop using the MAC and hand packets back for resolution. */
static inline void
espgw_hop_unpublish(struct espgw_l2_hop *h)
{
	__atomic_store_n(&h->resolved, false, __ATOMIC_RELEASE);
}

/*
 * Room beyond the configured entries: SPARE for the dynamic ones (the
 * control path resolves on-link hosts), LIVE for static neighbors and
 * next hops of routes added while espgw runs.
 */
#define ESPGW_NEIGH_SPARE 256
#define ESPGW_NEIGH_LIVE  256

struct espgw_route;

struct espgw_route *espgw_route_build(const struct espgw_store *s, const struct espgw_ports *p,
		int socket, struct espgw_err *err);
/*
 * The next version after a change of routes: new LPM tables from s, the
 * neighbor table of prev shared (its entries stay where they are). Published
 * by the caller; prev is freed once no reader holds it, the neighbor table
 * with the last version.
 */
struct espgw_route *espgw_route_rebuild(
		const struct espgw_route *prev, const struct espgw_store *s, struct espgw_err *err);
void espgw_route_free(struct espgw_route *r);
/* Was r built from exactly the routes s has now? (a rollback may bring them back) */
bool espgw_route_built_from(const struct espgw_route *r, const struct espgw_store *s);

/*
 * The port (index in s->ports) a route leaves by: the one it names, or for
 * one that names none the port whose subnet holds its next hop; -1 when none.
 */
int espgw_route_conf_port(const struct espgw_store *s, const struct espgw_route_conf *rc);

/* dst in network byte order. hop[i] as described above. */
void espgw_route_lookup4(const struct espgw_route *r, const uint32_t dst[],
		const struct espgw_l2_hop *hop[], uint32_t n);
void espgw_route_lookup6(const struct espgw_route *r, const uint8_t (*dst)[16],
		const struct espgw_l2_hop *hop[], uint32_t n);

/* Is ip one of the gateway's own addresses (on any port)? */
bool espgw_route_is_local(const struct espgw_route *r, const struct espgw_ip *ip);
/* The hop for one destination of either family (NULL: no route). */
const struct espgw_l2_hop *espgw_route_lookup(
		const struct espgw_route *r, const struct espgw_ip *dst);

/*
 * Neighbor entries, for the control path (the one writer). Workers may hold a
 * hop pointer until their next quiescent state: a deleted entry's slot is
 * reused only after an RCU grace period on qsv (without one, immediately:
 * only for callers that know no reader exists, like single-threaded tests).
 */
struct rte_rcu_qsbr;
void espgw_route_rcu_set(struct espgw_route *r, struct rte_rcu_qsbr *qsv);
/* The entry for (port, ip), or NULL. */
struct espgw_l2_hop *espgw_route_neigh_find(
		struct espgw_route *r, uint16_t port_idx, const struct espgw_ip *ip);
/* Add an unresolved ESPGW_HOP_DYNAMIC entry for (port, ip); NULL when the table is full. */
struct espgw_l2_hop *espgw_route_neigh_add(
		struct espgw_route *r, uint16_t port_idx, const struct espgw_ip *ip);
/*
 * Add an entry of kind for (port, ip), resolved to mac when not NULL; NULL
 * when the table is full or the entry exists.
 */
struct espgw_l2_hop *espgw_route_neigh_make(struct espgw_route *r, uint16_t port_idx,
		const struct espgw_ip *ip, uint8_t kind, const uint8_t *mac);
/* Delete an entry (unpublished first); a route's "via" only once no published version names it. */
int espgw_route_neigh_del(struct espgw_route *r, struct espgw_l2_hop *h);
/* The entry in slot (0 .. cap-1), or NULL when the slot is not in use. */
struct espgw_l2_hop *espgw_route_neigh_at(struct espgw_route *r, unsigned int slot);
/*
 * Wait until every reader passed a quiescent state, then take back the slots
 * of deleted entries: for the control path when the table is full and an
 * entry the operator named must be made (never on a packet's behalf).
 */
void espgw_route_neigh_reclaim(struct espgw_route *r);
/* Entries are numbered 0 .. cap-1 for the control path's per-neighbor state. */
unsigned int espgw_route_neigh_cap(const struct espgw_route *r);
unsigned int espgw_route_neigh_slot(const struct espgw_route *r, const struct espgw_l2_hop *h);

#endif
