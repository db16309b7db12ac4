/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window (RFC 4303 3.4.3, bitmap after RFC 6479) and ESN
 * high-bit inference (RFC 4303 A2.1). Why espgw has its own: see replay.h.
 */
#include <string.h>

#include "replay.h"

#define BLOCK_BITS  64
#define BLOCK_SHIFT 6
/* Shared: a block is a 32-bit tag (seq >> 5, low half) above 32 bits of bitmap. */
#define TAG_BITS  32
#define TAG_SHIFT 5

/* Blocks for win packets: whole blocks plus a spare one, a power of two (RFC 6479 2). */
static uint32_t
blocks_for(uint32_t win, bool shared)
{
	uint32_t bits = shared ? TAG_BITS : BLOCK_BITS;
	uint32_t need = (win + bits - 1) / bits + 1, n = 1;

	while (n < need)
		n <<= 1;
	return n;
}

size_t
espgw_replay_size(uint32_t win, bool shared)
{
	return sizeof(struct espgw_replay) + blocks_for(win, shared) * sizeof(uint64_t);
}

size_t
espgw_replay_bytes(const struct espgw_replay *r)
{
	return sizeof(*r) + ((size_t)r->mask + 1) * sizeof(uint64_t);
}

void
espgw_replay_init(struct espgw_replay *r, uint32_t win, bool esn, bool shared)
{
	memset(r, 0, espgw_replay_size(win, shared));
	r->win = win;
	r->mask = blocks_for(win, shared) - 1;
	r->esn = esn;
	r->shared = shared;
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
	uint64_t top = __atomic_load_n(&r->top, __ATOMIC_RELAXED);
	uint32_t tl = (uint32_t)top, th = (uint32_t)(top >> 32);
	uint32_t bl = tl - r->win + 1;

	if (!r->esn)
		return seq_lo;
	if (tl >= r->win - 1)
		th += seq_lo < bl;
	else if (th != 0)
		th -= seq_lo >= bl;
	return (uint64_t)th << 32 | seq_lo;
}

