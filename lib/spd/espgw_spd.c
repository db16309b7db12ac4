/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPD build (control) and classification (data) on rte_acl: one context per
 * family, built from the store's rules of one direction. A family of up to
 * ESPGW_SPD_SCAN_MAX rules is classified by a scan instead (spd_scan.h), a
 * larger IPv4 one by a scan of buckets where its rules allow (spd_bucket.h).
 *
 * rte_acl compares input bytes most significant first: rule values are host
 * order numbers, the keys hold network order (as the packet does). The store
 * says "lower priority value wins" and breaks ties by definition order; rte_acl
 * says "higher priority wins" and leaves ties undefined, so each rule gets a
 * distinct ACL priority from its rank in (priority, config order).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_malloc.h>

#include "espgw_spd.h"
#include "spd_bucket.h"
#include "spd_sa.h"
#include "spd_scan.h"

/* IPv4 key fields; proto alone in the first input byte, then 4-byte groups. */
enum { F4_PROTO, F4_SRC, F4_DST, F4_SPORT, F4_DPORT, F4_NUM };
/* IPv6: each address is four 32-bit MASK fields. */
enum { F6_PROTO, F6_SRC, F6_DST = F6_SRC + 4, F6_SPORT = F6_DST + 4, F6_DPORT, F6_NUM };

RTE_ACL_RULE_DEF(spd_rule4, F4_NUM);
RTE_ACL_RULE_DEF(spd_rule6, F6_NUM);

struct espgw_spd {
	struct rte_acl_ctx *acl4; /* NULL when the family has no rule */
	struct rte_acl_ctx *acl6;
	unsigned int n4, n6;
	bool ports; /* some rule selects ports (or ICMP type / code) */
	/* By rank, for rules that accept two SAs: {current, previous} results; NULL if none. */
	uint32_t (*pair)[2];
	uint32_t n_pair; /* entries of pair (the direction's rules) */
	/* Small families: their rules best first, classified by scan (spd_scan.h); else NULL. */
	struct spd_scan4 *scan4;
	struct spd_scan6 *scan6;
	struct spd_bucket4 *bucket4; /* larger IPv4 families where it fits (spd_bucket.h) */
	struct spd_sa4 *sa4; /* inbound IPv4: the rule kept per SA slot (spd_sa.h); else NULL */
};

_Static_assert(ESPGW_MAX_SA_MAX < ESPGW_SPD_PAIR_BASE, "slot results below the pairs");
_Static_assert(ESPGW_SPD_PAIR_BASE + ESPGW_SP_MAX < ESPGW_SPD_SPECIAL, "pairs are protect results");

/* Names of ACL contexts must be unique process-wide (rte_acl_create returns an
 * existing context of the same name); the sequence makes them so. */
static uint32_t ctx_seq;

static void
err_set(struct espgw_err *err, const char *msg, const char *arg)
{
	if (err != NULL)
		snprintf(err->msg, sizeof(err->msg), "spd: %s%s", msg, arg);
}

static struct rte_acl_field_def
def(uint8_t type, uint8_t size, uint8_t field, uint8_t input, uint32_t offset)
{
	struct rte_acl_field_def d = {
			.type = type,
			.size = size,
			.field_index = field,
			.input_index = input,
			.offset = offset,
	};

	return d;
}

/*
 * The address fields in trie order: swap puts the destination first. rte_acl
 * builds in field order, and a first field with few values (a gateway's own
 * subnets) and a second with many (the peers' subnets, one per tunnel) builds
 * several times faster than the other way round: 0.65 s against 2.8 s for
 * 100,000 IPv4 rules here. Outbound policies are (few sources, many
 * destinations), inbound ones the reverse; the build counts which.
 */
static void
defs4(struct rte_acl_config *c, bool swap)
{
	uint32_t a = offsetof(struct espgw_spd_key4, src), b = offsetof(struct espgw_spd_key4, dst);

	c->num_fields = F4_NUM;
	c->defs[F4_PROTO] = def(RTE_ACL_FIELD_TYPE_BITMASK, 1, F4_PROTO, 0,
			offsetof(struct espgw_spd_key4, proto));
	c->defs[F4_SRC] = def(RTE_ACL_FIELD_TYPE_MASK, 4, F4_SRC, 1, swap ? b : a);
	c->defs[F4_DST] = def(RTE_ACL_FIELD_TYPE_MASK, 4, F4_DST, 2, swap ? a : b);
	c->defs[F4_SPORT] = def(RTE_ACL_FIELD_TYPE_RANGE, 2, F4_SPORT, 3,
			offsetof(struct espgw_spd_key4, sport));
	c->defs[F4_DPORT] = def(RTE_ACL_FIELD_TYPE_RANGE, 2, F4_DPORT, 3,
			offsetof(struct espgw_spd_key4, dport));
}

