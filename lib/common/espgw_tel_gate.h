/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gate every espgw telemetry callback passes through. DPDK runs the
 * callbacks on its own telemetry thread, and DPDK 22.11 cannot unregister
 * them; what they read (counters, the store, per-worker state) is freed when
 * espgw stops. espgw_tel_close(), called before that, waits for a callback in
 * progress and makes every later one fail (-ENODEV) instead of reading freed
 * memory. A mutex is fine here: only telemetry and the stop path take it,
 * never a worker.
 */
#ifndef ESPGW_TEL_GATE_H
#define ESPGW_TEL_GATE_H

struct rte_tel_data;

typedef int (*espgw_tel_cb_t)(const char *cmd, const char *params, struct rte_tel_data *d);

/* body(cmd, params, d) while the gate is open, else -ENODEV. */
int espgw_tel_gated(
		espgw_tel_cb_t body, const char *cmd, const char *params, struct rte_tel_data *d);
/*
 * The control path changes what callbacks read (the store) between these:
 * no callback runs meanwhile. Never from a worker.
 */
void espgw_tel_hold(void);
void espgw_tel_release(void);
/* Wait for a callback in progress; refuse all later ones. */
void espgw_tel_close(void);

/* Defines fn_gated(), the callback to register: fn behind the gate. */
#define ESPGW_TEL_GATE(fn)                                                                 \
	static int fn##_gated(const char *cmd, const char *params, struct rte_tel_data *d) \
	{                                                                                  \
		return espgw_tel_gated(fn, cmd, params, d);                                \
	}

#endif
