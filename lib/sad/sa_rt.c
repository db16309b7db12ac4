/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One SA's runtime object: the rte_ipsec SA, its crypto session on the SA's
 * device, and the rte_ipsec session that binds them with the processing
 * functions for the SA's crypto path (cryptodev or synchronous CPU crypto).
 * Everything the data path would otherwise branch on is decided here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "espgw_crypto_xform.h"
#include "espgw_gcm.h"
#include "sad_int.h"

#define ESP_MIN_ALIGN  4 /* RFC 4303 2.4: payload ends on a 4-byte boundary */
#define ESN_SQH_LEN    4
#define ESN_MIN_WINDOW 64u /* rte_ipsec's floor for ESN SAs (WINDOW_BUCKET_SIZE) */

uint8_t
espgw_sa_inner_proto(const struct espgw_sa_conf *sa)
{
	uint8_t fam = sa->inner_family != 0 ? sa->inner_family : sa->local.family;

	return fam == ESPGW_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
}

static const struct espgw_algo_info *
info_or_none(enum espgw_algo a)
{
	static const struct espgw_algo_info none;
	const struct espgw_algo_info *i = espgw_algo_info(a);

	return i != NULL ? i : &none;
}

/* Wire sizes the inbound length check needs without touching the cold config. */
static void
lens_init(struct espgw_sa_rt *rt, const struct espgw_sa_conf *sa)
{
	bool aead = sa->aead != ESPGW_ALGO_NONE;
	const struct espgw_algo_info *enc = info_or_none(aead ? sa->aead : sa->cipher);
	const struct espgw_algo_info *integ = info_or_none(aead ? sa->aead : sa->auth);

	rt->esp_iv_len = RTE_MAX(enc->iv_len, integ->iv_len); /* GMAC: the IV is integrity's */
	rt->esp_icv_len = integ->icv_len;
	rt->esp_align = RTE_MAX(enc->block, (uint8_t)ESP_MIN_ALIGN);
	rt->sqh_len = sa->esn ? ESN_SQH_LEN : 0;
}

static void
prm_fill(struct rte_ipsec_sa_prm *p, const struct espgw_sa_rt *rt, const uint8_t *hdr,
		uint8_t hdr_len, unsigned int n_workers)
{
	const struct espgw_sa_conf *sa = rt->conf;
	bool out = sa->dir == ESPGW_DIR_OUT;

	p->userdata = rt->idx;
	/*
	 * Outbound, every worker may classify a packet to any SA (RSS spreads the
	 * protected side): the sequence counter is taken with an atomic add, once
	 * per SA group of a burst (RFC 4303 3.3.3: never the same number twice).
	 * Inbound, only the SA's owner runs it (lib/dp/handoff.c): no atomics,
	 * where rte_ipsec's would take a lock per group and copy its window.
	 */
	p->flags = out && n_workers > 1 ? RTE_IPSEC_SAFLAG_SQN_ATOM : 0;
	p->ipsec_xform.spi = sa->spi;
	memcpy(&p->ipsec_xform.salt, sa->salt, sizeof(p->ipsec_xform.salt));
	p->ipsec_xform.options.esn = sa->esn;
	p->ipsec_xform.direction =
			out ? RTE_SECURITY_IPSEC_SA_DIR_EGRESS : RTE_SECURITY_IPSEC_SA_DIR_INGRESS;
	p->ipsec_xform.proto = RTE_SECURITY_IPSEC_SA_PROTO_ESP;
	p->ipsec_xform.replay_win_sz = out ? 0 : sa->replay_window;
	if (rt->transport) {
		/* The packets' own IP version; ESP goes after their header (RFC 4303 3.1.1). */
		p->ipsec_xform.mode = RTE_SECURITY_IPSEC_SA_MODE_TRANSPORT;
		p->trs.proto = rt->inner_proto;
		return;
	}
	p->ipsec_xform.mode = RTE_SECURITY_IPSEC_SA_MODE_TUNNEL;
	p->ipsec_xform.tunnel.type = rt->outer_family == ESPGW_AF_INET
						     ? RTE_SECURITY_IPSEC_TUNNEL_IPV4
						     : RTE_SECURITY_IPSEC_TUNNEL_IPV6;
	if (out && sa->encap_udp) {
		/* RFC 3948 2.1: rte_ipsec adds the UDP header (checksum 0) to the template. */
		p->ipsec_xform.options.udp_encap = 1;
		p->ipsec_xform.udp.sport = sa->encap_sport;
		p->ipsec_xform.udp.dport = sa->encap_dport;
	}
	p->tun.hdr_len = hdr_len;
	p->tun.hdr_l3_off = 0; /* output starts at the outer IP header */
	p->tun.next_proto = rt->inner_proto;
	p->tun.hdr = hdr;
}

