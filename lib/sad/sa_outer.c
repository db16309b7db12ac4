/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outer header of an outbound tunnel SA: a template built once at setup
 * (rte_ipsec copies it in front of ESP and writes the IPv4 total length and
 * packet id, or the IPv6 payload length, itself), and a fixup chosen per SA
 * for what depends on the inner packet: DSCP and ECN, DF, and the IPv4 header
 * checksum, which rte_ipsec leaves to the application.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "sad_int.h"

#define TTL_DEFAULT 64
#define DSCP_SHIFT  2	 /* DSCP is the upper six bits of TOS / traffic class */
#define TOS_ALL	    0xff /* copy DSCP and ECN */
#define TOS_ECN	    RTE_IPV4_HDR_ECN_MASK

static uint8_t
tmpl_tos(const struct espgw_sa_conf *sa)
{
	return sa->dscp_mode == ESPGW_HDR_SET ? (uint8_t)(sa->dscp << DSCP_SHIFT) : 0;
}

static uint8_t
tmpl_v4(const struct espgw_sa_conf *sa, struct rte_ipv4_hdr *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = tmpl_tos(sa);
	if (sa->df_mode == ESPGW_HDR_SET)
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = sa->ttl != 0 ? sa->ttl : TTL_DEFAULT;
	/* RFC 3948 2.1: rte_ipsec puts the UDP header behind this one. */
	ip->next_proto_id = sa->encap_udp ? IPPROTO_UDP : IPPROTO_ESP;
	ip->src_addr = sa->local.v4;
	ip->dst_addr = sa->remote.v4;
	return sizeof(*ip);
}

/* RFC 6437 4: a tunnel endpoint may set the outer flow label; 0 unless configured. */
static uint8_t
tmpl_v6(const struct espgw_sa_conf *sa, struct rte_ipv6_hdr *ip)
{
	uint32_t fl = sa->has_flow_label ? sa->flow_label & RTE_IPV6_HDR_FL_MASK : 0;

	memset(ip, 0, sizeof(*ip));
	ip->vtc_flow = rte_cpu_to_be_32(
			6u << 28 | (uint32_t)tmpl_tos(sa) << RTE_IPV6_HDR_TC_SHIFT | fl);
	ip->proto = sa->encap_udp ? IPPROTO_UDP : IPPROTO_ESP;
	ip->hop_limits = sa->ttl != 0 ? sa->ttl : TTL_DEFAULT;
	memcpy(ip->src_addr, sa->local.v6, sizeof(ip->src_addr));
	memcpy(ip->dst_addr, sa->remote.v6, sizeof(ip->dst_addr));
	return sizeof(*ip);
}

uint8_t
espgw_sa_outer_tmpl(const struct espgw_sa_conf *sa, uint8_t hdr[ESPGW_SA_TMPL_MAX])
{
	if (sa->local.family == ESPGW_AF_INET)
		return tmpl_v4(sa, (struct rte_ipv4_hdr *)hdr);
	return tmpl_v6(sa, (struct rte_ipv6_hdr *)hdr);
}

/*
 * Per packet only TOS, total length, packet id and DF change (rte_ipsec writes
 * the middle two), so the checksum is the per-SA sum of every other word plus
 * those four, folded: RFC 1071 sums are byte-order independent, so raw
 * 16-bit loads are fine.
 */
uint32_t
espgw_sa_outer_csum(const uint8_t hdr[ESPGW_SA_TMPL_MAX])
{
	struct rte_ipv4_hdr t;

	memcpy(&t, hdr, sizeof(t));
	t.version_ihl = 0;
	t.type_of_service = 0;
	t.total_length = 0;
	t.packet_id = 0;
	t.fragment_offset = 0;
	t.hdr_checksum = 0;
	return rte_raw_cksum(&t, sizeof(t));
}

void
espgw_sa_outer_fixed(const uint8_t hdr[ESPGW_SA_TMPL_MAX], uint8_t *tos, rte_be16_t *frag)
{
	const struct rte_ipv4_hdr *ip4 = (const struct rte_ipv4_hdr *)hdr;
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)hdr;

	if ((hdr[0] >> 4) == IPVERSION) {
		*tos = ip4->type_of_service;
		*frag = ip4->fragment_offset;
	} else {
		*tos = (uint8_t)(rte_be_to_cpu_32(ip6->vtc_flow) >> RTE_IPV6_HDR_TC_SHIFT);
		*frag = 0;
	}
}

/* The first header word as it lies in memory: version and IHL, then TOS. */
static inline uint16_t
v4_word0(uint8_t tos)
{
	const uint8_t b[2] = {RTE_IPV4_VHL_DEF, tos};
	uint16_t w;

	memcpy(&w, b, sizeof(w));
	return w;
}

