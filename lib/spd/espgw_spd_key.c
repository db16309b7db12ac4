/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPD selectors from a packet (RFC 4301 4.4.1.1): addresses, next layer
 * protocol and ports, every read bounded by the bytes present and by the
 * header's own length field (bytes past it are link padding, not payload).
 *
 * Selector choices:
 * - Non-initial fragments carry no ports: sport = dport = 0 (RFC 4301 7.1 calls
 *   them OPAQUE; a policy that needs ports does not match them).
 * - ICMP and ICMPv6: RFC 4301 4.4.1.1 uses the message type and code in place
 *   of ports; here the type goes in sport and the code in dport, so
 *   "sport 8 dport 0" selects echo requests.
 * - IPv6: hop-by-hop, routing, destination options and fragment headers are
 *   walked to the upper protocol; ESP, AH and no-next-header stop the walk and
 *   are the protocol (ports 0).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "espgw_spd.h"

#define PROTO_HOPOPTS  0
#define PROTO_ICMP     1
#define PROTO_TCP      6
#define PROTO_UDP      17
#define PROTO_ROUTING  43
#define PROTO_FRAGMENT 44
#define PROTO_ICMPV6   58
#define PROTO_DSTOPTS  60
#define PROTO_SCTP     132

/* Most IPv6 extension headers walked; a longer chain is refused. */
#define EXT_MAX 8

/* Ports (or ICMP type/code) from the first bytes of the upper-layer header. */
static int
l4_ports(const uint8_t *l4, uint32_t len, uint8_t proto, uint16_t *sport, uint16_t *dport)
{
	switch (proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_SCTP:
		if (len < 4)
			return -1;
		memcpy(sport, l4, 2);
		memcpy(dport, l4 + 2, 2);
		return 0;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if (len < 2)
			return -1;
		*sport = rte_cpu_to_be_16(l4[0]);
		*dport = rte_cpu_to_be_16(l4[1]);
		return 0;
	default:
		return 0;
	}
}

int
espgw_spd_key4_extract(const void *ip4, uint32_t len, struct espgw_spd_key4 *k)
{
	const struct rte_ipv4_hdr *h = ip4;
	uint16_t sport = 0, dport = 0;
	uint32_t hl, tot;

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
	memset(k, 0, sizeof(*k));
	k->proto = h->next_proto_id;
	k->src = h->src_addr;
	k->dst = h->dst_addr;
	k->frag_id = h->packet_id;
	if ((rte_be_to_cpu_16(h->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) != 0) {
		k->frag = ESPGW_SPD_FRAG_LATER;
		return 0; /* non-initial fragment: ports OPAQUE */
	}
	if ((rte_be_to_cpu_16(h->fragment_offset) & RTE_IPV4_HDR_MF_FLAG) != 0)
		k->frag = ESPGW_SPD_FRAG_FIRST;
	if (l4_ports((const uint8_t *)ip4 + hl, len - hl, k->proto, &sport, &dport) < 0)
		return -1;
	k->sport = sport;
	k->dport = dport;
	return 0;
}

/*
 * Step over the extension header at *off (RFC 8200 4). Returns 1 when another
 * header follows, 0 at the upper layer, 2 after a non-first fragment header,
 * -1 when the header does not fit in len. A fragment header's kind and
 * identification go to k (an atomic fragment, RFC 6946, is no fragment).
 */
static int
ext_step(const uint8_t *p, uint32_t len, uint32_t *off, uint8_t *nh, struct espgw_spd_key6 *k)
{
	uint16_t frag;

	switch (*nh) {
	case PROTO_HOPOPTS:
	case PROTO_ROUTING:
	case PROTO_DSTOPTS:
		if (len - *off < 2)
			return -1;
		*nh = p[*off];
		*off += ((uint32_t)p[*off + 1] + 1) * 8;
		return *off <= len ? 1 : -1;
	case PROTO_FRAGMENT:
		if (len - *off < 8)
			return -1;
		*nh = p[*off];
		memcpy(&frag, p + *off + 2, sizeof(frag));
		memcpy(&k->frag_id, p + *off + 4, sizeof(k->frag_id));
		*off += 8;
		frag = rte_be_to_cpu_16(frag);
		if ((frag & 0xfff8) != 0) {
			k->frag = ESPGW_SPD_FRAG_LATER;
			return 2;
		}
		k->frag = (frag & 1) != 0 ? ESPGW_SPD_FRAG_FIRST : ESPGW_SPD_FRAG_NONE;
		return 1;
	default:
		return 0;
	}
}

int
espgw_spd_key6_extract(const void *ip6, uint32_t len, struct espgw_spd_key6 *k)
{
	const struct rte_ipv6_hdr *h = ip6;
	const uint8_t *p = ip6;
	uint16_t sport = 0, dport = 0;
	uint32_t off = sizeof(*h), i;
	uint8_t nh = h->proto;
	int rc = 1;

	if (len < sizeof(*h) || (p[0] >> 4) != 6)
		return -1;
	if (sizeof(*h) + rte_be_to_cpu_16(h->payload_len) < len)
		len = sizeof(*h) + rte_be_to_cpu_16(h->payload_len);
	memset(k, 0, sizeof(*k));
	memcpy(k->src, h->src_addr, sizeof(k->src));
	memcpy(k->dst, h->dst_addr, sizeof(k->dst));
	for (i = 0; i <= EXT_MAX && rc == 1; i++)
		rc = ext_step(p, len, &off, &nh, k);
	k->proto = nh;
	if (rc < 0 || rc == 1)
		return -1; /* truncated, or a chain longer than EXT_MAX */
	if (rc == 2)
		return 0; /* non-initial fragment: ports OPAQUE */
	if (l4_ports(p + off, len - off, nh, &sport, &dport) < 0)
		return -1;
	k->sport = sport;
	k->dport = dport;
	return 0;
}
