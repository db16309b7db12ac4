/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Large IPv4 SPDs scanned by bucket (internal to lib/spd, and to lib/dp/classify.c's
 * one pass, which calls spd_bucket4_match_sel). A gateway's large
 * SPD is one policy per tunnel: its own subnets against each peer's, so the
 * rules differ on one side. rte_acl classifies them in about 34 cycles a key
 * at 1,000 rules on the bench VM. Bucketing the rules by their prefix on that
 * side leaves one or two to scan (spd_scan.h): the key's address finds the
 * longest prefix that some rule has there, and that prefix's bucket holds
 * every rule whose prefix on that side contains it, best first.
 *
 * The longest prefix is found by one hash table per prefix length, longest
 * first. rte_lpm would find it too, but each context allocates a 64 MiB
 * table (tbl24), and a live change builds a new SPD next to the old one;
 * rules use a few prefix lengths, so a few small tables of one probe each
 * do. Built only where that holds (at most SPD_BUCKET_LENS lengths, at most
 * SPD_BUCKET_MAX rules in a bucket, at most SPD_BUCKET_RULES rules);
 * otherwise rte_acl classifies.
 */
#ifndef ESPGW_SPD_BUCKET_H
#define ESPGW_SPD_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>

#include "spd_scan.h"

#define SPD_BUCKET_LENS	 4
#define SPD_BUCKET_MAX	 8
#define SPD_BUCKET_RULES 65536

/* The prefixes of one length: open addressing, at most half full. */
struct spd_bucket_tab {
	uint32_t mask;	/* host order */
	uint32_t shift; /* of the hash to a slot */
	uint32_t slots_mask;
	struct {
		uint32_t net;	 /* host order */
		uint32_t bucket; /* 0: free */
	} * slot;
};

struct spd_bucket4 {
	bool by_src; /* the side the rules are bucketed by */
	uint32_t n_tab;
	struct spd_bucket_tab tab[SPD_BUCKET_LENS]; /* longest prefix first */
	/* Bucket b's rules are rules[start[b]] to rules[start[b + 1] - 1]; b 0: no prefix. */
	uint32_t *start;
	struct spd_scan4 *rules;
};

/*
 * Buckets for the n rules (best first), on the side that makes the smaller
 * buckets; NULL when neither side fits the limits, or out of memory.
 */
struct spd_bucket4 *spd_bucket4_build(const struct spd_scan4 *r, uint32_t n, int socket);
void spd_bucket4_free(struct spd_bucket4 *b);

#define SPD_BUCKET_HASH_MUL 0x9e3779b1u /* Fibonacci hashing */

/* The bucket of the longest prefix that contains a (host order); 0 if none. */
static inline uint32_t
spd_bucket4_find(const struct spd_bucket4 *b, uint32_t a)
{
	const struct spd_bucket_tab *t;
	uint32_t i, h, net;

	for (i = 0; i < b->n_tab; i++) {
		t = &b->tab[i];
		net = a & t->mask;
		for (h = (net * SPD_BUCKET_HASH_MUL) >> t->shift; t->slot[h].bucket != 0;
				h = (h + 1) & t->slots_mask)
			if (t->slot[h].net == net)
				return t->slot[h].bucket;
	}
	return 0;
}

/* The rules of the bucket for address a (host order): *n of them, best first. */
static inline const struct spd_scan4 *
spd_bucket4_rules(const struct spd_bucket4 *b, uint32_t a, uint32_t *n)
{
	uint32_t bk = spd_bucket4_find(b, a);

	*n = b->start[bk + 1] - b->start[bk];
	return &b->rules[b->start[bk]];
}

/*
 * The result for selectors as a packet has them (network order): lib/dp's
 * one-pass classification (espgw_spd_sel.h) calls it once a packet.
 */
static inline uint32_t
spd_bucket4_match_sel(const struct spd_bucket4 *b, const struct espgw_spd_sel4 *s)
{
	uint32_t n;
	const struct spd_scan4 *r =
			spd_bucket4_rules(b, rte_be_to_cpu_32(b->by_src ? s->src : s->dst), &n);

	return spd_scan_match4_sel(r, n, s);
}

void spd_bucket4_classify(const struct spd_bucket4 *b, const struct espgw_spd_key4 *k[],
		uint32_t res[], uint32_t nk);

#endif
