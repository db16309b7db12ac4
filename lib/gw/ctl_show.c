/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "show KIND [NAME]" on the control socket: the store's objects with their
 * counters, as flat JSON objects (README "Control socket"). Keys are never
 * shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "ctl.h"

static void
kip(struct espgw_json *j, const char *key, const struct espgw_ip *ip)
{
	char buf[ESPGW_IP_STRLEN];

	if (ip->family == 0) {
		espgw_json_key(j, key);
		espgw_json_raw(j, "null", 4);
		return;
	}
	espgw_json_kstr(j, key, espgw_ip_fmt(ip, buf, sizeof(buf)));
}

static void
kprefix(struct espgw_json *j, const char *key, const struct espgw_prefix *p)
{
	char buf[ESPGW_IP_STRLEN + 4];

	espgw_json_kstr(j, key, espgw_prefix_fmt(p, buf, sizeof(buf)));
}

static const char *
dir_name(enum espgw_dir d)
{
	return d == ESPGW_DIR_IN ? "in" : "out";
}

static void
sa_transform(struct espgw_json *j, const struct espgw_sa_conf *sa)
{
	char buf[96];

	if (sa->declared)
		snprintf(buf, sizeof(buf), "-");
	else if (sa->aead != ESPGW_ALGO_NONE)
		snprintf(buf, sizeof(buf), "%s", espgw_algo_name(sa->aead));
	else if (sa->cipher != ESPGW_ALGO_NONE && sa->auth != ESPGW_ALGO_NONE)
		snprintf(buf, sizeof(buf), "%s+%s", espgw_algo_name(sa->cipher),
				espgw_algo_name(sa->auth));
	else
		snprintf(buf, sizeof(buf), "%s",
				espgw_algo_name(sa->auth != ESPGW_ALGO_NONE ? sa->auth
									    : sa->cipher));
	espgw_json_kstr(j, "transform", buf);
}

static const char *
sa_state(const struct espgw_gw *gw, const struct espgw_sa_conf *sa)
{
	if (sa->declared)
		return "declared";
	if (espgw_sad_live(&gw->sad, sa->slot) && gw->sad.sa[sa->slot].state == ESPGW_SA_EXPIRED)
		return "expired";
	return "installed";
}

/* The path the SA's packets take, as setup chose it ("" for a declaration). */
static const char *
sa_path(const struct espgw_gw *gw, const struct espgw_sa_conf *sa)
{
	const struct espgw_sa_rt *rt = &gw->sad.sa[sa->slot];

	if (sa->declared || !espgw_sad_live(&gw->sad, sa->slot))
		return "";
	if (rt->gcm != NULL)
		return "direct";
	if (rt->ah != NULL || rt->ss.type == RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO)
		return "cpu";
	return "cryptodev";
}

static void
sa_one(const struct espgw_gw *gw, const struct espgw_sa_conf *sa, struct espgw_json *j)
{
	struct espgw_sa_counters c = espgw_stats_sa(&gw->view, sa->slot);

	espgw_json_raw(j, "{", 1);
	espgw_json_kstr(j, "name", sa->name);
	espgw_json_kstr(j, "dir", dir_name(sa->dir));
	espgw_json_kstr(j, "state", sa_state(gw, sa));
	espgw_json_ku64(j, "spi", sa->spi);
	espgw_json_kstr(j, "proto", sa->proto == ESPGW_SA_AH ? "ah" : "esp");
	kip(j, "local", &sa->local);
	kip(j, "remote", &sa->remote);
	espgw_json_kstr(j, "mode", sa->mode == ESPGW_SA_TRANSPORT ? "transport" : "tunnel");
	/* RFC 3948: "udp SPORT:DPORT" for ESP in UDP, "" for ESP over IP. */
	if (sa->encap_udp) {
		char e[16];

		snprintf(e, sizeof(e), "udp %u:%u", sa->encap_sport, sa->encap_dport);
		espgw_json_kstr(j, "encap", e);
	} else {
		espgw_json_kstr(j, "encap", "");
	}
	/* RFC 3948 3.1.2 original addresses (inbound transport in UDP), null when absent. */
	kip(j, "nat_oa_src", &sa->natoa_src);
	kip(j, "nat_oa_dst", &sa->natoa_dst);
	sa_transform(j, sa);
	espgw_json_ku64(j, "replay_window", sa->dir == ESPGW_DIR_IN ? sa->replay_window : 0);
	espgw_json_kbool(j, "esn", sa->esn);
	espgw_json_kstr(j, "crypto_path", sa_path(gw, sa));
	espgw_json_kstr(j, "seq_order",
			sa->dir == ESPGW_DIR_IN			  ? ""
			: sa->seq_order == ESPGW_SEQ_ORDER_STRICT ? "strict"
								  : "worker");
	espgw_json_kstr(j, "decrypt",
			sa->dir == ESPGW_DIR_OUT	   ? ""
			: sa->decrypt == ESPGW_DECRYPT_ANY ? "any"
							   : "owner");
	espgw_json_ku64(j, "packets", c.pkts);
	espgw_json_ku64(j, "bytes", c.bytes);
	espgw_json_ku64(j, "errors", c.errors);
	espgw_json_ku64(j, "idle_s",
			sa->declared ? 0
				     : espgw_gw_sa_idle_ms(gw, sa->slot, espgw_gw_now_ms()) / 1000);
	espgw_json_raw(j, "}", 1);
}

