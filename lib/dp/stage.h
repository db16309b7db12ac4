/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Burst stages of the worker (internal to lib/dp). Every stage takes a burst
 * and either hands each packet to the next stage or ends its life: freed and
 * counted under a named drop reason, transmitted, or given to the control path.
 */
#ifndef ESPGW_DP_STAGE_H
#define ESPGW_DP_STAGE_H

#include "espgw_dp.h"

static inline void
drop(struct espgw_worker *w, struct rte_mbuf *m, enum espgw_drop reason)
{
	w->stats.drop[reason]++;
	rte_pktmbuf_free(m);
}

static inline void
drop_sa(struct espgw_worker *w, struct rte_mbuf *m, enum espgw_drop reason, uint32_t sa)
{
	w->stats.sa[sa].errors++;
	drop(w, m, reason);
}

/*
 * Parse each frame (Ethernet + IPv4/IPv6), compact the burst to the IP packets
 * and return their count; proto[i] gets each one's upper protocol. ARP goes to
 * the control path, malformed or other frames are dropped by reason.
 */
uint16_t stage_parse(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, uint8_t proto[]);
/*
 * The first stage of a burst received on q: its link-layer destination, then
 * stage_parse, then the input rules on addresses (espgw_input.h).
 */
uint16_t stage_rx(struct espgw_worker *w, const struct espgw_rxq *q, struct rte_mbuf *m[],
		uint16_t n, uint8_t proto[]);

/*
 * Hand a packet to the control path (data may start at L2 or L3: m->l2_len
 * says) with the reason and, for TOO_BIG, the MTU to report; it never blocks:
 * a full ring is a ctl_full drop.
 */
void stage_ctl_handoff(struct espgw_worker *w, struct rte_mbuf *m, enum espgw_ctl_reason why,
		uint16_t mtu);
/*
 * A parsed packet addressed to the gateway: its IPv6 extension headers are
 * ours to process (pkt_ipv6_local_check); false when they refuse it (dropped).
 */
bool stage_local_ok(struct espgw_worker *w, struct rte_mbuf *m);
/* ARP, or addressed to the gateway (checked by stage_local_ok first). */
void stage_to_ctl(struct espgw_worker *w, struct rte_mbuf *m);

/* A packet for a declared SA asks the control path for the SA (acquire.c). */
void stage_acquire(struct espgw_worker *w, const struct rte_mbuf *m, const struct espgw_sa_rt *rt);

#define STAGE_NO_SA UINT32_MAX
/*
 * TTL / hop limit expired: counted as a ttl_exceeded drop (and an error of sa
 * unless STAGE_NO_SA), and the mbuf passed to the control path to carry the
 * ICMP time exceeded; a full ring loses only the error.
 */
void stage_ttl_expired(struct espgw_worker *w, struct rte_mbuf *m, uint32_t sa);

/* Protected side, parsed (proto[i] from stage_rx or stage_parse): outbound SPD, protect or bypass. */
void stage_outbound(
		struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, const uint8_t proto[]);
/*
 * The control path's packets for the outbound path (espgw_host.h), parsed:
 * as stage_outbound, an ICMP error classified by the packet it quotes.
 */
void stage_outbound_injected(
		struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, const uint8_t proto[]);
/*
 * Packets from the unprotected side (decrypted, or bypassed in clear) that
 * routing sends back out of an unprotected port: through the outbound SPD
 * (their TTL not yet decremented: the outbound path does it).
 */
void stage_outbound_again(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n);
/* Unprotected side, parsed (proto[i] from stage_rx): ESP to us -> decrypt; the rest through the inbound SPD. */
void stage_inbound(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, const uint8_t proto[]);
/*
 * ESP looked up (espgw_esp_inb_lookup: sa[i] is m[i]'s SA): what another
 * worker owns goes to its ring, a full ring drops (handoff_full, an error of
 * the SA). Returns what this worker owns, compacted in m[] and sa[].
 */
uint16_t stage_handoff(
		struct espgw_worker *w, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n);
/* What the other workers handed over: replay check, decryption, as if received here. */
uint16_t stage_handoff_poll(struct espgw_worker *w);
/* Decrypted inner packets (data at L3): RFC 4301 5.2 policy check, then forward. */
void stage_inbound_inner(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n);

/*
 * Decrypted packets that passed their policy check (L3 at offset 0): routed;
 * for the gateway to the control path, else as stage_forward_clear, errors
 * counted on each one's SA.
 */
void stage_forward_inner(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n);
/* ESP results of outbound SAs (lib/esp's contract): routed by their SA's peer. */
void stage_forward_esp(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n);
/*
 * The same for packets whose order on the wire is decided later (order.c):
 * each one that can leave through its next hop as it is gets its link-layer
 * header and its port's index in m->port, and stays in m[]; any other one
 * (for the gateway, a next hop to resolve, too big, no route) goes its usual
 * way at once and m[i] becomes NULL.
 */
void stage_forward_esp_ready(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n);
/* A frame stage_forward_esp_ready made ready, onto this worker's TX queue of m->port. */
void stage_tx_put(struct espgw_worker *w, struct rte_mbuf *m);
/* Route lookup of each packet's L3 destination (L3 at offset m->l2_len). */
void stage_lookup(struct espgw_worker *w, struct rte_mbuf *m[], const struct espgw_l2_hop *hop[],
		uint16_t n);
/* The same, of each packet's source: where the gateway would send a reply. */
void stage_lookup_src(struct espgw_worker *w, struct rte_mbuf *m[],
		const struct espgw_l2_hop *hop[], uint16_t n);
void stage_tx_flush(struct espgw_worker *w);

/*
 * seq-order strict (order.c). Before the numbers are taken: the packets
 * (m[i] for sa[i]) of ordered SAs that their owner's window or the ring to
 * it has no room for are dropped (order_full); returns the rest, compacted.
 */
uint16_t stage_order_admit(
		struct espgw_worker *w, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n);
/* ESP results (as stage_forward_esp): ordered SAs' packets to their owner's window. */
void stage_order_out(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n);
/* The owner: what the other workers encrypted for its ordered SAs, sent in order. */
uint16_t stage_order_poll(struct espgw_worker *w);
/* Does hop leave by an unprotected port (the IPsec boundary's outer side)? */
static inline bool
stage_hop_unprotected(const struct espgw_l2_hop *hop)
{
	return hop != NULL && hop->unprotected;
}

/*
 * A packet in transit after its SPD verdict (hop not local): dropped under
 * why (ESPGW_DROP_MAX = allowed), else TTL decremented and forwarded via hop.
 */
void stage_forward_clear(struct espgw_worker *w, struct rte_mbuf *m, const struct espgw_l2_hop *hop,
		enum espgw_drop why);

#endif
