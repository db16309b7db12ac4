/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsing and header edits shared by the burst stages. Parsing checks
 * every length against what the frame holds, so a crafted header can never
 * make a later stage read out of bounds.
 */
#ifndef ESPGW_DP_PKT_H
#define ESPGW_DP_PKT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "espgw_drop.h"

/* Result of parsing the frame at the mbuf's data start. */
enum pkt_class {
	PKT_IPV4,
	PKT_IPV6,
	PKT_ARP,      /* for the control path */
	PKT_OTHER_L2, /* unsupported ethertype */
	PKT_BAD,      /* refused L3: the drop reason says why */
};

/*
 * Parse Ethernet + IPv4/IPv6 at offset 0 (l2 = 14) or, with l2 = 0, a bare L3
 * packet. Sets m->l2_len, m->l3_len (IPv6: including extension headers before
 * the upper protocol), m->packet_type (RTE_PTYPE_L3_IPV4, with
 * RTE_PTYPE_L4_FRAG for an IPv4 fragment / RTE_PTYPE_L3_IPV6) and *proto (upper protocol: 50 for ESP). PKT_BAD sets *why: bad_l3
 * (malformed), bad_cksum (RFC 1812 5.2.2: the device's RX checksum verdict
 * when a frame has one, else computed), source_route (IPv4 LSRR/SSRR, IPv6
 * routing header type 0 with segments left).
 */
enum pkt_class pkt_parse(struct rte_mbuf *m, uint16_t l2, uint8_t *proto, enum espgw_drop *why);

/*
 * A parsed IPv6 packet addressed to the gateway: the extension headers before
 * its upper layer are ours to process (RFC 8200 4). ESPGW_DROP_MAX when they
 * hold nothing we must refuse, else source_route (a routing header with
 * segments left: we implement no routing type, 4.4) or ipv6_option (an
 * unknown option whose type says discard, 4.2).
 */
enum espgw_drop pkt_ipv6_local_check(const struct rte_mbuf *m);

/* Decrement TTL / hop limit of the L3 header at offset off; -1 when it expires. */
int pkt_ttl_dec(struct rte_mbuf *m, uint16_t off);

/* Would forwarding expire it (TTL / hop limit 1 or 0)? The packet is not changed. */
static inline bool
pkt_ttl_expired(const struct rte_mbuf *m, uint16_t off)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);

	if ((p[0] >> 4) == 4)
		return ((const struct rte_ipv4_hdr *)p)->time_to_live <= 1;
	return ((const struct rte_ipv6_hdr *)p)->hop_limits <= 1;
}

/* May the packet at off not be fragmented on the way? DF set, or IPv6 (RFC 8200 5). */
static inline bool
pkt_df_or_v6(const struct rte_mbuf *m, uint16_t off)
{
	const struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, off);

	return (ip->version_ihl >> 4) != 4 ||
	       (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) != 0;
}

/*
 * Link mechanics that no security policy covers (they never cross the IPsec
 * boundary: they cannot be forwarded): IPv6 to a link-local or multicast
 * destination (RFC 4291 2.5.6), and neighbor discovery, which RFC 4861 6.1,
 * 7.1 makes arrive with hop limit 255 (from the link itself) and no
 * extension headers here. L3 at m->l2_len, parsed (proto: upper protocol).
 */
static inline bool
pkt_link_mechanics6(const struct rte_mbuf *m, uint8_t proto)
{
	const struct rte_ipv6_hdr *ip;
	uint8_t type;

	if (RTE_ETH_IS_IPV4_HDR(m->packet_type))
		return false;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, m->l2_len);
	if (ip->dst_addr[0] == 0xff ||
			(ip->dst_addr[0] == 0xfe && (ip->dst_addr[1] & 0xc0) == 0x80))
		return true;
	if (proto != IPPROTO_ICMPV6 || ip->hop_limits != 255 || m->l3_len != sizeof(*ip) ||
			rte_pktmbuf_data_len(m) <= m->l2_len + sizeof(*ip))
		return false;
	type = *((const uint8_t *)(ip + 1));
	return type >= 133 && type <= 137; /* RS, RA, NS, NA, redirect */
}

/*
 * The UDP header of a parsed, unfragmented UDP datagram (proto from
 * pkt_parse), NULL for anything else. IPv6 fragments keep proto 44, so only
 * IPv4 needs the offset check.
 */
static inline const struct rte_udp_hdr *
pkt_udp(const struct rte_mbuf *m, uint8_t proto)
{
	uint32_t off = (uint32_t)m->l2_len + m->l3_len;

	if (proto != IPPROTO_UDP || rte_pktmbuf_data_len(m) < off + sizeof(struct rte_udp_hdr))
		return NULL;
	if (RTE_ETH_IS_IPV4_HDR(m->packet_type) &&
			(rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len)
							->fragment_offset &
					rte_cpu_to_be_16(~RTE_IPV4_HDR_DF_FLAG)) != 0)
		return NULL;
	return rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, off);
}

/*
 * A fragment (parsed packet, L3 at off): IPv4 MF or an offset; IPv6 a
 * fragment header among the headers pkt_parse walked (it stops at one, so
 * it is the last: proto 44 after the headers in l3_len).
 */
bool pkt_is_fragment(const struct rte_mbuf *m, uint16_t off);

static inline uint32_t
pkt_ipv4_dst(const struct rte_mbuf *m, uint16_t off)
{
	return rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, off)->dst_addr;
}

#endif