static int
ipsec_sa_create(struct espgw_sa_rt *rt, struct rte_ipsec_sa_prm *p, int socket,
		struct espgw_err *err)
{
	int sz = rte_ipsec_sa_size(p);

	if (sz > 0)
		rt->ipsec_sa = rte_zmalloc_socket(
				"espgw_ipsec_sa", sz, RTE_CACHE_LINE_SIZE, socket);
	if (sz > 0 && rt->ipsec_sa != NULL) {
		rt->ipsec_sa_size = (uint32_t)sz;
		sz = rte_ipsec_sa_init(rt->ipsec_sa, p, sz);
	}
	if (sz > 0 && rt->ipsec_sa != NULL)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "sa %s: rte_ipsec refuses the SA: %s", rt->conf->name,
			sz < 0 ? rte_strerror(-sz) : "out of memory");
	return -1;
}

/* The crypto session on the SA's device, and the crypto path in rt->ss.type. */
static int
sym_session_create(struct espgw_sa_rt *rt, struct espgw_crypto_xforms *x,
		const struct espgw_sa_rt_prm *p, struct espgw_err *err)
{
	uint8_t dev = espgw_crypto_dev_for(p->c, p->s, rt->conf);
	bool cpu = espgw_crypto_path_of(p->c, p->s, rt->conf) == ESPGW_CRYPTO_PATH_CPU;

	rt->ss.crypto.ses = rte_cryptodev_sym_session_create(dev, &x->xf[0], p->c->sess_pool);
	if (rt->ss.crypto.ses == NULL) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: crypto device %s refuses the session: %s", rt->conf->name,
				rte_cryptodev_name_get(dev), rte_strerror(rte_errno));
		return -1;
	}
	rt->ss.crypto.dev_id = dev;
	rt->ss.type = cpu ? RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO : RTE_SECURITY_ACTION_TYPE_NONE;
	return 0;
}

static int
session_create(struct espgw_sa_rt *rt, struct espgw_crypto_xforms *x,
		const struct espgw_sa_rt_prm *p, struct espgw_err *err)
{
	int rc;

	if (sym_session_create(rt, x, p, err) != 0)
		return -1;
	rt->ss.sa = rt->ipsec_sa;
	rc = rte_ipsec_session_prepare(&rt->ss);
	if (rc == 0)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "sa %s: rte_ipsec refuses the session: %s",
			rt->conf->name, rte_strerror(-rc));
	return -1;
}

/*
 * rte_ipsec_sa_init() always starts an outbound SA at sequence number 1 and
 * DPDK 22.11 has no call to choose another start (which rekeying tests and
 * the "seq" option need). The counter is a plain 64-bit word holding the next
 * number to send; find it in a probe SA whose other words cannot read 1 (no
 * byte of its configuration is 0x01) and require exactly one match, so that a
 * layout change refuses "seq" instead of corrupting an SA.
 */
static const struct rte_ipv4_hdr probe_hdr = {
		.version_ihl = RTE_IPV4_VHL_DEF,
		.time_to_live = 64,
		.next_proto_id = IPPROTO_ESP,
};

