/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Security review of eeff443 / ca9e90b (no two SAs under one key: store_sa.c
 * sa_check_key, store_diff.c sa_key_taken, publish.c sa_key_fresh).
 *
 * attack_ctr_same_key_other_auth_key: espgw_store_sa_same_key compares the
 * auth-key too, so two outbound AES-CTR + HMAC SAs with one cipher key and
 * salt but different HMAC keys are "different key material" and accepted.
 * Both send IV = sequence number 1, 2, 3... (rte_ipsec), counter block
 * salt | IV | ctr: the same AES-CTR keystream twice (XOR of ciphertexts =
 * XOR of plaintexts). The HMAC key has nothing to do with the nonce.
 *
 * attack_gcm_and_ctr_same_key: an outbound AES-GCM-128 SA and an outbound
 * AES-CTR-128 + HMAC SA with the same 16-byte key and salt: same_key sees
 * auth_key_len 0 vs 32 and lets them both in. GCM encrypts block j of the
 * packet with salt | IV | (j + 2), RFC 3686 CTR with salt | IV | (j + 1):
 * CTR block j + 1 is GCM block j, for every packet (same IV = same seq).
 *
 * attack_reload_in_key_to_out: a reload that removes an inbound AES-GCM SA
 * and adds an outbound one of another name with its key and salt: the diff's
 * sa_key_taken compares only SAs of the same direction, the store check sees
 * the inbound SA already deleted, and publish.c sa_key_fresh compares only
 * outbound slots. The new SA sends salt | 1, 2, 3... under the key the peer
 * already sent salt | 1, 2, 3... under: the "from both ends" case that
 * key_clash refuses for two SAs of one store, let in across a reload.
 *
 * Controls (hold): in/out CBC+HMAC and AH HMAC pairs with one key are
 * accepted; GCM vs AH GMAC with one key and salt are refused.
 *
 * Fixed (c937826): with a salt only the cipher or AEAD key and the salt are
 * compared (espgw_store_sa_same_key), and a key given by reload or the
 * socket to an SA of the other direction counts when it has a salt
 * (espgw_store_sa_key_reused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "espgw_conf.h"
#include "espgw_store.h"

#define PORTS                                                                    \
	"port add lan0 dev net_tap0 role protected address 10.1.0.1/24\n"        \
	"port add wan0 dev net_tap1 role unprotected address 198.51.100.1/24\n" \
	"route add 0.0.0.0/0 via 198.51.100.254 port wan0\n"
#define HEAD(name, dir, spi)                                                             \
	"sa add " name " dir " dir " spi " spi " mode tunnel local 198.51.100.1 remote " \
	"203.0.113.1 "
#define K16 "0x00112233445566778899aabbccddeeff"
#define A32 "0x0101010101010101010101010101010101010101010101010101010101010101"
#define B32 "0x0202020202020202020202020202020202020202020202020202020202020202"
#define SALT "0xa0a1a2a3"

/* Errors printed by the load (0 = accepted); *msg what it printed. */
static int
load(struct espgw_store *s, const char *text, char **msg)
{
	size_t len;
	FILE *f;
	int n;

	espgw_store_init(s);
	*msg = NULL;
	f = open_memstream(msg, &len);
	assert_non_null(f);
	n = espgw_conf_load_string("t.conf", text, s, f);
	fclose(f);
	return n;
}

static void
expect(const char *text, bool refused, const char *why)
{
	struct espgw_store s;
	char *msg;
	int n = load(&s, text, &msg);

	if (refused && n == 0)
		fail_msg("accepted: %s", why);
	if (!refused && n != 0)
		fail_msg("refused (%s): %s", why, msg);
	free(msg);
	espgw_store_fini(&s);
}

static void
attack_ctr_same_key_other_auth_key(void **state)
{
	(void)state;
	expect(PORTS HEAD("o1", "out", "0x1001") "cipher aes-ctr-128 key " K16 " salt " SALT
			" auth hmac-sha256-128 auth-key " A32 "\n" HEAD("o2", "out", "0x1002")
			"cipher aes-ctr-128 key " K16 " salt " SALT
			" auth hmac-sha256-128 auth-key " B32 "\n",
			true,
			"two outbound AES-CTR SAs with one cipher key and salt (only their HMAC "
			"keys differ): the same keystream for every sequence number");
}

static void
attack_gcm_and_ctr_same_key(void **state)
{
	(void)state;
	expect(PORTS HEAD("o1", "out", "0x1001") "aead aes-gcm-128 key " K16 " salt " SALT
			"\n" HEAD("o2", "out", "0x1002") "cipher aes-ctr-128 key " K16 " salt " SALT
			" auth hmac-sha256-128 auth-key " A32 "\n",
			true,
			"outbound AES-GCM-128 and AES-CTR-128 SAs with one key and salt: CTR "
			"counter j+1 is GCM counter j under the same IV");
}

/* The controls: what must stay accepted, what is refused. */
static void
control_in_out_cbc_same_keys_ok(void **state)
{
	(void)state;
	expect(PORTS HEAD("o1", "out", "0x1001") "cipher aes-cbc-128 key " K16
			" auth hmac-sha256-128 auth-key " A32 "\n" HEAD("i1", "in", "0x2001")
			"cipher aes-cbc-128 key " K16 " auth hmac-sha256-128 auth-key " A32 "\n",
			false, "in/out CBC+HMAC with one key");
}

static void
control_ah_hmac_in_out_ok(void **state)
{
	(void)state;
	expect(PORTS "sa add o1 dir out proto ah spi 0x1001 mode tunnel local 198.51.100.1 "
		     "remote 203.0.113.1 auth hmac-sha256-128 auth-key " A32 "\n"
		     "sa add i1 dir in proto ah spi 0x2001 mode tunnel local 198.51.100.1 "
		     "remote 203.0.113.1 auth hmac-sha256-128 auth-key " A32 "\n",
			false, "AH HMAC in/out with one key");
}

static void
control_gcm_and_ah_gmac_refused(void **state)
{
	(void)state;
	expect(PORTS HEAD("o1", "out", "0x1001") "aead aes-gcm-128 key " K16 " salt " SALT
			"\n"
			"sa add o2 dir out proto ah spi 0x1002 mode tunnel local 198.51.100.1 "
			"remote 203.0.113.1 auth aes-gmac-128 key " K16 " salt " SALT "\n",
			true, "GCM and AH GMAC with one key and salt");
}

#define GCM_SA(name, dir, spi, key) \
	HEAD(name, dir, spi) "aead aes-gcm-128 key " key " salt " SALT "\n"
#define KA "0x0ab40ab40ab40ab40ab40ab40ab40ab4"
#define KB "0x1ab40ab40ab40ab40ab40ab40ab40ab4"
#define KC "0x2ab40ab40ab40ab40ab40ab40ab40ab4"

/* run -> text: the diff must not add an SA under a key that a removed SA of the run had. */
static void
diff_no_key_across_dirs(const char *run_text, const char *tgt_text)
{
	struct espgw_store run, tgt;
	struct espgw_err err = {{0}};
	struct espgw_diff_sum sum;
	const struct espgw_sa_conf *old;
	struct espgw_req *q;
	unsigned int n, i, k;
	char *msg;

	assert_int_equal(load(&run, run_text, &msg), 0);
	free(msg);
	assert_int_equal(load(&tgt, tgt_text, &msg), 0);
	free(msg);
	if (espgw_store_diff(&run, &tgt, &q, &n, &sum, &err) == 0) {
		for (i = 0; i < n; i++) {
			if (q[i].type != ESPGW_REQ_SA_ADD)
				continue;
			for (k = 0; k < run.n_sas; k++) {
				old = &run.sas[k];
				if (strcmp(old->name, q[i].sa.name) != 0 &&
						espgw_store_sa(&tgt, old->name) == NULL &&
						espgw_store_sa_same_key(old, &q[i].sa))
					fail_msg("reload removes %s SA %s and adds %s SA %s "
						 "under its AES-GCM key and salt (sequence "
						 "numbers from 1 again: nonces of both ends)",
							old->dir == ESPGW_DIR_IN ? "inbound"
										 : "outbound",
							old->name,
							q[i].sa.dir == ESPGW_DIR_IN ? "inbound"
										    : "outbound",
							q[i].sa.name);
			}
		}
		/* Applying it: the store takes it request by request. */
		for (i = 0; i < n; i++)
			if (espgw_store_apply(&run, &q[i], &err) < 0)
				break;
		espgw_store_diff_free(q, n);
	}
	espgw_store_fini(&tgt);
	espgw_store_fini(&run);
}

static void
attack_reload_in_key_to_out(void **state)
{
	(void)state;
	diff_no_key_across_dirs(PORTS GCM_SA("a-out", "out", "0x1001", KA)
					GCM_SA("a-in", "in", "0x2001", KB),
			PORTS GCM_SA("a-out", "out", "0x1001", KA)
					GCM_SA("x-out", "out", "0x1009", KB));
}

static void
attack_reload_out_key_to_in(void **state)
{
	(void)state;
	diff_no_key_across_dirs(PORTS GCM_SA("a-out", "out", "0x1001", KA)
					GCM_SA("a-in", "in", "0x2001", KB),
			PORTS GCM_SA("x-in", "in", "0x2009", KA)
					GCM_SA("a-in", "in", "0x2001", KB)
					GCM_SA("a2-out", "out", "0x1002", KC));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(attack_ctr_same_key_other_auth_key),
			cmocka_unit_test(attack_gcm_and_ctr_same_key),
			cmocka_unit_test(attack_reload_in_key_to_out),
			cmocka_unit_test(attack_reload_out_key_to_in),
			cmocka_unit_test(control_in_out_cbc_same_keys_ok),
			cmocka_unit_test(control_ah_hmac_in_out_ok),
			cmocka_unit_test(control_gcm_and_ah_gmac_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
