/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPD keys from a packet: IPv4's from its selectors (espgw_spd_sel.h, which
 * says what they are); IPv6's here: hop-by-hop, routing, destination options
 * and fragment headers are walked to the upper protocol; ESP, AH and
 * no-next-header stop the walk and are the protocol (ports 0).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "espgw_spd_sel.h"

#define PROTO_HOPOPTS  0
#define PROTO_ROUTING  43
#define PROTO_FRAGMENT 44
#define PROTO_DSTOPTS  60

/* Most IPv6 extension headers walked; a longer chain is refused. */
#define EXT_MAX 8

int
espgw_spd_key4_extract(const void *ip4, uint32_t len, struct espgw_spd_key4 *k)
{
	struct espgw_spd_sel4 s;

	if (espgw_spd_sel4_get(ip4, len, &s) < 0)
		return -1;
	espgw_spd_key4_set(k, &s);
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
			k->frag_off = frag & 0xfff8;
			return 2;
		}
		k->frag = (frag & 1) != 0 ? ESPGW_SPD_FRAG_FIRST : ESPGW_SPD_FRAG_NONE;
		k->frag_off = (uint16_t)*off; /* where the fragmentable part starts, for now */
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
	uint32_t off = sizeof(*h), i, ports = 0;
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
	if (espgw_spd_l4_ports(p + off, len - off, nh, &ports) < 0)
		return -1;
	memcpy(&k->sport, &ports, sizeof(ports)); /* sport, then dport */
	if (k->frag == ESPGW_SPD_FRAG_FIRST) {
		uint32_t end = off - k->frag_off;

		if (nh == IPPROTO_TCP || nh == IPPROTO_UDP || nh == IPPROTO_SCTP)
			end += 4;
		else if (nh == IPPROTO_ICMPV6)
			end += 2;
		k->frag_off = (uint16_t)RTE_MIN(end, (uint32_t)UINT16_MAX);
	}
	return 0;
}
