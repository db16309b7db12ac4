/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transport mode ESP in UDP (RFC 3948), around rte_ipsec's transport
 * processing. DPDK 22.11's rte_ipsec encapsulates in UDP for tunnel SAs only
 * (its UDP header is part of the outer-header template, which a transport SA
 * does not have, and its transport code puts ESP right behind the packet's
 * own header), so espgw adds and removes the UDP header itself, for the SAs
 * that need it only (espgw_sa_rt.udp, chosen at setup):
 *  - outbound, after the crypto: the UDP header goes between the packet's
 *    header (with its IPv6 extension headers) and ESP (RFC 3948 2.1). The
 *    ICV covers ESP onwards only (RFC 4303 3.1.1), so the order is free.
 *  - inbound, after the crypto and before rte_ipsec_pkt_process: the UDP
 *    header goes, so that rte_ipsec's transport decapsulation sees IP|ESP
 *    and restores the header (protocol, lengths) as for plain ESP.
 *  - inbound, after decapsulation, SAs with nat-oa only: the TCP/UDP
 *    checksum the peer computed over its original addresses is fixed for
 *    the addresses the packet arrived with (RFC 3948 3.1.2, RFC 1624).
 */
#include <rte_ip.h>
#include <rte_udp.h>

#include "esp_int.h"

#define UDP_LEN sizeof(struct rte_udp_hdr)

static bool
is_v6_ext(int nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT;
}

/*
 * The byte naming what follows the first hl bytes (the header and its
 * extension headers): IPv4's protocol or the last IPv6 next header; NULL
 * when the chain does not end there.
 */
static uint8_t *
trs_nh(uint8_t *ip, uint32_t hl)
{
	uint8_t *nh = &((struct rte_ipv6_hdr *)ip)->proto;
	uint32_t ofs = sizeof(struct rte_ipv6_hdr);
	size_t len = 0;

	if ((ip[0] >> 4) == IPVERSION)
		return &((struct rte_ipv4_hdr *)ip)->next_proto_id;
	while (ofs < hl && rte_ipv6_get_next_ext(ip + ofs, *nh, &len) >= 0) {
		nh = ip + ofs; /* an extension header's first byte is its next header */
		ofs += len;
	}
	return ofs == hl ? nh : NULL;
}

/* RFC 8200 8.1: the pseudo-header of the final destination, the UDP length. */
static uint16_t
udp6_cksum(const struct rte_mbuf *m, uint32_t hl, uint32_t udp_len)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	uint32_t sum = rte_raw_cksum(ip->src_addr, 2 * sizeof(ip->src_addr));
	uint16_t data;

	if (rte_raw_cksum_mbuf(m, hl, udp_len, &data) != 0)
		return 0;
	sum += data + rte_cpu_to_be_16((uint16_t)udp_len) + rte_cpu_to_be_16(IPPROTO_UDP);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (uint16_t)~sum;
	return sum == 0 ? 0xffff : (uint16_t)sum; /* RFC 768: a computed 0 is sent as ones */
}

/* The IP header's lengths (and IPv4's checksum) for the packet as it is now. */
static void
trs_lengths(struct rte_mbuf *m, uint8_t *ip)
{
	struct rte_ipv4_hdr *v4 = (struct rte_ipv4_hdr *)ip;
	struct rte_ipv6_hdr *v6 = (struct rte_ipv6_hdr *)ip;

	if ((ip[0] >> 4) != IPVERSION) {
		v6->payload_len = rte_cpu_to_be_16((uint16_t)(m->pkt_len - sizeof(*v6)));
		return;
	}
	v4->total_length = rte_cpu_to_be_16((uint16_t)m->pkt_len);
	v4->hdr_checksum = 0;
	v4->hdr_checksum = rte_ipv4_cksum(v4);
}

/*
 * RFC 3948 2.1: source and destination port from the SA, the length of UDP
 * and ESP, over IPv4 checksum 0 (the ICV protects what matters), over IPv6
 * a real one (RFC 8200 8.1, RFC 6936). Data starts at the IP header.
 */
static int
outb_udp_insert(const struct espgw_sa_rt *sa, struct rte_mbuf *m)
{
	uint32_t hl = m->l3_len;
	uint8_t *ip = (uint8_t *)rte_pktmbuf_prepend(m, UDP_LEN);
	struct rte_udp_hdr *udp;
	uint8_t *nh;

	if (ip == NULL || m->data_len < hl + UDP_LEN)
		return -1;
	memmove(ip, ip + UDP_LEN, hl);
	nh = trs_nh(ip, hl);
	if (nh == NULL)
		return -1;
	*nh = IPPROTO_UDP;
	udp = (struct rte_udp_hdr *)(ip + hl);
	udp->src_port = sa->natt_sport;
	udp->dst_port = sa->natt_dport;
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(m->pkt_len - hl));
	udp->dgram_cksum = 0;
	trs_lengths(m, ip);
	if (sa->udp == ESPGW_SA_UDP_TRS6)
		udp->dgram_cksum = udp6_cksum(m, hl, m->pkt_len - hl);
	return 0;
}

