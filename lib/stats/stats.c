/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Readers of the per-lcore counters: sums, the human table, the exit JSON and
 * the telemetry endpoints. Keys are never part of any output here.
 */
#include <inttypes.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "espgw_port.h"
#include "espgw_stats.h"
#include "espgw_store.h"

void
espgw_stats_sum(const struct espgw_stats_view *v, struct espgw_stats_sum *s)
{
	unsigned int i, d;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < v->n_lc; i++) {
		const struct espgw_lcore_stats *l = v->lc[i];

		s->rx += l->rx;
		s->tx += l->tx;
		s->to_ctl += l->to_ctl;
		s->busy_cycles += l->busy_cycles;
		s->ctl_tx += l->ctl_tx;
		s->ctl_tx_lost += l->ctl_tx_lost;
		for (d = 0; d < ESPGW_DROP_MAX; d++)
			s->drop[d] += l->drop[d];
	}
	s->drops = espgw_drop_total(s->drop);
}

struct espgw_sa_counters
espgw_stats_sa(const struct espgw_stats_view *v, unsigned int sa)
{
	struct espgw_sa_counters c = {0};
	unsigned int i;

	for (i = 0; i < v->n_lc; i++) {
		if (sa >= v->lc[i]->n_sa)
			continue;
		c.pkts += v->lc[i]->sa[sa].pkts;
		c.bytes += v->lc[i]->sa[sa].bytes;
		c.errors += v->lc[i]->sa[sa].errors;
	}
	return c;
}

static void
print_ports(const struct espgw_stats_view *v, FILE *f)
{
	struct rte_eth_stats es;
	unsigned int i;

	fprintf(f, "%-12s %14s %14s %12s %12s\n", "port", "rx", "tx", "rx-missed", "tx-errors");
	for (i = 0; i < v->ports->n; i++) {
		if (espgw_port_stats(&v->ports->port[i], &es) != 0)
			memset(&es, 0, sizeof(es));
		fprintf(f, "%-12s %14" PRIu64 " %14" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n",
				v->store->ports[i].name, es.ipackets, es.opackets, es.imissed,
				es.oerrors);
	}
}

/* Per worker: whether RSS (or the kernel, for net_tap) spreads the load. */
static void
print_workers(const struct espgw_stats_view *v, FILE *f)
{
	unsigned int i;

	for (i = 0; v->n_lc > 1 && i < v->n_lc; i++)
		fprintf(f,
				"  worker lcore %-3u received %" PRIu64 "  transmitted %" PRIu64
				"  to control path %" PRIu64 "  dropped %" PRIu64 "\n",
				v->lc[i]->lcore, v->lc[i]->rx, v->lc[i]->tx, v->lc[i]->to_ctl,
				espgw_drop_total(v->lc[i]->drop));
}

static void
print_sas(const struct espgw_stats_view *v, FILE *f)
{
	unsigned int i;

	fprintf(f, "%-20s %4s %10s %14s %14s %10s\n", "sa", "dir", "spi", "packets", "bytes",
			"errors");
	for (i = 0; i < v->store->n_sas; i++) {
		const struct espgw_sa_conf *sa = &v->store->sas[i];
		struct espgw_sa_counters c = espgw_stats_sa(v, sa->slot);

		fprintf(f, "%-20s %4s 0x%08x %14" PRIu64 " %14" PRIu64 " %10" PRIu64 "\n", sa->name,
				sa->dir == ESPGW_DIR_OUT ? "out" : "in", sa->spi, c.pkts, c.bytes,
				c.errors);
	}
}

void
espgw_stats_print(const struct espgw_stats_view *v, FILE *f)
{
	struct espgw_stats_sum s;
	unsigned int d;

	espgw_stats_sum(v, &s);
	print_ports(v, f);
	fprintf(f,
			"\nworkers: %u  received %" PRIu64 "  transmitted %" PRIu64
			"  to control path %" PRIu64 "  dropped %" PRIu64 "\n",
			v->n_lc, s.rx, s.tx, s.to_ctl, s.drops);
	print_workers(v, f);
	for (d = 0; d < ESPGW_DROP_MAX; d++)
		if (s.drop[d] != 0)
			fprintf(f, "  drop %-20s %14" PRIu64 "  (%s)\n", espgw_drop_name(d),
					s.drop[d], espgw_drop_help(d));
	if (s.ctl_tx + s.ctl_tx_lost != 0)
		fprintf(f, "  for the control path: sent %" PRIu64 "  lost (TX full) %" PRIu64 "\n",
				s.ctl_tx, s.ctl_tx_lost);
	fprintf(f, "\n");
	print_sas(v, f);
	if (v->extra != NULL)
		v->extra->print(v->extra->arg, f);
}

