/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window (lib/sad/replay.c), table-driven like WireGuard's replay
 * self-test: each step is one packet whose ICV verified, run as check (before
 * decryption) then update (after), with the verdict it must get. The window
 * rules are RFC 4303 3.4.3 (with top T and size W, T-W+1..T are inside), the
 * ESN rules RFC 4303 Appendix A2.1; the inferred numbers are also compared
 * with an independent formulation (the unique number with the wire's low bits
 * in [T-W+1, T-W+2^32]).
 *
 * Every table runs twice: on the one-writer window and on the shared one
 * ("decrypt any", tagged blocks and atomics). The shared window is also
 * compared with the one-writer window on random streams, and run by four
 * threads that each receive every number (late copies included): each
 * number must be accepted exactly once over all of them.
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "replay.h"

#define OK   ESPGW_REPLAY_OK
#define OLD  ESPGW_REPLAY_OLD
#define SEEN ESPGW_REPLAY_SEEN
#define P32  (UINT64_C(1) << 32)

struct step {
	uint64_t seq;
	enum espgw_replay_verdict want;
};

/* The kind of window the tables run on (main runs them on each). */
static bool shared;

static struct espgw_replay *
win_of(uint32_t w, bool esn, bool sh)
{
	struct espgw_replay *r = malloc(espgw_replay_size(w, sh));

	assert_non_null(r);
	espgw_replay_init(r, w, esn, sh);
	return r;
}

static struct espgw_replay *
win_new(uint32_t w, bool esn)
{
	return win_of(w, esn, shared);
}

/* One received packet: check, and if that passes, update (the ICV verified). */
static enum espgw_replay_verdict
receive(struct espgw_replay *r, uint64_t seq)
{
	enum espgw_replay_verdict v = espgw_replay_check(r, seq);

	return v == OK ? espgw_replay_update(r, seq) : v;
}

static void
run(struct espgw_replay *r, const struct step *s, size_t n, const char *table)
{
	enum espgw_replay_verdict v;
	size_t i;

	for (i = 0; i < n; i++) {
		v = receive(r, s[i].seq);
		if (v != s[i].want)
			fail_msg("%s step %zu: seq %" PRIu64 " (0x%" PRIx64 ") got %d, want %d",
					table, i, s[i].seq, s[i].seq, v, s[i].want);
	}
}

#define RUN(r, t) run(r, t, sizeof(t) / sizeof(t[0]), #t)

/* ---- 32-bit sequence numbers ---- */

static void
test_sizes(void **state)
{
	(void)state;
	/* window in whole 64-bit blocks, plus one, rounded up to a power of two */
	assert_int_equal(espgw_replay_size(64, false), sizeof(struct espgw_replay) + 2 * 8);
	assert_int_equal(espgw_replay_size(65, false), sizeof(struct espgw_replay) + 4 * 8);
	assert_int_equal(espgw_replay_size(192, false), sizeof(struct espgw_replay) + 4 * 8);
	assert_int_equal(espgw_replay_size(193, false), sizeof(struct espgw_replay) + 8 * 8);
	assert_int_equal(espgw_replay_size(65536, false), sizeof(struct espgw_replay) + 2048 * 8);
	/* shared: 32 numbers a block */
	assert_int_equal(espgw_replay_size(64, true), sizeof(struct espgw_replay) + 4 * 8);
	assert_int_equal(espgw_replay_size(96, true), sizeof(struct espgw_replay) + 4 * 8);
	assert_int_equal(espgw_replay_size(97, true), sizeof(struct espgw_replay) + 8 * 8);
	assert_int_equal(espgw_replay_size(65536, true), sizeof(struct espgw_replay) + 4096 * 8);
}

