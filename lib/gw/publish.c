/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live changes: make the data path match the store after SAs or policies
 * changed (DESIGN.md, planes: the control side builds a new version beside
 * the old one and publishes it; the old one is freed after every worker
 * passed a quiescent state).
 *
 * Order matters for "protect-class traffic never leaves in clear" and for
 * the make-before-break rekey:
 *   1. new SAs come into service in their slots (an inbound one is found by
 *      SPI at once: the peer may use it as soon as it is installed);
 *   2. deleted SAs leave the inbound SAD (no new packet finds them); once
 *      every SA of the batch has its runtime, the outbound SAs that sa update
 *      gave a new slot move there (lib/gw/sa_move.c), last: a batch refused
 *      before rolls back with nothing moved;
 *   3. the SPDs are rebuilt from the store (a policy whose SA is gone now
 *      says no_sa_yet) and published with the per-SA tables as one version;
 *   4. rte_rcu_qsbr_synchronize(): no worker holds the old version;
 *   5. the old SPDs are freed; a deleted SA is freed (session destroyed,
 *      keys wiped) RETIRE_MS later, when nothing in flight can name it:
 *      crypto ops, hand-off rings, fragment verdicts (FRAGSTATE_MS).
 *
 * Routes and static neighbors go the same way. A transaction that changes
 * routes gets its forwarding table built at once (prepare), around the next
 * hops' entries (lib/host/neigh_oper.c): one that does not fit the memory is
 * refused and rolled back, never accepted and left unpublished. Before step
 * 3 the static neighbors are brought in line; the table is published in the
 * same version with each SA's inner MTU refreshed; after step 4 the old
 * table is freed and the entries nobody names any more are deleted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_udp.h>

#include "espgw_log.h"
#include "espgw_tel_gate.h"
#include "gw.h"

#define EV_ADDED     1 /* slot_ev: announce once published */
#define EV_DELETED   2
#define EV_UPDATED   4
#define EV_DROPPED   8	  /* added and taken out before published: nothing to announce */
#define EV_MOVE	     16	  /* not an event: the SA moves in from moved_from (sa_move_in) */
#define RETIRE_MS    3000 /* above FRAGSTATE_MS (gw.c): a first fragment's verdict names a slot */
#define TCP_IP4_HDRS 40	  /* IPv4 + TCP headers without options: MSS = MTU - 40 */
#define TCP_IP6_HDRS 60	  /* IPv6 + TCP */

struct espgw_retiring {
	uint32_t slot;
	uint64_t at_ms; /* when it may be freed */
};

/* Outer fragments are taken from the peers only: the remote addresses of the inbound SAs. */
struct espgw_reasm_peers *
espgw_gw_reasm_peers(const struct espgw_store *s)
{
	struct espgw_ip *addr = calloc(s->n_sas + 1, sizeof(*addr));
	struct espgw_reasm_peers *p;
	unsigned int i, n = 0;

	if (addr == NULL)
		return NULL;
	for (i = 0; i < s->n_sas; i++)
		if (s->sas[i].dir == ESPGW_DIR_IN && !s->sas[i].declared)
			addr[n++] = s->sas[i].remote;
	p = espgw_reasm_peers_create(addr, n, (int)rte_socket_id());
	free(addr);
	return p;
}

/* The largest inner packet an SA carries: its outer route's MTU less its ESP overhead. */
static uint16_t
sa_tunnel_mtu(const struct espgw_gw *gw, const struct espgw_sa_rt *sa)
{
	const struct espgw_l2_hop *hop;
	uint16_t mtu;

	/* Without a route the outer packet is dropped at forwarding (no_route) anyway. */
	hop = espgw_route_lookup(gw->route, &sa->conf->remote);
	if (hop == NULL)
		return UINT16_MAX;
	/* AH: its header (ICV padded) after the outer one, no trailer, no alignment. */
	if (sa->ah != NULL) {
		uint32_t fixed = sa->ah->tmpl_len + sa->ah->len;

		return hop->mtu > fixed ? (uint16_t)(hop->mtu - fixed) : 0;
	}
	/* RFC 3948: ESP in UDP pays the UDP header too, outside the padded payload. */
	mtu = espgw_host_tunnel_mtu(hop->mtu - (sa->encap ? sizeof(struct rte_udp_hdr) : 0),
			sa->outer_family, sa->esp_iv_len, sa->esp_icv_len, sa->esp_align);
	/*
	 * Transport: no new header, the packet's own is not padded (RFC 4303
	 * 2.4 pads the payload only): what a tunnel's outer header takes, a
	 * transport packet's header may use (its base header: options and
	 * extension headers make the result too big for the path, and it is
	 * fragmented or refused at the egress like any ESP packet).
	 */
	if (sa->transport && mtu != 0)
		mtu += sa->outer_family == ESPGW_AF_INET ? sizeof(struct rte_ipv4_hdr)
							 : sizeof(struct rte_ipv6_hdr);
	return mtu;
}

