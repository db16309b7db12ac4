/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "port add NAME dev DEV role protected|unprotected [address PREFIX]...
 *  [mtu N] [mac MAC] [rx-desc N] [tx-desc N] [host-if IFNAME]"
 */
#include <string.h>

#include "conf_int.h"

enum { P_DEV, P_ROLE, P_ADDR, P_MTU, P_MAC, P_RXD, P_TXD, P_HOSTIF };

static int
set_dev(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_port_conf *p = obj;

	return espgw_conf_dev(v, p->dev, err);
}

static int
set_role(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const roles[] = {"protected", "unprotected", NULL};
	struct espgw_port_conf *p = obj;
	int i;

	if (espgw_conf_word("role", v, roles, &i, err) < 0)
		return -1;
	p->role = i == 0 ? ESPGW_ROLE_PROTECTED : ESPGW_ROLE_UNPROTECTED;
	return 0;
}

static int
set_addr(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_port_conf *p = obj;

	if (p->n_addr == ESPGW_PORT_ADDR_MAX)
		return espgw_err_set(err, "at most %u addresses per port", ESPGW_PORT_ADDR_MAX);
	if (espgw_conf_prefix("address", v, &p->addr[p->n_addr], err) < 0)
		return -1;
	p->n_addr++;
	return 0;
}

static int
set_mtu(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_port_conf *p = obj;
	uint64_t n;

	if (espgw_conf_u64("mtu", v, ESPGW_MTU_MIN, ESPGW_MTU_MAX, &n, err) < 0)
		return -1;
	p->mtu = (uint16_t)n;
	return 0;
}

static int
set_mac(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_port_conf *p = obj;

	if (espgw_conf_mac("mac", v, p->mac, err) < 0)
		return -1;
	p->has_mac = true;
	return 0;
}

static int
set_desc(const char *what, const char *v, uint16_t *out, struct espgw_err *err)
{
	uint64_t n;

	if (espgw_conf_u64(what, v, 0, UINT16_MAX, &n, err) < 0)
		return -1;
	*out = (uint16_t)n;
	return 0;
}

static int
set_rxd(void *obj, const char *v, struct espgw_err *err)
{
	return set_desc("rx-desc", v, &((struct espgw_port_conf *)obj)->rx_desc, err);
}

static int
set_txd(void *obj, const char *v, struct espgw_err *err)
{
	return set_desc("tx-desc", v, &((struct espgw_port_conf *)obj)->tx_desc, err);
}

/* The store checks the name (espgw_store_ifname_valid); here only its length. */
static int
set_host_if(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_port_conf *p = obj;

	if (strlen(v) >= ESPGW_IFNAME_MAX)
		return espgw_err_set(err, "host-if name is longer than %u characters",
				ESPGW_IFNAME_MAX - 1);
	snprintf(p->host_if, sizeof(p->host_if), "%s", v);
	return 0;
}

static const struct espgw_conf_opt port_opts[] = {
		{"dev", set_dev, P_DEV, false, false},
		{"role", set_role, P_ROLE, false, false},
		{"address", set_addr, P_ADDR, false, true},
		{"mtu", set_mtu, P_MTU, false, false},
		{"mac", set_mac, P_MAC, false, false},
		{"rx-desc", set_rxd, P_RXD, false, false},
		{"tx-desc", set_txd, P_TXD, false, false},
		{"host-if", set_host_if, P_HOSTIF, false, false},
};

int
espgw_conf_port_add(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	uint64_t seen;

	espgw_req_init(req, ESPGW_REQ_PORT_ADD);
	if (argc < 1)
		return espgw_err_set(err, "port add needs a name");
	if (espgw_conf_name("port", argv[0], req->port.name, err) < 0)
		return -1;
	if (espgw_conf_opts("port add", port_opts, ESPGW_CONF_NOPTS(port_opts), argc - 1, argv + 1,
			    &req->port, &seen, err) < 0)
		return -1;
	if (espgw_conf_need("port add", seen, P_DEV, "dev", err) < 0)
		return -1;
	return espgw_conf_need("port add", seen, P_ROLE, "role", err);
}
