/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding table: rte_lpm / rte_lpm6 map a destination to a next-hop slot;
 * a slot is either a hop (a neighbor entry, or a local address) or "on-link on
 * port P", where the destination itself is the neighbor and is looked up in
 * the neighbor table, falling back to the route's unresolved hop on a miss.
 *
 * Build order sets precedence for equal prefixes: connected subnets, then
 * "route add" (replaces a connected route of the same prefix), then the
 * gateway's own addresses as host routes and the IPv6 link-local and
 * multicast ranges as local (never overridden).
 *
 * A change of routes builds a whole new version beside the published one
 * (espgw_route_rebuild), sharing its neighbor table: the caller publishes it
 * by RCU and frees the old one after the grace period, as the SPD. Routes
 * change seldom; rte_lpm6 cannot change under readers at all, and a rebuilt
 * table is exactly the one a restart would build.
 */
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>

#include "espgw_route.h"
#include "neigh_table.h"

#define CHUNK	RTE_HASH_LOOKUP_BULK_MAX
#define NH_NONE UINT32_MAX
#define NH_MASK 0x00ffffffu /* rte_lpm next hops are 24 bits */

struct rt_nh {
	const struct espgw_l2_hop *hop; /* on-link: the hop used on a neighbor miss */
	uint16_t port_idx;
	bool onlink;
};

struct espgw_route {
	struct rte_lpm *lpm4; /* NULL when there is no IPv4 route */
	struct rte_lpm6 *lpm6;
	uint32_t def4, def6; /* slot of a /0 route (rte_lpm wants depth >= 1), or NH_NONE */
	struct espgw_neigh *neigh;
	struct rt_nh *nh; /* next-hop slots, indexed by the LPM result */
	unsigned int n_nh, cap_nh;
	struct espgw_l2_hop *own; /* local and on-link-miss hops (stable addresses) */
	unsigned int n_own, cap_own;
	const struct espgw_ports *ports; /* for hops the control path adds */
	int socket;
	struct espgw_route_conf *conf; /* the routes it was built from (espgw_route_built_from) */
	unsigned int n_conf;
};

struct build {
	struct espgw_route *r;
	const struct espgw_store *s;
	const struct espgw_ports *p;
	struct espgw_err *err;
};

/* LPM and hash names must be unique process-wide: an old table lives on
 * until RCU says the workers left it. */
static uint32_t name_seq;

static int
fail(struct build *b, const char *msg, const char *arg)
{
	if (b->err != NULL)
		snprintf(b->err->msg, sizeof(b->err->msg), "route: %s%s", msg, arg);
	return -1;
}

