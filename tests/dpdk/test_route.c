/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding table tests on a real EAL: connected and host routes from port
 * addresses, static routes via resolved and unresolved neighbors, longest
 * prefix, default and missing routes, for both families, single and in bursts
 * longer than one internal chunk. Store and ports are filled by hand. The
 * live neighbor table: one on-link destination (a single neighbor key) and
 * bursts agree while hosts are learned, deleted (in limbo), learned again and
 * the table fills, and while a reader races the control path.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

#include "espgw_route.h"

#define P_PROT	 0 /* port indexes */
#define P_UNPROT 1

static const uint8_t mac_prot[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_unprot[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t mac_gw4[6] = {0xaa, 0, 0, 0, 0, 0x01};
static const uint8_t mac_host7[6] = {0xbb, 0, 0, 0, 0, 0x07};
static const uint8_t mac_gw6[6] = {0xcc, 0, 0, 0, 0, 0x01};

static struct espgw_port_conf ports_conf[2];
static struct espgw_route_conf routes[16];
static struct espgw_neigh_conf neighs[8];
static struct espgw_store store;
static struct espgw_ports ports;

static void
prefix_set(struct espgw_prefix *p, const char *s)
{
	assert_int_equal(espgw_prefix_parse(s, p), 0);
}

static void
port_conf(unsigned int i, const char *name, const char *const addr[], unsigned int n)
{
	struct espgw_port_conf *pc = &ports_conf[i];
	unsigned int a;

	memset(pc, 0, sizeof(*pc));
	snprintf(pc->name, sizeof(pc->name), "%s", name);
	for (a = 0; a < n; a++)
		prefix_set(&pc->addr[a], addr[a]);
	pc->n_addr = (uint8_t)n;
}

static void
port_info(unsigned int i, uint16_t port_id, const uint8_t mac[6], uint16_t mtu)
{
	ports.port[i].port_id = port_id;
	memcpy(ports.port[i].mac.addr_bytes, mac, 6);
	ports.port[i].mtu = mtu;
	ports.port[i].conf = &ports_conf[i];
}

static void
route(const char *dst, const char *via, const char *port)
{
	struct espgw_route_conf *rc = &routes[store.n_routes++];

	memset(rc, 0, sizeof(*rc));
	prefix_set(&rc->dst, dst);
	if (via != NULL)
		assert_int_equal(espgw_ip_parse(via, &rc->via), 0);
	snprintf(rc->port, sizeof(rc->port), "%s", port);
}

static void
neigh(const char *ip, const uint8_t mac[6], const char *port)
{
	struct espgw_neigh_conf *nc = &neighs[store.n_neighs++];

	memset(nc, 0, sizeof(*nc));
	assert_int_equal(espgw_ip_parse(ip, &nc->ip), 0);
	memcpy(nc->mac, mac, 6);
	snprintf(nc->port, sizeof(nc->port), "%s", port);
}

/*
 * prot:   10.0.0.1/24, 2001:db8:a::1/64          (ethdev 3, MTU 1500)
 * unprot: 192.0.2.1/24, 198.51.100.1/32, 2001:db8:b::1/64 (ethdev 5, MTU 1400)
 */
static void
setup_base(void)
{
	static const char *const a_prot[] = {"10.0.0.1/24", "2001:db8:a::1/64"};
	static const char *const a_unprot[] = {
			"192.0.2.1/24", "198.51.100.1/32", "2001:db8:b::1/64"};

	memset(&store, 0, sizeof(store));
	memset(&ports, 0, sizeof(ports));
	store.ports = ports_conf;
	store.routes = routes;
	store.neighs = neighs;
	port_conf(P_PROT, "prot", a_prot, RTE_DIM(a_prot));
	port_conf(P_UNPROT, "unprot", a_unprot, RTE_DIM(a_unprot));
	store.n_ports = 2;
	port_info(P_PROT, 3, mac_prot, 1500);
	port_info(P_UNPROT, 5, mac_unprot, 1400);
	ports.n = 2;
	neigh("192.0.2.254", mac_gw4, "unprot");
	neigh("10.0.0.7", mac_host7, "prot");
	neigh("2001:db8:b::fe", mac_gw6, "unprot");
}

static void
setup_routes(bool with_default)
{
	setup_base();
	if (with_default) {
		route("0.0.0.0/0", "192.0.2.254", "unprot");
		route("::/0", "2001:db8:b::fe", "unprot");
	}
	route("172.16.0.0/12", "10.0.0.9", "prot");
	route("172.16.5.0/24", "10.0.0.7", "prot");
	route("203.0.113.0/24", NULL, "unprot");
	route("2001:db8:c::/48", "2001:db8:a::9", "prot");
	route("2001:db8:c:1::/64", "2001:db8:b::fe", "unprot");
	/* Via without a port: the port whose subnet holds the next hop. */
	route("100.64.0.0/10", "10.0.0.7", "");
}

static struct espgw_route *
build(void)
{
	struct espgw_err err = {{0}};
	struct espgw_route *r = espgw_route_build(&store, &ports, SOCKET_ID_ANY, &err);

	if (r == NULL)
		fail_msg("route build: %s", err.msg);
	return r;
}

enum kind { NOROUTE, LOCAL, RESOLVED, UNRESOLVED };

struct hop_case {
	const char *dst;
	enum kind kind;
	uint16_t port_idx;
	const uint8_t *mac; /* RESOLVED: the neighbor's MAC */
	const char *nh;	    /* the next hop address (hop->ip), NULL: not checked */
};

static const struct hop_case cases4[] = {
		{"10.0.0.7", RESOLVED, P_PROT, mac_host7, "10.0.0.7"},
		{"10.0.0.8", UNRESOLVED, P_PROT, NULL, "0.0.0.0"},
		{"10.0.0.255", UNRESOLVED, P_PROT, NULL, NULL},
		{"10.0.0.1", LOCAL, P_PROT, NULL, "10.0.0.1"},
		{"192.0.2.1", LOCAL, P_UNPROT, NULL, "192.0.2.1"},
		{"198.51.100.1", LOCAL, P_UNPROT, NULL, "198.51.100.1"},
		{"198.51.100.2", RESOLVED, P_UNPROT, mac_gw4, "192.0.2.254"},
		{"192.0.2.254", RESOLVED, P_UNPROT, mac_gw4, "192.0.2.254"},
		{"172.16.5.9", RESOLVED, P_PROT, mac_host7, "10.0.0.7"},
		{"172.16.6.9", UNRESOLVED, P_PROT, NULL, "10.0.0.9"},
		{"172.31.255.255", UNRESOLVED, P_PROT, NULL, "10.0.0.9"},
		{"172.32.0.1", RESOLVED, P_UNPROT, mac_gw4, "192.0.2.254"},
		{"8.8.8.8", RESOLVED, P_UNPROT, mac_gw4, "192.0.2.254"},
		{"203.0.113.5", UNRESOLVED, P_UNPROT, NULL, "0.0.0.0"},
		{"100.100.1.1", RESOLVED, P_PROT, mac_host7, "10.0.0.7"},
};

static const struct hop_case cases6[] = {
		{"2001:db8:a::1", LOCAL, P_PROT, NULL, "2001:db8:a::1"},
		{"2001:db8:b::1", LOCAL, P_UNPROT, NULL, "2001:db8:b::1"},
		{"2001:db8:a::2", UNRESOLVED, P_PROT, NULL, "::"},
		{"2001:db8:b::fe", RESOLVED, P_UNPROT, mac_gw6, "2001:db8:b::fe"},
		{"2001:db8:c::5", UNRESOLVED, P_PROT, NULL, "2001:db8:a::9"},
		{"2001:db8:c:1::5", RESOLVED, P_UNPROT, mac_gw6, "2001:db8:b::fe"},
		{"2001:db8:c:2::5", UNRESOLVED, P_PROT, NULL, "2001:db8:a::9"},
		{"2001:db8:ffff::1", RESOLVED, P_UNPROT, mac_gw6, "2001:db8:b::fe"},
};

static void
check_hop(const struct hop_case *c, const struct espgw_l2_hop *h)
{
	const struct espgw_port_info *pi = &ports.port[c->port_idx];
	struct espgw_ip ip;

	if (c->kind == NOROUTE) {
		if (h != NULL)
			fail_msg("%s: a hop, want none", c->dst);
		return;
	}
	if (h == NULL)
		fail_msg("%s: no hop", c->dst);
	if (h->local != (c->kind == LOCAL) || h->resolved != (c->kind != UNRESOLVED))
		fail_msg("%s: local %d resolved %d, want kind %d", c->dst, h->local, h->resolved,
				c->kind);
	if (h->port_idx != c->port_idx || h->port_id != pi->port_id || h->mtu != pi->mtu)
		fail_msg("%s: port %u ethdev %u mtu %u", c->dst, h->port_idx, h->port_id, h->mtu);
	assert_memory_equal(h->src.addr_bytes, pi->mac.addr_bytes, 6);
	if (c->kind == RESOLVED)
		assert_memory_equal(h->dst.addr_bytes, c->mac, 6);
	if (c->nh == NULL)
		return;
	assert_int_equal(espgw_ip_parse(c->nh, &ip), 0);
	if (!espgw_ip_equal(&h->ip, &ip))
		fail_msg("%s: next hop is not %s", c->dst, c->nh);
}

static void
lookup4_one(const struct espgw_route *r, const char *dst, const struct espgw_l2_hop **h)
{
	uint32_t a;

	assert_int_equal(inet_pton(AF_INET, dst, &a), 1);
	espgw_route_lookup4(r, &a, h, 1);
}

static void
lookup6_one(const struct espgw_route *r, const char *dst, const struct espgw_l2_hop **h)
{
	uint8_t a[1][16];

	assert_int_equal(inet_pton(AF_INET6, dst, a[0]), 1);
	espgw_route_lookup6(r, (const uint8_t(*)[16])a, h, 1);
}

static void
check_cases(const struct espgw_route *r, const struct hop_case *c, size_t n, bool v4)
{
	const struct espgw_l2_hop *h;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v4)
			lookup4_one(r, c[i].dst, &h);
		else
			lookup6_one(r, c[i].dst, &h);
		check_hop(&c[i], h);
	}
}

