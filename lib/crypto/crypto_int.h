/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/crypto internals shared between its files. */
#ifndef ESPGW_CRYPTO_INT_H
#define ESPGW_CRYPTO_INT_H

#include "espgw_crypto.h"

/* Index of the "crypto add" object named name, or -1. */
int espgw_crypto_conf_index(const struct espgw_store *s, const char *name);

#endif