static void
test_in_order(void **state)
{
	static const struct step t[] = {
			{0, OLD}, /* never sent (RFC 4303 3.3.3) */
			{1, OK},
			{1, SEEN},
			{2, OK},
			{3, OK},
			{2, SEEN},
			{5, OK},
			{4, OK}, /* late, inside */
			{4, SEEN},
			{64, OK},
			{65, OK}, /* T 65: 2..65 inside */
			{1, OLD},
			{2, SEEN},
			{6, OK},
			{0, OLD},
	};
	struct espgw_replay *r = win_new(64, false);

	(void)state;
	RUN(r, t);
	assert_int_equal(r->top, 65);
	free(r);
}

/* The DPDK 22.11 bug: positions 32..63 of a block were never recorded. */
static void
test_dup_every_bit(void **state)
{
	static const uint32_t wins[] = {64, 1024};
	uint64_t base, s;
	unsigned int w, b;

	(void)state;
	for (w = 0; w < 2; w++) {
		for (base = 0; base <= 640; base += 320) {
			struct espgw_replay *r = win_new(wins[w], false);

			for (b = 0; b < 64; b++) {
				s = base + b;
				assert_int_equal(receive(r, s), s == 0 ? OLD : OK);
				assert_int_equal(receive(r, s), s == 0 ? OLD : SEEN);
			}
			for (b = 1; b < 64; b++) /* all still inside: T = base + 63 */
				assert_int_equal(receive(r, base + b), SEEN);
			free(r);
		}
	}
}

/* check() passes both copies before decryption; only one update wins. */
static void
test_dup_in_one_burst(void **state)
{
	struct espgw_replay *r = win_new(64, false);
	uint64_t s;

	(void)state;
	for (s = 30; s <= 40; s++) {
		assert_int_equal(espgw_replay_check(r, s), OK);
		assert_int_equal(espgw_replay_check(r, s), OK);
		assert_int_equal(espgw_replay_update(r, s), OK);
		assert_int_equal(espgw_replay_update(r, s), SEEN);
		assert_int_equal(espgw_replay_check(r, s), SEEN);
	}
	free(r);
}

/* RFC 4303 3.4.3: T-W is out, T-W+1 is in, for several window sizes. */
static void
test_window_edge(void **state)
{
	static const uint32_t wins[] = {64, 65, 100, 128, 1000, 1024, 65536};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(wins) / sizeof(wins[0]); i++) {
		uint64_t w = wins[i], t = 3 * w + 17;
		struct espgw_replay *r = win_new(wins[i], false);

		assert_int_equal(receive(r, t), OK);
		assert_int_equal(espgw_replay_check(r, t - w), OLD);
		assert_int_equal(espgw_replay_update(r, t - w), OLD);
		assert_int_equal(receive(r, t - w - 1), OLD);
		assert_int_equal(receive(r, t - w + 1), OK);
		assert_int_equal(receive(r, t - w + 1), SEEN);
		assert_int_equal(receive(r, t - 1), OK);
		/* the edge moves with the top */
		assert_int_equal(receive(r, t + 1), OK);
		assert_int_equal(receive(r, t - w + 1), OLD);
		assert_int_equal(receive(r, t - w + 2), OK);
		free(r);
	}
}

/* Advancing clears the blocks entered; stale bits of the ring never count as seen. */
static void
test_jumps(void **state)
{
	static const struct step t[] = {
			{1, OK},
			{63, OK},
			{64, OK},
			{100, OK},
			{127, OK}, /* both blocks of W 64 have bits set */
			{133, OK}, /* one block on: 128..191 reuses block 0's slot */
			{70, OK},  /* inside, never seen */
			{100, SEEN},
			{128, OK},
			{69, OLD}, /* 133 - 64 */
			{255, OK}, /* 192..255 reuses block 1's slot: 64, 70, 100, 127 are stale */
			{192, OK},
			{198, OK},
			{228, OK},
			{254, OK},
			{191, OLD},
			{(UINT64_C(1) << 31) + 5,
					OK}, /* far jump: both slots cleared (5 was 133's bit) */
			{255, OLD},
			{(UINT64_C(1) << 31) - 58, OK}, /* T - W + 1 */
			{(UINT64_C(1) << 31) - 2, OK},	/* 254's bit position */
			{(UINT64_C(1) << 31), OK},	/* 128's */
			{(UINT64_C(1) << 31) + 4, OK},
			{(UINT64_C(1) << 31) + 5, SEEN},
	};
	struct espgw_replay *r = win_new(64, false);

	(void)state;
	RUN(r, t);
	free(r);
}

