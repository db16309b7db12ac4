/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small strict JSON reader for espgw's replies: one text in, a tree out.
 * Numbers keep the text they were written with (the tool only prints them);
 * "\uXXXX" outside ASCII, and U+0000, decode to '?'.
 */
#ifndef ESPGWCTL_JSON_H
#define ESPGWCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_DEPTH_MAX 32 /* deeper input is refused rather than recursed into */

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_type type;
	char *text;	    /* STRING: decoded, NUL-terminated; NUMBER: as written */
	size_t n;	    /* ARRAY, OBJECT: number of members */
	struct json *items; /* ARRAY, OBJECT: the values */
	char **keys;	    /* OBJECT: the names, parallel to items */
};

/*
 * Parse exactly one value from text[0, len) (blanks around it allowed).
 * 0, or -1 when the text is not JSON (or memory ran out); *v is then empty.
 */
int json_parse(const char *text, size_t len, struct json *v);
void json_free(struct json *v);
/* The first member of an object called key; NULL when absent or v is no object. */
const struct json *json_get(const struct json *v, const char *key);

#endif
