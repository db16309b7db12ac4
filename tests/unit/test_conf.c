/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration language end to end (lexer, parser, store): valid forms
 * of every command and option with the resulting store fields, and invalid
 * forms with the exact "FILE:LINE: message" they must print. Each table row
 * is its own cmocka test, named after the row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "espgw_conf.h"

/* Loaded as "base.conf" before every case; the case itself is "t.conf". */
static const char base_conf[] =
		"port add lan0 dev net_tap0 role protected address 10.1.0.1/24 address "
		"2001:db8:a::1/64\n"
		"port add wan0 dev net_tap1 role unprotected address 198.51.100.1/24 "
		"address 2001:db8:100::1/64\n"
		"crypto add c0 dev crypto_aesni_mb0\n"
		"sa add o4 dir out spi 0x1001 mode tunnel local 198.51.100.1 remote 203.0.113.1 "
		"aead aes-gcm-128 key 0x000102030405060708090a0b0c0d0e0f salt 0xa0a1a2a3\n"
		"sa add i4 dir in spi 0x2001 mode tunnel local 198.51.100.1 remote 203.0.113.1 "
		"aead aes-gcm-128 key 0x101112131415161718191a1b1c1d1e1f salt 0xb0b1b2b3\n"
		"sp add out src 10.1.0.0/24 dst 10.2.0.0/24 protect o4\n"
		"route add 0.0.0.0/0 via 198.51.100.254 port wan0\n";

#define SA_HEAD(name, dir, spi)                                                          \
	"sa add " name " dir " dir " spi " spi " mode tunnel local 198.51.100.1 remote " \
	"203.0.113.1 "
#define SA6_HEAD(name, dir, spi)               \
	"sa add " name " dir " dir " spi " spi \
	" mode tunnel local 2001:db8:100::1 remote 2001:db8:200::1 "
#define H16 "00112233445566778899aabbccddeeff" /* 16 bytes of hex digits */
#define K16 "0x" H16
#define K32 K16 H16
#define K48 K32 H16
#define K64 K48 H16
#define GCM "aead aes-gcm-128 key " K16 " salt 0x01020304"
/* Another salt: no two SAs of one store share key and salt (sa_check_key). */
#define GCM_SALT(salt) "aead aes-gcm-128 key " K16 " salt " salt
#define CBC	       "cipher aes-cbc-128 key " K16 " auth hmac-sha256-128 auth-key " K32

/* Load text into s as fname; *out gets everything printed (caller frees). */
static int
load(struct espgw_store *s, const char *fname, const char *text, char **out)
{
	size_t len;
	FILE *f = open_memstream(out, &len);
	int n;

	assert_non_null(f);
	n = espgw_conf_load_string(fname, text, s, f);
	fclose(f);
	return n;
}

static unsigned int
n_objects(const struct espgw_store *s)
{
	return s->n_ports + s->n_sas + s->n_sps + s->n_routes + s->n_neighs + s->n_cryptos;
}

static int
setup(void **state)
{
	struct espgw_store *s = calloc(1, sizeof(*s));
	char *out = NULL;

	if (s == NULL)
		return -1;
	espgw_store_init(s);
	if (load(s, "base.conf", base_conf, &out) != 0) {
		fprintf(stderr, "base.conf does not load:\n%s", out);
		free(out);
		return -1;
	}
	free(out);
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	espgw_store_fini(*state);
	free(*state);
	return 0;
}

/* ---- invalid forms: exact output ---- */

struct bad_case {
	const char *name;
	const char *text;
	const char *expect;   /* full output */
	unsigned int applied; /* objects the case adds despite its errors */
};

