/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config reload: the requests that turn the running store into the one a
 * config file describes. Objects whose configuration is identical get no
 * request at all, so an unchanged SA keeps its slot, counters, replay
 * window and sequence number. Order: policy deletions before SA deletions
 * (an SA no policy names goes away whole), route and neighbour deletions,
 * then additions in dependency order (SAs before the policies naming them).
 * Ports, cryptodevs and global settings size the data path at start: a
 * difference there is refused ("restart needed"), nothing is emitted.
 * What was made through the control socket at run time (espgw_req.h
 * "runtime": an operator's espgwctl, an IKE daemon's SAs and policies) and
 * the file does not name is kept: the file speaks for its own objects only.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

struct diff {
	const struct espgw_store *run, *tgt;
	struct espgw_req *q;
	unsigned int n, cap;
	bool nomem;
	struct espgw_diff_sum *sum;
	struct espgw_err *err;
	bool refused; /* err says why */
};

/* Grown by copy-and-wipe: the requests hold keys. */
static struct espgw_req *
emit(struct diff *d, enum espgw_req_type type)
{
	struct espgw_req *q;
	unsigned int cap = d->cap ? 2 * d->cap : 64;

	if (d->n == d->cap) {
		q = calloc(cap, sizeof(*q));
		if (q == NULL) {
			d->nomem = true;
			return NULL;
		}
		if (d->q != NULL)
			memcpy(q, d->q, d->n * sizeof(*q));
		espgw_store_diff_free(d->q, d->cap);
		d->q = q;
		d->cap = cap;
	}
	q = &d->q[d->n++];
	memset(q, 0, sizeof(*q));
	q->type = type;
	return q;
}

void
espgw_store_diff_free(struct espgw_req *reqs, unsigned int n)
{
	if (reqs == NULL)
		return;
	explicit_bzero(reqs, n * sizeof(*reqs));
	free(reqs);
}

/* ---- what cannot change at runtime ---- */

