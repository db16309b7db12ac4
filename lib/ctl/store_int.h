/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to the store: one validate-and-apply function per request type,
 * one file per object (store_port.c, store_route.c, store_neigh.c,
 * store_crypto.c, store_sa.c, store_sp.c), and the helpers they share
 * (espgw_store.c; store_port.c: the checks routes, neighbors and cryptodevs
 * share with ports).
 */
#ifndef ESPGW_STORE_INT_H
#define ESPGW_STORE_INT_H

#include "espgw_store.h"

/*
 * Make room for one more element of size elem in arr (capacity *cap, n used).
 * Returns the array to use from now on (arr itself when there was room), or
 * NULL with arr untouched. Old arrays are wiped before being freed: SA arrays
 * hold keys.
 */
void *espgw_store_grow(void *arr, unsigned int *cap, unsigned int n, size_t elem);

/*
 * The elementary changes (store_journal.c): every change to the store goes
 * through them so that a transaction can be rolled back. Each returns 0, or
 * -1 when out of memory with nothing changed.
 */
enum espgw_store_arr {
	ESPGW_ARR_PORTS,
	ESPGW_ARR_SAS,
	ESPGW_ARR_SPS,
	ESPGW_ARR_ROUTES,
	ESPGW_ARR_NEIGHS,
	ESPGW_ARR_CRYPTOS,
};
int espgw_store_arr_insert(
		struct espgw_store *s, enum espgw_store_arr a, unsigned int idx, const void *obj);
int espgw_store_arr_remove(struct espgw_store *s, enum espgw_store_arr a, unsigned int idx);
int espgw_store_arr_set(
		struct espgw_store *s, enum espgw_store_arr a, unsigned int idx, const void *obj);
int espgw_store_global_set(struct espgw_store *s, const struct espgw_global_conf *g);
int espgw_store_slot_set(struct espgw_store *s, uint32_t slot, enum espgw_slot_state st);

/*
 * The hashed lookups (store_index.c), kept by the elementary changes above:
 * reserve room for n elements before an insert (-1 when out of memory), then
 * report the insert; report a removal or a replacement around it.
 */
int espgw_store_ix_reserve(struct espgw_store *s, enum espgw_store_arr a, unsigned int n);
void espgw_store_ix_inserted(
		struct espgw_store *s, enum espgw_store_arr a, unsigned int idx, unsigned int n);
void espgw_store_ix_removing(
		struct espgw_store *s, enum espgw_store_arr a, unsigned int idx, unsigned int n);
void espgw_store_ix_replacing(struct espgw_store *s, enum espgw_store_arr a, unsigned int idx);
void espgw_store_ix_replaced(struct espgw_store *s, enum espgw_store_arr a, unsigned int idx);
void espgw_store_ix_free(struct espgw_store *s);
/* Positions in the SA and policy arrays; -1 when absent. */
int espgw_store_ix_sa_name(const struct espgw_store *s, const char *name);
int espgw_store_ix_sa_spi(const struct espgw_store *s, enum espgw_dir dir, uint32_t spi);
int espgw_store_ix_sp_name(const struct espgw_store *s, const char *name);
int espgw_store_ix_sa_slot(const struct espgw_store *s, uint32_t slot);
/* An SA with sa's key material (as store_sa.c compares it: key_material); -1 if none. */
int espgw_store_ix_sa_key(const struct espgw_store *s, const struct espgw_sa_conf *sa);
/* A policy with sp's direction, priority and selectors. */
int espgw_store_ix_sp_rule(const struct espgw_store *s, const struct espgw_sp_conf *sp);
/* A protect policy that names SA sa. */
int espgw_store_ix_sp_using(const struct espgw_store *s, const char *sa);
/* An inbound policy whose previous SA (espgw_sp_conf.prev_sa) is sa. */
int espgw_store_ix_sp_prev(const struct espgw_store *s, const char *sa);

/* Slot slot's SA or state changed: the data path must look at it (espgw_store_dirty). */
void espgw_store_slot_dirty(struct espgw_store *s, uint32_t slot);

/* Is ip inside the subnet of one of port's addresses? */
bool espgw_store_port_on_link(const struct espgw_port_conf *p, const struct espgw_ip *ip);
/*
 * Why ip cannot be a station on port p's link (a neighbor, a next hop), or
 * NULL: one of the gateway's own addresses, or an IPv4 subnet's network or
 * broadcast address (RFC 919, RFC 1812 4.2.3.1; /31 and /32 have neither).
 */
const char *espgw_store_station_bad(const struct espgw_store *s, const struct espgw_port_conf *p,
		const struct espgw_ip *ip);
/* store_port.c: the port a route or neighbor names; NULL (err set) when it does not exist. */
const struct espgw_port_conf *espgw_store_port_ref(
		const struct espgw_store *s, const char *name, struct espgw_err *err);
/* store_port.c: a port's or a neighbor's MAC is neither all-zero nor a group address. */
bool espgw_store_mac_unicast(const uint8_t mac[6]);
/* store_port.c: a port's or a cryptodev's dev is neither empty nor too long. */
bool espgw_store_dev_valid(const char *dev);
/* A kernel interface name (host-if): 1..15 characters of espgw's name set. */
bool espgw_store_ifname_valid(const char *name);

/*
 * store_sp.c: the policies that already name sa (declared until now) select
 * what it may carry: for a transport SA, exactly its endpoints.
 */
int espgw_store_sa_policies_fit(
		const struct espgw_store *s, const struct espgw_sa_conf *sa, struct espgw_err *err);

int espgw_store_port_add(
		struct espgw_store *s, const struct espgw_port_conf *c, struct espgw_err *err);
int espgw_store_route_add(
		struct espgw_store *s, const struct espgw_route_conf *c, struct espgw_err *err);
int espgw_store_neigh_add(
		struct espgw_store *s, const struct espgw_neigh_conf *c, struct espgw_err *err);
int espgw_store_crypto_add(
		struct espgw_store *s, const struct espgw_crypto_conf *c, struct espgw_err *err);
int espgw_store_sa_add(struct espgw_store *s, const struct espgw_sa_conf *c, struct espgw_err *err);
int espgw_store_sa_del(struct espgw_store *s, const char *name, struct espgw_err *err);
int espgw_store_sa_update(
		struct espgw_store *s, const struct espgw_sa_update *c, struct espgw_err *err);
int espgw_store_sa_declare(
		struct espgw_store *s, const struct espgw_sa_decl *c, struct espgw_err *err);
int espgw_store_sp_add(struct espgw_store *s, const struct espgw_sp_conf *c, struct espgw_err *err);
int espgw_store_sp_del(struct espgw_store *s, const struct espgw_sp_ref *c, struct espgw_err *err);
int espgw_store_sp_set(struct espgw_store *s, const struct espgw_sp_set *c, struct espgw_err *err);
/* SA name is deleted: policies stop accepting it as their previous SA (-1: out of memory). */
int espgw_store_sp_prev_forget(struct espgw_store *s, const char *name);
int espgw_store_route_del(
		struct espgw_store *s, const struct espgw_route_conf *c, struct espgw_err *err);
int espgw_store_neigh_del(
		struct espgw_store *s, const struct espgw_neigh_conf *c, struct espgw_err *err);
/* "out of memory": what every failed elementary change reports. */
int espgw_store_nomem(struct espgw_err *err);

#endif