static void
defs6(struct rte_acl_config *c, bool swap)
{
	uint32_t a = offsetof(struct espgw_spd_key6, src), b = offsetof(struct espgw_spd_key6, dst);
	uint8_t w;

	c->num_fields = F6_NUM;
	c->defs[F6_PROTO] = def(RTE_ACL_FIELD_TYPE_BITMASK, 1, F6_PROTO, 0,
			offsetof(struct espgw_spd_key6, proto));
	for (w = 0; w < 4; w++) {
		c->defs[F6_SRC + w] = def(RTE_ACL_FIELD_TYPE_MASK, 4, F6_SRC + w, 1 + w,
				(swap ? b : a) + 4 * w);
		c->defs[F6_DST + w] = def(RTE_ACL_FIELD_TYPE_MASK, 4, F6_DST + w, 5 + w,
				(swap ? a : b) + 4 * w);
	}
	c->defs[F6_SPORT] = def(RTE_ACL_FIELD_TYPE_RANGE, 2, F6_SPORT, 9,
			offsetof(struct espgw_spd_key6, sport));
	c->defs[F6_DPORT] = def(RTE_ACL_FIELD_TYPE_RANGE, 2, F6_DPORT, 9,
			offsetof(struct espgw_spd_key6, dport));
}

/* 4, 6, or 0 when both selectors are "any" (the rule serves both families). */
static int
sp_family(const struct espgw_sp_conf *sp)
{
	uint8_t a = sp->src.ip.family, b = sp->dst.ip.family;

	if (a != 0 && b != 0 && a != b)
		return -1;
	return a != 0 ? a : b;
}

/* One rule of the direction: its store index and precedence key. */
struct rank {
	uint32_t prio;
	unsigned int idx;
};

/* Control-side build state: the rules of one direction in precedence order. */
struct build {
	const struct espgw_store *s;
	struct espgw_spd *spd;
	int socket;
	unsigned int scan_max;
	bool buckets;
	struct rank *order; /* best first */
	unsigned int n;
	unsigned int n4, n6;
	bool ports;
};

/* The installed inbound SA a policy accepts besides its own (store_sp.c sp_prev); -1 if none. */
static int
sp_prev_slot(const struct espgw_store *s, const struct espgw_sp_conf *sp, uint32_t cur)
{
	int i;

	if (sp->dir != ESPGW_DIR_IN || sp->prev_sa[0] == '\0')
		return -1;
	i = espgw_store_sa_index(s, sp->prev_sa);
	if (i < 0 || s->sas[i].dir != ESPGW_DIR_IN || s->sas[i].declared || s->sas[i].slot == cur)
		return -1;
	return (int)s->sas[i].slot;
}

/* Rank r accepts slots cur and prev: its pair entry, the array made at the first one. */
static int
pair_put(struct build *b, unsigned int r, uint32_t cur, uint32_t prev, uint32_t *res,
		struct espgw_err *err)
{
	struct espgw_spd *spd = b->spd;

	if (spd->pair == NULL) {
		spd->pair = rte_zmalloc_socket(
				"espgw_spd_pair", b->n * sizeof(*spd->pair), 0, b->socket);
		if (spd->pair == NULL) {
			err_set(err, "out of memory", "");
			return -1;
		}
		spd->n_pair = b->n;
	}
	spd->pair[r][0] = cur + 1;
	spd->pair[r][1] = prev + 1;
	*res = ESPGW_SPD_PAIR_BASE + r;
	return 0;
}

static int
sp_result(struct build *b, unsigned int r, uint32_t *res, struct espgw_err *err)
{
	const struct espgw_store *s = b->s;
	const struct espgw_sp_conf *sp = &s->sps[b->order[r].idx];
	int i, prev;

	switch (sp->action) {
	case ESPGW_SP_BYPASS:
		*res = ESPGW_SPD_BYPASS;
		return 0;
	case ESPGW_SP_DISCARD:
		*res = ESPGW_SPD_DISCARD;
		return 0;
	case ESPGW_SP_PROTECT:
		break;
	default:
		err_set(err, "bad policy action", "");
		return -1;
	}
	i = espgw_store_sa_index(s, sp->sa);
	if (i < 0 || s->sas[i].dir != sp->dir) {
		err_set(err, "protect policy names no SA of its direction: ", sp->sa);
		return -1;
	}
	*res = s->sas[i].slot + 1; /* declared too: the worker sees its state (espgw_sad.h) */
	prev = sp_prev_slot(s, sp, s->sas[i].slot);
	return prev < 0 ? 0 : pair_put(b, r, s->sas[i].slot, (uint32_t)prev, res, err);
}

