/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound (packets from a protected port): parse, classify against the
 * outbound SPD, then protect (ESP), bypass (forward in clear) or discard.
 * No matching rule means discard (RFC 4301 4.4.1, fail-closed).
 */
#include <rte_ether.h>
#include <rte_ip.h>

#include "classify.h"
#include "pkt.h"
#include "stage.h"

/* Protect-class packets of a burst with their SAs, in arrival order. */
struct batch {
	uint16_t n;
	struct espgw_sa_rt *sa[ESPGW_BURST_MAX];
	struct rte_mbuf *m[ESPGW_BURST_MAX];
};

static void
protect(struct espgw_worker *w, struct batch *b)
{
	struct rte_mbuf *done[ESPGW_BURST_MAX];
	uint16_t k;

	if (b->n == 0)
		return;
	b->n = stage_order_admit(w, b->m, b->sa, b->n);
	k = espgw_esp_outb(&w->esp, b->m, b->sa, b->n, done);
	b->n = 0;
	stage_order_out(w, done, k);
}

/* Fragments may not fit: what is batched goes first, so the order holds. */
static void
batch_add(struct espgw_worker *w, struct batch *b, struct rte_mbuf *m[], uint16_t n,
		struct espgw_sa_rt *sa)
{
	uint16_t i;

	if (b->n + n > ESPGW_BURST_MAX)
		protect(w, b);
	for (i = 0; i < n; i++) {
		b->sa[b->n] = sa;
		b->m[b->n++] = m[i];
	}
}

/*
 * RFC 4301 8.1: a DF-clear IPv4 packet that does not fit the tunnel is cut
 * BEFORE encryption, into fragments of the SA's inner MTU: each one becomes
 * an ESP packet of its own and the peer gateway never reassembles (see
 * espgw_frag.h). The fragments come from the packet's own pool.
 */
static void
fragment(struct espgw_worker *w, struct batch *b, struct rte_mbuf *m, uint32_t sa)
{
	struct rte_mbuf *f[ESPGW_FRAG_OUT_MAX];
	int n;

	rte_pktmbuf_adj(m, m->l2_len);
	m->l2_len = 0;
	n = espgw_frag4(m, w->t->sa_mtu[sa], m->pool, f);
	if (n < 0) {
		drop_sa(w, m, ESPGW_DROP_FRAG_FAILED, sa);
		return;
	}
	w->dp[ESPGW_DP_FRAGMENTED]++;
	w->dp[ESPGW_DP_FRAGMENTS] += (uint64_t)n;
	batch_add(w, b, f, (uint16_t)n, &w->t->sad->sa[sa]);
}

/*
 * A packet its policy protects with sa: TTL first (as a router decides,
 * RFC 1812 5.3.1), then the tunnel's inner MTU, precomputed per SA from the
 * path MTU of its outer route and its ESP overhead. Too big: DF or IPv6 is
 * refused with that MTU (RFC 4301 8.2, RFC 1191, RFC 8201), DF clear is
 * fragmented.
 */
/*
 * The policy's SA is not in service: declared (the policy is a trap, RFC
 * 4301 4.4.1: the packet asks the key manager for the SA, at most once a
 * second per SA, and is dropped) or expired. Never sent.
 */
static void
sa_unusable(struct espgw_worker *w, struct rte_mbuf *m, const struct espgw_sa_rt *rt)
{
	if (rt->state == ESPGW_SA_EXPIRED) {
		drop(w, m, ESPGW_DROP_SA_EXPIRED);
		return;
	}
	if (rt->state != ESPGW_SA_DECLARED) { /* FROZEN, or MOVED too many times over */
		drop(w, m, ESPGW_DROP_SA_UPDATING);
		return;
	}
	stage_acquire(w, m, rt);
	drop(w, m, ESPGW_DROP_NO_SA_YET);
}

/*
 * An SA whose peer moved (sa update) sends its policies' packets to its
 * successor until the policies name that one; successive updates in one
 * publication make a short chain (MOVE_HOPS bounds the walk).
 */
#define MOVE_HOPS 4