/* A window of 200 over 8 blocks: the top wraps the ring many times. */
static void
test_ring_wrap(void **state)
{
	struct espgw_replay *r = win_new(200, false);
	uint64_t s;

	(void)state;
	for (s = 1; s <= 3001; s++)
		if (s % 3 != 0)
			assert_int_equal(receive(r, s), OK);
	assert_int_equal(r->top, 3001); /* window 2802..3001 */
	assert_int_equal(receive(r, 2801), OLD);
	for (s = 2802; s <= 3001; s++)
		assert_int_equal(receive(r, s), s % 3 != 0 ? SEEN : OK);
	for (s = 2802; s <= 3001; s++)
		assert_int_equal(receive(r, s), SEEN);
	/* out of order ahead: every other number first, then the gaps */
	for (s = 3003; s <= 3601; s += 2)
		assert_int_equal(receive(r, s), OK);
	for (s = 3402; s <= 3600; s += 2)
		assert_int_equal(receive(r, s), OK);
	assert_int_equal(receive(r, 3401), OLD);
	assert_int_equal(receive(r, 3402), SEEN);
	free(r);
}

/* Without ESN the wire's number is the number. */
static void
test_no_esn_seq(void **state)
{
	struct espgw_replay *r = win_new(64, false);

	(void)state;
	assert_int_equal(receive(r, UINT32_MAX), OK);
	assert_int_equal(espgw_replay_seq(r, 5), 5);
	assert_int_equal(espgw_replay_seq(r, UINT32_MAX), UINT32_MAX);
	free(r);
}

/* ---- ESN (RFC 4303 A2.1) ---- */

/* Independent of replay.c: the number with these low bits in [max(T-W+1, 0), +2^32). */
static uint64_t
esn_oracle(uint64_t top, uint32_t w, uint32_t lo)
{
	uint64_t bottom = top + 1 >= w ? top + 1 - w : 0;

	return bottom + (uint32_t)(lo - (uint32_t)bottom);
}

struct esn_case {
	uint64_t top;
	uint32_t lo;
	uint64_t want;
};

static void
test_esn_infer(void **state)
{
	static const struct esn_case c[] = {
			/* fresh window: no previous subspace, the number is the wire's */
			{0, 1, 1},
			{0, 0xffffff00, 0xffffff00},
			{0, 0xffffffff, 0xffffffff}, /* at or above Bl: still no subspace -1 */
			{10, 0xfffffff0, 0xfffffff0},
			/* case A, before the wrap: forward across 2^32 */
			{0xfffffff0, 0xfffffff8, 0xfffffff8},
			{0xfffffff0, 5, P32 + 5},
			{0xfffffff0, 0xffffffb1, 0xffffffb1},	    /* T - W + 1 */
			{0xfffffff0, 0xffffffb0, P32 + 0xffffffb0}, /* below: next subspace */
			/* case B, after the wrap: late packets from before it */
			{P32 + 5, 3, P32 + 3},
			{P32 + 5, 0x10, P32 + 0x10},
			{P32 + 5, 0xfffffff0, 0xfffffff0},
			{P32 + 5, 0xffffffc6, 0xffffffc6},	 /* T - W + 1 */
			{P32 + 5, 0xffffffc5, P32 + 0xffffffc5}, /* below: ahead */
			/* higher subspaces */
			{5 * P32 + 62, 0xffffffff, 4 * P32 + 0xffffffff},
			{5 * P32 + 63, 0xffffffff, 5 * P32 + 0xffffffff}, /* T-W is 5 * 2^32 - 1 */
			{5 * P32 + 63, 0, 5 * P32},
			{7 * P32 + 0x80000000, 0x7fffffc1, 7 * P32 + 0x7fffffc1},
			{7 * P32 + 0x80000000, 0x7fffffc0, 8 * P32 + 0x7fffffc0},
	};
	struct espgw_replay *r = win_new(64, true);
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		r->top = c[i].top;
		if (espgw_replay_seq(r, c[i].lo) != c[i].want)
			fail_msg("case %u: top 0x%" PRIx64 " lo 0x%" PRIx32 ": 0x%" PRIx64
				 ", want 0x%" PRIx64,
					i, c[i].top, c[i].lo, espgw_replay_seq(r, c[i].lo),
					c[i].want);
		assert_int_equal(esn_oracle(c[i].top, 64, c[i].lo), c[i].want);
	}
	free(r);
}

