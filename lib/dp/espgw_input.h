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
 * broadcast addresses of its IPv4 subnets. A gateway has a handful of each,
 * so a linear scan is what the data path does with them.
 */
#ifndef ESPGW_INPUT_H
#define ESPGW_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "espgw_drop.h"
#include "espgw_port.h"
#include "espgw_store.h"

#define ESPGW_INPUT_MAX (ESPGW_MAX_PORTS * (ESPGW_PORT_ADDR_MAX + 1))

struct espgw_input {
	uint16_t n_own4, n_bcast4, n_own6;
	uint32_t own4[ESPGW_INPUT_MAX];	  /* network byte order */
	uint32_t bcast4[ESPGW_INPUT_MAX]; /* subnet-directed broadcasts (prefixes up to /30) */
	uint64_t own6[ESPGW_INPUT_MAX][2];
};

/* From the ports' addresses and MACs (link-local addresses). */
void espgw_input_build(
		struct espgw_input *in, const struct espgw_store *s, const struct espgw_ports *p);

static inline bool
espgw_input_has4(const uint32_t *set, uint16_t n, uint32_t a)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		if (set[i] == a)
			return true;
	return false;
}

static inline bool
espgw_input_own6(const struct espgw_input *in, const uint64_t a[2])
{
	uint16_t i;

	for (i = 0; i < in->n_own6; i++)
		if (in->own6[i][0] == a[0] && in->own6[i][1] == a[1])
			return true;
	return false;
}

/* 0/8, 127/8 (RFC 1812 5.3.7), 224/4 and 240/4: multicast, reserved, broadcast. */
static inline bool
espgw_input_martian_src4(uint32_t s)
{
	return s >> 24 == 0 || s >> 24 == 127 || s >> 28 >= 0xe;
}

/* 0/8, 127/8, 240/4 except the limited broadcast (a destination, just not one we forward). */
static inline bool
espgw_input_martian_dst4(uint32_t d)
{
	return d >> 24 == 0 || d >> 24 == 127 || (d >> 28 == 0xf && d != UINT32_MAX);
}

static inline enum espgw_drop
espgw_input_rules4(const struct espgw_input *in, const struct rte_ipv4_hdr *ip, bool l2_group)
{
	uint32_t s = rte_be_to_cpu_32(ip->src_addr), d = rte_be_to_cpu_32(ip->dst_addr);

	if (espgw_input_martian_src4(s) || espgw_input_has4(in->bcast4, in->n_bcast4, ip->src_addr))
		return ESPGW_DROP_MARTIAN_SRC;
	if (espgw_input_martian_dst4(d))
		return ESPGW_DROP_MARTIAN_DST;
	if (espgw_input_has4(in->own4, in->n_own4, ip->src_addr))
		return ESPGW_DROP_OWN_SRC;
	if (d >> 28 == 0xe || d == UINT32_MAX ||
			espgw_input_has4(in->bcast4, in->n_bcast4, ip->dst_addr))
		return ESPGW_DROP_BCAST_MCAST_DST;
	if (l2_group)
		return ESPGW_DROP_L2_GROUP_UNICAST;
	/* RFC 3927 7: 169.254/16 stays on its link, unless it is to us. */
	if ((s >> 16 == 0xa9fe || d >> 16 == 0xa9fe) &&
			!espgw_input_has4(in->own4, in->n_own4, ip->dst_addr))
		return ESPGW_DROP_LINK_LOCAL;
	return ESPGW_DROP_MAX;
}

/* The address as two 64-bit words (network byte order in memory). */
static inline void
espgw_input_words6(const uint8_t *a, uint64_t w[2])
{
	memcpy(w, a, 16);
}

/* ::, ::1 and ::ffff:0:0/96 (RFC 4291 2.5.2, 2.5.3, 2.5.5.2): none is an address on a wire. */
static inline bool
espgw_input_special6(const uint64_t a[2])
{
	uint64_t lo = rte_be_to_cpu_64(a[1]);

	return a[0] == 0 && (lo <= 1 || lo >> 32 == 0xffff);
}

static inline bool
espgw_input_ll6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/*
 * The unspecified source is a node without an address yet: valid only
 * towards link-scope multicast (RFC 4862 5.4 DAD, RFC 3810 5.2.13).
 */
static inline bool
espgw_input_martian_src6(const uint64_t s[2], const uint8_t *sb, const uint8_t *db)
{
	if (sb[0] == 0xff)
		return true;
	if (!espgw_input_special6(s))
		return false;
	return !(s[1] == 0 && db[0] == 0xff && (db[1] & 0x0f) == 2);
}

static inline enum espgw_drop
espgw_input_rules6(const struct espgw_input *in, const struct rte_ipv6_hdr *ip, bool l2_group)
{
	const uint8_t *sb = ip->src_addr, *db = ip->dst_addr;
	uint64_t s[2], d[2];

	espgw_input_words6(sb, s);
	espgw_input_words6(db, d);
	if (espgw_input_martian_src6(s, sb, db))
		return ESPGW_DROP_MARTIAN_SRC;
	/* RFC 4291 2.7: scope 0 is reserved, scope 1 never leaves its node. */
	if (espgw_input_special6(d) || (db[0] == 0xff && (db[1] & 0x0f) <= 1))
		return ESPGW_DROP_MARTIAN_DST;
	if (espgw_input_own6(in, s))
		return ESPGW_DROP_OWN_SRC;
	if (l2_group && db[0] != 0xff)
		return ESPGW_DROP_L2_GROUP_UNICAST;
	/* RFC 4291 2.5.6: a link-local source may reach us, or the link, nothing further. */
	if (espgw_input_ll6(sb) && db[0] != 0xff && !espgw_input_ll6(db) &&
			!espgw_input_own6(in, d))
		return ESPGW_DROP_LINK_LOCAL;
	return ESPGW_DROP_MAX;
}

/*
 * The verdict on a parsed packet (L3 at m->l2_len, family in packet_type):
 * ESPGW_DROP_MAX when it may go on. l2_group: it came in a frame sent to a
 * link-layer broadcast or multicast address.
 */
static inline enum espgw_drop
espgw_input_rules(const struct espgw_input *in, const struct rte_mbuf *m, bool l2_group)
{
	const void *l3 = rte_pktmbuf_mtod_offset(m, const void *, m->l2_len);

	if (RTE_ETH_IS_IPV4_HDR(m->packet_type))
		return espgw_input_rules4(in, l3, l2_group);
	return espgw_input_rules6(in, l3, l2_group);
}

#endif