static bool
port_same(const struct espgw_port_conf *a, const struct espgw_port_conf *b)
{
	struct espgw_port_conf x = *a, y = *b;

	x.line = y.line = 0;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

static int
ports_check(const struct espgw_store *run, const struct espgw_store *tgt, struct espgw_err *err)
{
	const struct espgw_port_conf *p;
	unsigned int i;

	for (i = 0; i < tgt->n_ports; i++) {
		p = espgw_store_port(run, tgt->ports[i].name);
		if (p == NULL || !port_same(p, &tgt->ports[i])) {
			err->line = tgt->ports[i].line;
			return espgw_err_set(err, "restart needed: port %s %s", tgt->ports[i].name,
					p == NULL ? "is new" : "changed");
		}
	}
	for (i = 0; i < run->n_ports; i++)
		if (espgw_store_port(tgt, run->ports[i].name) == NULL)
			return espgw_err_set(err, "restart needed: port %s is not in the file",
					run->ports[i].name);
	return 0;
}

static int
cryptos_check(const struct espgw_store *run, const struct espgw_store *tgt, struct espgw_err *err)
{
	const struct espgw_crypto_conf *c, *t;
	unsigned int i;

	for (i = 0; i < tgt->n_cryptos; i++) {
		t = &tgt->cryptos[i];
		c = espgw_store_crypto(run, t->name);
		if (c == NULL || strcmp(c->dev, t->dev) != 0) {
			err->line = t->line;
			return espgw_err_set(err, "restart needed: crypto %s %s", t->name,
					c == NULL ? "is new" : "changed");
		}
	}
	for (i = 0; i < run->n_cryptos; i++)
		if (espgw_store_crypto(tgt, run->cryptos[i].name) == NULL)
			return espgw_err_set(err, "restart needed: crypto %s is not in the file",
					run->cryptos[i].name);
	return 0;
}

/* max-sa 0 in the file is "auto": whatever the running gateway fixed it to. */
static int
global_check(const struct espgw_global_conf *run, const struct espgw_global_conf *tgt,
		struct espgw_err *err)
{
	const char *what = NULL;

	if (run->crypto_path != tgt->crypto_path)
		what = "crypto-path";
	else if (run->burst != tgt->burst)
		what = "burst";
	else if (run->nat_keepalive != tgt->nat_keepalive)
		what = "nat-keepalive";
	else if (tgt->max_sa != 0 && run->max_sa != tgt->max_sa)
		what = "max-sa";
	if (what == NULL)
		return 0;
	return espgw_err_set(err, "restart needed: set %s differs from the running value", what);
}

/* ---- SAs ---- */

/* The store's own fields (slot, moved_from, bitw) and the line say nothing of the config. */
static void
sa_norm(struct espgw_sa_conf *sa)
{
	sa->slot = 0;
	sa->moved_from = 0;
	sa->bitw = false;
	sa->runtime = false;
	sa->line = 0;
}

/*
 * The inner family comes from the policies: an SA no policy of the file
 * names (0) keeps the family it runs with; two different ones need a new SA.
 */
static bool
sa_same(const struct espgw_sa_conf *a, const struct espgw_sa_conf *b)
{
	struct espgw_sa_conf x = *a, y = *b;
	bool same;

	sa_norm(&x);
	sa_norm(&y);
	if (x.inner_family == 0 || y.inner_family == 0)
		x.inner_family = y.inner_family = 0;
	same = memcmp(&x, &y, sizeof(x)) == 0;
	explicit_bzero(&x, sizeof(x));
	explicit_bzero(&y, sizeof(y));
	return same;
}

/* Only what "sa update" changes in service differs: the peer, its port, the lifetimes. */
static bool
sa_updatable(const struct espgw_sa_conf *r, const struct espgw_sa_conf *t)
{
	struct espgw_sa_conf x = *r;
	bool same;

	x.remote = t->remote;
	x.encap_dport = t->encap_dport;
	memcpy(x.life, t->life, sizeof(x.life));
	same = sa_same(&x, t);
	explicit_bzero(&x, sizeof(x));
	return same;
}

static void
sa_update(struct diff *d, const struct espgw_sa_conf *r, const struct espgw_sa_conf *t)
{
	struct espgw_req *q = emit(d, ESPGW_REQ_SA_UPDATE);
	unsigned int k;

	if (q == NULL)
		return;
	memcpy(q->sa_update.name, t->name, sizeof(q->sa_update.name));
	q->sa_update.has_remote = !espgw_ip_equal(&r->remote, &t->remote);
	q->sa_update.remote = t->remote;
	q->sa_update.has_dport = r->encap_dport != t->encap_dport;
	q->sa_update.dport = t->encap_dport;
	for (k = 0; k < 2; k++) {
		q->sa_update.has_life[k] =
				memcmp(&r->life[k], &t->life[k], sizeof(r->life[k])) != 0;
		q->sa_update.life[k] = t->life[k];
	}
}

static void
refuse(struct diff *d, const struct espgw_sa_conf *t, const char *what)
{
	if (d->refused)
		return;
	d->refused = true;
	d->err->line = t->line;
	espgw_err_set(d->err,
			"SA %s: %s changed but not its key: its sequence numbers and replay "
			"window would start again under that key; give it a new key (and SPI)",
			t->name, what);
}

static void
sa_del(struct diff *d, const struct espgw_sa_conf *sa)
{
	struct espgw_req *q = emit(d, ESPGW_REQ_SA_DEL);

	if (q != NULL)
		memcpy(q->name, sa->name, sizeof(q->name));
}

/* As the parser makes it: the store sets the family from the policies again. */
static void
sa_add(struct diff *d, const struct espgw_sa_conf *sa)
{
	struct espgw_req *q;

	if (sa->declared) {
		q = emit(d, ESPGW_REQ_SA_DECLARE);
		if (q != NULL) {
			memcpy(q->sa_decl.name, sa->name, sizeof(q->sa_decl.name));
			q->sa_decl.dir = sa->dir;
		}
		return;
	}
	q = emit(d, ESPGW_REQ_SA_ADD);
	if (q == NULL)
		return;
	q->sa = *sa;
	sa_norm(&q->sa);
	q->sa.inner_family = 0;
	q->sa.line = sa->line;
}

/*
 * Made at run time; or declared ("sa declare", an IKE daemon's trap) and
 * named by a policy made at run time.
 */
static bool
sa_kept(const struct espgw_store *run, const struct espgw_sa_conf *sa)
{
	unsigned int i;

	if (sa->runtime)
		return true;
	if (!sa->declared)
		return false;
	for (i = 0; i < run->n_sps; i++)
		if (run->sps[i].runtime && run->sps[i].action == ESPGW_SP_PROTECT &&
				strcmp(run->sps[i].sa, sa->name) == 0)
			return true;
	return false;
}

static bool sa_switched(const struct diff *d, const struct espgw_sa_conf *sa);

static void
sas_del(struct diff *d)
{
	const struct espgw_sa_conf *r, *t;
	unsigned int i;

	for (i = 0; i < d->run->n_sas; i++) {
		r = &d->run->sas[i];
		t = espgw_store_sa(d->tgt, r->name);
		if (t == NULL && sa_kept(d->run, r)) {
			d->sum->kept++;
			continue;
		}
		if (t == NULL)
			d->sum->removed++;
		else if (sa_same(r, t))
			d->sum->unchanged++;
		else
			d->sum->changed++;
		if (t != NULL && !sa_same(r, t) && espgw_store_sa_same_key(r, t)) {
			if (!sa_updatable(r, t))
				refuse(d, t, "its configuration");
			continue; /* sa update in place (sas_add) */
		}
		if (t == NULL && r->declared && sa_switched(d, r))
			continue; /* sas_del_declared */
		if (t == NULL || !sa_same(r, t))
			sa_del(d, r);
	}
}

/*
 * A key the reload takes from one SA (removed, or given a new key) and gives
 * to an added SA of another name: renamed, or keys swapped between SAs, in
 * the same direction or (with a salt) the other. The added SA would start
 * its sequence numbers (outbound: AES-GCM nonces sent again) or its replay
 * window (inbound) again under a key already used: refused like a same-name
 * change.
 */
static void
sa_key_taken(struct diff *d, const struct espgw_sa_conf *t)
{
	const struct espgw_sa_conf *r, *now;
	unsigned int i;

	for (i = 0; i < d->run->n_sas && !d->refused; i++) {
		r = &d->run->sas[i];
		if (strcmp(r->name, t->name) == 0 || !espgw_store_sa_key_reused(r, t))
			continue;
		now = espgw_store_sa(d->tgt, r->name);
		if (now == NULL ? sa_kept(d->run, r) : espgw_store_sa_same_key(r, now))
			continue; /* r keeps its key: not this check's case */
		d->refused = true;
		d->err->line = t->line;
		espgw_err_set(d->err,
				"SA %s: its key is SA %s's, which this reload %s: its sequence "
				"numbers and replay window would start again under that key; give "
				"it a new key (and SPI)",
				t->name, r->name, now == NULL ? "removes" : "gives a new key");
	}
}

static void
sas_add(struct diff *d)
{
	const struct espgw_sa_conf *r, *t;
	unsigned int i;

	for (i = 0; i < d->tgt->n_sas; i++) {
		t = &d->tgt->sas[i];
		r = espgw_store_sa(d->run, t->name);
		if (r == NULL)
			d->sum->added++;
		if (r != NULL && !sa_same(r, t) && espgw_store_sa_same_key(r, t))
			sa_update(d, r, t);
		else if (r == NULL || !sa_same(r, t)) {
			sa_key_taken(d, t);
			sa_add(d, t);
		}
	}
}

/* ---- policies: named ones by name, unnamed ones by direction, priority and selectors ---- */

static bool
sp_same(const struct espgw_sp_conf *a, const struct espgw_sp_conf *b)
{
	struct espgw_sp_conf x = *a, y = *b;

	x.runtime = y.runtime = false;
	/* The store's own: a file never names it, a running policy keeps it. */
	memset(x.prev_sa, 0, sizeof(x.prev_sa));
	memset(y.prev_sa, 0, sizeof(y.prev_sa));
	return memcmp(&x, &y, sizeof(x)) == 0;
}

/*
 * Only the action or the SA differs: one "sp set", no moment without the
 * policy. "sp set" names the policy: an unnamed one is deleted and added in
 * the same transaction (one publication: the workers never see it missing).
 */
static bool
sp_settable(const struct espgw_sp_conf *a, const struct espgw_sp_conf *b)
{
	struct espgw_sp_conf x = *a;

	if (a->name[0] == '\0')
		return false;
	x.action = b->action;
	memcpy(x.sa, b->sa, sizeof(x.sa));
	return sp_same(&x, b);
}

/* The target's counterpart of a running policy; -1 when none. */
static int
sp_match(const struct espgw_store *s, const struct espgw_sp_conf *sp)
{
	int i;

	if (sp->name[0] != '\0')
		return espgw_store_sp_index(s, sp->name);
	i = espgw_store_ix_sp_rule(s, sp);
	return i >= 0 && s->sps[i].name[0] == '\0' ? i : -1;
}

static void
sp_del(struct diff *d, const struct espgw_sp_conf *sp)
{
	struct espgw_req *q = emit(d, ESPGW_REQ_SP_DEL);

	if (q == NULL)
		return;
	memcpy(q->sp_ref.name, sp->name, sizeof(q->sp_ref.name));
	q->sp_ref.sp = *sp;
}

static void
sps_del(struct diff *d)
{
	const struct espgw_sp_conf *r;
	unsigned int i;
	int t;

	for (i = 0; i < d->run->n_sps; i++) {
		r = &d->run->sps[i];
		t = sp_match(d->tgt, r);
		if (t < 0 && r->runtime) {
			d->sum->kept++;
			continue;
		}
		if (t < 0)
			d->sum->removed++;
		else if (sp_same(r, &d->tgt->sps[t]))
			d->sum->unchanged++;
		else
			d->sum->changed++;
		if (t < 0 || !(sp_same(r, &d->tgt->sps[t]) || sp_settable(r, &d->tgt->sps[t])))
			sp_del(d, r);
	}
}

static void
sp_set(struct diff *d, const struct espgw_sp_conf *sp)
{
	struct espgw_req *q = emit(d, ESPGW_REQ_SP_SET);

	if (q == NULL)
		return;
	memcpy(q->sp_set.name, sp->name, sizeof(q->sp_set.name));
	q->sp_set.action = sp->action;
	memcpy(q->sp_set.sa, sp->sa, sizeof(q->sp_set.sa));
}

static void
sps_add(struct diff *d)
{
	const struct espgw_sp_conf *t;
	struct espgw_req *q;
	unsigned int i;
	int r;

	for (i = 0; i < d->tgt->n_sps; i++) {
		t = &d->tgt->sps[i];
		r = sp_match(d->run, t);
		if (r >= 0 && sp_same(&d->run->sps[r], t))
			continue;
		if (r >= 0 && sp_settable(&d->run->sps[r], t)) {
			sp_set(d, t);
			continue;
		}
		if (r < 0)
			d->sum->added++;
		q = emit(d, ESPGW_REQ_SP_ADD);
		if (q != NULL)
			q->sp = *t;
	}
}

/* ---- routes (by prefix) and neighbours (by address) ---- */

static const struct espgw_route_conf *
route_find(const struct espgw_store *s, const struct espgw_prefix *dst)
{
	unsigned int i;

	for (i = 0; i < s->n_routes; i++)
		if (s->routes[i].dst.len == dst->len &&
				espgw_ip_equal(&s->routes[i].dst.ip, &dst->ip))
			return &s->routes[i];
	return NULL;
}

static const struct espgw_neigh_conf *
neigh_find(const struct espgw_store *s, const struct espgw_ip *ip)
{
	unsigned int i;

	for (i = 0; i < s->n_neighs; i++)
		if (espgw_ip_equal(&s->neighs[i].ip, ip))
			return &s->neighs[i];
	return NULL;
}

static bool
route_same(const struct espgw_route_conf *a, const struct espgw_route_conf *b)
{
	return b != NULL && espgw_ip_equal(&a->via, &b->via) && strcmp(a->port, b->port) == 0;
}

static bool
neigh_same(const struct espgw_neigh_conf *a, const struct espgw_neigh_conf *b)
{
	return b != NULL && memcmp(a->mac, b->mac, 6) == 0 && strcmp(a->port, b->port) == 0;
}

/*
 * A running route or neighbour against the file (found: the file has one of
 * that key; same: identical): counted, and true when it is to be deleted
 * (removed, or changed: added again by l3_add).
 */
static bool
l3_tally(struct diff *d, bool runtime, bool found, bool same)
{
	if (!found && runtime) {
		d->sum->kept++;
		return false;
	}
	if (same) {
		d->sum->unchanged++;
		return false;
	}
	*(!found ? &d->sum->removed : &d->sum->changed) += 1;
	return true;
}

static void
l3_del(struct diff *d)
{
	const struct espgw_route_conf *rt;
	const struct espgw_neigh_conf *nb;
	struct espgw_req *q;
	unsigned int i;

	for (i = 0; i < d->run->n_routes; i++) {
		rt = route_find(d->tgt, &d->run->routes[i].dst);
		if (l3_tally(d, d->run->routes[i].runtime, rt != NULL,
				    route_same(&d->run->routes[i], rt)) &&
				(q = emit(d, ESPGW_REQ_ROUTE_DEL)) != NULL)
			q->route.dst = d->run->routes[i].dst;
	}
	for (i = 0; i < d->run->n_neighs; i++) {
		nb = neigh_find(d->tgt, &d->run->neighs[i].ip);
		if (l3_tally(d, d->run->neighs[i].runtime, nb != NULL,
				    neigh_same(&d->run->neighs[i], nb)) &&
				(q = emit(d, ESPGW_REQ_NEIGH_DEL)) != NULL)
			q->neigh.ip = d->run->neighs[i].ip;
	}
}

static void
l3_add(struct diff *d)
{
	const struct espgw_route_conf *rt;
	const struct espgw_neigh_conf *nb;
	struct espgw_req *q;
	unsigned int i;

	for (i = 0; i < d->tgt->n_neighs; i++) {
		nb = neigh_find(d->run, &d->tgt->neighs[i].ip);
		d->sum->added += nb == NULL;
		if (!neigh_same(&d->tgt->neighs[i], nb) &&
				(q = emit(d, ESPGW_REQ_NEIGH_ADD)) != NULL)
			q->neigh = d->tgt->neighs[i];
	}
	for (i = 0; i < d->tgt->n_routes; i++) {
		rt = route_find(d->run, &d->tgt->routes[i].dst);
		d->sum->added += rt == NULL;
		if (!route_same(&d->tgt->routes[i], rt) &&
				(q = emit(d, ESPGW_REQ_ROUTE_ADD)) != NULL)
			q->route = d->tgt->routes[i];
	}
}

/*
 * A removed SA that a policy switched to another SA ("sp set", a rekey by
 * reload) still names when the SA is deleted becomes a declaration
 * (store_sa.c), which nothing names once the policy is switched: it is
 * deleted again after the policies (a declared one only then: a declaration
 * a policy names cannot be deleted). Not when a kept policy names it.
 */
static bool
sa_switched(const struct diff *d, const struct espgw_sa_conf *sa)
{
	const struct espgw_sp_conf *p;
	bool switched = false;
	unsigned int i;
	int t;

	for (i = 0; i < d->run->n_sps; i++) {
		p = &d->run->sps[i];
		if (p->action != ESPGW_SP_PROTECT || strcmp(p->sa, sa->name) != 0)
			continue;
		t = sp_match(d->tgt, p);
		if (t < 0 && p->runtime)
			return false;
		if (t >= 0 && sp_settable(p, &d->tgt->sps[t]))
			switched = true;
	}
	return switched;
}

static void
sas_del_declared(struct diff *d)
{
	const struct espgw_sa_conf *r;
	unsigned int i;

	for (i = 0; i < d->run->n_sas; i++) {
		r = &d->run->sas[i];
		if (espgw_store_sa(d->tgt, r->name) == NULL && !sa_kept(d->run, r) &&
				sa_switched(d, r))
			sa_del(d, r);
	}
}

int
espgw_store_diff(const struct espgw_store *run, const struct espgw_store *tgt,
		struct espgw_req **reqs, unsigned int *n, struct espgw_diff_sum *sum,
		struct espgw_err *err)
{
	struct diff d = {.run = run, .tgt = tgt, .sum = sum, .err = err};

	memset(sum, 0, sizeof(*sum));
	*reqs = NULL;
	*n = 0;
	if (ports_check(run, tgt, err) < 0 || cryptos_check(run, tgt, err) < 0 ||
			global_check(&run->global, &tgt->global, err) < 0)
		return -1;
	sps_del(&d);
	sas_del(&d);
	l3_del(&d);
	sas_add(&d);
	sps_add(&d);
	sas_del_declared(&d);
	l3_add(&d);
	if (d.nomem || d.refused) {
		espgw_store_diff_free(d.q, d.cap);
		return d.refused ? -1 : espgw_store_nomem(err);
	}
	*reqs = d.q;
	*n = d.n;
	return 0;
}

/*
 * After the difference is applied: what the file names is the file's, even
 * when the control socket made it first (an identical object got no
 * request), so that a later file without it removes it instead of keeping
 * it. Only the origin changes (no index, no data path reads it): no journal.
 */
void
espgw_store_diff_adopt(struct espgw_store *run, const struct espgw_store *tgt)
{
	unsigned int i;
	int t;

	for (i = 0; i < run->n_sas; i++)
		if (run->sas[i].runtime && espgw_store_sa(tgt, run->sas[i].name) != NULL)
			run->sas[i].runtime = false;
	for (i = 0; i < run->n_sps; i++) {
		t = sp_match(tgt, &run->sps[i]);
		if (run->sps[i].runtime && t >= 0)
			run->sps[i].runtime = false;
	}
	for (i = 0; i < run->n_routes; i++)
		if (route_find(tgt, &run->routes[i].dst) != NULL)
			run->routes[i].runtime = false;
	for (i = 0; i < run->n_neighs; i++)
		if (neigh_find(tgt, &run->neighs[i].ip) != NULL)
			run->neighs[i].runtime = false;
}