static int
show_sa(const struct espgw_gw *gw, const char *name, struct espgw_json *j, struct espgw_err *err)
{
	unsigned int i, n = 0;

	espgw_json_raw(j, ",\"sa\":[", 7);
	for (i = 0; i < gw->store.n_sas; i++) {
		if (name != NULL && strcmp(name, gw->store.sas[i].name) != 0)
			continue;
		if (n++)
			espgw_json_raw(j, ",", 1);
		sa_one(gw, &gw->store.sas[i], j);
	}
	espgw_json_raw(j, "]", 1);
	if (name != NULL && n == 0)
		return espgw_err_set(err, "SA %.31s does not exist", name);
	return 0;
}

static void
kports(struct espgw_json *j, const char *key, uint16_t lo, uint16_t hi)
{
	if (lo == 0 && hi == UINT16_MAX)
		espgw_json_kstr(j, key, "any");
	else if (lo == hi)
		espgw_json_fmt(j, ",\"%s\":\"%u\"", key, lo);
	else
		espgw_json_fmt(j, ",\"%s\":\"%u-%u\"", key, lo, hi);
}

static void
sp_one(const struct espgw_sp_conf *sp, struct espgw_json *j)
{
	static const char *const actions[] = {"protect", "bypass", "discard"};

	espgw_json_raw(j, "{", 1);
	espgw_json_key(j, "name");
	if (sp->name[0] != '\0')
		espgw_json_str(j, sp->name);
	else
		espgw_json_raw(j, "null", 4);
	espgw_json_kstr(j, "dir", dir_name(sp->dir));
	espgw_json_ku64(j, "priority", sp->priority);
	kprefix(j, "src", &sp->src);
	kprefix(j, "dst", &sp->dst);
	if (sp->proto < 0)
		espgw_json_kstr(j, "proto", "any");
	else
		espgw_json_fmt(j, ",\"proto\":\"%d\"", sp->proto);
	kports(j, "sport", sp->sport_lo, sp->sport_hi);
	kports(j, "dport", sp->dport_lo, sp->dport_hi);
	espgw_json_kstr(j, "action", actions[sp->action]);
	espgw_json_key(j, "sa");
	if (sp->action == ESPGW_SP_PROTECT)
		espgw_json_str(j, sp->sa);
	else
		espgw_json_raw(j, "null", 4);
	/* Inbound: the SA before the last "sp set", accepted too until deleted (store_sp.c). */
	espgw_json_key(j, "prev_sa");
	if (sp->prev_sa[0] != '\0')
		espgw_json_str(j, sp->prev_sa);
	else
		espgw_json_raw(j, "null", 4);
	espgw_json_raw(j, "}", 1);
}

