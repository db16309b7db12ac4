/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Store: ports, validated against what is already configured (names, devices
 * and addresses unique), and the checks that routes, neighbors and cryptodevs
 * share with them (store_int.h).
 */
#include <string.h>

#include "espgw_store.h"
#include "store_int.h"

/* Neither all-zero nor a group address (I/G bit, IEEE 802 first octet bit 0). */
bool
espgw_store_mac_unicast(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return (mac[0] & 1) == 0 && memcmp(mac, zero, 6) != 0;
}

bool
espgw_store_dev_valid(const char *dev)
{
	size_t len = strnlen(dev, ESPGW_DEV_MAX);

	return len > 0 && len < ESPGW_DEV_MAX;
}

/*
 * A kernel interface name the kernel takes (dev_valid_name): 1..15
 * characters, no '/', ':' or white space; espgw's name characters only, so
 * that it is never "." or ".." either.
 */
bool
espgw_store_ifname_valid(const char *name)
{
	size_t len = strnlen(name, ESPGW_IFNAME_MAX);

	if (len == 0 || len >= ESPGW_IFNAME_MAX || strcmp(name, ".") == 0 ||
			strcmp(name, "..") == 0)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
	       len;
}

static int
port_check_host_if(
		const struct espgw_store *s, const struct espgw_port_conf *c, struct espgw_err *err)
{
	unsigned int i;

	if (c->host_if[0] == '\0')
		return 0;
	if (!espgw_store_ifname_valid(c->host_if))
		return espgw_err_set(err,
				"port %s: host-if must be 1..%u of A-Z a-z 0-9 _ . - (a kernel "
				"interface name)",
				c->name, ESPGW_IFNAME_MAX - 1);
	for (i = 0; i < s->n_ports; i++)
		if (strcmp(s->ports[i].host_if, c->host_if) == 0)
			return espgw_err_set(err, "host-if %s is already the one of port %s",
					c->host_if, s->ports[i].name);
	return 0;
}

static int
port_check_ids(const struct espgw_store *s, const struct espgw_port_conf *c, struct espgw_err *err)
{
	unsigned int i;

	if (!espgw_name_valid(c->name))
		return espgw_err_set(err, "invalid port name");
	if (espgw_store_port(s, c->name) != NULL)
		return espgw_err_set(err, "port %s already exists", c->name);
	if (!espgw_store_dev_valid(c->dev))
		return espgw_err_set(err, "port %s needs a dev", c->name);
	for (i = 0; i < s->n_ports; i++)
		if (strcmp(s->ports[i].dev, c->dev) == 0)
			return espgw_err_set(err, "dev %s is already used by port %s", c->dev,
					s->ports[i].name);
	if (c->role != ESPGW_ROLE_PROTECTED && c->role != ESPGW_ROLE_UNPROTECTED)
		return espgw_err_set(
				err, "port %s: role must be protected or unprotected", c->name);
	return 0;
}

static int
port_check_addr(const struct espgw_store *s, const struct espgw_port_conf *c, unsigned int a,
		struct espgw_err *err)
{
	const struct espgw_ip *ip = &c->addr[a].ip;
	char buf[ESPGW_IP_STRLEN];
	unsigned int i;
	int other;

	if (ip->family != ESPGW_AF_INET && ip->family != ESPGW_AF_INET6)
		return espgw_err_set(err, "port %s: address %u has no family", c->name, a + 1);
	for (i = 0; i < a; i++)
		if (espgw_ip_equal(&c->addr[i].ip, ip))
			return espgw_err_set(err, "address %s is given twice",
					espgw_ip_fmt(ip, buf, sizeof(buf)));
	other = espgw_store_port_of_addr(s, ip);
	if (other >= 0)
		return espgw_err_set(err, "address %s is already on port %s",
				espgw_ip_fmt(ip, buf, sizeof(buf)), s->ports[other].name);
	return 0;
}

static bool
port_has_ipv6(const struct espgw_port_conf *c)
{
	unsigned int i;

	for (i = 0; i < c->n_addr; i++)
		if (c->addr[i].ip.family == ESPGW_AF_INET6)
			return true;
	return false;
}

static int
port_check_l2l3(const struct espgw_port_conf *c, struct espgw_err *err)
{
	if (c->mtu < ESPGW_MTU_MIN || c->mtu > ESPGW_MTU_MAX)
		return espgw_err_set(err, "mtu must be %u..%u, got %u", ESPGW_MTU_MIN,
				ESPGW_MTU_MAX, c->mtu);
	/* RFC 8200 5: every link that carries IPv6 must have an MTU of at least 1280. */
	if (c->mtu < ESPGW_MTU_MIN6 && port_has_ipv6(c))
		return espgw_err_set(err,
				"mtu %u is below %u, the minimum for a port with an IPv6 address",
				c->mtu, ESPGW_MTU_MIN6);
	if (c->has_mac && !espgw_store_mac_unicast(c->mac))
		return espgw_err_set(err, "port %s: mac must be a unicast address", c->name);
	return 0;
}

int
espgw_store_port_add(struct espgw_store *s, const struct espgw_port_conf *c, struct espgw_err *err)
{
	unsigned int a;

	if (port_check_ids(s, c, err) < 0)
		return -1;
	if (c->n_addr > ESPGW_PORT_ADDR_MAX)
		return espgw_err_set(
				err, "port %s: at most %u addresses", c->name, ESPGW_PORT_ADDR_MAX);
	for (a = 0; a < c->n_addr; a++)
		if (port_check_addr(s, c, a, err) < 0)
			return -1;
	if (port_check_l2l3(c, err) < 0 || port_check_host_if(s, c, err) < 0)
		return -1;
	if (espgw_store_arr_insert(s, ESPGW_ARR_PORTS, s->n_ports, c) < 0)
		return espgw_store_nomem(err);
	return 0;
}

const struct espgw_port_conf *
espgw_store_port_ref(const struct espgw_store *s, const char *name, struct espgw_err *err)
{
	const struct espgw_port_conf *p = espgw_store_port(s, name);

	if (p == NULL)
		espgw_err_set(err, "port %.*s does not exist", ESPGW_NAME_MAX, name);
	return p;
}
