/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Setup of the direct AES-GCM path (espgw_gcm.h): one IPsec-MB manager for
 * the process, initialised for this CPU's best instructions and kept only to
 * read its function table, so that each SA holds the four functions it
 * calls: no job manager, no per-packet dispatch on the key size.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <rte_common.h>

#include "espgw_gcm.h"

static IMB_MGR *gcm_mgr;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

static void
gcm_mgr_init(void)
{
	IMB_MGR *m = alloc_mb_mgr(0);

	if (m == NULL)
		return;
	init_mb_mgr_auto(m, NULL);
	if (imb_get_errno(m) != 0) {
		free_mb_mgr(m);
		return;
	}
	gcm_mgr = m;
}

const char *
espgw_crypto_direct_unfit(const struct espgw_sa_conf *sa)
{
	if (sa->proto != ESPGW_SA_ESP)
		return "is for ESP only";
	if (sa->aead != ESPGW_ALGO_AES_GCM_128 && sa->aead != ESPGW_ALGO_AES_GCM_256)
		return "takes AES-GCM only";
	if (sa->mode != ESPGW_SA_TUNNEL)
		return "takes tunnel mode only";
	return NULL;
}

static void
gcm_fns_128(struct espgw_gcm_sa *g, const IMB_MGR *m, bool out)
{
	g->crypt = out ? m->gcm128_enc : m->gcm128_dec;
	g->init = m->gcm128_init;
	g->update = out ? m->gcm128_enc_update : m->gcm128_dec_update;
	g->finalize = out ? m->gcm128_enc_finalize : m->gcm128_dec_finalize;
}

static void
gcm_fns_256(struct espgw_gcm_sa *g, const IMB_MGR *m, bool out)
{
	g->crypt = out ? m->gcm256_enc : m->gcm256_dec;
	g->init = m->gcm256_init;
	g->update = out ? m->gcm256_enc_update : m->gcm256_dec_update;
	g->finalize = out ? m->gcm256_enc_finalize : m->gcm256_dec_finalize;
}

int
espgw_gcm_sa_init(struct espgw_gcm_sa *g, const struct espgw_sa_conf *sa)
{
	bool out = sa->dir == ESPGW_DIR_OUT;

	pthread_once(&gcm_once, gcm_mgr_init);
	if (gcm_mgr == NULL || espgw_crypto_direct_unfit(sa) != NULL)
		return -1;
	if (sa->aead == ESPGW_ALGO_AES_GCM_128) {
		gcm_fns_128(g, gcm_mgr, out);
		gcm_mgr->gcm128_pre(sa->key, &g->key);
	} else {
		gcm_fns_256(g, gcm_mgr, out);
		gcm_mgr->gcm256_pre(sa->key, &g->key);
	}
	memcpy(g->salt, sa->salt, sizeof(g->salt));
	g->spi = rte_cpu_to_be_32(sa->spi);
	g->esn = sa->esn;
	g->seq = sa->seq != 0 ? sa->seq : 1;
	return 0;
}
