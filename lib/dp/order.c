/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * seq-order strict (espgw_req.h): one outbound SA encrypted by every worker
 * that receives its traffic, its packets sent in sequence number order
 * through one TX queue, its owner's (lib/sad deals the owner). RFC 4303
 * 3.3.3 only asks for a new number per packet; a peer whose replay window
 * is narrow drops what arrives too far behind, and every worker sending on
 * its own queue puts the numbers out of order on the wire.
 *
 * Each worker takes the numbers for its packets of the SA from the SA's one
 * counter (an atomic add, the direct path: lib/esp/esp_gcm.c), encrypts
 * them, and the owner puts each packet in its window at its number
 * (espgw_order_sa): the owner's own at once, the others' through a ring from
 * each worker to it (as the inbound hand-off, handoff.c). The owner sends
 * what is contiguous from its next number on, every loop.
 *
 * No number is ever waited for in vain: a worker takes numbers only for
 * packets sure to reach the window. Before the numbers are taken, what the
 * window or the ring to the owner has no room for is dropped (order_full:
 * the window's span, ESPGW_ORDER_SPAN, bounds how far ahead of the owner
 * the workers may run), and the direct path drops what it could not frame
 * (esp_gcm.c). DPDK's rte_reorder is not used: in DPDK 22.11 it can neither
 * skip a number nor bound how far ahead a producer runs, and its sequence
 * numbers would be one more counter beside the SA's own.
 */
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "espgw_gcm.h"
#include "stage.h"

/* Is this worker's traffic subject to any order (an SA with a window exists)? */
static inline bool
order_on(const struct espgw_worker *w)
{
	return w->ord.n_from != 0 && __atomic_load_n(&w->t->sad->n_order, __ATOMIC_RELAXED) != 0;
}

/*
 * What an SA's numbers allow this batch, read once per run of its packets
 * (the owner writes next, every worker the counter: lines other cores own):
 * numbers below the owner's next + span (next read as it was, never ahead).
 */
struct room {
	const struct espgw_sa_rt *sa;
	uint64_t limit; /* next + span - taken */
	uint32_t ring;	/* free slots in the ring to its owner (only grows meanwhile) */
	bool spent;	/* its numbers are used up: each packet takes none (sqn_overflow) */
};

/*
 * Room for one more number of sa taken by this worker now (c of them so
 * far in this batch), and for another worker's SA in the ring to it.
 */
static bool
order_room(struct espgw_worker *w, struct room *r, const struct espgw_sa_rt *sa, uint32_t c)
{
	uint64_t next, taken;

	if (r->sa != sa) {
		next = __atomic_load_n(&sa->order->next, __ATOMIC_ACQUIRE);
		taken = __atomic_load_n(&sa->gcm->seq, __ATOMIC_RELAXED);
		r->sa = sa;
		/*
		 * RFC 4303 3.3.3: past the last number esp_gcm.c drops every
		 * packet as sqn_overflow, no number taken, nothing for the
		 * window: the reason the key manager rekeys on, not order_full.
		 */
		r->spent = taken >= espgw_gcm_sqn_max(sa->gcm);
		r->limit = taken > next + ESPGW_ORDER_SPAN ? 0 : next + ESPGW_ORDER_SPAN - taken;
		r->ring = sa->owner == w->idx ? UINT32_MAX
					      : rte_ring_free_count(w->ord.to[sa->owner]);
	}
	return r->spent || (c <= r->limit && w->ord_pend[sa->owner] < r->ring);
}

uint16_t
stage_order_admit(
		struct espgw_worker *w, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n)
{
	struct room r = {.sa = NULL};
	uint16_t i, k = 0;

	if (!order_on(w))
		return n;
	for (i = 0; i < n; i++) {
		if (likely(sa[i]->order == NULL)) {
			m[k] = m[i];
			sa[k++] = sa[i];
		} else if (order_room(w, &r, sa[i], (uint32_t)w->ord_cnt[sa[i]->idx] + 1)) {
			w->ord_cnt[sa[i]->idx] += !r.spent;
			if (sa[i]->owner != w->idx && !r.spent)
				w->ord_pend[sa[i]->owner]++;
			m[k] = m[i];
			sa[k++] = sa[i];
		} else {
			drop_sa(w, m[i], ESPGW_DROP_ORDER_FULL, sa[i]->idx);
		}
	}
	/* The counts only held for this batch. */
	for (i = 0; i < k; i++)
		if (sa[i]->order != NULL) {
			w->ord_cnt[sa[i]->idx] = 0;
			w->ord_pend[sa[i]->owner] = 0;
		}
	return k;
}

