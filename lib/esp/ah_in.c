/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound AH (RFC 4302 3.4): after the SAD lookup (shared with
 * ESP, esp_in.c), the header checks, the replay window checked before the
 * ICV (3.4.3) and committed after it verified (3.4.4), the ICV recomputed
 * over the packet with its mutable fields and ICV field zeroed (ah_icv.c)
 * and compared in constant time, then the outer and AH headers removed
 * (tunnel) or AH taken from behind the packet's own header (transport,
 * ah_trs.c, chosen per SA group): the packet leaves as a decrypted ESP one
 * does (RFC 6040 ECN, MSS clamp), for the inbound policy check. espgw does
 * AH itself: DPDK 22.11's rte_ipsec has none.
 */
#include <rte_ip.h>

#include "esp_int.h"

#define AH_SEQ_OFS 8

static const uint8_t *
ah_hdr(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len + m->l3_len);
}

/* Options and extension headers the ICV can be computed over (ah_icv.c, RFC 4302 3.3.3.1). */
static bool
outer_opts_ok(struct rte_mbuf *m)
{
	return espgw_ah_opts(rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len), m->l3_len, false) ==
	       0;
}

/*
 * RFC 4302 2.2: the payload length is the SA's (its ICV and padding), 2.1:
 * the next header is one the SA carries (a tunnel's inner family, a
 * transport SA's upper protocols: espgw_ah_nh_ok); something follows.
 */
static bool
ah_hdr_ok(const struct espgw_sa_rt *sa, const struct rte_mbuf *m)
{
	const uint8_t *h = ah_hdr(m);

	return (h[1] + 2u) * 4 == sa->ah->len && espgw_ah_nh_ok(sa->ah, h[0]) &&
	       m->pkt_len > (uint32_t)m->l2_len + m->l3_len + sa->ah->len;
}

static enum espgw_drop
inb_verdict(const struct espgw_sa_rt *sa, struct rte_mbuf *m)
{
	if (sa == NULL)
		return ESPGW_DROP_NO_SA;
	/* Out of service (hard lifetime, RFC 4301 4.4.2.1) until deleted. */
	if (unlikely(sa->state != ESPGW_SA_LIVE))
		return ESPGW_DROP_SA_EXPIRED;
	/* RFC 4301 4.1: an SA is of one protocol; an ESP SA's SPI in AH is not it. */
	if (sa->proto != ESPGW_SA_AH)
		return ESPGW_DROP_AH_PROTO_MISMATCH;
	/* RFC 4302 3.4.1: AH fragments are discarded (espgw reassembles ESP only). */
	if (RTE_ETH_IS_IPV4_HDR(m->packet_type) &&
			(rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len)
							->fragment_offset &
					rte_cpu_to_be_16(~RTE_IPV4_HDR_DF_FLAG)) != 0)
		return ESPGW_DROP_AH_OUTER_OPTIONS;
	if (!outer_opts_ok(m))
		return ESPGW_DROP_AH_OUTER_OPTIONS;
	return ah_hdr_ok(sa, m) ? ESPGW_DROP_MAX : ESPGW_DROP_AH_BAD_HEADER;
}

uint16_t
espgw_ah_inb_check(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[],
		uint16_t n)
{
	enum espgw_drop why;
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		why = inb_verdict(sa[i], m[i]);
		if (why != ESPGW_DROP_MAX) {
			espgw_esp_drop(l, why == ESPGW_DROP_NO_SA ? NULL : sa[i], &m[i], 1, why);
			continue;
		}
		espgw_esp_inb_mark(m[i], sa[i]);
		sa[k] = sa[i];
		m[k++] = m[i];
	}
	return k;
}

/* RFC 4302 3.4.3: before the ICV; the full number (ESN, A2) goes with the packet. */
static uint16_t
inb_replay_check(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint64_t seq[], uint16_t n)
{
	rte_be32_t low;
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		memcpy(&low, ah_hdr(m[i]) + AH_SEQ_OFS, sizeof(low));
		seq[k] = rte_be_to_cpu_32(low);
		if (sa->replay != NULL) {
			seq[k] = espgw_replay_seq(sa->replay, (uint32_t)seq[k]);
			if (espgw_replay_check(sa->replay, seq[k]) != ESPGW_REPLAY_OK) {
				espgw_esp_drop(l, sa, &m[i], 1, ESPGW_DROP_REPLAY);
				continue;
			}
		}
		m[k++] = m[i];
	}
	return k;
}

/* The received ICV into rx, then the fields the ICV does not cover zeroed (RFC 4302 3.3.3). */
static void
inb_zero(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t *rx)
{
	uint8_t *h = (uint8_t *)(uintptr_t)ah_hdr(m);
	uint8_t icv_ofs = ESPGW_AH_HDR_LEN + sa->ah->iv_len; /* the GMAC IV is covered */

	memcpy(rx, h + icv_ofs, sa->ah->icv_len);
	memset(h + icv_ofs, 0, sa->ah->len - icv_ofs);
	espgw_ah_mutable_zero(rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len));
	espgw_ah_opts(rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len), m->l3_len, true);
}

