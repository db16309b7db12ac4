/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The peers whose outer fragments the gateway reassembles (espgw_frag.h):
 * the remote addresses of the inbound SAs, built by the control path into
 * two sorted arrays (IPv4, IPv6) that every worker reads and none writes; a
 * new set replaces the old one as a whole (espgw_tables) when SAs change. A
 * gateway has few peers (one per remote site, however many SAs each has):
 * a binary search costs a handful of compares, and only fragments pay it.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>

#include "espgw_frag.h"

struct espgw_reasm_peers {
	uint32_t n4, n6;
	uint32_t *v4;	   /* host byte order, ascending */
	uint8_t (*v6)[16]; /* ascending (memcmp) */
};

static int
cmp4(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int
cmp6(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* Sort n elements of size sz and keep one of each; returns how many remain. */
static uint32_t
sort_unique(void *base, uint32_t n, size_t sz, int (*cmp)(const void *, const void *))
{
	uint8_t *b = base;
	uint32_t i, k = 0;

	if (n == 0)
		return 0;
	qsort(base, n, sz, cmp);
	for (i = 1; i < n; i++)
		if (cmp(b + k * sz, b + i * sz) != 0)
			memmove(b + ++k * sz, b + i * sz, sz);
	return k + 1;
}

struct espgw_reasm_peers *
espgw_reasm_peers_create(const struct espgw_ip addr[], unsigned int n, int socket)
{
	struct espgw_reasm_peers *p;
	unsigned int i;

	p = rte_zmalloc_socket("espgw_reasm_peers",
			sizeof(*p) + (size_t)n * (sizeof(uint32_t) + 16), RTE_CACHE_LINE_SIZE,
			socket);
	if (p == NULL)
		return NULL;
	p->v4 = (uint32_t *)(p + 1);
	p->v6 = (uint8_t(*)[16])(p->v4 + n);
	for (i = 0; i < n; i++) {
		if (addr[i].family == ESPGW_AF_INET)
			p->v4[p->n4++] = rte_be_to_cpu_32(addr[i].v4);
		else if (addr[i].family == ESPGW_AF_INET6)
			memcpy(p->v6[p->n6++], addr[i].v6, 16);
	}
	p->n4 = sort_unique(p->v4, p->n4, sizeof(*p->v4), cmp4);
	p->n6 = sort_unique(p->v6, p->n6, sizeof(*p->v6), cmp6);
	return p;
}

void
espgw_reasm_peers_free(struct espgw_reasm_peers *p)
{
	rte_free(p);
}

bool
espgw_reasm_peers_equal(const struct espgw_reasm_peers *a, const struct espgw_reasm_peers *b)
{
	return a->n4 == b->n4 && a->n6 == b->n6 &&
	       memcmp(a->v4, b->v4, a->n4 * sizeof(*a->v4)) == 0 &&
	       memcmp(a->v6, b->v6, (size_t)a->n6 * sizeof(*a->v6)) == 0;
}

unsigned int
espgw_reasm_peers_count(const struct espgw_reasm_peers *p)
{
	return p->n4 + p->n6;
}

static int
find4(const struct espgw_reasm_peers *p, uint32_t a)
{
	uint32_t lo = 0, hi = p->n4;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->v4[mid] == a)
			return (int)mid;
		if (p->v4[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int
find6(const struct espgw_reasm_peers *p, const uint8_t *a)
{
	uint32_t lo = 0, hi = p->n6;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(p->v6[mid], a, 16);

		if (c == 0)
			return (int)(p->n4 + mid);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int
espgw_reasm_peer_of(const struct espgw_reasm_peers *p, const uint8_t *l3)
{
	uint32_t src;

	if ((l3[0] >> 4) == 4) {
		memcpy(&src, l3 + 12, sizeof(src));
		return find4(p, rte_be_to_cpu_32(src));
	}
	return find6(p, l3 + 8);
}
