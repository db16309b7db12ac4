/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One request: the server's own verbs (hello, begin, reload, commit, abort, show,
 * stats clear, monitor), else a command of the configuration language,
 * parsed by lib/conf exactly as "espgw --check" parses a file line.
 */
#include <string.h>
#include <unistd.h>

#include "ctlsrv_int.h"
#include "espgw_conf.h"
#include "espgw_log.h"

void
ctl_reply_ok(struct espgw_ctlsrv *srv)
{
	static const char ok[] = "{\"ok\":true}\n";

	espgw_json_raw(&srv->reply, ok, sizeof(ok) - 1);
}

void
ctl_reply_error(struct espgw_ctlsrv *srv, const char *msg)
{
	espgw_json_reset(&srv->reply);
	espgw_json_raw(&srv->reply, "{\"ok\":false", 11);
	espgw_json_kstr(&srv->reply, "error", msg);
	espgw_json_raw(&srv->reply, "}\n", 2);
	srv->st.errors++;
}

/* Control bytes would end up in names and messages: refused as a whole. */
static bool
line_clean(const char *line)
{
	const unsigned char *p;

	for (p = (const unsigned char *)line; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

static void
hello(struct espgw_ctlsrv *srv)
{
	espgw_json_raw(&srv->reply, "{\"ok\":true", 10);
	espgw_json_ku64(&srv->reply, "api", ESPGW_CTL_API);
	espgw_json_kstr(&srv->reply, "version", srv->version);
	espgw_json_raw(&srv->reply, "}\n", 2);
}

static void
show(struct espgw_ctlsrv *srv, int argc, char *argv[])
{
	struct espgw_err err = {{0}};

	if (argc < 2 || argc > 3)
		return ctl_reply_error(srv, "usage: show sa|sp|route|neighbor|port|stats|workers "
					    "[NAME]");
	espgw_json_raw(&srv->reply, "{\"ok\":true", 10);
	if (srv->ops.show(srv->ops.arg, argv[1], argc == 3 ? argv[2] : NULL, &srv->reply, &err) < 0)
		return ctl_reply_error(srv, err.msg);
	espgw_json_raw(&srv->reply, "}\n", 2);
}

/* The file the client passed goes with the request (the callee owns it). */
static void
capture(struct espgw_ctlsrv *srv, struct ctl_client *c, int argc, char *argv[])
{
	struct espgw_err err = {{0}};
	int fd = c->passed_fd;

	c->passed_fd = -1;
	if (srv->ops.capture == NULL) {
		if (fd >= 0)
			close(fd);
		return ctl_reply_error(srv, "capture: not available here");
	}
	espgw_json_raw(&srv->reply, "{\"ok\":true", 10);
	if (srv->ops.capture(srv->ops.arg, argc, argv, fd, &srv->reply, &err) < 0)
		return ctl_reply_error(srv, err.msg);
	espgw_json_raw(&srv->reply, "}\n", 2);
}

static void
monitor(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	c->monitor = true;
	static const char ack[] = "{\"ok\":true,\"monitor\":true}\n";

	espgw_json_raw(&srv->reply, ack, sizeof(ack) - 1);
}

static bool
is(int argc, char *argv[], const char *a, const char *b)
{
	if (strcmp(argv[0], a) != 0)
		return false;
	return b == NULL ? argc == 1 : argc == 2 && strcmp(argv[1], b) == 0;
}

/* The server's own verbs; false when the request is none of them. */
static bool
verb(struct espgw_ctlsrv *srv, struct ctl_client *c, int argc, char *argv[])
{
	if (is(argc, argv, "hello", NULL))
		hello(srv);
	else if (is(argc, argv, "begin", NULL))
		ctl_txn_begin(srv, c);
	else if (is(argc, argv, "reload", NULL))
		ctl_reload_begin(srv, c);
	else if (is(argc, argv, "commit", NULL))
		ctl_txn_commit(srv, c);
	else if (is(argc, argv, "abort", NULL))
		ctl_txn_abort(srv, c);
	else if (strcmp(argv[0], "show") == 0)
		show(srv, argc, argv);
	else if (is(argc, argv, "stats", "clear")) {
		srv->ops.stats_clear(srv->ops.arg);
		ctl_reply_ok(srv);
	} else if (strcmp(argv[0], "capture") == 0)
		capture(srv, c, argc, argv);
	else if (is(argc, argv, "monitor", NULL))
		monitor(srv, c);
	else if (argc >= 2 && strcmp(argv[0], "sa") == 0 && strcmp(argv[1], "alloc-spi") == 0)
		ctl_spi_alloc(srv, argc, argv);
	else
		return false;
	return true;
}

/*
 * What a client adds outside a reload is the control socket's (an operator's
 * espgwctl, an IKE daemon's SAs and policies), not the config file's: a
 * reload, which makes the file's objects what the file says, leaves it alone.
 */
static void
mark_runtime(struct espgw_req *q)
{
	if (q->type == ESPGW_REQ_SA_ADD)
		q->sa.runtime = true;
	else if (q->type == ESPGW_REQ_SP_ADD)
		q->sp.runtime = true;
	else if (q->type == ESPGW_REQ_ROUTE_ADD)
		q->route.runtime = true;
	else if (q->type == ESPGW_REQ_NEIGH_ADD)
		q->neigh.runtime = true;
}

static void
command(struct espgw_ctlsrv *srv, struct ctl_client *c, int argc, char *argv[])
{
	struct espgw_err err = {{0}};
	struct espgw_req req;

	/* A reload compares ports, cryptodevs and settings instead of applying them. */
	if (espgw_conf_parse_cmd(argc, argv, &req, &err) < 0 ||
			(!c->reload && srv->ops.allowed(srv->ops.arg, &req, &err) < 0)) {
		ctl_reply_error(srv, err.msg);
		explicit_bzero(&req, sizeof(req));
		return;
	}
	if (!c->reload)
		mark_runtime(&req);
	if (c->in_txn)
		ctl_txn_queue(srv, c, &req);
	else
		ctl_txn_apply_one(srv, &req);
	explicit_bzero(&req, sizeof(req));
}

/*
 * Debug: the object, the verb and, for add/del/update, the object's name;
 * never the rest of the line (it holds keys).
 */
static void
request_log(int argc, char *argv[])
{
	bool named = argc >= 3 && (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "del") == 0 ||
						  strcmp(argv[1], "update") == 0);

	CTL_LOG(DEBUG, "request: %s%s%s%s%s", argv[0], argc >= 2 ? " " : "",
			argc >= 2 ? argv[1] : "", named ? " " : "", named ? argv[2] : "");
}

void
ctl_request(struct espgw_ctlsrv *srv, struct ctl_client *c, char *line)
{
	char buf[ESPGW_CTL_REQ_MAX + 2];
	char *argv[ESPGW_CONF_ARGS_MAX];
	struct espgw_err err = {{0}};
	int argc;

	if (!line_clean(line)) {
		srv->st.bad_bytes++;
		return ctl_reply_error(srv, "request holds control bytes");
	}
	argc = espgw_conf_split_line(line, buf, sizeof(buf), argv, ESPGW_CONF_ARGS_MAX, &err);
	if (argc < 0)
		ctl_reply_error(srv, err.msg);
	else if (argc == 0)
		ctl_reply_error(srv, "empty request");
	else {
		request_log(argc, argv);
		if (!verb(srv, c, argc, argv))
			command(srv, c, argc, argv);
	}
	explicit_bzero(buf, sizeof(buf));
}
