/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK-level tests of fragmentation before encryption (espgw_frag4), the
 * reassembly of outer ESP fragments (espgw_reasm_*) and TCP MSS clamping
 * (espgw_mss_clamp), and the kept verdicts of stateful fragment checking
 * (espgw_fragstate_*), on an EAL without hugepages or NICs.
 *
 * Judges: the wire rules themselves, checked here with this file's own code:
 * RFC 791 3.2 (fragment offsets in 8-byte units, MF on all but the last,
 * payloads that put the datagram back together byte for byte), RFC 8200 4.5
 * (the IPv6 fragment header), RFC 1071 checksums computed independently of
 * DPDK (IPv4 header; TCP over the pseudo-header), RFC 9293 3.7.1 (the MSS
 * option). Reassembly's limits are checked by their exact drop counters.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "espgw_drop.h"
#include "espgw_esp.h"
#include "espgw_frag.h"
#include "espgw_fragstate.h"
#include "inet_sum.h"

#define ETH	 14
#define BIG_BUF	 (8192 + RTE_PKTMBUF_HEADROOM)
#define TIMEOUT	 100 /* ms, reassembly tests */
#define PRESSURE 10  /* ms: the timeout above the high-water mark */
#define FLOWS	 16  /* fragments held: high-water mark 12, 8 per peer of two */
#define ESP	 50
#define TCP	 6
#define FRAG6_HL 8
#define TH_SYN	 0x02 /* RFC 9293 3.1 */
#define TH_ACK	 0x10

static struct rte_mempool *pool;  /* big buffers: a 3000-byte datagram in one segment */
static struct rte_mempool *small; /* default buffers, like the RX pool */

static bool
ip4_cksum_ok(const uint8_t *ip)
{
	return cksum_ok(ip, (size_t)(ip[0] & 0xf) * 4);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* TCP checksum over the IPv4 or IPv6 pseudo-header (RFC 9293 3.1, RFC 8200 8.1). */
static bool
tcp_cksum_ok(const uint8_t *ip)
{
	uint32_t sum;
	const uint8_t *tcp;
	size_t len;

	if ((ip[0] >> 4) == 4) {
		len = be16(ip + 2) - (size_t)(ip[0] & 0xf) * 4;
		tcp = ip + (ip[0] & 0xf) * 4;
		sum = sum16(ip + 12, 8, 0) + TCP + (uint32_t)len;
	} else {
		len = be16(ip + 4);
		tcp = ip + 40;
		sum = sum16(ip + 8, 32, 0) + TCP + (uint32_t)len;
	}
	return fold(sum16(tcp, len, sum)) == 0xffff;
}

/* ---- packets ---- */

static struct rte_mbuf *
mbuf_of(struct rte_mempool *mp, const uint8_t *b, uint16_t len, uint16_t l2)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, len), b, len);
	m->l2_len = l2;
	m->port = 3;
	return m;
}

static void
ip4_hdr(uint8_t *ip, uint16_t tot, uint16_t id, uint16_t frag, uint8_t proto)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, tot);
	put16(ip + 4, id);
	put16(ip + 6, frag);
	ip[8] = 63;
	ip[9] = proto;
	memcpy(ip + 12, (const uint8_t[]){203, 0, 113, 1, 198, 51, 100, 1}, 8);
	put16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
}

static void
payload_fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/* An IPv4 datagram of tot bytes (UDP-like payload), flags/offset as given. */
static struct rte_mbuf *
dgram4(uint16_t tot, uint16_t frag, uint8_t *copy)
{
	static uint8_t b[8192];

	ip4_hdr(b, tot, 0x4242, frag, 17);
	payload_fill(b + 20, tot - 20u, 1);
	if (copy != NULL)
		memcpy(copy, b, tot);
	return mbuf_of(pool, b, tot, 0);
}

/* ---- espgw_frag4 ---- */

struct frags {
	struct rte_mbuf *f[ESPGW_FRAG_OUT_MAX];
	int n;
};

/* Every fragment: size, header fields, checksum; payloads rebuild orig from offset base. */
static void
frags_check(const struct frags *fr, uint16_t mtu, const uint8_t *orig, uint16_t tot, uint16_t base,
		bool last_mf)
{
	uint8_t rebuilt[8192];
	uint32_t next = base, plen;
	int i;

	for (i = 0; i < fr->n; i++) {
		const struct rte_mbuf *f = fr->f[i];
		const uint8_t *ip = rte_pktmbuf_mtod(f, const uint8_t *);
		uint16_t fo = be16(ip + 6);
		bool mf = (fo & RTE_IPV4_HDR_MF_FLAG) != 0;

		assert_int_equal(f->nb_segs, 1);
		assert_int_equal(f->l2_len, 0);
		assert_int_equal(f->l3_len, 20);
		assert_int_equal(f->port, 3);
		assert_true(RTE_ETH_IS_IPV4_HDR(f->packet_type));
		assert_true(rte_pktmbuf_pkt_len(f) <= mtu);
		assert_int_equal(be16(ip + 2), rte_pktmbuf_pkt_len(f));
		assert_true(ip4_cksum_ok(ip));
		assert_int_equal(be16(ip + 4), 0x4242); /* RFC 791: one ID for all */
		assert_int_equal(fo & RTE_IPV4_HDR_DF_FLAG, 0);
		assert_int_equal((uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * 8, next);
		assert_int_equal(mf, i < fr->n - 1 || last_mf);
		plen = rte_pktmbuf_pkt_len(f) - 20u;
		if (i < fr->n - 1)
			assert_int_equal(plen % 8, 0);
		memcpy(rebuilt + next - base, ip + 20, plen);
		next += plen;
	}
	assert_int_equal(next - base, tot - 20u);
	assert_memory_equal(rebuilt, orig + 20, tot - 20u);
}

static void
frags_free(struct frags *fr)
{
	rte_pktmbuf_free_bulk(fr->f, (unsigned int)fr->n);
}

/* A 3000-byte DF-clear datagram at an SA MTU of 1438: 1432 + 1432 + 136 bytes of payload. */
static void
test_frag4_sizes(void **state)
{
	static uint8_t orig[3000];
	struct frags fr;

	(void)state;
	fr.n = espgw_frag4(dgram4(3000, 0, orig), 1438, small, fr.f);
	assert_int_equal(fr.n, 3);
	assert_int_equal(rte_pktmbuf_pkt_len(fr.f[0]), 20 + 1416);
	assert_int_equal(rte_pktmbuf_pkt_len(fr.f[1]), 20 + 1416);
	assert_int_equal(rte_pktmbuf_pkt_len(fr.f[2]), 20 + 3000 - 20 - 2 * 1416);
	frags_check(&fr, 1438, orig, 3000, 0, false);
	frags_free(&fr);
	/* An exact fit at 8-byte payloads: 1420 = 20 + 1400. */
	fr.n = espgw_frag4(dgram4(2820, 0, orig), 1420, small, fr.f);
	assert_int_equal(fr.n, 2);
	frags_check(&fr, 1420, orig, 2820, 0, false);
	frags_free(&fr);
}

/* A fragment fragmented again keeps its offset, and its MF when it was not the last. */
static void
test_frag4_refragment(void **state)
{
	static uint8_t orig[1500];
	struct frags fr;

	(void)state;
	fr.n = espgw_frag4(dgram4(1500, RTE_IPV4_HDR_MF_FLAG | 185, orig), 1000, small, fr.f);
	assert_int_equal(fr.n, 2);
	frags_check(&fr, 1000, orig, 1500, 185 * 8, true);
	frags_free(&fr);
	fr.n = espgw_frag4(dgram4(1500, 185, orig), 1000, small, fr.f);
	assert_int_equal(fr.n, 2);
	frags_check(&fr, 1000, orig, 1500, 185 * 8, false);
	frags_free(&fr);
}

/* Refused (the caller drops it as frag_failed): DF set, an MTU below RFC 791's 68. */
static void
test_frag4_refused(void **state)
{
	struct rte_mbuf *m;
	struct frags fr;

	(void)state;
	m = dgram4(1500, RTE_IPV4_HDR_DF_FLAG, NULL);
	assert_int_equal(espgw_frag4(m, 1000, small, fr.f), -1);
	rte_pktmbuf_free(m);
	m = dgram4(1500, 0, NULL);
	assert_int_equal(espgw_frag4(m, 60, small, fr.f), -1);
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_in_use_count(small), 0);
}