static void
json_ports(const struct espgw_stats_view *v, FILE *f)
{
	struct rte_eth_stats es;
	unsigned int i;

	fprintf(f, "\"ports\": {");
	for (i = 0; i < v->ports->n; i++) {
		if (espgw_port_stats(&v->ports->port[i], &es) != 0)
			memset(&es, 0, sizeof(es));
		fprintf(f,
				"%s\"%s\": {\"rx\": %" PRIu64 ", \"tx\": %" PRIu64
				", \"rx_missed\": %" PRIu64 ", \"tx_errors\": %" PRIu64 "}",
				i ? ", " : "", v->store->ports[i].name, es.ipackets, es.opackets,
				es.imissed, es.oerrors);
	}
	fprintf(f, "}");
}

/* Packets of each SA this worker handled: an inbound SA must stay on one worker. */
static void
json_worker_sas(const struct espgw_stats_view *v, const struct espgw_lcore_stats *l, FILE *f)
{
	unsigned int i;

	fprintf(f, "\"sa\": {");
	for (i = 0; i < v->store->n_sas; i++) {
		uint32_t slot = v->store->sas[i].slot;

		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", v->store->sas[i].name,
				slot < l->n_sa ? l->sa[slot].pkts : 0);
	}
	fprintf(f, "}");
}

static void
json_workers(const struct espgw_stats_view *v, FILE *f)
{
	unsigned int i;

	fprintf(f, "\"workers\": [");
	for (i = 0; i < v->n_lc; i++) {
		fprintf(f,
				"%s{\"lcore\": %u, \"rx\": %" PRIu64 ", \"tx\": %" PRIu64
				", \"drops\": %" PRIu64 ", \"to_ctl\": %" PRIu64 ", ",
				i ? ", " : "", v->lc[i]->lcore, v->lc[i]->rx, v->lc[i]->tx,
				espgw_drop_total(v->lc[i]->drop), v->lc[i]->to_ctl);
		json_worker_sas(v, v->lc[i], f);
		fprintf(f, "}");
	}
	fprintf(f, "]");
}

static void
json_sas(const struct espgw_stats_view *v, FILE *f)
{
	unsigned int i;

	fprintf(f, "\"sa\": {");
	for (i = 0; i < v->store->n_sas; i++) {
		struct espgw_sa_counters c = espgw_stats_sa(v, v->store->sas[i].slot);

		fprintf(f,
				"%s\"%s\": {\"dir\": \"%s\", \"spi\": %u, \"pkts\": %" PRIu64
				", \"bytes\": %" PRIu64 ", \"errors\": %" PRIu64 "}",
				i ? ", " : "", v->store->sas[i].name,
				v->store->sas[i].dir == ESPGW_DIR_OUT ? "out" : "in",
				v->store->sas[i].spi, c.pkts, c.bytes, c.errors);
	}
	fprintf(f, "}");
}

void
espgw_stats_json(const struct espgw_stats_view *v, FILE *f)
{
	struct espgw_stats_sum s;
	unsigned int d;

	espgw_stats_sum(v, &s);
	fprintf(f, "{\"lcores\": %u, ", v->n_lc);
	json_ports(v, f);
	fprintf(f,
			", \"totals\": {\"rx\": %" PRIu64 ", \"tx\": %" PRIu64
			", \"to_ctl\": %" PRIu64 ", \"drops\": %" PRIu64
			", \"busy_cycles\": %" PRIu64 ", \"ctl_tx\": %" PRIu64
			", \"ctl_tx_lost\": %" PRIu64 "}, \"drops\": {",
			s.rx, s.tx, s.to_ctl, s.drops, s.busy_cycles, s.ctl_tx, s.ctl_tx_lost);
	for (d = 0; d < ESPGW_DROP_MAX; d++)
		fprintf(f, "%s\"%s\": %" PRIu64, d ? ", " : "", espgw_drop_name(d), s.drop[d]);
	fprintf(f, "}, ");
	json_workers(v, f);
	fprintf(f, ", ");
	json_sas(v, f);
	if (v->extra != NULL) {
		fprintf(f, ", ");
		v->extra->json(v->extra->arg, f);
	}
	fprintf(f, "}\n");
}