/* One case per block reads better than any reflow. */
/* clang-format off */
static const struct bad_case bad_cases[] = {
	/* hex values and keys (the key text itself must never be printed) */
	{"bad hex", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key "
		"0x00112233445566778899aabbccddeezz salt 0x01020304",
		"t.conf:1: invalid hex in key\n"},
	{"odd hex", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key "
		"0x00112233445566778899aabbccddeef salt 0x01020304",
		"t.conf:1: odd number of hex digits in key\n"},
	{"hex without 0x", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key "
		"00112233445566778899aabbccddeeff salt 0x01020304",
		"t.conf:1: key must be written 0x followed by hex digits\n"},
	{"empty hex", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key 0x salt 0x01020304",
		"t.conf:1: key is empty\n"},
	{"key too long", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key " K64 "00 salt "
		"0x01020304",
		"t.conf:1: key is longer than 64 bytes\n"},
	{"wrong key length", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key "
		"0x00112233445566778899aabbccddee salt 0x01020304",
		"t.conf:1: key must be 16 bytes for aes-gcm-128, got 15\n"},
	{"wrong key length gcm256", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-256 key " K16 " "
		"salt 0x01020304",
		"t.conf:1: key must be 32 bytes for aes-gcm-256, got 16\n"},
	{"wrong auth-key length", SA_HEAD("x", "out", "0x3001") "cipher aes-cbc-128 key " K16 " "
		"auth hmac-sha256-128 auth-key " K16,
		"t.conf:1: auth-key must be 32 bytes for hmac-sha256-128, got 16\n"},
	{"missing auth-key", SA_HEAD("x", "out", "0x3001") "cipher aes-cbc-256 key " K32 " auth "
		"hmac-sha1-96",
		"t.conf:1: missing auth-key for hmac-sha1-96 (20 bytes)\n"},
	{"missing key", SA_HEAD("x", "out", "0x3001") "aead chacha20-poly1305 salt 0x01020304",
		"t.conf:1: missing key for chacha20-poly1305 (32 bytes)\n"},
	{"salt wrong length", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key " K16 " salt "
		"0x010203",
		"t.conf:1: salt must be 4 bytes, got 3\n"},
	{"salt too long", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key " K16 " salt "
		"0x0102030405",
		"t.conf:1: salt is longer than 4 bytes\n"},
	{"missing salt gcm", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key " K16,
		"t.conf:1: aes-gcm-128 needs a salt (4 bytes, RFC 4106)\n"},
	{"missing salt ctr", SA_HEAD("x", "out", "0x3001") "cipher aes-ctr-128 key " K16 " auth "
		"hmac-sha256-128 auth-key " K32,
		"t.conf:1: aes-ctr-128 needs a salt (4 bytes, RFC 3686)\n"},
	{"missing salt gmac", SA_HEAD("x", "out", "0x3001") "auth aes-gmac-128 key " K16,
		"t.conf:1: aes-gmac-128 needs a salt (4 bytes, RFC 4543)\n"},
	{"salt on cbc", SA_HEAD("x", "out", "0x3001") CBC " salt 0x01020304",
		"t.conf:1: aes-cbc-128 takes no salt\n"},
	{"key on null", SA_HEAD("x", "out", "0x3001") "cipher null key " K16 " auth "
		"hmac-sha1-96 auth-key 0x0011223344556677889900112233445566778899",
		"t.conf:1: null takes no key\n"},
	/* algorithms and transform shapes */
	{"unknown algorithm", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-512 key " K16 " salt "
		"0x01020304",
		"t.conf:1: unknown aead algorithm 'aes-gcm-512'\n"},
	{"algorithm of another kind", SA_HEAD("x", "out", "0x3001") "cipher aes-gcm-128 key " K16
		" salt 0x01020304",
		"t.conf:1: aes-gcm-128 is an algorithm for 'aead', not 'cipher'\n"},
	{"confidentiality only", SA_HEAD("x", "out", "0x3001") "cipher aes-cbc-128 key " K16,
		"t.conf:1: cipher aes-cbc-128 needs an auth algorithm (confidentiality-only ESP "
		"is refused)\n"},
	{"aead with cipher", SA_HEAD("x", "out", "0x3001") GCM " cipher null",
		"t.conf:1: aead cannot be combined with cipher or auth\n"},
	{"aead with auth-key", SA_HEAD("x", "out", "0x3001") GCM " auth-key " K32,
		"t.conf:1: auth-key is only used with an hmac auth algorithm\n"},
	{"hmac alone", SA_HEAD("x", "out", "0x3001") "auth hmac-sha256-128 auth-key " K32,
		"t.conf:1: auth hmac-sha256-128 needs a cipher (use cipher null for integrity "
		"only)\n"},
	{"gmac with cipher", SA_HEAD("x", "out", "0x3001") "cipher null auth aes-gmac-128 key "
		K16 " salt 0x01020304",
		"t.conf:1: aes-gmac-128 is integrity-only and cannot be combined with a cipher\n"},
	{"gmac with auth-key", SA_HEAD("x", "out", "0x3001") "auth aes-gmac-128 auth-key " K16
		" salt 0x01020304",
		"t.conf:1: aes-gmac-128 uses key, not auth-key\n"},
	{"gmac with esn", SA_HEAD("x", "in", "0x3001") "auth aes-gmac-256 key " K32
		" salt 0x01020304 esn on",
		"t.conf:1: SA x: aes-gmac-256 with esn on is not supported (DPDK 22.11 rte_ipsec "
		"authenticates the ESN high bits in the wrong place, RFC 4543 3)\n"},
	/* proto ah (RFC 4302): integrity only */
	{"ah unknown proto", SA_HEAD("x", "out", "0x3001") "proto gre auth hmac-sha1-96 "
		"auth-key " K16,
		"t.conf:1: invalid proto 'gre' (expected esp|ah)\n"},
	{"ah with aead", SA_HEAD("x", "out", "0x3001") "proto ah aead aes-gcm-128 key " K16
		" salt 0x01020304",
		"t.conf:1: proto ah authenticates only (RFC 4302): no aead or cipher, use auth\n"},
	{"ah with cipher", SA_HEAD("x", "out", "0x3001") "proto ah cipher null auth "
		"hmac-sha256-128 auth-key " K32,
		"t.conf:1: proto ah authenticates only (RFC 4302): no aead or cipher, use auth\n"},
	{"ah without auth", SA_HEAD("x", "out", "0x3001") "proto ah",
		"t.conf:1: SA x: proto ah needs an auth algorithm\n"},
	{"ah hmac with key", SA_HEAD("x", "out", "0x3001") "proto ah auth hmac-sha256-128 "
		"key " K32,
		"t.conf:1: hmac-sha256-128 uses auth-key, not key or salt\n"},
	{"ah hmac key length", SA_HEAD("x", "out", "0x3001") "proto ah auth hmac-sha256-128 "
		"auth-key " K16,
		"t.conf:1: auth-key must be 32 bytes for hmac-sha256-128, got 16\n"},
	{"ah gmac without salt", SA_HEAD("x", "out", "0x3001") "proto ah auth aes-gmac-128 "
		"key " K16,
		"t.conf:1: aes-gmac-128 needs a salt (4 bytes, RFC 4543)\n"},
	{"ah gmac with auth-key", SA_HEAD("x", "out", "0x3001") "proto ah auth aes-gmac-128 "
		"auth-key " K16 " salt 0x01020304",
		"t.conf:1: aes-gmac-128 uses key, not auth-key\n"},
	{"ah same spi as esp", SA_HEAD("x", "out", "0x1001") "proto ah auth hmac-sha1-96 "
		"auth-key " K16 "00112233",
		"t.conf:1: spi 0x1001 is already used by outbound SA o4\n"},
	{"no transform", SA_HEAD("x", "out", "0x3001"),
		"t.conf:1: SA x needs aead, cipher with auth, or auth aes-gmac-N\n"},
	/* SA identity */
	{"duplicate SA name", SA_HEAD("o4", "out", "0x3001") GCM,
		"t.conf:1: SA o4 already exists\n"},
	{"duplicate SPI same direction", SA_HEAD("x", "out", "0x1001") GCM,
		"t.conf:1: spi 0x1001 is already used by outbound SA o4\n"},
	{"duplicate SPI inbound", SA_HEAD("x", "in", "8193") GCM,
		"t.conf:1: spi 0x2001 is already used by inbound SA i4\n"},
	{"reserved SPI", SA_HEAD("x", "out", "255") GCM,
		"t.conf:1: spi 255 is reserved (1..255, RFC 4303 2.1)\n"},
	{"reserved SPI 1", SA_HEAD("x", "out", "1") GCM,
		"t.conf:1: spi 1 is reserved (1..255, RFC 4303 2.1)\n"},
	{"SPI zero", SA_HEAD("x", "out", "0") GCM,
		"t.conf:1: spi 0 is invalid (RFC 4303 2.1)\n"},
	{"SPI too large", SA_HEAD("x", "out", "0x100000000") GCM,
		"t.conf:1: spi must be 0..4294967295, got 0x100000000\n"},
	{"bad SA name", SA_HEAD("bad!name", "out", "0x3001") GCM,
		"t.conf:1: invalid SA name 'bad!name' (1..31 characters of A-Z a-z 0-9 _ . -)\n"},
	{"SA name too long", SA_HEAD("a234567890123456789012345678901x", "out", "0x3001") GCM,
		"t.conf:1: invalid SA name 'a234567890123456789012345678901x' (1..31 characters "
		"of A-Z a-z 0-9 _ . -)\n"},
	{"bad dir", SA_HEAD("x", "sideways", "0x3001") GCM,
		"t.conf:1: invalid dir 'sideways' (expected in|out)\n"},
	{"bad mode", "sa add x dir out spi 0x3001 mode beet local 198.51.100.1 "
		"remote 203.0.113.1 " GCM,
		"t.conf:1: invalid mode 'beet' (expected tunnel|transport)\n"},
	{"encap bad kind", SA_HEAD("x", "out", "0x3001") GCM " encap tcp",
		"t.conf:1: invalid encap 'tcp' (expected udp)\n"},
	{"encap ports without encap", SA_HEAD("x", "out", "0x3001") GCM " sport 4600",
		"t.conf:1: sport and dport are the UDP ports of encap udp\n"},
	{"encap port 0", SA_HEAD("x", "out", "0x3001") GCM " encap udp dport 0",
		"t.conf:1: dport must be 1..65535, got 0\n"},
	{"nat-oa outbound", "sa add x dir out spi 0x3001 mode transport local 198.51.100.1 "
		"remote 203.0.113.1 " GCM " encap udp nat-oa-src 192.168.1.7",
		"t.conf:1: nat-oa-src and nat-oa-dst are for inbound SAs: they fix the checksums "
		"of what the peer sent (RFC 3948 3.1.2)\n"},
	{"nat-oa tunnel", SA_HEAD("x", "in", "0x3001") GCM " encap udp nat-oa-dst 192.168.1.7",
		"t.conf:1: nat-oa-src and nat-oa-dst need mode transport and encap udp (RFC 3948 "
		"3.1.2)\n"},
	{"nat-oa without encap", "sa add x dir in spi 0x3001 mode transport local 198.51.100.1 "
		"remote 203.0.113.1 " GCM " nat-oa-src 192.168.1.7",
		"t.conf:1: nat-oa-src and nat-oa-dst need mode transport and encap udp (RFC 3948 "
		"3.1.2)\n"},
	{"nat-oa family", "sa add x dir in spi 0x3001 mode transport local 198.51.100.1 "
		"remote 203.0.113.1 " GCM " encap udp nat-oa-dst 2001:db8::7",
		"t.conf:1: nat-oa-dst 2001:db8::7 is not of the SA's family\n"},
	{"nat-oa bad address", "sa add x dir in spi 0x3001 mode transport local 198.51.100.1 "
		"remote 203.0.113.1 " GCM " encap udp nat-oa-src 192.168.1",
		"t.conf:1: invalid address '192.168.1' for nat-oa-src\n"},
	{"ah with encap udp", "sa add x dir out spi 0x3001 mode tunnel proto ah local 198.51.100.1 "
		"remote 203.0.113.1 auth hmac-sha256-128 auth-key " K32 " encap udp",
		"t.conf:1: encap udp is for ESP: AH cannot cross a NAT (RFC 3948)\n"},
	{"nat-keepalive too long", "set nat-keepalive 3601",
		"t.conf:1: nat-keepalive must be 0..3600, got 3601\n"},
	{"transport ttl", "sa add x dir out spi 0x3001 mode transport local 198.51.100.1 "
		"remote 203.0.113.1 " GCM " ttl 9",
		"t.conf:1: ttl, dscp, df and flow-label set a tunnel's outer header: not with "
		"mode transport\n"},
	{"transport policy not its endpoints", "sa add x dir out spi 0x3001 mode transport "
		"local 198.51.100.1 remote 203.0.113.1 " GCM "\n"
		"sp add out src 10.1.0.0/24 dst 203.0.113.1/32 protect x",
		"t.conf:2: SA x is a transport SA: its policies need src 198.51.100.1 and dst "
		"203.0.113.1 (host prefixes)\n", 1},
	{"transport declared policy not its endpoints", "sa declare x dir in\n"
		"sp add in src 203.0.113.0/24 dst 198.51.100.1/32 protect x\n"
		"sa add x dir in spi 0x3001 mode transport "
		"local 198.51.100.1 remote 203.0.113.1 " GCM,
		"t.conf:3: SA x is a transport SA: its policies need src 203.0.113.1 and dst "
		"198.51.100.1 (host prefixes)\n", 2},
	{"missing spi", "sa add x dir out mode tunnel local 198.51.100.1 remote 203.0.113.1 " GCM,
		"t.conf:1: sa add needs spi\n"},
	{"missing remote", "sa add x dir out spi 0x3001 mode tunnel local 198.51.100.1 " GCM,
		"t.conf:1: sa add needs remote\n"},
	{"missing name", "sa add",
		"t.conf:1: sa add needs a name\n"},
	/* SA outer header and options */
	{"local not on unprotected port", "sa add x dir out spi 0x3001 mode tunnel local "
		"10.1.0.1 remote 203.0.113.1 " GCM,
		"t.conf:1: local 10.1.0.1 is not an address of an unprotected port\n"},
	{"local unknown address", "sa add x dir out spi 0x3001 mode tunnel local 198.51.100.9 "
		"remote 203.0.113.1 " GCM,
		"t.conf:1: local 198.51.100.9 is not an address of an unprotected port\n"},
	{"local remote family", "sa add x dir out spi 0x3001 mode tunnel local 198.51.100.1 "
		"remote 2001:db8:200::1 " GCM,
		"t.conf:1: local and remote must be of the same family\n"},
	{"bad address", "sa add x dir out spi 0x3001 mode tunnel local 198.51.100.1 remote "
		"203.0.113.300 " GCM,
		"t.conf:1: invalid address '203.0.113.300' for remote\n"},
	{"replay window too small", SA_HEAD("x", "in", "0x3001") GCM " replay-window 32",
		"t.conf:1: replay-window must be 0 or 64..65536, got 32\n"},
	{"replay window too large", SA_HEAD("x", "in", "0x3001") GCM " replay-window 65537",
		"t.conf:1: replay-window must be 0 or 64..65536, got 65537\n"},
	{"seq inbound", SA_HEAD("x", "in", "0x3001") GCM " seq 1",
		"t.conf:1: seq is only valid for outbound SAs\n"},
	{"seq zero", SA_HEAD("x", "out", "0x3001") GCM " seq 0",
		"t.conf:1: seq must be 1..4294967295 without esn, got 0\n"},
	{"seq beyond 32 bits", SA_HEAD("x", "out", "0x3001") GCM " seq 0x100000000",
		"t.conf:1: seq must be 1..4294967295 without esn, got 4294967296\n"},
	{"seq zero esn", SA_HEAD("x", "out", "0x3001") GCM " esn on seq 0",
		"t.conf:1: seq must be 1..9223372036854775808 with esn, got 0\n"},
	/* RFC 4303 3.3.3: it would send 2^64 - 1, then 0, 1, ... (the counter cycles). */
	{"seq near 2^64 esn", SA_HEAD("x", "out", "0x3001") GCM " esn on seq 18446744073709551615",
		"t.conf:1: seq must be 1..9223372036854775808 with esn, got "
		"18446744073709551615\n"},
	{"ttl zero", SA_HEAD("x", "out", "0x3001") GCM " ttl 0",
		"t.conf:1: ttl must be 1..255, got 0\n"},
	{"ttl too large", SA_HEAD("x", "out", "0x3001") GCM " ttl 256",
		"t.conf:1: ttl must be 1..255, got 256\n"},
	{"ttl not a number", SA_HEAD("x", "out", "0x3001") GCM " ttl abc",
		"t.conf:1: invalid number 'abc' for ttl\n"},
	{"ttl negative", SA_HEAD("x", "out", "0x3001") GCM " ttl -1",
		"t.conf:1: invalid number '-1' for ttl\n"},
	{"dscp too large", SA_HEAD("x", "out", "0x3001") GCM " dscp 64",
		"t.conf:1: dscp must be copy or 0..63, got 64\n"},
	{"dscp word", SA_HEAD("x", "out", "0x3001") GCM " dscp keep",
		"t.conf:1: dscp must be copy or 0..63, got keep\n"},
	{"bad df", SA_HEAD("x", "out", "0x3001") GCM " df maybe",
		"t.conf:1: invalid df 'maybe' (expected copy|set|clear)\n"},
	{"bad esn", SA_HEAD("x", "out", "0x3001") GCM " esn yes",
		"t.conf:1: invalid esn 'yes' (expected off|on)\n"},
	{"flow label on IPv4", SA_HEAD("x", "out", "0x3001") GCM " flow-label 5",
		"t.conf:1: flow-label needs an IPv6 tunnel\n"},
	{"flow label too large", SA6_HEAD("x", "out", "0x3001") GCM " flow-label 0x100000",
		"t.conf:1: flow-label must be 0..1048575, got 0x100000\n"},
	{"bad crypto-path", SA_HEAD("x", "out", "0x3001") GCM " crypto-path gpu",
		"t.conf:1: invalid crypto-path 'gpu' (expected default|cryptodev|cpu|direct)\n"},
	{"bad seq-order", SA_HEAD("x", "out", "0x3001") GCM " seq-order any",
		"t.conf:1: invalid seq-order 'any' (expected worker|strict)\n"},
	{"seq-order inbound", SA_HEAD("x", "in", "0x3001") GCM " seq-order strict",
		"t.conf:1: seq-order is only valid for outbound SAs\n"},
	{"seq-order strict on cpu", SA_HEAD("x", "out", "0x3001") GCM " seq-order strict crypto-path cpu",
		"t.conf:1: seq-order strict needs the direct path, not crypto-path cpu\n"},
	{"seq-order strict transport",
		"sa add x dir out spi 0x3001 mode transport local 198.51.100.1 remote 203.0.113.1 " GCM
		" seq-order strict",
		"t.conf:1: seq-order strict needs the direct path (crypto-path direct: an ESP tunnel "
		"SA with AES-GCM)\n"},
	{"bad decrypt", SA_HEAD("x", "in", "0x3001") GCM " decrypt all",
		"t.conf:1: invalid decrypt 'all' (expected owner|any)\n"},
	{"decrypt outbound", SA_HEAD("x", "out", "0x3001") GCM " decrypt any",
		"t.conf:1: decrypt is only valid for inbound SAs\n"},
	{"decrypt any on cpu", SA_HEAD("x", "in", "0x3001") GCM " decrypt any crypto-path cpu",
		"t.conf:1: decrypt any needs the direct path, not crypto-path cpu\n"},
	{"decrypt any transport",
		"sa add x dir in spi 0x3001 mode transport local 198.51.100.1 remote 203.0.113.1 " GCM
		" decrypt any",
		"t.conf:1: decrypt any needs the direct path (crypto-path direct: an ESP tunnel "
		"SA with AES-GCM)\n"},
	{"key of another SA",
		SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key "
		"0x000102030405060708090a0b0c0d0e0f salt 0xa0a1a2a3",
		"t.conf:1: SA x: its key is SA o4's: two SAs under one key both count their sequence "
		"numbers from 1 (AES-GCM: the same nonces, RFC 4106 8.1); give each SA its own key\n"},
	{"inbound key of an outbound SA",
		SA_HEAD("x", "in", "0x3001") "aead aes-gcm-128 key "
		"0x000102030405060708090a0b0c0d0e0f salt 0xa0a1a2a3",
		"t.conf:1: SA x: its key is SA o4's: two SAs under one key both count their sequence "
		"numbers from 1 (AES-GCM: the same nonces, RFC 4106 8.1); give each SA its own key\n"},
	{"missing cryptodev", SA_HEAD("x", "out", "0x3001") GCM " cryptodev c9",
		"t.conf:1: crypto c9 does not exist\n"},
	{"bad match", SA_HEAD("x", "in", "0x3001") GCM " match dst",
		"t.conf:1: invalid match 'dst' (expected spi|spi-dst|spi-dst-src)\n"},
	{"mss-clamp too small", SA_HEAD("x", "out", "0x3001") GCM " mss-clamp 63",
		"t.conf:1: mss-clamp must be auto or 64..9176, got 63\n"},
	{"mss-clamp too large", SA_HEAD("x", "out", "0x3001") GCM " mss-clamp 9177",
		"t.conf:1: mss-clamp must be auto or 64..9176, got 9177\n"},
	{"mss-clamp word", SA_HEAD("x", "out", "0x3001") GCM " mss-clamp on",
		"t.conf:1: mss-clamp must be auto or 64..9176, got on\n"},
	{"mss-clamp twice", SA_HEAD("x", "out", "0x3001") GCM " mss-clamp auto mss-clamp 1300",
		"t.conf:1: option 'mss-clamp' given twice\n"},
	{"mss-clamp missing value", SA_HEAD("x", "out", "0x3001") GCM " mss-clamp",
		"t.conf:1: missing value for 'mss-clamp'\n"},
	/* generic option rules */
	{"key without its option name", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 " K16 " "
		"salt 0x01020304",
		"t.conf:1: unknown option '<hex value>' for sa add\n"},
	{"key in place of an algorithm", SA_HEAD("x", "out", "0x3001") "aead " K16,
		"t.conf:1: unknown aead algorithm '<hex value>'\n"},
	{"key without 0x in place of a name", "sp add out dst 10.2.0.0/24 protect " H16,
		"t.conf:1: invalid SA name '<hex value>' (1..31 characters of A-Z a-z 0-9 _ . "
		"-)\n"},
	{"key on a line of its own", SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key\n"
		"  " K16
		" salt 0x01020304\n",
		"t.conf:1: missing value for 'key'\n"
		"t.conf:2: unknown command '<hex value>'\n"},
	{"long number shown", SA_HEAD("x", "out", "0x3001") GCM " ttl 0x0000000000000001ff",
		"t.conf:1: ttl must be 1..255, got <hex value>\n"},
	{"unknown option", SA_HEAD("x", "out", "0x3001") GCM " lifespan 3600",
		"t.conf:1: unknown option 'lifespan' for sa add\n"},
	{"lifetime usage", SA_HEAD("x", "out", "0x3001") GCM " lifetime 3600",
		"t.conf:1: usage: lifetime soft|hard [time SECONDS] [bytes N] [packets N]\n"},
	{"lifetime empty", SA_HEAD("x", "out", "0x3001") GCM " lifetime soft ttl 3",
		"t.conf:1: lifetime soft needs time, bytes or packets\n"},
	{"lifetime zero", SA_HEAD("x", "out", "0x3001") GCM " lifetime hard bytes 0",
		"t.conf:1: bytes must be 1..18446744073709551615, got 0\n"},
	{"lifetime order", SA_HEAD("x", "out", "0x3001") GCM
		" lifetime soft time 60 bytes 1000 lifetime hard time 60",
		"t.conf:1: SA x: each soft lifetime must be below the hard one\n"},
	{"repeated option", SA_HEAD("x", "out", "0x3001") GCM " ttl 5 ttl 6",
		"t.conf:1: option 'ttl' given twice\n"},
	{"repeated key", SA_HEAD("x", "out", "0x3001") GCM " key " K16,
		"t.conf:1: option 'key' given twice\n"},
	{"missing value", SA_HEAD("x", "out", "0x3001") GCM " ttl",
		"t.conf:1: missing value for 'ttl'\n"},
	/* sa del */
	{"sa del missing", "sa del nosuch",
		"t.conf:1: SA nosuch does not exist\n"},
	{"sa declare existing", "sa declare o4 dir out",
		"t.conf:1: SA o4 already exists\n"},
	{"sa declare usage", "sa declare x out",
		"t.conf:1: usage: sa declare NAME dir in|out\n"},
	{"sp del missing", "sp del nosuch",
		"t.conf:1: policy nosuch does not exist\n"},
	{"sp del selectors", "sp add out dst 10.3.0.0/24 bypass\nsp del out dst 10.3.0.0/24\n"
		"sp del out dst 10.3.0.0/24",
		"t.conf:3: no policy with that direction, priority and selectors\n"},
	{"sp del action", "sp del out dst 10.3.0.0/24 bypass",
		"t.conf:1: unknown option 'bypass' for sp del\n"},
	{"sp set missing", "sp set nosuch bypass",
		"t.conf:1: policy nosuch does not exist\n"},
	{"sp set no action", "sp add out dst 10.3.0.0/24 name p bypass\nsp set p",
		"t.conf:2: sp set needs protect SA, bypass or discard\n", 1},
	{"route del missing", "route del 10.9.0.0/16",
		"t.conf:1: route 10.9.0.0/16 does not exist\n"},
	{"neighbor del missing", "neighbor del 10.1.0.99",
		"t.conf:1: neighbor 10.1.0.99 does not exist\n"},
	{"max-sa late", "set max-sa 10",
		"t.conf:1: set max-sa must come before the first sa add\n"},
	{"sa del extra", "sa del i4 now",
		"t.conf:1: unexpected 'now' after sa del NAME\n"},
	/* sa update */
	{"sa update missing", "sa update nosuch remote 203.0.113.9",
		"t.conf:1: SA nosuch does not exist\n"},
	{"sa update nothing", "sa update o4",
		"t.conf:1: sa update needs remote, dport or lifetime\n"},
	{"sa update other option", "sa update o4 spi 0x5000",
		"t.conf:1: unknown option 'spi' for sa update\n"},
	{"sa update key", "sa update o4 key " K16,
		"t.conf:1: unknown option 'key' for sa update\n"},
	{"sa update family", "sa update o4 remote 2001:db8:200::1",
		"t.conf:1: local and remote must be of the same family\n"},
	{"sa update declared", "sa declare d dir out\nsa update d remote 203.0.113.9",
		"t.conf:2: SA d is only declared: sa add installs it\n", 1},
	{"sa update life order", "sa update o4 lifetime hard time 60\n"
		"sa update o4 lifetime soft time 60",
		"t.conf:2: SA o4: each soft lifetime must be below the hard one\n"},
	/* sp */
	{"sp missing SA", "sp add out dst 10.3.0.0/24 protect nosuch",
		"t.conf:1: SA nosuch does not exist\n"},
	{"sp SA direction", "sp add out dst 10.3.0.0/24 protect i4",
		"t.conf:1: SA i4 is inbound, the policy is outbound\n"},
	{"sp no family", "sp add out proto tcp bypass",
		"t.conf:1: sp needs src or dst to choose the address family\n"},
	{"sp family mismatch", "sp add out src 10.1.0.0/24 dst 2001:db8:b::/64 bypass",
		"t.conf:1: src and dst must be of the same family\n"},
	{"sp host bits", "sp add out src 10.1.0.1/24 dst 10.2.0.0/24 bypass",
		"t.conf:1: src 10.1.0.1/24 has host bits set\n"},
	{"sp host bits v6", "sp add in dst 2001:db8:a::1/64 bypass",
		"t.conf:1: dst 2001:db8:a::1/64 has host bits set\n"},
	{"sp bad prefix", "sp add out dst 10.2.0.0/33 bypass",
		"t.conf:1: invalid prefix '10.2.0.0/33' for dst\n"},
	{"sp bad prefix text", "sp add out dst 10.2.0/24 bypass",
		"t.conf:1: invalid prefix '10.2.0/24' for dst\n"},
	{"sp port without tcp", "sp add out dst 10.2.0.0/24 dport 80 bypass",
		"t.conf:1: dport needs proto tcp, udp or sctp\n"},
	{"sp port with icmp", "sp add out dst 10.2.0.0/24 proto icmp sport 1-2 bypass",
		"t.conf:1: sport needs proto tcp, udp or sctp\n"},
	{"sp reversed range", "sp add out dst 10.2.0.0/24 proto udp sport 2000-1000 bypass",
		"t.conf:1: sport 2000-1000: the first port is above the last\n"},
	{"sp bad range", "sp add out dst 10.2.0.0/24 proto udp dport 80-x bypass",
		"t.conf:1: invalid dport '80-x' (expected N or N-M, 0..65535)\n"},
	{"sp port too large", "sp add out dst 10.2.0.0/24 proto udp dport 65536 bypass",
		"t.conf:1: dport must be 0..65535, got 65536\n"},
	{"sp bad proto", "sp add out dst 10.2.0.0/24 proto gre bypass",
		"t.conf:1: invalid proto 'gre' (expected any, tcp, udp, icmp, icmpv6, esp, sctp "
		"or 0..255)\n"},
	{"sp two actions", "sp add out dst 10.2.0.0/24 bypass discard",
		"t.conf:1: 'discard' conflicts with 'bypass' in sp add\n"},
	{"sp no action", "sp add out dst 10.2.0.0/24",
		"t.conf:1: sp add needs protect SA, bypass or discard\n"},
	{"sp bad direction", "sp add both dst 10.2.0.0/24 bypass",
		"t.conf:1: invalid direction 'both' (expected in|out)\n"},
	{"sp identical", "sp add out src 10.1.0.0/24 dst 10.2.0.0/24 discard",
		"t.conf:1: an identical policy (same direction, priority and selectors) already "
		"exists\n"},
	{"sp inner family", "sp add out src 2001:db8:a::/64 dst 2001:db8:b::/64 protect o4",
		"t.conf:1: SA o4 already carries IPv4 traffic, it cannot also carry IPv6\n"},
	{"sp priority too large", "sp add out dst 10.2.0.0/24 priority 16777216 bypass",
		"t.conf:1: priority must be 0..16777215, got 16777216\n"},
	/* route and neighbor */
	{"route via not on port subnet", "route add 10.9.0.0/24 via 192.0.2.1 port wan0",
		"t.conf:1: via 192.0.2.1 is not on a subnet of port wan0\n"},
	{"route via other port subnet", "route add 10.9.0.0/24 via 10.1.0.254 port wan0",
		"t.conf:1: via 10.1.0.254 is not on a subnet of port wan0\n"},
	{"route via family", "route add 10.9.0.0/24 via 2001:db8:100::fe port wan0",
		"t.conf:1: via 2001:db8:100::fe is not of the family of 10.9.0.0/24\n"},
	{"route via own address", "route add 10.9.0.0/24 via 198.51.100.1 port wan0",
		"t.conf:1: via 198.51.100.1 is an address of this gateway, not a next hop\n"},
	{"route via other port's address", "route add 10.9.0.0/24 via 10.1.0.1 port lan0",
		"t.conf:1: via 10.1.0.1 is an address of this gateway, not a next hop\n"},
	{"route via broadcast", "route add 10.9.0.0/24 via 198.51.100.255 port wan0",
		"t.conf:1: via 198.51.100.255 is the broadcast address of its subnet, not a next "
		"hop\n"},
	{"route via network", "route add 10.9.0.0/24 via 198.51.100.0 port wan0",
		"t.conf:1: via 198.51.100.0 is the network address of its subnet, not a next hop\n"},
	{"route missing port", "route add 10.9.0.0/24 via 198.51.100.254 port wan9",
		"t.conf:1: port wan9 does not exist\n"},
	{"route host bits", "route add 10.9.0.1/24 port lan0",
		"t.conf:1: route 10.9.0.1/24 has host bits set\n"},
	{"route duplicate", "route add 0.0.0.0/0 via 198.51.100.2 port wan0",
		"t.conf:1: route 0.0.0.0/0 already exists\n"},
	{"route unknown option", "route add 10.9.0.0/24 port lan0 metric 5",
		"t.conf:1: unknown option 'metric' for route add\n"},
	{"route missing value", "route add 10.9.0.0/24 port",
		"t.conf:1: missing value for 'port'\n"},
	{"route no port", "route add 10.9.0.0/24 via 10.1.0.2",
		"t.conf:1: route add needs port\n"},
	{"neighbor not on subnet", "neighbor add 10.9.0.1 lladdr 02:00:00:00:00:01 port lan0",
		"t.conf:1: neighbor 10.9.0.1 is not on a subnet of port lan0\n"},
	{"neighbor own address", "neighbor add 10.1.0.1 lladdr 02:00:00:00:00:01 port lan0",
		"t.conf:1: neighbor 10.1.0.1 is an address of this gateway, not a neighbor\n"},
	{"neighbor broadcast", "neighbor add 10.1.0.255 lladdr 02:00:00:00:00:01 port lan0",
		"t.conf:1: neighbor 10.1.0.255 is the broadcast address of its subnet, not a "
		"neighbor\n"},
	{"neighbor multicast", "neighbor add 10.1.0.9 lladdr 01:00:5e:00:00:01 port lan0",
		"t.conf:1: lladdr of 10.1.0.9 must be a unicast address\n"},
	{"neighbor bad mac", "neighbor add 10.1.0.9 lladdr 02:00:00:00:01 port lan0",
		"t.conf:1: invalid MAC '02:00:00:00:01' for lladdr\n"},
	{"neighbor missing port", "neighbor add 10.1.0.9 lladdr 02:00:00:00:00:09 port lan9",
		"t.conf:1: port lan9 does not exist\n"},
	{"neighbor duplicate", "neighbor add 10.1.0.9 lladdr 02:00:00:00:00:09 port lan0\n"
		"neighbor add 10.1.0.9 lladdr 02:00:00:00:00:0a port lan0",
		"t.conf:2: neighbor 10.1.0.9 already exists\n", 1},
	{"neighbor no lladdr", "neighbor add 10.1.0.9 port lan0",
		"t.conf:1: neighbor add needs lladdr\n"},
	/* port and crypto */
	{"duplicate port name", "port add lan0 dev net_tap7 role protected",
		"t.conf:1: port lan0 already exists\n"},
	{"duplicate port dev", "port add lan1 dev net_tap0 role protected",
		"t.conf:1: dev net_tap0 is already used by port lan0\n"},
	{"port missing role", "port add lan1 dev net_tap7",
		"t.conf:1: port add needs role\n"},
	{"port bad role", "port add lan1 dev net_tap7 role inside",
		"t.conf:1: invalid role 'inside' (expected protected|unprotected)\n"},
	{"port mtu too small", "port add lan1 dev net_tap7 role protected mtu 67",
		"t.conf:1: mtu must be 68..9216, got 67\n"},
	{"port mtu too large", "port add lan1 dev net_tap7 role protected mtu 9217",
		"t.conf:1: mtu must be 68..9216, got 9217\n"},
	{"port mtu IPv6", "port add lan1 dev net_tap7 role protected mtu 1000 address "
		"2001:db8:7::1/64",
		"t.conf:1: mtu 1000 is below 1280, the minimum for a port with an IPv6 address\n"},
	{"port address in use", "port add lan1 dev net_tap7 role protected address 10.1.0.1/16",
		"t.conf:1: address 10.1.0.1 is already on port lan0\n"},
	{"port address twice", "port add lan1 dev net_tap7 role protected address 10.7.0.1/24 "
		"address 10.7.0.1/16",
		"t.conf:1: address 10.7.0.1 is given twice\n"},
	{"port nine addresses", "port add lan1 dev net_tap7 role protected address 10.7.0.1/24 "
		"address 10.7.1.1/24 address 10.7.2.1/24 address 10.7.3.1/24 address 10.7.4.1/24 "
		"address 10.7.5.1/24 address 10.7.6.1/24 address 10.7.7.1/24 address 10.7.8.1/24",
		"t.conf:1: at most 8 addresses per port\n"},
	{"port multicast mac", "port add lan1 dev net_tap7 role protected mac 03:00:00:00:00:01",
		"t.conf:1: port lan1: mac must be a unicast address\n"},
	{"port host-if bad name", "port add lan1 dev net_tap7 role protected host-if a/b",
		"t.conf:1: port lan1: host-if must be 1..15 of A-Z a-z 0-9 _ . - (a kernel "
		"interface name)\n"},
	{"port host-if dot", "port add lan1 dev net_tap7 role protected host-if ..",
		"t.conf:1: port lan1: host-if must be 1..15 of A-Z a-z 0-9 _ . - (a kernel "
		"interface name)\n"},
	{"port host-if too long", "port add lan1 dev net_tap7 role protected host-if "
		"espgw-lan1-0123456",
		"t.conf:1: host-if name is longer than 15 characters\n"},
	{"port host-if twice", "port add lan1 dev net_tap7 role protected host-if h0\n"
		"port add lan2 dev net_tap8 role protected host-if h0",
		"t.conf:2: host-if h0 is already the one of port lan1\n", 1},
	{"port bad name", "port add lan/1 dev net_tap7 role protected",
		"t.conf:1: invalid port name 'lan/1' (1..31 characters of A-Z a-z 0-9 _ . -)\n"},
	{"duplicate crypto name", "crypto add c0 dev crypto_aesni_mb1",
		"t.conf:1: crypto c0 already exists\n"},
	{"duplicate crypto dev", "crypto add c1 dev crypto_aesni_mb0",
		"t.conf:1: dev crypto_aesni_mb0 is already used by crypto c0\n"},
	{"crypto missing dev", "crypto add c1",
		"t.conf:1: crypto add needs dev\n"},
	/* set */
	{"set burst zero", "set burst 0",
		"t.conf:1: burst must be 1..256, got 0\n"},
	{"set burst too large", "set burst 257",
		"t.conf:1: burst must be 1..256, got 257\n"},
	{"set burst extra", "set burst 32 64",
		"t.conf:1: unexpected '64' after set burst VALUE\n"},
	{"set burst missing", "set burst",
		"t.conf:1: missing value for 'set burst'\n"},
	{"set crypto-path default", "set crypto-path default",
		"t.conf:1: invalid crypto-path 'default' (expected auto|cryptodev|cpu|direct)\n"},
	{"set unknown", "set mode fast",
		"t.conf:1: unknown command 'set mode' (expected crypto-path|burst|nat-keepalive|max-sa)\n"},
	/* commands and the lexer */
	{"unknown command", "frobnicate x",
		"t.conf:1: unknown command 'frobnicate'\n"},
	{"unknown verb", "sa show o4",
		"t.conf:1: unknown command 'sa show' (expected add|del|declare|update)\n"},
	{"incomplete command", "sa",
		"t.conf:1: incomplete command 'sa' (expected add|del|declare|update)\n"},
	{"uppercase keyword", "Port add lan1 dev net_tap7 role protected",
		"t.conf:1: unknown command 'Port'\n"},
	{"continuation reports first line", "# a comment\n"
		"\n"
		"sa add x dir out \\\n"
		"  spi 7 mode tunnel \\\n"
		"  local 198.51.100.1 remote 203.0.113.1 \\\n"
		"  " GCM "\n",
		"t.conf:3: spi 7 is reserved (1..255, RFC 4303 2.1)\n"},
	{"continuation with comment", "route add 10.9.0.0/24 \\ # next line continues\n"
		"  port lan0 metric 1\n",
		"t.conf:1: unknown option 'metric' for route add\n"},
	{"comment hides continuation", "route add 10.9.0.0/24 port lan0 # \\\n"
		"metric 1\n",
		"t.conf:2: unknown command 'metric'\n", 1},
	{"comments and blank lines", "\n"
		"   \n"
		"# only a comment\n"
		"\t# indented comment\n"
		"route add 10.9.0.0/24 port lan0 # trailing comment\n"
		"\n"
		"route add 10.9.0.0/24 port lan0\n",
		"t.conf:7: route 10.9.0.0/24 already exists\n", 1},
	{"blank line ends continuation", "route add 10.10.0.0/24 \\\n"
		"\n"
		"port lan0\n",
		"t.conf:1: route add needs port\n"
		"t.conf:3: unknown command 'port lan0' (expected add)\n"},
	{"CRLF line ends", "route add 10.9.0.0/24 port lan0\r\n"
		"route add 10.9.0.0/24 \\\r\n"
		" port lan0\r\n",
		"t.conf:2: route 10.9.0.0/24 already exists\n", 1},
	{"several errors", "route add 10.9.0.0/24 port lan9\n"
		"route add 10.9.0.0/24 port lan0\n"
		"sp add out dst 10.9.0.0/24 protect nosuch\n"
		"sp add out dst 10.9.0.0/24 discard\n"
		"set burst 1000\n"
		"neighbor add 10.1.0.5 lladdr 02:00:00:00:00:05 port lan0\n"
		"sa add o4 dir in\n",
		"t.conf:1: port lan9 does not exist\n"
		"t.conf:3: SA nosuch does not exist\n"
		"t.conf:5: burst must be 1..256, got 1000\n"
		"t.conf:7: sa add needs spi\n", 3},
};
/* clang-format on */

