/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: per-lcore state and the poll loop. Each worker owns one RX and
 * one TX queue on every port, one crypto queue pair per device, its burst
 * buffers and its counters; it reads only the tables published to it.
 */
#ifndef ESPGW_DP_H
#define ESPGW_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "espgw_esp.h"
#include "espgw_host.h"
#include "espgw_port.h"
#include "espgw_route.h"
#include "espgw_sad.h"
#include "espgw_spd.h"
#include "espgw_stats.h"

#define ESPGW_BURST_MAX 256

/* Everything a worker reads; built by the control plane, replaced as a whole. */
struct espgw_tables {
	const struct espgw_spd *spd_out;
	const struct espgw_spd *spd_in;
	const struct espgw_route *route;
	const struct espgw_sad *sad;
	const struct espgw_ports *ports;
	/* [sad->n]: the largest inner packet each outbound SA carries (per SA, set up once). */
	const uint16_t *sa_mtu;
};

struct espgw_rxq {
	uint16_t port_id;
	uint16_t queue;
	uint16_t port_idx;
	uint8_t role; /* enum espgw_port_role */
};

struct espgw_txbuf {
	uint16_t n;
	struct rte_mbuf *m[ESPGW_BURST_MAX];
};

struct espgw_worker {
	struct espgw_lcore_stats stats; /* first: its own cache lines */
	struct espgw_esp_lcore esp;
	const struct espgw_tables *t;
	const volatile bool *quit; /* set by the control loop on SIGINT/SIGTERM */
	struct rte_ring *ctl;	   /* packets for the control path (ARP, ICMP to us, ...) */
	struct rte_rcu_qsbr *qsv;  /* quiescent state reported once per loop (neighbor aging) */
	uint16_t burst;
	uint16_t txq;
	uint16_t n_rxq;
	unsigned int lcore_id;
	unsigned int idx;
	struct espgw_rxq rxq[ESPGW_MAX_PORTS];
	struct espgw_txbuf tx[ESPGW_MAX_PORTS];
} __rte_cache_aligned;

/* rte_eal_remote_launch entry point; arg is a struct espgw_worker. */
int espgw_worker_main(void *arg);

#endif
