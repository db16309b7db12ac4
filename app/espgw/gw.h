/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway instance: the store and every module built from it, the
 * workers (each with its reassembly table), the control ring and the control
 * path (lib/host) that serves it, and the ring by which the control path
 * sends replies through worker 0's outbound path (to hosts behind tunnels).
 * Setup runs on the main lcore; nothing is started until every module has
 * been built, so a failure starts nothing.
 */
#ifndef ESPGW_GW_H
#define ESPGW_GW_H

#include <stdbool.h>

#include <rte_lcore.h>
#include <rte_ring.h>

#include "espgw_crypto.h"
#include "espgw_dp.h"
#include "espgw_host.h"
#include "espgw_port.h"
#include "espgw_route.h"
#include "espgw_sad.h"
#include "espgw_spd.h"
#include "espgw_stats.h"
#include "espgw_store.h"
#include "pools.h"

struct espgw_gw {
	struct espgw_store store;
	struct espgw_ports ports;
	struct espgw_crypto crypto;
	struct espgw_sad sad;
	struct espgw_spd *spd_out;
	struct espgw_spd *spd_in;
	struct espgw_route *route;
	struct espgw_tables tables;
	struct espgw_input input; /* tables.input: the gateway's addresses for the input rules */
	uint16_t *sa_mtu;	  /* tables.sa_mtu */
	uint16_t *sa_mss; /* TCP MSS clamp per SA (workers' esp.mss), NULL when no SA clamps */
	struct rte_ring *ctl;
	struct rte_ring *inject;  /* control path -> worker 0's outbound path */
	struct espgw_host *host;  /* the control path: ARP, ND, ICMP, neighbor resolution */
	struct rte_rcu_qsbr *qsv; /* workers' quiescent states: neighbor entries are reused after */
	struct espgw_reasm_peers *reasm_peers;	/* whose outer fragments the workers reassemble */
	struct espgw_stats_section extra_stats; /* control path and data path sections */
	struct espgw_worker *worker[RTE_MAX_LCORE];
	const struct espgw_lcore_stats *lc[RTE_MAX_LCORE];
	unsigned int n_workers;
	struct espgw_stats_view view;
	struct espgw_pools pools; /* mempool use at start and after the stop (leak check) */
	volatile bool quit;
	bool ports_ready, crypto_ready, sad_ready, running;
};

/* Build every module from gw->store (loaded by the caller). */
int espgw_gw_setup(struct espgw_gw *gw, struct espgw_err *err);
/* Start ports and crypto, launch the workers. */
int espgw_gw_start(struct espgw_gw *gw, struct espgw_err *err);
/* Serve what the workers handed to the control path, run its timers; returns packets taken. */
unsigned int espgw_gw_ctl_poll(struct espgw_gw *gw);
/* Tell workers to stop, wait for them (they drain crypto and flush TX). */
void espgw_gw_stop(struct espgw_gw *gw);
/*
 * After the stop, before the final counters: release the packets still
 * waiting in the control path and its rings and in the workers' hand-off
 * rings (counted as shutdown drops), close the ports (pcap output
 * complete, the ports' last counters kept), free the SAs (sessions and keys
 * wiped) and count the pools again.
 */
void espgw_gw_quiesce(struct espgw_gw *gw);
/* Close ports (if not yet), free tables, wipe keys. */
void espgw_gw_teardown(struct espgw_gw *gw);

#endif