static void
run_bad(void **state)
{
	const struct bad_case *c = *state;
	struct espgw_store s;
	char *out = NULL;
	unsigned int before;
	int n;

	espgw_store_init(&s);
	assert_int_equal(load(&s, "base.conf", base_conf, &out), 0);
	free(out);
	before = n_objects(&s);
	n = load(&s, "t.conf", c->text, &out);
	if (strcmp(out, c->expect) != 0)
		fail_msg("case '%s'\n got:      %s expected: %s", c->name, out, c->expect);
	assert_int_not_equal(n, 0);
	/* Failed commands change nothing. */
	assert_int_equal(n_objects(&s), before + c->applied);
	free(out);
	espgw_store_fini(&s);
}

/* ---- valid forms: resulting store fields ---- */

static const struct espgw_sa_conf *
load_sa(void **state, const char *text, const char *name)
{
	struct espgw_store *s = *state;
	char *out = NULL;
	int n = load(s, "t.conf", text, &out);

	if (n != 0)
		fail_msg("unexpected errors:\n%s", out);
	free(out);
	assert_non_null(espgw_store_sa(s, name));
	return espgw_store_sa(s, name);
}

static void
load_ok(void **state, const char *text)
{
	char *out = NULL;

	if (load(*state, "t.conf", text, &out) != 0)
		fail_msg("unexpected errors:\n%s", out);
	free(out);
}

