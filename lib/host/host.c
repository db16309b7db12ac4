/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control path's entry point: dispatch of what the workers hand over,
 * source-address choice, frame building and transmission on each port's
 * control TX queue, counters.
 */
#include <inttypes.h>
#include <string.h>

#include <rte_esp.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "host_int.h"

#define ICMP6_MIN_LEN 4 /* type, code, checksum */

static const char *const counter_names[ESPGW_HOST_MAX] = {
#define X(id, name, help) [ESPGW_HOST_##id] = name,
		ESPGW_HOST_COUNTER_LIST(X)
#undef X
};

static const char *const counter_helps[ESPGW_HOST_MAX] = {
#define X(id, name, help) [ESPGW_HOST_##id] = help,
		ESPGW_HOST_COUNTER_LIST(X)
#undef X
};

void
espgw_host_conf_default(struct espgw_host_conf *c)
{
	c->reachable_ms = 60000;
	c->retrans_ms = 1000;
	c->locktime_ms = 1000; /* Linux's ARP locktime is 1 s too */
	c->retries = 3;
	c->queue_per_neigh = 16;
	c->queue_total = 512;
	c->icmp_rate = 100;
	c->icmp_burst = 100;
	c->icmp_dst_rate = 10;
	c->icmp_dst_burst = 10;
	c->icmp_key = 0;
}

void
espgw_host_link_local(const struct rte_ether_addr *mac, struct espgw_ip *ll)
{
	const uint8_t *a = mac->addr_bytes;

	memset(ll, 0, sizeof(*ll));
	ll->family = ESPGW_AF_INET6;
	ll->v6[0] = 0xfe;
	ll->v6[1] = 0x80;
	ll->v6[8] = a[0] ^ 0x02; /* the universal/local bit is inverted in EUI-64 */
	ll->v6[9] = a[1];
	ll->v6[10] = a[2];
	ll->v6[11] = 0xff;
	ll->v6[12] = 0xfe;
	memcpy(&ll->v6[13], &a[3], 3);
}

uint16_t
espgw_host_tunnel_mtu(uint16_t path_mtu, uint8_t outer_family, uint8_t iv_len, uint8_t icv_len,
		uint8_t align)
{
	uint32_t fixed = (outer_family == ESPGW_AF_INET ? sizeof(struct rte_ipv4_hdr)
							: sizeof(struct rte_ipv6_hdr)) +
			 sizeof(struct rte_esp_hdr) + iv_len + icv_len;
	uint32_t room;

	if (align == 0)
		align = 4;
	if (path_mtu <= fixed)
		return 0;
	/* Inner packet + padding + pad length + next header fill whole blocks. */
	room = (path_mtu - fixed) / align * align;
	return room <= sizeof(struct rte_esp_tail) ? 0
						   : (uint16_t)(room - sizeof(struct rte_esp_tail));
}

struct espgw_host *
espgw_host_create(const struct espgw_host_prm *p, struct espgw_err *err)
{
	struct espgw_host *h;
	unsigned int i;

	h = rte_zmalloc_socket("espgw_host", sizeof(*h), RTE_CACHE_LINE_SIZE, p->socket);
	if (h == NULL)
		goto nomem;
	h->conf = *p->conf;
	h->store = p->store;
	h->ports = p->ports;
	h->route = p->route;
	h->inject = p->inject;
	h->next_timer = UINT64_MAX;
	icmp_init(h);
	for (i = 0; i < p->ports->n; i++)
		espgw_host_link_local(&p->ports->port[i].mac, &h->ll[i]);
	if (neigh_init(h, p->socket) == 0)
		return h;
	espgw_host_free(h);
nomem:
	snprintf(err->msg, sizeof(err->msg), "out of memory for the control path");
	return NULL;
}

void
espgw_host_flush(struct espgw_host *h)
{
	if (h != NULL)
		neigh_flush(h);
}

void
espgw_host_free(struct espgw_host *h)
{
	if (h == NULL)
		return;
	espgw_host_if_close(h);
	neigh_fini(h);
	rte_mempool_free(h->hif_pool); /* after the ports: their queues may hold its mbufs */
	rte_free(h);
}

