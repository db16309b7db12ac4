/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Completion of cryptodev work: dequeue this worker's queue pair on every
 * device, whatever is ready (never wait for a full burst: that would strand
 * the tail of a flow), count failed operations, group the rest by session
 * and finish them in their direction. And, at shutdown, the drain.
 */
#include <rte_cryptodev.h>
#include <rte_cycles.h>
#include <rte_ipsec.h>

#include "esp_int.h"

static struct espgw_sa_rt *
op_sa(const struct rte_crypto_op *op)
{
	return espgw_sa_rt_of(rte_ipsec_ses_from_crypto(op));
}

/*
 * A failed op never reaches rte_ipsec_pkt_process: an inbound ICV mismatch
 * is auth_fail (the replay windows are only committed in espgw_esp_inb_finish,
 * so they do not move), anything else crypto_error. Returns the good ops,
 * compacted.
 */
static uint16_t
ops_split_failed(struct espgw_esp_lcore *l, struct rte_crypto_op *cop[], uint16_t n)
{
	const struct espgw_sa_rt *sa;
	enum espgw_drop why;
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (cop[i]->status == RTE_CRYPTO_OP_STATUS_SUCCESS) {
			cop[k++] = cop[i];
			continue;
		}
		sa = op_sa(cop[i]);
		why = sa->dir == ESPGW_DIR_IN && cop[i]->status == RTE_CRYPTO_OP_STATUS_AUTH_FAILED
				      ? ESPGW_DROP_AUTH_FAIL
				      : ESPGW_DROP_CRYPTO_ERROR;
		espgw_esp_drop(l, sa, &cop[i]->sym->m_src, 1, why);
		espgw_esp_ops_free(l, &cop[i], 1);
	}
	return k;
}

static void
ops_finish(struct espgw_esp_lcore *l, struct rte_crypto_op *cop[], uint16_t n,
		struct rte_mbuf *out[], uint16_t *n_out, struct rte_mbuf *in[], uint16_t *n_in)
{
	struct rte_mbuf *mb[ESPGW_ESP_BURST_MAX];
	struct rte_ipsec_group grp[ESPGW_ESP_BURST_MAX];
	struct espgw_sa_rt *sa;
	uint16_t i, ng;

	n = ops_split_failed(l, cop, n);
	if (n == 0)
		return;
	ng = rte_ipsec_pkt_crypto_group((const struct rte_crypto_op **)(uintptr_t)cop, mb, grp, n);
	espgw_esp_ops_free(l, cop, n);
	for (i = 0; i < ng; i++) {
		sa = espgw_sa_rt_of(grp[i].id.ptr);
		if (sa->dir == ESPGW_DIR_OUT)
			*n_out += espgw_esp_outb_finish(l, sa, grp[i].m, grp[i].cnt, out + *n_out);
		else
			*n_in += espgw_esp_inb_finish(l, sa, grp[i].m, grp[i].cnt, in + *n_in);
	}
}

void
espgw_esp_poll(struct espgw_esp_lcore *l, struct rte_mbuf *out[], uint16_t *n_out,
		struct rte_mbuf *in[], uint16_t *n_in, uint16_t max)
{
	struct rte_crypto_op *cop[ESPGW_ESP_BURST_MAX];
	uint16_t room, nb;
	unsigned int d;

	*n_out = 0;
	*n_in = 0;
	for (d = 0; d < l->crypto->n_devs && l->inflight != 0; d++) {
		/* Each op yields at most one packet, in either direction. */
		room = max - RTE_MAX(*n_out, *n_in);
		room = RTE_MIN(room, ESPGW_ESP_BURST_MAX);
		if (room == 0)
			return;
		nb = rte_cryptodev_dequeue_burst(l->crypto->dev_id[d], l->qp, cop, room);
		l->inflight -= nb;
		ops_finish(l, cop, nb, out, n_out, in, n_in);
	}
}

static void
drain_ops(struct espgw_esp_lcore *l, struct rte_crypto_op *cop[], uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		espgw_esp_drop(l, op_sa(cop[i]), &cop[i]->sym->m_src, 1, ESPGW_DROP_SHUTDOWN);
	espgw_esp_ops_free(l, cop, n);
}

/* Bounded: a device that never completes must not hang the shutdown. */
#define DRAIN_WAIT_MS 1000

void
espgw_esp_drain(struct espgw_esp_lcore *l)
{
	struct rte_crypto_op *cop[ESPGW_ESP_BURST_MAX];
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * DRAIN_WAIT_MS / 1000;
	uint16_t nb;
	unsigned int d;

	while (l->inflight != 0 && rte_get_timer_cycles() < end) {
		for (d = 0; d < l->crypto->n_devs; d++) {
			nb = rte_cryptodev_dequeue_burst(
					l->crypto->dev_id[d], l->qp, cop, ESPGW_ESP_BURST_MAX);
			l->inflight -= nb;
			drain_ops(l, cop, nb);
		}
	}
}
