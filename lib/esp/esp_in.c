/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound ESP: check the length, find the SA by SPI (and addresses), group
 * by SA, check the replay window (before decryption), decrypt and verify
 * (cryptodev or CPU crypto), let rte_ipsec check padding and next header and
 * decapsulate, and commit the window (only after the ICV verified, RFC 4303
 * 3.4.3). Every refusal is counted under its own reason; the outer ECN is
 * merged into the inner header per RFC 6040.
 *
 * Two windows: espgw's (lib/sad/replay.h, which says why) decides, and
 * rte_ipsec's stays configured because rte_ipsec infers the ESN high bits
 * for the ICV from its own top (RFC 4303 A2). Both see the same accepted
 * numbers, so their tops agree and so do the inferred numbers. One trap:
 * rte_ipsec infers the high bits again when it commits, from its top at that
 * moment, which moves as it commits a group in order; a packet the window has
 * left behind by then would be committed as a number 2^32 ahead and stall
 * the SA. inb_replay_precommit() drops such packets before rte_ipsec sees
 * them: at their turn they are left of the window anyway.
 */
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_esp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "esp_int.h"
#include "esp_sad_cache.h"

#define ESP_TRAILER_LEN 2 /* pad length + next header (RFC 4303 2) */
/* ECN codepoints (RFC 3168 5) */
#define ECN_NOT_ECT 0
#define ECN_ECT1    1
#define ECN_ECT0    2
#define ECN_CE	    3
#define ECN_DROP    0xff
/* RFC 6040 4.2: outer CE on a Not-ECT inner packet must be dropped. */
#define DROP_ECN_NOT_ECT ESPGW_DROP_ECN_INVALID

/*
 * Where the SPI is behind the outer header, and how much of the IPsec header
 * must be in the first segment: ESP (RFC 4303 2) and AH (RFC 4302 2) share
 * the lookup, the SA then says which protocol it is.
 */
#define ESP_SPI_OFS 0
#define AH_SPI_OFS  4

/* Enough of the packet to read the outer header and the IPsec header. */
static bool
inb_headers_ok(const struct rte_mbuf *m, uint32_t hdr_len)
{
	return m->l3_len != 0 && m->data_len >= m->l2_len + m->l3_len + hdr_len;
}

static void
inb_key(struct rte_mbuf *m, union rte_ipsec_sad_key *k, uint32_t spi_ofs)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	rte_be32_t spi;

	memcpy(&spi, p + m->l3_len + spi_ofs, sizeof(spi));
	if ((p[0] >> 4) == IPVERSION) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;

		espgw_sad_key_v4(k, spi, ip->dst_addr, ip->src_addr);
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;

		espgw_sad_key_v6(k, spi, ip->dst_addr, ip->src_addr);
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

static uint32_t
outer_ecn(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint32_t vtc;

	if ((p[0] >> 4) == IPVERSION)
		return p[1] & RTE_IPV4_HDR_ECN_MASK;
	memcpy(&vtc, p, sizeof(vtc));
	return (rte_be_to_cpu_32(vtc) >> RTE_IPV6_HDR_TC_SHIFT) & RTE_IPV4_HDR_ECN_MASK;
}

/* The SA index travels with the packet, and the outer ECN for after decapsulation. */
void
espgw_esp_inb_mark(struct rte_mbuf *m, const struct espgw_sa_rt *sa)
{
	m->ol_flags &= ~(RTE_MBUF_F_RX_SEC_OFFLOAD | RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED);
	*espgw_mbuf_sa(m) = sa->idx | outer_ecn(m) << ESPGW_ESP_IN_ECN_SHIFT;
}

/*
 * Same SPI and addresses as packet p, read from both packets: comparing the
 * SAD key just written to the stack would stall on store forwarding.
 */
static bool
inb_same_key(const struct rte_mbuf *p, const struct rte_mbuf *m, uint32_t spi_ofs)
{
	const uint8_t *a = rte_pktmbuf_mtod_offset(p, const uint8_t *, p->l2_len);
	const uint8_t *b = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	bool v4 = (b[0] >> 4) == IPVERSION;

	if (p->l3_len != m->l3_len || (a[0] >> 4) != (b[0] >> 4) ||
			memcmp(a + p->l3_len + spi_ofs, b + m->l3_len + spi_ofs,
					sizeof(rte_be32_t)) != 0)
		return false;
	/* Source and destination: IPv4 bytes 12-19, IPv6 bytes 8-39. */
	return v4 ? memcmp(a + 12, b + 12, 8) == 0 : memcmp(a + 8, b + 8, 32) == 0;
}

