/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP (RFC 792) and ICMPv6 (RFC 4443) for the gateway: echo replies for its
 * own addresses, the errors path MTU discovery depends on: "fragmentation
 * needed" (RFC 1191 4) and "packet too big" (RFC 4443 3.2, RFC 8201), and
 * "time exceeded" (RFC 792, RFC 4443 3.3). Errors are rate limited (RFC 4443
 * 2.4 (f), RFC 1812 4.3.2.8) per destination and, for the whole gateway, per
 * kind of error, so that no host and no kind of error can use up the others'
 * share. A packet that came out of a tunnel is answered back through it
 * (espgw_host.h).
 */
#include <string.h>

#include <rte_icmp.h>
#include <rte_jhash.h>
#include <rte_random.h>

#include "espgw_spd.h"
#include "host_int.h"

#define ICMP_HDR_LEN	  8
#define ICMP4_UNREACH	  3
#define ICMP4_FRAG_NEEDED 4 /* code of "destination unreachable" */
#define ICMP6_PKT_TOO_BIG 2
#define ICMP4_TIMXCEED	  11   /* time exceeded, RFC 792 */
#define ICMP6_TIMXCEED	  3    /* RFC 4443 3.3 */
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

/*
 * A reply goes through the outbound SPD (worker 0's outbound path) when it
 * came out of a tunnel (port < 0) or crosses the IPsec boundary to peer (RFC
 * 4301 5.1: the gateway's own traffic is classified like any other); on the
 * protected side, or to a link-local peer, it goes back on the link.
 */
static bool
reply_via_spd(const struct espgw_host *h, int port, const struct espgw_ip *peer)
{
	return port < 0 || host_crosses(h, (uint16_t)port, peer);
}

static void
echo_send(struct espgw_host *h, struct rte_mbuf *m, int port, bool via_spd)
{
	host_count(h, ESPGW_HOST_ECHO_REPLY);
	if (via_spd) {
		host_reply_inject(h, m, port < 0 ? ESPGW_INJECT_OWN_SA : ESPGW_INJECT_OWN);
		return;
	}
	eth_turn(h, m, (uint16_t)port);
	host_reply(h, (uint16_t)port, m);
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
icmp4_input(struct espgw_host *h, struct rte_mbuf *m, int port)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	uint32_t ihl = rte_ipv4_hdr_len(ip), tot = rte_be_to_cpu_16(ip->total_length);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
	struct espgw_ip peer = {.family = ESPGW_AF_INET, .v4 = ip->src_addr};
	bool via_spd = reply_via_spd(h, port, &peer);
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
	ip->time_to_live = via_spd ? INJECT_TTL : HOST_TTL;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp->icmp_type = ICMP4_ECHOREP;
	icmp4_cksum_set(icmp, tot - ihl);
	echo_send(h, m, port, via_spd);
}

/*
 * A request to our link-local address dst on port: answered only on the
 * link it belongs to (not out of a tunnel), to a link-local peer, since the
 * reply's source is dst and may not leave the link (RFC 4291 2.5.6): to a
 * global peer it would be routed off-link.
 */
static bool
ll_answerable(const struct espgw_host *h, int port, const struct espgw_ip *dst,
		const struct espgw_ip *peer)
{
	return port >= 0 && host_addr_own(h, (uint16_t)port, dst) && peer->v6[0] == 0xfe &&
	       (peer->v6[1] & 0xc0) == 0x80;
}

/*
 * Echo to one of our unicast addresses; multicast echo requests are not
 * answered, nor link-local ones that came through a tunnel or from beyond the link.
 */
void
icmp6_echo_input(struct espgw_host *h, struct rte_mbuf *m, int port)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, m->l2_len);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	struct espgw_ip dst = {.family = ESPGW_AF_INET6}, peer = {.family = ESPGW_AF_INET6};
	bool via_spd;
	uint8_t a[16];

	memcpy(dst.v6, ip->dst_addr, 16);
	memcpy(peer.v6, ip->src_addr, 16);
	via_spd = reply_via_spd(h, port, &peer);
	if (icmp->icmp_code != 0 || dst.v6[0] == 0xff ||
			(dst.v6[0] == 0xfe && !ll_answerable(h, port, &dst, &peer))) {
		host_drop(h, m, ESPGW_DROP_LOCAL_UNHANDLED);
		return;
	}
	memcpy(a, ip->src_addr, 16);
	memcpy(ip->src_addr, ip->dst_addr, 16);
	memcpy(ip->dst_addr, a, 16);
	ip->hop_limits = via_spd ? INJECT_TTL : HOST_TTL;
	icmp->icmp_type = ICMP6_ECHOREP;
	icmp6_cksum_set(ip, icmp);
	echo_send(h, m, port, via_spd);
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