/* The same rule from both sides of 2^32 and at every window size, against the oracle. */
static void
test_esn_oracle(void **state)
{
	static const uint32_t wins[] = {64, 1000, 65536};
	static const uint64_t tops[] = {0, 1, 62, 63, 64, 65535, 65536, 0x7fffffff, 0xffffffbf,
			0xffffffc0, 0xfffffffe, 0xffffffff, P32, P32 + 1, P32 + 62, P32 + 63,
			P32 + 65535, P32 + 65536, 3 * P32 - 1, 3 * P32};
	static const int64_t offs[] = {-65537, -65536, -65535, -1001, -1000, -999, -65, -64, -63,
			-62, -1, 0, 1, 2, 1000, 0x7fffffff, 0x80000000, 0xffff0000};
	unsigned int w, t, o;

	(void)state;
	for (w = 0; w < 3; w++) {
		struct espgw_replay *r = win_new(wins[w], true);

		for (t = 0; t < sizeof(tops) / sizeof(tops[0]); t++) {
			r->top = tops[t];
			for (o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
				uint32_t lo = (uint32_t)(tops[t] + (uint64_t)offs[o]);
				uint64_t got = espgw_replay_seq(r, lo);

				if (got != esn_oracle(tops[t], wins[w], lo))
					fail_msg("W %u top 0x%" PRIx64 " lo 0x%" PRIx32
						 ": 0x%" PRIx64 ", oracle 0x%" PRIx64,
							wins[w], tops[t], lo, got,
							esn_oracle(tops[t], wins[w], lo));
			}
		}
		free(r);
	}
}

/* A receiver driven across 2^32 with the wire's low halves only. */
static void
test_esn_window(void **state)
{
	static const struct {
		uint32_t lo;
		enum espgw_replay_verdict want;
		uint64_t top; /* after the step */
	} t[] = {
			{0xfffffff0, OK, 0xfffffff0},
			{0xfffffff5, OK, 0xfffffff5},
			{0xffffffff, OK, 0xffffffff},
			{0, OK, P32}, /* 2^32: low half 0, valid with ESN */
			{2, OK, P32 + 2},
			{0xfffffff8, OK, P32 + 2}, /* late, before the wrap */
			{0xfffffff5, SEEN, P32 + 2},
			{0xfffffff0, SEEN, P32 + 2},
			{0xfffffff1, OK, P32 + 2},
			{1, OK, P32 + 2},
			{0xffffffc3, OK, P32 + 2}, /* T - W + 1 */
			{0xffffffc3, SEEN, P32 + 2},
			{70, OK, P32 + 70},
			{7, OK, P32 + 70}, /* T - W + 1 */
			{7, SEEN, P32 + 70},
	};
	struct espgw_replay *r = win_new(64, true);
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t seq = espgw_replay_seq(r, t[i].lo);

		if (receive(r, seq) != t[i].want || r->top != t[i].top)
			fail_msg("step %u: lo 0x%" PRIx32 " as 0x%" PRIx64 ": top 0x%" PRIx64
				 ", want verdict %d top 0x%" PRIx64,
					i, t[i].lo, seq, r->top, t[i].want, t[i].top);
	}
	/*
	 * With ESN nothing is left of the window: T-W and below read as the next
	 * subspace (RFC 4303 A2.1), and the ICV computed with those high bits fails.
	 */
	assert_int_equal(espgw_replay_seq(r, 6), 2 * P32 + 6);
	assert_int_equal(espgw_replay_seq(r, 0xffffffff), 2 * P32 - 1);
	free(r);
}

