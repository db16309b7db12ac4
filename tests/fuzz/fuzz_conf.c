/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the configuration language (lib/conf, lib/ctl).
 *
 * An input whose first byte is not NUL is a config file: it is loaded twice,
 * as text up to its first NUL (espgw_conf_load_string) and as a file with all
 * its bytes (espgw_conf_load_file on a memfd, which must refuse NUL bytes),
 * each into a fresh store that is then freed. An input that starts with NUL is
 * one command already split into words (the rest, split at NUL bytes), as the
 * control tool will hand it over: espgw_conf_parse_cmd, then espgw_store_apply
 * on a store that already holds ports, SAs and a policy, so that references
 * resolve and the validation behind them runs too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "espgw_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What an "argv" input is applied on top of: every object kind a command can name. */
static const char base_conf[] =
		"port add lan0 dev net_null0 role protected address 10.1.0.1/24 "
		"address 2001:db8:a::1/64\n"
		"port add wan0 dev net_null1 role unprotected address 198.51.100.1/24 "
		"address 2001:db8:100::1/64\n"
		"crypto add c0 dev crypto_aesni_mb0\n"
		"sa add o4 dir out spi 0x1001 mode tunnel local 198.51.100.1 remote 203.0.113.1 "
		"aead aes-gcm-128 key 0x000102030405060708090a0b0c0d0e0f salt 0xa0a1a2a3\n"
		"sa add i4 dir in spi 0x2001 mode tunnel local 198.51.100.1 remote 203.0.113.1 "
		"aead aes-gcm-128 key 0x101112131415161718191a1b1c1d1e1f salt 0xb0b1b2b3\n"
		"sa add i6 dir in spi 0x2006 mode tunnel local 2001:db8:100::1 "
		"remote 2001:db8:200::1 cipher aes-cbc-128 key 0x101112131415161718191a1b1c1d1e1f "
		"auth hmac-sha1-96 auth-key 0x0011223344556677889900112233445566778899\n"
		"sp add out src 10.1.0.0/24 dst 10.2.0.0/24 protect o4\n"
		"route add 0.0.0.0/0 via 198.51.100.254 port wan0\n"
		"neighbor add 198.51.100.254 lladdr 02:00:00:00:02:fe port wan0\n";

static FILE *
sink(void)
{
	static FILE *f;

	if (f == NULL)
		f = fopen("/dev/null", "w");
	return f;
}

static void
load_text(const uint8_t *data, size_t size)
{
	struct espgw_store s;
	char *text = malloc(size + 1);

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	espgw_store_init(&s);
	espgw_conf_load_string("fuzz.conf", text, &s, sink());
	espgw_store_fini(&s);
	free(text);
}

/* The file loader reads through stdio in growing chunks: give it the raw bytes. */
static void
load_file(const uint8_t *data, size_t size)
{
	struct espgw_store s;
	char path[64];
	int fd = memfd_create("fuzz.conf", MFD_CLOEXEC);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	espgw_store_init(&s);
	espgw_conf_load_file(path, &s, sink());
	espgw_store_fini(&s);
	close(fd);
}

/* Words separated by NUL bytes; an empty word is kept (the lexer never makes one). */
static int
split_words(char *buf, size_t size, char *argv[], int max)
{
	size_t i, start = 0;
	int argc = 0;

	for (i = 0; i <= size && argc < max; i++) {
		if (i < size && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		argv[argc++] = buf + start;
		start = i + 1;
	}
	return argc;
}

static void
apply_words(const uint8_t *data, size_t size)
{
	char *argv[ESPGW_CONF_ARGS_MAX];
	struct espgw_store s;
	struct espgw_req req;
	struct espgw_err err;
	char *buf = malloc(size + 1);
	int argc;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	argc = size == 0 ? 0 : split_words(buf, size, argv, ESPGW_CONF_ARGS_MAX);
	espgw_store_init(&s);
	if (espgw_conf_load_string("base.conf", base_conf, &s, stderr) != 0)
		abort(); /* the harness itself is broken */
	if (espgw_conf_parse_cmd(argc, argv, &req, &err) == 0)
		espgw_store_apply(&s, &req, &err);
	explicit_bzero(&req, sizeof(req));
	espgw_store_fini(&s);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == '\0') {
		apply_words(data + 1, size - 1);
		return 0;
	}
	load_text(data, size);
	load_file(data, size);
	return 0;
}