/* Is ip ours on this port? (IPv6: the link-local address too.) */
bool
host_addr_own(const struct espgw_host *h, uint16_t port, const struct espgw_ip *ip)
{
	const struct espgw_port_conf *pc = &h->store->ports[port];
	unsigned int a;

	for (a = 0; a < pc->n_addr; a++)
		if (espgw_ip_equal(&pc->addr[a].ip, ip))
			return true;
	return ip->family == ESPGW_AF_INET6 && espgw_ip_equal(&h->ll[port], ip);
}

/* RFC 919 / RFC 1812 5.3.5.2: the all-ones host part; /31 and /32 have none (RFC 3021). */
static bool
prefix_bcast(const struct espgw_prefix *p, const struct espgw_ip *ip)
{
	uint32_t host = p->len >= 31 ? 0 : UINT32_MAX >> p->len;

	return ip->family == ESPGW_AF_INET && host != 0 && espgw_prefix_contains(p, ip) &&
	       (rte_be_to_cpu_32(ip->v4) & host) == host;
}

bool
host_subnet_bcast(const struct espgw_host *h, const struct espgw_ip *ip)
{
	const struct espgw_port_conf *pc;
	unsigned int i, a;

	for (i = 0; i < h->store->n_ports; i++) {
		pc = &h->store->ports[i];
		for (a = 0; a < pc->n_addr; a++)
			if (prefix_bcast(&pc->addr[a], ip))
				return true;
	}
	return false;
}

bool
host_on_link(const struct espgw_host *h, uint16_t port, const struct espgw_ip *ip)
{
	const struct espgw_port_conf *pc = &h->store->ports[port];
	unsigned int a;

	if (host_addr_own(h, port, ip) || host_subnet_bcast(h, ip))
		return false;
	for (a = 0; a < pc->n_addr; a++)
		if (espgw_prefix_contains(&pc->addr[a], ip))
			return true;
	return false;
}

static bool
ip6_is_link_local(const struct espgw_ip *ip)
{
	return ip->family == ESPGW_AF_INET6 && ip->v6[0] == 0xfe && (ip->v6[1] & 0xc0) == 0x80;
}

/*
 * Our address on this port to talk to peer: one whose subnet holds the peer,
 * else the port's first of that family; for IPv6 the link-local address when
 * the peer is link-local or the port has no global one (RFC 6724 5, rules 2
 * and 8 reduced to what a gateway port has).
 */
int
host_src_addr(const struct espgw_host *h, uint16_t port, const struct espgw_ip *peer,
		struct espgw_ip *src)
{
	const struct espgw_port_conf *pc = &h->store->ports[port];
	const struct espgw_ip *first = NULL;
	unsigned int a;

	for (a = 0; a < pc->n_addr && !ip6_is_link_local(peer); a++) {
		if (pc->addr[a].ip.family != peer->family)
			continue;
		if (espgw_prefix_contains(&pc->addr[a], peer)) {
			*src = pc->addr[a].ip;
			return 0;
		}
		if (first == NULL)
			first = &pc->addr[a].ip;
	}
	if (first == NULL && peer->family == ESPGW_AF_INET6)
		first = &h->ll[port];
	if (first == NULL)
		return -1;
	*src = *first;
	return 0;
}

void
host_ip_of(const struct rte_mbuf *m, uint16_t off, bool src, struct espgw_ip *ip)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);

	memset(ip, 0, sizeof(*ip));
	if ((p[0] >> 4) == 4) {
		const struct rte_ipv4_hdr *ip4 = (const struct rte_ipv4_hdr *)p;

		ip->family = ESPGW_AF_INET;
		ip->v4 = src ? ip4->src_addr : ip4->dst_addr;
	} else {
		const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)p;

		ip->family = ESPGW_AF_INET6;
		memcpy(ip->v6, src ? ip6->src_addr : ip6->dst_addr, 16);
	}
}

void
host_ip4_fill(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst, uint16_t len, uint8_t proto)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(len);
	ip->time_to_live = HOST_TTL;
	ip->next_proto_id = proto;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* An IPv6 header carrying ICMPv6 (all the control path sends). */