/*
 * The review's reproducer (lib/sad/replay.c, "decrypt any"), on the
 * one-writer window and the shared one, which must agree.
 *
 * stale_tag_esn: with ESN a sender may jump ahead by up to 2^32 - W numbers
 * per packet (RFC 4303 A2: every such number is inferred and verifies). A
 * block's tag is only rewritten when one of its numbers is taken, and tags
 * compare modulo 2^32 blocks (tag_ahead). Jumps of 2^32 - 128 (a multiple of
 * the 4 blocks of a 64-window) all land on slot 0; after 17 of them slots
 * 1..3 hold tags more than 2^31 blocks behind, which tag_ahead reads as
 * *ahead*: every later number of those slots, new and above the top, is
 * refused as old, for the next 2^31 blocks (2^36 numbers): 3/4 of the SA's
 * traffic gone for good. The one-writer window accepts every number. Fixed:
 * raising the top retags the blocks it enters (replay.c retag), so no word
 * stays more than a ring behind the top.
 */
/* As lib/esp: infer from the low bits, check, update; the verdict. */
static enum espgw_replay_verdict
wire(struct espgw_replay *r, uint64_t seq, uint64_t *inferred)
{
	uint64_t s = espgw_replay_seq(r, (uint32_t)seq);
	enum espgw_replay_verdict v = espgw_replay_check(r, s);

	*inferred = s;
	return v == ESPGW_REPLAY_OK ? espgw_replay_update(r, s) : v;
}

static void
stale_tag_esn(void **state)
{
	struct espgw_replay *r[2] = {win_of(64, true, false), win_of(64, true, true)};
	const uint64_t jump = (UINT64_C(1) << 32) - 128;
	uint64_t seq, top = 0, got;
	unsigned int k, i, refused[2] = {0, 0};
	enum espgw_replay_verdict v;

	(void)state;
	for (seq = 1; seq <= 128; seq++)
		for (k = 0; k < 2; k++)
			assert_int_equal(wire(r[k], seq, &got), ESPGW_REPLAY_OK);
	top = 128;
	for (i = 0; i < 17; i++) {
		top += jump;
		for (k = 0; k < 2; k++) {
			assert_int_equal(wire(r[k], top, &got), ESPGW_REPLAY_OK);
			assert_int_equal(got, top);
		}
	}
	/* The sender goes on one by one: 1024 new numbers above the top. */
	for (seq = top + 1; seq <= top + 1024; seq++)
		for (k = 0; k < 2; k++) {
			v = wire(r[k], seq, &got);
			assert_int_equal(got, seq);
			refused[k] += v != ESPGW_REPLAY_OK;
		}
	print_message("new numbers refused: one-writer %u, shared %u of 1024\n", refused[0],
			refused[1]);
	free(r[0]);
	free(r[1]);
	if (refused[0] != 0 || refused[1] != 0)
		fail_msg("new in-order numbers above the top refused: one-writer %u, shared %u "
			 "of 1024",
				refused[0], refused[1]);
}

/* A small deterministic generator (xorshift64*), so that a failure repeats. */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * UINT64_C(2685821657736338717);
}

/*
 * One thread at a time, the shared window gives the one-writer window's
 * verdicts, one by one and in bursts of 1 to 32 (checked, then committed).
 */
