/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-lcore counters: each worker increments its own with plain adds; readers
 * (control loop, telemetry, exit report) sum over lcores. A torn 64-bit read
 * is impossible on the 64-bit targets DPDK supports, and a sum that is a few
 * packets behind is fine for monitoring.
 */
#ifndef ESPGW_STATS_H
#define ESPGW_STATS_H

#include <stdint.h>

#include "espgw_drop.h"

struct espgw_sa_counters {
	uint64_t pkts;
	uint64_t bytes; /* inner (plaintext) L3 bytes */
	uint64_t errors; /* drops attributed to this SA */
};

struct espgw_lcore_stats {
	uint64_t rx;     /* packets received from ports */
	uint64_t tx;     /* packets handed to ports successfully */
	uint64_t to_ctl; /* packets handed to the control path */
	uint64_t drop[ESPGW_DROP_MAX];
	uint64_t busy_cycles; /* TSC cycles spent in iterations that did work */
	struct espgw_sa_counters *sa; /* [n_sa], owned by this lcore */
	unsigned int n_sa;
} __attribute__((aligned(64)));

#endif
