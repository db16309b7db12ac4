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

/* Above this many IPv4 rules none is kept: finding overlaps is quadratic in the rules. */
#define SPD_SA_RULES_MAX 8192

/*
 * For the n rules r (best first, results as the SPD gives them; pair holds
 * the two slots of each pair result, by rank), the rule kept for each slot
 * up to the highest one a rule accepts: *t (NULL when none) with *n_t
 * entries, an entry with result NO_MATCH where a slot has none. 0, or -1
 * when out of memory.
 */
int spd_sa4_build(const struct spd_scan4 *r, uint32_t n, const uint32_t (*pair)[2], uint32_t n_pair,
		int socket, struct spd_scan4 **t, uint32_t *n_t);

/*
 * The result for selectors of a packet that came through slot when they
 * match the rule kept for it; NO_MATCH otherwise (then classify in full). An
 * empty entry gives NO_MATCH whatever it matches: its result is that.
 */
static inline uint32_t
spd_sa4_match_sel(const struct spd_scan4 *t, uint32_t n_t, uint32_t slot,
		const struct espgw_spd_sel4 *s)
{
	return slot < n_t ? spd_scan_match4_sel(&t[slot], 1, s) : ESPGW_SPD_NO_MATCH;
}

#endif
