/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * espgwctl: the command line of a running espgw, over its control socket.
 * The words of COMMAND become one request line; espgw parses it with the same
 * code as its config file, so this tool keeps no command table of its own
 * and needs no change when espgw learns a command.
 */
#include <getopt.h>
#include <limits.h>
#include <string.h>

#include "espgwctl.h"

struct opts {
	const char *sock;
	const char *file; /* -f */
	bool json;	  /* --json: print replies as received */
	bool done;	  /* --help or --version answered: exit 0 */
	int argc;	  /* COMMAND words */
	char **argv;
};

enum {
	OPT_JSON = 256,
	OPT_VERSION,
};

static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fputs("Usage: espgwctl [-s PATH] [--json] COMMAND... [--json]\n"
	      "       espgwctl [-s PATH] [--json] -f FILE\n"
	      "       espgwctl [-s PATH] [--json] monitor\n"
	      "       espgwctl [-s PATH] [--json] reload FILE\n"
	      "       espgwctl -h|--help | --version\n"
	      "\n"
	      "  -s PATH        espgw's control socket (default: $" CTL_SOCKET_ENV ",\n"
	      "                 else " CTL_SOCKET_DEFAULT ")\n"
	      "  -f FILE        send FILE's commands as one transaction (\"-\": stdin)\n"
	      "      --json     print espgw's replies (or events) as received\n"
	      "  -h, --help     show this help and exit\n"
	      "      --version  print the version and exit\n"
	      "\n"
	      "COMMAND: hello | show sa|sp|route|neighbor|port|stats|workers [NAME] |\n"
	      "  sa add|del|update|alloc-spi ... | sp add|del|set ... | route add|del ... |\n"
	      "  neighbor add|del ... | stats clear | begin | commit | abort | monitor |\n"
	      "  capture PORT|SA FILE [--count N] [--filter EXPR] | capture status|stop |\n"
	      "  reload FILE\n"
	      "  (the configuration language of espgw -f; see README).\n"
	      "Exit status: 0 done, 1 no connection or no valid reply, 2 refused by espgw\n"
	      "(its error on stderr) or a usage error.\n",
			f);
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, "espgwctl: %s (see --help)\n", msg);
	return CTL_EXIT_REFUSED;
}

static int
one_opt(int c, struct opts *o)
{
	switch (c) {
	case 's':
		o->sock = optarg;
		return 0;
	case 'f':
		o->file = optarg;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case 'h':
		usage(stdout);
		o->done = true;
		return 0;
	case OPT_VERSION:
		printf("espgwctl %s\n", ESPGW_VERSION);
		o->done = true;
		return 0;
	default:
		return usage_error("unknown option"); /* getopt said which */
	}
}

/* 0, or the exit status of a usage error (reported). */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->sock = getenv(CTL_SOCKET_ENV);
	if (o->sock == NULL || o->sock[0] == '\0')
		o->sock = CTL_SOCKET_DEFAULT;
	/* '+': options end at the first COMMAND word; later words are espgw's. */
	while (!o->done && (c = getopt_long(argc, argv, "+s:f:h", longopts, NULL)) != -1)
		if ((rc = one_opt(c, o)) != 0)
			return rc;
	o->argc = argc - optind;
	o->argv = argv + optind;
	/* "show sa NAME --json" as well: no command of espgw's ends with that word. */
	while (o->argc > 0 && strcmp(o->argv[o->argc - 1], "--json") == 0) {
		o->json = true;
		o->argc--;
	}
	if (o->done)
		return 0;
	if (o->file != NULL && o->argc > 0)
		return usage_error("-f FILE takes no COMMAND");
	if (o->file == NULL && o->argc == 0)
		return usage_error("COMMAND or -f FILE needed");
	return 0;
}

/* COMMAND's words joined with one blank into req: 0, or a usage error. */
static int
join(int argc, char *const argv[], char req[CTL_REQUEST_MAX + 1])
{
	size_t len = 0;
	int i;

	for (i = 0; i < argc; i++) {
		/* A line break would make two requests and shift every reply after it. */
		if (strpbrk(argv[i], "\r\n") != NULL)
			return usage_error("COMMAND cannot contain a line break");
		len += strlen(argv[i]) + (i > 0);
	}
	if (len > CTL_REQUEST_MAX) {
		fprintf(stderr, "espgwctl: request too long: %zu bytes, at most %d\n", len,
				CTL_REQUEST_MAX);
		return CTL_EXIT_REFUSED;
	}
	req[0] = '\0';
	for (i = 0; i < argc; i++) {
		strcat(req, i > 0 ? " " : "");
		strcat(req, argv[i]);
	}
	return req[0] != '\0' ? 0 : usage_error("empty COMMAND");
}

static int
print_reply(const struct opts *o, const struct ctl_reply *r)
{
	if (!r->ok) {
		fprintf(stderr, "espgwctl: %s\n", r->error);
		return CTL_EXIT_REFUSED;
	}
	if (o->json)
		printf("%s\n", r->line);
	else if (strcmp(o->argv[0], "show") != 0)
		ctl_print_fields(stdout, &r->json);
	else if (ctl_print_show(stdout, &r->json) < 0)
		return ctl_malformed();
	return CTL_EXIT_OK;
}

/* req sent, with the open file pass_fd (-1: none); the reply printed. */
static int
run_command(const struct opts *o, const char *req, int pass_fd)
{
	struct ctl_reply r;
	struct ctl_conn c;
	int rc = ctl_connect(&c, o->sock);

	if (rc != 0)
		return rc;
	c.pass_fd = pass_fd;
	rc = ctl_call(&c, req, &r);
	if (rc == 0) {
		rc = print_reply(o, &r);
		json_free(&r.json);
	}
	ctl_close(&c);
	return rc;
}

/* "capture PORT|SA FILE ...": FILE created here and passed open (capture.c). */
static int
run_capture(struct opts *o, char req[CTL_REQUEST_MAX + 1])
{
	char abs[PATH_MAX];
	const char *path = o->argv[2];
	int fd = ctl_capture_create(path, abs), rc;

	if (fd < 0)
		return CTL_EXIT_REFUSED;
	o->argv[2] = abs;
	rc = join(o->argc, o->argv, req);
	if (rc == 0)
		rc = run_command(o, req, fd);
	ctl_capture_done(fd, path);
	return rc;
}

int
main(int argc, char **argv)
{
	char req[CTL_REQUEST_MAX + 1];
	struct opts o;
	int rc = parse_opts(argc, argv, &o);

	if (rc != 0 || o.done)
		return rc;
	if (o.file != NULL)
		return ctl_file_run(o.sock, o.file, o.json, false);
	if (strcmp(o.argv[0], "reload") == 0)
		return o.argc == 2 ? ctl_file_run(o.sock, o.argv[1], o.json, true)
				   : usage_error("reload takes one FILE");
	if (ctl_capture_starts(o.argc, o.argv))
		rc = run_capture(&o, req);
	else if ((rc = join(o.argc, o.argv, req)) != 0)
		return rc;
	else if (strcmp(req, "monitor") == 0)
		rc = ctl_monitor_run(o.sock, o.json);
	else
		rc = run_command(&o, req, -1);
	explicit_bzero(req, sizeof(req)); /* "sa add" requests carry keys */
	/* Output that could not be written is a failure, not a silent success. */
	if (fflush(stdout) != 0 && rc == CTL_EXIT_OK) {
		fputs("espgwctl: cannot write the output\n", stderr);
		rc = CTL_EXIT_CONN;
	}
	return rc;
}