static void
probe_prm(struct rte_ipsec_sa_prm *p, struct rte_crypto_sym_xform xf[2])
{
	memset(xf, 0, 2 * sizeof(xf[0]));
	xf[0].type = RTE_CRYPTO_SYM_XFORM_CIPHER;
	xf[0].cipher.algo = RTE_CRYPTO_CIPHER_NULL;
	xf[0].next = &xf[1];
	xf[1].type = RTE_CRYPTO_SYM_XFORM_AUTH;
	xf[1].auth.algo = RTE_CRYPTO_AUTH_SHA1_HMAC;
	xf[1].auth.digest_length = 12;
	memset(p, 0, sizeof(*p));
	p->crypto_xform = xf;
	p->ipsec_xform.spi = 0x22222222;
	p->ipsec_xform.direction = RTE_SECURITY_IPSEC_SA_DIR_EGRESS;
	p->ipsec_xform.proto = RTE_SECURITY_IPSEC_SA_PROTO_ESP;
	p->ipsec_xform.mode = RTE_SECURITY_IPSEC_SA_MODE_TUNNEL;
	p->ipsec_xform.tunnel.type = RTE_SECURITY_IPSEC_TUNNEL_IPV4;
	p->tun.hdr_len = sizeof(probe_hdr);
	p->tun.next_proto = IPPROTO_IPIP;
	p->tun.hdr = &probe_hdr;
}

/* Offset of the only 64-bit word holding 1, or -1. */
static long
probe_scan(const uint8_t *sa, int sz)
{
	long ofs = -1, n = 0, i;
	uint64_t w;

	for (i = 0; i + (long)sizeof(w) <= sz; i += sizeof(w)) {
		memcpy(&w, sa + i, sizeof(w));
		if (w == 1) {
			ofs = i;
			n++;
		}
	}
	return n == 1 ? ofs : -1;
}

/*
 * rte_ipsec_sa_init() always starts an outbound SA at sequence number 1 and
 * DPDK 22.11 has no call to choose another start (which rekeying tests and
 * the "seq" option need). The counter is a plain 64-bit word holding the next
 * number to send; find it in a probe SA whose other words cannot read 1 (no
 * byte of its configuration is 0x01) and require exactly one match, so that a
 * layout change refuses "seq" instead of corrupting an SA.
 */
long
espgw_sa_outb_sqn_offset(void)
{
	struct rte_crypto_sym_xform xf[2];
	struct rte_ipsec_sa_prm p;
	uint8_t *sa = NULL;
	long ofs = -1;
	int sz;

	probe_prm(&p, xf);
	sz = rte_ipsec_sa_size(&p);
	if (sz > 0)
		sa = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	if (sa != NULL && rte_ipsec_sa_init((struct rte_ipsec_sa *)sa, &p, sz) > 0)
		ofs = probe_scan(sa, sz);
	rte_free(sa);
	return ofs;
}

static int
seq_set(struct espgw_sa_rt *rt, long sqn_ofs, struct espgw_err *err)
{
	const struct espgw_sa_conf *sa = rt->conf;
	uint64_t seq = sa->seq != 0 ? sa->seq : 1;

	if (!sa->esn && seq > UINT32_MAX) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: seq %" PRIu64 " needs esn (32-bit sequence numbers)",
				sa->name, seq);
		return -1;
	}
	if (seq == 1)
		return 0;
	if (sqn_ofs < 0) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: this DPDK offers no way to start at seq %" PRIu64, sa->name,
				seq);
		return -1;
	}
	memcpy((uint8_t *)rt->ipsec_sa + sqn_ofs, &seq, sizeof(seq));
	return 0;
}

/*
 * espgw's own anti-replay window (replay.h says why). With ESN, rte_ipsec
 * raises the window to at least 64 (lib/ipsec/sa.c, ipsec_sa_size) even when
 * anti-replay is off, and infers the ICV's high bits with that W: use the
 * same W, so that both infer the same number (RFC 4303 A2). decrypt any on
 * several workers: the shared window (its packets stay where they arrive).
 */
static int
replay_create(struct espgw_sa_rt *rt, const struct espgw_sa_rt_prm *p, struct espgw_err *err)
{
	const struct espgw_sa_conf *sa = rt->conf;
	uint32_t win = sa->esn ? RTE_MAX(sa->replay_window, ESN_MIN_WINDOW) : sa->replay_window;
	bool shared = sa->decrypt == ESPGW_DECRYPT_ANY && p->n_workers > 1;
	int socket = p->socket;

	rt->decrypt_any = shared;
	if (sa->dir != ESPGW_DIR_IN || win == 0)
		return 0;
	rt->replay = rte_malloc_socket("espgw_replay", espgw_replay_size(win, shared),
			RTE_CACHE_LINE_SIZE, socket);
	if (rt->replay == NULL) {
		snprintf(err->msg, sizeof(err->msg), "sa %s: no memory for the replay window",
				sa->name);
		return -1;
	}
	espgw_replay_init(rt->replay, win, sa->esn, shared);
	return 0;
}

