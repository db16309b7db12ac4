/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration language: one command per line, the same commands the
 * control tool accepts ("port add ...", "sa add ...", "sp add ..."). The parser
 * turns a command into a struct espgw_req and never touches tables itself;
 * the loaders hand each request to espgw_store_apply() in file order, so a
 * reference must come after what it names, as in a CLI session.
 */
#ifndef ESPGW_CONF_H
#define ESPGW_CONF_H

#include <stdio.h>

#include "espgw_req.h"
#include "espgw_store.h"

#define ESPGW_CONF_LINE_MAX 4096 /* buffer for one command, continuations joined */
#define ESPGW_CONF_TEXT_MAX 4094 /* its longest text (a blank is kept per joined line) */
#define ESPGW_CONF_ARGS_MAX 128	 /* tokens in one command */
#define ESPGW_CONF_ERR_MAX  100	 /* a loader stops after this many errors */

/*
 * Parse one command already split into tokens. 0, or -1 with err set.
 * req may hold keys afterwards: the caller wipes it (and the tokens) when done.
 */
int espgw_conf_parse_cmd(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);

/*
 * One request of the control socket: the first command of text (comments
 * removed, continuations joined) split in place in buf into argv. Returns
 * the word count (0: no command), or -1 with err set.
 */
int espgw_conf_split_line(const char *text, char *buf, size_t size, char *argv[], int max,
		struct espgw_err *err);

/*
 * Parse a file and apply each command to the store in order; every problem is
 * printed to errs (when not NULL) as "FILE:LINE: message\n" and loading goes on
 * with the next command (at most ESPGW_CONF_ERR_MAX errors). Returns the
 * number of errors (0 = valid). A missing or unreadable file is one error
 * "FILE: cannot open: <strerror>".
 */
int espgw_conf_load_file(const char *path, struct espgw_store *s, FILE *errs);

/* What the loader does when group or others can read the file (it holds keys). */
enum espgw_conf_perms {
	ESPGW_CONF_PERMS_IGNORE,
	ESPGW_CONF_PERMS_WARN,	 /* "FILE: warning: readable by group/others; ..." */
	ESPGW_CONF_PERMS_STRICT, /* the same without "warning: ", counted as an error */
};
/* espgw_conf_load_file, and first the check of the file's mode. */
int espgw_conf_load_file_perms(
		const char *path, struct espgw_store *s, FILE *errs, enum espgw_conf_perms perms);

/* Same, from a string; fname is used in messages. */
int espgw_conf_load_string(const char *fname, const char *text, struct espgw_store *s, FILE *errs);

#endif