/* An IPv4 packet's key as the cache keeps it (esp_sad_cache.h); false for IPv6. */
static inline bool
inb_key4(const struct rte_mbuf *m, uint32_t spi_ofs, struct espgw_sad_key4 *k)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;

	if ((p[0] >> 4) != IPVERSION)
		return false;
	memcpy(&k->spi, p + m->l3_len + spi_ofs, sizeof(k->spi));
	k->dst = ip->dst_addr;
	k->src = ip->src_addr;
	return true;
}

/*
 * The SA this worker's cache holds for the key of packet m, or NULL with the
 * SAD's key for m made in k (an IPv6 packet's is made to look it up anyway).
 */
static inline struct espgw_sa_rt *
inb_cached(struct espgw_esp_lcore *l, struct rte_mbuf *m, uint32_t spi_ofs, uint64_t gen,
		union rte_ipsec_sad_key *k)
{
	struct espgw_sad_key4 k4;
	struct espgw_sa_rt *sa;

	if (inb_key4(m, spi_ofs, &k4)) {
		sa = espgw_sad_cache4_get(l->sadc, &k4, l->sad->sa);
		if (sa == NULL)
			inb_key(m, k, spi_ofs);
		return sa;
	}
	inb_key(m, k, spi_ofs);
	return espgw_sad_cache_get(l->sadc, k, gen);
}

static inline void
inb_cache_put(struct espgw_esp_lcore *l, struct rte_mbuf *m, uint32_t spi_ofs, uint64_t gen,
		const union rte_ipsec_sad_key *k, struct espgw_sa_rt *sa)
{
	struct espgw_sad_key4 k4;

	if (inb_key4(m, spi_ofs, &k4))
		espgw_sad_cache4_put(l->sadc, &k4, sa, l->sad->sa);
	else
		espgw_sad_cache_put(l->sadc, k, gen, sa);
}

/*
 * found[j] for the keys of the u packets first[]: from this worker's cache
 * where it has them, the rest from the SAD in one bulk lookup, then cached
 * (esp_sad_cache.h: the generation is read before the lookup, so a change
 * meanwhile ages them).
 */
static void
inb_sad_find(struct espgw_esp_lcore *l, struct rte_mbuf *const first[], uint16_t u,
		uint32_t spi_ofs, void *found[])
{
	union rte_ipsec_sad_key key[ESPGW_ESP_BURST_MAX];
	const union rte_ipsec_sad_key *kp[ESPGW_ESP_BURST_MAX];
	uint64_t gen = __atomic_load_n(&l->sad->in_gen, __ATOMIC_ACQUIRE);
	uint16_t j, miss = 0, mi[ESPGW_ESP_BURST_MAX];
	void *res[ESPGW_ESP_BURST_MAX];

	if (l->sadc != NULL)
		espgw_sad_cache_gen(l->sadc, gen);
	for (j = 0; j < u; j++) {
		if (l->sadc != NULL) {
			found[j] = inb_cached(l, first[j], spi_ofs, gen, &key[miss]);
		} else {
			found[j] = NULL;
			inb_key(first[j], &key[miss], spi_ofs);
		}
		if (found[j] == NULL) {
			kp[miss] = &key[miss];
			mi[miss++] = j;
		}
	}
	if (miss == 0)
		return;
	rte_ipsec_sad_lookup(l->sad->in, kp, res, miss);
	for (j = 0; j < miss; j++) {
		found[mi[j]] = res[j];
		if (res[j] != NULL && l->sadc != NULL)
			inb_cache_put(l, first[mi[j]], spi_ofs, gen, kp[j], res[j]);
	}
}

/*
 * Came in UDP (lib/dp/inbound.c marks it) exactly when the SA is encap udp
 * (RFC 3948), and then to the SA's own port: another SA's NAT-T port is not
 * this one's.
 */
static inline bool
inb_encap_ok(const struct espgw_sa_rt *sa, const struct rte_mbuf *m)
{
	const struct rte_udp_hdr *udp;

	if (((m->packet_type & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_UDP) != (sa->encap != 0))
		return false;
	if (!sa->encap)
		return true;
	udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *,
			m->l2_len + m->l3_len - sizeof(struct rte_udp_hdr));
	return udp->dst_port == sa->natt_sport;
}