/*
 * RFC 4443 2.4 (e): no error about an ICMPv6 error (types below 128) or a
 * redirect, or from a non-unicast source. The type is found behind any
 * extension headers (the SPD's walk, which also says when a non-initial
 * fragment hides it: no error then either).
 */
static bool
v6_may_answer(const struct rte_ipv6_hdr *ip, uint32_t len)
{
	static const uint8_t zero[16];
	struct espgw_spd_key6 k;
	uint8_t type;

	if (ip->src_addr[0] == 0xff || memcmp(ip->src_addr, zero, 16) == 0)
		return false;
	if (espgw_spd_key6_extract(ip, len, &k) < 0 || k.frag == ESPGW_SPD_FRAG_LATER)
		return false;
	if (k.proto != ICMP6_PROTO)
		return true;
	type = (uint8_t)rte_be_to_cpu_16(k.sport); /* ICMPv6 type, RFC 4301 4.4.1.1 */
	return type >= ICMP6_ECHO && type != ND_REDIRECT;
}

/* What the error needs from the offending packet, read before the mbuf is reused. */
struct err_ctx {
	struct rte_ether_addr to; /* the frame's sender: the hop facing the packet's source */
	struct espgw_ip peer;	  /* the packet's source */
	struct espgw_ip src;	  /* our address the error comes from */
	uint16_t quote;		  /* bytes of the packet quoted */
	uint16_t port;		  /* the arrival port (in a frame) */
	bool inject;		  /* through the outbound path, classified by the quote */
	bool through_sa; /* the packet came out of a tunnel: the error only goes back in one */
	bool up;	 /* the gateway's own packet: the error goes up its host interface */
	enum err_kind kind;
	uint16_t mtu; /* ERR_TOO_BIG */
};

/* RFC 792 / RFC 1191 4: type 3 code 4 with the next-hop MTU, or type 11 code 0. */
static void
icmp4_err_fill(struct rte_ipv4_hdr *ip, const struct err_ctx *c)
{
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	bool big = c->kind == ERR_TOO_BIG;

	host_ip4_fill(ip, c->src.v4, c->peer.v4, (uint16_t)(sizeof(*ip) + ICMP_HDR_LEN + c->quote),
			ICMP4_PROTO);
	if (c->inject) {
		ip->time_to_live = INJECT_TTL;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	icmp->icmp_type = big ? ICMP4_UNREACH : ICMP4_TIMXCEED;
	icmp->icmp_code = big ? ICMP4_FRAG_NEEDED : 0;
	icmp->icmp_ident = 0; /* unused */
	icmp->icmp_seq_nb = big ? rte_cpu_to_be_16(RTE_MAX(c->mtu, IPV4_MTU_MIN)) : 0;
	icmp4_cksum_set(icmp, ICMP_HDR_LEN + c->quote);
}

/* RFC 4443 3.2: type 2 with a 32-bit MTU; 3.3: type 3 code 0 (hop limit exceeded). */
static void
icmp6_err_fill(struct rte_ipv6_hdr *ip, const struct err_ctx *c)
{
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	bool big = c->kind == ERR_TOO_BIG;
	rte_be32_t m32 = big ? rte_cpu_to_be_32(RTE_MAX(c->mtu, IPV6_MTU_MIN)) : 0;

	host_ip6_fill(ip, c->src.v6, c->peer.v6, ICMP_HDR_LEN + c->quote,
			c->inject ? INJECT_TTL : HOST_TTL);
	icmp->icmp_type = big ? ICMP6_PKT_TOO_BIG : ICMP6_TIMXCEED;
	icmp->icmp_code = 0;
	memcpy(&icmp->icmp_ident, &m32, sizeof(m32)); /* MTU, or unused */
	icmp6_cksum_set(ip, icmp);
}

/*
 * Keep the first quote bytes of the offending packet (L3 at l2_len) and put
 * the error's headers in front: a frame, whose Ethernet header the caller fills.
 */
static struct rte_ether_hdr *
err_frame(struct rte_mbuf *m, uint16_t quote, uint16_t l3_len)
{
	rte_pktmbuf_adj(m, m->l2_len);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - quote));
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	m->l2_len = RTE_ETHER_HDR_LEN;
	return (struct rte_ether_hdr *)rte_pktmbuf_prepend(
			m, RTE_ETHER_HDR_LEN + l3_len + ICMP_HDR_LEN);
}

/*
 * In a frame: from our address on the arrival port; on the protected side to
 * the neighbor that sent it, across the IPsec boundary through the outbound
 * path (RFC 4301 6.2: classified by the quoted packet, see espgw_host.h).
 */
