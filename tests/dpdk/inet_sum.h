/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tests' own Internet checksum (RFC 1071), over bytes in network order:
 * independent of espgw's and DPDK's, so it can judge both.
 */
#ifndef INET_SUM_H
#define INET_SUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint32_t
sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* True when the data (checksum included) sums to all ones. */
static inline bool
cksum_ok(const uint8_t *p, size_t len)
{
	return fold(sum16(p, len, 0)) == 0xffff;
}

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

#endif