/*
 * The MSS an SA clamps to, decided once: as configured, or "auto": the
 * tunnel MTU less the IP and TCP headers of the SA's inner family. For an
 * inbound SA, auto assumes the reverse SA has the same transform and path.
 */
static uint16_t
sa_mss_of(const struct espgw_gw *gw, const struct espgw_sa_rt *sa)
{
	uint16_t want = sa->conf->mss_clamp, mtu, hdrs;

	if (want != ESPGW_MSS_AUTO)
		return want;
	mtu = sa_tunnel_mtu(gw, sa);
	hdrs = sa->inner_proto == IPPROTO_IPIP ? TCP_IP4_HDRS : TCP_IP6_HDRS;
	if (mtu == UINT16_MAX)
		return 0; /* no route: nothing to fit */
	return (uint16_t)RTE_MAX(mtu - hdrs, ESPGW_MSS_MIN);
}

/* An SA's largest inner packet and MSS clamp, by its outer route. */
static void
sa_limits(const struct espgw_gw *gw, const struct espgw_sa_rt *sa, uint16_t *mtu, uint16_t *mss)
{
	if (sa->state == ESPGW_SA_DECLARED) { /* nothing is ever sent through it */
		*mtu = UINT16_MAX;
		*mss = 0;
		return;
	}
	*mtu = sa->dir == ESPGW_DIR_OUT ? sa_tunnel_mtu(gw, sa) : UINT16_MAX;
	*mss = sa_mss_of(gw, sa);
}

/* A slot's entries, written before any published policy names the SA. */
static void
sa_tables_fill(struct espgw_gw *gw, uint32_t slot)
{
	const struct espgw_sa_rt *sa = &gw->sad.sa[slot];

	sa_limits(gw, sa, &gw->sa_mtu[slot], &gw->sa_mss[slot]);
	if (sa->state == ESPGW_SA_DECLARED)
		return;
	if (gw->sa_mtu[slot] != UINT16_MAX)
		SA_LOG(INFO, "sa %s: inner MTU %u", sa->conf->name, gw->sa_mtu[slot]);
	if (gw->sa_mss[slot] != 0)
		SA_LOG(INFO, "sa %s: TCP MSS clamped to %u", sa->conf->name, gw->sa_mss[slot]);
}

/* Routes changed: each SA's inner MTU and MSS clamp follow its outer route. */
static void
sa_tables_refresh(struct espgw_gw *gw)
{
	const struct espgw_sa_rt *sa;
	uint16_t mtu, mss;
	uint32_t i;

	for (i = 0; i < gw->sad.n; i++) {
		sa = &gw->sad.sa[i];
		if (!espgw_sad_live(&gw->sad, i))
			continue;
		sa_limits(gw, sa, &mtu, &mss);
		if (mtu == gw->sa_mtu[i] && mss == gw->sa_mss[i])
			continue;
		/* Workers read either value whole: one aligned 16-bit store each. */
		__atomic_store_n(&gw->sa_mtu[i], mtu, __ATOMIC_RELAXED);
		__atomic_store_n(&gw->sa_mss[i], mss, __ATOMIC_RELAXED);
		SA_LOG(INFO, "sa %s: inner MTU %u, TCP MSS clamp %u (routes changed)",
				sa->conf->name, mtu, mss);
	}
}

void
espgw_gw_sa_tables(struct espgw_gw *gw)
{
	uint32_t i;

	for (i = 0; i < gw->sad.n; i++)
		if (espgw_sad_live(&gw->sad, i))
			sa_tables_fill(gw, i);
}