/* ---- reassembly ---- */

#define PEER4 "203.0.113.1"	/* ip4_hdr's source */
#define PEER6 "2001:db8:200::1" /* frag6_frame's */

static struct {
	struct espgw_reasm *r;
	struct espgw_reasm_peers *peers;
	uint64_t drops[ESPGW_DROP_MAX];
	uint64_t t0, ms;
	uint8_t esp[4000]; /* the outer ESP packet (IP payload) being fragmented */
} rx;

/* A fresh table of flows fragments taking fragments from the first n of PEER4, PEER6. */
static void
reasm_make(unsigned int n, uint32_t flows)
{
	struct espgw_reasm_conf c = {.flows = flows,
			.timeout_ms = TIMEOUT,
			.pressure_ms = PRESSURE,
			.pool_size = 64};
	struct espgw_ip peer[2];

	espgw_reasm_free(rx.r);
	espgw_reasm_peers_free(rx.peers);
	assert_int_equal(espgw_ip_parse(PEER4, &peer[0]), 0);
	assert_int_equal(espgw_ip_parse(PEER6, &peer[1]), 0);
	rx.peers = espgw_reasm_peers_create(peer, n, SOCKET_ID_ANY);
	assert_non_null(rx.peers);
	memset(rx.drops, 0, sizeof(rx.drops));
	rx.r = espgw_reasm_create(&c, rx.peers, 0, "test_reasm", rx.drops, SOCKET_ID_ANY);
	assert_non_null(rx.r);
}

static int
reasm_setup(void **state)
{
	(void)state;
	rx.r = NULL;
	rx.peers = NULL;
	reasm_make(2, FLOWS);
	rx.ms = rte_get_tsc_hz() / 1000;
	rx.t0 = 1000 * rx.ms;
	payload_fill(rx.esp, sizeof(rx.esp), 9);
	return 0;
}

/* Every fragment taken is merged, freed (and counted) or pending; nothing leaks. */
static int
reasm_teardown(void **state)
{
	const struct espgw_reasm_stats *st = espgw_reasm_stats(rx.r);

	(void)state;
	assert_int_equal(st->frags, st->merged + st->freed + espgw_reasm_pending(rx.r));
	espgw_reasm_free(rx.r);
	espgw_reasm_peers_free(rx.peers);
	assert_int_equal(rte_mempool_in_use_count(small), 0);
	return 0;
}

/* An Ethernet frame with one IPv4 fragment of the ESP packet: bytes [off, off + len). */
static struct rte_mbuf *
frag4_frame(uint16_t id, uint16_t off, uint16_t len, bool mf, uint8_t proto)
{
	uint8_t b[ETH + 20 + 3000] = {0};
	struct rte_mbuf *m;

	b[12] = 0x08;
	ip4_hdr(b + ETH, (uint16_t)(20 + len), id,
			(uint16_t)((mf ? RTE_IPV4_HDR_MF_FLAG : 0) | off / 8), proto);
	memcpy(b + ETH + 20, rx.esp + off, len);
	/* Beyond one default buffer only in a big one (a jumbo frame a device scattered). */
	m = mbuf_of(len > 2000 ? pool : small, b, (uint16_t)(ETH + 20 + len), ETH);
	m->l3_len = 20;
	/* As pkt_parse leaves it: a fragment is marked in the packet type. */
	m->packet_type = RTE_PTYPE_L3_IPV4 | (mf || off != 0 ? RTE_PTYPE_L4_FRAG : 0);
	return m;
}

/* The same with an IPv6 fragment header (RFC 8200 4.5). */
static struct rte_mbuf *
frag6_frame(uint32_t id, uint16_t off, uint16_t len, bool mf, uint8_t nh)
{
	uint8_t b[ETH + 48 + 2048] = {0};
	uint8_t *ip = b + ETH, *fh = ip + 40;
	struct rte_mbuf *m;

	b[12] = 0x86;
	b[13] = 0xdd;
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(FRAG6_HL + len));
	ip[6] = IPPROTO_FRAGMENT;
	ip[7] = 63;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:200::1", ip + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:100::1", ip + 24), 1);
	fh[0] = nh;
	put16(fh + 2, (uint16_t)(off | (mf ? 1 : 0)));
	fh[4] = (uint8_t)(id >> 24);
	fh[5] = (uint8_t)(id >> 16);
	fh[6] = (uint8_t)(id >> 8);
	fh[7] = (uint8_t)id;
	memcpy(fh + FRAG6_HL, rx.esp + off, len);
	m = mbuf_of(small, b, (uint16_t)(ETH + 48 + len), ETH);
	m->l3_len = 40;
	m->packet_type = RTE_PTYPE_L3_IPV6;
	return m;
}

