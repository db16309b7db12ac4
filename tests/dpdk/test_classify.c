/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * attack (helper-51): classify_burst (lib/dp/classify.c) on crafted packets,
 * the one-pass IPv4 classification against a scan's rules (espgw_spd_sel.h,
 * spd_scan_match4_sel) held to the key path on rte_acl alone, packet by
 * packet: the same SPD built twice (ESPGW_SPD_SCAN_MAX with buckets, and 0
 * without), two workers with a fragment state each, the same bursts. The
 * packets are what an attacker sends: IPv4 options (IHL 5..15), total
 * length shorter (link padding) or longer than the frame or shorter than the
 * header, L4 headers cut at every length, ICMP / ICMPv6-in-IPv4 / TCP / UDP /
 * SCTP / other protocols, first and later fragments of the same datagrams
 * across bursts, IPv4 packet_type over an IPv6 or garbage header, IPv6 in
 * the same bursts (result order), rules with port ranges, proto any, ICMP
 * type/code selectors, and an inbound rule accepting two SAs (the rekey
 * overlap) with the SA the packet came through. Also the selectors of every
 * IPv4 packet against this file's own copy of the extraction as it was
 * before the one-pass change (espgw_spd_key4_extract now shares
 * espgw_spd_sel4_get with the data path, so the two paths agreeing says
 * nothing of the selectors themselves). attack (helper-53): the same over
 * sets the buckets take (spd_bucket.h, one pass by spd_bucket4_match_sel),
 * and a probe chain in a bucket table.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "classify.h"
#include "espgw_fragstate.h"
#include "espgw_spd.h"
#include "espgw_spd_sel.h"
#include "spd_bucket.h"
#include "spd_sa.h"
#include "store_int.h"

#define SETS   300
#define ROUNDS 6 /* bursts a rule set, fragments carried over between them */
#define BURST  32
#define L2     14

static struct rte_mempool *pool;
static struct espgw_store store;
static uint32_t n_checked4, n_onepass_sets, n_frag_later, n_pair;
static uint32_t n_bk_sets, n_bk_src, n_bk_match;
static uint32_t n_sa_kept; /* decrypted packets the rule kept for their SA decided */

/* Host-order addresses packets are drawn from, when not empty (the bucket sets'). */
static uint32_t pool4[512];
static unsigned int n_pool4;