static void
test_lookup4(void **state)
{
	struct espgw_route *r;

	(void)state;
	setup_routes(true);
	r = build();
	check_cases(r, cases4, RTE_DIM(cases4), true);
	espgw_route_free(r);
}

static void
test_lookup6(void **state)
{
	struct espgw_route *r;

	(void)state;
	setup_routes(true);
	r = build();
	check_cases(r, cases6, RTE_DIM(cases6), false);
	espgw_route_free(r);
}

/* Without default routes, what only they covered has no route. */
static void
test_no_route(void **state)
{
	static const struct hop_case c4[] = {
			{"8.8.8.8", NOROUTE, 0, NULL, NULL},
			{"172.32.0.1", NOROUTE, 0, NULL, NULL},
			{"198.51.100.2", NOROUTE, 0, NULL, NULL},
			{"172.16.5.9", RESOLVED, P_PROT, mac_host7, "10.0.0.7"},
	};
	static const struct hop_case c6[] = {
			{"2001:db8:ffff::1", NOROUTE, 0, NULL, NULL},
			{"2001:db8:c::5", UNRESOLVED, P_PROT, NULL, "2001:db8:a::9"},
	};
	struct espgw_route *r;

	(void)state;
	setup_routes(false);
	r = build();
	check_cases(r, c4, RTE_DIM(c4), true);
	check_cases(r, c6, RTE_DIM(c6), false);
	espgw_route_free(r);
}