/*
 * What waits at a number: a frame ready to send (stage_forward_esp_ready),
 * or ORDER_SKIP for a packet that went elsewhere after it took its number
 * (to the control path for its next hop, dropped for no route, ...): it is
 * not waited for, it is passed over.
 */
#define ORDER_SKIP ESPGW_ORDER_SKIP

/*
 * In a ring: a frame's pointer, or for ORDER_SKIP a token with bit 0 set,
 * the SA's slot and the number's low 31 bits: the owner rebuilds the number
 * from its next (every number waiting lies within a window of fewer than
 * 2^31 slots from it).
 */
#define TOKEN_SEQ_MASK UINT64_C(0x7fffffff)

static inline void *
token_of(uint32_t sa, uint64_t seq)
{
	return (void *)(uintptr_t)((uint64_t)sa << 32 | (seq & TOKEN_SEQ_MASK) << 1 | 1);
}

static inline bool
is_token(const void *e)
{
	return ((uintptr_t)e & 1) != 0;
}

/* The owner: e waits at seq in o; a window gets in the list once. */
static void
window_put(struct espgw_worker *w, struct espgw_order_sa *o, uint64_t seq, struct rte_mbuf *e,
		struct espgw_order_sa *list[], uint16_t *n_list)
{
	o->slot[seq & o->mask] = e;
	o->held++;
	if (e != ORDER_SKIP)
		w->dp[ESPGW_DP_ORDER_IN]++;
	if (!o->touched) {
		o->touched = 1;
		list[(*n_list)++] = o;
	}
}

/* An entry from a ring: a frame (its SA and number in its fields), or a token. */
static void
window_put_entry(struct espgw_worker *w, void *e, struct espgw_order_sa *list[], uint16_t *n_list)
{
	struct rte_mbuf *m = e;
	struct espgw_order_sa *o;
	uint64_t t = (uintptr_t)e, low;

	if (!is_token(e)) {
		o = w->t->sad->sa[*espgw_mbuf_sa(m)].order;
		window_put(w, o, *espgw_mbuf_seq(m), m, list, n_list);
		return;
	}
	o = w->t->sad->sa[t >> 32].order;
	low = (t >> 1) & TOKEN_SEQ_MASK;
	window_put(w, o, o->next + ((low - o->next) & TOKEN_SEQ_MASK), ORDER_SKIP, list, n_list);
}

/* Onto the TX queues, in order, what is contiguous from the window's next number. */
static void
window_send(struct espgw_worker *w, struct espgw_order_sa *o)
{
	uint64_t next = o->next;
	struct rte_mbuf **s, *e;

	while ((e = *(s = &o->slot[next & o->mask])) != NULL) {
		*s = NULL;
		next++;
		o->held--;
		if (e == ORDER_SKIP)
			continue;
		w->dp[ESPGW_DP_ORDER_OUT]++;
		stage_tx_put(w, e);
	}
	__atomic_store_n(&o->next, next, __ATOMIC_RELEASE);
}

static void
windows_send(struct espgw_worker *w, struct espgw_order_sa *list[], uint16_t n_list)
{
	uint16_t i;

	for (i = 0; i < n_list; i++) {
		list[i]->touched = 0;
		window_send(w, list[i]);
	}
}

/* A run of entries for the ring to one owner; stage_order_admit made the room. */
static void
ring_put(struct espgw_worker *w, uint16_t owner, void *e[], uint16_t n)
{
	unsigned int i, q;

	q = rte_ring_enqueue_burst(w->ord.to[owner], e, n, NULL);
	RTE_VERIFY(q == n); /* single producer: the room checked before the numbers stays */
	for (i = 0; i < n; i++)
		w->dp[ESPGW_DP_HANDED_OUT] += !is_token(e[i]);
}

/*
 * The ordered SAs' packets (m[i], its SA sa[i] and number seq[i] read before
 * they were forwarded: m[i] is NULL for one that went elsewhere): to the
 * window, this worker's own SAs' at once, the others' through the rings, a
 * run per owner.
 */
static void
order_place(struct espgw_worker *w, struct rte_mbuf *m[], const uint32_t sa[], const uint64_t seq[],
		uint16_t n)
{
	struct espgw_order_sa *list[ESPGW_BURST_MAX];
	void *e[ESPGW_BURST_MAX];
	const struct espgw_sa_rt *rt;
	uint16_t i, ne = 0, nl = 0, owner = UINT16_MAX;

	for (i = 0; i < n; i++) {
		rt = &w->t->sad->sa[sa[i]];
		if (rt->owner == w->idx) {
			window_put(w, rt->order, seq[i], m[i] != NULL ? m[i] : ORDER_SKIP, list,
					&nl);
			continue;
		}
		if (rt->owner != owner && ne != 0) {
			ring_put(w, owner, e, ne);
			ne = 0;
		}
		owner = rt->owner;
		e[ne++] = m[i] != NULL ? (void *)m[i] : token_of(sa[i], seq[i]);
	}
	if (ne != 0)
		ring_put(w, owner, e, ne);
	windows_send(w, list, nl);
}

