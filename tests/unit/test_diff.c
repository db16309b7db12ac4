/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config reload (lib/ctl store_diff.c): the requests between two stores
 * loaded from config text. Each case checks the request kinds in order,
 * that applying them to the running store makes it equal to the file
 * (a second diff is empty), and that unchanged SAs kept their slots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "espgw_conf.h"
#include "espgw_store.h"

#define PORTS                                                             \
	"port add lan0 dev net_tap0 role protected address 10.1.0.1/24\n" \
	"port add wan0 dev net_tap1 role unprotected address 198.51.100.1/24\n"
#define SA(name, dir, spi, key)                                                          \
	"sa add " name " dir " dir " spi " spi " mode tunnel local 198.51.100.1 remote " \
	"203.0.113.1 aead aes-gcm-128 key 0x" key " salt 0x01020304\n"
#define K1 "0ab40ab40ab40ab40ab40ab40ab40ab4"
#define K2 "1ab40ab40ab40ab40ab40ab40ab40ab4"
#define K3 "2ab40ab40ab40ab40ab40ab40ab40ab4"
#define K4 "3ab40ab40ab40ab40ab40ab40ab40ab4"
/* b-out's: two outbound SAs of one store never share a key (sa_check_key). */
#define K5 "4ab40ab40ab40ab40ab40ab40ab40ab4"
/* a-in's and b-in's: no two SAs of one store share a key. */
#define K6 "5ab40ab40ab40ab40ab40ab40ab40ab4"
#define K7 "6ab40ab40ab40ab40ab40ab40ab40ab4"
#define BASE                                                                                      \
	PORTS SA("a-out", "out", "0x1001", K1) SA("a-in", "in", "0x2001", K6) SA(                 \
			"b-out", "out", "0x1002", K5) SA("b-in", "in", "0x2002",                  \
			K7) "sp add out src 10.1.0.0/24 dst 10.2.0.0/24 name a-o protect a-out\n" \
			    "sp add in src 10.2.0.0/24 dst 10.1.0.0/24 name a-i protect a-in\n"   \
			    "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name b-o protect b-out\n" \
			    "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 protect b-in\n"            \
			    "route add 0.0.0.0/0 via 198.51.100.254 port wan0\n"

static void
load(struct espgw_store *s, const char *text)
{
	espgw_store_init(s);
	assert_int_equal(espgw_conf_load_string("t.conf", text, s, stderr), 0);
}

/* Diff run -> text, check the kinds, apply, and check nothing is left to do. */
static void
reload(struct espgw_store *run, const char *text, const enum espgw_req_type *kinds,
		unsigned int n_kinds, struct espgw_diff_sum *sum)
{
	struct espgw_store tgt;
	struct espgw_err err = {{0}};
	struct espgw_req *q;
	unsigned int n, i;

	load(&tgt, text);
	assert_int_equal(espgw_store_diff(run, &tgt, &q, &n, sum, &err), 0);
	assert_int_equal(n, n_kinds);
	for (i = 0; i < n; i++) {
		assert_int_equal(q[i].type, kinds[i]);
		if (espgw_store_apply(run, &q[i], &err) < 0)
			fail_msg("request %u: %s", i, err.msg);
	}
	espgw_store_diff_free(q, n);
	assert_int_equal(espgw_store_diff(run, &tgt, &q, &n, &(struct espgw_diff_sum){0}, &err), 0);
	assert_int_equal(n, 0);
	espgw_store_fini(&tgt);
}

static void
identical_is_noop(void **state)
{
	struct espgw_diff_sum sum;
	struct espgw_store run;

	(void)state;
	load(&run, BASE);
	reload(&run, BASE, NULL, 0, &sum);
	assert_int_equal(sum.added + sum.removed + sum.changed, 0);
	assert_int_equal(sum.unchanged, 4 + 4 + 1);
	espgw_store_fini(&run);
}

/*
 * Tunnel a: new key; b-in removed with its policy; c added (a key of its own:
 * a-out's old K1 would be a key moved to another SA, refused); b-o switched
 * to c-out.
 */
