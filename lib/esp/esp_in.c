/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound ESP: check the length, find the SA by SPI (and addresses), group
 * by SA, then let rte_ipsec check the replay window (before decryption),
 * decrypt and verify (cryptodev or CPU crypto), check padding and next header
 * and commit the window (only after the ICV verified, RFC 4303 3.4.3).
 * Every refusal is counted under its own reason; the outer ECN is merged
 * into the inner header per RFC 6040.
 */
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_esp.h>
#include <rte_ip.h>

#include "esp_int.h"

#define ESP_TRAILER_LEN 2 /* pad length + next header (RFC 4303 2) */
#define ECN_NOT_ECT	0
#define ECN_CE		3
/* RFC 6040 4.2: outer CE on a Not-ECT inner packet must be dropped. */
#define DROP_ECN_NOT_ECT ESPGW_DROP_ECN_INVALID

/* Enough of the packet to read the outer header and the ESP header. */
static bool
inb_headers_ok(const struct rte_mbuf *m)
{
	return m->l3_len != 0 && m->data_len >= m->l2_len + m->l3_len + sizeof(struct rte_esp_hdr);
}

static void
inb_key(struct rte_mbuf *m, union rte_ipsec_sad_key *k)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	const struct rte_esp_hdr *esp = rte_pktmbuf_mtod_offset(
			m, const struct rte_esp_hdr *, m->l2_len + m->l3_len);

	if ((p[0] >> 4) == IPVERSION) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;

		espgw_sad_key_v4(k, esp->spi, ip->dst_addr, ip->src_addr);
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;

		espgw_sad_key_v6(k, esp->spi, ip->dst_addr, ip->src_addr);
	}
}

/* RFC 4303 2.4: header, IV, at least the trailer, ICV; the payload block-aligned. */
static bool
inb_len_ok(const struct espgw_sa_rt *sa, const struct rte_mbuf *m)
{
	uint32_t plen = m->pkt_len - m->l2_len - m->l3_len;
	uint32_t fixed = sizeof(struct rte_esp_hdr) + sa->esp_iv_len + sa->esp_icv_len;

	return plen >= fixed + ESP_TRAILER_LEN && ((plen - fixed) & (sa->esp_align - 1)) == 0;
}

static bool
outer_ce(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint32_t vtc;

	if ((p[0] >> 4) == IPVERSION)
		return (p[1] & RTE_IPV4_HDR_ECN_MASK) == ECN_CE;
	memcpy(&vtc, p, sizeof(vtc));
	return ((rte_be_to_cpu_32(vtc) >> RTE_IPV6_HDR_TC_SHIFT) & RTE_IPV4_HDR_ECN_MASK) == ECN_CE;
}

/* The SA index travels with the packet, and the outer CE for after decapsulation. */
static void
inb_mark(struct rte_mbuf *m, const struct espgw_sa_rt *sa)
{
	m->ol_flags &= ~(RTE_MBUF_F_RX_SEC_OFFLOAD | RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED);
	*espgw_mbuf_sa(m) = sa->idx | (outer_ce(m) ? ESP_IN_CE : 0);
}

/* Drops what cannot be an ESP packet of a known SA; keeps the rest in m[] and sa[]. */
static uint16_t
inb_lookup(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n)
{
	union rte_ipsec_sad_key key[ESPGW_ESP_BURST_MAX];
	const union rte_ipsec_sad_key *kp[ESPGW_ESP_BURST_MAX];
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!inb_headers_ok(m[i])) {
			espgw_esp_drop(l, NULL, &m[i], 1, ESPGW_DROP_BAD_LENGTH);
			continue;
		}
		inb_key(m[i], &key[k]);
		kp[k] = &key[k];
		m[k++] = m[i];
	}
	if (l->sad->in == NULL || k == 0) {
		espgw_esp_drop(l, NULL, m, k, ESPGW_DROP_NO_SA);
		return 0;
	}
	rte_ipsec_sad_lookup(l->sad->in, kp, (void **)sa, k);
	return k;
}

