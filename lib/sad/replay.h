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
 * Concurrency: one writer, the worker that owns the SA (espgw_sa_rt.owner,
 * decided at setup); the other workers hand it the SA's packets before the
 * check (lib/dp/handoff.c), whatever queue RSS put them on. No atomics.
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
	uint64_t block[]; /* bit (seq % 64) of block (seq / 64) & mask */
};

/* Bytes of a window of win packets (win > 0). */
size_t espgw_replay_size(uint32_t win);
/* Initialise espgw_replay_size(win) bytes at r: nothing seen, top 0. */
void espgw_replay_init(struct espgw_replay *r, uint32_t win, bool esn);

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

/* RFC 4303 3.4.3: with top T, only T-W+1..T (and anything above T) are new enough. */
static inline bool
espgw_replay_is_old(uint64_t top, uint32_t win, uint64_t seq)
{
	return seq == 0 || (seq <= top && top - seq >= win);
}

#endif
