/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "pkt.h"

#define IPV6_EXT_MAX 8 /* extension headers walked before giving up */
#define IPOPT_EOL    0
#define IPOPT_NOP    1
#define IPOPT_LSRR   131
#define IPOPT_SSRR   137
#define IP6OPT_PAD1  0
#define IP6OPT_PADN  1
#define IP6_RH_TYPE0 0

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

static inline uint32_t
load32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/*
 * RFC 1071: the one's complement sum of a correct header is 0xffff. Summed in
 * 32-bit words with deferred carries and folded, which gives the same result
 * in either byte order. The 20 bytes every header has are added in one
 * expression: a loop over them was vectorised through the stack (a
 * store-forwarding stall on every packet, perf).
 */
static bool
ipv4_sum_ok(const struct rte_ipv4_hdr *ip, uint16_t ihl)
{
	const uint8_t *p = (const uint8_t *)ip;
	uint64_t sum = (uint64_t)load32(p) + load32(p + 4) + load32(p + 8) + load32(p + 12) +
		       load32(p + 16);
	uint16_t i;

	for (i = sizeof(*ip); unlikely(i < ihl); i += 4)
		sum += load32(p + i);
	/*
	 * Folding into 16 bits with end-around carries is arithmetic modulo
	 * 0xffff, with 0xffff standing for its zero: the sum folds to 0xffff
	 * exactly when it is a nonzero multiple of 0xffff (nonzero: the version
	 * is in it). One multiply instead of a chain of folds.
	 */
	return sum % 0xffff == 0;
}

/*
 * RFC 1122 3.2.1.2, RFC 1812 5.2.2: a header whose checksum fails is silently
 * discarded. A received frame (l2 != 0) may carry the device's verdict
 * (RTE_MBUF_F_RX_IP_CKSUM_GOOD/BAD, or NONE: not in the data, but checked);
 * without one, and for packets that were never on a wire as they are now
 * (decrypted, reassembled, made by the control path), it is computed.
 */
static bool
ipv4_cksum_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint16_t ihl, uint16_t l2)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (l2 != 0 && f != RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN)
		return f != RTE_MBUF_F_RX_IP_CKSUM_BAD;
	return ipv4_sum_ok(ip, ihl);
}

/*
 * IPv4 options (RFC 791 3.1): each must fit the header. Loose and strict
 * source routes are refused (RFC 7126 4.3, 4.4): espgw implements neither,
 * and one that names the gateway would make it take a packet as its own that
 * is on its way elsewhere. RFC 1812 5.2.4.1 says to honour them by default:
 * README (input rules) says why espgw does not.
 */
static __rte_noinline enum espgw_drop
ipv4_options(const uint8_t *o, uint16_t len)
{
	uint16_t i = 0;

	while (i < len && o[i] != IPOPT_EOL) {
		if (o[i] == IPOPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2 || o[i + 1] < 2 || o[i + 1] > len - i)
			return ESPGW_DROP_BAD_L3;
		if (o[i] == IPOPT_LSRR || o[i] == IPOPT_SSRR)
			return ESPGW_DROP_SOURCE_ROUTE;
		i += o[i + 1];
	}
	return ESPGW_DROP_MAX;
}

static enum espgw_drop
ipv4_check(struct rte_mbuf *m, uint16_t l2, uint8_t *proto)
{
	const struct rte_ipv4_hdr *ip;
	uint32_t avail = rte_pktmbuf_data_len(m) - l2;
	uint16_t ihl, tot;

	if (avail < sizeof(*ip))
		return ESPGW_DROP_BAD_L3;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, l2);
	ihl = (uint16_t)((ip->version_ihl & 0x0f) * 4);
	tot = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || tot < ihl || tot > avail)
		return ESPGW_DROP_BAD_L3;
	if (!ipv4_cksum_ok(m, ip, ihl, l2))
		return ESPGW_DROP_BAD_CKSUM;
	if (unlikely(ihl > sizeof(*ip))) {
		enum espgw_drop why = ipv4_options((const uint8_t *)(ip + 1), ihl - sizeof(*ip));

		if (why != ESPGW_DROP_MAX)
			return why;
	}
	/* Ethernet padding or trailing garbage beyond the IP datagram is dropped. */
	if (tot < avail)
		rte_pktmbuf_trim(m, (uint16_t)(avail - tot));
	pkt_lens_set(m, l2, ihl);
	*proto = ip->next_proto_id;
	/* Said here, where the header is at hand: reassembly asks of every ESP packet. */
	m->packet_type = RTE_PTYPE_L3_IPV4 |
			 ((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK |
								  RTE_IPV4_HDR_MF_FLAG)) != 0
							 ? RTE_PTYPE_L4_FRAG
							 : 0);
	return ESPGW_DROP_MAX;
}

