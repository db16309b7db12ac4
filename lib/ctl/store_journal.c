/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store's elementary changes and their undo log. Every change to the
 * store goes through the four primitives here (insert, remove or replace an
 * element of one of the object arrays, replace the global settings, set a
 * slot's state), so that a transaction can be undone exactly: a control
 * socket client's "commit" applies its commands one by one and, when one
 * fails, rolls the store back to where the transaction started. Entries hold
 * copies of SAs (keys): they are wiped when forgotten.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

enum jop { J_INSERT, J_REMOVE, J_SET, J_GLOBAL, J_SLOT };

struct espgw_journal_ent {
	uint8_t op;  /* enum jop */
	uint8_t arr; /* enum espgw_store_arr */
	uint32_t idx;
	size_t len; /* bytes at old */
	void *old;  /* the element before the change (J_REMOVE, J_SET, J_GLOBAL) */
};

struct arr_ref {
	void **base;
	unsigned int *n;
	unsigned int *cap;
	size_t elem;
};

static struct arr_ref
arr_of(struct espgw_store *s, enum espgw_store_arr a)
{
	switch (a) {
	case ESPGW_ARR_PORTS:
		return (struct arr_ref){
				(void **)&s->ports, &s->n_ports, &s->cap_ports, sizeof(*s->ports)};
	case ESPGW_ARR_SAS:
		return (struct arr_ref){(void **)&s->sas, &s->n_sas, &s->cap_sas, sizeof(*s->sas)};
	case ESPGW_ARR_SPS:
		return (struct arr_ref){(void **)&s->sps, &s->n_sps, &s->cap_sps, sizeof(*s->sps)};
	case ESPGW_ARR_ROUTES:
		return (struct arr_ref){(void **)&s->routes, &s->n_routes, &s->cap_routes,
				sizeof(*s->routes)};
	case ESPGW_ARR_NEIGHS:
		return (struct arr_ref){(void **)&s->neighs, &s->n_neighs, &s->cap_neighs,
				sizeof(*s->neighs)};
	case ESPGW_ARR_CRYPTOS:
		break;
	}
	return (struct arr_ref){
			(void **)&s->cryptos, &s->n_cryptos, &s->cap_cryptos, sizeof(*s->cryptos)};
}

static const unsigned int arr_chg[] = {
		[ESPGW_ARR_PORTS] = ESPGW_CHG_PORT,
		[ESPGW_ARR_SAS] = ESPGW_CHG_SA,
		[ESPGW_ARR_SPS] = ESPGW_CHG_SP,
		[ESPGW_ARR_ROUTES] = ESPGW_CHG_ROUTE,
		[ESPGW_ARR_NEIGHS] = ESPGW_CHG_NEIGH,
		[ESPGW_ARR_CRYPTOS] = ESPGW_CHG_CRYPTO,
};

static void
ent_wipe(struct espgw_journal_ent *e)
{
	if (e->old != NULL) {
		explicit_bzero(e->old, e->len);
		free(e->old);
	}
	memset(e, 0, sizeof(*e));
}

/* Record one change before it is made; -1 (nothing recorded) when out of memory. */
static int
journal_add(struct espgw_store *s, enum jop op, unsigned int arr, uint32_t idx, const void *old,
		size_t len)
{
	struct espgw_journal_ent *j, e = {.op = op, .arr = (uint8_t)arr, .idx = idx, .len = len};

	if (!s->journaling)
		return 0;
	j = espgw_store_grow(s->journal, &s->cap_journal, s->n_journal, sizeof(*j));
	if (j == NULL)
		return -1;
	s->journal = j;
	if (old != NULL) {
		e.old = malloc(len);
		if (e.old == NULL)
			return -1;
		memcpy(e.old, old, len);
	}
	s->journal[s->n_journal++] = e;
	return 0;
}

/* Insert without journaling: room first, then shift the tail up. */
static int
raw_insert(struct espgw_store *s, enum espgw_store_arr a, unsigned int idx, const void *obj)
{
	struct arr_ref r = arr_of(s, a);
	void *base = espgw_store_grow(*r.base, r.cap, *r.n, r.elem);
	char *p;

	if (base == NULL)
		return -1;
	*r.base = base;
	if (espgw_store_ix_reserve(s, a, *r.n + 1) < 0)
		return -1;
	p = (char *)base + idx * r.elem;
	memmove(p + r.elem, p, (*r.n - idx) * r.elem);
	memcpy(p, obj, r.elem);
	(*r.n)++;
	espgw_store_ix_inserted(s, a, idx, *r.n);
	s->changed |= arr_chg[a];
	s->route_gen += a == ESPGW_ARR_ROUTES;
	return 0;
}

static void
raw_remove(struct espgw_store *s, enum espgw_store_arr a, unsigned int idx)
{
	struct arr_ref r = arr_of(s, a);
	char *p = (char *)*r.base + idx * r.elem;

	espgw_store_ix_removing(s, a, idx, *r.n);
	explicit_bzero(p, r.elem);
	memmove(p, p + r.elem, (*r.n - idx - 1) * r.elem);
	(*r.n)--;
	/* The last element now holds a stale copy (an SA's keys). */
	explicit_bzero((char *)*r.base + *r.n * r.elem, r.elem);
	s->changed |= arr_chg[a];
	s->route_gen += a == ESPGW_ARR_ROUTES;
}

static void
raw_set(struct espgw_store *s, enum espgw_store_arr a, unsigned int idx, const void *obj)
{
	struct arr_ref r = arr_of(s, a);

	espgw_store_ix_replacing(s, a, idx);
	memcpy((char *)*r.base + idx * r.elem, obj, r.elem);
	espgw_store_ix_replaced(s, a, idx);
	/* An SA changed in its slot (sa update): the data path must look at it. */
	if (a == ESPGW_ARR_SAS)
		espgw_store_slot_dirty(s, s->sas[idx].slot);
	s->changed |= arr_chg[a];
	s->route_gen += a == ESPGW_ARR_ROUTES;
}

int
espgw_store_arr_insert(
		struct espgw_store *s, enum espgw_store_arr a, unsigned int idx, const void *obj)
{
	if (journal_add(s, J_INSERT, a, idx, NULL, 0) < 0)
		return -1;
	if (raw_insert(s, a, idx, obj) == 0)
		return 0;
	if (s->journaling)
		s->n_journal--;
	return -1;
}

int
espgw_store_arr_remove(struct espgw_store *s, enum espgw_store_arr a, unsigned int idx)
{
	struct arr_ref r = arr_of(s, a);

	if (journal_add(s, J_REMOVE, a, idx, (char *)*r.base + idx * r.elem, r.elem) < 0)
		return -1;
	raw_remove(s, a, idx);
	return 0;
}

int
espgw_store_arr_set(
		struct espgw_store *s, enum espgw_store_arr a, unsigned int idx, const void *obj)
{
	struct arr_ref r = arr_of(s, a);

	if (journal_add(s, J_SET, a, idx, (char *)*r.base + idx * r.elem, r.elem) < 0)
		return -1;
	raw_set(s, a, idx, obj);
	return 0;
}

int
espgw_store_global_set(struct espgw_store *s, const struct espgw_global_conf *g)
{
	if (journal_add(s, J_GLOBAL, 0, 0, &s->global, sizeof(s->global)) < 0)
		return -1;
	s->global = *g;
	s->changed |= ESPGW_CHG_GLOBAL;
	return 0;
}

int
espgw_store_slot_set(struct espgw_store *s, uint32_t slot, enum espgw_slot_state st)
{
	if (journal_add(s, J_SLOT, s->slot[slot], slot, NULL, 0) < 0)
		return -1;
	s->slot[slot] = (uint8_t)st;
	espgw_store_slot_dirty(s, slot);
	s->changed |= ESPGW_CHG_SA;
	return 0;
}

static void
undo(struct espgw_store *s, const struct espgw_journal_ent *e)
{
	switch (e->op) {
	case J_INSERT:
		raw_remove(s, e->arr, e->idx);
		break;
	case J_REMOVE:
		/* Cannot fail: the array and its index had room for this element a moment ago. */
		(void)raw_insert(s, e->arr, e->idx, e->old);
		break;
	case J_SET:
		raw_set(s, e->arr, e->idx, e->old);
		break;
	case J_GLOBAL:
		memcpy(&s->global, e->old, sizeof(s->global));
		break;
	case J_SLOT:
		s->slot[e->idx] = e->arr; /* the state before */
		espgw_store_slot_dirty(s, e->idx);
		break;
	}
}

unsigned int
espgw_store_mark(struct espgw_store *s)
{
	s->journaling = true;
	return s->n_journal;
}

void
espgw_store_rollback(struct espgw_store *s, unsigned int mark)
{
	while (s->n_journal > mark) {
		struct espgw_journal_ent *e = &s->journal[--s->n_journal];

		undo(s, e);
		ent_wipe(e);
	}
}

void
espgw_store_commit(struct espgw_store *s)
{
	unsigned int i;

	for (i = 0; i < s->n_journal; i++)
		ent_wipe(&s->journal[i]);
	free(s->journal);
	s->journal = NULL;
	s->n_journal = s->cap_journal = 0;
	s->journaling = false;
}
