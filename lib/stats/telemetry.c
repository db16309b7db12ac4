/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Telemetry endpoints, readable with dpdk-telemetry.py:
 *   /espgw/stats    totals
 *   /espgw/workers  per worker, one array per counter in worker order:
 *                   {"lcore": [..], "rx": [..], "tx": [..], "drops": [..], "to_ctl": [..]}
 *                   (22.11 containers hold only arrays of plain values, not objects)
 *   /espgw/drops    every drop reason
 *   /espgw/sa       per-SA counters, "workers": packets per worker (param: SA name;
 *                   none = list of names)
 * DPDK 22.11 telemetry callbacks take no user argument, so the view they read
 * is kept in this file, set once at registration before any callback runs;
 * every callback passes espgw_tel_gate.h, closed before the view is freed.
 */
#include <errno.h>
#include <string.h>

#include <rte_telemetry.h>

#include "espgw_stats.h"
#include "espgw_store.h"
#include "espgw_tel_gate.h"

static const struct espgw_stats_view *view;

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct espgw_stats_sum s;

	(void)cmd;
	(void)params;
	espgw_stats_sum(view, &s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "lcores", view->n_lc);
	rte_tel_data_add_dict_u64(d, "rx", s.rx);
	rte_tel_data_add_dict_u64(d, "tx", s.tx);
	rte_tel_data_add_dict_u64(d, "to_ctl", s.to_ctl);
	rte_tel_data_add_dict_u64(d, "drops", s.drops);
	rte_tel_data_add_dict_u64(d, "busy_cycles", s.busy_cycles);
	return 0;
}

enum { W_LCORE, W_RX, W_TX, W_DROPS, W_TO_CTL, W_MAX };

static void
worker_row(struct rte_tel_data *a[W_MAX], const struct espgw_lcore_stats *l)
{
	rte_tel_data_add_array_u64(a[W_LCORE], l->lcore);
	rte_tel_data_add_array_u64(a[W_RX], l->rx);
	rte_tel_data_add_array_u64(a[W_TX], l->tx);
	rte_tel_data_add_array_u64(a[W_DROPS], espgw_drop_total(l->drop));
	rte_tel_data_add_array_u64(a[W_TO_CTL], l->to_ctl);
}

static int
tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const names[W_MAX] = {"lcore", "rx", "tx", "drops", "to_ctl"};
	struct rte_tel_data *a[W_MAX] = {NULL};
	unsigned int k, i;

	(void)cmd;
	(void)params;
	for (k = 0; k < W_MAX; k++) {
		a[k] = rte_tel_data_alloc();
		if (a[k] == NULL)
			goto fail;
		rte_tel_data_start_array(a[k], RTE_TEL_U64_VAL);
	}
	for (i = 0; i < view->n_lc; i++)
		worker_row(a, view->lc[i]);
	rte_tel_data_start_dict(d);
	for (k = 0; k < W_MAX; k++) /* once added, d owns (and frees) a[k] */
		if (rte_tel_data_add_dict_container(d, names[k], a[k], 0) != 0)
			rte_tel_data_free(a[k]);
	return 0;
fail:
	for (k = 0; k < W_MAX; k++)
		rte_tel_data_free(a[k]);
	return -ENOMEM;
}

static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct espgw_stats_sum s;
	unsigned int i;

	(void)cmd;
	(void)params;
	espgw_stats_sum(view, &s);
	rte_tel_data_start_dict(d);
	for (i = 0; i < ESPGW_DROP_MAX; i++)
		rte_tel_data_add_dict_u64(d, espgw_drop_name(i), s.drop[i]);
	return 0;
}

/* The SA's packets per worker, in worker order: an inbound SA must stay on one. */
static void
add_sa_workers(struct rte_tel_data *d, unsigned int sa)
{
	struct rte_tel_data *a = rte_tel_data_alloc();
	unsigned int i;

	if (a == NULL)
		return;
	rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
	for (i = 0; i < view->n_lc; i++)
		rte_tel_data_add_array_u64(
				a, sa < view->lc[i]->n_sa ? view->lc[i]->sa[sa].pkts : 0);
	if (rte_tel_data_add_dict_container(d, "workers", a, 0) != 0)
		rte_tel_data_free(a);
}

static int
tel_sa(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct espgw_sa_counters c;
	int i;

	(void)cmd;
	if (params == NULL || *params == '\0') {
		rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
		for (i = 0; i < (int)view->store->n_sas; i++)
			rte_tel_data_add_array_string(d, view->store->sas[i].name);
		return 0;
	}
	i = espgw_store_sa_index(view->store, params);
	if (i < 0)
		return -1;
	c = espgw_stats_sa(view, view->store->sas[i].slot);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(
			d, "dir", view->store->sas[i].dir == ESPGW_DIR_OUT ? "out" : "in");
	rte_tel_data_add_dict_u64(d, "spi", view->store->sas[i].spi);
	rte_tel_data_add_dict_u64(d, "pkts", c.pkts);
	rte_tel_data_add_dict_u64(d, "bytes", c.bytes);
	rte_tel_data_add_dict_u64(d, "errors", c.errors);
	add_sa_workers(d, view->store->sas[i].slot);
	return 0;
}

ESPGW_TEL_GATE(tel_stats)
ESPGW_TEL_GATE(tel_workers)
ESPGW_TEL_GATE(tel_drops)
ESPGW_TEL_GATE(tel_sa)

int
espgw_stats_telemetry_register(const struct espgw_stats_view *v)
{
	view = v;
	if (rte_telemetry_register_cmd("/espgw/stats", tel_stats_gated,
			    "Totals: rx, tx, to_ctl, drops, busy_cycles") != 0)
		return -1;
	if (rte_telemetry_register_cmd("/espgw/workers", tel_workers_gated,
			    "Per worker, in worker order: lcore, rx, tx, drops, to_ctl") != 0)
		return -1;
	if (rte_telemetry_register_cmd(
			    "/espgw/drops", tel_drops_gated, "Packets dropped, per reason") != 0)
		return -1;
	return rte_telemetry_register_cmd("/espgw/sa", tel_sa_gated,
			"Per-SA counters. Parameters: SA name (none: list SAs)");
}
