/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly of outer ESP fragments addressed to the gateway (see
 * espgw_frag.h). rte_ip_frag keeps the table (IPv4 key: addresses, protocol,
 * ID, RFC 791 3.2; IPv6: addresses and ID, RFC 8200 4.5), detects too many,
 * duplicate or overlapping fragments and puts everything it gives up on a
 * death row, which is freed and counted here after every call.
 *
 * What is here decides what the table may hold, since rte_ip_frag alone
 * would refuse every new packet once spoofed fragments filled it, until
 * they timed out:
 * - the fragments held are counted exactly (each is one segment of the
 *   reassembly pool, tagged with its peer's index in mbuf hash.usr, which
 *   rte_ip_frag does not touch), in all and per peer;
 * - above the high-water mark, or for a peer at its share, the timeout is
 *   the short pressure timeout;
 * - at the limit, the oldest packets are given up, so that those arriving
 *   now, whose fragments come together, complete: rte_ip_frag keeps its
 *   entries in the order they started (its LRU list), and
 *   rte_ip_frag_table_del_expired_entries() called with a time shifted by
 *   timeout - age gives up those older than age.
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>

#include "espgw_drop.h"
#include "espgw_frag.h"

#define ESP_PROTO	 50
#define BUCKET_ENTRIES	 4 /* associativity of the fragment table */
#define REASM_POOL_CACHE 64
/*
 * A peer may hold 1/n of the table with n peers, or a quarter with more:
 * flooding one peer's address leaves the others their room.
 */
#define PEER_SHARE_MIN 4

struct espgw_reasm {
	struct rte_ip_frag_tbl *tbl;
	struct rte_mempool *pool; /* fragments held, never the RX pool's mbufs */
	const struct espgw_reasm_peers *peers;
	uint64_t *drops;    /* the worker's drop counters, by reason */
	uint64_t timeout;   /* cycles from a packet's first fragment to giving it up */
	uint64_t pressure;  /* the same above the high-water mark */
	uint32_t seg_max;   /* bytes one segment of the pool holds */
	uint32_t max;	    /* fragments held at most */
	uint32_t high;	    /* the high-water mark */
	uint32_t peer_max;  /* fragments one peer may hold */
	uint32_t flows;	    /* the table's entries (for peer_max) */
	uint32_t max_peers; /* room in held[] */
	struct espgw_reasm_stats st;
	struct rte_ip_frag_death_row dr;
	uint32_t held[]; /* fragments held, by peer */
};

void
espgw_reasm_conf_default(struct espgw_reasm_conf *c)
{
	c->flows = 4096;
	/*
	 * A peer's fragments leave the router that cut them back to back and
	 * arrive within milliseconds; 250 ms leaves room for slow or jittery
	 * paths, yet keeps a peer's 16-bit IPv4 IDs from coming round within it
	 * below 262,144 fragmented packets a second (RFC 4963 2), and a blind
	 * spoofer's fragments from holding IDs that long (README: measured).
	 */
	c->timeout_ms = 250;
	/*
	 * Under pressure: about what a 1500-byte packet takes on a 1.2 Mbit/s
	 * path; slower paths lose fragmented packets only then.
	 */
	c->pressure_ms = 10;
	/* The fragments held, and slack for the per-lcore cache. */
	c->pool_size = c->flows + 8 * REASM_POOL_CACHE;
}

static uint32_t
peer_share(uint32_t max, unsigned int peers)
{
	if (peers < 2)
		return UINT32_MAX; /* nobody else to leave room for */
	return max / RTE_MIN(peers, (unsigned int)PEER_SHARE_MIN);
}

static void
limits_set(struct espgw_reasm *r, const struct espgw_reasm_conf *c)
{
	uint64_t ms = rte_get_tsc_hz() / 1000;

	r->timeout = ms * c->timeout_ms;
	r->pressure = ms * RTE_MIN(c->pressure_ms, c->timeout_ms);
	r->max = c->flows;
	r->high = c->flows - c->flows / 4;
	r->flows = c->flows;
	r->peer_max = peer_share(c->flows, espgw_reasm_peers_count(r->peers));
}

