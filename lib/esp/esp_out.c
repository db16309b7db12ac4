/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound ESP: group the burst by SA, let rte_ipsec add the outer header,
 * ESP header, IV, padding and trailer and take the sequence numbers, patch
 * the outer header (SA's fixup), then encrypt: enqueue to this worker's
 * queue pair, or synchronously with CPU crypto.
 */
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "esp_int.h"

/* Before rte_ipsec turns the packets into ESP packets (espgw_esp_outb_meta). */
static void
outb_meta_save_all(struct rte_mbuf *m[], uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		*espgw_mbuf_sa(m[i]) = espgw_esp_outb_meta(m[i]);
}

/*
 * The outer header's per-packet fields, and the mbuf made ready for routing:
 * an ESP result starts at the outer IP header (no L2), of the SA's family.
 */
static void
outb_fixup_all(const struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n)
{
	uint32_t ptype = sa->outer_family == ESPGW_AF_INET ? RTE_PTYPE_L3_IPV4 : RTE_PTYPE_L3_IPV6;
	uint32_t v;
	uint16_t i;

	for (i = 0; i < n; i++) {
		v = *espgw_mbuf_sa(m[i]);
		sa->outb_fixup(sa, m[i], (uint8_t)(v >> ESP_OUT_TOS_SHIFT),
				(uint8_t)(v >> ESP_OUT_DF_SHIFT));
		m[i]->l2_len = 0;
		m[i]->packet_type = ptype;
	}
}

/*
 * Transport mode: rte_ipsec puts ESP after the first l2_len + l3_len bytes
 * and keeps them in front; without the L2 header the result starts at the
 * IP header as a tunnel's does (the fixup and the routing expect that), and
 * the crypto offsets are computed that way from the start.
 */
static void
outb_trs_strip_l2(struct rte_mbuf *m[], uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		rte_pktmbuf_adj(m[i], m[i]->l2_len);
		m[i]->l2_len = 0;
	}
}

/* RFC 4303 3.3.3: the counter never wraps; rte_ipsec refuses with EOVERFLOW. */
static enum espgw_drop
outb_prep_why(void)
{
	return rte_errno == EOVERFLOW ? ESPGW_DROP_SQN_OVERFLOW : ESPGW_DROP_CRYPTO_ERROR;
}

static void
outb_prepare_drop(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n)
{
	if (n != 0)
		espgw_esp_drop(l, sa, m, n, outb_prep_why());
}

static uint16_t
outb_cpu(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n,
		struct rte_mbuf *done[])
{
	uint16_t k;

	rte_errno = 0;
	k = rte_ipsec_pkt_cpu_prepare(&sa->ss, m, n);
	outb_prepare_drop(l, sa, m + k, n - k);
	outb_fixup_all(sa, m, k);
	return espgw_esp_outb_finish(l, sa, m, k, done);
}

/*
 * ESP in UDP over IPv6 (RFC 3948 2.1 is IPv4's zero checksum; RFC 8200 8.1
 * wants one over IPv6): the UDP checksum over the encrypted packet, after
 * the crypto, per SA group of encap IPv6 SAs only.
 */
void
espgw_esp_udp6_cksum(struct rte_mbuf *m[], uint16_t n)
{
	struct rte_ipv6_hdr *ip;
	struct rte_udp_hdr *udp;
	uint16_t i;

	for (i = 0; i < n; i++) {
		ip = rte_pktmbuf_mtod(m[i], struct rte_ipv6_hdr *);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = rte_ipv6_udptcp_cksum_mbuf(m[i], ip, sizeof(*ip));
	}
}

uint16_t
espgw_esp_outb_finish(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, struct rte_mbuf *done[])
{
	uint16_t k;

	if (n == 0)
		return 0;
	k = rte_ipsec_pkt_process(&sa->ss, m, n);

	/* Only a failed crypto operation makes rte_ipsec refuse an outbound packet here. */
	espgw_esp_drop(l, sa, m + k, n - k, ESPGW_DROP_CRYPTO_ERROR);
	/* Per SA group, chosen at setup: SAs without UDP of their own pay one test. */
	if (sa->udp == ESPGW_SA_UDP_TUN6)
		espgw_esp_udp6_cksum(m, k);
	else if (unlikely(sa->udp != ESPGW_SA_UDP_NONE))
		k = espgw_trs_udp_outb(l, sa, m, k);
	return espgw_esp_outb_count(l, sa, m, k, done);
}

uint16_t
espgw_esp_outb_count(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, struct rte_mbuf *done[])
{
	struct espgw_sa_counters *sc = &l->stats->sa[sa->idx];
	uint16_t i;

	for (i = 0; i < n; i++) {
		sc->bytes += *espgw_mbuf_sa(m[i]) & ESP_OUT_LEN_MASK;
		*espgw_mbuf_sa(m[i]) = sa->idx;
		done[i] = m[i];
	}
	sc->pkts += n;
	return n;
}