/* The fragment's source rewritten (an IPv4 header's checksum too). */
static struct rte_mbuf *
from(struct rte_mbuf *m, const char *src)
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);

	if ((ip[0] >> 4) == 4) {
		assert_int_equal(inet_pton(AF_INET, src, ip + 12), 1);
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
	} else {
		assert_int_equal(inet_pton(AF_INET6, src, ip + 8), 1);
	}
	return m;
}

static struct rte_mbuf *
feed(struct rte_mbuf *m, uint64_t ms)
{
	assert_true(espgw_reasm_is_esp_frag(m, (m->packet_type & RTE_PTYPE_L3_IPV4) ? ESP : 44));
	return espgw_reasm_input(rx.r, m, rx.t0 + ms * rx.ms);
}

/* The reassembled IPv4 packet: one segment, header fixed, the ESP bytes in order. */
static void
whole4_check(struct rte_mbuf *m, uint16_t id, uint16_t len)
{
	const uint8_t *ip;

	assert_non_null(m);
	ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, ETH);
	assert_int_equal(m->nb_segs, 1);
	assert_ptr_equal(m->pool, small);
	assert_int_equal(m->port, 3);
	assert_int_equal(rte_pktmbuf_pkt_len(m), ETH + 20 + len);
	assert_int_equal(be16(rte_pktmbuf_mtod(m, const uint8_t *) + 12), 0x0800);
	assert_int_equal(be16(ip + 2), 20 + len);
	assert_int_equal(be16(ip + 4), id);
	assert_int_equal(be16(ip + 6), 0);
	assert_int_equal(ip[9], ESP);
	assert_true(ip4_cksum_ok(ip));
	assert_memory_equal(ip + 20, rx.esp, len);
	rte_pktmbuf_free(m);
}

static void
test_reasm4_in_order(void **state)
{
	const struct espgw_reasm_stats *st = espgw_reasm_stats(rx.r);

	(void)state;
	assert_null(feed(frag4_frame(7, 0, 880, true, ESP), 0));
	assert_null(feed(frag4_frame(7, 880, 880, true, ESP), 1));
	assert_int_equal(espgw_reasm_pending(rx.r), 2);
	whole4_check(feed(frag4_frame(7, 1760, 100, false, ESP), 2), 7, 1860);
	assert_int_equal(st->frags, 3);
	assert_int_equal(st->pkts, 1);
	assert_int_equal(st->merged, 3);
	assert_int_equal(espgw_reasm_pending(rx.r), 0);
}

/* Last first, then the first, then the middle; two packets interleaved. */
static void
test_reasm4_out_of_order(void **state)
{
	(void)state;
	assert_null(feed(frag4_frame(8, 1200, 400, false, ESP), 0));
	assert_null(feed(frag4_frame(9, 800, 80, false, ESP), 0));
	assert_null(feed(frag4_frame(8, 0, 600, true, ESP), 1));
	whole4_check(feed(frag4_frame(9, 0, 800, true, ESP), 1), 9, 880);
	whole4_check(feed(frag4_frame(8, 600, 600, true, ESP), 2), 8, 1600);
	assert_int_equal(espgw_reasm_stats(rx.r)->pkts, 2);
	assert_int_equal(rx.drops[ESPGW_DROP_REASM_FAILED], 0);
}

/* A packet whose last fragment never comes is given up after the timeout, counted. */
static void
test_reasm4_timeout(void **state)
{
	(void)state;
	assert_null(feed(frag4_frame(10, 0, 800, true, ESP), 0));
	assert_null(feed(frag4_frame(10, 800, 800, true, ESP), 10));
	espgw_reasm_tick(rx.r, rx.t0 + (TIMEOUT - 1) * rx.ms);
	assert_int_equal(espgw_reasm_pending(rx.r), 2);
	espgw_reasm_tick(rx.r, rx.t0 + (TIMEOUT + 1) * rx.ms);
	assert_int_equal(espgw_reasm_pending(rx.r), 0);
	assert_int_equal(rx.drops[ESPGW_DROP_REASM_FAILED], 2);
	assert_int_equal(espgw_reasm_stats(rx.r)->freed, 2);
	/* The late last fragment starts a new packet that waits in vain as well. */
	assert_null(feed(frag4_frame(10, 1600, 80, false, ESP), TIMEOUT + 2));
	assert_int_equal(espgw_reasm_pending(rx.r), 1);
}

/* Overlapping fragments (RFC 5722 for IPv6, a teardrop for IPv4): the whole packet goes. */
static void
test_reasm4_overlap(void **state)
{
	(void)state;
	assert_null(feed(frag4_frame(11, 0, 800, true, ESP), 0));
	assert_null(feed(frag4_frame(11, 400, 800, true, ESP), 0));
	assert_null(feed(frag4_frame(11, 1200, 80, false, ESP), 0));
	assert_int_equal(espgw_reasm_pending(rx.r), 0);
	assert_int_equal(rx.drops[ESPGW_DROP_REASM_FAILED], 3);
	assert_int_equal(espgw_reasm_stats(rx.r)->pkts, 0);
}

/*
 * Middle fragments that overlap but whose lengths add up to the total: the
 * reassembly finds the hole only after it chained some of them, and gives up
 * that chain as one death-row entry. Every fragment is still counted once.
 */
static void
test_reasm4_hole_chain(void **state)
{
	(void)state;
	assert_null(feed(frag4_frame(15, 0, 400, true, ESP), 0));
	assert_null(feed(frag4_frame(15, 600, 400, true, ESP), 0));
	assert_null(feed(frag4_frame(15, 600, 200, true, ESP), 0));
	assert_null(feed(frag4_frame(15, 1000, 200, false, ESP), 0));
	assert_int_equal(espgw_reasm_pending(rx.r), 0);
	assert_int_equal(espgw_reasm_stats(rx.r)->freed, 4);
	assert_int_equal(rx.drops[ESPGW_DROP_REASM_FAILED], 4);
	assert_int_equal(espgw_reasm_stats(rx.r)->pkts, 0);
}