void
stage_order_out(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	struct rte_mbuf *ord[ESPGW_BURST_MAX];
	uint64_t seq[ESPGW_BURST_MAX];
	uint32_t sa[ESPGW_BURST_MAX];
	uint16_t i, nf = 0, no = 0;

	if (!order_on(w)) {
		stage_forward_esp(w, m, n);
		return;
	}
	for (i = 0; i < n; i++) {
		sa[no] = *espgw_mbuf_sa(m[i]);
		if (likely(w->t->sad->sa[sa[no]].order == NULL)) {
			m[nf++] = m[i];
			continue;
		}
		seq[no] = *espgw_mbuf_seq(m[i]);
		ord[no++] = m[i];
	}
	stage_forward_esp(w, m, nf);
	if (no == 0)
		return;
	stage_forward_esp_ready(w, ord, no);
	order_place(w, ord, sa, seq, no);
}

/*
 * The other worker wrote the frames' lines (the SA and number in the second,
 * what TX reads in the first): asked for all at once, their misses overlap
 * instead of coming one after another as the window takes them.
 */
static inline void
ring_prefetch(void *e[], uint16_t n)
{
	uint16_t j;

	for (j = 0; j < n; j++)
		if (!is_token(e[j])) {
			rte_prefetch0(e[j]);
			rte_prefetch0(espgw_mbuf_seq(e[j]));
		}
}

/* One burst from a ring into the windows; *left: what the ring still holds. */
static uint16_t
ring_take(struct espgw_worker *w, struct rte_ring *r, unsigned int *left)
{
	struct espgw_order_sa *list[ESPGW_BURST_MAX];
	void *e[ESPGW_BURST_MAX];
	uint16_t j, n, nl = 0;

	n = (uint16_t)rte_ring_dequeue_burst(r, e, w->burst, left);
	if (n == 0)
		return 0;
	ring_prefetch(e, n);
	for (j = 0; j < n; j++) {
		w->dp[ESPGW_DP_HANDED_IN] += !is_token(e[j]);
		window_put_entry(w, e[j], list, &nl);
	}
	windows_send(w, list, nl);
	return n;
}

/*
 * A burst from each ring a loop, as from each RX queue, and up to three
 * more while the ring holds two bursts beyond the one taken: the owner then
 * sends what the other worker already paid for (encrypted, numbered) before
 * it takes more of its own, and a ring kept filled cannot stall the other
 * worker. Taking 4 bursts always made the SA slower, 1.09x one worker
 * instead of 1.60x at 64 B (scripts/bench/scale.py --sas 1 --seq-order
 * strict): a ring kept near empty moves its lines between the two cores at
 * every burst.
 */
#define ORDER_POLL_MAX 4

uint16_t
stage_order_poll(struct espgw_worker *w)
{
	unsigned int left, k;
	uint16_t i, total = 0;

	for (i = 0; i < w->ord.n_from; i++) {
		total += ring_take(w, w->ord.from[i], &left);
		for (k = 1; k < ORDER_POLL_MAX && left >= 2u * w->burst; k++)
			total += ring_take(w, w->ord.from[i], &left);
	}
	return total;
}

/* At stop: what was held or in the rings is dropped, counted on the owner. */
void
espgw_worker_drain_order(struct espgw_worker *w, const struct espgw_sad *sad)
{
	struct espgw_order_sa *o;
	struct rte_mbuf *m;
	uint32_t slot, i;
	void *e;

	for (i = 0; i < w->ord.n_from; i++) {
		while (rte_ring_dequeue(w->ord.from[i], &e) == 0) {
			if (is_token(e))
				continue;
			m = e;
			w->dp[ESPGW_DP_HANDED_IN]++;
			drop_sa(w, m, ESPGW_DROP_SHUTDOWN, *espgw_mbuf_sa(m));
		}
	}
	for (slot = 0; slot < sad->n; slot++) {
		o = sad->sa[slot].order;
		if (o == NULL || sad->sa[slot].owner != w->idx)
			continue;
		for (i = 0; o->held != 0 && i <= o->mask; i++) {
			m = o->slot[i];
			if (m == NULL)
				continue;
			o->slot[i] = NULL;
			o->held--;
			if (m == ORDER_SKIP)
				continue;
			w->dp[ESPGW_DP_ORDER_OUT]++;
			drop_sa(w, m, ESPGW_DROP_SHUTDOWN, slot);
		}
	}
}
