/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPD tests on a real EAL: rule precedence (priorities, ties, overlaps, port
 * ranges on network-order keys) for both families, selector extraction from
 * crafted headers, and a 10,000-rule build. The store is filled by hand.
 * The rule tests run twice: on rte_acl alone and with every rule set
 * classified by scan (spd_scan.h); test_scan_vs_acl compares the two on
 * random small rule sets and keys at their boundaries.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "espgw_spd.h"
#include "spd_sa.h"
#include "spd_scan.h"
#include "store_int.h"

#define ANYP   0, 65535
#define SA(i)  ((uint32_t)(i) + 1)
#define BYP    ESPGW_SPD_BYPASS
#define DISC   ESPGW_SPD_DISCARD
#define NONE   ESPGW_SPD_NO_MATCH
#define OUT    ESPGW_DIR_OUT
#define IN     ESPGW_DIR_IN
#define PROT   ESPGW_SP_PROTECT
#define BYPASS ESPGW_SP_BYPASS
#define DROP   ESPGW_SP_DISCARD

struct sp_spec {
	enum espgw_dir dir;
	uint32_t prio;
	const char *src, *dst; /* NULL: any address of any family */
	int16_t proto;
	uint16_t sp_lo, sp_hi, dp_lo, dp_hi;
	enum espgw_sp_action act;
	const char *sa;
};

struct key_case {
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
	uint32_t want;
};

static struct espgw_store store;
/* What build() uses: set by each group's setup (rte_acl alone, scan, buckets). */
static unsigned int scan_max;
static bool buckets;

/* The store is filled through its elementary changes: its lookups are indexed. */
static void
store_reset(void)
{
	espgw_store_fini(&store);
}

static void
sa_add(const char *name, enum espgw_dir dir)
{
	struct espgw_sa_conf sa = {.dir = dir, .slot = store.n_sas}; /* results are slot + 1 */

	snprintf(sa.name, sizeof(sa.name), "%s", name);
	assert_int_equal(espgw_store_arr_insert(&store, ESPGW_ARR_SAS, store.n_sas, &sa), 0);
}

static void
prefix_set(struct espgw_prefix *p, const char *s)
{
	memset(p, 0, sizeof(*p));
	if (s != NULL)
		assert_int_equal(espgw_prefix_parse(s, p), 0);
}

static void
sp_add(const struct sp_spec *x)
{
	struct espgw_sp_conf spc, *sp = &spc;

	memset(sp, 0, sizeof(*sp));
	sp->dir = x->dir;
	sp->priority = x->prio;
	prefix_set(&sp->src, x->src);
	prefix_set(&sp->dst, x->dst);
	sp->proto = x->proto;
	sp->sport_lo = x->sp_lo;
	sp->sport_hi = x->sp_hi;
	sp->dport_lo = x->dp_lo;
	sp->dport_hi = x->dp_hi;
	sp->action = x->act;
	snprintf(sp->sa, sizeof(sp->sa), "%s", x->sa != NULL ? x->sa : "");
	assert_int_equal(espgw_store_arr_insert(&store, ESPGW_ARR_SPS, store.n_sps, sp), 0);
}

static void
sps_add(const struct sp_spec *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sp_add(&x[i]);
}

static struct espgw_spd *
build(enum espgw_dir dir, const char *tag)
{
	struct espgw_err err = {{0}};
	struct espgw_spd *spd = espgw_spd_build_with(
			&store, dir, SOCKET_ID_ANY, tag, scan_max, buckets, &err);

	if (spd == NULL)
		fail_msg("spd build: %s", err.msg);
	return spd;
}

static void
key4(struct espgw_spd_key4 *k, const struct key_case *c)
{
	memset(k, 0, sizeof(*k));
	k->proto = c->proto;
	assert_int_equal(inet_pton(AF_INET, c->src, &k->src), 1);
	assert_int_equal(inet_pton(AF_INET, c->dst, &k->dst), 1);
	k->sport = htons(c->sport);
	k->dport = htons(c->dport);
}

static void
key6(struct espgw_spd_key6 *k, const struct key_case *c)
{
	memset(k, 0, sizeof(*k));
	k->proto = c->proto;
	assert_int_equal(inet_pton(AF_INET6, c->src, k->src), 1);
	assert_int_equal(inet_pton(AF_INET6, c->dst, k->dst), 1);
	k->sport = htons(c->sport);
	k->dport = htons(c->dport);
}

static void
expect_results(const struct key_case *c, const uint32_t *res, size_t n)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		if (res[i] == c[i].want)
			continue;
		print_error("case %zu: %s -> %s proto %u %u->%u: got %#x want %#x\n", i, c[i].src,
				c[i].dst, c[i].proto, c[i].sport, c[i].dport, res[i], c[i].want);
		bad++;
	}
	assert_int_equal(bad, 0);
}

/* Classify every case in one burst (so the ACL's multi-flow paths run too). */
static void
check4(const struct espgw_spd *spd, const struct key_case *c, size_t n)
{
	struct espgw_spd_key4 k[64];
	const struct espgw_spd_key4 *kp[64];
	uint32_t res[64];
	size_t i;

	assert_true(n <= 64);
	for (i = 0; i < n; i++) {
		key4(&k[i], &c[i]);
		kp[i] = &k[i];
	}
	espgw_spd_classify4(spd, kp, res, (uint32_t)n);
	expect_results(c, res, n);
}

static void
check6(const struct espgw_spd *spd, const struct key_case *c, size_t n)
{
	struct espgw_spd_key6 k[64];
	const struct espgw_spd_key6 *kp[64];
	uint32_t res[64];
	size_t i;

	assert_true(n <= 64);
	for (i = 0; i < n; i++) {
		key6(&k[i], &c[i]);
		kp[i] = &k[i];
	}
	espgw_spd_classify6(spd, kp, res, (uint32_t)n);
	expect_results(c, res, n);
}

/* SAs 0..2 outbound, 3 inbound, 4 outbound IPv6. */
static void
sas_default(void)
{
	store_reset();
	sa_add("out-a", OUT);
	sa_add("out-b", OUT);
	sa_add("out-c", OUT);
	sa_add("in-a", IN);
	sa_add("out-v6", OUT);
}

static const struct sp_spec rules4[] = {
		{OUT, 10, "10.0.1.0/24", "10.0.2.0/24", -1, ANYP, ANYP, PROT, "out-a"},
		/* Overlaps the rule above with better priority, high ports only. */
		{OUT, 5, "10.0.1.0/24", "10.0.2.128/25", 17, ANYP, 1024, 65535, PROT, "out-b"},
		{OUT, 5, "10.0.1.0/24", "10.0.2.0/24", 6, ANYP, 22, 22, BYPASS, NULL},
		{OUT, 1, "10.0.1.7/32", "10.0.2.0/24", 1, 8, 8, ANYP, DROP, NULL},
		/* A tie: same priority, same selectors: the first defined wins. */
		{OUT, 20, "10.0.3.0/24", "0.0.0.0/0", -1, ANYP, ANYP, DROP, NULL},
		{OUT, 20, "10.0.3.0/24", "0.0.0.0/0", -1, ANYP, ANYP, BYPASS, NULL},
		/* Defined later but with a better priority: it wins. */
		{OUT, 15, "10.0.4.0/24", "0.0.0.0/0", -1, ANYP, ANYP, BYPASS, NULL},
		{OUT, 14, "10.0.4.0/24", "0.0.0.0/0", -1, ANYP, ANYP, PROT, "out-c"},
		/* Host bits in the prefix must not narrow it. */
		{OUT, 30, "0.0.0.0/0", "192.0.2.77/24", -1, ANYP, ANYP, BYPASS, NULL},
		/* Source port range. */
		{OUT, 40, "10.0.6.0/24", "0.0.0.0/0", 17, 4096, 8191, ANYP, PROT, "out-c"},
		/* Another direction: never in the outbound SPD. */
		{IN, 1000, "0.0.0.0/0", "0.0.0.0/0", -1, ANYP, ANYP, DROP, NULL},
};

static const struct key_case keys4[] = {
		{"10.0.1.5", "10.0.2.200", 17, 5000, 4500, SA(1)},
		{"10.0.1.5", "10.0.2.200", 17, 5000, 1024, SA(1)},
		{"10.0.1.5", "10.0.2.200", 17, 5000, 65535, SA(1)},
		{"10.0.1.5", "10.0.2.200", 17, 5000, 1023, SA(0)},
		/* 4096 is 0x1000: read in the wrong byte order it would be 16. */
		{"10.0.1.5", "10.0.2.200", 17, 5000, 4096, SA(1)},
		{"10.0.1.5", "10.0.2.200", 17, 5000, 16, SA(0)},
		{"10.0.1.5", "10.0.2.100", 17, 5000, 4500, SA(0)},
		{"10.0.1.5", "10.0.2.200", 6, 5000, 4500, SA(0)},
		{"10.0.1.5", "10.0.2.5", 6, 40000, 22, BYP},
		{"10.0.1.5", "10.0.2.5", 6, 40000, 23, SA(0)},
		{"10.0.1.7", "10.0.2.5", 1, 8, 0, DISC},
		{"10.0.1.7", "10.0.2.5", 1, 0, 0, SA(0)},
		{"10.0.1.8", "10.0.2.5", 1, 8, 0, SA(0)},
		{"10.0.3.1", "8.8.8.8", 17, 1, 2, DISC},
		{"10.0.4.1", "8.8.8.8", 17, 1, 2, SA(2)},
		{"10.9.9.9", "192.0.2.1", 6, 1, 2, BYP},
		{"10.9.9.9", "192.0.2.255", 6, 1, 2, BYP},
		{"10.9.9.9", "192.0.3.1", 6, 1, 2, NONE},
		{"10.0.6.1", "8.8.8.8", 17, 4096, 53, SA(2)},
		{"10.0.6.1", "8.8.8.8", 17, 8191, 53, SA(2)},
		{"10.0.6.1", "8.8.8.8", 17, 8192, 53, NONE},
		{"10.0.6.1", "8.8.8.8", 17, 4095, 53, NONE},
		{"10.0.6.1", "8.8.8.8", 6, 5000, 53, NONE},
};

static void
test_classify4(void **state)
{
	struct espgw_spd *spd;

	(void)state;
	sas_default();
	sps_add(rules4, RTE_DIM(rules4));
	spd = build(OUT, "t4");
	assert_int_equal(espgw_spd_rules4(spd), RTE_DIM(rules4) - 1);
	assert_int_equal(espgw_spd_rules6(spd), 0);
	check4(spd, keys4, RTE_DIM(keys4));
	espgw_spd_free(spd);
}

static const struct sp_spec rules6[] = {
		{OUT, 10, "2001:db8:1::/48", "2001:db8:2::/64", -1, ANYP, ANYP, PROT, "out-v6"},
		{OUT, 5, "2001:db8:1::/48", "2001:db8:2::/64", 17, ANYP, 500, 500, BYPASS, NULL},
		/* /65 crosses a 32-bit word boundary of the ACL fields. */
		{OUT, 7, "2001:db8:1:0:8000::/65", "2001:db8:2::/64", -1, ANYP, ANYP, DROP, NULL},
		{OUT, 3, "::/0", "2001:db8:2::1/128", -1, ANYP, ANYP, BYPASS, NULL},
		{OUT, 20, "2001:db8:3::/48", "::/0", 58, 128, 129, ANYP, BYPASS, NULL},
		{OUT, 21, "2001:db8:3::/48", "::/0", -1, ANYP, ANYP, DROP, NULL},
		{OUT, 22, "2001:db8:3::/48", "::/0", -1, ANYP, ANYP, BYPASS, NULL},
};