/* Only one family configured: the other finds nothing. */
static void
test_one_family(void **state)
{
	static const struct hop_case c6[] = {{"2001:db8:a::1", NOROUTE, 0, NULL, NULL}};
	static const struct hop_case c4[] = {{"10.0.0.1", LOCAL, P_PROT, NULL, "10.0.0.1"}};
	static const char *const a[] = {"10.0.0.1/24"};
	struct espgw_route *r;

	(void)state;
	setup_base();
	port_conf(P_PROT, "prot", a, 1);
	port_conf(P_UNPROT, "unprot", NULL, 0);
	store.n_neighs = 0;
	r = build();
	check_cases(r, c4, 1, true);
	check_cases(r, c6, 1, false);
	espgw_route_free(r);
}

/* Routes via the same neighbor share its entry: one address to fill later. */
static void
test_shared_neighbor(void **state)
{
	const struct espgw_l2_hop *a, *b, *c;
	struct espgw_route *r;

	(void)state;
	setup_routes(true);
	r = build();
	lookup4_one(r, "172.16.5.9", &a);
	lookup4_one(r, "10.0.0.7", &b);
	lookup4_one(r, "100.100.1.1", &c);
	assert_ptr_equal(a, b);
	assert_ptr_equal(a, c);
	lookup4_one(r, "172.16.6.1", &a);
	lookup4_one(r, "172.17.0.1", &b);
	assert_ptr_equal(a, b);
	espgw_route_free(r);
}

