/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's view of the configuration: every object added through
 * requests, validated as it arrives. Modules build their runtime tables from it.
 * Pure C, no DPDK.
 */
#ifndef ESPGW_STORE_H
#define ESPGW_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "espgw_req.h"

#define ESPGW_ERR_MAX 256

/* Limits and defaults checked by espgw_store_apply() (and used by the parser's messages). */
#define ESPGW_MTU_MIN		    68	 /* RFC 791 */
#define ESPGW_MTU_MIN6		    1280 /* RFC 8200 5: any port with an IPv6 address */
#define ESPGW_MTU_MAX		    9216
#define ESPGW_MTU_DEFAULT	    1500
#define ESPGW_REPLAY_MIN	    64
#define ESPGW_REPLAY_MAX	    65536
#define ESPGW_REPLAY_DEFAULT	    64
#define ESPGW_TTL_DEFAULT	    64
#define ESPGW_DSCP_MAX		    63
#define ESPGW_FLOW_LABEL_MAX	    0xfffff
#define ESPGW_SPI_RESERVED_MAX	    255 /* RFC 4303 2.1: 1..255 reserved by IANA, 0 invalid */
#define ESPGW_SP_PRIORITY_MAX	    0xffffff
#define ESPGW_SP_PRIORITY_DEFAULT   1000
#define ESPGW_BURST_MAX		    256
#define ESPGW_BURST_DEFAULT	    32
#define ESPGW_MSS_MIN		    64			 /* below: no use */
#define ESPGW_MSS_MAX		    (ESPGW_MTU_MAX - 40) /* clamping only ever lowers */
#define ESPGW_MAX_SA_DEFAULT	    1024
#define ESPGW_MAX_SA_MAX	    (1u << 22)
#define ESPGW_SP_MAX		    (1u << 20) /* policies, both directions */
#define ESPGW_NATT_PORT_DEFAULT	    4500       /* RFC 3948 2.2 */
#define ESPGW_NAT_KEEPALIVE_DEFAULT 20	       /* seconds, RFC 3948 2.3 */
#define ESPGW_NAT_KEEPALIVE_MAX	    3600

/*
 * A failure: a human sentence without location. Validation errors get their
 * FILE:LINE from the loader; setup errors about one port, cryptodev or SA
 * (device missing, algorithm refused) carry the line that object came from.
 */
struct espgw_err {
	char msg[ESPGW_ERR_MAX];
	unsigned int line; /* config line of the object at fault; 0: none */
};

/* Format err->msg; returns -1, so that checks read "return espgw_err_set(err, ...)". */
int espgw_err_set(struct espgw_err *err, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));

/* What a change touched (espgw_store.changed): what the data path must rebuild. */
#define ESPGW_CHG_SA	 (1u << 0) /* SAs installed, deleted or declared */
#define ESPGW_CHG_SP	 (1u << 1)
#define ESPGW_CHG_ROUTE	 (1u << 2)
#define ESPGW_CHG_NEIGH	 (1u << 3)
#define ESPGW_CHG_PORT	 (1u << 4)
#define ESPGW_CHG_CRYPTO (1u << 5)
#define ESPGW_CHG_GLOBAL (1u << 6)

/* An SA slot's state (espgw_store.slot). */
enum espgw_slot_state {
	ESPGW_SLOT_FREE,
	ESPGW_SLOT_USED,     /* an installed SA has it */
	ESPGW_SLOT_RETIRING, /* its SA went away; the data path may still use it */
};

struct espgw_journal_ent;
struct espgw_store_index;

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
	uint8_t *slot; /* [slot_cap] enum espgw_slot_state; NULL until the first SA */
	uint32_t slot_cap;
	uint32_t slot_next;	    /* where the search for a free slot starts */
	unsigned int n_slot_allocs; /* slots ever given: max-sa is fixed after the first */
	/*
	 * Deleted SAs' slots stay RETIRING until espgw_store_slot_release(),
	 * when the data path owns runtime objects in them; without (the
	 * config checker, the loader before start) they are free at once.
	 */
	bool retire_slots;
	/*
	 * Accept SAs keyed alike (sa_check_key off). Set by no config and no
	 * request: only tests/fuzz/fuzz_pkt.c, whose sealer is an outbound twin
	 * of an inbound SA, so that fuzzed packets pass its ICV.
	 */
	bool key_twins_ok;
	unsigned int changed; /* ESPGW_CHG_*, set by every change; cleared by the publisher */
	uint64_t route_gen;   /* bumped by every change of the routes, undone ones too */
	/* Undo log while journaling (espgw_store_mark): one entry per elementary change. */
	struct espgw_journal_ent *journal;
	unsigned int n_journal, cap_journal;
	bool journaling;
	struct espgw_store_index *index; /* hashed lookups (store_index.c) */
	/* Slots changed since espgw_store_dirty_clear(); dirty_all: too many to list. */
	uint32_t *dirty;
	unsigned int n_dirty, cap_dirty;
	bool dirty_all;
};

/* Object names: 1..31 characters of [A-Za-z0-9_.-]. */
bool espgw_name_valid(const char *name);

/*
 * Zero req and fill the defaults of its type (mtu 1500, ttl 64, seq 1, replay
 * window 64, priority 1000, proto any, all ports ...). Every producer of
 * requests starts here so that "not given" means the same everywhere.
 */
