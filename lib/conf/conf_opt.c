/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Option tables: every command is a fixed prefix followed by "NAME VALUE"
 * options in any order. One engine gives every command the same rules and
 * messages: unknown option, option given twice, options that exclude each
 * other, missing value, missing required option.
 */
#include <string.h>

#include "conf_int.h"

static const struct espgw_conf_opt *
opt_find(const struct espgw_conf_opt *opts, unsigned int n, const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

/* given[slot]: the option that filled the slot, for "conflicts with" messages. */
static int
opt_mark(const char *cmd, const struct espgw_conf_opt *o, const char *given[], uint64_t *seen,
		struct espgw_err *err)
{
	const char *prev = given[o->slot];

	if (ESPGW_CONF_SEEN(*seen, o->slot) && !o->repeat) {
		if (strcmp(prev, o->name) == 0)
			return espgw_err_set(err, "option '%s' given twice", o->name);
		return espgw_err_set(err, "'%s' conflicts with '%s' in %s", o->name, prev, cmd);
	}
	*seen |= UINT64_C(1) << o->slot;
	given[o->slot] = o->name;
	return 0;
}

int
espgw_conf_opts(const char *cmd, const struct espgw_conf_opt *opts, unsigned int n_opts, int argc,
		char *const argv[], void *obj, uint64_t *seen, struct espgw_err *err)
{
	const char *given[64] = {NULL};
	const struct espgw_conf_opt *o;
	const char *val;
	int i = 0;

	*seen = 0;
	while (i < argc) {
		o = opt_find(opts, n_opts, argv[i]);
		if (o == NULL)
			return espgw_err_set(err, "unknown option '%.40s' for %s",
					espgw_conf_show(argv[i]), cmd);
		if (opt_mark(cmd, o, given, seen, err) < 0)
			return -1;
		i++;
		val = NULL;
		if (!o->flag) {
			if (i == argc)
				return espgw_err_set(err, "missing value for '%s'", o->name);
			val = argv[i++];
		}
		if (o->set(obj, val, err) < 0)
			return -1;
	}
	return 0;
}

int
espgw_conf_need(const char *cmd, uint64_t seen, unsigned int slot, const char *what,
		struct espgw_err *err)
{
	if (ESPGW_CONF_SEEN(seen, slot))
		return 0;
	return espgw_err_set(err, "%s needs %s", cmd, what);
}