static void
test_shared_same_verdicts(void **state)
{
	static const uint32_t wins[] = {8, 32, 64, 100, 1024};
	uint64_t x = 88172645463325252ULL, front, seq;
	unsigned int w, i;

	(void)state;
	for (w = 0; w < sizeof(wins) / sizeof(wins[0]); w++) {
		struct espgw_replay *a = win_of(wins[w], false, false);
		struct espgw_replay *b = win_of(wins[w], false, true);
		struct espgw_replay *c = win_of(wins[w], false, true);
		uint64_t burst[32], pass[32];
		enum espgw_replay_verdict want[32];
		bool ok[32];
		uint16_t nb = 0, k, j, np;

		for (i = 0, front = 1; i < 200000; i++) {
			uint64_t d = rnd(&x);

			/* mostly near the front, now and then far behind or a jump ahead */
			front += d % 4 == 0 ? d % 3 : 0;
			front += d % 997 == 0 ? 3 * wins[w] : 0;
			seq = front - (d >> 8) % (2 * wins[w] + 2);
			if (seq > front)
				seq = 0;
			want[nb] = receive(a, seq);
			if (want[nb] != receive(b, seq) || a->top != b->top)
				fail_msg("W %u step %u seq %" PRIu64, wins[w], i, seq);
			burst[nb++] = seq;
			if (nb < 1 + d % 32)
				continue;
			for (j = 0, k = 0; j < nb; j++)
				if (espgw_replay_check(c, burst[j]) == OK)
					pass[k++] = burst[j];
			espgw_replay_update_burst(c, pass, k, ok);
			for (j = 0, np = k, k = 0; j < nb; j++) {
				bool got = espgw_replay_check(c, burst[j]) != OK && k < np &&
					   pass[k] == burst[j] && ok[k];
				k += k < np && pass[k] == burst[j];
				if (got != (want[j] == OK))
					fail_msg("W %u burst ending at step %u: seq %" PRIu64
						 " taken %d, one by one %d",
							wins[w], i, burst[j], got, want[j]);
			}
			if (c->top != a->top)
				fail_msg("W %u step %u: top %" PRIu64 ", one by one %" PRIu64,
						wins[w], i, c->top, a->top);
			nb = 0;
		}
		free(a);
		free(b);
		free(c);
	}
}

/* A burst committed at once refuses what an earlier packet of it left behind (W 32). */
static void
test_shared_burst_window(void **state)
{
	static const struct {
		uint64_t seq[4];
		uint16_t n;
		bool ok[4];
	} b[] = {
			{{100}, 1, {true}},
			{{200, 150, 199}, 3, {true, false, true}}, /* 150: 200 - 150 >= W */
			{{240, 230, 208, 240}, 4, {true, true, false, false}}, /* one block */
			{{230, 231, 300, 231}, 4, {false, true, true, false}},
	};
	struct espgw_replay *r = win_of(32, false, true);
	bool ok[4];
	unsigned int i, j;

	(void)state;
	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		espgw_replay_update_burst(r, b[i].seq, b[i].n, ok);
		for (j = 0; j < b[i].n; j++)
			if (ok[j] != b[i].ok[j])
				fail_msg("burst %u: seq %" PRIu64 " taken %d, want %d", i,
						b[i].seq[j], ok[j], b[i].ok[j]);
	}
	assert_int_equal(r->top, 300);
	free(r);
}

#define THREADS	    4
#define THREAD_SEQS 300000
#define JITTER	    16 /* how far a thread's copy of a number may move */

struct racer {
	struct espgw_replay *r;
	uint32_t *accepted; /* [THREAD_SEQS + 1]: how often each number passed */
	uint64_t base;	    /* numbers base + 1 .. base + THREAD_SEQS */
	uint64_t seed;
	bool burst; /* committed in bursts (espgw_replay_update_burst), else one by one */
};

#define MIN_U32(a, b) ((a) < (b) ? (a) : (b))

static void
taken(struct racer *t, uint64_t seq)
{
	__atomic_fetch_add(&t->accepted[seq - t->base], 1, __ATOMIC_RELAXED);
}

/* As lib/esp does with a burst of one SA: each checked, then the rest committed at once. */
static void
take_burst(struct racer *t, const uint64_t *seq, uint16_t n)
{
	uint64_t pass[32];
	bool ok[32];
	uint16_t i, k = 0;

	for (i = 0; i < n; i++)
		if (espgw_replay_check(t->r, seq[i]) == OK)
			pass[k++] = seq[i];
	espgw_replay_update_burst(t->r, pass, k, ok);
	for (i = 0; i < k; i++)
		if (ok[i])
			taken(t, pass[i]);
}

