/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cost of a shared replay window ("decrypt any", lib/sad/replay.h) when
 * two workers commit one SA's numbers at once. The pipeline benchmark cannot
 * show it: its inbound SAs run with replay-window 0, since the looped pcaps
 * repeat their numbers (scripts/bench/scale.py). Here each thread takes the
 * numbers of its queue in bursts, as lib/esp does: the numbers are dealt to
 * the threads in turn, one by one (--deal 1, the worst case: every block is
 * written by both) or in runs, and between two bursts each thread spins for
 * the time the rest of the pipeline would take (--work-ns per packet). The
 * time inside check and commit is read with the TSC around the calls, so the
 * spin does not count; the one-writer window on one thread is the baseline.
 *
 *   cc -O2 -pthread -Ilib/sad -o /tmp/replay_race scripts/bench/replay_race.c lib/sad/replay.c
 *   /tmp/replay_race [THREADS [DEAL [WORK_NS [WINDOW]]]]   (default 2 1 60 1024)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#include "replay.h"

#define BURST 32
#define SEQS  (UINT64_C(1) << 24)

struct racer {
	struct espgw_replay *r;
	unsigned int id, threads, deal;
	uint64_t work_ns, tsc_in, taken, done;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The k-th number of thread id's queue: runs of deal numbers dealt in turn. */
static uint64_t
nth(const struct racer *t, uint64_t k)
{
	uint64_t run = k / t->deal;

	return 1 + (run * t->threads + t->id) * t->deal + k % t->deal;
}

static void
spin(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		;
}

/* One burst as lib/esp runs it: each number checked, then the passed ones committed. */
static void
one_burst(struct racer *t, const uint64_t seq[BURST])
{
	uint64_t pass[BURST], t0 = __rdtsc();
	bool ok[BURST];
	uint16_t i, k = 0;

	for (i = 0; i < BURST; i++)
		if (espgw_replay_check(t->r, seq[i]) == ESPGW_REPLAY_OK)
			pass[k++] = seq[i];
	if (k)
		espgw_replay_update_burst(t->r, pass, k, ok);
	t->tsc_in += __rdtsc() - t0;
	for (i = 0; i < k; i++)
		t->taken += ok[i];
	t->done += BURST;
}

static void *
race(void *arg)
{
	struct racer *t = arg;
	uint64_t seq[BURST], k;
	unsigned int i;

	for (k = 0; k + BURST <= SEQS / t->threads; k += BURST) {
		for (i = 0; i < BURST; i++)
			seq[i] = nth(t, k + i);
		one_burst(t, seq);
		spin(t->work_ns * BURST);
	}
	return NULL;
}

/* TSC ticks per ns over 100 ms, to print ns. */
static double
tsc_per_ns(void)
{
	uint64_t n0 = now_ns(), c0 = __rdtsc();

	spin(100000000);
	return (double)(__rdtsc() - c0) / (double)(now_ns() - n0);
}

static void
run(unsigned int threads, unsigned int deal, uint64_t work_ns, uint32_t win, bool shared,
		double tpn)
{
	struct espgw_replay *r = malloc(espgw_replay_size(win, shared));
	struct racer t[8];
	pthread_t th[8];
	uint64_t taken = 0, done = 0, tsc = 0;
	unsigned int i;

	espgw_replay_init(r, win, false, shared);
	for (i = 0; i < threads; i++) {
		t[i] = (struct racer){.r = r, .id = i, .threads = threads, .deal = deal,
				.work_ns = work_ns};
		pthread_create(&th[i], NULL, race, &t[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		taken += t[i].taken, done += t[i].done, tsc += t[i].tsc_in;
	}
	printf("%-10s threads %u deal %-4u work %3" PRIu64 " ns/pkt: window %5.2f ns/pkt, "
	       "taken %" PRIu64 " of %" PRIu64 "\n",
			shared ? "shared" : "one-writer", threads, deal, work_ns,
			(double)tsc / tpn / (double)done, taken, done);
	free(r);
}

int
main(int argc, char **argv)
{
	unsigned int threads = argc > 1 ? (unsigned int)atoi(argv[1]) : 2;
	unsigned int deal = argc > 2 ? (unsigned int)atoi(argv[2]) : 1;
	uint64_t work = argc > 3 ? (uint64_t)atoll(argv[3]) : 60;
	uint32_t win = argc > 4 ? (uint32_t)atoi(argv[4]) : 1024;
	double tpn = tsc_per_ns();

	if (threads < 1 || threads > 8 || deal < 1)
		return 2;
	run(1, 1, work, win, false, tpn);
	run(1, 1, work, win, true, tpn);
	run(threads, deal, work, win, true, tpn);
	return 0;
}
