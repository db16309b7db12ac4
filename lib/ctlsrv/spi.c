/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "sa alloc-spi [range N-M]": an inbound SPI no SA uses, chosen at random
 * (RFC 4303 2.1: the receiver picks it; random so that it says nothing of
 * the SAs before it), and held for the client for 60 s: an IKE responder
 * asks for it, negotiates, then installs the SA with it ("sa add ... dir in
 * spi N"). A reservation ends when an inbound SA takes the SPI, or after 60 s.
 * Reservations keep other alloc-spi requests off the SPI; they do not stop
 * an explicit "sa add" of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ctlsrv_int.h"
#include "espgw_clock.h"
#include "espgw_conf.h"

#define SPI_HOLD_MS  60000
#define SPI_TRIES    64
#define SPI_FIRST    256 /* 1..255 are reserved by IANA (RFC 4303 2.1) */
#define SPI_HELD_MAX 65536

static bool
spi_in_use(const struct espgw_store *s, uint32_t spi)
{
	unsigned int i;

	for (i = 0; i < s->n_sas; i++)
		if (!s->sas[i].declared && s->sas[i].dir == ESPGW_DIR_IN && s->sas[i].spi == spi)
			return true;
	return false;
}

/* Reservations that ran out, or whose SPI an SA took, go. */
static void
held_sweep(struct espgw_ctlsrv *srv, uint64_t now)
{
	unsigned int i, k = 0;

	for (i = 0; i < srv->n_held; i++)
		if (srv->held[i].until_ms > now && !spi_in_use(srv->store, srv->held[i].spi))
			srv->held[k++] = srv->held[i];
	srv->n_held = k;
}

static bool
spi_held(const struct espgw_ctlsrv *srv, uint32_t spi)
{
	unsigned int i;

	for (i = 0; i < srv->n_held; i++)
		if (srv->held[i].spi == spi)
			return true;
	return false;
}

static int
range_parse(int argc, char *argv[], uint32_t *lo, uint32_t *hi, struct espgw_err *err)
{
	unsigned long a, b;
	char *end;

	*lo = SPI_FIRST;
	*hi = UINT32_MAX;
	if (argc == 2)
		return 0;
	if (argc != 4 || strcmp(argv[2], "range") != 0) {
		snprintf(err->msg, sizeof(err->msg), "usage: sa alloc-spi [range N-M]");
		return -1;
	}
	errno = 0;
	a = strtoul(argv[3], &end, 0);
	b = *end == '-' ? strtoul(end + 1, &end, 0) : 0;
	if (errno != 0 || *end != '\0' || a < SPI_FIRST || b < a || b > UINT32_MAX) {
		snprintf(err->msg, sizeof(err->msg),
				"invalid range '%.40s' (expected N-M, %u..4294967295)", argv[3],
				SPI_FIRST);
		return -1;
	}
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
}

static int
spi_pick(struct espgw_ctlsrv *srv, uint32_t lo, uint32_t hi, uint32_t *spi)
{
	uint64_t span = (uint64_t)hi - lo + 1;
	uint32_t r;
	int i;

	for (i = 0; i < SPI_TRIES; i++) {
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			return -1;
		*spi = lo + (uint32_t)(r % span);
		if (!spi_in_use(srv->store, *spi) && !spi_held(srv, *spi))
			return 0;
	}
	return -1;
}

void
ctl_spi_alloc(struct espgw_ctlsrv *srv, int argc, char *argv[])
{
	struct espgw_err err = {{0}};
	uint64_t now = espgw_now_ns() / 1000000;
	uint32_t lo, hi, spi;

	if (range_parse(argc, argv, &lo, &hi, &err) < 0)
		return ctl_reply_error(srv, err.msg);
	held_sweep(srv, now);
	if (srv->n_held == SPI_HELD_MAX)
		return ctl_reply_error(
				srv, "too many SPIs held (65536): install or let them expire");
	if (spi_pick(srv, lo, hi, &spi) < 0)
		return ctl_reply_error(srv, "no free SPI found in the range");
	srv->held[srv->n_held].spi = spi;
	srv->held[srv->n_held++].until_ms = now + SPI_HOLD_MS;
	espgw_json_fmt(&srv->reply, "{\"ok\":true,\"spi\":%u}\n", spi);
}
