/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway's counters in the Prometheus text exposition format 0.0.4
 * (README "Metrics"). Hand-written because DPDK has no Prometheus exporter.
 * Nothing is counted here: every value comes from the readers that the
 * exit report, "show" and telemetry use (lib/stats sums, espgw_dp_sum, the
 * control path's and the control socket's counters), and every name and
 * meaning from the X-macro lists that declare the counters, so a counter
 * added to a list appears here without a change. Runs on the control lcore
 * at each scrape, never per packet.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "gw.h"
#include "metrics.h"

#define LABELS_MAX 256 /* one sample's labels, escaped: names are at most 31 bytes */

/* HELP text: backslash and newline escaped (exposition format 0.0.4). */
static void
help_put(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	help_put(f, help);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* A label value: backslash, double quote and newline escaped; truncated, never overrun. */
static size_t
label_put(char *buf, size_t size, size_t at, const char *key, const char *val)
{
	at += (size_t)snprintf(buf + at, at < size ? size - at : 0, "%s%s=\"", at ? "," : "", key);
	for (; *val != '\0' && at + 3 < size; val++) {
		char c = *val;

		if (c == '\\' || c == '"' || c == '\n') {
			buf[at++] = '\\';
			c = c == '\n' ? 'n' : c;
		}
		buf[at++] = c;
	}
	at += (size_t)snprintf(buf + at, at < size ? size - at : 0, "\"");
	return at < size ? at : size - 1;
}

static void
sample(FILE *f, const char *name, const char *labels, uint64_t v)
{
	if (labels[0] != '\0')
		fprintf(f, "%s{%s} %" PRIu64 "\n", name, labels, v);
	else
		fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* One family of one unlabelled value. */
static void
single(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	family(f, name, type, help);
	sample(f, name, "", v);
}

/* "PREFIX_NAME_total" for a counter of a declared list. */
static void
listed(FILE *f, const char *prefix, const char *name, const char *help, uint64_t v)
{
	char full[128];

	snprintf(full, sizeof(full), "%s_%s_total", prefix, name);
	single(f, full, "counter", help, v);
}

/* Ports: the device's counters (rte_eth_stats), as "show port" reads them. */
static const struct port_field {
	const char *name, *help;
	size_t off;
} port_fields[] = {
		{"espgw_port_rx_packets_total", "packets received by the port",
				offsetof(struct rte_eth_stats, ipackets)},
		{"espgw_port_tx_packets_total", "packets sent by the port",
				offsetof(struct rte_eth_stats, opackets)},
		{"espgw_port_rx_bytes_total", "bytes received by the port",
				offsetof(struct rte_eth_stats, ibytes)},
		{"espgw_port_tx_bytes_total", "bytes sent by the port",
				offsetof(struct rte_eth_stats, obytes)},
		{"espgw_port_rx_missed_total", "packets the port dropped: RX queues full",
				offsetof(struct rte_eth_stats, imissed)},
		{"espgw_port_rx_errors_total", "erroneous packets received",
				offsetof(struct rte_eth_stats, ierrors)},
		{"espgw_port_tx_errors_total", "packets the port failed to send",
				offsetof(struct rte_eth_stats, oerrors)},
		{"espgw_port_rx_nombuf_total", "RX mbuf allocation failures",
				offsetof(struct rte_eth_stats, rx_nombuf)},
};

static void
ports_put(const struct espgw_gw *gw, FILE *f)
{
	unsigned int n = RTE_MIN(gw->store.n_ports, gw->ports.n), i, k;
	struct rte_eth_stats *es = calloc(n ? n : 1, sizeof(*es));
	char lab[LABELS_MAX];

	if (es == NULL)
		return;
	for (i = 0; i < n; i++) /* once per port: every family shows the same instant */
		if (espgw_port_stats(&gw->ports.port[i], &es[i]) != 0)
			memset(&es[i], 0, sizeof(es[i]));
	for (k = 0; k < RTE_DIM(port_fields); k++) {
		family(f, port_fields[k].name, "counter", port_fields[k].help);
		for (i = 0; i < n; i++) {
			label_put(lab, sizeof(lab), 0, "port", gw->store.ports[i].name);
			sample(f, port_fields[k].name, lab,
					*(const uint64_t *)((const char *)&es[i] +
							    port_fields[k].off));
		}
	}
	free(es);
}

/* Every drop reason, even at zero: a rate() needs the series before the first drop. */
static void
drops_put(FILE *f, const char *name, const char *help, const uint64_t drop[ESPGW_DROP_MAX])
{
	char lab[LABELS_MAX];
	unsigned int d;

	family(f, name, "counter", help);
	for (d = 0; d < ESPGW_DROP_MAX; d++) {
		label_put(lab, sizeof(lab), 0, "reason", espgw_drop_name(d));
		sample(f, name, lab, drop[d]);
	}
}

static void
totals_put(const struct espgw_gw *gw, FILE *f)
{
	struct espgw_stats_sum s;

	espgw_stats_sum(&gw->view, &s);
	single(f, "espgw_rx_packets_total", "counter", "packets the workers received", s.rx);
	single(f, "espgw_tx_packets_total", "counter", "packets the workers sent", s.tx);
	single(f, "espgw_to_control_packets_total", "counter",
			"packets the workers handed to the control path", s.to_ctl);
	drops_put(f, "espgw_drops_total", "packets the workers dropped, by reason", s.drop);
	single(f, "espgw_control_tx_packets_total", "counter",
			"control-path frames worker 0 sent for it", s.ctl_tx);
	single(f, "espgw_control_tx_lost_total", "counter",
			"control-path frames lost: TX queue full", s.ctl_tx_lost);
}

static void
worker_labels(char *lab, size_t size, unsigned int i, unsigned int lcore)
{
	snprintf(lab, size, "worker=\"%u\",lcore=\"%u\"", i, lcore);
}

/* The per-lcore counters of lib/stats, one series per worker. */
static const struct worker_field {
	const char *name, *help;
} worker_fields[] = {
		{"espgw_worker_rx_packets_total", "packets this worker received"},
		{"espgw_worker_tx_packets_total", "packets this worker sent"},
		{"espgw_worker_to_control_packets_total", "packets handed to the control path"},
		{"espgw_worker_drops_total", "packets this worker dropped (all reasons)"},
};

static uint64_t
worker_value(const struct espgw_lcore_stats *l, unsigned int k)
{
	switch (k) {
	case 0:
		return l->rx;
	case 1:
		return l->tx;
	case 2:
		return l->to_ctl;
	default:
		return espgw_drop_total(l->drop);
	}
}

/* Busy time in seconds, so that rate() is the worker's busy share (0..1). */
static void
workers_busy_put(const struct espgw_gw *gw, FILE *f)
{
	static const char name[] = "espgw_worker_busy_seconds_total";
	double hz = (double)rte_get_tsc_hz();
	char lab[LABELS_MAX];
	unsigned int i;

	family(f, name, "counter", "time this worker spent in loop iterations that did work");
	for (i = 0; i < gw->view.n_lc; i++) {
		worker_labels(lab, sizeof(lab), i, gw->view.lc[i]->lcore);
		fprintf(f, "%s{%s} %.6f\n", name, lab, (double)gw->view.lc[i]->busy_cycles / hz);
	}
}

static void
workers_put(const struct espgw_gw *gw, FILE *f)
{
	char lab[LABELS_MAX];
	unsigned int k, i;

	single(f, "espgw_workers", "gauge", "worker lcores", gw->view.n_lc);
	for (k = 0; k < RTE_DIM(worker_fields); k++) {
		family(f, worker_fields[k].name, "counter", worker_fields[k].help);
		for (i = 0; i < gw->view.n_lc; i++) {
			worker_labels(lab, sizeof(lab), i, gw->view.lc[i]->lcore);
			sample(f, worker_fields[k].name, lab, worker_value(gw->view.lc[i], k));
		}
	}
	workers_busy_put(gw, f);
}

/* sa, spi (as "show sa" and the config write it: 0x%08x) and dir identify one SA. */
static void
sa_labels(char *lab, size_t size, const struct espgw_sa_conf *sa)
{
	char spi[16];
	size_t at;

	snprintf(spi, sizeof(spi), "0x%08x", sa->spi);
	at = label_put(lab, size, 0, "sa", sa->name);
	at = label_put(lab, size, at, "spi", spi);
	label_put(lab, size, at, "dir", sa->dir == ESPGW_DIR_OUT ? "out" : "in");
}

static uint64_t
sa_value(const struct espgw_sa_counters *c, unsigned int k)
{
	return k == 0 ? c->pkts : k == 1 ? c->bytes : c->errors;
}

static void
sas_put(const struct espgw_gw *gw, FILE *f)
{
	static const struct worker_field fields[] = {
			{"espgw_sa_packets_total", "packets through this SA"},
			{"espgw_sa_bytes_total", "inner (plaintext) L3 bytes through this SA"},
			{"espgw_sa_errors_total", "drops attributed to this SA"},
	};
	struct espgw_sa_counters c;
	char lab[LABELS_MAX];
	unsigned int k, i;

	single(f, "espgw_sas", "gauge", "SAs in the store (declared ones included)",
			gw->store.n_sas);
	single(f, "espgw_policies", "gauge", "security policies in the store", gw->store.n_sps);
	for (k = 0; k < RTE_DIM(fields); k++) {
		family(f, fields[k].name, "counter", fields[k].help);
		for (i = 0; i < gw->store.n_sas; i++) {
			c = espgw_stats_sa(&gw->view, gw->store.sas[i].slot);
			sa_labels(lab, sizeof(lab), &gw->store.sas[i]);
			sample(f, fields[k].name, lab, sa_value(&c, k));
		}
	}
}

/* The data path's counters beyond lib/stats (espgw_dp.h), per worker. */
static const struct worker_field dp_fields[ESPGW_DP_MAX] = {
#define X(id, name, help) [ESPGW_DP_##id] = {"espgw_dp_" name "_total", help},
		ESPGW_DP_COUNTER_LIST(X)
#undef X
};

static void
dp_put(const struct espgw_gw *gw, FILE *f)
{
	struct espgw_dp_sum *s = calloc(gw->n_workers ? gw->n_workers : 1, sizeof(*s));
	char lab[LABELS_MAX];
	unsigned int k, i;

	if (s == NULL)
		return;
	for (i = 0; i < gw->n_workers; i++)
		espgw_dp_sum(&gw->worker[i], 1, &s[i]);
	for (k = 0; k < ESPGW_DP_MAX; k++) {
		family(f, dp_fields[k].name, "counter", dp_fields[k].help);
		for (i = 0; i < gw->n_workers; i++) {
			worker_labels(lab, sizeof(lab), i, gw->worker[i]->stats.lcore);
			sample(f, dp_fields[k].name, lab, s[i].c[k]);
		}
	}
	free(s);
}

/* The control path (lib/host): ARP, ND, ICMP, resolution, its drops. */
static void
host_put(const struct espgw_gw *gw, FILE *f)
{
	static const char *const helps[ESPGW_HOST_MAX] = {
#define X(id, name, help) [ESPGW_HOST_##id] = help,
			ESPGW_HOST_COUNTER_LIST(X)
#undef X
	};
	const struct espgw_host_stats *st;
	unsigned int i;

	if (gw->host == NULL)
		return;
	st = espgw_host_stats(gw->host);
	for (i = 0; i < ESPGW_HOST_MAX; i++)
		listed(f, "espgw_control_path", espgw_host_counter_name(i), helps[i], st->c[i]);
	single(f, "espgw_control_path_pending", "gauge",
			"packets waiting for ARP/ND resolution now", st->pending);
	drops_put(f, "espgw_control_path_drops_total",
			"packets the control path dropped, by reason", st->drop);
}

/* The control socket's counters (lib/ctlsrv), as "show ctl" gives them. */
static void
ctlsrv_put(const struct espgw_gw *gw, FILE *f)
{
	const struct espgw_ctlsrv_stats *st;

	if (gw->ctlsrv == NULL)
		return;
	st = espgw_ctlsrv_stats(gw->ctlsrv);
	single(f, "espgw_control_socket_clients", "gauge", "control socket connections now",
			espgw_ctlsrv_clients(gw->ctlsrv));
#define X(n, d) listed(f, "espgw_control_socket", #n, d, st->n);
	ESPGW_CTLSRV_COUNTERS(X)
#undef X
}

/*
 * espgwctl capture (capture.c): per worker, the copies taken and those the
 * budget could not take (capture_dropped: the packets went on uncopied).
 */
static void
capture_put(const struct espgw_gw *gw, FILE *f)
{
	static const char *const names[2] = {
			"espgw_capture_copies_total", "espgw_capture_dropped_total"};
	static const char *const helps[2] = {"packets copied for espgwctl capture",
			"packets espgwctl capture could not copy (budget full; forwarded as ever)"};
	char lab[LABELS_MAX];
	unsigned int k, i;

	single(f, "espgw_capture_running", "gauge", "1 while an espgwctl capture runs",
			gw->cap_file != NULL);
	for (k = 0; k < 2; k++) {
		family(f, names[k], "counter", helps[k]);
		for (i = 0; i < gw->n_workers; i++) {
			worker_labels(lab, sizeof(lab), i, gw->worker[i]->stats.lcore);
			sample(f, names[k], lab,
					k == 0 ? gw->worker[i]->capl.captured
					       : gw->worker[i]->capl.dropped);
		}
	}
}

/* This endpoint's own counters: refusals show who scrapes badly. */
static void
self_put(const struct espgw_gw *gw, FILE *f)
{
	const struct espgw_metrics_stats *st;

	if (gw->metrics == NULL)
		return;
	st = espgw_metrics_stats(gw->metrics);
	single(f, "espgw_metrics_clients", "gauge", "metrics connections now",
			espgw_metrics_clients(gw->metrics));
#define X(n, d) listed(f, "espgw_metrics", #n, d, st->n);
	ESPGW_METRICS_COUNTERS(X)
#undef X
}

struct pool_walk {
	FILE *f;
	const char *name;
	bool in_use;
};

static void
pool_one(struct rte_mempool *mp, void *arg)
{
	const struct pool_walk *w = arg;
	char lab[LABELS_MAX];

	label_put(lab, sizeof(lab), 0, "pool", mp->name);
	sample(w->f, w->name, lab, w->in_use ? rte_mempool_in_use_count(mp) : mp->size);
}

/* Every mempool of the process (mbufs, crypto ops, sessions): exhaustion shows here first. */
static void
pools_put(FILE *f)
{
	struct pool_walk w = {f, "espgw_mempool_size", false};

	family(f, w.name, "gauge", "objects in the mempool");
	rte_mempool_walk(pool_one, &w);
	w.name = "espgw_mempool_in_use";
	w.in_use = true;
	family(f, w.name, "gauge", "objects in use (per-lcore caches count as free)");
	rte_mempool_walk(pool_one, &w);
}

int
espgw_gw_metrics_render(void *arg, FILE *f)
{
	const struct espgw_gw *gw = arg;

	family(f, "espgw_build_info", "gauge", "espgw's version");
	fprintf(f, "espgw_build_info{version=\"%s\"} 1\n", ESPGW_VERSION);
	ports_put(gw, f);
	totals_put(gw, f);
	workers_put(gw, f);
	sas_put(gw, f);
	dp_put(gw, f);
	host_put(gw, f);
	ctlsrv_put(gw, f);
	capture_put(gw, f);
	single(f, "espgw_publications_total", "counter", "table versions published to the workers",
			gw->publications);
	pools_put(f);
	self_put(gw, f);
	return ferror(f) ? -1 : 0;
}
