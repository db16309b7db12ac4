/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rule kept per inbound SA slot (spd_sa.h says why). Why it is exact: a
 * rule that no better rule overlaps is the first match of every packet that
 * matches it. "Overlaps" is decided field by field (spd_scan.h's rules are a
 * conjunction of independent fields): two masked values can both hold
 * unless they differ where both masks have bits, two ranges unless they are
 * apart. A rule that matches nothing may count as overlapping: that only
 * keeps fewer rules.
 */
#include <stdbool.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "spd_sa.h"

static bool
ranges_meet(uint16_t alo, uint16_t ahi, uint16_t blo, uint16_t bhi)
{
	return alo <= bhi && blo <= ahi;
}

/* Can some packet match both rules? */
static bool
rules_meet(const struct spd_scan4 *a, const struct spd_scan4 *b)
{
	return ((a->src ^ b->src) & a->src_mask & b->src_mask) == 0 &&
	       ((a->dst ^ b->dst) & a->dst_mask & b->dst_mask) == 0 &&
	       ((a->l4.proto ^ b->l4.proto) & a->l4.proto_mask & b->l4.proto_mask) == 0 &&
	       ranges_meet(a->l4.sport_lo, a->l4.sport_hi, b->l4.sport_lo, b->l4.sport_hi) &&
	       ranges_meet(a->l4.dport_lo, a->l4.dport_hi, b->l4.dport_lo, b->l4.dport_hi);
}

/* Does no rule before rule i overlap it? */
static bool
first_wherever_it_matches(const struct spd_scan4 *r, uint32_t i)
{
	uint32_t j;

	for (j = 0; j < i; j++)
		if (rules_meet(&r[j], &r[i]))
			return false;
	return true;
}

/* The slots a result accepts (espgw_spd.h: slot + 1, or a pair of two): how many. */
static uint32_t
res_slots(uint32_t res, const uint32_t (*pair)[2], uint32_t n_pair, uint32_t slot[2])
{
	uint32_t p = res - ESPGW_SPD_PAIR_BASE;

	if (!ESPGW_SPD_IS_PROTECT(res))
		return 0;
	if (res < ESPGW_SPD_PAIR_BASE) {
		slot[0] = ESPGW_SPD_SA_INDEX(res);
		return 1;
	}
	/* A pair entry names two slots (slot + 1 each); none of a rank without a pair. */
	if (pair == NULL || p >= n_pair || pair[p][0] == 0 || pair[p][1] == 0)
		return 0;
	slot[0] = ESPGW_SPD_SA_INDEX(pair[p][0]);
	slot[1] = ESPGW_SPD_SA_INDEX(pair[p][1]);
	return 2;
}

/* One past the highest slot a rule accepts (0: none). */
static uint32_t
slots_end(const struct spd_scan4 *r, uint32_t n, const uint32_t (*pair)[2], uint32_t n_pair)
{
	uint32_t i, k, c, slot[2], end = 0;

	for (i = 0; i < n; i++) {
		c = res_slots(r[i].l4.res, pair, n_pair, slot);
		for (k = 0; k < c; k++)
			end = RTE_MAX(end, slot[k] + 1);
	}
	return end;
}

/*
 * Rule i for those of its slots that have no rule yet, if it is first
 * wherever it matches: the next entry of rule[] (*k of them so far).
 */
static void
keep(struct spd_sa4 *t, uint32_t *k, const struct spd_scan4 *r, uint32_t i,
		const uint32_t (*pair)[2], uint32_t n_pair)
{
	uint32_t j, c, slot[2];
	bool wanted = false;

	c = res_slots(r[i].l4.res, pair, n_pair, slot);
	for (j = 0; j < c; j++)
		wanted |= t->idx[slot[j]] == 0;
	if (!wanted || !first_wherever_it_matches(r, i))
		return;
	t->rule[++*k] = r[i];
	for (j = 0; j < c; j++)
		if (t->idx[slot[j]] == 0)
			t->idx[slot[j]] = (uint16_t)*k;
}

void
spd_sa4_free(struct spd_sa4 *t)
{
	if (t == NULL)
		return;
	rte_free(t->idx);
	rte_free(t->rule);
	rte_free(t);
}

/* The table for slots below end, every index 0 and rule[0] matching nothing; NULL if no memory. */
static struct spd_sa4 *
table_new(uint32_t end, uint32_t n, int socket)
{
	struct spd_sa4 *t = rte_zmalloc_socket("espgw_spd_sa4", sizeof(*t), 0, socket);

	if (t == NULL)
		return NULL;
	t->n_slots = end;
	t->idx = rte_zmalloc_socket(
			"espgw_spd_sa4_idx", end * sizeof(t->idx[0]), RTE_CACHE_LINE_SIZE, socket);
	/* Zeroed, entry 0's result is NO_MATCH. */
	t->rule = rte_zmalloc_socket("espgw_spd_sa4_rule", (n + 1) * sizeof(t->rule[0]),
			RTE_CACHE_LINE_SIZE, socket);
	if (t->idx == NULL || t->rule == NULL) {
		spd_sa4_free(t);
		return NULL;
	}
	return t;
}

struct spd_sa4 *
spd_sa4_build(const struct spd_scan4 *r, uint32_t n, const uint32_t (*pair)[2], uint32_t n_pair,
		int socket)
{
	uint32_t i, k = 0, end;
	struct spd_sa4 *t;

	RTE_BUILD_BUG_ON(SPD_SA_RULES_MAX >= UINT16_MAX);
	if (n > SPD_SA_RULES_MAX)
		return NULL;
	end = slots_end(r, n, pair, n_pair);
	if (end == 0)
		return NULL;
	t = table_new(end, n, socket);
	for (i = 0; t != NULL && i < n; i++)
		keep(t, &k, r, i, pair, n_pair);
	if (k == 0) { /* nothing to try first */
		spd_sa4_free(t);
		return NULL;
	}
	return t;
}