/* One packet of a known SA: dropped and counted unless it may be ESP of it; marked if so. */
static inline bool
inb_check_one(struct espgw_esp_lcore *l, struct rte_mbuf *m, struct espgw_sa_rt *sa)
{
	enum espgw_drop why;

	if (sa == NULL) {
		espgw_esp_drop(l, NULL, &m, 1, ESPGW_DROP_NO_SA);
		return false;
	}
	if (unlikely(sa->state != ESPGW_SA_LIVE))
		/* Out of service (hard lifetime, RFC 4301 4.4.2.1) until deleted. */
		why = ESPGW_DROP_SA_EXPIRED;
	else if (unlikely(sa->proto != ESPGW_SA_ESP))
		/* RFC 4301 4.1: an SA is of one protocol; an AH SA's SPI in ESP is not it. */
		why = ESPGW_DROP_AH_PROTO_MISMATCH;
	else if (unlikely(!inb_encap_ok(sa, m)))
		why = ESPGW_DROP_ENCAP_MISMATCH;
	else if (!inb_len_ok(sa, m))
		why = ESPGW_DROP_BAD_LENGTH;
	else
		why = ESPGW_DROP_MAX;
	if (why != ESPGW_DROP_MAX) {
		espgw_esp_drop(l, sa, &m, 1, why);
		return false;
	}
	espgw_esp_inb_mark(m, sa);
	return true;
}

static uint16_t
inb_check(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n)
{
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!inb_check_one(l, m[i], sa[i]))
			continue;
		sa[k] = sa[i];
		m[k++] = m[i];
	}
	return k;
}

/*
 * A bump-in-the-wire SA is its host's (espgw_esp_inb_bitw): found by its SPI
 * alone (match spi), it is no SA of ESP or AH to the gateway itself: ESP's
 * ICV does not cover the destination, and a copy sent to the gateway would
 * spend the host's sequence numbers (AH's covers it: such a copy would cost
 * a verification and fail).
 */
static inline struct espgw_sa_rt *
inb_not_host(struct espgw_sa_rt *sa)
{
	return sa != NULL && unlikely(sa->bitw) ? NULL : sa;
}

/*
 * Drops what cannot be an ESP (esp) or AH packet of a known SA; keeps the
 * rest in m[] and sa[], ESP also checked (inb_check_one) in the same pass.
 * A burst carries runs of one SA's packets: each run is looked up once
 * (rte_ipsec_sad takes two hash lookups per key for SPI and destination), and
 * a key seen before comes from this worker's cache.
 */
static inline uint16_t
inb_lookup(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n,
		uint32_t spi_ofs, uint32_t hdr_len, bool esp)
{
	struct rte_mbuf *first[ESPGW_ESP_BURST_MAX];
	void *found[ESPGW_ESP_BURST_MAX];
	uint16_t i, j = 0, k = 0, u = 0, uid[ESPGW_ESP_BURST_MAX];
	struct espgw_sa_rt *s;

	for (i = 0; i < n; i++) {
		if (!inb_headers_ok(m[i], hdr_len)) {
			espgw_esp_drop(l, NULL, &m[i], 1, ESPGW_DROP_BAD_LENGTH);
			continue;
		}
		if (k == 0 || !inb_same_key(m[k - 1], m[i], spi_ofs))
			first[u++] = m[i];
		uid[k] = u - 1;
		m[k++] = m[i];
	}
	if (l->sad->in == NULL || k == 0) {
		espgw_esp_drop(l, NULL, m, k, ESPGW_DROP_NO_SA);
		return 0;
	}
	inb_sad_find(l, first, u, spi_ofs, found);
	for (i = 0; i < k; i++) {
		s = inb_not_host(found[uid[i]]);
		if (esp && !inb_check_one(l, m[i], s))
			continue;
		sa[j] = s;
		m[j++] = m[i];
	}
	return j;
}

/*
 * RFC 4303 3.4.3, before decryption: refuse what is left of the window or
 * already seen. The full number (ESN high bits inferred, RFC 4303 A2) goes
 * with the packet to the update after decryption.
 */
static uint16_t
inb_replay_check(
		struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n)
{
	const struct espgw_replay *r = sa->replay;
	const struct rte_esp_hdr *esp;
	uint16_t i, k = 0;
	uint64_t seq;

	if (r == NULL)
		return n;
	for (i = 0; i < n; i++) {
		esp = rte_pktmbuf_mtod_offset(
				m[i], const struct rte_esp_hdr *, m[i]->l2_len + m[i]->l3_len);
		seq = espgw_replay_seq(r, rte_be_to_cpu_32(esp->seq));
		if (espgw_replay_check(r, seq) != ESPGW_REPLAY_OK) {
			espgw_esp_drop(l, sa, &m[i], 1, ESPGW_DROP_REPLAY);
			continue;
		}
		*espgw_mbuf_seq(m[i]) = seq;
		m[k++] = m[i];
	}
	return k;
}

/*
 * Our window accepts less than rte_ipsec's, so rte_ipsec refuses a packet at
 * prepare only when it lacks tailroom for the AAD and ESN bits (ENOSPC), or,
 * should the windows ever disagree, for its sequence number.
 */
