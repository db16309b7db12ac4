/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP tunnel mode with AES-GCM (RFC 4303, RFC 4106) on the direct path: the
 * worker calls the SA's Intel IPsec-MB functions (lib/crypto/espgw_gcm.h)
 * per packet and writes or checks the ESP framing itself. rte_ipsec with
 * rte_cryptodev_sym_cpu_crypto_process costs about as many cycles around
 * a 64-byte packet's AES-GCM call as the call itself (README, What changed
 * the numbers), and DPDK has no lighter API to the same library; so this
 * file does, for the SAs that fit it (espgw_crypto_direct_unfit), what
 * rte_ipsec does for the others, with the same checks and drop reasons.
 * Segmented packets are served too, through the library's init / update /
 * finalize calls, and ESP in UDP (RFC 3948): the UDP header is part of the
 * SA's template, its length written per packet, its checksum over IPv6
 * computed after the crypto (espgw_esp_udp6_cksum).
 */
#include <rte_esp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "esp_int.h"
#include "espgw_gcm.h"

#define ESP_HDR_LEN ((uint32_t)sizeof(struct rte_esp_hdr)) /* SPI, sequence number */
#define GCM_HDR_LEN (ESP_HDR_LEN + ESPGW_GCM_IV_LEN)
#define GCM_ICV	    ESPGW_GCM_ICV_LEN
#define TRAILER_LEN 2  /* pad length, next header (RFC 4303 2) */
#define GCM_ALIGN   4  /* RFC 4303 2.4: no cipher block, the payload ends on 4 bytes */
#define GCM_AAD_MAX 12 /* RFC 4106 5: SPI, ESN high bits, sequence number */
#define GCM_PASS    ESPGW_DROP_MAX

/*
 * A nonce or AAD written in one 16-byte store, just before the call that
 * reads it: IPsec-MB reads them with vector loads, which a store covering all
 * of the bytes read can forward; written in pieces (4 and 8 bytes), each call
 * waited until those stores reached the cache. espgw_esp_outb went from 138
 * to 123 cycles a packet at 64 B with one SA, espgw_esp_inb from 158 to 145
 * (scripts/bench/esp_stage.sh, README "The store buffer").
 */
typedef uint64_t gcm_block __attribute__((vector_size(16), aligned(16)));

#if RTE_BYTE_ORDER != RTE_LITTLE_ENDIAN
#error "gcm_nonce and gcm_aad lay bytes out as a little-endian CPU stores them"
#endif

/* RFC 4106 4: salt || IV, in memory order (bytes 0-3, 4-11). */
static inline gcm_block
gcm_nonce(const struct espgw_gcm_sa *g, const void *iv)
{
	uint32_t salt;
	uint64_t v;

	memcpy(&salt, g->salt, sizeof(salt));
	memcpy(&v, iv, sizeof(v));
	return (gcm_block){salt | v << 32, v >> 32};
}

/* RFC 4106 5: SPI || sequence number, or SPI || ESN high half || low half. */
static inline gcm_block
gcm_aad(const struct espgw_gcm_sa *g, uint64_t seq, uint32_t *len)
{
	uint64_t spi = (uint32_t)g->spi;
	uint64_t hi = rte_cpu_to_be_32((uint32_t)(seq >> 32));
	uint64_t lo = rte_cpu_to_be_32((uint32_t)seq);

	*len = g->esn ? GCM_AAD_MAX : 8;
	return g->esn ? (gcm_block){spi | hi << 32, lo} : (gcm_block){spi | lo << 32, 0};
}

/*
 * AES-GCM over len bytes at offset ofs of a segmented packet, in place, the
 * tag to tag: the library keeps partial blocks between the segments.
 */
static void
gcm_chain(const struct espgw_gcm_sa *g, struct rte_mbuf *m, uint32_t ofs, uint32_t len,
		const uint8_t *nonce, const uint8_t *aad, uint32_t aad_len, uint8_t *tag)
{
	struct gcm_context_data ctx;
	struct rte_mbuf *s = m;
	uint8_t *p;
	uint32_t k;

	g->init(&g->key, &ctx, nonce, aad, aad_len);
	while (s != NULL && ofs >= s->data_len) {
		ofs -= s->data_len;
		s = s->next;
	}
	for (; s != NULL && len != 0; s = s->next, ofs = 0) {
		k = RTE_MIN(len, (uint32_t)s->data_len - ofs);
		p = rte_pktmbuf_mtod_offset(s, uint8_t *, ofs);
		g->update(&g->key, &ctx, p, p, k);
		len -= k;
	}
	g->finalize(&g->key, &ctx, tag, GCM_ICV);
}

