/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Store: routes, validated against what is already configured (the port
 * must exist, a next hop must be on one of its subnets).
 */
#include "espgw_store.h"
#include "store_int.h"

static int
route_index(const struct espgw_store *s, const struct espgw_prefix *dst)
{
	unsigned int i;

	for (i = 0; i < s->n_routes; i++)
		if (s->routes[i].dst.len == dst->len &&
				espgw_ip_equal(&s->routes[i].dst.ip, &dst->ip))
			return (int)i;
	return -1;
}

static int
route_check_via(const struct espgw_store *s, const struct espgw_route_conf *c,
		const struct espgw_port_conf *p, struct espgw_err *err)
{
	char via[ESPGW_IP_STRLEN], dst[ESPGW_IP_STRLEN];
	const char *bad;

	if (c->via.family == 0)
		return 0;
	espgw_ip_fmt(&c->via, via, sizeof(via));
	if (c->via.family != c->dst.ip.family)
		return espgw_err_set(err, "via %s is not of the family of %s", via,
				espgw_prefix_fmt(&c->dst, dst, sizeof(dst)));
	if (!espgw_store_port_on_link(p, &c->via))
		return espgw_err_set(err, "via %s is not on a subnet of port %s", via, p->name);
	bad = espgw_store_station_bad(s, p, &c->via);
	if (bad != NULL)
		return espgw_err_set(err, "via %s is %s, not a next hop", via, bad);
	return 0;
}

int
espgw_store_route_add(
		struct espgw_store *s, const struct espgw_route_conf *c, struct espgw_err *err)
{
	const struct espgw_port_conf *p;
	char dst[ESPGW_IP_STRLEN];

	espgw_prefix_fmt(&c->dst, dst, sizeof(dst));
	if (c->dst.ip.family == 0)
		return espgw_err_set(err, "route needs a destination prefix");
	if (!espgw_prefix_is_network(&c->dst))
		return espgw_err_set(err, "route %s has host bits set", dst);
	if (route_index(s, &c->dst) >= 0)
		return espgw_err_set(err, "route %s already exists", dst);
	p = espgw_store_port_ref(s, c->port, err);
	if (p == NULL || route_check_via(s, c, p, err) < 0)
		return -1;
	if (espgw_store_arr_insert(s, ESPGW_ARR_ROUTES, s->n_routes, c) < 0)
		return espgw_store_nomem(err);
	return 0;
}

int
espgw_store_route_del(
		struct espgw_store *s, const struct espgw_route_conf *c, struct espgw_err *err)
{
	char dst[ESPGW_IP_STRLEN];
	int i = route_index(s, &c->dst);

	if (i < 0)
		return espgw_err_set(err, "route %s does not exist",
				espgw_prefix_fmt(&c->dst, dst, sizeof(dst)));
	if (espgw_store_arr_remove(s, ESPGW_ARR_ROUTES, (unsigned int)i) < 0)
		return espgw_store_nomem(err);
	return 0;
}
