/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's cycles a packet over full bursts, for measuring changes of a few
 * cycles (meson -Dburst_cycles=true; off by default, and then nothing here is
 * compiled in). On a shared VM the gateway's rate moves by 10% and more
 * between runs of one binary, where the minimum and 10th percentile of the
 * worker's own timing of each burst hold within 1-2 cycles: what an A/B of a
 * data path change needs (README, "Running it"). Each iteration of the loop
 * that handled a full burst adds its cycles a packet, RX to TX flush, to a
 * histogram; the worker logs its minimum, 10th percentile and median when it
 * stops, and scripts/bench prints them beside each run's rate.
 */
#ifndef ESPGW_BURST_CYCLES_H
#define ESPGW_BURST_CYCLES_H

#include <stdint.h>

#ifdef ESPGW_BURST_CYCLES
/* One iteration of n packets (a full burst) that took cycles. */
void burst_cycles_add(uint64_t cycles, uint16_t n);
/* Logged at the worker's end. */
void burst_cycles_log(unsigned int worker);
#else
static inline void
burst_cycles_add(uint64_t cycles, uint16_t n)
{
	(void)cycles;
	(void)n;
}

static inline void
burst_cycles_log(unsigned int worker)
{
	(void)worker;
}
#endif

#endif