static void
test_sa_defaults(void **state)
{
	const struct espgw_sa_conf *sa = load_sa(state, SA_HEAD("x", "out", "0x3001") GCM, "x");
	static const uint8_t key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
			0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	static const uint8_t salt[4] = {1, 2, 3, 4};

	assert_int_equal(sa->dir, ESPGW_DIR_OUT);
	assert_int_equal(sa->spi, 0x3001);
	assert_int_equal(sa->mode, ESPGW_SA_TUNNEL);
	assert_int_equal(sa->local.family, ESPGW_AF_INET);
	assert_int_equal(sa->local.v4, htonl(0xc6336401));  /* 198.51.100.1 */
	assert_int_equal(sa->remote.v4, htonl(0xcb007101)); /* 203.0.113.1 */
	assert_int_equal(sa->aead, ESPGW_ALGO_AES_GCM_128);
	assert_int_equal(sa->cipher, ESPGW_ALGO_NONE);
	assert_int_equal(sa->auth, ESPGW_ALGO_NONE);
	assert_int_equal(sa->key_len, 16);
	assert_memory_equal(sa->key, key, 16);
	assert_true(sa->has_salt);
	assert_memory_equal(sa->salt, salt, 4);
	assert_int_equal(sa->auth_key_len, 0);
	assert_int_equal(sa->replay_window, ESPGW_REPLAY_DEFAULT);
	assert_false(sa->esn);
	assert_int_equal(sa->seq, 1);
	assert_int_equal(sa->ttl, 64);
	assert_int_equal(sa->dscp_mode, ESPGW_HDR_COPY);
	assert_int_equal(sa->df_mode, ESPGW_HDR_COPY);
	assert_false(sa->has_flow_label);
	assert_int_equal(sa->crypto_path, ESPGW_CRYPTO_PATH_DEFAULT);
	assert_string_equal(sa->cryptodev, "");
	assert_int_equal(sa->match, ESPGW_SAD_MATCH_SPI_DST);
	assert_int_equal(sa->inner_family, 0);
	assert_int_equal(sa->mss_clamp, 0);
}

