/* SPDX-License-Identifier: BSD-3-Clause */
/* A worker's cache of inbound SAD lookups (esp_sad_cache.h says how it stays exact). */
#include <rte_malloc.h>

#include "esp_sad_cache.h"

struct espgw_sad_cache *
espgw_sad_cache_create(int socket)
{
	RTE_BUILD_BUG_ON(ESPGW_SAD_CACHE_SIZE != 1u << 12);  /* the hash takes 12 bits */
	RTE_BUILD_BUG_ON(ESPGW_SAD_CACHE4_SETS != 1u << 10); /* and 10 for a set */
	RTE_BUILD_BUG_ON(sizeof(struct espgw_sad_cache4_set) != RTE_CACHE_LINE_SIZE);
	return rte_zmalloc_socket("espgw_sad_cache", sizeof(struct espgw_sad_cache),
			RTE_CACHE_LINE_SIZE, socket);
}

void
espgw_sad_cache_free(struct espgw_sad_cache *c)
{
	rte_free(c);
}