static uint32_t
sa_follow(const struct espgw_worker *w, uint32_t sa)
{
	const struct espgw_sa_rt *rt = &w->t->sad->sa[sa];
	unsigned int hops;

	for (hops = 0; hops < MOVE_HOPS &&
			__atomic_load_n(&rt->state, __ATOMIC_ACQUIRE) == ESPGW_SA_MOVED;
			hops++) {
		sa = rt->moved_to;
		rt = &w->t->sad->sa[sa];
	}
	return sa;
}

/*
 * Transport mode protects whole datagrams (RFC 4303 3.1.1, 3.3.4): a
 * fragment cannot be, and a packet too big for the SA is never cut before
 * encryption as a tunnel's inner packet is (its fragments would each carry
 * ESP after a fragment's header): it gets the SA's MTU back, DF or not.
 */
static void
protect_trs(struct espgw_worker *w, struct batch *b, struct rte_mbuf *m, uint32_t sa, uint16_t mtu)
{
	if (pkt_is_fragment(m, m->l2_len)) {
		drop_sa(w, m, ESPGW_DROP_TRS_FRAGMENT, sa);
		return;
	}
	if (rte_pktmbuf_pkt_len(m) - m->l2_len > mtu) {
		stage_ctl_handoff(w, m, ESPGW_CTL_TOO_BIG, mtu);
		return;
	}
	pkt_ttl_dec(m, m->l2_len);
	batch_add(w, b, &m, 1, &w->t->sad->sa[sa]);
}

static void
protect_one(struct espgw_worker *w, struct batch *b, struct rte_mbuf *m, uint32_t sa)
{
	uint16_t mtu;

	if (unlikely(w->t->sad->sa[sa].state != ESPGW_SA_LIVE)) {
		sa = sa_follow(w, sa);
		if (w->t->sad->sa[sa].state != ESPGW_SA_LIVE) {
			sa_unusable(w, m, &w->t->sad->sa[sa]);
			return;
		}
	}
	mtu = w->t->sa_mtu[sa];
	if (pkt_ttl_expired(m, m->l2_len)) {
		stage_ttl_expired(w, m, STAGE_NO_SA);
		return;
	}
	if (unlikely(w->t->sad->sa[sa].transport)) {
		protect_trs(w, b, m, sa, mtu);
		return;
	}
	if (rte_pktmbuf_pkt_len(m) - m->l2_len > mtu && pkt_df_or_v6(m, m->l2_len)) {
		stage_ctl_handoff(w, m, ESPGW_CTL_TOO_BIG, mtu);
		return;
	}
	pkt_ttl_dec(m, m->l2_len);
	if (rte_pktmbuf_pkt_len(m) - m->l2_len > mtu)
		fragment(w, b, m, sa);
	else
		batch_add(w, b, &m, 1, &w->t->sad->sa[sa]);
}

/*
 * Not protected: packets for the gateway itself go to the control path whatever
 * the SPD says; bypass is forwarded in clear; the rest is dropped by reason.
 */
static void
unprotected(struct espgw_worker *w, struct rte_mbuf *m[], const uint32_t res[], uint16_t n)
{
	const struct espgw_l2_hop *hop[ESPGW_BURST_MAX];
	uint16_t i;

	stage_lookup(w, m, hop, n);
	for (i = 0; i < n; i++) {
		if (hop[i] != NULL && hop[i]->local)
			stage_to_ctl(w, m[i]);
		else
			stage_forward_clear(w, m[i], hop[i], classify_drop(res[i]));
	}
}

/*
 * What each packet's outbound policy (res[i]) says: protect, bypass, discard.
 * proto: from a port, the upper protocols (link mechanics go to the control
 * path); NULL for packets already forwarded once.
 */
