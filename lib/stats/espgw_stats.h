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

#include <stdio.h>

#include "espgw_drop.h"

struct espgw_sa_counters {
	uint64_t pkts;
	uint64_t bytes;	 /* inner (plaintext) L3 bytes */
	uint64_t errors; /* drops attributed to this SA */
};

struct espgw_lcore_stats {
	uint64_t rx;	 /* packets received from ports */
	uint64_t tx;	 /* packets handed to ports successfully */
	uint64_t to_ctl; /* packets handed to the control path */
	uint64_t drop[ESPGW_DROP_MAX];
	/* Worker 0, ports without a control TX queue: control-path frames sent / lost for it. */
	uint64_t ctl_tx, ctl_tx_lost;
	uint64_t busy_cycles;	      /* TSC cycles spent in iterations that did work */
	struct espgw_sa_counters *sa; /* [n_sa], owned by this lcore */
	unsigned int n_sa;
	unsigned int lcore; /* EAL lcore id of the worker, for the per-worker output */
} __attribute__((aligned(64)));

struct espgw_store;
struct espgw_ports;

/* A section another module adds to the output (the control path's counters). */
struct espgw_stats_section {
	void (*print)(const void *arg, FILE *f);
	void (*json)(const void *arg, FILE *f); /* one JSON member: "name": {...} */
	const void *arg;
};

/* What the readers sum over: the workers' counters, the SA names, the ports. */
struct espgw_stats_view {
	const struct espgw_lcore_stats *const *lc;
	unsigned int n_lc;
	const struct espgw_store *store;
	const struct espgw_ports *ports;
	const struct espgw_stats_section *extra; /* NULL: none */
};

struct espgw_stats_sum {
	uint64_t rx, tx, to_ctl, busy_cycles;
	uint64_t ctl_tx, ctl_tx_lost; /* outside rx = tx + drops + to_ctl */
	uint64_t drop[ESPGW_DROP_MAX];
	uint64_t drops; /* sum of drop[] */
};

void espgw_stats_sum(const struct espgw_stats_view *v, struct espgw_stats_sum *s);
struct espgw_sa_counters espgw_stats_sa(const struct espgw_stats_view *v, unsigned int sa);
/* Human table (ports, totals, non-zero drops, SAs). */
void espgw_stats_print(const struct espgw_stats_view *v, FILE *f);
/*
 * One JSON object: lcores, ports, totals, drops (every reason), workers (one
 * object each: lcore, rx, tx, drops, to_ctl, sa packets), sa.
 */
void espgw_stats_json(const struct espgw_stats_view *v, FILE *f);
/* /espgw/stats, /espgw/workers, /espgw/drops, /espgw/sa for dpdk-telemetry.py. */
int espgw_stats_telemetry_register(const struct espgw_stats_view *v);
#endif
