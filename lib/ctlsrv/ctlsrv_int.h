/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ctlsrv internals: the listening socket and peer credentials
 * (socket.c), connections and their buffers (server.c), what a request does
 * (request.c), transactions (txn.c).
 */
#ifndef ESPGW_CTLSRV_INT_H
#define ESPGW_CTLSRV_INT_H

#include <sys/types.h>

#include "espgw_ctlsrv.h"

struct ctl_client {
	int fd;
	bool closing; /* answer what is queued, then close */
	bool monitor; /* receives events */
	bool in_txn;  /* between begin and commit/abort */
	bool reload;  /* the transaction is a whole config file (reload.c) */
	/* The last open file the client passed (SCM_RIGHTS), for "capture"; -1: none. */
	int passed_fd;
	char in[ESPGW_CTL_REQ_MAX];
	size_t in_len;
	struct espgw_json out; /* replies and events not yet written */
	size_t out_off;	       /* bytes of out already written */
	/* out from here on waits for the publication of a change (SIZE_MAX: none). */
	size_t held_from;
	struct espgw_req *txn; /* queued commands (they may hold keys: wiped) */
	unsigned int n_txn, cap_txn;
};

struct espgw_ctlsrv {
	int fd;
	char path[108]; /* sun_path */
	gid_t gid;	/* the control group; root only when group was NULL */
	bool has_group;
	const char *version;
	struct espgw_store *store;
	struct espgw_ctlsrv_ops ops;
	struct ctl_client *client[ESPGW_CTL_CLIENTS_MAX];
	unsigned int n_clients;
	struct espgw_json reply;   /* the reply being built */
	bool changed;		   /* the request just answered changed the store */
	bool dirty;		   /* changes not yet published */
	bool more;		   /* a client had more input than this poll took */
	uint64_t dirty_ns;	   /* since when (CLOCK_MONOTONIC); 0 when clean */
	uint64_t publish_ns;	   /* what the last publication took */
	uint64_t retry_ns;	   /* after a failed publication: not before then */
	unsigned int fail_streak;  /* publications failed in a row */
	unsigned int budget;	   /* requests this poll may still answer */
	unsigned int next;	   /* the client served first in the next poll (fairness) */
	unsigned int queued;	   /* commands in all open transactions */
	struct ctl_spi_held *held; /* SPIs handed out by "sa alloc-spi" (spi.c) */
	unsigned int n_held;
	struct espgw_ctlsrv_stats st;
};

/* socket.c */
int ctl_socket_open(struct espgw_ctlsrv *srv, const struct espgw_ctlsrv_conf *conf,
		struct espgw_err *err);
void ctl_socket_close(struct espgw_ctlsrv *srv);
/* May the peer of fd use the socket (SO_PEERCRED: root or the group)? */
bool ctl_peer_allowed(const struct espgw_ctlsrv *srv, int fd);

/* request.c: answer one request line (NUL-terminated, no newline) into srv->reply. */
void ctl_request(struct espgw_ctlsrv *srv, struct ctl_client *c, char *line);
/* Reply helpers: srv->reply gets one complete JSON line. */
void ctl_reply_ok(struct espgw_ctlsrv *srv);
void ctl_reply_error(struct espgw_ctlsrv *srv, const char *msg);

/* spi.c: "sa alloc-spi [range N-M]". */
struct ctl_spi_held {
	uint32_t spi;
	uint64_t until_ms;
};
void ctl_spi_alloc(struct espgw_ctlsrv *srv, int argc, char *argv[]);

/* txn.c */
void ctl_txn_begin(struct espgw_ctlsrv *srv, struct ctl_client *c);
void ctl_txn_queue(struct espgw_ctlsrv *srv, struct ctl_client *c, const struct espgw_req *req);
void ctl_txn_commit(struct espgw_ctlsrv *srv, struct ctl_client *c);
void ctl_txn_abort(struct espgw_ctlsrv *srv, struct ctl_client *c);
/* A single command outside a transaction: a transaction of one. */
void ctl_txn_apply_one(struct espgw_ctlsrv *srv, const struct espgw_req *req);
/* The queued commands wiped and freed. */
void ctl_txn_clear(struct espgw_ctlsrv *srv, struct ctl_client *c);
/* Apply and publish q as one transaction; 0, or -1 with err and nothing changed. */
int ctl_txn_run(struct espgw_ctlsrv *srv, const struct espgw_req *q, unsigned int n,
		struct espgw_err *err);
const char *ctl_req_name(enum espgw_req_type type);

/* reload.c: "reload" opens a transaction of a whole config file; commit applies the difference. */
void ctl_reload_begin(struct espgw_ctlsrv *srv, struct ctl_client *c);
void ctl_reload_commit(struct espgw_ctlsrv *srv, struct ctl_client *c);

#endif