/* Host-order value of the 32-bit word w of a prefix, host bits cleared. */
static uint32_t
prefix_word(const struct espgw_prefix *p, unsigned int w, uint32_t *bits)
{
	int left = (int)p->len - 32 * (int)w;
	uint32_t v;

	*bits = left <= 0 ? 0 : left >= 32 ? 32 : (uint32_t)left;
	if (p->ip.family == 0 || *bits == 0)
		return 0;
	memcpy(&v, p->ip.bytes + 4 * w, sizeof(v));
	return rte_be_to_cpu_32(v) & (uint32_t)(UINT64_MAX << (32 - *bits));
}

static void
field_prefix(struct rte_acl_field *f, const struct espgw_prefix *p, unsigned int w)
{
	uint32_t bits;

	f->value.u32 = prefix_word(p, w, &bits);
	f->mask_range.u32 = bits;
}

static void
fields_common(struct rte_acl_field *proto, struct rte_acl_field *sport, struct rte_acl_field *dport,
		const struct espgw_sp_conf *sp)
{
	proto->value.u8 = sp->proto < 0 ? 0 : (uint8_t)sp->proto;
	proto->mask_range.u8 = sp->proto < 0 ? 0 : 0xff;
	sport->value.u16 = sp->sport_lo;
	sport->mask_range.u16 = sp->sport_hi;
	dport->value.u16 = sp->dport_lo;
	dport->mask_range.u16 = sp->dport_hi;
}

static int
add_rule4(struct rte_acl_ctx *ctx, const struct espgw_sp_conf *sp, struct rte_acl_rule_data d,
		bool swap)
{
	struct spd_rule4 r;

	memset(&r, 0, sizeof(r));
	r.data = d;
	fields_common(&r.field[F4_PROTO], &r.field[F4_SPORT], &r.field[F4_DPORT], sp);
	field_prefix(&r.field[F4_SRC], swap ? &sp->dst : &sp->src, 0);
	field_prefix(&r.field[F4_DST], swap ? &sp->src : &sp->dst, 0);
	return rte_acl_add_rules(ctx, (const struct rte_acl_rule *)&r, 1);
}

static int
add_rule6(struct rte_acl_ctx *ctx, const struct espgw_sp_conf *sp, struct rte_acl_rule_data d,
		bool swap)
{
	struct spd_rule6 r;
	unsigned int w;

	memset(&r, 0, sizeof(r));
	r.data = d;
	fields_common(&r.field[F6_PROTO], &r.field[F6_SPORT], &r.field[F6_DPORT], sp);
	for (w = 0; w < 4; w++) {
		field_prefix(&r.field[F6_SRC + w], swap ? &sp->dst : &sp->src, w);
		field_prefix(&r.field[F6_DST + w], swap ? &sp->src : &sp->dst, w);
	}
	return rte_acl_add_rules(ctx, (const struct rte_acl_rule *)&r, 1);
}

