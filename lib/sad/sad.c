/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SA database: a runtime object per installed SA in the SA's slot, and
 * rte_ipsec_sad for the inbound lookup by SPI (plus destination, plus
 * source, per SA as configured), created for concurrent readers: SAs come
 * and go while the workers look them up.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "espgw_gcm.h"
#include "sad_int.h"

static int
sa_key_type(const struct espgw_sa_conf *sa)
{
	if (sa->match == ESPGW_SAD_MATCH_SPI)
		return RTE_IPSEC_SAD_SPI_ONLY;
	if (sa->match == ESPGW_SAD_MATCH_SPI_DST_SRC)
		return RTE_IPSEC_SAD_SPI_DIP_SIP;
	return RTE_IPSEC_SAD_SPI_DIP;
}

/* The key an inbound packet for this SA carries: our address is its destination. */
static void
sa_key(const struct espgw_sa_conf *sa, union rte_ipsec_sad_key *k)
{
	uint32_t spi = rte_cpu_to_be_32(sa->spi);

	if (sa->local.family == ESPGW_AF_INET)
		espgw_sad_key_v4(k, spi, sa->local.v4, sa->remote.v4);
	else
		espgw_sad_key_v6(k, spi, sa->local.v6, sa->remote.v6);
}

static uint64_t in_gen_base;

/* Room for every slot under each key type: one SA may take any type. */
static int
in_sad_create(struct espgw_sad *sad, struct espgw_err *err)
{
	struct rte_ipsec_sad_conf conf = {
			.socket_id = sad->socket,
			.flags = RTE_IPSEC_SAD_FLAG_IPV6 | RTE_IPSEC_SAD_FLAG_RW_CONCURRENCY,
	};
	char name[RTE_IPSEC_SAD_NAMESIZE];
	unsigned int t;

	for (t = 0; t < RTE_IPSEC_SAD_KEY_TYPE_MASK; t++)
		conf.max_sa[t] = sad->cap;
	/* Named after the SA array: unique while an old SAD still serves beside this one. */
	snprintf(name, sizeof(name), "espgw_%" PRIxPTR, (uintptr_t)sad->sa);
	sad->in = rte_ipsec_sad_create(name, &conf);
	/* Generations of different SADs never meet: a cache entry is of one SAD only. */
	sad->in_gen = __atomic_add_fetch(&in_gen_base, UINT64_C(1) << 32, __ATOMIC_RELAXED);
	if (sad->in != NULL)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "cannot create the inbound SAD for %u SAs: %s",
			sad->cap, rte_strerror(rte_errno));
	return -1;
}

/* After a change of the inbound SAD: the workers' cached lookups are old (esp_sad_cache.h). */
static void
in_changed(struct espgw_sad *sad)
{
	__atomic_store_n(&sad->in_gen, sad->in_gen + 1, __ATOMIC_RELEASE);
}

/* rte_ipsec_sad_add() silently replaces an equal key: refuse a duplicate instead. */
static bool
in_sa_duplicate(const struct espgw_sad *sad, const struct espgw_sa_conf *sa,
		const union rte_ipsec_sad_key *k)
{
	const union rte_ipsec_sad_key *kp = k;
	void *found = NULL;
	const struct espgw_sa_rt *rt;

	if (rte_ipsec_sad_lookup(sad->in, &kp, &found, 1) <= 0)
		return false;
	rt = found;
	return rt->conf->match == sa->match;
}

/* Key k finds rt from now on; refused when another SA has it. */
static int
in_key_add(struct espgw_sad *sad, struct espgw_sa_rt *rt, const struct espgw_sa_conf *sa,
		const union rte_ipsec_sad_key *k, struct espgw_err *err)
{
	int rc;

	if (in_sa_duplicate(sad, sa, k)) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: another inbound SA has SPI %u and the same addresses",
				sa->name, sa->spi);
		return -1;
	}
	rc = rte_ipsec_sad_add(sad->in, k, sa_key_type(sa), rt);
	in_changed(sad); /* a more specific key may take packets from another SA */
	if (rc != 0) {
		snprintf(err->msg, sizeof(err->msg), "sa %s: cannot add to the inbound SAD: %s",
				sa->name, rte_strerror(-rc));
		return -1;
	}
	return 0;
}

static int
in_sa_link(struct espgw_sad *sad, struct espgw_sa_rt *rt, struct espgw_err *err)
{
	union rte_ipsec_sad_key k;

	sa_key(rt->conf, &k);
	return in_key_add(sad, rt, rt->conf, &k, err);
}

