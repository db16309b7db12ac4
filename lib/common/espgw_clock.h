/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control threads' clock (deadlines, publication times, held SPIs):
 * CLOCK_MONOTONIC, never stepped by the wall clock. Not for the workers,
 * which count TSC cycles (rte_rdtsc) and make no system call.
 */
#ifndef ESPGW_CLOCK_H
#define ESPGW_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
espgw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* ESPGW_CLOCK_H */