static inline uint16_t
v4_cksum(uint32_t base, uint16_t word0, const struct rte_ipv4_hdr *ip, rte_be16_t frag)
{
	uint32_t sum = base + word0 + ip->total_length + ip->packet_id + frag;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * tos_mask selects what comes from the inner header: ECN always (RFC 6040
 * 4.1 normal mode: the outer ECN field is a copy of the inner one), DSCP too
 * when the SA copies it (RFC 2983 uniform model). df_bit is the inner DF
 * (network order) when the SA copies DF, else 0 and the template decides.
 * TOS and flags come from the SA, not from the header rte_ipsec has just
 * copied: only the two fields it wrote itself are read back (the perf
 * profile had most of this function's time on a load of the copied flags).
 */
static inline void
fix_v4(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t tos_mask, uint8_t inner_tos,
		rte_be16_t df_bit)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint8_t tos = (sa->outer_tos & ~tos_mask) | (inner_tos & tos_mask);
	rte_be16_t frag = sa->outer_frag | df_bit;

	ip->type_of_service = tos;
	ip->fragment_offset = frag;
	ip->hdr_checksum = v4_cksum(sa->outer_csum, v4_word0(tos), ip, frag);
}

static inline void
fix_v6(struct rte_mbuf *m, uint8_t tos_mask, uint8_t inner_tos)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	uint32_t mask = (uint32_t)tos_mask << RTE_IPV6_HDR_TC_SHIFT;
	uint32_t v = rte_be_to_cpu_32(ip->vtc_flow);

	v = (v & ~mask) | (((uint32_t)inner_tos << RTE_IPV6_HDR_TC_SHIFT) & mask);
	ip->vtc_flow = rte_cpu_to_be_32(v);
}

static inline rte_be16_t
df_of(uint8_t inner_df)
{
	return rte_cpu_to_be_16((uint16_t)(inner_df << RTE_IPV4_HDR_DF_SHIFT));
}

static void
v4_dscp_copy_df_copy(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t tos, uint8_t df)
{
	fix_v4(sa, m, TOS_ALL, tos, df_of(df));
}

static void
v4_dscp_copy_df_fixed(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t tos, uint8_t df)
{
	RTE_SET_USED(df);
	fix_v4(sa, m, TOS_ALL, tos, 0);
}

static void
v4_dscp_set_df_copy(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t tos, uint8_t df)
{
	fix_v4(sa, m, TOS_ECN, tos, df_of(df));
}

static void
v4_dscp_set_df_fixed(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t tos, uint8_t df)
{
	RTE_SET_USED(df);
	fix_v4(sa, m, TOS_ECN, tos, 0);
}

/* IPv6 has no DF: the outer packet is never fragmented on the way (RFC 8200 5). */
static void
v6_dscp_copy(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t tos, uint8_t df)
{
	RTE_SET_USED(sa);
	RTE_SET_USED(df);
	fix_v6(m, TOS_ALL, tos);
}

static void
v6_dscp_set(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t tos, uint8_t df)
{
	RTE_SET_USED(sa);
	RTE_SET_USED(df);
	fix_v6(m, TOS_ECN, tos);
}

/*
 * Transport mode keeps the packet's own header (RFC 4303 3.1.1); rte_ipsec
 * changed its total length and protocol, not its checksum.
 */
static void
v4_transport(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t tos, uint8_t df)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	RTE_SET_USED(sa);
	RTE_SET_USED(tos);
	RTE_SET_USED(df);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/*
 * IPv6 has no header checksum; a transport SA in UDP gets its IPv4 one
 * from lib/esp, once the UDP header is in (esp_trs_udp.c).
 */
static void
trs_nothing(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t tos, uint8_t df)
{
	RTE_SET_USED(sa);
	RTE_SET_USED(m);
	RTE_SET_USED(tos);
	RTE_SET_USED(df);
}

espgw_sa_fixup_t
espgw_sa_outb_fixup_pick(const struct espgw_sa_conf *sa)
{
	bool dscp_copy = sa->dscp_mode == ESPGW_HDR_COPY;
	bool df_copy = sa->df_mode == ESPGW_HDR_COPY;

	if (sa->mode == ESPGW_SA_TRANSPORT)
		return sa->local.family == ESPGW_AF_INET6 || sa->encap_udp ? trs_nothing
									   : v4_transport;
	if (sa->local.family == ESPGW_AF_INET6)
		return dscp_copy ? v6_dscp_copy : v6_dscp_set;
	if (dscp_copy)
		return df_copy ? v4_dscp_copy_df_copy : v4_dscp_copy_df_fixed;
	return df_copy ? v4_dscp_set_df_copy : v4_dscp_set_df_fixed;
}