struct espgw_reasm *
espgw_reasm_create(const struct espgw_reasm_conf *c, const struct espgw_reasm_peers *peers,
		unsigned int max_peers, const char *name, uint64_t *drops, int socket)
{
	/* Twice the slots of the entries it may hold: a key rarely finds both its buckets full. */
	uint32_t buckets = RTE_MAX(2 * c->flows / BUCKET_ENTRIES, 1u);
	unsigned int n = RTE_MAX(max_peers, espgw_reasm_peers_count(peers));
	struct espgw_reasm *r;

	r = rte_zmalloc_socket("espgw_reasm", sizeof(*r) + n * sizeof(r->held[0]),
			RTE_CACHE_LINE_SIZE, socket);
	if (r == NULL)
		return NULL;
	r->drops = drops;
	r->peers = peers;
	r->max_peers = n;
	limits_set(r, c);
	r->tbl = rte_ip_frag_table_create(buckets, BUCKET_ENTRIES, c->flows, r->timeout, socket);
	/* The per-lcore cache may hold at most a fraction of the pool (rte_mempool). */
	r->pool = rte_pktmbuf_pool_create(name, c->pool_size,
			RTE_MIN((uint32_t)REASM_POOL_CACHE, c->pool_size / 4), 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (r->tbl != NULL && r->pool != NULL) {
		r->seg_max = rte_pktmbuf_data_room_size(r->pool) - RTE_PKTMBUF_HEADROOM;
		return r;
	}
	espgw_reasm_free(r);
	return NULL;
}

/* Fragments of a chain leave the table: no longer held by their peer. */
static uint32_t
release(struct espgw_reasm *r, const struct rte_mbuf *c)
{
	uint32_t n = 0;

	for (; c != NULL; c = c->next, n++)
		r->held[c->hash.usr]--;
	return n;
}

/*
 * Free what rte_ip_frag gave up, counted under why. Count segments, not
 * death-row slots: a reassembly that fails on a hole (overlapping middle
 * fragments whose lengths add up to the total) puts the fragments it had
 * chained so far on the row as one chain. Each fragment is one segment
 * (espgw_reasm_input copies it into one).
 */
static uint64_t
dr_flush(struct espgw_reasm *r, enum espgw_drop why)
{
	uint64_t n = 0;
	uint32_t i;

	if (r->dr.cnt == 0)
		return 0;
	for (i = 0; i < r->dr.cnt; i++)
		n += release(r, r->dr.row[i]);
	r->drops[why] += n;
	r->st.freed += n;
	rte_ip_frag_free_death_row(&r->dr, 0);
	return n;
}

/* The death row holds a limited number of fragments: empty it until the table is. */
/* Give up every packet held, counted under why. */
static void
flush_all(struct espgw_reasm *r, enum espgw_drop why)
{
	uint64_t before;

	do {
		before = espgw_reasm_pending(r);
		rte_ip_frag_table_del_expired_entries(r->tbl, &r->dr, UINT64_MAX);
		dr_flush(r, why);
	} while (espgw_reasm_pending(r) != 0 && espgw_reasm_pending(r) < before);
}

void
espgw_reasm_flush(struct espgw_reasm *r)
{
	flush_all(r, ESPGW_DROP_SHUTDOWN);
}

void
espgw_reasm_peers_set(struct espgw_reasm *r, const struct espgw_reasm_peers *peers)
{
	flush_all(r, ESPGW_DROP_REASM_RESET);
	memset(r->held, 0, r->max_peers * sizeof(r->held[0]));
	r->peers = peers;
	r->peer_max = peer_share(r->flows, espgw_reasm_peers_count(peers));
}

void
espgw_reasm_free(struct espgw_reasm *r)
{
	if (r == NULL)
		return;
	if (r->tbl != NULL) {
		espgw_reasm_flush(r);
		rte_ip_frag_table_destroy(r->tbl);
	}
	rte_mempool_free(r->pool);
	rte_free(r);
}

bool
espgw_reasm_is_esp_frag(const struct rte_mbuf *m, uint8_t proto)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	const struct rte_ipv6_fragment_ext *f;

	if (RTE_ETH_IS_IPV4_HDR(m->packet_type))
		return proto == ESP_PROTO &&
		       (m->packet_type & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_FRAG;
	if (proto != IPPROTO_FRAGMENT || m->l3_len != sizeof(struct rte_ipv6_hdr) ||
			m->data_len < m->l2_len + m->l3_len + sizeof(*f))
		return false;
	f = (const struct rte_ipv6_fragment_ext *)(l3 + m->l3_len);
	return f->next_header == ESP_PROTO;
}

/* One segment from pool holding the whole chain (ESP and fast-free TX need one). */
static struct rte_mbuf *
linearize(const struct rte_mbuf *c, struct rte_mempool *pool)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	const struct rte_mbuf *s;
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = c->pkt_len > UINT16_MAX ? NULL : (uint8_t *)rte_pktmbuf_append(m, (uint16_t)c->pkt_len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	for (s = c; s != NULL; p += s->data_len, s = s->next)
		memcpy(p, rte_pktmbuf_mtod(s, const void *), s->data_len);
	m->port = c->port;
	m->l2_len = c->l2_len;
	return m;
}

/* rte_ip_frag leaves the reassembled IPv4 header's checksum zero. */
static void
ipv4_cksum_fix(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);

	if ((ip->version_ihl >> 4) != 4)
		return;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* A finished chain: counted, copied into one segment (NULL: too big for one). */
static struct rte_mbuf *
done(struct espgw_reasm *r, struct rte_mbuf *c, struct rte_mempool *out)
{
	struct rte_mbuf *m;

	r->st.pkts++;
	r->st.merged += release(r, c);
	m = linearize(c, out);
	rte_pktmbuf_free(c);
	if (m == NULL) {
		r->drops[ESPGW_DROP_REASM_TOO_BIG]++;
		return NULL;
	}
	ipv4_cksum_fix(m);
	return m;
}

/*
 * RFC 6946 3: an atomic fragment (offset 0, M clear) is the whole packet;
 * remove its fragment header instead of waiting for fragments that never come.
 */
static bool
ipv6_atomic_strip(struct rte_mbuf *f, struct rte_ipv6_hdr *ip)
{
	struct rte_ipv6_fragment_ext *fh = (struct rte_ipv6_fragment_ext *)(ip + 1);
	uint8_t *p = rte_pktmbuf_mtod(f, uint8_t *);

	if ((rte_be_to_cpu_16(fh->frag_data) & RTE_IPV6_FRAG_USED_MASK) != 0)
		return false;
	ip->proto = fh->next_header;
	ip->payload_len = rte_cpu_to_be_16(rte_be_to_cpu_16(ip->payload_len) - sizeof(*fh));
	memmove(p + sizeof(*fh), p, f->l2_len + sizeof(*ip));
	rte_pktmbuf_adj(f, sizeof(*fh));
	return true;
}

static struct rte_mbuf *
frag_add(struct espgw_reasm *r, struct rte_mbuf *f, uint64_t tms)
{
	void *l3 = rte_pktmbuf_mtod_offset(f, void *, f->l2_len);
	struct rte_ipv6_hdr *ip6 = l3;

	if ((*(uint8_t *)l3 >> 4) == 4)
		return rte_ipv4_frag_reassemble_packet(r->tbl, &r->dr, f, tms, l3);
	if (ipv6_atomic_strip(f, ip6))
		return f;
	/* rte_ip_frag wants l3_len to cover the fragment header too. */
	f->l3_len = sizeof(*ip6) + sizeof(struct rte_ipv6_fragment_ext);
	return rte_ipv6_frag_reassemble_packet(
			r->tbl, &r->dr, f, tms, ip6, rte_ipv6_frag_get_ipv6_fragment_header(ip6));
}

/*
 * The peer m comes from, or -1 when it is not taken: only a peer's
 * fragments (anyone else's could never decrypt, and would hold the table
 * until given up), and only one that fits a segment (held one per segment;
 * a larger one could never be reassembled into one). Counted and freed when
 * not.
 */
static int
taken(struct espgw_reasm *r, struct rte_mbuf *m)
{
	int p = espgw_reasm_peer_of(
			r->peers, rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len));
	enum espgw_drop why;

	if (p < 0)
		why = ESPGW_DROP_REASM_NOT_PEER;
	else if (m->pkt_len > r->seg_max)
		why = ESPGW_DROP_REASM_TOO_BIG;
	else
		return p;
	r->drops[why]++;
	rte_pktmbuf_free(m);
	return -1;
}

