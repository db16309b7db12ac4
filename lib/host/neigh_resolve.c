/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next-hop resolution: a reduced RFC 4861 7.3.2 state machine per neighbor
 * entry (also used for ARP). Packets wait in a bounded queue per neighbor
 * while requests go out (retries apart); an answer publishes the MAC and
 * releases them in order; silence drops them. Resolved dynamic and "via"
 * entries are re-probed after the reachable time and lose their MAC when the
 * probes go unanswered; static entries are never touched. Dynamic entries
 * (ESPGW_NEIGH_SPARE of them at most) made for the unprotected side may fill
 * half of them (neigh_quota beyond); a subnet's broadcast gets none. The
 * operator's entries (static neighbors, next hops of routes) have their own
 * room and follow the store while espgw runs (neigh_oper.c).
 *
 * What ARP and ND messages say is taken by RFC 826's merge rule and RFC 4861
 * 7.2.3 / 7.2.5, with the guards Linux adds against a spoofer on the link:
 * - an entry is made only by our own resolution, or for a host on the port's
 *   subnet that asks for one of our addresses; news of other hosts is ignored;
 * - an entry without a MAC (being resolved, or a "via" never resolved) is
 *   filled only by the answer to our request;
 * - unsolicited news (gratuitous ARP, a reply or NA nobody asked for, a
 *   request or NS for our address) changes a MAC only when none was learned
 *   or confirmed within locktime_ms, and leaves the entry STALE: still used,
 *   and probed at once, so the station at the new MAC must answer us;
 * - an NA without the override flag never changes a MAC (RFC 4861 7.2.5);
 * - static entries never change.
 * A spoofer on the link can still win a race for a dynamic or "via" entry:
 * static neighbors are the defence for next hops that matter.
 *
 * The entries themselves are lib/route's neighbor table (neigh_table.c),
 * which the workers read; this file decides what goes into them.
 */
#include <rte_malloc.h>

#include "host_int.h"

int
neigh_init(struct espgw_host *h, int socket)
{
	size_t q = (size_t)espgw_route_neigh_cap(h->route) * h->conf.queue_per_neigh;

	h->n_nb = espgw_route_neigh_cap(h->route);
	h->max_stranger = ESPGW_NEIGH_SPARE / 2;
	neigh_log_init(h);
	h->nb = rte_zmalloc_socket("espgw_host_nb", h->n_nb * sizeof(*h->nb), 0, socket);
	h->qmem = rte_zmalloc_socket("espgw_host_q", (q + 1) * sizeof(*h->qmem), 0, socket);
	return h->nb != NULL && h->qmem != NULL ? 0 : -1;
}

struct rte_mbuf **
nb_queue(struct espgw_host *h, const struct nb *nb)
{
	return &h->qmem[(size_t)(nb - h->nb) * h->conf.queue_per_neigh];
}

static void
queue_drop(struct espgw_host *h, struct nb *nb, enum espgw_drop why)
{
	struct rte_mbuf **q = nb_queue(h, nb);
	uint16_t i;

	for (i = 0; i < nb->qn; i++)
		host_drop(h, q[i], why);
	h->st.pending -= nb->qn;
	nb->qn = 0;
}

void
neigh_flush(struct espgw_host *h)
{
	unsigned int i;

	for (i = 0; h->nb != NULL && h->qmem != NULL && i < h->n_nb; i++)
		queue_drop(h, &h->nb[i], ESPGW_DROP_SHUTDOWN);
}

void
neigh_fini(struct espgw_host *h)
{
	neigh_flush(h);
	rte_free(h->nb);
	rte_free(h->qmem);
}

struct nb *
nb_of(struct espgw_host *h, const struct espgw_l2_hop *e)
{
	return &h->nb[espgw_route_neigh_slot(h->route, e)];
}

void
nb_timer_arm(struct espgw_host *h, struct nb *nb, uint64_t deadline)
{
	nb->deadline = deadline;
	if (deadline < h->next_timer)
		h->next_timer = deadline;
}

static void
solicit(struct espgw_host *h, const struct espgw_l2_hop *e, bool unicast)
{
	if (e->ip.family == ESPGW_AF_INET)
		arp_solicit(h, e, unicast);
	else
		nd_solicit(h, e, unicast);
}

static void
enqueue(struct espgw_host *h, struct nb *nb, struct rte_mbuf *m)
{
	if (nb->qn >= h->conf.queue_per_neigh || h->st.pending >= h->conf.queue_total) {
		host_drop(h, m, ESPGW_DROP_NEIGH_QUEUE_FULL);
		return;
	}
	nb_queue(h, nb)[nb->qn++] = m;
	h->st.pending++;
	host_count(h, ESPGW_HOST_QUEUED);
}

