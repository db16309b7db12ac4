/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv6 neighbor discovery (RFC 4861), the part a gateway port needs: answer
 * neighbor solicitations for the port's addresses (global and link-local),
 * tell neigh_learn what solicitations for us and advertisements say (which
 * it takes only by the rules in neigh_resolve.c), and solicit next hops. No
 * DAD, no router solicitations or advertisements (RS are not handled at all).
 * Hand-written: DPDK has no ND.
 */
#include <string.h>

#include "host_int.h"

#define ND_OPT_SLLA 1 /* RFC 4861 4.6.1 */
#define ND_OPT_TLLA 2
#define NA_FLAG_R   0x80000000u /* RFC 4861 4.4: router, solicited, override */
#define NA_FLAG_S   0x40000000u
#define NA_FLAG_O   0x20000000u

/* NS and NA share this layout (RFC 4861 4.3, 4.4); one link-layer option follows. */
struct nd_msg {
	uint8_t type;
	uint8_t code;
	rte_be16_t cksum;
	rte_be32_t flags; /* NA: R, S, O; NS: reserved */
	uint8_t target[16];
} __rte_packed;

struct nd_opt_lla {
	uint8_t type;
	uint8_t len; /* in units of 8 bytes */
	uint8_t mac[RTE_ETHER_ADDR_LEN];
} __rte_packed;

#define ND_FRAME_LEN                                                               \
	(RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv6_hdr) + sizeof(struct nd_msg) + \
			sizeof(struct nd_opt_lla))

/* What a received NS/NA says, read before the mbuf is reused. */
struct nd_in {
	struct espgw_ip src, target;
	struct rte_ether_addr eth_src, lla;
	uint32_t flags;
	bool has_lla, dst_mcast;
};

static bool
ip6_is_unspec(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

/* Find the link-layer address option of this type; -1 when an option is malformed. */
static int
opt_lla(const uint8_t *p, uint32_t len, uint8_t type, struct rte_ether_addr *mac)
{
	int found = 0;
	uint32_t olen;

	while (len >= 2) {
		olen = p[1] * 8u;
		/* RFC 4861 7.1.1, 7.1.2: every option has a non-zero length. */
		if (olen == 0 || olen > len)
			return -1;
		if (p[0] == type && olen >= sizeof(struct nd_opt_lla)) {
			memcpy(mac, p + 2, RTE_ETHER_ADDR_LEN);
			found = 1;
		}
		p += olen;
		len -= olen;
	}
	return found;
}

/* RFC 4861 7.1.1 / 7.1.2 validity checks common to NS and NA; fills *in. */
static int
nd_parse(const struct rte_mbuf *m, struct nd_in *in)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);
	const struct nd_msg *msg = (const struct nd_msg *)(ip + 1);
	uint32_t plen = rte_be_to_cpu_16(ip->payload_len);
	int lla;

	if (ip->hop_limits != ND_HOP_LIMIT || msg->code != 0 || plen < sizeof(*msg) ||
			msg->target[0] == 0xff)
		return -1;
	lla = opt_lla((const uint8_t *)(msg + 1), plen - sizeof(*msg),
			msg->type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA, &in->lla);
	/* A station's link-layer address is unicast: a group one would poison the cache. */
	if (lla < 0 || (lla == 1 && !rte_is_valid_assigned_ether_addr(&in->lla)))
		return -1;
	in->has_lla = lla == 1;
	in->src.family = in->target.family = ESPGW_AF_INET6;
	memcpy(in->src.v6, ip->src_addr, 16);
	memcpy(in->target.v6, msg->target, 16);
	in->eth_src = eth->src_addr;
	in->flags = rte_be_to_cpu_32(msg->flags);
	in->dst_mcast = ip->dst_addr[0] == 0xff;
	return 0;
}

/* Fill a whole NS or NA frame (same size) with one link-layer address option. */
static void
nd_build(struct espgw_host *h, struct rte_ether_hdr *eth, uint16_t port,
		const struct rte_ether_addr *eth_dst, const uint8_t *src, const uint8_t *dst,
		uint8_t type, uint32_t flags, const uint8_t *target)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
	struct nd_msg *msg = (struct nd_msg *)(ip + 1);
	struct nd_opt_lla *opt = (struct nd_opt_lla *)(msg + 1);

	host_eth_fill(eth, eth_dst, h, port, RTE_ETHER_TYPE_IPV6);
	host_ip6_fill(ip, src, dst, sizeof(*msg) + sizeof(*opt), ND_HOP_LIMIT);
	memset(msg, 0, sizeof(*msg));
	msg->type = type;
	msg->flags = rte_cpu_to_be_32(flags);
	memcpy(msg->target, target, 16);
	opt->type = type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA;
	opt->len = 1;
	memcpy(opt->mac, h->ports->port[port].mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	icmp6_cksum_set(ip, msg);
}

/*
 * RFC 4861 7.2.4: the advertisement goes to the solicitation's source with
 * S set, or to all-nodes without S when the source was unspecified (DAD).
 * A gateway forwards, so R is set; O because the address is ours.
 */
