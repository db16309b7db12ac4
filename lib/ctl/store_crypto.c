/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Store: cryptodevs, validated against what is already configured (names
 * and devices unique).
 */
#include <string.h>

#include "espgw_store.h"
#include "store_int.h"

int
espgw_store_crypto_add(
		struct espgw_store *s, const struct espgw_crypto_conf *c, struct espgw_err *err)
{
	unsigned int i;

	if (!espgw_name_valid(c->name))
		return espgw_err_set(err, "invalid crypto name");
	if (espgw_store_crypto(s, c->name) != NULL)
		return espgw_err_set(err, "crypto %s already exists", c->name);
	if (!espgw_store_dev_valid(c->dev))
		return espgw_err_set(err, "crypto %s needs a dev", c->name);
	for (i = 0; i < s->n_cryptos; i++)
		if (strcmp(s->cryptos[i].dev, c->dev) == 0)
			return espgw_err_set(err, "dev %s is already used by crypto %s", c->dev,
					s->cryptos[i].name);
	if (espgw_store_arr_insert(s, ESPGW_ARR_CRYPTOS, s->n_cryptos, c) < 0)
		return espgw_store_nomem(err);
	return 0;
}
