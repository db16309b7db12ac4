/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What many SAs cost Intel IPsec-MB itself, apart from espgw: cycles an
 * AES-GCM-128 encryption of a 64-byte frame's ESP payload (48 bytes, 8 of
 * AAD, 16 of ICV: the bench's out-gcm128 at 64 B), called once a packet as
 * espgw's direct path calls it (gcm128_enc, no job manager), for bursts of
 * 32 whose consecutive packets use different keys, round-robin over N key
 * schedules (the bench's 1,000-SA scenarios send consecutive frames to
 * different SAs). With --state each key also has a line of SA state (a
 * sequence number, read and written) next to its schedule, as any gateway
 * keeps. With --shuffle the keys are visited in a random order, fixed over
 * the run (the schedules' addresses do not stride: no hardware prefetcher
 * guesses the next). With --stream each packet is encrypted in a buffer of
 * its own, as frames arrive in mbufs: 8,192 of them 2,176 bytes apart, the
 * frame copied in first and two header lines written (what net_pcap's
 * receive does a frame), so that the schedules share the caches with a
 * stream of fresh lines as in the gateway. --touch L also reads L more
 * lines a packet, streaming through 32 MiB: the rest of a gateway's
 * footprint a packet (tables, rings, the source's frames), which decides
 * whether 1,000 SAs' schedules stay in L2. --payload P encrypts P bytes
 * instead of 48 (1404: a 1420-byte frame's, out-gcm128 at 1420 B): GHASH
 * then reads all 48 of a schedule's key powers, 12 lines where 48 bytes read
 * 2. The difference between N = 1 and N = 1000 is what cold key schedules
 * cost the library on this CPU: the part of the 1,000-SA cost that is not
 * espgw's code (README, "Buckets in one pass, and where 1,000 SAs go", "The
 * inbound lookup cache in sets").
 *
 *   cc -O3 -march=native -o /tmp/gcm_keys scripts/bench/gcm_keys.c -lIPSec_MB
 *   /tmp/gcm_keys [--state] [--shuffle] [--stream] [--touch L] [--payload P]
 *                 [--cpu C] [N ...]
 *   (N by default: 1 32 1000 4000)
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <x86intrin.h>

/* --payload at most; 48 by default: a 64 B frame's 46 B packet, pad, trailer. */
#define PAYLOAD_MAX 1600
#define BURST	    32
#define AAD_LEN	    8 /* SPI, sequence number */
#define CALLS	    (1u << 21)
#define TRIALS	    5

/* One SA's crypto state: a line of its own (the sequence number), then the schedule. */
struct sa {
	uint64_t seq;
	uint8_t pad[56];
	struct gcm_key_data key;
} __attribute__((aligned(64)));

static uint8_t buf[BURST][PAYLOAD_MAX + 64] __attribute__((aligned(64)));
static int state, shuffle, stream;
static unsigned int payload = 48;

#define MBUFS	  8192
#define MBUF_SIZE 2176 /* DPDK's default mbuf: 128 B header, 2,048 B data */
static uint8_t *mbufs;

#define TOUCH_SIZE (32u << 20)
static unsigned int touch;
static uint64_t *region;
static volatile uint64_t sink;

/* Call c's other reads: touch lines, the next ones of the region. */
static void
touch_lines(unsigned int c)
{
	size_t at = (size_t)c * touch * 8 % (TOUCH_SIZE / 8);
	uint64_t sum = 0;
	unsigned int l;

	for (l = 0; l < touch; l++)
		sum += region[(at + l * 8) % (TOUCH_SIZE / 8)];
	sink += sum;
}

/* The buffer call c encrypts in: buf[], or a fresh mbuf, filled as a receive fills it. */
static uint8_t *
packet(unsigned int c)
{
	uint8_t *mb;

	if (!stream)
		return buf[c % BURST];
	mb = mbufs + (size_t)(c % MBUFS) * MBUF_SIZE;
	memset(mb, 0, 128);
	memcpy(mb + 128 + 64, buf[c % BURST], payload + 16);
	return mb + 128 + 64 + 14 + 20 + 8; /* the payload, after L2, outer IP and ESP */
}

static unsigned int *order;

static struct sa *
sas_make(IMB_MGR *m, unsigned int n)
{
	struct sa *s = aligned_alloc(64, n * sizeof(*s));
	uint8_t key[16];
	unsigned int i, j, k;

	order = realloc(order, n * sizeof(*order));
	if (s == NULL || order == NULL)
		exit(1);
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n; shuffle && i > 1; i--) { /* Fisher-Yates, fixed seed */
		j = (unsigned int)rand() % i;
		k = order[i - 1], order[i - 1] = order[j], order[j] = k;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(key); j++)
			key[j] = (uint8_t)(i * 131 + j * 7 + 1);
		IMB_AES128_GCM_PRE(m, key, &s[i].key);
		s[i].seq = 1;
	}
	return s;
}

