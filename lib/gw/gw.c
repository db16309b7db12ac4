/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "espgw_log.h"
#include "espgw_tel_gate.h"
#include "gw.h"

#define CTL_RING_SIZE	  4096
#define INJECT_RING_SIZE  1024
#define FRAGSTATE_ENTRIES 1024 /* per direction and worker: packets in fragments at once */
#define FRAGSTATE_MS	  2000 /* a datagram's later fragments pass within it (they travel together) */

static int
workers_create(struct espgw_gw *gw, struct espgw_err *err)
{
	unsigned int lcore;

	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		int socket = (int)rte_lcore_to_socket_id(lcore);
		struct espgw_worker *w = rte_zmalloc_socket(
				"espgw_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);

		if (w == NULL)
			goto nomem;
		/* By SA slot: SAs added later count in place. */
		w->stats.n_sa = gw->store.global.max_sa;
		w->stats.sa = rte_zmalloc_socket("espgw_sa_stats",
				(w->stats.n_sa + 1) * sizeof(*w->stats.sa), RTE_CACHE_LINE_SIZE,
				socket);
		if (w->stats.sa == NULL) {
			rte_free(w);
			goto nomem;
		}
		w->esp.sadc = espgw_sad_cache_create(socket);
		w->ord_cnt = rte_zmalloc_socket("espgw_ord_cnt",
				(w->stats.n_sa + 1) * sizeof(*w->ord_cnt), 0, socket);
		if (w->esp.sadc == NULL || w->ord_cnt == NULL) {
			espgw_sad_cache_free(w->esp.sadc);
			rte_free(w->ord_cnt);
			rte_free(w->stats.sa);
			rte_free(w);
			goto nomem;
		}
		w->lcore_id = lcore;
		w->stats.lcore = lcore;
		w->idx = gw->n_workers;
		gw->lc[gw->n_workers] = &w->stats;
		gw->worker[gw->n_workers++] = w;
	}
	if (gw->n_workers == 0) {
		snprintf(err->msg, sizeof(err->msg),
				"no worker lcore: give the EAL at least two cores (e.g. -l 0,1)");
		return -1;
	}
	return 0;
nomem:
	snprintf(err->msg, sizeof(err->msg), "out of memory for worker state");
	return -1;
}

/*
 * One quiescent-state variable for all workers (thread id = worker index):
 * the control path reuses a deleted neighbor entry only after every worker
 * has passed a quiescent state.
 */
static int
qsbr_create(struct espgw_gw *gw, struct espgw_err *err)
{
	size_t sz = rte_rcu_qsbr_get_memsize(gw->n_workers);
	unsigned int i;

	gw->qsv = rte_zmalloc("espgw_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (gw->qsv == NULL || rte_rcu_qsbr_init(gw->qsv, gw->n_workers) != 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot create the RCU state");
		return -1;
	}
	for (i = 0; i < gw->n_workers; i++)
		rte_rcu_qsbr_thread_register(gw->qsv, i);
	return 0;
}

static int
reasm_peers_build(struct espgw_gw *gw, struct espgw_err *err)
{
	gw->reasm_peers = espgw_gw_reasm_peers(&gw->store);
	if (gw->reasm_peers == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory for the reassembly peers");
		return -1;
	}
	return 0;
}

/*
 * Each worker reassembles the outer ESP fragments it receives, in its own
 * table and pool, and keeps the verdicts of clear first fragments (RFC 4301
 * 7.3) in a table of its own.
 */
static int
reasm_create(struct espgw_gw *gw, struct espgw_err *err)
{
	struct espgw_reasm_conf conf;
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int i;

	if (reasm_peers_build(gw, err) < 0)
		return -1;
	espgw_reasm_conf_default(&conf);
	for (i = 0; i < gw->n_workers; i++) {
		struct espgw_worker *w = gw->worker[i];

		snprintf(name, sizeof(name), "espgw_reasm_w%u", i);
		w->reasm = espgw_reasm_create(&conf, gw->reasm_peers, gw->store.global.max_sa, name,
				w->stats.drop, (int)rte_lcore_to_socket_id(w->lcore_id));
		w->frags = espgw_fragstate_create(FRAGSTATE_ENTRIES, FRAGSTATE_MS,
				(int)rte_lcore_to_socket_id(w->lcore_id));
		if (w->reasm == NULL || w->frags == NULL) {
			snprintf(err->msg, sizeof(err->msg),
					"out of memory for the fragment tables of worker %u", i);
			return -1;
		}
	}
	return 0;
}