/*
 * Give up the packets that started more than age cycles before tms (as if
 * their timeout were age), counted as evicted. The death row holds a
 * limited number of fragments: repeat while it makes progress.
 */
static void
give_up_older(struct espgw_reasm *r, uint64_t tms, uint64_t age)
{
	uint64_t n;

	do {
		rte_ip_frag_table_del_expired_entries(r->tbl, &r->dr, tms + r->timeout - age);
		n = dr_flush(r, ESPGW_DROP_REASM_FAILED);
		r->st.evicted += n;
	} while (n != 0);
}

/*
 * The table is full: give up the oldest packets until it is below the
 * high-water mark, halving the age from the pressure timeout down (at 0:
 * all that started before this burst). What arrives now completes, unless
 * newer fragments than its own fill the table before its last one comes.
 */
static void
give_up_oldest(struct espgw_reasm *r, uint64_t tms)
{
	uint64_t age = r->pressure;

	while (espgw_reasm_pending(r) >= r->high && age != 0) {
		age /= 2;
		give_up_older(r, tms, age);
	}
}

/*
 * Room for one more fragment of peer p, made by giving up older packets;
 * false (counted by the caller) when there is none. Near the limit, or with
 * p at its share, packets that took longer than the pressure timeout go
 * first: a peer's fragments arrive together (README). A peer at its share
 * is refused rather than making room at the others' expense.
 */
