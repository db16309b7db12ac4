/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "sp add in|out [priority N] [src PREFIX] [dst PREFIX] [proto P]
 *  [sport N[-M]] [dport N[-M]] [name NAME] (protect SA | bypass | discard)",
 * "sp del NAME", "sp del in|out SELECTORS" (the same priority and selectors
 * as when added) and "sp set NAME protect SA | bypass | discard".
 * Selectors follow RFC 4301 4.4.1; the store fills an absent src/dst and
 * checks host bits and port ranges.
 */
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

enum { P_PRIO, P_SRC, P_DST, P_PROTO, P_SPORT, P_DPORT, P_NAME, P_ACTION };

static int
set_prio(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sp_conf *sp = obj;
	uint64_t n;

	if (espgw_conf_u64("priority", v, 0, ESPGW_SP_PRIORITY_MAX, &n, err) < 0)
		return -1;
	sp->priority = (uint32_t)n;
	return 0;
}

static int
set_src(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_prefix("src", v, &((struct espgw_sp_conf *)obj)->src, err);
}

static int
set_dst(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_prefix("dst", v, &((struct espgw_sp_conf *)obj)->dst, err);
}

static int
set_proto(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const names[] = {
			"any", "icmp", "tcp", "udp", "esp", "icmpv6", "sctp", NULL};
	static const int16_t nums[] = {-1, 1, 6, 17, 50, 58, 132};
	struct espgw_sp_conf *sp = obj;
	uint64_t n;
	int i;

	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], v) == 0) {
			sp->proto = nums[i];
			return 0;
		}
	}
	if (espgw_conf_u64("proto", v, 0, UINT8_MAX, &n, err) < 0)
		return espgw_err_set(err,
				"invalid proto '%.40s' (expected any, tcp, udp, icmp, icmpv6, esp, "
				"sctp or 0..255)",
				espgw_conf_show(v));
	sp->proto = (int16_t)n;
	return 0;
}

/* "N" or "N-M" (the order is the store's to check). */
static int
set_range(const char *what, const char *v, uint16_t *lo, uint16_t *hi, struct espgw_err *err)
{
	const char *dash = strchr(v, '-');
	uint64_t a, b;
	char first[16];

	if (dash == NULL) {
		if (espgw_conf_u64(what, v, 0, UINT16_MAX, &a, err) < 0)
			return -1;
		*lo = *hi = (uint16_t)a;
		return 0;
	}
	snprintf(first, sizeof(first), "%.*s", (int)(dash - v), v);
	if ((size_t)(dash - v) >= sizeof(first) ||
			espgw_conf_u64(what, first, 0, UINT16_MAX, &a, err) < 0 ||
			espgw_conf_u64(what, dash + 1, 0, UINT16_MAX, &b, err) < 0)
		return espgw_err_set(err, "invalid %s '%.40s' (expected N or N-M, 0..65535)", what,
				espgw_conf_show(v));
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int
set_sport(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sp_conf *sp = obj;

	return set_range("sport", v, &sp->sport_lo, &sp->sport_hi, err);
}

static int
set_dport(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sp_conf *sp = obj;

	return set_range("dport", v, &sp->dport_lo, &sp->dport_hi, err);
}

static int
set_protect(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sp_conf *sp = obj;

	sp->action = ESPGW_SP_PROTECT;
	return espgw_conf_name("SA", v, sp->sa, err);
}

static int
set_bypass(void *obj, const char *v, struct espgw_err *err)
{
	(void)v;
	(void)err;
	((struct espgw_sp_conf *)obj)->action = ESPGW_SP_BYPASS;
	return 0;
}

static int
set_discard(void *obj, const char *v, struct espgw_err *err)
{
	(void)v;
	(void)err;
	((struct espgw_sp_conf *)obj)->action = ESPGW_SP_DISCARD;
	return 0;
}

static int
set_name(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_name("policy", v, ((struct espgw_sp_conf *)obj)->name, err);
}

/* The selectors first (what "sp del" takes), then the name, then the actions. */
#define SP_SELECTORS 6
#define SP_ACTIONS   7

static const struct espgw_conf_opt sp_opts[] = {
		{"priority", set_prio, P_PRIO, false, false},
		{"src", set_src, P_SRC, false, false},
		{"dst", set_dst, P_DST, false, false},
		{"proto", set_proto, P_PROTO, false, false},
		{"sport", set_sport, P_SPORT, false, false},
		{"dport", set_dport, P_DPORT, false, false},
		{"name", set_name, P_NAME, false, false},
		{"protect", set_protect, P_ACTION, false, false},
		{"bypass", set_bypass, P_ACTION, true, false},
		{"discard", set_discard, P_ACTION, true, false},
};

int
espgw_conf_sp_add(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	static const char *const dirs[] = {"in", "out", NULL};
	uint64_t seen;
	int dir;

	espgw_req_init(req, ESPGW_REQ_SP_ADD);
	if (argc < 1)
		return espgw_err_set(err, "sp add needs in or out");
	if (espgw_conf_word("direction", argv[0], dirs, &dir, err) < 0)
		return -1;
	req->sp.dir = dir == 0 ? ESPGW_DIR_IN : ESPGW_DIR_OUT;
	if (espgw_conf_opts("sp add", sp_opts, ESPGW_CONF_NOPTS(sp_opts), argc - 1, argv + 1,
			    &req->sp, &seen, err) < 0)
		return -1;
	return espgw_conf_need("sp add", seen, P_ACTION, "protect SA, bypass or discard", err);
}

static int
dir_word(const char *v, enum espgw_dir *dir, struct espgw_err *err)
{
	static const char *const dirs[] = {"in", "out", NULL};
	int d;

	if (espgw_conf_word("direction", v, dirs, &d, err) < 0)
		return -1;
	*dir = d == 0 ? ESPGW_DIR_IN : ESPGW_DIR_OUT;
	return 0;
}

int
espgw_conf_sp_del(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	struct espgw_sp_ref *r = &req->sp_ref;
	uint64_t seen;

	espgw_req_init(req, ESPGW_REQ_SP_DEL);
	if (argc < 1)
		return espgw_err_set(err, "sp del needs a name, or in|out and the selectors");
	if (strcmp(argv[0], "in") != 0 && strcmp(argv[0], "out") != 0) {
		if (argc > 1)
			return espgw_err_set(err, "unexpected '%.40s' after sp del NAME",
					espgw_conf_show(argv[1]));
		return espgw_conf_name("policy", argv[0], r->name, err);
	}
	if (dir_word(argv[0], &r->sp.dir, err) < 0)
		return -1;
	return espgw_conf_opts(
			"sp del", sp_opts, SP_SELECTORS, argc - 1, argv + 1, &r->sp, &seen, err);
}

int
espgw_conf_sp_set(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	struct espgw_sp_conf sp;
	uint64_t seen;

	espgw_req_init(req, ESPGW_REQ_SP_SET);
	if (argc < 1)
		return espgw_err_set(err, "sp set needs a policy name");
	if (espgw_conf_name("policy", argv[0], req->sp_set.name, err) < 0)
		return -1;
	memset(&sp, 0, sizeof(sp));
	if (espgw_conf_opts("sp set", sp_opts + SP_ACTIONS, ESPGW_CONF_NOPTS(sp_opts) - SP_ACTIONS,
			    argc - 1, argv + 1, &sp, &seen, err) < 0 ||
			espgw_conf_need("sp set", seen, P_ACTION, "protect SA, bypass or discard",
					err) < 0)
		return -1;
	req->sp_set.action = sp.action;
	memcpy(req->sp_set.sa, sp.sa, sizeof(sp.sa));
	return 0;
}
