/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command dispatch and the loaders. A command is "OBJECT VERB ..." (or
 * "set KEY VALUE"); the table maps the first two tokens to a parse function.
 * The loaders run each command through the parser and the store in order and
 * report every failure as FILE:LINE, then go on: one run shows all mistakes.
 * Buffers that held key text are wiped after each command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_int.h"

struct conf_cmd {
	const char *obj;
	const char *verb;
	espgw_conf_cmd_fn fn;
};

static const struct conf_cmd cmds[] = {
		{"port", "add", espgw_conf_port_add},
		{"crypto", "add", espgw_conf_crypto_add},
		{"sa", "add", espgw_conf_sa_add},
		{"sa", "del", espgw_conf_sa_del},
		{"sa", "declare", espgw_conf_sa_declare},
		{"sa", "update", espgw_conf_sa_update},
		{"sp", "add", espgw_conf_sp_add},
		{"sp", "del", espgw_conf_sp_del},
		{"sp", "set", espgw_conf_sp_set},
		{"route", "add", espgw_conf_route_add},
		{"route", "del", espgw_conf_route_del},
		{"neighbor", "add", espgw_conf_neigh_add},
		{"neighbor", "del", espgw_conf_neigh_del},
		{"set", "crypto-path", espgw_conf_set_crypto_path},
		{"set", "burst", espgw_conf_set_burst},
		{"set", "nat-keepalive", espgw_conf_set_nat_keepalive},
		{"set", "max-sa", espgw_conf_set_max_sa},
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

#define STR_(x) #x
#define STR(x)	STR_(x)

/* The verbs of obj as "a|b", for messages. */
static void
verbs_of(const char *obj, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < N_CMDS && len < size; i++)
		if (strcmp(cmds[i].obj, obj) == 0)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "|" : "",
					cmds[i].verb);
}

static const struct conf_cmd *
cmd_find(int argc, char *const argv[], struct espgw_err *err)
{
	char verbs[96];
	unsigned int i;

	verbs_of(argv[0], verbs, sizeof(verbs));
	if (verbs[0] == '\0') {
		espgw_err_set(err, "unknown command '%.40s'", espgw_conf_show(argv[0]));
		return NULL;
	}
	if (argc < 2) {
		espgw_err_set(err, "incomplete command '%s' (expected %s)", argv[0], verbs);
		return NULL;
	}
	for (i = 0; i < N_CMDS; i++)
		if (strcmp(cmds[i].obj, argv[0]) == 0 && strcmp(cmds[i].verb, argv[1]) == 0)
			return &cmds[i];
	espgw_err_set(err, "unknown command '%s %.40s' (expected %s)", argv[0],
			espgw_conf_show(argv[1]), verbs);
	return NULL;
}

int
espgw_conf_parse_cmd(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	const struct conf_cmd *c;

	if (argc < 1)
		return espgw_err_set(err, "empty command");
	c = cmd_find(argc, argv, err);
	if (c == NULL)
		return -1;
	return c->fn(argc - 2, argv + 2, req, err);
}

int
espgw_conf_split_line(const char *text, char *buf, size_t size, char *argv[], int max,
		struct espgw_err *err)
{
	struct espgw_conf_lex lx;
	unsigned int line;
	int len, argc;

	espgw_conf_lex_init(&lx, text);
	len = espgw_conf_lex_next(&lx, buf, size, &line);
	if (len < 0)
		return espgw_err_set(
				err, "command too long (max %d characters)", ESPGW_CONF_TEXT_MAX);
	if (len == 0)
		return 0;
	argc = espgw_conf_lex_split(buf, argv, max);
	if (argc < 0)
		return espgw_err_set(err, "too many words (max %d)", max);
	return argc;
}

struct loader {
	const char *fname;
	FILE *errs;
	int n_err;
};

static void
report(struct loader *ld, unsigned int line, const char *msg)
{
	ld->n_err++;
	if (ld->errs != NULL)
		fprintf(ld->errs, "%s:%u: %s\n", ld->fname, line, msg);
}

/* Objects whose setup can fail later (device, algorithm) remember their line for FILE:LINE. */
static void
req_line_set(struct espgw_req *req, unsigned int line)
{
	if (req->type == ESPGW_REQ_PORT_ADD)
		req->port.line = line;
	else if (req->type == ESPGW_REQ_SA_ADD)
		req->sa.line = line;
	else if (req->type == ESPGW_REQ_CRYPTO_ADD)
		req->crypto.line = line;
}

