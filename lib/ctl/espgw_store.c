/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration store: arrays of object configs, request dispatch, lookups.
 * The per-object validation lives in store_port.c, store_route.c, store_neigh.c,
 * store_crypto.c, store_sa.c and store_sp.c; the hashed lookups in store_index.c.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_U32(a, b) ((a) > (b) ? (a) : (b))

#include "espgw_store.h"
#include "store_int.h"

int
espgw_err_set(struct espgw_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
espgw_store_nomem(struct espgw_err *err)
{
	return espgw_err_set(err, "out of memory");
}

void *
espgw_store_grow(void *arr, unsigned int *cap, unsigned int n, size_t elem)
{
	unsigned int ncap;
	void *na;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 8;
	na = calloc(ncap, elem);
	if (na == NULL)
		return NULL;
	/* Not realloc: it could free the old block with keys still in it. */
	if (arr != NULL) {
		memcpy(na, arr, (size_t)n * elem);
		explicit_bzero(arr, (size_t)*cap * elem);
		free(arr);
	}
	*cap = ncap;
	return na;
}

bool
espgw_store_port_on_link(const struct espgw_port_conf *p, const struct espgw_ip *ip)
{
	unsigned int i;

	for (i = 0; i < p->n_addr; i++)
		if (espgw_prefix_contains(&p->addr[i], ip))
			return true;
	return false;
}

/* The host part of ip in the IPv4 subnet a: all zeros (-1), all ones (1), else 0. */
static int
v4_host_part(const struct espgw_prefix *a, const struct espgw_ip *ip)
{
	uint32_t host = a->len >= 31 ? 0 : UINT32_MAX >> a->len;
	uint32_t h = ntohl(ip->v4) & host;

	if (a->ip.family != ESPGW_AF_INET || a->len >= 31 || !espgw_prefix_contains(a, ip))
		return 0;
	return h == 0 ? -1 : h == host ? 1 : 0;
}

const char *
espgw_store_station_bad(const struct espgw_store *s, const struct espgw_port_conf *p,
		const struct espgw_ip *ip)
{
	unsigned int i, a;
	int part;

	for (i = 0; i < s->n_ports; i++)
		for (a = 0; a < s->ports[i].n_addr; a++)
			if (espgw_ip_equal(&s->ports[i].addr[a].ip, ip))
				return "an address of this gateway";
	for (a = 0; a < p->n_addr; a++) {
		part = v4_host_part(&p->addr[a], ip);
		if (part != 0)
			return part < 0 ? "the network address of its subnet"
					: "the broadcast address of its subnet";
	}
	return NULL;
}

bool
espgw_name_valid(const char *name)
{
	size_t len = strnlen(name, ESPGW_NAME_MAX);

	if (len == 0 || len >= ESPGW_NAME_MAX)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
	       len;
}

static void
sa_defaults(struct espgw_sa_conf *sa)
{
	sa->mode = ESPGW_SA_TUNNEL;
	sa->replay_window = ESPGW_REPLAY_DEFAULT;
	sa->seq = 1;
	sa->ttl = ESPGW_TTL_DEFAULT;
	sa->encap_sport = ESPGW_NATT_PORT_DEFAULT;
	sa->encap_dport = ESPGW_NATT_PORT_DEFAULT;
}

static void
sp_defaults(struct espgw_sp_conf *sp)
{
	sp->priority = ESPGW_SP_PRIORITY_DEFAULT;
	sp->proto = -1;
	sp->sport_hi = UINT16_MAX;
	sp->dport_hi = UINT16_MAX;
}

void
espgw_req_init(struct espgw_req *req, enum espgw_req_type type)
{
	memset(req, 0, sizeof(*req));
	req->type = type;
	switch (type) {
	case ESPGW_REQ_PORT_ADD:
		req->port.mtu = ESPGW_MTU_DEFAULT;
		break;
	case ESPGW_REQ_SA_ADD:
		sa_defaults(&req->sa);
		break;
	case ESPGW_REQ_SP_ADD:
		sp_defaults(&req->sp);
		break;
	case ESPGW_REQ_SP_DEL:
		sp_defaults(&req->sp_ref.sp);
		break;
	case ESPGW_REQ_SET_CRYPTO_PATH:
		req->crypto_path = ESPGW_CRYPTO_PATH_AUTO;
		break;
	case ESPGW_REQ_SET_BURST:
		req->burst = ESPGW_BURST_DEFAULT;
		break;
	case ESPGW_REQ_SET_MAX_SA:
		req->max_sa = ESPGW_MAX_SA_DEFAULT;
		break;
	case ESPGW_REQ_SET_NAT_KEEPALIVE:
		req->nat_keepalive = ESPGW_NAT_KEEPALIVE_DEFAULT;
		break;
	default:
		break;
	}
}

void
espgw_store_init(struct espgw_store *s)
{
	memset(s, 0, sizeof(*s));
	s->global.crypto_path = ESPGW_CRYPTO_PATH_AUTO;
	s->global.burst = ESPGW_BURST_DEFAULT;
	s->global.max_sa = 0; /* auto: espgw_store_slots_fix() */
	s->global.nat_keepalive = ESPGW_NAT_KEEPALIVE_DEFAULT;
}

static void
wipe_free(void *arr, unsigned int cap, size_t elem)
{
	if (arr == NULL)
		return;
	explicit_bzero(arr, (size_t)cap * elem);
	free(arr);
}

void
espgw_store_fini(struct espgw_store *s)
{
	/* Everything is wiped, not only SAs: cheap, and no field can be forgotten. */
	wipe_free(s->ports, s->cap_ports, sizeof(*s->ports));
	wipe_free(s->sas, s->cap_sas, sizeof(*s->sas));
	wipe_free(s->sps, s->cap_sps, sizeof(*s->sps));
	wipe_free(s->routes, s->cap_routes, sizeof(*s->routes));
	wipe_free(s->neighs, s->cap_neighs, sizeof(*s->neighs));
	wipe_free(s->cryptos, s->cap_cryptos, sizeof(*s->cryptos));
	free(s->slot);
	free(s->dirty);
	espgw_store_ix_free(s);
	espgw_store_commit(s); /* the journal's copies are wiped */
	espgw_store_init(s);
}

static int
global_set(struct espgw_store *s, const struct espgw_global_conf *g, struct espgw_err *err)
{
	return espgw_store_global_set(s, g) < 0 ? espgw_store_nomem(err) : 0;
}

static int
set_crypto_path(struct espgw_store *s, enum espgw_crypto_path p, struct espgw_err *err)
{
	struct espgw_global_conf g = s->global;

	if (p != ESPGW_CRYPTO_PATH_AUTO && p != ESPGW_CRYPTO_PATH_CRYPTODEV &&
			p != ESPGW_CRYPTO_PATH_CPU && p != ESPGW_CRYPTO_PATH_DIRECT)
		return espgw_err_set(err, "crypto-path must be auto, cryptodev, cpu or direct");
	if (espgw_store_sas_fit_path(s, p, err) < 0)
		return -1;
	g.crypto_path = p;
	return global_set(s, &g, err);
}

static int
set_burst(struct espgw_store *s, uint16_t burst, struct espgw_err *err)
{
	struct espgw_global_conf g = s->global;

	if (burst < 1 || burst > ESPGW_BURST_MAX)
		return espgw_err_set(err, "burst must be 1..%u, got %u", ESPGW_BURST_MAX, burst);
	g.burst = burst;
	return global_set(s, &g, err);
}

static int
set_nat_keepalive(struct espgw_store *s, uint32_t secs, struct espgw_err *err)
{
	struct espgw_global_conf g = s->global;

	if (secs > ESPGW_NAT_KEEPALIVE_MAX)
		return espgw_err_set(err, "nat-keepalive must be 0..%u seconds, got %u",
				ESPGW_NAT_KEEPALIVE_MAX, secs);
	g.nat_keepalive = secs;
	return global_set(s, &g, err);
}

/* The slot table is sized once: the data path's SA tables are allocated to it. */
static int
set_max_sa(struct espgw_store *s, uint32_t max_sa, struct espgw_err *err)
{
	struct espgw_global_conf g = s->global;

	if (max_sa < 1 || max_sa > ESPGW_MAX_SA_MAX)
		return espgw_err_set(err, "max-sa must be 1..%u, got %u", ESPGW_MAX_SA_MAX, max_sa);
	if (s->n_slot_allocs != 0)
		return espgw_err_set(err, "set max-sa must come before the first sa add");
	g.max_sa = max_sa;
	return global_set(s, &g, err);
}

int
espgw_store_slots_fix(struct espgw_store *s, uint32_t min)
{
	uint32_t cap = s->global.max_sa, used = 0, i;
	uint8_t *slot;

	for (i = 0; i < s->n_sas; i++)
		used = MAX_U32(used, s->sas[i].slot + 1);
	if (cap == 0)
		cap = used * 2 > min ? used * 2 : min;
	if (cap > ESPGW_MAX_SA_MAX)
		cap = ESPGW_MAX_SA_MAX;
	slot = calloc(cap, 1);
	if (slot == NULL)
		return -1;
	if (s->slot != NULL)
		memcpy(slot, s->slot, used);
	free(s->slot);
	s->slot = slot;
	s->slot_cap = cap;
	s->global.max_sa = cap;
	return 0;
}

void
espgw_store_slot_dirty(struct espgw_store *s, uint32_t slot)
{
	uint32_t *d;

	if (s->dirty_all)
		return;
	/* More entries than slots: listing is no cheaper than looking at all. */
	if (s->n_dirty >= s->slot_cap || (d = espgw_store_grow(s->dirty, &s->cap_dirty, s->n_dirty,
							  sizeof(*d))) == NULL) {
		s->dirty_all = true;
		s->n_dirty = 0;
		return;
	}
	s->dirty = d;
	s->dirty[s->n_dirty++] = slot;
}

const uint32_t *
espgw_store_dirty(const struct espgw_store *s, unsigned int *n, bool *all)
{
	*n = s->n_dirty;
	*all = s->dirty_all;
	return s->dirty;
}

void
espgw_store_dirty_clear(struct espgw_store *s)
{
	s->n_dirty = 0;
	s->dirty_all = false;
}

const struct espgw_sa_conf *
espgw_store_sa_of_slot(const struct espgw_store *s, uint32_t slot)
{
	int i = espgw_store_ix_sa_slot(s, slot);

	return i < 0 ? NULL : &s->sas[i];
}

void
espgw_store_slot_release(struct espgw_store *s, uint32_t slot)
{
	/* Not journaled: the release happens whatever a transaction does later. */
	if (s->slot != NULL && slot < s->slot_cap && s->slot[slot] == ESPGW_SLOT_RETIRING)
		s->slot[slot] = ESPGW_SLOT_FREE;
}

static int
dispatch(struct espgw_store *s, const struct espgw_req *req, struct espgw_err *err)
{
	switch (req->type) {
	case ESPGW_REQ_PORT_ADD:
		return espgw_store_port_add(s, &req->port, err);
	case ESPGW_REQ_SA_ADD:
		return espgw_store_sa_add(s, &req->sa, err);
	case ESPGW_REQ_SA_DEL:
		return espgw_store_sa_del(s, req->name, err);
	case ESPGW_REQ_SA_DECLARE:
		return espgw_store_sa_declare(s, &req->sa_decl, err);
	case ESPGW_REQ_SA_UPDATE:
		return espgw_store_sa_update(s, &req->sa_update, err);
	case ESPGW_REQ_SP_ADD:
		return espgw_store_sp_add(s, &req->sp, err);
	case ESPGW_REQ_SP_DEL:
		return espgw_store_sp_del(s, &req->sp_ref, err);
	case ESPGW_REQ_SP_SET:
		return espgw_store_sp_set(s, &req->sp_set, err);
	case ESPGW_REQ_ROUTE_ADD:
		return espgw_store_route_add(s, &req->route, err);
	case ESPGW_REQ_ROUTE_DEL:
		return espgw_store_route_del(s, &req->route, err);
	case ESPGW_REQ_NEIGH_ADD:
		return espgw_store_neigh_add(s, &req->neigh, err);
	case ESPGW_REQ_NEIGH_DEL:
		return espgw_store_neigh_del(s, &req->neigh, err);
	case ESPGW_REQ_CRYPTO_ADD:
		return espgw_store_crypto_add(s, &req->crypto, err);
	case ESPGW_REQ_SET_CRYPTO_PATH:
		return set_crypto_path(s, req->crypto_path, err);
	case ESPGW_REQ_SET_BURST:
		return set_burst(s, req->burst, err);
	case ESPGW_REQ_SET_MAX_SA:
		return set_max_sa(s, req->max_sa, err);
	case ESPGW_REQ_SET_NAT_KEEPALIVE:
		return set_nat_keepalive(s, req->nat_keepalive, err);
	}
	return espgw_err_set(err, "unknown request type %d", (int)req->type);
}

int
espgw_store_apply(struct espgw_store *s, const struct espgw_req *req, struct espgw_err *err)
{
	struct espgw_err scratch;

	return dispatch(s, req, err != NULL ? err : &scratch);
}

int
espgw_store_port_index(const struct espgw_store *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n_ports; i++)
		if (strcmp(s->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct espgw_port_conf *
espgw_store_port(const struct espgw_store *s, const char *name)
{
	int i = espgw_store_port_index(s, name);

	return i < 0 ? NULL : &s->ports[i];
}

int
espgw_store_sa_index(const struct espgw_store *s, const char *name)
{
	return espgw_store_ix_sa_name(s, name);
}

const struct espgw_sa_conf *
espgw_store_sa(const struct espgw_store *s, const char *name)
{
	int i = espgw_store_sa_index(s, name);

	return i < 0 ? NULL : &s->sas[i];
}

int
espgw_store_crypto_index(const struct espgw_store *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n_cryptos; i++)
		if (strcmp(s->cryptos[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct espgw_crypto_conf *
espgw_store_crypto(const struct espgw_store *s, const char *name)
{
	int i = espgw_store_crypto_index(s, name);

	return i < 0 ? NULL : &s->cryptos[i];
}

int
espgw_store_port_of_addr(const struct espgw_store *s, const struct espgw_ip *ip)
{
	unsigned int i, a;

	for (i = 0; i < s->n_ports; i++)
		for (a = 0; a < s->ports[i].n_addr; a++)
			if (espgw_ip_equal(&s->ports[i].addr[a].ip, ip))
				return (int)i;
	return -1;
}

enum espgw_crypto_path
espgw_store_sa_crypto_path(const struct espgw_store *s, const struct espgw_sa_conf *sa)
{
	if (sa->crypto_path == ESPGW_CRYPTO_PATH_DEFAULT)
		return s->global.crypto_path;
	return sa->crypto_path;
}
