/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding stages: route lookup in bursts, L2 rewrite from the neighbor
 * table, per-port TX buffering.
 */
#include <stddef.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "pkt.h"
#include "stage.h"

static inline int
is_v4(const struct rte_mbuf *m)
{
	return RTE_ETH_IS_IPV4_HDR(m->packet_type);
}

/* Addresses of a burst split by family, for one bulk route lookup per family. */
struct dst_split {
	uint32_t d4[ESPGW_BURST_MAX];
	uint8_t d6[ESPGW_BURST_MAX][16];
	bool is4[ESPGW_BURST_MAX];
	uint16_t n4, n6;
};

static inline void
split_add(struct dst_split *s, uint16_t i, bool is4, const void *addr)
{
	s->is4[i] = is4;
	if (is4)
		memcpy(&s->d4[s->n4++], addr, 4);
	else
		memcpy(s->d6[s->n6++], addr, 16);
}

static void
split_lookup(struct espgw_worker *w, struct dst_split *s, const struct espgw_l2_hop *hop[],
		uint16_t n)
{
	const struct espgw_l2_hop *h4[ESPGW_BURST_MAX], *h6[ESPGW_BURST_MAX];
	uint16_t i, n4 = 0, n6 = 0;

	if (s->n4)
		espgw_route_lookup4(w->t->route, s->d4, h4, s->n4);
	if (s->n6)
		espgw_route_lookup6(w->t->route, (const uint8_t(*)[16])s->d6, h6, s->n6);
	for (i = 0; i < n; i++)
		hop[i] = s->is4[i] ? h4[n4++] : h6[n6++];
}

/* The L3 destination (or source) of m (family from packet_type): 4 or 16 bytes. */
static inline const uint8_t *
addr_of(const struct rte_mbuf *m, bool *v4, bool src)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);

	*v4 = is_v4(m);
	if (*v4)
		return l3 + (src ? offsetof(struct rte_ipv4_hdr, src_addr)
				 : offsetof(struct rte_ipv4_hdr, dst_addr));
	return l3 + (src ? offsetof(struct rte_ipv6_hdr, src_addr)
			 : offsetof(struct rte_ipv6_hdr, dst_addr));
}

static inline bool
same_dst(const uint8_t *a, const uint8_t *b, bool v4)
{
	return v4 ? memcmp(a, b, 4) == 0 : memcmp(a, b, 16) == 0;
}

/* A burst carries runs of packets for one destination: each run is looked up once. */
static inline void
lookup_by(struct espgw_worker *w, struct rte_mbuf *m[], const struct espgw_l2_hop *hop[],
		uint16_t n, bool src)
{
	const struct espgw_l2_hop *uh[ESPGW_BURST_MAX];
	const uint8_t *d, *prev = NULL;
	uint16_t run[ESPGW_BURST_MAX];
	struct dst_split s;
	bool v4, prev_v4 = false;
	uint16_t i, nr = 0;

	s.n4 = s.n6 = 0;
	for (i = 0; i < n; i++) {
		d = addr_of(m[i], &v4, src);
		if (prev == NULL || v4 != prev_v4 || !same_dst(d, prev, v4))
			split_add(&s, nr++, v4, d);
		prev = d;
		prev_v4 = v4;
		run[i] = nr - 1;
	}
	split_lookup(w, &s, uh, nr);
	for (i = 0; i < n; i++)
		hop[i] = uh[run[i]];
}

void
stage_lookup(struct espgw_worker *w, struct rte_mbuf *m[], const struct espgw_l2_hop *hop[],
		uint16_t n)
{
	lookup_by(w, m, hop, n, false);
}

void
stage_lookup_src(struct espgw_worker *w, struct rte_mbuf *m[], const struct espgw_l2_hop *hop[],
		uint16_t n)
{
	lookup_by(w, m, hop, n, true);
}

static void
tx_flush_port(struct espgw_worker *w, uint16_t idx)
{
	struct espgw_txbuf *b = &w->tx[idx];
	uint16_t sent, i;

	if (b->n == 0)
		return;
	/* Copied before the driver owns them. */
	if (unlikely(w->cap_target == idx))
		espgw_capture_burst(w->cap, &w->capl, w->t->ports->port[idx].port_id, w->txq, b->m,
				b->n, false);
	sent = rte_eth_tx_burst(w->t->ports->port[idx].port_id, w->txq, b->m, b->n);
	w->stats.tx += sent;
	for (i = sent; i < b->n; i++)
		drop(w, b->m[i], ESPGW_DROP_TX_FULL);
	b->n = 0;
}