static int
rank_cmp(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	/* Equal priority: the rule defined first wins. */
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool
sp_has_ports(const struct espgw_sp_conf *sp)
{
	return sp->sport_lo != 0 || sp->sport_hi != UINT16_MAX || sp->dport_lo != 0 ||
	       sp->dport_hi != UINT16_MAX;
}

static int
build_order(struct build *b, enum espgw_dir dir, struct espgw_err *err)
{
	const struct espgw_store *s = b->s;
	unsigned int i;
	int fam;

	b->order = calloc(s->n_sps + 1, sizeof(*b->order));
	if (b->order == NULL) {
		err_set(err, "out of memory", "");
		return -1;
	}
	for (i = 0; i < s->n_sps; i++) {
		if (s->sps[i].dir != dir)
			continue;
		fam = sp_family(&s->sps[i]);
		if (fam < 0) {
			err_set(err, "policy mixes address families", "");
			return -1;
		}
		b->n4 += fam != ESPGW_AF_INET6;
		b->n6 += fam != ESPGW_AF_INET;
		b->ports |= sp_has_ports(&s->sps[i]);
		b->order[b->n].prio = s->sps[i].priority;
		b->order[b->n++].idx = i;
	}
	qsort(b->order, b->n, sizeof(*b->order), rank_cmp);
	return 0;
}

static struct rte_acl_ctx *
ctx_create(char family, const char *tag, unsigned int n_rules, unsigned int n_fields, int socket,
		struct espgw_err *err)
{
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_param prm = {
			.name = name,
			.socket_id = socket,
			.rule_size = RTE_ACL_RULE_SZ(n_fields),
			.max_rule_num = n_rules,
	};
	struct rte_acl_ctx *ctx;

	snprintf(name, sizeof(name), "spd%c-%u-%s", family,
			__atomic_fetch_add(&ctx_seq, 1, __ATOMIC_RELAXED), tag);
	ctx = rte_acl_create(&prm);
	if (ctx == NULL)
		err_set(err, "rte_acl_create failed for ", name);
	return ctx;
}

static uint64_t
prefix_hash(const struct espgw_prefix *p)
{
	uint64_t h = 1469598103934665603ull ^ p->len;
	unsigned int i;

	for (i = 0; i < sizeof(p->ip.bytes); i++)
		h = (h ^ p->ip.bytes[i]) * 1099511628211ull;
	return h | 1; /* 0 marks a free entry */
}

/* Counts distinct values: an open-addressing set of hashes (a collision undercounts: fine here). */
struct distinct {
	uint64_t *e;
	uint32_t mask, n;
};

static void
distinct_add(struct distinct *d, uint64_t h)
{
	uint32_t i = (uint32_t)(h ^ h >> 32) & d->mask;

	while (d->e[i] != 0 && d->e[i] != h)
		i = (i + 1) & d->mask;
	d->n += d->e[i] == 0;
	d->e[i] = h;
}

/* Does the family's rule set have fewer distinct destinations than sources? (see defs4) */
static bool
dst_first(const struct build *b, int family)
{
	struct distinct src = {.n = 0}, dst = {.n = 0};
	uint32_t size = 64;
	const struct espgw_sp_conf *sp;
	unsigned int r;
	bool swap;
	int fam;

	while (size < 2 * b->n)
		size *= 2;
	src.e = calloc(size, sizeof(*src.e));
	dst.e = calloc(size, sizeof(*dst.e));
	src.mask = dst.mask = size - 1;
	for (r = 0; src.e != NULL && dst.e != NULL && r < b->n; r++) {
		sp = &b->s->sps[b->order[r].idx];
		fam = sp_family(sp);
		if (fam != 0 && fam != family)
			continue;
		distinct_add(&src, prefix_hash(&sp->src));
		distinct_add(&dst, prefix_hash(&sp->dst));
	}
	swap = dst.n < src.n;
	free(src.e);
	free(dst.e);
	return swap;
}

/* Add every rule of the family to ctx, priorities by rank, then build. */
static int
ctx_fill(struct rte_acl_ctx *ctx, struct build *b, int family, struct espgw_err *err)
{
	struct rte_acl_config cfg = {.num_categories = 1};
	struct rte_acl_rule_data d = {.category_mask = 1};
	const struct espgw_sp_conf *sp;
	bool swap = dst_first(b, family);
	unsigned int r;
	int fam, rc;

	for (r = 0; r < b->n; r++) {
		sp = &b->s->sps[b->order[r].idx];
		fam = sp_family(sp);
		if (fam != 0 && fam != family)
			continue;
		if (sp_result(b, r, &d.userdata, err) < 0)
			return -1;
		d.priority = (int32_t)(RTE_ACL_MAX_PRIORITY - r);
		rc = family == ESPGW_AF_INET ? add_rule4(ctx, sp, d, swap)
					     : add_rule6(ctx, sp, d, swap);
		if (rc < 0) {
			err_set(err, "rte_acl_add_rules failed", "");
			return -1;
		}
	}
	if (family == ESPGW_AF_INET)
		defs4(&cfg, swap);
	else
		defs6(&cfg, swap);
	if (rte_acl_build(ctx, &cfg) != 0) {
		err_set(err, "rte_acl_build failed (out of memory?)", "");
		return -1;
	}
	return 0;
}

/* The family's rules best first for the scan, results as ctx_fill gives them. */
static int
scan_fill(struct build *b, int family, void *t, struct espgw_err *err)
{
	const struct espgw_sp_conf *sp;
	unsigned int r, j = 0;
	uint32_t res;
	int fam;

	for (r = 0; r < b->n; r++) {
		sp = &b->s->sps[b->order[r].idx];
		fam = sp_family(sp);
		if (fam != 0 && fam != family)
			continue;
		if (sp_result(b, r, &res, err) < 0)
			return -1;
		if (family == ESPGW_AF_INET)
			spd_scan_set4((struct spd_scan4 *)t + j++, sp, res);
		else
			spd_scan_set6((struct spd_scan6 *)t + j++, sp, res);
	}
	return 0;
}

static int
scan_build(struct build *b, int family, unsigned int n, struct espgw_err *err)
{
	bool v4 = family == ESPGW_AF_INET;
	void *t;

	t = rte_zmalloc_socket("espgw_spd_scan",
			n * (v4 ? sizeof(struct spd_scan4) : sizeof(struct spd_scan6)),
			RTE_CACHE_LINE_SIZE, b->socket);
	if (t == NULL) {
		err_set(err, "out of memory", "");
		return -1;
	}
	if (v4)
		b->spd->scan4 = t;
	else
		b->spd->scan6 = t;
	return scan_fill(b, family, t, err);
}

/* Buckets for a larger IPv4 family when its rules fit them; else rte_acl stays. */
static int
bucket_build(struct build *b, unsigned int n, struct espgw_err *err)
{
	struct spd_scan4 *t;
	int rc;

	if (n > SPD_BUCKET_RULES)
		return 0;
	t = calloc(n, sizeof(*t));
	if (t == NULL) {
		err_set(err, "out of memory", "");
		return -1;
	}
	rc = scan_fill(b, ESPGW_AF_INET, t, err);
	if (rc == 0)
		b->spd->bucket4 = spd_bucket4_build(t, n, b->socket);
	free(t);
	return rc;
}

static int
family_build(struct espgw_spd *spd, struct build *b, int family, int socket, const char *tag,
		struct espgw_err *err)
{
	bool v4 = family == ESPGW_AF_INET;
	unsigned int n = v4 ? b->n4 : b->n6;
	struct rte_acl_ctx *ctx;

	if (n == 0)
		return 0;
	ctx = ctx_create(v4 ? '4' : '6', tag, n, v4 ? F4_NUM : F6_NUM, socket, err);
	if (ctx == NULL)
		return -1;
	if (v4)
		spd->acl4 = ctx;
	else
		spd->acl6 = ctx;
	if (ctx_fill(ctx, b, family, err) < 0)
		return -1;
	if (n <= b->scan_max)
		return scan_build(b, family, n, err);
	return v4 && b->buckets ? bucket_build(b, n, err) : 0;
}

/*
 * Inbound IPv4: the rule kept per SA slot, from the rules in scan form. It
 * only spares work: without memory for it, or above SPD_SA_RULES_MAX rules,
 * decrypted packets are classified in full and the SPD is built all the same.
 */
static int
sa4_build(struct build *b, struct espgw_err *err)
{
	struct spd_scan4 *t;
	int rc;

	if (b->n4 == 0 || b->n4 > SPD_SA_RULES_MAX)
		return 0;
	t = calloc(b->n4, sizeof(*t));
	if (t == NULL)
		return 0;
	rc = scan_fill(b, ESPGW_AF_INET, t, err);
	if (rc == 0) /* NULL: none kept */
		b->spd->sa4 = spd_sa4_build(t, b->n4, b->spd->pair, b->spd->n_pair, b->socket);
	free(t);
	return rc;
}

struct espgw_spd *
espgw_spd_build_with(const struct espgw_store *s, enum espgw_dir dir, int socket, const char *tag,
		unsigned int scan_max, bool buckets, struct espgw_err *err)
{
	struct build b = {.s = s, .socket = socket, .scan_max = scan_max, .buckets = buckets};
	struct espgw_spd *spd;

	spd = rte_zmalloc_socket("espgw_spd", sizeof(*spd), 0, socket);
	if (spd == NULL) {
		err_set(err, "out of memory", "");
		return NULL;
	}
	b.spd = spd;
	if (build_order(&b, dir, err) < 0 ||
			family_build(spd, &b, ESPGW_AF_INET, socket, tag, err) < 0 ||
			family_build(spd, &b, ESPGW_AF_INET6, socket, tag, err) < 0 ||
			(dir == ESPGW_DIR_IN && sa4_build(&b, err) < 0)) {
		free(b.order);
		espgw_spd_free(spd);
		return NULL;
	}
	free(b.order);
	spd->n4 = b.n4;
	spd->n6 = b.n6;
	spd->ports = b.ports;
	return spd;
}

struct espgw_spd *
espgw_spd_build(const struct espgw_store *s, enum espgw_dir dir, int socket, const char *tag,
		struct espgw_err *err)
{
	return espgw_spd_build_with(s, dir, socket, tag, ESPGW_SPD_SCAN_MAX, true, err);
}

bool
espgw_spd_uses_ports(const struct espgw_spd *spd)
{
	return spd->ports;
}

void
espgw_spd_free(struct espgw_spd *spd)
{
	if (spd == NULL)
		return;
	rte_acl_free(spd->acl4);
	rte_acl_free(spd->acl6);
	rte_free(spd->scan4);
	rte_free(spd->scan6);
	spd_bucket4_free(spd->bucket4);
	spd_sa4_free(spd->sa4);
	rte_free(spd->pair);
	rte_free(spd);
}

bool
espgw_spd_has_pairs(const struct espgw_spd *spd)
{
	return spd->pair != NULL;
}

uint32_t
espgw_spd_pair_resolve(const struct espgw_spd *spd, uint32_t res, uint32_t slot)
{
	const uint32_t *p;

	if (res < ESPGW_SPD_PAIR_BASE || res - ESPGW_SPD_PAIR_BASE >= spd->n_pair)
		return res;
	p = spd->pair[res - ESPGW_SPD_PAIR_BASE];
	return p[1] == slot + 1 ? p[1] : p[0];
}

void
espgw_spd_classify4(const struct espgw_spd *spd, const struct espgw_spd_key4 *k[], uint32_t res[],
		uint32_t n)
{
	if (spd->scan4 != NULL) {
		spd_scan_classify4(spd->scan4, spd->n4, k, res, n);
		return;
	}
	if (spd->bucket4 != NULL) {
		spd_bucket4_classify(spd->bucket4, k, res, n);
		return;
	}
	if (spd->acl4 == NULL) {
		memset(res, 0, n * sizeof(res[0]));
		return;
	}
	rte_acl_classify(spd->acl4, (const uint8_t **)k, res, n, 1);
}

bool
espgw_spd_scan4(const struct espgw_spd *spd, const struct spd_scan4 **r, uint32_t *n)
{
	if (spd->scan4 == NULL && (spd->bucket4 != NULL || spd->acl4 != NULL))
		return false;
	*r = spd->scan4;
	*n = spd->scan4 != NULL ? spd->n4 : 0;
	return true;
}

const struct spd_bucket4 *
espgw_spd_bucket4(const struct espgw_spd *spd)
{
	return spd->bucket4;
}

const struct spd_sa4 *
espgw_spd_sa4(const struct espgw_spd *spd)
{
	return spd->sa4;
}

unsigned int
espgw_spd_sa4_kept(const struct espgw_spd *spd)
{
	unsigned int n = 0;
	uint32_t i;

	for (i = 0; spd->sa4 != NULL && i < spd->sa4->n_slots; i++)
		n += spd->sa4->idx[i] != 0;
	return n;
}

void
espgw_spd_classify6(const struct espgw_spd *spd, const struct espgw_spd_key6 *k[], uint32_t res[],
		uint32_t n)
{
	if (spd->scan6 != NULL) {
		spd_scan_classify6(spd->scan6, spd->n6, k, res, n);
		return;
	}
	if (spd->acl6 == NULL) {
		memset(res, 0, n * sizeof(res[0]));
		return;
	}
	rte_acl_classify(spd->acl6, (const uint8_t **)k, res, n, 1);
}

const char *
espgw_spd_classifier4(const struct espgw_spd *spd)
{
	if (spd->scan4 != NULL)
		return "scan";
	if (spd->bucket4 != NULL)
		return spd->bucket4->by_src ? "buckets by source" : "buckets by destination";
	return spd->acl4 != NULL ? "rte_acl" : "none";
}

const char *
espgw_spd_classifier6(const struct espgw_spd *spd)
{
	if (spd->scan6 != NULL)
		return "scan";
	return spd->acl6 != NULL ? "rte_acl" : "none";
}

unsigned int
espgw_spd_rules4(const struct espgw_spd *spd)
{
	return spd->n4;
}

unsigned int
espgw_spd_rules6(const struct espgw_spd *spd)
{
	return spd->n6;
}