/*
 * A dynamic entry for an on-link host. One made for the unprotected side (a
 * packet through an inbound bypass, a request received there) counts against
 * that side's share, so that a remote sender probing for hosts that do not
 * exist cannot take the room of protected-side traffic.
 */
static struct espgw_l2_hop *
dyn_add(struct espgw_host *h, uint16_t port, const struct espgw_ip *ip, bool stranger,
		enum espgw_drop *why)
{
	struct espgw_l2_hop *e;

	if (stranger && h->n_stranger >= h->max_stranger) {
		*why = ESPGW_DROP_NEIGH_QUOTA;
		return NULL;
	}
	/* The rest of the table is the operator's (neigh_oper.c). */
	e = h->n_dyn < ESPGW_NEIGH_SPARE ? espgw_route_neigh_add(h->route, port, ip) : NULL;
	if (e == NULL) {
		*why = ESPGW_DROP_NEIGH_TABLE_FULL;
		return NULL;
	}
	nb_of(h, e)->stranger = stranger;
	h->n_stranger += stranger;
	h->n_dyn++;
	return e;
}

/* A stranger's entry is gone: its room in the share is free again. */
void
nb_share_release(struct espgw_host *h, struct nb *nb)
{
	if (!nb->stranger)
		return;
	nb->stranger = false;
	h->n_stranger--;
}

/*
 * Is an entry for m, leaving by hop, made on the unprotected side's behalf?
 * A frame from an unprotected port is (an inbound bypass), and so is what
 * the gateway itself sends out of one (it has no port: its replies and
 * errors answer whoever is out there, spoofed or not). A LAN host's packet
 * is not, nor a decrypted one (no frame left: its SA authenticated it).
 */
static bool
for_stranger(const struct espgw_host *h, const struct rte_mbuf *m, const struct espgw_l2_hop *hop)
{
	int port = host_port_of(h, m);

	if (m->l2_len == 0)
		return false;
	if (port < 0)
		return hop->unprotected;
	return h->ports->port[port].role == ESPGW_ROLE_UNPROTECTED;
}

/*
 * The entry a packet for dst waits on: the route's next hop (the entry
 * itself once dst is in the table), or for an on-link destination (the
 * route's shared miss hop) an entry for dst, made now within the table's
 * spare slots.
 */
static struct espgw_l2_hop *
entry_for(struct espgw_host *h, const struct espgw_l2_hop *hop, const struct espgw_ip *dst,
		bool stranger, enum espgw_drop *why)
{
	const struct espgw_ip *ip = hop->kind == ESPGW_HOP_OWN ? dst : &hop->ip;
	struct espgw_l2_hop *e = espgw_route_neigh_find(h->route, hop->port_idx, ip);

	*why = ESPGW_DROP_NEIGH_TABLE_FULL;
	if (e != NULL || hop->kind != ESPGW_HOP_OWN)
		return e;
	/*
	 * Never resolved like a host (RFC 1812 5.3.5.2: a directed broadcast is
	 * not forwarded). The workers drop such destinations first
	 * (espgw_input.h); this holds whatever reaches here.
	 */
	if (host_subnet_bcast(h, dst)) {
		*why = ESPGW_DROP_BCAST_MCAST_DST;
		return NULL;
	}
	return dyn_add(h, hop->port_idx, dst, stranger, why);
}

static void
resolve_start(struct espgw_host *h, struct nb *nb, struct espgw_l2_hop *e, uint64_t now)
{
	nb->hop = e;
	nb->state = NB_INCOMPLETE;
	nb->tries = 1;
	solicit(h, e, false);
	nb_timer_arm(h, nb, now + h->conf.retrans_ms);
}

/*
 * A packet whose next hop a worker found unresolved (L3 at m->l2_len), on
 * the port it chose. The routes may have changed since: the packet leaves by
 * that port or not at all. Which port a packet may leave by is the data
 * path's decision (a decrypted packet bound for an unprotected port crosses
 * the outbound SPD first, a LAN packet was classified for its egress): the
 * control path only finds the MAC, it never sends a packet elsewhere.
 */
