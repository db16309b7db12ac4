/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK-level tests of the hand-off of inbound ESP to the worker that owns its
 * SA (lib/dp/handoff.c, DESIGN.md SA ownership): which packets stay, which go
 * to which ring and in what order, a full ring (handoff_full, an error of the
 * SA, the mbuf freed), the drain at shutdown (shutdown drops), and the
 * counter balance over the workers (lib/dp/espgw_dp.h) at every step:
 *   rx + created = tx + drops + to_ctl + absorbed + pending
 * with the packets in the rings as pending. Two worker structures driven by
 * hand on the main lcore; no port, no crypto (the owner's processing of what
 * it takes is covered end to end by tests/pkt/test_handoff.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "stage.h"

#define N_SA	 3
#define RING	 8 /* slots: 7 packets */
#define RING_CAP (RING - 1)

static struct rte_mempool *pool;
static struct espgw_sa_rt sa_rt[N_SA]; /* SA i: owner sa_owner[i] */
static const uint16_t sa_owner[N_SA] = {0, 1, 1};
static struct espgw_worker *w[2];

static struct espgw_worker *
worker_new(unsigned int idx)
{
	struct espgw_worker *x = rte_zmalloc(NULL, sizeof(*x), RTE_CACHE_LINE_SIZE);

	assert_non_null(x);
	x->stats.sa = calloc(N_SA + 1, sizeof(*x->stats.sa));
	assert_non_null(x->stats.sa);
	x->stats.n_sa = N_SA;
	x->idx = idx;
	x->lcore_id = rte_lcore_id();
	x->burst = 32;
	return x;
}

static int
setup(void **state)
{
	struct espgw_err err = {{0}};
	unsigned int i;

	(void)state;
	for (i = 0; i < N_SA; i++) {
		sa_rt[i].idx = i;
		sa_rt[i].dir = ESPGW_DIR_IN;
		sa_rt[i].owner = sa_owner[i];
	}
	for (i = 0; i < 2; i++)
		w[i] = worker_new(i);
	return espgw_handoff_create(w, 2, RING, &err);
}

static int
teardown(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) /* what a test left in the rings */
		espgw_worker_drain_handoff(w[i]);
	espgw_handoff_free(w, 2);
	for (i = 0; i < 2; i++) {
		free(w[i]->stats.sa);
		rte_free(w[i]);
	}
	return rte_mempool_in_use_count(pool) == 0 ? 0 : -1;
}

/* n packets received by worker r for SAs sa_of[i], as espgw_esp_inb_lookup leaves them. */
static void
received(unsigned int r, const unsigned int sa_of[], uint16_t n, struct rte_mbuf *m[],
		struct espgw_sa_rt *sa[])
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		m[i] = rte_pktmbuf_alloc(pool);
		assert_non_null(m[i]);
		*espgw_mbuf_sa(m[i]) = sa_of[i];
		sa[i] = &sa_rt[sa_of[i]];
	}
	w[r]->stats.rx += n;
}

static uint64_t
drops(const struct espgw_worker *x)
{
	return espgw_drop_total(x->stats.drop);
}

/* The balance over both workers; returns pending. */
static uint64_t
balanced(void)
{
	struct espgw_dp_sum s;
	uint64_t rx = w[0]->stats.rx + w[1]->stats.rx, tx = w[0]->stats.tx + w[1]->stats.tx;
	uint64_t to_ctl = w[0]->stats.to_ctl + w[1]->stats.to_ctl;

	espgw_dp_sum(w, 2, &s);
	assert_int_equal(rx + s.created,
			tx + drops(w[0]) + drops(w[1]) + to_ctl + s.absorbed + s.pending);
	return s.pending;
}

static void
free_all(struct rte_mbuf *m[], uint16_t n)
{
	rte_pktmbuf_free_bulk(m, n);
	w[0]->stats.tx += n; /* as if sent: the balance stays exact */
}

/* One worker: no ring, nothing to poll; the worker never calls stage_handoff. */
static void
test_one_worker(void **state)
{
	struct espgw_err err = {{0}};
	struct espgw_worker *one[1];

	(void)state;
	one[0] = worker_new(0);
	assert_int_equal(espgw_handoff_create(one, 1, RING, &err), 0);
	assert_null(one[0]->ho.to);
	assert_int_equal(one[0]->ho.n_from, 0);
	assert_int_equal(stage_handoff_poll(one[0]), 0);
	espgw_handoff_free(one, 1);
	free(one[0]->stats.sa);
	rte_free(one[0]);
}

/* Each worker has one ring to the other, and polls the one from it. */
static void
test_rings(void **state)
{
	(void)state;
	assert_null(w[0]->ho.to[0]);
	assert_null(w[1]->ho.to[1]);
	assert_int_equal(w[0]->ho.n_from, 1);
	assert_int_equal(w[1]->ho.n_from, 1);
	assert_ptr_equal(w[0]->ho.to[1], w[1]->ho.from[0]);
	assert_ptr_equal(w[1]->ho.to[0], w[0]->ho.from[0]);
	assert_int_equal(rte_ring_get_capacity(w[0]->ho.to[1]), RING_CAP);
}

