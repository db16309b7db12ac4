/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: per-lcore state and the poll loop. Each worker owns one RX and
 * one TX queue on every port, one crypto queue pair per device, its burst
 * buffers and its counters, and the replay windows of the inbound SAs dealt
 * to it (ESP of the others' SAs goes to them: struct espgw_handoff); it reads
 * only the tables published to it.
 */
#ifndef ESPGW_DP_H
#define ESPGW_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "espgw_capture.h"
#include "espgw_esp.h"
#include "espgw_frag.h"
#include "espgw_fragstate.h"
#include "espgw_host.h"
#include "espgw_input.h"
#include "espgw_port.h"
#include "espgw_route.h"
#include "espgw_sad.h"
#include "espgw_spd.h"
#include "espgw_stats.h"

#define ESPGW_BURST_MAX 256

/*
 * Everything a worker reads; built by the control plane and replaced as a
 * whole: the control path publishes a new version by one pointer
 * (espgw_worker.tables), each worker takes it at the start of a loop and
 * reports a quiescent state at the next (DESIGN.md: RCU publish), so a
 * worker never sees half a change (both SPDs and the SAs they name go
 * together). What is not replaced here changes under readers by its own
 * rules (SAD: rte_ipsec_sad's concurrent readers; neighbors: espgw_route.h).
 */
struct espgw_tables {
	const struct espgw_spd *spd_out;
	const struct espgw_spd *spd_in;
	const struct espgw_route *route;
	const struct espgw_sad *sad;
	const struct espgw_ports *ports;
	const struct espgw_input *input; /* the gateway's addresses, for the input rules */
	/* [sad->cap], by slot: the largest inner packet each outbound SA carries. */
	const uint16_t *sa_mtu;
	/* [sad->cap], by slot: TCP MSS clamp (esp.mss), NULL while no SA clamps. */
	const uint16_t *sa_mss;
	const struct espgw_reasm_peers *reasm_peers; /* whose outer fragments are taken */
};

/*
 * A worker's request for a declared SA (lib/dp/acquire.c): the SA's slot and
 * the selectors of the packet that needs it. Ring elements (rte_ring_elem).
 */
struct espgw_acquire {
	uint32_t slot;
	uint8_t family; /* 4 or 6 */
	uint8_t proto;
	uint16_t sport, dport; /* host order; ICMP: type and code */
	uint8_t src[16], dst[16];
	uint8_t pad[4];
};
#define ESPGW_ACQUIRE_RING 1024

struct espgw_rxq {
	struct rte_ether_addr mac; /* the port's: frames for other stations are dropped */
	uint16_t port_id;
	uint16_t queue;
	uint16_t port_idx;
	uint8_t role; /* enum espgw_port_role */
};

struct espgw_txbuf {
	uint16_t n;
	struct rte_mbuf *m[ESPGW_BURST_MAX];
};

/*
 * What the workers count beyond struct espgw_lcore_stats: packets they made
 * (fragments, the control path's injected packets) or merged (reassembly),
 * the expired packets passed on for an ICMP error, the ESP packets one
 * worker handed to another (the SA's owner) and those waiting in an owner's
 * order windows (order.c). With them every packet is accounted for over the
 * sum of the workers (struct espgw_dp_sum):
 *   rx + created = tx + drops + to_ctl + absorbed + pending
 * and per worker: rx + created + handed_in = tx + drops + to_ctl + absorbed +
 * pending + handed_out, with that worker's reassembly table and windows
 * (order_in - order_out) as its pending. The counters before REASM_FRAGS are
 * the worker's own (w->dp); the REASM_* ones are kept by its reassembly table.
 */
#define ESPGW_DP_COUNTER_LIST(X)                                                                  \
	X(INJECTED, "injected", "packets from the control path into the outbound path")           \
	X(FRAGMENTED, "fragmented",                                                               \
			"DF-clear packets fragmented (before encryption, or to fit a port)")      \
	X(FRAGMENTS, "fragments", "fragments made of them (each its own ESP packet in a tunnel)") \
	X(TTL_REPORTS, "ttl_reports", "expired packets (ttl_exceeded drops) passed on for ICMP")  \
	X(HANDED_OUT, "handed_out", "ESP packets handed to the worker that owns their SA")        \
	X(HANDED_IN, "handed_in",                                                                 \
			"ESP packets taken from other workers (processed, or at shutdown "        \
			"dropped)")                                                               \
	X(ACQUIRE_LOST, "acquire_lost",                                                           \
			"requests for a declared SA lost (the control path's ring was full)")     \
	X(ORDER_IN, "order_in", "packets of seq-order strict SAs put in their owner's window")    \
	X(ORDER_OUT, "order_out",                                                                 \
			"of them: taken out in sequence number order (or dropped at stop)")       \
	X(NAT_KEEPALIVE, "nat_keepalives",                                                        \
			"NAT keepalives received (RFC 3948 2.3: one 0xff byte in UDP), absorbed") \
	X(REASM_FRAGS, "reasm_fragments", "outer ESP fragments taken for reassembly")             \
	X(REASSEMBLED, "reassembled", "outer ESP packets reassembled from them")                  \
	X(REASM_MERGED, "reasm_merged", "fragments those packets were made of")                   \
	X(REASM_FREED, "reasm_freed", "fragments given up (counted as drops)")                    \
	X(REASM_EVICTED, "reasm_evicted",                                                         \
			"of them: given up early to make room (table nearly full, or their "      \
			"peer at its share)")                                                     \
	X(REASM_PEER_FULL, "reasm_peer_full",                                                     \
			"of them: refused, their peer held its share of the table")

enum espgw_dp_counter {
#define X(id, name, help) ESPGW_DP_##id,
	ESPGW_DP_COUNTER_LIST(X)
#undef X
			ESPGW_DP_MAX
};

struct espgw_dp_sum {
	uint64_t c[ESPGW_DP_MAX];
	uint64_t created;  /* injected + fragments - fragmented */
	uint64_t absorbed; /* reasm_merged - reassembled: fragments that became part of another */
	/* Fragments waiting in the reassembly tables, packets in the hand-off rings. */
	uint64_t pending;
};

/*
 * The hand-off (DESIGN.md, SA ownership; VPP's handoff): ESP of an inbound SA
 * that another worker owns goes to that worker through a ring, after the SAD
 * lookup and before the replay check. One single-producer/single-consumer
 * ring per ordered pair of workers: no worker ever waits for another (on a
 * multi-producer ring a producer spins behind one preempted mid-enqueue).
 * Empty (NULL, 0) with one worker.
 */
#define ESPGW_HANDOFF_RING 1024 /* slots per ring (one stays free: 1023 packets) */

struct espgw_handoff {
	struct rte_ring **to;	/* [n workers]: the ring to worker i; NULL at its own index */
	struct rte_ring **from; /* [n_from]: the rings from the other workers, polled every loop */
	uint16_t n_from;
};

struct espgw_worker {
	struct espgw_lcore_stats stats; /* first: its own cache lines */
	struct espgw_esp_lcore esp;
	const struct espgw_tables *t;		  /* this loop's version of *tables */
	const struct espgw_tables *const *tables; /* the published version */
	/* "stats clear": the control path raises clear_req, the worker zeroes its own counters. */
	const volatile uint32_t *clear_req;
	uint32_t clear_seen;
	const volatile bool *quit; /* set by the control loop on SIGINT/SIGTERM */
	struct rte_ring *ctl;	   /* packets for the control path (ARP, ICMP to us, ...) */
	struct rte_ring *acquire;  /* struct espgw_acquire for the control path (MP) */
	struct rte_ring *inject;   /* worker 0: the control path's packets for the outbound path */
	struct espgw_reasm *reasm; /* outer ESP fragments addressed to the gateway */
	struct espgw_fragstate *frags; /* first fragments' verdicts (RFC 4301 7.3) */
	struct espgw_handoff ho;       /* ESP of SAs other workers own goes to them */
	struct rte_rcu_qsbr *qsv;      /* quiescent state reported once per loop (neighbor aging) */
	const struct espgw_capture *cap; /* espgwctl capture; NULL: none can be started */
	struct espgw_capture_lcore capl; /* this worker's copies for it, and their counters */
	uint32_t cap_target;		 /* cap->target, read once per loop */
	uint64_t now;			 /* TSC at the start of this loop iteration */
	uint64_t dp[ESPGW_DP_MAX];	 /* enum espgw_dp_counter (REASM_* are kept by reasm) */
	uint16_t burst;
	uint16_t txq;
	uint16_t n_rxq;
	unsigned int lcore_id;
	unsigned int idx;
	struct espgw_rxq rxq[ESPGW_MAX_PORTS];
	struct espgw_txbuf tx[ESPGW_MAX_PORTS];
	/* seq-order strict (order.c): the other workers' packets of its SAs to the owner. */
	struct espgw_handoff ord;
	uint16_t *ord_cnt; /* [max-sa + 1] by slot: numbers this batch will take (order.c) */
	uint16_t ord_pend[RTE_MAX_LCORE]; /* by owner: packets this batch puts in its ring */
} __rte_cache_aligned;

/* rte_eal_remote_launch entry point; arg is a struct espgw_worker. */
int espgw_worker_main(void *arg);
/*
 * Worker 0, after the workers stopped, from the main lcore: what the control
 * path queued for it since (frames for ports without a control TX queue,
 * packets for the outbound path) is sent on its TX queue or counted
 * (ctl_tx_lost, shutdown drops), never dropped silently.
 */
void espgw_worker_drain_ctl(struct espgw_worker *w);

/*
 * The hand-off rings between the n workers (none for one worker), ring_size
 * slots each (a power of two), on the socket of the worker that polls them:
 * one set for inbound ESP (ho), one for seq-order strict SAs (ord).
 */
int espgw_handoff_create(struct espgw_worker *const w[], unsigned int n, unsigned int ring_size,
		struct espgw_err *err);
/* Frees the rings (drained first: espgw_worker_drain_handoff). */
void espgw_handoff_free(struct espgw_worker *const w[], unsigned int n);
/*
 * After every worker stopped, from the main lcore: what other workers handed
 * to w and w never took is freed and counted (handed_in, shutdown drops,
 * errors of the SA).
 */
void espgw_worker_drain_handoff(struct espgw_worker *w);
/*
 * The same for the order rings to w and the order windows of the SAs w
 * owns (order.c): freed and counted (shutdown drops, errors of the SA).
 */
void espgw_worker_drain_order(struct espgw_worker *w, const struct espgw_sad *sad);

/* Sum over the workers (reassembly tables and hand-off rings included). */
void espgw_dp_sum(struct espgw_worker *const w[], unsigned int n, struct espgw_dp_sum *s);
const char *espgw_dp_counter_name(enum espgw_dp_counter c);
/* The human section and the JSON member ("dataplane": {...}) of the stats output. */
void espgw_dp_stats_print(struct espgw_worker *const w[], unsigned int n, FILE *f);
void espgw_dp_stats_json(struct espgw_worker *const w[], unsigned int n, FILE *f);
/* /espgw/dp for dpdk-telemetry.py (one instance per process). */
int espgw_dp_telemetry_register(struct espgw_worker *const w[], unsigned int n);

#endif
