/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The leak check of every run: each mempool's objects in use when the
 * gateway starts (before it creates any pool: espgw's own pools all start
 * empty, and some PMDs fill theirs at queue setup, net_pcap's infinite_rx)
 * and once it has stopped (workers joined, crypto drained, rings emptied,
 * waiting packets released, ports closed, sessions freed), so that nothing a
 * device, a queue or a cache legitimately holds is counted. DPDK offers the
 * counts (rte_mempool_in_use_count, which counts per-lcore caches as free)
 * but keeps no baseline: this is it.
 */
#ifndef ESPGW_POOLS_H
#define ESPGW_POOLS_H

#include <stdbool.h>
#include <stdio.h>

#include <rte_mempool.h>

#define ESPGW_POOLS_MAX 32

struct espgw_pool_use {
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int size;
	unsigned int start; /* objects in use at start */
	unsigned int end;   /* ... after the stop */
};

struct espgw_pools {
	struct espgw_pool_use p[ESPGW_POOLS_MAX];
	unsigned int n;
	bool ended; /* espgw_pools_end() ran: end is meaningful */
};

/* Record every mempool's use now (the baseline). */
void espgw_pools_start(struct espgw_pools *c);
/* Count again after the stop; logs a warning for each pool that leaked. */
void espgw_pools_end(struct espgw_pools *c);
/* Human lines and the JSON member "pools": {NAME: {size, in_use_start, in_use_end}}. */
void espgw_pools_print(const struct espgw_pools *c, FILE *f);
void espgw_pools_json(const struct espgw_pools *c, FILE *f);

#endif
