/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * -f FILE: the file's commands as one transaction (begin, the commands,
 * commit), so that espgw applies all of them or none. The file is lexed by
 * espgw's own lexer (lib/conf), so it means to espgwctl what it means to
 * espgw -f; all of it is read before connecting, so a local problem sends
 * nothing. Files hold keys: every copy of their text is wiped.
 *
 * reload FILE: the same, opened with "reload": espgw compares the file with
 * what runs and applies only the difference (lib/ctlsrv reload.c).
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "conf_int.h"
#include "espgwctl.h"

/*
 * Requests in flight before waiting for a reply: a round trip per command
 * would make a large file slow, and 64 replies of ~25 bytes cannot fill our
 * receive buffer, so espgw never blocks writing to us while we block writing
 * to it. This relies on a refused command leaving the transaction open, as
 * espgw does (only commit and abort end it).
 */
#define WINDOW 64

struct cmd {
	unsigned int line; /* where the command starts in the file */
	char *text;	   /* the request: tokens joined with one blank */
};

struct batch {
	const char *name; /* for messages */
	bool reload;	  /* "reload" instead of "begin": espgw applies the difference */
	struct cmd *cmds;
	size_t n;
};

/* realloc that leaves no copy of the old bytes behind. */
static char *
grow_wiped(char *old, size_t len, size_t cap)
{
	char *p = ctl_realloc(NULL, cap);

	if (old != NULL) {
		memcpy(p, old, len);
		explicit_bzero(old, len);
		free(old);
	}
	return p;
}

/* All of f, NUL-terminated (a file or a pipe: the size is not known first). */
static char *
read_all(FILE *f, size_t *len)
{
	size_t cap = 0, r;
	char *buf = NULL;

	*len = 0;
	do {
		if (cap - *len < 4096) {
			cap = cap != 0 ? 2 * cap : 65536;
			buf = grow_wiped(buf, *len, cap);
		}
		r = fread(buf + *len, 1, cap - *len - 1, f);
		*len += r;
	} while (r > 0);
	buf[*len] = '\0';
	return buf;
}

/* Blank runs to one blank, none at the ends: "joined with one blank". */
static void
squeeze(char *s)
{
	const char *r = s;
	char *w = s;

	while (*r != '\0') {
		if (!isspace((unsigned char)*r)) {
			*w++ = *r++;
			continue;
		}
		while (isspace((unsigned char)*r))
			r++;
		if (w != s && *r != '\0')
			*w++ = ' ';
	}
	*w = '\0';
}

static void
add_cmd(struct batch *b, unsigned int line, const char *text)
{
	b->cmds = ctl_realloc(b->cmds, (b->n + 1) * sizeof(*b->cmds));
	b->cmds[b->n].line = line;
	b->cmds[b->n].text = strdup(text);
	if (b->cmds[b->n++].text == NULL)
		ctl_oom();
}

/* The server's own session verbs would end or replace the transaction. */
static bool
is_session_verb(const char *cmd)
{
	static const char *const verbs[] = {"begin", "reload", "commit", "abort", "monitor"};
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(cmd, verbs[i]) == 0)
			return true;
	return false;
}

/* One command from the lexer (len < 0: too long) into b; 0, or 2 reported. */
static int
take_cmd(struct batch *b, unsigned int line, char *buf, int len)
{
	if (len < 0) {
		/* The words of espgw -f's own message for the same file. */
		fprintf(stderr, "%s:%u: command too long (max %d characters)\n", b->name, line,
				ESPGW_CONF_TEXT_MAX);
		return CTL_EXIT_REFUSED;
	}
	squeeze(buf);
	if (is_session_verb(buf)) {
		fprintf(stderr, "%s:%u: '%s' cannot be used in a file (-f is one transaction)\n",
				b->name, line, buf);
		return CTL_EXIT_REFUSED;
	}
	add_cmd(b, line, buf);
	return 0;
}

/* Every command of text into b; 0, or 2 with the first problem reported. */
static int
lex_all(struct batch *b, const char *text)
{
	char buf[ESPGW_CONF_LINE_MAX];
	struct espgw_conf_lex lx;
	unsigned int line = 0;
	int len, rc = 0;

	espgw_conf_lex_init(&lx, text);
	while (rc == 0 && (len = espgw_conf_lex_next(&lx, buf, sizeof(buf), &line)) != 0)
		rc = take_cmd(b, line, buf, len);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

static int
load(struct batch *b, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t len;
	char *text;
	int rc;

	if (f == NULL) {
		fprintf(stderr, "espgwctl: %s: cannot open: %s\n", path, strerror(errno));
		return CTL_EXIT_REFUSED;
	}
	text = read_all(f, &len);
	if (ferror(f)) {
		fprintf(stderr, "espgwctl: %s: cannot read: %s\n", b->name, strerror(errno));
		rc = CTL_EXIT_REFUSED;
	} else {
		rc = lex_all(b, text);
	}
	if (f != stdin)
		fclose(f);
	explicit_bzero(text, len);
	free(text);
	return rc;
}

static void
batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		explicit_bzero(b->cmds[i].text, strlen(b->cmds[i].text));
		free(b->cmds[i].text);
	}
	free(b->cmds);
}

