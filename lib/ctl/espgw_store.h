/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's view of the configuration: every object added through
 * requests, validated as it arrives. Modules build their runtime tables from it.
 * Pure C, no DPDK.
 */
#ifndef ESPGW_STORE_H
#define ESPGW_STORE_H

#include <stddef.h>

#include "espgw_req.h"

#define ESPGW_ERR_MAX 256

/* A validation failure: a human sentence without location (the caller adds FILE:LINE). */
struct espgw_err {
	char msg[ESPGW_ERR_MAX];
};

struct espgw_store {
	struct espgw_port_conf *ports;
	unsigned int n_ports, cap_ports;
	struct espgw_sa_conf *sas;
	unsigned int n_sas, cap_sas;
	struct espgw_sp_conf *sps;
	unsigned int n_sps, cap_sps;
	struct espgw_route_conf *routes;
	unsigned int n_routes, cap_routes;
	struct espgw_neigh_conf *neighs;
	unsigned int n_neighs, cap_neighs;
	struct espgw_crypto_conf *cryptos;
	unsigned int n_cryptos, cap_cryptos;
	struct espgw_global_conf global;
};

void espgw_store_init(struct espgw_store *s);
/* Frees everything and wipes key material (explicit_bzero). */
void espgw_store_fini(struct espgw_store *s);

/*
 * Validate one request against what is already there and apply it.
 * Returns 0, or -1 with err->msg set and the store unchanged.
 */
int espgw_store_apply(struct espgw_store *s, const struct espgw_req *req, struct espgw_err *err);

/* Lookups by name / key; NULL when absent. */
const struct espgw_port_conf *espgw_store_port(const struct espgw_store *s, const char *name);
int espgw_store_port_index(const struct espgw_store *s, const char *name);
const struct espgw_sa_conf *espgw_store_sa(const struct espgw_store *s, const char *name);
int espgw_store_sa_index(const struct espgw_store *s, const char *name);
const struct espgw_crypto_conf *espgw_store_crypto(const struct espgw_store *s, const char *name);

#endif
