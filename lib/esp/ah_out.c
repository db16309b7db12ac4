/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound AH, tunnel mode (RFC 4302 3.1): the inner packet behind the SA's
 * outer header and an AH header, the ICV over both with the mutable fields
 * zeroed (ah_icv.c). espgw writes AH itself because DPDK 22.11's rte_ipsec
 * has none. The outer header is the one an ESP tunnel of the same SA options
 * gets (lib/sad/sa_outer.c: template, DSCP/ECN copy or set, DF, checksum
 * fixup), written after the ICV, since those fields are the mutable ones.
 * Transport mode (ah_trs.c) is the other pair of build and finish functions,
 * chosen per SA group.
 */
#include <rte_ip.h>

#include "esp_int.h"

#define V4_TTL 8
#define V6_VTC 0
#define V6_HOP 7

/*
 * RFC 4302 2.5: a fresh number per packet, never wrapping (3.3.2: the SA
 * must be replaced first). Several workers share an outbound SA: atomic.
 */
static uint64_t
seq_take(struct espgw_ah_sa *ah, uint16_t n)
{
	uint64_t cur, next;

	/* RFC 4302 2.5, 3.3.2: never cycle; the counter stops at its end (UINT64_MAX). */
	if (!ah->atomic) {
		cur = ah->seq;
		ah->seq = cur > UINT64_MAX - n ? UINT64_MAX : cur + n;
		return cur;
	}
	cur = __atomic_load_n(&ah->seq, __ATOMIC_RELAXED);
	do
		next = cur > UINT64_MAX - n ? UINT64_MAX : cur + n;
	while (!__atomic_compare_exchange_n(
			&ah->seq, &cur, next, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return cur;
}

/* How many of n numbers from first stay below the limit (32 bits without ESN). */
static uint16_t
seq_usable(const struct espgw_ah_sa *ah, uint64_t first, uint16_t n)
{
	uint64_t last = ah->esn ? UINT64_MAX - 1 : UINT32_MAX;

	if (first == 0 || first > last)
		return 0;
	return (uint16_t)RTE_MIN((uint64_t)n, last - first + 1);
}

/* RFC 4302 2: next header, payload length in 32-bit words minus 2, SPI, sequence, ICV 0. */
void
espgw_ah_hdr_write(uint8_t *h, const struct espgw_sa_rt *sa, uint64_t seq, uint8_t nh)
{
	rte_be32_t spi = rte_cpu_to_be_32(sa->conf->spi);
	rte_be32_t sq = rte_cpu_to_be_32((uint32_t)seq);

	h[0] = nh;
	h[1] = (uint8_t)(sa->ah->len / 4 - 2);
	h[2] = 0;
	h[3] = 0;
	memcpy(h + 4, &spi, sizeof(spi));
	memcpy(h + 8, &sq, sizeof(sq));
	memset(h + ESPGW_AH_HDR_LEN, 0, sa->ah->len - ESPGW_AH_HDR_LEN);
	/*
	 * RFC 4543 5: the AES-GMAC IV must never repeat under one key; the full
	 * sequence number never does (never wraps, 2.5).
	 */
	if (sa->ah->iv_len != 0) {
		rte_be64_t iv = rte_cpu_to_be_64(seq);

		memcpy(h + ESPGW_AH_HDR_LEN, &iv, sizeof(iv));
	}
}

/* Lengths (and the IPv4 id: the low sequence bits, unique per SA and key) in the copied template. */
static void
outer_len_set(uint8_t *p, const struct espgw_ah_sa *ah, uint32_t total, uint64_t seq)
{
	if ((p[0] >> 4) == IPVERSION) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

		ip->total_length = rte_cpu_to_be_16((uint16_t)total);
		ip->packet_id = rte_cpu_to_be_16((uint16_t)seq);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;

		ip->payload_len = rte_cpu_to_be_16((uint16_t)(total - ah->tmpl_len));
	}
}

/* Outer header (mutable fields zero) and AH header in front of the inner packet. */
static enum espgw_drop
outb_build(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint64_t seq, uint8_t *save)
{
	const struct espgw_ah_sa *ah = sa->ah;
	uint16_t hlen = ah->tmpl_len + ah->len;
	uint8_t *p;

	RTE_SET_USED(save); /* the template holds the mutable fields' values */
	rte_pktmbuf_adj(m, m->l2_len);
	m->l2_len = 0;
	m->l3_len = ah->tmpl_len; /* where AH starts (ah_icv.c reads the GMAC IV there) */
	if (m->pkt_len + hlen > UINT16_MAX)
		return ESPGW_DROP_TOO_BIG;
	p = (uint8_t *)rte_pktmbuf_prepend(m, hlen);
	if (p == NULL)
		return ESPGW_DROP_TOO_BIG;
	memcpy(p, ah->tmpl, ah->tmpl_len);
	outer_len_set(p, ah, m->pkt_len, seq);
	espgw_ah_hdr_write(p + ah->tmpl_len, sa, seq, sa->inner_proto);
	espgw_ah_mutable_zero(p);
	return ESPGW_DROP_MAX;
}

/* The computed ICV into the AH header behind the l3_len bytes of IP header. */
void
espgw_ah_icv_put(const struct espgw_sa_rt *sa, struct rte_mbuf *m, const uint8_t *icv)
{
	uint8_t *h = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l3_len);

	memcpy(h + ESPGW_AH_HDR_LEN + sa->ah->iv_len, icv, sa->ah->icv_len);
}

