/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store's hashed lookups: SAs by name, by (direction, SPI), by slot and by
 * key material (store_sa.c sa_check_key), policies by name, by rule
 * (direction, priority, selectors), by the SA they protect with and by the
 * SA they protected with before (store_sp.c). Without them every "sa add"
 * and "sp add" scans every SA and
 * policy (uniqueness, references), and an IKE responder installing thousands
 * of CHILD_SAs per second over 100,000 installed ones spends its time in
 * strcmp.
 *
 * The arrays stay the source of truth, in definition order (policy ties are
 * broken by it); the index follows every elementary change of the journal
 * (store_journal.c calls it from its raw insert, remove and replace, undo
 * included). Each element gets an internal id, stable while it is in the
 * array; the tables hold ids and a position map follows the array's shifts
 * (one integer per later element on a removal). Open addressing with linear
 * probing and backward-shift deletion; every table keeps at least half of its
 * entries free and never shrinks, so that an undo never needs memory.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define KEY_MAX 104 /* the longest key: an SA's keys (98 bytes) */

/* The fourth map: an SA's key material; an inbound policy's previous SA (store_sp.c). */
enum ix_map { IX_NAME, IX_UNIQ, IX_REF, IX_KEY, IX_MAPS };
#define IX_PREV IX_KEY
enum ix_arr { IX_SAS, IX_SPS, IX_ARRS };

struct ix_ent {
	uint32_t h;
	uint32_t id1; /* id + 1; 0: empty */
};

struct ix_table {
	struct ix_ent *e;
	uint32_t mask; /* size - 1; size a power of two, 0 when not allocated */
};

struct ix_arr_state {
	uint32_t *id_at;  /* [cap] position -> id */
	uint32_t *pos_of; /* [cap] id -> position */
	uint32_t *free_id;
	uint32_t cap, n_free, id_next;
	struct ix_table map[IX_MAPS];
};

struct espgw_store_index {
	struct ix_arr_state arr[IX_ARRS];
};

struct key {
	uint8_t b[KEY_MAX];
	unsigned int len;
};

static int
ix_of(enum espgw_store_arr a)
{
	return a == ESPGW_ARR_SAS ? IX_SAS : a == ESPGW_ARR_SPS ? IX_SPS : -1;
}

static void
key_put(struct key *k, const void *p, unsigned int n)
{
	memcpy(k->b + k->len, p, n);
	k->len += n;
}

static void
key_name(struct key *k, const char *name)
{
	key_put(k, name, (unsigned int)strnlen(name, ESPGW_NAME_MAX));
}

static void
key_prefix(struct key *k, const struct espgw_prefix *p)
{
	key_put(k, &p->ip.family, 1);
	key_put(k, &p->len, 1);
	key_put(k, p->ip.bytes, p->ip.family == ESPGW_AF_INET ? 4 : 16);
}

static void
key_rule(struct key *k, const struct espgw_sp_conf *sp)
{
	uint16_t ports[4] = {sp->sport_lo, sp->sport_hi, sp->dport_lo, sp->dport_hi};
	uint8_t dir = (uint8_t)sp->dir;

	key_put(k, &dir, 1);
	key_put(k, &sp->priority, sizeof(sp->priority));
	key_put(k, &sp->proto, sizeof(sp->proto));
	key_prefix(k, &sp->src);
	key_prefix(k, &sp->dst);
	key_put(k, ports, sizeof(ports));
}

static void
key_spi(struct key *k, enum espgw_dir dir, uint32_t spi)
{
	uint8_t d = (uint8_t)dir;

	key_put(k, &d, 1);
	key_put(k, &spi, sizeof(spi));
}

/*
 * An SA's key material as espgw_store_sa_same_key compares it: with a salt
 * the cipher or AEAD key and the salt, in any direction; without, every key
 * and the direction (only two outbound ones may not share it).
 */
static void
key_material(struct key *k, const struct espgw_sa_conf *sa)
{
	uint8_t d = (uint8_t)sa->dir, tag = sa->has_salt ? 'S' : 'K';

	if (sa->declared || sa->key_len + sa->auth_key_len == 0)
		return;
	key_put(k, &tag, 1);
	key_put(k, &sa->key_len, 1);
	key_put(k, sa->key, sa->key_len);
	if (sa->has_salt) {
		key_put(k, sa->salt, sizeof(sa->salt));
		return;
	}
	key_put(k, &d, 1);
	key_put(k, sa->auth_key, sa->auth_key_len);
}

static void
sa_key(const struct espgw_sa_conf *sa, int m, struct key *k)
{
	if (m == IX_KEY)
		key_material(k, sa);
	else if (m == IX_NAME)
		key_name(k, sa->name);
	else if (m == IX_UNIQ && !sa->declared)
		key_spi(k, sa->dir, sa->spi);
	else if (m == IX_REF)
		key_put(k, &sa->slot, sizeof(sa->slot));
}