static void
gcm_run(const struct espgw_gcm_sa *g, struct rte_mbuf *m, uint32_t ofs, uint32_t len,
		const uint8_t *nonce, const uint8_t *aad, uint32_t aad_len, uint8_t *tag)
{
	struct gcm_context_data ctx;
	uint8_t *p;

	if (m->nb_segs != 1) {
		gcm_chain(g, m, ofs, len, nonce, aad, aad_len, tag);
		return;
	}
	p = rte_pktmbuf_mtod_offset(m, uint8_t *, ofs);
	g->crypt(&g->key, &ctx, p, p, len, nonce, aad, aad_len, tag, GCM_ICV);
}

/*
 * RFC 4303 3.3.3: numbers for n packets at once; *n shrinks to those below
 * the limit (2^32 without ESN), as rte_ipsec's counter does for the others.
 */
static uint64_t
gcm_seq_take(struct espgw_gcm_sa *g, uint16_t *n)
{
	uint64_t k = *n, next, over, max = espgw_gcm_sqn_max(g);

	if (g->atomic) {
		next = __atomic_add_fetch(&g->seq, k, __ATOMIC_RELAXED);
	} else {
		next = g->seq + k;
		g->seq = next;
	}
	if (next > max) {
		over = next - max;
		*n = over < k ? (uint16_t)(k - over) : 0;
	}
	return next - k;
}

/*
 * The outer header's lengths (and UDP's, RFC 3948 2.1); the IPv4 id from the
 * sequence number, as rte_ipsec's.
 */
static inline void
outer_lens(uint8_t *h, const struct espgw_gcm_sa *g, uint32_t pkt_len, uint64_t seq)
{
	struct rte_ipv4_hdr *ip4 = (struct rte_ipv4_hdr *)h;
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)h;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(h + g->ip_len);

	if (g->ip_len == sizeof(*ip4)) {
		ip4->total_length = rte_cpu_to_be_16((uint16_t)pkt_len);
		ip4->packet_id = rte_cpu_to_be_16((uint16_t)seq);
	} else {
		ip6->payload_len = rte_cpu_to_be_16((uint16_t)(pkt_len - sizeof(*ip6)));
	}
	if (g->tmpl_len != g->ip_len)
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(pkt_len - g->ip_len));
}

/* RFC 4303 2.4: padding 1, 2, 3, ... to the alignment, then the trailer (2.5, 2.6). */
static inline void
esp_trailer(uint8_t *t, uint32_t pad, uint8_t nh)
{
	uint32_t i;

	for (i = 0; i < pad; i++)
		t[i] = (uint8_t)(i + 1);
	t[pad] = (uint8_t)pad;
	t[pad + 1] = nh;
}

/*
 * RFC 4303 3.1.2, 3.3: the inner packet (after its L2 header) becomes outer
 * header, ESP header, IV, payload, padding, trailer, ICV, encrypted in place.
 * False when the mbuf has no room (as rte_ipsec, counted as crypto_error).
 */
static bool
gcm_outb_one(const struct espgw_sa_rt *sa, const struct espgw_gcm_sa *g, struct rte_mbuf *m,
		uint64_t seq)
{
	uint32_t plen = m->pkt_len - m->l2_len;
	uint32_t clen = RTE_ALIGN_CEIL(plen + TRAILER_LEN, GCM_ALIGN);
	uint32_t pad = clen - plen - TRAILER_LEN, hlen = g->tmpl_len + GCM_HDR_LEN, aad_len;
	rte_be64_t iv = rte_cpu_to_be_64(seq);
	rte_be32_t sq = rte_cpu_to_be_32((uint32_t)seq);
	gcm_block nonce, aad;
	uint8_t *h, *t;

	if ((uint32_t)rte_pktmbuf_headroom(m) + m->l2_len < hlen)
		return false;
	t = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(pad + TRAILER_LEN + GCM_ICV));
	if (t == NULL)
		return false;
	esp_trailer(t, pad, sa->inner_proto);
	rte_pktmbuf_adj(m, m->l2_len);
	h = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)hlen);
	memcpy(h, g->tmpl, g->tmpl_len);
	outer_lens(h, g, m->pkt_len, seq);
	memcpy(h + g->tmpl_len, &g->spi, sizeof(g->spi));
	memcpy(h + g->tmpl_len + 4, &sq, sizeof(sq));
	memcpy(h + g->tmpl_len + ESP_HDR_LEN, &iv, sizeof(iv));
	nonce = gcm_nonce(g, &iv);
	aad = gcm_aad(g, seq, &aad_len);
	gcm_run(g, m, hlen, clen, (const uint8_t *)&nonce, (const uint8_t *)&aad, aad_len,
			t + pad + TRAILER_LEN);
	m->l2_len = 0;
	m->l3_len = g->tmpl_len;
	m->packet_type = g->ptype;
	return true;
}