/*
 * DESIGN.md, SA ownership: each inbound SA has one owner worker, so that its
 * replay windows (RFC 4303 3.4.3) have one writer and need no atomics. Dealt
 * in turn over the inbound SAs only (configurations list SAs in out/in
 * pairs: every other SA would put them all on one of two workers), and the
 * outbound SAs with seq-order strict (their sender, lib/dp/order.c).
 */
static uint16_t
owner_next(struct espgw_sad *sad)
{
	if (sad->n_workers < 2)
		return 0;
	return (uint16_t)(sad->next_owner++ % sad->n_workers);
}

/* A declared SA's slot: what the workers need to drop its traffic and ask for it. */
static int
declared_add(struct espgw_sad *sad, struct espgw_sa_rt *rt, const struct espgw_sa_conf *c)
{
	rt->idx = c->slot;
	rt->conf = c;
	rt->dir = c->dir;
	rt->state = ESPGW_SA_DECLARED;
	sad->live[c->slot] = 1;
	sad->n = RTE_MAX(sad->n, c->slot + 1);
	return 0;
}

/* What lib/esp's AH (ah_out.c, ah_in.c) does not do yet. */
static int
ah_check(const struct espgw_sad *sad, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	const char *why = NULL;

	if (espgw_crypto_path_of(sad->crypto, sad->store, c) != ESPGW_CRYPTO_PATH_CPU)
		why = "AH runs on crypto-path cpu only (its device or its crypto-path says "
		      "cryptodev)";
	if (why == NULL)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "sa %s: proto ah: %s", c->name, why);
	return -1;
}

int
espgw_sad_sa_add(struct espgw_sad *sad, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	struct espgw_sa_rt_prm p = {.s = sad->store,
			.c = sad->crypto,
			.n_workers = sad->n_workers,
			.socket = sad->socket,
			.sqn_ofs = sad->sqn_ofs};
	uint32_t slot = c->slot;
	struct espgw_sa_rt *rt;

	if (slot >= sad->cap || sad->live[slot]) {
		snprintf(err->msg, sizeof(err->msg), "sa %s: slot %u is not free", c->name, slot);
		return -1;
	}
	rt = &sad->sa[slot];
	memset(rt, 0, sizeof(*rt));
	sad->conf[slot] = *c;
	if (c->declared)
		return declared_add(sad, rt, &sad->conf[slot]);
	if (c->proto == ESPGW_SA_AH && ah_check(sad, c, err) != 0)
		return -1;
	if (espgw_crypto_sa_check(sad->crypto, sad->store, c, err) != 0)
		return -1;
	if (espgw_sa_rt_init(rt, &sad->conf[slot], &p, err) != 0 ||
			(rt->dir == ESPGW_DIR_IN && in_sa_link(sad, rt, err) != 0)) {
		espgw_sa_rt_fini(rt);
		explicit_bzero(&sad->conf[slot], sizeof(sad->conf[slot]));
		return -1;
	}
	if (rt->dir == ESPGW_DIR_IN || rt->order != NULL)
		rt->owner = owner_next(sad);
	/* Workers may see the port before the SA: its ESP then drops as no_sa, as before. */
	if (c->encap_udp)
		espgw_sad_natt_port_ref(sad, c->encap_sport, true);
	if (rt->bitw && rt->dir == ESPGW_DIR_IN)
		__atomic_fetch_add(&sad->n_bitw_in, 1, __ATOMIC_RELEASE);
	if (rt->order != NULL)
		__atomic_fetch_add(&sad->n_order, 1, __ATOMIC_RELEASE);
	sad->live[slot] = 1;
	sad->n = RTE_MAX(sad->n, slot + 1);
	return 0;
}

void
espgw_sad_sa_unlink(struct espgw_sad *sad, uint32_t slot)
{
	union rte_ipsec_sad_key k;
	const struct espgw_sa_conf *sa;

	if (!espgw_sad_live(sad, slot) || sad->sa[slot].dir != ESPGW_DIR_IN ||
			sad->sa[slot].state == ESPGW_SA_DECLARED)
		return;
	sa = sad->sa[slot].conf;
	sa_key(sa, &k);
	rte_ipsec_sad_del(sad->in, &k, sa_key_type(sa));
	in_changed(sad);
}

int
espgw_sad_sa_relink(struct espgw_sad *sad, uint32_t slot, struct espgw_err *err)
{
	struct espgw_sa_rt *rt = &sad->sa[slot];

	if (!espgw_sad_live(sad, slot) || rt->dir != ESPGW_DIR_IN || rt->state == ESPGW_SA_DECLARED)
		return 0;
	return in_sa_link(sad, rt, err);
}