/* Workers clamp only while some SA does: no table lookup per packet otherwise. */
const uint16_t *
espgw_gw_mss_table(const struct espgw_gw *gw)
{
	uint32_t i;

	for (i = 0; i < gw->sad.n; i++)
		if (espgw_sad_live(&gw->sad, i) && gw->sa_mss[i] != 0)
			return gw->sa_mss;
	return NULL;
}

static void
sa_log(const struct espgw_gw *gw, const struct espgw_sa_conf *sa, const char *what)
{
	const struct espgw_sa_rt *rt = &gw->sad.sa[sa->slot];

	if (sa->dir == ESPGW_DIR_IN && gw->n_workers > 1)
		SA_LOG(INFO, "sa %s %s (slot %u) -> worker %u", sa->name, what, sa->slot,
				rt->owner);
	else
		SA_LOG(INFO, "sa %s %s (slot %u)", sa->name, what, sa->slot);
}

static bool
slot_in_store(const struct espgw_store *s, uint32_t slot)
{
	return s->slot != NULL && s->slot[slot] == ESPGW_SLOT_USED;
}

static int
retire_push(struct espgw_gw *gw, uint32_t slot, uint64_t at_ms)
{
	struct espgw_retiring *r = gw->retiring;

	if (gw->n_retiring == gw->cap_retiring) {
		unsigned int cap = gw->cap_retiring ? 2 * gw->cap_retiring : 64;

		r = realloc(gw->retiring, cap * sizeof(*r));
		if (r == NULL)
			return -1;
		gw->retiring = r;
		gw->cap_retiring = cap;
	}
	r[gw->n_retiring++] = (struct espgw_retiring){.slot = slot, .at_ms = at_ms};
	return 0;
}

/* A rollback brought the SA back before it was freed: it is found again, not retired. */
static int
retire_cancel(struct espgw_gw *gw, uint32_t slot, struct espgw_err *err)
{
	unsigned int i;

	if (espgw_sad_sa_relink(&gw->sad, slot, err) != 0)
		return -1;
	if (gw->sad.sa[slot].state == ESPGW_SA_MOVED) { /* a rolled-back sa update */
		uint32_t to = gw->sad.sa[slot].moved_to;

		/* Announced as it was before the update: not at all when not yet added. */
		gw->slot_ev[slot] = gw->slot_ev[to] & EV_DROPPED ? EV_DROPPED : 0;
		gw->slot_ev[to] = 0;
		espgw_gw_sa_move_back(gw, slot);
	}
	for (i = 0; i < gw->n_retiring && gw->retiring[i].slot != slot; i++)
		;
	if (i < gw->n_retiring)
		gw->retiring[i] = gw->retiring[--gw->n_retiring];
	gw->slot_queued[slot] = 0;
	gw->slot_ev[slot] &= (uint8_t)~EV_DELETED;
	if (gw->slot_ev[slot] & EV_DROPPED) /* added in this batch, still to announce */
		gw->slot_ev[slot] = EV_ADDED;
	return 0;
}

/*
 * Step 1: SAs the store no longer has (deleted, or added by a transaction
 * that is being rolled back) stop being found. Their slots stay the data
 * path's until freed: RETIRING in the store, also where a rollback set them
 * free. Undone by retire_cancel until then; freed RETIRE_MS after the
 * publication that dropped them.
 */
/*
 * A slot the store took and gave up before the data path brought it into
 * service (sa add and sa del in one transaction, two moves of one SA): no
 * worker ever saw it, it is free at once.
 */
static void
slot_unused_release(struct espgw_gw *gw, uint32_t i)
{
	if (i < gw->store.slot_cap && gw->store.slot[i] == ESPGW_SLOT_RETIRING &&
			!espgw_sad_live(&gw->sad, i) && !gw->slot_queued[i])
		espgw_store_slot_release(&gw->store, i);
}

