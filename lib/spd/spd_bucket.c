/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Large IPv4 SPDs scanned by bucket (spd_bucket.h says why and how). Why a
 * bucket is enough: the prefixes on one side that contain an address form a
 * chain, so every rule prefix there that contains it contains the longest
 * one that does; the bucket of that longest prefix therefore holds every
 * rule that can match, in precedence order, and the scan checks each in full.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_malloc.h>

#include "spd_bucket.h"

struct pfx {
	uint32_t net;
	uint32_t len;
	uint32_t rank; /* the rule's (in groups), or unused (in the list of prefixes) */
};

static uint32_t
mask_len(uint32_t m)
{
	return m == 0 ? 0 : 32 - (uint32_t)__builtin_ctz(m);
}

static uint32_t
len_mask(uint32_t len)
{
	return len == 0 ? 0 : (uint32_t)(UINT64_MAX << (32 - len));
}

/* Shortest first, then by address and rank: the rules of one prefix side by side, best first. */
static int
group_cmp(const void *a, const void *b)
{
	const struct pfx *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->net != y->net)
		return x->net < y->net ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* Longest first: the tables are probed in this order. */
static int
pfx_cmp(const void *a, const void *b)
{
	const struct pfx *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->net < y->net ? -1 : x->net > y->net;
}

/* The rules' prefixes on one side, sorted into groups of one prefix ("any" is length 0). */
struct side {
	bool by_src;
	struct pfx *g; /* n entries, by group_cmp */
	uint32_t n;
	uint32_t lens[SPD_BUCKET_LENS + 1]; /* the distinct lengths, 0 included */
	uint32_t n_lens;
	struct pfx *p; /* the distinct prefixes but "any", by pfx_cmp */
	uint32_t np;
};

/* -1 when the rules have more than SPD_BUCKET_LENS prefix lengths on the side. */
static int
side_load(struct side *sd, const struct spd_scan4 *r)
{
	uint32_t i, m;

	for (i = 0; i < sd->n; i++) {
		m = sd->by_src ? r[i].src_mask : r[i].dst_mask;
		sd->g[i].net = sd->by_src ? r[i].src : r[i].dst;
		sd->g[i].len = mask_len(m);
		sd->g[i].rank = i;
	}
	qsort(sd->g, sd->n, sizeof(*sd->g), group_cmp);
	sd->n_lens = sd->np = 0;
	for (i = 0; i < sd->n; i++) {
		if (i > 0 && sd->g[i].len == sd->g[i - 1].len && sd->g[i].net == sd->g[i - 1].net)
			continue;
		if (i == 0 || sd->g[i].len != sd->g[i - 1].len) {
			if (sd->n_lens == SPD_BUCKET_LENS + 1 ||
					(sd->n_lens == SPD_BUCKET_LENS && sd->g[0].len != 0))
				return -1;
			sd->lens[sd->n_lens++] = sd->g[i].len;
		}
		if (sd->g[i].len != 0)
			sd->p[sd->np++] = sd->g[i];
	}
	qsort(sd->p, sd->np, sizeof(*sd->p), pfx_cmp);
	return 0;
}