/*
 * RFC 4302 2.2 and 3.3.3.2.1: the AH header is 12 bytes, (AES-GMAC, RFC
 * 4543 5) the IV and the ICV, padded
 * to a multiple of 8 bytes on IPv6 and of 4 on IPv4 (every HMAC ICV already
 * is on IPv4; HMAC-SHA1-96's 12 bytes get 4 on IPv6).
 */
static uint8_t
ah_len(const struct espgw_ah_sa *ah, uint8_t family)
{
	uint8_t align = family == ESPGW_AF_INET6 ? 8 : 4;

	return (uint8_t)RTE_ALIGN_CEIL(ESPGW_AH_HDR_LEN + ah->iv_len + ah->icv_len, align);
}

/* The outer header, its fixed checksum words and fixup, as an ESP tunnel's, next header AH. */
static void
ah_outer_init(struct espgw_sa_rt *rt, struct espgw_ah_sa *ah)
{
	RTE_BUILD_BUG_ON(ESPGW_AH_TMPL_MAX != ESPGW_SA_TMPL_MAX);
	ah->tmpl_len = espgw_sa_outer_tmpl(rt->conf, ah->tmpl);
	if (rt->outer_family == ESPGW_AF_INET)
		((struct rte_ipv4_hdr *)ah->tmpl)->next_proto_id = IPPROTO_AH;
	else
		((struct rte_ipv6_hdr *)ah->tmpl)->proto = IPPROTO_AH;
	rt->outer_csum = espgw_sa_outer_csum(ah->tmpl);
	espgw_sa_outer_fixed(ah->tmpl, &rt->outer_tos, &rt->outer_frag);
	rt->outb_fixup = espgw_sa_outb_fixup_pick(rt->conf);
}

/*
 * RFC 4302 2.1: the next headers an inbound AH SA takes. A tunnel carries its
 * inner family. Transport carries the upper protocol of the gateway's own
 * packet, anything but AH or ESP again: espgw processes one SA per packet,
 * nested IPsec would reach the host with its inner SA never checked.
 */
static void
ah_nh_init(const struct espgw_sa_rt *rt, struct espgw_ah_sa *ah)
{
	unsigned int nh;

	for (nh = 0; nh <= UINT8_MAX; nh++) {
		bool ok = rt->transport ? nh != IPPROTO_AH && nh != IPPROTO_ESP
					: nh == rt->inner_proto;

		ah->nh_ok[nh >> 3] |= (uint8_t)(ok << (nh & 7));
	}
}

static int
ah_create(struct espgw_sa_rt *rt, const struct espgw_sa_rt_prm *p, struct espgw_err *err)
{
	const struct espgw_sa_conf *sa = rt->conf;
	struct espgw_ah_sa *ah;

	ah = rte_zmalloc_socket("espgw_ah_sa", sizeof(*ah), RTE_CACHE_LINE_SIZE, p->socket);
	if (ah == NULL) {
		snprintf(err->msg, sizeof(err->msg), "sa %s: no memory for the AH state", sa->name);
		return -1;
	}
	rt->ah = ah;
	ah->icv_len = rt->esp_icv_len;
	ah->iv_len = rt->esp_iv_len; /* 0 for HMAC */
	memcpy(ah->salt, sa->salt, sizeof(ah->salt));
	ah->len = ah_len(ah, rt->outer_family);
	ah->esn = sa->esn;
	ah->atomic = sa->dir == ESPGW_DIR_OUT && p->n_workers > 1;
	ah->seq = sa->seq != 0 ? sa->seq : 1;
	ah_nh_init(rt, ah);
	/* Transport (RFC 4302 3.1.1): the packet's own header, fixed up as ESP transport's. */
	if (sa->dir == ESPGW_DIR_OUT && rt->transport)
		rt->outb_fixup = espgw_sa_outb_fixup_pick(sa);
	else if (sa->dir == ESPGW_DIR_OUT)
		ah_outer_init(rt, ah);
	return 0;
}