static void
sa_unlink(struct espgw_gw *gw, uint32_t i)
{
	slot_unused_release(gw, i);
	gw->slot_ev[i] &= (uint8_t)~EV_MOVE;
	if (!espgw_sad_live(&gw->sad, i) || slot_in_store(&gw->store, i) || gw->slot_queued[i])
		return;
	if (retire_push(gw, i, UINT64_MAX) < 0) {
		SA_LOG(ERR, "slot %u: no memory to queue its release", i);
		gw->reconcile_all = true; /* found again by the next full pass */
		return;
	}
	espgw_sad_sa_unlink(&gw->sad, i);
	espgw_gw_capture_slot_gone(gw, i);
	gw->store.slot[i] = ESPGW_SLOT_RETIRING;
	gw->slot_queued[i] = 1;
	/* Announced only if it was: an SA added and dropped in one batch was never. */
	if (gw->slot_ev[i] & (EV_ADDED | EV_DROPPED))
		gw->slot_ev[i] = EV_DROPPED;
	else if (gw->sad.sa[i].state != ESPGW_SA_DECLARED)
		gw->slot_ev[i] |= EV_DELETED;
	SA_LOG(INFO, "sa %s out of service (slot %u)", gw->sad.conf[i].name, i);
}

/* The SA stays in its slot; a rollback may have brought it back, sa update changed it. */
static int
sa_keep(struct espgw_gw *gw, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	int rc;

	if (gw->slot_queued[sa->slot])
		return retire_cancel(gw, sa->slot, err);
	rc = espgw_gw_sa_update(gw, sa, err);
	if (rc > 0 && !(gw->slot_ev[sa->slot] & EV_ADDED))
		gw->slot_ev[sa->slot] |= EV_UPDATED;
	return rc < 0 ? -1 : 0;
}

/* An outbound SA moved to this slot (sa update): announced as updated, not deleted and added. */
static int
sa_moved(struct espgw_gw *gw, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	uint32_t from = sa->moved_from - 1;

	/*
	 * Added and updated in one batch: the add's slot never ran, nothing was
	 * sent under the key. An add to announce, nothing to carry; and the
	 * store forgets the source, which a later update would otherwise find
	 * again (and move the SA from a slot since reused, or onto itself).
	 */
	if (!espgw_sad_live(&gw->sad, from)) {
		espgw_store_sa_moved(&gw->store, sa->slot);
		return 0;
	}
	if (espgw_gw_sa_move(gw, sa, err) != 0)
		return -1;
	gw->slot_ev[sa->slot] = gw->slot_ev[from] & (EV_ADDED | EV_DROPPED) ? EV_ADDED : EV_UPDATED;
	gw->slot_ev[from] = 0;
	return 0;
}

/* Did the SA in slot send or take anything (its counters, carried along by moves)? */
static bool
slot_sent(const struct espgw_gw *gw, uint32_t slot)
{
	return espgw_stats_sa(&gw->view, slot).pkts != 0;
}

#define KEY_TAKEN                                                                        \
	"sa %s: its key is SA %s's, which ran under it: its sequence numbers or replay " \
	"window would start again under that key (AES-GCM: the same nonces); give it a " \
	"new key"

/*
 * A new SA (not one moved by sa update, which carries its number on) must
 * not start a key's sequence numbers or replay window again
 * (espgw_store_sa_key_reused; with AES-GCM the number is the nonce, RFC 4106
 * 8.1). The store refuses the key of an SA it holds (store_sa.c
 * sa_check_key); here, the live slots it no longer holds, deleted in this
 * batch or retiring, that ran under the key (sent or took packets). A slot
 * of a rolled-back batch never ran: retrying that batch is no conflict.
 * Only in a running gateway: at start every slot is the store's.
 */
static int
sa_key_fresh(const struct espgw_gw *gw, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	const struct espgw_sa_conf *o;
	uint32_t i;

	if (!gw->running || (sa->moved_from != 0 && espgw_sad_live(&gw->sad, sa->moved_from - 1)))
		return 0;
	for (i = 0; i < gw->sad.n; i++) {
		o = &gw->sad.conf[i];
		if (i == sa->slot || !espgw_sad_live(&gw->sad, i) || slot_in_store(&gw->store, i) ||
				!slot_sent(gw, i) || !espgw_store_sa_key_reused(o, sa))
			continue;
		snprintf(err->msg, sizeof(err->msg), KEY_TAKEN, sa->name, o->name);
		return -1;
	}
	return 0;
}

/*
 * Step 2: every SA of the store has a runtime in its slot: a new one, or
 * the one a rollback brought back (unlinked in step 1, not yet freed).
 */