static enum espgw_drop
inb_prep_why(void)
{
	return rte_errno == ENOSPC ? ESPGW_DROP_CRYPTO_ERROR : ESPGW_DROP_REPLAY;
}

static void
inb_prepare_drop(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n)
{
	if (n != 0)
		espgw_esp_drop(l, sa, m, n, inb_prep_why());
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

	/* Transport: the next header is the packet's upper protocol, any. */
	if (t == NULL || (t[1] != sa->inner_proto && !sa->transport) ||
			hdr + t[0] + ESP_TRAILER_LEN > end)
		return true;
	pad_len = t[0];
	t = rte_pktmbuf_read(m, end - ESP_TRAILER_LEN - pad_len, pad_len, buf);
	for (i = 0; t != NULL && i < pad_len; i++)
		if (t[i] != i + 1)
			return true;
	return t == NULL;
}

/*
 * Was a refused packet decapsulated? A tunnel's has its lengths reset; a
 * transport one keeps its header in front, and no longer has the SA's SPI
 * behind it (only the error path reads this).
 */
static bool
inb_decapsulated(const struct espgw_sa_rt *sa, const struct rte_mbuf *m)
{
	rte_be32_t buf, spi;
	const void *p;

	if (m->l3_len == 0)
		return true;
	if (!sa->transport)
		return false;
	/* Behind an Ethernet header the word is 2-byte aligned only: copied. */
	p = rte_pktmbuf_read(m, m->l2_len + m->l3_len, sizeof(buf), &buf);
	if (p == NULL)
		return true;
	memcpy(&spi, p, sizeof(spi));
	return spi != rte_cpu_to_be_32(sa->conf->spi);
}

/*
 * rte_ipsec_pkt_process refuses a decrypted packet for a bad trailer (the
 * packet is left as it was) or, after decapsulating it, because the window
 * update found its sequence number taken: a duplicate within the same burst.
 */
static enum espgw_drop
inb_reject_reason(const struct espgw_sa_rt *sa, const struct rte_mbuf *m)
{
	if (inb_decapsulated(sa, m))
		return ESPGW_DROP_REPLAY;
	return trailer_bad(sa, m) ? ESPGW_DROP_BAD_PADDING : ESPGW_DROP_CRYPTO_ERROR;
}

/*
 * RFC 6040 4.2, Figure 4: the inner ECN field after decapsulation, by
 * [inner][outer] codepoint. Outer CE marks an ECN-capable inner packet CE and
 * drops a Not-ECT one; outer ECT(1) turns inner ECT(0) into ECT(1); outer
 * Not-ECT and ECT(0) leave the inner field as it is.
 */
static const uint8_t ecn_decap[4][4] = {
		/* outer: Not-ECT, ECT(1), ECT(0), CE */
		[ECN_NOT_ECT] = {ECN_NOT_ECT, ECN_NOT_ECT, ECN_NOT_ECT, ECN_DROP},
		[ECN_ECT1] = {ECN_ECT1, ECN_ECT1, ECN_ECT1, ECN_CE},
		[ECN_ECT0] = {ECN_ECT0, ECN_ECT1, ECN_ECT0, ECN_CE},
		[ECN_CE] = {ECN_CE, ECN_CE, ECN_CE, ECN_CE},
};

static int
ecn_decap_v4(struct rte_mbuf *m, uint32_t outer)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint8_t old, ecn;
	uint32_t sum;

	if (m->data_len < sizeof(*ip))
		return -1;
	old = ip->type_of_service & RTE_IPV4_HDR_ECN_MASK;
	ecn = ecn_decap[old][outer];
	if (ecn == ECN_DROP)
		return -1;
	if (ecn == old)
		return 0;
	/* RFC 1624 3: HC' = ~(~HC + ~m + m'), with the ECN bits the only change. */
	sum = (uint16_t)~rte_be_to_cpu_16(ip->hdr_checksum) + (uint16_t)~old + ecn;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->type_of_service = (ip->type_of_service & ~RTE_IPV4_HDR_ECN_MASK) | ecn;
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
	return 0;
}

static int
ecn_decap_v6(struct rte_mbuf *m, uint32_t outer)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	uint32_t vtc;
	uint8_t ecn;

	if (m->data_len < sizeof(*ip))
		return -1;
	vtc = rte_be_to_cpu_32(ip->vtc_flow);
	ecn = ecn_decap[(vtc >> RTE_IPV6_HDR_TC_SHIFT) & RTE_IPV4_HDR_ECN_MASK][outer];
	if (ecn == ECN_DROP)
		return -1;
	vtc = (vtc & ~(uint32_t)RTE_IPV6_HDR_ECN_MASK) | (uint32_t)ecn << RTE_IPV6_HDR_TC_SHIFT;
	ip->vtc_flow = rte_cpu_to_be_32(vtc);
	return 0;
}