/*
 * An SA with an order window whose counter is set (sa update, and its roll
 * back), while no worker takes numbers of it (frozen, lib/gw/sa_move.c): the
 * owner still sends what was taken before, and alone writes next until it has
 * sent every number taken (next == the counter, or the SA's last number:
 * what lay beyond was dropped as sqn_overflow). Then the window starts at
 * seq. The wait is a few of the owner's loops; it is bounded so that a
 * stopped owner cannot hang the control path (the window then starts at seq
 * all the same). An SA moved to a new slot waits the same way before the new
 * one takes over (lib/gw/sa_move.c): the old one's last frames first.
 */
#define ORDER_DRAIN_US 1000000

void
espgw_sad_order_drain(const struct espgw_sad *sad, uint32_t slot)
{
	const struct espgw_sa_rt *rt = &sad->sa[slot];
	uint64_t taken;
	unsigned int us;

	if (rt->order == NULL)
		return;
	taken = RTE_MIN(__atomic_load_n(&rt->gcm->seq, __ATOMIC_ACQUIRE),
			espgw_gcm_sqn_max(rt->gcm));
	for (us = 0; us < ORDER_DRAIN_US &&
			__atomic_load_n(&rt->order->next, __ATOMIC_ACQUIRE) < taken;
			us += 10)
		rte_delay_us_sleep(10);
}

static void
order_restart(struct espgw_sad *sad, uint32_t slot, uint64_t seq)
{
	espgw_sad_order_drain(sad, slot);
	__atomic_store_n(&sad->sa[slot].order->next, seq, __ATOMIC_RELEASE);
}

uint64_t
espgw_sad_sa_seq(const struct espgw_sad *sad, uint32_t slot)
{
	const struct espgw_sa_rt *rt = &sad->sa[slot];

	if (rt->ah != NULL)
		return __atomic_load_n(&rt->ah->seq, __ATOMIC_RELAXED);
	if (rt->gcm != NULL)
		return __atomic_load_n(&rt->gcm->seq, __ATOMIC_RELAXED);
	if (sad->sqn_ofs < 0 || rt->ipsec_sa == NULL)
		return 0;
	return __atomic_load_n((const uint64_t *)((const uint8_t *)rt->ipsec_sa + sad->sqn_ofs),
			__ATOMIC_RELAXED);
}

void
espgw_sad_sa_seq_set(struct espgw_sad *sad, uint32_t slot, uint64_t seq)
{
	struct espgw_sa_rt *rt = &sad->sa[slot];

	if (rt->order != NULL)
		order_restart(sad, slot, seq);
	if (rt->ah != NULL)
		__atomic_store_n(&rt->ah->seq, seq, __ATOMIC_RELEASE);
	else if (rt->gcm != NULL)
		__atomic_store_n(&rt->gcm->seq, seq, __ATOMIC_RELEASE);
	else if (sad->sqn_ofs >= 0 && rt->ipsec_sa != NULL)
		__atomic_store_n((uint64_t *)((uint8_t *)rt->ipsec_sa + sad->sqn_ofs), seq,
				__ATOMIC_RELEASE);
}

/*
 * The new key is added before the old one goes: a packet from the peer's
 * new address finds the SA at once, one from the old address until then
 * (RFC 4555 3.5: the peer's address changes under a live SA).
 */
static int
in_sa_rekey(struct espgw_sad *sad, struct espgw_sa_rt *rt, const struct espgw_sa_conf *c,
		struct espgw_err *err)
{
	union rte_ipsec_sad_key old, k;

	sa_key(rt->conf, &old);
	sa_key(c, &k);
	if (memcmp(&old, &k, sizeof(k)) == 0 || sa_key_type(c) != RTE_IPSEC_SAD_SPI_DIP_SIP)
		return 0;
	if (in_key_add(sad, rt, c, &k, err) != 0)
		return -1;
	rte_ipsec_sad_del(sad->in, &old, sa_key_type(c));
	in_changed(sad);
	return 0;
}

