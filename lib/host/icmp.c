/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP (RFC 792) and ICMPv6 (RFC 4443) for the gateway: echo replies for its
 * own addresses, and the errors path MTU discovery depends on:
 * "fragmentation needed" (RFC 1191 4) and "packet too big" (RFC 4443 3.2,
 * RFC 8201), rate limited by one token bucket for the whole gateway
 * (RFC 4443 2.4 (f), RFC 1812 4.3.2.8).
 */
#include <string.h>

#include <rte_icmp.h>

#include "host_int.h"

#define ICMP_HDR_LEN	  8
#define ICMP4_UNREACH	  3
#define ICMP4_FRAG_NEEDED 4 /* code of "destination unreachable" */
#define ICMP6_PKT_TOO_BIG 2
#define ICMP4_ERR_MAX	  576  /* RFC 1812 4.3.2.3: quote as much as fits in 576 bytes */
#define ICMP6_ERR_MAX	  1280 /* RFC 4443 2.4 (c): ... in the IPv6 minimum MTU */
#define IPV4_MTU_MIN	  68   /* RFC 791 */
#define IPV6_MTU_MIN	  1280 /* RFC 8200 5 */
#define TOKEN		  1000 /* the bucket counts thousandths of a token */

bool
icmp6_cksum_ok(const struct rte_ipv6_hdr *ip, const void *l4)
{
	return rte_ipv6_udptcp_cksum_verify(ip, l4) == 0;
}

/* ICMPv6 checksum over the pseudo-header (RFC 4443 2.3); payload_len must be set. */
void
icmp6_cksum_set(struct rte_ipv6_hdr *ip, void *l4)
{
	struct rte_icmp_hdr *icmp = l4;

	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = rte_ipv6_udptcp_cksum(ip, l4);
}

static void
icmp4_cksum_set(struct rte_icmp_hdr *icmp, uint32_t len)
{
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, len);
}

/* A reply to the frame's sender, from this port, in the same mbuf. */
static void
eth_turn(struct espgw_host *h, struct rte_mbuf *m, uint16_t port)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&h->ports->port[port].mac, &eth->src_addr);
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
}

static bool
icmp4_echo_valid(const struct rte_ipv4_hdr *ip, uint32_t ihl, uint32_t tot)
{
	const struct rte_icmp_hdr *icmp = (const struct rte_icmp_hdr *)((const uint8_t *)ip + ihl);

	/* Fragments are not reassembled here: a fragmented echo request gets no reply. */
	if (ip->next_proto_id != ICMP4_PROTO || tot < ihl + ICMP_HDR_LEN ||
			(ip->fragment_offset & rte_cpu_to_be_16(~RTE_IPV4_HDR_DF_FLAG)) != 0)
		return false;
	return icmp->icmp_type == ICMP4_ECHO && icmp->icmp_code == 0;
}

void
icmp4_input(struct espgw_host *h, struct rte_mbuf *m, uint16_t port)
{
	struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint32_t ihl = rte_ipv4_hdr_len(ip), tot = rte_be_to_cpu_16(ip->total_length);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
	uint32_t a;

	if (!icmp4_echo_valid(ip, ihl, tot)) {
		host_drop(h, m, ESPGW_DROP_LOCAL_UNHANDLED);
		return;
	}
	if (rte_raw_cksum(icmp, tot - ihl) != 0xffff) {
		host_drop(h, m, ESPGW_DROP_BAD_L3);
		return;
	}
	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = HOST_TTL;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp->icmp_type = ICMP4_ECHOREP;
	icmp4_cksum_set(icmp, tot - ihl);
	eth_turn(h, m, port);
	host_count(h, ESPGW_HOST_ECHO_REPLY);
	host_reply(h, port, m);
}