static const struct key_case keys6[] = {
		{"2001:db8:1::5", "2001:db8:2::99", 6, 1000, 80, SA(4)},
		{"2001:db8:1::5", "2001:db8:2::99", 17, 1000, 500, BYP},
		{"2001:db8:1::5", "2001:db8:2::99", 17, 1000, 501, SA(4)},
		{"2001:db8:1:0:8000::5", "2001:db8:2::99", 6, 1000, 80, DISC},
		{"2001:db8:1:0:7fff::5", "2001:db8:2::99", 6, 1000, 80, SA(4)},
		{"2001:db8:1:1:8000::5", "2001:db8:2::99", 6, 1000, 80, SA(4)},
		{"2001:db8:1::5", "2001:db8:2::1", 6, 1000, 80, BYP},
		{"2001:db8:1::5", "2001:db8:2::2", 6, 1000, 80, SA(4)},
		{"2001:db8:1::5", "2001:db8:2:1::99", 6, 1000, 80, NONE},
		{"2001:db8:3::1", "2001:db8:9::1", 58, 128, 0, BYP},
		{"2001:db8:3::1", "2001:db8:9::1", 58, 1, 4, DISC},
		{"2001:db8:3::1", "2001:db8:9::1", 17, 1, 4, DISC},
		{"2001:db8:4::1", "2001:db8:2::99", 6, 1000, 80, NONE},
};

static void
test_classify6(void **state)
{
	struct espgw_spd *spd;

	(void)state;
	sas_default();
	sps_add(rules6, RTE_DIM(rules6));
	spd = build(OUT, "t6");
	assert_int_equal(espgw_spd_rules4(spd), 0);
	assert_int_equal(espgw_spd_rules6(spd), RTE_DIM(rules6));
	check6(spd, keys6, RTE_DIM(keys6));
	espgw_spd_free(spd);
}

/* Both families in one SPD, plus a rule without addresses that serves both. */
static void
test_both_families(void **state)
{
	static const struct sp_spec any = {OUT, 100, NULL, NULL, 17, ANYP, 53, 53, BYPASS, NULL};
	static const struct key_case k4[] = {
			{"10.0.1.5", "10.0.2.200", 17, 5000, 4500, SA(1)},
			{"10.7.7.7", "10.8.8.8", 17, 5000, 53, BYP},
			{"10.7.7.7", "10.8.8.8", 17, 5000, 54, NONE},
	};
	static const struct key_case k6[] = {
			{"2001:db8:1::5", "2001:db8:2::99", 6, 1000, 80, SA(4)},
			{"2001:db8:7::7", "2001:db8:8::8", 17, 5000, 53, BYP},
			{"2001:db8:7::7", "2001:db8:8::8", 6, 5000, 53, NONE},
	};
	struct espgw_spd *spd;

	(void)state;
	sas_default();
	sps_add(rules4, RTE_DIM(rules4));
	sps_add(rules6, RTE_DIM(rules6));
	sp_add(&any);
	spd = build(OUT, "both");
	assert_int_equal(espgw_spd_rules4(spd), RTE_DIM(rules4));
	assert_int_equal(espgw_spd_rules6(spd), RTE_DIM(rules6) + 1);
	/* The last five keys4 go to UDP port 53, which the new rule bypasses. */
	check4(spd, keys4, RTE_DIM(keys4) - 5);
	check4(spd, k4, RTE_DIM(k4));
	check6(spd, k6, RTE_DIM(k6));
	espgw_spd_free(spd);
}

static void
test_direction(void **state)
{
	static const struct sp_spec in[] = {
			{IN, 5, "10.0.2.0/24", "10.0.1.0/24", -1, ANYP, ANYP, PROT, "in-a"},
	};
	static const struct key_case k[] = {
			{"10.0.2.1", "10.0.1.1", 6, 1, 2, SA(3)},
			{"10.0.1.5", "10.0.2.200", 17, 5000, 4500, DISC},
	};
	struct espgw_spd *spd;

	(void)state;
	sas_default();
	sps_add(rules4, RTE_DIM(rules4));
	sps_add(in, RTE_DIM(in));
	spd = build(IN, "in");
	assert_int_equal(espgw_spd_rules4(spd), 2);
	check4(spd, k, RTE_DIM(k));
	espgw_spd_free(spd);
}

static void
test_no_rules(void **state)
{
	static const struct key_case k4[] = {{"10.0.1.5", "10.0.2.200", 17, 1, 2, NONE}};
	static const struct key_case k6[] = {{"2001:db8::1", "2001:db8::2", 17, 1, 2, NONE}};
	struct espgw_spd *spd;

	(void)state;
	sas_default();
	spd = build(OUT, "empty");
	assert_int_equal(espgw_spd_rules4(spd), 0);
	assert_int_equal(espgw_spd_rules6(spd), 0);
	check4(spd, k4, 1);
	check6(spd, k6, 1);
	espgw_spd_free(spd);
}

static void
expect_build_error(enum espgw_dir dir)
{
	struct espgw_err err = {{0}};

	assert_null(espgw_spd_build_with(
			&store, dir, SOCKET_ID_ANY, "bad", scan_max, buckets, &err));
	assert_true(err.msg[0] != '\0');
}

static void
test_errors(void **state)
{
	static const struct sp_spec unknown = {
			OUT, 1, "10.0.0.0/8", NULL, -1, ANYP, ANYP, PROT, "nope"};
	static const struct sp_spec wrong_dir = {
			OUT, 1, "10.0.0.0/8", NULL, -1, ANYP, ANYP, PROT, "in-a"};
	static const struct sp_spec mixed = {
			OUT, 1, "10.0.0.0/8", "2001:db8::/32", -1, ANYP, ANYP, BYPASS, NULL};

	(void)state;
	sas_default();
	sp_add(&unknown);
	expect_build_error(OUT);
	sas_default();
	sp_add(&wrong_dir);
	expect_build_error(OUT);
	sas_default();
	sp_add(&mixed);
	expect_build_error(OUT);
}

/* A rebuilt SPD coexists with the old one (RCU swap): unique context names. */
static void
test_coexist(void **state)
{
	struct key_case k = keys4[3]; /* matches rules4[0] */
	struct espgw_sp_conf sp;
	struct espgw_spd *a, *b;

	(void)state;
	sas_default();
	sps_add(rules4, RTE_DIM(rules4));
	a = build(OUT, "same");
	sp = store.sps[0];
	sp.action = BYPASS; /* the new version differs */
	assert_int_equal(espgw_store_arr_set(&store, ESPGW_ARR_SPS, 0, &sp), 0);
	b = build(OUT, "same");
	check4(a, &k, 1);
	k.want = BYP;
	check4(b, &k, 1);
	espgw_spd_free(a);
	check4(b, keys4, 1);
	espgw_spd_free(b);
}

/*
 * 10,000 rules: rule i protects 10.(i/256).(i%256).0/24 -> 172.16.0.0/12, UDP
 * dport 1000+i%100..60000 with SA i%100; a better bypass for dport 53 from
 * 10/8 and a catch-all discard. 1000 pseudo-random keys check the result.
 */
#define SCALE_RULES 10000
#define SCALE_SAS   100
#define SCALE_KEYS  1000

static void
scale_rules(void)
{
	static const struct sp_spec dns = {
			OUT, 50, "10.0.0.0/8", "172.16.0.0/12", 17, ANYP, 53, 53, BYPASS, NULL};
	static const struct sp_spec all = {
			OUT, 0xffffff, "0.0.0.0/0", "0.0.0.0/0", -1, ANYP, ANYP, DROP, NULL};
	char src[32], sa[16];
	struct sp_spec r = {OUT, 100, src, "172.16.0.0/12", 17, ANYP, 0, 60000, PROT, sa};
	unsigned int i;

	store_reset();
	for (i = 0; i < SCALE_SAS; i++) {
		snprintf(sa, sizeof(sa), "sa%u", i);
		sa_add(sa, OUT);
	}
	for (i = 0; i < SCALE_RULES; i++) {
		snprintf(src, sizeof(src), "10.%u.%u.0/24", i >> 8, i & 255);
		snprintf(sa, sizeof(sa), "sa%u", i % SCALE_SAS);
		r.dp_lo = (uint16_t)(1000 + i % 100);
		sp_add(&r);
	}
	sp_add(&dns);
	sp_add(&all);
}