/* RFC 4302 2.5: a 64-bit counter without ESN only takes 32-bit numbers. */
static int
ah_seq_check(const struct espgw_sa_rt *rt, struct espgw_err *err)
{
	if (rt->conf->esn || rt->ah->seq <= UINT32_MAX)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "sa %s: seq %" PRIu64 " needs esn", rt->conf->name,
			rt->ah->seq);
	return -1;
}

/* AH: no rte_ipsec SA, the crypto session alone (lib/esp/ah_*.c do the rest). */
static int
ah_rt_init(struct espgw_sa_rt *rt, const struct espgw_sa_rt_prm *p, struct espgw_err *err)
{
	struct espgw_crypto_xforms x;

	if (espgw_crypto_xforms_build(&x, rt->conf, err) != 0 || ah_create(rt, p, err) != 0 ||
			sym_session_create(rt, &x, p, err) != 0 || replay_create(rt, p, err) != 0)
		return -1;
	return ah_seq_check(rt, err);
}

/*
 * RFC 3948 2.1: ESP in UDP from our port to the peer's, the checksum 0 over
 * IPv4; over IPv6 (RFC 8200 8.1 wants one) lib/esp computes it after the
 * crypto. The length is the packet's.
 */
static void
gcm_udp_tmpl(struct espgw_gcm_sa *g, const struct espgw_sa_conf *sa)
{
	struct rte_udp_hdr u = {
			.src_port = rte_cpu_to_be_16(sa->encap_sport),
			.dst_port = rte_cpu_to_be_16(sa->encap_dport),
	};

	memcpy(g->tmpl + g->ip_len, &u, sizeof(u));
	g->tmpl_len = (uint8_t)(g->ip_len + sizeof(u));
	g->udp6 = sa->local.family == ESPGW_AF_INET6;
}

/*
 * The direct path's state (espgw_gcm.h): key schedule, functions, and for
 * an outbound SA the outer header template and its own sequence counter.
 */
static int
gcm_create(struct espgw_sa_rt *rt, const uint8_t *hdr, uint8_t hdr_len,
		const struct espgw_sa_rt_prm *p, struct espgw_err *err)
{
	const struct espgw_sa_conf *sa = rt->conf;
	struct espgw_gcm_sa *g;

	if (espgw_crypto_path_of(p->c, p->s, sa) != ESPGW_CRYPTO_PATH_DIRECT)
		return 0;
	g = rte_zmalloc_socket("espgw_gcm_sa", sizeof(*g), RTE_CACHE_LINE_SIZE, p->socket);
	if (g == NULL || espgw_gcm_sa_init(g, sa) != 0) {
		rte_free(g);
		snprintf(err->msg, sizeof(err->msg), "sa %s: crypto path direct: %s", sa->name,
				g == NULL ? "out of memory"
					  : "Intel IPsec-MB cannot be initialised");
		return -1;
	}
	RTE_BUILD_BUG_ON(ESPGW_GCM_TMPL_MAX < ESPGW_SA_TMPL_MAX + sizeof(struct rte_udp_hdr));
	memcpy(g->tmpl, hdr, hdr_len);
	g->ip_len = hdr_len;
	g->tmpl_len = hdr_len;
	g->ptype = rt->outer_family == ESPGW_AF_INET ? RTE_PTYPE_L3_IPV4 : RTE_PTYPE_L3_IPV6;
	if (sa->dir == ESPGW_DIR_OUT && sa->encap_udp)
		gcm_udp_tmpl(g, sa);
	g->atomic = sa->dir == ESPGW_DIR_OUT && p->n_workers > 1;
	rt->gcm = g;
	return 0;
}

/* A setting of the SA that only the direct path (espgw_gcm.h) implements. */
static int
direct_needed(const struct espgw_sa_rt *rt, const char *what, struct espgw_err *err)
{
	snprintf(err->msg, sizeof(err->msg),
			"sa %s: %s needs the direct path (crypto-path direct: an ESP tunnel SA "
			"with AES-GCM on Intel IPsec-MB)",
			rt->conf->name, what);
	return -1;
}