/* Cycles a call over CALLS calls, consecutive calls on the keys in order[]. */
static double
run(IMB_MGR *m, struct sa *s, unsigned int n)
{
	struct gcm_context_data ctx;
	uint8_t iv[12] = {0}, aad[AAD_LEN] = {0}, tag[16];
	unsigned int c, i = 0, k;
	uint64_t t0 = __rdtsc();
	uint8_t *p;

	for (c = 0; c < CALLS; c++) {
		p = packet(c);
		if (touch)
			touch_lines(c);
		k = order[i];
		if (state)
			memcpy(aad + 4, &s[k].seq, 4), s[k].seq++;
		IMB_AES128_GCM_ENC(m, &s[k].key, &ctx, p, p, payload, iv, aad, AAD_LEN, tag,
				sizeof(tag));
		memcpy(p + payload, tag, sizeof(tag));
		i = i + 1 == n ? 0 : i + 1;
	}
	return (double)(__rdtsc() - t0) / CALLS;
}

/*
 * The best of TRIALS runs for each key count, the counts taken in turn in
 * each trial: a slow stretch of the machine (a neighbour's memory traffic)
 * then hits every count alike instead of one.
 */
static void
best(IMB_MGR *m, const unsigned int ns[], unsigned int nn, double min[])
{
	unsigned int *orders[16];
	struct sa *s[16];
	unsigned int i;
	double c;
	int t;

	for (i = 0; i < nn; i++) {
		order = NULL;
		s[i] = sas_make(m, ns[i]);
		orders[i] = order;
		min[i] = 1e30;
	}
	for (t = 0; t <= TRIALS; t++)
		for (i = 0; i < nn; i++) {
			order = orders[i];
			c = run(m, s[i], ns[i]);
			/* Trial 0 warms: every schedule in the caches it fits. */
			if (t > 0 && c < min[i])
				min[i] = c;
		}
	for (i = 0; i < nn; i++) {
		free(s[i]);
		free(orders[i]);
	}
	order = NULL;
}

int
main(int argc, char **argv)
{
	static const unsigned int def[] = {1, 32, 1000, 4000};
	unsigned int ns[16], nn = 0, i;
	int cpu = 1, a;
	IMB_MGR *m = alloc_mb_mgr(0);
	double c[16];
	cpu_set_t set;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--state") == 0)
			state = 1;
		else if (strcmp(argv[a], "--shuffle") == 0)
			shuffle = 1;
		else if (strcmp(argv[a], "--stream") == 0)
			stream = 1;
		else if (strcmp(argv[a], "--touch") == 0 && a + 1 < argc)
			touch = (unsigned int)atoi(argv[++a]);
		else if (strcmp(argv[a], "--payload") == 0 && a + 1 < argc)
			payload = (unsigned int)atoi(argv[++a]);
		else if (strcmp(argv[a], "--cpu") == 0 && a + 1 < argc)
			cpu = atoi(argv[++a]);
		else if (nn < 16)
			ns[nn++] = (unsigned int)strtoul(argv[a], NULL, 0);
	}
	if (payload == 0 || payload > PAYLOAD_MAX)
		return 2;
	if (nn == 0)
		for (nn = 0; nn < sizeof(def) / sizeof(def[0]); nn++)
			ns[nn] = def[nn];
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	mbufs = aligned_alloc(64, (size_t)MBUFS * MBUF_SIZE);
	region = aligned_alloc(64, TOUCH_SIZE);
	if (m == NULL || mbufs == NULL || region == NULL)
		return 1;
	memset(region, 1, TOUCH_SIZE);
	memset(mbufs, 0, (size_t)MBUFS * MBUF_SIZE);
	init_mb_mgr_auto(m, NULL);
	printf("gcm128_enc, %u B, AAD %u B, %s, keys %s, %s, %u lines more: TSC cycles a call "
	       "(best of %d x %u, the counts in turn)\n",
			payload, AAD_LEN, state ? "with a line of SA state" : "schedules only",
			shuffle ? "shuffled" : "in address order",
			stream ? "fresh mbufs" : "32 buffers", touch, TRIALS, CALLS);
	best(m, ns, nn, c);
	for (i = 0; i < nn; i++)
		printf("keys %5u  %6.1f  (+%.1f)\n", ns[i], c[i], c[i] - c[0]);
	free_mb_mgr(m);
	free(mbufs);
	free(region);
	return 0;
}
