/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The operator's neighbor entries: static neighbors ("neighbor add") and the
 * next hops of routes ("route add ... via"), kept in line with the store
 * while espgw runs. They share the neighbor table with the entries the
 * control path learns (neigh_resolve.c) and have their own room in it, so
 * that learned entries never take it (ESPGW_NEIGH_LIVE beyond the config's).
 *
 * A change never loses what was learned or what waits:
 * - an entry the store now names keeps its slot: a learned one becomes the
 *   operator's (its MAC kept; a static neighbor's MAC replaces it and the
 *   packets waiting for it go);
 * - a static neighbor that is no longer static but still a route's next hop
 *   keeps its MAC and is probed at once (RFC 4861 7.3.3, STALE), so a wrong
 *   MAC lasts no longer than the probes;
 * - an entry the store no longer names is deleted only once no published
 *   forwarding table names it (after the RCU grace period of the new one),
 *   and its waiting packets are routed again by the new table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_int.h"

#define WANT_NONE   ESPGW_HOP_OWN /* nb.want: the store names no such entry */
#define REROUTE_MAX 64		  /* waiting packets routed again per deleted entry */

static int
port_idx(const struct espgw_host *h, const char *name)
{
	const struct espgw_port_conf *p = espgw_store_port(h->store, name);
	int i = p != NULL ? (int)(p - h->store->ports) : -1;

	return i < (int)h->ports->n ? i : -1;
}

static int
via_port_idx(const struct espgw_host *h, const struct espgw_route_conf *c)
{
	int i = espgw_route_conf_port(h->store, c);

	return i < (int)h->ports->n ? i : -1;
}

/* (port, family, address) of one operator entry, for counting distinct ones. */
struct oper_key {
	int port;
	struct espgw_ip ip;
};

static int
oper_key_cmp(const void *a, const void *b)
{
	const struct oper_key *x = a, *y = b;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->ip.family != y->ip.family)
		return x->ip.family < y->ip.family ? -1 : 1;
	return memcmp(x->ip.bytes, y->ip.bytes, sizeof(x->ip.bytes));
}

/*
 * Distinct entries the store names (static neighbors and next hops: many
 * routes share one) and those the table holds for the operator now: what a
 * change replaces keeps its slot until the change is published, so the
 * entries before and after it must fit together.
 */
static int
oper_count(const struct espgw_host *h, unsigned int *count)
{
	const struct espgw_store *s = h->store;
	struct oper_key *k = malloc((s->n_neighs + s->n_routes + h->n_nb + 1) * sizeof(*k));
	const struct espgw_l2_hop *e;
	unsigned int i, n = 0;

	if (k == NULL)
		return -1;
	for (i = 0; i < h->n_nb; i++) {
		e = espgw_route_neigh_at(h->route, i);
		if (e != NULL && (e->kind == ESPGW_HOP_STATIC || e->kind == ESPGW_HOP_VIA))
			k[n++] = (struct oper_key){e->port_idx, e->ip};
	}
	for (i = 0; i < s->n_neighs; i++)
		k[n++] = (struct oper_key){port_idx(h, s->neighs[i].port), s->neighs[i].ip};
	for (i = 0; i < s->n_routes; i++)
		if (s->routes[i].via.family != 0)
			k[n++] = (struct oper_key){
					via_port_idx(h, &s->routes[i]), s->routes[i].via};
	qsort(k, n, sizeof(*k), oper_key_cmp);
	*count = 0;
	for (i = 0; i < n; i++)
		*count += i == 0 || oper_key_cmp(&k[i - 1], &k[i]) != 0;
	free(k);
	return 0;
}

int
espgw_host_neigh_check(const struct espgw_host *h, struct espgw_err *err)
{
	unsigned int n, room = h->n_nb - ESPGW_NEIGH_SPARE;

	if (oper_count(h, &n) < 0) {
		snprintf(err->msg, sizeof(err->msg), "out of memory counting next hops");
		return -1;
	}
	if (n <= room)
		return 0;
	snprintf(err->msg, sizeof(err->msg),
			"static neighbors and next hops of routes: %u would exceed the room of %u "
			"(the config's at start + %u; those a transaction replaces count until it "
			"is published: delete them in an earlier one)",
			n, room, ESPGW_NEIGH_LIVE);
	return -1;
}