static uint32_t
lcg(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

static uint32_t
scale_key(struct espgw_spd_key4 *k, uint32_t *seed, unsigned int j)
{
	uint32_t i = lcg(seed) % SCALE_RULES;

	memset(k, 0, sizeof(*k));
	k->proto = 17;
	k->src = htonl(0x0a000000u | i << 8 | (lcg(seed) & 255));
	k->dst = htonl(0xac100000u | (lcg(seed) & 0xfffff));
	k->sport = htons((uint16_t)lcg(seed));
	k->dport = htons((uint16_t)(1100 + lcg(seed) % 58900));
	if (j % 10 == 0) {
		k->dport = htons(53);
		return BYP;
	}
	if (j % 17 == 0) {
		k->dport = htons(61000);
		return DISC;
	}
	if (j % 23 == 0) {
		k->dst = htonl(0xac200001u); /* 172.32.0.1: outside 172.16/12 */
		return DISC;
	}
	return SA(i % SCALE_SAS);
}

static void
test_scale(void **state)
{
	static struct espgw_spd_key4 k[SCALE_KEYS];
	static const struct espgw_spd_key4 *kp[SCALE_KEYS];
	static uint32_t want[SCALE_KEYS], res[SCALE_KEYS];
	struct timespec t0, t1;
	struct espgw_spd *spd;
	uint32_t seed = 42, j, bad = 0;
	double secs;

	(void)state;
	scale_rules();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	spd = build(OUT, "scale");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("%u rules built in %.2f s (%s)\n", espgw_spd_rules4(spd), secs,
			espgw_spd_classifier4(spd));
	assert_int_equal(espgw_spd_rules4(spd), SCALE_RULES + 2);
	assert_true(secs < 10.0);
	for (j = 0; j < SCALE_KEYS; j++) {
		want[j] = scale_key(&k[j], &seed, j);
		kp[j] = &k[j];
	}
	espgw_spd_classify4(spd, kp, res, SCALE_KEYS);
	for (j = 0; j < SCALE_KEYS; j++)
		bad += res[j] != want[j];
	assert_int_equal(bad, 0);
	espgw_spd_free(spd);
}

/* ---- the scan against rte_acl ---- */

#define DIFF_SETS      400
#define DIFF_KEYS      64
#define DIFF_RULES_MAX 64 /* the scan's limit when a test scans every set */

static const uint16_t diff_ports[] = {0, 1, 53, 500, 1023, 1024, 4096, 4500, 65534, 65535};
static const int16_t diff_protos[] = {-1, -1, 0, 1, 6, 17, 58, 255};

/* A random prefix of family fam near one of a few bases, so that rules overlap. */
static void
diff_prefix(struct espgw_prefix *p, int fam, uint32_t *seed)
{
	static const uint8_t base4[][4] = {{10, 0, 0, 0}, {10, 0, 1, 0}, {10, 1, 0, 0}};
	static const uint8_t base6[][4] = {{0x20, 0x01, 0x0d, 0xb8}, {0x20, 0x01, 0x0d, 0xb9}};
	unsigned int i, size = fam == ESPGW_AF_INET ? 4 : 16;

	memset(p, 0, sizeof(*p));
	if (fam == 0 || lcg(seed) % 6 == 0)
		return; /* any address */
	p->ip.family = (uint8_t)fam;
	memcpy(p->ip.bytes, fam == ESPGW_AF_INET ? base4[lcg(seed) % 3] : base6[lcg(seed) % 2], 4);
	for (i = 4; i < size; i++)
		p->ip.bytes[i] = lcg(seed) % 4 == 0 ? (uint8_t)lcg(seed) : 0;
	p->ip.bytes[lcg(seed) % size] ^= (uint8_t)(1u << lcg(seed) % 8);
	p->len = (uint8_t)(lcg(seed) % (8 * size + 1));
}

static void
diff_range(uint16_t *lo, uint16_t *hi, uint32_t *seed)
{
	uint16_t a = diff_ports[lcg(seed) % RTE_DIM(diff_ports)];
	uint16_t b = diff_ports[lcg(seed) % RTE_DIM(diff_ports)];

	if (lcg(seed) % 2 == 0) {
		*lo = 0;
		*hi = 65535;
		return;
	}
	*lo = RTE_MIN(a, b);
	*hi = RTE_MAX(a, b);
}

static void
diff_rule(struct espgw_sp_conf *sp, uint32_t *seed)
{
	static const int fams[] = {ESPGW_AF_INET, ESPGW_AF_INET6, 0};
	static const char *const sas[] = {"out-a", "out-b", "out-v6"};
	int fam = fams[lcg(seed) % 3];

	memset(sp, 0, sizeof(*sp));
	sp->dir = OUT;
	sp->priority = lcg(seed) % 6; /* ties on purpose: definition order breaks them */
	diff_prefix(&sp->src, fam, seed);
	diff_prefix(&sp->dst, fam, seed);
	sp->proto = diff_protos[lcg(seed) % RTE_DIM(diff_protos)];
	diff_range(&sp->sport_lo, &sp->sport_hi, seed);
	diff_range(&sp->dport_lo, &sp->dport_hi, seed);
	sp->action = (enum espgw_sp_action)(lcg(seed) % 3);
	if (sp->action == PROT)
		snprintf(sp->sa, sizeof(sp->sa), "%s", sas[lcg(seed) % 3]);
}

/* An address inside p, or just outside it: the bit before its boundary flipped. */
static void
diff_addr(uint8_t *a, const struct espgw_prefix *p, unsigned int size, uint32_t *seed)
{
	unsigned int i, bit;
	uint8_t keep; /* the prefix's bits in byte i */

	for (i = 0; i < size; i++) {
		bit = 8 * i;
		keep = p->ip.family != 0 && bit < p->len
				       ? (uint8_t)(0xff00u >> RTE_MIN(8u, p->len - bit))
				       : 0;
		a[i] = (uint8_t)((p->ip.bytes[i] & keep) | ((uint8_t)lcg(seed) & ~keep));
	}
	if (p->len > 0 && lcg(seed) % 4 == 0) {
		bit = p->len - 1u - (lcg(seed) % 2 ? 0 : lcg(seed) % p->len);
		a[bit / 8] ^= (uint8_t)(0x80u >> bit % 8);
	}
}

static uint16_t
diff_port(uint16_t lo, uint16_t hi, uint32_t *seed)
{
	switch (lcg(seed) % 5) {
	case 0:
		return (uint16_t)(lo - 1u);
	case 1:
		return lo;
	case 2:
		return hi;
	case 3:
		return (uint16_t)(hi + 1u);
	default:
		return (uint16_t)lcg(seed);
	}
}

/* Keys near the set's rules (one chosen at random each), in both families. */
static void
diff_keys(const struct espgw_sp_conf *sps, unsigned int n, struct espgw_spd_key4 *k4,
		struct espgw_spd_key6 *k6, uint32_t *seed)
{
	const struct espgw_sp_conf *sp;
	unsigned int j;
	uint8_t a[16];

	for (j = 0; j < DIFF_KEYS; j++) {
		sp = &sps[lcg(seed) % n];
		memset(&k4[j], 0, sizeof(k4[j]));
		memset(&k6[j], 0, sizeof(k6[j]));
		k4[j].proto = k6[j].proto =
				lcg(seed) % 4 == 0 || sp->proto < 0
						? (uint8_t)diff_protos[2 +
								       lcg(seed) % (RTE_DIM(diff_protos) -
												   2)]
						: (uint8_t)sp->proto;
		k4[j].sport = k6[j].sport = htons(diff_port(sp->sport_lo, sp->sport_hi, seed));
		k4[j].dport = k6[j].dport = htons(diff_port(sp->dport_lo, sp->dport_hi, seed));
		diff_addr(a, &sp->src, 4, seed);
		memcpy(&k4[j].src, a, 4);
		diff_addr(a, &sp->dst, 4, seed);
		memcpy(&k4[j].dst, a, 4);
		diff_addr(k6[j].src, &sp->src, 16, seed);
		diff_addr(k6[j].dst, &sp->dst, 16, seed);
	}
}

/* A key's selectors as the data path reads them from a packet (espgw_spd_sel.h). */
static void
sel_of_key(const struct espgw_spd_key4 *k, struct espgw_spd_sel4 *s)
{
	memset(s, 0, sizeof(*s));
	s->src = k->src;
	s->dst = k->dst;
	s->proto = k->proto;
	memcpy(&s->ports, &k->sport, sizeof(s->ports)); /* sport, then dport */
}

/* Keys that the one-pass matcher (spd_scan_match4_sel) was held to. */
static unsigned int one_pass_checked;

/*
 * The data path matches an IPv4 packet's selectors against a scan's rules
 * without a key (lib/dp/classify.c, espgw_spd_sel.h): the same result as
 * the key's, for each key.
 */
static void
diff_one_pass(const struct espgw_spd *spd, const struct espgw_spd_key4 *p4[], const uint32_t r4[])
{
	const struct spd_scan4 *r;
	struct espgw_spd_sel4 s;
	uint32_t n, j;

	if (!espgw_spd_scan4(spd, &r, &n))
		return;
	for (j = 0; j < DIFF_KEYS; j++) {
		sel_of_key(p4[j], &s);
		if (spd_scan_match4_sel(r, n, &s) != r4[j])
			fail_msg("key %u: one pass %#x, key %#x", j, spd_scan_match4_sel(r, n, &s),
					r4[j]);
		one_pass_checked++;
	}
}

/* The results of one build for the keys of both families. */
static void
diff_run(unsigned int max, bool bkt, const char *tag, const struct espgw_spd_key4 *p4[],
		const struct espgw_spd_key6 *p6[], uint32_t r4[], uint32_t r6[], unsigned int *used)
{
	struct espgw_spd *spd;

	scan_max = max;
	buckets = bkt;
	spd = build(OUT, tag);
	espgw_spd_classify4(spd, p4, r4, DIFF_KEYS);
	espgw_spd_classify6(spd, p6, r6, DIFF_KEYS);
	diff_one_pass(spd, p4, r4);
	if (used != NULL)
		*used += strncmp(espgw_spd_classifier4(spd), "buckets", 7) == 0;
	espgw_spd_free(spd);
}

/*
 * rte_acl alone, the scan and the buckets give every key the same result;
 * *bucketed counts the sets whose IPv4 rules went to buckets.
 */
static void
diff_compare(const struct espgw_sp_conf *sps, unsigned int n, uint32_t *seed, unsigned int set,
		unsigned int *bucketed)
{
	static struct espgw_spd_key4 k4[DIFF_KEYS];
	static struct espgw_spd_key6 k6[DIFF_KEYS];
	const struct espgw_spd_key4 *p4[DIFF_KEYS];
	const struct espgw_spd_key6 *p6[DIFF_KEYS];
	uint32_t r4[3][DIFF_KEYS], r6[3][DIFF_KEYS];
	unsigned int j, v;

	diff_keys(sps, n, k4, k6, seed);
	for (j = 0; j < DIFF_KEYS; j++) {
		p4[j] = &k4[j];
		p6[j] = &k6[j];
	}
	diff_run(0, false, "diff-acl", p4, p6, r4[0], r6[0], NULL);
	diff_run(DIFF_RULES_MAX, false, "diff-scan", p4, p6, r4[1], r6[1], NULL);
	diff_run(0, true, "diff-bucket", p4, p6, r4[2], r6[2], bucketed);
	for (j = 0; j < DIFF_KEYS; j++)
		for (v = 1; v < 3; v++)
			if (r4[0][j] != r4[v][j] || r6[0][j] != r6[v][j])
				fail_msg("set %u (%u rules) key %u: IPv4 acl %#x %s %#x, IPv6 acl "
					 "%#x %s %#x",
						set, n, j, r4[0][j], v == 1 ? "scan" : "buckets",
						r4[v][j], r6[0][j], v == 1 ? "scan" : "buckets",
						r6[v][j]);
	scan_max = ESPGW_SPD_SCAN_MAX;
	buckets = true;
}

static void
diff_insert(const struct espgw_sp_conf *sp)
{
	assert_int_equal(espgw_store_arr_insert(&store, ESPGW_ARR_SPS, store.n_sps, sp), 0);
}

static void
test_scan_vs_acl(void **state)
{
	static struct espgw_sp_conf sps[12];
	uint32_t seed = 7, set, n, i;
	unsigned int bucketed = 0;

	(void)state;
	for (set = 0; set < DIFF_SETS; set++) {
		sas_default();
		n = 1 + lcg(&seed) % RTE_DIM(sps);
		for (i = 0; i < n; i++) {
			diff_rule(&sps[i], &seed);
			diff_insert(&sps[i]);
		}
		diff_compare(sps, n, &seed, set, &bucketed);
	}
	assert_true(one_pass_checked >= DIFF_SETS * DIFF_KEYS); /* every set's scan build */
}

/*
 * A tunnel's policy: one of a few own subnets against one of many peer
 * subnets (/16 holding /24s holding /32s, so that buckets nest), now and
 * then a rule for any destination, ports and protocols as diff_rule's.
 */
static void
tunnel_rule(struct espgw_sp_conf *sp, uint32_t *seed)
{
	static const uint8_t lens[] = {16, 24, 24, 24, 32};
	uint32_t own = 0x0a010000u | (lcg(seed) % 3) << 8, peer;

	diff_rule(sp, seed);
	peer = 0x0a400000u | (lcg(seed) % 4) << 16 | (lcg(seed) % 16) << 8 | lcg(seed) % 4;
	memset(&sp->src, 0, sizeof(sp->src));
	memset(&sp->dst, 0, sizeof(sp->dst));
	sp->src.ip.family = ESPGW_AF_INET;
	sp->src.ip.v4 = htonl(own);
	sp->src.len = 24;
	if (lcg(seed) % 10 == 0)
		return; /* any destination: in every bucket */
	sp->dst.ip.family = ESPGW_AF_INET;
	sp->dst.len = lens[lcg(seed) % RTE_DIM(lens)];
	sp->dst.ip.v4 = htonl(peer & (uint32_t)(UINT64_MAX << (32 - sp->dst.len)));
}

static void
test_buckets_vs_acl(void **state)
{
	static struct espgw_sp_conf sps[DIFF_RULES_MAX];
	uint32_t seed = 11, set, n, i;
	unsigned int bucketed = 0;

	(void)state;
	for (set = 0; set < DIFF_SETS / 4; set++) {
		sas_default();
		n = 9 + lcg(&seed) % (RTE_DIM(sps) - 8);
		for (i = 0; i < n; i++) {
			tunnel_rule(&sps[i], &seed);
			diff_insert(&sps[i]);
		}
		diff_compare(sps, n, &seed, set, &bucketed);
	}
	/* Not a comparison of rte_acl with itself: most sets fit the buckets. */
	print_message("%u of %u sets in buckets\n", bucketed, DIFF_SETS / 4);
	assert_true(bucketed >= DIFF_SETS / 8);
}

/* ---- selector extraction from raw headers ---- */

struct x4_case {
	const char *name;
	uint8_t ver; /* 0: 4 */
	uint8_t ihl;
	uint8_t proto;
	uint16_t frag; /* flags and offset field, host order */
	uint8_t l4[8];
	uint8_t l4len;
	int tot_adj; /* added to the true total length */
	int len_adj; /* added to the length passed (beyond: padding) */
	int rc;
	uint16_t sport, dport;
};

static const struct x4_case x4_cases[] = {
		{"udp", 0, 5, 17, 0, {0x11, 0x94, 0x01, 0xf4}, 8, 0, 0, 0, 4500, 500},
		/* Options are NOPs (1): ignoring IHL would read ports 257/257. */
		{"tcp after options", 0, 7, 6, 0, {0x00, 0x50, 0xc0, 0x00}, 20 - 12, 0, 0, 0, 80,
				49152},
		{"icmp echo", 0, 5, 1, 0, {8, 0}, 8, 0, 0, 0, 8, 0},
		{"icmp unreachable", 0, 5, 1, 0, {3, 4}, 8, 0, 0, 0, 3, 4},
		{"first fragment", 0, 5, 17, 0x2000, {0x11, 0x94, 0x01, 0xf4}, 8, 0, 0, 0, 4500,
				500},
		{"later fragment", 0, 5, 17, 0x0010, {0x11, 0x94, 0x01, 0xf4}, 8, 0, 0, 0, 0, 0},
		{"middle fragment", 0, 5, 17, 0x2001, {0x11, 0x94, 0x01, 0xf4}, 8, 0, 0, 0, 0, 0},
		{"esp", 0, 5, 50, 0, {0, 0, 1, 0}, 8, 0, 0, 0, 0, 0},
		{"gre no payload", 0, 5, 47, 0, {0}, 0, 0, 0, 0, 0, 0},
		{"padding past total length", 0, 5, 17, 0, {0x11, 0x94, 0x01, 0xf4}, 8, 0, 10, 0,
				4500, 500},
		{"udp truncated", 0, 5, 17, 0, {0x11, 0x94, 0x01, 0xf4}, 4, 0, -1, -1, 0, 0},
		{"udp cut by total length", 0, 5, 17, 0, {0x11, 0x94, 0x01, 0xf4}, 4, -1, 0, -1, 0,
				0},
		{"first fragment too short", 0, 5, 17, 0x2000, {0x11}, 1, 0, 0, -1, 0, 0},
		{"icmp truncated", 0, 5, 1, 0, {8}, 1, 0, 0, -1, 0, 0},
		{"options truncated", 0, 7, 6, 0, {0}, 0, 0, -4, -1, 0, 0},
		{"fixed header truncated", 0, 5, 59, 0, {0}, 0, 0, -1, -1, 0, 0},
		{"ihl below 5", 0, 4, 17, 0, {0x11, 0x94, 0x01, 0xf4}, 8, 0, 0, -1, 0, 0},
		{"total length below header", 0, 6, 17, 0, {0x11, 0x94, 0x01, 0xf4}, 8, -9, 0, -1,
				0, 0},
		{"not version 4", 6, 5, 17, 0, {0x11, 0x94, 0x01, 0xf4}, 8, 0, 0, -1, 0, 0},
};

static uint32_t
ip4_craft(uint8_t *b, const struct x4_case *c)
{
	uint32_t hl = 4u * c->ihl, tot;

	if (c->ihl < 5)
		hl = 20; /* the bytes are there; the field lies */
	tot = hl + c->l4len;
	memset(b, 0, 128);
	b[0] = (uint8_t)((c->ver ? c->ver : 4) << 4 | c->ihl);
	b[2] = (uint8_t)((tot + c->tot_adj) >> 8);
	b[3] = (uint8_t)(tot + c->tot_adj);
	b[6] = (uint8_t)(c->frag >> 8);
	b[7] = (uint8_t)c->frag;
	b[8] = 64;
	b[9] = c->proto;
	memcpy(b + 12, (const uint8_t[]){192, 0, 2, 1, 198, 51, 100, 2}, 8);
	memset(b + 20, 1, hl - 20); /* NOP options */
	memcpy(b + hl, c->l4, c->l4len < 8 ? c->l4len : 8);
	return tot;
}

static void
test_extract4(void **state)
{
	struct espgw_spd_key4 k;
	uint8_t b[128];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < RTE_DIM(x4_cases); i++) {
		const struct x4_case *c = &x4_cases[i];
		uint32_t len = ip4_craft(b, c) + (uint32_t)c->len_adj;

		memset(&k, 0xee, sizeof(k));
		rc = espgw_spd_key4_extract(b, len, &k);
		if (rc != c->rc)
			fail_msg("%s: rc %d want %d", c->name, rc, c->rc);
		if (rc < 0)
			continue;
		if (k.proto != c->proto || ntohs(k.sport) != c->sport || ntohs(k.dport) != c->dport)
			fail_msg("%s: proto %u ports %u/%u", c->name, k.proto, ntohs(k.sport),
					ntohs(k.dport));
		assert_int_equal(k.src, htonl(0xc0000201));
		assert_int_equal(k.dst, htonl(0xc6336402));
		assert_int_equal(k.pad[0] | k.pad[1] | k.pad[2], 0);
	}
}