int
espgw_sad_sa_update(struct espgw_sad *sad, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	struct espgw_sa_rt *rt = &sad->sa[c->slot];
	struct espgw_sa_conf *cur = &sad->conf[c->slot];

	if (!espgw_sad_live(sad, c->slot) || rt->state == ESPGW_SA_DECLARED)
		return 0;
	if (rt->dir == ESPGW_DIR_OUT && !espgw_ip_equal(&cur->remote, &c->remote)) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s: an outbound SA's remote changes in a new slot", c->name);
		return -1;
	}
	/*
	 * The next header is in rte_ipsec's template and in the inbound check:
	 * an SA installed before any policy named it carries its outer family,
	 * and a first policy of the other family cannot change that under it.
	 */
	if (espgw_sa_inner_proto(c) != rt->inner_proto) {
		snprintf(err->msg, sizeof(err->msg),
				"sa %s carries %s (installed before a policy named it): add the "
				"policy in the SA's transaction, or sa declare the SA first",
				c->name, rt->inner_proto == IPPROTO_IPIP ? "IPv4" : "IPv6");
		return -1;
	}
	if (rt->dir == ESPGW_DIR_IN && in_sa_rekey(sad, rt, c, err) != 0)
		return -1;
	cur->remote = c->remote;
	rt->peer = c->remote;
	cur->encap_dport = c->encap_dport;
	rt->natt_dport = rte_cpu_to_be_16(c->encap_dport);
	memcpy(cur->life, c->life, sizeof(cur->life));
	cur->inner_family = c->inner_family;
	return 0;
}

void
espgw_sad_sa_free(struct espgw_sad *sad, uint32_t slot)
{
	if (!espgw_sad_live(sad, slot))
		return;
	/* No worker holds the SA any more: its port may stop being a NAT-T port. */
	if (sad->conf[slot].encap_udp && !sad->conf[slot].declared)
		espgw_sad_natt_port_ref(sad, sad->conf[slot].encap_sport, false);
	if (sad->sa[slot].bitw && sad->sa[slot].dir == ESPGW_DIR_IN)
		__atomic_fetch_sub(&sad->n_bitw_in, 1, __ATOMIC_RELEASE);
	if (sad->sa[slot].order != NULL)
		__atomic_fetch_sub(&sad->n_order, 1, __ATOMIC_RELEASE);
	espgw_sa_rt_fini(&sad->sa[slot]);
	explicit_bzero(&sad->conf[slot], sizeof(sad->conf[slot]));
	sad->live[slot] = 0;
}

static int
slots_alloc(struct espgw_sad *sad, struct espgw_err *err)
{
	sad->sa = rte_zmalloc_socket("espgw_sa_rt", sad->cap * sizeof(*sad->sa),
			RTE_CACHE_LINE_SIZE, sad->socket);
	sad->conf = rte_zmalloc_socket(
			"espgw_sa_conf", sad->cap * sizeof(*sad->conf), 0, sad->socket);
	sad->live = rte_zmalloc_socket("espgw_sa_live", sad->cap, 0, sad->socket);
	sad->natt_ports = rte_zmalloc_socket(
			"espgw_natt_ports", ESPGW_NATT_PORTS_BYTES, 0, sad->socket);
	sad->natt_refs = rte_zmalloc_socket(
			"espgw_natt_refs", 65536 * sizeof(*sad->natt_refs), 0, sad->socket);
	if (sad->sa != NULL && sad->conf != NULL && sad->live != NULL && sad->natt_ports != NULL &&
			sad->natt_refs != NULL)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "no memory for %u SA slots (set max-sa)", sad->cap);
	return -1;
}

static int
sas_add(struct espgw_sad *sad, const struct espgw_store *s, struct espgw_err *err)
{
	unsigned int i;

	for (i = 0; i < s->n_sas; i++) {
		if (espgw_sad_sa_add(sad, &s->sas[i], err) != 0) {
			err->line = s->sas[i].line;
			return -1;
		}
	}
	return 0;
}

int
espgw_sad_build(struct espgw_sad *sad, const struct espgw_store *s, struct espgw_crypto *c,
		unsigned int n_workers, int socket, struct espgw_err *err)
{
	memset(sad, 0, sizeof(*sad));
	if (espgw_mbuf_sa_register() != 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot register the mbuf SA fields: %s",
				rte_strerror(rte_errno));
		return -1;
	}
	sad->cap = s->global.max_sa;
	sad->crypto = c;
	sad->store = s;
	sad->n_workers = n_workers;
	sad->socket = socket;
	sad->sqn_ofs = espgw_sa_outb_sqn_offset();
	if (slots_alloc(sad, err) != 0 || in_sad_create(sad, err) != 0 ||
			sas_add(sad, s, err) != 0) {
		espgw_sad_free(sad);
		return -1;
	}
	return 0;
}

void
espgw_sad_free(struct espgw_sad *sad)
{
	unsigned int i;

	for (i = 0; i < sad->n; i++)
		espgw_sad_sa_free(sad, i);
	rte_free(sad->sa);
	rte_free(sad->conf);
	rte_free(sad->live);
	rte_free(sad->natt_ports);
	rte_free(sad->natt_refs);
	rte_ipsec_sad_destroy(sad->in);
	memset(sad, 0, sizeof(*sad));
}
