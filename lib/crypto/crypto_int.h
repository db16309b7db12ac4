/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/crypto internals shared between its files. */
#ifndef ESPGW_CRYPTO_INT_H
#define ESPGW_CRYPTO_INT_H

#include "espgw_crypto.h"

/* Index of the "crypto add" object named name, or -1. */
int espgw_crypto_conf_index(const struct espgw_store *s, const char *name);

/*
 * Check that the device sa uses can run its transforms (algorithm, key, IV,
 * digest and AAD sizes) and, for the CPU path, synchronous CPU crypto.
 * Returns 0, or -1 with err naming the SA, the algorithm and the device.
 */
int espgw_crypto_sa_check(const struct espgw_crypto *c, const struct espgw_store *s,
		const struct espgw_sa_conf *sa, struct espgw_err *err);

#endif
