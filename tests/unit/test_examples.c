/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config files as files: "test_examples CONF..." loads each file into a fresh
 * store and fails when any of them has an error (the shipped examples must be
 * valid). "test_examples --expect OUT CONF" fails unless loading CONF prints
 * exactly the content of OUT (the deliberately broken example).
 * "test_examples --pair A B" fails unless the two gateways agree: every SA of
 * A is in B under the same name with the other direction, the same SPI,
 * transform and keys and swapped endpoints, and every protect policy of A has
 * its mirror in B: the other direction, the same selectors (the packets of
 * one flow have the same addresses at both ends), the same SA.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espgw_conf.h"

static int
load_one(const char *path, FILE *errs)
{
	struct espgw_store s;
	int n;

	espgw_store_init(&s);
	n = espgw_conf_load_file(path, &s, errs);
	if (n == 0 && (s.n_ports == 0 || s.n_sas == 0 || s.n_sps == 0)) {
		fprintf(errs, "%s: loads but defines no port, SA or policy\n", path);
		n = 1;
	}
	espgw_store_fini(&s);
	return n;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = calloc(1, (size_t)size + 1);
		if (buf != NULL)
			len = fread(buf, 1, (size_t)size, f);
		if (buf != NULL && len != (size_t)size) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static int
expect(const char *out_path, const char *conf)
{
	char *want = slurp(out_path), *got = NULL;
	struct espgw_store s;
	size_t len;
	FILE *f = open_memstream(&got, &len);
	int n, rc;

	if (want == NULL || f == NULL) {
		fprintf(stderr, "%s: cannot read\n", out_path);
		return 1;
	}
	espgw_store_init(&s);
	n = espgw_conf_load_file(conf, &s, f);
	espgw_store_fini(&s);
	fclose(f);
	rc = n == 0 || strcmp(want, got) != 0;
	if (rc)
		fprintf(stderr, "%s: %d errors; got:\n%s--- expected:\n%s", conf, n, got, want);
	free(want);
	free(got);
	return rc;
}

static bool
sa_mirror(const struct espgw_sa_conf *a, const struct espgw_sa_conf *b)
{
	return a->dir != b->dir && a->spi == b->spi && a->aead == b->aead &&
	       a->cipher == b->cipher && a->auth == b->auth && a->key_len == b->key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0 && a->auth_key_len == b->auth_key_len &&
	       memcmp(a->auth_key, b->auth_key, a->auth_key_len) == 0 &&
	       a->has_salt == b->has_salt && memcmp(a->salt, b->salt, sizeof(a->salt)) == 0 &&
	       a->esn == b->esn && espgw_ip_equal(&a->local, &b->remote) &&
	       espgw_ip_equal(&a->remote, &b->local);
}

static bool
prefix_eq(const struct espgw_prefix *a, const struct espgw_prefix *b)
{
	return a->len == b->len && espgw_ip_equal(&a->ip, &b->ip);
}

static bool
sp_mirror(const struct espgw_sp_conf *a, const struct espgw_sp_conf *b)
{
	return a->dir != b->dir && b->action == ESPGW_SP_PROTECT && strcmp(a->sa, b->sa) == 0 &&
	       prefix_eq(&a->src, &b->src) && prefix_eq(&a->dst, &b->dst) && a->proto == b->proto &&
	       a->sport_lo == b->sport_lo && a->sport_hi == b->sport_hi &&
	       a->dport_lo == b->dport_lo && a->dport_hi == b->dport_hi;
}

static int
pair_check(const struct espgw_store *a, const struct espgw_store *b)
{
	const struct espgw_sa_conf *peer;
	unsigned int i, j, bad = 0;

	for (i = 0; i < a->n_sas; i++) {
		peer = espgw_store_sa(b, a->sas[i].name);
		if (peer == NULL || !sa_mirror(&a->sas[i], peer)) {
			fprintf(stderr, "SA %s: no matching SA in the peer\n", a->sas[i].name);
			bad++;
		}
	}
	for (i = 0; i < a->n_sps; i++) {
		if (a->sps[i].action != ESPGW_SP_PROTECT)
			continue;
		for (j = 0; j < b->n_sps && !sp_mirror(&a->sps[i], &b->sps[j]); j++)
			;
		if (j == b->n_sps) {
			fprintf(stderr, "policy %u (protect %s): no mirror policy in the peer\n",
					i + 1, a->sps[i].sa);
			bad++;
		}
	}
	return bad != 0 || a->n_sas != b->n_sas;
}

static int
pair(const char *pa, const char *pb)
{
	struct espgw_store a, b;
	int rc;

	espgw_store_init(&a);
	espgw_store_init(&b);
	rc = espgw_conf_load_file(pa, &a, stderr) != 0 || espgw_conf_load_file(pb, &b, stderr) != 0;
	if (rc == 0)
		rc = pair_check(&a, &b) || pair_check(&b, &a);
	if (rc == 0)
		printf("%s and %s agree (%u SAs)\n", pa, pb, a.n_sas);
	espgw_store_fini(&a);
	espgw_store_fini(&b);
	return rc;
}

int
main(int argc, char **argv)
{
	int i, bad = 0;

	if (argc == 4 && strcmp(argv[1], "--expect") == 0)
		return expect(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "--pair") == 0)
		return pair(argv[2], argv[3]);
	if (argc < 2) {
		fprintf(stderr, "usage: %s CONF... | --expect OUT CONF | --pair A B\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (load_one(argv[i], stderr) != 0)
			bad++;
		else
			printf("%s: ok\n", argv[i]);
	}
	return bad != 0;
}