/* Worker 0 keeps its SA's packets in order, hands the rest in order, per owner. */
static void
test_split(void **state)
{
	static const unsigned int sa_of[] = {0, 1, 2, 0, 0, 2, 1, 0};
	struct rte_mbuf *m[8], *orig[8], *got[8];
	struct espgw_sa_rt *sa[8];
	uint16_t k, i;

	(void)state;
	received(0, sa_of, 8, m, sa);
	memcpy(orig, m, sizeof(m));
	k = stage_handoff(w[0], m, sa, 8);
	assert_int_equal(k, 4);
	assert_ptr_equal(m[0], orig[0]);
	assert_ptr_equal(m[1], orig[3]);
	assert_ptr_equal(m[2], orig[4]);
	assert_ptr_equal(m[3], orig[7]);
	for (i = 0; i < k; i++)
		assert_ptr_equal(sa[i], &sa_rt[0]);
	assert_int_equal(w[0]->dp[ESPGW_DP_HANDED_OUT], 4);
	free_all(m, k);
	assert_int_equal(balanced(), 4);
	assert_int_equal(rte_ring_dequeue_burst(w[1]->ho.from[0], (void **)got, 8, NULL), 4);
	assert_ptr_equal(got[0], orig[1]);
	assert_ptr_equal(got[1], orig[2]);
	assert_ptr_equal(got[2], orig[5]);
	assert_ptr_equal(got[3], orig[6]);
	free_all(got, 4);
	w[1]->dp[ESPGW_DP_HANDED_IN] += 4; /* taken, as stage_handoff_poll counts them */
	assert_int_equal(balanced(), 0);
	assert_int_equal(drops(w[0]) + drops(w[1]), 0);
}

/* A full ring drops (handoff_full, errors of the SA), frees, never waits. */
static void
test_ring_full(void **state)
{
	static const unsigned int sa_of[10] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 2};
	struct rte_mbuf *m[10];
	struct espgw_sa_rt *sa[10];

	(void)state;
	received(0, sa_of, 10, m, sa);
	assert_int_equal(stage_handoff(w[0], m, sa, 10), 0);
	assert_int_equal(w[0]->dp[ESPGW_DP_HANDED_OUT], RING_CAP);
	assert_int_equal(w[0]->stats.drop[ESPGW_DROP_HANDOFF_FULL], 10 - RING_CAP);
	assert_int_equal(drops(w[0]), 10 - RING_CAP);
	assert_int_equal(w[0]->stats.sa[1].errors, 0);
	assert_int_equal(w[0]->stats.sa[2].errors, 10 - RING_CAP); /* the last ones */
	assert_int_equal(rte_mempool_in_use_count(pool), RING_CAP);
	assert_int_equal(balanced(), RING_CAP);
}

/* At shutdown what is left in the rings is freed and counted (shutdown, SA errors). */
static void
test_drain(void **state)
{
	static const unsigned int sa_of[3] = {0, 0, 2};
	struct rte_mbuf *m[3];
	struct espgw_sa_rt *sa[3];

	(void)state;
	test_ring_full(state);
	received(1, sa_of, 3, m, sa); /* worker 1 hands SA 0's to worker 0, keeps SA 2's */
	assert_int_equal(stage_handoff(w[1], m, sa, 3), 1);
	free_all(m, 1);
	assert_int_equal(balanced(), RING_CAP + 2);
	espgw_worker_drain_handoff(w[1]);
	espgw_worker_drain_handoff(w[0]);
	assert_int_equal(balanced(), 0);
	assert_int_equal(w[1]->dp[ESPGW_DP_HANDED_IN], RING_CAP);
	assert_int_equal(w[0]->dp[ESPGW_DP_HANDED_IN], 2);
	assert_int_equal(w[1]->stats.drop[ESPGW_DROP_SHUTDOWN], RING_CAP);
	assert_int_equal(w[0]->stats.drop[ESPGW_DROP_SHUTDOWN], 2);
	assert_int_equal(w[1]->stats.sa[1].errors, 5);
	assert_int_equal(w[1]->stats.sa[2].errors, RING_CAP - 5);
	assert_int_equal(w[0]->stats.sa[0].errors, 2);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	espgw_worker_drain_handoff(w[0]); /* empty now: changes nothing */
	assert_int_equal(balanced(), 0);
}

/* The exit JSON has the new counters, in the totals and per worker. */
static void
test_json(void **state)
{
	static const unsigned int sa_of[2] = {1, 1};
	struct rte_mbuf *m[2];
	struct espgw_sa_rt *sa[2];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	received(0, sa_of, 2, m, sa);
	assert_int_equal(stage_handoff(w[0], m, sa, 2), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	espgw_dp_stats_json(w, 2, f);
	fclose(f);
	assert_non_null(strstr(buf, "\"handed_out\": 2, \"handed_in\": 0, "));
	assert_non_null(strstr(buf, "\"pending\": 2, \"workers\": [{"));
	assert_non_null(strstr(buf, "}, {\"injected\": 0, "));
	free(buf);
	espgw_worker_drain_handoff(w[1]);
	assert_int_equal(balanced(), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_one_worker),
			cmocka_unit_test_setup_teardown(test_rings, setup, teardown),
			cmocka_unit_test_setup_teardown(test_split, setup, teardown),
			cmocka_unit_test_setup_teardown(test_ring_full, setup, teardown),
			cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
			cmocka_unit_test_setup_teardown(test_json, setup, teardown),
	};

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("test_handoff", 255, 0, 0, 256, SOCKET_ID_ANY);
	if (pool == NULL || espgw_mbuf_sa_register() != 0)
		return 1;
	return cmocka_run_group_tests_name("handoff", tests, NULL, NULL) != 0;
}