/* Case for burst slot i: shifted every 64 so that no chunk repeats the previous one. */
static const struct hop_case *
pick(const struct hop_case *c, size_t n, size_t i)
{
	return &c[(i + i / 64) % n];
}

/*
 * Bursts longer than the internal chunk give the same hops as single lookups;
 * run > 1 repeats each destination run times in a row (a burst for one host,
 * which the route module looks up in the neighbor table once per run).
 */
static void
burst_check(size_t run)
{
	static uint32_t d4[200];
	static uint8_t d6[200][16];
	static const struct espgw_l2_hop *h4[200], *h6[200];
	const struct hop_case *c4, *c6;
	const struct espgw_l2_hop *h;
	struct espgw_route *r;
	size_t i;

	setup_routes(true);
	r = build();
	for (i = 0; i < RTE_DIM(d4); i++) {
		inet_pton(AF_INET, pick(cases4, RTE_DIM(cases4), i / run)->dst, &d4[i]);
		inet_pton(AF_INET6, pick(cases6, RTE_DIM(cases6), i / run)->dst, d6[i]);
	}
	espgw_route_lookup4(r, d4, h4, RTE_DIM(d4));
	espgw_route_lookup6(r, (const uint8_t(*)[16])d6, h6, RTE_DIM(d6));
	for (i = 0; i < RTE_DIM(d4); i++) {
		c4 = pick(cases4, RTE_DIM(cases4), i / run);
		c6 = pick(cases6, RTE_DIM(cases6), i / run);
		check_hop(c4, h4[i]);
		check_hop(c6, h6[i]);
		lookup4_one(r, c4->dst, &h);
		assert_ptr_equal(h, h4[i]);
		lookup6_one(r, c6->dst, &h);
		assert_ptr_equal(h, h6[i]);
	}
	espgw_route_free(r);
}

static void
test_burst(void **state)
{
	(void)state;
	burst_check(1);
}

static void
test_burst_runs(void **state)
{
	(void)state;
	burst_check(3);
	burst_check(7);
}

static void
test_is_local(void **state)
{
	static const struct {
		const char *ip;
		bool local;
	} c[] = {
			{"10.0.0.1", true},
			{"192.0.2.1", true},
			{"198.51.100.1", true},
			{"2001:db8:a::1", true},
			{"2001:db8:b::1", true},
			{"10.0.0.2", false},
			{"10.0.0.7", false},
			{"8.8.8.8", false},
			{"2001:db8:a::2", false},
			{"2001:db8:ffff::1", false},
	};
	struct espgw_route *r;
	struct espgw_ip ip;
	size_t i;

	(void)state;
	setup_routes(true);
	r = build();
	for (i = 0; i < RTE_DIM(c); i++) {
		assert_int_equal(espgw_ip_parse(c[i].ip, &ip), 0);
		if (espgw_route_is_local(r, &ip) != c[i].local)
			fail_msg("%s: is_local should be %d", c[i].ip, c[i].local);
	}
	espgw_route_free(r);
}

static void
expect_build_error(void)
{
	struct espgw_err err = {{0}};

	assert_null(espgw_route_build(&store, &ports, SOCKET_ID_ANY, &err));
	assert_true(err.msg[0] != '\0');
}

static void
test_errors(void **state)
{
	(void)state;
	setup_routes(true);
	route("10.9.0.0/16", "10.0.0.7", "nope");
	expect_build_error();
	setup_routes(true);
	route("10.9.0.0/16", "2001:db8:a::7", "prot");
	expect_build_error();
	setup_routes(true);
	route("10.9.0.0/16", "10.99.0.1", ""); /* no port holds the next hop */
	expect_build_error();
	setup_routes(true);
	ports.n = 1; /* the unprotected port has no ethdev */
	expect_build_error();
}

