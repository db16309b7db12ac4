/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Value parsers of the configuration language: numbers (decimal or 0x hex),
 * hex byte strings (keys: their text never goes into a message), names,
 * addresses, prefixes, MACs and keywords.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

static bool
all_digits(const char *s, int (*is)(int))
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is((unsigned char)*s))
			return false;
	return true;
}

/*
 * Messages echo the offending token, except one that may be a key in the
 * wrong place (more than 16 hex digits: too long for any number we take).
 */
const char *
espgw_conf_show(const char *tok)
{
	const char *d = tok[0] == '0' && tok[1] == 'x' ? tok + 2 : tok;

	if (strlen(d) > 16 && all_digits(d, isxdigit))
		return "<hex value>";
	return tok;
}

/* strtoull alone would take "-1", " 7" and "010" (octal): be strict. */
static int
parse_u64(const char *s, uint64_t *v)
{
	int base = 10;

	if (s[0] == '0' && s[1] == 'x') {
		s += 2;
		base = 16;
	}
	if (!all_digits(s, base == 16 ? isxdigit : isdigit))
		return -1;
	errno = 0;
	*v = strtoull(s, NULL, base);
	return errno == 0 ? 0 : -1;
}

int
espgw_conf_u64(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *v,
		struct espgw_err *err)
{
	if (parse_u64(s, v) < 0)
		return espgw_err_set(
				err, "invalid number '%.40s' for %s", espgw_conf_show(s), what);
	if (*v < min || *v > max)
		return espgw_err_set(err, "%s must be %" PRIu64 "..%" PRIu64 ", got %.40s", what,
				min, max, espgw_conf_show(s));
	return 0;
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
espgw_conf_hex(const char *what, const char *s, uint8_t *out, size_t max, uint8_t *len,
		struct espgw_err *err)
{
	size_t n, i;

	if (s[0] != '0' || s[1] != 'x')
		return espgw_err_set(err, "%s must be written 0x followed by hex digits", what);
	s += 2;
	n = strlen(s);
	if (n == 0)
		return espgw_err_set(err, "%s is empty", what);
	for (i = 0; i < n; i++)
		if (hex_nibble(s[i]) < 0)
			return espgw_err_set(err, "invalid hex in %s", what);
	if (n % 2 != 0)
		return espgw_err_set(err, "odd number of hex digits in %s", what);
	if (n / 2 > max)
		return espgw_err_set(err, "%s is longer than %zu bytes", what, max);
	for (i = 0; i < n / 2; i++)
		out[i] = (uint8_t)(hex_nibble(s[2 * i]) << 4 | hex_nibble(s[2 * i + 1]));
	*len = (uint8_t)(n / 2);
	return 0;
}

int
espgw_conf_name(const char *what, const char *s, char out[ESPGW_NAME_MAX], struct espgw_err *err)
{
	if (!espgw_name_valid(s))
		return espgw_err_set(err,
				"invalid %s name '%.40s' (1..%u characters of A-Z a-z 0-9 _ . -)",
				what, espgw_conf_show(s), ESPGW_NAME_MAX - 1);
	snprintf(out, ESPGW_NAME_MAX, "%s", s);
	return 0;
}

int
espgw_conf_dev(const char *s, char out[ESPGW_DEV_MAX], struct espgw_err *err)
{
	if (strlen(s) >= ESPGW_DEV_MAX)
		return espgw_err_set(
				err, "dev name is longer than %u characters", ESPGW_DEV_MAX - 1);
	snprintf(out, ESPGW_DEV_MAX, "%s", s);
	return 0;
}

int
espgw_conf_ip(const char *what, const char *s, struct espgw_ip *ip, struct espgw_err *err)
{
	if (espgw_ip_parse(s, ip) < 0)
		return espgw_err_set(
				err, "invalid address '%.60s' for %s", espgw_conf_show(s), what);
	return 0;
}

int
espgw_conf_prefix(const char *what, const char *s, struct espgw_prefix *p, struct espgw_err *err)
{
	if (espgw_prefix_parse(s, p) < 0)
		return espgw_err_set(
				err, "invalid prefix '%.60s' for %s", espgw_conf_show(s), what);
	return 0;
}

int
espgw_conf_mac(const char *what, const char *s, uint8_t mac[6], struct espgw_err *err)
{
	if (espgw_mac_parse(s, mac) < 0)
		return espgw_err_set(err, "invalid MAC '%.40s' for %s", espgw_conf_show(s), what);
	return 0;
}

/* "a|b|c" for messages. */
static void
word_list(const char *const words[], char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; words[i] != NULL && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "|" : "", words[i]);
}

int
espgw_conf_word(const char *what, const char *s, const char *const words[], int *idx,
		struct espgw_err *err)
{
	char list[128];
	int i;

	for (i = 0; words[i] != NULL; i++) {
		if (strcmp(words[i], s) == 0) {
			*idx = i;
			return 0;
		}
	}
	word_list(words, list, sizeof(list));
	return espgw_err_set(
			err, "invalid %s '%.40s' (expected %s)", what, espgw_conf_show(s), list);
}