/* A group the direct path frames: an outbound SA with GCM state of its own. */
static inline bool
outb_grp_direct(const struct espgw_esp_grp *g)
{
	return g->sa != NULL && g->sa->dir == ESPGW_DIR_OUT && g->sa->gcm != NULL;
}

/*
 * With several workers (l->seq_shared), the direct path's sequence numbers
 * for every group of the burst before any is framed (kept[i] of group i's
 * packets keep theirs, from seq[i]). A number is then a locked add, and a
 * locked instruction waits until every store before it has left the store
 * buffer: taken between groups, those are the frames just encrypted (perf,
 * two workers and 1,000 SAs at 1420 B: half of each worker's time on the
 * add). Taken here, back to back, one wait a burst. One worker takes its
 * numbers as it frames each group: no lock, and its SA lines read once.
 */
static void
outb_take_all(struct espgw_esp_lcore *l, struct rte_mbuf *m[], const struct espgw_esp_grp g[],
		uint16_t ng, uint16_t kept[], uint64_t seq[])
{
	uint16_t i;

	/*
	 * With many SAs each counter's line is cold, and a locked add lets no
	 * later load start before it completes: the adds would wait for their
	 * misses one after another. Asked for all at once, they overlap (the
	 * counter is in the state's first line, lib/crypto/espgw_gcm.h).
	 */
	for (i = 0; i < ng; i++)
		if (outb_grp_direct(&g[i]))
			rte_prefetch0_write(g[i].sa->gcm);
	for (i = 0; i < ng; m += g[i].cnt, i++)
		if (outb_grp_direct(&g[i]))
			kept[i] = espgw_esp_gcm_outb_take(l, g[i].sa, m, g[i].cnt, &seq[i]);
}

static uint16_t
outb_burst(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n,
		struct rte_mbuf *done[])
{
	struct rte_mbuf *sorted[ESPGW_ESP_BURST_MAX];
	struct espgw_esp_grp g[ESPGW_ESP_BURST_MAX];
	uint16_t i, ng, cnt, n_done = 0, kept[ESPGW_ESP_BURST_MAX];
	struct rte_mbuf **gm = sorted;
	uint64_t seq[ESPGW_ESP_BURST_MAX];
	bool taken;

	ng = espgw_esp_group(m, sa, n, sorted, g);
	if (l->seq_shared)
		outb_take_all(l, sorted, g, ng, kept, seq);
	for (i = 0; i < ng; gm += g[i].cnt, i++) {
		if (g[i].sa == NULL || g[i].sa->dir != ESPGW_DIR_OUT) {
			espgw_esp_drop(l, NULL, gm, g[i].cnt, ESPGW_DROP_NO_SA);
			continue;
		}
		/* What the direct path could not number is gone already. */
		taken = l->seq_shared && outb_grp_direct(&g[i]);
		cnt = taken ? kept[i] : g[i].cnt;
		/* Per SA group, not per packet: SAs without a clamp pay nothing. */
		if (l->mss != NULL && l->mss[g[i].sa->idx] != 0)
			espgw_mss_clamp_burst(gm, cnt, l->mss[g[i].sa->idx]);
		/*
		 * The SA's path, chosen at setup. The direct path reads each
		 * packet's length, TOS and DF as it frames it; the others save
		 * them first, before rte_ipsec or AH rewrites the headers.
		 */
		if (g[i].sa->gcm != NULL) {
			n_done += espgw_esp_gcm_outb(
					l, g[i].sa, gm, cnt, taken ? &seq[i] : NULL, done + n_done);
			continue;
		}
		outb_meta_save_all(gm, g[i].cnt);
		if (unlikely(g[i].sa->proto == ESPGW_SA_AH)) {
			n_done += espgw_ah_outb(l, g[i].sa, gm, g[i].cnt, done + n_done);
			continue;
		}
		/* CPU crypto or cryptodev. */
		if (g[i].sa->transport)
			outb_trs_strip_l2(gm, g[i].cnt);
		if (g[i].sa->ss.type == RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO)
			n_done += outb_cpu(l, g[i].sa, gm, g[i].cnt, done + n_done);
		else
			espgw_esp_lksd(l, g[i].sa, gm, g[i].cnt, outb_prep_why, outb_fixup_all);
	}
	return n_done;
}

uint16_t
espgw_esp_outb(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[],
		uint16_t n, struct rte_mbuf *done[])
{
	uint16_t i, k, n_done = 0;

	for (i = 0; i < n; i += k) {
		k = RTE_MIN(n - i, ESPGW_ESP_BURST_MAX);
		n_done += outb_burst(l, m + i, sa + i, k, done + n_done);
	}
	return n_done;
}