static int
sa_add(struct espgw_gw *gw, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	if (espgw_sad_live(&gw->sad, sa->slot))
		return sa_keep(gw, sa, err);
	if (sa_key_fresh(gw, sa, err) != 0)
		return -1;
	if (espgw_sad_sa_add(&gw->sad, sa, err) != 0)
		return -1;
	sa_tables_fill(gw, sa->slot);
	espgw_gw_watch_start(gw, sa->slot, espgw_gw_now_ms());
	sa_log(gw, sa, sa->declared ? "declared" : "in service");
	if (!sa->declared) /* a declaration is no SA: no event */
		gw->slot_ev[sa->slot] |= EV_ADDED;
	if (sa->moved_from != 0)
		gw->slot_ev[sa->slot] |= EV_MOVE;
	return 0;
}

/*
 * Once every SA of the batch has its runtime: the moves of sa update. Last,
 * so that a batch refused in step 2 (a later SA that cannot be brought
 * into service) rolls back before any SA was moved: no packet left for the
 * peer address of a transaction that failed.
 */
static int
sa_move_in(struct espgw_gw *gw, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	if (sa == NULL || sa->moved_from == 0 || !(gw->slot_ev[sa->slot] & EV_MOVE))
		return 0;
	gw->slot_ev[sa->slot] &= (uint8_t)~EV_MOVE;
	return sa_moved(gw, sa, err);
}

/* Steps 1 and 2 over every slot: when the store could not list what changed. */
static int
sas_reconcile_all(struct espgw_gw *gw, struct espgw_err *err)
{
	unsigned int i;

	gw->reconcile_all = false;
	for (i = 0; i < gw->store.slot_cap; i++)
		sa_unlink(gw, i);
	for (i = 0; i < gw->store.n_sas; i++)
		if (sa_add(gw, &gw->store.sas[i], err) != 0)
			return -1;
	for (i = 0; i < gw->store.n_sas; i++)
		if (sa_move_in(gw, &gw->store.sas[i], err) != 0)
			return -1;
	return 0;
}

/* Steps 1 and 2 over the slots the store says changed: O(changes), not O(SAs). */
static int
sas_reconcile(struct espgw_gw *gw, struct espgw_err *err)
{
	const struct espgw_sa_conf *sa;
	unsigned int n, i;
	bool all;
	const uint32_t *d = espgw_store_dirty(&gw->store, &n, &all);

	if (all || gw->reconcile_all)
		return sas_reconcile_all(gw, err);
	for (i = 0; i < n; i++)
		sa_unlink(gw, d[i]);
	for (i = 0; i < n; i++) {
		sa = espgw_store_sa_of_slot(&gw->store, d[i]);
		if (sa != NULL && sa_add(gw, sa, err) != 0)
			return -1;
	}
	for (i = 0; i < n; i++)
		if (sa_move_in(gw, espgw_store_sa_of_slot(&gw->store, d[i]), err) != 0)
			return -1;
	return 0;
}

/* The events of a publication, once it is done: what the workers now use. */
static void
events_flush(struct espgw_gw *gw)
{
	uint32_t i;

	for (i = 0; i < gw->sad.n; i++) {
		if (gw->slot_ev[i] & EV_ADDED)
			espgw_gw_sa_event(gw, "sa-added", gw->sad.conf[i].name, NULL, NULL);
		if (gw->slot_ev[i] & EV_DELETED)
			espgw_gw_sa_event(gw, "sa-deleted", gw->sad.conf[i].name, NULL, NULL);
		if (gw->slot_ev[i] & EV_UPDATED)
			espgw_gw_sa_event(gw, "sa-updated", gw->sad.conf[i].name, NULL, NULL);
		gw->slot_ev[i] = 0;
	}
}

/* Step 5's clock starts once the workers left the version that named them. */
static void
retire_arm(struct espgw_gw *gw, uint64_t now_ms)
{
	unsigned int i;

	for (i = 0; i < gw->n_retiring; i++)
		if (gw->retiring[i].at_ms == UINT64_MAX)
			gw->retiring[i].at_ms = now_ms + RETIRE_MS;
}

