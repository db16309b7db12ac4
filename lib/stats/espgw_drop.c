/* SPDX-License-Identifier: BSD-3-Clause */
#include "espgw_drop.h"

static const char *const names[ESPGW_DROP_MAX] = {
#define X(id, name, help) [ESPGW_DROP_##id] = name,
		ESPGW_DROP_LIST(X)
#undef X
};

static const char *const helps[ESPGW_DROP_MAX] = {
#define X(id, name, help) [ESPGW_DROP_##id] = help,
		ESPGW_DROP_LIST(X)
#undef X
};

const char *
espgw_drop_name(enum espgw_drop d)
{
	return d < ESPGW_DROP_MAX ? names[d] : "?";
}

const char *
espgw_drop_help(enum espgw_drop d)
{
	return d < ESPGW_DROP_MAX ? helps[d] : "?";
}

uint64_t
espgw_drop_total(const uint64_t drop[ESPGW_DROP_MAX])
{
	uint64_t n = 0;
	unsigned int d;

	for (d = 0; d < ESPGW_DROP_MAX; d++)
		n += drop[d];
	return n;
}
