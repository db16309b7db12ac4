/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Store: security policies (RFC 4301 4.4.1 SPD entries). Selectors are
 * normalized here (an absent src/dst becomes "any" of the other's family) so
 * that the SPD builder gets complete rules; "protect" binds the SA's inner family.
 */
#include <string.h>

#include "espgw_store.h"
#include "store_int.h"

static void
prefix_any(struct espgw_prefix *p, uint8_t family)
{
	memset(p, 0, sizeof(*p));
	p->ip.family = family;
}

static int
sp_family(struct espgw_sp_conf *sp, struct espgw_err *err)
{
	if (sp->src.ip.family == 0 && sp->dst.ip.family == 0)
		return espgw_store_fail(err, "sp needs src or dst to choose the address family");
	if (sp->src.ip.family == 0)
		prefix_any(&sp->src, sp->dst.ip.family);
	if (sp->dst.ip.family == 0)
		prefix_any(&sp->dst, sp->src.ip.family);
	if (sp->src.ip.family != sp->dst.ip.family)
		return espgw_store_fail(err, "src and dst must be of the same family");
	return 0;
}

static int
sp_check_prefix(const char *what, const struct espgw_prefix *p, struct espgw_err *err)
{
	char buf[ESPGW_IP_STRLEN];

	if (p->len > (p->ip.family == ESPGW_AF_INET ? 32 : 128))
		return espgw_store_fail(err, "%s prefix length %u is too long", what, p->len);
	if (!espgw_prefix_is_network(p))
		return espgw_store_fail(err, "%s %s has host bits set", what,
				espgw_prefix_fmt(p, buf, sizeof(buf)));
	return 0;
}

static bool
proto_has_ports(int16_t proto)
{
	return proto == 6 || proto == 17 || proto == 132; /* TCP, UDP, SCTP */
}

static int
sp_check_range(const char *what, uint16_t lo, uint16_t hi, int16_t proto, struct espgw_err *err)
{
	if (lo > hi)
		return espgw_store_fail(
				err, "%s %u-%u: the first port is above the last", what, lo, hi);
	if ((lo != 0 || hi != UINT16_MAX) && !proto_has_ports(proto))
		return espgw_store_fail(err, "%s needs proto tcp, udp or sctp", what);
	return 0;
}

static int
sp_check_selectors(const struct espgw_sp_conf *sp, struct espgw_err *err)
{
	if (sp->dir != ESPGW_DIR_IN && sp->dir != ESPGW_DIR_OUT)
		return espgw_store_fail(err, "sp: dir must be in or out");
	if (sp->priority > ESPGW_SP_PRIORITY_MAX)
		return espgw_store_fail(err, "priority must be 0..%u", ESPGW_SP_PRIORITY_MAX);
	if (sp->proto < -1 || sp->proto > 255)
		return espgw_store_fail(err, "proto must be any or 0..255");
	if (sp_check_prefix("src", &sp->src, err) < 0 || sp_check_prefix("dst", &sp->dst, err) < 0)
		return -1;
	if (sp_check_range("sport", sp->sport_lo, sp->sport_hi, sp->proto, err) < 0)
		return -1;
	return sp_check_range("dport", sp->dport_lo, sp->dport_hi, sp->proto, err);
}

static const char *
family_name(uint8_t family)
{
	return family == ESPGW_AF_INET ? "IPv4" : "IPv6";
}

static int
sp_check_protect(const struct espgw_store *s, const struct espgw_sp_conf *sp, struct espgw_err *err)
{
	const struct espgw_sa_conf *sa = espgw_store_sa(s, sp->sa);

	if (sa == NULL)
		return espgw_store_fail(err, "SA %.*s does not exist", ESPGW_NAME_MAX, sp->sa);
	if (sa->dir != sp->dir)
		return espgw_store_fail(err, "SA %s is %s, the policy is %s", sa->name,
				sa->dir == ESPGW_DIR_IN ? "inbound" : "outbound",
				sp->dir == ESPGW_DIR_IN ? "inbound" : "outbound");
	/* RFC 4303 2.6: rte_ipsec writes/checks one next header per SA. */
	if (sa->inner_family != 0 && sa->inner_family != sp->src.ip.family)
		return espgw_store_fail(err,
				"SA %s already carries %s traffic, it cannot also carry %s",
				sa->name, family_name(sa->inner_family),
				family_name(sp->src.ip.family));
	return 0;
}

static int
sp_check_action(const struct espgw_store *s, const struct espgw_sp_conf *sp, struct espgw_err *err)
{
	switch (sp->action) {
	case ESPGW_SP_PROTECT:
		return sp_check_protect(s, sp, err);
	case ESPGW_SP_BYPASS:
	case ESPGW_SP_DISCARD:
		return 0;
	}
	return espgw_store_fail(err, "sp: action must be protect, bypass or discard");
}

static bool
prefix_equal(const struct espgw_prefix *a, const struct espgw_prefix *b)
{
	return a->len == b->len && espgw_ip_equal(&a->ip, &b->ip);
}

static bool
sp_same_rule(const struct espgw_sp_conf *a, const struct espgw_sp_conf *b)
{
	return a->dir == b->dir && a->priority == b->priority && a->proto == b->proto &&
	       prefix_equal(&a->src, &b->src) && prefix_equal(&a->dst, &b->dst) &&
	       a->sport_lo == b->sport_lo && a->sport_hi == b->sport_hi &&
	       a->dport_lo == b->dport_lo && a->dport_hi == b->dport_hi;
}

static int
sp_check_unique(const struct espgw_store *s, const struct espgw_sp_conf *sp, struct espgw_err *err)
{
	unsigned int i;

	for (i = 0; i < s->n_sps; i++)
		if (sp_same_rule(&s->sps[i], sp))
			return espgw_store_fail(err, "an identical policy (same direction, "
						     "priority and selectors) already exists");
	return 0;
}

int
espgw_store_sp_add(struct espgw_store *s, const struct espgw_sp_conf *c, struct espgw_err *err)
{
	struct espgw_sp_conf sp = *c, *arr;
	int sa;

	if (sp_family(&sp, err) < 0 || sp_check_selectors(&sp, err) < 0 ||
			sp_check_action(s, &sp, err) < 0 || sp_check_unique(s, &sp, err) < 0)
		return -1;
	arr = espgw_store_grow(s->sps, &s->cap_sps, s->n_sps, sizeof(sp));
	if (arr == NULL)
		return espgw_store_fail(err, "out of memory");
	s->sps = arr;
	if (sp.action != ESPGW_SP_PROTECT)
		memset(sp.sa, 0, sizeof(sp.sa));
	s->sps[s->n_sps++] = sp;
	sa = sp.action == ESPGW_SP_PROTECT ? espgw_store_sa_index(s, sp.sa) : -1;
	if (sa >= 0)
		s->sas[sa].inner_family = sp.src.ip.family;
	return 0;
}
