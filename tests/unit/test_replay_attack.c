/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Attacks on the shared window (lib/sad/replay.c, "decrypt any"): what the
 * data path does per packet (ESN high bits inferred from the wire's low 32
 * with espgw_replay_seq, check, then update after the ICV verified), run on
 * the one-writer window and on the shared one, which must agree.
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
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "replay.h"

static struct espgw_replay *
win_of(uint32_t w, bool esn, bool sh)
{
	struct espgw_replay *r = malloc(espgw_replay_size(w, sh));

	assert_non_null(r);
	espgw_replay_init(r, w, esn, sh);
	return r;
}

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(stale_tag_esn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
