/* SPDX-License-Identifier: BSD-3-Clause */
/* The workers' side of espgw_capture.h, and the pool and rings it needs. */
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_pcapng.h>

#include "espgw_capture.h"

#define CAPTURE_SNAPLEN 2048
#define CAPTURE_BURST	64

static uint16_t
capture_chunk(const struct espgw_capture *cap, struct espgw_capture_lcore *c, uint16_t port_id,
		uint32_t queue, struct rte_mbuf *const m[], uint16_t n,
		enum rte_pcapng_direction dir)
{
	struct rte_mbuf *copy[CAPTURE_BURST];
	uint64_t ts = rte_get_tsc_cycles(), rc[CAPTURE_BURST];
	uint16_t i, k = 0, q, want = 0;

	if (cap->filter != NULL)
		rte_bpf_exec_burst(cap->filter, (void **)(uintptr_t)m, rc, n);
	for (i = 0; i < n; i++) {
		/* What the filter refuses is no business of this capture: not counted. */
		if (cap->filter != NULL && rc[i] == 0)
			continue;
		want++;
		copy[k] = rte_pcapng_copy(port_id, queue, m[i], cap->pool, cap->snaplen, ts, dir);
		k += copy[k] != NULL;
	}
	q = (uint16_t)rte_ring_sp_enqueue_burst(c->ring, (void **)copy, k, NULL);
	rte_pktmbuf_free_bulk(copy + q, k - q);
	c->captured += q;
	c->dropped += want - q;
	return q;
}

uint16_t
espgw_capture_burst(const struct espgw_capture *cap, struct espgw_capture_lcore *c,
		uint16_t port_id, uint32_t queue, struct rte_mbuf *const m[], uint16_t n, bool rx)
{
	enum rte_pcapng_direction dir = rx ? RTE_PCAPNG_DIRECTION_IN : RTE_PCAPNG_DIRECTION_OUT;
	uint16_t done = 0, k, q = 0;

	while (done < n) {
		k = RTE_MIN((uint16_t)(n - done), (uint16_t)CAPTURE_BURST);
		q += capture_chunk(cap, c, port_id, queue, m + done, k, dir);
		done += k;
	}
	return q;
}

int
espgw_capture_create(struct espgw_capture *cap, struct espgw_capture_lcore *const c[],
		unsigned int n_lcores, unsigned int budget, int socket)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int i;

	cap->target = ESPGW_CAPTURE_OFF;
	cap->filter = NULL; /* none until a capture with --filter starts */
	cap->snaplen = CAPTURE_SNAPLEN;
	cap->pool = rte_pktmbuf_pool_create("espgw_capture", budget, 0, 0,
			rte_pcapng_mbuf_size(CAPTURE_SNAPLEN), socket);
	if (cap->pool == NULL)
		return -1;
	for (i = 0; i < n_lcores; i++) {
		snprintf(name, sizeof(name), "espgw_cap_w%u", i);
		/* Each ring holds the whole budget: the pool, not a ring, is the limit. */
		c[i]->ring = rte_ring_create(name, rte_align32pow2(budget + 1), socket,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (c[i]->ring == NULL) {
			espgw_capture_free(cap, c, i);
			return -1;
		}
	}
	return 0;
}

void
espgw_capture_flush(struct espgw_capture_lcore *const c[], unsigned int n_lcores)
{
	struct rte_mbuf *m[32];
	unsigned int i, n;

	for (i = 0; i < n_lcores; i++)
		while ((n = rte_ring_sc_dequeue_burst(c[i]->ring, (void **)m, 32, NULL)) > 0)
			rte_pktmbuf_free_bulk(m, n);
}

void
espgw_capture_free(struct espgw_capture *cap, struct espgw_capture_lcore *const c[],
		unsigned int n_lcores)
{
	unsigned int i;

	espgw_capture_flush(c, n_lcores);
	for (i = 0; i < n_lcores; i++) {
		rte_ring_free(c[i]->ring);
		c[i]->ring = NULL;
	}
	rte_mempool_free(cap->pool);
	cap->pool = NULL;
}