/*
 * At most RTE_LIBRTE_IP_FRAG_MAX_FRAG fragments per packet: exactly that many
 * still work; the one too many gives up all that came, and what comes later
 * starts over (and waits in vain).
 */
static void
test_reasm4_too_many(void **state)
{
	unsigned int i, max = RTE_LIBRTE_IP_FRAG_MAX_FRAG;

	(void)state;
	for (i = 0; i < max - 1; i++)
		assert_null(feed(frag4_frame(12, (uint16_t)(i * 64), 64, true, ESP), 0));
	whole4_check(feed(frag4_frame(12, (uint16_t)(i * 64), 8, false, ESP), 0), 12,
			(uint16_t)(i * 64 + 8));
	for (i = 0; i < max; i++)
		assert_null(feed(frag4_frame(13, (uint16_t)(i * 64), 64, true, ESP), 0));
	assert_int_equal(rx.drops[ESPGW_DROP_REASM_FAILED], max);
	assert_int_equal(espgw_reasm_pending(rx.r), 0);
	assert_null(feed(frag4_frame(13, (uint16_t)(i * 64), 8, false, ESP), 0));
	assert_int_equal(espgw_reasm_pending(rx.r), 1);
}

/* A reassembled packet that does not fit one mbuf of the RX pool is dropped, counted. */
static void
test_reasm4_too_big(void **state)
{
	(void)state;
	assert_null(feed(frag4_frame(14, 0, 1480, true, ESP), 0));
	assert_null(feed(frag4_frame(14, 1480, 1480, false, ESP), 0));
	assert_int_equal(rx.drops[ESPGW_DROP_REASM_TOO_BIG], 1);
	assert_int_equal(espgw_reasm_stats(rx.r)->pkts, 1);
	assert_int_equal(espgw_reasm_stats(rx.r)->merged, 2);
}

/* A fragment larger than one reassembly buffer is refused before it is held. */
static void
test_reasm4_frag_too_big(void **state)
{
	(void)state;
	assert_null(feed(frag4_frame(16, 0, 2400, true, ESP), 0));
	assert_int_equal(rx.drops[ESPGW_DROP_REASM_TOO_BIG], 1);
	assert_int_equal(espgw_reasm_stats(rx.r)->frags, 0);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/* At shutdown everything pending is given up, counted as such. */
static void
test_reasm4_flush(void **state)
{
	uint16_t id;

	(void)state;
	for (id = 20; id < 24; id++)
		assert_null(feed(frag4_frame(id, 0, 64, true, ESP), id));
	espgw_reasm_flush(rx.r);
	assert_int_equal(espgw_reasm_pending(rx.r), 0);
	assert_int_equal(rx.drops[ESPGW_DROP_SHUTDOWN], 4);
	assert_int_equal(espgw_drop_total(rx.drops), 4);
}

/*
 * The limits, case by case: a table of FLOWS fragments (high-water mark 12)
 * with one or two peers (a share of 8 each with two) takes `fill` first
 * fragments from PEER4, `step` us apart from 0, then a whole packet in two
 * fragments from `from` at `at` us. Exact outcome: whether that packet
 * completes, how many fragments were given up early (evicted) or refused
 * (their peer at its share), and how many stay pending.
 */
struct limit_case {
	const char *name;
	unsigned int peers;
	uint32_t fill, step, at;
	const char *from;
	bool whole;
	uint64_t evicted, peer_full, pending;
};

static const struct limit_case limit_cases[] = {
		/* Below the high-water mark the timeout is the normal one: nothing goes. */
		{"below high-water", 1, 10, 1000, 50000, PEER4, true, 0, 0, 10},
		/* From it, packets older than the pressure timeout (10 ms) go: 0..4 ms. */
		{"pressure timeout", 1, 12, 1000, 15000, PEER4, true, 5, 0, 7},
		/*
		 * Full, all younger than the pressure timeout: the oldest go, by
		 * halving ages (older than 1.25 ms: 0..300 us, then older than
		 * 625 us: 400..900 us) until below the high-water mark; the 6
		 * newest and the packet arriving stay.
		 */
		{"full keeps the newest", 1, 16, 100, 1600, PEER4, true, 10, 0, 6},
		/* Everything started before this burst goes rather than the new packet. */
		{"full, all of one instant", 1, 16, 0, 1, PEER4, true, 16, 0, 0},
		/* A peer at its share is refused; the other peer keeps its room. */
		{"peer at its share", 2, 8, 1000, 9000, PEER4, false, 0, 2, 8},
		{"other peer unharmed", 2, 8, 1000, 9000, PEER6, true, 0, 0, 8},
		/* Its older packets go first (pressure timeout): 0..4 ms. */
		{"peer share, pressure", 2, 8, 1000, 15000, PEER4, true, 5, 0, 3},
		/* With one peer there is no share: the table is its own. */
		{"one peer, no share", 1, 8, 1000, 9000, PEER4, true, 0, 0, 8},
};

static uint64_t
us(uint32_t t)
{
	return rx.t0 + rx.ms * t / 1000;
}

static void
limit_run(const struct limit_case *lc)
{
	const struct espgw_reasm_stats *st;
	struct rte_mbuf *a, *b, *m;
	uint32_t i;

	reasm_make(lc->peers, FLOWS);
	st = espgw_reasm_stats(rx.r);
	for (i = 0; i < lc->fill; i++)
		assert_null(espgw_reasm_input(rx.r,
				frag4_frame((uint16_t)(100 + i), 0, 64, true, ESP),
				us(i * lc->step)));
	if (strchr(lc->from, ':') == NULL) {
		a = frag4_frame(7, 0, 800, true, ESP);
		b = frag4_frame(7, 800, 100, false, ESP);
	} else {
		a = frag6_frame(7, 0, 800, true, ESP);
		b = frag6_frame(7, 800, 100, false, ESP);
	}
	assert_null(espgw_reasm_input(rx.r, from(a, lc->from), us(lc->at)));
	m = espgw_reasm_input(rx.r, from(b, lc->from), us(lc->at));
	assert_true((m != NULL) == lc->whole);
	rte_pktmbuf_free(m);
	assert_int_equal(st->evicted, lc->evicted);
	assert_int_equal(st->peer_full, lc->peer_full);
	assert_int_equal(espgw_reasm_pending(rx.r), lc->pending);
	assert_int_equal(st->freed, lc->evicted + lc->peer_full);
	assert_int_equal(rx.drops[ESPGW_DROP_REASM_FAILED], st->freed);
	assert_int_equal(espgw_drop_total(rx.drops), st->freed);
	assert_int_equal(st->pkts, lc->whole);
}

static void
test_reasm_limits(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < RTE_DIM(limit_cases); i++) {
		print_message("  %s\n", limit_cases[i].name);
		limit_run(&limit_cases[i]);
	}
}