/*
 * Every number, in order but for swaps within JITTER, as a worker would see
 * its copies. Each number is then accepted exactly once: the first thread to
 * reach it finds it neither seen nor old (a number W or more above it was
 * taken only by a thread that had passed it already).
 */
static void *
race(void *arg)
{
	struct racer *t = arg;
	uint64_t *seq = malloc(THREAD_SEQS * sizeof(*seq)), x = t->seed, tmp;
	uint32_t i, j;

	for (i = 0; i < THREAD_SEQS; i++)
		seq[i] = t->base + i + 1;
	/* Shuffled within blocks of JITTER: no copy moves JITTER places or more. */
	for (i = 0; i < THREAD_SEQS; i++) {
		j = i - i % JITTER + (uint32_t)(rnd(&x) % (i % JITTER + 1));
		tmp = seq[i], seq[i] = seq[j], seq[j] = tmp;
	}
	for (i = 0; i < THREAD_SEQS; i += t->burst ? j : 1) {
		j = MIN_U32(THREAD_SEQS - i, 1 + (uint32_t)(rnd(&x) % 32));
		if (t->burst)
			take_burst(t, seq + i, (uint16_t)j);
		else if (receive(t->r, seq[i]) == OK)
			taken(t, seq[i]);
	}
	free(seq);
	return NULL;
}

/*
 * Four workers, each with every number, two committing one by one and two in
 * bursts: each number accepted once, whoever wins; the top at the end.
 */
static void
race_once(uint32_t win, bool esn, uint64_t base)
{
	struct espgw_replay *r = win_of(win, esn, true);
	uint32_t *acc = calloc(THREAD_SEQS + 1, sizeof(*acc)), i;
	struct racer t[THREADS];
	pthread_t th[THREADS];

	assert_non_null(acc);
	r->top = base;
	for (i = 0; i < THREADS; i++) {
		t[i] = (struct racer){r, acc, base, 0x9e3779b97f4a7c15ULL * (i + 1), i % 2 == 1};
		assert_int_equal(pthread_create(&th[i], NULL, race, &t[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 1; i <= THREAD_SEQS; i++)
		if (acc[i] != 1)
			fail_msg("W %u base 0x%" PRIx64 ": seq 0x%" PRIx64 " accepted %u times",
					win, base, base + i, acc[i]);
	assert_int_equal(r->top, base + THREAD_SEQS);
	free(acc);
	free(r);
}

static void
test_shared_threads(void **state)
{
	(void)state;
	race_once(64, false, 0);
	race_once(1024, false, 0);
	race_once(64, true, P32 - THREAD_SEQS / 2); /* the blocks' tags across 2^32 */
}

static int
on_one(void **state)
{
	(void)state;
	shared = false;
	return 0;
}

static int
on_shared(void **state)
{
	(void)state;
	shared = true;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_sizes),
			cmocka_unit_test(test_in_order),
			cmocka_unit_test(test_dup_every_bit),
			cmocka_unit_test(test_dup_in_one_burst),
			cmocka_unit_test(test_window_edge),
			cmocka_unit_test(test_jumps),
			cmocka_unit_test(test_ring_wrap),
			cmocka_unit_test(test_no_esn_seq),
			cmocka_unit_test(test_esn_infer),
			cmocka_unit_test(test_esn_oracle),
			cmocka_unit_test(test_esn_window),
	};

	const struct CMUnitTest concurrent[] = {
			cmocka_unit_test(test_shared_same_verdicts),
			cmocka_unit_test(stale_tag_esn),
			cmocka_unit_test(test_shared_burst_window),
			cmocka_unit_test(test_shared_threads),
	};

	return cmocka_run_group_tests_name("one writer", tests, on_one, NULL) |
	       cmocka_run_group_tests_name("shared", tests, on_shared, NULL) |
	       cmocka_run_group_tests(concurrent, NULL, NULL);
}