int
espgw_esp_inb_ecn(const struct espgw_sa_rt *sa, struct rte_mbuf *m)
{
	uint32_t *f = espgw_mbuf_sa(m);
	uint32_t outer = *f >> ESPGW_ESP_IN_ECN_SHIFT;

	*f &= ESPGW_ESP_IN_IDX_MASK;
	/* Figure 4's Not-ECT and ECT(0) columns change nothing; transport has no outer header. */
	if (outer == ECN_NOT_ECT || outer == ECN_ECT0 || sa->transport)
		return 0;
	return sa->inner_proto == IPPROTO_IPIP ? ecn_decap_v4(m, outer) : ecn_decap_v6(m, outer);
}

/*
 * Just before rte_ipsec_pkt_process (see the top of this file): replay the
 * window's top through the group in order and drop what is old by then, or
 * what the window saw while the packet was with the cryptodev.
 */
static uint16_t
inb_replay_precommit(
		struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n)
{
	const struct espgw_replay *r = sa->replay;
	uint64_t top, seq;
	uint16_t i, k = 0;

	if (r == NULL)
		return n;
	top = r->top;
	for (i = 0; i < n; i++) {
		seq = *espgw_mbuf_seq(m[i]);
		if (espgw_replay_is_old(top, r->win, seq) ||
				espgw_replay_check(r, seq) != ESPGW_REPLAY_OK) {
			espgw_esp_drop(l, sa, &m[i], 1, ESPGW_DROP_REPLAY);
			continue;
		}
		top = RTE_MAX(top, seq);
		m[k++] = m[i];
	}
	return k;
}

/* RFC 4303 3.4.3: commit after the ICV verified; refuses a duplicate of this group. */
static bool
inb_replay_update(struct espgw_sa_rt *sa, struct rte_mbuf *m)
{
	return sa->replay == NULL ||
	       espgw_replay_update(sa->replay, *espgw_mbuf_seq(m)) == ESPGW_REPLAY_OK;
}

/*
 * Transport mode: rte_ipsec took ESP out from behind the packet's own
 * header and left the L2 header in front, the IPv4 checksum as it was: the
 * result starts at the IP header, as a tunnel's inner packet does.
 */
static void
inb_trs_done(const struct espgw_sa_rt *sa, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;

	rte_pktmbuf_adj(m, m->l2_len);
	m->l2_len = 0;
	m->l3_len = 0;
	ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	if ((ip->version_ihl >> 4) == IPVERSION) {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if (unlikely(sa->natoa != 0))
		espgw_trs_natoa(sa, m);
}

/*
 * RFC 3948, RFC 7296 2.23: ESP in UDP from another address or port than the
 * SA's peer (a NAT mapping changed). Read before decapsulation, published
 * only for a packet that then passed (the ICV verified): the worker that
 * committed it writes (the owner, or with decrypt any any worker), the
 * control path reports it, the SA itself does not change.
 */
struct natt_note {
	const struct rte_mbuf *m;
	struct espgw_ip ip;
	rte_be16_t port;
};

static bool
natt_source(const struct espgw_sa_rt *sa, const struct rte_mbuf *m, struct natt_note *nn)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	const struct rte_udp_hdr *udp =
			(const struct rte_udp_hdr *)(p + m->l3_len - sizeof(struct rte_udp_hdr));

	nn->m = m;
	nn->port = udp->src_port;
	memset(&nn->ip, 0, sizeof(nn->ip));
	if ((p[0] >> 4) == IPVERSION) {
		nn->ip.family = ESPGW_AF_INET;
		nn->ip.v4 = ((const struct rte_ipv4_hdr *)p)->src_addr;
	} else {
		nn->ip.family = ESPGW_AF_INET6;
		memcpy(nn->ip.v6, ((const struct rte_ipv6_hdr *)p)->src_addr, 16);
	}
	return nn->port != sa->natt_dport || !espgw_ip_equal(&nn->ip, &sa->peer);
}

/*
 * Before rte_ipsec_pkt_process: every packet of the group from elsewhere is
 * noted, so that a copy refused later (a replay from another port) cannot
 * hide a genuine one. Returns how many.
 */
static uint16_t
natt_scan(const struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n, struct natt_note nn[])
{
	uint16_t i, k = 0;

	for (i = 0; i < n; i++)
		k += natt_source(sa, m[i], &nn[k]);
	return k;
}

