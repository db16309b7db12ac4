/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "crypto add NAME dev CRYPTODEV"
 */
#include "conf_int.h"

enum { C_DEV };

static int
set_dev(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_dev(v, ((struct espgw_crypto_conf *)obj)->dev, err);
}

static const struct espgw_conf_opt crypto_opts[] = {
		{"dev", set_dev, C_DEV, false, false},
};

int
espgw_conf_crypto_add(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	uint64_t seen;

	espgw_req_init(req, ESPGW_REQ_CRYPTO_ADD);
	if (argc < 1)
		return espgw_err_set(err, "crypto add needs a name");
	if (espgw_conf_name("crypto", argv[0], req->crypto.name, err) < 0)
		return -1;
	if (espgw_conf_opts("crypto add", crypto_opts, ESPGW_CONF_NOPTS(crypto_opts), argc - 1,
			    argv + 1, &req->crypto, &seen, err) < 0)
		return -1;
	return espgw_conf_need("crypto add", seen, C_DEV, "dev", err);
}
