/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espgw_json.h"

void
espgw_json_init(struct espgw_json *j)
{
	memset(j, 0, sizeof(*j));
}

void
espgw_json_fini(struct espgw_json *j)
{
	free(j->buf);
	espgw_json_init(j);
}

void
espgw_json_reset(struct espgw_json *j)
{
	j->len = 0;
	j->failed = false;
	if (j->buf != NULL)
		j->buf[0] = '\0';
}

static bool
room(struct espgw_json *j, size_t more)
{
	size_t cap = j->cap ? j->cap : 256;
	char *b;

	if (j->failed)
		return false;
	if (j->len + more + 1 <= j->cap)
		return true;
	while (cap < j->len + more + 1)
		cap *= 2;
	b = realloc(j->buf, cap);
	if (b == NULL) {
		j->failed = true;
		return false;
	}
	j->buf = b;
	j->cap = cap;
	return true;
}

void
espgw_json_raw(struct espgw_json *j, const char *s, size_t len)
{
	if (!room(j, len))
		return;
	memcpy(j->buf + j->len, s, len);
	j->len += len;
	j->buf[j->len] = '\0';
}

void
espgw_json_fmt(struct espgw_json *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !room(j, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(j->buf + j->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	j->len += (size_t)n;
}

/* RFC 8259 7: quote, backslash and control characters are escaped. */
void
espgw_json_str(struct espgw_json *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	espgw_json_raw(j, "\"", 1);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			espgw_json_fmt(j, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			espgw_json_fmt(j, "\\u%04x", *p);
		else
			espgw_json_raw(j, (const char *)p, 1);
	}
	espgw_json_raw(j, "\"", 1);
}

void
espgw_json_key(struct espgw_json *j, const char *key)
{
	char last = j->len ? j->buf[j->len - 1] : '{';

	if (last != '{' && last != '[')
		espgw_json_raw(j, ",", 1);
	espgw_json_str(j, key);
	espgw_json_raw(j, ":", 1);
}

void
espgw_json_kstr(struct espgw_json *j, const char *key, const char *s)
{
	espgw_json_key(j, key);
	espgw_json_str(j, s);
}

void
espgw_json_ku64(struct espgw_json *j, const char *key, uint64_t v)
{
	espgw_json_key(j, key);
	espgw_json_fmt(j, "%" PRIu64, v);
}

void
espgw_json_kbool(struct espgw_json *j, const char *key, bool v)
{
	espgw_json_key(j, key);
	espgw_json_fmt(j, "%s", v ? "true" : "false");
}