static uint16_t
inb_check(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n)
{
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (sa[i] == NULL) {
			espgw_esp_drop(l, NULL, &m[i], 1, ESPGW_DROP_NO_SA);
		} else if (!inb_len_ok(sa[i], m[i])) {
			espgw_esp_drop(l, sa[i], &m[i], 1, ESPGW_DROP_BAD_LENGTH);
		} else {
			inb_mark(m[i], sa[i]);
			sa[k] = sa[i];
			m[k++] = m[i];
		}
	}
	return k;
}

/*
 * The length was checked before, so rte_ipsec refuses a packet at prepare
 * only for its sequence number (replayed, or left of the window), or, rarely,
 * for lack of tailroom for the AAD and ESN bits (ENOSPC).
 */
static void
inb_prepare_drop(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n)
{
	espgw_esp_drop(l, sa, m, n,
			rte_errno == ENOSPC ? ESPGW_DROP_CRYPTO_ERROR : ESPGW_DROP_REPLAY);
}

static void
inb_lksd(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n)
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
	inb_prepare_drop(l, sa, m + k, n - k);
	e = rte_cryptodev_enqueue_burst(sa->ss.crypto.dev_id, l->qp, cop, k);
	l->inflight += e;
	espgw_esp_ops_free(l, cop + e, k - e);
	espgw_esp_drop(l, sa, m + e, k - e, ESPGW_DROP_CRYPTO_ENQUEUE_FULL);
}

/* CPU crypto marks each packet whose ICV did not verify (the only failure it reports). */
static uint16_t
inb_cpu(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n,
		struct rte_mbuf *done[])
{
	uint16_t i, j = 0, k;

	rte_errno = 0;
	k = rte_ipsec_pkt_cpu_prepare(&sa->ss, m, n);
	inb_prepare_drop(l, sa, m + k, n - k);
	for (i = 0; i < k; i++) {
		if (m[i]->ol_flags & RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED)
			espgw_esp_drop(l, sa, &m[i], 1, ESPGW_DROP_AUTH_FAIL);
		else
			m[j++] = m[i];
	}
	return espgw_esp_inb_finish(l, sa, m, j, done);
}

/* RFC 4303 2.4: pad bytes are 1, 2, 3, ...; 2.6: next header is what the SA carries. */
static bool
trailer_bad(const struct espgw_sa_rt *sa, const struct rte_mbuf *m)
{
	uint8_t buf[UINT8_MAX + ESP_TRAILER_LEN];
	uint32_t hdr = m->l2_len + m->l3_len + sizeof(struct rte_esp_hdr) + sa->esp_iv_len;
	uint32_t end = m->pkt_len - sa->esp_icv_len - sa->sqh_len; /* rte_ipsec added sqh_len */
	const uint8_t *t = rte_pktmbuf_read(m, end - ESP_TRAILER_LEN, ESP_TRAILER_LEN, buf);
	uint8_t pad_len, i;

	if (t == NULL || t[1] != sa->inner_proto || hdr + t[0] + ESP_TRAILER_LEN > end)
		return true;
	pad_len = t[0];
	t = rte_pktmbuf_read(m, end - ESP_TRAILER_LEN - pad_len, pad_len, buf);
	for (i = 0; t != NULL && i < pad_len; i++)
		if (t[i] != i + 1)
			return true;
	return t == NULL;
}

/*
 * rte_ipsec_pkt_process refuses a decrypted packet for a bad trailer (the
 * packet is left as it was, l3_len still the outer header's) or, after
 * decapsulating it (l2_len and l3_len reset), because the window update
 * found its sequence number taken: a duplicate within the same burst.
 */
static enum espgw_drop
inb_reject_reason(const struct espgw_sa_rt *sa, const struct rte_mbuf *m)
{
	if (m->l3_len == 0)
		return ESPGW_DROP_REPLAY;
	return trailer_bad(sa, m) ? ESPGW_DROP_BAD_PADDING : ESPGW_DROP_CRYPTO_ERROR;
}

