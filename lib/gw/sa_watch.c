/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control path watches on SAs in service, and tells the key
 * manager on the control socket (README "Events"):
 *  - lifetimes (RFC 4301 4.4.2.1): time since the SA was installed, bytes
 *    and packets through it. Soft: one "expire soft" event. Hard: the SA
 *    leaves service (workers drop its traffic as sa_expired) and one
 *    "expire hard" event. Counters are summed over the workers every
 *    WATCH_MS, so a limit is passed by at most that much traffic.
 *  - sequence numbers of outbound SAs (RFC 4303 3.3.3): "expire soft,
 *    limit seq" SEQ_SOFT_ROOM before the end (the hard end is the data
 *    path's sqn_overflow).
 *  - when each SA last carried a packet (show sa: idle).
 *  - the workers' acquire requests (lib/dp/acquire.c): one "acquire" event
 *    per SA and second, naming a policy that protects with it.
 *  - inbound encap udp SAs whose authenticated packets come from another
 *    address or port than configured (lib/esp/esp_in.c): one "nat-mapping"
 *    event per new mapping (RFC 7296 2.23: the key manager decides; the SA
 *    does not change by itself).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_ring_elem.h>

#include "espgw_log.h"
#include "gw.h"

#define WATCH_MS 10   /* lifetimes of SAs that have them */
#define IDLE_MS	 1000 /* last use and sequence numbers of every SA */
/*
 * Workers ask at most once a second per SA (acquire_tsc, lib/dp/acquire.c);
 * this only folds requests of workers that raced: a second, less the poll's
 * jitter, or a request a second later could be lost between the two clocks.
 */
#define ACQUIRE_MS    900
#define SEQ_SOFT_ROOM (UINT64_C(1) << 20)
#define ACQUIRE_BURST 32
#define FIRED_SOFT    1
#define FIRED_HARD    2

struct espgw_sa_watch {
	uint64_t added_ms;
	uint64_t last_use_ms;
	uint64_t last_pkts;
	uint64_t acquire_ms;
	uint8_t fired;
	bool limited;		 /* has a lifetime */
	uint64_t keepalive_ms;	 /* outbound encap udp: the last NAT keepalive sent */
	uint32_t natt_gen;	 /* the worker's natt_gen last read */
	uint64_t natt_ms;	 /* when the last nat-mapping event went out */
	struct espgw_ip natt_ip; /* the mapping last reported */
	uint16_t natt_port;
};

int
espgw_gw_watch_create(struct espgw_gw *gw)
{
	gw->watch = rte_zmalloc("espgw_sa_watch", (gw->sad.cap + 1) * sizeof(*gw->watch), 0);
	return gw->watch == NULL ? -1 : 0;
}

static bool
has_life(const struct espgw_lifetime *l)
{
	return l->time || l->bytes || l->packets;
}

void
espgw_gw_watch_start(struct espgw_gw *gw, uint32_t slot, uint64_t now_ms)
{
	struct espgw_sa_watch *w = &gw->watch[slot];

	memset(w, 0, sizeof(*w));
	w->added_ms = w->last_use_ms = now_ms;
	espgw_gw_watch_relimit(gw, slot);
}

void
espgw_gw_watch_carry(struct espgw_gw *gw, uint32_t from, uint32_t to)
{
	gw->watch[to] = gw->watch[from];
	espgw_gw_watch_relimit(gw, to);
}

void
espgw_gw_watch_relimit(struct espgw_gw *gw, uint32_t slot)
{
	const struct espgw_sa_conf *c = &gw->sad.conf[slot];

	gw->watch[slot].limited =
			has_life(&c->life[ESPGW_LIFE_SOFT]) || has_life(&c->life[ESPGW_LIFE_HARD]);
}

/* An event object (closed here) to every monitor client, then freed. */
static void
event_send(struct espgw_gw *gw, struct espgw_json *j)
{
	espgw_json_raw(j, "}", 1);
	if (!j->failed)
		espgw_ctlsrv_event(gw->ctlsrv, j->buf);
	espgw_json_fini(j);
}

/* {"event":EVENT,"sa":NAME[,"kind":KIND,"limit":LIMIT]}: sa-added, sa-deleted, expire. */
void
espgw_gw_sa_event(struct espgw_gw *gw, const char *event, const char *sa, const char *kind,
		const char *limit)
{
	struct espgw_json j;

	if (gw->ctlsrv == NULL)
		return;
	espgw_json_init(&j);
	espgw_json_raw(&j, "{", 1);
	espgw_json_kstr(&j, "event", event);
	espgw_json_kstr(&j, "sa", sa);
	if (kind != NULL) {
		espgw_json_kstr(&j, "kind", kind);
		espgw_json_kstr(&j, "limit", limit);
	}
	event_send(gw, &j);
}

/* The first limit of l the SA has reached, or NULL. */
static const char *
life_reached(const struct espgw_lifetime *l, uint64_t age_ms, const struct espgw_sa_counters *c)
{
	if (l->time && age_ms >= l->time * 1000)
		return "time";
	if (l->bytes && c->bytes >= l->bytes)
		return "bytes";
	if (l->packets && c->pkts >= l->packets)
		return "packets";
	return NULL;
}

