/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capability check: before anything is started, every SA's transforms are
 * checked against the device it will use, so that a device that cannot do
 * an algorithm (or a key, IV, ICV or AAD size of it) fails the start with a
 * sentence naming the SA, the algorithm and the device, instead of a session
 * creation error or, worse, packets failing one by one. Also where an SA
 * that inherits the CPU path but cannot use it is moved to the cryptodev.
 */
#include <stdio.h>
#include <string.h>

#include <rte_cryptodev.h>
#include <rte_log.h>

#include "crypto_int.h"
#include "espgw_crypto_xform.h"
#include "espgw_gcm.h"
#include "espgw_log.h"

int
espgw_crypto_conf_index(const struct espgw_store *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n_cryptos; i++)
		if (strcmp(s->cryptos[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const struct rte_cryptodev_symmetric_capability *
cap_get(uint8_t dev, const struct rte_crypto_sym_xform *xf)
{
	struct rte_cryptodev_sym_capability_idx idx = {.type = xf->type};

	if (xf->type == RTE_CRYPTO_SYM_XFORM_AEAD)
		idx.algo.aead = xf->aead.algo;
	else if (xf->type == RTE_CRYPTO_SYM_XFORM_CIPHER)
		idx.algo.cipher = xf->cipher.algo;
	else
		idx.algo.auth = xf->auth.algo;
	return rte_cryptodev_sym_capability_get(dev, &idx);
}

static int
cap_sizes(const struct rte_cryptodev_symmetric_capability *cap,
		const struct rte_crypto_sym_xform *xf)
{
	if (xf->type == RTE_CRYPTO_SYM_XFORM_AEAD)
		return rte_cryptodev_sym_capability_check_aead(cap, xf->aead.key.length,
				xf->aead.digest_length, xf->aead.aad_length, xf->aead.iv.length);
	if (xf->type == RTE_CRYPTO_SYM_XFORM_CIPHER)
		return rte_cryptodev_sym_capability_check_cipher(
				cap, xf->cipher.key.length, xf->cipher.iv.length);
	return rte_cryptodev_sym_capability_check_auth(
			cap, xf->auth.key.length, xf->auth.digest_length, xf->auth.iv.length);
}

static int
xform_check(uint8_t dev, const struct espgw_sa_conf *sa, const struct rte_crypto_sym_xform *xf,
		enum espgw_algo algo, struct espgw_err *err)
{
	const struct rte_cryptodev_symmetric_capability *cap = cap_get(dev, xf);

	if (cap == NULL) {
		snprintf(err->msg, sizeof(err->msg), "sa %s: %s not supported by crypto device %s",
				sa->name, espgw_algo_name(algo), rte_cryptodev_name_get(dev));
		return -1;
	}
	if (cap_sizes(cap, xf) != 0) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: %s with these key, IV, ICV or AAD sizes not supported by "
				"crypto device %s",
				sa->name, espgw_algo_name(algo), rte_cryptodev_name_get(dev));
		return -1;
	}
	return 0;
}

/*
 * What the CPU path cannot serve (espgw_crypto_cpu_unfit): an SA that asks for
 * it itself is refused; one that only inherits "set crypto-path cpu" runs on
 * the cryptodev (espgw_crypto_sa_path), and that is said once, here.
 */
static int
cpu_unfit_check(const struct espgw_store *s, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	enum espgw_algo algo;
	const char *why = espgw_crypto_cpu_unfit(sa, &algo);

	if (why == NULL)
		return 0;
	if (sa->crypto_path == ESPGW_CRYPTO_PATH_CPU) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: %s on crypto path cpu %s; use crypto-path cryptodev",
				sa->name, espgw_algo_name(algo), why);
		return -1;
	}
	if (sa->crypto_path == ESPGW_CRYPTO_PATH_DEFAULT &&
			s->global.crypto_path == ESPGW_CRYPTO_PATH_CPU)
		CRYPTO_LOG(NOTICE,
				"sa %s: %s on crypto path cpu %s: this SA uses crypto path "
				"cryptodev",
				sa->name, espgw_algo_name(algo), why);
	return 0;
}

static bool
dev_has_cpu_crypto(uint8_t dev)
{
	struct rte_cryptodev_info info;

	rte_cryptodev_info_get(dev, &info);
	return (info.feature_flags & RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO) != 0;
}