/* The last noted packet that passed (one of m[0..k)), or NULL. */
static const struct natt_note *
natt_passed(struct rte_mbuf *m[], uint16_t k, const struct natt_note nn[], uint16_t nk)
{
	uint16_t i, j;

	for (j = nk; j-- > 0;)
		for (i = 0; i < k; i++)
			if (m[i] == nn[j].m)
				return &nn[j];
	return NULL;
}

/* After: what the last packet that passed from elsewhere came from. */
static void
natt_publish(struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t k, const struct natt_note nn[],
		uint16_t nk)
{
	const struct natt_note *p = natt_passed(m, k, nn, nk);
	uint32_t gen;

	if (p == NULL)
		return;
	/*
	 * A sequence lock: odd while written. With decrypt any several workers
	 * may write: the one that makes it odd writes, another one then skips
	 * its note (the writer's is as recent).
	 */
	gen = __atomic_load_n(&sa->natt_gen, __ATOMIC_RELAXED);
	if ((gen & 1) != 0 || !__atomic_compare_exchange_n(&sa->natt_gen, &gen, gen + 1, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	sa->natt_seen = p->ip;
	sa->natt_seen_port = p->port;
	__atomic_store_n(&sa->natt_gen, gen + 2, __ATOMIC_RELEASE);
}

/* decrypt any with a window: every worker commits to the one window (replay.h, shared). */
static inline bool
inb_window_is_shared(const struct espgw_sa_rt *sa)
{
	return sa->decrypt_any && sa->replay != NULL;
}

/*
 * decrypt any (replay.h, shared): the group committed at once, one
 * compare-and-swap per window block rather than one a packet, since every
 * worker writes these lines.
 */
static __rte_noinline uint16_t
inb_window_shared(
		struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t k)
{
	uint64_t seq[ESPGW_ESP_BURST_MAX];
	bool ok[ESPGW_ESP_BURST_MAX];
	uint16_t i, j = 0;

	if (k == 0)
		return 0;
	for (i = 0; i < k; i++)
		seq[i] = *espgw_mbuf_seq(m[i]);
	espgw_replay_update_burst(sa->replay, seq, k, ok);
	for (i = 0; i < k; i++) {
		if (!ok[i]) {
			espgw_esp_drop(l, sa, &m[i], 1, ESPGW_DROP_REPLAY);
			continue;
		}
		m[j++] = m[i];
	}
	return j;
}

/* RFC 4303 3.4.3: the window committed, a duplicate within the group refused; compacts m. */
static uint16_t
inb_window(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t k)
{
	uint16_t i, j = 0;

	if (unlikely(inb_window_is_shared(sa)))
		return inb_window_shared(l, sa, m, k);

	for (i = 0; i < k; i++) {
		if (!inb_replay_update(sa, m[i])) {
			espgw_esp_drop(l, sa, &m[i], 1, ESPGW_DROP_REPLAY);
			continue;
		}
		m[j++] = m[i];
	}
	return j;
}

/*
 * A committed packet: transport's header fixed, RFC 6040 applied; into
 * done[] and counted in *bytes, or dropped.
 */
static inline void
inb_deliver_one(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m,
		struct rte_mbuf *done[], uint16_t *d, uint64_t *bytes)
{
	if (sa->transport)
		inb_trs_done(sa, m);
	if (espgw_esp_inb_ecn(sa, m) != 0) {
		espgw_esp_drop(l, sa, &m, 1, DROP_ECN_NOT_ECT);
		return;
	}
	*bytes += m->pkt_len;
	done[(*d)++] = m;
}

static uint16_t
inb_deliver(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t k,
		struct rte_mbuf *done[])
{
	uint64_t bytes = 0;
	uint16_t i, d = 0;

	for (i = 0; i < k; i++)
		inb_deliver_one(l, sa, m[i], done, &d, &bytes);
	espgw_esp_inb_counted(l, sa, done, d, bytes);
	return d;
}

/* RFC 4303 3.4.3: a verified packet's number committed, then the packet delivered. */
static inline void
inb_commit_one(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m,
		struct rte_mbuf *done[], uint16_t *d, uint64_t *bytes)
{
	if (!inb_replay_update(sa, m)) {
		espgw_esp_drop(l, sa, &m, 1, ESPGW_DROP_REPLAY);
		return;
	}
	inb_deliver_one(l, sa, m, done, d, bytes);
}

/*
 * Decapsulated packets: each one's number committed and the packet delivered
 * in one pass (its lines read once after decryption, not once per step:
 * scripts/bench, in-gcm128-direct). A window shared between workers
 * (decrypt any) takes the group at once.
 */
static uint16_t
inb_commit(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t k,
		struct rte_mbuf *done[])
{
	uint64_t bytes = 0;
	uint16_t i, d = 0;

	if (unlikely(inb_window_is_shared(sa)))
		return inb_deliver(l, sa, m, inb_window_shared(l, sa, m, k), done);
	for (i = 0; i < k; i++)
		inb_commit_one(l, sa, m[i], done, &d, &bytes);
	espgw_esp_inb_counted(l, sa, done, d, bytes);
	return d;
}

uint16_t
espgw_esp_inb_finish(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, struct rte_mbuf *done[])
{
	struct natt_note nn[ESPGW_ESP_BURST_MAX];
	uint16_t i, k, nk = 0;

	n = inb_replay_precommit(l, sa, m, n);
	if (n == 0)
		return 0;
	if (sa->encap && n <= ESPGW_ESP_BURST_MAX)
		nk = natt_scan(sa, m, n, nn);
	/* Transport in UDP (esp_trs_udp.c): rte_ipsec decapsulates IP|ESP only. */
	if (unlikely(sa->udp != ESPGW_SA_UDP_NONE))
		espgw_trs_udp_inb(m, n);
	k = rte_ipsec_pkt_process(&sa->ss, m, n);
	if (unlikely(nk != 0))
		natt_publish(sa, m, k, nn, nk);

	for (i = k; i < n; i++)
		espgw_esp_drop(l, sa, &m[i], 1, inb_reject_reason(sa, m[i]));
	return inb_commit(l, sa, m, k, done);
}

/*
 * Each packet verified and decapsulated (esp_gcm.c), its number committed
 * (RFC 4303 3.4.3: only once its ICV verified) and delivered before the next
 * one: the group's lines are read in one pass after the window check.
 */
static uint16_t
inb_direct_one_pass(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, struct rte_mbuf *done[])
{
	enum espgw_drop why;
	uint64_t bytes = 0;
	uint16_t i, d = 0;

	for (i = 0; i < n; i++) {
		why = espgw_esp_gcm_inb_one(sa, m[i]);
		if (why != ESPGW_DROP_MAX) {
			espgw_esp_drop(l, sa, &m[i], 1, why);
			continue;
		}
		inb_commit_one(l, sa, m[i], done, &d, &bytes);
	}
	espgw_esp_inb_counted(l, sa, done, d, bytes);
	return d;
}

/*
 * The direct path (esp_gcm.c): verified and decapsulated there, then the
 * commit. ESP in UDP from elsewhere is noted as on the other paths
 * (natt_scan) and published for what the window then took: a replayed copy
 * verifies as well as its original, only the window refuses it. As on the
 * other paths, a packet RFC 6040 4.2 drops after that still authenticated.
 */
static uint16_t
inb_direct(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n,
		struct rte_mbuf *done[])
{
	struct natt_note nn[ESPGW_ESP_BURST_MAX];
	uint16_t k, nk = 0;

	if (sa->encap && n <= ESPGW_ESP_BURST_MAX)
		nk = natt_scan(sa, m, n, nn);
	if (likely(nk == 0 && !inb_window_is_shared(sa)))
		return inb_direct_one_pass(l, sa, m, n, done);
	k = inb_window(l, sa, m, espgw_esp_gcm_inb(l, sa, m, n));
	if (nk != 0)
		natt_publish(sa, m, k, nn, nk);
	return inb_deliver(l, sa, m, k, done);
}

uint16_t
espgw_esp_inb_lookup(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[],
		uint16_t n)
{
	return inb_lookup(l, m, sa, n, ESP_SPI_OFS, sizeof(struct rte_esp_hdr), true);
}

/* The packet's destination is ip (the SA's local: a host behind us, RFC 4301 3.3). */
static bool
inb_dst_is(const struct rte_mbuf *m, const struct espgw_ip *ip)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);

	if ((p[0] >> 4) == IPVERSION)
		return ip->family == ESPGW_AF_INET &&
		       ((const struct rte_ipv4_hdr *)p)->dst_addr == ip->v4;
	return ip->family == ESPGW_AF_INET6 &&
	       memcmp(((const struct rte_ipv6_hdr *)p)->dst_addr, ip->v6, 16) == 0;
}