static void
mixed_change(void **state)
{
	static const enum espgw_req_type kinds[] = {
			ESPGW_REQ_SP_DEL, /* the unnamed b-in policy */
			ESPGW_REQ_SA_DEL, /* a-out: key changed */
			ESPGW_REQ_SA_DEL, /* b-in: removed */
			ESPGW_REQ_SA_ADD, /* a-out */
			ESPGW_REQ_SA_ADD, /* c-out */
			ESPGW_REQ_SP_SET, /* b-o: protect c-out */
	};
	const char *text = PORTS SA("a-out", "out", "0x1001", K2) SA("a-in", "in", "0x2001", K6) SA(
			"b-out", "out", "0x1002", K5) SA("c-out", "out", "0x1003",
			K3) "sp add out src 10.1.0.0/24 dst 10.2.0.0/24 name a-o protect a-out\n"
			    "sp add in src 10.2.0.0/24 dst 10.1.0.0/24 name a-i protect a-in\n"
			    "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name b-o protect c-out\n"
			    "route add 0.0.0.0/0 via 198.51.100.254 port wan0\n";
	struct espgw_diff_sum sum;
	struct espgw_store run;
	uint32_t slot_a_in;

	(void)state;
	load(&run, BASE);
	slot_a_in = espgw_store_sa(&run, "a-in")->slot;
	reload(&run, text, kinds, 6, &sum);
	assert_int_equal(espgw_store_sa(&run, "a-in")->slot, slot_a_in);
	assert_null(espgw_store_sa(&run, "b-in"));
	assert_int_equal(sum.added, 1);
	assert_int_equal(sum.removed, 2);
	assert_int_equal(sum.changed, 2);
	assert_int_equal(sum.unchanged, 2 + 2 + 1);
	espgw_store_fini(&run);
}

static void
route_changed(void **state)
{
	static const enum espgw_req_type kinds[] = {ESPGW_REQ_SP_DEL, ESPGW_REQ_SP_DEL,
			ESPGW_REQ_SP_DEL, ESPGW_REQ_SP_DEL, ESPGW_REQ_SA_DEL, ESPGW_REQ_SA_DEL,
			ESPGW_REQ_SA_DEL, ESPGW_REQ_SA_DEL, ESPGW_REQ_ROUTE_DEL,
			ESPGW_REQ_NEIGH_ADD, ESPGW_REQ_ROUTE_ADD};
	struct espgw_diff_sum sum;
	struct espgw_store run;

	(void)state;
	load(&run, BASE);
	reload(&run,
			PORTS "route add 0.0.0.0/0 via 198.51.100.253 port wan0\n"
			      "neighbor add 198.51.100.253 lladdr 02:00:00:00:00:01 port wan0\n",
			kinds, 11, &sum);
	assert_int_equal(sum.removed, 8);
	assert_int_equal(sum.changed, 1);
	assert_int_equal(sum.added, 1);
	espgw_store_fini(&run);
}

/* A changed port (or a new setting) is refused and names the line. */
static void
restart_needed(void **state)
{
	struct espgw_store run, tgt;
	struct espgw_err err = {{0}};
	struct espgw_diff_sum sum;
	struct espgw_req *q;
	unsigned int n;

	(void)state;
	load(&run, BASE);
	load(&tgt, "port add lan0 dev net_tap0 role protected address 10.1.0.1/24\n"
		   "port add wan0 dev net_tap1 role unprotected address 198.51.100.2/24\n");
	assert_int_equal(espgw_store_diff(&run, &tgt, &q, &n, &sum, &err), -1);
	assert_non_null(strstr(err.msg, "restart needed: port wan0"));
	assert_int_equal(err.line, 2);
	assert_null(q);
	espgw_store_fini(&tgt);
	load(&tgt, PORTS "set burst 64\n");
	assert_int_equal(espgw_store_diff(&run, &tgt, &q, &n, &sum, &err), -1);
	assert_non_null(strstr(err.msg, "restart needed: set burst"));
	espgw_store_fini(&tgt);
	load(&tgt, "port add lan0 dev net_tap0 role protected address 10.1.0.1/24\n");
	assert_int_equal(espgw_store_diff(&run, &tgt, &q, &n, &sum, &err), -1);
	assert_non_null(strstr(err.msg, "port wan0 is not in the file"));
	espgw_store_fini(&tgt);
	espgw_store_fini(&run);
}