static void
sa_expire_hard(struct espgw_gw *gw, uint32_t slot, const char *limit)
{
	struct espgw_sa_rt *rt = &gw->sad.sa[slot];

	__atomic_store_n(&rt->state, ESPGW_SA_EXPIRED, __ATOMIC_RELEASE);
	SA_LOG(NOTICE, "sa %s: hard lifetime (%s) reached: out of service", rt->conf->name, limit);
	espgw_gw_sa_event(gw, "expire", rt->conf->name, "hard", limit);
}

static void
life_check(struct espgw_gw *gw, uint32_t slot, uint64_t now_ms)
{
	struct espgw_sa_watch *w = &gw->watch[slot];
	const struct espgw_sa_conf *c = &gw->sad.conf[slot];
	struct espgw_sa_counters n = espgw_stats_sa(&gw->view, slot);
	const char *lim;

	if (!(w->fired & FIRED_SOFT) &&
			(lim = life_reached(&c->life[ESPGW_LIFE_SOFT], now_ms - w->added_ms, &n))) {
		w->fired |= FIRED_SOFT;
		espgw_gw_sa_event(gw, "expire", c->name, "soft", lim);
	}
	if (!(w->fired & FIRED_HARD) &&
			(lim = life_reached(&c->life[ESPGW_LIFE_HARD], now_ms - w->added_ms, &n))) {
		w->fired |= FIRED_HARD | FIRED_SOFT;
		sa_expire_hard(gw, slot, lim);
	}
}

/* Outbound: the next sequence number to send (rte_ipsec's counter, or AH's own). */
static uint64_t
sa_seq(const struct espgw_gw *gw, const struct espgw_sa_rt *rt)
{
	return espgw_sad_sa_seq(&gw->sad, rt->idx);
}

/*
 * RFC 3948 2.3: an outbound encap udp SA silent for nat-keepalive seconds
 * sends a keepalive, then one each period while it stays silent (checked
 * every IDLE_MS: at most that late).
 */
static void
keepalive_check(struct espgw_gw *gw, uint32_t slot, uint64_t now_ms)
{
	struct espgw_sa_watch *w = &gw->watch[slot];
	uint64_t period = (uint64_t)gw->store.global.nat_keepalive * 1000;

	if (period == 0 || now_ms - w->last_use_ms < period || now_ms - w->keepalive_ms < period)
		return;
	if (espgw_host_natt_keepalive(gw->host, gw->sad.sa[slot].conf))
		w->keepalive_ms = now_ms;
}

static void
idle_check(struct espgw_gw *gw, uint32_t slot, uint64_t now_ms)
{
	struct espgw_sa_watch *w = &gw->watch[slot];
	const struct espgw_sa_rt *rt = &gw->sad.sa[slot];
	uint64_t pkts = espgw_stats_sa(&gw->view, slot).pkts;
	uint64_t end = rt->conf->esn ? UINT64_MAX : UINT32_MAX;

	if (pkts != w->last_pkts) {
		w->last_pkts = pkts;
		w->last_use_ms = now_ms;
	}
	if (rt->dir == ESPGW_DIR_OUT && rt->encap)
		keepalive_check(gw, slot, now_ms);
	if (rt->dir != ESPGW_DIR_OUT || (w->fired & FIRED_SOFT))
		return;
	if (sa_seq(gw, rt) >= end - SEQ_SOFT_ROOM) {
		w->fired |= FIRED_SOFT;
		espgw_gw_sa_event(gw, "expire", rt->conf->name, "soft", "seq");
	}
}

static void
event_nat_mapping(struct espgw_gw *gw, const struct espgw_sa_rt *rt, const struct espgw_ip *ip,
		uint16_t port)
{
	char a[ESPGW_IP_STRLEN];
	struct espgw_json j;

	SA_LOG(NOTICE, "sa %s: ESP in UDP from %s port %u (configured: port %u)", rt->conf->name,
			espgw_ip_fmt(ip, a, sizeof(a)), port, rt->conf->encap_dport);
	if (gw->ctlsrv == NULL)
		return;
	espgw_json_init(&j);
	espgw_json_raw(&j, "{", 1);
	espgw_json_kstr(&j, "event", "nat-mapping");
	espgw_json_kstr(&j, "sa", rt->conf->name);
	espgw_json_kstr(&j, "remote", a);
	espgw_json_ku64(&j, "dport", port);
	event_send(gw, &j);
}

/*
 * The mapping the owner worker saw last, read consistently (its generation
 * twice). At most one event a second per SA, with the latest mapping: the UDP
 * header is outside the ICV, so anyone on the path can make the source
 * alternate, and a flapping NAT would too.
 */
#define NATT_EVENT_MS 1000

