/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker poll loop: RX bursts from every queue this lcore owns, completed
 * crypto ops, ESP that other workers handed over (handoff.c), TX flush. Runs
 * until the control loop sets *quit; then drains in-flight crypto so nothing
 * is stranded or leaked (what other workers handed over and it did not take
 * is drained once all have stopped: espgw_worker_drain_handoff).
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include "burst_cycles.h"
#include "espgw_log.h"
#include "stage.h"

static uint16_t
poll_rx(struct espgw_worker *w)
{
	struct rte_mbuf *m[ESPGW_BURST_MAX];
	uint8_t proto[ESPGW_BURST_MAX];
	uint16_t q, n, total = 0;

	for (q = 0; q < w->n_rxq; q++) {
		const struct espgw_rxq *r = &w->rxq[q];

		n = rte_eth_rx_burst(r->port_id, r->queue, m, w->burst);
		if (n == 0)
			continue;
		w->stats.rx += n;
		total += n;
		if (unlikely(w->cap_target == r->port_idx))
			espgw_capture_burst(w->cap, &w->capl, r->port_id, r->queue, m, n, true);
		n = stage_rx(w, r, m, n, proto);
		if (r->role == ESPGW_ROLE_PROTECTED)
			stage_outbound(w, m, n, proto);
		else
			stage_inbound(w, m, n, proto);
	}
	return total;
}

/* Crypto completions arrive whenever the device is done, even below a full burst. */
static uint16_t
poll_crypto(struct espgw_worker *w)
{
	struct rte_mbuf *out[ESPGW_BURST_MAX], *in[ESPGW_BURST_MAX];
	uint16_t n_out = 0, n_in = 0;

	if (w->esp.inflight == 0)
		return 0;
	espgw_esp_poll(&w->esp, out, &n_out, in, &n_in, w->burst);
	stage_forward_esp(w, out, n_out);
	stage_inbound_inner(w, in, n_in);
	return n_out + n_in;
}

/*
 * Worker 0 sends the control path's frames for ports without a control TX
 * queue, on its own queue; counted apart from what it forwards.
 */
static uint16_t
poll_ctl_tx(struct espgw_worker *w)
{
	struct rte_mbuf *m[ESPGW_BURST_MAX];
	const struct espgw_port_info *pi;
	uint16_t i, n, sent, total = 0;

	for (i = 0; w->idx == 0 && i < w->t->ports->n; i++) {
		pi = &w->t->ports->port[i];
		if (pi->ctl_ring == NULL)
			continue;
		n = (uint16_t)rte_ring_dequeue_burst(pi->ctl_ring, (void **)m, w->burst, NULL);
		if (n == 0)
			continue;
		sent = rte_eth_tx_burst(pi->port_id, w->txq, m, n);
		rte_pktmbuf_free_bulk(m + sent, n - sent);
		w->stats.ctl_tx += sent;
		w->stats.ctl_tx_lost += n - sent;
		total += n;
	}
	return total;
}

/*
 * Worker 0 takes what the control path sends through the outbound path
 * (replies and ICMP errors for hosts behind a tunnel) as if it had come in
 * on a protected port: the outbound SPD decides, so protect-class traffic is
 * encrypted and never leaves in clear.
 */
static uint16_t
poll_inject(struct espgw_worker *w)
{
	struct rte_mbuf *m[ESPGW_BURST_MAX];
	uint8_t proto[ESPGW_BURST_MAX];
	uint16_t n, k;

	if (w->inject == NULL)
		return 0;
	n = (uint16_t)rte_ring_dequeue_burst(w->inject, (void **)m, w->burst, NULL);
	if (n == 0)
		return 0;
	w->dp[ESPGW_DP_INJECTED] += n;
	/* Our own packets: parsed, but not judged by the input rules (their source is ours). */
	k = stage_parse(w, m, n, proto);
	stage_outbound_injected(w, m, k, proto);
	return n;
}

static uint16_t
poll_all(struct espgw_worker *w)
{
	/* Reassembly gives up on old packets here, so silence cannot keep them. */
	if (w->reasm != NULL)
		espgw_reasm_tick(w->reasm, w->now);
	return poll_rx(w) + poll_crypto(w) + stage_handoff_poll(w) + stage_order_poll(w) +
	       poll_ctl_tx(w) + poll_inject(w);
}

