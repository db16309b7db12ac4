/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Telemetry endpoints, readable with dpdk-telemetry.py:
 *   /espgw/stats    totals
 *   /espgw/drops    every drop reason
 *   /espgw/sa       per-SA counters (param: SA name; none = list of names)
 * DPDK 22.11 telemetry callbacks take no user argument, so the view they read
 * is kept in this file, set once at registration before any callback runs.
 */
#include <string.h>

#include <rte_telemetry.h>

#include "espgw_stats.h"
#include "espgw_store.h"

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
	c = espgw_stats_sa(view, (unsigned int)i);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(
			d, "dir", view->store->sas[i].dir == ESPGW_DIR_OUT ? "out" : "in");
	rte_tel_data_add_dict_u64(d, "spi", view->store->sas[i].spi);
	rte_tel_data_add_dict_u64(d, "pkts", c.pkts);
	rte_tel_data_add_dict_u64(d, "bytes", c.bytes);
	rte_tel_data_add_dict_u64(d, "errors", c.errors);
	return 0;
}

int
espgw_stats_telemetry_register(const struct espgw_stats_view *v)
{
	view = v;
	if (rte_telemetry_register_cmd("/espgw/stats", tel_stats,
			    "Totals: rx, tx, to_ctl, drops, busy_cycles") != 0)
		return -1;
	if (rte_telemetry_register_cmd("/espgw/drops", tel_drops, "Packets dropped, per reason") !=
			0)
		return -1;
	return rte_telemetry_register_cmd("/espgw/sa", tel_sa,
			"Per-SA counters. Parameters: SA name (none: list SAs)");
}