void
host_ip6_fill(struct rte_ipv6_hdr *ip, const uint8_t *src, const uint8_t *dst, uint16_t plen,
		uint8_t hlim)
{
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(plen);
	ip->proto = ICMP6_PROTO;
	ip->hop_limits = hlim;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
}

/* Turn a received mbuf into an empty frame of len bytes for a reply. */
void *
host_frame_reset(struct rte_mbuf *m, uint16_t len)
{
	rte_pktmbuf_reset_headroom(m);
	if (m->nb_segs != 1 || rte_pktmbuf_tailroom(m) < len)
		return NULL;
	m->data_len = len;
	m->pkt_len = len;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL; /* no offload request from the received packet */
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->packet_type = 0;
	return rte_pktmbuf_mtod(m, void *);
}

struct rte_mbuf *
host_frame_alloc(struct espgw_host *h, uint16_t port, uint16_t len)
{
	const struct espgw_port_info *pi = &h->ports->port[port];
	struct rte_mbuf *m = rte_pktmbuf_alloc(h->ports->pool[pi->socket]);

	if (m != NULL && rte_pktmbuf_append(m, len) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

void
host_eth_fill(struct rte_ether_hdr *eth, const struct rte_ether_addr *dst,
		const struct espgw_host *h, uint16_t port, uint16_t type)
{
	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(&h->ports->port[port].mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(type);
}

bool
host_send(struct espgw_host *h, uint16_t port, struct rte_mbuf *m)
{
	const struct espgw_port_info *pi = &h->ports->port[port];
	bool ok;

	if (pi->ctl_txq == ESPGW_CTL_TXQ_NONE)
		ok = rte_ring_enqueue(pi->ctl_ring, m) == 0;
	else
		ok = rte_eth_tx_burst(pi->port_id, pi->ctl_txq, &m, 1) == 1;
	if (ok)
		host_count(h, ESPGW_HOST_TX);
	return ok;
}

/* Send a packet that came from the ring (a reply built in it, or the packet itself). */
void
host_reply(struct espgw_host *h, uint16_t port, struct rte_mbuf *m)
{
	if (host_send(h, port, m))
		host_count(h, ESPGW_HOST_SENT);
	else
		host_drop(h, m, ESPGW_DROP_TX_FULL);
}

/* Send a packet the control path made itself. */
void
host_originate(struct espgw_host *h, uint16_t port, struct rte_mbuf *m,
		enum espgw_host_counter what)
{
	if (host_send(h, port, m)) {
		host_count(h, what);
		return;
	}
	rte_pktmbuf_free(m);
	host_count(h, ESPGW_HOST_ORIG_FAILED);
}

/* The worker's L2 rewrite, for a packet whose next hop is now resolved (L3 at l2_len). */
void
host_forward(struct espgw_host *h, struct rte_mbuf *m, const struct espgw_l2_hop *hop)
{
	uint8_t v = *rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len) >> 4;
	struct rte_ether_hdr *eth;
	struct rte_ether_addr dst;

	rte_pktmbuf_adj(m, m->l2_len);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (eth == NULL) {
		host_drop(h, m, ESPGW_DROP_BAD_L3);
		return;
	}
	espgw_hop_dst(hop, &dst);
	host_eth_fill(eth, &dst, h, hop->port_idx,
			v == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	m->l2_len = sizeof(*eth);
	host_reply(h, hop->port_idx, m);
}

bool
host_inject(struct espgw_host *h, struct rte_mbuf *m, uint32_t kind)
{
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->port = RTE_MBUF_PORT_INVALID; /* from no port: nothing may answer "its link" */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	m->packet_type = 0;
	m->hash.usr = kind;
	if (h->inject == NULL || rte_ring_enqueue(h->inject, m) != 0)
		return false;
	host_count(h, ESPGW_HOST_INJECTED);
	return true;
}

bool
host_crosses(const struct espgw_host *h, uint16_t port, const struct espgw_ip *peer)
{
	return h->ports->port[port].role == ESPGW_ROLE_UNPROTECTED && !ip6_is_link_local(peer);
}

bool
host_from_tunnel(const struct espgw_host *h, const struct rte_mbuf *m)
{
	return m->l2_len == 0 || host_port_of(h, m) < 0;
}

void
host_reply_inject(struct espgw_host *h, struct rte_mbuf *m, uint32_t kind)
{
	struct rte_ether_hdr *eth;
	uint8_t v;

	rte_pktmbuf_adj(m, m->l2_len);
	v = *rte_pktmbuf_mtod(m, const uint8_t *) >> 4;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (eth == NULL) {
		host_drop(h, m, ESPGW_DROP_BAD_L3);
		return;
	}
	memset(eth, 0, sizeof(*eth));
	eth->ether_type = rte_cpu_to_be_16(v == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	if (host_inject(h, m, kind))
		host_count(h, ESPGW_HOST_SENT);
	else
		host_drop(h, m, ESPGW_DROP_TX_FULL);
}

int
host_port_of(const struct espgw_host *h, const struct rte_mbuf *m)
{
	uint16_t idx = m->port < RTE_MAX_ETHPORTS ? h->ports->port_idx_of[m->port] : UINT16_MAX;

	return idx < h->ports->n ? idx : -1;
}

/*
 * ICMPv6 for us: ND and echo, the checksum checked here for all of them.
 * Through a tunnel (port < 0) only echo: ND is link-local (RFC 4861 7.1).
 */
static void
ipv6_input(struct espgw_host *h, struct rte_mbuf *m, int port, uint64_t now)
{
	const struct rte_ipv6_hdr *ip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, m->l2_len);
	const uint8_t *l4 = (const uint8_t *)(ip + 1);

	if (ip->proto != ICMP6_PROTO || rte_be_to_cpu_16(ip->payload_len) < ICMP6_MIN_LEN) {
		host_drop(h, m, ESPGW_DROP_LOCAL_UNHANDLED);
		return;
	}
	if (!icmp6_cksum_ok(ip, l4)) {
		host_drop(h, m, ESPGW_DROP_BAD_L3);
		return;
	}
	if ((l4[0] == ND_NS || l4[0] == ND_NA) && port >= 0)
		nd_input(h, m, (uint16_t)port, now);
	else if (l4[0] == ICMP6_ECHO)
		icmp6_echo_input(h, m, port);
	else
		host_drop(h, m, ESPGW_DROP_LOCAL_UNHANDLED);
}

/*
 * What espgw answers itself whatever host interfaces there are: ICMP echo
 * requests and ICMPv6 echo and neighbor discovery (ARP never gets here).
 * The rest of what is addressed to the gateway is the kernel's (L3 at
 * m->l2_len, parsed by the worker: the headers are whole).
 */
static bool
host_business(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint32_t len = rte_pktmbuf_data_len(m) - m->l2_len;

	if ((p[0] >> 4) == 4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;
		uint32_t ihl = rte_ipv4_hdr_len(ip);

		/* A fragment is the kernel's to reassemble, whatever its first byte reads. */
		return ip->next_proto_id == ICMP4_PROTO && len > ihl && p[ihl] == ICMP4_ECHO &&
		       (ip->fragment_offset & rte_cpu_to_be_16(~RTE_IPV4_HDR_DF_FLAG)) == 0;
	}
	if (((const struct rte_ipv6_hdr *)p)->proto != ICMP6_PROTO ||
			len <= sizeof(struct rte_ipv6_hdr))
		return false;
	p += sizeof(struct rte_ipv6_hdr);
	return p[0] == ICMP6_ECHO || (p[0] >= ND_RS && p[0] <= ND_REDIRECT);
}

/*
 * Out of a tunnel (decrypted, no L2 left): the sender is behind the tunnel,
 * so an echo request is answered back through it (host_reply_inject).
 */
static void
tunnel_input(struct espgw_host *h, struct rte_mbuf *m, uint64_t now)
{
	uint8_t v = *rte_pktmbuf_mtod(m, const uint8_t *) >> 4;

	if (!host_business(m) && host_if_up(h, m))
		return;
	if (h->inject == NULL)
		host_drop(h, m, ESPGW_DROP_LOCAL_UNHANDLED); /* no way back */
	else if (v == 4)
		icmp4_input(h, m, -1);
	else
		ipv6_input(h, m, -1, now);
}

static void
local_input(struct espgw_host *h, struct rte_mbuf *m, uint64_t now)
{
	int port = host_port_of(h, m);
	uint16_t type;

	if (m->l2_len == 0) {
		tunnel_input(h, m, now);
		return;
	}
	if (port < 0 || m->l2_len != RTE_ETHER_HDR_LEN) {
		host_drop(h, m, ESPGW_DROP_LOCAL_UNHANDLED);
		return;
	}
	type = rte_be_to_cpu_16(rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type);
	if ((type == RTE_ETHER_TYPE_IPV4 || type == RTE_ETHER_TYPE_IPV6) && !host_business(m) &&
			host_if_up(h, m))
		return;
	if (type == RTE_ETHER_TYPE_ARP)
		arp_input(h, m, (uint16_t)port, now);
	else if (type == RTE_ETHER_TYPE_IPV4)
		icmp4_input(h, m, port);
	else if (type == RTE_ETHER_TYPE_IPV6)
		ipv6_input(h, m, port, now);
	else
		host_drop(h, m, ESPGW_DROP_UNSUPPORTED_L3);
}

void
espgw_host_input(struct espgw_host *h, struct rte_mbuf *m[], unsigned int n, uint64_t now_ms)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (espgw_ctl_tag_reason(m[i]) == ESPGW_CTL_TTL) {
			icmp_time_exceeded(h, m[i], now_ms); /* not "in": see the counters */
			continue;
		}
		host_count(h, ESPGW_HOST_IN);
		switch (espgw_ctl_tag_reason(m[i])) {
		case ESPGW_CTL_NO_NEIGH:
			neigh_output(h, m[i], espgw_ctl_tag_port(m[i]), now_ms);
			break;
		case ESPGW_CTL_TOO_BIG:
			icmp_too_big(h, m[i], espgw_ctl_tag_mtu(m[i]), now_ms);
			break;
		default:
			local_input(h, m[i], now_ms);
		}
	}
}

void
espgw_host_timer(struct espgw_host *h, uint64_t now_ms)
{
	if (now_ms >= h->next_timer)
		neigh_timer(h, now_ms);
}

const struct espgw_host_stats *
espgw_host_stats(const struct espgw_host *h)
{
	return &h->st;
}

const char *
espgw_host_counter_name(enum espgw_host_counter c)
{
	return c < ESPGW_HOST_MAX ? counter_names[c] : "?";
}

void
espgw_host_stats_print(const void *arg, FILE *f)
{
	const struct espgw_host_stats *s = &((const struct espgw_host *)arg)->st;
	unsigned int i;

	fprintf(f,
			"\ncontrol path: in %" PRIu64 "  sent %" PRIu64 "  absorbed %" PRIu64
			"  dropped %" PRIu64 "  pending %" PRIu64 "\n",
			s->c[ESPGW_HOST_IN], s->c[ESPGW_HOST_SENT], s->c[ESPGW_HOST_ABSORBED],
			espgw_drop_total(s->drop), s->pending);
	for (i = ESPGW_HOST_ABSORBED + 1; i < ESPGW_HOST_MAX; i++)
		if (s->c[i] != 0)
			fprintf(f, "  %-25s %14" PRIu64 "  (%s)\n", counter_names[i], s->c[i],
					counter_helps[i]);
	for (i = 0; i < ESPGW_DROP_MAX; i++)
		if (s->drop[i] != 0)
			fprintf(f, "  drop %-20s %14" PRIu64 "  (%s)\n", espgw_drop_name(i),
					s->drop[i], espgw_drop_help(i));
}

void
espgw_host_stats_json(const void *arg, FILE *f)
{
	const struct espgw_host_stats *s = &((const struct espgw_host *)arg)->st;
	unsigned int i;

	fprintf(f, "\"control\": {");
	for (i = 0; i < ESPGW_HOST_MAX; i++)
		fprintf(f, "\"%s\": %" PRIu64 ", ", counter_names[i], s->c[i]);
	fprintf(f, "\"pending\": %" PRIu64 ", \"drops\": {", s->pending);
	for (i = 0; i < ESPGW_DROP_MAX; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", espgw_drop_name(i), s->drop[i]);
	fprintf(f, "}}");
}
