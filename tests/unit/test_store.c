/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store through requests (as the control socket or an IKE daemon would
 * send them): checks the parser cannot reach (bad enum values, unterminated
 * or empty fields), defaults, SA deletion, lookups, and key wiping. Linked
 * with -Wl,--wrap=free: the wrapper checks that a watched block is all zero
 * at the moment it is freed.
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

void __real_free(void *p);
void __wrap_free(void *p);

/* The block to check on free, and what was found. */
static struct {
	const void *ptr;
	size_t len;
	bool freed;
	bool wiped;
} watch;

static bool
all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != 0)
			return false;
	return true;
}

void
__wrap_free(void *p)
{
	if (p != NULL && p == watch.ptr) {
		watch.freed = true;
		watch.wiped = all_zero(p, watch.len);
		watch.ptr = NULL;
	}
	__real_free(p);
}

static void
watch_block(const void *p, size_t len)
{
	watch.ptr = p;
	watch.len = len;
	watch.freed = false;
	watch.wiped = false;
}

static void
apply_ok(struct espgw_store *s, const struct espgw_req *req)
{
	struct espgw_err err;

	if (espgw_store_apply(s, req, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
}

static void
apply_fail(struct espgw_store *s, const struct espgw_req *req, const char *msg)
{
	struct espgw_err err;

	assert_int_equal(espgw_store_apply(s, req, &err), -1);
	assert_string_equal(err.msg, msg);
}

static void
add_wan(struct espgw_store *s)
{
	struct espgw_req r;

	espgw_req_init(&r, ESPGW_REQ_PORT_ADD);
	strcpy(r.port.name, "wan0");
	strcpy(r.port.dev, "net_null0");
	r.port.role = ESPGW_ROLE_UNPROTECTED;
	assert_int_equal(espgw_prefix_parse("198.51.100.1/24", &r.port.addr[0]), 0);
	r.port.n_addr = 1;
	apply_ok(s, &r);
}

/*
 * A valid outbound AES-GCM-128 SA request with a recognisable key; the salt
 * holds the SPI, since two outbound SAs never share key and salt.
 */
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
	memset(r->sa.key, 0xa5, 16);
	r->sa.key_len = 16;
	memcpy(r->sa.salt, &spi, sizeof(spi));
	r->sa.has_salt = true;
}

static int
setup(void **state)
{
	static struct espgw_store s;

	espgw_store_init(&s);
	add_wan(&s);
	*state = &s;
	return 0;
}

static int
teardown(void **state)
{
	espgw_store_fini(*state);
	return 0;
}

static void
test_req_defaults(void **state)
{
	struct espgw_req r;

	(void)state;
	memset(&r, 0xff, sizeof(r));
	espgw_req_init(&r, ESPGW_REQ_SA_ADD);
	assert_int_equal(r.type, ESPGW_REQ_SA_ADD);
	assert_int_equal(r.sa.seq, 1);
	assert_int_equal(r.sa.ttl, ESPGW_TTL_DEFAULT);
	assert_int_equal(r.sa.replay_window, ESPGW_REPLAY_DEFAULT);
	assert_int_equal(r.sa.key_len, 0);
	assert_int_equal(r.sa.aead, ESPGW_ALGO_NONE);
	assert_int_equal(r.sa.match, ESPGW_SAD_MATCH_SPI_DST);
	espgw_req_init(&r, ESPGW_REQ_SP_ADD);
	assert_int_equal(r.sp.priority, ESPGW_SP_PRIORITY_DEFAULT);
	assert_int_equal(r.sp.proto, -1);
	assert_int_equal(r.sp.sport_lo, 0);
	assert_int_equal(r.sp.dport_hi, 65535);
	espgw_req_init(&r, ESPGW_REQ_PORT_ADD);
	assert_int_equal(r.port.mtu, ESPGW_MTU_DEFAULT);
	assert_false(r.port.has_mac);
}

static void
test_name_valid(void **state)
{
	char unterminated[ESPGW_NAME_MAX];

	(void)state;
	assert_true(espgw_name_valid("a"));
	assert_true(espgw_name_valid("A-z_0.9"));
	assert_true(espgw_name_valid("1234567890123456789012345678901"));
	assert_false(espgw_name_valid(""));
	assert_false(espgw_name_valid("12345678901234567890123456789012"));
	assert_false(espgw_name_valid("a b"));
	assert_false(espgw_name_valid("a/b"));
	assert_false(espgw_name_valid("é"));
	memset(unterminated, 'a', sizeof(unterminated));
	assert_false(espgw_name_valid(unterminated));
}

static void
test_sa_checks_beyond_parser(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req r;

	sa_req(&r, "x", (enum espgw_dir)7, 0x1000);
	apply_fail(s, &r, "SA x: dir must be in or out");
	sa_req(&r, "", ESPGW_DIR_OUT, 0x1000);
	apply_fail(s, &r, "invalid SA name");
	sa_req(&r, "x", ESPGW_DIR_OUT, 0x1000);
	r.sa.ttl = 0;
	apply_fail(s, &r, "ttl must be 1..255, got 0");
	sa_req(&r, "x", ESPGW_DIR_OUT, 0x1000);
	r.sa.dscp_mode = ESPGW_HDR_CLEAR;
	apply_fail(s, &r, "dscp must be copy or 0..63");
	sa_req(&r, "x", ESPGW_DIR_IN, 0x1000);
	r.sa.seq = 5;
	apply_fail(s, &r, "seq is only valid for outbound SAs");
	sa_req(&r, "x", ESPGW_DIR_OUT, 0x1000);
	r.sa.aead = ESPGW_ALGO_AES_CBC_128; /* a cipher in the aead field */
	apply_fail(s, &r, "invalid aead algorithm");
	sa_req(&r, "x", ESPGW_DIR_OUT, 0x1000);
	r.sa.mode = (enum espgw_sa_mode)3;
	apply_fail(s, &r, "mode must be tunnel or transport");
	sa_req(&r, "x", ESPGW_DIR_OUT, 0x1000);
	r.sa.match = (enum espgw_sad_match)9;
	apply_fail(s, &r, "match must be spi, spi-dst or spi-dst-src");
	sa_req(&r, "x", ESPGW_DIR_OUT, 0x1000);
	memset(&r.sa.remote, 0, sizeof(r.sa.remote));
	apply_fail(s, &r, "SA x needs local and remote");
	assert_int_equal(s->n_sas, 0);
	/* inner_family is the store's to set, whatever the request says. */
	sa_req(&r, "x", ESPGW_DIR_OUT, 0x1000);
	r.sa.inner_family = ESPGW_AF_INET6;
	apply_ok(s, &r);
	assert_int_equal(espgw_store_sa(s, "x")->inner_family, 0);
}

static void
test_other_checks_beyond_parser(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req r;

	espgw_req_init(&r, ESPGW_REQ_PORT_ADD);
	strcpy(r.port.name, "p");
	r.port.role = ESPGW_ROLE_PROTECTED;
	apply_fail(s, &r, "port p needs a dev");
	memset(r.port.dev, 'x', sizeof(r.port.dev)); /* unterminated */
	apply_fail(s, &r, "port p needs a dev");
	strcpy(r.port.dev, "net_null1");
	r.port.mtu = 0;
	apply_fail(s, &r, "mtu must be 68..9216, got 0");
	r.port.mtu = 1500;
	r.port.n_addr = 9;
	apply_fail(s, &r, "port p: at most 8 addresses");
	r.port.n_addr = 1; /* addr[0] left unset */
	apply_fail(s, &r, "port p: address 1 has no family");
	espgw_req_init(&r, ESPGW_REQ_SP_ADD);
	r.sp.action = (enum espgw_sp_action)5;
	assert_int_equal(espgw_prefix_parse("10.0.0.0/8", &r.sp.dst), 0);
	apply_fail(s, &r, "sp: action must be protect, bypass or discard");
	r.sp.action = ESPGW_SP_BYPASS;
	r.sp.proto = 300;
	apply_fail(s, &r, "proto must be any or 0..255");
	espgw_req_init(&r, ESPGW_REQ_SET_CRYPTO_PATH);
	r.crypto_path = ESPGW_CRYPTO_PATH_DEFAULT;
	apply_fail(s, &r, "crypto-path must be auto, cryptodev, cpu or direct");
	espgw_req_init(&r, ESPGW_REQ_SET_BURST);
	r.burst = 0;
	apply_fail(s, &r, "burst must be 1..256, got 0");
	r.type = (enum espgw_req_type)99;
	apply_fail(s, &r, "unknown request type 99");
	/* A NULL err is allowed (the caller only wants the verdict). */
	assert_int_equal(espgw_store_apply(s, &r, NULL), -1);
	assert_int_equal(s->n_ports, 1);
	assert_int_equal(s->n_sps, 0);
}

static void
test_sp_normalized(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req r;

	espgw_req_init(&r, ESPGW_REQ_SP_ADD);
	r.sp.dir = ESPGW_DIR_OUT;
	r.sp.action = ESPGW_SP_DISCARD;
	strcpy(r.sp.sa, "ignored");
	assert_int_equal(espgw_prefix_parse("2001:db8::/32", &r.sp.src), 0);
	apply_ok(s, &r);
	assert_int_equal(s->sps[0].dst.ip.family, ESPGW_AF_INET6);
	assert_int_equal(s->sps[0].dst.len, 0);
	assert_string_equal(s->sps[0].sa, "");
}

static void
test_sa_del(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req r;

	sa_req(&r, "a", ESPGW_DIR_OUT, 0x1001);
	apply_ok(s, &r);
	sa_req(&r, "b", ESPGW_DIR_OUT, 0x1002);
	apply_ok(s, &r);
	sa_req(&r, "c", ESPGW_DIR_IN, 0x1003);
	apply_ok(s, &r);
	espgw_req_init(&r, ESPGW_REQ_SP_ADD);
	r.sp.dir = ESPGW_DIR_IN;
	r.sp.action = ESPGW_SP_PROTECT;
	strcpy(r.sp.sa, "c");
	assert_int_equal(espgw_prefix_parse("10.1.0.0/24", &r.sp.dst), 0);
	apply_ok(s, &r);
	assert_int_equal(espgw_store_sa(s, "c")->inner_family, ESPGW_AF_INET);

	/* In use: it becomes a declaration, keys gone, the policy stays (and drops). */
	espgw_req_init(&r, ESPGW_REQ_SA_DEL);
	strcpy(r.name, "c");
	apply_ok(s, &r);
	assert_true(espgw_store_sa(s, "c")->declared);
	/* A fresh slot: the old one is not reused while the data path may hold it. */
	assert_int_equal(espgw_store_sa(s, "c")->slot, 3);
	assert_int_equal(espgw_store_sa(s, "c")->inner_family, ESPGW_AF_INET);
	assert_true(all_zero(espgw_store_sa(s, "c")->key, ESPGW_KEY_MAX));
	assert_int_equal(s->n_sps, 1);
	apply_fail(s, &r, "SA c is declared for a policy: delete the policy first");
	strcpy(r.name, "b");
	apply_ok(s, &r);
	assert_int_equal(s->n_sas, 2);
	assert_int_equal(espgw_store_sa_index(s, "a"), 0);
	assert_int_equal(espgw_store_sa_index(s, "c"), 1);
	assert_int_equal(espgw_store_sa_index(s, "b"), -1);
	/* The slot behind the last SA held a copy of c's key: wiped. */
	assert_true(all_zero(&s->sas[2], sizeof(s->sas[2])));
	apply_fail(s, &r, "SA b does not exist");
}

static void
test_lookups(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req r;
	struct espgw_ip ip;

	assert_int_equal(espgw_store_port_index(s, "wan0"), 0);
	assert_int_equal(espgw_store_port_index(s, "lan0"), -1);
	assert_null(espgw_store_port(s, "lan0"));
	assert_int_equal(espgw_ip_parse("198.51.100.1", &ip), 0);
	assert_int_equal(espgw_store_port_of_addr(s, &ip), 0);
	assert_int_equal(espgw_ip_parse("198.51.100.2", &ip), 0);
	assert_int_equal(espgw_store_port_of_addr(s, &ip), -1);
	assert_null(espgw_store_crypto(s, "c0"));
	espgw_req_init(&r, ESPGW_REQ_CRYPTO_ADD);
	strcpy(r.crypto.name, "c0");
	strcpy(r.crypto.dev, "crypto_aesni_mb0");
	apply_ok(s, &r);
	assert_int_equal(espgw_store_crypto_index(s, "c0"), 0);
	sa_req(&r, "a", ESPGW_DIR_OUT, 0x1001);
	r.sa.crypto_path = ESPGW_CRYPTO_PATH_CPU;
	apply_ok(s, &r);
	assert_int_equal(espgw_store_sa_crypto_path(s, espgw_store_sa(s, "a")),
			ESPGW_CRYPTO_PATH_CPU);
}

static void
test_wipe_on_grow(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req r;
	char name[8];
	unsigned int i;

	for (i = 0; i < 9; i++) {
		if (i == 8) {
			/* The 9th SA outgrows the first array: the old one must go wiped. */
			assert_int_equal(s->cap_sas, 8);
			watch_block(s->sas, s->cap_sas * sizeof(*s->sas));
		}
		snprintf(name, sizeof(name), "sa%u", i);
		sa_req(&r, name, ESPGW_DIR_OUT, 0x1000 + i);
		apply_ok(s, &r);
	}
	assert_true(watch.freed);
	assert_true(watch.wiped);
	assert_int_equal(s->sas[8].key[0], 0xa5);
}

static void
test_wipe_on_fini(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req r;

	sa_req(&r, "a", ESPGW_DIR_OUT, 0x1001);
	apply_ok(s, &r);
	assert_int_equal(s->sas[0].key[0], 0xa5);
	watch_block(s->sas, s->cap_sas * sizeof(*s->sas));
	espgw_store_fini(s);
	assert_true(watch.freed);
	assert_true(watch.wiped);
	assert_null(s->sas);
	assert_int_equal(s->n_sas, 0);
	/* fini leaves an empty, usable store (teardown calls it again). */
	add_wan(s);
}

static void
sp_req(struct espgw_req *r, const char *name, const char *dst, const char *sa)
{
	espgw_req_init(r, ESPGW_REQ_SP_ADD);
	r->sp.dir = ESPGW_DIR_OUT;
	strcpy(r->sp.name, name);
	assert_int_equal(espgw_prefix_parse(dst, &r->sp.dst), 0);
	if (sa != NULL) {
		r->sp.action = ESPGW_SP_PROTECT;
		strcpy(r->sp.sa, sa);
	} else {
		r->sp.action = ESPGW_SP_BYPASS;
	}
}

/* A copy of everything a rollback must restore, byte for byte. */
struct snap {
	unsigned int n_sas, n_sps;
	struct espgw_sa_conf sas[8];
	struct espgw_sp_conf sps[8];
	uint8_t slot[8];
	struct espgw_global_conf global;
};

static void
snap_take(const struct espgw_store *s, struct snap *p)
{
	memset(p, 0, sizeof(*p));
	p->n_sas = s->n_sas;
	p->n_sps = s->n_sps;
	memcpy(p->sas, s->sas, s->n_sas * sizeof(s->sas[0]));
	memcpy(p->sps, s->sps, s->n_sps * sizeof(s->sps[0]));
	if (s->slot != NULL)
		memcpy(p->slot, s->slot, sizeof(p->slot));
	p->global = s->global;
}

static void
test_rollback(void **state)
{
	struct espgw_store *s = *state;
	struct snap before, after;
	struct espgw_req r;
	unsigned int mark;

	sa_req(&r, "a", ESPGW_DIR_OUT, 0x1001);
	apply_ok(s, &r);
	sp_req(&r, "pa", "10.2.0.0/24", "a");
	apply_ok(s, &r);
	snap_take(s, &before);

	mark = espgw_store_mark(s);
	sa_req(&r, "b", ESPGW_DIR_OUT, 0x1002);
	apply_ok(s, &r);
	espgw_req_init(&r, ESPGW_REQ_SP_SET);
	strcpy(r.sp_set.name, "pa");
	r.sp_set.action = ESPGW_SP_PROTECT;
	strcpy(r.sp_set.sa, "b");
	apply_ok(s, &r);
	espgw_req_init(&r, ESPGW_REQ_SA_DEL);
	strcpy(r.name, "a");
	apply_ok(s, &r);
	sp_req(&r, "pb", "10.3.0.0/24", NULL);
	apply_ok(s, &r);
	espgw_req_init(&r, ESPGW_REQ_SET_BURST);
	r.burst = 8;
	apply_ok(s, &r);
	assert_int_equal(s->n_sas, 1);
	assert_int_equal(s->n_sps, 2);

	espgw_store_rollback(s, mark);
	snap_take(s, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	espgw_store_commit(s);
	assert_false(s->journaling);
	assert_null(s->journal);
}

static void
test_slots(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req r;

	espgw_req_init(&r, ESPGW_REQ_SET_MAX_SA);
	r.max_sa = 2;
	apply_ok(s, &r);
	sa_req(&r, "a", ESPGW_DIR_OUT, 0x1001);
	apply_ok(s, &r);
	sa_req(&r, "b", ESPGW_DIR_OUT, 0x1002);
	apply_ok(s, &r);
	assert_int_equal(espgw_store_sa(s, "b")->slot, 1);
	sa_req(&r, "c", ESPGW_DIR_OUT, 0x1003);
	apply_fail(s, &r, "no SA slot left: 2 SAs installed or retiring (set max-sa)");
	espgw_req_init(&r, ESPGW_REQ_SET_MAX_SA);
	r.max_sa = 4;
	apply_fail(s, &r, "set max-sa must come before the first sa add");

	/* With a data path, a deleted SA's slot waits for its release. */
	s->retire_slots = true;
	espgw_req_init(&r, ESPGW_REQ_SA_DEL);
	strcpy(r.name, "a");
	apply_ok(s, &r);
	assert_int_equal(s->slot[0], ESPGW_SLOT_RETIRING);
	sa_req(&r, "c", ESPGW_DIR_OUT, 0x1003);
	apply_fail(s, &r, "no SA slot left: 2 SAs installed or retiring (set max-sa)");
	espgw_store_slot_release(s, 0);
	apply_ok(s, &r);
	assert_int_equal(espgw_store_sa(s, "c")->slot, 0);
}

static void
test_declare(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req r;

	espgw_req_init(&r, ESPGW_REQ_SA_DECLARE);
	strcpy(r.sa_decl.name, "d");
	r.sa_decl.dir = ESPGW_DIR_OUT;
	apply_ok(s, &r);
	apply_fail(s, &r, "SA d already exists");
	sp_req(&r, "pd", "10.2.0.0/24", "d");
	apply_ok(s, &r);
	assert_int_equal(espgw_store_sa(s, "d")->inner_family, ESPGW_AF_INET);
	sa_req(&r, "d", ESPGW_DIR_IN, 0x1001);
	apply_fail(s, &r, "SA d was declared outbound");
	/* Installing the declared name keeps what the policy bound. */
	sa_req(&r, "d", ESPGW_DIR_OUT, 0x1001);
	apply_ok(s, &r);
	assert_false(espgw_store_sa(s, "d")->declared);
	assert_int_equal(espgw_store_sa(s, "d")->slot, 1); /* the declaration's was 0 */
	assert_int_equal(espgw_store_sa(s, "d")->inner_family, ESPGW_AF_INET);
	apply_fail(s, &r, "SA d already exists");
}

static void
test_sp_del_set(void **state)
{
	struct espgw_store *s = *state;
	struct espgw_req r;

	sa_req(&r, "a", ESPGW_DIR_OUT, 0x1001);
	apply_ok(s, &r);
	sp_req(&r, "p1", "10.2.0.0/24", "a");
	apply_ok(s, &r);
	sp_req(&r, "p1", "10.3.0.0/24", NULL);
	apply_fail(s, &r, "policy p1 already exists");
	sp_req(&r, "", "10.3.0.0/24", NULL);
	apply_ok(s, &r);

	espgw_req_init(&r, ESPGW_REQ_SP_SET);
	strcpy(r.sp_set.name, "p1");
	r.sp_set.action = ESPGW_SP_PROTECT;
	strcpy(r.sp_set.sa, "nosuch");
	apply_fail(s, &r, "SA nosuch does not exist");
	r.sp_set.action = ESPGW_SP_DISCARD;
	apply_ok(s, &r);
	assert_int_equal(s->sps[0].action, ESPGW_SP_DISCARD);
	assert_string_equal(s->sps[0].sa, "");

	/* By selectors: the unnamed one. */
	espgw_req_init(&r, ESPGW_REQ_SP_DEL);
	r.sp_ref.sp.dir = ESPGW_DIR_OUT;
	assert_int_equal(espgw_prefix_parse("10.3.0.0/24", &r.sp_ref.sp.dst), 0);
	apply_ok(s, &r);
	apply_fail(s, &r, "no policy with that direction, priority and selectors");
	espgw_req_init(&r, ESPGW_REQ_SP_DEL);
	strcpy(r.sp_ref.name, "p1");
	apply_ok(s, &r);
	apply_fail(s, &r, "policy p1 does not exist");
	assert_int_equal(s->n_sps, 0);
}

static void
sp_set_req(struct espgw_req *r, const char *name, enum espgw_sp_action action, const char *sa)
{
	espgw_req_init(r, ESPGW_REQ_SP_SET);
	strcpy(r->sp_set.name, name);
	r->sp_set.action = action;
	strcpy(r->sp_set.sa, sa);
}

static void
sa_del_req(struct espgw_req *r, const char *name)
{
	espgw_req_init(r, ESPGW_REQ_SA_DEL);
	strcpy(r->name, name);
}

static const char *
prev_of(const struct espgw_store *s, const char *sp)
{
	int i = espgw_store_sp_index(s, sp);

	assert_true(i >= 0);
	return s->sps[i].prev_sa;
}

/*
 * An inbound policy switched by "sp set" from one SA to another keeps
 * accepting the one before until it is deleted (store_sp.c sp_prev): set by
 * the store alone, one SA deep, forgotten with the SA (a later SA of the
 * same name is not it), restored by a rollback, never outbound.
 */
static void
test_sp_prev(void **state)
{
	struct espgw_store *s = *state;
	struct snap before, after;
	struct espgw_req r;
	unsigned int mark;

	sa_req(&r, "a", ESPGW_DIR_IN, 0x2001);
	apply_ok(s, &r);
	sa_req(&r, "b", ESPGW_DIR_IN, 0x2002);
	apply_ok(s, &r);
	sa_req(&r, "c", ESPGW_DIR_IN, 0x2003);
	apply_ok(s, &r);
	sp_req(&r, "pi", "10.2.0.0/24", "a");
	r.sp.dir = ESPGW_DIR_IN;
	strcpy(r.sp.prev_sa, "c"); /* a request cannot set it */
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "");

	sp_set_req(&r, "pi", ESPGW_SP_PROTECT, "b");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "a");
	assert_int_equal(espgw_store_ix_sp_prev(s, "a"), espgw_store_sp_index(s, "pi"));
	apply_ok(s, &r); /* the same SA again: still a */
	assert_string_equal(prev_of(s, "pi"), "a");
	sp_set_req(&r, "pi", ESPGW_SP_PROTECT, "c");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "b");
	assert_int_equal(espgw_store_ix_sp_prev(s, "a"), -1);

	/* Undone exactly, the index too. */
	snap_take(s, &before);
	mark = espgw_store_mark(s);
	sa_del_req(&r, "b");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "");
	sp_set_req(&r, "pi", ESPGW_SP_PROTECT, "a");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "c");
	espgw_store_rollback(s, mark);
	espgw_store_commit(s);
	snap_take(s, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(espgw_store_ix_sp_prev(s, "b"), espgw_store_sp_index(s, "pi"));

	/* Deleted, then added again under its name: not the SA that ran. */
	sa_del_req(&r, "b");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "");
	assert_int_equal(espgw_store_ix_sp_prev(s, "b"), -1);
	sa_req(&r, "b", ESPGW_DIR_IN, 0x2004);
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "");

	/* Bypass or discard accepts no SA; nor does a declaration carry one. */
	sp_set_req(&r, "pi", ESPGW_SP_PROTECT, "b");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "c");
	sp_set_req(&r, "pi", ESPGW_SP_BYPASS, "");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "");
	sp_set_req(&r, "pi", ESPGW_SP_PROTECT, "a");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "");
	espgw_req_init(&r, ESPGW_REQ_SA_DECLARE);
	strcpy(r.sa_decl.name, "d");
	r.sa_decl.dir = ESPGW_DIR_IN;
	apply_ok(s, &r);
	sp_set_req(&r, "pi", ESPGW_SP_PROTECT, "d");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "a");
	sp_set_req(&r, "pi", ESPGW_SP_PROTECT, "c");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "pi"), "");

	/* Outbound: the switch is all there is. */
	sa_req(&r, "o1", ESPGW_DIR_OUT, 0x3001);
	apply_ok(s, &r);
	sa_req(&r, "o2", ESPGW_DIR_OUT, 0x3002);
	apply_ok(s, &r);
	sp_req(&r, "po", "10.3.0.0/24", "o1");
	apply_ok(s, &r);
	sp_set_req(&r, "po", ESPGW_SP_PROTECT, "o2");
	apply_ok(s, &r);
	assert_string_equal(prev_of(s, "po"), "");
}