/* What the control socket made at run time and the file does not name is kept. */
static void
runtime_objects_kept(void **state)
{
	struct espgw_store run, made;
	struct espgw_err err = {{0}};
	struct espgw_diff_sum sum;
	struct espgw_req q;

	(void)state;
	load(&run, BASE);
	load(&made, PORTS SA("ike-out", "out", "0x1009",
				    K2) "sp add out src 10.1.0.0/24 dst 10.9.0.0/24 name ike-o "
					"protect ike-out\n"
					"route add 10.99.0.0/16 via 198.51.100.9 port wan0\n");
	memset(&q, 0, sizeof(q));
	q.type = ESPGW_REQ_SA_ADD;
	q.sa = made.sas[0];
	q.sa.runtime = true;
	assert_int_equal(espgw_store_apply(&run, &q, &err), 0);
	q.type = ESPGW_REQ_SP_ADD;
	q.sp = made.sps[0];
	q.sp.runtime = true;
	assert_int_equal(espgw_store_apply(&run, &q, &err), 0);
	q.type = ESPGW_REQ_ROUTE_ADD;
	q.route = made.routes[0];
	q.route.runtime = true;
	assert_int_equal(espgw_store_apply(&run, &q, &err), 0);
	explicit_bzero(&q, sizeof(q));
	reload(&run, BASE, NULL, 0, &sum);
	assert_int_equal(sum.kept, 3);
	assert_int_equal(sum.added + sum.removed + sum.changed, 0);
	assert_non_null(espgw_store_sa(&run, "ike-out"));
	espgw_store_fini(&made);
	espgw_store_fini(&run);
}

/*
 * Security review (issue 13): a reload that changes an SA but keeps its keys
 * must not bring it into service again with a fresh sequence number (outbound:
 * AES-GCM's nonce is the sequence number, RFC 4106 8.1, so every number sent
 * again under the same key is a repeated nonce) or a fresh replay window
 * (inbound: every packet already accepted could be replayed once, RFC 4303
 * 3.4.3). The diff may refuse, or change the SA in place (sa update): never
 * delete it and add it back with the same key.
 */
static void
diff_no_fresh_same_key(const char *text)
{
	struct espgw_store run, tgt;
	struct espgw_err err = {{0}};
	struct espgw_diff_sum sum;
	const struct espgw_sa_conf *old;
	struct espgw_req *q;
	unsigned int n, i;

	load(&run, BASE);
	load(&tgt, text);
	if (espgw_store_diff(&run, &tgt, &q, &n, &sum, &err) == 0) {
		for (i = 0; i < n; i++) {
			if (q[i].type != ESPGW_REQ_SA_ADD)
				continue;
			old = espgw_store_sa(&run, q[i].sa.name);
			if (old != NULL && !old->declared && old->key_len == q[i].sa.key_len &&
					memcmp(old->key, q[i].sa.key, old->key_len) == 0 &&
					memcmp(old->salt, q[i].sa.salt, sizeof(old->salt)) == 0)
				fail_msg("SA %s deleted and added again with the same key",
						old->name);
		}
		espgw_store_diff_free(q, n);
	}
	espgw_store_fini(&tgt);
	espgw_store_fini(&run);
}

/* a-out gets a hard lifetime, nothing else: same key, same SPI. */
static void
attack_changed_out_same_key(void **state)
{
	(void)state;
	diff_no_fresh_same_key(PORTS
			"sa add a-out dir out spi 0x1001 mode tunnel local 198.51.100.1 remote "
			"203.0.113.1 aead aes-gcm-128 key 0x" K1 " salt 0x01020304 lifetime hard "
			"time 86400\n" SA("a-in", "in", "0x2001", K6) SA(
					"b-out", "out", "0x1002", K5) SA("b-in", "in", "0x2002",
					K7) "sp add out src 10.1.0.0/24 dst 10.2.0.0/24 name a-o "
					    "protect a-out\n"
					    "sp add in src 10.2.0.0/24 dst 10.1.0.0/24 name a-i "
					    "protect a-in\n"
					    "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name b-o "
					    "protect b-out\n"
					    "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 protect "
					    "b-in\n"
					    "route add 0.0.0.0/0 via 198.51.100.254 port wan0\n");
}

