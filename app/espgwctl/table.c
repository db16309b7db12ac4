/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Human output of replies: tables for lists of objects (show sa, sp, ...),
 * indented "key: value" lines for objects (show stats, alloc-spi's spi) and
 * one line per monitor event. The JSON stays the machine interface (--json);
 * this is for people, so null is "-" and booleans are yes/no.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espgwctl.h"

#define INDENT 2 /* columns per nesting level of "key: value" lines */
#define GAP    2 /* blanks between table columns */

/* SPIs in hex, as the config, ip xfrm and tcpdump write them (RFC 4303 2.1: an opaque 32-bit value). */
static bool
put_spi(FILE *out, const char *key, const struct json *v)
{
	unsigned long long spi;
	char *end;

	if (strcmp(key, "spi") != 0 || v->type != JSON_NUMBER)
		return false;
	spi = strtoull(v->text, &end, 10);
	if (*end != '\0' || spi > UINT32_MAX)
		return false;
	fprintf(out, "0x%llx", spi);
	return true;
}

/* A value on one line: arrays joined with ',', objects as k=v,k=v. */
static void
put_value(FILE *out, const struct json *v)
{
	size_t i;

	switch (v->type) {
	case JSON_NULL:
		fputs("-", out);
		return;
	case JSON_FALSE:
	case JSON_TRUE:
		fputs(v->type == JSON_TRUE ? "yes" : "no", out);
		return;
	case JSON_NUMBER:
	case JSON_STRING:
		fputs(v->text, out);
		return;
	default:
		break;
	}
	if (v->n == 0)
		fputs("-", out); /* an empty list would leave a hole in the table */
	for (i = 0; i < v->n; i++) {
		fputs(i > 0 ? "," : "", out);
		if (v->type == JSON_OBJECT)
			fprintf(out, "%s=", v->keys[i]);
		put_value(out, &v->items[i]);
	}
}

/* put_value into a new string (NULL v: a missing cell). */
static char *
cell_text(const char *key, const struct json *v)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (f == NULL)
		ctl_oom();
	if (v == NULL)
		fputs("-", f);
	else if (!put_spi(f, key, v))
		put_value(f, v);
	if (fclose(f) != 0 || s == NULL)
		ctl_oom();
	return s;
}

/* Rows of cells under the union of the objects' keys, in first-seen order. */
struct table {
	const char **cols;
	size_t n_cols;
	size_t n_rows;
	char **cells; /* n_rows * n_cols */
	size_t *width;
};

/*
 * espgw's objects have a couple of dozen keys: a reply with more columns,
 * or more cells than a terminal could show, is no table of espgw's (a
 * hostile server would otherwise make us quadratic in time and memory).
 */
#define TABLE_COLS_MAX	64
#define TABLE_CELLS_MAX (4u << 20)

static int
add_columns(struct table *t, const struct json *row)
{
	size_t i, c;

	for (i = 0; i < row->n; i++) {
		for (c = 0; c < t->n_cols && strcmp(t->cols[c], row->keys[i]) != 0; c++)
			;
		if (c < t->n_cols)
			continue;
		if (t->n_cols == TABLE_COLS_MAX)
			return -1;
		t->cols = ctl_realloc(t->cols, (t->n_cols + 1) * sizeof(*t->cols));
		t->cols[t->n_cols++] = row->keys[i];
	}
	return 0;
}

static void
fill_cells(struct table *t, const struct json *rows)
{
	size_t r, c;
	char *s;

	t->width = ctl_realloc(NULL, t->n_cols * sizeof(*t->width));
	t->cells = ctl_realloc(NULL, t->n_rows * t->n_cols * sizeof(*t->cells));
	for (c = 0; c < t->n_cols; c++)
		t->width[c] = strlen(t->cols[c]);
	for (r = 0; r < t->n_rows; r++)
		for (c = 0; c < t->n_cols; c++) {
			s = cell_text(t->cols[c], json_get(&rows->items[r], t->cols[c]));
			t->cells[r * t->n_cols + c] = s;
			if (strlen(s) > t->width[c])
				t->width[c] = strlen(s);
		}
}

/* The last column is not padded: no trailing blanks. */
static void
print_row(FILE *out, const struct table *t, const char *const *cells)
{
	size_t c;

	for (c = 0; c + 1 < t->n_cols; c++)
		fprintf(out, "%-*s%*s", (int)t->width[c], cells[c], GAP, "");
	fprintf(out, "%s\n", t->n_cols > 0 ? cells[c] : "");
}