/*
 * decrypt any (espgw_req.h): refused off the direct path whatever the worker
 * count, as seq-order strict; the other paths commit rte_ipsec's window too,
 * which has one writer.
 */
static int
decrypt_check(const struct espgw_sa_rt *rt, struct espgw_err *err)
{
	if (rt->conf->decrypt != ESPGW_DECRYPT_ANY || rt->gcm != NULL)
		return 0;
	return direct_needed(rt, "decrypt any", err);
}

/*
 * seq-order strict (espgw_req.h): refused off the direct path whatever the
 * worker count, so that a configuration that starts on one worker starts
 * on two; with one worker the order is the worker's own and nothing more is
 * needed. The window has room for the span plus what each worker may take
 * at once after reading an older next (a burst each).
 */
static int
order_create(struct espgw_sa_rt *rt, const struct espgw_sa_rt_prm *p, struct espgw_err *err)
{
	const struct espgw_sa_conf *sa = rt->conf;
	uint32_t slots;

	if (sa->seq_order != ESPGW_SEQ_ORDER_STRICT)
		return 0;
	if (rt->gcm == NULL)
		return direct_needed(rt, "seq-order strict", err);
	if (p->n_workers < 2)
		return 0;
	slots = rte_align32pow2(ESPGW_ORDER_SPAN + p->n_workers * ESPGW_ORDER_BURST);
	rt->order = rte_zmalloc_socket("espgw_order", sizeof(*rt->order) + slots * sizeof(void *),
			RTE_CACHE_LINE_SIZE, p->socket);
	if (rt->order == NULL) {
		snprintf(err->msg, sizeof(err->msg), "sa %s: out of memory for its order window",
				sa->name);
		return -1;
	}
	rt->order->mask = slots - 1;
	rt->order->next = rt->gcm->seq;
	rt->gcm->ordered = 1;
	return 0;
}

/* What lib/esp does with UDP itself (RFC 3948): rte_ipsec does a tunnel's outbound header. */
static uint8_t
udp_of(const struct espgw_sa_conf *sa)
{
	bool v6 = sa->local.family == ESPGW_AF_INET6;

	if (!sa->encap_udp)
		return ESPGW_SA_UDP_NONE;
	if (sa->mode == ESPGW_SA_TRANSPORT)
		return v6 ? ESPGW_SA_UDP_TRS6 : ESPGW_SA_UDP_TRS4;
	return v6 && sa->dir == ESPGW_DIR_OUT ? ESPGW_SA_UDP_TUN6 : ESPGW_SA_UDP_NONE;
}

/* RFC 1624 3: the complemented words of an original address, summed and folded. */
static uint32_t
natoa_neg_of(const struct espgw_ip *a)
{
	uint32_t sum = 0, i, n = a->family == ESPGW_AF_INET ? 2 : 8;
	uint16_t w;

	for (i = 0; i < n; i++) {
		memcpy(&w, a->bytes + 2 * i, sizeof(w));
		sum += (uint16_t)~w;
	}
	return sum;
}

