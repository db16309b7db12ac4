/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP addresses and prefixes of either family, kept in network byte order.
 * Pure C (no DPDK types) so that the config parser and its unit tests build
 * without an EAL.
 */
#ifndef ESPGW_ADDR_H
#define ESPGW_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define ESPGW_AF_INET  4
#define ESPGW_AF_INET6 6

struct espgw_ip {
	uint8_t family; /* 0 (unset), ESPGW_AF_INET or ESPGW_AF_INET6 */
	union {
		uint32_t v4; /* network byte order */
		uint8_t v6[16];
		uint8_t bytes[16];
	};
};

struct espgw_prefix {
	struct espgw_ip ip;
	uint8_t len;
};

#define ESPGW_IP_STRLEN 48 /* fits "ffff:...:ffff/128" */

/* Parse "192.0.2.1" or "2001:db8::1". Returns 0 or -1. */
int espgw_ip_parse(const char *s, struct espgw_ip *ip);
/* Parse "ADDR/LEN" (LEN optional: full length). Host bits are kept. */
int espgw_prefix_parse(const char *s, struct espgw_prefix *p);
/* True when bits beyond p->len are zero. */
bool espgw_prefix_is_network(const struct espgw_prefix *p);
/* True when ip lies inside prefix p (same family). */
bool espgw_prefix_contains(const struct espgw_prefix *p, const struct espgw_ip *ip);
/* Inline: the data path compares SA peers a packet (lib/dp/fwd.c, esp_hops). */
static inline bool
espgw_ip_equal(const struct espgw_ip *a, const struct espgw_ip *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == ESPGW_AF_INET)
		return a->v4 == b->v4;
	return memcmp(a->bytes, b->bytes, 16) == 0;
}

bool espgw_ip_is_unspec(const struct espgw_ip *ip);
/* Write text form into buf (at least ESPGW_IP_STRLEN). Returns buf. */
const char *espgw_ip_fmt(const struct espgw_ip *ip, char *buf, size_t len);
const char *espgw_prefix_fmt(const struct espgw_prefix *p, char *buf, size_t len);
/* Parse "02:00:00:00:00:fe". Returns 0 or -1. */
int espgw_mac_parse(const char *s, uint8_t mac[6]);

#endif
