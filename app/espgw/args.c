/* SPDX-License-Identifier: BSD-3-Clause */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_log.h>

#include "args.h"
#include "espgw_port.h"

enum {
	OPT_CHECK = 256,
	OPT_STATS_INTERVAL,
	OPT_STATS_JSON,
	OPT_LOG_LEVEL,
	OPT_VERSION,
	OPT_STRICT_PERMS,
	OPT_CTL_SOCKET,
	OPT_CTL_GROUP,
	OPT_METRICS,
	OPT_MBUF_POOLS,
};

static const struct option longopts[] = {
		{"config", required_argument, NULL, 'f'},
		{"check", no_argument, NULL, OPT_CHECK},
		{"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
		{"stats-json", required_argument, NULL, OPT_STATS_JSON},
		{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
		{"strict-perms", no_argument, NULL, OPT_STRICT_PERMS},
		{"ctl-socket", required_argument, NULL, OPT_CTL_SOCKET},
		{"ctl-group", required_argument, NULL, OPT_CTL_GROUP},
		{"metrics", required_argument, NULL, OPT_METRICS},
		{"mbuf-pools", required_argument, NULL, OPT_MBUF_POOLS},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
};

void
espgw_args_usage(FILE *f, const char *prog)
{
	fprintf(f,
			"Usage: %s [EAL options] -- -f CONFIG [options]\n"
			"\n"
			"  -f, --config FILE         configuration file (commands, see README)\n"
			"      --check               validate CONFIG, print FILE:LINE problems, "
			"exit 0/2;\n"
			"                            touches no device\n"
			"      --stats-interval SEC  print counters every SEC seconds (default: at "
			"exit only)\n"
			"      --stats-json FILE     write the final counters as JSON to FILE at "
			"exit\n"
			"      --log-level LEVEL     espgw log level: emerg alert crit err warning "
			"notice\n"
			"                            info debug, or 1-8 (default info), for every\n"
			"                            espgw.* log type; one module: EAL's\n"
			"                            --log-level espgw.sa:debug\n"
			"      --strict-perms        refuse a CONFIG that group or others can "
			"read (it\n"
			"                            holds keys); without it: a warning\n"
			"      --ctl-socket PATH     control socket (espgwctl); default\n"
			"                            /run/espgw/espgw.sock, or\n"
			"                            /run/espgw/espgw-PREFIX.sock with the EAL's\n"
			"                            --file-prefix PREFIX; \"none\": no socket\n"
			"      --ctl-group NAME      group allowed on the control socket besides "
			"root\n"
			"                            (default: root only)\n"
			"      --metrics ADDR:PORT   serve Prometheus metrics on "
			"http://ADDR:PORT/metrics\n"
			"                            (e.g. 127.0.0.1:9477, [::1]:9477; default: "
			"off)\n"
			"      --mbuf-pools shared|worker\n"
			"                            packet buffers: one pool per socket, or one "
			"per\n"
			"                            worker (default: shared; worker needs more\n"
			"                            memory, see README)\n"
			"  -h, --help                show this help and exit\n"
			"      --version             print the version and exit\n"
			"\n"
			"The main lcore runs the control loop; every other lcore in the EAL core "
			"list\n"
			"(-l) is a worker with one RX/TX queue per port and one crypto queue "
			"pair.\n"
			"Exit status: 0 clean stop, 1 EAL or runtime error, 2 configuration "
			"invalid or\n"
			"not runnable here (device missing, algorithm refused): FILE:LINE: "
			"message.\n",
			prog);
}

int
espgw_args_split(int argc, char **argv, int *eal_argc)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			*eal_argc = i;
			return i;
		}
	*eal_argc = 1;
	return 0;
}

static int
level_parse(const char *s)
{
	static const char *const names[] = {
			"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
	char *end;
	long v;
	int i;

	for (i = 0; i < 8; i++)
		if (strcasecmp(s, names[i]) == 0)
			return RTE_LOG_EMERG + i;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < RTE_LOG_EMERG || v > RTE_LOG_DEBUG)
		return -1;
	return (int)v;
}

static int
uint_parse(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > 86400)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* The values of enum espgw_mbuf_pools (espgw_port.h) an operator names; -1 otherwise. */
static int
pools_parse(const char *s)
{
	if (strcmp(s, "shared") == 0)
		return ESPGW_MBUF_POOLS_SHARED;
	if (strcmp(s, "worker") == 0)
		return ESPGW_MBUF_POOLS_WORKER;
	return -1;
}

static int
bad(const char *what, const char *val)
{
	fprintf(stderr, "espgw: invalid %s '%s' (see --help)\n", what, val);
	return -1;
}

static int
one_opt(int c, struct espgw_args *a)
{
	switch (c) {
	case 'f':
		a->config = optarg;
		return 0;
	case OPT_CHECK:
		a->check = true;
		return 0;
	case OPT_STRICT_PERMS:
		a->strict_perms = true;
		return 0;
	case OPT_STATS_INTERVAL:
		return uint_parse(optarg, &a->stats_interval) == 0
				       ? 0
				       : bad("--stats-interval", optarg);
	case OPT_STATS_JSON:
		a->stats_json = optarg;
		return 0;
	case OPT_CTL_SOCKET:
		a->ctl_socket = optarg;
		return 0;
	case OPT_CTL_GROUP:
		a->ctl_group = optarg;
		return 0;
	case OPT_METRICS:
		a->metrics = optarg;
		return 0;
	case OPT_MBUF_POOLS:
		a->mbuf_pools = pools_parse(optarg);
		return a->mbuf_pools >= 0 ? 0 : bad("--mbuf-pools", optarg);
	case OPT_LOG_LEVEL:
		a->log_level = level_parse(optarg);
		return a->log_level > 0 ? 0 : bad("--log-level", optarg);
	case 'h':
		a->help = true;
		return 0;
	case OPT_VERSION:
		a->version = true;
		return 0;
	default:
		fprintf(stderr, "espgw: see --help\n");
		return -1;
	}
}

int
espgw_args_parse(int argc, char **argv, struct espgw_args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1)
		if (one_opt(c, a) < 0)
			return -1;
	if (optind < argc) {
		fprintf(stderr, "espgw: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (a->config == NULL && !a->help && !a->version) {
		fprintf(stderr, "espgw: -f CONFIG is required (see --help)\n");
		return -1;
	}
	return 0;
}
