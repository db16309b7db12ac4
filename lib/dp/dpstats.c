/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' counters beyond lib/stats: packets made (fragments, injected
 * packets), merged (reassembly) and handed to another worker, summed on read
 * like every per-lcore counter, for the exit report, the JSON and /espgw/dp
 * (totals; the JSON has each worker's too). DPDK 22.11 telemetry
 * callbacks take no user argument, so the worker list they read is kept in
 * this file, set once before any callback runs.
 */
#include <inttypes.h>
#include <string.h>

#include <rte_telemetry.h>

#include "espgw_dp.h"
#include "espgw_tel_gate.h"

static const char *const counter_names[ESPGW_DP_MAX] = {
#define X(id, name, help) [ESPGW_DP_##id] = name,
		ESPGW_DP_COUNTER_LIST(X)
#undef X
};

static const char *const counter_helps[ESPGW_DP_MAX] = {
#define X(id, name, help) [ESPGW_DP_##id] = help,
		ESPGW_DP_COUNTER_LIST(X)
#undef X
};

static struct espgw_worker *const *tel_w;
static unsigned int tel_n;

const char *
espgw_dp_counter_name(enum espgw_dp_counter c)
{
	return c < ESPGW_DP_MAX ? counter_names[c] : "?";
}

static void
sum_reasm(const struct espgw_reasm *r, uint64_t c[ESPGW_DP_MAX])
{
	const struct espgw_reasm_stats *st;

	if (r == NULL)
		return;
	st = espgw_reasm_stats(r);
	c[ESPGW_DP_REASM_FRAGS] += st->frags;
	c[ESPGW_DP_REASSEMBLED] += st->pkts;
	c[ESPGW_DP_REASM_MERGED] += st->merged;
	c[ESPGW_DP_REASM_FREED] += st->freed;
	c[ESPGW_DP_REASM_EVICTED] += st->evicted;
	c[ESPGW_DP_REASM_PEER_FULL] += st->peer_full;
}

/* One worker's counters: its own, then its reassembly table's. */
static void
sum_worker(const struct espgw_worker *w, uint64_t c[ESPGW_DP_MAX])
{
	unsigned int i;

	for (i = 0; i < ESPGW_DP_REASM_FRAGS; i++)
		c[i] += w->dp[i];
	sum_reasm(w->reasm, c);
}

/*
 * In the rings: handed out, not yet taken. A live read may see an owner's
 * handed_in before the handed_out of the worker that enqueued (each counts
 * after its ring operation): never below zero; at exit both are exact.
 */
static uint64_t
in_rings(const uint64_t c[ESPGW_DP_MAX])
{
	uint64_t out = c[ESPGW_DP_HANDED_OUT], in = c[ESPGW_DP_HANDED_IN];

	return out > in ? out - in : 0;
}

void
espgw_dp_sum(struct espgw_worker *const w[], unsigned int n, struct espgw_dp_sum *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++)
		sum_worker(w[i], s->c);
	s->created = s->c[ESPGW_DP_INJECTED] + s->c[ESPGW_DP_FRAGMENTS] - s->c[ESPGW_DP_FRAGMENTED];
	s->absorbed = s->c[ESPGW_DP_REASM_MERGED] - s->c[ESPGW_DP_REASSEMBLED] +
		      s->c[ESPGW_DP_NAT_KEEPALIVE];
	s->pending = s->c[ESPGW_DP_REASM_FRAGS] - s->c[ESPGW_DP_REASM_MERGED] -
		     s->c[ESPGW_DP_REASM_FREED] + in_rings(s->c) + s->c[ESPGW_DP_ORDER_IN] -
		     s->c[ESPGW_DP_ORDER_OUT];
}

void
espgw_dp_stats_print(struct espgw_worker *const w[], unsigned int n, FILE *f)
{
	struct espgw_dp_sum s;
	unsigned int i;

	espgw_dp_sum(w, n, &s);
	fprintf(f,
			"\ndata path: created %" PRIu64 "  absorbed %" PRIu64 "  pending %" PRIu64
			"  (rx + created = tx + drops + to_ctl + absorbed + pending)\n",
			s.created, s.absorbed, s.pending);
	for (i = 0; i < ESPGW_DP_MAX; i++)
		if (s.c[i] != 0)
			fprintf(f, "  %-25s %14" PRIu64 "  (%s)\n", counter_names[i], s.c[i],
					counter_helps[i]);
}

/* Every counter of each worker: the balance per worker (espgw_dp.h) needs them. */
static void
json_workers(struct espgw_worker *const w[], unsigned int n, FILE *f)
{
	uint64_t c[ESPGW_DP_MAX];
	unsigned int i, k;

	fprintf(f, "\"workers\": [");
	for (i = 0; i < n; i++) {
		memset(c, 0, sizeof(c));
		sum_worker(w[i], c);
		fprintf(f, "%s{", i ? ", " : "");
		for (k = 0; k < ESPGW_DP_MAX; k++)
			fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "", counter_names[k], c[k]);
		fprintf(f, "}");
	}
	fprintf(f, "]");
}

void
espgw_dp_stats_json(struct espgw_worker *const w[], unsigned int n, FILE *f)
{
	struct espgw_dp_sum s;
	unsigned int i;

	espgw_dp_sum(w, n, &s);
	fprintf(f, "\"dataplane\": {");
	for (i = 0; i < ESPGW_DP_MAX; i++)
		fprintf(f, "\"%s\": %" PRIu64 ", ", counter_names[i], s.c[i]);
	fprintf(f,
			"\"created\": %" PRIu64 ", \"absorbed\": %" PRIu64 ", \"pending\": %" PRIu64
			", ",
			s.created, s.absorbed, s.pending);
	json_workers(w, n, f);
	fprintf(f, "}");
}

static int
tel_dp(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct espgw_dp_sum s;
	unsigned int i;

	(void)cmd;
	(void)params;
	espgw_dp_sum(tel_w, tel_n, &s);
	rte_tel_data_start_dict(d);
	for (i = 0; i < ESPGW_DP_MAX; i++)
		rte_tel_data_add_dict_u64(d, counter_names[i], s.c[i]);
	rte_tel_data_add_dict_u64(d, "created", s.created);
	rte_tel_data_add_dict_u64(d, "absorbed", s.absorbed);
	rte_tel_data_add_dict_u64(d, "pending", s.pending);
	return 0;
}

ESPGW_TEL_GATE(tel_dp)

int
espgw_dp_telemetry_register(struct espgw_worker *const w[], unsigned int n)
{
	tel_w = w;
	tel_n = n;
	return rte_telemetry_register_cmd("/espgw/dp", tel_dp_gated,
			"Data path: fragmentation, reassembly, injected packets, hand-off "
			"(rx + created = tx + drops + to_ctl + absorbed + pending)");
}