static void
test_reasm6(void **state)
{
	struct rte_mbuf *m;
	const uint8_t *ip;

	(void)state;
	assert_null(feed(frag6_frame(0x01020304, 1232, 500, false, ESP), 0));
	m = feed(frag6_frame(0x01020304, 0, 1232, true, ESP), 1);
	assert_non_null(m);
	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(rte_pktmbuf_pkt_len(m), ETH + 40 + 1732);
	ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, ETH);
	assert_int_equal(be16(ip + 4), 1732); /* the fragment header is gone */
	assert_int_equal(ip[6], ESP);
	assert_memory_equal(ip + 40, rx.esp, 1732);
	rte_pktmbuf_free(m);
}

/* RFC 6946: an atomic fragment (offset 0, M clear) is a whole packet at once. */
static void
test_reasm6_atomic(void **state)
{
	struct rte_mbuf *m;
	const uint8_t *ip;

	(void)state;
	m = feed(frag6_frame(5, 0, 300, false, ESP), 0);
	assert_non_null(m);
	ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, ETH);
	assert_int_equal(be16(rte_pktmbuf_mtod(m, const uint8_t *) + 12), 0x86dd);
	assert_int_equal(be16(ip + 4), 300);
	assert_int_equal(ip[6], ESP);
	assert_memory_equal(ip + 40, rx.esp, 300);
	rte_pktmbuf_free(m);
}

/* An IP header (l3) with source src, as espgw_reasm_peer_of reads it. */
static int
peer_of(const char *src)
{
	uint8_t l3[40] = {0};

	if (strchr(src, ':') == NULL) {
		l3[0] = 0x45;
		assert_int_equal(inet_pton(AF_INET, src, l3 + 12), 1);
	} else {
		l3[0] = 0x60;
		assert_int_equal(inet_pton(AF_INET6, src, l3 + 8), 1);
	}
	return espgw_reasm_peer_of(rx.peers, l3);
}

/* Duplicates merged, each peer its own index below the count, nobody else found. */
static void
test_reasm_peers(void **state)
{
	static const char *const peers[] = {"192.0.2.9", "203.0.113.1", "192.0.2.1", "203.0.113.1",
			"2001:db8:200::2", "2001:db8:200::1", "2001:db8:200::2", "10.0.0.1"};
	static const char *const others[] = {"192.0.2.2", "203.0.113.0", "0.0.0.0",
			"2001:db8:200::", "::ffff:203.0.113.1", "::", "2001:db8:200::3"};
	struct espgw_ip ip[RTE_DIM(peers)];
	bool seen[RTE_DIM(peers)] = {false};
	unsigned int i;

	(void)state;
	for (i = 0; i < RTE_DIM(peers); i++)
		assert_int_equal(espgw_ip_parse(peers[i], &ip[i]), 0);
	espgw_reasm_peers_free(rx.peers);
	rx.peers = espgw_reasm_peers_create(ip, RTE_DIM(ip), SOCKET_ID_ANY);
	assert_non_null(rx.peers);
	assert_int_equal(espgw_reasm_peers_count(rx.peers), 6);
	for (i = 0; i < RTE_DIM(peers); i++) {
		int k = peer_of(peers[i]);

		assert_in_range(k, 0, 5);
		seen[k] = true;
	}
	for (i = 0; i < 6; i++)
		assert_true(seen[i]);
	for (i = 0; i < RTE_DIM(others); i++)
		assert_int_equal(peer_of(others[i]), -1);
}

/* A gateway without inbound SAs has no peer: every fragment is refused. */
static void
test_reasm_no_peers(void **state)
{
	(void)state;
	espgw_reasm_peers_free(rx.peers);
	rx.peers = espgw_reasm_peers_create(NULL, 0, SOCKET_ID_ANY);
	assert_non_null(rx.peers);
	assert_int_equal(peer_of(PEER4), -1);
	assert_int_equal(peer_of(PEER6), -1);
}

/*
 * Fragments are taken from the peers only (the remote addresses of the
 * inbound SAs); anyone else's are dropped before they are held, IPv6 atomic
 * fragments included.
 */
static void
test_reasm_not_peer(void **state)
{
	static const struct {
		const char *src;
		bool v6, atomic, taken;
	} cases[] = {
			{PEER4, false, false, true},
			{"203.0.113.2", false, false, false},
			{"192.0.2.1", false, false, false},
			{PEER6, true, false, true},
			{"2001:db8:200::2", true, false, false},
			{"::ffff:203.0.113.1", true, false, false},
			{"2001:db8:200::3", true, true, false},
	};
	uint64_t taken = 0, refused = 0;
	unsigned int i;

	(void)state;
	for (i = 0; i < RTE_DIM(cases); i++) {
		uint16_t id = (uint16_t)(40 + i);
		struct rte_mbuf *m = cases[i].v6 ? frag6_frame(id, 0, 64, !cases[i].atomic, ESP)
						 : frag4_frame(id, 0, 64, true, ESP);

		assert_null(feed(from(m, cases[i].src), 0));
		taken += cases[i].taken;
		refused += !cases[i].taken;
		assert_int_equal(espgw_reasm_pending(rx.r), taken);
		assert_int_equal(espgw_reasm_stats(rx.r)->frags, taken);
		assert_int_equal(rx.drops[ESPGW_DROP_REASM_NOT_PEER], refused);
	}
	assert_int_equal(espgw_drop_total(rx.drops), refused);
}

