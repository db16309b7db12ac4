/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An IPv4 packet's SPD selectors (RFC 4301 4.4.1.1) as values, the one
 * definition of what a key holds (espgw_spd_key.c stores them in a key). The
 * data path matches them against a scan's rules without a key in memory
 * (lib/dp/classify.c): writing each packet's key, a pointer to it, and
 * reading both back in a second pass cost 7-8 cycles a packet (inbound
 * GCM-128 at 64 B, the worker's minimum over full bursts 272 -> 264: README,
 * "The policy in one pass"). Inline for that reason.
 *
 * Every read is bounded by the bytes present and by the header's own length
 * field (bytes past it are link padding, not payload). Selector choices:
 * - Non-initial fragments carry no ports: 0 and 0 (RFC 4301 7.1 calls them
 *   OPAQUE; a policy that needs ports does not match them).
 * - ICMP and ICMPv6: RFC 4301 4.4.1.1 uses the message type and code in place
 *   of ports; here the type goes in sport and the code in dport, so
 *   "sport 8 dport 0" selects echo requests.
 */
#ifndef ESPGW_SPD_SEL_H
#define ESPGW_SPD_SEL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "espgw_spd.h"

struct espgw_spd_sel4 {
	uint32_t src, dst; /* network order */
	uint32_t ports;	   /* sport then dport as in memory, network order each */
	uint16_t frag_id;  /* network order */
	uint8_t proto;
	uint8_t frag; /* ESPGW_SPD_FRAG_* */
};

_Static_assert(offsetof(struct espgw_spd_key4, dport) == offsetof(struct espgw_spd_key4, sport) + 2,
		"a key's ports adjacent, as in the L4 header");
_Static_assert(offsetof(struct espgw_spd_key6, dport) == offsetof(struct espgw_spd_key6, sport) + 2,
		"a key's ports adjacent, as in the L4 header");

/*
 * Ports (or ICMP type / code) from the first bytes of the upper-layer header
 * of len bytes, in *ports as a key holds them; left alone for a protocol
 * without ports. -1 when the header is too short for them.
 */
static inline int
espgw_spd_l4_ports(const uint8_t *l4, uint32_t len, uint8_t proto, uint32_t *ports)
{
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (len < 4)
			return -1;
		memcpy(ports, l4, 4);
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (len < 2)
			return -1;
		*ports = rte_cpu_to_be_32((uint32_t)l4[0] << 16 | l4[1]);
		return 0;
	default:
		return 0;
	}
}

/*
 * The selectors of the IPv4 header at ip4 with len bytes available (at least
 * the fixed header). 0, or -1 when the header is truncated or malformed.
 */
static inline int
espgw_spd_sel4_get(const void *ip4, uint32_t len, struct espgw_spd_sel4 *s)
{
	const struct rte_ipv4_hdr *h = ip4;
	uint32_t hl, tot, ports = 0;
	uint16_t fo;

	if (len < sizeof(*h) || (h->version_ihl >> 4) != 4)
		return -1;
	hl = (uint32_t)(h->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	tot = rte_be_to_cpu_16(h->total_length);
	if (hl < sizeof(*h) || tot < hl)
		return -1;
	if (tot < len)
		len = tot;
	if (hl > len)
		return -1;
	s->src = h->src_addr;
	s->dst = h->dst_addr;
	s->proto = h->next_proto_id;
	s->frag_id = h->packet_id;
	fo = rte_be_to_cpu_16(h->fragment_offset);
	if ((fo & RTE_IPV4_HDR_OFFSET_MASK) != 0) {
		s->frag = ESPGW_SPD_FRAG_LATER; /* ports OPAQUE */
		s->ports = 0;
		return 0;
	}
	s->frag = (fo & RTE_IPV4_HDR_MF_FLAG) != 0 ? ESPGW_SPD_FRAG_FIRST : ESPGW_SPD_FRAG_NONE;
	if (espgw_spd_l4_ports((const uint8_t *)ip4 + hl, len - hl, s->proto, &ports) < 0)
		return -1;
	s->ports = ports;
	return 0;
}

/* The key (rte_acl's input, the fragment state's) of these selectors. */
static inline void
espgw_spd_key4_set(struct espgw_spd_key4 *k, const struct espgw_spd_sel4 *s)
{
	memset(k, 0, sizeof(*k));
	k->proto = s->proto;
	k->src = s->src;
	k->dst = s->dst;
	memcpy(&k->sport, &s->ports, sizeof(s->ports)); /* sport, then dport */
	k->frag = s->frag;
	k->frag_id = s->frag_id;
}

#endif
