/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus metrics (README "Metrics"): every counter of the gateway in the
 * text exposition format 0.0.4, served over HTTP by the control lcore
 * (--metrics ADDR:PORT). Hand-written because DPDK has no HTTP server and no
 * Prometheus exporter (its telemetry socket speaks its own JSON protocol, one
 * command at a time), and an exporter process would need one telemetry
 * request per SA per scrape.
 *
 * The endpoint is served from the control loop like the control socket:
 * non-blocking sockets, polled, never from a worker. The workers' counters
 * are read as every other reader reads them (lib/stats: summed per lcore on
 * read), on the lcore that owns the store, so no lock is needed.
 */
#ifndef ESPGW_METRICS_H
#define ESPGW_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "espgw_store.h"

#define ESPGW_METRICS_CLIENTS_MAX 8	      /* connections at once; more get 503 */
#define ESPGW_METRICS_REQ_MAX	  4096	      /* request line and headers, in bytes */
#define ESPGW_METRICS_DEADLINE_MS 5000	      /* from accept to the last byte sent */
#define ESPGW_METRICS_BODY_MAX	  (64u << 20) /* a larger scrape is refused (500) */

/* The endpoint's own counters (espgw_metrics_* families). */
#define ESPGW_METRICS_COUNTERS(X)                                                   \
	X(accepted, "connections accepted")                                         \
	X(scrapes, "GET /metrics answered with 200")                                \
	X(refused_full, "connections refused with 503: too many at once")           \
	X(not_found, "requests for another path (404)")                             \
	X(bad_method, "requests with another method than GET or HEAD (405)")        \
	X(bad_request, "malformed requests (400)")                                  \
	X(too_long, "request line and headers over 4096 bytes (431)")               \
	X(timed_out, "connections closed at the deadline (slow or silent clients)") \
	X(render_failed, "scrapes that failed to render (500)")

struct espgw_metrics_stats {
#define X(n, d) uint64_t n;
	ESPGW_METRICS_COUNTERS(X)
#undef X
};

/* Writes the exposition text; 0, or -1 when it could not. */
typedef int (*espgw_metrics_render_t)(void *arg, FILE *f);

struct espgw_metrics;

/*
 * Listen on addr ("IPv4:PORT" or "[IPv6]:PORT", numeric). NULL with err set
 * on failure (bad address, port in use).
 */
struct espgw_metrics *espgw_metrics_open(
		const char *addr, espgw_metrics_render_t render, void *arg, struct espgw_err *err);
/* Accept, read, answer, write without blocking; non-zero when there was work. */
unsigned int espgw_metrics_poll(struct espgw_metrics *m);
const struct espgw_metrics_stats *espgw_metrics_stats(const struct espgw_metrics *m);
unsigned int espgw_metrics_clients(const struct espgw_metrics *m);
void espgw_metrics_free(struct espgw_metrics *m);

struct espgw_gw;
/* The gateway's exposition (metrics.c); arg is the struct espgw_gw. */
int espgw_gw_metrics_render(void *arg, FILE *f);

#endif
