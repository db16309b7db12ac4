/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SA database: one runtime object per configured SA, indexed like
 * store->sas, and rte_ipsec_sad for the inbound lookup by SPI (plus
 * destination, plus source, per SA as configured).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "sad_int.h"

static int
sa_key_type(const struct espgw_sa_conf *sa)
{
	if (sa->match == ESPGW_SAD_MATCH_SPI)
		return RTE_IPSEC_SAD_SPI_ONLY;
	if (sa->match == ESPGW_SAD_MATCH_SPI_DST_SRC)
		return RTE_IPSEC_SAD_SPI_DIP_SIP;
	return RTE_IPSEC_SAD_SPI_DIP;
}

/* The key an inbound packet for this SA carries: our address is its destination. */
static void
sa_key(const struct espgw_sa_conf *sa, union rte_ipsec_sad_key *k)
{
	uint32_t spi = rte_cpu_to_be_32(sa->spi);

	if (sa->local.family == ESPGW_AF_INET)
		espgw_sad_key_v4(k, spi, sa->local.v4, sa->remote.v4);
	else
		espgw_sad_key_v6(k, spi, sa->local.v6, sa->remote.v6);
}

static int
in_sad_create(struct espgw_sad *sad, const struct espgw_store *s, int socket, struct espgw_err *err)
{
	struct rte_ipsec_sad_conf conf = {.socket_id = socket, .flags = RTE_IPSEC_SAD_FLAG_IPV6};
	char name[RTE_IPSEC_SAD_NAMESIZE];
	unsigned int i, n = 0;

	for (i = 0; i < s->n_sas; i++) {
		if (s->sas[i].dir != ESPGW_DIR_IN)
			continue;
		conf.max_sa[sa_key_type(&s->sas[i])]++;
		n++;
	}
	if (n == 0)
		return 0;
	/* Named after the SA array: unique while an old SAD still serves beside this one. */
	snprintf(name, sizeof(name), "espgw_%" PRIxPTR, (uintptr_t)sad->sa);
	sad->in = rte_ipsec_sad_create(name, &conf);
	if (sad->in != NULL)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "cannot create the inbound SAD for %u SAs: %s", n,
			rte_strerror(rte_errno));
	return -1;
}

/* rte_ipsec_sad_add() silently replaces an equal key: refuse a duplicate instead. */
static bool
in_sa_duplicate(const struct espgw_sad *sad, const struct espgw_sa_conf *sa,
		const union rte_ipsec_sad_key *k)
{
	const union rte_ipsec_sad_key *kp = k;
	void *found = NULL;
	const struct espgw_sa_rt *rt;

	if (rte_ipsec_sad_lookup(sad->in, &kp, &found, 1) <= 0)
		return false;
	rt = found;
	return rt->conf->match == sa->match;
}

static int
in_sad_fill(struct espgw_sad *sad, struct espgw_err *err)
{
	union rte_ipsec_sad_key k;
	const struct espgw_sa_conf *sa;
	unsigned int i;
	int rc;

	for (i = 0; i < sad->n; i++) {
		sa = sad->sa[i].conf;
		if (sa->dir != ESPGW_DIR_IN)
			continue;
		sa_key(sa, &k);
		if (in_sa_duplicate(sad, sa, &k)) {
			snprintf(err->msg, sizeof(err->msg),
					"sa %s: another inbound SA has SPI %u and the same "
					"addresses",
					sa->name, sa->spi);
			err->line = sa->line;
			return -1;
		}
		rc = rte_ipsec_sad_add(sad->in, &k, sa_key_type(sa), &sad->sa[i]);
		if (rc != 0) {
			snprintf(err->msg, sizeof(err->msg),
					"sa %s: cannot add to the inbound SAD: %s", sa->name,
					rte_strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/*
 * DESIGN.md, SA ownership: each inbound SA has one owner worker, so that its
 * replay windows (RFC 4303 3.4.3) have one writer and need no atomics. Dealt
 * in turn over the inbound SAs only (configurations list SAs in out/in
 * pairs: every other SA would put them all on one of two workers).
 */
static void
owners_deal(struct espgw_sad *sad, unsigned int n_workers)
{
	unsigned int i, k = 0;

	for (i = 0; i < sad->n; i++)
		if (sad->sa[i].dir == ESPGW_DIR_IN)
			sad->sa[i].owner = (uint16_t)(n_workers > 1 ? k++ % n_workers : 0);
}

static int
sas_init(struct espgw_sad *sad, const struct espgw_store *s, struct espgw_crypto *c,
		unsigned int n_workers, int socket, struct espgw_err *err)
{
	struct espgw_sa_rt_prm p = {.s = s, .c = c, .n_workers = n_workers, .socket = socket};
	unsigned int i;

	p.sqn_ofs = espgw_sa_outb_sqn_offset();
	for (i = 0; i < s->n_sas; i++) {
		sad->n = i + 1; /* so that a failure frees what this SA got */
		if (espgw_sa_rt_init(&sad->sa[i], i, &p, err) != 0) {
			err->line = s->sas[i].line;
			return -1;
		}
	}
	owners_deal(sad, n_workers);
	return 0;
}

int
espgw_sad_build(struct espgw_sad *sad, const struct espgw_store *s, struct espgw_crypto *c,
		unsigned int n_workers, int socket, struct espgw_err *err)
{
	memset(sad, 0, sizeof(*sad));
	if (espgw_mbuf_sa_register() != 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot register the mbuf SA fields: %s",
				rte_strerror(rte_errno));
		return -1;
	}
	if (s->n_sas != 0) {
		sad->sa = rte_zmalloc_socket("espgw_sa_rt", s->n_sas * sizeof(*sad->sa),
				RTE_CACHE_LINE_SIZE, socket);
		if (sad->sa == NULL) {
			snprintf(err->msg, sizeof(err->msg), "no memory for %u SAs", s->n_sas);
			return -1;
		}
	}
	if (sas_init(sad, s, c, n_workers, socket, err) != 0 ||
			in_sad_create(sad, s, socket, err) != 0 ||
			(sad->in != NULL && in_sad_fill(sad, err) != 0)) {
		espgw_sad_free(sad);
		return -1;
	}
	return 0;
}

void
espgw_sad_free(struct espgw_sad *sad)
{
	unsigned int i;

	for (i = 0; i < sad->n; i++)
		espgw_sa_rt_fini(&sad->sa[i]);
	rte_free(sad->sa);
	rte_ipsec_sad_destroy(sad->in);
	memset(sad, 0, sizeof(*sad));
}