static bool
err_via_link(struct espgw_host *h, const struct rte_mbuf *m, struct err_ctx *c)
{
	int port = host_port_of(h, m);

	if (port < 0 || m->l2_len != RTE_ETHER_HDR_LEN)
		return false;
	c->port = (uint16_t)port;
	c->to = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->src_addr;
	c->inject = host_crosses(h, c->port, &c->peer);
	if (c->inject && h->inject == NULL)
		return false;
	return host_src_addr(h, c->port, &c->peer, &c->src) == 0;
}

/*
 * Out of a tunnel: back through the outbound path, from our address on the
 * port the packet was going to (the protected side, which the policies
 * protecting the sender's traffic cover); never a link-local source, never
 * to ourselves.
 */
static bool
err_via_tunnel(struct espgw_host *h, const struct rte_mbuf *m, struct err_ctx *c)
{
	const struct espgw_l2_hop *hop;
	struct espgw_ip dst;

	if (!host_from_tunnel(h, m) || h->inject == NULL ||
			espgw_route_is_local(h->route, &c->peer))
		return false;
	host_ip_of(m, m->l2_len, false, &dst);
	hop = espgw_route_lookup(h->route, &dst);
	if (hop == NULL || host_src_addr(h, hop->port_idx, &c->peer, &c->src) < 0)
		return false;
	c->inject = true;
	c->through_sa = true;
	return !(c->src.family == ESPGW_AF_INET6 && c->src.v6[0] == 0xfe);
}

/*
 * The gateway's own packet (the kernel's, from a host interface: from no
 * port, from one of our addresses): the error goes up to the kernel, whose
 * path MTU discovery needs it like any host's (RFC 1191, RFC 8201). It comes
 * from the packet's destination, as from a router on the path: the kernel
 * takes nothing from its own addresses on an interface (a martian source).
 */
static bool
err_via_host(struct espgw_host *h, const struct rte_mbuf *m, struct err_ctx *c)
{
	if (m->port != RTE_MBUF_PORT_INVALID || espgw_store_port_of_addr(h->store, &c->peer) < 0)
		return false;
	host_ip_of(m, m->l2_len, false, &c->src);
	c->up = true;
	c->port = 0;
	return true;
}

/* May the packet be answered at all, and how much of it is quoted (RFC 1812 4.3.2.3). */
static bool
err_allowed(struct espgw_host *h, const struct rte_mbuf *m, struct err_ctx *c)
{
	const void *l3 = rte_pktmbuf_mtod_offset(m, const void *, m->l2_len);
	uint32_t len = rte_pktmbuf_data_len(m) - m->l2_len;
	bool v4 = (*(const uint8_t *)l3 >> 4) == 4;
	uint32_t room = v4 ? ICMP4_ERR_MAX - sizeof(struct rte_ipv4_hdr) - ICMP_HDR_LEN
			   : ICMP6_ERR_MAX - sizeof(struct rte_ipv6_hdr) - ICMP_HDR_LEN;

	c->quote = (uint16_t)RTE_MIN(len, room);
	c->inject = false;
	c->through_sa = false;
	c->up = false;
	host_ip_of(m, m->l2_len, true, &c->peer);
	if (!(v4 ? v4_may_answer(l3, len) : v6_may_answer(l3, len)))
		return false;
	return err_via_link(h, m, c) || err_via_tunnel(h, m, c) || err_via_host(h, m, c);
}

static bool
err_send(struct espgw_host *h, struct rte_mbuf *m, const struct err_ctx *c)
{
	bool v4 = c->peer.family == ESPGW_AF_INET;
	uint16_t type = v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6;
	struct rte_ether_hdr *eth;
	int port;

	eth = err_frame(m, c->quote,
			v4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr));
	if (eth == NULL)
		return false;
	if (c->inject || c->up) {
		memset(eth, 0, sizeof(*eth)); /* only the family matters to the outbound path */
		eth->ether_type = rte_cpu_to_be_16(type);
	} else {
		host_eth_fill(eth, &c->to, h, c->port, type);
	}
	if (v4)
		icmp4_err_fill((struct rte_ipv4_hdr *)(eth + 1), c);
	else
		icmp6_err_fill((struct rte_ipv6_hdr *)(eth + 1), c);
	if (c->up) {
		m->l2_len = sizeof(*eth);
		port = host_if_port(h, m);
		return port >= 0 && host_if_send(h, port, m);
	}
	if (!c->inject)
		return host_send(h, c->port, m);
	return host_inject(h, m, c->through_sa ? ESPGW_INJECT_QUOTE_SA : ESPGW_INJECT_QUOTE);
}

