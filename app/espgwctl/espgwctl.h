/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * espgwctl: the control-socket client of espgw. It speaks protocol version 1:
 * one request line in, one JSON object line out, in order; "monitor" turns
 * the connection into a stream of event lines. No DPDK here.
 */
#ifndef ESPGWCTL_H
#define ESPGWCTL_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "json.h"

#define CTL_SOCKET_DEFAULT "/run/espgw/espgw.sock"
#define CTL_SOCKET_ENV	   "ESPGW_CTL_SOCKET"
#define CTL_REQUEST_MAX	   4095	       /* bytes of one request, without its newline */
#define CTL_REPLY_MAX	   (64u << 20) /* a longer line is no reply of espgw's */
#define CTL_TIMEOUT_MS	   10000       /* per reply, except for monitor events */

/* Exit statuses, in the documented meaning. */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_CONN = 1,    /* no connection, no reply, or a reply that is no JSON */
	CTL_EXIT_REFUSED = 2, /* the server said no, or the command line is wrong */
};

/* client.c: one connection and its receive buffer. */
struct ctl_conn {
	int fd;
	const char *path; /* for messages */
	char *buf;	  /* received bytes; a returned line starts at buf */
	size_t len;	  /* bytes in buf */
	size_t cap;	  /* allocated bytes of buf */
	size_t done;	  /* bytes of the line returned last, dropped on the next read */
	bool quiet;	  /* report nothing: the outcome no longer matters (abort) */
	int err;	  /* errno of the last broken send */
	int pass_fd;	  /* an open file sent with the next request (-1: none) */
	/* Signal mask while waiting (ppoll), NULL: unchanged. See monitor.c. */
	const sigset_t *wait_mask;
};

enum ctl_recv_rc {
	CTL_RECV_LINE, /* *line holds one line, newline replaced by NUL */
	CTL_RECV_EOF,  /* the server closed (a partial last line is dropped) */
	CTL_RECV_INTR, /* a signal arrived while waiting without a timeout */
	CTL_RECV_ERR,  /* timeout or I/O error, already reported on stderr */
};

/* One parsed reply: json holds the object, ok its "ok", error its "error". */
struct ctl_reply {
	char *line; /* the reply as received, valid until the next read */
	struct json json;
	bool ok;
	const char *error; /* when !ok */
};

/* 0, or CTL_EXIT_CONN with "cannot connect to PATH: ..." printed. */
int ctl_connect(struct ctl_conn *c, const char *path);
void ctl_close(struct ctl_conn *c);
/*
 * Send line (no newline in it) and a newline, with c->pass_fd if set. 0, or
 * CTL_EXIT_CONN reported.
 */
int ctl_send(struct ctl_conn *c, const char *line);
/* Wait up to timeout_ms (-1: forever) for the next line; *len is its length. */
enum ctl_recv_rc ctl_recv(struct ctl_conn *c, int timeout_ms, char **line, size_t *len);
/*
 * The next reply, parsed: 0 (then look at r->ok), or CTL_EXIT_CONN reported
 * (closed, timed out, malformed). json_free(&r->json) when done.
 */
int ctl_reply(struct ctl_conn *c, struct ctl_reply *r);
/* ctl_send, then ctl_reply. */
int ctl_call(struct ctl_conn *c, const char *line, struct ctl_reply *r);
/* Parse one line into r: 0, or CTL_EXIT_CONN ("malformed reply" reported). */
int ctl_reply_parse(char *line, size_t len, struct ctl_reply *r);
/* Report a reply that is not what protocol version 1 allows; CTL_EXIT_CONN. */
int ctl_malformed(void);

/* capture.c: "capture PORT|SA FILE ...", FILE created here and passed open. */
bool ctl_capture_starts(int argc, char *const argv[]);
/* FILE created (0600, must not exist), its absolute name in abs: fd, or -1 reported. */
int ctl_capture_create(const char *path, char abs[PATH_MAX]);
/* After the request: FILE removed if espgw did not take it (still empty); fd closed. */
void ctl_capture_done(int fd, const char *path);

/* table.c: human output. -1 when the payload has an unexpected shape. */
int ctl_print_show(FILE *out, const struct json *reply);
/* "key: value" lines for every member but "ok"; nested objects indented. */
void ctl_print_fields(FILE *out, const struct json *reply);
void ctl_print_event(FILE *out, const struct json *event);

/*
 * file.c: -f FILE as one transaction, or with reload the config file whose
 * difference from the running one espgw applies. Returns the exit status.
 */
int ctl_file_run(const char *sock, const char *path, bool json, bool reload);

/* monitor.c: the event stream until the server closes or SIGINT. */
int ctl_monitor_run(const char *sock, bool json);

/* Allocation failures end the tool: there is nothing sensible to print instead. */
static inline _Noreturn void
ctl_oom(void)
{
	fputs("espgwctl: out of memory\n", stderr);
	exit(CTL_EXIT_CONN);
}

static inline void *
ctl_realloc(void *p, size_t n)
{
	p = realloc(p, n != 0 ? n : 1); /* realloc(p, 0) may free p and return NULL */
	if (p == NULL)
		ctl_oom();
	return p;
}

#endif