static uint32_t
lcg(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

static void
sa_add(const char *name, enum espgw_dir dir)
{
	struct espgw_sa_conf sa = {.dir = dir, .slot = store.n_sas};

	snprintf(sa.name, sizeof(sa.name), "%s", name);
	assert_int_equal(espgw_store_arr_insert(&store, ESPGW_ARR_SAS, store.n_sas, &sa), 0);
}

/* Addresses near 10.0.0.0/22 and 2001:db8::/32 so that rules and packets meet. */
static void
rnd_prefix(struct espgw_prefix *p, int fam, uint32_t *seed)
{
	memset(p, 0, sizeof(*p));
	if (fam == 0 || lcg(seed) % 5 == 0)
		return;
	p->ip.family = (uint8_t)fam;
	if (fam == ESPGW_AF_INET) {
		uint32_t a = htonl(0x0a000000u | (lcg(seed) % 4) << 8 | (lcg(seed) % 4));

		p->len = (uint8_t)(lcg(seed) % 3 == 0 ? 32 : lcg(seed) % 33);
		if (p->len < 32) /* host bits zero, as the store keeps them */
			a &= htonl(p->len == 0 ? 0 : UINT32_MAX << (32 - p->len));
		memcpy(p->ip.bytes, &a, 4);
	} else {
		p->ip.bytes[0] = 0x20;
		p->ip.bytes[1] = 0x01;
		p->ip.bytes[2] = 0x0d;
		p->ip.bytes[3] = 0xb8;
		p->ip.bytes[15] = (uint8_t)(lcg(seed) % 4);
		p->len = (uint8_t)(lcg(seed) % 2 ? 128 : 32);
		if (p->len != 128)
			p->ip.bytes[15] = 0;
	}
}

static const int16_t protos[] = {-1, -1, 1, 6, 17, 58, 132, 50, 0};
static const uint16_t ports[] = {0, 1, 3, 8, 53, 255, 256, 500, 2048, 4500, 65535};

static void
rnd_range(uint16_t *lo, uint16_t *hi, uint32_t *seed)
{
	uint16_t a = ports[lcg(seed) % RTE_DIM(ports)], b = ports[lcg(seed) % RTE_DIM(ports)];

	if (lcg(seed) % 2) {
		*lo = 0;
		*hi = 65535;
		return;
	}
	*lo = RTE_MIN(a, b);
	*hi = RTE_MAX(a, b);
}

static void
rnd_rule(struct espgw_sp_conf *sp, int fam, uint32_t *seed)
{
	static const char *const sas[] = {"in-a", "in-b", "in-c"};

	memset(sp, 0, sizeof(*sp));
	sp->dir = ESPGW_DIR_IN;
	sp->priority = lcg(seed) % 5;
	rnd_prefix(&sp->src, fam, seed);
	rnd_prefix(&sp->dst, fam, seed);
	sp->proto = protos[lcg(seed) % RTE_DIM(protos)];
	rnd_range(&sp->sport_lo, &sp->sport_hi, seed);
	rnd_range(&sp->dport_lo, &sp->dport_hi, seed);
	sp->action = (enum espgw_sp_action)(lcg(seed) % 3);
	if (sp->action == ESPGW_SP_PROTECT) {
		snprintf(sp->sa, sizeof(sp->sa), "%s", sas[lcg(seed) % 3]);
		if (lcg(seed) % 2) /* the rekey overlap: "sp set" from another SA */
			snprintf(sp->prev_sa, sizeof(sp->prev_sa), "%s",
					strcmp(sp->sa, "in-a") == 0 ? "in-b" : "in-a");
	}
}

/* A new set: an empty store with the inbound SAs its rules name, no address pool. */
static void
set_begin(unsigned int n_sa)
{
	static const char *const sas[] = {"in-a", "in-b", "in-c"};
	unsigned int i;

	espgw_store_fini(&store);
	n_pool4 = 0;
	for (i = 0; i < n_sa && i < RTE_DIM(sas); i++)
		sa_add(sas[i], ESPGW_DIR_IN);
}

/* Rules of one set: n4 IPv4 (any-address rules count too), a few IPv6. */
static void
rules_fill(uint32_t *seed, unsigned int n4)
{
	struct espgw_sp_conf sp;
	unsigned int i, n6 = lcg(seed) % 3;

	set_begin(3);
	for (i = 0; i < n4 + n6; i++) {
		rnd_rule(&sp, i < n4 ? ESPGW_AF_INET : ESPGW_AF_INET6, seed);
		assert_int_equal(
				espgw_store_arr_insert(&store, ESPGW_ARR_SPS, store.n_sps, &sp), 0);
	}
}

/* ---- packets ---- */

struct pkt {
	uint8_t b[160];
	uint16_t len;
	uint16_t l2;
	bool v4; /* packet_type */
	uint32_t sa;
};

/* Datagrams whose later fragments follow in later bursts. */
struct dgram {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
};
static struct dgram dg[8];
static unsigned int n_dg;

static uint16_t
rnd_port(uint32_t *seed)
{
	uint16_t p = ports[lcg(seed) % RTE_DIM(ports)];

	switch (lcg(seed) % 4) {
	case 0:
		return (uint16_t)(p - 1);
	case 1:
		return (uint16_t)(p + 1);
	default:
		return p;
	}
}

static void
pkt4(struct pkt *p, uint32_t *seed)
{
	static const uint8_t l4protos[] = {1, 6, 17, 58, 132, 50, 0, 255, 1, 6, 17};
	uint8_t *ip = p->b + p->l2, ihl = 5, proto;
	uint32_t hl, l4len, tot, src, dst, i;
	uint16_t fo = 0, id = (uint16_t)lcg(seed), sp = rnd_port(seed), dp = rnd_port(seed);

	src = htonl(0x0a000000u | (lcg(seed) % 4) << 8 | (lcg(seed) % 5));
	dst = htonl(0x0a000000u | (lcg(seed) % 4) << 8 | (lcg(seed) % 5));
	if (lcg(seed) % 8 == 0) {
		src = lcg(seed) << 8 ^ lcg(seed);
		dst = lcg(seed) << 8 ^ lcg(seed);
	}
	/* Bucket sets: addresses at and around their prefixes (no draw without a pool). */
	if (n_pool4 > 0 && lcg(seed) % 4 != 0) {
		src = htonl(pool4[lcg(seed) % n_pool4]);
		dst = htonl(pool4[lcg(seed) % n_pool4]);
	}
	proto = l4protos[lcg(seed) % RTE_DIM(l4protos)];
	if (lcg(seed) % 3 == 0)
		ihl = (uint8_t)(5 + lcg(seed) % 11);
	switch (lcg(seed) % 6) {
	case 0: /* a first fragment, its datagram kept for later ones */
		fo = RTE_IPV4_HDR_MF_FLAG;
		if (n_dg < RTE_DIM(dg))
			dg[n_dg++] = (struct dgram){src, dst, id, proto};
		break;
	case 1: /* a later fragment, of a datagram seen or not */
		fo = (uint16_t)(1 + lcg(seed) % 200) | (lcg(seed) % 2 ? RTE_IPV4_HDR_MF_FLAG : 0);
		if (n_dg > 0 && lcg(seed) % 4 != 0) {
			const struct dgram *d = &dg[lcg(seed) % n_dg];

			src = d->src;
			dst = d->dst;
			id = d->id;
			proto = d->proto;
		}
		break;
	default:
		break;
	}
	hl = ihl * 4u;
	l4len = lcg(seed) % 4 == 0 ? lcg(seed) % 6 : 8 + lcg(seed) % 16;
	memset(ip, 0, hl);
	ip[0] = (uint8_t)(0x40 | ihl);
	for (i = 20; i < hl; i++)
		ip[i] = lcg(seed) % 3 ? 1 : (uint8_t)lcg(seed); /* NOPs, or anything */
	ip[9] = proto;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	ip[4] = (uint8_t)(id >> 8);
	ip[5] = (uint8_t)id;
	ip[6] = (uint8_t)(fo >> 8);
	ip[7] = (uint8_t)fo;
	for (i = 0; i < l4len; i++)
		ip[hl + i] = (uint8_t)lcg(seed);
	if (proto == 1 || proto == 58) {
		ip[hl] = (uint8_t)(lcg(seed) % 3 ? sp : lcg(seed) % 3 ? 8 : 0);
		if (l4len > 1)
			ip[hl + 1] = (uint8_t)(lcg(seed) % 3 ? dp : 0);
	} else {
		uint8_t pb[4] = {(uint8_t)(sp >> 8), (uint8_t)sp, (uint8_t)(dp >> 8), (uint8_t)dp};

		memcpy(ip + hl, pb, RTE_MIN(l4len, 4u));
	}
	p->len = (uint16_t)(p->l2 + hl + l4len);
	tot = hl + l4len;
	switch (lcg(seed) % 8) {
	case 0: /* link padding past the datagram: may cut the L4 header */
		tot = hl + lcg(seed) % (l4len + 1);
		break;
	case 1: /* longer than the frame */
		tot = hl + l4len + 1 + lcg(seed) % 600;
		break;
	case 2: /* shorter than its own header */
		tot = lcg(seed) % (hl + 1);
		break;
	default:
		break;
	}
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	if (lcg(seed) % 40 == 0)
		ip[0] = (uint8_t)(0x60 | ihl); /* not IPv4 after all */
	if (lcg(seed) % 40 == 0)
		p->len = (uint16_t)(p->l2 + lcg(seed) % 20); /* cut in the fixed header */
	p->v4 = true;
}

static void
pkt6(struct pkt *p, uint32_t *seed)
{
	uint8_t *ip = p->b + p->l2;
	uint32_t l4len = 8 + lcg(seed) % 8, i;
	uint8_t proto = (uint8_t)protos[2 + lcg(seed) % (RTE_DIM(protos) - 2)];
	uint16_t sp = rnd_port(seed), dp = rnd_port(seed);

	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[4] = (uint8_t)(l4len >> 8);
	ip[5] = (uint8_t)l4len;
	ip[6] = proto;
	ip[7] = 64;
	ip[8] = 0x20, ip[9] = 0x01, ip[10] = 0x0d, ip[11] = 0xb8, ip[23] = (uint8_t)(lcg(seed) % 4);
	ip[24] = 0x20, ip[25] = 0x01, ip[26] = 0x0d, ip[27] = 0xb8,
	ip[39] = (uint8_t)(lcg(seed) % 4);
	for (i = 0; i < l4len; i++)
		ip[40 + i] = (uint8_t)lcg(seed);
	ip[40] = (uint8_t)(sp >> 8);
	ip[41] = (uint8_t)sp;
	ip[42] = (uint8_t)(dp >> 8);
	ip[43] = (uint8_t)dp;
	p->len = (uint16_t)(p->l2 + 40 + l4len);
	p->v4 = lcg(seed) % 30 == 0; /* now and then an IPv4 packet_type over it */
}

static void
pkt_rnd(struct pkt *p, uint32_t *seed)
{
	memset(p, 0, sizeof(*p));
	p->l2 = lcg(seed) % 4 ? L2 : 0;
	p->sa = lcg(seed) % 4; /* slots 0..2 are in-a..in-c; 3 none of them */
	if (lcg(seed) % 4 == 0)
		pkt6(p, seed);
	else
		pkt4(p, seed);
}

static struct rte_mbuf *
mbuf_of(const struct pkt *p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *d;

	assert_non_null(m);
	d = (uint8_t *)rte_pktmbuf_append(m, p->len);
	assert_non_null(d);
	memcpy(d, p->b, p->len);
	m->l2_len = p->l2;
	m->packet_type = RTE_PTYPE_L2_ETHER |
			 (p->v4 ? RTE_PTYPE_L3_IPV4_EXT_UNKNOWN : RTE_PTYPE_L3_IPV6_EXT_UNKNOWN);
	*espgw_mbuf_sa(m) = p->sa;
	return m;
}

/* ---- the selectors as they were extracted before the one-pass change ---- */

static int
ref_key4(const void *ip4, uint32_t len, struct espgw_spd_key4 *k)
{
	const struct rte_ipv4_hdr *h = ip4;
	const uint8_t *l4;
	uint32_t hl, tot;
	uint16_t fo;

	if (len < sizeof(*h) || (h->version_ihl >> 4) != 4)
		return -1;
	hl = (uint32_t)(h->version_ihl & 0xf) * 4;
	tot = rte_be_to_cpu_16(h->total_length);
	if (hl < sizeof(*h) || tot < hl)
		return -1;
	if (tot < len)
		len = tot;
	if (hl > len)
		return -1;
	memset(k, 0, sizeof(*k));
	k->proto = h->next_proto_id;
	k->src = h->src_addr;
	k->dst = h->dst_addr;
	k->frag_id = h->packet_id;
	fo = rte_be_to_cpu_16(h->fragment_offset);
	if (fo & 0x1fff) {
		k->frag = ESPGW_SPD_FRAG_LATER;
		return 0;
	}
	if (fo & 0x2000)
		k->frag = ESPGW_SPD_FRAG_FIRST;
	l4 = (const uint8_t *)ip4 + hl;
	len -= hl;
	switch (k->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (len < 4)
			return -1;
		k->sport = htons((uint16_t)(l4[0] << 8 | l4[1]));
		k->dport = htons((uint16_t)(l4[2] << 8 | l4[3]));
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (len < 2)
			return -1;
		k->sport = htons(l4[0]);
		k->dport = htons(l4[1]);
		return 0;
	default:
		return 0;
	}
}

static void
check_selectors(const struct pkt *p)
{
	struct espgw_spd_key4 a, b;
	uint32_t len = p->len >= p->l2 ? p->len - p->l2 : 0;
	int ra, rb;

	if (!p->v4 || len < 20)
		return;
	ra = ref_key4(p->b + p->l2, len, &a);
	rb = espgw_spd_key4_extract(p->b + p->l2, len, &b);
	assert_int_equal(ra, rb);
	if (ra == 0 && memcmp(&a, &b, sizeof(a)) != 0)
		fail_msg("selectors differ: proto %u/%u ports %#x,%#x / %#x,%#x frag %u/%u",
				a.proto, b.proto, a.sport, a.dport, b.sport, b.dport, a.frag,
				b.frag);
	n_checked4++;
}

/* ---- the two paths ---- */

static struct espgw_worker *
worker_new(void)
{
	struct espgw_worker *w = rte_zmalloc(NULL, sizeof(*w), RTE_CACHE_LINE_SIZE);

	assert_non_null(w);
	w->frags = espgw_fragstate_create(1024, 100000, SOCKET_ID_ANY);
	assert_non_null(w->frags);
	w->now = 1;
	return w;
}

static void
worker_free(struct espgw_worker *w)
{
	espgw_fragstate_free(w->frags);
	rte_free(w);
}

static struct espgw_spd *
spd_build(unsigned int scan_max, bool buckets, const char *tag)
{
	struct espgw_err err;
	struct espgw_spd *spd;

	memset(&err, 0, sizeof(err));
	spd = espgw_spd_build_with(
			&store, ESPGW_DIR_IN, SOCKET_ID_ANY, tag, scan_max, buckets, &err);
	if (spd == NULL)
		fail_msg("spd build: %s", err.msg);
	return spd;
}

static const enum espgw_fragstate_dir dirs[] = {ESPGW_FS_IN, ESPGW_FS_INNER, ESPGW_FS_AGAIN};

/*
 * Did the rule kept for the SA of a decrypted packet (spd_sa.h) decide it
 * in the one pass? Counted so that the comparison is known to cover it.
 */
static bool
sa_kept_decides(const struct espgw_spd *spd, const struct pkt *p)
{
	uint32_t len = p->len >= p->l2 ? p->len - p->l2 : 0, sn;
	const struct spd_sa4 *t = espgw_spd_sa4(spd);
	const struct spd_scan4 *sr;
	struct espgw_spd_sel4 s;

	if (t == NULL || !p->v4 || len < 20 || espgw_spd_sel4_get(p->b + p->l2, len, &s) < 0)
		return false;
	if (espgw_spd_bucket4(spd) == NULL && !espgw_spd_scan4(spd, &sr, &sn))
		return false; /* rte_acl: the key path */
	return spd_sa4_match_sel(t, p->sa, &s) != ESPGW_SPD_NO_MATCH;
}

static void
one_set(uint32_t *seed, unsigned int set, unsigned int n4,
		void (*fill)(uint32_t *seed, unsigned int n4))
{
	enum espgw_fragstate_dir dir = dirs[lcg(seed) % RTE_DIM(dirs)];
	struct espgw_worker *w1 = worker_new(), *w2 = worker_new();
	struct espgw_spd *one, *acl;
	struct rte_mbuf *m1[BURST], *m2[BURST];
	uint32_t r1[BURST], r2[BURST];
	static struct pkt p[BURST];
	const struct spd_scan4 *sr;
	unsigned int round, i, n;
	bool bucketed;
	uint32_t sn;

	fill(seed, n4);
	one = spd_build(ESPGW_SPD_SCAN_MAX, true, "cl-one");
	acl = spd_build(0, false, "cl-acl");
	bucketed = espgw_spd_bucket4(one) != NULL;
	n_bk_sets += bucketed;
	n_bk_src += bucketed && espgw_spd_bucket4(one)->by_src;
	if (espgw_spd_scan4(one, &sr, &sn))
		n_onepass_sets++;
	else
		assert_true(n4 > ESPGW_SPD_SCAN_MAX);
	assert_false(espgw_spd_scan4(acl, &sr, &sn)); /* the key path */
	n_dg = 0;
	for (round = 0; round < ROUNDS; round++) {
		n = 1 + lcg(seed) % BURST;
		for (i = 0; i < n; i++) {
			pkt_rnd(&p[i], seed);
			check_selectors(&p[i]);
			m1[i] = mbuf_of(&p[i]);
			m2[i] = mbuf_of(&p[i]);
		}
		classify_burst(w1, one, dir, m1, r1, (uint16_t)n);
		classify_burst(w2, acl, dir, m2, r2, (uint16_t)n);
		for (i = 0; i < n; i++) {
			if (r1[i] != r2[i])
				fail_msg("set %u (%u IPv4 rules) dir %d round %u pkt %u (%s, l2 "
					 "%u, "
					 "len %u, sa %u): one pass %#x, key path %#x",
						set, n4, dir, round, i, p[i].v4 ? "v4" : "v6",
						p[i].l2, p[i].len, p[i].sa, r1[i], r2[i]);
			n_frag_later += r1[i] == CLASSIFY_NO_FIRST;
			n_bk_match += bucketed && r1[i] != ESPGW_SPD_NO_MATCH &&
				      r1[i] != CLASSIFY_BAD && r1[i] != CLASSIFY_NO_FIRST;
			n_pair += dir == ESPGW_FS_INNER && ESPGW_SPD_IS_PROTECT(r1[i]);
			n_sa_kept += dir == ESPGW_FS_INNER && sa_kept_decides(one, &p[i]);
			rte_pktmbuf_free(m1[i]);
			rte_pktmbuf_free(m2[i]);
		}
		w1->now = w2->now += 1000;
	}
	worker_free(w1);
	worker_free(w2);
	espgw_spd_free(one);
	espgw_spd_free(acl);
}

static void
test_attack_classify_one_pass(void **state)
{
	uint32_t seed = 51, set;

	(void)state;
	for (set = 0; set < SETS; set++)
		one_set(&seed, set, 1 + lcg(&seed) % (ESPGW_SPD_SCAN_MAX + 3), rules_fill);
	print_message("%u IPv4 selectors checked, %u one-pass sets, %u later fragments without "
		      "a first, %u inner protect results\n",
			n_checked4, n_onepass_sets, n_frag_later, n_pair);
	print_message("%u decided by the rule kept for their SA\n", n_sa_kept);
	assert_true(n_onepass_sets >= SETS / 2);
	assert_true(n_frag_later > 0);
	assert_true(n_pair > 0);
	assert_true(n_sa_kept > 0);
}

/*
 * attack (helper-53): the one pass against buckets (spd_bucket4_match_sel)
 * held to rte_acl, on sets the buckets take. On one side (drawn per set, or
 * both) prefixes of at most four lengths drawn per set from nested ones
 * (/16s holding /20s../24s holding /28s../32s), "any" now and then
 * (bucket 0, and in every bucket); on the other side anything. Packets come
 * from the prefixes' edges (network, a host inside, last address, the
 * addresses just outside each end), IPv4 options, fragments across bursts,
 * pairs and IPv6 as in the random sets above.
 */
static const uint8_t bk_lens_all[] = {16, 20, 22, 24, 28, 30, 31, 32};

static uint32_t
len_mask4(uint32_t len)
{
	return len == 0 ? 0 : (uint32_t)(UINT64_MAX << (32 - len));
}

static void
pool_add(uint32_t a)
{
	if (n_pool4 < RTE_DIM(pool4))
		pool4[n_pool4++] = a;
}

/* An IPv4 prefix of len (0: any) in 10.0.0.0/13, its edges into the pool. */
static void
bk_prefix(struct espgw_prefix *p, uint32_t len, uint32_t *seed)
{
	uint32_t a = 0x0a000000u | (lcg(seed) % 8) << 16 | (lcg(seed) % 16) << 8 |
		     (lcg(seed) % 2 ? lcg(seed) % 8 : lcg(seed) % 256);
	uint32_t m = len_mask4(len), net = a & m;

	memset(p, 0, sizeof(*p));
	if (len == 0)
		return;
	p->ip.family = ESPGW_AF_INET;
	p->len = (uint8_t)len;
	a = htonl(net);
	memcpy(p->ip.bytes, &a, 4);
	pool_add(net);
	pool_add(net | (~m & lcg(seed)));
	pool_add(net | ~m);
	pool_add(net - 1);
	pool_add((net | ~m) + 1);
}

static void
bk_fill(uint32_t *seed, unsigned int n4)
{
	struct espgw_sp_conf sp;
	uint8_t lens[SPD_BUCKET_LENS];
	unsigned int i, nl = 1 + lcg(seed) % SPD_BUCKET_LENS, n6 = lcg(seed) % 3;
	unsigned int side = lcg(seed) % 3; /* 0: dst bucketable, 1: src, 2: both */
	unsigned int any = lcg(seed) % 3 == 0 ? 12 : 1000;

	set_begin(3);
	for (i = 0; i < nl; i++)
		lens[i] = bk_lens_all[lcg(seed) % RTE_DIM(bk_lens_all)];
	for (i = 0; i < n4 + n6; i++) {
		rnd_rule(&sp, i < n4 ? ESPGW_AF_INET : ESPGW_AF_INET6, seed);
		if (i < n4) {
			uint32_t lf = lcg(seed) % any == 0 ? 0 : lens[lcg(seed) % nl];
			uint32_t lo = side == 2 ? lens[lcg(seed) % nl] : lcg(seed) % 33;

			if (lcg(seed) % 6 == 0)
				lo = 0;
			bk_prefix(side == 1 ? &sp.src : &sp.dst, lf, seed);
			bk_prefix(side == 1 ? &sp.dst : &sp.src, lo, seed);
		}
		assert_int_equal(
				espgw_store_arr_insert(&store, ESPGW_ARR_SPS, store.n_sps, &sp), 0);
	}
}

#define BK_SETS 200

static void
test_attack_classify_buckets(void **state)
{
	uint32_t seed = 53, set;

	(void)state;
	n_bk_sets = n_bk_src = n_bk_match = n_sa_kept = 0;
	for (set = 0; set < BK_SETS; set++)
		one_set(&seed, set, ESPGW_SPD_SCAN_MAX + 1 + lcg(&seed) % 40, bk_fill);
	print_message("%u of %u sets in buckets (%u by source), %u packets matched a rule there, "
		      "%u decided by the rule kept for their SA\n",
			n_bk_sets, BK_SETS, n_bk_src, n_bk_match, n_sa_kept);
	/* Not rte_acl against itself: most sets are bucketed, on both sides. */
	assert_true(n_bk_sets >= BK_SETS * 3 / 4);
	assert_true(n_bk_src >= BK_SETS / 10);
	assert_true(n_bk_sets - n_bk_src >= BK_SETS / 10);
	assert_true(n_bk_match >= n_bk_sets * 3);
	assert_true(n_sa_kept > 0);
}

/* Hosts of 10.9.0.0/16 whose /32 hashes to slot h of a table of 1 << bits. */
static unsigned int
same_slot(uint32_t h, uint32_t bits, uint32_t *out, unsigned int n, uint32_t from)
{
	unsigned int k = 0;
	uint32_t a;

	for (a = from; k < n && a < 0x0a0a0000u; a++)
		if (((a * SPD_BUCKET_HASH_MUL) >> (32 - bits)) == h)
			out[k++] = a;
	return k;
}

/*
 * attack (helper-53): a probe chain in a bucket table. Twelve /32 protect
 * rules (udp to one port each) whose addresses hash to one slot of the /32
 * table (32 slots), so a lookup walks up to twelve slots; under them a /16
 * bypass, a /8 discard and an "any" ICMP protect (every bucket). Packets to
 * each /32 (its port: protect; another port: the /16's bypass), and to six
 * "ghost" hosts of the same slot that no rule names (the walk ends at the
 * free slot past the chain: the /16's bypass, never a /32's protect), from
 * the one pass and the key path on rte_acl.
 */
static void
test_attack_classify_bucket_chain(void **state)
{
	enum { N = 12, GHOSTS = 6 };
	struct espgw_worker *w1 = worker_new(), *w2 = worker_new();
	uint32_t host[N + GHOSTS], r1[BURST], r2[BURST], a, i, j, n, chain;
	const struct spd_bucket_tab *t;
	struct rte_mbuf *m1[BURST], *m2[BURST];
	struct espgw_spd *one, *acl;
	struct espgw_sp_conf sp;
	unsigned int protect = 0;
	static struct pkt p[BURST];

	(void)state;
	set_begin(2);
	assert_int_equal(same_slot(7, 5, host, N + GHOSTS, 0x0a090000u), N + GHOSTS);
	for (i = 0; i < N + 3; i++) {
		memset(&sp, 0, sizeof(sp));
		sp.dir = ESPGW_DIR_IN;
		sp.priority = 1;
		sp.proto = IPPROTO_UDP;
		sp.sport_hi = 65535;
		sp.dport_lo = sp.dport_hi = (uint16_t)(1000 + i);
		sp.dst.ip.family = ESPGW_AF_INET;
		sp.dst.len = 32;
		sp.action = ESPGW_SP_PROTECT;
		snprintf(sp.sa, sizeof(sp.sa), "in-a");
		if (i < N) {
			a = htonl(host[i]);
		} else if (i == N) { /* 10.9/16 bypass */
			sp.priority = 2;
			sp.dst.len = 16;
			sp.dport_lo = 0;
			sp.dport_hi = 65535;
			sp.action = ESPGW_SP_BYPASS;
			a = htonl(0x0a090000u);
		} else if (i == N + 1) { /* 10/8 discard */
			sp.priority = 3;
			sp.dst.len = 8;
			sp.proto = -1;
			sp.dport_lo = 0;
			sp.dport_hi = 65535;
			sp.action = ESPGW_SP_DISCARD;
			a = htonl(0x0a000000u);
		} else { /* any ICMP: protect by in-b, in bucket 0 and in every bucket */
			sp.priority = 0;
			sp.proto = IPPROTO_ICMP;
			sp.dport_lo = 0;
			sp.dport_hi = 65535;
			memset(&sp.dst, 0, sizeof(sp.dst));
			snprintf(sp.sa, sizeof(sp.sa), "in-b");
			a = 0;
		}
		memcpy(sp.dst.ip.bytes, &a, 4);
		assert_int_equal(
				espgw_store_arr_insert(&store, ESPGW_ARR_SPS, store.n_sps, &sp), 0);
	}
	one = spd_build(ESPGW_SPD_SCAN_MAX, true, "cl-chain");
	acl = spd_build(0, false, "cl-chain-acl");
	assert_non_null(espgw_spd_bucket4(one));
	assert_false(espgw_spd_bucket4(one)->by_src);
	/* The chain is there: the /32 table holds the N hosts in N slots in a row. */
	t = &espgw_spd_bucket4(one)->tab[0];
	assert_int_equal(t->mask, UINT32_MAX);
	assert_int_equal(t->slots_mask, 31);
	for (chain = 0; chain <= t->slots_mask && t->slot[(7 + chain) & t->slots_mask].bucket != 0;
			chain++)
		;
	assert_int_equal(chain, N);
	for (n = 0, i = 0; i < N + GHOSTS; i++) {
		for (j = 0; j < 2; j++, n++) {
			uint8_t *ip = p[n].b + L2;

			memset(&p[n], 0, sizeof(p[n]));
			p[n].l2 = L2;
			p[n].v4 = true;
			p[n].len = L2 + 28;
			ip[0] = 0x45;
			ip[3] = 28;
			ip[8] = 64;
			ip[9] = (i + j) % 7 == 6 ? IPPROTO_ICMP : IPPROTO_UDP;
			a = htonl(0xc0000201u);
			memcpy(ip + 12, &a, 4);
			a = htonl(host[i]);
			memcpy(ip + 16, &a, 4);
			/* dport: the host's own, then another /32's (a ghost: always some /32's) */
			ip[22] = (uint8_t)((1000 + (i + j) % N) >> 8);
			ip[23] = (uint8_t)(1000 + (i + j) % N);
			m1[n] = mbuf_of(&p[n]);
			m2[n] = mbuf_of(&p[n]);
		}
		if (n + 2 > BURST || i == N + GHOSTS - 1) {
			classify_burst(w1, one, ESPGW_FS_IN, m1, r1, (uint16_t)n);
			classify_burst(w2, acl, ESPGW_FS_IN, m2, r2, (uint16_t)n);
			for (j = 0; j < n; j++) {
				if (r1[j] != r2[j])
					fail_msg("packet %u to %#x: one pass %#x, rte_acl %#x", j,
							rte_be_to_cpu_32(*(uint32_t *)(p[j].b + L2 +
										       16)),
							r1[j], r2[j]);
				protect += ESPGW_SPD_IS_PROTECT(r1[j]);
				rte_pktmbuf_free(m1[j]);
				rte_pktmbuf_free(m2[j]);
			}
			n = 0;
		}
	}
	assert_true(protect >= N);
	espgw_spd_free(one);
	espgw_spd_free(acl);
	worker_free(w1);
	worker_free(w2);
}

/*
 * No IPv4 rule at all (IPv6 rules only): IPv4 goes the one pass with no
 * rule: no match (0) as rte_acl's absent context gave, BAD when malformed,
 * a later fragment without its first dropped, with its first its verdict.
 */
static void
test_attack_classify_no_v4(void **state)
{
	struct espgw_sp_conf sp;
	struct espgw_spd *spd;
	struct espgw_worker *w = worker_new();
	struct pkt p[4];
	struct rte_mbuf *m[4];
	uint32_t res[4], seed = 3;
	unsigned int i;

	(void)state;
	espgw_store_fini(&store);
	sa_add("in-a", ESPGW_DIR_IN);
	rnd_rule(&sp, ESPGW_AF_INET6, &seed);
	sp.sport_lo = 53; /* ports: the fragment state is used */
	sp.sport_hi = 53;
	assert_int_equal(espgw_store_arr_insert(&store, ESPGW_ARR_SPS, store.n_sps, &sp), 0);
	spd = spd_build(ESPGW_SPD_SCAN_MAX, true, "cl-nov4");
	assert_true(espgw_spd_uses_ports(spd));
	memset(p, 0, sizeof(p));
	for (i = 0; i < 4; i++) {
		uint8_t *ip = p[i].b;

		p[i].v4 = true;
		p[i].len = 28;
		ip[0] = 0x45;
		ip[3] = 28;
		ip[5] = 7; /* id 7 */
		ip[9] = 17;
		ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
	}
	p[1].b[6] = 0x20; /* first fragment */
	p[2].b[7] = 1;	  /* its later fragment */
	p[3].b[3] = 22;	  /* a UDP header of 2 bytes */
	for (i = 0; i < 4; i++)
		m[i] = mbuf_of(&p[i]);
	classify_burst(w, spd, ESPGW_FS_IN, m, res, 4);
	assert_int_equal(res[0], ESPGW_SPD_NO_MATCH);
	assert_int_equal(res[1], ESPGW_SPD_NO_MATCH);
	assert_int_equal(res[2], ESPGW_SPD_NO_MATCH);
	assert_int_equal(res[3], CLASSIFY_BAD);
	p[2].b[5] = 8; /* a later fragment of another datagram */
	rte_pktmbuf_free(m[2]);
	m[2] = mbuf_of(&p[2]);
	classify_burst(w, spd, ESPGW_FS_IN, &m[2], res, 1);
	assert_int_equal(res[0], CLASSIFY_NO_FIRST);
	for (i = 0; i < 4; i++)
		rte_pktmbuf_free(m[i]);
	espgw_spd_free(spd);
	worker_free(w);
}

/*
 * attack (helper-51): the kept verdict of a host's datagram taken over by a
 * spoofer on the LAN. Two first fragments of one key that disagree leave no
 * verdict (espgw_fragstate.h); but the table is direct-mapped on an unkeyed
 * CRC, so one first fragment of a key that shares the slot (found offline:
 * about one key in 1,024) evicts the host's verdict, conflict and all, and
 * the spoofer's next first fragment under the host's key (its source, its
 * identification, ports a bypass selects) is then the only one the table
 * knows: the host's later fragments of a protect-class datagram leave in
 * clear. Here: host's first fragment (protect), the spoofer's (bypass:
 * conflict, held), the colliding one, the spoofer's again, the host's later
 * fragment: must not get the bypass.
 */
static void
frag4(struct pkt *p, uint32_t src, uint16_t id, uint16_t fo, uint16_t dport)
{
	uint8_t *ip;

	memset(p, 0, sizeof(*p));
	p->l2 = L2;
	p->v4 = true;
	p->len = L2 + 20 + 16;
	ip = p->b + L2;
	ip[0] = 0x45;
	ip[3] = 36;
	ip[4] = (uint8_t)(id >> 8);
	ip[5] = (uint8_t)id;
	ip[6] = (uint8_t)(fo >> 8);
	ip[7] = (uint8_t)fo;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &src, 4);
	ip[16] = 10, ip[17] = 64, ip[18] = 0, ip[19] = 5; /* 10.64.0.5 */
	ip[20] = 0x9c, ip[21] = 0x40;			  /* sport 40000 */
	ip[22] = (uint8_t)(dport >> 8);
	ip[23] = (uint8_t)dport;
}