/*
 * Keeps in m[] / sa[] the packets of a bump-in-the-wire SA addressed to its
 * host (the SPI at spi_ofs behind the IP header, hdr_len bytes there), moves
 * the rest to rest[]; returns the count kept.
 */
static uint16_t
inb_bitw_pick(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n,
		struct rte_mbuf *rest[], uint16_t *n_rest, uint32_t spi_ofs, uint32_t hdr_len)
{
	union rte_ipsec_sad_key key[ESPGW_ESP_BURST_MAX];
	const union rte_ipsec_sad_key *kp[ESPGW_ESP_BURST_MAX];
	void *found[ESPGW_ESP_BURST_MAX];
	struct espgw_sa_rt *s;
	uint16_t i, k = 0, u = 0;

	for (i = 0; i < n; i++) {
		if (!inb_headers_ok(m[i], hdr_len)) {
			rest[(*n_rest)++] = m[i];
			continue;
		}
		inb_key(m[i], &key[u], spi_ofs);
		kp[u] = &key[u];
		m[u++] = m[i];
	}
	memset(found, 0, sizeof(found[0]) * u);
	if (u != 0 && l->sad->in != NULL)
		rte_ipsec_sad_lookup(l->sad->in, kp, found, u);
	for (i = 0; i < u; i++) {
		s = found[i];
		/* Only an inbound transport SA of that very host: the rest is transit. */
		if (s != NULL && s->bitw && inb_dst_is(m[i], &s->conf->local)) {
			sa[k] = s;
			m[k++] = m[i];
		} else {
			rest[(*n_rest)++] = m[i];
		}
	}
	return k;
}