/* a-in gets a larger replay window, nothing else: same key, same SPI. */
static void
attack_changed_in_same_key(void **state)
{
	(void)state;
	diff_no_fresh_same_key(PORTS SA("a-out", "out", "0x1001",
			K1) "sa add a-in dir in spi 0x2001 mode tunnel local 198.51.100.1 remote "
			    "203.0.113.1 aead aes-gcm-128 key 0x" K6
			    " salt 0x01020304 replay-window 1024\n" SA(
					    "b-out", "out", "0x1002", K5) SA("b-in", "in", "0x2002",
					    K7) "sp add out src 10.1.0.0/24 dst 10.2.0.0/24 name "
						"a-o protect a-out\n"
						"sp add in src 10.2.0.0/24 dst 10.1.0.0/24 name "
						"a-i protect a-in\n"
						"sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name "
						"b-o protect b-out\n"
						"sp add in src 10.3.0.0/24 dst 10.1.0.0/24 protect "
						"b-in\n"
						"route add 0.0.0.0/0 via 198.51.100.254 port "
						"wan0\n");
}

/* Diff run -> text, apply every request (none may fail), nothing left to do. */
static void
reload_any(struct espgw_store *run, const char *text, struct espgw_diff_sum *sum)
{
	struct espgw_store tgt;
	struct espgw_err err = {{0}};
	struct espgw_req *q;
	unsigned int n, i;

	load(&tgt, text);
	if (espgw_store_diff(run, &tgt, &q, &n, sum, &err) < 0)
		fail_msg("diff refused: %s", err.msg);
	for (i = 0; i < n; i++)
		if (espgw_store_apply(run, &q[i], &err) < 0)
			fail_msg("request %u of %u: %s", i + 1, n, err.msg);
	espgw_store_diff_free(q, n);
	espgw_store_diff_adopt(run, &tgt); /* as reload.c does once applied */
	assert_int_equal(espgw_store_diff(run, &tgt, &q, &n, &(struct espgw_diff_sum){0}, &err), 0);
	if (n != 0)
		fail_msg("%u requests left after the reload (first: %d)", n, q[0].type);
	espgw_store_fini(&tgt);
}

/* The unnamed b-in policy (found by its rule) switched to discard: a valid reload. */
static void
attack_unnamed_policy_action(void **state)
{
	struct espgw_diff_sum sum;
	struct espgw_store run;

	(void)state;
	load(&run, BASE);
	reload_any(&run,
			PORTS SA("a-out", "out", "0x1001", K1) SA("a-in", "in", "0x2001", K6) SA(
					"b-out", "out", "0x1002", K5) SA("b-in", "in", "0x2002",
					K7) "sp add out src 10.1.0.0/24 dst 10.2.0.0/24 name a-o "
					    "protect a-out\n"
					    "sp add in src 10.2.0.0/24 dst 10.1.0.0/24 name a-i "
					    "protect a-in\n"
					    "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name b-o "
					    "protect b-out\n"
					    "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 discard\n"
					    "route add 0.0.0.0/0 via 198.51.100.254 port wan0\n",
			&sum);
	espgw_store_fini(&run);
}

/*
 * Rekey by reload: b-o switched to a new SA c-out, the old b-out gone from the
 * file. b-out must be gone from the store, not left behind as a declaration.
 */
static void
attack_rekey_leaves_no_declaration(void **state)
{
	struct espgw_diff_sum sum;
	struct espgw_store run;

	(void)state;
	load(&run, BASE);
	reload_any(&run,
			PORTS SA("a-out", "out", "0x1001", K1) SA("a-in", "in", "0x2001", K6) SA(
					"c-out", "out", "0x1003", K2) SA("b-in", "in", "0x2002",
					K7) "sp add out src 10.1.0.0/24 dst 10.2.0.0/24 name a-o "
					    "protect a-out\n"
					    "sp add in src 10.2.0.0/24 dst 10.1.0.0/24 name a-i "
					    "protect a-in\n"
					    "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name b-o "
					    "protect c-out\n"
					    "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 protect "
					    "b-in\n"
					    "route add 0.0.0.0/0 via 198.51.100.254 port wan0\n",
			&sum);
	assert_null(espgw_store_sa(&run, "b-out"));
	espgw_store_fini(&run);
}