/* fragstate.c's slot of an IPv4 key in ESPGW_FS_OUT (its struct fs_key, 1,024 entries). */
static uint32_t
fs_slot4(const struct espgw_spd_key4 *k)
{
	struct {
		uint8_t dir, family, proto, pad;
		uint32_t sa, id;
		uint8_t src[16], dst[16];
	} fk;

	memset(&fk, 0, sizeof(fk));
	fk.dir = ESPGW_FS_OUT;
	fk.family = 4;
	fk.proto = k->proto;
	fk.id = k->frag_id;
	memcpy(fk.src, &k->src, 4);
	memcpy(fk.dst, &k->dst, 4);
	return rte_hash_crc(&fk, sizeof(fk), 0) & 1023;
}

static uint32_t
classify_one(struct espgw_worker *w, const struct espgw_spd *spd, const struct pkt *p)
{
	struct rte_mbuf *m = mbuf_of(p);
	uint32_t res;

	classify_burst(w, spd, ESPGW_FS_OUT, &m, &res, 1);
	rte_pktmbuf_free(m);
	return res;
}

/* Offline: an identification under which src's first fragment shares hk's slot. */
static uint16_t
collide_id(const struct espgw_spd_key4 *hk, uint32_t src)
{
	struct espgw_spd_key4 ck;
	uint16_t cid;

	for (cid = 1; cid != 0; cid++) {
		ck = *hk;
		ck.src = src;
		ck.frag_id = htons(cid);
		if (fs_slot4(&ck) == fs_slot4(hk))
			break;
	}
	assert_int_not_equal(cid, 0);
	return cid;
}