/* "mss-clamp N|auto" on either direction: N as given (decimal or hex), auto as a marker. */
static void
test_sa_mss_clamp(void **state)
{
	const struct espgw_sa_conf *sa;

	sa = load_sa(state, SA_HEAD("m1", "out", "0x3001") GCM " mss-clamp 1360", "m1");
	assert_int_equal(sa->mss_clamp, 1360);
	sa = load_sa(state, SA_HEAD("m2", "in", "0x3002") GCM_SALT("0x00003002") " mss-clamp auto",
			"m2");
	assert_int_equal(sa->mss_clamp, ESPGW_MSS_AUTO);
	sa = load_sa(state,
			SA6_HEAD("m3", "out", "0x3003") "mss-clamp 0x40 " GCM_SALT("0x00003003"),
			"m3");
	assert_int_equal(sa->mss_clamp, 64);
	sa = load_sa(state, SA_HEAD("m4", "out", "0x3004") GCM_SALT("0x00003004") " mss-clamp 9176",
			"m4");
	assert_int_equal(sa->mss_clamp, ESPGW_MSS_MAX);
}

static void
test_sa_all_options(void **state)
{
	/* Options in another order than the documentation's, numbers in hex and decimal. */
	const struct espgw_sa_conf *sa = load_sa(state,
			"sa add v6 remote 2001:db8:200::1 key " K32
			" dir out local 2001:db8:100::1 "
			"aead aes-gcm-256 mode tunnel spi 12289 salt 0xdeadbeef replay-window 0 "
			"esn on seq 0x100000000 ttl 0x20 dscp 46 df set flow-label 0xabcde "
			"crypto-path cpu cryptodev c0 match spi",
			"v6");

	assert_int_equal(sa->spi, 12289);
	assert_int_equal(sa->local.family, ESPGW_AF_INET6);
	assert_int_equal(sa->aead, ESPGW_ALGO_AES_GCM_256);
	assert_int_equal(sa->key_len, 32);
	assert_int_equal(sa->key[31], 0xff);
	assert_int_equal(sa->salt[0], 0xde);
	assert_int_equal(sa->salt[3], 0xef);
	assert_int_equal(sa->replay_window, 0);
	assert_true(sa->esn);
	assert_int_equal(sa->seq, UINT64_C(0x100000000));
	assert_int_equal(sa->ttl, 32);
	assert_int_equal(sa->dscp_mode, ESPGW_HDR_SET);
	assert_int_equal(sa->dscp, 46);
	assert_int_equal(sa->df_mode, ESPGW_HDR_SET);
	assert_true(sa->has_flow_label);
	assert_int_equal(sa->flow_label, 0xabcde);
	assert_int_equal(sa->crypto_path, ESPGW_CRYPTO_PATH_CPU);
	assert_string_equal(sa->cryptodev, "c0");
	assert_int_equal(sa->match, ESPGW_SAD_MATCH_SPI);
}