static int
show_sp(const struct espgw_gw *gw, const char *name, struct espgw_json *j, struct espgw_err *err)
{
	unsigned int i, n = 0;

	espgw_json_raw(j, ",\"sp\":[", 7);
	for (i = 0; i < gw->store.n_sps; i++) {
		if (name != NULL && strcmp(name, gw->store.sps[i].name) != 0)
			continue;
		if (n++)
			espgw_json_raw(j, ",", 1);
		sp_one(&gw->store.sps[i], j);
	}
	espgw_json_raw(j, "]", 1);
	if (name != NULL && n == 0)
		return espgw_err_set(err, "policy %.31s does not exist", name);
	return 0;
}

static void
show_route(const struct espgw_gw *gw, struct espgw_json *j)
{
	const struct espgw_route_conf *r;
	unsigned int i;

	espgw_json_raw(j, ",\"route\":[", 10);
	for (i = 0; i < gw->store.n_routes; i++) {
		r = &gw->store.routes[i];
		espgw_json_raw(j, i ? ",{" : "{", i ? 2 : 1);
		kprefix(j, "dst", &r->dst);
		kip(j, "via", &r->via);
		espgw_json_kstr(j, "port", r->port);
		espgw_json_raw(j, "}", 1);
	}
	espgw_json_raw(j, "]", 1);
}

/*
 * Every entry of the neighbor table, as "ip neigh" shows the kernel's: the
 * operator's (static, the next hops of routes) and the learned ones.
 */
static void
neigh_one(const struct espgw_gw *gw, const struct espgw_neigh_info *n, struct espgw_json *j)
{
	static const char *const kind[] = {
			[ESPGW_HOP_STATIC] = "static",
			[ESPGW_HOP_VIA] = "via",
			[ESPGW_HOP_DYNAMIC] = "dynamic",
	};
	const uint8_t *m = n->mac.addr_bytes;

	kip(j, "ip", &n->ip);
	if (n->resolved)
		espgw_json_fmt(j, ",\"lladdr\":\"%02x:%02x:%02x:%02x:%02x:%02x\"", m[0], m[1], m[2],
				m[3], m[4], m[5]);
	else
		espgw_json_raw(j, ",\"lladdr\":null", 14);
	espgw_json_kstr(j, "port", gw->store.ports[n->port_idx].name);
	espgw_json_kstr(j, "kind", n->kind < RTE_DIM(kind) && kind[n->kind] ? kind[n->kind] : "?");
	espgw_json_kstr(j, "state", n->state);
	espgw_json_ku64(j, "waiting", n->waiting);
}

static void
show_neighbor(const struct espgw_gw *gw, struct espgw_json *j)
{
	struct espgw_neigh_info n;
	unsigned int i, k = 0;

	espgw_json_raw(j, ",\"neighbor\":[", 13);
	for (i = 0; i < espgw_host_neigh_slots(gw->host); i++) {
		if (!espgw_host_neigh_info(gw->host, i, &n))
			continue;
		espgw_json_raw(j, k ? ",{" : "{", k ? 2 : 1);
		k++;
		neigh_one(gw, &n, j);
		espgw_json_raw(j, "}", 1);
	}
	espgw_json_raw(j, "]", 1);
}

static void
port_one(const struct espgw_gw *gw, unsigned int i, struct espgw_json *j)
{
	const struct espgw_port_conf *p = &gw->store.ports[i];
	struct rte_eth_stats es;
	char buf[ESPGW_IP_STRLEN + 4];
	unsigned int a;

	memset(&es, 0, sizeof(es));
	rte_eth_stats_get(gw->ports.port[i].port_id, &es);
	espgw_json_raw(j, i ? ",{" : "{", i ? 2 : 1);
	espgw_json_kstr(j, "name", p->name);
	espgw_json_kstr(j, "dev", p->dev);
	espgw_json_kstr(j, "role", p->role == ESPGW_ROLE_PROTECTED ? "protected" : "unprotected");
	espgw_json_ku64(j, "mtu", p->mtu);
	espgw_json_kstr(j, "host_if", p->host_if);
	espgw_json_raw(j, ",\"addr\":[", 9);
	for (a = 0; a < p->n_addr; a++) {
		if (a)
			espgw_json_raw(j, ",", 1);
		espgw_json_str(j, espgw_prefix_fmt(&p->addr[a], buf, sizeof(buf)));
	}
	espgw_json_raw(j, "]", 1);
	espgw_json_ku64(j, "rx", es.ipackets);
	espgw_json_ku64(j, "tx", es.opackets);
	espgw_json_ku64(j, "rx_missed", es.imissed);
	espgw_json_ku64(j, "rx_errors", es.ierrors);
	espgw_json_ku64(j, "tx_errors", es.oerrors);
	espgw_json_raw(j, "}", 1);
}