/* Echo to one of our unicast addresses; multicast echo requests are not answered. */
void
icmp6_echo_input(struct espgw_host *h, struct rte_mbuf *m, uint16_t port)
{
	struct rte_ipv6_hdr *ip =
			rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, RTE_ETHER_HDR_LEN);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	struct espgw_ip dst = {.family = ESPGW_AF_INET6};
	uint8_t a[16];

	memcpy(dst.v6, ip->dst_addr, 16);
	if (icmp->icmp_code != 0 || dst.v6[0] == 0xff ||
			(dst.v6[0] == 0xfe && !host_addr_own(h, port, &dst))) {
		host_drop(h, m, ESPGW_DROP_LOCAL_UNHANDLED);
		return;
	}
	memcpy(a, ip->src_addr, 16);
	memcpy(ip->src_addr, ip->dst_addr, 16);
	memcpy(ip->dst_addr, a, 16);
	ip->hop_limits = HOST_TTL;
	icmp->icmp_type = ICMP6_ECHOREP;
	icmp6_cksum_set(ip, icmp);
	eth_turn(h, m, port);
	host_count(h, ESPGW_HOST_ECHO_REPLY);
	host_reply(h, port, m);
}

/* One token from the bucket, refilled at icmp_rate per second up to icmp_burst. */
static bool
icmp_token(struct espgw_host *h, uint64_t now)
{
	uint64_t cap = (uint64_t)h->conf.icmp_burst * TOKEN;

	if (now > h->icmp_last) {
		h->icmp_credit = RTE_MIN(
				cap, h->icmp_credit + (now - h->icmp_last) * h->conf.icmp_rate);
		h->icmp_last = now;
	}
	if (h->icmp_credit < TOKEN)
		return false;
	h->icmp_credit -= TOKEN;
	return true;
}

static bool
icmp4_is_error(const struct rte_ipv4_hdr *ip, uint32_t len)
{
	uint32_t ihl = rte_ipv4_hdr_len(ip);
	uint8_t type;

	if (ip->next_proto_id != ICMP4_PROTO || len <= ihl)
		return false;
	type = ((const uint8_t *)ip)[ihl];
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/*
 * RFC 1122 3.2.2 / RFC 1812 4.3.2.7: no error about an ICMP error, a
 * non-initial fragment, or a packet whose source is not one host.
 */
static bool
v4_may_answer(const struct rte_ipv4_hdr *ip, uint32_t len)
{
	const uint8_t *s = (const uint8_t *)&ip->src_addr, *d = (const uint8_t *)&ip->dst_addr;

	if ((ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return false;
	if (s[0] == 0 || s[0] == 127 || s[0] >= 224 || d[0] >= 224)
		return false;
	return !icmp4_is_error(ip, len);
}

/* RFC 4443 2.4 (e): no error about an ICMPv6 error or from a non-unicast source. */
static bool
v6_may_answer(const struct rte_ipv6_hdr *ip, uint32_t len)
{
	static const uint8_t zero[16];

	if (ip->src_addr[0] == 0xff || memcmp(ip->src_addr, zero, 16) == 0)
		return false;
	return !(ip->proto == ICMP6_PROTO && len > sizeof(*ip) &&
			((const uint8_t *)(ip + 1))[0] < ICMP6_ECHO);
}

static void
frag_needed_fill(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst, uint16_t quote, uint16_t mtu)
{
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

	host_ip4_fill(ip, src, dst, (uint16_t)(sizeof(*ip) + ICMP_HDR_LEN + quote), ICMP4_PROTO);
	icmp->icmp_type = ICMP4_UNREACH;
	icmp->icmp_code = ICMP4_FRAG_NEEDED;
	icmp->icmp_ident = 0;						  /* unused */
	icmp->icmp_seq_nb = rte_cpu_to_be_16(RTE_MAX(mtu, IPV4_MTU_MIN)); /* next-hop MTU */
	icmp4_cksum_set(icmp, ICMP_HDR_LEN + quote);
}

static void
ptb_fill(struct rte_ipv6_hdr *ip, const uint8_t *src, const uint8_t *dst, uint16_t quote,
		uint16_t mtu)
{
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	rte_be32_t m32 = rte_cpu_to_be_32(RTE_MAX(mtu, IPV6_MTU_MIN));

	host_ip6_fill(ip, src, dst, ICMP_HDR_LEN + quote, HOST_TTL);
	icmp->icmp_type = ICMP6_PKT_TOO_BIG;
	icmp->icmp_code = 0;
	memcpy(&icmp->icmp_ident, &m32, sizeof(m32)); /* the 32-bit MTU field */
	icmp6_cksum_set(ip, icmp);
}

/* Keep the first quote bytes of the offending packet and put the error headers in front. */
static struct rte_ether_hdr *
err_frame(struct rte_mbuf *m, uint16_t quote, uint16_t l3_len)
{
	rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - quote));
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	m->l2_len = RTE_ETHER_HDR_LEN;
	return (struct rte_ether_hdr *)rte_pktmbuf_prepend(
			m, RTE_ETHER_HDR_LEN + l3_len + ICMP_HDR_LEN);
}

/* What the error needs from the offending frame, read before the mbuf is reused. */
struct err_ctx {
	struct rte_ether_addr to; /* the frame's sender: the hop facing the packet's source */
	struct espgw_ip peer;	  /* the packet's source */
	struct espgw_ip src;	  /* our address on the arrival port */
	uint16_t quote;
	uint16_t port;
};

static enum espgw_drop
err_prepare(struct espgw_host *h, const struct rte_mbuf *m, struct err_ctx *c, uint64_t now)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const void *l3 = eth + 1;
	uint32_t len = rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN;
	bool v4 = (*(const uint8_t *)l3 >> 4) == 4;
	bool ok = v4 ? v4_may_answer(l3, len) : v6_may_answer(l3, len);
	uint32_t room = v4 ? ICMP4_ERR_MAX - sizeof(struct rte_ipv4_hdr) - ICMP_HDR_LEN
			   : ICMP6_ERR_MAX - sizeof(struct rte_ipv6_hdr) - ICMP_HDR_LEN;

	c->to = eth->src_addr;
	c->quote = (uint16_t)RTE_MIN(len, room);
	host_ip_of(m, RTE_ETHER_HDR_LEN, true, &c->peer);
	if (!ok || host_src_addr(h, c->port, &c->peer, &c->src) < 0)
		return ESPGW_DROP_TOO_BIG;
	if (!icmp_token(h, now)) {
		host_count(h, ESPGW_HOST_ICMP_RATELIMIT);
		return ESPGW_DROP_TOO_BIG;
	}
	return ESPGW_DROP_MAX;
}