/*
 * After a refused command. Best effort: the error is already reported. Wait
 * for the replies still owed (pending) and abort's, so that the abort is
 * done when we exit.
 */
static void
abort_tx(struct ctl_conn *c, size_t pending)
{
	size_t len;
	char *line;

	c->quiet = true;
	if (ctl_send(c, "abort") != 0)
		return;
	for (pending++; pending > 0; pending--)
		if (ctl_recv(c, CTL_TIMEOUT_MS, &line, &len) != CTL_RECV_LINE)
			return;
}

/* The commands, WINDOW in flight; the first refusal names its FILE:LINE. */
static int
send_cmds(struct ctl_conn *c, const struct batch *b)
{
	struct ctl_reply r;
	size_t sent = 0, done;
	int rc;

	for (done = 0; done < b->n; done++) {
		for (; sent < b->n && sent - done < WINDOW; sent++)
			if ((rc = ctl_send(c, b->cmds[sent].text)) != 0)
				return rc;
		if ((rc = ctl_reply(c, &r)) != 0)
			return rc;
		if (!r.ok) {
			fprintf(stderr, "%s:%u: %s\n", b->name, b->cmds[done].line, r.error);
			json_free(&r.json);
			abort_tx(c, sent - done - 1);
			return CTL_EXIT_REFUSED;
		}
		json_free(&r.json);
	}
	return 0;
}

/*
 * espgw names the failed command as "command K (sa add): TEXT" (K from 1, in
 * the order sent) when it applied more than one; say FILE:LINE: TEXT instead.
 */
static void
commit_error(const struct batch *b, const char *err)
{
	unsigned long k = 0;
	int off = 0;

	if (sscanf(err, "command %lu (%*[^)]): %n", &k, &off) == 1 && off > 0 && k >= 1 &&
			k <= b->n)
		fprintf(stderr, "%s:%u: %s\n", b->name, b->cmds[k - 1].line, err + off);
	else if (b->n == 1)
		fprintf(stderr, "%s:%u: %s\n", b->name, b->cmds[0].line, err);
	else
		fprintf(stderr, "%s: %s\n", b->name, err);
}

/* What a reload did, from its commit reply. */
static void
print_sum(const struct ctl_reply *r)
{
	static const char *const keys[] = {"added", "removed", "changed", "unchanged", "kept"};
	const struct json *v;
	size_t i;

	fputs("reload:", stdout);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = json_get(&r->json, keys[i]);
		printf("%s %s %s", i > 0 ? "," : "",
				v != NULL && v->type == JSON_NUMBER ? v->text : "?", keys[i]);
	}
	putchar('\n');
}

/* A refused commit ends the transaction in espgw: nothing to abort. */
static int
commit(struct ctl_conn *c, const struct batch *b, bool json)
{
	struct ctl_reply r;
	int rc = ctl_call(c, "commit", &r);

	if (rc != 0)
		return rc;
	if (!r.ok)
		commit_error(b, r.error);
	else if (json)
		printf("%s\n", r.line);
	else if (b->reload)
		print_sum(&r);
	rc = r.ok ? CTL_EXIT_OK : CTL_EXIT_REFUSED;
	json_free(&r.json);
	return rc;
}

static int
transact(struct ctl_conn *c, const struct batch *b, bool json)
{
	struct ctl_reply r;
	int rc = ctl_call(c, b->reload ? "reload" : "begin", &r);

	if (rc != 0)
		return rc;
	if (!r.ok) {
		fprintf(stderr, "espgwctl: %s\n", r.error);
		json_free(&r.json);
		return CTL_EXIT_REFUSED;
	}
	json_free(&r.json);
	rc = send_cmds(c, b);
	return rc != 0 ? rc : commit(c, b, json);
}

int
ctl_file_run(const char *sock, const char *path, bool json, bool reload)
{
	struct batch b = {.name = strcmp(path, "-") == 0 ? "<stdin>" : path, .reload = reload};
	struct ctl_conn c;
	int rc = load(&b, path);

	if (rc == 0 && (rc = ctl_connect(&c, sock)) == 0) {
		rc = transact(&c, &b, json);
		ctl_close(&c);
	}
	batch_free(&b);
	return rc;
}
