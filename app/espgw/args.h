/* SPDX-License-Identifier: BSD-3-Clause */
/* espgw's own command-line options (after the EAL options and "--"). */
#ifndef ESPGW_ARGS_H
#define ESPGW_ARGS_H

#include <stdbool.h>
#include <stdio.h>

struct espgw_args {
	const char *config; /* -f FILE */
	bool check;	    /* --check: validate the config and exit */
	bool help;
	bool version;
	unsigned int stats_interval; /* seconds, 0 = only at exit */
	const char *stats_json;	     /* --stats-json FILE: counters at exit */
	int log_level;		     /* RTE_LOG_*, 0 = unchanged */
	bool strict_perms;	/* --strict-perms: a config readable by group/others is an error */
	const char *ctl_socket; /* --ctl-socket PATH ("none": no socket); NULL: the default */
	const char *ctl_group;	/* --ctl-group NAME; NULL: root only */
	const char *metrics;	/* --metrics ADDR:PORT: Prometheus endpoint; NULL: none */
	int mbuf_pools;		/* --mbuf-pools: enum espgw_mbuf_pools (0: shared) */
};

/*
 * Where espgw's own options start: after "--" when present, else argv[1]
 * (so "espgw --check -f FILE" works without any EAL option).
 * *eal_argc gets the number of argv entries that belong to the EAL.
 */
int espgw_args_split(int argc, char **argv, int *eal_argc);
/* Parse app options; prints the problem and returns -1 on a bad option. */
int espgw_args_parse(int argc, char **argv, struct espgw_args *a);
void espgw_args_usage(FILE *f, const char *prog);

#endif