#define X6_EXT_MAX 10

struct x6_case {
	const char *name;
	uint8_t ver;		   /* 0: 6 */
	uint8_t ext[X6_EXT_MAX];   /* extension header types, in order */
	uint8_t units[X6_EXT_MAX]; /* their length in 8-byte units (fragment: 1) */
	uint8_t n_ext;
	uint16_t frag; /* fragment header offset/M field, host order */
	uint8_t proto;
	uint8_t l4[8];
	uint8_t l4len;
	int plen_adj;
	int len_adj;
	int rc;
	uint8_t kproto;
	uint16_t sport, dport;
};

#define D8 60, 60, 60, 60, 60, 60, 60, 60
#define U8 1, 1, 1, 1, 1, 1, 1, 1
#define UDP_4500                       \
	{                              \
		0x01, 0xf4, 0x11, 0x94 \
	}

static const struct x6_case x6_cases[] = {
		{"udp", 0, {0}, {0}, 0, 0, 17, UDP_4500, 8, 0, 0, 0, 17, 500, 4500},
		{"hbh dst rt udp", 0, {0, 60, 43}, {1, 2, 3}, 3, 0, 17, UDP_4500, 8, 0, 0, 0, 17,
				500, 4500},
		{"first fragment", 0, {44}, {1}, 1, 0x0001, 17, UDP_4500, 8, 0, 0, 0, 17, 500,
				4500},
		{"later fragment", 0, {44}, {1}, 1, 0x0100, 17, UDP_4500, 8, 0, 0, 0, 17, 0, 0},
		{"hbh then later fragment", 0, {0, 44}, {1, 1}, 2, 0x0101, 6, UDP_4500, 8, 0, 0, 0,
				6, 0, 0},
		{"esp after hbh", 0, {0}, {1}, 1, 0, 50, UDP_4500, 8, 0, 0, 0, 50, 0, 0},
		{"ah stops the walk", 0, {0}, {1}, 1, 0, 51, {17, 2, 0, 0}, 8, 0, 0, 0, 51, 0, 0},
		{"no next header", 0, {0}, {0}, 0, 0, 59, {0}, 0, 0, 0, 0, 59, 0, 0},
		{"icmpv6 echo", 0, {0}, {0}, 0, 0, 58, {128, 0}, 8, 0, 0, 0, 58, 128, 0},
		{"8 extension headers", 0, {D8}, {U8}, 8, 0, 17, UDP_4500, 8, 0, 0, 0, 17, 500,
				4500},
		{"padding past payload", 0, {0}, {0}, 0, 0, 17, UDP_4500, 8, 0, 8, 0, 17, 500,
				4500},
		{"9 extension headers", 0, {D8, 60}, {U8, 1}, 9, 0, 17, UDP_4500, 8, 0, 0, -1, 0, 0,
				0},
		{"extension truncated", 0, {60}, {2}, 1, 0, 59, {0}, 0, 0, -8, -1, 0, 0, 0},
		{"extension cut by payload length", 0, {60}, {2}, 1, 0, 59, {0}, 0, -8, 0, -1, 0, 0,
				0},
		{"fragment truncated", 0, {44}, {1}, 1, 0, 17, {0}, 0, 0, -4, -1, 0, 0, 0},
		{"udp truncated", 0, {0}, {0}, 0, 0, 17, UDP_4500, 4, 0, -1, -1, 0, 0, 0},
		{"udp cut by payload length", 0, {0}, {0}, 0, 0, 17, UDP_4500, 4, -2, 0, -1, 0, 0,
				0},
		{"fixed header truncated", 0, {0}, {0}, 0, 0, 59, {0}, 0, 0, -1, -1, 0, 0, 0},
		{"not version 6", 4, {0}, {0}, 0, 0, 17, UDP_4500, 8, 0, 0, -1, 0, 0, 0},
};

static uint32_t
ext_craft(uint8_t *p, const struct x6_case *c, unsigned int e)
{
	uint8_t next = e + 1 < c->n_ext ? c->ext[e + 1] : c->proto;
	uint32_t len = 8u * c->units[e];

	memset(p, 0, len);
	p[0] = next;
	if (c->ext[e] == 44) {
		p[2] = (uint8_t)(c->frag >> 8);
		p[3] = (uint8_t)c->frag;
	} else {
		p[1] = (uint8_t)(c->units[e] - 1);
	}
	return len;
}

static uint32_t
ip6_craft(uint8_t *b, const struct x6_case *c)
{
	uint32_t off = 40, plen;
	unsigned int e;

	memset(b, 0, 512);
	b[0] = (uint8_t)((c->ver ? c->ver : 6) << 4);
	b[6] = c->n_ext ? c->ext[0] : c->proto;
	b[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", b + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", b + 24), 1);
	for (e = 0; e < c->n_ext; e++)
		off += ext_craft(b + off, c, e);
	memcpy(b + off, c->l4, c->l4len < 8 ? c->l4len : 8);
	off += c->l4len;
	plen = off - 40 + (uint32_t)c->plen_adj;
	b[4] = (uint8_t)(plen >> 8);
	b[5] = (uint8_t)plen;
	return off;
}

static void
test_extract6(void **state)
{
	struct espgw_spd_key6 k;
	uint8_t b[512], a1[16], a2[16];
	size_t i;
	int rc;

	(void)state;
	inet_pton(AF_INET6, "2001:db8::1", a1);
	inet_pton(AF_INET6, "2001:db8::2", a2);
	for (i = 0; i < RTE_DIM(x6_cases); i++) {
		const struct x6_case *c = &x6_cases[i];
		uint32_t len = ip6_craft(b, c) + (uint32_t)c->len_adj;

		memset(&k, 0xee, sizeof(k));
		rc = espgw_spd_key6_extract(b, len, &k);
		if (rc != c->rc)
			fail_msg("%s: rc %d want %d", c->name, rc, c->rc);
		if (rc < 0)
			continue;
		if (k.proto != c->kproto || ntohs(k.sport) != c->sport ||
				ntohs(k.dport) != c->dport)
			fail_msg("%s: proto %u ports %u/%u", c->name, k.proto, ntohs(k.sport),
					ntohs(k.dport));
		assert_memory_equal(k.src, a1, 16);
		assert_memory_equal(k.dst, a2, 16);
	}
}

/* End to end: a crafted packet's key meets a port-range rule. */
static void
test_packet_policy(void **state)
{
	static const struct sp_spec r[] = {
			{OUT, 1, "192.0.2.0/24", "198.51.100.0/24", 17, ANYP, 1024, 65535, PROT,
					"out-a"},
			{OUT, 2, "192.0.2.0/24", "198.51.100.0/24", -1, ANYP, ANYP, BYPASS, NULL},
	};
	struct x4_case c = x4_cases[0]; /* UDP 4500 -> 500 */
	struct espgw_spd_key4 k;
	const struct espgw_spd_key4 *kp = &k;
	struct espgw_spd *spd;
	uint8_t b[128];
	uint32_t res;

	(void)state;
	sas_default();
	sps_add(r, RTE_DIM(r));
	spd = build(OUT, "pkt");
	assert_int_equal(espgw_spd_key4_extract(b, ip4_craft(b, &c), &k), 0);
	espgw_spd_classify4(spd, &kp, &res, 1);
	assert_int_equal(res, BYP); /* dport 500 < 1024 */
	c.l4[2] = 0x11;		    /* dport 4500 */
	c.l4[3] = 0x94;
	assert_int_equal(espgw_spd_key4_extract(b, ip4_craft(b, &c), &k), 0);
	espgw_spd_classify4(spd, &kp, &res, 1);
	assert_int_equal(res, SA(0));
	espgw_spd_free(spd);
}

/* ---- attack (helper-47): the scan at the edges rte_acl draws ---- */

/*
 * Eight IPv4 rules (a family the default limit scans): prefix lengths /0 /1
 * /31 /32, protocols 0 and 255 exactly, port ranges that are one port at 0
 * or 65535, a tie. The same wants hold on rte_acl alone (acl_only).
 */