/* A learned entry the operator now names: no longer counted among the learned ones. */
static void
dyn_adopt(struct espgw_host *h, struct espgw_l2_hop *e, uint8_t kind)
{
	if (e->kind != ESPGW_HOP_DYNAMIC)
		return;
	h->n_dyn--;
	nb_share_release(h, nb_of(h, e));
	e->kind = kind;
}

/* The operator's MAC: published, the packets waiting for it sent, never resolved again. */
static void
to_static(struct espgw_host *h, struct espgw_l2_hop *e, const uint8_t *mac)
{
	struct nb *nb = nb_of(h, e);
	struct rte_ether_addr a;

	memcpy(a.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	dyn_adopt(h, e, ESPGW_HOP_STATIC);
	e->kind = ESPGW_HOP_STATIC;
	espgw_hop_publish(e, &a);
	nb->hop = e;
	nb_release(h, nb, e);
	nb->state = NB_IDLE;
	nb->tries = 0;
}

static int
full(struct espgw_err *err, const struct espgw_ip *ip, int idx)
{
	char buf[ESPGW_IP_STRLEN];

	snprintf(err->msg, sizeof(err->msg), "%s for %s",
			idx < 0 ? "no port with an ethdev" : "neighbor table full",
			espgw_ip_fmt(ip, buf, sizeof(buf)));
	return -1;
}

/*
 * An entry of kind for the operator; the room was checked, so a full table
 * only holds deleted entries in their grace period: waited for once.
 */
static struct espgw_l2_hop *
oper_make(struct espgw_host *h, uint16_t port, const struct espgw_ip *ip, uint8_t kind,
		const uint8_t *mac)
{
	struct espgw_l2_hop *e = espgw_route_neigh_make(h->route, port, ip, kind, mac);

	if (e != NULL)
		return e;
	espgw_route_neigh_reclaim(h->route);
	return espgw_route_neigh_make(h->route, port, ip, kind, mac);
}

static int
static_ensure(struct espgw_host *h, const struct espgw_neigh_conf *c, struct espgw_err *err)
{
	int idx = port_idx(h, c->port);
	struct espgw_l2_hop *e;

	if (idx < 0)
		return full(err, &c->ip, idx);
	e = espgw_route_neigh_find(h->route, (uint16_t)idx, &c->ip);
	if (e == NULL)
		e = oper_make(h, (uint16_t)idx, &c->ip, ESPGW_HOP_STATIC, c->mac);
	else
		to_static(h, e, c->mac);
	if (e == NULL)
		return full(err, &c->ip, idx);
	nb_of(h, e)->want = ESPGW_HOP_STATIC;
	return 0;
}

/* A route's next hop: resolved on demand like any, deleted with its last route. */
static int
via_ensure(struct espgw_host *h, const struct espgw_route_conf *c, struct espgw_err *err)
{
	int idx = via_port_idx(h, c);
	struct espgw_l2_hop *e;
	struct nb *nb;

	if (idx < 0)
		return full(err, &c->via, idx);
	e = espgw_route_neigh_find(h->route, (uint16_t)idx, &c->via);
	if (e == NULL)
		e = oper_make(h, (uint16_t)idx, &c->via, ESPGW_HOP_VIA, NULL);
	else
		dyn_adopt(h, e, ESPGW_HOP_VIA);
	if (e == NULL)
		return full(err, &c->via, idx);
	nb = nb_of(h, e);
	if (nb->want != ESPGW_HOP_STATIC)
		nb->want = ESPGW_HOP_VIA;
	return 0;
}

/* No longer static, still a next hop: the MAC stays in use and is probed now. */
static void
static_to_via(struct espgw_host *h, struct espgw_l2_hop *e, uint64_t now)
{
	struct nb *nb = nb_of(h, e);

	e->kind = ESPGW_HOP_VIA;
	nb->hop = e;
	nb->state = NB_STALE;
	nb->tries = 0;
	nb->confirmed = now;
	nb_timer_arm(h, nb, now);
}

int
espgw_host_neigh_vias(struct espgw_host *h, struct espgw_err *err)
{
	const struct espgw_store *s = h->store;
	unsigned int i;

	for (i = 0; i < s->n_routes; i++)
		if (s->routes[i].via.family != 0 && via_ensure(h, &s->routes[i], err) < 0)
			return -1;
	return 0;
}

int
espgw_host_neigh_sync(struct espgw_host *h, uint64_t now_ms, struct espgw_err *err)
{
	const struct espgw_store *s = h->store;
	struct espgw_l2_hop *e;
	unsigned int i;

	h->oper_synced = false; /* until every entry the store names is in */
	for (i = 0; i < h->n_nb; i++)
		h->nb[i].want = WANT_NONE;
	for (i = 0; i < s->n_neighs; i++)
		if (static_ensure(h, &s->neighs[i], err) < 0)
			return -1;
	for (i = 0; i < s->n_routes; i++)
		if (s->routes[i].via.family != 0 && via_ensure(h, &s->routes[i], err) < 0)
			return -1;
	for (i = 0; i < h->n_nb; i++) {
		e = espgw_route_neigh_at(h->route, i);
		if (e != NULL && e->kind == ESPGW_HOP_STATIC && h->nb[i].want == ESPGW_HOP_VIA)
			static_to_via(h, e, now_ms);
	}
	h->oper_synced = true;
	return 0;
}

void
espgw_host_route_set(struct espgw_host *h, struct espgw_route *r)
{
	h->route = r;
}

/* Delete an entry nobody names; what waited on it is routed again, by the same port only. */
static void
oper_remove(struct espgw_host *h, struct espgw_l2_hop *e, struct nb *nb, uint64_t now)
{
	struct rte_mbuf *m[REROUTE_MAX], **q = nb_queue(h, nb);
	uint16_t i, n = RTE_MIN(nb->qn, REROUTE_MAX), port = e->port_idx;

	memcpy(m, q, n * sizeof(m[0]));
	for (i = n; i < nb->qn; i++)
		host_drop(h, q[i], ESPGW_DROP_NO_ROUTE);
	h->st.pending -= nb->qn;
	nb->qn = 0;
	nb->state = NB_IDLE;
	nb->tries = 0;
	nb->hop = NULL;
	espgw_route_neigh_del(h->route, e);
	for (i = 0; i < n; i++)
		neigh_output(h, m[i], port, now); /* e may be reused by now */
}

void
espgw_host_neigh_prune(struct espgw_host *h, uint64_t now_ms)
{
	struct espgw_l2_hop *e;
	unsigned int i;

	/* The marks say what the store names only right after a complete sync. */
	if (!h->oper_synced)
		return;
	h->oper_synced = false;
	for (i = 0; i < h->n_nb; i++) {
		e = espgw_route_neigh_at(h->route, i);
		if (e != NULL && (e->kind == ESPGW_HOP_STATIC || e->kind == ESPGW_HOP_VIA) &&
				h->nb[i].want == WANT_NONE)
			oper_remove(h, e, &h->nb[i], now_ms);
	}
}

unsigned int
espgw_host_neigh_slots(const struct espgw_host *h)
{
	return h->n_nb;
}

bool
espgw_host_neigh_info(const struct espgw_host *h, unsigned int slot, struct espgw_neigh_info *info)
{
	static const char *const state[] = {
			[NB_IDLE] = "none",
			[NB_INCOMPLETE] = "incomplete",
			[NB_REACHABLE] = "reachable",
			[NB_STALE] = "stale",
			[NB_PROBE] = "probe",
	};
	const struct espgw_l2_hop *e = espgw_route_neigh_at(h->route, slot);
	const struct nb *nb = &h->nb[slot];

	if (e == NULL)
		return false;
	memset(info, 0, sizeof(*info));
	info->ip = e->ip;
	info->resolved = espgw_hop_resolved(e);
	espgw_hop_dst(e, &info->mac);
	info->port_idx = e->port_idx;
	info->kind = e->kind;
	info->state = e->kind == ESPGW_HOP_STATIC ? "permanent" : state[nb->state];
	info->waiting = nb->qn;
	return true;
}
