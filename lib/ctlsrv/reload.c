/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "reload": a transaction whose commands are a whole config file (espgwctl
 * reload FILE sends them after "reload", then "commit"). The client reads the
 * file with its own permissions, so espgw never opens a path on a client's
 * behalf. At commit the commands are loaded into a fresh store as at start,
 * compared with the running one (lib/ctl store_diff.c), and the difference
 * is applied as one ordinary transaction: all of it or nothing. Unchanged
 * objects get no request, so their runtime state (counters, sequence
 * numbers, replay windows) carries on.
 */
#include <stdio.h>
#include <string.h>

#include "ctlsrv_int.h"

void
ctl_reload_begin(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	if (c->in_txn)
		return ctl_reply_error(srv, "a transaction is already open (commit or abort it)");
	c->in_txn = c->reload = true;
	ctl_reply_ok(srv);
}

/* The command's number as its line, so that an object's error names the command. */
static void
number(struct espgw_req *q, unsigned int k)
{
	if (q->type == ESPGW_REQ_PORT_ADD)
		q->port.line = k;
	else if (q->type == ESPGW_REQ_SA_ADD)
		q->sa.line = k;
	else if (q->type == ESPGW_REQ_CRYPTO_ADD)
		q->crypto.line = k;
}

/* "command K (sa add): MSG", the form espgwctl turns into FILE:LINE. */
static void
cmd_error(struct espgw_ctlsrv *srv, const struct ctl_client *c, unsigned int k, const char *msg)
{
	char buf[ESPGW_ERR_MAX + 64];

	if (k == 0 || k > c->n_txn)
		return ctl_reply_error(srv, msg);
	snprintf(buf, sizeof(buf), "command %u (%s): %s", k, ctl_req_name(c->txn[k - 1].type), msg);
	ctl_reply_error(srv, buf);
}

/* The file's commands into t; 0, or the number of the one refused (err set). */
static unsigned int
target_load(struct espgw_store *t, struct ctl_client *c, struct espgw_err *err)
{
	unsigned int i;

	for (i = 0; i < c->n_txn; i++) {
		number(&c->txn[i], i + 1);
		if (espgw_store_apply(t, &c->txn[i], err) < 0)
			return i + 1;
	}
	return 0;
}

static void
reply_sum(struct espgw_ctlsrv *srv, const struct espgw_diff_sum *sum, unsigned int n)
{
	espgw_json_raw(&srv->reply, "{\"ok\":true", 10);
	espgw_json_ku64(&srv->reply, "added", sum->added);
	espgw_json_ku64(&srv->reply, "removed", sum->removed);
	espgw_json_ku64(&srv->reply, "changed", sum->changed);
	espgw_json_ku64(&srv->reply, "unchanged", sum->unchanged);
	espgw_json_ku64(&srv->reply, "kept", sum->kept);
	espgw_json_ku64(&srv->reply, "applied", n);
	espgw_json_raw(&srv->reply, "}\n", 2);
}

/* The difference applied; the reply says what it did or why nothing was done. */
static void
apply_diff(struct espgw_ctlsrv *srv, const struct ctl_client *c, const struct espgw_store *t)
{
	struct espgw_diff_sum sum;
	struct espgw_err err = {{0}};
	struct espgw_req *q;
	unsigned int n;
	char msg[ESPGW_ERR_MAX + 32];

	if (espgw_store_diff(srv->store, t, &q, &n, &sum, &err) < 0)
		return cmd_error(srv, c, err.line, err.msg);
	if (n > 0 && ctl_txn_run(srv, q, n, &err) < 0) {
		/* Not "command K": K would count the difference, not the file. */
		snprintf(msg, sizeof(msg), "applying the difference: %s", err.msg);
		ctl_reply_error(srv, msg);
	} else {
		espgw_store_diff_adopt(srv->store, t);
		srv->st.commits++;
		reply_sum(srv, &sum, n);
	}
	espgw_store_diff_free(q, n);
}

void
ctl_reload_commit(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	struct espgw_err err = {{0}};
	struct espgw_store t;
	unsigned int bad;

	espgw_store_init(&t);
	bad = target_load(&t, c, &err);
	if (bad != 0)
		cmd_error(srv, c, bad, err.msg);
	else
		apply_diff(srv, c, &t);
	espgw_store_fini(&t);
	ctl_txn_clear(srv, c);
}
