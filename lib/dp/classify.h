/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef ESPGW_DP_CLASSIFY_H
#define ESPGW_DP_CLASSIFY_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "espgw_dp.h"

/* Results beyond the SPD's own: the key could not be extracted (malformed L4). */
#define CLASSIFY_BAD (UINT32_MAX - 2)
#define CLASSIFY_V4  (UINT32_MAX - 3) /* internal markers, never returned */
#define CLASSIFY_V6  (UINT32_MAX - 4)

#define CLASSIFY_IS_PROTECT(r) ((r) != ESPGW_SPD_NO_MATCH && (r) < CLASSIFY_V6)

/* L3 at m->l2_len, family in packet_type. res[i]: an ESPGW_SPD_* result or CLASSIFY_BAD. */
void classify_burst(const struct espgw_spd *spd, struct rte_mbuf *m[], uint32_t res[], uint16_t n);

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
	default:
		return ESPGW_DROP_NO_POLICY;
	}
}

#endif