/*
 * The SPD of the kept-verdict attacks: protect udp 10.1.0.0/24 -> 10.64.0.0/24
 * dport 5001 (out-a), else bypass.
 */
static struct espgw_spd *
evict_spd(const char *tag)
{
	static const char *const rules[][2] = {{"10.1.0.0/24", "10.64.0.0/24"}, {NULL, NULL}};
	struct espgw_sp_conf sp;
	struct espgw_err err;
	struct espgw_spd *spd;
	unsigned int i;

	espgw_store_fini(&store);
	sa_add("out-a", ESPGW_DIR_OUT);
	for (i = 0; i < RTE_DIM(rules); i++) {
		memset(&sp, 0, sizeof(sp));
		sp.dir = ESPGW_DIR_OUT;
		sp.priority = rules[i][0] != NULL ? 10 : 100;
		if (rules[i][0] != NULL) {
			assert_int_equal(espgw_prefix_parse(rules[i][0], &sp.src), 0);
			assert_int_equal(espgw_prefix_parse(rules[i][1], &sp.dst), 0);
		}
		sp.proto = rules[i][0] != NULL ? IPPROTO_UDP : -1;
		sp.sport_hi = 65535;
		sp.dport_lo = rules[i][0] != NULL ? 5001 : 0;
		sp.dport_hi = rules[i][0] != NULL ? 5001 : 65535;
		sp.action = rules[i][0] != NULL ? ESPGW_SP_PROTECT : ESPGW_SP_BYPASS;
		snprintf(sp.sa, sizeof(sp.sa), "%s", rules[i][0] != NULL ? "out-a" : "");
		assert_int_equal(
				espgw_store_arr_insert(&store, ESPGW_ARR_SPS, store.n_sps, &sp), 0);
	}
	memset(&err, 0, sizeof(err));
	spd = espgw_spd_build(&store, ESPGW_DIR_OUT, SOCKET_ID_ANY, tag, &err);
	assert_non_null(spd);
	return spd;
}