static const struct sp_spec atk_rules4[] = {
		{OUT, 1, "10.0.0.0/31", "0.0.0.0/0", -1, ANYP, ANYP, DROP, NULL},
		{OUT, 2, "128.0.0.0/1", "0.0.0.0/0", -1, ANYP, ANYP, BYPASS, NULL},
		{OUT, 3, "0.0.0.0/0", "192.0.2.1/32", 0, ANYP, ANYP, PROT, "out-a"},
		{OUT, 4, "0.0.0.0/0", "192.0.2.1/32", 255, ANYP, ANYP, PROT, "out-b"},
		{OUT, 5, "0.0.0.0/0", "198.51.100.0/24", 17, 0, 0, 65535, 65535, PROT, "out-c"},
		/* Tie with the rule above: defined later, it never wins. */
		{OUT, 5, "0.0.0.0/0", "198.51.100.0/24", 17, 0, 0, 65535, 65535, BYPASS, NULL},
		/* Ports 0 (a non-initial fragment's) are in a range from 0. */
		{OUT, 6, "0.0.0.0/0", "198.51.100.0/24", 17, 0, 1, 0, 0, DROP, NULL},
		{OUT, 7, "0.0.0.0/1", "203.0.113.0/31", -1, ANYP, ANYP, PROT, "out-a"},
};

static const struct key_case atk_keys4[] = {
		{"10.0.0.0", "1.1.1.1", 6, 1, 2, DISC},
		{"10.0.0.1", "1.1.1.1", 0, 0, 0, DISC},
		{"10.0.0.2", "1.1.1.1", 6, 1, 2, NONE},
		{"128.0.0.0", "1.1.1.1", 6, 1, 2, BYP},
		{"255.255.255.255", "1.1.1.1", 6, 1, 2, BYP},
		{"127.255.255.255", "1.1.1.1", 6, 1, 2, NONE},
		{"1.2.3.4", "192.0.2.1", 0, 0, 0, SA(0)},
		{"1.2.3.4", "192.0.2.1", 255, 0, 0, SA(1)},
		{"1.2.3.4", "192.0.2.1", 1, 0, 0, NONE},
		{"1.2.3.4", "192.0.2.1", 254, 0, 0, NONE},
		{"1.2.3.4", "192.0.2.0", 0, 0, 0, NONE},
		{"1.2.3.4", "192.0.2.3", 255, 0, 0, NONE},
		{"1.2.3.4", "198.51.100.9", 17, 0, 65535, SA(2)},
		{"1.2.3.4", "198.51.100.9", 17, 1, 65535, NONE},
		{"1.2.3.4", "198.51.100.9", 17, 0, 65534, NONE},
		{"1.2.3.4", "198.51.100.9", 6, 0, 65535, NONE},
		{"1.2.3.4", "198.51.100.9", 17, 0, 0, DISC},
		{"1.2.3.4", "198.51.100.9", 17, 1, 0, DISC},
		{"1.2.3.4", "198.51.100.9", 17, 2, 0, NONE},
		{"1.2.3.4", "198.51.100.9", 17, 65535, 0, NONE},
		{"1.2.3.4", "198.51.100.9", 17, 0, 1, NONE},
		{"1.2.3.4", "203.0.113.1", 50, 0, 0, SA(0)},
		{"127.0.0.1", "203.0.113.0", 6, 1, 2, SA(0)},
		{"1.2.3.4", "203.0.113.2", 50, 0, 0, NONE},
};

/* Eight IPv6 rules: /0 /1 /63 /64 /65 /127 /128, protocol 0, a tie. */
static const struct sp_spec atk_rules6[] = {
		{OUT, 1, "2001:db8::/127", "::/0", -1, ANYP, ANYP, DROP, NULL},
		{OUT, 2, "::/0", "2001:db8:0:1::/64", -1, ANYP, ANYP, PROT, "out-v6"},
		{OUT, 3, "::/0", "2001:db8:0:2::/63", -1, ANYP, ANYP, BYPASS, NULL},
		{OUT, 4, "::/0", "2001:db8:0:8:8000::/65", -1, ANYP, ANYP, DROP, NULL},
		{OUT, 5, "::/0", "2001:db8:0:9::1/128", 58, ANYP, ANYP, BYPASS, NULL},
		{OUT, 6, "8000::/1", "::/0", -1, ANYP, ANYP, PROT, "out-v6"},
		{OUT, 7, "::/0", "::/0", 0, ANYP, ANYP, DROP, NULL},
		{OUT, 7, "::/0", "::/0", 0, ANYP, ANYP, BYPASS, NULL},
};

static const struct key_case atk_keys6[] = {
		{"2001:db8::", "::1", 6, 1, 2, DISC},
		{"2001:db8::1", "::1", 6, 1, 2, DISC},
		{"2001:db8::2", "::1", 6, 1, 2, NONE},
		{"1::", "2001:db8:0:1:ffff:ffff:ffff:ffff", 6, 1, 2, SA(4)},
		{"1::", "2001:db8:0:1::", 6, 1, 2, SA(4)},
		{"1::", "2001:db8:0:0:ffff:ffff:ffff:ffff", 6, 1, 2, NONE},
		{"1::", "2001:db8:0:2::1", 6, 1, 2, BYP},
		{"1::", "2001:db8:0:3:ffff:ffff:ffff:ffff", 6, 1, 2, BYP},
		{"1::", "2001:db8:0:4::", 6, 1, 2, NONE},
		{"1::", "2001:db8:0:8:8000::1", 6, 1, 2, DISC},
		{"1::", "2001:db8:0:8:ffff:ffff:ffff:ffff", 6, 1, 2, DISC},
		{"1::", "2001:db8:0:8:7fff:ffff:ffff:ffff", 6, 1, 2, NONE},
		{"1::", "2001:db8:0:9::1", 58, 128, 0, BYP},
		{"1::", "2001:db8:0:9::2", 58, 128, 0, NONE},
		{"1::", "2001:db8:0:9::1", 17, 1, 2, NONE},
		{"1::", "2001:db8:0:9::", 58, 128, 0, NONE},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::1", 6, 1, 2, SA(4)},
		{"8000::", "::1", 6, 1, 2, SA(4)},
		{"7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::1", 6, 1, 2, NONE},
		{"7fff::", "::1", 0, 0, 0, DISC},
		{"7fff::", "::1", 1, 0, 0, NONE},
};

/* Each key's result by scan equals rte_acl's and the want. */
static void
atk_check_both(const struct key_case *c4, size_t n4, const struct key_case *c6, size_t n6)
{
	struct espgw_spd *spd;
	unsigned int save = scan_max;

	scan_max = 0;
	buckets = false;
	spd = build(OUT, "atk-acl");
	check4(spd, c4, n4);
	check6(spd, c6, n6);
	espgw_spd_free(spd);
	scan_max = ESPGW_SPD_SCAN_MAX;
	spd = build(OUT, "atk-scan");
	check4(spd, c4, n4);
	check6(spd, c6, n6);
	espgw_spd_free(spd);
	scan_max = save;
	buckets = true;
}

static void
test_attack_spd_scan_edges(void **state)
{
	(void)state;
	sas_default();
	sps_add(atk_rules4, RTE_DIM(atk_rules4));
	sps_add(atk_rules6, RTE_DIM(atk_rules6));
	assert_int_equal(RTE_DIM(atk_rules4), ESPGW_SPD_SCAN_MAX);
	assert_int_equal(RTE_DIM(atk_rules6), ESPGW_SPD_SCAN_MAX);
	atk_check_both(atk_keys4, RTE_DIM(atk_keys4), atk_keys6, RTE_DIM(atk_keys6));
}

/*
 * The limit crossed both ways as "sp add" / "sp del" do: 8 rules (scan), a
 * ninth (rte_acl), the ninth gone (scan again). The ninth is a catch-all
 * bypass behind a protect rule: no key of the protect rule may move to it.
 */
static void
test_attack_spd_scan_limit(void **state)
{
	static const struct sp_spec nine = {
			OUT, 100, "0.0.0.0/0", "0.0.0.0/0", -1, ANYP, ANYP, BYPASS, NULL};
	static const struct key_case k4[] = {
			{"1.2.3.4", "192.0.2.1", 0, 0, 0, SA(0)},
			{"1.2.3.4", "198.51.100.9", 17, 0, 65535, SA(2)},
			{"1.2.3.4", "198.51.100.9", 17, 2, 0, BYP},
			{"10.0.0.1", "1.1.1.1", 6, 1, 2, DISC},
			{"10.0.0.2", "1.1.1.1", 6, 1, 2, BYP},
	};
	static const struct key_case k4_8[] = {
			{"1.2.3.4", "192.0.2.1", 0, 0, 0, SA(0)},
			{"1.2.3.4", "198.51.100.9", 17, 0, 65535, SA(2)},
			{"1.2.3.4", "198.51.100.9", 17, 2, 0, NONE},
			{"10.0.0.1", "1.1.1.1", 6, 1, 2, DISC},
			{"10.0.0.2", "1.1.1.1", 6, 1, 2, NONE},
	};
	struct espgw_spd *a, *b, *c;

	(void)state;
	sas_default();
	sps_add(atk_rules4, RTE_DIM(atk_rules4));
	a = build(OUT, "lim8");
	sp_add(&nine);
	b = build(OUT, "lim9");
	assert_int_equal(espgw_spd_rules4(b), ESPGW_SPD_SCAN_MAX + 1);
	assert_int_equal(espgw_store_arr_remove(&store, ESPGW_ARR_SPS, store.n_sps - 1), 0);
	c = build(OUT, "lim8b");
	/* The three coexist as an RCU swap leaves them: each keeps its own verdicts. */
	check4(a, k4_8, RTE_DIM(k4_8));
	check4(b, k4, RTE_DIM(k4));
	check4(c, k4_8, RTE_DIM(k4_8));
	espgw_spd_free(a);
	check4(b, k4, RTE_DIM(k4));
	espgw_spd_free(b);
	check4(c, k4_8, RTE_DIM(k4_8));
	espgw_spd_free(c);
}

/*
 * Rekey pairs through the scan: an inbound IPv4 policy that accepts its SA
 * and the previous one ranks second overall, behind an IPv6 rule: its result
 * is PAIR_BASE + its rank among all the direction's rules (not its index in
 * the IPv4 scan), and resolves to the SA the packet came through.
 */
static void
test_attack_spd_scan_pair(void **state)
{
	static const struct sp_spec in[] = {
			{IN, 1, "2001:db8:3::/48", "2001:db8:1::/48", -1, ANYP, ANYP, DROP, NULL},
			{IN, 5, "10.0.3.0/24", "10.0.1.0/24", -1, ANYP, ANYP, PROT, "in-b"},
			{IN, 9, "0.0.0.0/0", "0.0.0.0/0", -1, ANYP, ANYP, BYPASS, NULL},
	};
	static const struct key_case k[] = {
			{"10.0.3.1", "10.0.1.1", 17, 1, 2, ESPGW_SPD_PAIR_BASE + 1},
			{"10.0.4.1", "10.0.1.1", 17, 1, 2, BYP},
	};
	struct espgw_sp_conf sp;
	struct espgw_spd *spd;
	unsigned int pass, i;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		sas_default();
		sa_add("in-b", IN); /* slot 5; in-a (slot 3) the previous one */
		sps_add(in, RTE_DIM(in));
		for (i = 0; i < store.n_sps; i++) {
			if (strcmp(store.sps[i].sa, "in-b") != 0)
				continue;
			sp = store.sps[i];
			snprintf(sp.prev_sa, sizeof(sp.prev_sa), "in-a");
			assert_int_equal(espgw_store_arr_set(&store, ESPGW_ARR_SPS, i, &sp), 0);
		}
		scan_max = pass == 0 ? 0 : ESPGW_SPD_SCAN_MAX;
		buckets = pass != 0;
		spd = build(IN, pass == 0 ? "pair-acl" : "pair-scan");
		assert_true(espgw_spd_has_pairs(spd));
		check4(spd, k, RTE_DIM(k));
		assert_int_equal(espgw_spd_pair_resolve(spd, ESPGW_SPD_PAIR_BASE + 1, 3), SA(3));
		assert_int_equal(espgw_spd_pair_resolve(spd, ESPGW_SPD_PAIR_BASE + 1, 5), SA(5));
		assert_int_equal(espgw_spd_pair_resolve(spd, ESPGW_SPD_PAIR_BASE + 1, 0), SA(5));
		espgw_spd_free(spd);
	}
	scan_max = ESPGW_SPD_SCAN_MAX;
	buckets = true;
}

