/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to lib/conf: the lexer (conf_lex.c), value parsers and the option
 * table engine (conf_val.c, conf_opt.c), and one parse function per command
 * (conf_port.c, conf_crypto.c, conf_sa.c, conf_sp.c, conf_route.c,
 * conf_set.c) that the dispatch table in espgw_conf.c points at.
 */
#ifndef ESPGW_CONF_INT_H
#define ESPGW_CONF_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "espgw_conf.h"

/* Lexer: text -> logical lines (comments removed, continuations joined). */
struct espgw_conf_lex {
	const char *p;	   /* next unread character */
	unsigned int line; /* line number of p, from 1 */
};

void espgw_conf_lex_init(struct espgw_conf_lex *lx, const char *text);
/*
 * Next command with at least one token into buf (size bytes, NUL-terminated);
 * *first is the line it starts on. Returns its length, 0 at the end of the
 * text, -1 when it does not fit (the command is skipped).
 */
int espgw_conf_lex_next(struct espgw_conf_lex *lx, char *buf, size_t size, unsigned int *first);
/* Split buf in place at blanks. Returns the token count, -1 when more than max. */
int espgw_conf_lex_split(char *buf, char *argv[], int max);

/* Value parsers: 0, or -1 with err set. "what" names the option in messages. */
int espgw_conf_u64(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *v,
		struct espgw_err *err);
int espgw_conf_hex(const char *what, const char *s, uint8_t *out, size_t max, uint8_t *len,
		struct espgw_err *err);
int espgw_conf_name(
		const char *what, const char *s, char out[ESPGW_NAME_MAX], struct espgw_err *err);
int espgw_conf_dev(const char *s, char out[ESPGW_DEV_MAX], struct espgw_err *err);
int espgw_conf_ip(const char *what, const char *s, struct espgw_ip *ip, struct espgw_err *err);
int espgw_conf_prefix(
		const char *what, const char *s, struct espgw_prefix *p, struct espgw_err *err);
int espgw_conf_mac(const char *what, const char *s, uint8_t mac[6], struct espgw_err *err);
/* s must be one of words (NULL-terminated); *idx gets its position. */
int espgw_conf_word(const char *what, const char *s, const char *const words[], int *idx,
		struct espgw_err *err);
/* tok, or "<hex value>" when it could be a key: for echoing tokens in messages. */
const char *espgw_conf_show(const char *tok);

/*
 * Option tables: "NAME VALUE" (or a bare flag) in any order. Options that share
 * a slot exclude each other; a slot's bit is set in *seen once given.
 * set() gets the object being filled and the value (NULL for a flag).
 */
struct espgw_conf_opt {
	const char *name;
	int (*set)(void *obj, const char *val, struct espgw_err *err);
	uint8_t slot; /* < 64 */
	bool flag;    /* takes no value */
	bool repeat;  /* may be given more than once */
};

int espgw_conf_opts(const char *cmd, const struct espgw_conf_opt *opts, unsigned int n_opts,
		int argc, char *const argv[], void *obj, uint64_t *seen, struct espgw_err *err);
/* "CMD needs WHAT" unless slot was seen. */
int espgw_conf_need(const char *cmd, uint64_t seen, unsigned int slot, const char *what,
		struct espgw_err *err);

#define ESPGW_CONF_SEEN(seen, slot) (((seen) >> (slot)) & 1)
#define ESPGW_CONF_BIT(slot)	    (UINT64_C(1) << (slot))
#define ESPGW_CONF_NOPTS(t)	    (sizeof(t) / sizeof((t)[0]))

/* Commands: argv holds the tokens after the two keywords ("sa add"). */
typedef int (*espgw_conf_cmd_fn)(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);

int espgw_conf_port_add(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_crypto_add(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_sa_add(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_sa_del(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_sa_update(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_sa_declare(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_sp_add(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_sp_del(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_sp_set(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_route_del(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_neigh_del(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_set_nat_keepalive(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_set_max_sa(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_route_add(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_neigh_add(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_set_crypto_path(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);
int espgw_conf_set_burst(
		int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err);

#endif
