/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture from inside espgw (espgwctl capture; README "Packet capture"):
 * workers copy what a capture selects into a per-worker single-producer ring
 * and go on; the control thread drains the rings and writes pcapng. A worker
 * never waits: the copies come from a pool of fixed size (the budget), and
 * when the pool or its ring is full the packet is counted in
 * capture_dropped and forwarded as ever. The original mbuf is only read.
 *
 * What is captured is published like the other tables: the control thread
 * writes cap->target, a worker reads it once per burst (espgw_capture_want).
 */
#ifndef ESPGW_CAPTURE_H
#define ESPGW_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

#include <rte_bpf.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

/* target: nothing, a port's RX and TX (index), or an SA's plaintext (slot). */
#define ESPGW_CAPTURE_OFF     UINT32_MAX
#define ESPGW_CAPTURE_SA_FLAG (1u << 31)

struct espgw_capture {
	uint32_t target; /* written by the control thread, read once per burst */
	uint32_t snaplen;
	struct rte_mempool *pool; /* the budget: copies in flight at most */
	struct rte_bpf *filter;	  /* NULL: every packet; set before target, freed after it */
};

/* Per worker: its ring (single producer: this worker; single consumer: control). */
struct espgw_capture_lcore {
	struct rte_ring *ring;
	uint64_t captured;
	uint64_t dropped; /* capture_dropped: no copy or no room; the packet went on */
};

/* The target of this burst (one relaxed-acquire load). */
static inline uint32_t
espgw_capture_want(const struct espgw_capture *cap)
{
	return __atomic_load_n(&cap->target, __ATOMIC_ACQUIRE);
}

/*
 * Copies of m[0..n) (RX or TX of port_id/queue) into c's ring; never blocks,
 * never changes m. Returns how many were queued.
 */
uint16_t espgw_capture_burst(const struct espgw_capture *cap, struct espgw_capture_lcore *c,
		uint16_t port_id, uint32_t queue, struct rte_mbuf *const m[], uint16_t n, bool rx);

/* Control side. */
/* --filter EXPR (pcap syntax) for the workers; NULL with msg on error. Free: rte_bpf_destroy. */
struct rte_bpf *espgw_capture_filter_load(const char *expr, char *msg, size_t len);
int espgw_capture_create(struct espgw_capture *cap, struct espgw_capture_lcore *const c[],
		unsigned int n_lcores, unsigned int budget, int socket);
void espgw_capture_free(struct espgw_capture *cap, struct espgw_capture_lcore *const c[],
		unsigned int n_lcores);

/* Free what the rings still hold (after a capture ended). */
void espgw_capture_flush(struct espgw_capture_lcore *const c[], unsigned int n_lcores);

struct espgw_capture_file;

/*
 * pcapng into fd, an open file a client passed on the control socket (so that
 * espgw, root, never opens a path a client names): a regular file, open for
 * writing and empty. The result owns fd; on NULL fd is closed and *why says
 * what was wrong with it.
 */
struct espgw_capture_file *espgw_capture_file_fdopen(int fd, const char **why);
/*
 * Dequeue what the workers queued and write it, up to limit packets in all
 * (0: no limit); returns the packets written by this call, -1 on a write error.
 */
int espgw_capture_file_drain(struct espgw_capture_file *f, struct espgw_capture_lcore *const c[],
		unsigned int n_lcores, uint64_t limit);
uint64_t espgw_capture_file_written(const struct espgw_capture_file *f);
void espgw_capture_file_close(struct espgw_capture_file *f);

#endif