uint16_t
espgw_trs_udp_outb(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n)
{
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (outb_udp_insert(sa, m[i]) != 0)
			espgw_esp_drop(l, sa, &m[i], 1, ESPGW_DROP_NATT_NO_ROOM);
		else
			m[k++] = m[i];
	}
	return k;
}

/*
 * The NAT-T demux (lib/dp/inbound.c) counted the UDP header in l3_len and
 * checked it; the header moves over it, and rte_ipsec's transport
 * decapsulation then writes protocol and lengths as for plain ESP.
 */
void
espgw_trs_udp_inb(struct rte_mbuf *m[], uint16_t n)
{
	uint32_t hl;
	uint8_t *p;
	uint16_t i;

	for (i = 0; i < n; i++) {
		hl = m[i]->l2_len + m[i]->l3_len - UDP_LEN;
		p = rte_pktmbuf_mtod(m[i], uint8_t *);
		memmove(p + UDP_LEN, p, hl);
		rte_pktmbuf_adj(m[i], UDP_LEN);
		m[i]->l3_len -= UDP_LEN;
	}
}

/* RFC 791: a later fragment has no transport header (the first one's covers all). */
static uint32_t
natoa_l4_v4(const struct rte_ipv4_hdr *ip, uint8_t *proto)
{
	if ((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return 0;
	*proto = ip->next_proto_id;
	return rte_ipv4_hdr_len(ip);
}

static uint32_t
natoa_l4_v6(const struct rte_mbuf *m, const uint8_t *p, uint8_t *proto)
{
	int nh = ((const struct rte_ipv6_hdr *)p)->proto;
	uint32_t ofs = sizeof(struct rte_ipv6_hdr);
	const struct rte_ipv6_fragment_ext *f;
	size_t len = 0;

	while (is_v6_ext(nh)) {
		f = (const struct rte_ipv6_fragment_ext *)(p + ofs);
		if (ofs + sizeof(*f) > m->data_len ||
				(nh == IPPROTO_FRAGMENT &&
						(rte_be_to_cpu_16(f->frag_data) &
								RTE_IPV6_EHDR_FO_MASK) != 0))
			return 0;
		nh = rte_ipv6_get_next_ext(p + ofs, nh, &len);
		ofs += len;
	}
	*proto = (uint8_t)nh;
	return ofs;
}

/*
 * Where the checksum of a transport header with a pseudo-header lies: TCP,
 * UDP, and ICMPv6 (RFC 4443 2.3; ICMPv4 has none). -1 for the others.
 */
static int
natoa_cksum_ofs(uint8_t proto, bool v6)
{
	if (proto == IPPROTO_TCP)
		return 16;
	if (proto == IPPROTO_UDP)
		return 6;
	return proto == IPPROTO_ICMPV6 && v6 ? 2 : -1;
}

/* The words of the packet's addresses that replace original ones. */
static uint32_t
natoa_now(const struct espgw_sa_rt *sa, const uint8_t *ip, bool v6)
{
	uint32_t alen = v6 ? 16 : 4, src = v6 ? 8 : 12, sum = 0;

	if (sa->natoa & ESPGW_NATOA_SRC)
		sum += rte_raw_cksum(ip + src, alen);
	if (sa->natoa & ESPGW_NATOA_DST)
		sum += rte_raw_cksum(ip + src + alen, alen);
	return sum;
}

void
espgw_trs_natoa(const struct espgw_sa_rt *sa, struct rte_mbuf *m)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	bool v6 = (ip[0] >> 4) != IPVERSION;
	uint8_t proto = 0;
	uint32_t l4 = v6 ? natoa_l4_v6(m, ip, &proto)
			 : natoa_l4_v4((const struct rte_ipv4_hdr *)ip, &proto);
	int co = l4 == 0 ? -1 : natoa_cksum_ofs(proto, v6);
	uint16_t ck;
	uint32_t sum;

	if (co < 0 || l4 + co + sizeof(ck) > m->data_len)
		return;
	memcpy(&ck, ip + l4 + co, sizeof(ck));
	/* RFC 768: UDP checksum 0 was not computed (IPv4); over IPv6 it is invalid, left so. */
	if (ck == 0 && proto == IPPROTO_UDP)
		return;
	/* RFC 1624 3: HC' = ~(~HC + ~m + m'), m the original addresses, m' the packet's. */
	sum = (uint16_t)~ck + sa->natoa_neg + natoa_now(sa, ip, v6);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ck = (uint16_t)~sum;
	if (ck == 0 && proto == IPPROTO_UDP)
		ck = 0xffff; /* RFC 768: a computed 0 is sent as ones */
	memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, l4 + co), &ck, sizeof(ck));
}
