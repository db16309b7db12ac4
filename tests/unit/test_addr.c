/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/common address helpers: IP and prefix parsing, formatting, prefix
 * containment, host-bit check, MAC parsing. Table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "espgw_addr.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

static void
test_ip_parse(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint8_t family;
	} cases[] = {
			{"192.0.2.1", 0, ESPGW_AF_INET},
			{"0.0.0.0", 0, ESPGW_AF_INET},
			{"255.255.255.255", 0, ESPGW_AF_INET},
			{"2001:db8::1", 0, ESPGW_AF_INET6},
			{"::", 0, ESPGW_AF_INET6},
			{"::ffff:192.0.2.1", 0, ESPGW_AF_INET6},
			{"2001:DB8::A", 0, ESPGW_AF_INET6},
			{"", -1, 0},
			{"1.2.3", -1, 0},
			{"1.2.3.4.5", -1, 0},
			{"256.0.0.1", -1, 0},
			{"1.2.3.4/24", -1, 0},
			{" 1.2.3.4", -1, 0},
			{"2001:db8:::1", -1, 0},
			{"2001:db8::g", -1, 0},
			{"1:2:3:4:5:6:7:8:9", -1, 0},
			{"localhost", -1, 0},
	};
	struct espgw_ip ip;
	unsigned int i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		if (espgw_ip_parse(cases[i].s, &ip) != cases[i].rc)
			fail_msg("espgw_ip_parse(\"%s\") != %d", cases[i].s, cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(ip.family, cases[i].family);
	}
	assert_int_equal(espgw_ip_parse("192.0.2.1", &ip), 0);
	assert_memory_equal(ip.bytes, "\xc0\x00\x02\x01", 4); /* network byte order */
	assert_int_equal(espgw_ip_parse("2001:db8::1", &ip), 0);
	assert_memory_equal(ip.v6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
}

static void
test_prefix_parse(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint8_t len;
	} cases[] = {
			{"10.0.0.0/8", 0, 8},
			{"10.0.0.1", 0, 32},
			{"0.0.0.0/0", 0, 0},
			{"10.1.0.1/32", 0, 32},
			{"2001:db8::/32", 0, 32},
			{"::/0", 0, 0},
			{"2001:db8::1", 0, 128},
			{"2001:db8::/128", 0, 128},
			{"10.0.0.0/33", -1, 0},
			{"10.0.0.0/", -1, 0},
			{"10.0.0.0/-1", -1, 0},
			{"10.0.0.0/+8", -1, 0},
			{"10.0.0.0/8x", -1, 0},
			{"10.0.0.0/8 ", -1, 0},
			{"/8", -1, 0},
			{"2001:db8::/129", -1, 0},
			{"10.0.0/8", -1, 0},
			{"", -1, 0},
	};
	struct espgw_prefix p;
	unsigned int i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		if (espgw_prefix_parse(cases[i].s, &p) != cases[i].rc)
			fail_msg("espgw_prefix_parse(\"%s\") != %d", cases[i].s, cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(p.len, cases[i].len);
	}
	/* Host bits are kept (a port address is "10.1.0.1/24"). */
	assert_int_equal(espgw_prefix_parse("10.1.0.1/24", &p), 0);
	assert_memory_equal(p.ip.bytes, "\x0a\x01\x00\x01", 4);
}

static void
test_prefix_is_network(void **state)
{
	static const struct {
		const char *s;
		bool net;
	} cases[] = {
			{"10.0.0.0/8", true},
			{"10.0.0.1/8", false},
			{"10.1.0.0/15", false},
			{"10.0.0.0/15", true},
			{"0.0.0.0/0", true},
			{"1.0.0.0/0", false},
			{"10.1.0.1/32", true},
			{"10.1.0.128/25", true},
			{"10.1.0.64/25", false},
			{"2001:db8::/32", true},
			{"2001:db8::1/64", false},
			{"2001:db8:8000::/33", true},
			{"2001:db8:4000::/33", false},
			{"::1/128", true},
			{"::/0", true},
			{"::1/127", false},
	};
	struct espgw_prefix p;
	unsigned int i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		assert_int_equal(espgw_prefix_parse(cases[i].s, &p), 0);
		if (espgw_prefix_is_network(&p) != cases[i].net)
			fail_msg("espgw_prefix_is_network(%s) != %d", cases[i].s, cases[i].net);
	}
}

static void
test_prefix_contains(void **state)
{
	static const struct {
		const char *prefix, *ip;
		bool in;
	} cases[] = {
			{"10.1.0.0/24", "10.1.0.255", true},
			{"10.1.0.0/24", "10.1.1.0", false},
			{"10.1.0.0/24", "10.1.0.0", true},
			{"0.0.0.0/0", "203.0.113.9", true},
			{"10.1.0.1/24", "10.1.0.77", true},
			{"10.0.0.0/9", "10.127.255.255", true},
			{"10.0.0.0/9", "10.128.0.0", false},
			{"192.0.2.1/32", "192.0.2.1", true},
			{"192.0.2.1/32", "192.0.2.2", false},
			{"10.1.0.0/24", "2001:db8::1", false},
			{"::/0", "10.1.0.1", false},
			{"2001:db8:a::/64", "2001:db8:a::ffff", true},
			{"2001:db8:a::/64", "2001:db8:b::1", false},
			{"2001:db8:a::/47", "2001:db8:b::1", true},
			{"2001:db8:a::/47", "2001:db8:c::1", false},
			{"::/0", "2001:db8::1", true},
	};
	struct espgw_prefix p;
	struct espgw_ip ip;
	unsigned int i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		assert_int_equal(espgw_prefix_parse(cases[i].prefix, &p), 0);
		assert_int_equal(espgw_ip_parse(cases[i].ip, &ip), 0);
		if (espgw_prefix_contains(&p, &ip) != cases[i].in)
			fail_msg("contains(%s, %s) != %d", cases[i].prefix, cases[i].ip,
					cases[i].in);
	}
}

