/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The inbound policy check of a decrypted IPv4 packet, first against one
 * rule kept for the SA it came through (internal to lib/spd, and to
 * lib/dp/classify.c's one pass).
 *
 * RFC 4301 5.2 holds a packet that leaves a tunnel to the inbound SPD: the
 * first rule it matches must accept the SA it came through. At 1,000
 * tunnels that is a bucket lookup (spd_bucket.h) whose probe, bucket start
 * and rule each sit in a line of their own, cold for a packet of another
 * tunnel than the last: perf put classify_burst at 17 cycles a packet more
 * at 1,000 SAs than at one (in-gcm128-1k-direct, 64 B).
 *
 * Most SAs have a rule that accepts them and that no better rule overlaps
 * (a tunnel's own subnets, RFC 4301 4.4.1's decorrelated entries): a packet
 * that matches such a rule has it as its first match, whatever else the SPD
 * holds. The build keeps the best such rule per SA slot; a packet that
 * matches it gets its result from one entry, and one that does not is
 * classified in full as before. Either way the result is the full lookup's
 * (tests/dpdk/test_spd.c compares them on random rule sets).
 */
#ifndef ESPGW_SPD_SA_H
#define ESPGW_SPD_SA_H

#include <stdint.h>

#include "spd_scan.h"

/*
 * Above this many IPv4 rules none is kept: finding overlaps is quadratic in
 * the rules. At 4,096 an inbound SPD build takes about 5 ms more than an
 * outbound one for tunnel policies, 18 ms more for rules that each overlap
 * the one before (dpdk-spd test_attack_sa4_quadratic, the bench VM). A kept
 * rule's number fits the index below.
 */
#define SPD_SA_RULES_MAX 4096

/*
 * By slot, the number of the rule kept for it (0: none) in rule[], whose
 * entry 0 matches nothing. Two bytes a slot, not a rule: slots run up to
 * max-sa, where an SA rekeyed often may sit alone near the top.
 */
struct spd_sa4 {
	uint32_t n_slots; /* slots up to the highest one a kept rule accepts */
	uint16_t *idx;
	struct spd_scan4 *rule;
};

/*
 * For the n rules r (best first, results as the SPD gives them; pair holds
 * the two slots of each pair result, by rank), the rule kept for each slot:
 * NULL when no slot has one, or out of memory (then every decrypted packet
 * is classified in full).
 */
struct spd_sa4 *spd_sa4_build(const struct spd_scan4 *r, uint32_t n, const uint32_t (*pair)[2],
		uint32_t n_pair, int socket);
void spd_sa4_free(struct spd_sa4 *t);

/*
 * The result for selectors of a packet that came through slot when they
 * match the rule kept for it; NO_MATCH otherwise (then classify in full).
 * Entry 0 (no rule kept) gives NO_MATCH whatever it matches: its result is
 * that.
 */
static inline uint32_t
spd_sa4_match_sel(const struct spd_sa4 *t, uint32_t slot, const struct espgw_spd_sel4 *s)
{
	return slot < t->n_slots ? spd_scan_match4_sel(&t->rule[t->idx[slot]], 1, s)
				 : ESPGW_SPD_NO_MATCH;
}

#endif
