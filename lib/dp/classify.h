/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef ESPGW_DP_CLASSIFY_H
#define ESPGW_DP_CLASSIFY_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "espgw_dp.h"

/* Results beyond the SPD's own: the key could not be extracted (malformed L4). */
#define CLASSIFY_BAD	  (UINT32_MAX - 2)
#define CLASSIFY_V4	  (UINT32_MAX - 3) /* internal markers, never returned */
#define CLASSIFY_V6	  (UINT32_MAX - 4)
#define CLASSIFY_NO_FIRST (UINT32_MAX - 5) /* a later fragment without its first's verdict */
#define CLASSIFY_MISMATCH (UINT32_MAX - 6) /* must be protected, and is not */

#define CLASSIFY_IS_PROTECT(r) ESPGW_SPD_IS_PROTECT(r)

/*
 * L3 at m->l2_len, family in packet_type. res[i]: an ESPGW_SPD_* result,
 * CLASSIFY_BAD, or CLASSIFY_NO_FIRST: fragments get their first fragment's
 * verdict, kept in w's fragment state for direction dir (espgw_fragstate.h).
 */
void classify_burst(struct espgw_worker *w, const struct espgw_spd *spd,
		enum espgw_fragstate_dir dir, struct rte_mbuf *m[], uint32_t res[], uint16_t n);

/*
 * An ICMP error the control path made (L3 at m->l2_len, parsed: l3_len set),
 * classified by the packet it quotes with source and destination (and TCP,
 * UDP, SCTP ports) swapped: the traffic back to that packet's sender (RFC
 * 4301 6.2). CLASSIFY_BAD when the quote holds no selectors.
 */
uint32_t classify_quote(const struct espgw_spd *spd, const struct rte_mbuf *m);

/* Map a non-protect result to its drop reason (bypass has none: ESPGW_DROP_MAX). */
static inline enum espgw_drop
classify_drop(uint32_t res)
{
	switch (res) {
	case ESPGW_SPD_BYPASS:
		return ESPGW_DROP_MAX;
	case ESPGW_SPD_DISCARD:
		return ESPGW_DROP_SPD_DISCARD;
	case CLASSIFY_BAD:
		return ESPGW_DROP_BAD_L3;
	case CLASSIFY_NO_FIRST:
		return ESPGW_DROP_FRAG_NO_FIRST;
	case CLASSIFY_MISMATCH:
		return ESPGW_DROP_POLICY_MISMATCH;
	default:
		return ESPGW_DROP_NO_POLICY;
	}
}

#endif