/* The ICV into the AH header, then the mutable fields their values (the SA's fixup). */
static void
outb_finish_one(const struct espgw_sa_rt *sa, struct rte_mbuf *m, const uint8_t *icv,
		const uint8_t *save)
{
	const struct espgw_ah_sa *ah = sa->ah;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t v = *espgw_mbuf_sa(m);

	RTE_SET_USED(save);
	espgw_ah_icv_put(sa, m, icv);
	if ((p[0] >> 4) == IPVERSION) {
		p[V4_TTL] = ah->tmpl[V4_TTL];
	} else {
		memcpy(p + V6_VTC, ah->tmpl + V6_VTC, 4);
		p[V6_HOP] = ah->tmpl[V6_HOP];
	}
	sa->outb_fixup(sa, m, (uint8_t)(v >> ESP_OUT_TOS_SHIFT), (uint8_t)(v >> ESP_OUT_DF_SHIFT));
}

/* Tunnel or transport: the pair of functions an SA group runs, chosen once per group. */
struct outb_mode {
	enum espgw_drop (*build)(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint64_t seq,
			uint8_t *save);
	void (*finish)(const struct espgw_sa_rt *sa, struct rte_mbuf *m, const uint8_t *icv,
			const uint8_t *save);
};

static const struct outb_mode outb_tun = {outb_build, outb_finish_one};
static const struct outb_mode outb_trs = {espgw_ah_trs_build, espgw_ah_trs_finish};

/*
 * Build every packet; those that do not fit are dropped. Returns the built
 * ones, compacted (with their sequence numbers and saved headers).
 */
static uint16_t
outb_build_all(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, const struct outb_mode *mode,
		struct rte_mbuf *m[], uint64_t seq[], uint8_t save[][ESPGW_AH_TRS_HDR_MAX],
		uint16_t n)
{
	uint64_t first = seq_take(sa->ah, n);
	uint16_t i, k = 0, ok = seq_usable(sa->ah, first, n);
	enum espgw_drop why;

	espgw_esp_drop(l, sa, m + ok, n - ok, ESPGW_DROP_SQN_OVERFLOW);
	for (i = 0; i < ok; i++) {
		why = mode->build(sa, m[i], first + i, save[k]);
		if (why == ESPGW_DROP_MAX && !espgw_ah_room_ok(sa, m[i]))
			why = ESPGW_DROP_TOO_BIG;
		if (why != ESPGW_DROP_MAX) {
			espgw_esp_drop(l, sa, &m[i], 1, why);
			continue;
		}
		seq[k] = first + i;
		m[k++] = m[i];
	}
	return k;
}

uint16_t
espgw_ah_outb(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n,
		struct rte_mbuf *done[])
{
	uint8_t icv[ESPGW_ESP_BURST_MAX][ESPGW_AH_ICV_MAX];
	uint8_t save[ESPGW_ESP_BURST_MAX][ESPGW_AH_TRS_HDR_MAX];
	const struct outb_mode *mode = sa->transport ? &outb_trs : &outb_tun;
	uint64_t seq[ESPGW_ESP_BURST_MAX];
	int32_t status[ESPGW_ESP_BURST_MAX];
	struct espgw_sa_counters *sc = &l->stats->sa[sa->idx];
	uint32_t ptype = sa->outer_family == ESPGW_AF_INET ? RTE_PTYPE_L3_IPV4 : RTE_PTYPE_L3_IPV6;
	uint16_t i, k = 0;

	n = outb_build_all(l, sa, mode, m, seq, save, n);
	espgw_ah_icv(sa, m, seq, n, icv, status);
	for (i = 0; i < n; i++) {
		if (status[i] != 0) {
			espgw_esp_drop(l, sa, &m[i], 1, ESPGW_DROP_CRYPTO_ERROR);
			continue;
		}
		mode->finish(sa, m[i], icv[i], save[i]);
		sc->bytes += *espgw_mbuf_sa(m[i]) & ESP_OUT_LEN_MASK;
		*espgw_mbuf_sa(m[i]) = sa->idx;
		m[i]->packet_type = ptype;
		done[k++] = m[i];
	}
	sc->pkts += k;
	return k;
}