/* The one-writer window stays the straight path (pure C: no rte_branch_prediction.h). */
static inline bool
unlikely_shared(const struct espgw_replay *r)
{
	return __builtin_expect(r->shared, 0);
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

static enum espgw_replay_verdict
check_one(const struct espgw_replay *r, uint64_t seq)
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

static enum espgw_replay_verdict
update_one(struct espgw_replay *r, uint64_t seq)
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

/*
 * Shared windows (replay.h). How far w's block is ahead of seq's: behind, it
 * is a block the window has left (nothing of seq's is in it); ahead, the
 * window has passed seq. Tags compare modulo 2^32 blocks (2^37 numbers):
 * right as long as no word stays that far behind, which top_raise's retag
 * sees to (an ESN sender may jump by nearly 2^32 numbers a packet).
 */
static int32_t
tag_ahead(uint64_t w, uint64_t seq)
{
	return (int32_t)((uint32_t)(w >> TAG_BITS) - (uint32_t)(seq >> TAG_SHIFT));
}

static uint64_t
tag_of(uint64_t seq)
{
	return (uint64_t)(uint32_t)(seq >> TAG_SHIFT) << TAG_BITS;
}

static uint64_t
bit32(uint64_t seq)
{
	return UINT64_C(1) << (seq & (TAG_BITS - 1));
}

static uint32_t
tag_idx(const struct espgw_replay *r, uint64_t seq)
{
	return (uint32_t)(seq >> TAG_SHIFT) & r->mask;
}

static enum espgw_replay_verdict
check_shared(const struct espgw_replay *r, uint64_t seq)
{
	uint64_t w;

	if (espgw_replay_is_old(__atomic_load_n(&r->top, __ATOMIC_ACQUIRE), r->win, seq))
		return ESPGW_REPLAY_OLD;
	w = __atomic_load_n(&r->block[tag_idx(r, seq)], __ATOMIC_ACQUIRE);
	if (tag_ahead(w, seq) > 0)
		return ESPGW_REPLAY_OLD;
	return tag_ahead(w, seq) == 0 && (w & bit32(seq)) != 0 ? ESPGW_REPLAY_SEEN
							       : ESPGW_REPLAY_OK;
}

/*
 * Block blk's word gets blk's tag and no bits if its tag is behind blk (a
 * block the window has left: every number in it is old). RFC 6479's clear of
 * the blocks the top enters, by compare-and-swap: a tag never goes back, so
 * a word a committer has moved to blk (or beyond) keeps its bits.
 */
static void
retag(struct espgw_replay *r, uint64_t blk)
{
	uint64_t *p = &r->block[(uint32_t)blk & r->mask];
	uint64_t w = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (tag_ahead(w, blk << TAG_SHIFT) < 0 &&
			!__atomic_compare_exchange_n(p, &w, tag_of(blk << TAG_SHIFT), false,
					__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		;
}

/*
 * Raise the top to seq unless another worker raised it further, then retag
 * the blocks it entered (all of them after a jump past the ring): no word
 * stays more than a ring behind the top, so tags, compared modulo 2^32
 * blocks, never read a block the window left long ago as one ahead of it.
 */
static void
top_raise(struct espgw_replay *r, uint64_t seq)
{
	uint64_t top = __atomic_load_n(&r->top, __ATOMIC_RELAXED), b, from;

	do {
		if (seq <= top)
			return;
	} while (!__atomic_compare_exchange_n(
			&r->top, &top, seq, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	from = top >> TAG_SHIFT;
	b = seq >> TAG_SHIFT;
	if (b - from > (uint64_t)r->mask + 1)
		from = b - r->mask - 1;
	for (; b > from; b--)
		retag(r, b);
}

/*
 * seq[0..n) all in one block, in arrival order: the word's new bits decided
 * for the run, then one compare-and-swap; a lost race decides them again on
 * what won it (and on the top then). above: the highest number the burst
 * took so far, a top not yet published. Returns the highest number taken,
 * 0 when none.
 */
static uint64_t
commit_run(struct espgw_replay *r, const uint64_t seq[], uint16_t n, bool ok[], uint64_t above)
{
	uint64_t *p = &r->block[tag_idx(r, seq[0])];
	uint64_t w = __atomic_load_n(p, __ATOMIC_ACQUIRE), have, top, hi;
	int32_t ahead;
	uint16_t i;

	do {
		ahead = tag_ahead(w, seq[0]);
		have = ahead == 0 ? w : tag_of(seq[0]);
		top = __atomic_load_n(&r->top, __ATOMIC_ACQUIRE);
		top = above > top ? above : top;
		for (i = 0, hi = 0; i < n; i++) {
			ok[i] = ahead <= 0 &&
				!espgw_replay_is_old(hi > top ? hi : top, r->win, seq[i]) &&
				(have & bit32(seq[i])) == 0;
			have |= ok[i] ? bit32(seq[i]) : 0;
			hi = ok[i] && seq[i] > hi ? seq[i] : hi;
		}
		if (hi == 0)
			return 0;
	} while (!__atomic_compare_exchange_n(
			p, &w, have, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return hi;
}

/* Runs of one block, each committed at once; the top raised once. */
static void
update_burst_shared(struct espgw_replay *r, const uint64_t seq[], uint16_t n, bool ok[])
{
	uint64_t hi = 0, h;
	uint16_t i, s;

	for (s = 0; s < n; s = i) {
		for (i = s + 1; i < n && (seq[i] >> TAG_SHIFT) == (seq[s] >> TAG_SHIFT); i++)
			;
		h = commit_run(r, seq + s, i - s, ok + s, hi);
		hi = h > hi ? h : hi;
	}
	if (hi != 0)
		top_raise(r, hi);
}

/* One number: a run of one; a refusal is old or seen for good (tags only grow). */
static enum espgw_replay_verdict
update_shared(struct espgw_replay *r, uint64_t seq)
{
	bool ok;

	update_burst_shared(r, &seq, 1, &ok);
	if (ok)
		return ESPGW_REPLAY_OK;
	return check_shared(r, seq) == ESPGW_REPLAY_SEEN ? ESPGW_REPLAY_SEEN : ESPGW_REPLAY_OLD;
}

void
espgw_replay_update_burst(struct espgw_replay *r, const uint64_t seq[], uint16_t n, bool ok[])
{
	uint16_t i;

	if (unlikely_shared(r)) {
		update_burst_shared(r, seq, n, ok);
		return;
	}
	for (i = 0; i < n; i++)
		ok[i] = update_one(r, seq[i]) == ESPGW_REPLAY_OK;
}

enum espgw_replay_verdict
espgw_replay_check(const struct espgw_replay *r, uint64_t seq)
{
	return unlikely_shared(r) ? check_shared(r, seq) : check_one(r, seq);
}

enum espgw_replay_verdict
espgw_replay_update(struct espgw_replay *r, uint64_t seq)
{
	return unlikely_shared(r) ? update_shared(r, seq) : update_one(r, seq);
}
