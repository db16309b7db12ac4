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