/* RFC 6040 4.2: outer CE marks an ECT inner packet CE, and drops a Not-ECT one. */
static int
ecn_decap_v4(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint8_t ecn;
	uint32_t sum;

	if (m->data_len < sizeof(*ip))
		return -1;
	ecn = ip->type_of_service & RTE_IPV4_HDR_ECN_MASK;
	if (ecn == ECN_NOT_ECT)
		return -1;
	/* RFC 1624 3: HC' = ~(~HC + ~m + m'), with the TOS byte the only change. */
	sum = (uint16_t)~rte_be_to_cpu_16(ip->hdr_checksum) + (uint16_t)~ecn + ECN_CE;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->type_of_service |= ECN_CE;
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
	return 0;
}

static int
ecn_decap_v6(struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	uint32_t ce = (uint32_t)ECN_CE << RTE_IPV6_HDR_TC_SHIFT;

	if (m->data_len < sizeof(*ip))
		return -1;
	if ((rte_be_to_cpu_32(ip->vtc_flow) & ce) == 0)
		return -1;
	ip->vtc_flow |= rte_cpu_to_be_32(ce);
	return 0;
}

static int
inb_ecn(const struct espgw_sa_rt *sa, struct rte_mbuf *m)
{
	uint32_t *f = espgw_mbuf_sa(m);
	uint32_t v = *f;

	*f = v & ~ESP_IN_CE;
	if (!(v & ESP_IN_CE))
		return 0;
	return sa->inner_proto == IPPROTO_IPIP ? ecn_decap_v4(m) : ecn_decap_v6(m);
}

uint16_t
espgw_esp_inb_finish(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, struct rte_mbuf *done[])
{
	struct espgw_sa_counters *sc = &l->stats->sa[sa->idx];
	uint16_t i, d = 0, k;

	if (n == 0)
		return 0;
	k = rte_ipsec_pkt_process(&sa->ss, m, n);

	for (i = k; i < n; i++)
		espgw_esp_drop(l, sa, &m[i], 1, inb_reject_reason(sa, m[i]));
	for (i = 0; i < k; i++) {
		if (inb_ecn(sa, m[i]) != 0) {
			espgw_esp_drop(l, sa, &m[i], 1, DROP_ECN_NOT_ECT);
			continue;
		}
		sc->pkts++;
		sc->bytes += m[i]->pkt_len;
		done[d++] = m[i];
	}
	return d;
}

static uint16_t
inb_burst(struct espgw_esp_lcore *l, struct rte_mbuf *m[], uint16_t n, struct rte_mbuf *done[])
{
	struct espgw_sa_rt *sa[ESPGW_ESP_BURST_MAX];
	struct rte_mbuf *sorted[ESPGW_ESP_BURST_MAX];
	struct espgw_esp_grp g[ESPGW_ESP_BURST_MAX];
	struct rte_mbuf **gm = sorted;
	uint16_t i, k, ng, n_done = 0;

	k = inb_lookup(l, m, sa, n);
	k = inb_check(l, m, sa, k);
	ng = espgw_esp_group(m, sa, k, sorted, g);
	for (i = 0; i < ng; gm += g[i].cnt, i++) {
		if (g[i].sa->ss.type == RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO)
			n_done += inb_cpu(l, g[i].sa, gm, g[i].cnt, done + n_done);
		else
			inb_lksd(l, g[i].sa, gm, g[i].cnt);
	}
	return n_done;
}

uint16_t
espgw_esp_inb(struct espgw_esp_lcore *l, struct rte_mbuf *m[], uint16_t n, struct rte_mbuf *done[])
{
	uint16_t i, k, n_done = 0;

	for (i = 0; i < n; i += k) {
		k = RTE_MIN(n - i, ESPGW_ESP_BURST_MAX);
		n_done += inb_burst(l, m + i, k, done + n_done);
	}
	return n_done;
}