/* ---- the rule kept per inbound SA (spd_sa.h) ---- */

#define PAIR_A (ESPGW_SPD_PAIR_BASE + 2) /* test_sa_rule_kept's in-a rule: in-a or in-d */

struct kept_case {
	struct key_case k; /* want: the full lookup's result */
	uint32_t slot;	   /* the SA the packet came through */
	uint32_t kept;	   /* what the kept rule gives: NO_MATCH when it does not decide */
};

static void
check_kept(const struct espgw_spd *spd, const struct kept_case *c, size_t n)
{
	const struct spd_sa4 *t = espgw_spd_sa4(spd);
	struct espgw_spd_key4 k;
	struct espgw_spd_sel4 s;
	size_t i;

	assert_non_null(t);
	for (i = 0; i < n; i++) {
		key4(&k, &c[i].k);
		sel_of_key(&k, &s);
		if (spd_sa4_match_sel(t, c[i].slot, &s) != c[i].kept)
			fail_msg("case %zu (slot %u): kept rule gives %#x, want %#x", i, c[i].slot,
					spd_sa4_match_sel(t, c[i].slot, &s), c[i].kept);
		check4(spd, &c[i].k, 1);
	}
}

/*
 * Which rule is kept for each inbound SA: the best one that accepts it and
 * that no better rule overlaps (a discard for port 22 of a /16 rules out a
 * protect rule of a /24 inside it, a better protect rule of another SA one of
 * a /25 inside its /24, an IPv6 rule nothing); a rekey pair's rule for both
 * its SAs. A packet that misses the kept rule is left to the full lookup
 * (NO_MATCH), also the one that another rule of the same SA accepts.
 */
static void
test_sa_rule_kept(void **state)
{
	static const struct sp_spec in[] = {
			{IN, 1, "10.9.0.0/16", "10.0.1.0/24", 6, ANYP, 22, 22, DROP, NULL},
			{IN, 5, "10.0.3.0/24", "10.0.1.0/24", -1, ANYP, ANYP, PROT, "in-a"},
			{IN, 5, "10.9.0.0/24", "10.0.1.0/24", -1, ANYP, ANYP, PROT, "in-b"},
			{IN, 6, "10.8.0.0/24", "10.0.1.0/24", -1, ANYP, ANYP, PROT, "in-b"},
			{IN, 7, "10.0.3.128/25", "10.0.1.0/24", -1, ANYP, ANYP, PROT, "in-c"},
			{IN, 2, "2001:db8:3::/48", "2001:db8:1::/48", -1, ANYP, ANYP, DROP, NULL},
			{IN, 9, NULL, NULL, -1, ANYP, ANYP, BYPASS, NULL},
	};
	/* Slots: in-a 3, in-b 5, in-c 6, in-d 7; the in-a rule ranks third (after the IPv6 one). */
	static const struct kept_case c[] = {
			{{"10.0.3.1", "10.0.1.1", 17, 1, 2, PAIR_A}, 3, PAIR_A},
			{{"10.0.3.1", "10.0.1.1", 17, 1, 2, PAIR_A}, 7, PAIR_A},
			{{"10.0.3.1", "10.0.1.1", 17, 1, 2, PAIR_A}, 5, NONE},
			{{"10.0.3.200", "10.0.1.1", 17, 1, 2, PAIR_A}, 6, NONE},
			{{"10.8.0.1", "10.0.1.1", 6, 1, 22, SA(5)}, 5, SA(5)},
			{{"10.9.0.1", "10.0.1.1", 6, 1, 22, DISC}, 5, NONE},
			{{"10.9.0.1", "10.0.1.1", 6, 1, 23, SA(5)}, 5, NONE},
			{{"10.8.0.1", "10.0.1.1", 6, 1, 22, SA(5)}, 3, NONE},
			{{"10.8.0.1", "10.0.1.1", 6, 1, 22, SA(5)}, 1000, NONE},
	};
	struct espgw_sp_conf sp;
	struct espgw_spd *spd;

	(void)state;
	sas_default();
	sa_add("in-b", IN);
	sa_add("in-c", IN);
	sa_add("in-d", IN);
	sps_add(in, RTE_DIM(in));
	sp = store.sps[1];
	snprintf(sp.prev_sa, sizeof(sp.prev_sa), "in-d");
	assert_int_equal(espgw_store_arr_set(&store, ESPGW_ARR_SPS, 1, &sp), 0);
	spd = build(IN, "sa-kept");
	assert_int_equal(espgw_spd_sa4_kept(spd), 3);
	check_kept(spd, c, RTE_DIM(c));
	espgw_spd_free(spd);
	/* Outbound policies select the SA: nothing is kept. */
	spd = build(OUT, "sa-kept-out");
	assert_null(espgw_spd_sa4(spd));
	espgw_spd_free(spd);
}

/* ---- attack (sa4): the rule kept per inbound SA against the full lookup ---- */

static void
sa_add_slot(const char *name, enum espgw_dir dir, uint32_t slot)
{
	struct espgw_sa_conf sa = {.dir = dir, .slot = slot};

	snprintf(sa.name, sizeof(sa.name), "%s", name);
	assert_int_equal(espgw_store_arr_insert(&store, ESPGW_ARR_SAS, store.n_sas, &sa), 0);
}

#define ATK_SA_SETS 600
#define ATK_SA_KEYS 64

static const char *const atk_in_sas[] = {"in-a", "in-b", "in-c", "in-d", "in-e"};

/* diff_rule's shapes, inbound: many overlaps, ties, "any" family, ICMP, lo > hi, pairs. */
static void
atk_sa_rule(struct espgw_sp_conf *sp, uint32_t *seed)
{
	static const int fams[] = {ESPGW_AF_INET, ESPGW_AF_INET, ESPGW_AF_INET6, 0};
	int fam = fams[lcg(seed) % RTE_DIM(fams)];
	uint16_t t;

	memset(sp, 0, sizeof(*sp));
	sp->dir = IN;
	sp->priority = lcg(seed) % 4; /* many ties */
	diff_prefix(&sp->src, fam, seed);
	diff_prefix(&sp->dst, fam, seed);
	sp->proto = diff_protos[lcg(seed) % RTE_DIM(diff_protos)];
	diff_range(&sp->sport_lo, &sp->sport_hi, seed);
	diff_range(&sp->dport_lo, &sp->dport_hi, seed);
	/*
	 * lo > hi is refused by the store (store_sp.c sp_check_range) and makes
	 * rte_acl_build crash (SIGSEGV in its range expansion): it is attacked
	 * on spd_sa4_build alone (test_attack_sa4_pure). A single-port range
	 * here instead.
	 */
	if (lcg(seed) % 8 == 0) {
		t = (uint16_t)lcg(seed);
		sp->dport_lo = sp->dport_hi = t;
	}
	if (sp->proto == 1 && lcg(seed) % 2) { /* ICMP type / code */
		sp->sport_lo = sp->sport_hi = (uint16_t)(lcg(seed) % 2 ? 8 : 0);
		sp->dport_lo = 0;
		sp->dport_hi = (uint16_t)(lcg(seed) % 2);
	}
	sp->action = lcg(seed) % 4 == 0 ? (enum espgw_sp_action)(lcg(seed) % 2 ? BYPASS : DROP)
					: PROT;
	if (sp->action == PROT) {
		snprintf(sp->sa, sizeof(sp->sa), "%s", atk_in_sas[lcg(seed) % RTE_DIM(atk_in_sas)]);
		if (lcg(seed) % 3 == 0) /* a rekey pair (ignored when it names its own SA) */
			snprintf(sp->prev_sa, sizeof(sp->prev_sa), "%s",
					atk_in_sas[lcg(seed) % RTE_DIM(atk_in_sas)]);
	}
}

static unsigned int atk_sa_decided, atk_sa_protect;

/* Every key through every slot: the kept rule's result, where it gives one, is the full one's. */
static void
atk_sa_check(const struct espgw_spd *spd, const struct espgw_spd_key4 *p4[], unsigned int set)
{
	const struct spd_sa4 *t = espgw_spd_sa4(spd);
	struct espgw_spd_sel4 s;
	uint32_t r[ATK_SA_KEYS], slot, j, kept, full;

	espgw_spd_classify4(spd, p4, r, ATK_SA_KEYS);
	if (t == NULL)
		return;
	for (j = 0; j < ATK_SA_KEYS; j++) {
		sel_of_key(p4[j], &s);
		for (slot = 0; slot < t->n_slots + 3; slot++) {
			kept = spd_sa4_match_sel(t, slot, &s);
			if (kept == ESPGW_SPD_NO_MATCH)
				continue;
			atk_sa_decided++;
			full = espgw_spd_pair_resolve(spd, r[j], slot);
			atk_sa_protect += full == slot + 1;
			if (kept != r[j] || espgw_spd_pair_resolve(spd, kept, slot) != full)
				fail_msg("set %u key %u slot %u: kept rule %#x, full lookup %#x "
					 "(resolved %#x)",
						set, j, slot, kept, r[j], full);
		}
	}
}

/*
 * The claim of spd_sa.h, attacked on random inbound sets (ties, overlaps,
 * "any" family rules, ICMP selectors, lo > hi ranges, rekey pairs, slots
 * with gaps and past the table), on every classifier: a kept rule that
 * matches gives exactly the full lookup's result.
 */
static void
test_attack_sa4_vs_full(void **state)
{
	static struct espgw_sp_conf sps[16];
	static struct espgw_spd_key4 k4[ATK_SA_KEYS];
	static struct espgw_spd_key6 k6[ATK_SA_KEYS];
	const struct espgw_spd_key4 *p4[ATK_SA_KEYS];
	uint32_t seed = 4301, set, n, i, v;
	struct espgw_spd *spd;

	(void)state;
	atk_sa_decided = atk_sa_protect = 0;
	for (set = 0; set < ATK_SA_SETS; set++) {
		store_reset();
		for (i = 0; i < RTE_DIM(atk_in_sas); i++)
			sa_add_slot(atk_in_sas[i], IN, i * 3 + lcg(&seed) % 3);
		n = 1 + lcg(&seed) % RTE_DIM(sps);
		for (i = 0; i < n; i++) {
			atk_sa_rule(&sps[i], &seed);
			diff_insert(&sps[i]);
		}
		/* Keys drawn around the set's rules; then make half of them IPv4 for sure. */
		diff_keys(sps, n, k4, k6, &seed);
		for (i = 0; i < ATK_SA_KEYS; i++)
			p4[i] = &k4[i];
		for (v = 0; v < 3; v++) {
			scan_max = v == 1 ? DIFF_RULES_MAX : 0;
			buckets = v == 2;
			spd = build(IN, "atk-sa4");
			atk_sa_check(spd, p4, set);
			espgw_spd_free(spd);
		}
	}
	scan_max = ESPGW_SPD_SCAN_MAX;
	buckets = true;
	print_message("%u (key, slot) decided by a kept rule, %u of them accepted\n",
			atk_sa_decided, atk_sa_protect);
	assert_true(atk_sa_decided > 1000);
}

/* A random rule of the scan form: arbitrary (non-prefix) masks, any ranges, lo > hi too. */
static void
atk_pure_rule(struct spd_scan4 *r, uint32_t *seed, uint32_t n_slots)
{
	static const uint16_t pts[] = {0, 1, 2, 3, 80, 65534, 65535};
	uint32_t m = lcg(seed) & 0x7u; /* one draw per statement: the order is then defined */

	memset(r, 0, sizeof(*r));

	r->src_mask = lcg(seed) % 3 == 0 ? 0 : m << (lcg(seed) % 2 ? 0 : 29);
	r->src = lcg(seed) & r->src_mask;
	r->dst_mask = lcg(seed) % 3 == 0 ? 0 : lcg(seed) & 0x3u;
	r->dst = lcg(seed) & r->dst_mask;
	r->l4.proto_mask = lcg(seed) % 2 ? 0 : 0xff;
	r->l4.proto = r->l4.proto_mask ? (uint8_t)(lcg(seed) % 3) : 0;
	r->l4.sport_lo = pts[lcg(seed) % RTE_DIM(pts)];
	r->l4.sport_hi = pts[lcg(seed) % RTE_DIM(pts)];
	r->l4.dport_lo = pts[lcg(seed) % RTE_DIM(pts)];
	r->l4.dport_hi = pts[lcg(seed) % RTE_DIM(pts)];
	switch (lcg(seed) % 5) {
	case 0:
		r->l4.res = ESPGW_SPD_BYPASS;
		break;
	case 1:
		r->l4.res = ESPGW_SPD_DISCARD;
		break;
	case 2:
		r->l4.res = ESPGW_SPD_PAIR_BASE + lcg(seed) % 4; /* pair table below */
		break;
	default:
		r->l4.res = SA(lcg(seed) % n_slots);
	}
}

