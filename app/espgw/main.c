/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * espgw: an ESP tunnel-mode security gateway on DPDK.
 *
 *   espgw [EAL options] -- -f CONFIG [options]
 *
 * Order of work: own options first (--help, --version and --check need no
 * EAL), the config loaded and validated completely, then EAL, modules built,
 * ports and workers started, the control loop until SIGINT/SIGTERM, and an
 * orderly stop that leaves complete output files and the final counters,
 * and no EAL runtime or hugepage file behind (eal_files.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_version.h>

#include "args.h"
#include "ctl.h"
#include "eal_files.h"
#include "espgw_conf.h"
#include "espgw_log.h"
#include "gw.h"
#include "gw_log.h"
#include "pdump.h"

#define EXIT_CONFIG 2

static volatile sig_atomic_t signals_seen;

/* The first signal asks for an orderly stop; a second one forces the exit. */
static void
on_signal(int sig)
{
	(void)sig;
	if (++signals_seen > 1)
		_exit(130);
}

static void
signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int
config_load(const struct espgw_args *a, struct espgw_store *s)
{
	enum espgw_conf_perms perms =
			a->strict_perms ? ESPGW_CONF_PERMS_STRICT : ESPGW_CONF_PERMS_WARN;
	int errors;

	espgw_store_init(s);
	errors = espgw_conf_load_file_perms(a->config, s, stderr, perms);
	if (errors == 0)
		return 0;
	fprintf(stderr, "espgw: %s: %d error%s, nothing started\n", a->config, errors,
			errors > 1 ? "s" : "");
	espgw_store_fini(s);
	return -1;
}

static int
stats_json_write(const struct espgw_gw *gw, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "espgw: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	espgw_stats_json(&gw->view, f);
	return fclose(f);
}

static void
control_loop(struct espgw_gw *gw, unsigned int interval)
{
	uint64_t hz = rte_get_tsc_hz(), next = rte_get_tsc_cycles() + interval * hz;

	unsigned int busy;

	while (signals_seen == 0) {
		busy = gw->ctlsrv != NULL ? espgw_ctlsrv_poll(gw->ctlsrv) : 0;
		busy += espgw_gw_ctl_poll(gw);
		busy += espgw_metrics_poll(gw->metrics);
		/* Idle: give the CPU back (it may be a worker's too) for 1 ms at most. */
		if (busy == 0 && gw->ctlsrv != NULL)
			espgw_ctlsrv_wait(gw->ctlsrv, 1);
		else if (busy == 0)
			usleep(1000);
		if (interval != 0 && rte_get_tsc_cycles() >= next) {
			espgw_stats_print(&gw->view, stdout);
			fflush(stdout);
			next += interval * hz;
		}
	}
	GW_LOG(INFO, "signal received, stopping");
}

/*
 * Setup errors about one configured object (a device missing, an algorithm
 * the device refuses) point at its line, like the check's own errors.
 */
static void
setup_error(const char *config, const struct espgw_err *err)
{
	if (err->line != 0)
		fprintf(stderr, "%s:%u: %s\n", config, err->line, err->msg);
	else
		fprintf(stderr, "espgw: %s\n", err->msg);
	fprintf(stderr, "espgw: %s: nothing started\n", config);
}

/* The control socket, once the gateway runs: from then on SA slots retire (publish.c). */
static int
ctl_start(struct espgw_gw *gw, const struct espgw_args *a, const char *prefix,
		struct espgw_err *err)
{
	bool none;

	gw->store.retire_slots = true;
	gw->ctlsrv = espgw_ctl_open(gw, a->ctl_socket, prefix, a->ctl_group, &none, err);
	if (gw->ctlsrv != NULL || none)
		return 0;
	if (a->ctl_socket != NULL)
		return -1;
	/* Not asked for by name (e.g. no right to /run/espgw): run without one. */
	GW_LOG(WARNING, "no control socket: %s", err->msg);
	err->msg[0] = '\0';
	return 0;
}

/* --metrics: asked for by the operator, so a refusal (port in use) stops the start. */
static int
metrics_start(struct espgw_gw *gw, const struct espgw_args *a, struct espgw_err *err)
{
	if (a->metrics == NULL)
		return 0;
	gw->metrics = espgw_metrics_open(a->metrics, espgw_gw_metrics_render, gw, err);
	return gw->metrics != NULL ? 0 : -1;
}

static int
run(struct espgw_gw *gw, const struct espgw_args *a, const char *prefix)
{
	struct espgw_err err = {{0}};
	int rc = 0;

	gw->mbuf_pools = (enum espgw_mbuf_pools)a->mbuf_pools;
	if (espgw_gw_setup(gw, &err) < 0 || espgw_gw_start(gw, &err) < 0 ||
			ctl_start(gw, a, prefix, &err) < 0 || metrics_start(gw, a, &err) < 0) {
		setup_error(a->config, &err);
		espgw_ctlsrv_free(gw->ctlsrv); /* opened before a refused --metrics */
		gw->ctlsrv = NULL;
		espgw_gw_stop(gw);
		espgw_gw_teardown(gw);
		return EXIT_CONFIG;
	}
	espgw_stats_telemetry_register(&gw->view);
	GW_LOG(INFO, "running: %u workers, %u ports, %u SAs, %u policies", gw->n_workers,
			gw->ports.n, gw->store.n_sas, gw->store.n_sps);
	control_loop(gw, a->stats_interval);
	espgw_ctlsrv_free(gw->ctlsrv); /* no change after this point */
	gw->ctlsrv = NULL;
	espgw_metrics_free(gw->metrics);
	gw->metrics = NULL;
	espgw_gw_stop(gw);
	espgw_gw_quiesce(gw);
	espgw_stats_print(&gw->view, stdout);
	if (a->stats_json != NULL && stats_json_write(gw, a->stats_json) < 0)
		rc = EXIT_FAILURE;
	espgw_gw_teardown(gw);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct espgw_gw gw;
	struct espgw_eal_files files;
	struct espgw_args a;
	int app, eal_argc, rc;

	app = espgw_args_split(argc, argv, &eal_argc);
	argv[app] = argv[0]; /* getopt wants a program name first */
	if (espgw_args_parse(argc - app, argv + app, &a) < 0)
		return EXIT_CONFIG;
	if (a.help || a.version) {
		if (a.help)
			espgw_args_usage(stdout, "espgw");
		else
			printf("espgw %s (DPDK %s)\n", ESPGW_VERSION, rte_version());
		return 0;
	}
	if (config_load(&a, &gw.store) < 0)
		return EXIT_CONFIG;
	if (a.check) {
		espgw_store_fini(&gw.store);
		return 0;
	}
	signals_install();
	/*
	 * The log types exist before EAL parses --log-level, so that its options
	 * apply in order (the last match wins), as for DPDK's own types.
	 */
	if (espgw_log_rte_init() < 0)
		fprintf(stderr, "espgw: log types not registered: logging to stderr\n");
	espgw_eal_files_args(&files, eal_argc, argv);
	if (rte_eal_init(eal_argc, argv) < 0) {
		fprintf(stderr, "espgw: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		espgw_store_fini(&gw.store);
		return EXIT_FAILURE;
	}
	espgw_eal_files_note(&files);
	if (a.log_level > 0)
		espgw_log_rte_level((unsigned int)a.log_level);
	espgw_pdump_start(files.prefix);
	rc = run(&gw, &a, files.prefix);
	espgw_pdump_stop();
	rte_eal_cleanup();
	espgw_eal_files_remove(&files);
	return rc;
}
