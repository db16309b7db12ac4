/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The AH integrity check value (RFC 4302 3.3.3), shared by both directions.
 * DPDK 22.11's rte_ipsec implements ESP only, so espgw builds and checks AH
 * itself: the ICV covers the outer IP header with its mutable fields zeroed,
 * the AH header with its ICV field zeroed, and the payload, plus (ESN) the
 * high 32 bits of the sequence number behind it, which are never sent
 * (RFC 4302 2.5.1, 3.3.3.3). The caller zeroes; this file says what is
 * mutable and runs the burst through synchronous CPU crypto.
 */
#include <rte_cryptodev.h>
#include <rte_ip.h>

#include "esp_int.h"

#define V4_TOS	     1
#define V4_FRAG	     6 /* flags and fragment offset, 2 bytes */
#define V4_TTL	     8
#define V4_CSUM	     10 /* 2 bytes */
#define V6_VTC	     0	/* version, traffic class, flow label: 4 bytes */
#define V6_HOP	     7
#define V6_VER_MASK  0xf0
#define AH_NONCE_LEN 12 /* RFC 4543 3.1: salt || IV */

/*
 * RFC 4302 3.3.3.1.1.1: IPv4 TOS (DSCP and ECN), flags, fragment offset,
 * TTL and header checksum are mutable; 3.3.3.1.2.1: IPv6 traffic class, flow
 * label and hop limit. The version stays. Options and extension headers
 * behind it: espgw_ah_opts().
 */
void
espgw_ah_mutable_zero(uint8_t *ip)
{
	if ((ip[0] >> 4) == IPVERSION) {
		ip[V4_TOS] = 0;
		memset(ip + V4_FRAG, 0, 2);
		ip[V4_TTL] = 0;
		memset(ip + V4_CSUM, 0, 2);
	} else {
		ip[V6_VTC] &= V6_VER_MASK;
		memset(ip + V6_VTC + 1, 0, 3);
		ip[V6_HOP] = 0;
	}
}

/*
 * RFC 4302 3.3.3.1.1.2: of the IPv4 options, end of list, NOP, the security
 * options and router alert are immutable; any other option is zeroed whole.
 */
static bool
v4_opt_immutable(uint8_t type)
{
	return type == 0 || type == 1 || type == 130 || type == 133 || type == 134 || type == 148 ||
	       type == 149;
}

static int
v4_opts(uint8_t *o, uint32_t len, bool zero)
{
	uint32_t i = 0, n;

	while (i < len && o[i] != 0) {
		n = o[i] == 1 ? 1 : (i + 1 < len ? o[i + 1] : 0);
		if (n < 1 || i + n > len || (o[i] != 1 && n < 2))
			return -1;
		if (zero && !v4_opt_immutable(o[i]))
			memset(o + i, 0, n);
		i += n;
	}
	return 0;
}

