/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's input rules on addresses (README: "Input rules"), which every
 * frame received on a port passes after parsing, and every decrypted inner
 * packet before its policy check:
 * - a frame sent to a link-layer broadcast or multicast address must carry an
 *   IP broadcast or multicast destination (RFC 1122 3.3.6, RFC 1812 5.3.4);
 * - sources and destinations that are never valid on a wire are dropped
 *   (RFC 1812 5.3.7, RFC 4291 2.5.2-2.5.5, 2.7), and so is a packet that
 *   claims one of the gateway's own addresses, or a broadcast, as its source;
 * - IPv4 broadcasts (limited and subnet-directed) and multicast are never
 *   forwarded (RFC 1812 5.3.5, no multicast routing) and nothing on the
 *   gateway listens to them;
 * - link-local addresses never leave their link (RFC 3927 7, RFC 4291 2.5.6).
 * A packet refused here never gets an ICMP error (RFC 1812 4.3.2.7): it is
 * gone before anything could answer it. The header checks of parsing
 * (checksum, options, extension headers) are in pkt.c, the link-layer
 * destination check in rx.c.
 *
 * The table is built once from the configuration: the gateway's addresses
 * (the ports' own, and the EUI-64 link-local address of every port) and the
 * broadcast addresses of its IPv4 subnets. A gateway has a handful of each:
 * a linear scan finds them, behind a shortcut that clears most packets with
 * a few table reads.
 */
#ifndef ESPGW_INPUT_H
#define ESPGW_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "espgw_drop.h"
#include "espgw_port.h"
#include "espgw_store.h"

#define ESPGW_INPUT_MAX (ESPGW_MAX_PORTS * (ESPGW_PORT_ADDR_MAX + 1))

struct espgw_input {
	/*
	 * The data path's shortcut: most packets have ordinary unicast
	 * addresses, far from every rule. Nonzero by first octet (first byte for
	 * IPv6) where an address may be special (0, 127, 169, 224-255; ::/8,
	 * fe00::/8, ff00::/8), by last octet where it may be one of ours or a
	 * broadcast. A packet that touches none of them, and did not come to a
	 * group MAC, needs no closer look: four byte loads.
	 */
	uint8_t first4[256], last4[256], first6[256], last6[256];
	uint16_t n_own4, n_bcast4, n_own6;
	uint32_t own4[ESPGW_INPUT_MAX];	  /* network byte order */
	uint32_t bcast4[ESPGW_INPUT_MAX]; /* subnet-directed broadcasts (prefixes up to /30) */
	uint64_t own6[ESPGW_INPUT_MAX][2];
};

/* From the ports' addresses and MACs (link-local addresses). */
void espgw_input_build(
		struct espgw_input *in, const struct espgw_store *s, const struct espgw_ports *p);

/* How a packet came: what some rules depend on. */
enum espgw_input_from {
	ESPGW_FROM_UNICAST, /* a frame for the port's MAC */
	ESPGW_FROM_GROUP,   /* a frame for a link-layer broadcast or multicast address */
	ESPGW_FROM_TUNNEL,  /* out of a tunnel: no link, so no link-local address either */
};

/*
 * The rules themselves, for a packet the shortcut could not clear (L3 at
 * ip, family by the function). ESPGW_DROP_MAX when it may go on.
 */
enum espgw_drop espgw_input_check4(const struct espgw_input *in, const struct rte_ipv4_hdr *ip,
		enum espgw_input_from from);
enum espgw_drop espgw_input_check6(const struct espgw_input *in, const struct rte_ipv6_hdr *ip,
		enum espgw_input_from from);

/*
 * The verdict on a parsed packet whose L3 header is at l3: ESPGW_DROP_MAX
 * when it may go on.
 */
static inline enum espgw_drop
espgw_input_rules(const struct espgw_input *in, const uint8_t *l3, bool v4,
		enum espgw_input_from from)
{
	bool plain = from == ESPGW_FROM_UNICAST;

	if (v4) {
		if (likely(plain && (in->first4[l3[12]] | in->first4[l3[16]] | in->last4[l3[15]] |
						    in->last4[l3[19]]) == 0))
			return ESPGW_DROP_MAX;
		return espgw_input_check4(in, (const struct rte_ipv4_hdr *)l3, from);
	}
	if (likely(plain && (in->first6[l3[8]] | in->first6[l3[24]] | in->last6[l3[23]]) == 0))
		return ESPGW_DROP_MAX;
	return espgw_input_check6(in, (const struct rte_ipv6_hdr *)l3, from);
}

/*
 * What came out of a tunnel (L3 at m->l2_len, family in packet_type). Its
 * shortcut is the same: link-local addresses are special in the tables.
 */
static inline enum espgw_drop
espgw_input_rules_tunnel(const struct espgw_input *in, const struct rte_mbuf *m)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	bool v4 = RTE_ETH_IS_IPV4_HDR(m->packet_type);

	if (likely(v4 && (in->first4[l3[12]] | in->first4[l3[16]] | in->last4[l3[15]] |
					 in->last4[l3[19]]) == 0))
		return ESPGW_DROP_MAX;
	if (likely(!v4 && (in->first6[l3[8]] | in->first6[l3[24]] | in->last6[l3[23]]) == 0))
		return ESPGW_DROP_MAX;
	return v4 ? espgw_input_check4(in, (const struct rte_ipv4_hdr *)l3, ESPGW_FROM_TUNNEL)
		  : espgw_input_check6(in, (const struct rte_ipv6_hdr *)l3, ESPGW_FROM_TUNNEL);
}

#endif