/* Only ESP fragments are reassembled; whole ESP packets and other fragments are not. */
static void
test_reasm_which(void **state)
{
	struct rte_mbuf *m[4];
	unsigned int i;

	(void)state;
	m[0] = frag4_frame(30, 0, 64, false, ESP); /* not a fragment */
	m[1] = frag4_frame(31, 0, 64, true, 17);   /* a UDP fragment */
	m[2] = frag6_frame(32, 0, 64, true, 17);   /* an IPv6 UDP fragment */
	m[3] = frag6_frame(33, 0, 64, true, ESP);
	assert_false(espgw_reasm_is_esp_frag(m[0], ESP));
	assert_false(espgw_reasm_is_esp_frag(m[1], 17));
	assert_false(espgw_reasm_is_esp_frag(m[2], 44));
	assert_true(espgw_reasm_is_esp_frag(m[3], 44));
	m[3]->l3_len = 48; /* a header between the fixed one and the fragment header */
	assert_false(espgw_reasm_is_esp_frag(m[3], 44));
	for (i = 0; i < RTE_DIM(m); i++)
		rte_pktmbuf_free(m[i]);
}

/* ---- a flood in simulated time ---- */

/*
 * Legitimate packets from a peer (two fragments SIM_SPREAD_US apart, one
 * packet every SIM_LEGIT_US, IDs counting up as senders' do) among spoofed
 * 16-byte first fragments from PEER4's address at a given rate with random
 * IDs (a blind spoofer), on a simulated clock, through a table configured as
 * the daemon's but for the timeouts under test: how many legitimate packets
 * complete. The legitimate packets come from PEER4 itself, the only peer
 * (SIM_SAME), or from PEER4 or a second peer when there are two (SIM_SPOOFED,
 * SIM_OTHER).
 */
#define SIM_PEER_B    "203.0.113.2"
#define SIM_LEGIT_US  200
#define SIM_SPREAD_US 50

enum sim_mode { SIM_SAME, SIM_SPOOFED, SIM_OTHER };

static const char *const sim_mode_name[] = {"one peer", "spoofed peer of two", "other peer of two"};

struct sim {
	uint32_t rate; /* spoofed fragments per second */
	uint32_t timeout_ms, pressure_ms;
	enum sim_mode mode;
	uint32_t ms; /* simulated time */
	uint32_t sent, whole;
	uint64_t evicted, peer_full;
};

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint64_t
sim_cycles(uint64_t ns)
{
	return rx.t0 + ns * rx.ms / 1000000;
}

static struct espgw_reasm *
sim_reasm(const struct sim *sm, struct espgw_reasm_peers **peers, uint64_t *drops)
{
	struct espgw_reasm_conf c;
	struct espgw_ip ip[2];

	espgw_reasm_conf_default(&c);
	c.timeout_ms = sm->timeout_ms;
	c.pressure_ms = sm->pressure_ms;
	assert_int_equal(espgw_ip_parse(PEER4, &ip[0]), 0);
	assert_int_equal(espgw_ip_parse(SIM_PEER_B, &ip[1]), 0);
	*peers = espgw_reasm_peers_create(ip, sm->mode == SIM_SAME ? 1 : 2, SOCKET_ID_ANY);
	assert_non_null(*peers);
	return espgw_reasm_create(&c, *peers, 0, "test_reasm_sim", drops, SOCKET_ID_ANY);
}

/* One fragment at ns; counts a legitimate packet that completes. */
static void
sim_feed(struct espgw_reasm *r, struct sim *sm, struct rte_mbuf *m, uint64_t ns)
{
	struct rte_mbuf *whole;

	espgw_reasm_tick(r, sim_cycles(ns)); /* as the worker does every loop */
	whole = espgw_reasm_input(r, m, sim_cycles(ns));
	if (whole != NULL) {
		sm->whole++;
		rte_pktmbuf_free(whole);
	}
}

static void
sim_run(struct sim *sm)
{
	uint64_t drops[ESPGW_DROP_MAX] = {0}, x = 0x9e3779b97f4a7c15ull;
	uint64_t end = sm->ms * 1000000ull, step = 1000000000ull / sm->rate;
	uint64_t spoof = 0, legit = 0, second = UINT64_MAX;
	const char *src = sm->mode == SIM_OTHER ? SIM_PEER_B : PEER4;
	const struct espgw_reasm_stats *st;
	struct espgw_reasm_peers *peers;
	struct espgw_reasm *r = sim_reasm(sm, &peers, drops);
	uint16_t id = (uint16_t)xorshift(&x);

	assert_non_null(r);
	while (legit < end || second != UINT64_MAX) {
		if (second <= spoof && second <= legit) {
			sim_feed(r, sm, from(frag4_frame(id++, 800, 100, false, ESP), src), second);
			second = UINT64_MAX;
		} else if (legit < end && legit <= spoof) {
			sim_feed(r, sm, from(frag4_frame(id, 0, 800, true, ESP), src), legit);
			sm->sent++;
			second = legit + SIM_SPREAD_US * 1000;
			legit += SIM_LEGIT_US * 1000;
		} else {
			sim_feed(r, sm, frag4_frame((uint16_t)xorshift(&x), 0, 16, true, ESP),
					spoof);
			spoof += step;
		}
	}
	st = espgw_reasm_stats(r);
	sm->evicted = st->evicted;
	sm->peer_full = st->peer_full;
	assert_int_equal(st->frags, st->merged + st->freed + espgw_reasm_pending(r));
	assert_int_equal(st->pkts, sm->whole);
	assert_int_equal(espgw_drop_total(drops), st->freed);
	espgw_reasm_free(r);
	espgw_reasm_peers_free(peers);
	print_message("  %7u/s spoofed, timeout %4u ms, pressure %3u ms, %-19s %5.1f%% (%u) of %u "
		      "(evicted %" PRIu64 ", refused %" PRIu64 ")\n",
			sm->rate, sm->timeout_ms, sm->pressure_ms, sim_mode_name[sm->mode],
			100.0 * sm->whole / sm->sent, sm->whole, sm->sent, sm->evicted,
			sm->peer_full);
}

/*
 * The daemon's timeouts (250 ms, 10 ms under pressure) against floods from
 * the audit's (2048 spoofed fragments a second, about 1 Mbit/s: the table
 * used to be pinned by it) to a million a second. Legitimate packets are
 * lost when a spoofed fragment still in the table took their ID (RFC 4963:
 * up to 4096 of the 65536 IDs at the highest rates), and the spoofed peer's
 * when its share is full of fragments younger than the pressure timeout
 * (share / pressure: 2048 / 10 ms, about 200,000 a second with two peers).
 */
