/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command dispatch and the loaders. A command is "OBJECT VERB ..." (or
 * "set KEY VALUE"); the table maps the first two tokens to a parse function.
 * The loaders run each command through the parser and the store in order and
 * report every failure as FILE:LINE, then go on: one run shows all mistakes.
 * Buffers that held key text are wiped after each command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		{"sp", "add", espgw_conf_sp_add},
		{"route", "add", espgw_conf_route_add},
		{"neighbor", "add", espgw_conf_neigh_add},
		{"set", "crypto-path", espgw_conf_set_crypto_path},
		{"set", "burst", espgw_conf_set_burst},
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
		espgw_conf_fail(err, "unknown command '%.40s'", espgw_conf_show(argv[0]));
		return NULL;
	}
	if (argc < 2) {
		espgw_conf_fail(err, "incomplete command '%s' (expected %s)", argv[0], verbs);
		return NULL;
	}
	for (i = 0; i < N_CMDS; i++)
		if (strcmp(cmds[i].obj, argv[0]) == 0 && strcmp(cmds[i].verb, argv[1]) == 0)
			return &cmds[i];
	espgw_conf_fail(err, "unknown command '%s %.40s' (expected %s)", argv[0],
			espgw_conf_show(argv[1]), verbs);
	return NULL;
}

int
espgw_conf_parse_cmd(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	const struct conf_cmd *c;

	if (argc < 1)
		return espgw_conf_fail(err, "empty command");
	c = cmd_find(argc, argv, err);
	if (c == NULL)
		return -1;
	return c->fn(argc - 2, argv + 2, req, err);
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
	if (espgw_conf_parse_cmd(argc, argv, &req, &err) < 0 ||
			espgw_store_apply(s, &req, &err) < 0)
		report(ld, line, err.msg);
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
 * Whole file into a NUL-terminated buffer. Grows by copy-and-wipe, not realloc:
 * the text holds keys. Returns NULL with errno set.
 */
static char *
read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n;
	char *buf = malloc(cap), *nb;

	*len = 0;
	while (buf != NULL) {
		n = fread(buf + *len, 1, cap - *len - 1, f);
		*len += n;
		if (*len < cap - 1)
			break;
		nb = malloc(cap * 2);
		if (nb != NULL)
			memcpy(nb, buf, *len);
		explicit_bzero(buf, cap);
		free(buf);
		buf = nb;
		cap *= 2;
	}
	if (buf != NULL && ferror(f)) {
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

int
espgw_conf_load_file(const char *path, struct espgw_store *s, FILE *errs)
{
	FILE *f = fopen(path, "r");
	size_t len;
	char *text;
	int n;

	if (f == NULL)
		return file_error(path, "cannot open", errno, errs);
	errno = 0;
	text = read_all(f, &len);
	fclose(f);
	if (text == NULL)
		return file_error(path, "cannot read", errno ? errno : EIO, errs);
	if (strlen(text) != len) {
		n = 1;
		if (errs != NULL)
			fprintf(errs, "%s: contains a NUL byte (not a text file)\n", path);
	} else {
		n = espgw_conf_load_string(path, text, s, errs);
	}
	explicit_bzero(text, len);
	free(text);
	return n;
}
