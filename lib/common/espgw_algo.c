/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "espgw_algo.h"

static const struct espgw_algo_info algos[ESPGW_ALGO_MAX] = {
#define X(id, nm, k, key, salt, iv, icv, blk, r)     \
	[ESPGW_ALGO_##id] = {.name = nm,             \
			.rfc = r,                    \
			.kind = ESPGW_ALGO_KIND_##k, \
			.key_len = key,              \
			.salt_len = salt,            \
			.iv_len = iv,                \
			.icv_len = icv,              \
			.block = blk},
		ESPGW_ALGO_LIST(X)
#undef X
};

const struct espgw_algo_info *
espgw_algo_info(enum espgw_algo a)
{
	if (a <= ESPGW_ALGO_NONE || a >= ESPGW_ALGO_MAX)
		return NULL;
	return &algos[a];
}

enum espgw_algo
espgw_algo_lookup(const char *name, enum espgw_algo_kind kind)
{
	int a;

	for (a = ESPGW_ALGO_NONE + 1; a < ESPGW_ALGO_MAX; a++)
		if (algos[a].kind == kind && strcmp(algos[a].name, name) == 0)
			return (enum espgw_algo)a;
	return ESPGW_ALGO_NONE;
}

const char *
espgw_algo_name(enum espgw_algo a)
{
	const struct espgw_algo_info *i = espgw_algo_info(a);

	return i ? i->name : "none";
}