/* Two builds coexist (RCU swap): unique table names. */
static void
test_coexist(void **state)
{
	struct espgw_route *a, *b;

	(void)state;
	setup_routes(true);
	a = build();
	b = build();
	check_cases(a, cases4, RTE_DIM(cases4), true);
	espgw_route_free(a);
	check_cases(b, cases4, RTE_DIM(cases4), true);
	check_cases(b, cases6, RTE_DIM(cases6), false);
	espgw_route_free(b);
}

/*
 * A rebuild after a change of routes (live "route add|del"): the new version
 * routes by the new store, shares the neighbor table (a MAC learned for a
 * next hop is there at once, the entry at the same address), and outlives
 * the old version it was built from.
 */
static void
test_rebuild(void **state)
{
	static const uint8_t learned[6] = {0x02, 0, 0, 0, 0, 0x99};
	const struct espgw_l2_hop *h, *h2;
	struct espgw_route *a, *b;
	struct espgw_err err = {{0}};
	struct rte_ether_addr mac;

	(void)state;
	setup_routes(true);
	a = build();
	lookup4_one(a, "172.16.6.9", &h);
	assert_false(espgw_hop_resolved(h));
	memcpy(mac.addr_bytes, learned, sizeof(learned));
	espgw_hop_publish((struct espgw_l2_hop *)(uintptr_t)h, &mac);
	route("198.18.0.0/15", "10.0.0.9", "prot");
	b = espgw_route_rebuild(a, &store, &err);
	assert_non_null(b);
	lookup4_one(a, "198.18.0.1", &h2);
	assert_int_equal(h2->port_idx, P_UNPROT); /* the old version: the default route */
	espgw_route_free(a);
	lookup4_one(b, "198.18.0.1", &h2);
	assert_ptr_equal(h, h2);
	assert_true(espgw_hop_resolved(h2));
	espgw_hop_dst(h2, &mac);
	assert_memory_equal(mac.addr_bytes, learned, sizeof(learned));
	check_cases(b, cases6, RTE_DIM(cases6), false);
	espgw_route_free(b);
}

/*
 * Live neighbor table, single lookups against bursts: on-link hosts of the
 * protected subnets learned, deleted (left in limbo: a reader that never
 * passes a quiescent state), learned again with a new MAC and learned until
 * the table is full. A lookup of one on-link destination (one key for the
 * neighbor table) and the same destination in bursts of every shape give the
 * same hop: the entry for that host with its current MAC, or the subnet's
 * unresolved miss hop, never a deleted entry.
 */
#define LIVE_V4 250 /* 10.0.0.2 .. 10.0.0.251 */
#define LIVE_V6 600 /* 2001:db8:a::1:0 .. */

static uint32_t live4[LIVE_V4];
static uint8_t live6[LIVE_V6][16];
static struct rte_rcu_qsbr *live_qsv;	     /* the one reader, thread 0 */
static uint8_t gen4[LIVE_V4], gen6[LIVE_V6]; /* 0: not in the table, else the MAC's generation */

static void
live_mac(uint8_t mac[6], bool v6, unsigned int i, uint8_t gen)
{
	mac[0] = 0x02;
	mac[1] = v6 ? 6 : 4;
	mac[2] = gen;
	mac[3] = (uint8_t)(i >> 8);
	mac[4] = (uint8_t)i;
	mac[5] = 0x5a;
}

static void
live_ip(struct espgw_ip *ip, bool v6, unsigned int i)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = v6 ? ESPGW_AF_INET6 : ESPGW_AF_INET;
	memcpy(ip->bytes, v6 ? (const void *)live6[i] : (const void *)&live4[i], v6 ? 16 : 4);
}

static void
live_init(void)
{
	unsigned int i;

	for (i = 0; i < LIVE_V4; i++) {
		live4[i] = htonl(0x0a000002u + i);
		gen4[i] = 0;
	}
	for (i = 0; i < LIVE_V6; i++) {
		assert_int_equal(inet_pton(AF_INET6, "2001:db8:a::1:0", live6[i]), 1);
		live6[i][14] = (uint8_t)(i >> 8);
		live6[i][15] = (uint8_t)i;
		gen6[i] = 0;
	}
	gen4[5] = 0xff; /* 10.0.0.7: configured */
	gen4[7] = 0xfe; /* 10.0.0.9: a route's next hop, not resolved */
	/* Hosts 5 and 7 are never deleted: the steps of 4 and 8 below pass them by. */
}

