/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "route add PREFIX [via IP] port NAME", "route del PREFIX",
 * "neighbor add IP lladdr MAC port NAME" and "neighbor del IP".
 * Reachability (the next hop on a subnet of the port) is the store's check.
 */
#include "conf_int.h"

enum { R_VIA, R_PORT, R_LLADDR };

static int
set_via(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_ip("via", v, &((struct espgw_route_conf *)obj)->via, err);
}

static int
set_route_port(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_name("port", v, ((struct espgw_route_conf *)obj)->port, err);
}

static const struct espgw_conf_opt route_opts[] = {
		{"via", set_via, R_VIA, false, false},
		{"port", set_route_port, R_PORT, false, false},
};

int
espgw_conf_route_add(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	uint64_t seen;

	espgw_req_init(req, ESPGW_REQ_ROUTE_ADD);
	if (argc < 1)
		return espgw_err_set(err, "route add needs a prefix");
	if (espgw_conf_prefix("route", argv[0], &req->route.dst, err) < 0)
		return -1;
	if (espgw_conf_opts("route add", route_opts, ESPGW_CONF_NOPTS(route_opts), argc - 1,
			    argv + 1, &req->route, &seen, err) < 0)
		return -1;
	return espgw_conf_need("route add", seen, R_PORT, "port", err);
}

static int
set_lladdr(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_mac("lladdr", v, ((struct espgw_neigh_conf *)obj)->mac, err);
}

static int
set_neigh_port(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_name("port", v, ((struct espgw_neigh_conf *)obj)->port, err);
}

static const struct espgw_conf_opt neigh_opts[] = {
		{"lladdr", set_lladdr, R_LLADDR, false, false},
		{"port", set_neigh_port, R_PORT, false, false},
};

int
espgw_conf_neigh_add(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	uint64_t seen;

	espgw_req_init(req, ESPGW_REQ_NEIGH_ADD);
	if (argc < 1)
		return espgw_err_set(err, "neighbor add needs an address");
	if (espgw_conf_ip("neighbor", argv[0], &req->neigh.ip, err) < 0)
		return -1;
	if (espgw_conf_opts("neighbor add", neigh_opts, ESPGW_CONF_NOPTS(neigh_opts), argc - 1,
			    argv + 1, &req->neigh, &seen, err) < 0)
		return -1;
	if (espgw_conf_need("neighbor add", seen, R_LLADDR, "lladdr", err) < 0)
		return -1;
	return espgw_conf_need("neighbor add", seen, R_PORT, "port", err);
}

/* "OBJ del VALUE": exactly one value. */
static int
del_one(const char *cmd, int argc, char *const argv[], struct espgw_err *err)
{
	if (argc < 1)
		return espgw_err_set(err, "%s needs an address", cmd);
	if (argc > 1)
		return espgw_err_set(
				err, "unexpected '%.40s' after %s", espgw_conf_show(argv[1]), cmd);
	return 0;
}

int
espgw_conf_route_del(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	espgw_req_init(req, ESPGW_REQ_ROUTE_DEL);
	if (del_one("route del", argc, argv, err) < 0)
		return -1;
	return espgw_conf_prefix("route", argv[0], &req->route.dst, err);
}

int
espgw_conf_neigh_del(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	espgw_req_init(req, ESPGW_REQ_NEIGH_DEL);
	if (del_one("neighbor del", argc, argv, err) < 0)
		return -1;
	return espgw_conf_ip("neighbor", argv[0], &req->neigh.ip, err);
}