/* gcm_outb_one's room: headroom for the headers, tailroom for trailer and ICV. */
static inline bool
gcm_outb_fits(const struct espgw_gcm_sa *g, struct rte_mbuf *m)
{
	uint32_t plen = m->pkt_len - m->l2_len;
	uint32_t tail = RTE_ALIGN_CEIL(plen + TRAILER_LEN, GCM_ALIGN) - plen + GCM_ICV;

	return (uint32_t)rte_pktmbuf_headroom(m) + m->l2_len >= g->tmpl_len + GCM_HDR_LEN &&
	       rte_pktmbuf_tailroom(rte_pktmbuf_lastseg(m)) >= tail;
}

/*
 * seq-order strict: the owner sends number s only after every lower one
 * (lib/dp/order.c), so a number taken must never be lost on the way. What
 * could not be framed is dropped before the numbers are taken.
 */
static uint16_t
gcm_outb_fit(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n)
{
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (gcm_outb_fits(sa->gcm, m[i]))
			m[k++] = m[i];
		else
			espgw_esp_drop(l, sa, &m[i], 1, ESPGW_DROP_CRYPTO_ERROR);
	}
	return k;
}

static inline uint16_t
gcm_outb_take(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n,
		uint64_t *seq)
{
	uint16_t k;

	if (unlikely(sa->gcm->ordered))
		n = gcm_outb_fit(l, sa, m, n);
	k = n;
	*seq = gcm_seq_take(sa->gcm, &k);
	espgw_esp_drop(l, sa, m + k, n - k, ESPGW_DROP_SQN_OVERFLOW);
	return k;
}

uint16_t
espgw_esp_gcm_outb_take(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, uint64_t *seq)
{
	return gcm_outb_take(l, sa, m, n, seq);
}

/*
 * One function for both cases, so that it has one caller and compiles into
 * it whole (with the framing loop apart, one worker lost 3-4 cycles a
 * packet, -Dburst_cycles=true).
 */
uint16_t
espgw_esp_gcm_outb(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, const uint64_t *taken, struct rte_mbuf *done[])
{
	struct espgw_sa_counters *sc = &l->stats->sa[sa->idx];
	struct espgw_gcm_sa *g = sa->gcm;
	uint64_t seq, bytes = 0;
	uint16_t i, j = 0, k = n;
	uint32_t v;

	if (taken != NULL)
		seq = *taken;
	else
		k = gcm_outb_take(l, sa, m, n, &seq);
	/*
	 * Each packet read, framed, marked and counted in one pass: a pass
	 * before or after this one reads every packet's lines again, about 15
	 * cycles a packet each (out-gcm128-direct at 64 B: 1.04 for each of the
	 * two passes folded in, scripts/bench/bench.py --vs-espgw).
	 */
	for (i = 0; i < k; i++) {
		v = espgw_esp_outb_meta(m[i]);
		if (!gcm_outb_one(sa, g, m[i], seq + i)) {
			espgw_esp_drop(l, sa, &m[i], 1, ESPGW_DROP_CRYPTO_ERROR);
			continue;
		}
		*espgw_mbuf_sa(m[i]) = sa->idx;
		bytes += v & ESP_OUT_LEN_MASK;
		sa->outb_fixup(sa, m[i], (uint8_t)(v >> ESP_OUT_TOS_SHIFT),
				(uint8_t)(v >> ESP_OUT_DF_SHIFT));
		if (unlikely(g->ordered))
			*espgw_mbuf_seq(m[i]) = seq + i; /* its place in the owner's window */
		done[j++] = m[i];
	}
	if (g->udp6)
		espgw_esp_udp6_cksum(done, j);
	sc->bytes += bytes;
	sc->pkts += j;
	return j;
}