/* BASE with a-i switched to a new inbound SA c-in; a-in kept or not. */
#define REKEYED_IN(keep_a_in)                                                                      \
	PORTS SA("a-out", "out", "0x1001", K1)                                                     \
	keep_a_in SA("c-in", "in", "0x2003", K3) SA("b-out", "out", "0x1002", K5) SA("b-in", "in", \
			"0x2002",                                                                  \
			K7) "sp add out src 10.1.0.0/24 dst 10.2.0.0/24 name a-o protect a-out\n"  \
			    "sp add in src 10.2.0.0/24 dst 10.1.0.0/24 name a-i protect c-in\n"    \
			    "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name b-o protect b-out\n"  \
			    "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 protect b-in\n"             \
			    "route add 0.0.0.0/0 via 198.51.100.254 port wan0\n"

/*
 * The inbound rekey by reload: a-i switched to c-in while a-in stays keeps
 * accepting a-in (store_sp.c sp_prev, as "sp set" does); the same file again
 * is no change and keeps it; a file without a-in deletes it and the policy
 * forgets it.
 */
static void
reload_inbound_rekey_keeps_prev(void **state)
{
	struct espgw_diff_sum sum;
	struct espgw_store run;
	int i;

	(void)state;
	load(&run, BASE);
	reload_any(&run, REKEYED_IN(SA("a-in", "in", "0x2001", K6)), &sum);
	i = espgw_store_sp_index(&run, "a-i");
	assert_string_equal(run.sps[i].prev_sa, "a-in");
	reload_any(&run, REKEYED_IN(SA("a-in", "in", "0x2001", K6)), &sum);
	assert_int_equal(sum.added + sum.removed + sum.changed, 0);
	assert_string_equal(run.sps[i].prev_sa, "a-in");
	reload_any(&run, REKEYED_IN(""), &sum);
	assert_null(espgw_store_sa(&run, "a-in"));
	assert_string_equal(run.sps[espgw_store_sp_index(&run, "a-i")].prev_sa, "");
	espgw_store_fini(&run);
}

/*
 * A policy made at run time (an operator's bypass for a test) that the file
 * then names becomes the file's (README, Reload): a later file without it
 * removes it instead of keeping it.
 */
static void
attack_adopted_runtime_policy(void **state)
{
	struct espgw_store run, made;
	struct espgw_err err = {{0}};
	struct espgw_diff_sum sum;
	struct espgw_req q;

	(void)state;
	load(&run, BASE);
	load(&made, PORTS "sp add out src 10.1.0.0/24 dst 10.5.0.0/24 name dbg bypass\n");
	memset(&q, 0, sizeof(q));
	q.type = ESPGW_REQ_SP_ADD;
	q.sp = made.sps[0];
	q.sp.runtime = true;
	assert_int_equal(espgw_store_apply(&run, &q, &err), 0);
	reload_any(&run, BASE "sp add out src 10.1.0.0/24 dst 10.5.0.0/24 name dbg bypass\n", &sum);
	reload_any(&run, BASE, &sum);
	assert_int_equal(sum.kept, 0);
	assert_int_equal(espgw_store_sp_index(&run, "dbg"), -1);
	espgw_store_fini(&made);
	espgw_store_fini(&run);
}

/*
 * Security review (attack 13b): the key leaves its SA's name but not the
 * gateway. A reload that deletes an SA and adds one of another name with the
 * same key material in the same direction brings that key into service again
 * with a fresh sequence number (outbound: every number sent again is a
 * repeated AES-GCM nonce, RFC 4106 8.1) or a fresh replay window (inbound,
 * same SPI: every packet accepted could be replayed once). The diff may
 * refuse; it must never emit such an add.
 */
