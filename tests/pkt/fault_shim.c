/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto faults for the fail-closed tests (test_failclosed.py). Linked into a
 * second build of espgw, espgw-fault, never into espgw itself: the linker
 * sends espgw's calls of rte_cryptodev_start() here (-Wl,--wrap), and once a
 * device has started its fast-path functions (rte_crypto_fp_ops, the table
 * rte_cryptodev_enqueue/dequeue_burst call through) are wrapped. DPDK has no
 * fault-injecting cryptodev, and a real one fails only on broken input that
 * rte_ipsec never builds. ESPGW_FAULT_CRYPTO selects, comma-separated:
 *
 *   error:N  every Nth op never reaches the device: it comes back from the
 *            next dequeue untouched (plaintext still in place, an ESP header
 *            already written by rte_ipsec) with RTE_CRYPTO_OP_STATUS_ERROR,
 *            the worst a failing device can do;
 *   full:N   an enqueue takes at most N ops (a queue that is always nearly full).
 *
 * Each worker owns its queue pair (espgw_crypto.h), so the side queue of a
 * queue pair is touched by one lcore only.
 *
 * SPD builds fail too (rte_acl_build, also wrapped) while the file named by
 * ESPGW_FAULT_ACL exists: a publication that runs out of memory after its
 * transactions were accepted (test_live.py, the retry with backoff).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_acl.h>
#include <rte_cryptodev.h>

#define SIDE_MAX 4096 /* failed ops waiting for the next dequeue, per queue pair */
#define QPS_MAX	 64

struct side {
	void *qp; /* the PMD's queue pair, NULL: free slot */
	uint8_t dev;
	uint64_t seen; /* ops offered to enqueue */
	unsigned int head, tail;
	struct rte_crypto_op *op[SIDE_MAX];
};

static struct {
	unsigned int error_every; /* 0: off */
	unsigned int max_enq;	  /* 0: no limit */
	enqueue_pkt_burst_t enq[RTE_CRYPTO_MAX_DEVS];
	dequeue_pkt_burst_t deq[RTE_CRYPTO_MAX_DEVS];
	struct side q[QPS_MAX];
	unsigned int n_q;
} fault;

int __real_rte_cryptodev_start(uint8_t dev_id);
int __wrap_rte_cryptodev_start(uint8_t dev_id);
int __real_rte_acl_build(struct rte_acl_ctx *ctx, const struct rte_acl_config *cfg);
int __wrap_rte_acl_build(struct rte_acl_ctx *ctx, const struct rte_acl_config *cfg);

int
__wrap_rte_acl_build(struct rte_acl_ctx *ctx, const struct rte_acl_config *cfg)
{
	const char *flag = getenv("ESPGW_FAULT_ACL");

	if (flag != NULL && access(flag, F_OK) == 0)
		return -ENOMEM;
	return __real_rte_acl_build(ctx, cfg);
}

static struct side *
side_of(void *qp)
{
	unsigned int i;

	for (i = 0; i < fault.n_q; i++)
		if (fault.q[i].qp == qp)
			return &fault.q[i];
	abort(); /* every queue pair was registered at start */
}

/* Hand the run [0, n) to the device; true when it took all of it. */
static bool
run_enqueue(struct side *s, struct rte_crypto_op **ops, uint16_t n, uint16_t *taken)
{
	uint16_t k = n == 0 ? 0 : fault.enq[s->dev](s->qp, ops, n);

	*taken += k;
	return k == n;
}

static bool
side_put(struct side *s, struct rte_crypto_op *op)
{
	if (s->tail - s->head == SIDE_MAX)
		return false;
	op->status = RTE_CRYPTO_OP_STATUS_ERROR;
	s->op[s->tail++ % SIDE_MAX] = op;
	return true;
}

/* The caller's ops[0, result) are taken, in order, as the enqueue contract says. */
static uint16_t
enqueue(void *qp, struct rte_crypto_op **ops, uint16_t nb_ops)
{
	struct side *s = side_of(qp);
	uint16_t i, start = 0, taken = 0;

	if (fault.max_enq != 0 && nb_ops > fault.max_enq)
		nb_ops = (uint16_t)fault.max_enq;
	for (i = 0; i < nb_ops; i++) {
		if (fault.error_every == 0 || ++s->seen % fault.error_every != 0)
			continue;
		if (!run_enqueue(s, ops + start, i - start, &taken) || !side_put(s, ops[i]))
			return taken;
		taken++;
		start = i + 1;
	}
	run_enqueue(s, ops + start, nb_ops - start, &taken);
	return taken;
}

static uint16_t
dequeue(void *qp, struct rte_crypto_op **ops, uint16_t nb_ops)
{
	struct side *s = side_of(qp);
	uint16_t n = fault.deq[s->dev](qp, ops, nb_ops);

	while (n < nb_ops && s->head != s->tail)
		ops[n++] = s->op[s->head++ % SIDE_MAX];
	return n;
}

static unsigned int
env_num(const char *spec, const char *key)
{
	const char *p = strstr(spec, key);

	return p != NULL ? (unsigned int)strtoul(p + strlen(key), NULL, 10) : 0;
}

static void
install(uint8_t dev)
{
	struct rte_crypto_fp_ops *fp = &rte_crypto_fp_ops[dev];
	uint16_t q, n = rte_cryptodev_queue_pair_count(dev);

	for (q = 0; q < n && fault.n_q < QPS_MAX; q++) {
		fault.q[fault.n_q].qp = fp->qp.data[q];
		fault.q[fault.n_q++].dev = dev;
	}
	fault.enq[dev] = fp->enqueue_burst;
	fault.deq[dev] = fp->dequeue_burst;
	fp->enqueue_burst = enqueue;
	fp->dequeue_burst = dequeue;
	fprintf(stderr,
			"espgw-fault: crypto device %s: error every %u ops, at most %u per "
			"enqueue\n",
			rte_cryptodev_name_get(dev), fault.error_every, fault.max_enq);
}

int
__wrap_rte_cryptodev_start(uint8_t dev_id)
{
	const char *spec = getenv("ESPGW_FAULT_CRYPTO");
	int rc = __real_rte_cryptodev_start(dev_id);

	if (rc != 0 || spec == NULL)
		return rc;
	fault.error_every = env_num(spec, "error:");
	fault.max_enq = env_num(spec, "full:");
	install(dev_id);
	return 0;
}