static void
test_sa_inbound_options(void **state)
{
	const struct espgw_sa_conf *sa = load_sa(state,
			SA_HEAD("in2", "in", "0x3002") GCM
			" replay-window 1024 df clear dscp copy match spi-dst-src crypto-path "
			"cryptodev",
			"in2");

	assert_int_equal(sa->dir, ESPGW_DIR_IN);
	assert_int_equal(sa->replay_window, 1024);
	assert_int_equal(sa->df_mode, ESPGW_HDR_CLEAR);
	assert_int_equal(sa->dscp_mode, ESPGW_HDR_COPY);
	assert_int_equal(sa->match, ESPGW_SAD_MATCH_SPI_DST_SRC);
	assert_int_equal(sa->crypto_path, ESPGW_CRYPTO_PATH_CRYPTODEV);
	sa = load_sa(state,
			SA_HEAD("in3", "in", "0x3003") GCM_SALT("0x00003003") " match spi-dst "
									      "replay-window 65536",
			"in3");
	assert_int_equal(sa->match, ESPGW_SAD_MATCH_SPI_DST);
	assert_int_equal(sa->replay_window, 65536);
}

static void
test_sa_transforms(void **state)
{
	const struct espgw_sa_conf *sa;

	sa = load_sa(state, SA_HEAD("cbc", "out", "0x3001") CBC, "cbc");
	assert_int_equal(sa->cipher, ESPGW_ALGO_AES_CBC_128);
	assert_int_equal(sa->auth, ESPGW_ALGO_HMAC_SHA256_128);
	assert_int_equal(sa->aead, ESPGW_ALGO_NONE);
	assert_int_equal(sa->key_len, 16);
	assert_int_equal(sa->auth_key_len, 32);
	assert_false(sa->has_salt);

	sa = load_sa(state,
			SA_HEAD("ctr", "out", "0x3002") "cipher aes-ctr-256 key " K32
							" salt 0x00000001 auth hmac-sha512-256 "
							"auth-key " K64,
			"ctr");
	assert_int_equal(sa->cipher, ESPGW_ALGO_AES_CTR_256);
	assert_int_equal(sa->auth, ESPGW_ALGO_HMAC_SHA512_256);
	assert_true(sa->has_salt);
	assert_int_equal(sa->auth_key_len, 64);

	sa = load_sa(state,
			SA_HEAD("nul", "out",
					"0x3003") "cipher null auth hmac-sha384-192 auth-key " K48,
			"nul");
	assert_int_equal(sa->cipher, ESPGW_ALGO_NULL_CIPHER);
	assert_int_equal(sa->key_len, 0);
	assert_int_equal(sa->auth_key_len, 48);

	sa = load_sa(state,
			SA_HEAD("gmac", "out", "0x3004") "auth aes-gmac-256 key " K32
							 " salt 0x01020304",
			"gmac");
	assert_int_equal(sa->auth, ESPGW_ALGO_AES_GMAC_256);
	assert_int_equal(sa->cipher, ESPGW_ALGO_NONE);
	assert_int_equal(sa->key_len, 32);

	sa = load_sa(state,
			SA_HEAD("cc", "out", "0x3005") "aead chacha20-poly1305 key " K32
						       " salt 0x01020305",
			"cc");
	assert_int_equal(sa->aead, ESPGW_ALGO_CHACHA20_POLY1305);

	sa = load_sa(state,
			SA_HEAD("sha1", "out",
					"0x3006") "cipher aes-cbc-256 key " K32
						  " auth hmac-sha1-96 auth-key "
						  "0x00112233445566778899aabbccddeeff00112233",
			"sha1");
	assert_int_equal(sa->auth, ESPGW_ALGO_HMAC_SHA1_96);
	assert_int_equal(sa->auth_key_len, 20);
}

/* RFC 4302: "proto ah" with each integrity algorithm; ESP stays the default. */
static void
test_sa_ah(void **state)
{
	const struct espgw_sa_conf *sa;

	sa = load_sa(state,
			SA_HEAD("ah1", "out", "0x3001") "proto ah auth hmac-sha1-96 auth-key " K16
							"00112233",
			"ah1");
	assert_int_equal(sa->proto, ESPGW_SA_AH);
	assert_int_equal(sa->auth, ESPGW_ALGO_HMAC_SHA1_96);
	assert_int_equal(sa->cipher, ESPGW_ALGO_NONE);
	sa = load_sa(state,
			SA_HEAD("ah2", "in", "0x3002") "proto ah auth hmac-sha512-256 auth-key " K64
						       " esn on",
			"ah2");
	assert_int_equal(sa->proto, ESPGW_SA_AH);
	assert_true(sa->esn);
	sa = load_sa(state,
			SA_HEAD("ah3", "out", "0x3003") "proto ah auth aes-gmac-256 key " K32
							" salt 0x01020304",
			"ah3");
	assert_int_equal(sa->auth, ESPGW_ALGO_AES_GMAC_256);
	sa = load_sa(state, SA_HEAD("esp", "out", "0x3004") "proto esp " GCM, "esp");
	assert_int_equal(sa->proto, ESPGW_SA_ESP);
	assert_int_equal(espgw_store_sa(*state, "o4")->proto, ESPGW_SA_ESP);
}

static void
test_sa_same_spi_other_direction(void **state)
{
	const struct espgw_store *s = *state;

	/* o4 is outbound 0x1001: the same SPI inbound is another SA (RFC 4301 4.1). */
	load_sa(state, SA_HEAD("x", "in", "0x1001") GCM, "x");
	assert_int_equal(espgw_store_sa(s, "x")->spi, espgw_store_sa(s, "o4")->spi);
}

static void
test_sa_seq_limits(void **state)
{
	const struct espgw_sa_conf *sa;

	sa = load_sa(state, SA_HEAD("a", "out", "0x3001") GCM " seq 4294967295", "a");
	assert_int_equal(sa->seq, UINT32_MAX);
	sa = load_sa(state,
			SA_HEAD("b", "out", "0x3002")
					GCM_SALT("0x00003002") " seq 9223372036854775808 esn on",
			"b");
	assert_int_equal(sa->seq, UINT64_C(1) << 63);
	/* AH's own counter stops at 2^64 - 1: the whole range. */
	sa = load_sa(state,
			SA_HEAD("c", "out", "0x3003") "proto ah auth hmac-sha256-128 auth-key " K32
						      " seq 18446744073709551615 esn on",
			"c");
	assert_int_equal(sa->seq, UINT64_MAX);
}

static void
test_sa_del(void **state)
{
	struct espgw_store *s = *state;
	unsigned int n = s->n_sas;

	load_ok(state, "sa del i4\n");
	assert_int_equal(s->n_sas, n - 1);
	assert_null(espgw_store_sa(s, "i4"));
	assert_non_null(espgw_store_sa(s, "o4"));
	/* Name and SPI are free again. */
	load_sa(state, SA_HEAD("i4", "in", "0x2001") GCM, "i4");
	assert_int_equal(s->n_sas, n);
}

