/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic that needs an SA nobody installed yet (a policy protecting with a
 * declared SA: RFC 4301 4.4.1 and 5.1, the key manager is asked to negotiate
 * one). The worker never waits for that: it writes what the key manager
 * needs (the SA, the packet's selectors) into a ring the control path
 * turns into "acquire" events, at most once a second per SA, and drops the
 * packet. A full ring loses only the request; the next packet asks again.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ring_elem.h>

#include "espgw_spd.h"
#include "stage.h"

static bool
selectors_of(const struct rte_mbuf *m, struct espgw_acquire *a)
{
	const void *l3 = rte_pktmbuf_mtod_offset(m, const void *, m->l2_len);
	uint32_t len = rte_pktmbuf_data_len(m) - m->l2_len;
	struct espgw_spd_key4 k4;
	struct espgw_spd_key6 k6;

	if (RTE_ETH_IS_IPV4_HDR(m->packet_type)) {
		if (espgw_spd_key4_extract(l3, len, &k4) < 0)
			return false;
		a->family = 4;
		a->proto = k4.proto;
		memcpy(a->src, &k4.src, 4);
		memcpy(a->dst, &k4.dst, 4);
		a->sport = rte_be_to_cpu_16(k4.sport);
		a->dport = rte_be_to_cpu_16(k4.dport);
		return true;
	}
	if (espgw_spd_key6_extract(l3, len, &k6) < 0)
		return false;
	a->family = 6;
	a->proto = k6.proto;
	memcpy(a->src, k6.src, 16);
	memcpy(a->dst, k6.dst, 16);
	a->sport = rte_be_to_cpu_16(k6.sport);
	a->dport = rte_be_to_cpu_16(k6.dport);
	return true;
}

void
stage_acquire(struct espgw_worker *w, const struct rte_mbuf *m, const struct espgw_sa_rt *rt)
{
	/* Written by any worker: a lost race only lets one more request through. */
	uint64_t *last = (uint64_t *)(uintptr_t)&rt->acquire_tsc;
	struct espgw_acquire a;

	if (w->acquire == NULL || w->now - *last < rte_get_tsc_hz())
		return;
	memset(&a, 0, sizeof(a));
	if (!selectors_of(m, &a))
		return;
	*last = w->now;
	a.slot = rt->idx;
	if (rte_ring_mp_enqueue_elem(w->acquire, &a, sizeof(a)) != 0)
		w->dp[ESPGW_DP_ACQUIRE_LOST]++;
}
