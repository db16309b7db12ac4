/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "sa update" in the data path.
 *
 * Inbound, and lifetimes of either direction: the SA changes in its slot
 * (the inbound SAD key follows a new remote when the SA matches on the
 * source; nothing else a worker reads changes).
 *
 * Outbound with a new remote: the outer header is rte_ipsec's per-SA
 * template, which cannot change under the workers, so the store gave the SA
 * a new slot (espgw_sa_conf.moved_from) and the data path moves the SA
 * there: the old one is frozen (its packets drop as sa_updating), every
 * worker passes a quiescent state (none is between reading the sequence
 * number and writing it back), the new one takes over the sequence number
 * (RFC 4303 3.3.3: never sent twice under one key: with AES-GCM a repeated
 * number is a repeated nonce, RFC 4106 8.1), the counters that lifetimes
 * are measured on and the age; then the old one forwards its policies'
 * packets to the new one until the publication names the new one, and
 * retires. A rollback moves the SA back the same way.
 */
#include <string.h>

#include <rte_rcu_qsbr.h>

#include "gw.h"

/* No worker still uses what it read before the last state change. */
static void
workers_leave(struct espgw_gw *gw)
{
	if (gw->running)
		rte_rcu_qsbr_synchronize(gw->qsv, RTE_QSBR_THRID_INVALID);
}

static void
counters_carry(struct espgw_gw *gw, uint32_t from, uint32_t to)
{
	unsigned int w;

	for (w = 0; w < gw->n_workers; w++)
		gw->worker[w]->stats.sa[to] = gw->worker[w]->stats.sa[from];
}

/* Sequence number, counters and age of from go to to; no worker uses either. */
static void
state_carry(struct espgw_gw *gw, uint32_t from, uint32_t to)
{
	/*
	 * seq-order strict: the same sender, so that the SA's ESP stays on one
	 * TX queue, and the new SA's first number only after the old one's last
	 * has gone to it (frames of the old one may still be in the rings).
	 */
	if (gw->sad.sa[from].order != NULL && gw->sad.sa[to].order != NULL)
		gw->sad.sa[to].owner = gw->sad.sa[from].owner;
	espgw_sad_order_drain(&gw->sad, from);
	espgw_sad_sa_seq_set(&gw->sad, to, espgw_sad_sa_seq(&gw->sad, from));
	counters_carry(gw, from, to);
	espgw_gw_watch_carry(gw, from, to);
}

/* Is from the live outbound SA that to replaces (and not a slot reused since)? */
static bool
move_source(const struct espgw_gw *gw, uint32_t from, const struct espgw_sa_conf *to)
{
	const struct espgw_sa_rt *f = &gw->sad.sa[from];

	return espgw_sad_live(&gw->sad, from) && f->dir == ESPGW_DIR_OUT &&
	       (f->state == ESPGW_SA_LIVE || f->state == ESPGW_SA_EXPIRED) &&
	       strcmp(gw->sad.conf[from].name, to->name) == 0 && gw->sad.conf[from].spi == to->spi;
}

int
espgw_gw_sa_move(struct espgw_gw *gw, const struct espgw_sa_conf *to, struct espgw_err *err)
{
	uint32_t from = to->moved_from - 1;
	struct espgw_sa_rt *f = &gw->sad.sa[from];
	uint8_t was = f->state;

	/*
	 * A source that never ran (added in the same batch) is the caller's
	 * (publish.c sa_moved: an add). Otherwise the store names the slot in
	 * service when the update was applied, which stays so until this move:
	 * anything else would start the key's sequence numbers again. Refused,
	 * never guessed.
	 */
	if (!move_source(gw, from, to)) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: the SA it replaces (slot %u) is not in service: not moved",
				to->name, from);
		return -1;
	}
	if (gw->sad.sqn_ofs < 0) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: this DPDK gives no access to the sequence number: the "
				"remote "
				"of an outbound SA cannot change (delete and add the SA)",
				to->name);
		return -1;
	}
	__atomic_store_n(&f->state, ESPGW_SA_FROZEN, __ATOMIC_RELEASE);
	workers_leave(gw);
	state_carry(gw, from, to->slot);
	if (was == ESPGW_SA_EXPIRED)
		gw->sad.sa[to->slot].state = ESPGW_SA_EXPIRED;
	f->moved_to = to->slot;
	__atomic_store_n(&f->state, ESPGW_SA_MOVED, __ATOMIC_RELEASE);
	espgw_store_sa_moved(&gw->store, to->slot);
	return 0;
}

void
espgw_gw_sa_move_back(struct espgw_gw *gw, uint32_t slot)
{
	struct espgw_sa_rt *rt = &gw->sad.sa[slot];
	uint32_t to = rt->moved_to;
	uint8_t st;

	if (rt->state != ESPGW_SA_MOVED)
		return;
	st = gw->sad.sa[to].state == ESPGW_SA_EXPIRED ? ESPGW_SA_EXPIRED : ESPGW_SA_LIVE;
	/* Both frozen: nobody follows the old one to the new one, whose number is final. */
	__atomic_store_n(&rt->state, ESPGW_SA_FROZEN, __ATOMIC_RELEASE);
	__atomic_store_n(&gw->sad.sa[to].state, ESPGW_SA_FROZEN, __ATOMIC_RELEASE);
	workers_leave(gw);
	state_carry(gw, to, slot);
	__atomic_store_n(&rt->state, st, __ATOMIC_RELEASE);
}

/*
 * Lifetimes, an inbound SA's remote and NAT-T port (RFC 7296 2.23: the
 * mapping the key manager applied, which the workers no longer report), the
 * inner family: changed in the slot.
 */
int
espgw_gw_sa_update(struct espgw_gw *gw, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	const struct espgw_sa_conf *cur = &gw->sad.conf[sa->slot];

	if (espgw_ip_equal(&cur->remote, &sa->remote) && cur->encap_dport == sa->encap_dport &&
			memcmp(cur->life, sa->life, sizeof(cur->life)) == 0 &&
			cur->inner_family == sa->inner_family)
		return 0;
	if (espgw_sad_sa_update(&gw->sad, sa, err) != 0)
		return -1;
	espgw_gw_watch_relimit(gw, sa->slot);
	return 1;
}