/* Worker i owns queue i on every port and queue pair i on every cryptodev. */
static void
worker_map(struct espgw_gw *gw, struct espgw_worker *w)
{
	unsigned int p;

	w->tables = &gw->tables_pub;
	w->clear_req = &gw->clear_req;
	w->t = gw->tables_pub;
	w->quit = &gw->quit;
	w->ctl = gw->ctl;
	w->inject = w->idx == 0 ? gw->inject : NULL;
	w->acquire = gw->acquire;
	w->qsv = gw->qsv;
	w->burst = gw->store.global.burst ? gw->store.global.burst : 32;
	w->txq = (uint16_t)w->idx;
	for (p = 0; p < gw->ports.n; p++) {
		struct espgw_rxq *q = &w->rxq[w->n_rxq++];

		q->mac = gw->ports.port[p].mac;
		q->port_id = gw->ports.port[p].port_id;
		q->port_idx = (uint16_t)p;
		q->queue = (uint16_t)w->idx;
		q->role = (uint8_t)gw->ports.port[p].role;
		DP_LOG(INFO, "map: port %s (%s) rxq %u -> worker %u (lcore %u)",
				gw->store.ports[p].name, gw->store.ports[p].dev, q->queue, w->idx,
				w->lcore_id);
	}
	w->esp.sad = &gw->sad;
	w->esp.crypto = &gw->crypto;
	w->esp.qp = (uint16_t)w->idx;
	w->esp.stats = &w->stats;
	w->esp.mss = w->t->sa_mss;
	w->esp.seq_shared = gw->n_workers > 1;
}

/* Per-slot tables, every slot: SAs added later fill theirs in place (espgw_gw_sa_tables). */
static int
sa_tables_alloc(struct espgw_gw *gw, struct espgw_err *err)
{
	unsigned int cap = gw->sad.cap;

	gw->sa_mtu = rte_malloc("espgw_sa_mtu", (cap + 1) * sizeof(*gw->sa_mtu), 0);
	gw->sa_mss = rte_zmalloc("espgw_sa_mss", (cap + 1) * sizeof(*gw->sa_mss), 0);
	gw->slot_queued = rte_zmalloc("espgw_slot_queued", cap + 1, 0);
	gw->slot_ev = rte_zmalloc("espgw_slot_ev", cap + 1, 0);
	if (gw->sa_mtu == NULL || gw->sa_mss == NULL || gw->slot_queued == NULL ||
			gw->slot_ev == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory for per-SA MTUs");
		return -1;
	}
	return 0;
}

/*
 * The hand-off rings between the workers, and the map of the inbound SAs to
 * their owners (dealt by lib/sad; lib/dp/handoff.c says why).
 */
static int
handoff_setup(struct espgw_gw *gw, struct espgw_err *err)
{
	const struct espgw_sa_rt *sa;
	unsigned int i;

	if (espgw_handoff_create(gw->worker, gw->n_workers, ESPGW_HANDOFF_RING, err) < 0)
		return -1;
	for (i = 0; gw->n_workers > 1 && i < gw->sad.n; i++) {
		sa = &gw->sad.sa[i];
		if (espgw_sad_live(&gw->sad, i) && (sa->dir == ESPGW_DIR_IN || sa->order != NULL))
			DP_LOG(INFO, "map: sa %s (%s) -> worker %u (lcore %u)", sa->conf->name,
					sa->decrypt_any		  ? "inbound, decrypt any"
					: sa->dir == ESPGW_DIR_IN ? "inbound"
								  : "outbound, seq-order strict",
					sa->owner, gw->worker[sa->owner]->lcore_id);
	}
	return 0;
}

