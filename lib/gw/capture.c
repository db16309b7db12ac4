/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * espgwctl capture: the control request, and the control loop's drain of the
 * workers' copies into the file (lib/capture). One capture at a time.
 *
 *   capture PORT|SA FILE [--count N]   start (FILE passed open by the client)
 *   capture status                     {"capture":{...}}
 *   capture stop                       end now
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_rcu_qsbr.h>

#include "espgw_log.h"
#include "gw.h"

#define CAPTURE_BUDGET	  2048 /* copies in flight at most, all workers together */
#define CAPTURE_COUNT_DEF 1000 /* packets written when --count is not given */
#define CAPTURE_COUNT_MAX 10000000

static struct espgw_capture_lcore *const *
lcores(struct espgw_gw *gw, struct espgw_capture_lcore *c[])
{
	unsigned int i;

	for (i = 0; i < gw->n_workers; i++)
		c[i] = &gw->worker[i]->capl;
	return c;
}

int
espgw_gw_capture_setup(struct espgw_gw *gw, struct espgw_err *err)
{
	struct espgw_capture_lcore *c[RTE_MAX_LCORE];
	unsigned int i;

	if (espgw_capture_create(&gw->cap, lcores(gw, c), gw->n_workers, CAPTURE_BUDGET,
			    (int)rte_socket_id()) < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot create the capture pool and rings");
		return -1;
	}
	for (i = 0; i < gw->n_workers; i++)
		gw->worker[i]->cap = &gw->cap;
	return 0;
}

static void
filter_free(struct espgw_gw *gw)
{
	rte_bpf_destroy(gw->cap.filter);
	gw->cap.filter = NULL;
}

/* The workers' copies no worker can still be making: every one passed a quiescent point. */
static void
capture_end(struct espgw_gw *gw, const char *why)
{
	struct espgw_capture_lcore *c[RTE_MAX_LCORE];

	__atomic_store_n(&gw->cap.target, ESPGW_CAPTURE_OFF, __ATOMIC_RELEASE);
	if (gw->running)
		rte_rcu_qsbr_synchronize(gw->qsv, RTE_QSBR_THRID_INVALID);
	filter_free(gw); /* no worker runs it any more */
	espgw_capture_file_drain(gw->cap_file, lcores(gw, c), gw->n_workers, gw->cap_limit);
	CAPTURE_LOG(NOTICE, "capture of %s ended (%s): %" PRIu64 " packets to %s", gw->cap_what,
			why, espgw_capture_file_written(gw->cap_file), gw->cap_path);
	gw->cap_written = espgw_capture_file_written(gw->cap_file);
	espgw_capture_file_close(gw->cap_file);
	gw->cap_file = NULL;
	/* What the limit left over goes back to the pool. */
	espgw_capture_flush(lcores(gw, c), gw->n_workers);
}

void
espgw_gw_capture_teardown(struct espgw_gw *gw)
{
	struct espgw_capture_lcore *c[RTE_MAX_LCORE];

	if (gw->cap_file != NULL)
		capture_end(gw, "espgw stopped");
	if (gw->cap.pool != NULL)
		espgw_capture_free(&gw->cap, lcores(gw, c), gw->n_workers);
}

/*
 * An SA's capture follows its slot: once the SA is deleted or replaced, the
 * slot is retired and later given to another SA, whose decrypted packets must
 * never land in this file. publish.c says when the slot goes out of service;
 * the next poll ends the capture (the slot stays retired for seconds).
 */
void
espgw_gw_capture_slot_gone(struct espgw_gw *gw, uint32_t slot)
{
	if (gw->cap_file != NULL && gw->cap.target == (slot | ESPGW_CAPTURE_SA_FLAG))
		gw->cap_sa_gone = true;
}

unsigned int
espgw_gw_capture_poll(struct espgw_gw *gw)
{
	struct espgw_capture_lcore *c[RTE_MAX_LCORE];
	int n;

	if (gw->cap_file == NULL)
		return 0;
	if (gw->cap_sa_gone) {
		capture_end(gw, "SA deleted or replaced");
		return 1;
	}
	n = espgw_capture_file_drain(gw->cap_file, lcores(gw, c), gw->n_workers, gw->cap_limit);
	if (n < 0)
		capture_end(gw, "write error");
	else if (espgw_capture_file_written(gw->cap_file) >= gw->cap_limit)
		capture_end(gw, "count reached");
	return n > 0 ? (unsigned int)n : 0;
}

/* A port's index, or an SA's slot with ESPGW_CAPTURE_SA_FLAG; ESPGW_CAPTURE_OFF if none. */
static uint32_t
target_find(const struct espgw_gw *gw, const char *name)
{
	unsigned int i;

	for (i = 0; i < gw->ports.n; i++)
		if (strcmp(gw->store.ports[i].name, name) == 0)
			return i;
	for (i = 0; i < gw->sad.n; i++)
		if (espgw_sad_live(&gw->sad, i) && strcmp(gw->sad.conf[i].name, name) == 0)
			return i | ESPGW_CAPTURE_SA_FLAG;
	return ESPGW_CAPTURE_OFF;
}

static int
usage(struct espgw_err *err)
{
	return espgw_err_set(err,
			"usage: capture PORT|SA FILE [--count N] (N 1-%u) [--filter EXPR] | "
			"capture status|stop",
			CAPTURE_COUNT_MAX);
}

static int
count_parse(const char *s, uint64_t *count)
{
	char *end;

	*count = strtoull(s, &end, 10);
	return *end == '\0' && *count >= 1 && *count <= CAPTURE_COUNT_MAX ? 0 : -1;
}

