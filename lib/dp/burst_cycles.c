/* SPDX-License-Identifier: BSD-3-Clause */
/* Cycles a packet over full bursts (burst_cycles.h says why). */
#include <inttypes.h>

#include "burst_cycles.h"
#include "espgw_log.h"

#ifdef ESPGW_BURST_CYCLES

/* Whole cycles a packet; the last slot takes everything above. */
#define SLOTS 4096

/* Each worker thread its own: one writer, read by it at its end. */
static __thread uint64_t hist[SLOTS];

void
burst_cycles_add(uint64_t cycles, uint16_t n)
{
	uint64_t c = cycles / n;

	hist[c < SLOTS ? c : SLOTS - 1]++;
}

/* The smallest value with at least num/den of the total at or below it. */
static unsigned int
quantile(uint64_t total, uint64_t num, uint64_t den)
{
	uint64_t seen = 0;
	unsigned int i;

	for (i = 0; i < SLOTS; i++) {
		seen += hist[i];
		if (seen != 0 && seen * den >= total * num)
			return i;
	}
	return SLOTS - 1;
}

void
burst_cycles_log(unsigned int worker)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < SLOTS; i++)
		total += hist[i];
	if (total == 0)
		return;
	DP_LOG(INFO,
			"worker %u: cycles a packet over %" PRIu64
			" full bursts: min %u p10 %u median %u",
			worker, total, quantile(total, 0, 1), quantile(total, 1, 10),
			quantile(total, 1, 2));
}

#endif