/*
 * spd_sa4_build alone, exhaustively over a small packet space: random rule
 * lists (masks that are no prefixes, ports lo > hi, proto any against
 * specific, pairs), every packet of the space through every slot: where the
 * kept rule matches, its result is the first match's.
 */
static void
test_attack_sa4_pure(void **state)
{
	static const uint16_t pts[] = {0, 1, 2, 3, 4, 79, 80, 81, 65534, 65535};
	uint32_t pair[4][2], seed = 1, set, n, i, slot, decided = 0;
	struct spd_scan4 r[12];
	uint32_t src, dst, proto, sp, dp, kept, full;
	struct spd_sa4 *t;

	(void)state;
	for (set = 0; set < 3000; set++) {
		n = 1 + lcg(&seed) % RTE_DIM(r);
		for (i = 0; i < 4; i++) {
			pair[i][0] = SA(lcg(&seed) % 6);
			pair[i][1] = SA(lcg(&seed) % 6);
		}
		for (i = 0; i < n; i++)
			atk_pure_rule(&r[i], &seed, 6);
		t = spd_sa4_build(r, n, (const uint32_t(*)[2])pair, 4, SOCKET_ID_ANY);
		if (t == NULL)
			continue;
		for (src = 0; src < 8; src++)
			for (dst = 0; dst < 4; dst++)
				for (proto = 0; proto < 3; proto++)
					for (sp = 0; sp < RTE_DIM(pts); sp++)
						for (dp = 0; dp < RTE_DIM(pts); dp++) {
							uint32_t a = src |
								     (src & 4 ? 0xe0000000 : 0);
							full = spd_scan_match4_host(r, n, a, dst,
									(uint8_t)proto, pts[sp],
									pts[dp]);
							for (slot = 0; slot < t->n_slots + 2;
									slot++) {
								kept = slot < t->n_slots
										       ? spd_scan_match4_host(
													 &t->rule[t->idx[slot]],
													 1,
													 a,
													 dst,
													 (uint8_t)proto,
													 pts[sp],
													 pts[dp])
										       : NONE;
								if (kept == NONE)
									continue;
								decided++;
								if (kept != full)
									fail_msg("set %u slot %u: "
										 "kept %#x full "
										 "%#x",
											set, slot,
											kept, full);
							}
						}
		spd_sa4_free(t);
	}
	print_message("%u (packet, slot) decided by a kept rule\n", decided);
	assert_true(decided > 10000);
}

/*
 * attack (helper-57): slots are given round robin up to max-sa (store_sa.c
 * slot_alloc), so after rekeys one tunnel's SA may sit near the top of
 * 4,194,304 slots. The kept table first had a 32-byte entry per slot up to
 * the highest one named: 128 MiB for that one SA, allocated and zeroed on
 * every inbound SPD build beside the published SPD's, and the second build
 * failed with out of memory under -m 256. Now 2 bytes a slot (8 MiB at the
 * most) and a rule per rule kept: both builds succeed and keep the rule.
 */
