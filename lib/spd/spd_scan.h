/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small SPDs matched by a scan of their rules in precedence order (internal
 * to lib/spd, and to lib/dp/classify.c's one-pass IPv4 classification).
 * rte_acl walks its trie one input byte at a time whatever the rule count:
 * about 30 cycles a packet for one IPv4 rule on the bench machines, more
 * than the whole ESP framing. A gateway's usual SPD holds a
 * handful of rules (one per tunnel and a bypass or two), and comparing a key
 * against each under its masks costs a few cycles a rule. espgw_spd.c builds
 * both and classifies by scan up to ESPGW_SPD_SCAN_MAX rules of a family;
 * tests/dpdk/test_spd.c checks every scan result against rte_acl's.
 */
#ifndef ESPGW_SPD_SCAN_H
#define ESPGW_SPD_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>

#include "espgw_spd_sel.h"

/* What both families match alike, host order. */
struct spd_scan_l4 {
	uint16_t sport_lo, sport_hi; /* inclusive */
	uint16_t dport_lo, dport_hi;
	uint8_t proto, proto_mask; /* mask 0: any protocol */
	uint32_t res;		   /* the rule's result (espgw_spd.h) */
};

/* One rule: it matches when (key & mask) == value in every field. */
struct spd_scan4 {
	uint32_t src, src_mask;
	uint32_t dst, dst_mask;
	struct spd_scan_l4 l4;
};

struct spd_scan6 {
	uint64_t src[2], src_mask[2];
	uint64_t dst[2], dst_mask[2];
	struct spd_scan_l4 l4;
};

/* A rule's selectors (its family's or "any") and the result it gives. */
void spd_scan_set4(struct spd_scan4 *r, const struct espgw_sp_conf *sp, uint32_t res);
void spd_scan_set6(struct spd_scan6 *r, const struct espgw_sp_conf *sp, uint32_t res);

/* Non-zero when the protocol differs (under the rule's mask). */
static inline uint32_t
spd_scan_proto_miss(const struct spd_scan_l4 *t, uint8_t proto)
{
	return (uint32_t)((proto & t->proto_mask) ^ t->proto);
}

/* Host-order ports in the rule's ranges (RFC 4301 4.4.1.1: ranges, inclusive). */
static inline bool
spd_scan_ports_match(const struct spd_scan_l4 *t, uint16_t sp, uint16_t dp)
{
	return sp >= t->sport_lo && sp <= t->sport_hi && dp >= t->dport_lo && dp <= t->dport_hi;
}

/*
 * The result of the first of the n rules (best first) that the selectors
 * match (host order), else NO_MATCH. Inline: the data path's one-pass
 * classification (espgw_spd_sel.h) calls it once a packet.
 */
static inline uint32_t
spd_scan_match4_host(const struct spd_scan4 *r, uint32_t n, uint32_t src, uint32_t dst,
		uint8_t proto, uint16_t sport, uint16_t dport)
{
	uint32_t i;

	for (i = 0; i < n; i++, r++) {
		/* One test of the three masked fields: most rules fail here. */
		if (((src & r->src_mask) ^ r->src) | ((dst & r->dst_mask) ^ r->dst) |
				spd_scan_proto_miss(&r->l4, proto))
			continue;
		if (spd_scan_ports_match(&r->l4, sport, dport))
			return r->l4.res;
	}
	return ESPGW_SPD_NO_MATCH;
}

/* The same for selectors as a packet has them (network order). */
static inline uint32_t
spd_scan_match4_sel(const struct spd_scan4 *r, uint32_t n, const struct espgw_spd_sel4 *s)
{
	uint32_t ports = rte_be_to_cpu_32(s->ports); /* sport in the high half */

	return spd_scan_match4_host(r, n, rte_be_to_cpu_32(s->src), rte_be_to_cpu_32(s->dst),
			s->proto, (uint16_t)(ports >> 16), (uint16_t)ports);
}

/* The result of the first of the n rules (best first) that k matches, else NO_MATCH. */
uint32_t spd_scan_match4(const struct spd_scan4 *r, uint32_t n, const struct espgw_spd_key4 *k);

/* res[i]: the result of the first of the n rules (best first) k[i] matches, else NO_MATCH. */
void spd_scan_classify4(const struct spd_scan4 *r, uint32_t n, const struct espgw_spd_key4 *k[],
		uint32_t res[], uint32_t nk);
void spd_scan_classify6(const struct spd_scan6 *r, uint32_t n, const struct espgw_spd_key6 *k[],
		uint32_t res[], uint32_t nk);

#endif