/* The slot's counters start from zero for its next SA (no worker writes them now). */
static void
slot_counters_clear(struct espgw_gw *gw, uint32_t slot)
{
	unsigned int w;

	for (w = 0; w < gw->n_workers; w++)
		memset(&gw->worker[w]->stats.sa[slot], 0, sizeof(gw->worker[w]->stats.sa[slot]));
}

void
espgw_gw_retire_poll(struct espgw_gw *gw, uint64_t now_ms)
{
	unsigned int i, k = 0;
	uint32_t slot;

	for (i = 0; i < gw->n_retiring; i++) {
		slot = gw->retiring[i].slot;
		/* Only what the store gave up (a rollback cancels through retire_cancel). */
		if (gw->retiring[i].at_ms > now_ms || gw->store.slot[slot] != ESPGW_SLOT_RETIRING) {
			gw->retiring[k++] = gw->retiring[i];
			continue;
		}
		espgw_sad_sa_free(&gw->sad, slot); /* session destroyed, keys wiped */
		slot_counters_clear(gw, slot);
		gw->slot_queued[slot] = 0;
		espgw_tel_hold();
		espgw_store_slot_release(&gw->store, slot);
		espgw_tel_release();
	}
	gw->n_retiring = k;
}

/* Step 3: the next version, built beside the published one (SPDs only when they changed). */
static int
tables_next(struct espgw_gw *gw, struct espgw_tables *t, struct espgw_spd **out,
		struct espgw_spd **in, struct espgw_reasm_peers **peers, struct espgw_err *err)
{
	char tag[32];
	int socket = (int)rte_socket_id();

	*t = *gw->tables_pub;
	*out = gw->spd_out;
	*in = gw->spd_in;
	*peers = gw->reasm_peers;
	if ((gw->store.changed & (ESPGW_CHG_SA | ESPGW_CHG_SP)) == 0)
		return 0;
	snprintf(tag, sizeof(tag), "out%" PRIu64, gw->publications + 1);
	*out = espgw_spd_build(&gw->store, ESPGW_DIR_OUT, socket, tag, err);
	snprintf(tag, sizeof(tag), "in%" PRIu64, gw->publications + 1);
	*in = *out == NULL ? NULL : espgw_spd_build(&gw->store, ESPGW_DIR_IN, socket, tag, err);
	*peers = *in == NULL ? NULL : espgw_gw_reasm_peers(&gw->store);
	if (*peers == NULL) {
		if (*in != NULL)
			snprintf(err->msg, sizeof(err->msg), "out of memory for the peers");
		espgw_spd_free(*out);
		espgw_spd_free(*in);
		return -1;
	}
	if (espgw_reasm_peers_equal(*peers, gw->reasm_peers)) {
		espgw_reasm_peers_free(*peers);
		*peers = gw->reasm_peers;
	}
	t->spd_out = *out;
	t->spd_in = *in;
	t->reasm_peers = *peers;
	return 0;
}

/* What tables_next built, when the publication does not go ahead. */
static void
tables_next_undo(struct espgw_gw *gw, struct espgw_spd *out, struct espgw_spd *in,
		struct espgw_reasm_peers *peers)
{
	if (out != gw->spd_out)
		espgw_spd_free(out);
	if (in != gw->spd_in)
		espgw_spd_free(in);
	if (peers != gw->reasm_peers)
		espgw_reasm_peers_free(peers);
}

/*
 * The forwarding table for the store's routes: the published one or the one
 * built for the previous transaction when the routes are theirs (a rollback
 * brings them back), else one built beside the published one (a previous one
 * not yet published is dropped first: no worker saw it, and the memory of a
 * third table is not needed).
 */
static int
route_build(struct espgw_gw *gw, struct espgw_err *err)
{
	struct espgw_route *r;

	if (gw->route_next != NULL && espgw_route_built_from(gw->route_next, &gw->store)) {
		gw->route_gen = gw->store.route_gen;
		return 0;
	}
	espgw_route_free(gw->route_next);
	gw->route_next = NULL;
	if (espgw_route_built_from(gw->route, &gw->store)) {
		gw->route_gen = gw->store.route_gen;
		return 0;
	}
	if (espgw_host_neigh_vias(gw->host, err) < 0)
		return -1;
	r = espgw_route_rebuild(gw->route, &gw->store, err);
	if (r == NULL) {
		char why[64];

		snprintf(why, sizeof(why), "%.63s", err->msg);
		snprintf(err->msg, sizeof(err->msg),
				"routes not changed: %s (a change builds the next forwarding table "
				"beside the one in use: both must fit in DPDK's memory)",
				why);
		return -1;
	}
	gw->route_next = r;
	gw->route_gen = gw->store.route_gen;
	return 0;
}