/* The hop one on-link host must get: its entry with its MAC, or the miss hop. */
static void
live_expect(struct espgw_route *r, bool v6, unsigned int i, const struct espgw_l2_hop *h)
{
	uint8_t gen = v6 ? gen6[i] : gen4[i];
	struct espgw_l2_hop *e;
	struct espgw_ip ip, zero;
	uint8_t mac[6];

	live_ip(&ip, v6, i);
	if (h == NULL)
		fail_msg("%s host %u: no hop", v6 ? "v6" : "v4", i);
	if (h->port_idx != P_PROT || h->port_id != ports.port[P_PROT].port_id || h->local)
		fail_msg("%s host %u: port %u local %d", v6 ? "v6" : "v4", i, h->port_idx,
				h->local);
	e = espgw_route_neigh_find(r, P_PROT, &ip);
	if (gen == 0) {
		assert_null(e);
		memset(&zero, 0, sizeof(zero));
		zero.family = ip.family;
		if (h->resolved || !espgw_ip_equal(&h->ip, &zero))
			fail_msg("%s host %u: got an entry (resolved %d), want the miss hop",
					v6 ? "v6" : "v4", i, h->resolved);
		return;
	}
	if (h != e)
		fail_msg("%s host %u: hop %p, the table has %p", v6 ? "v6" : "v4", i,
				(const void *)h, (void *)e);
	if (!espgw_ip_equal(&h->ip, &ip) || h->resolved != (gen != 0xfe))
		fail_msg("%s host %u: entry of another host or unresolved", v6 ? "v6" : "v4", i);
	if (gen >= 0xfe)
		return;
	live_mac(mac, v6, i, gen);
	assert_memory_equal(h->dst.addr_bytes, mac, 6);
}

#define LIVE_BURST 130 /* the longest burst live_check_family sends */

/* The hops of one family's hosts idx[0..n), looked up in one burst. */
static void
live_lookup(struct espgw_route *r, bool v6, const unsigned int idx[], unsigned int n,
		const struct espgw_l2_hop *h[])
{
	static uint32_t d4[LIVE_BURST];
	static uint8_t d6[LIVE_BURST][16];
	unsigned int j;

	for (j = 0; j < n; j++) {
		if (v6)
			memcpy(d6[j], live6[idx[j]], 16);
		else
			d4[j] = live4[idx[j]];
	}
	if (v6)
		espgw_route_lookup6(r, (const uint8_t(*)[16])d6, h, n);
	else
		espgw_route_lookup4(r, d4, h, n);
}

static void
live_one(struct espgw_route *r, bool v6, unsigned int i)
{
	const struct espgw_l2_hop *h;

	live_lookup(r, v6, &i, 1, &h);
	live_expect(r, v6, i, h);
}

/* One family's hosts alone, then in bursts: runs of one host, pairs, and mixed with others. */
static void
live_check_family(struct espgw_route *r, bool v6)
{
	static const unsigned int lens[] = {1, 2, 3, 63, 64, 65, LIVE_BURST};
	const struct espgw_l2_hop *h[LIVE_BURST];
	unsigned int idx[LIVE_BURST];
	unsigned int hosts = v6 ? LIVE_V6 : LIVE_V4, step = v6 ? 11 : 7;
	unsigned int i, j, l;

	for (i = 0; i < hosts; i++)
		live_one(r, v6, i);
	for (l = 0; l < RTE_DIM(lens); l++) {
		/* Burst i: lens[l] destinations, host i then hosts i+1, i+2 ... (wrapping) */
		for (i = 0; i < hosts; i += step) {
			for (j = 0; j < lens[l]; j++)
				idx[j] = (i + j / (l % 2 + 1)) % hosts;
			live_lookup(r, v6, idx, lens[l], h);
			for (j = 0; j < lens[l]; j++)
				live_expect(r, v6, idx[j], h[j]);
		}
	}
}

static void
live_check(struct espgw_route *r)
{
	live_check_family(r, false);
	live_check_family(r, true);
}

