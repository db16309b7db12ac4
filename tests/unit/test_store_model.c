/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Security review of 99eaedf (sa update, the store's hashed index and its
 * dirty-slot list): the store driven by random transactions as the control
 * socket drives it (commit, a command the store refuses, a failure in the
 * data path: undo and prepare again), against a model of the data path
 * that reconciles from the dirty-slot list exactly as app/espgw/publish.c
 * does (unlinks first, then adds, keeps, cancels, moves), with retiring
 * slots as in a running espgw (retire_slots).
 *
 * After every transaction it checks what the gateway relies on:
 *  - every SA of the store has its runtime in its slot, with its content;
 *    every runtime the store no longer has is retiring;
 *  - after the publication every retiring slot is released: none stays
 *    RETIRING in the store for ever (a leaked slot: max-sa exhaustion);
 *  - an outbound SA brought into service under a key that another live,
 *    unmoved runtime already sends with is a move of that very runtime (else
 *    its sequence numbers start again under the same key: AES-GCM nonce
 *    reuse);
 *  - the hashed lookups answer as a scan (declared SAs and sa update too).
 *
 * The fixed scenarios name the findings; the random one explores.
 * Failed on 99eaedf (fixed since): test_two_updates_one_txn (nonce reuse),
 * test_slot_taken_and_dropped_in_one_txn (slot leak), test_random_model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "espgw_store.h"
#include "store_int.h"

#define MAXS 64

/* The data path as publish.c keeps it, one runtime per slot. */
struct mslot {
	bool live;
	bool queued; /* unlinked, retiring: freed at the next publication */
	bool moved;  /* MOVED or FROZEN: sends nothing of its own */
	uint32_t to; /* moved: where */
	struct espgw_sa_conf c;
};

static struct mslot m[MAXS];

/* What went wrong first, per kind: a nonce reused, a slot leaked, anything else. */
enum kind { K_NONCE, K_LEAK, K_OTHER, K_N };
static const char *const kind_name[K_N] = {"nonce", "leak", "other"};
static char problem[512];
static char first[K_N][512];
static unsigned int count[K_N];