/* Two tunnels a and b; the names of a's SAs and the keys of a's SAs and b-out vary. */
#define TUNNELS(ao, kao, ai, kai, kbo)                                                             \
	PORTS SA(ao, "out", "0x1001", kao) SA(ai, "in", "0x2001", kai) SA(                         \
			"b-out", "out", "0x1002", kbo) SA("b-in", "in", "0x2002",                  \
			K4) "sp add out src 10.1.0.0/24 dst 10.2.0.0/24 name a-o protect " ao "\n" \
			    "sp add in src 10.2.0.0/24 dst 10.1.0.0/24 name a-i protect " ai "\n"  \
			    "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 name b-o protect b-out\n"  \
			    "sp add in src 10.3.0.0/24 dst 10.1.0.0/24 name b-i protect b-in\n"    \
			    "route add 0.0.0.0/0 via 198.51.100.254 port wan0\n"
#define DISTINCT TUNNELS("a-out", K1, "a-in", K2, K3)

static bool
key_same(const struct espgw_sa_conf *a, const struct espgw_sa_conf *b)
{
	return a->key_len == b->key_len && a->auth_key_len == b->auth_key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0 &&
	       memcmp(a->auth_key, b->auth_key, a->auth_key_len) == 0 &&
	       memcmp(a->salt, b->salt, sizeof(a->salt)) == 0;
}

static void
diff_no_moved_key(const char *text)
{
	struct espgw_store run, tgt;
	struct espgw_err err = {{0}};
	struct espgw_diff_sum sum;
	const struct espgw_sa_conf *old, *now;
	struct espgw_req *q;
	unsigned int n, i, k;

	load(&run, DISTINCT);
	load(&tgt, text);
	if (espgw_store_diff(&run, &tgt, &q, &n, &sum, &err) == 0) {
		for (i = 0; i < n; i++) {
			if (q[i].type != ESPGW_REQ_SA_ADD)
				continue;
			for (k = 0; k < run.n_sas; k++) {
				old = &run.sas[k];
				now = espgw_store_sa(&tgt, old->name);
				if (old->declared || old->dir != q[i].sa.dir ||
						strcmp(old->name, q[i].sa.name) == 0 ||
						(now != NULL && key_same(old, now)))
					continue; /* not removed from under its key */
				if (key_same(old, &q[i].sa))
					fail_msg("SA %s removed and its key brought into service "
						 "again as SA %s with fresh counters",
							old->name, q[i].sa.name);
			}
		}
		espgw_store_diff_free(q, n);
	}
	espgw_store_fini(&tgt);
	espgw_store_fini(&run);
}

/* a-out renamed a2-out: same key, same SPI, its policy follows it. */
static void
attack_renamed_out_same_key(void **state)
{
	(void)state;
	diff_no_moved_key(TUNNELS("a2-out", K1, "a-in", K2, K3));
}

/* a-in renamed a2-in: same key, same SPI: its replay window starts again. */
static void
attack_renamed_in_same_key(void **state)
{
	(void)state;
	diff_no_moved_key(TUNNELS("a-out", K1, "a2-in", K2, K3));
}

/* a-out's key goes to b-out (its own key replaced), a-out gets a new one. */
static void
attack_key_moved_between_sas(void **state)
{
	(void)state;
	diff_no_moved_key(TUNNELS("a-out", K3, "a-in", K2, K1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(identical_is_noop),
			cmocka_unit_test(mixed_change),
			cmocka_unit_test(route_changed),
			cmocka_unit_test(restart_needed),
			cmocka_unit_test(runtime_objects_kept),
			cmocka_unit_test(attack_changed_out_same_key),
			cmocka_unit_test(attack_changed_in_same_key),
			cmocka_unit_test(attack_unnamed_policy_action),
			cmocka_unit_test(attack_rekey_leaves_no_declaration),
			cmocka_unit_test(reload_inbound_rekey_keeps_prev),
			cmocka_unit_test(attack_adopted_runtime_policy),
			cmocka_unit_test(attack_renamed_out_same_key),
			cmocka_unit_test(attack_renamed_in_same_key),
			cmocka_unit_test(attack_key_moved_between_sas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
