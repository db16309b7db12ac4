/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP fragmentation and reassembly around ESP, built on DPDK's rte_ip_frag
 * (which does the splitting and the fragment bookkeeping; what is here is the
 * policy around it: which packets, which pools, what is counted).
 *
 * Outbound, RFC 4301 8.1 lets a gateway fragment a DF-clear packet that does
 * not fit the tunnel either before or after encryption. espgw fragments the
 * inner IPv4 packet BEFORE encryption: each fragment then travels as a
 * complete ESP packet of its own, so the peer gateway never reassembles
 * anything (the destination host does) and a lost fragment costs only that
 * fragment's ESP packet. IPv6 is never fragmented in transit (RFC 8200 5):
 * a too-big IPv6 packet gets ICMPv6 "packet too big".
 *
 * Inbound, outer ESP packets addressed to the gateway that a router on the
 * way fragmented are reassembled before SA lookup, in one bounded table per
 * worker (no locks): flows, fragments per packet (RTE_LIBRTE_IP_FRAG_MAX_FRAG)
 * and time are limited, and whatever is given up is counted as a drop.
 * Fragments are taken from the SAs' peers only, and the table cannot be
 * pinned by fragments that never complete: nearly full, it gives up what
 * waited longer than a short pressure timeout; full, its oldest packets; a
 * peer may hold only its share of it (reasm.c says how). Each
 * fragment is copied into a reassembly pool of its own on arrival, so that
 * half-finished packets never hold the RX pool's mbufs (fragments that never
 * complete are a cheap attack); the finished packet is copied back into one
 * segment of the RX pool. Fragments of one packet must reach the same worker:
 * ESP has no ports, so RSS hashes them on the IP addresses alone and they stay
 * together (fragments carry no ports either).
 */
#ifndef ESPGW_FRAG_H
#define ESPGW_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "espgw_addr.h"

/* The most fragments one packet is cut into (an SA MTU of 68 on a 2 KB mbuf needs 43). */
#define ESPGW_FRAG_OUT_MAX 48

/*
 * Fragment the IPv4 packet that starts at m's data (DF clear) into fragments
 * of at most mtu bytes (RFC 791: payloads in multiples of 8), taken from pool
 * as single segments with their header checksum, l3_len and packet_type set
 * (l2_len 0) and m->port kept. Returns the fragment count and frees m, or -1
 * and leaves m to the caller.
 */
int espgw_frag4(struct rte_mbuf *m, uint16_t mtu, struct rte_mempool *pool,
		struct rte_mbuf *out[ESPGW_FRAG_OUT_MAX]);

/*
 * The peers: the addresses outer fragments are taken from (the remote
 * addresses of the inbound SAs). Fragments from anywhere else are dropped
 * before reassembly (reasm_not_peer): nobody else can send ESP that
 * decrypts here, and without this anyone could fill the table. Built once,
 * read by every worker.
 */
struct espgw_reasm_peers;

/* The set of addr[0..n) (duplicates merged) on socket; NULL when out of memory. */
struct espgw_reasm_peers *espgw_reasm_peers_create(
		const struct espgw_ip addr[], unsigned int n, int socket);
void espgw_reasm_peers_free(struct espgw_reasm_peers *p);
/* The same addresses (a new set after an SA change need not replace the old). */
bool espgw_reasm_peers_equal(const struct espgw_reasm_peers *a, const struct espgw_reasm_peers *b);
/* Distinct peers: their indices are 0..count-1. */
unsigned int espgw_reasm_peers_count(const struct espgw_reasm_peers *p);
/* The index of the peer that is the source of the IP header at l3, -1 when none is. */
int espgw_reasm_peer_of(const struct espgw_reasm_peers *p, const uint8_t *l3);

struct espgw_reasm_conf {
	/*
	 * Fragments held at once, per worker (so at most as many packets in
	 * reassembly). From 3/4 of it (the high-water mark) the pressure
	 * timeout applies; at the limit the oldest packets are given up.
	 */
	uint32_t flows;
	uint32_t timeout_ms;  /* from a packet's first fragment to giving it up */
	uint32_t pressure_ms; /* the same from the high-water mark, or for a peer at its share */
	uint32_t pool_size;   /* mbufs of the reassembly pool: at least flows */
};

/* 4096 fragments, 250 ms, 10 ms under pressure, 4608 mbufs. */
void espgw_reasm_conf_default(struct espgw_reasm_conf *c);

/* Every fragment taken is merged, given up (freed) or pending: frags = merged + freed + pending */
struct espgw_reasm_stats {
	uint64_t frags;	    /* outer ESP fragments taken */
	uint64_t pkts;	    /* packets reassembled */
	uint64_t merged;    /* fragments those packets were made of */
	uint64_t freed;	    /* fragments given up, each counted as a drop */
	uint64_t evicted;   /* of them: given up early to make room */
	uint64_t peer_full; /* of them: refused, their peer held its share */
};

struct espgw_reasm;

/*
 * One worker's reassembly state on socket, taking fragments from peers only
 * (which must outlive it). Fragments given up are added to drops[] (the
 * worker's per-reason drop counters): reasm_failed, or shutdown for what
 * espgw_reasm_flush() frees; reasm_not_peer and reasm_too_big for those not
 * taken.
 */
struct espgw_reasm *espgw_reasm_create(const struct espgw_reasm_conf *c,
		const struct espgw_reasm_peers *peers, unsigned int max_peers, const char *name,
		uint64_t *drops, int socket);
/* Frees what is still pending (as espgw_reasm_flush), the table and the pool. */
void espgw_reasm_free(struct espgw_reasm *r);
/*
 * The worker that owns r, when the published peers changed: what is held
 * is given up (reasm_reset: fragments carry their peer's index in the old
 * set), then fragments are taken from peers. At most max_peers peers (the
 * room given at creation).
 */
void espgw_reasm_peers_set(struct espgw_reasm *r, const struct espgw_reasm_peers *peers);

/*
 * Is the parsed packet (pkt_parse: l2_len, l3_len, packet_type, proto) a
 * fragment of an ESP packet? IPv4: by the packet type pkt_parse set (the
 * header is not read again). IPv6: the fragment header must follow the fixed
 * header directly, as rte_ip_frag requires.
 */
bool espgw_reasm_is_esp_frag(const struct rte_mbuf *m, uint8_t proto);

/*
 * Take an ESP fragment (data at L2, l2_len and l3_len set) at time tms (TSC
 * cycles). Returns the reassembled packet in one segment of m's pool, data at
 * the first fragment's L2 header (lengths to be parsed again), or NULL while
 * fragments are missing or when it was given up.
 */
struct rte_mbuf *espgw_reasm_input(struct espgw_reasm *r, struct rte_mbuf *m, uint64_t tms);

/* Give up packets older than the timeout; cheap when nothing is pending. */
void espgw_reasm_tick(struct espgw_reasm *r, uint64_t tms);
/* Give up everything pending (at shutdown), counted as shutdown drops. */
void espgw_reasm_flush(struct espgw_reasm *r);

const struct espgw_reasm_stats *espgw_reasm_stats(const struct espgw_reasm *r);
uint64_t espgw_reasm_pending(const struct espgw_reasm *r);

#endif