static void
natt_check(struct espgw_gw *gw, uint32_t slot, uint64_t now_ms)
{
	struct espgw_sa_watch *w = &gw->watch[slot];
	const struct espgw_sa_rt *rt = &gw->sad.sa[slot];
	uint32_t gen = __atomic_load_n(&rt->natt_gen, __ATOMIC_ACQUIRE);
	struct espgw_ip ip;
	uint16_t port;

	if (gen == w->natt_gen || (gen & 1) != 0 ||
			(w->natt_ms != 0 && now_ms - w->natt_ms < NATT_EVENT_MS))
		return;
	ip = rt->natt_seen;
	port = rte_be_to_cpu_16(rt->natt_seen_port);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&rt->natt_gen, __ATOMIC_RELAXED) != gen)
		return; /* written meanwhile: the next poll reads it */
	w->natt_gen = gen;
	if ((espgw_ip_equal(&ip, &rt->peer) && port == rt->conf->encap_dport) ||
			(espgw_ip_equal(&ip, &w->natt_ip) && port == w->natt_port))
		return;
	w->natt_ip = ip;
	w->natt_port = port;
	w->natt_ms = now_ms;
	event_nat_mapping(gw, rt, &ip, port);
}

void
espgw_gw_watch_poll(struct espgw_gw *gw, uint64_t now_ms)
{
	bool idle = now_ms - gw->watch_idle_ms >= IDLE_MS;
	uint32_t i;

	if (now_ms - gw->watch_ms < WATCH_MS)
		return;
	gw->watch_ms = now_ms;
	if (idle)
		gw->watch_idle_ms = now_ms;
	for (i = 0; i < gw->sad.n; i++) {
		if (!espgw_sad_live(&gw->sad, i) || gw->sad.sa[i].state != ESPGW_SA_LIVE)
			continue;
		if (gw->watch[i].limited)
			life_check(gw, i, now_ms);
		if (gw->sad.sa[i].encap && gw->sad.sa[i].dir == ESPGW_DIR_IN)
			natt_check(gw, i, now_ms);
		if (idle)
			idle_check(gw, i, now_ms);
	}
}

uint64_t
espgw_gw_sa_idle_ms(const struct espgw_gw *gw, uint32_t slot, uint64_t now_ms)
{
	return now_ms - gw->watch[slot].last_use_ms;
}

/* The first policy that protects with the SA in slot (a trap policy). */
static const struct espgw_sp_conf *
policy_of(const struct espgw_gw *gw, uint32_t slot)
{
	const char *name = gw->sad.conf[slot].name;
	unsigned int i;

	for (i = 0; i < gw->store.n_sps; i++)
		if (gw->store.sps[i].action == ESPGW_SP_PROTECT &&
				strcmp(gw->store.sps[i].sa, name) == 0)
			return &gw->store.sps[i];
	return NULL;
}

static void
event_acquire(struct espgw_gw *gw, const struct espgw_acquire *a)
{
	const struct espgw_sp_conf *sp = policy_of(gw, a->slot);
	struct espgw_ip src = {.family = a->family == 4 ? ESPGW_AF_INET : ESPGW_AF_INET6};
	struct espgw_ip dst = src;
	char s[ESPGW_IP_STRLEN], d[ESPGW_IP_STRLEN];
	struct espgw_json j;

	memcpy(src.bytes, a->src, sizeof(a->src));
	memcpy(dst.bytes, a->dst, sizeof(a->dst));
	espgw_json_init(&j);
	espgw_json_raw(&j, "{", 1);
	espgw_json_kstr(&j, "event", "acquire");
	espgw_json_kstr(&j, "sa", gw->sad.conf[a->slot].name);
	espgw_json_key(&j, "policy");
	if (sp != NULL && sp->name[0] != '\0')
		espgw_json_str(&j, sp->name);
	else
		espgw_json_raw(&j, "null", 4);
	espgw_json_kstr(&j, "src", espgw_ip_fmt(&src, s, sizeof(s)));
	espgw_json_kstr(&j, "dst", espgw_ip_fmt(&dst, d, sizeof(d)));
	espgw_json_ku64(&j, "proto", a->proto);
	espgw_json_ku64(&j, "sport", a->sport);
	espgw_json_ku64(&j, "dport", a->dport);
	event_send(gw, &j);
}

void
espgw_gw_acquire_poll(struct espgw_gw *gw, uint64_t now_ms)
{
	struct espgw_acquire a[ACQUIRE_BURST];
	unsigned int n, i;
	uint32_t slot;

	if (gw->acquire == NULL)
		return;
	n = rte_ring_sc_dequeue_burst_elem(gw->acquire, a, sizeof(a[0]), ACQUIRE_BURST, NULL);
	for (i = 0; i < n; i++) {
		slot = a[i].slot;
		/* Still a declaration (not installed or deleted since), at most once a second. */
		if (!espgw_sad_live(&gw->sad, slot) || gw->sad.sa[slot].state != ESPGW_SA_DECLARED)
			continue;
		if (gw->watch[slot].acquire_ms != 0 &&
				now_ms - gw->watch[slot].acquire_ms < ACQUIRE_MS)
			continue;
		gw->watch[slot].acquire_ms = now_ms;
		if (gw->ctlsrv != NULL)
			event_acquire(gw, &a[i]);
	}
}