static bool
room_for(struct espgw_reasm *r, int p, uint64_t tms)
{
	if (espgw_reasm_pending(r) >= r->high || r->held[p] >= r->peer_max)
		give_up_older(r, tms, r->pressure);
	if (r->held[p] >= r->peer_max) {
		r->st.peer_full++;
		return false;
	}
	if (espgw_reasm_pending(r) >= r->max)
		give_up_oldest(r, tms);
	return espgw_reasm_pending(r) < r->max;
}

/* A fragment taken and given up at once (no room, no buffer). */
static struct rte_mbuf *
refuse(struct espgw_reasm *r, struct rte_mbuf *m)
{
	r->st.frags++;
	r->st.freed++;
	r->drops[ESPGW_DROP_REASM_FAILED]++;
	rte_pktmbuf_free(m);
	return NULL;
}

struct rte_mbuf *
espgw_reasm_input(struct espgw_reasm *r, struct rte_mbuf *m, uint64_t tms)
{
	struct rte_mempool *out = m->pool;
	struct rte_mbuf *f, *c;
	int p = taken(r, m);

	if (p < 0)
		return NULL;
	if (!room_for(r, p, tms))
		return refuse(r, m);
	f = rte_pktmbuf_copy(m, r->pool, 0, UINT32_MAX);
	if (f == NULL)
		return refuse(r, m);
	rte_pktmbuf_free(m);
	r->st.frags++;
	f->hash.usr = (uint32_t)p;
	r->held[p]++;
	c = frag_add(r, f, tms);
	dr_flush(r, ESPGW_DROP_REASM_FAILED);
	return c == NULL ? NULL : done(r, c, out);
}

void
espgw_reasm_tick(struct espgw_reasm *r, uint64_t tms)
{
	if (espgw_reasm_pending(r) == 0)
		return;
	rte_ip_frag_table_del_expired_entries(r->tbl, &r->dr, tms);
	dr_flush(r, ESPGW_DROP_REASM_FAILED);
}

const struct espgw_reasm_stats *
espgw_reasm_stats(const struct espgw_reasm *r)
{
	return &r->st;
}

uint64_t
espgw_reasm_pending(const struct espgw_reasm *r)
{
	return r->st.frags - r->st.merged - r->st.freed;
}