/* RFC 4302 3.3.3.1.2.2, RFC 8200 4.2: an option whose type has 0x20 set may change: data zeroed. */
static int
v6_tlvs(uint8_t *o, uint32_t len, bool zero)
{
	uint32_t i = 2, n;

	while (i < len) {
		if (o[i] == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (i + 2 > len || i + 2 + o[i + 1] > len)
			return -1;
		n = o[i + 1];
		if (zero && (o[i] & 0x20))
			memset(o + i + 2, 0, n);
		i += 2 + n;
	}
	return 0;
}

/*
 * The IPv6 extension headers before AH: hop-by-hop and destination options
 * are walked; a routing header (mutable but predictable, 3.3.3.1.2.2) or a
 * fragment header (AH is not reassembled) is refused.
 */
static int
v6_exts(uint8_t *ip, uint32_t l3_len, bool zero)
{
	uint32_t off = sizeof(struct rte_ipv6_hdr), n;
	uint8_t nh = ip[6];

	while (off < l3_len) {
		if ((nh != IPPROTO_HOPOPTS && nh != IPPROTO_DSTOPTS) || off + 2 > l3_len)
			return -1;
		n = (ip[off + 1] + 1u) * 8;
		if (off + n > l3_len || v6_tlvs(ip + off, n, zero) != 0)
			return -1;
		nh = ip[off];
		off += n;
	}
	return 0;
}

int
espgw_ah_opts(uint8_t *ip, uint32_t l3_len, bool zero)
{
	if ((ip[0] >> 4) == IPVERSION)
		return v4_opts(ip + sizeof(struct rte_ipv4_hdr),
				l3_len - sizeof(struct rte_ipv4_hdr), zero);
	return v6_exts(ip, l3_len, zero);
}

/* ESN: the high bits go behind the packet for the computation only (RFC 4302 2.5.1). */
static void
esn_append(struct rte_mbuf *m, uint64_t seq)
{
	rte_be32_t hi = rte_cpu_to_be_32((uint32_t)(seq >> 32));

	memcpy(rte_pktmbuf_append(m, sizeof(hi)), &hi, sizeof(hi));
}

bool
espgw_ah_room_ok(const struct espgw_sa_rt *sa, const struct rte_mbuf *m)
{
	return rte_pktmbuf_is_contiguous(m) &&
	       (!sa->ah->esn || rte_pktmbuf_tailroom(m) >= sizeof(rte_be32_t));
}

/*
 * RFC 4543 5: the AES-GMAC nonce is the SA's salt and the IV the packet
 * carries after the AH fixed fields (behind the l3_len bytes of the outer
 * header). HMAC has no IV.
 */
static void
nonce_fill(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t nonce[AH_NONCE_LEN])
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len + m->l3_len);

	memcpy(nonce, sa->ah->salt, sizeof(sa->ah->salt));
	memcpy(nonce + sizeof(sa->ah->salt), p + ESPGW_AH_HDR_LEN, sa->ah->iv_len);
}

static void
vec_fill(struct rte_mbuf *m, struct rte_crypto_vec *v, struct rte_crypto_sgl *sgl)
{
	v->base = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);
	v->iova = rte_pktmbuf_iova_offset(m, m->l2_len);
	v->len = m->data_len - m->l2_len;
	v->tot_len = v->len;
	sgl->vec = v;
	sgl->num = 1;
}

/*
 * ICVs of m[0..n) (from the outer IP header at l2_len to the end, zeroed as
 * RFC 4302 3.3.3 says, espgw_ah_room_ok) into icv[i]; seq[i] the full
 * sequence number for ESN. status[i] is 0 when icv[i] is valid.
 */
void
espgw_ah_icv(const struct espgw_sa_rt *sa, struct rte_mbuf *m[], const uint64_t seq[], uint16_t n,
		uint8_t icv[][ESPGW_AH_ICV_MAX], int32_t status[])
{
	uint8_t nonce[ESPGW_ESP_BURST_MAX][AH_NONCE_LEN];
	struct rte_crypto_vec v[ESPGW_ESP_BURST_MAX];
	struct rte_crypto_sgl sgl[ESPGW_ESP_BURST_MAX];
	struct rte_crypto_va_iova_ptr iv[ESPGW_ESP_BURST_MAX], dg[ESPGW_ESP_BURST_MAX];
	struct rte_crypto_sym_vec sv = {.num = n,
			.src_sgl = sgl,
			.iv = iv,
			.digest = dg,
			.aad = iv,
			.status = status};
	union rte_crypto_sym_ofs ofs = {.raw = 0};
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (sa->ah->esn)
			esn_append(m[i], seq[i]);
		vec_fill(m[i], &v[i], &sgl[i]);
		if (sa->ah->iv_len != 0)
			nonce_fill(sa, m[i], nonce[i]);
		iv[i].va = nonce[i]; /* HMAC: unused, but the PMD reads the pointer */
		dg[i].va = icv[i];
	}
	rte_cryptodev_sym_cpu_crypto_process(sa->ss.crypto.dev_id, sa->ss.crypto.ses, ofs, &sv);
	for (i = 0; sa->ah->esn && i < n; i++)
		rte_pktmbuf_trim(m[i], sizeof(rte_be32_t));
}