static const struct {
	uint32_t rate;
	enum sim_mode mode;
	uint32_t min_permille;
} sim_cases[] = {
		{2048, SIM_SAME, 990},
		{131072, SIM_SAME, 940},
		{1048576, SIM_SAME, 920},
		{2048, SIM_SPOOFED, 990},
		{131072, SIM_SPOOFED, 950},
		{1048576, SIM_OTHER, 1000},
};

static void
test_reasm_flood(void **state)
{
	struct espgw_reasm_conf c;
	unsigned int i;

	(void)state;
	espgw_reasm_conf_default(&c);
	for (i = 0; i < RTE_DIM(sim_cases); i++) {
		struct sim sm = {.rate = sim_cases[i].rate,
				.timeout_ms = c.timeout_ms,
				.pressure_ms = c.pressure_ms,
				.mode = sim_cases[i].mode,
				.ms = 1000};

		sim_run(&sm);
		assert_true(sm.whole * 1000ull >= sm.sent * sim_cases[i].min_permille);
	}
}

/* README's table: every rate, timeout and mode (ESPGW_REASM_SWEEP=1; 15 s or so). */
static void
test_reasm_sweep(void **state)
{
	static const uint32_t rates[] = {2048, 16384, 131072, 1048576};
	static const uint32_t timeouts[][2] = {
			{2000, 2000}, {2000, 20}, {250, 20}, {250, 10}, {100, 10}};
	unsigned int i, j, k;

	(void)state;
	if (getenv("ESPGW_REASM_SWEEP") == NULL)
		skip();
	for (k = SIM_SAME; k <= SIM_OTHER; k++)
		for (j = 0; j < RTE_DIM(timeouts); j++)
			for (i = 0; i < RTE_DIM(rates); i++) {
				struct sim sm = {.rate = rates[i],
						.timeout_ms = timeouts[j][0],
						.pressure_ms = timeouts[j][1],
						.mode = k,
						.ms = RTE_MAX(1000u, 2 * timeouts[j][0])};

				sim_run(&sm);
			}
}

/* ---- TCP MSS clamping ---- */

/* A TCP segment in an Ethernet frame: flags, then the options as given. */
static struct rte_mbuf *
tcp_frame(int family, uint8_t flags, const uint8_t *opt, uint8_t opt_len)
{
	uint8_t b[ETH + 40 + 60] = {0};
	uint8_t *ip = b + ETH, *tcp;
	uint16_t l3 = family == 4 ? 20 : 40, len = (uint16_t)(20 + opt_len);
	uint32_t sum;

	b[12] = family == 4 ? 0x08 : 0x86;
	b[13] = family == 4 ? 0x00 : 0xdd;
	if (family == 4) {
		ip4_hdr(ip, (uint16_t)(20 + len), 1, 0, TCP);
	} else {
		ip[0] = 0x60;
		put16(ip + 4, len);
		ip[6] = TCP;
		ip[7] = 64;
		assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::10", ip + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, "2001:db8:2::5", ip + 24), 1);
	}
	tcp = ip + l3;
	put16(tcp, 40001);
	put16(tcp + 2, 443);
	tcp[7] = 1; /* sequence number */
	tcp[12] = (uint8_t)((len / 4) << 4);
	tcp[13] = flags;
	put16(tcp + 14, 64240);
	memcpy(tcp + 20, opt, opt_len);
	sum = family == 4 ? sum16(ip + 12, 8, 0) : sum16(ip + 8, 32, 0);
	put16(tcp + 16, (uint16_t)~fold(sum16(tcp, len, sum + TCP + len)));
	return mbuf_of(small, b, (uint16_t)(ETH + l3 + len), ETH);
}

static uint16_t
mss_of(const struct rte_mbuf *m, unsigned int at)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	unsigned int l3 = (ip[0] >> 4) == 4 ? 20 : 40;

	return be16(ip + l3 + 20 + at + 2);
}

static void
clamp_case(int family, uint8_t flags, const uint8_t *opt, uint8_t len, unsigned int at,
		uint16_t mss, bool change, uint16_t want)
{
	struct rte_mbuf *m = tcp_frame(family, flags, opt, len);

	assert_int_equal(espgw_mss_clamp(m, mss), change);
	assert_int_equal(mss_of(m, at), want);
	assert_true(tcp_cksum_ok(rte_pktmbuf_mtod_offset(m, const uint8_t *, ETH)));
	rte_pktmbuf_free(m);
}