static int
ipv6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS;
}

/*
 * What an extension header (at least 8 bytes present) says about the packet
 * wherever it goes: hop-by-hop options only right after the IPv6 header (RFC
 * 8200 4.1), and a type 0 routing header with segments left is discarded
 * (RFC 5095 3; with none left it is ignored like any other, RFC 8200 4.4).
 * No ICMPv6 parameter problem is sent for either (README: input rules).
 */
static enum espgw_drop
ipv6_ext_check(const uint8_t *h, uint8_t nh, int i)
{
	if (nh == IPPROTO_HOPOPTS && i != 0)
		return ESPGW_DROP_BAD_L3;
	if (nh == IPPROTO_ROUTING && h[2] == IP6_RH_TYPE0 && h[3] != 0)
		return ESPGW_DROP_SOURCE_ROUTE;
	return ESPGW_DROP_MAX;
}

/*
 * A first fragment carries the rest of the header chain (RFC 7112 5, RFC 8200
 * 4.5): the headers behind its fragment header (at off) are held to the same
 * rules, so a fragment header in front hides neither a type 0 routing header
 * nor a misplaced hop-by-hop header. A later fragment carries none.
 */
static enum espgw_drop
ipv6_after_frag(const uint8_t *p, uint32_t avail, uint32_t off, int i)
{
	enum espgw_drop why;
	uint16_t fo;
	uint8_t nh;

	if (off + 8 > avail)
		return ESPGW_DROP_BAD_L3;
	memcpy(&fo, p + off + 2, sizeof(fo));
	if ((rte_be_to_cpu_16(fo) & 0xfff8) != 0)
		return ESPGW_DROP_MAX;
	nh = p[off];
	off += 8;
	for (i++; i < IPV6_EXT_MAX && ipv6_is_ext(nh); i++) {
		if (off + 8 > avail)
			return ESPGW_DROP_BAD_L3;
		why = ipv6_ext_check(p + off, nh, i);
		if (why != ESPGW_DROP_MAX)
			return why;
		nh = p[off];
		off += (uint32_t)(p[off + 1] + 1) * 8;
	}
	return ESPGW_DROP_MAX;
}

/* Walk extension headers (RFC 8200 4) so ESP behind them is still found. */
static enum espgw_drop
ipv6_walk(const uint8_t *p, uint32_t avail, uint8_t *proto, uint16_t *len)
{
	uint32_t off = sizeof(struct rte_ipv6_hdr);
	uint8_t nh = ((const struct rte_ipv6_hdr *)p)->proto;
	enum espgw_drop why;
	int i;

	for (i = 0; i < IPV6_EXT_MAX && ipv6_is_ext(nh); i++) {
		if (off + 8 > avail)
			return ESPGW_DROP_BAD_L3;
		why = ipv6_ext_check(p + off, nh, i);
		if (why != ESPGW_DROP_MAX)
			return why;
		nh = p[off];
		off += (uint32_t)(p[off + 1] + 1) * 8;
	}
	if (ipv6_is_ext(nh) || off > avail)
		return ESPGW_DROP_BAD_L3;
	if (nh == IPPROTO_FRAGMENT) {
		why = ipv6_after_frag(p, avail, off, i);
		if (why != ESPGW_DROP_MAX)
			return why;
	}
	*proto = nh;
	*len = (uint16_t)off;
	return ESPGW_DROP_MAX;
}

static __rte_noinline enum espgw_drop
ipv6_check(struct rte_mbuf *m, uint16_t l2, uint8_t *proto)
{
	const struct rte_ipv6_hdr *ip;
	uint32_t avail = rte_pktmbuf_data_len(m) - l2;
	enum espgw_drop why;
	uint32_t tot;
	uint16_t l3;

	if (avail < sizeof(*ip))
		return ESPGW_DROP_BAD_L3;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, l2);
	tot = sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
	if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6 || tot > avail)
		return ESPGW_DROP_BAD_L3;
	why = ipv6_walk((const uint8_t *)ip, tot, proto, &l3);
	if (why != ESPGW_DROP_MAX)
		return why;
	if (tot < avail)
		rte_pktmbuf_trim(m, (uint16_t)(avail - tot));
	pkt_lens_set(m, l2, l3);
	m->packet_type = RTE_PTYPE_L3_IPV6;
	return ESPGW_DROP_MAX;
}