static void
test_attack_sa4_high_slot(void **state)
{
	static const struct sp_spec in[] = {
			{IN, 5, "10.0.3.0/24", "10.0.1.0/24", -1, ANYP, ANYP, PROT, "in-hi"},
	};
	const struct spd_sa4 *t;
	struct espgw_spd *a, *b;
	struct timespec t0, t1;
	size_t bytes;

	(void)state;
	store_reset();
	sa_add_slot("in-hi", IN, ESPGW_MAX_SA_MAX - 1);
	sps_add(in, RTE_DIM(in));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	a = build(IN, "atk-hi-a");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	t = espgw_spd_sa4(a);
	assert_non_null(t);
	bytes = t->n_slots * sizeof(t->idx[0]) + 2 * sizeof(t->rule[0]);
	print_message("1 rule, 1 SA in slot %u: kept table %zu KiB, build %.1f ms\n",
			ESPGW_MAX_SA_MAX - 1, bytes >> 10,
			(double)(t1.tv_sec - t0.tv_sec) * 1e3 +
					(double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	/* The next version is built while this one is published (publish.c tables_next). */
	b = build(IN, "atk-hi-b");
	assert_int_equal(espgw_spd_sa4_kept(a), 1);
	assert_int_equal(espgw_spd_sa4_kept(b), 1);
	assert_true(bytes <= (size_t)ESPGW_MAX_SA_MAX * 2 + 64);
	espgw_spd_free(b);
	espgw_spd_free(a);
}

#define ATK_QUAD_RULES SPD_SA_RULES_MAX

/* Build time of n tunnel rules (10.x.y.0/24 -> 10.0.0.0/16, one SA each) in a direction. */
static double
atk_quad_build(unsigned int n, enum espgw_dir dir, bool one_sa, unsigned int *kept)
{
	struct espgw_sp_conf sp;
	struct espgw_spd *spd;
	struct timespec t0, t1;
	char name[32];
	unsigned int i;

	store_reset();
	for (i = 0; i < (one_sa ? 1 : n); i++) {
		snprintf(name, sizeof(name), "t%u", i);
		sa_add(name, dir);
	}
	for (i = 0; i < n; i++) {
		memset(&sp, 0, sizeof(sp));
		sp.dir = dir;
		sp.priority = 10;
		prefix_set(&sp.dst, "10.0.0.0/16");
		prefix_set(&sp.src, "10.0.0.0/24");
		sp.src.ip.bytes[1] = (uint8_t)(1 + i / 256);
		sp.src.ip.bytes[2] = (uint8_t)(i % 256);
		sp.proto = -1;
		sp.sport_hi = sp.dport_hi = 65535;
		if (one_sa) { /* each rule overlaps only the one before it: none is kept */
			sp.dport_lo = (uint16_t)i;
			sp.dport_hi = (uint16_t)(i + 1);
			prefix_set(&sp.src, "10.0.0.0/8");
		}
		sp.action = one_sa && i == 0 ? BYPASS : PROT;
		snprintf(sp.sa, sizeof(sp.sa), "t%u", one_sa ? 0 : i);
		diff_insert(&sp);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	spd = build(dir, dir == IN ? "atk-quad-in" : "atk-quad-out");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*kept = espgw_spd_sa4_kept(spd);
	espgw_spd_free(spd);
	return (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

/* The quadratic overlap check at its limit: inbound build time against outbound's. */
static void
test_attack_sa4_quadratic(void **state)
{
	unsigned int k_in, k_out, k_worst, k_wout;
	double in, out, worst, wout;

	(void)state;
	out = atk_quad_build(ATK_QUAD_RULES, OUT, false, &k_out);
	in = atk_quad_build(ATK_QUAD_RULES, IN, false, &k_in);
	wout = atk_quad_build(ATK_QUAD_RULES, OUT, true, &k_wout);
	worst = atk_quad_build(ATK_QUAD_RULES, IN, true, &k_worst);
	print_message("%u tunnel rules: outbound build %.1f ms, inbound %.1f ms (%u kept); "
		      "chain of overlaps on one SA: outbound %.1f ms, inbound %.1f ms (%u kept)\n",
			ATK_QUAD_RULES, out, in, k_in, wout, worst, k_worst);
	assert_int_equal(k_in, ATK_QUAD_RULES);
	scan_max = ESPGW_SPD_SCAN_MAX;
	buckets = true;
}

/*
 * attack (helper-48): buckets against rte_acl on nested sets. Each set
 * draws a palette of 3 to 5 prefix lengths among /0 /1 /8 /16 /24 /31 /32
 * and a few 32-bit "chains" (0.0.0.0, 255.255.255.255 and random ones):
 * every prefix is a chain cut at a palette length, on either side, so that
 * /1 holds /8 holds ... /32, identical prefixes take ties and different
 * priorities, and the bucketed side may switch from set to set.
 */
static uint32_t
atk_u32(uint32_t *seed)
{
	return lcg(seed) << 16 ^ lcg(seed);
}

static void
atk_nest_prefix(struct espgw_prefix *p, const uint32_t *chain, unsigned int n_chain,
		const uint8_t *lens, unsigned int n_lens, uint32_t *seed)
{
	uint32_t a = chain[lcg(seed) % n_chain];

	memset(p, 0, sizeof(*p));
	p->len = lens[lcg(seed) % n_lens];
	if (p->len == 0 && lcg(seed) % 2 == 0)
		return; /* "any" */
	p->ip.family = ESPGW_AF_INET;
	if (lcg(seed) % 8 == 0)
		a ^= 1u << (lcg(seed) % 32); /* a sibling or a cousin */
	p->ip.v4 = htonl(a);		     /* host bits set on purpose: the build clears them */
}

static void
test_attack_spd_bucket_nest(void **state)
{
	static const uint8_t all_lens[] = {0, 1, 8, 16, 24, 31, 32};
	static struct espgw_sp_conf sps[40];
	uint32_t seed = 48, set, n, i, chain[6], n_chain;
	uint8_t lens[5], side_lens[5];
	unsigned int n_lens, bucketed = 0, sets = 600;

	(void)state;
	for (set = 0; set < sets; set++) {
		sas_default();
		n_chain = 1 + lcg(&seed) % RTE_DIM(chain);
		chain[0] = 0;
		chain[1 % n_chain] = UINT32_MAX;
		for (i = 2; i < n_chain; i++)
			chain[i] = atk_u32(&seed);
		n_lens = 3 + lcg(&seed) % 3;
		for (i = 0; i < n_lens; i++)
			lens[i] = all_lens[lcg(&seed) % RTE_DIM(all_lens)];
		for (i = 0; i < 5; i++)
			side_lens[i] = all_lens[lcg(&seed) % RTE_DIM(all_lens)];
		n = 9 + lcg(&seed) % (RTE_DIM(sps) - 8);
		for (i = 0; i < n; i++) {
			diff_rule(&sps[i], &seed);
			if (sps[i].action == PROT)
				snprintf(sps[i].sa, sizeof(sps[i].sa), "out-%c",
						'a' + lcg(&seed) % 3);
			atk_nest_prefix(&sps[i].src, chain, n_chain, set % 2 ? lens : side_lens,
					set % 2 ? n_lens : 2, &seed);
			atk_nest_prefix(&sps[i].dst, chain, n_chain, set % 2 ? side_lens : lens,
					set % 2 ? 2 : n_lens, &seed);
			diff_insert(&sps[i]);
		}
		diff_compare(sps, n, &seed, set, &bucketed);
	}
	print_message("%u of %u sets in buckets\n", bucketed, sets);
	assert_true(bucketed >= sets / 4);
}

/*
 * attack (helper-48): the bucket limit at 8 and 9 rules. c protect rules
 * (dport 1000 + i) on one chain of sources, /8 /16 /24 /32 of 10.1.1.1
 * (four lengths besides "any"), behind them a catch-all bypass that every
 * bucket holds; three other tunnels around, one to 10.2.0.0/24 too. c = 7:
 * the bucket of 10.1.1.1/32 holds 8 rules, that of 10.2.0.0/24 9 (buckets
 * by source); c = 8: 9 on either side (rte_acl). A rule lost from a bucket
 * sends its protect-class traffic out in clear.
 */
static void
atk_nine(unsigned int c, const char *want_cls)
{
	static const char *const src[] = {
			"10.1.1.1/32", "10.1.0.0/16", "10.1.1.0/24", "10.0.0.0/8"};
	static const char *const other[][2] = {{"10.9.1.0/24", "10.8.1.0/24"},
			{"10.9.2.0/24", "10.8.2.0/24"}, {"10.9.3.0/24", "10.2.0.0/24"}};
	static const char *const sa[] = {"out-a", "out-b", "out-c"};
	struct sp_spec r = {OUT, 0, NULL, "10.2.0.0/24", 17, ANYP, 0, 0, PROT, NULL};
	const struct sp_spec any = {
			OUT, 1000, "0.0.0.0/0", "0.0.0.0/0", -1, ANYP, ANYP, BYPASS, NULL};
	struct key_case k[32];
	struct espgw_spd *spd;
	unsigned int i, n = 0;

	sas_default();
	for (i = 0; i < c; i++) {
		r.prio = 10 + i % 3; /* ties too: definition order */
		r.src = src[i % 4];
		r.dp_lo = r.dp_hi = (uint16_t)(1000 + i);
		r.sa = sa[i % 3];
		sp_add(&r);
		k[n++] = (struct key_case){
				"10.1.1.1", "10.2.0.9", 17, 7, (uint16_t)(1000 + i), SA(i % 3)};
		/* Outside the /32 and /24: only the /16 and /8 rules hold. */
		k[n++] = (struct key_case){"10.1.7.1", "10.2.0.9", 17, 7, (uint16_t)(1000 + i),
				i % 4 == 1 || i % 4 == 3 ? SA(i % 3) : BYP};
	}
	for (i = 0; i < RTE_DIM(other); i++) {
		r.prio = 5;
		r.src = other[i][0];
		r.dst = other[i][1];
		r.dp_lo = 0;
		r.dp_hi = 65535;
		r.sa = sa[i];
		sp_add(&r);
		k[n++] = (struct key_case){"10.9.1.1", "10.8.1.1", 17, 1, 2, SA(0)};
		r.dst = "10.2.0.0/24";
	}
	sp_add(&any);
	k[n++] = (struct key_case){"10.1.1.1", "10.2.0.9", 17, 7, (uint16_t)(1000 + c), BYP};
	k[n++] = (struct key_case){"10.1.1.1", "10.2.1.9", 17, 7, 1000, BYP};
	k[n++] = (struct key_case){"10.9.2.1", "10.8.2.200", 17, 1, 2, SA(1)};
	k[n++] = (struct key_case){"10.9.3.1", "10.2.0.200", 17, 1, 2, SA(2)};
	k[n++] = (struct key_case){"10.9.3.1", "10.8.2.200", 17, 1, 2, BYP};
	spd = build(OUT, "atk-nine");
	print_message("%u chain rules: %s\n", c, espgw_spd_classifier4(spd));
	assert_int_equal(strncmp(espgw_spd_classifier4(spd), want_cls, strlen(want_cls)), 0);
	check4(spd, k, n);
	espgw_spd_free(spd);
}

static void
test_attack_spd_bucket_nine(void **state)
{
	(void)state;
	atk_nine(7, "buckets by source");
	atk_nine(8, "rte_acl");
}

/*
 * attack (helper-48): at most 4 prefix lengths on the bucketed side ("any"
 * aside). Destinations /1 /8 /31 /32 of 255.255.255.255 and of 0.0.0.0
 * (network addresses at both ends, the /1s split the space) with the /32s
 * four to a table of 8 slots: buckets; a fifth length (/16): rte_acl, the
 * sources all one /24 so that neither side fits; five lengths without the
 * catch-all (no "any" on the side either): rte_acl. Keys at each boundary,
 * in each build: the same verdicts.
 */
static void
atk_lens(bool fifth, bool catch_all)
{
	static const struct sp_spec r[] = {
			{OUT, 10, "10.1.0.0/24", "255.255.255.255/32", -1, ANYP, ANYP, PROT,
					"out-a"},
			{OUT, 10, "10.1.0.0/24", "0.0.0.0/32", -1, ANYP, ANYP, PROT, "out-a"},
			{OUT, 10, "10.1.0.0/24", "10.2.0.1/32", -1, ANYP, ANYP, PROT, "out-a"},
			{OUT, 10, "10.1.0.0/24", "10.2.0.2/32", -1, ANYP, ANYP, PROT, "out-a"},
			{OUT, 20, "10.1.0.0/24", "255.255.255.254/31", -1, ANYP, ANYP, DROP, NULL},
			{OUT, 20, "10.1.0.0/24", "0.0.0.0/31", -1, ANYP, ANYP, DROP, NULL},
			/* Better than the /31s and /32s under them, by port: */
			{OUT, 5, "10.1.0.0/24", "255.0.0.0/8", 17, ANYP, 53, 53, PROT, "out-b"},
			{OUT, 5, "10.1.0.0/24", "0.0.0.0/8", 17, ANYP, 53, 53, PROT, "out-b"},
			{OUT, 30, "10.1.0.0/24", "128.0.0.0/1", -1, ANYP, ANYP, PROT, "out-c"},
			{OUT, 30, "10.1.0.0/24", "0.0.0.0/1", -1, ANYP, ANYP, BYPASS, NULL},
			{OUT, 1000, NULL, NULL, -1, ANYP, ANYP, BYPASS, NULL},
	};
	static const struct sp_spec five = {
			OUT, 1, "10.1.0.0/24", "10.2.0.0/16", 6, ANYP, ANYP, DROP, NULL};
	static const struct key_case k[] = {
			{"10.1.0.1", "255.255.255.255", 6, 1, 2, SA(0)},
			{"10.1.0.1", "255.255.255.254", 6, 1, 2, DISC},
			{"10.1.0.1", "255.255.255.253", 6, 1, 2, SA(2)},
			{"10.1.0.1", "255.255.255.255", 17, 1, 53, SA(1)},
			{"10.1.0.1", "255.1.2.3", 17, 1, 53, SA(1)},
			{"10.1.0.1", "254.255.255.255", 17, 1, 53, SA(2)},
			{"10.1.0.1", "128.0.0.0", 17, 1, 2, SA(2)},
			{"10.1.0.1", "127.255.255.255", 17, 1, 2, BYP},
			{"10.1.0.1", "0.0.0.0", 6, 1, 2, SA(0)},
			{"10.1.0.1", "0.0.0.1", 6, 1, 2, DISC},
			{"10.1.0.1", "0.0.0.2", 6, 1, 2, BYP},
			{"10.1.0.1", "0.0.0.0", 17, 1, 53, SA(1)},
			{"10.1.0.1", "0.255.255.255", 17, 1, 53, SA(1)},
			{"10.1.0.1", "1.0.0.0", 17, 1, 53, BYP},
			{"10.1.0.1", "10.2.0.1", 17, 1, 2, SA(0)},
			{"10.1.0.1", "10.2.0.2", 17, 1, 2, SA(0)},
			{"10.1.0.1", "10.2.0.3", 17, 1, 2, BYP},
			{"10.1.0.1", "10.2.0.0", 17, 1, 2, BYP},
			{"10.1.1.1", "10.2.0.1", 17, 1, 2, BYP},
			{"10.1.1.1", "255.255.255.255", 17, 1, 2, BYP},
			{"10.1.0.1", "10.2.0.3", 6, 1, 2, BYP},
	};
	static const struct key_case k5[] = {
			{"10.1.0.1", "10.2.0.3", 6, 1, 2, DISC},
			{"10.1.0.1", "10.2.0.1", 6, 1, 2, DISC},
			{"10.1.0.1", "10.3.0.1", 6, 1, 2, BYP},
	};
	struct key_case kk[RTE_DIM(k)];
	struct espgw_spd *spd;
	size_t i;

	sas_default();
	sps_add(r, RTE_DIM(r) - !catch_all);
	if (fifth)
		sp_add(&five);
	spd = build(OUT, "atk-lens");
	print_message("%s lengths%s: %s\n", fifth ? "5" : "4", catch_all ? "" : ", no any",
			espgw_spd_classifier4(spd));
	assert_string_equal(
			espgw_spd_classifier4(spd), fifth ? "rte_acl" : "buckets by destination");
	for (i = 0; i < RTE_DIM(k); i++) {
		kk[i] = k[i];
		if (!catch_all && strcmp(k[i].src, "10.1.1.1") == 0)
			kk[i].want = NONE; /* the catch-all's */
	}
	check4(spd, kk, fifth ? RTE_DIM(k) - 1 : RTE_DIM(k));
	if (fifth)
		check4(spd, k5, RTE_DIM(k5));
	espgw_spd_free(spd);
}

static void
test_attack_spd_bucket_lens(void **state)
{
	(void)state;
	atk_lens(false, true);
	atk_lens(true, true);
	atk_lens(true, false);
}

/* The group setups: which classifiers build() lets the SPD use. */
static int
use(unsigned int max, bool bkt)
{
	scan_max = max;
	buckets = bkt;
	return 0;
}

static int
acl_only(void **state)
{
	(void)state;
	return use(0, false);
}

static int
scan_all(void **state)
{
	(void)state;
	return use(DIFF_RULES_MAX, false);
}

static int
buckets_all(void **state)
{
	(void)state;
	return use(0, true);
}

static int
scan_default(void **state)
{
	(void)state;
	return use(ESPGW_SPD_SCAN_MAX, true);
}

int
main(int argc, char **argv)
{
	/* The rule tests on rte_acl alone, with every rule set scanned, and in buckets. */
	const struct CMUnitTest tests[] = {
			cmocka_unit_test_setup(test_classify4, acl_only),
			cmocka_unit_test_setup(test_classify6, acl_only),
			cmocka_unit_test_setup(test_both_families, acl_only),
			cmocka_unit_test_setup(test_direction, acl_only),
			cmocka_unit_test_setup(test_no_rules, acl_only),
			cmocka_unit_test_setup(test_errors, acl_only),
			cmocka_unit_test_setup(test_coexist, acl_only),
			cmocka_unit_test_setup(test_classify4, scan_all),
			cmocka_unit_test_setup(test_classify6, scan_all),
			cmocka_unit_test_setup(test_both_families, scan_all),
			cmocka_unit_test_setup(test_direction, scan_all),
			cmocka_unit_test_setup(test_no_rules, scan_all),
			cmocka_unit_test_setup(test_errors, scan_all),
			cmocka_unit_test_setup(test_coexist, scan_all),
			cmocka_unit_test_setup(test_classify4, buckets_all),
			cmocka_unit_test_setup(test_both_families, buckets_all),
			cmocka_unit_test_setup(test_direction, buckets_all),
			cmocka_unit_test_setup(test_errors, buckets_all),
			cmocka_unit_test_setup(test_coexist, buckets_all),
			cmocka_unit_test_setup(test_buckets_vs_acl, scan_default),
			cmocka_unit_test_setup(test_scan_vs_acl, scan_default),
			cmocka_unit_test_setup(test_extract4, scan_default),
			cmocka_unit_test_setup(test_extract6, scan_default),
			cmocka_unit_test_setup(test_packet_policy, scan_default),
			cmocka_unit_test_setup(test_scale, acl_only),
			cmocka_unit_test_setup(test_scale, scan_default),
			cmocka_unit_test_setup(test_attack_spd_scan_edges, scan_default),
			cmocka_unit_test_setup(test_attack_spd_scan_limit, scan_default),
			cmocka_unit_test_setup(test_attack_spd_scan_pair, scan_default),
			cmocka_unit_test_setup(test_sa_rule_kept, acl_only),
			cmocka_unit_test_setup(test_sa_rule_kept, buckets_all),
			cmocka_unit_test_setup(test_attack_sa4_vs_full, scan_default),
			cmocka_unit_test_setup(test_attack_sa4_pure, scan_default),
			cmocka_unit_test_setup(test_attack_sa4_high_slot, scan_default),
			cmocka_unit_test_setup(test_attack_sa4_quadratic, scan_default),
			cmocka_unit_test_setup(test_attack_spd_bucket_nine, scan_default),
			cmocka_unit_test_setup(test_attack_spd_bucket_lens, scan_default),
			cmocka_unit_test_setup(test_attack_spd_bucket_nest, scan_default),
	};
	int rc;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests_name("dpdk-spd", tests, NULL, NULL);
	espgw_store_fini(&store);
	rte_eal_cleanup();
	return rc;
}