/*
 * The offending packet is dropped and its sender told the MTU that fits
 * (RFC 1191 4, RFC 4443 3.2), from our address on the port it came in by and
 * back to the neighbor it came from: the error is built in the same mbuf.
 */
void
icmp_too_big(struct espgw_host *h, struct rte_mbuf *m, uint16_t mtu, uint64_t now)
{
	struct err_ctx c;
	struct rte_ether_hdr *eth;
	int port = host_port_of(h, m);
	enum espgw_drop why = ESPGW_DROP_TOO_BIG;
	bool v4;

	if (port >= 0 && m->l2_len == RTE_ETHER_HDR_LEN) {
		c.port = (uint16_t)port;
		why = err_prepare(h, m, &c, now);
	}
	if (why != ESPGW_DROP_MAX) {
		host_drop(h, m, why);
		return;
	}
	v4 = c.peer.family == ESPGW_AF_INET;
	eth = err_frame(m, c.quote, v4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr));
	if (eth == NULL) {
		host_drop(h, m, ESPGW_DROP_TOO_BIG);
		return;
	}
	host_eth_fill(eth, &c.to, h, c.port, v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	if (v4)
		frag_needed_fill((struct rte_ipv4_hdr *)(eth + 1), c.src.v4, c.peer.v4, c.quote,
				mtu);
	else
		ptb_fill((struct rte_ipv6_hdr *)(eth + 1), c.src.v6, c.peer.v6, c.quote, mtu);
	host_count(h, ESPGW_HOST_ICMP_ERROR);
	host_reply(h, c.port, m);
}