static int
print_table(FILE *out, const struct json *rows)
{
	struct table t = {.n_rows = rows->n};
	size_t r;

	for (r = 0; r < rows->n; r++) {
		/* Protocol version 1: lists hold flat objects. */
		if (rows->items[r].type != JSON_OBJECT || add_columns(&t, &rows->items[r]) < 0 ||
				(t.n_cols != 0 && rows->n > TABLE_CELLS_MAX / t.n_cols)) {
			free(t.cols);
			return -1;
		}
	}
	fill_cells(&t, rows);
	print_row(out, &t, t.cols);
	for (r = 0; r < t.n_rows; r++)
		print_row(out, &t, (const char *const *)&t.cells[r * t.n_cols]);
	for (r = 0; r < t.n_rows * t.n_cols; r++)
		free(t.cells[r]);
	free(t.cells);
	free(t.width);
	free(t.cols);
	return 0;
}

static bool
is_zero(const struct json *v)
{
	return v->type == JSON_NUMBER && strtod(v->text, NULL) == 0;
}

static bool
all_zero(const struct json *obj)
{
	size_t i;

	for (i = 0; i < obj->n; i++)
		if (!is_zero(&obj->items[i]))
			return false;
	return true;
}

static bool
has_containers(const struct json *arr)
{
	size_t i;

	for (i = 0; i < arr->n; i++)
		if (arr->items[i].type == JSON_ARRAY || arr->items[i].type == JSON_OBJECT)
			return true;
	return false;
}

static void print_member(FILE *out, const char *key, const struct json *v, int depth);

/*
 * Members of a container one level deeper; list elements are named by their
 * index. Drop counters at 0 are noise: a "drops" object shows only the others.
 */
static void
print_children(FILE *out, const struct json *v, int depth, bool drops)
{
	char idx[24];
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (drops && is_zero(&v->items[i]))
			continue;
		snprintf(idx, sizeof(idx), "%zu", i);
		print_member(out, v->type == JSON_OBJECT ? v->keys[i] : idx, &v->items[i], depth);
	}
}

static void
print_member(FILE *out, const char *key, const struct json *v, int depth)
{
	bool drops = v->type == JSON_OBJECT && strcmp(key, "drops") == 0;

	fprintf(out, "%*s%s:", depth * INDENT, "", key);
	if (drops && all_zero(v)) {
		fputs(" none\n", out);
	} else if ((v->type == JSON_OBJECT && v->n > 0) ||
			(v->type == JSON_ARRAY && has_containers(v))) {
		fputc('\n', out);
		print_children(out, v, depth + 1, drops);
	} else {
		fputc(' ', out);
		if (!put_spi(out, key, v))
			put_value(out, v);
		fputc('\n', out);
	}
}

void
ctl_print_fields(FILE *out, const struct json *reply)
{
	size_t i;

	for (i = 0; i < reply->n; i++)
		if (strcmp(reply->keys[i], "ok") != 0)
			print_member(out, reply->keys[i], &reply->items[i], 0);
}

/* The reply's payload: its first list or object member; its key names the kind. */
static const struct json *
payload(const struct json *reply, const char **kind)
{
	size_t i;

	for (i = 0; i < reply->n; i++) {
		if (reply->items[i].type == JSON_ARRAY || reply->items[i].type == JSON_OBJECT) {
			*kind = reply->keys[i];
			return &reply->items[i];
		}
	}
	return NULL;
}

int
ctl_print_show(FILE *out, const struct json *reply)
{
	const char *kind = NULL;
	const struct json *p = payload(reply, &kind);

	if (p == NULL) {
		ctl_print_fields(out, reply);
		return 0;
	}
	if (p->type == JSON_OBJECT) {
		print_children(out, p, 0, false);
		return 0;
	}
	if (p->n == 0) {
		fprintf(out, "no %s\n", kind);
		return 0;
	}
	return print_table(out, p);
}

/* "expire soft sa=ab4 limit=bytes": the event, its kind, then the rest as k=v. */
void
ctl_print_event(FILE *out, const struct json *ev)
{
	const struct json *name = json_get(ev, "event"), *kind = json_get(ev, "kind");
	bool bare_kind = kind != NULL && kind->type == JSON_STRING;
	size_t i;

	put_value(out, name != NULL ? name : &(struct json){.type = JSON_NULL});
	if (bare_kind)
		fprintf(out, " %s", kind->text);
	for (i = 0; i < ev->n; i++) {
		if (strcmp(ev->keys[i], "event") == 0 ||
				(bare_kind && strcmp(ev->keys[i], "kind") == 0))
			continue;
		fprintf(out, " %s=", ev->keys[i]);
		put_value(out, &ev->items[i]);
	}
	fputc('\n', out);
}