void espgw_req_init(struct espgw_req *req, enum espgw_req_type type);

void espgw_store_init(struct espgw_store *s);
/* Frees everything and wipes key material (explicit_bzero). */
void espgw_store_fini(struct espgw_store *s);

/*
 * Validate one request against what is already there and apply it.
 * Returns 0, or -1 with err->msg set and the store unchanged.
 */
int espgw_store_apply(struct espgw_store *s, const struct espgw_req *req, struct espgw_err *err);

/*
 * Transactions. espgw_store_mark() starts (or continues) recording every
 * change and returns a position; espgw_store_rollback() undoes the changes
 * after a position, in reverse, leaving the store exactly as it was there;
 * espgw_store_commit() forgets the record (wiping the key copies it held)
 * and stops recording.
 */
unsigned int espgw_store_mark(struct espgw_store *s);
void espgw_store_rollback(struct espgw_store *s, unsigned int mark);
void espgw_store_commit(struct espgw_store *s);

/*
 * Before the data path is built: fix the slot count (max-sa) for good. With
 * "set max-sa" as set; else twice the SAs installed, at least min (room for
 * the SAs a control client adds). -1 when out of memory.
 */
int espgw_store_slots_fix(struct espgw_store *s, uint32_t min);

/*
 * The slots whose SA was added, deleted, declared or changed (or whose
 * change a rollback undid) since the last clear, so that the data path
 * reconciles those alone; a slot may be listed more than once. When
 * *all is set, too many changed to list: look at every slot.
 */
const uint32_t *espgw_store_dirty(const struct espgw_store *s, unsigned int *n, bool *all);
void espgw_store_dirty_clear(struct espgw_store *s);
/* The data path moved the SA in slot (sa update): a later update moves it from there. */
void espgw_store_sa_moved(struct espgw_store *s, uint32_t slot);
/*
 * a and b hold the same key material (with a salt: the cipher or AEAD key
 * and the salt; without: every key); never true of a declaration.
 */
bool espgw_store_sa_same_key(const struct espgw_sa_conf *a, const struct espgw_sa_conf *b);
/* -1 when set crypto-path p would take an SA that needs the direct path off it. */
int espgw_store_sas_fit_path(
		const struct espgw_store *s, enum espgw_crypto_path p, struct espgw_err *err);
/* sa may not take the key of used, an SA that ran (store_sa.c says why). */
bool espgw_store_sa_key_reused(const struct espgw_sa_conf *used, const struct espgw_sa_conf *sa);
/* The SA (declared or installed) that has slot; NULL when none. */
const struct espgw_sa_conf *espgw_store_sa_of_slot(const struct espgw_store *s, uint32_t slot);

/* The data path let go of a retiring slot: it may be given to a new SA. */
void espgw_store_slot_release(struct espgw_store *s, uint32_t slot);

/* Lookups by name / key; NULL when absent. */
const struct espgw_port_conf *espgw_store_port(const struct espgw_store *s, const char *name);
int espgw_store_port_index(const struct espgw_store *s, const char *name);
const struct espgw_sa_conf *espgw_store_sa(const struct espgw_store *s, const char *name);
int espgw_store_sa_index(const struct espgw_store *s, const char *name);
/* A policy by name; -1 when absent (unnamed policies are never found). */
int espgw_store_sp_index(const struct espgw_store *s, const char *name);
const struct espgw_crypto_conf *espgw_store_crypto(const struct espgw_store *s, const char *name);
int espgw_store_crypto_index(const struct espgw_store *s, const char *name);
/* Index of the port that has ip as one of its own addresses, or -1. */
int espgw_store_port_of_addr(const struct espgw_store *s, const struct espgw_ip *ip);
/*
 * The crypto path an SA asks for: its own, or the global one when DEFAULT
 * (lib/crypto decides what it gets: espgw_crypto_path_of).
 */
enum espgw_crypto_path espgw_store_sa_crypto_path(
		const struct espgw_store *s, const struct espgw_sa_conf *sa);

/* What a reload does, object by object (SAs, policies, routes, neighbours). */
struct espgw_diff_sum {
	unsigned int added, removed, changed, unchanged;
	unsigned int kept; /* made at run time, not named by the file: left alone */
};

/*
 * Config reload (store_diff.c): the requests that turn run into tgt (a store
 * loaded from the config file), in an order espgw_store_apply() accepts.
 * Identical objects get none, so an unchanged SA keeps its runtime state.
 * A port, cryptodev or global setting that differs is refused: -1 with
 * "restart needed: ..." (err->line: the tgt object's line when it has one).
 * Free *reqs (it holds keys) with espgw_store_diff_free(*reqs, *n).
 */
int espgw_store_diff(const struct espgw_store *run, const struct espgw_store *tgt,
		struct espgw_req **reqs, unsigned int *n, struct espgw_diff_sum *sum,
		struct espgw_err *err);
void espgw_store_diff_free(struct espgw_req *reqs, unsigned int n);
/* Once the difference is applied: what tgt names is no longer "runtime" (kept). */
void espgw_store_diff_adopt(struct espgw_store *run, const struct espgw_store *tgt);

#endif
