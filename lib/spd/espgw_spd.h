/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Security Policy Database, one direction: rule store (control) built into
 * rte_acl contexts (one for IPv4, one for IPv6) and a burst classifier (data).
 *
 * Classification runs on a compact 5-tuple key extracted from the packet by
 * espgw_spd_key*_extract() rather than on the raw header, so IPv4 options and
 * IPv6 extension headers do not shift the port fields, and the same rules
 * serve the inbound policy check on decrypted inner packets (RFC 4301 5.2).
 */
#ifndef ESPGW_SPD_H
#define ESPGW_SPD_H

#include <stdbool.h>
#include <stdint.h>

#include "espgw_store.h"

/*
 * Classification results: 0 = no rule matched; protect = the SA's slot + 1
 * (espgw_sa_conf.slot, declared SAs too). Every special value is at or
 * above ESPGW_SPD_SPECIAL (slots stay below ESPGW_MAX_SA_MAX).
 */
#define ESPGW_SPD_NO_MATCH	0u
#define ESPGW_SPD_SPECIAL	(UINT32_MAX - 16)
#define ESPGW_SPD_DISCARD	(UINT32_MAX - 1)
#define ESPGW_SPD_BYPASS	UINT32_MAX
#define ESPGW_SPD_IS_PROTECT(r) ((r) != ESPGW_SPD_NO_MATCH && (r) < ESPGW_SPD_SPECIAL)
#define ESPGW_SPD_SA_INDEX(r)	((r)-1)

/*
 * An inbound policy that "sp set" switched from one SA to another accepts
 * both while the old one is installed (store_sp.c sp_prev): its rule's
 * result is ESPGW_SPD_PAIR_BASE + its rank, a protect result that names no
 * slot. espgw_spd_pair_resolve() turns it into the result of the SA that the
 * packet came through, when that is one of the two, else of the current SA.
 */
#define ESPGW_SPD_PAIR_BASE (1u << 23)

/*
 * Keys: fields in network byte order; ports 0 when the protocol has none and
 * in non-initial fragments; ICMP/ICMPv6 carry the type in sport and the code
 * in dport (RFC 4301 4.4.1.1).
 */
struct espgw_spd_key4 {
	uint8_t proto;
	uint8_t pad[3];
	uint32_t src;
	uint32_t dst;
	uint16_t sport;
	uint16_t dport;
	/* Not matched: what RFC 4301 7.3 needs to know of a fragment. */
	uint8_t frag;	  /* ESPGW_SPD_FRAG_* */
	uint32_t frag_id; /* IPv4 identification (RFC 791) */
} __attribute__((packed));

struct espgw_spd_key6 {
	uint8_t proto;
	uint8_t pad[3];
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
	uint8_t frag;	  /* ESPGW_SPD_FRAG_* */
	uint32_t frag_id; /* from the fragment header (RFC 8200 4.5) */
	/*
	 * Bytes: a later fragment's offset; a first fragment's, how far into
	 * the fragmentable part its ports end (extension headers may come
	 * before them): a later fragment starting before that overlaps them.
	 */
	uint16_t frag_off;
} __attribute__((packed));

/* A key's fragment kind: not a fragment, the first one (ports known), a later one (OPAQUE). */
#define ESPGW_SPD_FRAG_NONE  0
#define ESPGW_SPD_FRAG_FIRST 1
#define ESPGW_SPD_FRAG_LATER 2

struct espgw_spd;

/*
 * Build the SPD for one direction from every store rule of that direction.
 * tag makes the rte_acl context names unique (e.g. "out", "in-gen3").
 * Returns NULL with err set (rte_acl build failure, out of memory).
 */
struct espgw_spd *espgw_spd_build(const struct espgw_store *s, enum espgw_dir dir, int socket,
		const char *tag, struct espgw_err *err);
/*
 * Up to this many rules of a family are classified by a scan of the rules
 * instead of rte_acl's trie (spd_scan.h); a larger IPv4 family by a scan of
 * buckets where its rules allow (spd_bucket.h). The rte_acl context is
 * built too.
 */
#define ESPGW_SPD_SCAN_MAX 8
/*
 * espgw_spd_build with other choices: the scan's limit, buckets or not
 * (0 and false: rte_acl alone; the tests compare them).
 */
struct espgw_spd *espgw_spd_build_with(const struct espgw_store *s, enum espgw_dir dir, int socket,
		const char *tag, unsigned int scan_max, bool buckets, struct espgw_err *err);
void espgw_spd_free(struct espgw_spd *spd);

/*
 * Fill k from an L3 header of len bytes available (at least the fixed header).
 * Returns 0, or -1 when the header is truncated/malformed.
 */
int espgw_spd_key4_extract(const void *ip4, uint32_t len, struct espgw_spd_key4 *k);
int espgw_spd_key6_extract(const void *ip6, uint32_t len, struct espgw_spd_key6 *k);

struct spd_scan4;
/*
 * Is IPv4 classified by a scan (spd_scan.h), or has it no rule? Then *r and
 * *n are its rules (none: NULL and 0): lib/dp/classify.c matches packets
 * against them in one pass, without a key (espgw_spd_sel.h says why). False
 * for rte_acl, which classifies keys, and for buckets (below).
 */
bool espgw_spd_scan4(const struct espgw_spd *spd, const struct spd_scan4 **r, uint32_t *n);

struct spd_bucket4;
/* IPv4's buckets (spd_bucket.h), also matched in one pass; NULL when it has none. */
const struct spd_bucket4 *espgw_spd_bucket4(const struct espgw_spd *spd);

struct spd_sa4;
/*
 * Inbound IPv4: the rule kept per SA slot (spd_sa.h); NULL when none.
 * lib/dp/classify.c tries it first on a decrypted packet in its one pass.
 */
const struct spd_sa4 *espgw_spd_sa4(const struct espgw_spd *spd);
/* How many SA slots have a rule kept (for logs and tests). */
unsigned int espgw_spd_sa4_kept(const struct espgw_spd *spd);

/* Classify n keys of one family; res[i] gets one of the results above. */
void espgw_spd_classify4(const struct espgw_spd *spd, const struct espgw_spd_key4 *k[],
		uint32_t res[], uint32_t n);
void espgw_spd_classify6(const struct espgw_spd *spd, const struct espgw_spd_key6 *k[],
		uint32_t res[], uint32_t n);

/*
 * Does some rule select ports? Only then can a fragment without ports (a
 * non-initial one) get another rule than its packet's (RFC 4301 7).
 */
bool espgw_spd_uses_ports(const struct espgw_spd *spd);

/* Does some rule accept two SAs (ESPGW_SPD_PAIR_BASE)? */
bool espgw_spd_has_pairs(const struct espgw_spd *spd);

/*
 * A result for a packet that came through the SA in slot: a pair result
 * becomes slot + 1 when slot is one of its two SAs, else its current SA's
 * result (the packet then drops as policy_mismatch); any other result is
 * given back unchanged.
 */
uint32_t espgw_spd_pair_resolve(const struct espgw_spd *spd, uint32_t res, uint32_t slot);

/* How a family is classified: "scan", "buckets by source|destination", "rte_acl", "none". */
const char *espgw_spd_classifier4(const struct espgw_spd *spd);
const char *espgw_spd_classifier6(const struct espgw_spd *spd);

/* Number of rules of each family (for logs and tests). */
unsigned int espgw_spd_rules4(const struct espgw_spd *spd);
unsigned int espgw_spd_rules6(const struct espgw_spd *spd);

#endif