/*
 * sa update: an outbound SA's new remote takes a new slot that names the old
 * one (the data path carries its sequence number over); an inbound SA and
 * lifetimes stay in their slot; a lifetime given replaces that one whole.
 */
static void
test_sa_update(void **state)
{
	struct espgw_store *s = *state;
	uint32_t o4 = espgw_store_sa(s, "o4")->slot, i4 = espgw_store_sa(s, "i4")->slot;
	const struct espgw_sa_conf *sa;

	/* In a file at start: no data path yet, nothing to carry, the old slot free at once. */
	load_ok(state, "sa update o4 remote 203.0.113.6\n");
	assert_int_not_equal(espgw_store_sa(s, "o4")->slot, o4);
	assert_int_equal(espgw_store_sa(s, "o4")->moved_from, 0);
	assert_int_equal(s->slot[o4], ESPGW_SLOT_FREE);
	/* Running: the new slot names the one in service, which retires. */
	s->retire_slots = true;
	o4 = espgw_store_sa(s, "o4")->slot;
	load_ok(state, "sa update o4 remote 203.0.113.7 lifetime soft time 50 bytes 9\n"
		       "sa update i4 remote 203.0.113.7 lifetime hard packets 100\n"
		       "sa update i4 lifetime hard time 70\n");
	sa = espgw_store_sa(s, "o4");
	assert_int_not_equal(sa->slot, o4);
	assert_int_equal(sa->moved_from, o4 + 1);
	assert_int_equal(sa->remote.v4, htonl(0xcb007107));
	assert_int_equal(sa->life[ESPGW_LIFE_SOFT].time, 50);
	assert_int_equal(sa->life[ESPGW_LIFE_SOFT].bytes, 9);
	assert_int_equal(s->slot[o4], ESPGW_SLOT_RETIRING);
	sa = espgw_store_sa(s, "i4");
	assert_int_equal(sa->slot, i4);
	assert_int_equal(sa->moved_from, 0);
	assert_int_equal(sa->remote.v4, htonl(0xcb007107));
	assert_int_equal(sa->life[ESPGW_LIFE_HARD].time, 70);
	assert_int_equal(sa->life[ESPGW_LIFE_HARD].packets, 0);
	/* The keys and the rest stay. */
	assert_int_equal(sa->key[0], 0x10);
	assert_int_equal(sa->spi, 0x2001);
	/*
	 * Lifetimes alone: an outbound SA keeps its slot, and the move no data
	 * path made yet stays pending; a second new remote still moves from
	 * where the SA is in service (the slot in between carried nothing).
	 */
	load_ok(state, "sa update o4 lifetime hard time 600\n");
	assert_int_equal(espgw_store_sa(s, "o4")->moved_from, o4 + 1);
	load_ok(state, "sa update o4 remote 203.0.113.8\n");
	assert_int_equal(espgw_store_sa(s, "o4")->moved_from, o4 + 1);
	/* Once moved (the data path says so), the next move starts from there. */
	espgw_store_sa_moved(s, espgw_store_sa(s, "o4")->slot);
	o4 = espgw_store_sa(s, "o4")->slot;
	load_ok(state, "sa update o4 remote 203.0.113.9\n");
	assert_int_equal(espgw_store_sa(s, "o4")->moved_from, o4 + 1);
}

static void
test_sp_all_options(void **state)
{
	struct espgw_store *s = *state;
	const struct espgw_sp_conf *sp;

	load_ok(state, "sp add in priority 10 dst 10.1.0.0/24 src 10.2.0.0/16 proto tcp "
		       "sport 1000-2000 dport 443 protect i4\n");
	sp = &s->sps[s->n_sps - 1];
	assert_int_equal(sp->dir, ESPGW_DIR_IN);
	assert_int_equal(sp->priority, 10);
	assert_int_equal(sp->src.len, 16);
	assert_int_equal(sp->src.ip.v4, htonl(0x0a020000));
	assert_int_equal(sp->dst.len, 24);
	assert_int_equal(sp->proto, 6);
	assert_int_equal(sp->sport_lo, 1000);
	assert_int_equal(sp->sport_hi, 2000);
	assert_int_equal(sp->dport_lo, 443);
	assert_int_equal(sp->dport_hi, 443);
	assert_int_equal(sp->action, ESPGW_SP_PROTECT);
	assert_string_equal(sp->sa, "i4");
	/* The first protect policy fixes the SA's inner family. */
	assert_int_equal(espgw_store_sa(s, "i4")->inner_family, ESPGW_AF_INET);
}

static void
test_sp_defaults(void **state)
{
	struct espgw_store *s = *state;
	const struct espgw_sp_conf *sp;

	load_ok(state, "sp add out dst 2001:db8:b::/64 discard\n");
	sp = &s->sps[s->n_sps - 1];
	assert_int_equal(sp->priority, 1000);
	assert_int_equal(sp->src.ip.family, ESPGW_AF_INET6);
	assert_int_equal(sp->src.len, 0);
	assert_int_equal(sp->proto, -1);
	assert_int_equal(sp->sport_lo, 0);
	assert_int_equal(sp->sport_hi, 65535);
	assert_int_equal(sp->dport_hi, 65535);
	assert_int_equal(sp->action, ESPGW_SP_DISCARD);
	load_ok(state, "sp add in src 10.2.0.0/24 bypass\n");
	sp = &s->sps[s->n_sps - 1];
	assert_int_equal(sp->dst.ip.family, ESPGW_AF_INET);
	assert_int_equal(sp->dst.len, 0);
	assert_int_equal(sp->action, ESPGW_SP_BYPASS);
	assert_string_equal(sp->sa, "");
}

static void
test_sp_protos(void **state)
{
	static const struct {
		const char *name;
		int16_t num;
	} protos[] = {{"any", -1}, {"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"esp", 50},
			{"icmpv6", 58}, {"sctp", 132}, {"47", 47}, {"0x84", 132}, {"0", 0}};
	struct espgw_store *s = *state;
	char line[128];
	unsigned int i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		/* Distinct priorities: otherwise two rules for proto 132 would be identical. */
		snprintf(line, sizeof(line),
				"sp add out dst 10.2.0.0/24 proto %s priority %u bypass",
				protos[i].name, i);
		load_ok(state, line);
		assert_int_equal(s->sps[s->n_sps - 1].proto, protos[i].num);
	}
	load_ok(state, "sp add out dst 10.2.0.0/24 proto sctp sport 5-5 dport 0-65535 bypass");
	assert_int_equal(s->sps[s->n_sps - 1].sport_lo, 5);
	assert_int_equal(s->sps[s->n_sps - 1].sport_hi, 5);
}

static void
test_sp_inner_family_v6(void **state)
{
	struct espgw_store *s = *state;

	load_sa(state, SA6_HEAD("o6", "out", "0x4001") GCM, "o6");
	assert_int_equal(espgw_store_sa(s, "o6")->inner_family, 0);
	/* An IPv6 outer SA carrying IPv4 inner traffic is fine; the second family is not. */
	load_ok(state, "sp add out dst 10.3.0.0/24 protect o6\n");
	assert_int_equal(espgw_store_sa(s, "o6")->inner_family, ESPGW_AF_INET);
	load_ok(state, "sp add out dst 10.4.0.0/24 protect o6\n");
}

static void
test_route_neighbor(void **state)
{
	struct espgw_store *s = *state;
	const struct espgw_route_conf *r;
	const struct espgw_neigh_conf *nb;
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0x02, 0xfe};

	load_ok(state, "route add ::/0 via 2001:db8:100::fe port wan0\n"
		       "route add 10.8.0.0/16 port lan0\n"
		       "route add 10.9.0.0/24 port lan0 via 10.1.0.254\n"
		       "neighbor add 198.51.100.254 lladdr 02:00:00:00:02:fe port wan0\n"
		       "neighbor add 2001:db8:100::fe lladdr 02:00:00:00:02:FE port wan0\n");
	r = &s->routes[s->n_routes - 3];
	assert_int_equal(r->dst.ip.family, ESPGW_AF_INET6);
	assert_int_equal(r->dst.len, 0);
	assert_int_equal(r->via.family, ESPGW_AF_INET6);
	assert_string_equal(r->port, "wan0");
	r = &s->routes[s->n_routes - 2];
	assert_int_equal(r->via.family, 0);
	assert_string_equal(r->port, "lan0");
	r = &s->routes[s->n_routes - 1];
	assert_int_equal(r->via.v4, htonl(0x0a0100fe));
	nb = &s->neighs[s->n_neighs - 2];
	assert_int_equal(nb->ip.v4, htonl(0xc63364fe));
	assert_memory_equal(nb->mac, mac, 6);
	assert_string_equal(nb->port, "wan0");
	nb = &s->neighs[s->n_neighs - 1];
	assert_memory_equal(nb->mac, mac, 6);
}

static void
test_port_options(void **state)
{
	struct espgw_store *s = *state;
	const struct espgw_port_conf *p;
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};

	load_ok(state, "port add p1 mtu 9000 dev 0000:3b:00.0 role protected address 192.0.2.1/24 "
		       "address 2001:db8:1::1/64 mac 02:00:00:00:00:01 rx-desc 1024 tx-desc 0x200 "
		       "host-if espgw-p1\n"
		       "port add p2 dev net_null0 role unprotected\n");
	p = espgw_store_port(s, "p1");
	assert_non_null(p);
	assert_string_equal(p->dev, "0000:3b:00.0");
	assert_int_equal(p->role, ESPGW_ROLE_PROTECTED);
	assert_int_equal(p->n_addr, 2);
	assert_int_equal(p->addr[0].len, 24);
	assert_int_equal(p->addr[0].ip.v4, htonl(0xc0000201));
	assert_int_equal(p->addr[1].ip.family, ESPGW_AF_INET6);
	assert_int_equal(p->mtu, 9000);
	assert_true(p->has_mac);
	assert_memory_equal(p->mac, mac, 6);
	assert_int_equal(p->rx_desc, 1024);
	assert_int_equal(p->tx_desc, 512);
	assert_string_equal(p->host_if, "espgw-p1");
	p = espgw_store_port(s, "p2");
	assert_int_equal(p->role, ESPGW_ROLE_UNPROTECTED);
	assert_int_equal(p->mtu, 1500);
	assert_int_equal(p->n_addr, 0);
	assert_false(p->has_mac);
	assert_int_equal(p->rx_desc, 0);
	assert_string_equal(p->host_if, "");
	assert_int_equal(espgw_store_port_index(s, "p2"), 3);
}

