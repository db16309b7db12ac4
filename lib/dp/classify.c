/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPD classification of a mixed-family burst: extract 5-tuple keys, classify
 * each family in one rte_acl call, and give the results back in burst order.
 * IPv4 against a scan (spd_scan.h) or buckets (spd_bucket.h) goes in one
 * pass, without a key.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "classify.h"
#include "spd_bucket.h"
#include "spd_sa.h"
#include "spd_scan.h"

#define ICMP_HDR 8 /* type, code, checksum, 4 bytes; then the quoted packet */

/*
 * Decrypted fragments are kept per SA they came through, also when routed back
 * out of the WAN (espgw_fragstate.h says why; stage_outbound_again marks clear
 * ones STAGE_NO_SA).
 */
static uint32_t
frag_sa(enum espgw_fragstate_dir dir, struct rte_mbuf *m)
{
	return dir == ESPGW_FS_INNER || dir == ESPGW_FS_AGAIN ? *espgw_mbuf_sa(m) : 0;
}

/*
 * RFC 4301 7.3: a fragment's verdict is its first fragment's (see
 * espgw_fragstate.h). Only against an SPD that selects ports: without port
 * selectors a fragment matches what its packet matches.
 */
static uint32_t
frag_verdict4(struct espgw_worker *w, enum espgw_fragstate_dir dir, struct rte_mbuf *m,
		const struct espgw_spd_key4 *k, uint32_t res)
{
	uint32_t sa = frag_sa(dir, m);

	if (k->frag == ESPGW_SPD_FRAG_FIRST)
		espgw_fragstate_put4(w->frags, dir, sa, k, res, w->now);
	else if (!espgw_fragstate_get4(w->frags, dir, sa, k, w->now, &res))
		return CLASSIFY_NO_FIRST;
	return res;
}

static uint32_t
frag_verdict6(struct espgw_worker *w, enum espgw_fragstate_dir dir, struct rte_mbuf *m,
		const struct espgw_spd_key6 *k, uint32_t res)
{
	uint32_t sa = frag_sa(dir, m);

	if (k->frag == ESPGW_SPD_FRAG_FIRST)
		espgw_fragstate_put6(w->frags, dir, sa, k, res, w->now);
	else if (!espgw_fragstate_get6(w->frags, dir, sa, k, w->now, &res))
		return CLASSIFY_NO_FIRST;
	return res;
}

/* What classify_burst decides once a burst. */
struct burst {
	struct espgw_worker *w;
	const struct espgw_spd *spd;
	enum espgw_fragstate_dir dir;
	bool frags; /* fragments get their first fragment's verdict */
	bool pairs; /* some rule accepts two SAs */
	bool pass4; /* IPv4 in one pass (classify4_one), against bk4 or else r4 */
	const struct spd_bucket4 *bk4;
	const struct spd_scan4 *r4;
	uint32_t n_r4;
	const struct spd_sa4 *sa4; /* decrypted packets: the rule kept per SA (spd_sa.h) */
};

/*
 * A result for packet m: the SA it came through when its rule accepts two (a
 * rekey's overlap, espgw_spd.h), before a first fragment's verdict is kept:
 * the kept verdict then names a slot as every other does, whatever SPD
 * version its later fragments meet.
 */
static inline uint32_t
pair_of(const struct burst *b, struct rte_mbuf *m, uint32_t res)
{
	return unlikely(b->pairs) ? espgw_spd_pair_resolve(b->spd, res, *espgw_mbuf_sa(m)) : res;
}

/*
 * A decrypted packet (sa) against the rule kept for its SA first: at 1,000
 * tunnels it saves the bucket lookup's cold lines (spd_sa.h), and gives the
 * same result. The other directions compile without it (keys_extract).
 */
static __rte_always_inline uint32_t
match4(const struct burst *b, struct rte_mbuf *m, const struct espgw_spd_sel4 *s, bool sa)
{
	uint32_t res = ESPGW_SPD_NO_MATCH;

	if (sa)
		res = spd_sa4_match_sel(b->sa4, *espgw_mbuf_sa(m), s);
	if (res != ESPGW_SPD_NO_MATCH)
		return res;
	return b->bk4 != NULL ? spd_bucket4_match_sel(b->bk4, s)
			      : spd_scan_match4_sel(b->r4, b->n_r4, s);
}

/*
 * An IPv4 packet against a scan's rules or buckets in one pass: its
 * selectors go from the header to the rules in registers (espgw_spd_sel.h
 * says why), for the result a key of them gets on the other path.
 */
static __rte_always_inline uint32_t
classify4_one(const struct burst *b, struct rte_mbuf *m, const void *l3, uint32_t len, bool sa)
{
	struct espgw_spd_key4 k;
	struct espgw_spd_sel4 s;
	uint32_t res;

	if (espgw_spd_sel4_get(l3, len, &s) < 0)
		return CLASSIFY_BAD;
	res = pair_of(b, m, match4(b, m, &s, sa));
	if (likely(!b->frags || s.frag == ESPGW_SPD_FRAG_NONE))
		return res;
	espgw_spd_key4_set(&k, &s); /* the fragment state keeps keys */
	return frag_verdict4(b->w, b->dir, m, &k, res);
}

/* Keys of the burst by family (k4[i4[j]] is the key of m[j] when res[j] is CLASSIFY_V4). */
struct keys {
	struct espgw_spd_key4 k4[ESPGW_BURST_MAX];
	struct espgw_spd_key6 k6[ESPGW_BURST_MAX];
	const struct espgw_spd_key4 *p4[ESPGW_BURST_MAX];
	const struct espgw_spd_key6 *p6[ESPGW_BURST_MAX];
	uint16_t n4, n6;
};

