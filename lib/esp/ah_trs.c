/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AH in transport mode (RFC 4302 3.1.1): no new header, AH goes behind the
 * packet's own IP header, its IPv4 options or its IPv6 extension headers
 * (hop-by-hop, routing, destination options: all stay in front, as ESP
 * transport keeps them, README), the header's protocol / last next header
 * becomes 51 and AH's next header the upper protocol. The ICV (ah_icv.c)
 * covers that header with its mutable fields and options zeroed: unlike a
 * tunnel's outer header, whose values come from the SA's template, the
 * packet's own values are saved before the zeroing and put back after.
 * The burst loops are ah_out.c's and ah_in.c's; these are the transport
 * functions they choose per SA group.
 */
#include <rte_ip.h>

#include "esp_int.h"

#define V4_PROTO 9
#define V6_NH	 6

/*
 * Where the header chain's last next header field is: IPv4's protocol, or
 * the IPv6 header's or that of the last extension header of the l3_len
 * bytes (walked and checked by espgw_ah_opts before: each is whole).
 */
static uint8_t *
nh_field(uint8_t *ip, uint16_t l3_len)
{
	uint32_t off = sizeof(struct rte_ipv6_hdr);
	uint8_t *nh = ip + V6_NH;

	if ((ip[0] >> 4) == IPVERSION)
		return ip + V4_PROTO;
	while (off < l3_len) {
		nh = ip + off;
		off += (ip[off + 1] + 1u) * 8;
	}
	return nh;
}

/*
 * The header's length field plus delta (AH's bytes, or minus them): IPv4
 * total length, IPv6 payload length. -1 when the result does not fit 16
 * bits (outbound: the packet is too big for AH).
 */
static int
len_add(uint8_t *ip, int32_t delta)
{
	rte_be16_t *f = (rte_be16_t *)(ip + ((ip[0] >> 4) == IPVERSION ? 2 : 4));
	int32_t v = rte_be_to_cpu_16(*f) + delta;

	if (v < 0 || v > UINT16_MAX)
		return -1;
	*f = rte_cpu_to_be_16((uint16_t)v);
	return 0;
}

/*
 * The header the packet will carry (AH behind it, lengths and protocol
 * set), saved in save, then its mutable fields and options zeroed for the
 * ICV (RFC 4302 3.3.3.1). m starts at the IP header, AH at l3_len.
 */
static int
outb_hdr_set(const struct espgw_sa_rt *sa, uint8_t *p, uint16_t hlen, uint64_t seq, uint8_t *save)
{
	uint8_t *nh = nh_field(p, hlen);

	if (len_add(p, sa->ah->len) != 0)
		return -1;
	espgw_ah_hdr_write(p + hlen, sa, seq, *nh);
	*nh = IPPROTO_AH;
	memcpy(save, p, hlen);
	espgw_ah_mutable_zero(p);
	espgw_ah_opts(p, hlen, true);
	return 0;
}

/*
 * Outbound: AH inserted after the l3_len bytes of IP header. A header espgw
 * cannot compute the ICV over (a routing header's final destination is not
 * walked, 3.3.3.1.2.2) or longer than the save buffer is refused as such.
 */
enum espgw_drop
espgw_ah_trs_build(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint64_t seq, uint8_t *save)
{
	uint16_t hlen = m->l3_len, alen = sa->ah->len;
	uint8_t *p;

	rte_pktmbuf_adj(m, m->l2_len);
	m->l2_len = 0;
	p = rte_pktmbuf_mtod(m, uint8_t *);
	if (hlen > ESPGW_AH_TRS_HDR_MAX || rte_pktmbuf_data_len(m) < hlen ||
			espgw_ah_opts(p, hlen, false) != 0)
		return ESPGW_DROP_AH_OUTER_OPTIONS;
	p = (uint8_t *)rte_pktmbuf_prepend(m, alen);
	if (p == NULL)
		return ESPGW_DROP_TOO_BIG;
	memmove(p, p + alen, hlen);
	return outb_hdr_set(sa, p, hlen, seq, save) == 0 ? ESPGW_DROP_MAX : ESPGW_DROP_TOO_BIG;
}

/* After the ICV: it goes into AH, the header gets its saved values back, IPv4 its checksum. */
void
espgw_ah_trs_finish(const struct espgw_sa_rt *sa, struct rte_mbuf *m, const uint8_t *icv,
		const uint8_t *save)
{
	espgw_ah_icv_put(sa, m, icv);
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), save, m->l3_len);
	sa->outb_fixup(sa, m, 0, 0); /* transport: the IPv4 checksum (sa_outer.c) */
}

/* Inbound, before the zeroing: the header as received, to be put back after the ICV. */
bool
espgw_ah_trs_save(const struct rte_mbuf *m, uint8_t *save)
{
	if (m->l3_len > ESPGW_AH_TRS_HDR_MAX)
		return false;
	memcpy(save, rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len), m->l3_len);
	return true;
}

/*
 * Inbound, verified: the header as received in front of what followed AH,
 * the chain's next header AH's (checked against the SA, ah_in.c), lengths
 * less AH's and the IPv4 checksum recomputed: the packet as its sender's
 * upper layer sent it, starting at its IP header (as a tunnel's inner one).
 */
void
espgw_ah_trs_strip(const struct espgw_sa_rt *sa, struct rte_mbuf *m, const uint8_t *save)
{
	uint16_t hlen = m->l3_len, alen = sa->ah->len;
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);
	uint8_t nh = p[hlen];
	struct rte_ipv4_hdr *ip4;

	memcpy(p + alen, save, hlen);
	p = (uint8_t *)rte_pktmbuf_adj(m, m->l2_len + alen);
	*nh_field(p, hlen) = nh;
	len_add(p, -(int32_t)alen);
	m->l2_len = 0;
	m->l3_len = 0;
	if ((p[0] >> 4) != IPVERSION)
		return;
	ip4 = (struct rte_ipv4_hdr *)p;
	ip4->hdr_checksum = 0;
	ip4->hdr_checksum = rte_ipv4_cksum(ip4);
}