void
stage_tx_flush(struct espgw_worker *w)
{
	uint16_t i;

	for (i = 0; i < w->t->ports->n; i++)
		tx_flush_port(w, i);
}

static void
tx_enqueue(struct espgw_worker *w, struct rte_mbuf *m, uint16_t idx)
{
	struct espgw_txbuf *b = &w->tx[idx];

	b->m[b->n++] = m;
	if (b->n == w->burst)
		tx_flush_port(w, idx);
}

/* Data starts at L3 (l2_len bytes of old L2 in front are replaced). */
static int
l2_write(struct rte_mbuf *m, const struct espgw_l2_hop *h)
{
	struct rte_ether_hdr *eth;

	if (m->l2_len != 0)
		rte_pktmbuf_adj(m, m->l2_len);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (eth == NULL)
		return -1;
	espgw_hop_dst(h, &eth->dst_addr);
	rte_ether_addr_copy(&h->src, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(is_v4(m) ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	m->l2_len = sizeof(*eth);
	return 0;
}

/*
 * Why a packet cannot leave through hop h, or ESPGW_DROP_MAX when it can. The
 * MTU comes first so that packets waiting for resolution always fit.
 */
static enum espgw_drop
hop_verdict(const struct rte_mbuf *m, const struct espgw_l2_hop *h)
{
	if (h == NULL)
		return ESPGW_DROP_NO_ROUTE;
	if (rte_pktmbuf_pkt_len(m) - m->l2_len > h->mtu)
		return ESPGW_DROP_TOO_BIG;
	if (!espgw_hop_resolved(h))
		return ESPGW_DROP_NO_NEIGHBOR;
	return ESPGW_DROP_MAX;
}

/*
 * The control path resolves next hops (the packet waits there), and answers
 * a DF/IPv6 packet that is too big (RFC 1191, RFC 8201): on the link it came
 * from when it still has its frame, else (it came out of a tunnel) back
 * through the outbound path, so the error is encrypted like any reply.
 */
static bool
handoff(struct espgw_worker *w, struct rte_mbuf *m, const struct espgw_l2_hop *h,
		enum espgw_drop why)
{
	if (why == ESPGW_DROP_NO_NEIGHBOR) {
		stage_ctl_handoff(w, m, ESPGW_CTL_NO_NEIGH, h->port_idx);
		return true;
	}
	if (why == ESPGW_DROP_TOO_BIG && pkt_df_or_v6(m, m->l2_len)) {
		stage_ctl_handoff(w, m, ESPGW_CTL_TOO_BIG, h->mtu);
		return true;
	}
	return false;
}

/* Without L2 a packet is an SA's: decrypted by it, or its ESP result (espgw_mbuf_sa). */
static inline void
drop_fwd(struct espgw_worker *w, struct rte_mbuf *m, enum espgw_drop why)
{
	uint32_t sa = m->l2_len == 0 ? *espgw_mbuf_sa(m) : STAGE_NO_SA;

	if (sa != STAGE_NO_SA)
		drop_sa(w, m, why, sa);
	else
		drop(w, m, why);
}

static void
send_via(struct espgw_worker *w, struct rte_mbuf *m, const struct espgw_l2_hop *h)
{
	if (l2_write(m, h) < 0)
		drop(w, m, ESPGW_DROP_BAD_L3); /* no headroom: cannot happen with our pools */
	else
		tx_enqueue(w, m, h->port_idx);
}

/*
 * RFC 1812 5.2.6 / RFC 791: an IPv4 packet with DF clear that does not fit
 * the egress MTU is fragmented (fragments from the packet's own pool).
 */
static void
fragment_via(struct espgw_worker *w, struct rte_mbuf *m, const struct espgw_l2_hop *h)
{
	struct rte_mbuf *f[ESPGW_FRAG_OUT_MAX];
	int i, n;

	if (m->l2_len != 0) {
		rte_pktmbuf_adj(m, m->l2_len);
		m->l2_len = 0;
		*espgw_mbuf_sa(m) = STAGE_NO_SA; /* for drop_fwd: it had a frame, it has no SA */
	}
	n = espgw_frag4(m, h->mtu, m->pool, f);
	if (n < 0) {
		drop_fwd(w, m, ESPGW_DROP_FRAG_FAILED);
		return;
	}
	w->dp[ESPGW_DP_FRAGMENTED]++;
	w->dp[ESPGW_DP_FRAGMENTS] += (uint64_t)n;
	for (i = 0; i < n; i++)
		send_via(w, f[i], h);
}

static void
forward_one(struct espgw_worker *w, struct rte_mbuf *m, const struct espgw_l2_hop *h)
{
	enum espgw_drop why;

	if (h != NULL && h->local) {
		stage_to_ctl(w, m);
		return;
	}
	why = hop_verdict(m, h);
	if (handoff(w, m, h, why))
		return;
	if (why == ESPGW_DROP_TOO_BIG && RTE_ETH_IS_IPV4_HDR(m->packet_type))
		fragment_via(w, m, h); /* DF clear: handoff took DF set */
	else if (why != ESPGW_DROP_MAX)
		drop_fwd(w, m, why);
	else
		send_via(w, m, h);
}

/* A packet that goes on loses a hop, and may expire here (an error of sa unless STAGE_NO_SA). */
static inline void
forward_hop(struct espgw_worker *w, struct rte_mbuf *m, const struct espgw_l2_hop *hop, uint32_t sa)
{
	if (pkt_ttl_dec(m, m->l2_len) < 0)
		stage_ttl_expired(w, m, sa);
	else
		forward_one(w, m, hop);
}

/*
 * Decrypted packets, each with its SA for the counters (espgw_mbuf_sa). RFC
 * 1812 5.3.1: one for the gateway itself is delivered before its TTL is
 * looked at (a tunnelled echo with TTL 1 is answered, not expired).
 */
void
stage_forward_inner(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	const struct espgw_l2_hop *hop[ESPGW_BURST_MAX];
	struct rte_mbuf *again[ESPGW_BURST_MAX];
	uint16_t i, na = 0;

	if (n == 0)
		return;
	stage_lookup(w, m, hop, n);
	for (i = 0; i < n; i++) {
		if (hop[i] != NULL && hop[i]->local)
			stage_to_ctl(w, m[i]);
		else if (stage_hop_unprotected(hop[i]))
			again[na++] = m[i];
		else
			forward_hop(w, m[i], hop[i], *espgw_mbuf_sa(m[i]));
	}
	if (na)
		stage_outbound_again(w, again, na);
}

/*
 * ESP results of outbound SAs: the outer destination is the SA's peer, so
 * each run of one peer's packets is routed once, from the SA, without
 * reading the packets (their headers went cold in the crypto device); the
 * SAs of one peer gateway, one after the other, make one run (1,000 SAs to
 * one peer: a lookup a burst, not one a packet). hop[run[i]] is m[i]'s.
 */
static void
esp_hops(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, const struct espgw_l2_hop *hop[],
		uint16_t run[])
{
	const struct espgw_ip *peer, *last = NULL;
	struct dst_split s;
	uint32_t sa, prev = UINT32_MAX;
	uint16_t i, nr = 0;

	s.n4 = s.n6 = 0;
	for (i = 0; i < n; i++) {
		sa = *espgw_mbuf_sa(m[i]);
		if (sa != prev) {
			peer = &w->t->sad->sa[sa].peer;
			if (last == NULL || !espgw_ip_equal(peer, last))
				split_add(&s, nr++, peer->family == ESPGW_AF_INET, peer->bytes);
			last = peer;
		}
		prev = sa;
		run[i] = nr - 1;
	}
	split_lookup(w, &s, hop, nr);
}

void
stage_forward_esp(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	const struct espgw_l2_hop *hop[ESPGW_BURST_MAX];
	uint16_t run[ESPGW_BURST_MAX];
	uint16_t i;

	esp_hops(w, m, n, hop, run);
	for (i = 0; i < n; i++)
		forward_one(w, m[i], hop[run[i]]);
}

void
stage_forward_esp_ready(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	const struct espgw_l2_hop *hop[ESPGW_BURST_MAX];
	uint16_t run[ESPGW_BURST_MAX];
	const struct espgw_l2_hop *h;
	uint16_t i;

	esp_hops(w, m, n, hop, run);
	for (i = 0; i < n; i++) {
		h = hop[run[i]];
		if (h != NULL && !h->local && hop_verdict(m[i], h) == ESPGW_DROP_MAX &&
				l2_write(m[i], h) == 0) {
			m[i]->port = h->port_idx;
			continue;
		}
		forward_one(w, m[i], h);
		m[i] = NULL;
	}
}

void
stage_tx_put(struct espgw_worker *w, struct rte_mbuf *m)
{
	tx_enqueue(w, m, m->port);
}

void
stage_forward_clear(struct espgw_worker *w, struct rte_mbuf *m, const struct espgw_l2_hop *hop,
		enum espgw_drop why)
{
	if (why != ESPGW_DROP_MAX)
		drop(w, m, why);
	else
		forward_hop(w, m, hop, STAGE_NO_SA);
}
