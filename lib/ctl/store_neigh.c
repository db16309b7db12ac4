/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Store: static neighbors, validated against what is already configured
 * (the port must exist, the address must be on one of its subnets).
 */
#include "espgw_store.h"
#include "store_int.h"

static int
neigh_index(const struct espgw_store *s, const struct espgw_ip *ip)
{
	unsigned int i;

	for (i = 0; i < s->n_neighs; i++)
		if (espgw_ip_equal(&s->neighs[i].ip, ip))
			return (int)i;
	return -1;
}

int
espgw_store_neigh_add(
		struct espgw_store *s, const struct espgw_neigh_conf *c, struct espgw_err *err)
{
	const struct espgw_port_conf *p;
	char ip[ESPGW_IP_STRLEN];
	const char *bad;

	espgw_ip_fmt(&c->ip, ip, sizeof(ip));
	if (c->ip.family == 0)
		return espgw_err_set(err, "neighbor needs an address");
	if (neigh_index(s, &c->ip) >= 0)
		return espgw_err_set(err, "neighbor %s already exists", ip);
	if (!espgw_store_mac_unicast(c->mac))
		return espgw_err_set(err, "lladdr of %s must be a unicast address", ip);
	p = espgw_store_port_ref(s, c->port, err);
	if (p == NULL)
		return -1;
	if (!espgw_store_port_on_link(p, &c->ip))
		return espgw_err_set(err, "neighbor %s is not on a subnet of port %s", ip, p->name);
	bad = espgw_store_station_bad(s, p, &c->ip);
	if (bad != NULL)
		return espgw_err_set(err, "neighbor %s is %s, not a neighbor", ip, bad);
	if (espgw_store_arr_insert(s, ESPGW_ARR_NEIGHS, s->n_neighs, c) < 0)
		return espgw_store_nomem(err);
	return 0;
}

int
espgw_store_neigh_del(
		struct espgw_store *s, const struct espgw_neigh_conf *c, struct espgw_err *err)
{
	char ip[ESPGW_IP_STRLEN];
	int i = neigh_index(s, &c->ip);

	if (i < 0)
		return espgw_err_set(err, "neighbor %s does not exist",
				espgw_ip_fmt(&c->ip, ip, sizeof(ip)));
	if (espgw_store_arr_remove(s, ESPGW_ARR_NEIGHS, (unsigned int)i) < 0)
		return espgw_store_nomem(err);
	return 0;
}