/* What the index must answer, found the slow way. */
static int
scan_sa(const struct espgw_store *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n_sas; i++)
		if (strcmp(s->sas[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool
scan_spi_used(const struct espgw_store *s, enum espgw_dir dir, uint32_t spi)
{
	unsigned int i;

	for (i = 0; i < s->n_sas; i++)
		if (!s->sas[i].declared && s->sas[i].dir == dir && s->sas[i].spi == spi)
			return true;
	return false;
}

static int
scan_sp(const struct espgw_store *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n_sps && name[0] != '\0'; i++)
		if (strcmp(s->sps[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool
scan_sa_used(const struct espgw_store *s, const char *sa)
{
	unsigned int i;

	for (i = 0; i < s->n_sps; i++)
		if (s->sps[i].action == ESPGW_SP_PROTECT && strcmp(s->sps[i].sa, sa) == 0)
			return true;
	return false;
}

static void
index_check(const struct espgw_store *s, unsigned int pool)
{
	char name[16];
	unsigned int k, i;
	int p;

	for (k = 0; k < pool; k++) {
		snprintf(name, sizeof(name), "x%u", k);
		assert_int_equal(espgw_store_sa_index(s, name), scan_sa(s, name));
		assert_int_equal(espgw_store_ix_sp_using(s, name) >= 0, scan_sa_used(s, name));
		snprintf(name, sizeof(name), "p%u", k);
		assert_int_equal(espgw_store_sp_index(s, name), scan_sp(s, name));
		for (i = 0; i < 2; i++)
			assert_int_equal(espgw_store_ix_sa_spi(s, (enum espgw_dir)i, 0x1000 + k) >=
							 0,
					scan_spi_used(s, (enum espgw_dir)i, 0x1000 + k));
	}
	for (i = 0; i < s->n_sas; i++)
		assert_ptr_equal(espgw_store_sa_of_slot(s, s->sas[i].slot), &s->sas[i]);
	for (i = 0; i < s->n_sps; i++) {
		p = espgw_store_ix_sp_rule(s, &s->sps[i]);
		assert_true(p >= 0);
		assert_int_equal(s->sps[p].dst.len, s->sps[i].dst.len);
		assert_memory_equal(&s->sps[p].dst.ip, &s->sps[i].dst.ip, sizeof(s->sps[i].dst.ip));
	}
}

/* One random request on a small pool of names, SPIs and selectors (most collide). */
static void
random_req(struct espgw_req *r, unsigned int pool)
{
	char name[16], sa[16], dst[32];
	unsigned int op = (unsigned int)rand() % 6, k = (unsigned int)rand() % pool;

	snprintf(name, sizeof(name), "x%u", k);
	snprintf(sa, sizeof(sa), "x%u", (unsigned int)rand() % pool);
	snprintf(dst, sizeof(dst), "10.%u.0.0/24", (unsigned int)rand() % pool);
	if (op == 0) {
		sa_req(r, name, (enum espgw_dir)(rand() % 2), 0x1000 + (unsigned int)rand() % pool);
	} else if (op == 1) {
		espgw_req_init(r, ESPGW_REQ_SA_DEL);
		strcpy(r->name, name);
	} else if (op == 2) {
		if (rand() % 2)
			snprintf(name, sizeof(name), "p%u", k);
		else
			name[0] = '\0';
		sp_req(r, name, dst, rand() % 3 ? sa : NULL);
	} else if (op == 3) {
		espgw_req_init(r, ESPGW_REQ_SP_DEL);
		snprintf(r->sp_ref.name, sizeof(r->sp_ref.name), "p%u", k);
	} else if (op == 4) {
		espgw_req_init(r, ESPGW_REQ_SP_DEL);
		r->sp_ref.sp.dir = ESPGW_DIR_OUT;
		assert_int_equal(espgw_prefix_parse(dst, &r->sp_ref.sp.dst), 0);
	} else {
		espgw_req_init(r, ESPGW_REQ_SP_SET);
		snprintf(r->sp_set.name, sizeof(r->sp_set.name), "p%u", k);
		r->sp_set.action = ESPGW_SP_PROTECT;
		strcpy(r->sp_set.sa, sa);
	}
}

/*
 * The hashed lookups against a scan after every request of random
 * transactions, half of them rolled back (undo goes through the index too).
 */
static void
test_index_random(void **state)
{
	struct espgw_store *s = *state;
	unsigned int t, i, mark, pool = 24;
	struct espgw_req r;
	struct espgw_err err;

	srand(7);
	for (t = 0; t < 3000; t++) {
		mark = espgw_store_mark(s);
		for (i = 0; i < 1 + (unsigned int)rand() % 8; i++) {
			random_req(&r, pool);
			(void)espgw_store_apply(s, &r, &err);
			index_check(s, pool);
		}
		if (rand() % 2)
			espgw_store_rollback(s, mark);
		espgw_store_commit(s);
		index_check(s, pool);
	}
	assert_true(s->n_sas > 0 && s->n_sps > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_req_defaults),
			cmocka_unit_test(test_name_valid),
			cmocka_unit_test_setup_teardown(
					test_sa_checks_beyond_parser, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_other_checks_beyond_parser, setup, teardown),
			cmocka_unit_test_setup_teardown(test_sp_normalized, setup, teardown),
			cmocka_unit_test_setup_teardown(test_sa_del, setup, teardown),
			cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
			cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
			cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
			cmocka_unit_test_setup_teardown(test_declare, setup, teardown),
			cmocka_unit_test_setup_teardown(test_sp_del_set, setup, teardown),
			cmocka_unit_test_setup_teardown(test_sp_prev, setup, teardown),
			cmocka_unit_test_setup_teardown(test_index_random, setup, teardown),
			cmocka_unit_test_setup_teardown(test_wipe_on_grow, setup, teardown),
			cmocka_unit_test_setup_teardown(test_wipe_on_fini, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
