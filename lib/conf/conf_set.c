/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "set crypto-path auto|cryptodev|cpu|direct", "set burst N", "set max-sa N",
 * "set nat-keepalive SECONDS": the global settings, one value each.
 */
#include "conf_int.h"

/* "set KEY VALUE": exactly one value. */
static int
one_value(const char *cmd, int argc, char *const argv[], struct espgw_err *err)
{
	if (argc < 1)
		return espgw_err_set(err, "missing value for '%s'", cmd);
	if (argc > 1)
		return espgw_err_set(err, "unexpected '%.40s' after %s VALUE",
				espgw_conf_show(argv[1]), cmd);
	return 0;
}

int
espgw_conf_set_crypto_path(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	static const char *const paths[] = {"auto", "cryptodev", "cpu", "direct", NULL};
	static const enum espgw_crypto_path val[] = {ESPGW_CRYPTO_PATH_AUTO,
			ESPGW_CRYPTO_PATH_CRYPTODEV, ESPGW_CRYPTO_PATH_CPU,
			ESPGW_CRYPTO_PATH_DIRECT};
	int i;

	espgw_req_init(req, ESPGW_REQ_SET_CRYPTO_PATH);
	if (one_value("set crypto-path", argc, argv, err) < 0 ||
			espgw_conf_word("crypto-path", argv[0], paths, &i, err) < 0)
		return -1;
	req->crypto_path = val[i];
	return 0;
}

int
espgw_conf_set_burst(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	uint64_t n;

	espgw_req_init(req, ESPGW_REQ_SET_BURST);
	if (one_value("set burst", argc, argv, err) < 0 ||
			espgw_conf_u64("burst", argv[0], 1, ESPGW_BURST_MAX, &n, err) < 0)
		return -1;
	req->burst = (uint16_t)n;
	return 0;
}

int
espgw_conf_set_nat_keepalive(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	uint64_t n;

	espgw_req_init(req, ESPGW_REQ_SET_NAT_KEEPALIVE);
	if (one_value("set nat-keepalive", argc, argv, err) < 0 ||
			espgw_conf_u64("nat-keepalive", argv[0], 0, ESPGW_NAT_KEEPALIVE_MAX, &n,
					err) < 0)
		return -1;
	req->nat_keepalive = (uint32_t)n;
	return 0;
}

int
espgw_conf_set_max_sa(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	uint64_t n;

	espgw_req_init(req, ESPGW_REQ_SET_MAX_SA);
	if (one_value("set max-sa", argc, argv, err) < 0 ||
			espgw_conf_u64("max-sa", argv[0], 1, ESPGW_MAX_SA_MAX, &n, err) < 0)
		return -1;
	req->max_sa = (uint32_t)n;
	return 0;
}
