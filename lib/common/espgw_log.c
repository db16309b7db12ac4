/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include "espgw_log.h"

static const char *const module_names[ESPGW_LOG_N] = {
#define X(id, name) [ESPGW_LOG_##id] = name,
		ESPGW_LOG_MODULES(X)
#undef X
};

/* Without EAL (unit tests, --check): info and above to stderr, as before. */
static FILE *stream;
static unsigned int stream_level = ESPGW_LOG_INFO;

static int
stream_enabled(enum espgw_log_module mod, unsigned int level)
{
	(void)mod;
	return level <= stream_level;
}

static void __attribute__((format(printf, 3, 0)))
stream_write(enum espgw_log_module mod, unsigned int level, const char *fmt, va_list ap)
{
	FILE *f = stream != NULL ? stream : stderr;

	(void)level;
	fprintf(f, "espgw.%s: ", module_names[mod]);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

/* Set once at start, before any other thread logs. */
static espgw_log_enabled_t sink_enabled = stream_enabled;
static espgw_log_write_t sink_write = stream_write;

void
espgw_log_set_sink(espgw_log_enabled_t enabled, espgw_log_write_t write)
{
	sink_enabled = enabled != NULL ? enabled : stream_enabled;
	sink_write = write != NULL ? write : stream_write;
}

void
espgw_log_to_stream(FILE *f, unsigned int max_level)
{
	stream = f;
	stream_level = max_level;
	espgw_log_set_sink(NULL, NULL);
}

const char *
espgw_log_module_name(enum espgw_log_module mod)
{
	return (unsigned int)mod < ESPGW_LOG_N ? module_names[mod] : "?";
}

int
espgw_log_enabled(enum espgw_log_module mod, unsigned int level)
{
	return sink_enabled(mod, level);
}

void
espgw_log(enum espgw_log_module mod, unsigned int level, const char *fmt, ...)
{
	va_list ap;

	if (!sink_enabled(mod, level))
		return;
	va_start(ap, fmt);
	sink_write(mod, level, fmt, ap);
	va_end(ap);
}