static void
test_attack_classify_frag_evict(void **state)
{
	uint32_t host = htonl(0x0a01000a), spoof_src = htonl(0x0a010063), res;
	struct espgw_worker *w = worker_new();
	struct espgw_spd_key4 hk;
	struct espgw_spd *spd;
	struct pkt p;
	uint16_t id = 0x1234, cid;

	(void)state;
	spd = evict_spd("cl-evict");
	/* Offline: a key of the spoofer's own sharing the host's datagram's slot. */
	memset(&hk, 0, sizeof(hk));
	hk.proto = IPPROTO_UDP;
	hk.src = host;
	hk.dst = htonl(0x0a400005);
	hk.frag_id = htons(id);
	hk.frag = ESPGW_SPD_FRAG_FIRST;
	cid = collide_id(&hk, spoof_src);
	/* The host's first fragment: protected. */
	frag4(&p, host, id, RTE_IPV4_HDR_MF_FLAG, 5001);
	assert_int_equal(classify_one(w, spd, &p), 1);
	/* The spoofer's under the host's key: the conflict holds the later ones back. */
	frag4(&p, host, id, RTE_IPV4_HDR_MF_FLAG, 53);
	assert_int_equal(classify_one(w, spd, &p), ESPGW_SPD_BYPASS);
	frag4(&p, host, id, 2, 0);
	assert_int_equal(classify_one(w, spd, &p), CLASSIFY_NO_FIRST);
	/* One colliding first fragment, then the spoofer's again. */
	frag4(&p, spoof_src, cid, RTE_IPV4_HDR_MF_FLAG, 53);
	assert_int_equal(classify_one(w, spd, &p), ESPGW_SPD_BYPASS);
	frag4(&p, host, id, RTE_IPV4_HDR_MF_FLAG, 53);
	assert_int_equal(classify_one(w, spd, &p), ESPGW_SPD_BYPASS);
	/* The host's later fragment of its protect-class datagram. */
	frag4(&p, host, id, 2, 0);
	res = classify_one(w, spd, &p);
	if (res == ESPGW_SPD_BYPASS)
		fail_msg("the host's later fragment (protect rule udp 5001) got the spoofer's "
			 "bypass after one colliding first fragment (id %#x): out in clear",
				cid);
	espgw_spd_free(spd);
	worker_free(w);
}