static void
test_crypto_set(void **state)
{
	struct espgw_store *s = *state;
	const struct espgw_sa_conf *sa;

	assert_int_equal(s->global.crypto_path, ESPGW_CRYPTO_PATH_AUTO);
	assert_int_equal(s->global.burst, 32);
	load_ok(state, "crypto add c1 dev crypto_openssl0\nset crypto-path cpu\nset burst 0x40\n");
	assert_string_equal(espgw_store_crypto(s, "c1")->dev, "crypto_openssl0");
	assert_int_equal(espgw_store_crypto_index(s, "c1"), 1);
	assert_int_equal(s->global.crypto_path, ESPGW_CRYPTO_PATH_CPU);
	assert_int_equal(s->global.burst, 64);
	sa = espgw_store_sa(s, "o4");
	assert_int_equal(espgw_store_sa_crypto_path(s, sa), ESPGW_CRYPTO_PATH_CPU);
	load_ok(state, "set crypto-path cryptodev\nset burst 256\nset burst 1\n");
	assert_int_equal(espgw_store_sa_crypto_path(s, sa), ESPGW_CRYPTO_PATH_CRYPTODEV);
	assert_int_equal(s->global.burst, 1);
	load_ok(state, "set crypto-path auto\n");
	assert_int_equal(espgw_store_sa_crypto_path(s, sa), ESPGW_CRYPTO_PATH_AUTO);
}

static void
test_lexer_forms(void **state)
{
	struct espgw_store *s = *state;
	unsigned int n = s->n_sas, r = s->n_routes;

	/* Tabs, continuation between options, a comment after '\', CRLF. */
	load_ok(state, "\tsa add\tx  dir out \\\r\n"
		       "   spi 0x3001 mode tunnel \\   # the outer header\n"
		       "   local 198.51.100.1 remote 203.0.113.1 \\\n"
		       "   " GCM "  \t\n"
		       "\n"
		       "   \\\n" /* a line with only '\' joins nothing to nothing */
		       "route add 10.9.0.0/24 port lan0\n");
	assert_int_equal(s->n_sas, n + 1);
	assert_int_equal(espgw_store_sa(s, "x")->spi, 0x3001);
	assert_int_equal(s->n_routes, r + 1);
	load_ok(state, "route add 10.10.0.0/24 port lan0 \\"); /* continuation at the end */
	assert_int_equal(s->n_routes, r + 2);
	load_ok(state, "");
	load_ok(state, "# nothing\n\\\n");
}

static void
test_line_too_long(void **state)
{
	struct espgw_store *s = *state;
	size_t len = 0, cap = 8192;
	char *text = malloc(cap), *out = NULL;
	unsigned int r = s->n_routes;

	/* 3000 + 3000 blanks on two joined lines: one command over the limit. */
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len, "\nroute add 10.9.0.0/24%3000s\\\n", "");
	len += (size_t)snprintf(text + len, cap - len, "%3000sport lan0\n", "");
	snprintf(text + len, cap - len, "route add 10.11.0.0/24 port lan0\n");
	assert_int_equal(load(s, "t.conf", text, &out), 1);
	assert_string_equal(out, "t.conf:2: command too long (max 4094 characters)\n");
	/* The next command still loads. */
	assert_int_equal(s->n_routes, r + 1);
	free(out);
	/* 5 + 124 = 129 tokens: one too many. */
	len = (size_t)snprintf(text, cap, "route add 10.12.0.0/24 port lan0");
	for (r = 0; r < ESPGW_CONF_ARGS_MAX - 4; r++)
		len += (size_t)snprintf(text + len, cap - len, " x");
	assert_int_equal(load(s, "t.conf", text, &out), 1);
	assert_string_equal(out, "t.conf:1: too many words (max 128)\n");
	free(out);
	free(text);
}

static void
test_error_limit(void **state)
{
	size_t cap = 200 * 16;
	char *text = malloc(cap), *out = NULL;
	unsigned int i, lines = 0;
	size_t len = 0;
	char *p;

	assert_non_null(text);
	for (i = 0; i < 150; i++)
		len += (size_t)snprintf(text + len, cap - len, "bogus %u\n", i);
	assert_int_equal(load(*state, "t.conf", text, &out), ESPGW_CONF_ERR_MAX);
	for (p = out; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, ESPGW_CONF_ERR_MAX + 1);
	assert_non_null(strstr(out, "t.conf:100: unknown command 'bogus'\n"
				    "t.conf: too many errors, stopping\n"));
	free(out);
	free(text);
}

static void
test_no_key_in_messages(void **state)
{
	static const char *const texts[] = {
			SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key "
						      "0x5ec7e75ec7e75ec7e75ec7e75ec7e7zz salt "
						      "0x01020304",
			SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key "
						      "0x5ec7e75ec7e75ec7e75ec7e75ec7e7 salt "
						      "0x01020304",
			SA_HEAD("x", "out", "0x3001") "cipher aes-cbc-128 key "
						      "0x5ec7e75ec7e75ec7e75ec7e75ec7e75e "
						      "auth hmac-sha1-96 auth-key 0x5ec7e75ec7e7",
			SA_HEAD("x", "out", "0x3001") "aead aes-gcm-128 key "
						      "0x5ec7e75ec7e75ec7e75ec7e75ec7e75e salt "
						      "0x5ec7e7",
	};
	char *out = NULL;
	unsigned int i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(load(*state, "t.conf", texts[i], &out), 1);
		if (strstr(out, "5ec7e7") != NULL)
			fail_msg("key text in message: %s", out);
		free(out);
		out = NULL;
	}
}

static void
test_load_file_missing(void **state)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(espgw_conf_load_file("/nonexistent/espgw.conf", *state, f), 1);
	fclose(f);
	assert_string_equal(
			out, "/nonexistent/espgw.conf: cannot open: No such file or directory\n");
	free(out);
	f = open_memstream(&out, &len);
	assert_int_equal(espgw_conf_load_file("/", *state, f), 1);
	fclose(f);
	assert_string_equal(out, "/: cannot read: Is a directory\n");
	free(out);
}

static void
test_load_file_ok(void **state)
{
	char path[] = "/tmp/espgw-test-conf-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("route add 10.9.0.0/24 port lan0\nroute add 10.9.0.0/24 port lan0\n", f);
	fclose(f);
	f = fopen("/dev/null", "w");
	assert_int_equal(espgw_conf_load_file(path, *state, f), 1);
	fclose(f);
	unlink(path);
}

static void
test_parse_cmd(void **state)
{
	char a0[] = "sp", a1[] = "add", a2[] = "out", a3[] = "dst", a4[] = "10.2.0.0/24",
	     a5[] = "bypass";
	char *argv[] = {a0, a1, a2, a3, a4, a5};
	struct espgw_req req;
	struct espgw_err err;

	(void)state;
	assert_int_equal(espgw_conf_parse_cmd(6, argv, &req, &err), 0);
	assert_int_equal(req.type, ESPGW_REQ_SP_ADD);
	assert_int_equal(req.sp.action, ESPGW_SP_BYPASS);
	/* The parser leaves an absent selector unset: filling it is the store's job. */
	assert_int_equal(req.sp.src.ip.family, 0);
	assert_int_equal(espgw_conf_parse_cmd(0, argv, &req, &err), -1);
	assert_string_equal(err.msg, "empty command");
	assert_int_equal(espgw_conf_parse_cmd(5, argv, &req, &err), -1);
	assert_string_equal(err.msg, "sp add needs protect SA, bypass or discard");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const size_t n_bad = sizeof(bad_cases) / sizeof(bad_cases[0]);
	const struct CMUnitTest valid[] = {
			T(test_sa_defaults),
			T(test_sa_all_options),
			T(test_sa_inbound_options),
			T(test_sa_transforms),
			T(test_sa_ah),
			T(test_sa_same_spi_other_direction),
			T(test_sa_seq_limits),
			T(test_sa_mss_clamp),
			T(test_sa_del),
			T(test_sa_update),
			T(test_sp_all_options),
			T(test_sp_defaults),
			T(test_sp_protos),
			T(test_sp_inner_family_v6),
			T(test_route_neighbor),
			T(test_port_options),
			T(test_crypto_set),
			T(test_lexer_forms),
			T(test_line_too_long),
			T(test_error_limit),
			T(test_no_key_in_messages),
			T(test_load_file_missing),
			T(test_load_file_ok),
			T(test_parse_cmd),
	};
	struct CMUnitTest *bad = calloc(n_bad, sizeof(*bad));
	size_t i;
	int fails;

	if (bad == NULL)
		return 1;
	for (i = 0; i < n_bad; i++) {
		bad[i].name = bad_cases[i].name;
		bad[i].test_func = run_bad;
		bad[i].initial_state = (void *)(uintptr_t)&bad_cases[i];
	}
	fails = cmocka_run_group_tests_name("conf valid", valid, NULL, NULL);
	fails += _cmocka_run_group_tests("conf invalid", bad, n_bad, NULL, NULL);
	free(bad);
	return fails != 0;
}
