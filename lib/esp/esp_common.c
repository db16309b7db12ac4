/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers of both directions: grouping a burst by SA (rte_ipsec processes
 * one SA per call), dropping with counters, returning crypto ops.
 */
#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_ipsec.h>
#include <rte_mempool.h>

#include "esp_int.h"

#define GRP_TAB_SIZE 512 /* a power of two above ESPGW_ESP_BURST_MAX: probing ends */
#define GRP_FREE     UINT16_MAX

/* An SA's slot in the burst's group table: multiplicative hash of the (aligned) pointer. */
static inline uint32_t
grp_hash(const struct espgw_sa_rt *sa)
{
	return (uint32_t)(((uintptr_t)sa >> 6) * UINT64_C(0x9E3779B97F4A7C15) >> 55);
}

/*
 * The group of sa: the last one first (bursts carry runs of one SA), else the
 * table (open addressing), so that a burst of many SAs (1,000 tunnels) costs
 * a probe per packet instead of a search through every group so far.
 */
static uint16_t
group_of(struct espgw_esp_grp g[], uint16_t *ng, uint16_t last, struct espgw_sa_rt *sa,
		uint16_t tab[GRP_TAB_SIZE])
{
	uint32_t h;

	if (*ng != 0 && g[last].sa == sa)
		return last;
	for (h = grp_hash(sa); tab[h] != GRP_FREE; h = (h + 1) & (GRP_TAB_SIZE - 1))
		if (g[tab[h]].sa == sa)
			return tab[h];
	tab[h] = *ng;
	g[*ng].sa = sa;
	g[*ng].cnt = 0;
	return (*ng)++;
}

/* The whole burst of one SA (one tunnel, an elephant flow): nothing to partition. */
static bool
group_single(struct rte_mbuf *const m[], struct espgw_sa_rt *const sa[], uint16_t n,
		struct rte_mbuf *out[], struct espgw_esp_grp g[])
{
	uint16_t i;

	for (i = 1; i < n; i++)
		if (sa[i] != sa[0])
			return false;
	memcpy(out, m, n * sizeof(m[0]));
	g[0].sa = sa[0];
	g[0].cnt = n;
	return true;
}

uint16_t
espgw_esp_group(struct rte_mbuf *const m[], struct espgw_sa_rt *const sa[], uint16_t n,
		struct rte_mbuf *out[], struct espgw_esp_grp g[])
{
	uint16_t gid[ESPGW_ESP_BURST_MAX], pos[ESPGW_ESP_BURST_MAX], tab[GRP_TAB_SIZE];
	uint16_t i, ng = 0, last = 0, sum = 0;

	if (n == 0)
		return 0;
	if (group_single(m, sa, n, out, g))
		return 1;
	memset(tab, 0xff, sizeof(tab));
	for (i = 0; i < n; i++) {
		last = group_of(g, &ng, last, sa[i], tab);
		gid[i] = last;
		g[last].cnt++;
	}
	for (i = 0; i < ng; i++) {
		pos[i] = sum;
		sum += g[i].cnt;
	}
	for (i = 0; i < n; i++)
		out[pos[gid[i]]++] = m[i];
	return ng;
}

void
espgw_esp_drop(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa, struct rte_mbuf *const m[],
		uint16_t n, enum espgw_drop why)
{
	uint16_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
	l->stats->drop[why] += n;
	if (sa != NULL)
		l->stats->sa[sa->idx].errors += n;
}

void
espgw_esp_ops_free(struct espgw_esp_lcore *l, struct rte_crypto_op *cop[], uint16_t n)
{
	if (n != 0)
		rte_mempool_put_bulk(l->crypto->op_pool, (void **)cop, n);
}

void
espgw_esp_lksd(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n,
		espgw_esp_prep_why_t why, espgw_esp_ready_t ready)
{
	struct rte_crypto_op *cop[ESPGW_ESP_BURST_MAX];
	uint16_t k, e;

	if (rte_crypto_op_bulk_alloc(l->crypto->op_pool, RTE_CRYPTO_OP_TYPE_SYMMETRIC, cop, n) ==
			0) {
		espgw_esp_drop(l, sa, m, n, ESPGW_DROP_CRYPTO_ENQUEUE_FULL);
		return;
	}
	rte_errno = 0;
	k = rte_ipsec_pkt_crypto_prepare(&sa->ss, m, cop, n);
	espgw_esp_ops_free(l, cop + k, n - k);
	if (k < n)
		espgw_esp_drop(l, sa, m + k, n - k, why());
	if (ready != NULL)
		ready(sa, m, k);
	e = rte_cryptodev_enqueue_burst(sa->ss.crypto.dev_id, l->qp, cop, k);
	l->inflight += e;
	espgw_esp_ops_free(l, cop + e, k - e);
	espgw_esp_drop(l, sa, m + e, k - e, ESPGW_DROP_CRYPTO_ENQUEUE_FULL);
}

void
espgw_esp_inb_counted(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, uint64_t bytes)
{
	struct espgw_sa_counters *sc = &l->stats->sa[sa->idx];

	sc->bytes += bytes;
	sc->pkts += n;
	if (l->mss != NULL && l->mss[sa->idx] != 0)
		espgw_mss_clamp_burst(m, n, l->mss[sa->idx]);
}

void
espgw_esp_inb_done(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n)
{
	uint64_t bytes = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		bytes += m[i]->pkt_len;
	espgw_esp_inb_counted(l, sa, m, n, bytes);
}