/*
 * attack (helper-52): a conflict lasts only as long as the entry it was set
 * on, and that entry's lifetime is the spoofer's: its first fragment under
 * the host's key (bypass) came first, the host's (protect) turned it into a
 * conflict without extending it. When the spoofer's entry expires, a moment
 * after the host's first fragment, the spoofer's next first fragment is the
 * only verdict under the host's key, and the host's later fragments, a few
 * microseconds behind its first, take it: out in clear. The spoofer chooses
 * the moment (it sent the first one), so no race with the host's timing
 * beyond its first fragment landing in the spoofer's window.
 */
static void
test_attack_classify_frag_conflict_expiry(void **state)
{
	uint32_t host = htonl(0x0a01000a), res;
	uint64_t ttl = rte_get_tsc_hz() / 1000 * 100000; /* worker_new's lifetime */
	struct espgw_worker *w = worker_new();
	struct espgw_spd *spd = evict_spd("cl-cexp");
	struct pkt p;
	uint16_t id = 0x2345;

	(void)state;
	/* t = 1: the spoofer's first fragment under the host's predicted key. */
	frag4(&p, host, id, RTE_IPV4_HDR_MF_FLAG, 53);
	assert_int_equal(classify_one(w, spd, &p), ESPGW_SPD_BYPASS);
	/* Just before it expires: the host's first fragment (protect): conflict. */
	w->now = ttl - 10;
	frag4(&p, host, id, RTE_IPV4_HDR_MF_FLAG, 5001);
	assert_int_equal(classify_one(w, spd, &p), 1);
	/* The spoofer's entry (and with it the conflict) expires; the spoofer's again. */
	w->now = ttl + 2;
	frag4(&p, host, id, RTE_IPV4_HDR_MF_FLAG, 53);
	assert_int_equal(classify_one(w, spd, &p), ESPGW_SPD_BYPASS);
	/* The host's later fragment, 13 cycles after its first. */
	w->now = ttl + 3;
	frag4(&p, host, id, 2, 0);
	res = classify_one(w, spd, &p);
	if (res == ESPGW_SPD_BYPASS)
		fail_msg("the host's later fragment (protect rule udp 5001, first fragment 13 "
			 "cycles before) got the spoofer's bypass: the conflict expired with "
			 "the spoofer's entry");
	espgw_spd_free(spd);
	worker_free(w);
}