static void
load_cmd(struct loader *ld, struct espgw_store *s, char *buf, unsigned int line)
{
	char *argv[ESPGW_CONF_ARGS_MAX];
	struct espgw_req req;
	struct espgw_err err;
	int argc = espgw_conf_lex_split(buf, argv, ESPGW_CONF_ARGS_MAX);

	if (argc < 0) {
		snprintf(err.msg, sizeof(err.msg), "too many words (max %d)", ESPGW_CONF_ARGS_MAX);
		report(ld, line, err.msg);
		return;
	}
	if (espgw_conf_parse_cmd(argc, argv, &req, &err) < 0) {
		report(ld, line, err.msg);
	} else {
		req_line_set(&req, line);
		if (espgw_store_apply(s, &req, &err) < 0)
			report(ld, line, err.msg);
	}
	explicit_bzero(&req, sizeof(req));
}

int
espgw_conf_load_string(const char *fname, const char *text, struct espgw_store *s, FILE *errs)
{
	struct loader ld = {.fname = fname, .errs = errs};
	struct espgw_conf_lex lx;
	char buf[ESPGW_CONF_LINE_MAX];
	unsigned int line = 0;
	int len;

	espgw_conf_lex_init(&lx, text);
	while ((len = espgw_conf_lex_next(&lx, buf, sizeof(buf), &line)) != 0) {
		if (len < 0)
			report(&ld, line,
					"command too long (max " STR(
							ESPGW_CONF_TEXT_MAX) " characters)");
		else
			load_cmd(&ld, s, buf, line);
		explicit_bzero(buf, sizeof(buf));
		if (ld.n_err >= ESPGW_CONF_ERR_MAX) {
			if (errs != NULL)
				fprintf(errs, "%s: too many errors, stopping\n", fname);
			break;
		}
	}
	return ld.n_err;
}

/*
 * Whole file into a NUL-terminated buffer, with read(2): stdio would keep a
 * copy of the text (keys) in a buffer it frees unwiped. Grows by
 * copy-and-wipe, not realloc, for the same reason. Returns NULL with errno set.
 */
static char *
read_all(int fd, size_t *len)
{
	size_t cap = 4096;
	char *buf = malloc(cap), *nb;
	ssize_t n = 1;

	*len = 0;
	while (buf != NULL && n > 0) {
		n = read(fd, buf + *len, cap - *len - 1);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n > 0)
			*len += (size_t)n;
		if (n <= 0 || *len < cap - 1)
			continue;
		nb = malloc(cap * 2);
		if (nb != NULL)
			memcpy(nb, buf, *len);
		explicit_bzero(buf, cap);
		free(buf);
		buf = nb;
		cap *= 2;
	}
	if (buf != NULL && n < 0) {
		explicit_bzero(buf, cap);
		free(buf);
		return NULL;
	}
	if (buf != NULL)
		buf[*len] = '\0';
	return buf;
}

static int
file_error(const char *path, const char *what, int errnum, FILE *errs)
{
	if (errs != NULL)
		fprintf(errs, "%s: %s: %s\n", path, what, strerror(errnum));
	return 1;
}

/*
 * The file holds keys: group or others able to read it is worth a warning,
 * or an error when the operator asked for strictness. Checked on the open
 * file, so that it is the mode of the file actually read. Returns the errors.
 */
static int
perms_check(int fd, const char *path, enum espgw_conf_perms perms, FILE *errs)
{
	struct stat st;

	if (perms == ESPGW_CONF_PERMS_IGNORE || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
			(st.st_mode & (S_IRGRP | S_IROTH)) == 0)
		return 0;
	if (errs != NULL)
		fprintf(errs, "%s: %sreadable by group/others; it holds keys (chmod 600)\n", path,
				perms == ESPGW_CONF_PERMS_STRICT ? "" : "warning: ");
	return perms == ESPGW_CONF_PERMS_STRICT;
}

static int
load_text(const char *path, const char *text, size_t len, struct espgw_store *s, FILE *errs)
{
	if (strlen(text) == len)
		return espgw_conf_load_string(path, text, s, errs);
	if (errs != NULL)
		fprintf(errs, "%s: contains a NUL byte (not a text file)\n", path);
	return 1;
}

int
espgw_conf_load_file_perms(
		const char *path, struct espgw_store *s, FILE *errs, enum espgw_conf_perms perms)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len;
	char *text;
	int n;

	if (fd < 0)
		return file_error(path, "cannot open", errno, errs);
	n = perms_check(fd, path, perms, errs);
	errno = 0;
	text = read_all(fd, &len);
	close(fd);
	if (text == NULL)
		return n + file_error(path, "cannot read", errno ? errno : EIO, errs);
	n += load_text(path, text, len, s, errs);
	explicit_bzero(text, len);
	free(text);
	return n;
}

int
espgw_conf_load_file(const char *path, struct espgw_store *s, FILE *errs)
{
	return espgw_conf_load_file_perms(path, s, errs, ESPGW_CONF_PERMS_IGNORE);
}
