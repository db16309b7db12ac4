/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP burst stages: the only callers of rte_ipsec_pkt_*. Outbound encrypts
 * protect-class packets with the SA their policy named; inbound looks up the SA
 * by SPI, checks anti-replay before decryption and commits it after the ICV
 * verified (espgw's own window, lib/sad/replay.h, on top of rte_ipsec's), and
 * classifies every failure under a named drop reason.
 *
 * Contract (DESIGN.md burst rules):
 *  - Input mbufs start at the Ethernet header with l2_len and l3_len set.
 *  - Outbound output: data starts at the outer IP header (no L2), packet_type
 *    says its family; *espgw_mbuf_sa(m) holds the SA index (the outer
 *    destination is the SA's peer: routed without reading the packet).
 *  - Inbound output: data starts at the inner IP header; *espgw_mbuf_sa(m)
 *    holds the SA index, for the inbound policy check.
 *  - Packets that fail are counted (drop reason + SA errors) and freed here.
 *  - Packets given to the cryptodev come back from espgw_esp_poll(); with the
 *    CPU-crypto path they are completed in the same call.
 */
#ifndef ESPGW_ESP_H
#define ESPGW_ESP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "espgw_crypto.h"
#include "espgw_sad.h"
#include "espgw_stats.h"

#define ESPGW_ESP_BURST_MAX 256

struct espgw_esp_lcore {
	const struct espgw_sad *sad;
	const struct espgw_crypto *crypto;
	uint16_t qp;			 /* this worker's queue pair on every device */
	uint32_t inflight;		 /* ops enqueued and not yet dequeued */
	struct espgw_lcore_stats *stats; /* this worker's counters */
	/* This worker's cache of inbound SAD lookups (esp_sad_cache.h); NULL: none. */
	struct espgw_sad_cache *sadc;
	/* [sad->n]: TCP MSS clamp per SA (0: none), decided at setup; NULL: no SA clamps. */
	const uint16_t *mss;
	/* Several workers: outbound sequence numbers are locked adds (esp_out.c). */
	bool seq_shared;
};

/* A worker's cache of inbound SAD lookups (esp_sad_cache.h), for espgw_esp_lcore.sadc. */
struct espgw_sad_cache *espgw_sad_cache_create(int socket);
void espgw_sad_cache_free(struct espgw_sad_cache *c);

/* m[i] goes out through sa[i] (from the outbound SPD). Returns packets done now in done[]. */
uint16_t espgw_esp_outb(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[],
		uint16_t n, struct rte_mbuf *done[]);
/* m[i] are ESP packets addressed to the gateway. Returns inner packets done now in done[]. */
uint16_t espgw_esp_inb(struct espgw_esp_lcore *l, struct rte_mbuf *m[], uint16_t n,
		struct rte_mbuf *done[]);

/*
 * espgw_esp_inb in two halves, so that the worker can hand a packet to the
 * worker that owns its SA in between (DESIGN.md, SA ownership): the replay
 * window is then only ever checked and committed by one lcore. n is at most
 * ESPGW_ESP_BURST_MAX.
 *
 * The first half, on the lcore that received the packets: length checks and
 * the SAD lookup. Returns the packets of known SAs, compacted in m[], with
 * their SA in sa[] and (lib/esp's business until they leave it) the SA index
 * in the SA mbuf field: espgw_esp_inb_sa_idx() reads it back.
 */
uint16_t espgw_esp_inb_lookup(struct espgw_esp_lcore *l, struct rte_mbuf *m[],
		struct espgw_sa_rt *sa[], uint16_t n);
/*
 * The first half for AH packets (IP protocol 51, RFC 4302) addressed to the
 * gateway: the same SAD, the SPI behind AH's first word. The second half is
 * espgw_esp_inb_owned / _handed, which run each SA group by its protocol.
 */
uint16_t espgw_ah_inb_lookup(struct espgw_esp_lcore *l, struct rte_mbuf *m[],
		struct espgw_sa_rt *sa[], uint16_t n);
/*
 * The first half for ESP to an address that is not the gateway's (only while
 * a bump-in-the-wire transport SA is installed, espgw_sad.n_bitw_in): the
 * packets of such an SA addressed to its local host stay in m[] / sa[] as
 * espgw_esp_inb_lookup leaves them (the count is returned); every other one
 * is transit and goes to rest[] (*n_rest counts), untouched.
 */
uint16_t espgw_esp_inb_bitw(struct espgw_esp_lcore *l, struct rte_mbuf *m[],
		struct espgw_sa_rt *sa[], uint16_t n, struct rte_mbuf *rest[], uint16_t *n_rest);
/* The same for AH (IP protocol 51) through the gateway. */
uint16_t espgw_ah_inb_bitw(struct espgw_esp_lcore *l, struct rte_mbuf *m[],
		struct espgw_sa_rt *sa[], uint16_t n, struct rte_mbuf *rest[], uint16_t *n_rest);
/* The second half, on the SA's owner: replay check, decryption, commit. As espgw_esp_inb. */
uint16_t espgw_esp_inb_owned(struct espgw_esp_lcore *l, struct rte_mbuf *m[],
		struct espgw_sa_rt *sa[], uint16_t n, struct rte_mbuf *done[]);
/* The second half for packets another lcore looked up (their SA from the mbuf field). */
uint16_t espgw_esp_inb_handed(struct espgw_esp_lcore *l, struct rte_mbuf *m[], uint16_t n,
		struct rte_mbuf *done[]);

/* Between the halves the SA mbuf field holds the SA index and the outer ECN (esp_int.h: why). */
#define ESPGW_ESP_IN_ECN_SHIFT 30
#define ESPGW_ESP_IN_IDX_MASK  ((UINT32_C(1) << ESPGW_ESP_IN_ECN_SHIFT) - 1)
static inline uint32_t
espgw_esp_inb_sa_idx(struct rte_mbuf *m)
{
	return *espgw_mbuf_sa(m) & ESPGW_ESP_IN_IDX_MASK;
}

/*
 * Dequeue completed crypto ops (even fewer than a burst) and finish them.
 * Outbound results go to out[] (*n_out), inbound to in[] (*n_in); each array
 * holds up to max entries.
 */
void espgw_esp_poll(struct espgw_esp_lcore *l, struct rte_mbuf *out[], uint16_t *n_out,
		struct rte_mbuf *in[], uint16_t *n_in, uint16_t max);
/* At shutdown: wait for every in-flight op, free its mbuf, count it as shutdown. */
void espgw_esp_drain(struct espgw_esp_lcore *l);

/*
 * TCP MSS clamping of the inner packet at m's L3 (offset m->l2_len): a SYN
 * (or SYN-ACK) whose MSS option exceeds mss gets mss, with the TCP checksum
 * updated (RFC 1624). Returns true when it changed the packet. Applied to a
 * whole SA group: outbound before encryption, inbound after decryption.
 */
bool espgw_mss_clamp(struct rte_mbuf *m, uint16_t mss);
void espgw_mss_clamp_burst(struct rte_mbuf *m[], uint16_t n, uint16_t mss);

#endif