/*
 * attack (helper-52), README Known limits' "its slot was taken when its first
 * fragment came, and has just freed": the spoofer holds the slot of the host's
 * key with a colliding key of its own (computed offline), the host's first
 * fragment keeps nothing, the spoofer's colliding entry expires (it chose
 * when), and its first fragment under the host's key is then the only
 * verdict: the host's later fragments leave in clear. A slot that refused a
 * first fragment could stay held (no verdict for any key) for a lifetime after.
 */
static void
test_attack_classify_frag_refused_freed(void **state)
{
	uint32_t host = htonl(0x0a01000a), spoof_src = htonl(0x0a010063), res;
	uint64_t ttl = rte_get_tsc_hz() / 1000 * 100000;
	struct espgw_worker *w = worker_new();
	struct espgw_spd *spd = evict_spd("cl-refused");
	struct espgw_spd_key4 hk;
	struct pkt p;
	uint16_t id = 0x3456, cid;

	(void)state;
	memset(&hk, 0, sizeof(hk));
	hk.proto = IPPROTO_UDP;
	hk.src = host;
	hk.dst = htonl(0x0a400005);
	hk.frag_id = htons(id);
	cid = collide_id(&hk, spoof_src);
	frag4(&p, spoof_src, cid, RTE_IPV4_HDR_MF_FLAG, 53);
	assert_int_equal(classify_one(w, spd, &p), ESPGW_SPD_BYPASS);
	w->now = ttl - 10; /* the host's first fragment: its slot is taken */
	frag4(&p, host, id, RTE_IPV4_HDR_MF_FLAG, 5001);
	assert_int_equal(classify_one(w, spd, &p), 1);
	w->now = ttl + 2; /* the colliding entry expired; the spoofer's under the host's key */
	frag4(&p, host, id, RTE_IPV4_HDR_MF_FLAG, 53);
	assert_int_equal(classify_one(w, spd, &p), ESPGW_SPD_BYPASS);
	w->now = ttl + 3;
	frag4(&p, host, id, 2, 0);
	res = classify_one(w, spd, &p);
	if (res == ESPGW_SPD_BYPASS)
		fail_msg("the host's later fragment (protect rule udp 5001) got the spoofer's "
			 "bypass: its first fragment was refused a slot that then freed");
	espgw_spd_free(spd);
	worker_free(w);
}