static int
port_index(const struct espgw_store *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n_ports; i++)
		if (strcmp(s->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The port whose subnet holds ip: for a "via" given without a port. */
static int
port_of_via(const struct espgw_store *s, const struct espgw_ip *ip)
{
	unsigned int i, a;

	for (i = 0; i < s->n_ports; i++)
		for (a = 0; a < s->ports[i].n_addr; a++)
			if (espgw_prefix_contains(&s->ports[i].addr[a], ip))
				return (int)i;
	return -1;
}

static void
hop_fill(const struct espgw_port_info *pi, uint16_t idx, const struct espgw_ip *ip, uint8_t kind,
		struct espgw_l2_hop *h)
{
	memset(h, 0, sizeof(*h));
	h->src = pi->mac;
	h->port_id = pi->port_id;
	h->port_idx = idx;
	h->mtu = pi->mtu;
	h->kind = kind;
	h->unprotected = pi->role == ESPGW_ROLE_UNPROTECTED;
	h->ip = *ip;
}

/* A hop leaving through port idx towards ip, not yet resolved. */
static int
hop_init(struct build *b, int idx, const struct espgw_ip *ip, struct espgw_l2_hop *h)
{
	if (idx < 0 || (unsigned int)idx >= b->p->n)
		return fail(b, "unknown port or port without ethdev", "");
	hop_fill(&b->p->port[idx], (uint16_t)idx, ip, ESPGW_HOP_OWN, h);
	return 0;
}

static const struct espgw_l2_hop *
own_add(struct espgw_route *r, const struct espgw_l2_hop *h)
{
	if (r->n_own == r->cap_own)
		return NULL;
	r->own[r->n_own] = *h;
	return &r->own[r->n_own++];
}

static uint32_t
nh_add(struct espgw_route *r, const struct espgw_l2_hop *hop, bool onlink)
{
	if (hop == NULL || r->n_nh == r->cap_nh)
		return NH_NONE;
	r->nh[r->n_nh].hop = hop;
	r->nh[r->n_nh].port_idx = hop->port_idx;
	r->nh[r->n_nh].onlink = onlink;
	return r->n_nh++;
}

static int
prefix_add(struct build *b, const struct espgw_prefix *pfx, uint32_t slot)
{
	struct espgw_route *r = b->r;
	bool v4 = pfx->ip.family == ESPGW_AF_INET;
	int rc;

	if (slot == NH_NONE)
		return fail(b, "out of next-hop slots", "");
	if (pfx->len == 0) {
		*(v4 ? &r->def4 : &r->def6) = slot;
		return 0;
	}
	if (v4)
		rc = rte_lpm_add(r->lpm4, rte_be_to_cpu_32(pfx->ip.v4), pfx->len, slot);
	else
		rc = rte_lpm6_add(r->lpm6, pfx->ip.v6, pfx->len, slot);
	return rc < 0 ? fail(b, "LPM add failed (table full?)", "") : 0;
}

/* Static neighbors first, so routes via them find them resolved (the first build only). */
static int
neighs_add(struct build *b)
{
	const struct espgw_neigh_conf *nc;
	struct espgw_l2_hop h;
	unsigned int i;
	int idx;

	for (i = 0; i < b->s->n_neighs; i++) {
		nc = &b->s->neighs[i];
		idx = port_index(b->s, nc->port);
		if (hop_init(b, idx, &nc->ip, &h) < 0)
			return -1;
		if (espgw_neigh_find(b->r->neigh, (uint16_t)idx, &nc->ip) != NULL)
			continue;
		h.kind = ESPGW_HOP_STATIC;
		memcpy(h.dst.addr_bytes, nc->mac, RTE_ETHER_ADDR_LEN);
		h.resolved = true;
		if (espgw_neigh_get(b->r->neigh, &h) == NULL)
			return fail(b, "neighbor table full", "");
	}
	return 0;
}

/*
 * The hop of an on-link route when the destination is not in the neighbor
 * table: unresolved, and its address unspecified because the next hop is each
 * packet's own destination.
 */
static int
onlink_hop_init(struct build *b, int idx, uint8_t family, struct espgw_l2_hop *h)
{
	struct espgw_ip any = {.family = family};

	return hop_init(b, idx, &any, h);
}

/* Connected route of one port address: on-link. */
static int
connected_add(struct build *b, int idx, const struct espgw_prefix *a)
{
	struct espgw_l2_hop h;

	if (onlink_hop_init(b, idx, a->ip.family, &h) < 0)
		return -1;
	return prefix_add(b, a, nh_add(b->r, own_add(b->r, &h), true));
}

/* Host route of one port address: the hop says local. */
static int
local_add(struct build *b, int idx, const struct espgw_prefix *a)
{
	struct espgw_prefix host = {.ip = a->ip};
	struct espgw_l2_hop h;

	host.len = a->ip.family == ESPGW_AF_INET ? 32 : 128;
	if (hop_init(b, idx, &a->ip, &h) < 0)
		return -1;
	h.dst = h.src;
	h.resolved = true;
	h.local = true;
	return prefix_add(b, &host, nh_add(b->r, own_add(b->r, &h), false));
}

/*
 * fe80::/10 and ff00::/8 are local: link-local packets are never forwarded
 * (RFC 4291 2.5.6) and ND arrives at solicited-node multicast addresses
 * (RFC 4861 7.2.2). The control path takes them and checks the port.
 */
static int
v6_scoped_add(struct build *b)
{
	static const char *const scoped[] = {"fe80::/10", "ff00::/8"};
	struct espgw_prefix p;
	struct espgw_l2_hop h;
	unsigned int i;

	if (b->r->lpm6 == NULL)
		return 0;
	for (i = 0; i < RTE_DIM(scoped); i++) {
		if (espgw_prefix_parse(scoped[i], &p) < 0 || hop_init(b, 0, &p.ip, &h) < 0)
			return -1;
		h.dst = h.src;
		h.resolved = true;
		h.local = true;
		if (prefix_add(b, &p, nh_add(b->r, own_add(b->r, &h), false)) < 0)
			return -1;
	}
	return 0;
}

static int
port_addrs_add(struct build *b, int (*add)(struct build *, int, const struct espgw_prefix *))
{
	const struct espgw_port_conf *pc;
	unsigned int i, a;

	for (i = 0; i < b->s->n_ports; i++) {
		pc = &b->s->ports[i];
		for (a = 0; a < pc->n_addr; a++)
			if (add(b, (int)i, &pc->addr[a]) < 0)
				return -1;
	}
	return 0;
}

int
espgw_route_conf_port(const struct espgw_store *s, const struct espgw_route_conf *rc)
{
	if (rc->port[0] != '\0')
		return port_index(s, rc->port);
	return rc->via.family != 0 ? port_of_via(s, &rc->via) : -1;
}

static int
route_port(const struct build *b, const struct espgw_route_conf *rc)
{
	return espgw_route_conf_port(b->s, rc);
}

static int
route_add(struct build *b, const struct espgw_route_conf *rc)
{
	const struct espgw_l2_hop *hop;
	struct espgw_l2_hop h;
	bool onlink = rc->via.family == 0;

	if (!onlink && rc->via.family != rc->dst.ip.family)
		return fail(b, "route via another address family", "");
	if (onlink) {
		if (onlink_hop_init(b, route_port(b, rc), rc->dst.ip.family, &h) < 0)
			return -1;
		hop = own_add(b->r, &h);
	} else {
		if (hop_init(b, route_port(b, rc), &rc->via, &h) < 0)
			return -1;
		h.kind = ESPGW_HOP_VIA; /* a static neighbor of that address stays static */
		hop = espgw_neigh_get(b->r->neigh, &h);
	}
	if (hop == NULL)
		return fail(b, "neighbor table full", "");
	return prefix_add(b, &rc->dst, nh_add(b->r, hop, onlink));
}

static int
routes_add(struct build *b)
{
	unsigned int i;

	for (i = 0; i < b->s->n_routes; i++)
		if (route_add(b, &b->s->routes[i]) < 0)
			return -1;
	return 0;
}

/*
 * LPM rules per family: two per port address (subnet, host), the routes, and
 * the two IPv6 scoped ranges when there is any IPv6 rule at all.
 */
static void
count_rules(const struct espgw_store *s, unsigned int *n4, unsigned int *n6)
{
	unsigned int i, a;

	*n4 = *n6 = 0;
	for (i = 0; i < s->n_ports; i++)
		for (a = 0; a < s->ports[i].n_addr; a++)
			*(s->ports[i].addr[a].ip.family == ESPGW_AF_INET ? n4 : n6) += 2;
	for (i = 0; i < s->n_routes; i++)
		*(s->routes[i].dst.ip.family == ESPGW_AF_INET ? n4 : n6) += 1;
	if (*n6 != 0)
		*n6 += 2;
}

static int
lpm_create(struct build *b, unsigned int n4, unsigned int n6, int socket)
{
	/* A rule deeper than /24 takes at most one tbl8 group in rte_lpm; in
	 * rte_lpm6 at most one per byte past the first three (13 for a /128). */
	struct rte_lpm_config c4 = {.max_rules = n4, .number_tbl8s = n4 + 8};
	struct rte_lpm6_config c6 = {.max_rules = n6, .number_tbl8s = 14 * n6 + 8};
	char name[RTE_LPM_NAMESIZE];
	uint32_t seq = __atomic_fetch_add(&name_seq, 1, __ATOMIC_RELAXED);

	snprintf(name, sizeof(name), "rt4-%u", seq);
	if (n4 > 0 && (b->r->lpm4 = rte_lpm_create(name, socket, &c4)) == NULL)
		return fail(b, "rte_lpm_create failed: ", name);
	snprintf(name, sizeof(name), "rt6-%u", seq);
	if (n6 > 0 && (b->r->lpm6 = rte_lpm6_create(name, socket, &c6)) == NULL)
		return fail(b, "rte_lpm6_create failed: ", name);
	if (b->r->neigh != NULL) /* a rebuild: the table is shared */
		return 0;
	snprintf(name, sizeof(name), "nb-%u", seq);
	b->r->neigh = espgw_neigh_create(name,
			b->s->n_neighs + b->s->n_routes + ESPGW_NEIGH_LIVE + ESPGW_NEIGH_SPARE,
			socket);
	return b->r->neigh == NULL ? fail(b, "neighbor table create failed: ", name) : 0;
}

static int
tables_create(struct build *b, int socket)
{
	struct espgw_route *r = b->r;
	unsigned int n4, n6;

	count_rules(b->s, &n4, &n6);
	r->def4 = r->def6 = NH_NONE;
	r->cap_nh = r->cap_own = n4 + n6;
	if (r->cap_nh >= NH_MASK)
		return fail(b, "too many routes", "");
	r->nh = rte_zmalloc_socket("espgw_route_nh", (r->cap_nh + 1) * sizeof(*r->nh), 0, socket);
	r->own = rte_zmalloc_socket(
			"espgw_route_own", (r->cap_own + 1) * sizeof(*r->own), 0, socket);
	if (r->nh == NULL || r->own == NULL)
		return fail(b, "out of memory", "");
	return lpm_create(b, n4, n6, socket);
}

static struct espgw_route *
build(const struct espgw_store *s, const struct espgw_ports *p, struct espgw_neigh *neigh,
		int socket, struct espgw_err *err)
{
	struct build b = {.s = s, .p = p, .err = err};

	b.r = rte_zmalloc_socket("espgw_route", sizeof(*b.r), 0, socket);
	if (b.r == NULL) {
		espgw_neigh_free(neigh);
		fail(&b, "out of memory", "");
		return NULL;
	}
	b.r->ports = p;
	b.r->socket = socket;
	b.r->neigh = neigh;
	/* From DPDK's heap like the rest: a pointer in it to libc's heap is one LSan cannot see. */
	b.r->conf = rte_malloc_socket(
			"espgw_route_conf", (s->n_routes + 1) * sizeof(*s->routes), 0, socket);
	if (b.r->conf == NULL) {
		espgw_route_free(b.r);
		fail(&b, "out of memory", "");
		return NULL;
	}
	if (s->n_routes > 0) /* s->routes may be NULL then */
		memcpy(b.r->conf, s->routes, s->n_routes * sizeof(*s->routes));
	b.r->n_conf = s->n_routes;
	/* A rebuild leaves static neighbors to the control path (lib/host/neigh_oper.c). */
	if (tables_create(&b, socket) < 0 || (neigh == NULL && neighs_add(&b) < 0) ||
			port_addrs_add(&b, connected_add) < 0 || routes_add(&b) < 0 ||
			port_addrs_add(&b, local_add) < 0 || v6_scoped_add(&b) < 0) {
		espgw_route_free(b.r);
		return NULL;
	}
	return b.r;
}

struct espgw_route *
espgw_route_build(const struct espgw_store *s, const struct espgw_ports *p, int socket,
		struct espgw_err *err)
{
	return build(s, p, NULL, socket, err);
}

bool
espgw_route_built_from(const struct espgw_route *r, const struct espgw_store *s)
{
	return r->n_conf == s->n_routes &&
	       (s->n_routes == 0 ||
			       memcmp(r->conf, s->routes, s->n_routes * sizeof(*s->routes)) == 0);
}

struct espgw_route *
espgw_route_rebuild(
		const struct espgw_route *prev, const struct espgw_store *s, struct espgw_err *err)
{
	return build(s, prev->ports, espgw_neigh_ref(prev->neigh), prev->socket, err);
}

void
espgw_route_free(struct espgw_route *r)
{
	if (r == NULL)
		return;
	rte_lpm_free(r->lpm4);
	rte_lpm6_free(r->lpm6);
	espgw_neigh_free(r->neigh);
	rte_free(r->conf);
	rte_free(r->nh);
	rte_free(r->own);
	rte_free(r);
}

/*
 * Turn LPM results (slot, or NH_NONE) into hops for n <= CHUNK destinations of
 * one family; dst points at the address of destination 0, stride bytes apart.
 * On-link slots: the destination is the neighbor, looked up in the neighbor
 * table (the slot's miss hop stays when it is not there). A burst carries runs
 * of packets for one host: each run is looked up once. A run is recognised
 * from the slot and the address, not from the key just written (reading that
 * back would stall on store forwarding).
 */
static void
slots_to_hops(const struct espgw_route *r, const uint32_t *slot, uint8_t family, const uint8_t *dst,
		size_t stride, const struct espgw_l2_hop *hop[], uint32_t n)
{
	struct espgw_neigh_key keys[CHUNK];
	const struct espgw_neigh_key *kp[CHUNK];
	const struct espgw_l2_hop *found[CHUNK];
	int32_t kid[CHUNK];
	uint32_t i, m = 0, last = 0;
	size_t alen = family == ESPGW_AF_INET ? 4 : 16;
	const struct rt_nh *nh;

	for (i = 0; i < n; i++) {
		kid[i] = -1;
		hop[i] = NULL;
		if (slot[i] == NH_NONE)
			continue;
		nh = &r->nh[slot[i]];
		hop[i] = nh->hop;
		if (!nh->onlink)
			continue;
		if (m == 0 || slot[i] != slot[last] ||
				memcmp(dst + i * stride, dst + last * stride, alen) != 0) {
			espgw_neigh_key_set(&keys[m], nh->port_idx, family, dst + i * stride);
			kp[m] = &keys[m];
			m++;
		}
		last = i;
		kid[i] = (int32_t)m - 1;
	}
	if (m == 0)
		return;
	espgw_neigh_lookup_bulk(r->neigh, kp, m, found);
	for (i = 0; i < n; i++)
		if (kid[i] >= 0 && found[kid[i]] != NULL)
			hop[i] = found[kid[i]];
}

static void
lookup4_chunk(const struct espgw_route *r, const uint32_t dst[], const struct espgw_l2_hop *hop[],
		uint32_t n)
{
	uint32_t ip[CHUNK], res[CHUNK], i;

	for (i = 0; i < n; i++)
		ip[i] = rte_be_to_cpu_32(dst[i]);
	if (r->lpm4 != NULL)
		rte_lpm_lookup_bulk(r->lpm4, ip, res, n);
	else
		memset(res, 0, n * sizeof(res[0]));
	for (i = 0; i < n; i++)
		res[i] = res[i] & RTE_LPM_LOOKUP_SUCCESS ? res[i] & NH_MASK : r->def4;
	slots_to_hops(r, res, ESPGW_AF_INET, (const uint8_t *)dst, sizeof(dst[0]), hop, n);
}

void
espgw_route_lookup4(const struct espgw_route *r, const uint32_t dst[],
		const struct espgw_l2_hop *hop[], uint32_t n)
{
	uint32_t i, c;

	for (i = 0; i < n; i += c) {
		c = n - i < CHUNK ? n - i : CHUNK;
		lookup4_chunk(r, dst + i, hop + i, c);
	}
}

static void
lookup6_chunk(const struct espgw_route *r, const uint8_t (*dst)[16],
		const struct espgw_l2_hop *hop[], uint32_t n)
{
	int32_t res[CHUNK];
	uint32_t slot[CHUNK], i;

	/* rte_lpm6 takes non-const addresses but only reads them. */
	if (r->lpm6 != NULL)
		rte_lpm6_lookup_bulk_func(r->lpm6, (uint8_t(*)[16])(uintptr_t)dst, res, n);
	else
		memset(res, 0xff, n * sizeof(res[0]));
	for (i = 0; i < n; i++)
		slot[i] = res[i] >= 0 ? (uint32_t)res[i] : r->def6;
	slots_to_hops(r, slot, ESPGW_AF_INET6, dst[0], sizeof(dst[0]), hop, n);
}

void
espgw_route_lookup6(const struct espgw_route *r, const uint8_t (*dst)[16],
		const struct espgw_l2_hop *hop[], uint32_t n)
{
	uint32_t i, c;

	for (i = 0; i < n; i += c) {
		c = n - i < CHUNK ? n - i : CHUNK;
		lookup6_chunk(r, dst + i, hop + i, c);
	}
}

bool
espgw_route_is_local(const struct espgw_route *r, const struct espgw_ip *ip)
{
	const struct espgw_l2_hop *hop = espgw_route_lookup(r, ip);

	return hop != NULL && hop->local;
}

const struct espgw_l2_hop *
espgw_route_lookup(const struct espgw_route *r, const struct espgw_ip *dst)
{
	const struct espgw_l2_hop *hop = NULL;
	uint8_t v6[1][16];

	if (dst->family == ESPGW_AF_INET) {
		espgw_route_lookup4(r, &dst->v4, &hop, 1);
	} else if (dst->family == ESPGW_AF_INET6) {
		memcpy(v6[0], dst->v6, sizeof(v6[0]));
		espgw_route_lookup6(r, (const uint8_t(*)[16])v6, &hop, 1);
	}
	return hop;
}

void
espgw_route_rcu_set(struct espgw_route *r, struct rte_rcu_qsbr *qsv)
{
	espgw_neigh_rcu_set(r->neigh, qsv);
}

struct espgw_l2_hop *
espgw_route_neigh_find(struct espgw_route *r, uint16_t port_idx, const struct espgw_ip *ip)
{
	return espgw_neigh_find(r->neigh, port_idx, ip);
}

struct espgw_l2_hop *
espgw_route_neigh_add(struct espgw_route *r, uint16_t port_idx, const struct espgw_ip *ip)
{
	return espgw_route_neigh_make(r, port_idx, ip, ESPGW_HOP_DYNAMIC, NULL);
}

struct espgw_l2_hop *
espgw_route_neigh_make(struct espgw_route *r, uint16_t port_idx, const struct espgw_ip *ip,
		uint8_t kind, const uint8_t *mac)
{
	struct espgw_l2_hop h;

	if (port_idx >= r->ports->n || ip->family == 0 || kind == ESPGW_HOP_OWN ||
			espgw_neigh_find(r->neigh, port_idx, ip) != NULL)
		return NULL;
	hop_fill(&r->ports->port[port_idx], port_idx, ip, kind, &h);
	if (mac != NULL) { /* complete before a reader can find it */
		memcpy(h.dst.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
		h.resolved = true;
	}
	return espgw_neigh_get(r->neigh, &h);
}

int
espgw_route_neigh_del(struct espgw_route *r, struct espgw_l2_hop *h)
{
	if (h->kind == ESPGW_HOP_OWN)
		return -1;
	espgw_hop_unpublish(h);
	return espgw_neigh_del(r->neigh, h);
}

struct espgw_l2_hop *
espgw_route_neigh_at(struct espgw_route *r, unsigned int slot)
{
	return espgw_neigh_at(r->neigh, slot);
}

void
espgw_route_neigh_reclaim(struct espgw_route *r)
{
	espgw_neigh_reclaim(r->neigh);
}

unsigned int
espgw_route_neigh_cap(const struct espgw_route *r)
{
	return espgw_neigh_cap(r->neigh);
}

unsigned int
espgw_route_neigh_slot(const struct espgw_route *r, const struct espgw_l2_hop *h)
{
	return espgw_neigh_slot(r->neigh, h);
}