/* Constant time (no early exit on the first byte that differs). */
static inline bool
icv_equal(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* RFC 4303 2.4: pad bytes 1, 2, 3, ...; 2.6: the next header the SA carries. */
static bool
gcm_trailer_ok(const struct espgw_sa_rt *sa, const struct rte_mbuf *m, uint32_t end, uint32_t clen,
		uint8_t *pad_len)
{
	uint8_t buf[UINT8_MAX + TRAILER_LEN];
	const uint8_t *t = rte_pktmbuf_read(m, end - TRAILER_LEN, TRAILER_LEN, buf);
	uint32_t i;

	if (t == NULL || t[1] != sa->inner_proto || (uint32_t)t[0] + TRAILER_LEN > clen)
		return false;
	*pad_len = t[0];
	t = rte_pktmbuf_read(m, end - TRAILER_LEN - *pad_len, *pad_len, buf);
	for (i = 0; t != NULL && i < *pad_len; i++)
		if (t[i] != i + 1)
			return false;
	return t != NULL;
}

/* Drop len bytes from the end, across segments (rte_pktmbuf_trim takes the last one only). */
static void
chain_trim(struct rte_mbuf *m, uint32_t len)
{
	uint32_t keep = m->pkt_len - len;
	struct rte_mbuf *s = m;
	uint16_t nseg = 1;

	if (rte_pktmbuf_trim(m, (uint16_t)len) == 0)
		return;
	m->pkt_len = keep;
	while (keep > s->data_len) {
		keep -= s->data_len;
		s = s->next;
		nseg++;
	}
	s->data_len = (uint16_t)keep;
	rte_pktmbuf_free(s->next);
	s->next = NULL;
	m->nb_segs = nseg;
}

/*
 * RFC 4303 3.4.4: verify and decrypt (the window was checked before, the
 * caller commits it after), check the trailer, take the outer header, ESP
 * header, IV, padding, trailer and ICV off: the packet starts at the inner
 * header, as rte_ipsec leaves a tunnel's. Returns GCM_PASS or the reason.
 */
static enum espgw_drop
gcm_inb_one(const struct espgw_sa_rt *sa, const struct espgw_gcm_sa *g, struct rte_mbuf *m)
{
	uint32_t hdr = m->l2_len + m->l3_len;
	uint32_t clen = m->pkt_len - hdr - GCM_HDR_LEN - GCM_ICV, aad_len;
	uint8_t tag[GCM_ICV], buf[GCM_ICV];
	gcm_block nonce, aad;
	const struct rte_esp_hdr *esp;
	const uint8_t *icv;
	uint8_t pad_len;
	uint64_t seq;

	/* The headers leave from the first segment. */
	if (m->data_len < hdr + GCM_HDR_LEN)
		return ESPGW_DROP_BAD_LENGTH;
	esp = rte_pktmbuf_mtod_offset(m, const struct rte_esp_hdr *, hdr);
	/* The full number the window check inferred (ESN high bits, RFC 4303 A2). */
	seq = sa->replay != NULL ? *espgw_mbuf_seq(m) : rte_be_to_cpu_32(esp->seq);
	nonce = gcm_nonce(g, esp + 1);
	aad = gcm_aad(g, seq, &aad_len);
	gcm_run(g, m, hdr + GCM_HDR_LEN, clen, (const uint8_t *)&nonce, (const uint8_t *)&aad,
			aad_len, tag);
	icv = rte_pktmbuf_read(m, hdr + GCM_HDR_LEN + clen, GCM_ICV, buf);
	if (icv == NULL || !icv_equal(tag, icv))
		return ESPGW_DROP_AUTH_FAIL;
	if (!gcm_trailer_ok(sa, m, hdr + GCM_HDR_LEN + clen, clen, &pad_len))
		return ESPGW_DROP_BAD_PADDING;
	rte_pktmbuf_adj(m, (uint16_t)(hdr + GCM_HDR_LEN));
	chain_trim(m, pad_len + TRAILER_LEN + GCM_ICV);
	m->l2_len = 0;
	m->l3_len = 0;
	m->packet_type = RTE_PTYPE_UNKNOWN;
	return GCM_PASS;
}

enum espgw_drop
espgw_esp_gcm_inb_one(const struct espgw_sa_rt *sa, struct rte_mbuf *m)
{
	return gcm_inb_one(sa, sa->gcm, m);
}

uint16_t
espgw_esp_gcm_inb(
		struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n)
{
	enum espgw_drop why;
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		why = gcm_inb_one(sa, sa->gcm, m[i]);
		if (why != GCM_PASS) {
			espgw_esp_drop(l, sa, &m[i], 1, why);
			continue;
		}
		m[k++] = m[i];
	}
	return k;
}