/*
 * attack (helper-52), receiver-dependent: an IPv6 first fragment may carry
 * extension headers after its fragment header (RFC 8200 4.5: the whole chain
 * is in the first fragment), so its ports are not at the start of the
 * fragmentable part, and a later fragment at offset 8 overlaps them. From the
 * WAN, where a bypass lets "udp 53" in clear and the inbound policy wants
 * "udp 5001" protected: a first fragment with a destination options header
 * (8 bytes) and UDP to port 53 (bypass, kept), then a later fragment at
 * offset 8 whose bytes are a UDP header to port 5001: it gets the kept bypass.
 * A host that reassembles overlaps (RFC 5722 says discard; old stacks keep
 * the newer bytes) gets a clear datagram to 5001 past the inbound policy. RFC
 * 1858's rule, kept per datagram: a later fragment that starts before the end
 * of its first fragment's upper-layer ports has no verdict.
 */
static void
v6frag(struct pkt *p, uint16_t fo_m, uint16_t dport)
{
	uint8_t *ip;

	memset(p, 0, sizeof(*p));
	p->l2 = L2;
	p->len = L2 + 40 + 8 + 8 + 8;
	ip = p->b + L2;
	ip[0] = 0x60;
	ip[5] = 24; /* payload length */
	ip[6] = 44; /* fragment header */
	ip[7] = 64;
	ip[8] = 0xfd, ip[9] = 0x01, ip[23] = 0x0a;   /* fd01::a */
	ip[24] = 0xfd, ip[25] = 0x40, ip[39] = 0x05; /* fd40::5 */
	ip[40] = 60;				     /* then destination options */
	ip[42] = (uint8_t)(fo_m >> 8);
	ip[43] = (uint8_t)fo_m;
	ip[44] = 0x12, ip[45] = 0x34, ip[46] = 0x56, ip[47] = 0x78; /* identification */
	if ((fo_m & 0xfff8) == 0) {
		ip[48] = IPPROTO_UDP; /* destination options, 8 bytes: PadN */
		ip[50] = 1;
		ip[51] = 4;
		ip[56] = 0x9c, ip[57] = 0x40; /* sport 40000 */
		ip[58] = (uint8_t)(dport >> 8);
		ip[59] = (uint8_t)dport;
	} else {
		ip[48] = 0x9c, ip[49] = 0x40; /* at offset 8: a UDP header */
		ip[50] = (uint8_t)(dport >> 8);
		ip[51] = (uint8_t)dport;
	}
}

static void
test_attack_classify_frag6_overlap(void **state)
{
	struct espgw_worker *w = worker_new();
	struct espgw_sp_conf sp;
	struct espgw_err err;
	struct espgw_spd *spd;
	struct rte_mbuf *m;
	struct pkt p;
	uint32_t res;
	unsigned int i;

	(void)state;
	espgw_store_fini(&store);
	sa_add("in-a", ESPGW_DIR_IN);
	for (i = 0; i < 2; i++) {
		memset(&sp, 0, sizeof(sp));
		sp.dir = ESPGW_DIR_IN;
		sp.priority = i == 0 ? 10 : 100;
		if (i == 0) {
			assert_int_equal(espgw_prefix_parse("fd01::/64", &sp.src), 0);
			assert_int_equal(espgw_prefix_parse("fd40::/64", &sp.dst), 0);
		} else {
			assert_int_equal(espgw_prefix_parse("::/0", &sp.src), 0);
			assert_int_equal(espgw_prefix_parse("::/0", &sp.dst), 0);
		}
		sp.proto = i == 0 ? IPPROTO_UDP : -1;
		sp.sport_hi = 65535;
		sp.dport_lo = i == 0 ? 5001 : 0;
		sp.dport_hi = i == 0 ? 5001 : 65535;
		sp.action = i == 0 ? ESPGW_SP_PROTECT : ESPGW_SP_BYPASS;
		snprintf(sp.sa, sizeof(sp.sa), "%s", i == 0 ? "in-a" : "");
		assert_int_equal(
				espgw_store_arr_insert(&store, ESPGW_ARR_SPS, store.n_sps, &sp), 0);
	}
	memset(&err, 0, sizeof(err));
	spd = espgw_spd_build(&store, ESPGW_DIR_IN, SOCKET_ID_ANY, "cl-v6ovl", &err);
	assert_non_null(spd);
	assert_true(espgw_spd_uses_ports(spd));
	/* The whole datagram to 5001 in clear: not a bypass. */
	v6frag(&p, 0, 5001);
	m = mbuf_of(&p);
	classify_burst(w, spd, ESPGW_FS_IN, &m, &res, 1);
	rte_pktmbuf_free(m);
	assert_int_not_equal(res, ESPGW_SPD_BYPASS);
	/* First fragment to 53 (bypass), kept. */
	v6frag(&p, 1, 53);
	m = mbuf_of(&p);
	classify_burst(w, spd, ESPGW_FS_IN, &m, &res, 1);
	rte_pktmbuf_free(m);
	assert_int_equal(res, ESPGW_SPD_BYPASS);
	/* A later fragment at offset 8, over the first's UDP header: to 5001. */
	v6frag(&p, 8, 5001);
	m = mbuf_of(&p);
	classify_burst(w, spd, ESPGW_FS_IN, &m, &res, 1);
	rte_pktmbuf_free(m);
	if (res == ESPGW_SPD_BYPASS)
		fail_msg("a later IPv6 fragment at offset 8, over its first fragment's UDP "
			 "header (behind a destination options header), got the first's "
			 "bypass: a host keeping overlaps reassembles clear udp 5001");
	espgw_spd_free(spd);
	worker_free(w);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_attack_classify_one_pass),
			cmocka_unit_test(test_attack_classify_buckets),
			cmocka_unit_test(test_attack_classify_bucket_chain),
			cmocka_unit_test(test_attack_classify_no_v4),
			cmocka_unit_test(test_attack_classify_frag_evict),
			cmocka_unit_test(test_attack_classify_frag_conflict_expiry),
			cmocka_unit_test(test_attack_classify_frag_refused_freed),
			cmocka_unit_test(test_attack_classify_frag6_overlap),
	};
	int rc;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("test_classify", 255, 0, 0, 512, SOCKET_ID_ANY);
	if (pool == NULL || espgw_mbuf_sa_register() != 0)
		return 1;
	rc = cmocka_run_group_tests_name("dpdk-classify", tests, NULL, NULL);
	espgw_store_fini(&store);
	rte_eal_cleanup();
	return rc != 0;
}