static void report(enum kind k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
report(enum kind k, const char *fmt, ...)
{
	va_list ap;

	count[k]++;
	if (first[k][0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(first[k], sizeof(first[k]), fmt, ap);
	va_end(ap);
	if (problem[0] == '\0')
		snprintf(problem, sizeof(problem), "%s", first[k]);
}

static bool
same_key(const struct espgw_sa_conf *a, const struct espgw_sa_conf *b)
{
	return a->dir == b->dir && a->spi == b->spi && a->key_len == b->key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0;
}

static void
m_unlink(struct espgw_store *s, uint32_t d)
{
	/* publish.c slot_unused_release: a slot no runtime ever used is free at once. */
	if (!m[d].live && !m[d].queued && s->slot[d] == ESPGW_SLOT_RETIRING)
		espgw_store_slot_release(s, d);
	if (!m[d].live || s->slot[d] == ESPGW_SLOT_USED || m[d].queued)
		return;
	m[d].queued = true;
	s->slot[d] = ESPGW_SLOT_RETIRING;
}

/* A new outbound runtime: it must continue the one live runtime with its key, if any. */
static void
m_move_check(const struct espgw_sa_conf *sa)
{
	uint32_t j, from = sa->moved_from - 1;
	unsigned int others = 0;

	if (sa->declared || sa->dir != ESPGW_DIR_OUT)
		return;
	for (j = 0; j < MAXS; j++)
		if (j != sa->slot && m[j].live && !m[j].moved && !m[j].c.declared &&
				same_key(&m[j].c, sa)) {
			others++;
			if (sa->moved_from == 0 || j != from)
				report(K_NONCE,
						"outbound SA %s brought into service in slot %u "
						"with a fresh "
						"sequence number while slot %u sends under the "
						"same key "
						"(moved_from %u): nonce reuse",
						sa->name, sa->slot, j, sa->moved_from);
		}
	if (sa->moved_from != 0 && others == 1) { /* espgw_gw_sa_move */
		m[from].moved = true;
		m[from].to = sa->slot;
	}
	/* espgw_gw_sa_move: a source in service must be the SA itself. */
	if (sa->moved_from != 0 && m[from].live && others != 1)
		report(K_NONCE, "outbound SA %s moved from slot %u, which holds another SA",
				sa->name, from);
}

static void
m_add(struct espgw_store *s, const struct espgw_sa_conf *sa)
{
	struct mslot *x = &m[sa->slot];

	if (x->live) {
		if (x->queued) { /* retire_cancel, espgw_gw_sa_move_back */
			x->queued = false;
			if (x->moved) {
				x->moved = false;
				m[x->to].moved = true;
			}
			if (!same_key(&x->c, sa) || x->c.declared != sa->declared)
				report(K_OTHER, "slot %u brought back with another SA", sa->slot);
			/* retire_cancel changes nothing in the slot: it must be as it was */
			if (!espgw_ip_equal(&x->c.remote, &sa->remote) ||
					memcmp(x->c.life, sa->life, sizeof(sa->life)) != 0 ||
					x->c.inner_family != sa->inner_family)
				report(K_OTHER,
						"slot %u (%s) brought back by a rollback with "
						"other "
						"remote/lifetimes than its runtime has",
						sa->slot, sa->name);
			return;
		}
		/* espgw_gw_sa_update: in place */
		if (x->c.declared != sa->declared || strcmp(x->c.name, sa->name) != 0 ||
				(!sa->declared && !same_key(&x->c, sa)))
			report(K_OTHER, "slot %u changed its SA in place (%s -> %s)", sa->slot,
					x->c.name, sa->name);
		if (sa->dir == ESPGW_DIR_OUT && !espgw_ip_equal(&x->c.remote, &sa->remote))
			report(K_OTHER,
					"outbound SA %s: remote changed in its slot %u (the data "
					"path "
					"refuses: prepare fails)",
					sa->name, sa->slot);
		x->c = *sa;
		return;
	}
	x->live = true;
	x->queued = x->moved = false;
	x->c = *sa;
	m_move_check(sa);
	if (sa->moved_from != 0) /* the move made: espgw_store_sa_moved */
		espgw_store_sa_moved(s, sa->slot);
}

/* espgw_gw_prepare over the dirty list (or every slot). */
static void
m_prepare(struct espgw_store *s)
{
	unsigned int n, i;
	bool all;
	const uint32_t *d = espgw_store_dirty(s, &n, &all);
	uint32_t list[4096];
	const struct espgw_sa_conf *sa;

	if (all)
		for (n = 0; n < MAXS; n++)
			list[n] = n;
	else
		memcpy(list, d, n * sizeof(*d));
	for (i = 0; i < n; i++)
		m_unlink(s, list[i]);
	if (all)
		for (i = 0; i < s->n_sas; i++)
			m_add(s, &s->sas[i]);
	else
		for (i = 0; i < n; i++)
			if ((sa = espgw_store_sa_of_slot(s, list[i])) != NULL)
				m_add(s, sa);
	espgw_store_dirty_clear(s);
}

/* After a prepare: the data path holds exactly the store's SAs. */
static void
m_check(const struct espgw_store *s)
{
	unsigned int i;
	const struct espgw_sa_conf *sa;

	for (i = 0; i < s->n_sas; i++) {
		sa = &s->sas[i];
		if (!m[sa->slot].live || m[sa->slot].queued)
			report(K_OTHER, "SA %s of the store has no runtime in slot %u", sa->name,
					sa->slot);
		else if (m[sa->slot].moved)
			report(K_OTHER, "SA %s of the store: its slot %u is MOVED", sa->name,
					sa->slot);
		else if (strcmp(m[sa->slot].c.name, sa->name) != 0 ||
				!espgw_ip_equal(&m[sa->slot].c.remote, &sa->remote))
			report(K_OTHER, "SA %s: slot %u holds another state", sa->name, sa->slot);
	}
	for (i = 0; i < MAXS; i++)
		if (m[i].live && !m[i].queued && espgw_store_sa_of_slot(s, i) == NULL)
			report(K_OTHER, "slot %u (%s) in service but not in the store", i,
					m[i].c.name);
}

/* The publication, and RETIRE_MS later every retiring runtime freed. */
static void
m_publish(struct espgw_store *s)
{
	unsigned int i, used = 0;

	if (s->slot == NULL)
		return;
	for (i = 0; i < MAXS; i++)
		if (m[i].live && m[i].queued) {
			memset(&m[i], 0, sizeof(m[i]));
			espgw_store_slot_release(s, i);
		}
	for (i = 0; i < MAXS; i++) {
		if (s->slot[i] == ESPGW_SLOT_RETIRING) {
			report(K_LEAK,
					"slot %u stays RETIRING for ever: the data path never had "
					"it "
					"(leaked: max-sa exhaustion)",
					i);
			/* MODEL_HEAL=1: free it, to explore past this finding */
			if (getenv("MODEL_HEAL") != NULL)
				espgw_store_slot_release(s, i);
		}
		if (s->slot[i] == ESPGW_SLOT_USED) {
			used++;
			if (espgw_store_sa_of_slot(s, i) == NULL)
				report(K_OTHER, "slot %u USED with no SA", i);
		}
	}
	if (used != s->n_sas)
		report(K_OTHER, "%u slots used for %u SAs", used, s->n_sas);
}

static void
add_wan(struct espgw_store *s)
{
	struct espgw_req r;
	struct espgw_err err;

	espgw_req_init(&r, ESPGW_REQ_PORT_ADD);
	strcpy(r.port.name, "wan0");
	strcpy(r.port.dev, "net_null0");
	r.port.role = ESPGW_ROLE_UNPROTECTED;
	assert_int_equal(espgw_prefix_parse("198.51.100.1/24", &r.port.addr[0]), 0);
	r.port.n_addr = 1;
	assert_int_equal(espgw_store_apply(s, &r, &err), 0);
	espgw_req_init(&r, ESPGW_REQ_SET_MAX_SA);
	r.max_sa = MAXS;
	assert_int_equal(espgw_store_apply(s, &r, &err), 0);
}

static unsigned int key_seq;

static void
sa_req(struct espgw_req *r, const char *name, enum espgw_dir dir, uint32_t spi)
{
	espgw_req_init(r, ESPGW_REQ_SA_ADD);
	snprintf(r->sa.name, sizeof(r->sa.name), "%s", name);
	r->sa.dir = dir;
	r->sa.spi = spi;
	assert_int_equal(espgw_ip_parse("198.51.100.1", &r->sa.local), 0);
	assert_int_equal(espgw_ip_parse("203.0.113.1", &r->sa.remote), 0);
	r->sa.aead = ESPGW_ALGO_AES_GCM_128;
	key_seq++;
	memcpy(r->sa.key, &key_seq, sizeof(key_seq)); /* every SA its own key */
	r->sa.key_len = 16;
	memset(r->sa.salt, 0x5a, 4);
	r->sa.has_salt = true;
}

static void
update_req(struct espgw_req *r, const char *name, const char *remote)
{
	espgw_req_init(r, ESPGW_REQ_SA_UPDATE);
	snprintf(r->sa_update.name, sizeof(r->sa_update.name), "%s", name);
	if (remote != NULL) {
		r->sa_update.has_remote = true;
		assert_int_equal(espgw_ip_parse(remote, &r->sa_update.remote), 0);
	} else {
		r->sa_update.has_life[1] = true;
		r->sa_update.life[1].packets = 1000 + (uint64_t)(rand() % 10);
	}
}

static void
sp_req(struct espgw_req *r, const char *name, const char *dst, const char *sa, enum espgw_dir dir)
{
	espgw_req_init(r, ESPGW_REQ_SP_ADD);
	r->sp.dir = dir;
	strcpy(r->sp.name, name);
	assert_int_equal(espgw_prefix_parse(dst, &r->sp.dst), 0);
	if (sa != NULL) {
		r->sp.action = ESPGW_SP_PROTECT;
		strcpy(r->sp.sa, sa);
	} else {
		r->sp.action = ESPGW_SP_BYPASS;
	}
}

static int
setup(void **state)
{
	static struct espgw_store s;

	espgw_store_init(&s);
	add_wan(&s);
	s.retire_slots = true; /* as main.c sets it once the data path runs */
	memset(m, 0, sizeof(m));
	memset(first, 0, sizeof(first));
	memset(count, 0, sizeof(count));
	problem[0] = '\0';
	*state = &s;
	return 0;
}

static int
teardown(void **state)
{
	espgw_store_fini(*state);
	return 0;
}

/* One transaction as txn_run runs it; 0 applied, -1 refused (rolled back). */
static int
txn(struct espgw_store *s, const struct espgw_req *q, unsigned int n, bool dp_fails)
{
	unsigned int mark = espgw_store_mark(s), i;
	struct espgw_err err;

	for (i = 0; i < n; i++)
		if (espgw_store_apply(s, &q[i], &err) < 0) {
			espgw_store_rollback(s, mark);
			espgw_store_commit(s);
			return -1;
		}
	m_prepare(s);
	if (dp_fails) { /* a later command failed in the data path: undo() */
		espgw_store_rollback(s, mark);
		m_prepare(s);
	}
	espgw_store_commit(s);
	m_check(s);
	return dp_fails ? -1 : 0;
}

static void
base_tunnel(struct espgw_store *s)
{
	struct espgw_req q[2];

	sa_req(&q[0], "out3", ESPGW_DIR_OUT, 0x3001);
	sp_req(&q[1], "p3out", "10.3.0.0/24", "out3", ESPGW_DIR_OUT);
	assert_int_equal(txn(s, q, 2, false), 0);
	m_publish(s);
	assert_string_equal(problem, "");
}

/* Two moves of one outbound SA in one transaction: C starts again at seq 1 under A's key. */
static void
test_two_updates_one_txn(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req q[2];

	base_tunnel(s);
	update_req(&q[0], "out3", "203.0.113.9");
	update_req(&q[1], "out3", "203.0.113.17");
	assert_int_equal(txn(s, q, 2, false), 0);
	m_publish(s);
	assert_string_equal(problem, "");
}

/*
 * A remote, then a lifetime, in one transaction: the second update copies the
 * SA with its new slot but sets moved_from to 0 (its remote did not change
 * this time), so the data path brings the new slot into service fresh, at
 * sequence number 1, under the key the old slot sent with.
 */
static void
test_update_remote_then_lifetime_one_txn(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req q[2];

	base_tunnel(s);
	update_req(&q[0], "out3", "203.0.113.9");
	update_req(&q[1], "out3", NULL);
	assert_int_equal(txn(s, q, 2, false), 0);
	m_publish(s);
	assert_string_equal(problem, "");
}

/* A slot taken and given up again before any prepare: RETIRING for ever. */
static void
test_slot_taken_and_dropped_in_one_txn(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req q[2];

	base_tunnel(s);
	sa_req(&q[0], "tmp", ESPGW_DIR_OUT, 0x5001);
	espgw_req_init(&q[1], ESPGW_REQ_SA_DEL);
	strcpy(q[1].name, "tmp");
	assert_int_equal(txn(s, q, 2, false), 0);
	m_publish(s);
	assert_string_equal(problem, "");
}

/* One random request on a small pool of names, SPIs, remotes and selectors. */
static void
random_req(struct espgw_req *r, unsigned int pool)
{
	static const char *const remotes[] = {"203.0.113.1", "203.0.113.9", "203.0.113.17"};
	char name[16], sa[16], dst[32];
	unsigned int op = (unsigned int)rand() % 9, k = (unsigned int)rand() % pool;
	enum espgw_dir dir = (enum espgw_dir)(rand() % 2);

	snprintf(name, sizeof(name), "x%u", k);
	snprintf(sa, sizeof(sa), "x%u", (unsigned int)rand() % pool);
	snprintf(dst, sizeof(dst), "10.%u.0.0/24", (unsigned int)rand() % pool);
	switch (op) {
	case 0:
	case 1:
		sa_req(r, name, dir, 0x1000 + (unsigned int)rand() % pool);
		break;
	case 2:
		espgw_req_init(r, ESPGW_REQ_SA_DEL);
		strcpy(r->name, name);
		break;
	case 3:
		espgw_req_init(r, ESPGW_REQ_SA_DECLARE);
		strcpy(r->sa_decl.name, name);
		r->sa_decl.dir = dir;
		break;
	case 4:
	case 5:
		update_req(r, name, rand() % 4 ? remotes[rand() % 3] : NULL);
		break;
	case 6:
		if (rand() % 2)
			snprintf(name, sizeof(name), "p%u", k);
		else
			name[0] = '\0';
		sp_req(r, name, dst, rand() % 3 ? sa : NULL, dir);
		break;
	case 7:
		espgw_req_init(r, ESPGW_REQ_SP_DEL);
		snprintf(r->sp_ref.name, sizeof(r->sp_ref.name), "p%u", k);
		break;
	default:
		espgw_req_init(r, ESPGW_REQ_SP_SET);
		snprintf(r->sp_set.name, sizeof(r->sp_set.name), "p%u", k);
		r->sp_set.action = rand() % 4 ? ESPGW_SP_PROTECT : ESPGW_SP_DISCARD;
		if (r->sp_set.action == ESPGW_SP_PROTECT)
			strcpy(r->sp_set.sa, sa);
		break;
	}
}

/* The index against a scan (declared SAs and sa update included). */
static void
index_check(const struct espgw_store *s, unsigned int pool)
{
	char name[16];
	unsigned int k, i, d;
	int p, want;

	for (k = 0; k < pool; k++) {
		snprintf(name, sizeof(name), "x%u", k);
		for (want = -1, i = 0; i < s->n_sas; i++)
			if (strcmp(s->sas[i].name, name) == 0)
				want = (int)i;
		if (espgw_store_sa_index(s, name) != want)
			report(K_OTHER, "index: SA %s at %d, scan says %d", name,
					espgw_store_sa_index(s, name), want);
		for (want = 0, i = 0; i < s->n_sps; i++)
			if (s->sps[i].action == ESPGW_SP_PROTECT && strcmp(s->sps[i].sa, name) == 0)
				want = 1;
		if ((espgw_store_ix_sp_using(s, name) >= 0) != want)
			report(K_OTHER, "index: SA %s used %d, scan says %d", name,
					espgw_store_ix_sp_using(s, name) >= 0, want);
		for (d = 0; d < 2; d++) {
			for (want = 0, i = 0; i < s->n_sas; i++)
				if (!s->sas[i].declared && s->sas[i].dir == d &&
						s->sas[i].spi == 0x1000 + k)
					want = 1;
			if ((espgw_store_ix_sa_spi(s, (enum espgw_dir)d, 0x1000 + k) >= 0) != want)
				report(K_OTHER, "index: spi %#x dir %u", 0x1000 + k, d);
		}
	}
	for (i = 0; i < s->n_sas; i++)
		if (espgw_store_sa_of_slot(s, s->sas[i].slot) != &s->sas[i])
			report(K_OTHER, "index: slot %u of SA %s", s->sas[i].slot, s->sas[i].name);
	for (i = 0; i < s->n_sps; i++) {
		p = espgw_store_ix_sp_rule(s, &s->sps[i]);
		if (p < 0)
			report(K_OTHER, "index: policy %u not found by its rule", i);
		if (s->sps[i].action == ESPGW_SP_PROTECT && espgw_store_sa(s, s->sps[i].sa) == NULL)
			report(K_OTHER, "policy %u protects with SA %s, which is gone", i,
					s->sps[i].sa);
	}
}

/*
 * Random transactions: commit, refused by the store, or failed in the data
 * path; a publication after some of them (a batch is several transactions).
 */
static void
test_random_model(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req q[6];
	unsigned int t, n, i, pool = 6;

	unsigned int k;
	bool any = false;

	srand(getenv("MODEL_SEED") ? (unsigned int)atoi(getenv("MODEL_SEED")) : 11);
	for (t = 0; t < 20000; t++) {
		n = 1 + (unsigned int)rand() % 4;
		for (i = 0; i < n; i++)
			random_req(&q[i], pool);
		(void)txn(s, q, n, rand() % 4 == 0);
		index_check(s, pool);
		if (rand() % 3 == 0)
			m_publish(s);
	}
	for (k = 0; k < K_N; k++)
		if (count[k] != 0) {
			print_error("%s: %u times; first: %s\n", kind_name[k], count[k], first[k]);
			any = true;
		}
	if (any)
		fail_msg("the data path and the store disagree (above)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test_setup_teardown(test_two_updates_one_txn, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_update_remote_then_lifetime_one_txn, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_slot_taken_and_dropped_in_one_txn, setup, teardown),
			cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
	};

	return cmocka_run_group_tests_name("store-model", tests, NULL, NULL);
}