/* Only "auto" leaves the choice to the device. */
static bool
path_is_auto(const struct espgw_store *s, const struct espgw_sa_conf *sa)
{
	return sa->crypto_path == ESPGW_CRYPTO_PATH_DEFAULT &&
	       s->global.crypto_path == ESPGW_CRYPTO_PATH_AUTO;
}

/*
 * The direct path calls Intel IPsec-MB itself: under "auto" only where the
 * SA's device is that library in software anyway, never in place of a
 * device the operator added for its hardware.
 */
static bool
dev_is_ipsec_mb(uint8_t dev)
{
	struct rte_cryptodev_info info;

	rte_cryptodev_info_get(dev, &info);
	return info.driver_name != NULL &&
	       (strcmp(info.driver_name, "crypto_aesni_mb") == 0 ||
			       strcmp(info.driver_name, "crypto_aesni_gcm") == 0);
}

enum espgw_crypto_path
espgw_crypto_path_of(const struct espgw_crypto *c, const struct espgw_store *s,
		const struct espgw_sa_conf *sa)
{
	enum espgw_crypto_path p = espgw_crypto_sa_path(s, sa);
	uint8_t dev = espgw_crypto_dev_for(c, s, sa);

	if (p == ESPGW_CRYPTO_PATH_DIRECT && path_is_auto(s, sa) && !dev_is_ipsec_mb(dev))
		p = espgw_crypto_cpu_unfit(sa, NULL) == NULL ? ESPGW_CRYPTO_PATH_CPU
							     : ESPGW_CRYPTO_PATH_CRYPTODEV;
	if (p == ESPGW_CRYPTO_PATH_CPU && path_is_auto(s, sa) && !dev_has_cpu_crypto(dev))
		return ESPGW_CRYPTO_PATH_CRYPTODEV;
	return p;
}

/* As cpu_unfit_check, for the direct path (espgw_crypto_direct_unfit). */
static int
direct_unfit_check(
		const struct espgw_store *s, const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	const char *why = espgw_crypto_direct_unfit(sa);

	if (why == NULL)
		return 0;
	if (sa->crypto_path == ESPGW_CRYPTO_PATH_DIRECT) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: crypto path direct %s; use crypto-path cpu or cryptodev",
				sa->name, why);
		return -1;
	}
	if (sa->crypto_path == ESPGW_CRYPTO_PATH_DEFAULT &&
			s->global.crypto_path == ESPGW_CRYPTO_PATH_DIRECT)
		CRYPTO_LOG(NOTICE, "sa %s: crypto path direct %s: this SA uses crypto path %s",
				sa->name, why,
				espgw_crypto_cpu_unfit(sa, NULL) == NULL ? "cpu" : "cryptodev");
	return 0;
}

static int
path_check(const struct espgw_crypto *c, uint8_t dev, const struct espgw_store *s,
		const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	if (cpu_unfit_check(s, sa, err) != 0 || direct_unfit_check(s, sa, err) != 0)
		return -1;
	if (espgw_crypto_path_of(c, s, sa) != ESPGW_CRYPTO_PATH_CPU || dev_has_cpu_crypto(dev))
		return 0;
	snprintf(err->msg, sizeof(err->msg),
			"sa %s: crypto path cpu not supported by crypto device %s (no synchronous "
			"CPU crypto)",
			sa->name, rte_cryptodev_name_get(dev));
	return -1;
}

int
espgw_crypto_sa_check(const struct espgw_crypto *c, const struct espgw_store *s,
		const struct espgw_sa_conf *sa, struct espgw_err *err)
{
	struct espgw_crypto_xforms x;
	uint8_t dev;
	unsigned int i;

	if (sa->cryptodev[0] != '\0' && espgw_crypto_conf_index(s, sa->cryptodev) < 0) {
		snprintf(err->msg, sizeof(err->msg), "sa %s: no crypto object named %s", sa->name,
				sa->cryptodev);
		return -1;
	}
	if (espgw_crypto_xforms_build(&x, sa, err) != 0)
		return -1;
	dev = espgw_crypto_dev_for(c, s, sa);
	for (i = 0; i < x.n; i++)
		if (xform_check(dev, sa, &x.xf[i], x.algo[i], err) != 0)
			return -1;
	return path_check(c, dev, s, sa, err);
}
