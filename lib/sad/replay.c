/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window (RFC 4303 3.4.3, bitmap after RFC 6479) and ESN
 * high-bit inference (RFC 4303 A2.1). Why espgw has its own: see replay.h.
 */
#include <string.h>

#include "replay.h"

#define BLOCK_BITS  64
#define BLOCK_SHIFT 6

/* Blocks for win packets: whole blocks plus a spare one, a power of two (RFC 6479 2). */
static uint32_t
blocks_for(uint32_t win)
{
	uint32_t need = (win + BLOCK_BITS - 1) / BLOCK_BITS + 1, n = 1;

	while (n < need)
		n <<= 1;
	return n;
}

size_t
espgw_replay_size(uint32_t win)
{
	return sizeof(struct espgw_replay) + blocks_for(win) * sizeof(uint64_t);
}

void
espgw_replay_init(struct espgw_replay *r, uint32_t win, bool esn)
{
	memset(r, 0, espgw_replay_size(win));
	r->win = win;
	r->mask = blocks_for(win) - 1;
	r->esn = esn;
}

/*
 * RFC 4303 A2.1, with Tl/Th the low/high halves of the top and Bl = Tl - W + 1
 * (mod 2^32) the bottom of the window. Case A: the window lies in one 2^32
 * subspace; a low half below Bl must be from the next one. Case B: the window
 * spans two subspaces; a low half at or above Bl is from the previous one.
 * Before the first 2^32 packets there is no previous subspace: Th stays 0, as
 * rte_ipsec's reconstruct_esn() does (its ICV must use the same number).
 */
uint64_t
espgw_replay_seq(const struct espgw_replay *r, uint32_t seq_lo)
{
	uint32_t tl = (uint32_t)r->top, th = (uint32_t)(r->top >> 32);
	uint32_t bl = tl - r->win + 1;

	if (!r->esn)
		return seq_lo;
	if (tl >= r->win - 1)
		th += seq_lo < bl;
	else if (th != 0)
		th -= seq_lo >= bl;
	return (uint64_t)th << 32 | seq_lo;
}

static uint32_t
block_idx(const struct espgw_replay *r, uint64_t seq)
{
	return (uint32_t)(seq >> BLOCK_SHIFT) & r->mask;
}

static uint64_t
bit_of(uint64_t seq)
{
	return UINT64_C(1) << (seq & (BLOCK_BITS - 1));
}

enum espgw_replay_verdict
espgw_replay_check(const struct espgw_replay *r, uint64_t seq)
{
	if (espgw_replay_is_old(r->top, r->win, seq))
		return ESPGW_REPLAY_OLD;
	if (seq > r->top)
		return ESPGW_REPLAY_OK;
	return (r->block[block_idx(r, seq)] & bit_of(seq)) != 0 ? ESPGW_REPLAY_SEEN
								: ESPGW_REPLAY_OK;
}

/* Move the top to seq, clearing the blocks it enters (all of them after a big jump). */
static void
advance(struct espgw_replay *r, uint64_t seq)
{
	uint64_t from = r->top >> BLOCK_SHIFT, n = (seq >> BLOCK_SHIFT) - from, i;

	if (n > (uint64_t)r->mask + 1)
		n = (uint64_t)r->mask + 1;
	for (i = 1; i <= n; i++)
		r->block[(from + i) & r->mask] = 0;
	r->top = seq;
}

enum espgw_replay_verdict
espgw_replay_update(struct espgw_replay *r, uint64_t seq)
{
	uint64_t *b, bit = bit_of(seq);

	if (espgw_replay_is_old(r->top, r->win, seq))
		return ESPGW_REPLAY_OLD;
	if (seq > r->top)
		advance(r, seq);
	b = &r->block[block_idx(r, seq)];
	if (*b & bit)
		return ESPGW_REPLAY_SEEN;
	*b |= bit;
	return ESPGW_REPLAY_OK;
}
