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

#include "espgw_capture.h"
#include "espgw_crypto.h"
#include "espgw_ctlsrv.h"
#include "espgw_dp.h"
#include "espgw_host.h"
#include "espgw_port.h"
#include "espgw_route.h"
#include "espgw_sad.h"
#include "espgw_spd.h"
#include "espgw_stats.h"
#include "espgw_store.h"
#include "metrics.h"
#include "pools.h"

struct espgw_gw {
	struct espgw_store store;
	struct espgw_ports ports;
	struct espgw_crypto crypto;
	struct espgw_sad sad;
	struct espgw_spd *spd_out;
	struct espgw_spd *spd_in;
	struct espgw_route *route;	/* the published forwarding table */
	struct espgw_route *route_next; /* built for the store's routes, not yet published */
	uint64_t route_gen; /* store.route_gen that route_next (else route) was checked for */
	/* Two versions: the published one, and the next built beside it (publish.c). */
	struct espgw_tables tab[2];
	const struct espgw_tables *tables_pub; /* what the workers take (RCU) */
	struct espgw_input input; /* tables.input: the gateway's addresses for the input rules */
	uint16_t *sa_mtu;	  /* tables.sa_mtu, by SA slot */
	uint16_t *sa_mss; /* TCP MSS clamp by SA slot; published only while some SA clamps */
	/* SAs taken out of service, freed once no worker can hold them (publish.c). */
	struct espgw_retiring *retiring;
	uint8_t *slot_queued; /* [max-sa]: 1 while the slot's SA waits in retiring */
	uint8_t *slot_ev;     /* [max-sa]: events to send once published (publish.c) */
	unsigned int n_retiring, cap_retiring;
	bool reconcile_all;    /* a slot could not be queued for release: look at all next time */
	uint64_t publications; /* versions published since start */
	uint32_t clear_req;    /* "stats clear" requests: workers zero their counters */
	struct espgw_ctlsrv *ctlsrv;   /* the control socket; NULL without one */
	struct espgw_metrics *metrics; /* --metrics endpoint (metrics.h); NULL without one */
	struct espgw_sa_watch *watch;  /* [max-sa]: lifetimes, last use, acquires (sa_watch.c) */
	uint64_t watch_ms, watch_idle_ms;
	struct rte_ring *acquire; /* workers' struct espgw_acquire requests */
	struct rte_ring *ctl;
	struct rte_ring *inject;  /* control path -> worker 0's outbound path */
	struct espgw_host *host;  /* the control path: ARP, ND, ICMP, neighbor resolution */
	struct rte_rcu_qsbr *qsv; /* workers' quiescent states: neighbor entries are reused after */
	struct espgw_reasm_peers *reasm_peers;	/* whose outer fragments the workers reassemble */
	struct espgw_stats_section extra_stats; /* control path and data path sections */
	struct espgw_worker *worker[RTE_MAX_LCORE];
	const struct espgw_lcore_stats *lc[RTE_MAX_LCORE];
	unsigned int n_workers;
	enum espgw_mbuf_pools mbuf_pools; /* --mbuf-pools, set before espgw_gw_setup */
	struct espgw_stats_view view;
	struct espgw_pools pools; /* mempool use at start and after the stop (leak check) */
	/* espgwctl capture (capture.c): at most one at a time. */
	struct espgw_capture cap;
	struct espgw_capture_file *cap_file; /* NULL: none running */
	uint64_t cap_limit, cap_written;
	bool cap_sa_gone; /* the captured SA's slot went out of service */
	char cap_what[80];
	char cap_path[256];
	volatile bool quit;
	bool ports_ready, crypto_ready, sad_ready, running;
};

/*
 * Live changes (publish.c), in two steps. prepare, after each transaction
 * applied to the store: deleted SAs stop being found by SPI, new ones come
 * into service in their slots (not yet named by any published policy). On
 * failure the caller rolls the store back and calls prepare again, which
 * brings back what it had taken out. publish, once for a batch of
 * transactions: the SPDs rebuilt and published with the per-SA tables as one
 * version, returning once every worker left the old one; on failure nothing
 * changed for the workers (the caller tries again).
 */
int espgw_gw_prepare(struct espgw_gw *gw, struct espgw_err *err);
int espgw_gw_publish(struct espgw_gw *gw, struct espgw_err *err);
/* Free the SAs retired long enough ago (keys wiped, slots back to the store). */
void espgw_gw_retire_poll(struct espgw_gw *gw, uint64_t now_ms);
/* For the first version (gw.c) and every later one (publish.c). */
struct espgw_reasm_peers *espgw_gw_reasm_peers(const struct espgw_store *s);
void espgw_gw_sa_tables(struct espgw_gw *gw);
const uint16_t *espgw_gw_mss_table(const struct espgw_gw *gw);

/* sa_watch.c: lifetimes, sequence numbers, last use, acquire requests. */
int espgw_gw_watch_create(struct espgw_gw *gw);
void espgw_gw_watch_start(struct espgw_gw *gw, uint32_t slot, uint64_t now_ms);
/* The slot's lifetimes changed (sa update): watch them from now on. */
void espgw_gw_watch_relimit(struct espgw_gw *gw, uint32_t slot);
/* The SA of slot from continues in slot to (sa update): its age, fired limits, last use. */
void espgw_gw_watch_carry(struct espgw_gw *gw, uint32_t from, uint32_t to);
void espgw_gw_watch_poll(struct espgw_gw *gw, uint64_t now_ms);
void espgw_gw_acquire_poll(struct espgw_gw *gw, uint64_t now_ms);
uint64_t espgw_gw_sa_idle_ms(const struct espgw_gw *gw, uint32_t slot, uint64_t now_ms);
uint64_t espgw_gw_now_ms(void);
/* To the control socket's monitors (none without a socket); kind, limit: expire only. */
void espgw_gw_sa_event(struct espgw_gw *gw, const char *event, const char *sa, const char *kind,
		const char *limit);

/*
 * sa_move.c, "sa update": an outbound SA moves to the new slot the store
 * gave it (to->moved_from names the old one), or back on a rollback; other
 * changes happen in the slot (1 when something changed, 0 when nothing did,
 * -1 with err).
 */
int espgw_gw_sa_move(struct espgw_gw *gw, const struct espgw_sa_conf *to, struct espgw_err *err);
void espgw_gw_sa_move_back(struct espgw_gw *gw, uint32_t slot);
int espgw_gw_sa_update(struct espgw_gw *gw, const struct espgw_sa_conf *sa, struct espgw_err *err);

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

/* espgwctl capture (capture.c). */
int espgw_gw_capture_setup(struct espgw_gw *gw, struct espgw_err *err);
unsigned int espgw_gw_capture_poll(struct espgw_gw *gw);
/* publish.c: slot went out of service; a capture of its SA ends. */
void espgw_gw_capture_slot_gone(struct espgw_gw *gw, uint32_t slot);
void espgw_gw_capture_teardown(struct espgw_gw *gw);
/* The control request "capture ..." (espgw_ctlsrv_ops.capture). */
int espgw_gw_capture_ctl(void *arg, int argc, char *argv[], int fd, struct espgw_json *j,
		struct espgw_err *err);

#endif