static void
test_ip_equal_unspec(void **state)
{
	struct espgw_ip a, b, zero = {0};

	(void)state;
	assert_int_equal(espgw_ip_parse("10.0.0.1", &a), 0);
	assert_int_equal(espgw_ip_parse("10.0.0.1", &b), 0);
	assert_true(espgw_ip_equal(&a, &b));
	assert_int_equal(espgw_ip_parse("10.0.0.2", &b), 0);
	assert_false(espgw_ip_equal(&a, &b));
	/* Same first four bytes, other family. */
	assert_int_equal(espgw_ip_parse("a00:1::", &b), 0);
	assert_memory_equal(a.bytes, b.bytes, 4);
	assert_false(espgw_ip_equal(&a, &b));
	assert_int_equal(espgw_ip_parse("2001:db8::1", &a), 0);
	assert_int_equal(espgw_ip_parse("2001:db8:0::1", &b), 0);
	assert_true(espgw_ip_equal(&a, &b));
	assert_true(espgw_ip_is_unspec(&zero));
	assert_false(espgw_ip_is_unspec(&a));
}

static void
test_fmt(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
			{"192.0.2.1", "192.0.2.1"},
			{"2001:DB8:0:0::1", "2001:db8::1"},
			{"::", "::"},
			{"0.0.0.0/0", "0.0.0.0/0"},
			{"10.1.0.1/24", "10.1.0.1/24"},
			{"2001:db8:a::/64", "2001:db8:a::/64"},
			{"::/0", "::/0"},
			{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
					"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"},
	};
	char buf[ESPGW_IP_STRLEN];
	struct espgw_prefix p;
	struct espgw_ip ip = {0};
	unsigned int i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		if (strchr(cases[i].in, '/') != NULL) {
			assert_int_equal(espgw_prefix_parse(cases[i].in, &p), 0);
			assert_string_equal(espgw_prefix_fmt(&p, buf, sizeof(buf)), cases[i].out);
		} else {
			assert_int_equal(espgw_ip_parse(cases[i].in, &ip), 0);
			assert_string_equal(espgw_ip_fmt(&ip, buf, sizeof(buf)), cases[i].out);
		}
	}
	memset(&ip, 0, sizeof(ip));
	assert_string_equal(espgw_ip_fmt(&ip, buf, sizeof(buf)), "-");
}

static void
test_mac_parse(void **state)
{
	static const struct {
		const char *s;
		int rc;
	} cases[] = {
			{"02:00:00:00:02:fe", 0},
			{"02:00:00:00:02:FE", 0},
			{"ff:ff:ff:ff:ff:ff", 0},
			{"", -1},
			{"02:00:00:00:02", -1},
			{"02:00:00:00:02:fe:01", -1},
			{"02-00-00-00-02-fe", -1},
			{"02:00:00:00:02:fg", -1},
			{"2:0:0:0:2:fe", -1},
			{"02:00:00:00:02:fe ", -1},
			{"0200.0000.02fe", -1},
	};
	static const uint8_t want[6] = {0x02, 0, 0, 0, 0x02, 0xfe};
	uint8_t mac[6];
	unsigned int i;

	(void)state;
	for (i = 0; i < N(cases); i++)
		if (espgw_mac_parse(cases[i].s, mac) != cases[i].rc)
			fail_msg("espgw_mac_parse(\"%s\") != %d", cases[i].s, cases[i].rc);
	assert_int_equal(espgw_mac_parse("02:00:00:00:02:FE", mac), 0);
	assert_memory_equal(mac, want, 6);
}

/*
 * 17 characters that sscanf's %2x accepts but that are not MACs: a sign, a
 * blank or a "0x" where a hex digit must be.
 */
static void
test_mac_parse_strict(void **state)
{
	static const char *const bad[] = {
			"+2:00:00:00:02:fe",
			" 2:00:00:00:02:fe",
			"02:+0:00:00:02:fe",
			"0x:00:00:00:02:fe",
			"02:00:00:00:02:-1",
	};
	uint8_t mac[6];
	unsigned int i;

	(void)state;
	for (i = 0; i < N(bad); i++)
		if (espgw_mac_parse(bad[i], mac) != -1)
			fail_msg("espgw_mac_parse(\"%s\") accepted a malformed MAC", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_ip_parse),
			cmocka_unit_test(test_prefix_parse),
			cmocka_unit_test(test_prefix_is_network),
			cmocka_unit_test(test_prefix_contains),
			cmocka_unit_test(test_ip_equal_unspec),
			cmocka_unit_test(test_fmt),
			cmocka_unit_test(test_mac_parse),
			cmocka_unit_test(test_mac_parse_strict),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