static void
show_port(const struct espgw_gw *gw, struct espgw_json *j)
{
	unsigned int i;

	espgw_json_raw(j, ",\"port\":[", 9);
	for (i = 0; i < gw->store.n_ports && i < gw->ports.n; i++)
		port_one(gw, i, j);
	espgw_json_raw(j, "]", 1);
}

/* The same document as --stats-json, embedded. */
static int
show_stats(const struct espgw_gw *gw, struct espgw_json *j, struct espgw_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return espgw_err_set(err, "%s", "out of memory");
	espgw_stats_json(&gw->view, f);
	fclose(f);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	espgw_json_raw(j, ",\"stats\":", 9);
	espgw_json_raw(j, buf, len);
	free(buf);
	return 0;
}

static void
show_workers(const struct espgw_gw *gw, struct espgw_json *j)
{
	const struct espgw_lcore_stats *l;
	unsigned int i;

	espgw_json_raw(j, ",\"workers\":[", 12);
	for (i = 0; i < gw->n_workers; i++) {
		l = &gw->worker[i]->stats;
		espgw_json_raw(j, i ? ",{" : "{", i ? 2 : 1);
		espgw_json_ku64(j, "worker", i);
		espgw_json_ku64(j, "lcore", l->lcore);
		espgw_json_ku64(j, "rx", l->rx);
		espgw_json_ku64(j, "tx", l->tx);
		espgw_json_ku64(j, "drops", espgw_drop_total(l->drop));
		espgw_json_ku64(j, "to_ctl", l->to_ctl);
		espgw_json_ku64(j, "busy_cycles", l->busy_cycles);
		espgw_json_raw(j, "}", 1);
	}
	espgw_json_raw(j, "]", 1);
}

/* The control socket's own counters (lib/ctlsrv: ESPGW_CTLSRV_COUNTERS). */
static void
show_ctl(const struct espgw_gw *gw, struct espgw_json *j)
{
	const struct espgw_ctlsrv_stats *st = espgw_ctlsrv_stats(gw->ctlsrv);

	espgw_json_raw(j, ",\"ctl\":{", 8);
	espgw_json_ku64(j, "clients", espgw_ctlsrv_clients(gw->ctlsrv));
#define X(n, d) espgw_json_ku64(j, #n, st->n);
	ESPGW_CTLSRV_COUNTERS(X)
#undef X
	espgw_json_raw(j, "}", 1);
}

int
espgw_ctl_show(void *arg, const char *kind, const char *name, struct espgw_json *j,
		struct espgw_err *err)
{
	const struct espgw_gw *gw = arg;

	if (strcmp(kind, "sa") == 0)
		return show_sa(gw, name, j, err);
	if (strcmp(kind, "sp") == 0)
		return show_sp(gw, name, j, err);
	if (name != NULL)
		return espgw_err_set(err, "show %.16s takes no name", kind);
	if (strcmp(kind, "route") == 0)
		show_route(gw, j);
	else if (strcmp(kind, "neighbor") == 0)
		show_neighbor(gw, j);
	else if (strcmp(kind, "port") == 0)
		show_port(gw, j);
	else if (strcmp(kind, "stats") == 0)
		return show_stats(gw, j, err);
	else if (strcmp(kind, "workers") == 0)
		show_workers(gw, j);
	else if (strcmp(kind, "ctl") == 0 && gw->ctlsrv != NULL)
		show_ctl(gw, j);
	else
		return espgw_err_set(err,
				"unknown show '%.16s' (expected "
				"sa|sp|route|neighbor|port|stats|workers|ctl)",
				kind);
	return 0;
}