/*
 * Routes or static neighbors changed: the entries the store names made and
 * brought in line (published at once: workers may find them before the new
 * table names them), and the table built for the routes (by prepare; here
 * only when it could not be then).
 */
static int
route_next(struct espgw_gw *gw, struct espgw_route **next, struct espgw_err *err)
{
	*next = gw->route;
	if ((gw->store.changed & (ESPGW_CHG_ROUTE | ESPGW_CHG_NEIGH)) == 0)
		return 0;
	if (espgw_host_neigh_sync(gw->host, espgw_gw_now_ms(), err) < 0)
		return -1;
	if (gw->route_gen != gw->store.route_gen && route_build(gw, err) < 0)
		return -1;
	if (gw->route_next != NULL)
		*next = gw->route_next;
	return 0;
}

/* Steps 3-5: publish, wait for every worker, free what the old version had alone. */
static int
publish(struct espgw_gw *gw, struct espgw_err *err)
{
	struct espgw_tables *t = gw->tables_pub == &gw->tab[0] ? &gw->tab[1] : &gw->tab[0];
	struct espgw_spd *out, *in, *old_out = gw->spd_out, *old_in = gw->spd_in;
	struct espgw_reasm_peers *peers, *old_peers = gw->reasm_peers;
	struct espgw_route *route, *old_route = gw->route;

	if (tables_next(gw, t, &out, &in, &peers, err) < 0)
		return -1;
	if (route_next(gw, &route, err) < 0) {
		tables_next_undo(gw, out, in, peers);
		return -1;
	}
	gw->route = route;
	gw->route_next = NULL;
	if (route != old_route)
		sa_tables_refresh(gw);
	t->route = route;
	t->sa_mss = espgw_gw_mss_table(gw);
	__atomic_store_n(&gw->tables_pub, t, __ATOMIC_RELEASE);
	espgw_host_route_set(gw->host, route);
	if (gw->running)
		rte_rcu_qsbr_synchronize(gw->qsv, RTE_QSBR_THRID_INVALID);
	gw->spd_out = out;
	gw->spd_in = in;
	gw->reasm_peers = peers;
	gw->publications++;
	if (old_out != out)
		espgw_spd_free(old_out);
	if (old_in != in)
		espgw_spd_free(old_in);
	if (old_peers != peers)
		espgw_reasm_peers_free(old_peers);
	if (old_route != route)
		espgw_route_free(old_route);
	espgw_host_neigh_prune(gw->host, espgw_gw_now_ms());
	return 0;
}

int
espgw_gw_prepare(struct espgw_gw *gw, struct espgw_err *err)
{
	/*
	 * Refused here, the transaction is rolled back: the publication cannot
	 * run out of room or memory for it.
	 */
	if ((gw->store.changed & (ESPGW_CHG_ROUTE | ESPGW_CHG_NEIGH)) != 0 &&
			espgw_host_neigh_check(gw->host, err) < 0)
		return -1;
	if (gw->route_gen != gw->store.route_gen && route_build(gw, err) < 0)
		return -1;
	if ((gw->store.changed & ESPGW_CHG_SA) == 0)
		return 0;
	/* Unlinks first: a rekey may reuse the deleted SA's SPI. */
	if (sas_reconcile(gw, err) != 0)
		return -1;
	espgw_store_dirty_clear(&gw->store);
	return 0;
}

int
espgw_gw_publish(struct espgw_gw *gw, struct espgw_err *err)
{
	if ((gw->store.changed &
			    (ESPGW_CHG_SA | ESPGW_CHG_SP | ESPGW_CHG_ROUTE | ESPGW_CHG_NEIGH)) == 0)
		return 0;
	if (publish(gw, err) < 0)
		return -1;
	retire_arm(gw, espgw_gw_now_ms());
	events_flush(gw);
	gw->store.changed = 0;
	return 0;
}
