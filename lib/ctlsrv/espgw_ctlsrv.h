/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket (README "Control socket"): a unix stream socket served
 * by the control lcore without blocking (non-blocking sockets, polled), one
 * request per line in the configuration language, one JSON line per reply.
 * Requests are parsed and checked by exactly the code of "espgw --check"
 * (lib/conf, the store); a transaction (begin ... commit) is applied to the
 * store as a whole or not at all, then the gateway brings the data path in
 * line (ops->prepare), and all changes of one poll reach the workers in one
 * publication (ops->publish): a change's reply, and every reply after it on
 * that connection, is sent once the change is in the data path. Pure C: no
 * DPDK, so that it is unit-tested without EAL.
 *
 * Protocol version 1:
 *   hello                       {"ok":true,"api":1,"version":"espgw X.Y.Z"}
 *   begin | commit | abort      {"ok":true[,"applied":N]}
 *   CONFIG COMMAND              {"ok":true} ({"ok":true,"queued":N} in a transaction)
 *   show KIND [NAME]            {"ok":true,"KIND":[...]} (ops->show)
 *   stats clear                 {"ok":true}
 *   monitor                     {"ok":true,"monitor":true}, then events, one per line
 *   failures                    {"ok":false,"error":"TEXT"}
 */
#ifndef ESPGW_CTLSRV_H
#define ESPGW_CTLSRV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "espgw_json.h"
#include "espgw_store.h"

#define ESPGW_CTL_API	      1
#define ESPGW_CTL_SOCKET      "/run/espgw/espgw.sock"
#define ESPGW_CTL_REQ_MAX     4096	 /* bytes in one request line, newline included */
#define ESPGW_CTL_CLIENTS_MAX 64	 /* connections at once */
#define ESPGW_CTL_OUT_MAX     (1u << 20) /* unsent reply bytes before a client is dropped */
#define ESPGW_CTL_TXN_MAX     100000	 /* commands in one transaction */
#define ESPGW_CTL_QUEUED_MAX  200000	 /* commands queued in all open transactions */
#define ESPGW_CTL_POLL_REQ    4096	 /* requests answered per poll (then the rest waits) */
#define ESPGW_CTL_BATCH_NS    250000000u /* longest a publication waits for more changes */

/* What the gateway does for the server. arg is ops->arg. */
struct espgw_ctlsrv_ops {
	void *arg;
	/* May this request change a running gateway? 0, or -1 with err. */
	int (*allowed)(void *arg, const struct espgw_req *req, struct espgw_err *err);
	/*
	 * A transaction was applied to the store: bring the SAs in line (new
	 * ones into service, deleted ones out). 0, or -1 with err: the server
	 * rolls the transaction back and calls prepare again.
	 */
	int (*prepare)(void *arg, struct espgw_err *err);
	/*
	 * Once per poll after changes: publish them to the workers as one
	 * version. 0, or -1 with err: the server tries again at the next poll
	 * (the workers keep the old version meanwhile).
	 */
	int (*publish)(void *arg, struct espgw_err *err);
	/* Append ,"KIND":... to j for "show KIND [NAME]"; 0, or -1 with err. */
	int (*show)(void *arg, const char *kind, const char *name, struct espgw_json *j,
			struct espgw_err *err);
	void (*stats_clear)(void *arg);
	/*
	 * "capture ...": append ,"capture":{...} to j; 0, or -1 with err. NULL:
	 * refused. fd: the open file the client passed with the request (-1:
	 * none); the callee owns it, kept or closed.
	 */
	int (*capture)(void *arg, int argc, char *argv[], int fd, struct espgw_json *j,
			struct espgw_err *err);
	/* Around every change of the store: readers on other threads wait. */
	void (*lock)(void *arg);
	void (*unlock)(void *arg);
};

struct espgw_ctlsrv_conf {
	const char *path;  /* socket path; its directory is created 0750 when missing */
	const char *group; /* group allowed besides root; NULL: root only */
	const char *version;
};

/* Counted refusals and disconnections (show stats, README). */
#define ESPGW_CTLSRV_COUNTERS(X)                                                        \
	X(accepted, "connections accepted")                                             \
	X(refused_cred, "refused: neither root nor in the control group (SO_PEERCRED)") \
	X(refused_full, "refused: 64 clients already connected")                        \
	X(too_long, "disconnected: a request over 4096 bytes")                          \
	X(slow_reader, "disconnected: over 1 MiB of replies or events unread")          \
	X(requests, "requests answered")                                                \
	X(errors, "requests refused with an error")                                     \
	X(bad_bytes, "requests with NUL or other control bytes")                        \
	X(commits, "changes applied (single commands and transactions)")                \
	X(rollbacks, "transactions rolled back")                                        \
	X(publications, "versions published to the workers")                            \
	X(publish_failed, "publications that failed (tried again at the next poll)")

struct espgw_ctlsrv_stats {
#define X(n, d) uint64_t n;
	ESPGW_CTLSRV_COUNTERS(X)
#undef X
};

struct espgw_ctlsrv;

/*
 * Listen on conf->path (an old socket file nobody serves is replaced; one
 * that another process serves is an error). store: the live store every
 * change is applied to. NULL with err set on failure.
 */
struct espgw_ctlsrv *espgw_ctlsrv_create(const struct espgw_ctlsrv_conf *conf,
		struct espgw_store *store, const struct espgw_ctlsrv_ops *ops,
		struct espgw_err *err);
/*
 * Accept, read, answer, write, as far as possible without blocking; returns
 * non-zero when there was anything to do (requests, connections, changes
 * whose publication waits for more: the caller polls again at once; a
 * publication that failed is tried again after the caller's idle wait).
 */
unsigned int espgw_ctlsrv_poll(struct espgw_ctlsrv *srv);
/* Block until a client connects or sends something, at most ms milliseconds. */
void espgw_ctlsrv_wait(struct espgw_ctlsrv *srv, int ms);
/* One event (a JSON object without its newline) to every monitor client. */
void espgw_ctlsrv_event(struct espgw_ctlsrv *srv, const char *json);
const struct espgw_ctlsrv_stats *espgw_ctlsrv_stats(const struct espgw_ctlsrv *srv);
unsigned int espgw_ctlsrv_clients(const struct espgw_ctlsrv *srv);
/* Close every connection and the socket, remove the socket file. */
void espgw_ctlsrv_free(struct espgw_ctlsrv *srv);

#endif