static struct espgw_l2_hop *
live_add(struct espgw_route *r, bool v6, unsigned int i, uint8_t gen)
{
	struct espgw_l2_hop *e;
	struct espgw_ip ip;
	uint8_t mac[6];

	live_ip(&ip, v6, i);
	live_mac(mac, v6, i, gen);
	e = espgw_route_neigh_make(r, P_PROT, &ip, ESPGW_HOP_DYNAMIC, mac);
	if (e != NULL)
		(v6 ? gen6 : gen4)[i] = gen;
	return e;
}

static void
live_del(struct espgw_route *r, bool v6, unsigned int i)
{
	struct espgw_ip ip;
	struct espgw_l2_hop *e;

	live_ip(&ip, v6, i);
	e = espgw_route_neigh_find(r, P_PROT, &ip);
	assert_non_null(e);
	assert_int_equal(espgw_route_neigh_del(r, e), 0);
	(v6 ? gen6 : gen4)[i] = 0;
}

/* Delete and learn again one host between lookups of it alone: no stale entry or MAC. */
static void
live_hot(struct espgw_route *r, bool v6, unsigned int i)
{
	uint8_t *gen = v6 ? &gen6[i] : &gen4[i];

	live_one(r, v6, i);
	if (*gen != 0) {
		live_del(r, v6, i);
		live_one(r, v6, i);
	}
	if (live_add(r, v6, i, 4) == NULL) {
		/* Full: make room (the reader quiesces), then learn it. */
		rte_rcu_qsbr_thread_offline(live_qsv, 0);
		espgw_route_neigh_reclaim(r);
		rte_rcu_qsbr_thread_online(live_qsv, 0);
		assert_non_null(live_add(r, v6, i, 4));
	}
	live_one(r, v6, i);
	live_del(r, v6, i);
	live_one(r, v6, i);
	assert_non_null(live_add(r, v6, i, 5));
	live_one(r, v6, i);
}

static void
test_neigh_live(void **state)
{
	struct rte_rcu_qsbr *qsv;
	struct espgw_route *r;
	unsigned int i, added = 0;

	(void)state;
	qsv = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	assert_non_null(qsv);
	assert_int_equal(rte_rcu_qsbr_init(qsv, 1), 0);
	live_qsv = qsv;
	/* A reader that never reports: deleted entries stay in limbo. */
	assert_int_equal(rte_rcu_qsbr_thread_register(qsv, 0), 0);
	rte_rcu_qsbr_thread_online(qsv, 0);
	setup_routes(true);
	r = build();
	espgw_route_rcu_set(r, qsv);
	live_init();
	live_check(r); /* only the configured neighbor */
	for (i = 0; i < LIVE_V4; i += 2)
		if (gen4[i] == 0)
			assert_non_null(live_add(r, false, i, 1));
	for (i = 0; i < 100; i++)
		assert_non_null(live_add(r, true, i, 1));
	live_check(r);
	for (i = 0; i < LIVE_V4; i += 4)
		live_del(r, false, i);
	for (i = 0; i < 100; i += 3)
		live_del(r, true, i);
	live_check(r); /* deleted entries in limbo: not found */
	for (i = 0; i < LIVE_V4; i += 4)
		assert_non_null(live_add(r, false, i, 2));
	for (i = 0; i < 100; i += 3)
		assert_non_null(live_add(r, true, i, 2));
	live_check(r); /* learned again: the new entry and MAC */
	/* Until the table is full (limbo holds slots). */
	for (i = 100; i < LIVE_V6; i++)
		if (live_add(r, true, i, 3) != NULL)
			added++;
	assert_true(added < LIVE_V6 - 100);
	assert_null(live_add(r, false, 1, 3));
	live_check(r);
	/* Full: delete some, they stay in limbo, the table stays full. */
	for (i = 0; i < LIVE_V4; i += 8)
		live_del(r, false, i);
	live_check(r);
	/* One host looked up just before and right after each change. */
	for (i = 1; i < 40; i += 2) {
		live_hot(r, false, i);
		live_hot(r, true, i);
	}
	rte_rcu_qsbr_thread_offline(qsv, 0);
	espgw_route_free(r);
	rte_free(qsv);
}

/*
 * A worker looks up on-link hosts (alone and in pairs) while the control path
 * deletes and learns them again with new MACs: a hop found is always the miss
 * hop or the entry of that very host, with that host's MAC, until the worker's
 * next quiescent state.
 */