void
icmp_init(struct espgw_host *h)
{
	unsigned int i;

	h->icmp_key = h->conf.icmp_key != 0 ? h->conf.icmp_key : (uint32_t)rte_rand();
	for (i = 0; i < ERR_SIDES * ERR_KINDS; i++)
		h->icmp_kind[i / ERR_KINDS][i % ERR_KINDS].credit =
				(uint64_t)h->conf.icmp_burst * TOKEN;
	for (i = 0; i < ICMP_DST_BUCKETS; i++)
		h->icmp_dst[i].credit = (uint64_t)h->conf.icmp_dst_burst * TOKEN;
}

/* Refill b at rate tokens per second up to burst; is there a whole token? */
static bool
bucket_fill(struct icmp_bucket *b, uint64_t now, uint32_t rate, uint32_t burst)
{
	if (now > b->last) {
		b->credit = RTE_MIN((uint64_t)burst * TOKEN, b->credit + (now - b->last) * rate);
		b->last = now;
	}
	return b->credit >= TOKEN;
}

/*
 * The bucket of an error's destination. Destinations that hash alike share
 * one; the hash is keyed (random per start), so a sender cannot work out
 * which addresses share the bucket of a host it wants to silence.
 */
static struct icmp_bucket *
dst_bucket(struct espgw_host *h, const struct espgw_ip *dst)
{
	uint32_t len = dst->family == ESPGW_AF_INET ? 4 : 16;

	return &h->icmp_dst[rte_jhash(dst->bytes, len, h->icmp_key) % ICMP_DST_BUCKETS];
}

/*
 * The side an error answers: a host on a protected link gets it there, the
 * rest crosses the boundary. A sender outside can spoof any source, LAN
 * ones too, so what it provokes must not spend the LAN's budget.
 */
static enum err_side
err_side(const struct espgw_host *h, const struct err_ctx *c)
{
	return !c->inject && !c->up && h->ports->port[c->port].role == ESPGW_ROLE_PROTECTED
			       ? ERR_LAN
			       : ERR_OUTSIDE;
}

/*
 * RFC 4443 2.4 (f), RFC 1812 4.3.2.8: one token from the destination's
 * bucket (a host whose packets keep expiring uses up its own 10/s, not the
 * others') and one from the gateway's budget for this kind and side (a
 * time-exceeded flood, even from many sources, never starves the
 * packet-too-big that path MTU discovery needs, and nothing from outside
 * starves the LAN's).
 */
static bool
icmp_token(struct espgw_host *h, const struct err_ctx *c, uint64_t now)
{
	struct icmp_bucket *d = dst_bucket(h, &c->peer);
	struct icmp_bucket *k = &h->icmp_kind[err_side(h, c)][c->kind];
	bool dst_ok = bucket_fill(d, now, h->conf.icmp_dst_rate, h->conf.icmp_dst_burst);
	bool kind_ok = bucket_fill(k, now, h->conf.icmp_rate, h->conf.icmp_burst);

	if (!dst_ok || !kind_ok) {
		host_count(h, ESPGW_HOST_ICMP_RATELIMIT);
		if (!dst_ok)
			host_count(h, ESPGW_HOST_ICMP_RATELIMIT_DST);
		return false;
	}
	d->credit -= TOKEN;
	k->credit -= TOKEN;
	return true;
}

/*
 * Build the error in the offending packet's mbuf and send it; false when no
 * error may or can be sent (the mbuf is then still the caller's).
 */
static bool
icmp_error(struct espgw_host *h, struct rte_mbuf *m, struct err_ctx *c, uint64_t now)
{
	if (!err_allowed(h, m, c) || !icmp_token(h, c, now))
		return false;
	return err_send(h, m, c);
}

/*
 * The offending packet is dropped and its sender told the MTU that fits
 * (RFC 1191 4, RFC 4443 3.2).
 */
void
icmp_too_big(struct espgw_host *h, struct rte_mbuf *m, uint16_t mtu, uint64_t now)
{
	struct err_ctx c = {.kind = ERR_TOO_BIG, .mtu = mtu};

	if (!icmp_error(h, m, &c, now)) {
		host_drop(h, m, ESPGW_DROP_TOO_BIG);
		return;
	}
	host_count(h, ESPGW_HOST_SENT);
	host_count(h, ESPGW_HOST_ICMP_ERROR);
}

/*
 * RFC 792 (type 11 code 0), RFC 4443 3.3: the sender of a packet whose TTL /
 * hop limit ran out here. The worker counted the drop; this is only the news.
 */
void
icmp_time_exceeded(struct espgw_host *h, struct rte_mbuf *m, uint64_t now)
{
	struct err_ctx c = {.kind = ERR_TIME};

	host_count(h, ESPGW_HOST_TTL_REPORT);
	if (icmp_error(h, m, &c, now)) {
		host_count(h, ESPGW_HOST_TIME_EXCEEDED);
		return;
	}
	host_count(h, ESPGW_HOST_ERR_SUPPRESSED);
	rte_pktmbuf_free(m);
}