/* --filter takes the rest of the line (espgwctl joins its words with blanks). */
static int
filter_join(int argc, char *argv[], char *expr, size_t len)
{
	size_t used = 0;
	int i, n;

	for (i = 0; i < argc; i++) {
		n = snprintf(expr + used, len - used, "%s%s", i > 0 ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= len - used)
			return -1;
		used += (size_t)n;
	}
	return argc > 0 ? 0 : -1;
}

/* [--count N] [--filter EXPR...] after PORT|SA FILE. */
static int
opts_parse(int argc, char *argv[], uint64_t *count, char *expr, size_t len, struct espgw_err *err)
{
	int i = 3;

	*count = CAPTURE_COUNT_DEF;
	expr[0] = '\0';
	if (i + 1 < argc && strcmp(argv[i], "--count") == 0) {
		if (count_parse(argv[i + 1], count) < 0)
			return usage(err);
		i += 2;
	}
	if (i < argc && strcmp(argv[i], "--filter") == 0) {
		if (filter_join(argc - i - 1, argv + i + 1, expr, len) < 0)
			return usage(err);
		i = argc;
	}
	return i == argc ? 0 : usage(err);
}

/*
 * FILE is the client's: espgwctl creates it and passes it open with the
 * request (*fd, set to -1 once taken); argv[2] is only its name, for status
 * and the log.
 */
static int
capture_start(struct espgw_gw *gw, int argc, char *argv[], int *fd, struct espgw_err *err)
{
	char expr[ESPGW_CTL_REQ_MAX];
	const char *why;
	uint32_t target;
	uint64_t count;

	if (opts_parse(argc, argv, &count, expr, sizeof(expr), err) < 0)
		return -1;
	if (gw->cap_file != NULL)
		return espgw_err_set(err, "a capture of %s runs already", gw->cap_what);
	target = target_find(gw, argv[1]);
	if (target == ESPGW_CAPTURE_OFF)
		return espgw_err_set(err, "no port or SA %s", argv[1]);
	if (*fd < 0)
		return espgw_err_set(err,
				"FILE must come open with the request (espgwctl capture passes "
				"it)");
	if (expr[0] != '\0') {
		gw->cap.filter = espgw_capture_filter_load(expr, err->msg, sizeof(err->msg));
		if (gw->cap.filter == NULL)
			return -1;
	}
	gw->cap_file = espgw_capture_file_fdopen(*fd, &why);
	*fd = -1; /* owned by cap_file, or closed */
	if (gw->cap_file == NULL) {
		filter_free(gw);
		return espgw_err_set(err, "cannot capture into %s: %s", argv[2], why);
	}
	gw->cap_limit = count;
	gw->cap_written = 0;
	gw->cap_sa_gone = false;
	snprintf(gw->cap_what, sizeof(gw->cap_what), "%s %s",
			target & ESPGW_CAPTURE_SA_FLAG ? "sa" : "port", argv[1]);
	snprintf(gw->cap_path, sizeof(gw->cap_path), "%s", argv[2]);
	/* An SA's decrypted traffic is sensitive: said at notice level, whoever asked. */
	espgw_log(ESPGW_LOG_CAPTURE,
			target & ESPGW_CAPTURE_SA_FLAG ? ESPGW_LOG_NOTICE : ESPGW_LOG_INFO,
			"capture of %s%s started: %" PRIu64 " packets to %s", gw->cap_what,
			target & ESPGW_CAPTURE_SA_FLAG ? " (decrypted)" : "", count, argv[2]);
	__atomic_store_n(&gw->cap.target, target, __ATOMIC_RELEASE);
	return 0;
}

static void
capture_status(struct espgw_gw *gw, struct espgw_json *j)
{
	uint64_t captured = 0, dropped = 0;
	unsigned int i;

	for (i = 0; i < gw->n_workers; i++) {
		captured += gw->worker[i]->capl.captured;
		dropped += gw->worker[i]->capl.dropped;
	}
	espgw_json_key(j, "capture");
	espgw_json_raw(j, "{", 1);
	espgw_json_kbool(j, "running", gw->cap_file != NULL);
	espgw_json_kstr(j, "what", gw->cap_what);
	espgw_json_kstr(j, "file", gw->cap_path);
	espgw_json_ku64(j, "written",
			gw->cap_file != NULL ? espgw_capture_file_written(gw->cap_file)
					     : gw->cap_written);
	espgw_json_ku64(j, "captured", captured);
	espgw_json_ku64(j, "capture_dropped", dropped);
	espgw_json_raw(j, "}", 1);
}

static int
capture_ctl_start(struct espgw_gw *gw, int argc, char *argv[], int fd, struct espgw_json *j,
		struct espgw_err *err)
{
	int rc = capture_start(gw, argc, argv, &fd, err);

	if (fd >= 0)
		close(fd); /* refused before the file was taken */
	if (rc < 0)
		return -1;
	capture_status(gw, j);
	return 0;
}

int
espgw_gw_capture_ctl(void *arg, int argc, char *argv[], int fd, struct espgw_json *j,
		struct espgw_err *err)
{
	struct espgw_gw *gw = arg;

	if (argc >= 3)
		return capture_ctl_start(gw, argc, argv, fd, j, err);
	if (fd >= 0)
		close(fd); /* passed with a request that writes no file */

	if (argc == 2 && strcmp(argv[1], "status") == 0) {
		capture_status(gw, j);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "stop") == 0) {
		if (gw->cap_file != NULL)
			capture_end(gw, "stopped");
		capture_status(gw, j);
		return 0;
	}
	return usage(err);
}