static void
na_reply(struct espgw_host *h, struct rte_mbuf *m, uint16_t port, const struct nd_in *in)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};
	static const struct rte_ether_addr all_nodes_mac = {{0x33, 0x33, 0, 0, 0, 0x01}};
	bool dad = ip6_is_unspec(in->src.v6);
	const struct rte_ether_addr *to = dad		? &all_nodes_mac
					  : in->has_lla ? &in->lla
							: &in->eth_src;
	struct rte_ether_hdr *eth = host_frame_reset(m, ND_FRAME_LEN);

	if (eth == NULL) {
		host_drop(h, m, ESPGW_DROP_BAD_L3);
		return;
	}
	nd_build(h, eth, port, to, in->target.v6, dad ? all_nodes : in->src.v6, ND_NA,
			NA_FLAG_R | NA_FLAG_O | (dad ? 0 : NA_FLAG_S), in->target.v6);
	host_count(h, ESPGW_HOST_NA_TX);
	host_reply(h, port, m);
}

static void
ns_input(struct espgw_host *h, struct rte_mbuf *m, uint16_t port, const struct nd_in *in,
		uint64_t now)
{
	bool dad = ip6_is_unspec(in->src.v6);

	/* RFC 4861 7.1.1: from the unspecified address, only to a multicast address, no SLLA. */
	if (dad && (!in->dst_mcast || in->has_lla)) {
		host_drop(h, m, ESPGW_DROP_BAD_L3);
		return;
	}
	host_count(h, ESPGW_HOST_NS_RX);
	if (!host_addr_own(h, port, &in->target)) {
		host_absorb(h, m); /* RFC 4861 7.2.3: not for us, nothing to learn */
		return;
	}
	/* RFC 4861 7.2.3: the source link-layer option enters or updates the asker. */
	if (!dad && in->has_lla) {
		struct nb_news n = {.ip = in->src,
				.mac = in->lla,
				.has_mac = true,
				.override = true,
				.to_us = true};

		neigh_learn(h, port, &n, now);
	}
	na_reply(h, m, port, in);
}

/* RFC 4861 7.2.5: S says it answers a solicitation, O that it may replace a MAC. */
static void
na_input(struct espgw_host *h, struct rte_mbuf *m, uint16_t port, const struct nd_in *in,
		uint64_t now)
{
	struct nb_news n = {.ip = in->target,
			.mac = in->lla,
			.has_mac = in->has_lla,
			.answer = (in->flags & NA_FLAG_S) != 0,
			.override = (in->flags & NA_FLAG_O) != 0};

	if (in->dst_mcast && n.answer) {
		host_drop(h, m, ESPGW_DROP_BAD_L3);
		return;
	}
	host_count(h, ESPGW_HOST_NA_RX);
	neigh_learn(h, port, &n, now);
	host_absorb(h, m);
}

void
nd_input(struct espgw_host *h, struct rte_mbuf *m, uint16_t port, uint64_t now)
{
	struct nd_in in;
	uint8_t type = rte_pktmbuf_mtod_offset(
			m, const uint8_t *, RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv6_hdr))[0];

	if (nd_parse(m, &in) < 0) {
		host_drop(h, m, ESPGW_DROP_BAD_L3);
		return;
	}
	if (type == ND_NS)
		ns_input(h, m, port, &in, now);
	else
		na_input(h, m, port, &in, now);
}

/*
 * Resolve hop->ip: to its solicited-node multicast address (RFC 4291 2.7.1,
 * MAC 33:33 + the last 32 bits, RFC 2464 7), or unicast to the known MAC when
 * re-probing a resolved entry (RFC 4861 7.3.3).
 */
void
nd_solicit(struct espgw_host *h, const struct espgw_l2_hop *hop, bool unicast)
{
	uint8_t snm[16] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	struct rte_ether_addr dst = {{0x33, 0x33, 0xff}};
	struct espgw_ip src;
	struct rte_mbuf *m;

	memcpy(&snm[13], &hop->ip.v6[13], 3);
	memcpy(&dst.addr_bytes[3], &hop->ip.v6[13], 3);
	if (unicast)
		espgw_hop_dst(hop, &dst);
	if (host_src_addr(h, hop->port_idx, &hop->ip, &src) < 0) {
		host_count(h, ESPGW_HOST_ORIG_FAILED);
		return;
	}
	m = host_frame_alloc(h, hop->port_idx, ND_FRAME_LEN);
	if (m == NULL) {
		host_count(h, ESPGW_HOST_ORIG_FAILED);
		return;
	}
	nd_build(h, rte_pktmbuf_mtod(m, struct rte_ether_hdr *), hop->port_idx, &dst, src.v6,
			unicast ? hop->ip.v6 : snm, ND_NS, 0, hop->ip.v6);
	host_originate(h, hop->port_idx, m, ESPGW_HOST_NS_TX);
}