struct race {
	struct espgw_route *r;
	struct rte_rcu_qsbr *qsv;
	volatile bool stop;
	volatile unsigned long lookups;
	unsigned long bad;
};

static bool
race_hop_ok(const struct espgw_l2_hop *h, uint32_t dst)
{
	struct rte_ether_addr mac;
	uint32_t ip;

	if (h == NULL || h->port_idx != P_PROT)
		return false;
	memcpy(&ip, h->ip.bytes, 4);
	if (ip == 0)
		return !espgw_hop_resolved(h);
	if (ip != dst)
		return false;
	if (espgw_hop_resolved(h)) {
		espgw_hop_dst(h, &mac);
		if (mac.addr_bytes[1] != 4 || mac.addr_bytes[4] != (uint8_t)(ntohl(dst) - 2))
			return false;
	}
	memcpy(&ip, h->ip.bytes, 4);
	return ip == dst;
}

static void *
race_reader(void *arg)
{
	struct race *x = arg;
	const struct espgw_l2_hop *h[2];
	uint32_t d[2];
	unsigned int i = 0;

	rte_rcu_qsbr_thread_online(x->qsv, 0);
	while (!x->stop) {
		d[0] = htonl(0x0a000002u + 20 + i % 4);
		d[1] = htonl(0x0a000002u + 20 + (i + 1) % 4);
		espgw_route_lookup4(x->r, d, h, 1);
		if (!race_hop_ok(h[0], d[0]))
			x->bad++;
		espgw_route_lookup4(x->r, d, h, 2);
		if (!race_hop_ok(h[0], d[0]) || !race_hop_ok(h[1], d[1]))
			x->bad++;
		x->lookups += 3;
		rte_rcu_qsbr_quiescent(x->qsv, 0);
		i++;
	}
	rte_rcu_qsbr_thread_offline(x->qsv, 0);
	return NULL;
}

static void
test_neigh_race(void **state)
{
	static struct race x;
	struct espgw_l2_hop *e;
	struct espgw_ip ip;
	uint8_t mac[6];
	pthread_t th;
	unsigned int it, k;

	(void)state;
	memset(&x, 0, sizeof(x));
	x.qsv = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	assert_non_null(x.qsv);
	assert_int_equal(rte_rcu_qsbr_init(x.qsv, 1), 0);
	assert_int_equal(rte_rcu_qsbr_thread_register(x.qsv, 0), 0);
	setup_routes(true);
	x.r = build();
	espgw_route_rcu_set(x.r, x.qsv);
	live_init();
	assert_int_equal(pthread_create(&th, NULL, race_reader, &x), 0);
	/* At least 20000 changes, and until the reader made 200000 lookups (or 20 million changes). */
	for (it = 0; it < 20000 || (x.lookups < 200000 && it < 20000000); it++) {
		k = it % 4;
		live_ip(&ip, false, 20 + k);
		e = espgw_route_neigh_find(x.r, P_PROT, &ip);
		if (e != NULL) {
			assert_int_equal(espgw_route_neigh_del(x.r, e), 0);
			continue;
		}
		live_mac(mac, false, 20 + k, (uint8_t)it);
		while (espgw_route_neigh_make(x.r, P_PROT, &ip, ESPGW_HOP_DYNAMIC, mac) == NULL)
			sched_yield(); /* every slot in limbo: wait for the reader */
	}
	x.stop = true;
	pthread_join(th, NULL);
	if (x.bad != 0)
		fail_msg("%lu of %lu lookups gave a wrong hop", x.bad, x.lookups);
	espgw_route_free(x.r);
	rte_free(x.qsv);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_lookup4),
			cmocka_unit_test(test_lookup6),
			cmocka_unit_test(test_no_route),
			cmocka_unit_test(test_one_family),
			cmocka_unit_test(test_shared_neighbor),
			cmocka_unit_test(test_burst),
			cmocka_unit_test(test_burst_runs),
			cmocka_unit_test(test_is_local),
			cmocka_unit_test(test_errors),
			cmocka_unit_test(test_coexist),
			cmocka_unit_test(test_rebuild),
			cmocka_unit_test(test_neigh_live),
			cmocka_unit_test(test_neigh_race),
	};
	int rc;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests_name("dpdk-route", tests, NULL, NULL);
	rte_eal_cleanup();
	return rc;
}