void
neigh_output(struct espgw_host *h, struct rte_mbuf *m, uint16_t port, uint64_t now)
{
	const struct espgw_l2_hop *hop;
	struct espgw_l2_hop *e;
	enum espgw_drop why;
	struct espgw_ip dst;
	struct nb *nb;

	host_ip_of(m, m->l2_len, false, &dst);
	hop = espgw_route_lookup(h->route, &dst);
	if (hop == NULL || hop->local) {
		host_drop(h, m, hop == NULL ? ESPGW_DROP_NO_ROUTE : ESPGW_DROP_LOCAL_UNHANDLED);
		return;
	}
	if (hop->port_idx != port) {
		host_drop(h, m, ESPGW_DROP_ROUTE_CHANGED);
		return;
	}
	/* Resolved since the worker looked: send it on. */
	if (espgw_hop_resolved(hop)) {
		host_forward(h, m, hop);
		return;
	}
	e = entry_for(h, hop, &dst, for_stranger(h, m, hop), &why);
	if (e == NULL) {
		host_drop(h, m, why);
		return;
	}
	if (espgw_hop_resolved(e)) {
		host_forward(h, m, e);
		return;
	}
	nb = nb_of(h, e);
	enqueue(h, nb, m);
	if (nb->state == NB_IDLE)
		resolve_start(h, nb, e, now);
}

void
nb_release(struct espgw_host *h, struct nb *nb, const struct espgw_l2_hop *e)
{
	struct rte_mbuf **q = nb_queue(h, nb);
	uint16_t i, n = nb->qn;

	h->st.pending -= n;
	nb->qn = 0;
	for (i = 0; i < n; i++) {
		host_count(h, ESPGW_HOST_RELEASED);
		host_forward(h, q[i], e);
	}
}

/* Publish mac for e in state st (REACHABLE, or STALE: due for a probe now). */
static void
nb_set(struct espgw_host *h, struct nb *nb, struct espgw_l2_hop *e,
		const struct rte_ether_addr *mac, uint8_t st, uint64_t now)
{
	espgw_hop_publish(e, mac);
	nb->hop = e;
	nb->state = st;
	nb->tries = 0;
	nb->confirmed = now;
	nb_timer_arm(h, nb, st == NB_REACHABLE ? now + h->conf.reachable_ms : now);
	nb_release(h, nb, e);
}

/* A request of ours is out, so an answer is "solicited" (RFC 4861 7.2.5). */
static bool
nb_asked(const struct nb *nb)
{
	return nb->state == NB_INCOMPLETE || nb->state == NB_PROBE;
}

/*
 * The answer to our request (RFC 4861 7.2.5, solicited): it fills an
 * INCOMPLETE entry and confirms a probed one. Without the override flag a
 * different MAC is not taken; an answer without one (an NA to a unicast
 * probe may omit it, RFC 4861 7.2.4) confirms the MAC we have.
 */
static void
learn_answer(struct espgw_host *h, struct nb *nb, struct espgw_l2_hop *e, const struct nb_news *n,
		uint64_t now)
{
	struct rte_ether_addr mac;

	if (nb->state == NB_INCOMPLETE) {
		if (!n->has_mac)
			return; /* RFC 4861 7.2.5: nothing to resolve with */
		host_count(h, ESPGW_HOST_RESOLVED);
		neigh_log_resolved(h, e, &n->mac, now);
		nb_set(h, nb, e, &n->mac, NB_REACHABLE, now);
		return;
	}
	espgw_hop_dst(e, &mac);
	if (n->has_mac && !rte_is_same_ether_addr(&mac, &n->mac)) {
		if (!n->override) {
			host_count(h, ESPGW_HOST_UNSOL_REFUSED);
			return;
		}
		neigh_log_moved(h, e, &mac, &n->mac, now);
		mac = n->mac;
	}
	nb_set(h, nb, e, &mac, NB_REACHABLE, now);
}

/* May unsolicited news replace the MAC of e? (the caller knows it differs) */
static bool
unsolicited_ok(const struct espgw_host *h, const struct nb *nb, const struct espgw_l2_hop *e,
		uint64_t now)
{
	/* "neighbor add": the operator's word, never learned over. */
	if (e->kind == ESPGW_HOP_STATIC)
		return false;
	/* No MAC yet: only the answer to our own request fills it. */
	if (!espgw_hop_resolved(e) || nb->state == NB_IDLE)
		return false;
	/* Linux's locktime: a spoofer must win every race, not one. */
	return now >= nb->confirmed + h->conf.locktime_ms;
}

/*
 * News nobody asked for: RFC 4861 7.2.3 / 7.2.5 (and RFC 826's merge, which
 * they refine) replace a different MAC and leave the entry STALE, which is
 * probed at once. The same MAC changes nothing.
 */