/* RFC 4302 3.4.4.1: compared in constant time, as a timing leak would reveal the ICV. */
static bool
icv_equal(const uint8_t *a, const uint8_t *b, uint8_t len)
{
	uint8_t d = 0, i;

	for (i = 0; i < len; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* Tunnel: the outer header is not kept, nothing to save (it is zeroed in place). */
static bool
tun_save(const struct rte_mbuf *m, uint8_t *save)
{
	RTE_SET_USED(m);
	RTE_SET_USED(save);
	return true;
}

/* Tunnel: outer and AH headers off, the inner packet remains. */
static void
tun_strip(const struct espgw_sa_rt *sa, struct rte_mbuf *m, const uint8_t *save)
{
	RTE_SET_USED(save);
	rte_pktmbuf_adj(m, m->l2_len + m->l3_len + sa->ah->len);
	m->l2_len = 0;
	m->l3_len = 0;
}

/* Tunnel or transport: the pair an SA group runs, chosen once per group. */
struct inb_mode {
	bool (*save)(const struct rte_mbuf *m, uint8_t *save);
	void (*strip)(const struct espgw_sa_rt *sa, struct rte_mbuf *m, const uint8_t *save);
};

static const struct inb_mode inb_tun = {tun_save, tun_strip};
static const struct inb_mode inb_trs = {espgw_ah_trs_save, espgw_ah_trs_strip};

/* Contiguous, with room for the ESN bits; what is not is dropped. */
static enum espgw_drop
inb_room(const struct espgw_sa_rt *sa, struct rte_mbuf *m)
{
	if ((!rte_pktmbuf_is_contiguous(m) && rte_pktmbuf_linearize(m) != 0) ||
			!espgw_ah_room_ok(sa, m))
		return ESPGW_DROP_CRYPTO_ERROR;
	return ESPGW_DROP_MAX;
}

/*
 * Ready for the ICV: room, the header saved where it is kept (transport:
 * too long a chain to save is refused as options espgw does not take),
 * the received ICV into rx and the uncovered fields zeroed. Compacts m,
 * seq, save and rx.
 */
static uint16_t
inb_prep(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, const struct inb_mode *mode,
		struct rte_mbuf *m[], uint64_t seq[], uint8_t save[][ESPGW_AH_TRS_HDR_MAX],
		uint8_t rx[][ESPGW_AH_ICV_MAX], uint16_t n)
{
	enum espgw_drop why;
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		why = inb_room(sa, m[i]);
		if (why == ESPGW_DROP_MAX && !mode->save(m[i], save[k]))
			why = ESPGW_DROP_AH_OUTER_OPTIONS;
		if (why != ESPGW_DROP_MAX) {
			espgw_esp_drop(l, sa, &m[i], 1, why);
			continue;
		}
		inb_zero(sa, m[i], rx[k]);
		seq[k] = seq[i];
		m[k++] = m[i];
	}
	return k;
}

/* Verified: commit the window (RFC 4302 3.4.4), strip the headers, ECN (RFC 6040). */
static enum espgw_drop
inb_accept(struct espgw_sa_rt *sa, const struct inb_mode *mode, struct rte_mbuf *m, uint64_t seq,
		const uint8_t *save)
{
	if (sa->replay != NULL && espgw_replay_update(sa->replay, seq) != ESPGW_REPLAY_OK)
		return ESPGW_DROP_REPLAY; /* a duplicate within this burst */
	mode->strip(sa, m, save);
	return espgw_esp_inb_ecn(sa, m) == 0 ? ESPGW_DROP_MAX : ESPGW_DROP_ECN_INVALID;
}

static enum espgw_drop
inb_one(struct espgw_sa_rt *sa, const struct inb_mode *mode, struct rte_mbuf *m, uint64_t seq,
		const uint8_t *rx, const uint8_t *icv, int32_t status, const uint8_t *save)
{
	if (status != 0)
		return ESPGW_DROP_CRYPTO_ERROR;
	if (!icv_equal(rx, icv, sa->ah->icv_len))
		return ESPGW_DROP_AUTH_FAIL;
	return inb_accept(sa, mode, m, seq, save);
}

uint16_t
espgw_ah_inb(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n,
		struct rte_mbuf *done[])
{
	uint8_t rx[ESPGW_ESP_BURST_MAX][ESPGW_AH_ICV_MAX],
			icv[ESPGW_ESP_BURST_MAX][ESPGW_AH_ICV_MAX];
	uint8_t save[ESPGW_ESP_BURST_MAX][ESPGW_AH_TRS_HDR_MAX];
	const struct inb_mode *mode = sa->transport ? &inb_trs : &inb_tun;
	uint64_t seq[ESPGW_ESP_BURST_MAX];
	int32_t status[ESPGW_ESP_BURST_MAX];
	enum espgw_drop why;
	uint16_t i, d = 0;

	n = inb_replay_check(l, sa, m, seq, n);
	n = inb_prep(l, sa, mode, m, seq, save, rx, n);
	espgw_ah_icv(sa, m, seq, n, icv, status);
	for (i = 0; i < n; i++) {
		why = inb_one(sa, mode, m[i], seq[i], rx[i], icv[i], status[i], save[i]);
		if (why != ESPGW_DROP_MAX) {
			espgw_esp_drop(l, sa, &m[i], 1, why);
			continue;
		}
		done[d++] = m[i];
	}
	espgw_esp_inb_done(l, sa, done, d);
	return d;
}