static void
sp_key(const struct espgw_sp_conf *sp, int m, struct key *k)
{
	if (m == IX_NAME && sp->name[0] != '\0')
		key_name(k, sp->name);
	else if (m == IX_UNIQ)
		key_rule(k, sp);
	else if (m == IX_REF && sp->action == ESPGW_SP_PROTECT)
		key_name(k, sp->sa);
	else if (m == IX_PREV)
		key_name(k, sp->prev_sa);
}

/* The key of element pos in map m; false when the element has none there. */
static bool
key_of(const struct espgw_store *s, int a, int m, uint32_t pos, struct key *k)
{
	k->len = 0;
	if (a == IX_SAS)
		sa_key(&s->sas[pos], m, k);
	else
		sp_key(&s->sps[pos], m, k);
	return k->len != 0;
}

/* FNV-1a, then a final mix (the table uses the low bits). */
static uint32_t
key_hash(const struct key *k)
{
	uint32_t h = 2166136261u;
	unsigned int i;

	for (i = 0; i < k->len; i++)
		h = (h ^ k->b[i]) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

static void
table_put(struct ix_table *t, uint32_t h, uint32_t id)
{
	uint32_t i = h & t->mask;

	while (t->e[i].id1 != 0)
		i = (i + 1) & t->mask;
	t->e[i] = (struct ix_ent){h, id + 1};
}

/* Backward-shift deletion: no tombstones, probe chains stay short. */
static void
table_del(struct ix_table *t, uint32_t h, uint32_t id)
{
	uint32_t i = h & t->mask, j, home;

	while (t->e[i].id1 != id + 1)
		i = (i + 1) & t->mask;
	for (j = (i + 1) & t->mask; t->e[j].id1 != 0; j = (j + 1) & t->mask) {
		home = t->e[j].h & t->mask;
		/* e[j] may move to i when its home is not in the cyclic range (i, j]. */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->e[i] = t->e[j];
			i = j;
		}
	}
	t->e[i] = (struct ix_ent){0, 0};
}

static int
table_grow(struct ix_table *t, uint32_t want)
{
	uint32_t size = t->mask + 1, i;
	struct ix_table n;

	if (t->e != NULL && want * 2 <= size)
		return 0;
	for (size = t->e != NULL ? size : 16; want * 2 > size;)
		size *= 2;
	n.e = calloc(size, sizeof(*n.e));
	if (n.e == NULL)
		return -1;
	n.mask = size - 1;
	for (i = 0; t->e != NULL && i <= t->mask; i++)
		if (t->e[i].id1 != 0)
			table_put(&n, t->e[i].h, t->e[i].id1 - 1);
	free(t->e);
	*t = n;
	return 0;
}

