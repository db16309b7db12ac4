/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transactions: "begin", commands queued (parsed and allowed, not yet
 * applied), "commit" applies them in order to the store under its undo log
 * (lib/ctl store_journal.c). The first failure rolls the store back to where
 * the transaction started and names the command; success hands the changed
 * store to the gateway (ops->prepare: SAs in and out of service). If that
 * fails, the store is rolled back and prepared again, so the data path and
 * the store never disagree. The server publishes the changes of a poll
 * together (server.c). Loading the config file at start is all or nothing
 * too (any error: nothing started).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlsrv_int.h"
#include "espgw_log.h"

static const char *const req_names[] = {
		[ESPGW_REQ_PORT_ADD] = "port add",
		[ESPGW_REQ_SA_ADD] = "sa add",
		[ESPGW_REQ_SA_DEL] = "sa del",
		[ESPGW_REQ_SA_DECLARE] = "sa declare",
		[ESPGW_REQ_SA_UPDATE] = "sa update",
		[ESPGW_REQ_SP_ADD] = "sp add",
		[ESPGW_REQ_SP_DEL] = "sp del",
		[ESPGW_REQ_SP_SET] = "sp set",
		[ESPGW_REQ_ROUTE_ADD] = "route add",
		[ESPGW_REQ_ROUTE_DEL] = "route del",
		[ESPGW_REQ_NEIGH_ADD] = "neighbor add",
		[ESPGW_REQ_NEIGH_DEL] = "neighbor del",
		[ESPGW_REQ_CRYPTO_ADD] = "crypto add",
		[ESPGW_REQ_SET_CRYPTO_PATH] = "set crypto-path",
		[ESPGW_REQ_SET_BURST] = "set burst",
		[ESPGW_REQ_SET_MAX_SA] = "set max-sa",
		[ESPGW_REQ_SET_NAT_KEEPALIVE] = "set nat-keepalive",
};

void
ctl_txn_clear(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	srv->queued -= c->n_txn;
	if (c->txn != NULL) {
		explicit_bzero(c->txn, c->cap_txn * sizeof(*c->txn));
		free(c->txn);
	}
	c->txn = NULL;
	c->n_txn = c->cap_txn = 0;
	c->in_txn = false;
	c->reload = false;
}

const char *
ctl_req_name(enum espgw_req_type type)
{
	return req_names[type];
}

void
ctl_txn_begin(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	if (c->in_txn)
		return ctl_reply_error(srv, "a transaction is already open (commit or abort it)");
	c->in_txn = true;
	ctl_reply_ok(srv);
}

/* Grown by copy-and-wipe: queued requests may hold keys. */
static bool
txn_room(struct ctl_client *c)
{
	unsigned int cap = c->cap_txn ? 2 * c->cap_txn : 16;
	struct espgw_req *q;

	if (c->n_txn < c->cap_txn)
		return true;
	q = calloc(cap, sizeof(*q));
	if (q == NULL)
		return false;
	if (c->txn != NULL) {
		memcpy(q, c->txn, c->n_txn * sizeof(*q));
		explicit_bzero(c->txn, c->cap_txn * sizeof(*q));
		free(c->txn);
	}
	c->txn = q;
	c->cap_txn = cap;
	return true;
}

void
ctl_txn_queue(struct espgw_ctlsrv *srv, struct ctl_client *c, const struct espgw_req *req)
{
	if (c->n_txn == ESPGW_CTL_TXN_MAX)
		return ctl_reply_error(srv, "transaction too long (100000 commands)");
	if (srv->queued == ESPGW_CTL_QUEUED_MAX)
		return ctl_reply_error(srv, "too many commands queued in open transactions "
					    "(200000): commit or abort");
	if (!txn_room(c))
		return ctl_reply_error(srv, "out of memory");
	c->txn[c->n_txn++] = *req;
	srv->queued++;
	espgw_json_fmt(&srv->reply, "{\"ok\":true,\"queued\":%u}\n", c->n_txn);
}

/* Apply n requests; 0, or the 1-based number of the one that failed (err set). */
static unsigned int
apply_all(struct espgw_ctlsrv *srv, const struct espgw_req *q, unsigned int n,
		struct espgw_err *err)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (espgw_store_apply(srv->store, &q[i], err) < 0)
			return i + 1;
	return 0;
}

/* The store back to mark, and the data path's SAs back in line with it. */
static void
undo(struct espgw_ctlsrv *srv, unsigned int mark)
{
	struct espgw_err err2;

	espgw_store_rollback(srv->store, mark);
	if (srv->ops.prepare(srv->ops.arg, &err2) < 0)
		CTL_LOG(ERR, "after a rollback: %s", err2.msg);
	srv->st.rollbacks++;
	srv->dirty = true; /* what the failed try took in or out is released by a publication */
}

/*
 * Apply and publish; 0, or -1 with err (prefixed with the failed command
 * when there is more than one) and everything undone.
 */
int
ctl_txn_run(struct espgw_ctlsrv *srv, const struct espgw_req *q, unsigned int n,
		struct espgw_err *err)
{
	unsigned int mark, bad;
	char msg[ESPGW_ERR_MAX + 64];
	int rc = 0;

	srv->ops.lock(srv->ops.arg);
	mark = espgw_store_mark(srv->store);
	bad = apply_all(srv, q, n, err);
	if (bad != 0) {
		espgw_store_rollback(srv->store, mark);
		srv->st.rollbacks++;
		if (n > 1) {
			snprintf(msg, sizeof(msg), "command %u (%s): %s", bad,
					req_names[q[bad - 1].type], err->msg);
			snprintf(err->msg, sizeof(err->msg), "%.*s", (int)sizeof(err->msg) - 1,
					msg);
		}
		rc = -1;
	} else if (srv->ops.prepare(srv->ops.arg, err) < 0) {
		undo(srv, mark);
		rc = -1;
	} else {
		srv->changed = srv->dirty = true;
	}
	espgw_store_commit(srv->store);
	srv->ops.unlock(srv->ops.arg);
	return rc;
}

void
ctl_txn_commit(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	struct espgw_err err = {{0}};
	unsigned int n = c->n_txn;

	if (!c->in_txn)
		return ctl_reply_error(srv, "no transaction is open (begin first)");
	if (c->reload)
		return ctl_reload_commit(srv, c);
	if (ctl_txn_run(srv, c->txn, n, &err) < 0) {
		ctl_reply_error(srv, err.msg);
	} else {
		srv->st.commits++;
		espgw_json_fmt(&srv->reply, "{\"ok\":true,\"applied\":%u}\n", n);
	}
	ctl_txn_clear(srv, c);
}

void
ctl_txn_abort(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	if (!c->in_txn)
		return ctl_reply_error(srv, "no transaction is open");
	ctl_txn_clear(srv, c);
	ctl_reply_ok(srv);
}

void
ctl_txn_apply_one(struct espgw_ctlsrv *srv, const struct espgw_req *req)
{
	struct espgw_err err = {{0}};

	if (ctl_txn_run(srv, req, 1, &err) < 0)
		return ctl_reply_error(srv, err.msg);
	srv->st.commits++;
	ctl_reply_ok(srv);
}
