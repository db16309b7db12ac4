/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the operator reads about neighbors (espgw.host): a route's next hop
 * or a static neighbor resolved, moved to another MAC, or silent. Those are
 * few (the config names them) and matter: info, notice, warning. An on-link
 * host's entry is one of many that traffic makes: debug. Lines are limited to
 * a burst of LOG_BURST, then LOG_PER_S a second, so that a flood of ARP news
 * or of failing resolutions cannot flood the journal; what was held back is
 * said in the next line that goes out.
 */
#include <inttypes.h>
#include <stdio.h>

#include <rte_ether.h>

#include "espgw_log.h"
#include "host_int.h"

#define LOG_BURST 20
#define LOG_PER_S 5

void
neigh_log_init(struct espgw_host *h)
{
	h->log_tokens = LOG_BURST;
}

/* May a line go out now? The token bucket, refilled from now (ms). */
static bool
log_take(struct espgw_host *h, uint64_t now)
{
	uint64_t add = now > h->log_ms ? (now - h->log_ms) * LOG_PER_S / 1000 : 0;

	if (add > 0) {
		h->log_tokens = h->log_tokens + add > LOG_BURST ? LOG_BURST
								: h->log_tokens + (unsigned int)add;
		h->log_ms = now;
	}
	if (h->log_tokens == 0) {
		h->log_held++;
		return false;
	}
	h->log_tokens--;
	return true;
}

/* "next hop 198.51.100.254 on wan0" / "neighbor ..." / "host ..." into buf. */
static const char *
who(const struct espgw_host *h, const struct espgw_l2_hop *e, char *buf, size_t len)
{
	static const char *const what[] = {[ESPGW_HOP_STATIC] = "neighbor",
			[ESPGW_HOP_VIA] = "next hop",
			[ESPGW_HOP_DYNAMIC] = "host"};
	char ip[64];
	const char *kind = e->kind <= ESPGW_HOP_DYNAMIC ? what[e->kind] : NULL;

	snprintf(buf, len, "%s %s on %s", kind != NULL ? kind : "neighbor",
			espgw_ip_fmt(&e->ip, ip, sizeof(ip)), h->store->ports[e->port_idx].name);
	return buf;
}

/* Lower case, as "show neighbor" writes it. */
static const char *
mac_fmt(const struct rte_ether_addr *a, char *buf, size_t len)
{
	const uint8_t *b = a->addr_bytes;

	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
	return buf;
}

static void
held_say(struct espgw_host *h)
{
	if (h->log_held == 0)
		return;
	HOST_LOG(NOTICE, "%" PRIu64 " neighbor lines held back (more than %u a second)",
			h->log_held, LOG_PER_S);
	h->log_held = 0;
}

/*
 * May a line about e go out at level (debug for an on-link host)? Its level
 * enabled and a token left; nothing is formatted otherwise.
 */
static bool
line_ok(struct espgw_host *h, const struct espgw_l2_hop *e, unsigned int *level, uint64_t now)
{
	if (e->kind == ESPGW_HOP_DYNAMIC)
		*level = ESPGW_LOG_DEBUG;
	if (!espgw_log_enabled(ESPGW_LOG_HOST, *level) || !log_take(h, now))
		return false;
	held_say(h);
	return true;
}

void
neigh_log_resolved(struct espgw_host *h, const struct espgw_l2_hop *e,
		const struct rte_ether_addr *mac, uint64_t now)
{
	char w[128], m[RTE_ETHER_ADDR_FMT_SIZE];
	unsigned int lvl = ESPGW_LOG_INFO;

	if (!line_ok(h, e, &lvl, now))
		return;
	espgw_log(ESPGW_LOG_HOST, lvl, "%s resolved: %s", who(h, e, w, sizeof(w)),
			mac_fmt(mac, m, sizeof(m)));
}

void
neigh_log_moved(struct espgw_host *h, const struct espgw_l2_hop *e,
		const struct rte_ether_addr *old, const struct rte_ether_addr *mac, uint64_t now)
{
	char w[128], a[RTE_ETHER_ADDR_FMT_SIZE], b[RTE_ETHER_ADDR_FMT_SIZE];
	unsigned int lvl = ESPGW_LOG_NOTICE;

	if (!line_ok(h, e, &lvl, now))
		return;
	espgw_log(ESPGW_LOG_HOST, lvl, "%s moved: %s -> %s", who(h, e, w, sizeof(w)),
			mac_fmt(old, a, sizeof(a)), mac_fmt(mac, b, sizeof(b)));
}

void
neigh_log_failed(struct espgw_host *h, const struct espgw_l2_hop *e, unsigned int tries,
		unsigned int dropped, uint64_t now)
{
	char w[128];
	unsigned int lvl = ESPGW_LOG_WARNING;

	if (!line_ok(h, e, &lvl, now))
		return;
	espgw_log(ESPGW_LOG_HOST, lvl,
			"%s unreachable: no answer to %u requests, %u packets dropped",
			who(h, e, w, sizeof(w)), tries, dropped);
}
