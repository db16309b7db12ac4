/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * espgw's log: one log type per module ("espgw.ctl", "espgw.sa", ...), so
 * that EAL's --log-level espgw.sa:debug (or 'espgw.*:debug') raises one
 * module alone. Pure C: the modules without DPDK (ctlsrv, conf) log through
 * the same macros; a sink decides where a line goes. The default sink writes
 * to stderr; espgw_log_rte_init() (lib/gw/log.c) routes every line through
 * rte_log, which honours EAL's --log-level and --syslog.
 *
 * Rules for callers: one line per event, naming the SA or port; never key,
 * salt or authentication-key bytes (tests/ctl/test_logs.py greps for them).
 */
#ifndef ESPGW_LOG_H
#define ESPGW_LOG_H

#include <stdarg.h>
#include <stdio.h>

/* Module, the suffix of its log type name "espgw.NAME". */
#define ESPGW_LOG_MODULES(X)                                               \
	X(CTL, "ctl")	      /* control socket, requests, transactions */ \
	X(SA, "sa")	      /* SAs into and out of service, lifetimes */ \
	X(PORT, "port")	      /* ports, queues, offloads */                \
	X(HOST, "host")	      /* ARP/ND, host interface */                 \
	X(DP, "dp")	      /* workers, queue and SA mapping */          \
	X(GW, "gw")	      /* start, stop, pools, telemetry */          \
	X(CRYPTO, "crypto")   /* crypto devices and capabilities */        \
	X(CAPTURE, "capture") /* pdump and espgwctl capture */

enum espgw_log_module {
#define X(id, name) ESPGW_LOG_##id,
	ESPGW_LOG_MODULES(X)
#undef X
			ESPGW_LOG_N
};

/* The syslog(3) / RTE_LOG_* numbers, so that a sink passes them on as they are. */
enum espgw_log_level {
	ESPGW_LOG_EMERG = 1,
	ESPGW_LOG_ALERT,
	ESPGW_LOG_CRIT,
	ESPGW_LOG_ERR,
	ESPGW_LOG_WARNING,
	ESPGW_LOG_NOTICE,
	ESPGW_LOG_INFO,
	ESPGW_LOG_DEBUG,
};

/* Whether a line of this module and level would be written (skip costly arguments). */
typedef int (*espgw_log_enabled_t)(enum espgw_log_module mod, unsigned int level);
/* Write one line (fmt ends without a newline). */
typedef void (*espgw_log_write_t)(
		enum espgw_log_module mod, unsigned int level, const char *fmt, va_list ap);

void espgw_log_set_sink(espgw_log_enabled_t enabled, espgw_log_write_t write);
/* The sink without EAL: lines up to max_level to f (NULL: stderr). */
void espgw_log_to_stream(FILE *f, unsigned int max_level);
const char *espgw_log_module_name(enum espgw_log_module mod);
int espgw_log_enabled(enum espgw_log_module mod, unsigned int level);
void espgw_log(enum espgw_log_module mod, unsigned int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

#define ESPGW_LOG(mod, lvl, ...) espgw_log(ESPGW_LOG_##mod, ESPGW_LOG_##lvl, __VA_ARGS__)

/* One macro per module: CTL_LOG(INFO, "sa %s: ...", name). No trailing newline. */
#define CTL_LOG(lvl, ...)     ESPGW_LOG(CTL, lvl, __VA_ARGS__)
#define SA_LOG(lvl, ...)      ESPGW_LOG(SA, lvl, __VA_ARGS__)
#define PORT_LOG(lvl, ...)    ESPGW_LOG(PORT, lvl, __VA_ARGS__)
#define HOST_LOG(lvl, ...)    ESPGW_LOG(HOST, lvl, __VA_ARGS__)
#define DP_LOG(lvl, ...)      ESPGW_LOG(DP, lvl, __VA_ARGS__)
#define GW_LOG(lvl, ...)      ESPGW_LOG(GW, lvl, __VA_ARGS__)
#define CRYPTO_LOG(lvl, ...)  ESPGW_LOG(CRYPTO, lvl, __VA_ARGS__)
#define CAPTURE_LOG(lvl, ...) ESPGW_LOG(CAPTURE, lvl, __VA_ARGS__)

#endif /* ESPGW_LOG_H */
