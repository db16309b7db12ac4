/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small SPDs matched by a scan (spd_scan.h says why). The semantics are
 * rte_acl's as espgw_spd.c configures it: addresses under prefix masks, the
 * protocol under its mask (0 for "any"), ports in inclusive ranges (a range
 * with lo > hi matches nothing), and the best rule first.
 */
#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include "spd_scan.h"

/* The mask of 64-bit word w of a prefix's address, host order (word 0 the top). */
static uint64_t
prefix_mask(const struct espgw_prefix *p, unsigned int w)
{
	int left = (int)p->len - 64 * (int)w;

	if (p->ip.family == 0 || left <= 0)
		return 0;
	return left >= 64 ? UINT64_MAX : UINT64_MAX << (64 - left);
}

static uint32_t
word32(const struct espgw_prefix *p)
{
	uint32_t v;

	memcpy(&v, p->ip.bytes, sizeof(v));
	return rte_be_to_cpu_32(v);
}

static uint64_t
word64(const struct espgw_prefix *p, unsigned int w)
{
	uint64_t v;

	memcpy(&v, p->ip.bytes + 8 * w, sizeof(v));
	return rte_be_to_cpu_64(v);
}

static void
l4_set(struct spd_scan_l4 *t, const struct espgw_sp_conf *sp, uint32_t res)
{
	t->proto_mask = sp->proto < 0 ? 0 : 0xff;
	t->proto = sp->proto < 0 ? 0 : (uint8_t)sp->proto;
	t->sport_lo = sp->sport_lo;
	t->sport_hi = sp->sport_hi;
	t->dport_lo = sp->dport_lo;
	t->dport_hi = sp->dport_hi;
	t->res = res;
}

void
spd_scan_set4(struct spd_scan4 *r, const struct espgw_sp_conf *sp, uint32_t res)
{
	memset(r, 0, sizeof(*r));
	r->src_mask = (uint32_t)(prefix_mask(&sp->src, 0) >> 32);
	r->src = word32(&sp->src) & r->src_mask;
	r->dst_mask = (uint32_t)(prefix_mask(&sp->dst, 0) >> 32);
	r->dst = word32(&sp->dst) & r->dst_mask;
	l4_set(&r->l4, sp, res);
}

void
spd_scan_set6(struct spd_scan6 *r, const struct espgw_sp_conf *sp, uint32_t res)
{
	unsigned int w;

	memset(r, 0, sizeof(*r));
	for (w = 0; w < 2; w++) {
		r->src_mask[w] = prefix_mask(&sp->src, w);
		r->src[w] = word64(&sp->src, w) & r->src_mask[w];
		r->dst_mask[w] = prefix_mask(&sp->dst, w);
		r->dst[w] = word64(&sp->dst, w) & r->dst_mask[w];
	}
	l4_set(&r->l4, sp, res);
}

uint32_t
spd_scan_match4(const struct spd_scan4 *r, uint32_t n, const struct espgw_spd_key4 *k)
{
	return spd_scan_match4_host(r, n, rte_be_to_cpu_32(k->src), rte_be_to_cpu_32(k->dst),
			k->proto, rte_be_to_cpu_16(k->sport), rte_be_to_cpu_16(k->dport));
}

static uint64_t
addr_miss(const uint8_t *a, const uint64_t v[2], const uint64_t m[2])
{
	uint64_t hi, lo;

	memcpy(&hi, a, sizeof(hi));
	memcpy(&lo, a + 8, sizeof(lo));
	return ((rte_be_to_cpu_64(hi) & m[0]) ^ v[0]) | ((rte_be_to_cpu_64(lo) & m[1]) ^ v[1]);
}

static uint32_t
match6(const struct spd_scan6 *r, uint32_t n, const struct espgw_spd_key6 *k)
{
	uint16_t sp = rte_be_to_cpu_16(k->sport), dp = rte_be_to_cpu_16(k->dport);
	uint32_t i;

	for (i = 0; i < n; i++, r++) {
		if (addr_miss(k->src, r->src, r->src_mask) |
				addr_miss(k->dst, r->dst, r->dst_mask) |
				spd_scan_proto_miss(&r->l4, k->proto))
			continue;
		if (spd_scan_ports_match(&r->l4, sp, dp))
			return r->l4.res;
	}
	return ESPGW_SPD_NO_MATCH;
}

void
spd_scan_classify4(const struct spd_scan4 *r, uint32_t n, const struct espgw_spd_key4 *k[],
		uint32_t res[], uint32_t nk)
{
	uint32_t i;

	for (i = 0; i < nk; i++)
		res[i] = spd_scan_match4(r, n, k[i]);
}

void
spd_scan_classify6(const struct spd_scan6 *r, uint32_t n, const struct espgw_spd_key6 *k[],
		uint32_t res[], uint32_t nk)
{
	uint32_t i;

	for (i = 0; i < nk; i++)
		res[i] = match6(r, n, k[i]);
}
