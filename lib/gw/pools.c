/* SPDX-License-Identifier: BSD-3-Clause */
/* Mempool use at start and after the stop (pools.h says why). */
#include <string.h>

#include <rte_log.h>

#include "espgw_log.h"
#include "pools.h"

static struct espgw_pool_use *
use_of(struct espgw_pools *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->p[i].name, name) == 0)
			return &c->p[i];
	if (c->n == ESPGW_POOLS_MAX)
		return NULL;
	memset(&c->p[c->n], 0, sizeof(c->p[0]));
	snprintf(c->p[c->n].name, sizeof(c->p[0].name), "%s", name);
	return &c->p[c->n++];
}

static void
count_start(struct rte_mempool *mp, void *arg)
{
	struct espgw_pool_use *u = use_of(arg, mp->name);

	if (u == NULL)
		return;
	u->size = mp->size;
	u->start = rte_mempool_in_use_count(mp);
}

/* A pool created after the start had nothing in use before it existed. */
static void
count_end(struct rte_mempool *mp, void *arg)
{
	struct espgw_pool_use *u = use_of(arg, mp->name);

	if (u == NULL)
		return;
	u->size = mp->size;
	u->end = rte_mempool_in_use_count(mp);
}

void
espgw_pools_start(struct espgw_pools *c)
{
	memset(c, 0, sizeof(*c));
	rte_mempool_walk(count_start, c);
}

void
espgw_pools_end(struct espgw_pools *c)
{
	unsigned int i;

	rte_mempool_walk(count_end, c);
	c->ended = true;
	for (i = 0; i < c->n; i++)
		if (c->p[i].end != c->p[i].start)
			GW_LOG(WARNING, "pool %s: %u objects in use after the stop, %u at start",
					c->p[i].name, c->p[i].end, c->p[i].start);
}

void
espgw_pools_print(const struct espgw_pools *c, FILE *f)
{
	unsigned int i;

	if (!c->ended)
		return;
	fprintf(f, "\n%-24s %10s %14s %14s\n", "pool", "size", "in use start", "in use end");
	for (i = 0; i < c->n; i++)
		fprintf(f, "%-24s %10u %14u %14u\n", c->p[i].name, c->p[i].size, c->p[i].start,
				c->p[i].end);
}

void
espgw_pools_json(const struct espgw_pools *c, FILE *f)
{
	unsigned int i;

	fprintf(f, "\"pools\": {");
	for (i = 0; c->ended && i < c->n; i++)
		fprintf(f, "%s\"%s\": {\"size\": %u, \"in_use_start\": %u, \"in_use_end\": %u}",
				i ? ", " : "", c->p[i].name, c->p[i].size, c->p[i].start,
				c->p[i].end);
	fprintf(f, "}");
}
