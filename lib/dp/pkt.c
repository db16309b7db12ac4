/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "pkt.h"

#define IPV6_EXT_MAX 8 /* extension headers walked before giving up */

/*
 * l2_len and l3_len in one 64-bit store: set one bit-field after the other and
 * the second one's read-modify-write loads what the first one's narrower store
 * has not retired yet, a store-forwarding stall (perf: most of this file's
 * time, on every packet). The rest of tx_offload is unused by espgw.
 */
static inline void
pkt_lens_set(struct rte_mbuf *m, uint16_t l2, uint16_t l3)
{
	m->tx_offload = rte_mbuf_tx_offload(l2, l3, 0, 0, 0, 0, 0);
}

static int
ipv4_check(struct rte_mbuf *m, uint16_t l2, uint8_t *proto)
{
	const struct rte_ipv4_hdr *ip;
	uint32_t avail = rte_pktmbuf_data_len(m) - l2;
	uint16_t ihl, tot;

	if (avail < sizeof(*ip))
		return -1;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, l2);
	ihl = (uint16_t)((ip->version_ihl & 0x0f) * 4);
	tot = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || tot < ihl || tot > avail)
		return -1;
	/* Ethernet padding or trailing garbage beyond the IP datagram is dropped. */
	if (tot < avail)
		rte_pktmbuf_trim(m, (uint16_t)(avail - tot));
	pkt_lens_set(m, l2, ihl);
	*proto = ip->next_proto_id;
	m->packet_type = RTE_PTYPE_L3_IPV4;
	return 0;
}

static int
ipv6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS;
}

/* Walk extension headers (RFC 8200 4) so ESP behind them is still found. */
static int
ipv6_walk(const uint8_t *p, uint32_t avail, uint8_t *proto, uint16_t *len)
{
	uint32_t off = sizeof(struct rte_ipv6_hdr);
	uint8_t nh = ((const struct rte_ipv6_hdr *)p)->proto;
	int i;

	for (i = 0; i < IPV6_EXT_MAX && ipv6_is_ext(nh); i++) {
		if (off + 8 > avail)
			return -1;
		nh = p[off];
		off += (uint32_t)(p[off + 1] + 1) * 8;
	}
	if (ipv6_is_ext(nh) || off > avail)
		return -1;
	*proto = nh;
	*len = (uint16_t)off;
	return 0;
}

static int
ipv6_check(struct rte_mbuf *m, uint16_t l2, uint8_t *proto)
{
	const struct rte_ipv6_hdr *ip;
	uint32_t avail = rte_pktmbuf_data_len(m) - l2;
	uint32_t tot;
	uint16_t l3;

	if (avail < sizeof(*ip))
		return -1;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, l2);
	tot = sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
	if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6 || tot > avail)
		return -1;
	if (tot < avail)
		rte_pktmbuf_trim(m, (uint16_t)(avail - tot));
	if (ipv6_walk((const uint8_t *)ip, tot, proto, &l3) < 0)
		return -1;
	pkt_lens_set(m, l2, l3);
	m->packet_type = RTE_PTYPE_L3_IPV6;
	return 0;
}

static enum pkt_class
pkt_l3(struct rte_mbuf *m, uint16_t l2, uint16_t type, uint8_t *proto)
{
	if (type == RTE_ETHER_TYPE_IPV4 && ipv4_check(m, l2, proto) == 0)
		return PKT_IPV4;
	if (type == RTE_ETHER_TYPE_IPV6 && ipv6_check(m, l2, proto) == 0)
		return PKT_IPV6;
	m->l2_len = l2;
	if (type == RTE_ETHER_TYPE_IPV4 || type == RTE_ETHER_TYPE_IPV6)
		return PKT_BAD;
	return type == RTE_ETHER_TYPE_ARP ? PKT_ARP : PKT_OTHER_L2;
}

enum pkt_class
pkt_parse(struct rte_mbuf *m, uint16_t l2, uint8_t *proto)
{
	uint16_t type;

	/* Multi-segment frames are not produced by our pools (2 KB buffers, no scatter). */
	if (rte_pktmbuf_data_len(m) < l2 + 1 || m->nb_segs != 1)
		return PKT_BAD;
	if (l2 == 0) {
		uint8_t v = *rte_pktmbuf_mtod(m, const uint8_t *) >> 4;

		type = v == 4 ? RTE_ETHER_TYPE_IPV4 : v == 6 ? RTE_ETHER_TYPE_IPV6 : 0;
		return type ? pkt_l3(m, 0, type, proto) : PKT_BAD;
	}
	type = rte_be_to_cpu_16(rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type);
	return pkt_l3(m, l2, type, proto);
}

/*
 * RFC 1624 incremental checksum update: TTL is the high byte of a 16-bit
 * word, so the word drops by 0x0100 and the one's complement sum rises by it.
 */
static void
ipv4_ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint32_t sum = (uint32_t)ip->hdr_checksum + rte_cpu_to_be_16(0x0100);

	ip->time_to_live--;
	ip->hdr_checksum = (uint16_t)(sum + (sum >= 0xffff));
}

int
pkt_ttl_dec(struct rte_mbuf *m, uint16_t off)
{
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, off);

	if ((p[0] >> 4) == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		if (ip->time_to_live <= 1)
			return -1;
		ipv4_ttl_dec(ip);
		return 0;
	}
	if (((struct rte_ipv6_hdr *)p)->hop_limits <= 1)
		return -1;
	((struct rte_ipv6_hdr *)p)->hop_limits--;
	return 0;
}