/*
 * res[i]: IPv4 classified in one pass where it can be; else CLASSIFY_V4 or
 * V6 with a key, or BAD. sa: try the rule kept for the packet's SA first.
 */
static __rte_always_inline void
keys_extract(const struct burst *b, struct keys *k, struct rte_mbuf *m[], uint32_t res[],
		uint16_t n, bool sa)
{
	uint16_t i;

	k->n4 = k->n6 = 0;
	for (i = 0; i < n; i++) {
		const void *l3 = rte_pktmbuf_mtod_offset(m[i], const void *, m[i]->l2_len);
		uint32_t len = rte_pktmbuf_data_len(m[i]) - m[i]->l2_len;

		res[i] = CLASSIFY_BAD;
		if (RTE_ETH_IS_IPV4_HDR(m[i]->packet_type)) {
			if (b->pass4) {
				res[i] = classify4_one(b, m[i], l3, len, sa);
			} else if (espgw_spd_key4_extract(l3, len, &k->k4[k->n4]) == 0) {
				k->p4[k->n4] = &k->k4[k->n4];
				k->n4++;
				res[i] = CLASSIFY_V4;
			}
		} else if (espgw_spd_key6_extract(l3, len, &k->k6[k->n6]) == 0) {
			k->p6[k->n6] = &k->k6[k->n6];
			k->n6++;
			res[i] = CLASSIFY_V6;
		}
	}
}

void
classify_burst(struct espgw_worker *w, const struct espgw_spd *spd, enum espgw_fragstate_dir dir,
		struct rte_mbuf *m[], uint32_t res[], uint16_t n)
{
	uint32_t r4[ESPGW_BURST_MAX], r6[ESPGW_BURST_MAX];
	struct burst b = {
			.w = w,
			.spd = spd,
			.dir = dir,
			.frags = w->frags != NULL && espgw_spd_uses_ports(spd),
			.pairs = dir == ESPGW_FS_INNER && espgw_spd_has_pairs(spd),
	};
	struct keys k;
	uint16_t i, n4 = 0, n6 = 0;

	b.bk4 = espgw_spd_bucket4(spd);
	b.pass4 = b.bk4 != NULL || espgw_spd_scan4(spd, &b.r4, &b.n_r4);
	if (dir == ESPGW_FS_INNER)
		b.sa4 = espgw_spd_sa4(spd);
	if (b.sa4 != NULL)
		keys_extract(&b, &k, m, res, n, true);
	else
		keys_extract(&b, &k, m, res, n, false);
	if (k.n4 == 0 && k.n6 == 0)
		return; /* all IPv4 in one pass, or malformed */
	if (k.n4)
		espgw_spd_classify4(spd, k.p4, r4, k.n4);
	if (k.n6)
		espgw_spd_classify6(spd, k.p6, r6, k.n6);
	for (i = 0; i < n; i++) {
		if (res[i] == CLASSIFY_V4) {
			res[i] = pair_of(&b, m[i], r4[n4]);
			if (unlikely(b.frags && k.k4[n4].frag != ESPGW_SPD_FRAG_NONE))
				res[i] = frag_verdict4(w, dir, m[i], &k.k4[n4], res[i]);
			n4++;
		} else if (res[i] == CLASSIFY_V6) {
			res[i] = pair_of(&b, m[i], r6[n6]);
			if (unlikely(b.frags && k.k6[n6].frag != ESPGW_SPD_FRAG_NONE))
				res[i] = frag_verdict6(w, dir, m[i], &k.k6[n6], res[i]);
			n6++;
		}
	}
}

/* The quote's selectors as the traffic going back to its sender. */
static void
key4_reverse(struct espgw_spd_key4 *k)
{
	uint32_t a = k->src;
	uint16_t p = k->sport;

	k->src = k->dst;
	k->dst = a;
	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP || k->proto == IPPROTO_SCTP) {
		k->sport = k->dport;
		k->dport = p;
	}
}

static void
key6_reverse(struct espgw_spd_key6 *k)
{
	uint8_t a[16];
	uint16_t p = k->sport;

	memcpy(a, k->src, 16);
	memcpy(k->src, k->dst, 16);
	memcpy(k->dst, a, 16);
	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP || k->proto == IPPROTO_SCTP) {
		k->sport = k->dport;
		k->dport = p;
	}
}

uint32_t
classify_quote(const struct espgw_spd *spd, const struct rte_mbuf *m)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint32_t len = rte_pktmbuf_data_len(m) - m->l2_len, off = m->l3_len + ICMP_HDR;
	const struct espgw_spd_key4 *p4;
	const struct espgw_spd_key6 *p6;
	struct espgw_spd_key4 k4;
	struct espgw_spd_key6 k6;
	uint32_t res;

	if (len <= off)
		return CLASSIFY_BAD;
	if (RTE_ETH_IS_IPV4_HDR(m->packet_type)) {
		if (espgw_spd_key4_extract(l3 + off, len - off, &k4) < 0)
			return CLASSIFY_BAD;
		key4_reverse(&k4);
		p4 = &k4;
		espgw_spd_classify4(spd, &p4, &res, 1);
		return res;
	}
	if (espgw_spd_key6_extract(l3 + off, len - off, &k6) < 0)
		return CLASSIFY_BAD;
	key6_reverse(&k6);
	p6 = &k6;
	espgw_spd_classify6(spd, &p6, &res, 1);
	return res;
}
