/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espgw_addr.h"

int
espgw_ip_parse(const char *s, struct espgw_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &ip->v4) == 1) {
		ip->family = ESPGW_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->v6) == 1) {
		ip->family = ESPGW_AF_INET6;
		return 0;
	}
	return -1;
}

static int
prefix_len_parse(const char *s, unsigned int max, uint8_t *len)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > max)
		return -1;
	*len = (uint8_t)v;
	return 0;
}

int
espgw_prefix_parse(const char *s, struct espgw_prefix *p)
{
	char buf[ESPGW_IP_STRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int max;

	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (espgw_ip_parse(buf, &p->ip) < 0)
		return -1;
	max = p->ip.family == ESPGW_AF_INET ? 32 : 128;
	if (slash == NULL) {
		p->len = (uint8_t)max;
		return 0;
	}
	return prefix_len_parse(slash + 1, max, &p->len);
}

static unsigned int
family_bits(uint8_t family)
{
	return family == ESPGW_AF_INET ? 32 : 128;
}

/* Compare the first len bits of two byte strings. */
static bool
bits_equal(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	unsigned int bytes = len / 8, rem = len % 8;
	uint8_t mask;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rem == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rem));
	return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

bool
espgw_prefix_is_network(const struct espgw_prefix *p)
{
	unsigned int total = family_bits(p->ip.family);
	unsigned int i;

	for (i = p->len; i < total; i++)
		if (p->ip.bytes[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

bool
espgw_prefix_contains(const struct espgw_prefix *p, const struct espgw_ip *ip)
{
	if (p->ip.family != ip->family)
		return false;
	return bits_equal(p->ip.bytes, ip->bytes, p->len);
}

bool
espgw_ip_is_unspec(const struct espgw_ip *ip)
{
	return ip->family == 0;
}

const char *
espgw_ip_fmt(const struct espgw_ip *ip, char *buf, size_t len)
{
	int af = ip->family == ESPGW_AF_INET ? AF_INET : AF_INET6;

	if (ip->family == 0 || inet_ntop(af, ip->bytes, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "-");
	return buf;
}

const char *
espgw_prefix_fmt(const struct espgw_prefix *p, char *buf, size_t len)
{
	char a[ESPGW_IP_STRLEN];

	snprintf(buf, len, "%s/%u", espgw_ip_fmt(&p->ip, a, sizeof(a)), p->len);
	return buf;
}

/* "xx:xx:xx:xx:xx:xx" exactly: sscanf's %x alone would take signs, blanks and "0x". */
static bool
mac_shape_ok(const char *s)
{
	int i;

	if (strlen(s) != 17)
		return false;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int
espgw_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (!mac_shape_ok(s))
		return -1;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
			    &tail) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}
