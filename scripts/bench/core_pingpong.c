/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How long one cache line takes to move between two CPUs: two threads, one
 * pinned to each, bounce a counter 2 million times. What seq-order strict
 * pays per frame another worker encrypted depends on it (README, "One SA
 * over two workers"); on a VM it changes with where the host runs the vCPUs.
 *
 *   cc -O2 -pthread -o /tmp/core_pingpong scripts/bench/core_pingpong.c
 *   /tmp/core_pingpong [CPU_A CPU_B]     (default 0 1)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 2000000

static volatile uint64_t line __attribute__((aligned(64)));
static int cpu_a, cpu_b = 1;

static void
pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

/* Waits for the odd values and answers with the even ones. */
static void *
echo(void *arg)
{
	uint64_t i;

	pin(cpu_b);
	for (i = 0; i < ROUNDS; i++) {
		while (line != 2 * i + 1)
			;
		line = 2 * i + 2;
	}
	return arg;
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t t;
	uint64_t i;
	double ns;

	if (argc == 3) {
		cpu_a = atoi(argv[1]);
		cpu_b = atoi(argv[2]);
	}
	pthread_create(&t, NULL, echo, NULL);
	pin(cpu_a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < ROUNDS; i++) {
		while (line != 2 * i)
			;
		line = 2 * i + 1;
	}
	while (line != 2 * ROUNDS)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / ROUNDS;
	printf("CPU %d <-> %d: round trip %.1f ns, one way %.1f ns\n", cpu_a, cpu_b, ns, ns / 2);
	return 0;
}
