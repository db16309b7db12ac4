/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lexer of the configuration language: physical lines -> commands.
 * '#' starts a comment that runs to the end of the line; a '\' that ends a
 * line (after the comment is removed) joins the next line; blank commands are
 * skipped. A command is reported at the line of its first token.
 */
#include <ctype.h>
#include <string.h>

#include "conf_int.h"

#define BLANKS " \t\r\n\v\f"

void
espgw_conf_lex_init(struct espgw_conf_lex *lx, const char *text)
{
	lx->p = text;
	lx->line = 1;
}

/*
 * One physical line starting at p: its content is [p, *end) without comment,
 * trailing blanks and continuation mark. Returns the start of the next line.
 */
static const char *
phys_line(const char *p, const char **end, bool *cont)
{
	const char *eol = p + strcspn(p, "\n");
	const char *hash = memchr(p, '#', (size_t)(eol - p));
	const char *e = hash != NULL ? hash : eol;

	while (e > p && isspace((unsigned char)e[-1]))
		e--;
	*cont = e > p && e[-1] == '\\';
	if (*cont)
		e--;
	*end = e;
	return *eol == '\n' ? eol + 1 : eol;
}

static bool
has_token(const char *p, const char *end)
{
	for (; p < end; p++)
		if (!isspace((unsigned char)*p))
			return true;
	return false;
}

/* Append [p, end) and a separating blank. Returns -1 when it does not fit. */
static int
append(char *buf, size_t size, size_t *len, const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	if (*len + n + 2 > size)
		return -1;
	memcpy(buf + *len, p, n);
	*len += n;
	buf[(*len)++] = ' ';
	buf[*len] = '\0';
	return 0;
}

int
espgw_conf_lex_next(struct espgw_conf_lex *lx, char *buf, size_t size, unsigned int *first)
{
	bool started = false, over = false, cont;
	const char *seg, *end;
	size_t len = 0;

	buf[0] = '\0';
	while (*lx->p != '\0') {
		seg = lx->p;
		lx->p = phys_line(seg, &end, &cont);
		if (!started && has_token(seg, end)) {
			started = true;
			*first = lx->line;
		}
		lx->line++;
		if (started && !over && append(buf, size, &len, seg, end) < 0)
			over = true;
		if (started && !cont)
			break;
	}
	if (!started)
		return 0;
	return over ? -1 : (int)len;
}

int
espgw_conf_lex_split(char *buf, char *argv[], int max)
{
	char *save = NULL, *tok;
	int argc = 0;

	for (tok = strtok_r(buf, BLANKS, &save); tok != NULL; tok = strtok_r(NULL, BLANKS, &save)) {
		if (argc == max)
			return -1;
		argv[argc++] = tok;
	}
	return argc;
}
