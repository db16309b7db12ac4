/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A growable buffer for the control socket's one-line JSON replies and
 * events. Strings are escaped (RFC 8259 7); an allocation failure is
 * remembered and reported once by whoever sends the buffer.
 */
#ifndef ESPGW_JSON_H
#define ESPGW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct espgw_json {
	char *buf;
	size_t len, cap;
	bool failed; /* out of memory: the content is incomplete */
};

void espgw_json_init(struct espgw_json *j);
void espgw_json_fini(struct espgw_json *j);
void espgw_json_reset(struct espgw_json *j);
/* Raw text, as given. */
void espgw_json_raw(struct espgw_json *j, const char *s, size_t len);
void espgw_json_fmt(struct espgw_json *j, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
/* A quoted, escaped string. */
void espgw_json_str(struct espgw_json *j, const char *s);
/* "key": (with a comma before it unless it opens an object) */
void espgw_json_key(struct espgw_json *j, const char *key);
void espgw_json_kstr(struct espgw_json *j, const char *key, const char *s);
void espgw_json_ku64(struct espgw_json *j, const char *key, uint64_t v);
void espgw_json_kbool(struct espgw_json *j, const char *key, bool v);

#endif
