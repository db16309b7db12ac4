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
		return espgw_err_set(err, "sp needs src or dst to choose the address family");
	if (sp->src.ip.family == 0)
		prefix_any(&sp->src, sp->dst.ip.family);
	if (sp->dst.ip.family == 0)
		prefix_any(&sp->dst, sp->src.ip.family);
	if (sp->src.ip.family != sp->dst.ip.family)
		return espgw_err_set(err, "src and dst must be of the same family");
	return 0;
}

static int
sp_check_prefix(const char *what, const struct espgw_prefix *p, struct espgw_err *err)
{
	char buf[ESPGW_IP_STRLEN];

	if (p->len > (p->ip.family == ESPGW_AF_INET ? 32 : 128))
		return espgw_err_set(err, "%s prefix length %u is too long", what, p->len);
	if (!espgw_prefix_is_network(p))
		return espgw_err_set(err, "%s %s has host bits set", what,
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
		return espgw_err_set(
				err, "%s %u-%u: the first port is above the last", what, lo, hi);
	if ((lo != 0 || hi != UINT16_MAX) && !proto_has_ports(proto))
		return espgw_err_set(err, "%s needs proto tcp, udp or sctp", what);
	return 0;
}

static int
sp_check_selectors(const struct espgw_sp_conf *sp, struct espgw_err *err)
{
	if (sp->dir != ESPGW_DIR_IN && sp->dir != ESPGW_DIR_OUT)
		return espgw_err_set(err, "sp: dir must be in or out");
	if (sp->priority > ESPGW_SP_PRIORITY_MAX)
		return espgw_err_set(err, "priority must be 0..%u", ESPGW_SP_PRIORITY_MAX);
	if (sp->proto < -1 || sp->proto > 255)
		return espgw_err_set(err, "proto must be any or 0..255");
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

static bool
prefix_is_host(const struct espgw_prefix *p, const struct espgw_ip *ip)
{
	return p->len == (ip->family == ESPGW_AF_INET ? 32 : 128) && espgw_ip_equal(&p->ip, ip);
}

/*
 * RFC 4301 4.4.1.1 / RFC 4303 3.1.1: a transport SA carries the packets of
 * its two endpoints, with their own header. Its policies select exactly
 * those addresses (outbound local -> remote, inbound remote -> local), so
 * that no other packet can ever be sent with it, and the data path checks
 * nothing per packet.
 */
static int
sp_check_transport(const struct espgw_sa_conf *sa, const struct espgw_sp_conf *sp,
		struct espgw_err *err)
{
	const struct espgw_ip *src = sp->dir == ESPGW_DIR_OUT ? &sa->local : &sa->remote;
	const struct espgw_ip *dst = sp->dir == ESPGW_DIR_OUT ? &sa->remote : &sa->local;
	char a[ESPGW_IP_STRLEN], b[ESPGW_IP_STRLEN];

	if (prefix_is_host(&sp->src, src) && prefix_is_host(&sp->dst, dst))
		return 0;
	return espgw_err_set(err,
			"SA %s is a transport SA: its policies need src %s and dst %s (host "
			"prefixes)",
			sa->name, espgw_ip_fmt(src, a, sizeof(a)), espgw_ip_fmt(dst, b, sizeof(b)));
}

int
espgw_store_sa_policies_fit(
		const struct espgw_store *s, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	unsigned int i;

	if (sa->mode != ESPGW_SA_TRANSPORT)
		return 0;
	for (i = 0; i < s->n_sps; i++)
		if (s->sps[i].action == ESPGW_SP_PROTECT && strcmp(s->sps[i].sa, sa->name) == 0 &&
				sp_check_transport(sa, &s->sps[i], err) < 0)
			return -1;
	return 0;
}

static int
sp_check_protect(const struct espgw_store *s, const struct espgw_sp_conf *sp, struct espgw_err *err)
{
	const struct espgw_sa_conf *sa = espgw_store_sa(s, sp->sa);

	if (sa == NULL)
		return espgw_err_set(err, "SA %.*s does not exist", ESPGW_NAME_MAX, sp->sa);
	if (sa->dir != sp->dir)
		return espgw_err_set(err, "SA %s is %s, the policy is %s", sa->name,
				sa->dir == ESPGW_DIR_IN ? "inbound" : "outbound",
				sp->dir == ESPGW_DIR_IN ? "inbound" : "outbound");
	/* RFC 4303 2.6: rte_ipsec writes/checks one next header per SA. */
	if (sa->inner_family != 0 && sa->inner_family != sp->src.ip.family)
		return espgw_err_set(err,
				"SA %s already carries %s traffic, it cannot also carry %s",
				sa->name, family_name(sa->inner_family),
				family_name(sp->src.ip.family));
	return sa->mode == ESPGW_SA_TRANSPORT && !sa->declared ? sp_check_transport(sa, sp, err)
							       : 0;
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
	return espgw_err_set(err, "sp: action must be protect, bypass or discard");
}

static int
sp_check_unique(const struct espgw_store *s, const struct espgw_sp_conf *sp, struct espgw_err *err)
{
	if (espgw_store_ix_sp_rule(s, sp) >= 0)
		return espgw_err_set(err, "an identical policy (same direction, "
					  "priority and selectors) already exists");
	return 0;
}

static int
sp_check_name(const struct espgw_store *s, const struct espgw_sp_conf *sp, struct espgw_err *err)
{
	if (sp->name[0] == '\0')
		return 0;
	if (!espgw_name_valid(sp->name))
		return espgw_err_set(err, "invalid policy name");
	if (espgw_store_sp_index(s, sp->name) >= 0)
		return espgw_err_set(err, "policy %s already exists", sp->name);
	return 0;
}

/* The first protect policy fixes the SA's inner family (espgw_req.h). */
static int
sa_bind_family(struct espgw_store *s, const struct espgw_sp_conf *sp, struct espgw_err *err)
{
	int i = sp->action == ESPGW_SP_PROTECT ? espgw_store_sa_index(s, sp->sa) : -1;
	struct espgw_sa_conf sa;

	if (i < 0 || s->sas[i].inner_family == sp->src.ip.family)
		return 0;
	sa = s->sas[i];
	sa.inner_family = sp->src.ip.family;
	if (espgw_store_arr_set(s, ESPGW_ARR_SAS, (unsigned int)i, &sa) < 0)
		return espgw_store_nomem(err);
	explicit_bzero(&sa, sizeof(sa));
	return 0;
}

int
espgw_store_sp_add(struct espgw_store *s, const struct espgw_sp_conf *c, struct espgw_err *err)
{
	struct espgw_sp_conf sp = *c;

	if (s->n_sps >= ESPGW_SP_MAX)
		return espgw_err_set(err, "too many policies (max %u)", ESPGW_SP_MAX);
	if (sp_family(&sp, err) < 0 || sp_check_selectors(&sp, err) < 0 ||
			sp_check_name(s, &sp, err) < 0 || sp_check_action(s, &sp, err) < 0 ||
			sp_check_unique(s, &sp, err) < 0)
		return -1;
	if (sp.action != ESPGW_SP_PROTECT)
		memset(sp.sa, 0, sizeof(sp.sa));
	memset(sp.prev_sa, 0, sizeof(sp.prev_sa)); /* the store's alone */
	if (sa_bind_family(s, &sp, err) < 0)
		return -1;
	if (espgw_store_arr_insert(s, ESPGW_ARR_SPS, s->n_sps, &sp) < 0)
		return espgw_store_nomem(err);
	return 0;
}

int
espgw_store_sp_index(const struct espgw_store *s, const char *name)
{
	return espgw_store_ix_sp_name(s, name);
}

static int
sp_find_rule(const struct espgw_store *s, const struct espgw_sp_conf *c, struct espgw_err *err)
{
	struct espgw_sp_conf sp = *c;
	int i;

	if (sp_family(&sp, err) < 0)
		return -1;
	i = espgw_store_ix_sp_rule(s, &sp);
	if (i >= 0)
		return i;
	return espgw_err_set(err, "no policy with that direction, priority and selectors");
}

int
espgw_store_sp_del(struct espgw_store *s, const struct espgw_sp_ref *c, struct espgw_err *err)
{
	int i;

	if (c->name[0] != '\0') {
		i = espgw_store_sp_index(s, c->name);
		if (i < 0)
			return espgw_err_set(
					err, "policy %.*s does not exist", ESPGW_NAME_MAX, c->name);
	} else {
		i = sp_find_rule(s, &c->sp, err);
		if (i < 0)
			return -1;
	}
	if (espgw_store_arr_remove(s, ESPGW_ARR_SPS, (unsigned int)i) < 0)
		return espgw_store_nomem(err);
	return 0;
}

/*
 * What an inbound policy switched from "protect old" to "protect new" still
 * accepts: old, while it is installed. RFC 7296 2.8: after a CHILD_SA rekey
 * the peer may still send on the old SA until it is deleted, and its packets
 * in flight must not drop as unmatched. Nothing more than before the switch
 * gets in: the old SA under this policy's selectors, as it was. One SA only
 * (the one just before); a declaration carries no traffic; outbound, the
 * switch is all there is (espgw_spd.h, pairs).
 */
static void
sp_prev(const struct espgw_store *s, const struct espgw_sp_conf *was, struct espgw_sp_conf *sp)
{
	const struct espgw_sa_conf *old;

	if (sp->action != ESPGW_SP_PROTECT || sp->dir != ESPGW_DIR_IN) {
		memset(sp->prev_sa, 0, sizeof(sp->prev_sa));
		return;
	}
	if (was->action != ESPGW_SP_PROTECT || strcmp(was->sa, sp->sa) == 0)
		return; /* the same SA: what it accepted before stays */
	old = espgw_store_sa(s, was->sa);
	memset(sp->prev_sa, 0, sizeof(sp->prev_sa));
	if (old != NULL && !old->declared)
		memcpy(sp->prev_sa, was->sa, sizeof(sp->prev_sa));
}

/*
 * SA name goes away: no policy accepts it as its previous SA any more, and
 * an SA added later under the same name is not taken for it.
 */
int
espgw_store_sp_prev_forget(struct espgw_store *s, const char *name)
{
	struct espgw_sp_conf sp;
	int i;

	while ((i = espgw_store_ix_sp_prev(s, name)) >= 0) {
		sp = s->sps[i];
		memset(sp.prev_sa, 0, sizeof(sp.prev_sa));
		if (espgw_store_arr_set(s, ESPGW_ARR_SPS, (unsigned int)i, &sp) < 0)
			return -1;
	}
	return 0;
}

/*
 * One step from one action or SA to another: the make-before-break rekey
 * switches the policies to the new SAs while both exist, and the workers see
 * either the old SA or the new one, never no policy (inbound both: sp_prev).
 */
int
espgw_store_sp_set(struct espgw_store *s, const struct espgw_sp_set *c, struct espgw_err *err)
{
	int i = espgw_store_sp_index(s, c->name);
	struct espgw_sp_conf sp;

	if (i < 0)
		return espgw_err_set(err, "policy %.*s does not exist", ESPGW_NAME_MAX, c->name);
	sp = s->sps[i];
	sp.action = c->action;
	memcpy(sp.sa, c->sa, sizeof(sp.sa));
	if (sp.action != ESPGW_SP_PROTECT)
		memset(sp.sa, 0, sizeof(sp.sa));
	if (sp_check_action(s, &sp, err) < 0 || sa_bind_family(s, &sp, err) < 0)
		return -1;
	sp_prev(s, &s->sps[i], &sp);
	if (espgw_store_arr_set(s, ESPGW_ARR_SPS, (unsigned int)i, &sp) < 0)
		return espgw_store_nomem(err);
	return 0;
}
