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
 * two table reads and a hash probe or two.
 */
#ifndef ESPGW_INPUT_H
#define ESPGW_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "espgw_drop.h"
#include "espgw_port.h"
#include "espgw_store.h"

#define ESPGW_INPUT_MAX (ESPGW_MAX_PORTS * (ESPGW_PORT_ADDR_MAX + 1))
/* Open addressing at most a quarter full: a probe nearly always finds its slot at once. */
#define ESPGW_INPUT_SLOTS4 2048
#define ESPGW_INPUT_SLOTS6 1024

struct espgw_input {
	/*
	 * The data path's shortcut: most packets have ordinary unicast
	 * addresses, far from every rule. Nonzero by first octet (first byte for
	 * IPv6) where an address may be special (0, 127, 169, 224-255; ::/8,
	 * fe00::/8, ff00::/8); hash sets of the sources the rules refuse (our
	 * own addresses, broadcasts) and of the destinations (broadcasts; not
	 * our own addresses, which every packet for the gateway has). A packet
	 * in none of them, that did not come to a group MAC, needs no closer look.
	 */
	uint8_t first4[256], first6[256];
	uint32_t src4[ESPGW_INPUT_SLOTS4]; /* network byte order; 0 (never ours) = empty */
	uint32_t dst4[ESPGW_INPUT_SLOTS4];
	uint64_t src6[ESPGW_INPUT_SLOTS6][2]; /* :: (never ours) = empty */
	/* The same as lists, for the rules themselves. */
	uint16_t n_own4, n_bcast4, n_own6;
	uint32_t own4[ESPGW_INPUT_MAX];	  /* network byte order */
	uint32_t bcast4[ESPGW_INPUT_MAX]; /* subnet-directed broadcasts (prefixes up to /30) */
	uint64_t own6[ESPGW_INPUT_MAX][2];
	/*
	 * A port has a host interface: IKE to the gateway goes to the kernel
	 * past the inbound SPD (lib/dp/inbound.c). Without one nothing would
	 * take it: it stays the SPD's, so that no rule-less traffic reaches the
	 * control path's ring.
	 */
	bool ike_up;
};

static inline uint32_t
espgw_input_slot4(uint32_t a)
{
	return (a * 0x9e3779b1u) >> 21; /* Fibonacci hashing into 2048 slots */
}

static inline uint32_t
espgw_input_slot6(const uint64_t a[2])
{
	return (uint32_t)(((a[0] ^ a[1]) * 0x9e3779b97f4a7c15ull) >> 54); /* 1024 slots */
}

/* Is the address at p (4 bytes, as in the packet) in set? */
static inline bool
espgw_input_in4(const uint32_t set[ESPGW_INPUT_SLOTS4], const uint8_t *p)
{
	uint32_t a, i;

	memcpy(&a, p, sizeof(a));
	for (i = espgw_input_slot4(a); set[i] != 0; i = (i + 1) & (ESPGW_INPUT_SLOTS4 - 1))
		if (set[i] == a)
			return true;
	return false;
}

static inline bool
espgw_input_in6(const uint64_t set[ESPGW_INPUT_SLOTS6][2], const uint8_t *p)
{
	uint64_t a[2];
	uint32_t i;

	memcpy(a, p, sizeof(a));
	for (i = espgw_input_slot6(a); (set[i][0] | set[i][1]) != 0;
			i = (i + 1) & (ESPGW_INPUT_SLOTS6 - 1))
		if (set[i][0] == a[0] && set[i][1] == a[1])
			return true;
	return false;
}

/* The shortcut (struct espgw_input): true when no rule can apply to the addresses at l3. */
static inline bool
espgw_input_plain4(const struct espgw_input *in, const uint8_t *l3)
{
	return (in->first4[l3[12]] | in->first4[l3[16]]) == 0 &&
	       !espgw_input_in4(in->src4, l3 + 12) && !espgw_input_in4(in->dst4, l3 + 16);
}

static inline bool
espgw_input_plain6(const struct espgw_input *in, const uint8_t *l3)
{
	return (in->first6[l3[8]] | in->first6[l3[24]]) == 0 && !espgw_input_in6(in->src6, l3 + 8);
}

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
		if (likely(plain && espgw_input_plain4(in, l3)))
			return ESPGW_DROP_MAX;
		return espgw_input_check4(in, (const struct rte_ipv4_hdr *)l3, from);
	}
	if (likely(plain && espgw_input_plain6(in, l3)))
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

	if (RTE_ETH_IS_IPV4_HDR(m->packet_type))
		return likely(espgw_input_plain4(in, l3))
				       ? ESPGW_DROP_MAX
				       : espgw_input_check4(in, (const struct rte_ipv4_hdr *)l3,
							 ESPGW_FROM_TUNNEL);
	return likely(espgw_input_plain6(in, l3))
			       ? ESPGW_DROP_MAX
			       : espgw_input_check6(in, (const struct rte_ipv6_hdr *)l3,
						 ESPGW_FROM_TUNNEL);
}

#endif