/* The stats output's extra sections: the control path's, then the data path's. */
static void
extra_print(const void *arg, FILE *f)
{
	const struct espgw_gw *gw = arg;

	espgw_host_stats_print(gw->host, f);
	espgw_dp_stats_print(gw->worker, gw->n_workers, f);
	espgw_pools_print(&gw->pools, f);
}

static void
extra_json(const void *arg, FILE *f)
{
	const struct espgw_gw *gw = arg;

	espgw_host_stats_json(gw->host, f);
	fprintf(f, ", ");
	espgw_dp_stats_json(gw->worker, gw->n_workers, f);
	fprintf(f, ", ");
	espgw_pools_json(&gw->pools, f);
}

static int
host_create(struct espgw_gw *gw, struct espgw_err *err)
{
	struct espgw_host_conf conf;
	struct espgw_host_prm prm = {
			.store = &gw->store,
			.ports = &gw->ports,
			.route = gw->route,
			.conf = &conf,
			.socket = (int)rte_socket_id(),
	};

	/* One producer (the control path), one consumer (worker 0). */
	gw->inject = rte_ring_create("espgw_inject", INJECT_RING_SIZE, prm.socket,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (gw->inject == NULL) {
		snprintf(err->msg, sizeof(err->msg), "cannot create the injection ring");
		return -1;
	}
	prm.inject = gw->inject;
	espgw_host_conf_default(&conf);
	espgw_route_rcu_set(gw->route, gw->qsv);
	gw->host = espgw_host_create(&prm, err);
	if (gw->host == NULL || espgw_host_if_open(gw->host, prm.socket, err) < 0)
		return -1;
	gw->extra_stats.print = extra_print;
	gw->extra_stats.json = extra_json;
	gw->extra_stats.arg = gw;
	gw->view.extra = &gw->extra_stats;
	return 0;
}

/* Lifetimes run from now for the SAs of the config; workers ask for declared ones. */
static int
watch_setup(struct espgw_gw *gw, struct espgw_err *err)
{
	uint64_t now = espgw_gw_now_ms();
	uint32_t i;

	gw->acquire = rte_ring_create_elem("espgw_acquire", sizeof(struct espgw_acquire),
			ESPGW_ACQUIRE_RING, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (gw->acquire == NULL || espgw_gw_watch_create(gw) < 0) {
		snprintf(err->msg, sizeof(err->msg), "out of memory for the SA watch");
		return -1;
	}
	for (i = 0; i < gw->sad.n; i++)
		if (espgw_sad_live(&gw->sad, i))
			espgw_gw_watch_start(gw, i, now);
	return 0;
}

/* How each SPD classifies (README: How the data path works, Classification). */
static void
spd_log(const char *dir, const struct espgw_spd *spd)
{
	unsigned int kept = espgw_spd_sa4_kept(spd); /* a pass over the slots: once */

	GW_LOG(INFO, "spd %s: %u IPv4 rules (%s), %u IPv6 rules (%s)", dir, espgw_spd_rules4(spd),
			espgw_spd_classifier4(spd), espgw_spd_rules6(spd),
			espgw_spd_classifier6(spd));
	if (kept != 0)
		GW_LOG(INFO, "spd %s: %u SAs with a rule of their own for decrypted IPv4", dir,
				kept);
}

static int
tables_build(struct espgw_gw *gw, struct espgw_err *err)
{
	int socket = (int)rte_socket_id();

	gw->spd_out = espgw_spd_build(&gw->store, ESPGW_DIR_OUT, socket, "out", err);
	if (gw->spd_out == NULL)
		return -1;
	gw->spd_in = espgw_spd_build(&gw->store, ESPGW_DIR_IN, socket, "in", err);
	if (gw->spd_in == NULL)
		return -1;
	spd_log("out", gw->spd_out);
	spd_log("in", gw->spd_in);
	gw->route = espgw_route_build(&gw->store, &gw->ports, socket, err);
	if (gw->route == NULL)
		return -1;
	/* Built from the store as it is: the first live change need not rebuild it. */
	gw->store.changed &= ~(ESPGW_CHG_ROUTE | ESPGW_CHG_NEIGH);
	gw->route_gen = gw->store.route_gen;
	gw->tab[0].spd_out = gw->spd_out;
	gw->tab[0].spd_in = gw->spd_in;
	gw->tab[0].route = gw->route;
	gw->tab[0].sad = &gw->sad;
	gw->tab[0].ports = &gw->ports;
	espgw_input_build(&gw->input, &gw->store, &gw->ports);
	gw->tab[0].input = &gw->input;
	if (sa_tables_alloc(gw, err) < 0 || watch_setup(gw, err) < 0)
		return -1;
	espgw_gw_sa_tables(gw);
	gw->tab[0].sa_mtu = gw->sa_mtu;
	gw->tab[0].sa_mss = espgw_gw_mss_table(gw);
	if (reasm_create(gw, err) < 0)
		return -1;
	gw->tab[0].reasm_peers = gw->reasm_peers;
	gw->tables_pub = &gw->tab[0];
	return 0;
}

int
espgw_gw_setup(struct espgw_gw *gw, struct espgw_err *err)
{
	int socket = (int)rte_socket_id();
	unsigned int i;

	/* The leak check's baseline: before any pool exists (a PMD fills some at queue setup). */
	espgw_pools_start(&gw->pools);
	/* Every per-SA table is sized once, to the slots the store may give. */
	if (espgw_store_slots_fix(&gw->store, ESPGW_MAX_SA_DEFAULT) < 0) {
		snprintf(err->msg, sizeof(err->msg), "out of memory for the SA slots");
		return -1;
	}
	if (workers_create(gw, err) < 0 || qsbr_create(gw, err) < 0)
		return -1;
	if (espgw_mbuf_sa_register() < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot register the mbuf SA field");
		return -1;
	}
	if (espgw_ports_setup(&gw->ports, &gw->store, gw->n_workers, gw->mbuf_pools, err) < 0)
		return -1;
	gw->ports_ready = true;
	if (espgw_crypto_setup(&gw->crypto, &gw->store, gw->n_workers, socket, err) < 0)
		return -1;
	gw->crypto_ready = true;
	if (espgw_sad_build(&gw->sad, &gw->store, &gw->crypto, gw->n_workers, socket, err) < 0)
		return -1;
	gw->sad_ready = true;
	if (handoff_setup(gw, err) < 0 || tables_build(gw, err) < 0 || host_create(gw, err) < 0)
		return -1;
	gw->ctl = rte_ring_create("espgw_ctl", CTL_RING_SIZE, socket, RING_F_SC_DEQ);
	if (gw->ctl == NULL) {
		snprintf(err->msg, sizeof(err->msg), "cannot create the control ring");
		return -1;
	}
	for (i = 0; i < gw->n_workers; i++)
		worker_map(gw, gw->worker[i]);
	if (espgw_gw_capture_setup(gw, err) < 0)
		return -1;
	gw->view.lc = gw->lc;
	gw->view.n_lc = gw->n_workers;
	gw->view.store = &gw->store;
	gw->view.ports = &gw->ports;
	return 0;
}

int
espgw_gw_start(struct espgw_gw *gw, struct espgw_err *err)
{
	unsigned int i;

	if (espgw_crypto_start(&gw->crypto, err) < 0)
		return -1;
	if (espgw_ports_start(&gw->ports, err) < 0)
		return -1;
	if (espgw_host_telemetry_register(gw->host) != 0)
		GW_LOG(WARNING, "telemetry /espgw/control not registered");
	if (espgw_dp_telemetry_register(gw->worker, gw->n_workers) != 0)
		GW_LOG(WARNING, "telemetry /espgw/dp not registered");
	for (i = 0; i < gw->n_workers; i++)
		rte_eal_remote_launch(espgw_worker_main, gw->worker[i], gw->worker[i]->lcore_id);
	gw->running = true;
	return 0;
}

uint64_t
espgw_gw_now_ms(void)
{
	return rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000);
}

unsigned int
espgw_gw_ctl_poll(struct espgw_gw *gw)
{
	struct rte_mbuf *m[64];
	unsigned int n, total = 0;

	if (gw->ctl == NULL || gw->host == NULL)
		return 0;
	while ((n = rte_ring_dequeue_burst(gw->ctl, (void **)m, RTE_DIM(m), NULL)) != 0) {
		espgw_host_input(gw->host, m, n, espgw_gw_now_ms());
		total += n;
	}
	total += espgw_host_if_poll(gw->host);
	espgw_host_timer(gw->host, espgw_gw_now_ms());
	if (gw->n_retiring != 0)
		espgw_gw_retire_poll(gw, espgw_gw_now_ms());
	espgw_gw_watch_poll(gw, espgw_gw_now_ms());
	espgw_gw_acquire_poll(gw, espgw_gw_now_ms());
	total += espgw_gw_capture_poll(gw);
	return total;
}

void
espgw_gw_stop(struct espgw_gw *gw)
{
	__atomic_store_n(&gw->quit, true, __ATOMIC_RELEASE);
	if (gw->running)
		rte_eal_mp_wait_lcore();
	gw->running = false;
	if (gw->ctl != NULL) /* NULL when setup failed before creating it */
		espgw_gw_ctl_poll(gw);
}

/* What the control path injected after worker 0 stopped goes back to its pool. */
static void
inject_drain(struct rte_ring *r)
{
	struct rte_mbuf *m;

	while (r != NULL && rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}

void
espgw_gw_quiesce(struct espgw_gw *gw)
{
	unsigned int i;

	espgw_host_flush(gw->host);
	if (gw->host != NULL) /* the kernel sends nothing more; its RX ring's mbufs go back */
		espgw_host_if_close(gw->host);
	if (gw->n_workers != 0 && gw->ctl != NULL) /* worker 0 mapped: setup completed */
		espgw_worker_drain_ctl(gw->worker[0]);
	for (i = 0; i < gw->n_workers; i++) {
		espgw_worker_drain_handoff(gw->worker[i]);
		if (gw->sad_ready)
			espgw_worker_drain_order(gw->worker[i], &gw->sad);
	}
	inject_drain(gw->inject);
	gw->inject = NULL;
	if (gw->ports_ready)
		espgw_ports_close(&gw->ports);
	/* Sessions (and keys) are needed no more once the workers and the devices are done. */
	if (gw->sad_ready)
		espgw_sad_free(&gw->sad);
	gw->sad_ready = false;
	espgw_pools_end(&gw->pools);
}

void
espgw_gw_teardown(struct espgw_gw *gw)
{
	unsigned int i;

	espgw_tel_close(); /* no telemetry callback reads what is freed below */
	gw->view.extra = NULL;
	espgw_gw_capture_teardown(gw);
	espgw_host_free(gw->host); /* waiting packets go back to the pool before it goes */
	gw->host = NULL;
	if (gw->ports_ready)
		espgw_ports_close(&gw->ports);
	espgw_spd_free(gw->spd_out);
	espgw_spd_free(gw->spd_in);
	espgw_route_free(gw->route_next);
	espgw_route_free(gw->route);
	if (gw->sad_ready)
		espgw_sad_free(&gw->sad);
	if (gw->crypto_ready)
		espgw_crypto_close(&gw->crypto);
	rte_ring_free(gw->ctl);
	inject_drain(gw->inject);
	gw->inject = NULL;
	rte_free(gw->sa_mtu);
	rte_free(gw->sa_mss);
	rte_free(gw->slot_queued);
	rte_free(gw->slot_ev);
	rte_free(gw->watch);
	gw->watch = NULL;
	rte_ring_free(gw->acquire);
	gw->acquire = NULL;
	free(gw->retiring);
	gw->retiring = NULL;
	gw->n_retiring = gw->cap_retiring = 0;
	rte_free(gw->qsv);
	espgw_handoff_free(gw->worker, gw->n_workers);
	for (i = 0; i < gw->n_workers; i++) {
		espgw_reasm_free(gw->worker[i]->reasm);
		espgw_fragstate_free(gw->worker[i]->frags);
		rte_free(gw->worker[i]->stats.sa);
		espgw_sad_cache_free(gw->worker[i]->esp.sadc);
		rte_free(gw->worker[i]->ord_cnt);
		rte_free(gw->worker[i]);
	}
	espgw_reasm_peers_free(gw->reasm_peers);
	gw->reasm_peers = NULL;
	gw->n_workers = 0;
	espgw_store_fini(&gw->store);
}