static int
ids_grow(struct ix_arr_state *x, uint32_t want)
{
	uint32_t cap = x->cap ? x->cap : 16;
	uint32_t *id_at, *pos_of, *free_id;

	if (want <= x->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	id_at = calloc(cap, sizeof(*id_at));
	pos_of = calloc(cap, sizeof(*pos_of));
	free_id = calloc(cap, sizeof(*free_id));
	if (id_at == NULL || pos_of == NULL || free_id == NULL) {
		free(id_at);
		free(pos_of);
		free(free_id);
		return -1;
	}
	if (x->cap != 0) {
		memcpy(id_at, x->id_at, x->cap * sizeof(*id_at));
		memcpy(pos_of, x->pos_of, x->cap * sizeof(*pos_of));
		memcpy(free_id, x->free_id, x->cap * sizeof(*free_id));
	}
	free(x->id_at);
	free(x->pos_of);
	free(x->free_id);
	x->id_at = id_at;
	x->pos_of = pos_of;
	x->free_id = free_id;
	x->cap = cap;
	return 0;
}

int
espgw_store_ix_reserve(struct espgw_store *s, enum espgw_store_arr a, unsigned int n)
{
	int ai = ix_of(a), m;
	struct ix_arr_state *x;

	if (ai < 0)
		return 0;
	if (s->index == NULL) {
		s->index = calloc(1, sizeof(*s->index));
		if (s->index == NULL)
			return -1;
	}
	x = &s->index->arr[ai];
	if (ids_grow(x, n) < 0)
		return -1;
	for (m = 0; m < IX_MAPS; m++)
		if (table_grow(&x->map[m], n) < 0)
			return -1;
	return 0;
}

/* Enter (put) or withdraw element pos's keys in every map of its array. */
static void
maps_update(struct espgw_store *s, int ai, uint32_t pos, bool put)
{
	struct ix_arr_state *x = &s->index->arr[ai];
	struct key k;
	int m;

	for (m = 0; m < IX_MAPS; m++) {
		if (!key_of(s, ai, m, pos, &k))
			continue;
		if (put)
			table_put(&x->map[m], key_hash(&k), x->id_at[pos]);
		else
			table_del(&x->map[m], key_hash(&k), x->id_at[pos]);
	}
}

/* The positions of elements from..n-1 changed: follow them. */
static void
pos_follow(struct ix_arr_state *x, uint32_t from, uint32_t n)
{
	uint32_t i;

	for (i = from; i < n; i++)
		x->pos_of[x->id_at[i]] = i;
}

void
espgw_store_ix_inserted(
		struct espgw_store *s, enum espgw_store_arr a, unsigned int idx, unsigned int n)
{
	int ai = ix_of(a);
	struct ix_arr_state *x;
	uint32_t id;

	if (ai < 0)
		return;
	x = &s->index->arr[ai];
	id = x->n_free != 0 ? x->free_id[--x->n_free] : x->id_next++;
	memmove(&x->id_at[idx + 1], &x->id_at[idx], (n - 1 - idx) * sizeof(*x->id_at));
	x->id_at[idx] = id;
	pos_follow(x, idx, n);
	maps_update(s, ai, idx, true);
}

void
espgw_store_ix_removing(
		struct espgw_store *s, enum espgw_store_arr a, unsigned int idx, unsigned int n)
{
	int ai = ix_of(a);
	struct ix_arr_state *x;

	if (ai < 0)
		return;
	x = &s->index->arr[ai];
	maps_update(s, ai, idx, false);
	x->free_id[x->n_free++] = x->id_at[idx];
	memmove(&x->id_at[idx], &x->id_at[idx + 1], (n - 1 - idx) * sizeof(*x->id_at));
	pos_follow(x, idx, n - 1);
}

void
espgw_store_ix_replacing(struct espgw_store *s, enum espgw_store_arr a, unsigned int idx)
{
	int ai = ix_of(a);

	if (ai >= 0)
		maps_update(s, ai, idx, false);
}

void
espgw_store_ix_replaced(struct espgw_store *s, enum espgw_store_arr a, unsigned int idx)
{
	int ai = ix_of(a);

	if (ai >= 0)
		maps_update(s, ai, idx, true);
}

void
espgw_store_ix_free(struct espgw_store *s)
{
	struct ix_arr_state *x;
	int ai, m;

	if (s->index == NULL)
		return;
	for (ai = 0; ai < IX_ARRS; ai++) {
		x = &s->index->arr[ai];
		for (m = 0; m < IX_MAPS; m++)
			free(x->map[m].e);
		free(x->id_at);
		free(x->pos_of);
		free(x->free_id);
	}
	free(s->index);
	s->index = NULL;
}

/* The position of an element whose key in map m is k; -1 if none. */
static int
find(const struct espgw_store *s, int ai, int m, const struct key *k)
{
	const struct ix_arr_state *x;
	const struct ix_table *t;
	uint32_t h = key_hash(k), i, pos;
	struct key c;

	if (s->index == NULL)
		return -1;
	x = &s->index->arr[ai];
	t = &x->map[m];
	if (t->e == NULL)
		return -1;
	for (i = h & t->mask; t->e[i].id1 != 0; i = (i + 1) & t->mask) {
		if (t->e[i].h != h)
			continue;
		pos = x->pos_of[t->e[i].id1 - 1];
		if (key_of(s, ai, m, pos, &c) && c.len == k->len && memcmp(c.b, k->b, k->len) == 0)
			return (int)pos;
	}
	return -1;
}

int
espgw_store_ix_sa_name(const struct espgw_store *s, const char *name)
{
	struct key k = {.len = 0};

	key_name(&k, name);
	return k.len != 0 ? find(s, IX_SAS, IX_NAME, &k) : -1;
}

int
espgw_store_ix_sa_spi(const struct espgw_store *s, enum espgw_dir dir, uint32_t spi)
{
	struct key k = {.len = 0};

	key_spi(&k, dir, spi);
	return find(s, IX_SAS, IX_UNIQ, &k);
}

int
espgw_store_ix_sp_name(const struct espgw_store *s, const char *name)
{
	struct key k = {.len = 0};

	key_name(&k, name);
	return k.len != 0 ? find(s, IX_SPS, IX_NAME, &k) : -1;
}

int
espgw_store_ix_sp_rule(const struct espgw_store *s, const struct espgw_sp_conf *sp)
{
	struct key k = {.len = 0};

	key_rule(&k, sp);
	return find(s, IX_SPS, IX_UNIQ, &k);
}

int
espgw_store_ix_sp_using(const struct espgw_store *s, const char *sa)
{
	struct key k = {.len = 0};

	key_name(&k, sa);
	return k.len != 0 ? find(s, IX_SPS, IX_REF, &k) : -1;
}

int
espgw_store_ix_sp_prev(const struct espgw_store *s, const char *sa)
{
	struct key k = {.len = 0};

	key_name(&k, sa);
	return k.len != 0 ? find(s, IX_SPS, IX_PREV, &k) : -1;
}

int
espgw_store_ix_sa_key(const struct espgw_store *s, const struct espgw_sa_conf *sa)
{
	struct key k = {.len = 0};

	key_material(&k, sa);
	return k.len != 0 ? find(s, IX_SAS, IX_KEY, &k) : -1;
}

int
espgw_store_ix_sa_slot(const struct espgw_store *s, uint32_t slot)
{
	struct key k = {.len = 0};

	key_put(&k, &slot, sizeof(slot));
	return find(s, IX_SAS, IX_REF, &k);
}
