/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * espgw's log (espgw_log.h) through rte_log: one registered log type per
 * module, so EAL's --log-level (patterns and globs) and --syslog apply.
 */
#include <stdio.h>

#include <rte_log.h>

#include "espgw_log.h"
#include "gw_log.h"

#define LOG_LINE_MAX 512

static int log_types[ESPGW_LOG_N];

static int
rte_enabled(enum espgw_log_module mod, unsigned int level)
{
	return rte_log_can_log((uint32_t)log_types[mod], level);
}

/* Formatted first so that the type's name prefixes the line, as DPDK's own do. */
static void __attribute__((format(printf, 3, 0)))
rte_write(enum espgw_log_module mod, unsigned int level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];

	vsnprintf(line, sizeof(line), fmt, ap);
	rte_log(level, (uint32_t)log_types[mod], "espgw.%s: %s\n", espgw_log_module_name(mod),
			line);
}

/*
 * Before rte_eal_init(), so that EAL's --log-level options apply to these
 * types in their order (the last match wins). Called after it (tests), what
 * EAL saved of --log-level is picked instead, where DPDK 22.11 lets the
 * first matching option win.
 */
int
espgw_log_rte_init(void)
{
	char name[32];
	unsigned int i;

	for (i = 0; i < ESPGW_LOG_N; i++) {
		snprintf(name, sizeof(name), "espgw.%s", espgw_log_module_name(i));
		log_types[i] = rte_log_register_type_and_pick_level(name, RTE_LOG_INFO);
		if (log_types[i] < 0)
			return -1;
	}
	espgw_log_set_sink(rte_enabled, rte_write);
	return 0;
}

/* espgw's own --log-level LEVEL: every espgw module at once. */
void
espgw_log_rte_level(unsigned int level)
{
	rte_log_set_level_pattern("espgw.*", level);
}
