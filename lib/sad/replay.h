/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window of an inbound SA (RFC 4303 3.4.3) and the inference of
 * the ESN high-order bits from it (RFC 4303 Appendix A2). Pure C, no DPDK
 * types, so that tests/unit/test_replay.c can drive it without an EAL.
 *
 * Why hand-written when rte_ipsec has a window: DPDK 22.11's
 * esn_inb_update_sqn() (lib/ipsec/ipsec_sqn.h) keeps the bit of a 64-bit
 * window word in a uint32_t ("bit = (uint64_t)1 << n" truncated), so it never
 * records sequence numbers with seq % 64 >= 32 and delivers their duplicates,
 * in the same burst or later; and its "sqn + win_sz < top" test accepts W + 1
 * numbers (T-W..T) where RFC 4303 3.4.3 allows the W numbers T-W+1..T.
 * rte_ipsec's own window stays configured (it supplies the ESN high bits for
 * the ICV and is strictly more permissive than this one); see lib/esp/esp_in.c
 * for how the two are kept in step.
 *
 * Layout after RFC 6479: a ring of 64-bit blocks, the window rounded up to
 * whole blocks plus one spare block (so that advancing the top clears whole
 * blocks and never a part of the window), the block count a power of two.
 *
 * Concurrency, one of two, chosen at init:
 *  - One writer (the default): the worker that owns the SA (espgw_sa_rt.owner,
 *    decided at setup); the other workers hand it the SA's packets before the
 *    check (lib/dp/handoff.c), whatever queue RSS put them on. No atomics.
 *  - Shared ("decrypt any", espgw_replay_init with shared): every worker checks
 *    and commits the packets it received. Each 64-bit block then holds a tag
 *    (the low 32 bits of seq / 32) above a 32-bit bitmap, and a bit is set by
 *    compare-and-swap of the whole word (RFC 6479 leaves the concurrency
 *    open; the tag replaces its clearing of blocks, which two writers could
 *    interleave with a set). The top is raised with an atomic maximum. A
 *    block's tag only grows, so a number once set stays seen or becomes old:
 *    each number is accepted at most once whichever worker gets which copy
 *    (tests/unit/test_replay.c runs threads against it). A number that the
 *    window leaves while its commit is under way may still be accepted, once;
 *    it was new when checked.
 */
#ifndef ESPGW_REPLAY_H
#define ESPGW_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum espgw_replay_verdict {
	ESPGW_REPLAY_OK,   /* inside the window and not seen, or right of it */
	ESPGW_REPLAY_OLD,  /* left of the window, or 0 (never sent, RFC 4303 3.3.3) */
	ESPGW_REPLAY_SEEN, /* inside the window and already received */
};

struct espgw_replay {
	uint64_t top;	  /* highest sequence number accepted so far (T), 0 at start */
	uint32_t win;	  /* W: T-W+1 .. T are inside */
	uint32_t mask;	  /* number of blocks - 1 */
	bool esn;	  /* 64-bit sequence numbers, 32 on the wire (RFC 4303 2.2.1) */
	bool shared;	  /* written by several workers: tagged blocks, atomics */
	uint64_t block[]; /* bit (seq % 64) of block (seq / 64) & mask */
};

/* Bytes of a window of win packets (win > 0), one writer or shared. */
size_t espgw_replay_size(uint32_t win, bool shared);
/* Initialise espgw_replay_size(win, shared) bytes at r: nothing seen, top 0. */
void espgw_replay_init(struct espgw_replay *r, uint32_t win, bool esn, bool shared);
/* The bytes r takes (for wiping and freeing). */
size_t espgw_replay_bytes(const struct espgw_replay *r);

/*
 * The full sequence number of a packet carrying seq_lo on the wire: seq_lo
 * itself without ESN, else the high bits inferred from the top (RFC 4303 A2.1).
 */
uint64_t espgw_replay_seq(const struct espgw_replay *r, uint32_t seq_lo);

/* Before decryption: may the packet be processed? Changes nothing. */
enum espgw_replay_verdict espgw_replay_check(const struct espgw_replay *r, uint64_t seq);

/*
 * After the ICV verified: test and set. Refuses (and changes nothing) when the
 * number became old or seen since the check, e.g. a duplicate in one burst.
 */
enum espgw_replay_verdict espgw_replay_update(struct espgw_replay *r, uint64_t seq);

/*
 * The same for a burst of one SA whose ICVs verified, in arrival order:
 * ok[i] says whether seq[i] was taken, as n calls would. On a shared window
 * one compare-and-swap for each block the burst touches, not one a packet.
 */
void espgw_replay_update_burst(struct espgw_replay *r, const uint64_t seq[], uint16_t n, bool ok[]);

/* RFC 4303 3.4.3: with top T, only T-W+1..T (and anything above T) are new enough. */
static inline bool
espgw_replay_is_old(uint64_t top, uint32_t win, uint64_t seq)
{
	return seq == 0 || (seq <= top && top - seq >= win);
}

#endif
