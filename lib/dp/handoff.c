/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hand-off of inbound ESP to the worker that owns its SA (DESIGN.md, SA
 * ownership; VPP's handoff). RFC 4303 3.4.3 needs each sequence number
 * accepted once; the replay windows (espgw's and rte_ipsec's) are checked
 * before decryption and committed after it without atomics, so only one
 * lcore may run them. RSS or a kernel's flow hash does not decide which
 * worker receives an SA's packets: the outer source is no part of the SA
 * (match spi-dst) and not authenticated, so anyone on the path can re-send
 * captured ESP from other sources and have it land on every queue. Hence:
 * the receiving worker looks the SA up, and packets of SAs another worker
 * owns (decided at setup, lib/sad) go to that worker through a ring; the
 * owner takes them every loop and runs the same replay check, decryption and
 * commit as for its own. A ring never blocks: full means dropped and counted.
 * An SA with "decrypt any" has a window every worker may commit (atomics,
 * lib/sad/replay.h): its packets stay with the worker that received them.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "stage.h"

/* Ring memory from the malloc heap: n * (n - 1) memzones could run out. */
static struct rte_ring *
ring_create(const char *kind, unsigned int from, unsigned int to, unsigned int size, int socket)
{
	char name[RTE_RING_NAMESIZE];
	ssize_t sz = rte_ring_get_memsize(size);
	struct rte_ring *r;

	if (sz < 0)
		return NULL;
	r = rte_zmalloc_socket("espgw_handoff", (size_t)sz, RTE_CACHE_LINE_SIZE, socket);
	if (r == NULL)
		return NULL;
	snprintf(name, sizeof(name), "espgw_%s%u_%u", kind, from, to);
	if (rte_ring_init(r, name, size, RING_F_SP_ENQ | RING_F_SC_DEQ) == 0)
		return r;
	rte_free(r);
	return NULL;
}

static int
ends_alloc(struct espgw_handoff *h, const struct espgw_worker *w, unsigned int n)
{
	h->to = rte_zmalloc_socket("espgw_handoff", (2 * n - 1) * sizeof(*h->to), 0,
			(int)rte_lcore_to_socket_id(w->lcore_id));
	if (h->to == NULL)
		return -1;
	h->from = h->to + n;
	return 0;
}

/* The set of rings at offset ofs in each worker (ho, or ord for order.c). */
static inline struct espgw_handoff *
ends(struct espgw_worker *w, size_t ofs)
{
	return (struct espgw_handoff *)((uint8_t *)w + ofs);
}

static int
rings_create(struct espgw_worker *const w[], unsigned int n, unsigned int ring_size, size_t ofs,
		const char *kind)
{
	unsigned int i, j;
	struct rte_ring *r;

	for (j = 0; j < n; j++)
		if (ends_alloc(ends(w[j], ofs), w[j], n) != 0)
			return -1;
	for (j = 0; j < n; j++) {
		for (i = 0; i < n; i++) {
			if (i == j)
				continue;
			r = ring_create(kind, i, j, ring_size,
					(int)rte_lcore_to_socket_id(w[j]->lcore_id));
			if (r == NULL)
				return -1;
			ends(w[i], ofs)->to[j] = r;
			ends(w[j], ofs)->from[ends(w[j], ofs)->n_from++] = r;
		}
	}
	return 0;
}

int
espgw_handoff_create(struct espgw_worker *const w[], unsigned int n, unsigned int ring_size,
		struct espgw_err *err)
{
	if (n < 2)
		return 0;
	if (rings_create(w, n, ring_size, offsetof(struct espgw_worker, ho), "ho") == 0 &&
			rings_create(w, n, ring_size, offsetof(struct espgw_worker, ord), "or") ==
					0)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "out of memory for the hand-off rings of %u workers",
			n);
	return -1;
}

static void
rings_free(struct espgw_handoff *h)
{
	unsigned int k;

	for (k = 0; k < h->n_from; k++)
		rte_free(h->from[k]);
	rte_free(h->to);
	memset(h, 0, sizeof(*h));
}

void
espgw_handoff_free(struct espgw_worker *const w[], unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		rings_free(&w[i]->ho);
		rings_free(&w[i]->ord);
	}
}

/* A run of packets for one owner: one enqueue, the rest dropped (never wait). */
static void
hand_run(struct espgw_worker *w, struct rte_mbuf *m[], struct espgw_sa_rt *const sa[], uint16_t n)
{
	uint16_t i, e;

	if (n == 0)
		return;
	e = (uint16_t)rte_ring_enqueue_burst(w->ho.to[sa[0]->owner], (void **)m, n, NULL);
	w->dp[ESPGW_DP_HANDED_OUT] += e;
	for (i = e; i < n; i++)
		drop_sa(w, m[i], ESPGW_DROP_HANDOFF_FULL, sa[i]->idx);
}

/* What this worker decrypts itself: its own SAs' packets, and any decrypt-any SA's. */
static inline bool
kept(const struct espgw_worker *w, const struct espgw_sa_rt *sa)
{
	return sa->owner == w->idx || sa->decrypt_any;
}

/*
 * Bursts carry runs of one SA: consecutive packets for the same owner go in
 * one enqueue, and the order of each SA's packets is kept. A run is handed
 * over before anything is written over its slots (k <= s): before a packet
 * of another owner, and before a kept one, whatever its SA's owner.
 */
uint16_t
stage_handoff(struct espgw_worker *w, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n)
{
	uint16_t i, k = 0, s = 0;

	for (i = 0; i < n; i++) {
		if (s < i && (kept(w, sa[i]) || sa[i]->owner != sa[s]->owner)) {
			hand_run(w, m + s, sa + s, i - s);
			s = i;
		}
		if (kept(w, sa[i])) {
			m[k] = m[i];
			sa[k++] = sa[i];
			s = i + 1;
		}
	}
	hand_run(w, m + s, sa + s, n - s);
	return k;
}

/*
 * Every source gets up to a burst per loop, each RX queue as each ring: a
 * flood that reaches one worker cannot take all of another's loop. Under
 * overload a ring fills and drops (handoff_full) on the receiving worker,
 * which keeps serving the rest of its queues: no worker stops receiving
 * because another is busy.
 */
uint16_t
stage_handoff_poll(struct espgw_worker *w)
{
	struct rte_mbuf *m[ESPGW_BURST_MAX], *done[ESPGW_BURST_MAX];
	uint16_t i, n, k, total = 0;

	for (i = 0; i < w->ho.n_from; i++) {
		n = (uint16_t)rte_ring_dequeue_burst(w->ho.from[i], (void **)m, w->burst, NULL);
		if (n == 0)
			continue;
		w->dp[ESPGW_DP_HANDED_IN] += n;
		total += n;
		k = espgw_esp_inb_handed(&w->esp, m, n, done);
		stage_inbound_inner(w, done, k);
	}
	return total;
}

void
espgw_worker_drain_handoff(struct espgw_worker *w)
{
	struct rte_mbuf *m;
	uint16_t i;

	for (i = 0; i < w->ho.n_from; i++) {
		while (rte_ring_dequeue(w->ho.from[i], (void **)&m) == 0) {
			w->dp[ESPGW_DP_HANDED_IN]++;
			drop_sa(w, m, ESPGW_DROP_SHUTDOWN, espgw_esp_inb_sa_idx(m));
		}
	}
}