static void
outbound_apply(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, const uint8_t proto[],
		const uint32_t res[])
{
	struct rte_mbuf *rest[ESPGW_BURST_MAX];
	uint32_t rest_res[ESPGW_BURST_MAX];
	struct batch b; /* not "= {0}": that clears 4 KiB per burst (callgrind: 6% of all work) */
	uint16_t i, nr = 0;

	b.n = 0;
	for (i = 0; i < n; i++) {
		/* Link mechanics (ND above all) belong to the control path, whatever the SPD says. */
		if (proto != NULL && pkt_link_mechanics6(m[i], proto[i])) {
			stage_to_ctl(w, m[i]);
		} else if (!CLASSIFY_IS_PROTECT(res[i])) {
			rest_res[nr] = res[i];
			rest[nr++] = m[i];
		} else {
			protect_one(w, &b, m[i], ESPGW_SPD_SA_INDEX(res[i]));
		}
	}
	protect(w, &b);
	if (nr)
		unprotected(w, rest, rest_res, nr);
}

void
stage_outbound(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, const uint8_t proto[])
{
	uint32_t res[ESPGW_BURST_MAX];

	classify_burst(w, w->t->spd_out, ESPGW_FS_OUT, m, res, n);
	outbound_apply(w, m, n, proto, res);
}

/*
 * An ICMP error goes where the traffic back to the quoted packet's sender
 * goes (RFC 4301 6.2); about a packet that came out of a tunnel only through
 * an SA: a rule that would send it in clear would send the tunnel's
 * plaintext, which it quotes, across the internet. So does a reply to a
 * request that came out of a tunnel (it carries the request's data). IKE
 * and NAT keepalives bypass the SPD (RFC 4301 5.1.2).
 */
static uint32_t
injected_verdict(const struct espgw_spd *spd, const struct rte_mbuf *m, uint32_t own)
{
	uint32_t kind = espgw_inject_kind(m);
	uint32_t res;

	/* Never past a protect rule: IKE to a host the SPD protects goes in its tunnel. */
	if (kind == ESPGW_INJECT_BYPASS)
		return CLASSIFY_IS_PROTECT(own) ? own : ESPGW_SPD_BYPASS;
	res = kind == ESPGW_INJECT_OWN || kind == ESPGW_INJECT_OWN_SA ? own
								      : classify_quote(spd, m);

	if ((kind == ESPGW_INJECT_QUOTE_SA || kind == ESPGW_INJECT_OWN_SA) &&
			!CLASSIFY_IS_PROTECT(res))
		return CLASSIFY_MISMATCH;
	return res;
}

/* The control path's packets: replies by their own header, ICMP errors by what they quote. */
void
stage_outbound_injected(
		struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, const uint8_t proto[])
{
	uint32_t res[ESPGW_BURST_MAX];
	uint16_t i;

	classify_burst(w, w->t->spd_out, ESPGW_FS_OUT, m, res, n);
	for (i = 0; i < n; i++)
		res[i] = injected_verdict(w->t->spd_out, m[i], res[i]);
	outbound_apply(w, m, n, proto, res);
}

/*
 * A packet that entered from the unprotected side (decrypted, or in clear by
 * an inbound bypass) and is routed back out of an unprotected port crosses
 * the IPsec boundary once more, outward (RFC 4301 5.1): the outbound SPD
 * decides it like any packet from the LAN (a hub between two tunnels
 * re-encrypts, discard and no rule drop). Data at L3, after l2_len bytes of
 * old L2 (none for decrypted packets): an L2 header of the outbound path's
 * kind is made in front.
 */
void
stage_outbound_again(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	uint32_t res[ESPGW_BURST_MAX];
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (m[i]->l2_len != 0) {
			/*
			 * Fragment verdicts are kept by the SA a packet came
			 * through, clear ones apart (espgw_fragstate.h).
			 */
			*espgw_mbuf_sa(m[i]) = STAGE_NO_SA;
		} else if (rte_pktmbuf_prepend(m[i], RTE_ETHER_HDR_LEN) == NULL) {
			drop(w, m[i], ESPGW_DROP_BAD_L3); /* no headroom: not with our pools */
			continue;
		} else {
			/* Out of a tunnel, not off a link: the control path must not answer "its link". */
			m[i]->port = RTE_MBUF_PORT_INVALID;
		}
		m[i]->l2_len = RTE_ETHER_HDR_LEN;
		m[k++] = m[i];
	}
	if (k == 0)
		return;
	classify_burst(w, w->t->spd_out, ESPGW_FS_AGAIN, m, res, k);
	outbound_apply(w, m, k, NULL, res);
}