/* Linux's SYN options: MSS, SACK permitted, timestamps, NOP, window scale. */
static const uint8_t syn_opts[20] = {
		2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
/* The MSS option after one NOP: its value straddles two checksum words. */
static const uint8_t odd_opts[8] = {1, 2, 4, 0x23, 0x28, 1, 1, 0};

static void
test_mss_clamp(void **state)
{
	(void)state;
	clamp_case(4, TH_SYN, syn_opts, 20, 0, 1360, true, 1360);
	clamp_case(4, TH_SYN | TH_ACK, syn_opts, 20, 0, 1400, true, 1400);
	clamp_case(6, TH_SYN, syn_opts, 20, 0, 1340, true, 1340);
	/* Odd offset: 9000 -> 1379, a value whose bytes both change. */
	clamp_case(4, TH_SYN, odd_opts, 8, 1, 1379, true, 1379);
	clamp_case(6, TH_SYN, odd_opts, 8, 1, 1379, true, 1379);
	/* Never raised; not a SYN; no MSS option: untouched. */
	clamp_case(4, TH_SYN, syn_opts, 20, 0, 1500, false, 1460);
	clamp_case(4, TH_ACK, syn_opts, 20, 0, 1000, false, 1460);
	clamp_case(4, TH_SYN, syn_opts + 4, 16, 0, 1000, false, 0x080a);
}

/* Malformed options never make it read or write beyond the header. */
static void
test_mss_malformed(void **state)
{
	static const uint8_t zero_len[8] = {3, 0, 2, 4, 0x05, 0xb4, 0, 0};
	static const uint8_t past_end[4] = {1, 1, 2, 4}; /* MSS value outside the header */
	static const uint8_t eol_first[8] = {0, 0, 0, 0, 2, 4, 0x05, 0xb4};

	(void)state;
	clamp_case(4, TH_SYN, zero_len, 8, 2, 1000, false, 1460);
	clamp_case(4, TH_SYN, eol_first, 8, 4, 1000, false, 1460);
	{
		struct rte_mbuf *m = tcp_frame(4, TH_SYN, past_end, 4);

		assert_false(espgw_mss_clamp(m, 1000));
		rte_pktmbuf_free(m);
	}
}

/*
 * Kept fragment verdicts (RFC 4301 7.3, espgw_fragstate.h): one datagram's
 * key through two SAs is two entries, so another SA's first fragment can
 * neither void nor lend a verdict; the same SA's disagreeing first fragments
 * leave none; directions are apart; state ends with its timeout.
 */
#define FS_MS	 100
#define FS_SA	 3
#define FS_OTHER 4
#define FS_NO_SA UINT32_MAX /* what stage_outbound_again gives clear packets */
#define FS_GOOD	 0x11
#define FS_BAD	 0x22

static bool
fs_has(const struct espgw_fragstate *fs, enum espgw_fragstate_dir d, uint32_t sa,
		const struct espgw_spd_key4 *k4, const struct espgw_spd_key6 *k6, uint64_t now,
		uint32_t *v)
{
	return k4 != NULL ? espgw_fragstate_get4(fs, d, sa, k4, now, v)
			  : espgw_fragstate_get6(fs, d, sa, k6, now, v);
}

static void
fs_put(struct espgw_fragstate *fs, enum espgw_fragstate_dir d, uint32_t sa,
		const struct espgw_spd_key4 *k4, const struct espgw_spd_key6 *k6, uint32_t v,
		uint64_t now)
{
	if (k4 != NULL)
		espgw_fragstate_put4(fs, d, sa, k4, v, now);
	else
		espgw_fragstate_put6(fs, d, sa, k6, v, now);
}

static void
fs_check(const struct espgw_spd_key4 *k4, const struct espgw_spd_key6 *k6)
{
	struct espgw_fragstate *fs = espgw_fragstate_create(64, FS_MS, SOCKET_ID_ANY);
	uint64_t now = rte_get_tsc_cycles(), ttl = rte_get_tsc_hz() / 1000 * FS_MS;
	uint32_t v = 0;

	assert_non_null(fs);
	fs_put(fs, ESPGW_FS_INNER, FS_SA, k4, k6, FS_GOOD, now);
	assert_true(fs_has(fs, ESPGW_FS_INNER, FS_SA, k4, k6, now, &v));
	assert_int_equal(v, FS_GOOD);
	/* Another SA: no verdict to take, and its own disagreeing one voids nothing. */
	assert_false(fs_has(fs, ESPGW_FS_INNER, FS_OTHER, k4, k6, now, &v));
	fs_put(fs, ESPGW_FS_INNER, FS_OTHER, k4, k6, FS_BAD, now);
	assert_true(fs_has(fs, ESPGW_FS_INNER, FS_SA, k4, k6, now, &v));
	assert_int_equal(v, FS_GOOD);
	assert_true(fs_has(fs, ESPGW_FS_INNER, FS_OTHER, k4, k6, now, &v));
	assert_int_equal(v, FS_BAD);
	/* Back out of the WAN: decrypted and clear apart; other directions apart. */
	fs_put(fs, ESPGW_FS_AGAIN, FS_NO_SA, k4, k6, FS_BAD, now);
	assert_false(fs_has(fs, ESPGW_FS_AGAIN, FS_SA, k4, k6, now, &v));
	assert_false(fs_has(fs, ESPGW_FS_IN, 0, k4, k6, now, &v));
	assert_false(fs_has(fs, ESPGW_FS_OUT, 0, k4, k6, now, &v));
	/* One SA, two first fragments that disagree: no verdict for either. */
	fs_put(fs, ESPGW_FS_INNER, FS_SA, k4, k6, FS_BAD, now);
	assert_false(fs_has(fs, ESPGW_FS_INNER, FS_SA, k4, k6, now, &v));
	/* The timeout. */
	assert_true(fs_has(fs, ESPGW_FS_AGAIN, FS_NO_SA, k4, k6, now + ttl - 1, &v));
	assert_false(fs_has(fs, ESPGW_FS_AGAIN, FS_NO_SA, k4, k6, now + ttl, &v));
	espgw_fragstate_free(fs);
}

static void
test_fragstate_per_sa(void **state)
{
	struct espgw_spd_key4 k4 = {.proto = 17, .frag = ESPGW_SPD_FRAG_FIRST, .frag_id = 0x7777};
	struct espgw_spd_key6 k6 = {.proto = 17, .frag = ESPGW_SPD_FRAG_FIRST, .frag_id = 0x7777};

	(void)state;
	k4.src = htonl(0x0a030005);
	k4.dst = htonl(0x0a01000a);
	k6.src[0] = 0x20;
	k6.src[15] = 5;
	k6.dst[0] = 0x20;
	k6.dst[15] = 10;
	fs_check(&k4, NULL);
	fs_check(NULL, &k6);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest frag[] = {
			cmocka_unit_test(test_frag4_sizes),
			cmocka_unit_test(test_frag4_refragment),
			cmocka_unit_test(test_frag4_refused),
	};
	const struct CMUnitTest reasm[] = {
			cmocka_unit_test_setup_teardown(
					test_reasm4_in_order, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm4_out_of_order, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm4_timeout, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm4_overlap, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm4_hole_chain, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm4_too_many, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm4_too_big, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm4_frag_too_big, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm4_flush, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm_limits, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm_flood, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm_sweep, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(test_reasm6, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm6_atomic, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm_which, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm_peers, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm_no_peers, reasm_setup, reasm_teardown),
			cmocka_unit_test_setup_teardown(
					test_reasm_not_peer, reasm_setup, reasm_teardown),
	};
	const struct CMUnitTest mss[] = {
			cmocka_unit_test(test_mss_clamp),
			cmocka_unit_test(test_mss_malformed),
	};
	const struct CMUnitTest fstate[] = {
			cmocka_unit_test(test_fragstate_per_sa),
	};
	int fails;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("test_frag_big", 64, 0, 0, BIG_BUF, SOCKET_ID_ANY);
	small = rte_pktmbuf_pool_create(
			"test_frag", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL || small == NULL)
		return 1;
	fails = cmocka_run_group_tests_name("fragmentation", frag, NULL, NULL);
	fails += cmocka_run_group_tests_name("reassembly", reasm, NULL, NULL);
	fails += cmocka_run_group_tests_name("mss clamp", mss, NULL, NULL);
	fails += cmocka_run_group_tests_name("fragment state", fstate, NULL, NULL);
	return fails != 0;
}