/* The first entry of group (len, net) in g, or n when there is none. */
static uint32_t
group_find(const struct side *sd, uint32_t len, uint32_t net)
{
	struct pfx key = {net, len, 0};
	uint32_t lo = 0, hi = sd->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (group_cmp(&sd->g[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sd->n && sd->g[lo].len == len && sd->g[lo].net == net ? lo : sd->n;
}

/*
 * The ranks of the rules in bucket b (0: no prefix, else prefix b - 1), best
 * first, into rank[]: the groups of the prefix and of each shorter one that
 * contains it. Returns their count, SPD_BUCKET_MAX + 1 when over.
 */
static uint32_t
bucket_ranks(const struct side *sd, uint32_t b, uint32_t rank[SPD_BUCKET_MAX + 1])
{
	uint32_t len = b == 0 ? 0 : sd->p[b - 1].len, net = b == 0 ? 0 : sd->p[b - 1].net;
	uint32_t l, i, j, k = 0, x;

	for (l = 0; l < sd->n_lens && sd->lens[l] <= len; l++) {
		for (i = group_find(sd, sd->lens[l], net & len_mask(sd->lens[l]));
				i < sd->n && sd->g[i].len == sd->lens[l] &&
				sd->g[i].net == (net & len_mask(sd->lens[l]));
				i++) {
			if (k == SPD_BUCKET_MAX + 1)
				return k;
			/* Insertion by rank: a bucket is a few rules. */
			for (x = sd->g[i].rank, j = k++; j > 0 && rank[j - 1] > x; j--)
				rank[j] = rank[j - 1];
			rank[j] = x;
		}
	}
	return k;
}

/* The largest bucket on the side, or SPD_BUCKET_MAX + 1 when some bucket is over. */
static uint32_t
side_max(const struct side *sd)
{
	uint32_t rank[SPD_BUCKET_MAX + 1], b, most = 0;

	for (b = 0; b <= sd->np && most <= SPD_BUCKET_MAX; b++)
		most = RTE_MAX(most, bucket_ranks(sd, b, rank));
	return most;
}

static int
tab_build(struct spd_bucket_tab *t, const struct pfx *p, uint32_t first, uint32_t count, int socket)
{
	uint32_t slots = 4, bits = 2, i, h;

	while (slots < 2 * count) {
		slots *= 2;
		bits++;
	}
	t->slot = rte_zmalloc_socket("espgw_spd_bucket", slots * sizeof(*t->slot), 0, socket);
	if (t->slot == NULL)
		return -1;
	t->mask = len_mask(p[first].len);
	t->shift = 32 - bits;
	t->slots_mask = slots - 1;
	for (i = first; i < first + count; i++) {
		for (h = (p[i].net * SPD_BUCKET_HASH_MUL) >> t->shift; t->slot[h].bucket != 0;
				h = (h + 1) & t->slots_mask)
			;
		t->slot[h].net = p[i].net;
		t->slot[h].bucket = i + 1;
	}
	return 0;
}

/* One table per prefix length (p is sorted longest first). */
static int
tabs_build(struct spd_bucket4 *b, const struct pfx *p, uint32_t np, int socket)
{
	uint32_t i, first = 0;

	for (i = 1; i <= np; i++) {
		if (i < np && p[i].len == p[first].len)
			continue;
		if (tab_build(&b->tab[b->n_tab++], p, first, i - first, socket) < 0)
			return -1;
		first = i;
	}
	return 0;
}

static int
rules_build(struct spd_bucket4 *b, const struct spd_scan4 *r, const struct side *sd, int socket)
{
	uint32_t rank[SPD_BUCKET_MAX + 1], k, i;

	b->start = rte_zmalloc_socket(
			"espgw_spd_bucket", (sd->np + 2) * sizeof(*b->start), 0, socket);
	if (b->start == NULL)
		return -1;
	for (k = 0; k <= sd->np; k++)
		b->start[k + 1] = b->start[k] + bucket_ranks(sd, k, rank);
	b->rules = rte_zmalloc_socket("espgw_spd_bucket",
			RTE_MAX(b->start[sd->np + 1], 1u) * sizeof(*b->rules), RTE_CACHE_LINE_SIZE,
			socket);
	if (b->rules == NULL)
		return -1;
	for (k = 0; k <= sd->np; k++) {
		bucket_ranks(sd, k, rank);
		for (i = b->start[k]; i < b->start[k + 1]; i++)
			b->rules[i] = r[rank[i - b->start[k]]];
	}
	return 0;
}

/* Load the side with the smaller largest bucket into sd; -1 when neither fits. */
static int
side_choose(const struct spd_scan4 *r, struct side *sd)
{
	uint32_t most[2] = {UINT32_MAX, UINT32_MAX};
	int s;

	for (s = 0; s < 2; s++) {
		sd->by_src = s == 1;
		if (side_load(sd, r) == 0)
			most[s] = side_max(sd);
	}
	if (RTE_MIN(most[0], most[1]) > SPD_BUCKET_MAX)
		return -1;
	sd->by_src = most[1] < most[0]; /* ties: by destination */
	return side_load(sd, r);
}

struct spd_bucket4 *
spd_bucket4_build(const struct spd_scan4 *r, uint32_t n, int socket)
{
	struct side sd = {.n = n};
	struct spd_bucket4 *b = NULL;

	if (n > SPD_BUCKET_RULES)
		return NULL;
	sd.g = calloc(n + 1, sizeof(*sd.g));
	sd.p = calloc(n + 1, sizeof(*sd.p));
	if (sd.g != NULL && sd.p != NULL && side_choose(r, &sd) == 0)
		b = rte_zmalloc_socket("espgw_spd_bucket", sizeof(*b), 0, socket);
	if (b != NULL) {
		b->by_src = sd.by_src;
		if (rules_build(b, r, &sd, socket) < 0 || tabs_build(b, sd.p, sd.np, socket) < 0) {
			spd_bucket4_free(b);
			b = NULL;
		}
	}
	free(sd.g);
	free(sd.p);
	return b;
}

void
spd_bucket4_free(struct spd_bucket4 *b)
{
	uint32_t t;

	if (b == NULL)
		return;
	for (t = 0; t < b->n_tab; t++)
		rte_free(b->tab[t].slot);
	rte_free(b->start);
	rte_free(b->rules);
	rte_free(b);
}

void
spd_bucket4_classify(const struct spd_bucket4 *b, const struct espgw_spd_key4 *k[], uint32_t res[],
		uint32_t nk)
{
	const struct spd_scan4 *r;
	uint32_t i, n;

	for (i = 0; i < nk; i++) {
		r = spd_bucket4_rules(b, rte_be_to_cpu_32(b->by_src ? k[i]->src : k[i]->dst), &n);
		res[i] = spd_scan_match4(r, n, k[i]);
	}
}