void
espgw_worker_drain_ctl(struct espgw_worker *w)
{
	struct rte_mbuf *m[ESPGW_BURST_MAX];
	uint16_t n;

	while (poll_ctl_tx(w) != 0)
		;
	/* Made by the control path, never forwarded: created and dropped at once. */
	while (w->inject != NULL && (n = (uint16_t)rte_ring_dequeue_burst(w->inject, (void **)m,
						     RTE_DIM(m), NULL)) != 0) {
		w->dp[ESPGW_DP_INJECTED] += n;
		w->stats.drop[ESPGW_DROP_SHUTDOWN] += n;
		rte_pktmbuf_free_bulk(m, n);
	}
}

/*
 * A new version of the tables was published: take it, with what the worker
 * keeps beside it (the MSS table lib/esp reads, the reassembly's peers).
 */
static void
tables_take(struct espgw_worker *w, const struct espgw_tables *t)
{
	const struct espgw_tables *old = w->t;

	w->t = t;
	w->esp.mss = t->sa_mss;
	if (w->reasm != NULL && (old == NULL || old->reasm_peers != t->reasm_peers))
		espgw_reasm_peers_set(w->reasm, t->reasm_peers);
}

/*
 * "stats clear", done by the only writer of these counters between two
 * iterations (a clear from the control lcore could be undone by a
 * concurrent increment). Packets in flight at that moment (crypto, rings)
 * are counted on one side of the clear only. The SAs' counters stay: they
 * are what the lifetimes count (RFC 4301 4.4.2.1) and what shows that an
 * SA ran under its key (lib/gw/publish.c sa_key_fresh): a clear must not
 * stretch a hard limit or let a used key in again.
 */
static void
stats_clear(struct espgw_worker *w)
{
	struct espgw_lcore_stats *l = &w->stats;

	l->rx = l->tx = l->to_ctl = l->ctl_tx = l->ctl_tx_lost = l->busy_cycles = 0;
	memset(l->drop, 0, sizeof(l->drop));
	memset(w->dp, 0, sizeof(w->dp));
	w->clear_seen = *w->clear_req;
}

int
espgw_worker_main(void *arg)
{
	struct espgw_worker *w = arg;
	const struct espgw_tables *t;
	uint64_t t0, t1;
	uint16_t n;

	DP_LOG(INFO, "worker %u on lcore %u: %u RX queues, TX queue %u", w->idx, w->lcore_id,
			w->n_rxq, w->txq);
	rte_rcu_qsbr_thread_online(w->qsv, w->idx);
	while (!__atomic_load_n(w->quit, __ATOMIC_RELAXED)) {
		/*
		 * Between iterations no hop pointer and no table is held: the
		 * control path may reuse entries and free replaced tables.
		 */
		rte_rcu_qsbr_quiescent(w->qsv, w->idx);
		t = __atomic_load_n(w->tables, __ATOMIC_ACQUIRE);
		if (unlikely(t != w->t))
			tables_take(w, t);
		if (unlikely(w->clear_req != NULL && *w->clear_req != w->clear_seen))
			stats_clear(w);
		/* Published like the tables: read once per loop, unchanged while a burst runs. */
		w->cap_target = w->cap != NULL ? espgw_capture_want(w->cap) : ESPGW_CAPTURE_OFF;
		t0 = rte_rdtsc();
		w->now = t0;
		n = poll_all(w);
		if (n == 0)
			continue;
		stage_tx_flush(w);
		t1 = rte_rdtsc();
		w->stats.busy_cycles += t1 - t0;
		if (n == w->burst)
			burst_cycles_add(t1 - t0, n);
	}
	burst_cycles_log(w->idx);
	/* Finish what the device still holds, then send what is staged. */
	while (w->esp.inflight != 0 && poll_crypto(w) != 0)
		stage_tx_flush(w);
	stage_tx_flush(w);
	espgw_esp_drain(&w->esp);
	if (w->reasm != NULL)
		espgw_reasm_flush(w->reasm);
	rte_rcu_qsbr_thread_offline(w->qsv, w->idx);
	return 0;
}