static void
learn_unsolicited(struct espgw_host *h, struct nb *nb, struct espgw_l2_hop *e,
		const struct nb_news *n, uint64_t now)
{
	struct rte_ether_addr mac;

	espgw_hop_dst(e, &mac);
	if (!n->has_mac || (espgw_hop_resolved(e) && rte_is_same_ether_addr(&mac, &n->mac)))
		return;
	if (!n->override) {
		/* RFC 4861 7.2.5 (a): the MAC stays; a REACHABLE entry becomes STALE. */
		if (nb->state == NB_REACHABLE) {
			nb->state = NB_STALE;
			nb_timer_arm(h, nb, now);
		}
		host_count(h, ESPGW_HOST_UNSOL_REFUSED);
		return;
	}
	if (!unsolicited_ok(h, nb, e, now)) {
		host_count(h, ESPGW_HOST_UNSOL_REFUSED);
		return;
	}
	host_count(h, ESPGW_HOST_UNSOL_APPLIED);
	neigh_log_moved(h, e, &mac, &n->mac, now);
	nb_set(h, nb, e, &n->mac, NB_STALE, now);
}

/*
 * RFC 826: the target of a request enters the requester (RFC 4861 7.2.3: an
 * NS for our address with a source link-layer option), as STALE. Only a
 * station on the port's subnet: no entry for an address we never send to.
 */
static void
learn_new(struct espgw_host *h, uint16_t port, const struct nb_news *n, uint64_t now)
{
	bool stranger = h->ports->port[port].role == ESPGW_ROLE_UNPROTECTED;
	struct espgw_l2_hop *e;
	enum espgw_drop why;

	if (!n->to_us || !n->has_mac || !host_on_link(h, port, &n->ip))
		return;
	e = dyn_add(h, port, &n->ip, stranger, &why);
	if (e == NULL) {
		host_count(h, ESPGW_HOST_UNSOL_REFUSED);
		return;
	}
	host_count(h, ESPGW_HOST_UNSOL_APPLIED);
	neigh_log_resolved(h, e, &n->mac, now);
	nb_set(h, nb_of(h, e), e, &n->mac, NB_STALE, now);
}

/* An ARP or ND message told us something about a neighbor on this port. */
void
neigh_learn(struct espgw_host *h, uint16_t port, const struct nb_news *n, uint64_t now)
{
	struct espgw_l2_hop *e = espgw_route_neigh_find(h->route, port, &n->ip);
	struct nb *nb;

	if (e == NULL) {
		learn_new(h, port, n, now);
		return;
	}
	if (e->kind == ESPGW_HOP_OWN)
		return;
	nb = nb_of(h, e);
	if (n->answer && e->kind != ESPGW_HOP_STATIC && nb_asked(nb))
		learn_answer(h, nb, e, n, now);
	else
		learn_unsolicited(h, nb, e, n, now);
}

/* No answer: waiting packets are dropped; dynamic entries go, others lose their MAC. */
static void
resolve_fail(struct espgw_host *h, struct nb *nb, uint64_t now)
{
	struct espgw_l2_hop *e = nb->hop;

	host_count(h, ESPGW_HOST_RESOLVE_FAILED);
	neigh_log_failed(h, e, nb->tries, nb->qn, now);
	queue_drop(h, nb, ESPGW_DROP_NEIGH_FAILED);
	nb->state = NB_IDLE;
	nb->hop = NULL;
	nb_share_release(h, nb);
	if (e->kind == ESPGW_HOP_DYNAMIC) {
		h->n_dyn--;
		espgw_route_neigh_del(h->route, e);
	} else
		espgw_hop_unpublish(e);
}

static void
nb_expire(struct espgw_host *h, struct nb *nb, uint64_t now)
{
	if (nb->state == NB_REACHABLE || nb->state == NB_STALE) {
		/* Still used while probed: workers keep the MAC until probes fail. */
		nb->state = NB_PROBE;
		nb->tries = 0;
	}
	if (nb->tries >= h->conf.retries) {
		resolve_fail(h, nb, now);
		return;
	}
	solicit(h, nb->hop, nb->state == NB_PROBE);
	nb->tries++;
	nb->deadline = now + h->conf.retrans_ms;
}

void
neigh_timer(struct espgw_host *h, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	unsigned int i;
	struct nb *nb;

	for (i = 0; i < h->n_nb; i++) {
		nb = &h->nb[i];
		if (nb->state != NB_IDLE && nb->deadline <= now)
			nb_expire(h, nb, now);
		if (nb->state != NB_IDLE && nb->deadline < next)
			next = nb->deadline;
	}
	h->next_timer = next;
}