static enum pkt_class
pkt_l3(struct rte_mbuf *m, uint16_t l2, uint16_t type, uint8_t *proto, enum espgw_drop *why)
{
	if (type == RTE_ETHER_TYPE_IPV4) {
		*why = ipv4_check(m, l2, proto);
		if (*why == ESPGW_DROP_MAX)
			return PKT_IPV4;
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		*why = ipv6_check(m, l2, proto);
		if (*why == ESPGW_DROP_MAX)
			return PKT_IPV6;
	}
	m->l2_len = l2;
	if (type == RTE_ETHER_TYPE_IPV4 || type == RTE_ETHER_TYPE_IPV6)
		return PKT_BAD;
	return type == RTE_ETHER_TYPE_ARP ? PKT_ARP : PKT_OTHER_L2;
}

enum pkt_class
pkt_parse(struct rte_mbuf *m, uint16_t l2, uint8_t *proto, enum espgw_drop *why)
{
	uint16_t type;

	*why = ESPGW_DROP_BAD_L3;
	/* Multi-segment frames are not produced by our pools (2 KB buffers, no scatter). */
	if (rte_pktmbuf_data_len(m) < l2 + 1 || m->nb_segs != 1)
		return PKT_BAD;
	if (l2 == 0) {
		uint8_t v = *rte_pktmbuf_mtod(m, const uint8_t *) >> 4;

		type = v == 4 ? RTE_ETHER_TYPE_IPV4 : v == 6 ? RTE_ETHER_TYPE_IPV6 : 0;
		return type ? pkt_l3(m, 0, type, proto, why) : PKT_BAD;
	}
	type = rte_be_to_cpu_16(rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type);
	return pkt_l3(m, l2, type, proto, why);
}

/*
 * The options of a hop-by-hop or destination options header (RFC 8200 4.2):
 * an option we do not know is skipped only when its type's two high bits are
 * 00; otherwise the packet is discarded (10 and 11 also ask for a parameter
 * problem, which is not sent: README, input rules).
 */
static enum espgw_drop
ipv6_options(const uint8_t *h, uint32_t len)
{
	uint32_t i = 2;

	while (i < len) {
		if (h[i] == IP6OPT_PAD1) {
			i++;
			continue;
		}
		if (len - i < 2 || (uint32_t)h[i + 1] + 2 > len - i)
			return ESPGW_DROP_BAD_L3;
		if (h[i] != IP6OPT_PADN && (h[i] >> 6) != 0)
			return ESPGW_DROP_IPV6_OPTION;
		i += (uint32_t)h[i + 1] + 2;
	}
	return ESPGW_DROP_MAX;
}

enum espgw_drop
pkt_ipv6_local_check(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint32_t off = sizeof(struct rte_ipv6_hdr), hl;
	uint8_t nh = ((const struct rte_ipv6_hdr *)p)->proto;
	enum espgw_drop why = ESPGW_DROP_MAX;

	/* pkt_parse walked these headers: each is present and within m->l3_len. */
	while (off < m->l3_len && why == ESPGW_DROP_MAX) {
		hl = ((uint32_t)p[off + 1] + 1) * 8;
		if (nh == IPPROTO_ROUTING)
			why = p[off + 3] != 0 ? ESPGW_DROP_SOURCE_ROUTE : ESPGW_DROP_MAX;
		else
			why = ipv6_options(p + off, hl);
		nh = p[off];
		off += hl;
	}
	return why;
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

bool
pkt_is_fragment(const struct rte_mbuf *m, uint16_t off)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);
	uint32_t at = sizeof(struct rte_ipv6_hdr);
	uint8_t nh;

	if ((p[0] >> 4) == IPVERSION)
		return (((const struct rte_ipv4_hdr *)p)->fragment_offset &
				       rte_cpu_to_be_16(~RTE_IPV4_HDR_DF_FLAG)) != 0;
	/* The extension headers pkt_parse walked: each whole, within l3_len. */
	nh = ((const struct rte_ipv6_hdr *)p)->proto;
	while (at < m->l3_len) {
		nh = p[at];
		at += (uint32_t)(p[at + 1] + 1) * 8;
	}
	return nh == IPPROTO_FRAGMENT;
}
