/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding: longest-prefix match (rte_lpm / rte_lpm6) to a next hop, and the
 * neighbor table that gives the next hop's MAC. Every port address adds a
 * connected (on-link) route; "route add" adds the rest.
 *
 * A lookup yields a pointer to a hop: NULL means no route; hop->resolved == false
 * means the route exists but the neighbor's MAC is unknown (counted no_neighbor;
 * a later issue queues such packets for ARP/ND resolution). Each gateway address
 * is a host route whose hop has local == true (the packet goes to the control path).
 */
#ifndef ESPGW_ROUTE_H
#define ESPGW_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "espgw_port.h"
#include "espgw_store.h"

struct espgw_l2_hop {
	struct rte_ether_addr dst; /* next hop MAC (valid when resolved) */
	struct rte_ether_addr src; /* egress port MAC */
	uint16_t port_id;	   /* egress ethdev */
	uint16_t port_idx;	   /* egress port, index in store->ports */
	uint16_t mtu;		   /* egress L3 MTU */
	bool resolved;
	bool local; /* the destination is one of the gateway's own addresses (dst = src) */
	/*
	 * Next hop address; unspecified (family set, all zero) on the shared
	 * unresolved hop of an on-link route, where the next hop is each
	 * packet's own destination.
	 */
	struct espgw_ip ip;
};

struct espgw_route;

struct espgw_route *espgw_route_build(const struct espgw_store *s, const struct espgw_ports *p,
		int socket, struct espgw_err *err);
void espgw_route_free(struct espgw_route *r);

/* dst in network byte order. hop[i] as described above. */
void espgw_route_lookup4(const struct espgw_route *r, const uint32_t dst[],
		const struct espgw_l2_hop *hop[], uint32_t n);
void espgw_route_lookup6(const struct espgw_route *r, const uint8_t (*dst)[16],
		const struct espgw_l2_hop *hop[], uint32_t n);

/* Is ip one of the gateway's own addresses (on any port)? */
bool espgw_route_is_local(const struct espgw_route *r, const struct espgw_ip *ip);

#endif