uint16_t
espgw_esp_inb_bitw(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[],
		uint16_t n, struct rte_mbuf *rest[], uint16_t *n_rest)
{
	uint16_t k = inb_bitw_pick(
			l, m, sa, n, rest, n_rest, ESP_SPI_OFS, sizeof(struct rte_esp_hdr));

	return inb_check(l, m, sa, k);
}

uint16_t
espgw_ah_inb_bitw(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[],
		uint16_t n, struct rte_mbuf *rest[], uint16_t *n_rest)
{
	uint16_t k = inb_bitw_pick(l, m, sa, n, rest, n_rest, AH_SPI_OFS, ESPGW_AH_HDR_LEN);

	return espgw_ah_inb_check(l, m, sa, k);
}

uint16_t
espgw_ah_inb_lookup(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[],
		uint16_t n)
{
	uint16_t k = inb_lookup(l, m, sa, n, AH_SPI_OFS, ESPGW_AH_HDR_LEN, false);

	return espgw_ah_inb_check(l, m, sa, k);
}

uint16_t
espgw_esp_inb_owned(struct espgw_esp_lcore *l, struct rte_mbuf *m[], struct espgw_sa_rt *sa[],
		uint16_t n, struct rte_mbuf *done[])
{
	struct rte_mbuf *sorted[ESPGW_ESP_BURST_MAX];
	struct espgw_esp_grp g[ESPGW_ESP_BURST_MAX];
	struct rte_mbuf **gm = sorted;
	uint16_t i, k, ng, n_done = 0;

	ng = espgw_esp_group(m, sa, n, sorted, g);
	for (i = 0; i < ng; gm += g[i].cnt, i++) {
		/* Per SA group, chosen by the SA: ESP groups pay one test. */
		if (unlikely(g[i].sa->proto == ESPGW_SA_AH)) {
			n_done += espgw_ah_inb(l, g[i].sa, gm, g[i].cnt, done + n_done);
			continue;
		}
		k = inb_replay_check(l, g[i].sa, gm, g[i].cnt);
		if (k == 0)
			continue;
		/* The SA's path, chosen at setup: direct, CPU crypto or cryptodev. */
		if (g[i].sa->gcm != NULL)
			n_done += inb_direct(l, g[i].sa, gm, k, done + n_done);
		else if (g[i].sa->ss.type == RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO)
			n_done += inb_cpu(l, g[i].sa, gm, k, done + n_done);
		else
			espgw_esp_lksd(l, g[i].sa, gm, k, inb_prep_why, NULL);
	}
	return n_done;
}

uint16_t
espgw_esp_inb_handed(struct espgw_esp_lcore *l, struct rte_mbuf *m[], uint16_t n,
		struct rte_mbuf *done[])
{
	struct espgw_sa_rt *sa[ESPGW_ESP_BURST_MAX];
	uint16_t i;

	for (i = 0; i < n; i++)
		sa[i] = &l->sad->sa[espgw_esp_inb_sa_idx(m[i])];
	return espgw_esp_inb_owned(l, m, sa, n, done);
}

uint16_t
espgw_esp_inb(struct espgw_esp_lcore *l, struct rte_mbuf *m[], uint16_t n, struct rte_mbuf *done[])
{
	struct espgw_sa_rt *sa[ESPGW_ESP_BURST_MAX];
	uint16_t i, k, c, n_done = 0;

	for (i = 0; i < n; i += c) {
		c = RTE_MIN(n - i, ESPGW_ESP_BURST_MAX);
		k = espgw_esp_inb_lookup(l, m + i, sa, c);
		n_done += espgw_esp_inb_owned(l, m + i, sa, k, done + n_done);
	}
	return n_done;
}