static void
natoa_init(struct espgw_sa_rt *rt, const struct espgw_sa_conf *sa)
{
	uint32_t sum = 0;

	rt->natoa = 0;
	if (sa->natoa_src.family != 0) {
		rt->natoa |= ESPGW_NATOA_SRC;
		sum += natoa_neg_of(&sa->natoa_src);
	}
	if (sa->natoa_dst.family != 0) {
		rt->natoa |= ESPGW_NATOA_DST;
		sum += natoa_neg_of(&sa->natoa_dst);
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	rt->natoa_neg = (uint16_t)sum;
}

int
espgw_sa_rt_init(struct espgw_sa_rt *rt, const struct espgw_sa_conf *sa,
		const struct espgw_sa_rt_prm *p, struct espgw_err *err)
{
	struct rte_ipsec_sa_prm prm = {0};
	struct espgw_crypto_xforms x;
	uint8_t hdr[ESPGW_SA_TMPL_MAX];
	uint8_t hdr_len = 0;

	rt->idx = sa->slot;
	rt->conf = sa;
	rt->dir = sa->dir;
	rt->outer_family = sa->local.family;
	rt->peer = sa->remote;
	rt->transport = sa->mode == ESPGW_SA_TRANSPORT;
	rt->bitw = sa->bitw;
	rt->encap = sa->encap_udp;
	rt->natt_dport = rte_cpu_to_be_16(sa->encap_dport);
	rt->natt_sport = rte_cpu_to_be_16(sa->encap_sport);
	rt->udp = udp_of(sa);
	natoa_init(rt, sa);
	/* Transport: the SA's own family (its policies select its endpoints). */
	rt->inner_proto = espgw_sa_inner_proto(sa);
	lens_init(rt, sa);
	rt->proto = (uint8_t)sa->proto;
	/* AH has no direct path: seq-order strict is refused, never ignored (order_create). */
	if (sa->proto == ESPGW_SA_AH)
		return ah_rt_init(rt, p, err) != 0 ? -1 : order_create(rt, p, err);
	if (espgw_crypto_xforms_build(&x, sa, err) != 0)
		return -1;
	if (sa->dir == ESPGW_DIR_OUT && rt->transport) {
		rt->outb_fixup = espgw_sa_outb_fixup_pick(sa);
	} else if (sa->dir == ESPGW_DIR_OUT) {
		hdr_len = espgw_sa_outer_tmpl(sa, hdr);
		rt->outer_csum = espgw_sa_outer_csum(hdr);
		espgw_sa_outer_fixed(hdr, &rt->outer_tos, &rt->outer_frag);
		rt->outb_fixup = espgw_sa_outb_fixup_pick(sa);
	}
	prm_fill(&prm, rt, hdr, hdr_len, p->n_workers);
	prm.crypto_xform = &x.xf[0];
	if (ipsec_sa_create(rt, &prm, p->socket, err) != 0 || session_create(rt, &x, p, err) != 0 ||
			replay_create(rt, p, err) != 0 ||
			gcm_create(rt, hdr, hdr_len, p, err) != 0 ||
			order_create(rt, p, err) != 0 || decrypt_check(rt, err) != 0)
		return -1;
	return sa->dir == ESPGW_DIR_OUT ? seq_set(rt, p->sqn_ofs, err) : 0;
}

/*
 * Nothing is held by then (the owner sent every number taken before the SA
 * was retired, lib/gw/publish.c; at stop espgw_worker_drain_order counted
 * what was left), but a packet left is freed, never leaked.
 */
static void
order_free(struct espgw_order_sa *o)
{
	uint32_t i;

	for (i = 0; o->held != 0 && i <= o->mask; i++)
		if (o->slot[i] != NULL) {
			if (o->slot[i] != ESPGW_ORDER_SKIP)
				rte_pktmbuf_free(o->slot[i]);
			o->held--;
		}
	rte_free(o);
}

void
espgw_sa_rt_fini(struct espgw_sa_rt *rt)
{
	/* The PMD clears its private session data (the key schedule) when freeing. */
	if (rt->ss.crypto.ses != NULL)
		rte_cryptodev_sym_session_free(rt->ss.crypto.dev_id, rt->ss.crypto.ses);
	if (rt->ipsec_sa != NULL) {
		rte_ipsec_sa_fini(rt->ipsec_sa);
		explicit_bzero(rt->ipsec_sa, rt->ipsec_sa_size); /* salt */
		rte_free(rt->ipsec_sa);
	}
	if (rt->ah != NULL) {
		explicit_bzero(rt->ah, sizeof(*rt->ah));
		rte_free(rt->ah);
	}
	if (rt->gcm != NULL) {
		explicit_bzero(rt->gcm, sizeof(*rt->gcm)); /* the key schedule */
		rte_free(rt->gcm);
	}
	if (rt->replay != NULL) {
		explicit_bzero(rt->replay, espgw_replay_bytes(rt->replay));
		rte_free(rt->replay);
	}
	if (rt->order != NULL)
		order_free(rt->order);
	memset(rt, 0, sizeof(*rt));
}
