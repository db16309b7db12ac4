/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /espgw/control for dpdk-telemetry.py: the control path's counters and its
 * drops. DPDK 22.11 telemetry callbacks take no user argument, so the
 * instance they read is kept in this file, set once before any callback runs;
 * the callback passes espgw_tel_gate.h, closed before the instance is freed.
 */
#include <rte_telemetry.h>

#include "espgw_tel_gate.h"
#include "host_int.h"

static const struct espgw_host *host;

static int
tel_control(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct espgw_host_stats *s = &host->st;
	unsigned int i;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (i = 0; i < ESPGW_HOST_MAX; i++)
		rte_tel_data_add_dict_u64(d, espgw_host_counter_name(i), s->c[i]);
	rte_tel_data_add_dict_u64(d, "pending", s->pending);
	for (i = 0; i < ESPGW_DROP_MAX; i++)
		if (s->drop[i] != 0)
			rte_tel_data_add_dict_u64(d, espgw_drop_name(i), s->drop[i]);
	return 0;
}

ESPGW_TEL_GATE(tel_control)

int
espgw_host_telemetry_register(const struct espgw_host *h)
{
	host = h;
	return rte_telemetry_register_cmd("/espgw/control", tel_control_gated,
			"Control path: ARP/ND/ICMP counters, resolution, drops by reason");
}
