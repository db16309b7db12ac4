/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recursive-descent JSON reader (RFC 8259). Strict on purpose: a reply that
 * is not exactly JSON means the tool and the server disagree about the
 * protocol, and guessing would print wrong tables.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	const char *p;	 /* next unread character */
	const char *end; /* end of the text */
	int depth;	 /* containers open around p */
};

static int value(struct parser *ps, struct json *v);

/* RFC 8259 2: the four blanks JSON allows between tokens. */
static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
skip_blanks(struct parser *ps)
{
	while (ps->p < ps->end && is_blank(*ps->p))
		ps->p++;
}

/* Is the next character c? Then consume it (after blanks). */
static bool
eat(struct parser *ps, char c)
{
	skip_blanks(ps);
	if (ps->p < ps->end && *ps->p == c) {
		ps->p++;
		return true;
	}
	return false;
}

static int
literal(struct parser *ps, const char *word, enum json_type type, struct json *v)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return -1;
	ps->p += n;
	v->type = type;
	return 0;
}

static size_t
digits(struct parser *ps)
{
	const char *start = ps->p;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return (size_t)(ps->p - start);
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number(struct parser *ps, struct json *v)
{
	const char *start = ps->p;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0')
		ps->p++;
	else if (digits(ps) == 0)
		return -1;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (digits(ps) == 0)
			return -1;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (digits(ps) == 0)
			return -1;
	}
	v->type = JSON_NUMBER;
	v->text = strndup(start, (size_t)(ps->p - start));
	return v->text != NULL ? 0 : -1;
}

static int
hex4(const char *s)
{
	int i, c = 0;

	for (i = 0; i < 4; i++) {
		char h = s[i];

		c <<= 4;
		if (h >= '0' && h <= '9')
			c |= h - '0';
		else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
			c |= (h | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return c;
}

/* One escape after the backslash at *s; the decoded byte, or -1. */
static int
escape(const char **s, const char *end)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	int c;

	if (*s >= end)
		return -1;
	hit = memchr(from, **s, sizeof(from) - 1);
	if (hit != NULL) {
		(*s)++;
		return to[hit - from];
	}
	if (**s != 'u' || end - *s < 5 || (c = hex4(*s + 1)) < 0)
		return -1;
	*s += 5;
	/* ASCII is all espgw sends; anything else (or NUL) would not print right. */
	return c > 0 && c < 0x80 ? c : '?';
}

/* Decode [s, end) (the inside of the quotes) into out. */
static int
unescape(const char *s, const char *end, char *out)
{
	int c;

	while (s < end) {
		if ((unsigned char)*s < 0x20)
			return -1; /* RFC 8259 7: control characters must be escaped */
		if (*s != '\\') {
			*out++ = *s++;
			continue;
		}
		s++;
		if ((c = escape(&s, end)) < 0)
			return -1;
		*out++ = (char)c;
	}
	*out = '\0';
	return 0;
}

/* A string's text; the decoded form is never longer than the raw one. */
static int
string(struct parser *ps, char **out)
{
	const char *s = ++ps->p;

	/* Find the closing quote first, so that the copy is allocated once. */
	while (ps->p < ps->end && *ps->p != '"') {
		if (*ps->p == '\\' && ps->end - ps->p < 2)
			return -1;
		ps->p += *ps->p == '\\' ? 2 : 1;
	}
	if (ps->p >= ps->end)
		return -1;
	*out = malloc((size_t)(ps->p - s) + 1);
	if (*out == NULL || unescape(s, ps->p++, *out) < 0)
		return -1;
	return 0;
}

/* Room for one more member; arrays grow by doubling (full when n is 0 or 2^k). */
static int
grow(struct json *v, bool with_keys)
{
	size_t cap = v->n == 0 ? 1 : 2 * v->n;
	void *p;

	if (v->n != 0 && (v->n & (v->n - 1)) != 0)
		return 0;
	if ((p = realloc(v->items, cap * sizeof(*v->items))) == NULL)
		return -1;
	v->items = p;
	if (with_keys) {
		if ((p = realloc(v->keys, cap * sizeof(*v->keys))) == NULL)
			return -1;
		v->keys = p;
	}
	return 0;
}

/* Append an empty member (keys[n] = key when an object) and parse its value. */
static int
member(struct parser *ps, struct json *v, char *key)
{
	if (grow(v, key != NULL) < 0) {
		free(key);
		return -1;
	}
	if (key != NULL)
		v->keys[v->n] = key;
	memset(&v->items[v->n], 0, sizeof(v->items[0]));
	v->n++;
	return value(ps, &v->items[v->n - 1]);
}

static int
array(struct parser *ps, struct json *v)
{
	ps->p++;
	v->type = JSON_ARRAY;
	if (eat(ps, ']'))
		return 0;
	do {
		if (member(ps, v, NULL) < 0)
			return -1;
	} while (eat(ps, ','));
	return eat(ps, ']') ? 0 : -1;
}

static int
object(struct parser *ps, struct json *v)
{
	char *key = NULL;

	ps->p++;
	v->type = JSON_OBJECT;
	if (eat(ps, '}'))
		return 0;
	do {
		skip_blanks(ps);
		if (ps->p >= ps->end || *ps->p != '"' || string(ps, &key) < 0) {
			free(key);
			return -1;
		}
		if (!eat(ps, ':')) {
			free(key);
			return -1;
		}
		if (member(ps, v, key) < 0)
			return -1;
		key = NULL;
	} while (eat(ps, ','));
	return eat(ps, '}') ? 0 : -1;
}

static int
container(struct parser *ps, struct json *v)
{
	int rc;

	if (++ps->depth > JSON_DEPTH_MAX)
		return -1;
	rc = *ps->p == '[' ? array(ps, v) : object(ps, v);
	ps->depth--;
	return rc;
}

static int
value(struct parser *ps, struct json *v)
{
	skip_blanks(ps);
	if (ps->p >= ps->end)
		return -1;
	switch (*ps->p) {
	case '{':
	case '[':
		return container(ps, v);
	case '"':
		v->type = JSON_STRING;
		return string(ps, &v->text);
	case 't':
		return literal(ps, "true", JSON_TRUE, v);
	case 'f':
		return literal(ps, "false", JSON_FALSE, v);
	case 'n':
		return literal(ps, "null", JSON_NULL, v);
	default:
		return number(ps, v);
	}
}

int
json_parse(const char *text, size_t len, struct json *v)
{
	struct parser ps = {.p = text, .end = text + len};

	memset(v, 0, sizeof(*v));
	if (value(&ps, v) == 0) {
		skip_blanks(&ps);
		if (ps.p == ps.end)
			return 0;
	}
	json_free(v);
	return -1;
}

void
json_free(struct json *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		json_free(&v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->text);
	memset(v, 0, sizeof(*v));
}

const struct json *
json_get(const struct json *v, const char *key)
{
	size_t i;

	if (v->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return &v->items[i];
	return NULL;
}
