/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cryptodevs: the ones named by "crypto add", or one crypto_aesni_mb vdev that
 * espgw creates itself when none is named. One queue pair per worker on each
 * device, session pools sized for the configured SAs, and a capability check
 * that names the SA, the algorithm and the device when a device cannot do
 * what an SA needs.
 */
#ifndef ESPGW_CRYPTO_H
#define ESPGW_CRYPTO_H

#include <stdint.h>

#include <rte_crypto.h>
#include <rte_mempool.h>

#include "espgw_store.h"

#define ESPGW_MAX_CRYPTODEVS 8

struct espgw_crypto {
	uint8_t dev_id[ESPGW_MAX_CRYPTODEVS]; /* indexed like store->cryptos (or [0] = default) */
	unsigned int n_devs;
	unsigned int n_qps; /* per device: one per worker */
	struct rte_mempool *sess_pool;
	struct rte_mempool *op_pool; /* crypto ops, per-lcore cached */
	int socket;
};

/*
 * Find or create the devices, check every SA's algorithms against them,
 * configure n_workers queue pairs each, create pools. Nothing is started on error.
 */
int espgw_crypto_setup(struct espgw_crypto *c, const struct espgw_store *s, unsigned int n_workers,
		int socket, struct espgw_err *err);
int espgw_crypto_start(struct espgw_crypto *c, struct espgw_err *err);
/* Device an SA uses (its "cryptodev" or the default). */
uint8_t espgw_crypto_dev_for(const struct espgw_crypto *c, const struct espgw_store *s,
		const struct espgw_sa_conf *sa);
/*
 * The crypto path an SA runs on: espgw_crypto_sa_path(), except that under
 * "set crypto-path auto" an SA whose device has no synchronous CPU crypto
 * uses the cryptodev path (explicit "cpu" on such a device is refused).
 */
enum espgw_crypto_path espgw_crypto_path_of(const struct espgw_crypto *c,
		const struct espgw_store *s, const struct espgw_sa_conf *sa);
void espgw_crypto_close(struct espgw_crypto *c);

/*
 * Check that the device sa uses can run its transforms (algorithm, key, IV,
 * digest and AAD sizes) and, for the CPU path, synchronous CPU crypto.
 * Returns 0, or -1 with err naming the SA, the algorithm and the device.
 */
int espgw_crypto_sa_check(const struct espgw_crypto *c, const struct espgw_store *s,
		const struct espgw_sa_conf *sa, struct espgw_err *err);

#endif
