/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-path tests on a real EAL (lib/host): the gateway as an IP host,
 * answering on its links and, for packets that came out of a tunnel, through
 * the injection ring into the outbound path (read back here).
 * Two net_ring ports stand for the LAN and WAN links; what the control path
 * transmits is read back from each port's control TX queue's ring. The clock is a
 * parameter, so retries and aging run in simulated milliseconds.
 *
 * Judges: the exact frames (ARP reply, NA, echo replies, ARP request, NS) were
 * generated with scapy 2.5 from the expressions below; checksums of ICMP
 * errors are verified with this file's own RFC 1071 sum, not DPDK's.
 *
 *   LAN = 02:00:00:00:01:01 (10.1.0.1/24, 2001:db8:1::1/64)
 *   WAN = 02:00:00:00:02:01 (198.51.100.1/24, 2001:db8:100::1/64)
 *   A   = 02:aa:00:00:00:10 (10.1.0.10, 2001:db8:1::10), pl = b"espgw-ping-0123456789"
 *   arp_req_in:      Ether(dst=bcast, src=A)/ARP(op=1, hwsrc=A, psrc=10.1.0.10, pdst=10.1.0.1)
 *   arp_reply_out:   Ether(dst=A, src=LAN)/ARP(op=2, hwsrc=LAN, psrc=10.1.0.1, hwdst=A,
 *                    pdst=10.1.0.10)
 *   ns_in:           Ether(dst=33:33:ff:00:00:01, src=A)/IPv6(src=2001:db8:1::10,
 *                    dst=ff02::1:ff00:1, hlim=255)/ICMPv6ND_NS(tgt=2001:db8:1::1)
 *                    /ICMPv6NDOptSrcLLAddr(lladdr=A)
 *   na_out:          Ether(dst=A, src=LAN)/IPv6(src=2001:db8:1::1, dst=2001:db8:1::10,
 *                    hlim=255)/ICMPv6ND_NA(R=1, S=1, O=1, tgt=2001:db8:1::1)
 *                    /ICMPv6NDOptDstLLAddr(lladdr=LAN)
 *   echo4_in/out:    IP(10.1.0.10 -> 10.1.0.1, ttl=61, id=0x1234, DF)/ICMP(8, id=7, seq=1)/pl,
 *                    reply IP(10.1.0.1 -> 10.1.0.10, ttl=64, id=0x1234, DF)/ICMP(0, ...)/pl
 *   echo6_in/out:    IPv6(2001:db8:1::10 -> 2001:db8:1::1, hlim=61)/ICMPv6EchoRequest(id=7,
 *                    seq=1, data=pl), reply hlim=64 ICMPv6EchoReply
 *   arp_solicit_out: Ether(dst=bcast, src=LAN)/ARP(op=1, hwsrc=LAN, psrc=10.1.0.1,
 *                    pdst=10.1.0.20)
 *   ns_solicit_out:  Ether(dst=33:33:ff:00:00:fe, src=WAN)/IPv6(src=2001:db8:100::1,
 *                    dst=ff02::1:ff00:fe, hlim=255)/ICMPv6ND_NS(tgt=2001:db8:100::fe)
 *                    /ICMPv6NDOptSrcLLAddr(lladdr=WAN)
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "espgw_host.h"
#include "espgw_route.h"
#include "inet_sum.h"

#define P_LAN 0
#define P_WAN 1
#define T0    100000 /* a clock that does not start at zero */

/* Generated with scapy 2.5 (/tmp/gen_host_vectors.py): the judge of the wire format. */
/* Byte vectors, twelve to a line. */
/* clang-format off */
static const uint8_t arp_req_in[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0xaa, 0x00, 0x00, 0x00, 0x10,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0xaa,
	0x00, 0x00, 0x00, 0x10, 0x0a, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x0a, 0x01, 0x00, 0x01,
};
static const uint8_t arp_reply_out[] = {
	0x02, 0xaa, 0x00, 0x00, 0x00, 0x10, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00,
	0x00, 0x00, 0x01, 0x01, 0x0a, 0x01, 0x00, 0x01, 0x02, 0xaa, 0x00, 0x00,
	0x00, 0x10, 0x0a, 0x01, 0x00, 0x0a,
};
static const uint8_t ns_in[] = {
	0x33, 0x33, 0xff, 0x00, 0x00, 0x01, 0x02, 0xaa, 0x00, 0x00, 0x00, 0x10,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x10, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0xff, 0x00, 0x00, 0x01, 0x87, 0x00, 0x1b, 0x5f, 0x00, 0x00,
	0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x02, 0xaa, 0x00, 0x00,
	0x00, 0x10,
};
static const uint8_t na_out[] = {
	0x02, 0xaa, 0x00, 0x00, 0x00, 0x10, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x88, 0x00, 0x09, 0x62, 0xe0, 0x00,
	0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x01, 0x01,
};
static const uint8_t echo4_in[] = {
	0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0xaa, 0x00, 0x00, 0x00, 0x10,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x31, 0x12, 0x34, 0x40, 0x00, 0x3d, 0x01,
	0x17, 0x8c, 0x0a, 0x01, 0x00, 0x0a, 0x0a, 0x01, 0x00, 0x01, 0x08, 0x00,
	0x95, 0x19, 0x00, 0x07, 0x00, 0x01, 0x65, 0x73, 0x70, 0x67, 0x77, 0x2d,
	0x70, 0x69, 0x6e, 0x67, 0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
	0x37, 0x38, 0x39,
};
static const uint8_t echo4_out[] = {
	0x02, 0xaa, 0x00, 0x00, 0x00, 0x10, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x31, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01,
	0x14, 0x8c, 0x0a, 0x01, 0x00, 0x01, 0x0a, 0x01, 0x00, 0x0a, 0x00, 0x00,
	0x9d, 0x19, 0x00, 0x07, 0x00, 0x01, 0x65, 0x73, 0x70, 0x67, 0x77, 0x2d,
	0x70, 0x69, 0x6e, 0x67, 0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
	0x37, 0x38, 0x39,
};
static const uint8_t echo6_in[] = {
	0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0xaa, 0x00, 0x00, 0x00, 0x10,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x1d, 0x3a, 0x3d, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0xc1, 0x3c, 0x00, 0x07,
	0x00, 0x01, 0x65, 0x73, 0x70, 0x67, 0x77, 0x2d, 0x70, 0x69, 0x6e, 0x67,
	0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
};
static const uint8_t echo6_out[] = {
	0x02, 0xaa, 0x00, 0x00, 0x00, 0x10, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x1d, 0x3a, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x81, 0x00, 0xc0, 0x3c, 0x00, 0x07,
	0x00, 0x01, 0x65, 0x73, 0x70, 0x67, 0x77, 0x2d, 0x70, 0x69, 0x6e, 0x67,
	0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
};
static const uint8_t arp_solicit_out[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00,
	0x00, 0x00, 0x01, 0x01, 0x0a, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x0a, 0x01, 0x00, 0x14,
};
static const uint8_t ns_solicit_out[] = {
	0x33, 0x33, 0xff, 0x00, 0x00, 0xfe, 0x02, 0x00, 0x00, 0x00, 0x02, 0x01,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01,
	0x0d, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0xff, 0x00, 0x00, 0xfe, 0x87, 0x00, 0x16, 0x2f, 0x00, 0x00,
	0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0xfe, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x02, 0x01,
};
/* clang-format on */

static const uint8_t mac_lan[6] = {0x02, 0, 0, 0, 0x01, 0x01};
static const uint8_t mac_wan[6] = {0x02, 0, 0, 0, 0x02, 0x01};
static const uint8_t mac_a[6] = {0x02, 0xaa, 0, 0, 0, 0x10};
static const uint8_t mac_r[6] = {0x02, 0xbb, 0, 0, 0, 0xfe};
static const uint8_t mac_b[6] = {0x02, 0xcc, 0, 0, 0, 0x20};
static const uint8_t mac_static[6] = {0x02, 0xdd, 0, 0, 0, 0x99};

static struct espgw_port_conf ports_conf[2];
static struct espgw_route_conf routes[4];
static struct espgw_neigh_conf neighs[4];
static struct espgw_store store;
static struct espgw_ports ports;
static struct rte_mempool *pool;
static struct rte_ring *txr[2][2];
static struct rte_ring *inject; /* the control path's way into worker 0's outbound path */

/* Per test: a fresh route table (neighbor entries) and control path. */
static struct {
	struct espgw_route *r;
	struct espgw_host *h;
	struct espgw_host_conf conf;
} fx;

/* ICMPv6 over the pseudo-header (RFC 8200 8.1): ip6 points at the IPv6 header. */
static bool
cksum6_ok(const uint8_t *ip6)
{
	uint32_t plen = (uint32_t)ip6[4] << 8 | ip6[5];
	uint32_t sum = sum16(ip6 + 8, 32, 0) + plen + 58;

	return fold(sum16(ip6 + 40, plen, sum)) == 0xffff;
}

/* ---- fixture ---- */

static void
prefix_set(struct espgw_prefix *p, const char *s)
{
	assert_int_equal(espgw_prefix_parse(s, p), 0);
}

static void
ip_set(struct espgw_ip *ip, const char *s)
{
	assert_int_equal(espgw_ip_parse(s, ip), 0);
}

/* A net_ring vdev loops each TX queue back into the ring "ETH_RXTX<q>_<name>". */
static void
port_add(unsigned int i, const char *name, const char *a4, const char *a6, const uint8_t mac[6],
		uint16_t mtu)
{
	struct espgw_port_conf *pc = &ports_conf[i];
	struct rte_eth_conf conf = {0};
	char dev[16], rn[RTE_RING_NAMESIZE];
	uint16_t id, q;

	snprintf(pc->name, sizeof(pc->name), "%s", name);
	prefix_set(&pc->addr[0], a4);
	prefix_set(&pc->addr[1], a6);
	pc->n_addr = 2;
	pc->mtu = mtu;
	snprintf(dev, sizeof(dev), "net_ring_%s", name);
	assert_int_equal(rte_vdev_init(dev, NULL), 0);
	assert_int_equal(rte_eth_dev_get_port_by_name(dev, &id), 0);
	assert_int_equal(rte_eth_dev_configure(id, 1, 2, &conf), 0);
	assert_int_equal(rte_eth_rx_queue_setup(id, 0, 64, SOCKET_ID_ANY, NULL, pool), 0);
	for (q = 0; q < 2; q++) {
		assert_int_equal(rte_eth_tx_queue_setup(id, q, 64, SOCKET_ID_ANY, NULL), 0);
		snprintf(rn, sizeof(rn), "ETH_RXTX%u_%s", q, dev);
		txr[i][q] = rte_ring_lookup(rn);
		assert_non_null(txr[i][q]);
	}
	assert_int_equal(rte_eth_dev_start(id), 0);
	ports.port[i].port_id = id;
	ports.port[i].conf = pc;
	ports.port[i].mtu = mtu;
	ports.port[i].n_txq = 2;
	ports.port[i].ctl_txq = 1; /* one worker: queue 0; the control path: queue 1 */
	memcpy(ports.port[i].mac.addr_bytes, mac, 6);
	ports.port_idx_of[id] = (uint16_t)i;
}

static int
group_setup(void **state)
{
	(void)state;
	pool = rte_pktmbuf_pool_create(
			"test_host", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	assert_non_null(pool);
	memset(&ports, 0, sizeof(ports));
	memset(ports.port_idx_of, 0xff, sizeof(ports.port_idx_of));
	ports.pool[0] = pool;
	port_add(P_LAN, "lan", "10.1.0.1/24", "2001:db8:1::1/64", mac_lan, 1500);
	port_add(P_WAN, "wan", "198.51.100.1/24", "2001:db8:100::1/64", mac_wan, 1400);
	ports.port[P_WAN].role = ESPGW_ROLE_UNPROTECTED;
	ports.n = 2;
	store.ports = ports_conf;
	store.n_ports = 2;
	store.routes = routes;
	prefix_set(&routes[0].dst, "0.0.0.0/0");
	ip_set(&routes[0].via, "198.51.100.254");
	prefix_set(&routes[1].dst, "::/0");
	ip_set(&routes[1].via, "2001:db8:100::fe");
	store.n_routes = 2;
	store.neighs = neighs;
	ip_set(&neighs[0].ip, "10.1.0.99");
	memcpy(neighs[0].mac, mac_static, 6);
	snprintf(neighs[0].port, sizeof(neighs[0].port), "lan");
	ip_set(&neighs[1].ip, "2001:db8:1::99");
	memcpy(neighs[1].mac, mac_static, 6);
	snprintf(neighs[1].port, sizeof(neighs[1].port), "lan");
	store.n_neighs = 2;
	inject = rte_ring_create("test_inject", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(inject);
	return 0;
}

static void
host_start(void)
{
	struct espgw_err err = {{0}};
	struct espgw_host_prm prm = {.store = &store,
			.ports = &ports,
			.conf = &fx.conf,
			.inject = inject,
			.socket = SOCKET_ID_ANY};

	fx.r = espgw_route_build(&store, &ports, SOCKET_ID_ANY, &err);
	if (fx.r == NULL)
		fail_msg("route build: %s", err.msg);
	prm.route = fx.r;
	fx.h = espgw_host_create(&prm, &err);
	if (fx.h == NULL)
		fail_msg("host create: %s", err.msg);
}

static int
setup(void **state)
{
	(void)state;
	espgw_host_conf_default(&fx.conf);
	/* A fixed key for the ICMP per-destination hash: the hosts below get buckets of their own. */
	fx.conf.icmp_key = 0x5eed;
	host_start();
	return 0;
}

static uint64_t
drops(void)
{
	const struct espgw_host_stats *s = espgw_host_stats(fx.h);
	uint64_t n = 0;
	unsigned int d;

	for (d = 0; d < ESPGW_DROP_MAX; d++)
		n += s->drop[d];
	return n;
}

static uint64_t
cnt(enum espgw_host_counter c)
{
	return espgw_host_stats(fx.h)->c[c];
}

static uint64_t
dropped(enum espgw_drop d)
{
	return espgw_host_stats(fx.h)->drop[d];
}

static unsigned int
out(uint16_t port, struct rte_mbuf **m, unsigned int max)
{
	return rte_ring_dequeue_burst(txr[port][1], (void **)m, max, NULL);
}

static unsigned int
drain(uint16_t port)
{
	struct rte_mbuf *m[64];
	unsigned int n, total = 0;

	while ((n = out(port, m, RTE_DIM(m))) != 0) {
		rte_pktmbuf_free_bulk(m, n);
		total += n;
	}
	return total;
}

/* Every packet from the ring ended somewhere, and nothing was sent that a test did not read. */
static int
teardown(void **state)
{
	const struct espgw_host_stats *s = espgw_host_stats(fx.h);
	uint64_t in = s->c[ESPGW_HOST_IN];
	uint64_t ended = s->c[ESPGW_HOST_SENT] + s->c[ESPGW_HOST_ABSORBED] + drops() + s->pending;
	unsigned int p, left = 0;

	struct rte_mbuf *m;

	(void)state;
	for (p = 0; p < 2; p++)
		left += drain((uint16_t)p);
	for (; rte_ring_dequeue(inject, (void **)&m) == 0; left++)
		rte_pktmbuf_free(m);
	/* Freed first, so that one failing test does not starve the next of memory. */
	espgw_host_free(fx.h);
	espgw_route_free(fx.r);
	assert_int_equal(in, ended);
	assert_int_equal(s->c[ESPGW_HOST_TTL_REPORT],
			s->c[ESPGW_HOST_TIME_EXCEEDED] + s->c[ESPGW_HOST_ERR_SUPPRESSED]);
	assert_int_equal(left, 0);
	return 0;
}

/* ---- frames in and out ---- */

static struct rte_mbuf *
frame(uint16_t port, const uint8_t *b, size_t len, enum espgw_ctl_reason why, uint16_t mtu)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint16_t type = be16(b + 12);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), b, len);
	m->port = ports.port[port].port_id;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->packet_type = type == RTE_ETHER_TYPE_IPV4   ? RTE_PTYPE_L3_IPV4
			 : type == RTE_ETHER_TYPE_IPV6 ? RTE_PTYPE_L3_IPV6
						       : 0;
	espgw_ctl_tag_set(m, why, mtu);
	return m;
}

static void
in(struct rte_mbuf *m, uint64_t now)
{
	espgw_host_input(fx.h, &m, 1, now);
}

static void
in_local(uint16_t port, const uint8_t *b, size_t len)
{
	in(frame(port, b, len, ESPGW_CTL_LOCAL, 0), T0);
}

static void
expect_frame(uint16_t port, const uint8_t *b, size_t len)
{
	struct rte_mbuf *m;

	assert_int_equal(out(port, &m, 1), 1);
	assert_int_equal(rte_pktmbuf_pkt_len(m), len);
	assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), b, len);
	rte_pktmbuf_free(m);
}

static void
expect_none(void)
{
	assert_int_equal(rte_ring_count(txr[P_LAN][1]), 0);
	assert_int_equal(rte_ring_count(txr[P_WAN][1]), 0);
}

/* A UDP packet as a worker hands it over: still in the frame it came in (from A). */
static struct rte_mbuf *
ip4_pkt(const char *src, const char *dst, uint16_t len, uint16_t id, bool df)
{
	uint8_t b[1600] = {0};
	uint8_t *ip = b + 14;
	uint16_t i;

	memcpy(b, mac_lan, 6);
	memcpy(b + 6, mac_a, 6);
	b[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	ip[4] = (uint8_t)(id >> 8);
	ip[5] = (uint8_t)id;
	ip[6] = df ? 0x40 : 0;
	ip[8] = 63;
	ip[9] = 17;
	assert_int_equal(inet_pton(AF_INET, src, ip + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, ip + 16), 1);
	ip[10] = (uint8_t)(~fold(sum16(ip, 20, 0)) >> 8);
	ip[11] = (uint8_t)~fold(sum16(ip, 20, 0));
	for (i = 20; i < len; i++)
		ip[i] = (uint8_t)i;
	return frame(P_LAN, b, 14u + len, ESPGW_CTL_LOCAL, 0);
}

static struct rte_mbuf *
ip6_pkt(const char *src, const char *dst, uint16_t len, uint8_t tag)
{
	uint8_t b[1600] = {0};
	uint8_t *ip = b + 14;
	uint16_t i;

	memcpy(b, mac_lan, 6);
	memcpy(b + 6, mac_a, 6);
	b[12] = 0x86;
	b[13] = 0xdd;
	ip[0] = 0x60;
	ip[4] = (uint8_t)((len - 40) >> 8);
	ip[5] = (uint8_t)(len - 40);
	ip[6] = 17;
	ip[7] = 63;
	assert_int_equal(inet_pton(AF_INET6, src, ip + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, ip + 24), 1);
	for (i = 40; i < len; i++)
		ip[i] = (uint8_t)(i + tag);
	return frame(P_LAN, b, 14u + len, ESPGW_CTL_LOCAL, 0);
}

static struct rte_mbuf *
tag(struct rte_mbuf *m, enum espgw_ctl_reason why, uint16_t mtu)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	const struct espgw_l2_hop *h;
	struct espgw_ip dst = {0};

	/* NO_NEIGH carries the port the worker's route chose: the table's answer now. */
	if (why == ESPGW_CTL_NO_NEIGH) {
		dst.family = (l3[0] >> 4) == 4 ? ESPGW_AF_INET : ESPGW_AF_INET6;
		memcpy(dst.bytes, l3 + (dst.family == ESPGW_AF_INET ? 16 : 24),
				dst.family == ESPGW_AF_INET ? 4 : 16);
		h = espgw_route_lookup(fx.r, &dst);
		mtu = h != NULL ? h->port_idx : 0;
	}
	espgw_ctl_tag_set(m, why, mtu);
	return m;
}

/* A NO_NEIGH hand-off from a worker whose route chose port. */
static struct rte_mbuf *
tag_port(struct rte_mbuf *m, uint16_t port)
{
	espgw_ctl_tag_set(m, ESPGW_CTL_NO_NEIGH, port);
	return m;
}

/* Our addresses on each port, in this fixture. */
static const char *const own4[2] = {"10.1.0.1", "198.51.100.1"};
static const char *const own6[2] = {"2001:db8:1::1", "2001:db8:100::1"};

/* An ARP message from (mac, sip) about tip: requests to broadcast, replies to the port. */
static void
arp_in(uint16_t port, uint8_t op, const uint8_t mac[6], const char *sip, const char *tip,
		uint64_t now)
{
	uint8_t b[42] = {0};
	const uint8_t *me = port == P_LAN ? mac_lan : mac_wan;

	memset(b, 0xff, 6);
	if (op == 2)
		memcpy(b, me, 6);
	memcpy(b + 6, mac, 6);
	b[12] = 0x08;
	b[13] = 0x06;
	memcpy(b + 14, (const uint8_t[]){0, 1, 8, 0, 6, 4, 0, op}, 8);
	memcpy(b + 22, mac, 6);
	assert_int_equal(inet_pton(AF_INET, sip, b + 28), 1);
	if (op == 2)
		memcpy(b + 32, me, 6);
	assert_int_equal(inet_pton(AF_INET, tip, b + 38), 1);
	in(frame(port, b, sizeof(b), ESPGW_CTL_LOCAL, 0), now);
}

/* An ARP reply from (mac, ip) to the port, as Linux sends it. */
static void
arp_reply_in(uint16_t port, const uint8_t mac[6], const char *ip, uint64_t now)
{
	arp_in(port, 2, mac, ip, own4[port], now);
}

/* ICMPv6 checksum of the message at ip6 + 40 (RFC 4443 2.3), set in place. */
static void
cksum6_set(uint8_t *ip6)
{
	uint32_t plen = (uint32_t)ip6[4] << 8 | ip6[5];
	uint16_t sum;

	ip6[42] = ip6[43] = 0;
	sum = (uint16_t)~fold(sum16(ip6 + 40, plen, sum16(ip6 + 8, 32, 0) + plen + 58));
	ip6[42] = (uint8_t)(sum >> 8);
	ip6[43] = (uint8_t)sum;
}

/*
 * An NA for target from mac to our address on the port; flags as on the wire
 * (R 0x80, S 0x40, O 0x20), with or without the target link-layer option.
 */
static void
na_msg_in(uint16_t port, const uint8_t mac[6], const char *target, uint8_t flags, bool tlla,
		uint64_t now)
{
	uint8_t b[86] = {0};
	uint8_t *ip = b + 14, *na = ip + 40;
	uint8_t plen = tlla ? 32 : 24;

	memcpy(b, port == P_LAN ? mac_lan : mac_wan, 6);
	memcpy(b + 6, mac, 6);
	b[12] = 0x86;
	b[13] = 0xdd;
	ip[0] = 0x60;
	ip[5] = plen;
	ip[6] = 58;
	ip[7] = 255;
	assert_int_equal(inet_pton(AF_INET6, target, ip + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, own6[port], ip + 24), 1);
	na[0] = 136;
	na[4] = flags;
	memcpy(na + 8, ip + 8, 16);
	if (tlla) {
		na[24] = 2;
		na[25] = 1;
		memcpy(na + 26, mac, 6);
	}
	cksum6_set(ip);
	in(frame(port, b, 14u + 40 + plen, ESPGW_CTL_LOCAL, 0), now);
}

/* A solicited NA (R=1, S=1, O=1) for target from mac, to the WAN port's address. */
static void
na_in(const uint8_t mac[6], const char *target, uint64_t now)
{
	na_msg_in(P_WAN, mac, target, 0xe0, true, now);
}

/* An NS from (mac, src) for target, to its solicited-node address, with the SLLA option. */
static void
ns_msg_in(uint16_t port, const uint8_t mac[6], const char *src, const char *target, uint64_t now)
{
	uint8_t b[86] = {0x33, 0x33, 0xff};
	uint8_t *ip = b + 14, *ns = ip + 40;

	memcpy(b + 6, mac, 6);
	b[12] = 0x86;
	b[13] = 0xdd;
	ip[0] = 0x60;
	ip[5] = 32;
	ip[6] = 58;
	ip[7] = 255;
	assert_int_equal(inet_pton(AF_INET6, src, ip + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, target, ns + 8), 1);
	memcpy(ip + 24, (const uint8_t[]){0xff, 2, [11] = 1, [12] = 0xff}, 13);
	memcpy(ip + 37, ns + 21, 3);
	memcpy(b + 3, ns + 21, 3);
	ns[0] = 135;
	ns[24] = 1;
	ns[25] = 1;
	memcpy(ns + 26, mac, 6);
	cksum6_set(ip);
	in(frame(port, b, sizeof(b), ESPGW_CTL_LOCAL, 0), now);
}

static const struct espgw_l2_hop *
hop_of(const char *dst)
{
	struct espgw_ip ip;

	ip_set(&ip, dst);
	return espgw_route_lookup(fx.r, &ip);
}

static struct espgw_l2_hop *
entry(uint16_t port, const char *addr)
{
	struct espgw_ip ip;

	ip_set(&ip, addr);
	return espgw_route_neigh_find(fx.r, port, &ip);
}

/* ---- tests ---- */

/* RFC 826: a request for our LAN address gets the exact reply; others get none. */
static void
test_arp_reply(void **state)
{
	uint8_t other[sizeof(arp_req_in)];

	(void)state;
	in_local(P_LAN, arp_req_in, sizeof(arp_req_in));
	expect_frame(P_LAN, arp_reply_out, sizeof(arp_reply_out));
	assert_int_equal(cnt(ESPGW_HOST_ARP_REQ_RX), 1);
	assert_int_equal(cnt(ESPGW_HOST_ARP_REPLY_TX), 1);
	/* The LAN address asked on the WAN link: answered only on its own port. */
	in_local(P_WAN, arp_req_in, sizeof(arp_req_in));
	/* Someone else's address. */
	memcpy(other, arp_req_in, sizeof(other));
	other[41] = 77;
	in_local(P_LAN, other, sizeof(other));
	expect_none();
	assert_int_equal(cnt(ESPGW_HOST_ABSORBED), 2);
	/* RFC 826: the asker is entered (STALE: probed before it is trusted), on its port only. */
	assert_non_null(entry(P_LAN, "10.1.0.10"));
	assert_memory_equal(entry(P_LAN, "10.1.0.10")->dst.addr_bytes, mac_a, 6);
	assert_null(entry(P_WAN, "10.1.0.10"));
	assert_int_equal(cnt(ESPGW_HOST_UNSOL_APPLIED), 1);
}

/* RFC 4861 7.2.4: NS for our address (solicited-node multicast) -> the exact NA. */
static void
test_ns_na(void **state)
{
	uint8_t bad[sizeof(ns_in)];

	(void)state;
	in_local(P_LAN, ns_in, sizeof(ns_in));
	expect_frame(P_LAN, na_out, sizeof(na_out));
	assert_true(cksum6_ok(na_out + 14)); /* the vector itself, by our own sum */
	assert_int_equal(cnt(ESPGW_HOST_NS_RX), 1);
	assert_int_equal(cnt(ESPGW_HOST_NA_TX), 1);
	/* RFC 4861 7.1.1: hop limit other than 255 is not ND. */
	memcpy(bad, ns_in, sizeof(bad));
	bad[21] = 64;
	in_local(P_LAN, bad, sizeof(bad));
	/* A flipped checksum bit. */
	memcpy(bad, ns_in, sizeof(bad));
	bad[57] ^= 1;
	in_local(P_LAN, bad, sizeof(bad));
	expect_none();
	assert_int_equal(dropped(ESPGW_DROP_BAD_L3), 2);
}

/* The EUI-64 link-local address answers NS too, and is the NA's source. */
static void
test_ns_link_local(void **state)
{
	uint8_t ns[sizeof(ns_in)];
	struct espgw_ip ll;
	struct rte_mbuf *m;
	struct rte_ether_addr mac;
	const uint8_t *p;
	uint32_t sum;

	(void)state;
	memcpy(mac.addr_bytes, mac_lan, 6);
	espgw_host_link_local(&mac, &ll);
	memcpy(ns, ns_in, sizeof(ns));
	memcpy(ns + 62, ll.v6, 16); /* target */
	memcpy(ns + 38, (const uint8_t[]){0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff}, 13);
	memcpy(ns + 51, &ll.v6[13], 3);
	ns[56] = ns[57] = 0;
	sum = (uint16_t)~fold(sum16(ns + 54, 32, sum16(ns + 22, 32, 0) + 32 + 58));
	ns[56] = (uint8_t)(sum >> 8);
	ns[57] = (uint8_t)sum;
	in_local(P_LAN, ns, sizeof(ns));
	assert_int_equal(out(P_LAN, &m, 1), 1);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_memory_equal(p + 22, ll.v6, 16); /* source: the link-local target */
	assert_memory_equal(p + 62, ll.v6, 16);
	assert_int_equal(p[54], 136);
	assert_true(cksum6_ok(p + 14));
	rte_pktmbuf_free(m);
}

static void
test_echo(void **state)
{
	(void)state;
	in_local(P_LAN, echo4_in, sizeof(echo4_in));
	expect_frame(P_LAN, echo4_out, sizeof(echo4_out));
	in_local(P_LAN, echo6_in, sizeof(echo6_in));
	expect_frame(P_LAN, echo6_out, sizeof(echo6_out));
	assert_int_equal(cnt(ESPGW_HOST_ECHO_REPLY), 2);
}

/* As a decrypted packet reaches the control path: L3 at offset 0, no frame. */
static struct rte_mbuf *
untunneled(struct rte_mbuf *m)
{
	rte_pktmbuf_adj(m, 14);
	m->l2_len = 0;
	m->port = ports.port[P_WAN].port_id; /* what it came in by, as ESP */
	return m;
}

/* What the control path put into the outbound path: a frame that only names the family. */
static struct rte_mbuf *
injected(uint16_t type)
{
	static const uint8_t zero[12];
	struct rte_mbuf *m = NULL;

	assert_int_equal(rte_ring_dequeue(inject, (void **)&m), 0);
	assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), zero, 12);
	assert_int_equal(be16(rte_pktmbuf_mtod(m, const uint8_t *) + 12), type);
	assert_int_equal(m->l2_len, 14);
	assert_int_equal(m->port, RTE_MBUF_PORT_INVALID);
	return m;
}

/*
 * An echo request that came through a tunnel is answered back through it:
 * the same reply as on the LAN, but into the outbound path with TTL 65 (which
 * takes one off) instead of out of a port.
 */
static void
test_tunnel_echo(void **state)
{
	struct rte_mbuf *m;
	uint8_t want[sizeof(echo4_out)];
	const uint8_t *p;

	(void)state;
	in(untunneled(frame(P_LAN, echo4_in, sizeof(echo4_in), ESPGW_CTL_LOCAL, 0)), T0);
	m = injected(0x0800);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	memcpy(want, echo4_out, sizeof(want));
	want[14 + 8] = 65;
	assert_int_equal(rte_pktmbuf_pkt_len(m), sizeof(echo4_out));
	assert_memory_equal(p + 14, want + 14, 8);	      /* up to the TTL */
	assert_memory_equal(p + 23, want + 23, 1);	      /* protocol */
	assert_memory_equal(p + 26, want + 26, 34 + 21 - 26); /* addresses, ICMP, data */
	assert_true(cksum_ok(p + 14, 20));
	rte_pktmbuf_free(m);
	in(untunneled(frame(P_LAN, echo6_in, sizeof(echo6_in), ESPGW_CTL_LOCAL, 0)), T0);
	m = injected(0x86dd);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(p[14 + 7], 65);
	assert_memory_equal(p + 14 + 8, echo6_out + 14 + 8, sizeof(echo6_out) - 22);
	assert_true(cksum6_ok(p + 14));
	rte_pktmbuf_free(m);
	assert_int_equal(cnt(ESPGW_HOST_INJECTED), 2);
	assert_int_equal(cnt(ESPGW_HOST_SENT), 2);
	expect_none();
}

/*
 * Across the IPsec boundary (RFC 4301 5.1): on the unprotected port, an echo
 * reply goes through the outbound path (the SPD decides it, by its own
 * header), and so does an ICMP error (by the packet it quotes, RFC 4301 6.2);
 * to a link-local peer the reply stays on the link.
 */
static void
test_unprotected_via_spd(void **state)
{
	struct rte_mbuf *m;
	uint8_t echo[sizeof(echo6_in)];
	uint32_t sum;

	(void)state;
	in_local(P_WAN, echo4_in, sizeof(echo4_in));
	m = injected(0x0800);
	assert_int_equal(espgw_inject_kind(m), ESPGW_INJECT_OWN);
	assert_int_equal(rte_pktmbuf_mtod(m, const uint8_t *)[14 + 8], 65);
	rte_pktmbuf_free(m);
	m = ip4_pkt("203.0.113.5", "10.1.0.10", 200, 9, false);
	m->port = ports.port[P_WAN].port_id;
	in(tag(m, ESPGW_CTL_TTL, 0), T0);
	m = injected(0x0800);
	assert_int_equal(espgw_inject_kind(m), ESPGW_INJECT_QUOTE);
	rte_pktmbuf_free(m);
	/* From fe80::10 (the checksum adjusted for the new source): on the link. */
	memcpy(echo, echo6_in, sizeof(echo));
	memcpy(echo + 22, (const uint8_t[]){0xfe, 0x80, 0, 0, 0, 0, 0, 0}, 8);
	echo[56] = echo[57] = 0;
	sum = (uint16_t)~fold(sum16(echo + 54, 29, sum16(echo + 22, 32, 0) + 29 + 58));
	echo[56] = (uint8_t)(sum >> 8);
	echo[57] = (uint8_t)sum;
	in_local(P_WAN, echo, sizeof(echo));
	assert_int_equal(out(P_WAN, &m, 1), 1);
	assert_true(cksum6_ok(rte_pktmbuf_mtod_offset(m, const uint8_t *, 14)));
	rte_pktmbuf_free(m);
	assert_int_equal(rte_ring_count(inject), 0);
	assert_int_equal(cnt(ESPGW_HOST_ECHO_REPLY), 2);
	assert_int_equal(cnt(ESPGW_HOST_TIME_EXCEEDED), 1);
}

/* Neighbor discovery through a tunnel makes no sense (RFC 4861 7.1): unhandled. */
static void
test_local_unhandled(void **state)
{
	(void)state;
	in(untunneled(frame(P_LAN, ns_in, sizeof(ns_in), ESPGW_CTL_LOCAL, 0)), T0);
	expect_none();
	assert_int_equal(rte_ring_count(inject), 0);
	assert_int_equal(dropped(ESPGW_DROP_LOCAL_UNHANDLED), 1);
}

static void
expect_released(uint16_t port, const uint8_t dst_mac[6], const uint16_t *ids, unsigned int n)
{
	struct rte_mbuf *m[32];
	const uint8_t *p;
	unsigned int i;

	assert_int_equal(out(port, m, RTE_DIM(m)), n);
	for (i = 0; i < n; i++) {
		p = rte_pktmbuf_mtod(m[i], const uint8_t *);
		assert_memory_equal(p, dst_mac, 6);
		assert_memory_equal(p + 6, port == P_LAN ? mac_lan : mac_wan, 6);
		assert_int_equal(be16(p + 18), ids[i]); /* IPv4 id: order kept */
		rte_pktmbuf_free(m[i]);
	}
}

/* An on-link host: ARP request, packets wait, the reply releases them in order. */
static void
test_resolve_v4(void **state)
{
	static const uint16_t ids[] = {1, 2, 3};
	const struct espgw_l2_hop *h;
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++)
		in(tag(ip4_pkt("10.1.0.10", "10.1.0.20", 100, ids[i], false), ESPGW_CTL_NO_NEIGH,
				   0),
				T0);
	expect_frame(P_LAN, arp_solicit_out, sizeof(arp_solicit_out));
	expect_none();
	assert_int_equal(espgw_host_stats(fx.h)->pending, 3);
	assert_int_equal(hop_of("10.1.0.20")->kind, ESPGW_HOP_DYNAMIC);
	arp_reply_in(P_LAN, mac_b, "10.1.0.20", T0 + 10);
	expect_released(P_LAN, mac_b, ids, 3);
	h = hop_of("10.1.0.20");
	assert_true(espgw_hop_resolved(h));
	assert_memory_equal(h->dst.addr_bytes, mac_b, 6);
	assert_int_equal(cnt(ESPGW_HOST_QUEUED), 3);
	assert_int_equal(cnt(ESPGW_HOST_RELEASED), 3);
	assert_int_equal(cnt(ESPGW_HOST_RESOLVED), 1);
	/* Resolved while a worker still handed one over: sent at once. */
	in(tag(ip4_pkt("10.1.0.10", "10.1.0.20", 100, 4, false), ESPGW_CTL_NO_NEIGH, 0), T0 + 20);
	expect_released(P_LAN, mac_b, (const uint16_t[]){4}, 1);
}

/* The default router over IPv6: NS to its solicited-node address, NA releases. */
static void
test_resolve_v6(void **state)
{
	struct rte_mbuf *m;
	const uint8_t *p;

	(void)state;
	in(tag(ip6_pkt("2001:db8:1::10", "2001:db8:2::20", 200, 0), ESPGW_CTL_NO_NEIGH, 0), T0);
	expect_frame(P_WAN, ns_solicit_out, sizeof(ns_solicit_out));
	na_in(mac_r, "2001:db8:100::fe", T0 + 5);
	assert_int_equal(out(P_WAN, &m, 1), 1);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_memory_equal(p, mac_r, 6);
	assert_memory_equal(p + 6, mac_wan, 6);
	assert_int_equal(be16(p + 12), RTE_ETHER_TYPE_IPV6);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 200);
	rte_pktmbuf_free(m);
	assert_int_equal(hop_of("2001:db8:9::1")->kind, ESPGW_HOP_VIA);
	assert_true(espgw_hop_resolved(hop_of("2001:db8:9::1")));
}

/* Three requests one second apart, then the waiting packets are dropped and counted. */
static void
test_resolve_fail(void **state)
{
	(void)state;
	in(tag(ip4_pkt("10.1.0.10", "10.1.0.30", 100, 1, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	in(tag(ip4_pkt("10.1.0.10", "10.1.0.30", 100, 2, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	assert_int_equal(drain(P_LAN), 1);
	espgw_host_timer(fx.h, T0 + 999);
	expect_none();
	espgw_host_timer(fx.h, T0 + 1000);
	assert_int_equal(drain(P_LAN), 1);
	espgw_host_timer(fx.h, T0 + 2000);
	assert_int_equal(drain(P_LAN), 1);
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_FAILED), 0);
	espgw_host_timer(fx.h, T0 + 3000);
	expect_none();
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_FAILED), 2);
	assert_int_equal(cnt(ESPGW_HOST_RESOLVE_FAILED), 1);
	assert_int_equal(cnt(ESPGW_HOST_ARP_REQ_TX), 3);
	assert_int_equal(espgw_host_stats(fx.h)->pending, 0);
	assert_null(entry(P_LAN, "10.1.0.30")); /* dynamic entries go */
}

/* 16 per neighbor, and the total cap across neighbors. */
static void
test_queue_bound(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < 20; i++)
		in(tag(ip4_pkt("10.1.0.10", "10.1.0.40", 100, (uint16_t)i, false),
				   ESPGW_CTL_NO_NEIGH, 0),
				T0);
	assert_int_equal(espgw_host_stats(fx.h)->pending, 16);
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_QUEUE_FULL), 4);
	assert_int_equal(drain(P_LAN), 1);
	teardown(state);
	/* A total of 20: 16 for one neighbor leave 4 for the next. */
	fx.conf.queue_total = 20;
	host_start();
	for (i = 0; i < 16; i++)
		in(tag(ip4_pkt("10.1.0.10", "10.1.0.41", 100, 0, false), ESPGW_CTL_NO_NEIGH, 0),
				T0);
	for (i = 0; i < 8; i++)
		in(tag(ip4_pkt("10.1.0.10", "10.1.0.42", 100, 0, false), ESPGW_CTL_NO_NEIGH, 0),
				T0);
	assert_int_equal(espgw_host_stats(fx.h)->pending, 20);
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_QUEUE_FULL), 4);
	assert_int_equal(drain(P_LAN), 2);
}

/* The reserved slots bound on-link entries; a full table is a counted drop, freed on failure. */
static void
test_table_full(void **state)
{
	char a[64];
	unsigned int i, t;

	(void)state;
	for (i = 0; i < 300; i++) {
		snprintf(a, sizeof(a), "2001:db8:1::%x", 0x1000 + i);
		in(tag(ip6_pkt("2001:db8:1::10", a, 100, 0), ESPGW_CTL_NO_NEIGH, 0), T0);
	}
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_TABLE_FULL), 300 - 256);
	assert_int_equal(drain(P_LAN), 256);
	for (t = 1; t <= 3; t++) {
		espgw_host_timer(fx.h, T0 + t * 1000);
		drain(P_LAN);
	}
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_FAILED), 256);
	in(tag(ip6_pkt("2001:db8:1::10", "2001:db8:1::ffff", 100, 0), ESPGW_CTL_NO_NEIGH, 0),
			T0 + 4000);
	assert_int_equal(espgw_host_stats(fx.h)->pending, 1);
	assert_int_equal(drain(P_LAN), 1);
}

/* As a worker hands over a packet still in the frame it came in by on port. */
static struct rte_mbuf *
on(uint16_t port, struct rte_mbuf *m)
{
	m->port = ports.port[port].port_id;
	return m;
}

/* A packet for on-link LAN host number i (2001:db8:1::base+i), received on port. */
static void
to_lan_host(uint16_t port, unsigned int base, unsigned int i)
{
	char a[64];

	snprintf(a, sizeof(a), "2001:db8:1::%x", base + i);
	in(on(port, tag(ip6_pkt("2001:db8:9::5", a, 100, 0), ESPGW_CTL_NO_NEIGH, 0)), T0);
}

/*
 * Probes through an inbound bypass for hosts that do not exist: entries made
 * for the unprotected side fill at most half the 256 spare slots (neigh_quota
 * beyond); LAN traffic, decrypted traffic and the next hops keep their room.
 */
static void
test_neigh_quota(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < 200; i++)
		to_lan_host(P_WAN, 0x1000, i);
	assert_int_equal(drain(P_LAN), 128);
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_QUOTA), 72);
	assert_int_equal(espgw_host_stats(fx.h)->pending, 128);
	/* A request for us received there enters no one now; it is still answered. */
	arp_in(P_WAN, 1, mac_b, "198.51.100.77", own4[P_WAN], T0);
	assert_int_equal(drain(P_WAN), 1);
	assert_null(entry(P_WAN, "198.51.100.77"));
	assert_int_equal(cnt(ESPGW_HOST_UNSOL_REFUSED), 1);
	/* The protected side has the other half: 127 LAN hosts and one behind a tunnel. */
	for (i = 0; i < 127; i++)
		to_lan_host(P_LAN, 0x2000, i);
	in(untunneled(tag(ip6_pkt("2001:db8:2::5", "2001:db8:1::3000", 100, 0), ESPGW_CTL_NO_NEIGH,
			   0)),
			T0);
	assert_int_equal(drain(P_LAN), 128);
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_TABLE_FULL), 0);
	to_lan_host(P_LAN, 0x2100, 0);
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_TABLE_FULL), 1);
	/* The next hop of the default route was never in the spare slots. */
	in(tag(ip4_pkt("10.1.0.10", "203.0.113.5", 100, 0, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	assert_int_equal(drain(P_WAN), 1);
	/* Failed resolutions give the share back. */
	for (i = 1; i <= 3; i++) {
		espgw_host_timer(fx.h, T0 + i * 1000);
		drain(P_LAN);
		drain(P_WAN);
	}
	assert_int_equal(espgw_host_stats(fx.h)->pending, 0);
	to_lan_host(P_WAN, 0x4000, 0);
	assert_int_equal(drain(P_LAN), 1);
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_QUOTA), 72);
}

/*
 * A connected subnet's broadcast is never resolved like a host (RFC 1812
 * 5.3.5.2), whatever hands it over: dropped, counted, no request out.
 */
static void
test_neigh_bcast(void **state)
{
	(void)state;
	in(tag(ip4_pkt("10.1.0.10", "10.1.0.255", 100, 0, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	in(tag(ip4_pkt("10.1.0.10", "198.51.100.255", 100, 0, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	expect_none();
	assert_null(entry(P_LAN, "10.1.0.255"));
	assert_null(entry(P_WAN, "198.51.100.255"));
	assert_int_equal(dropped(ESPGW_DROP_BCAST_MCAST_DST), 2);
	/* The host below it is a host. */
	in(tag(ip4_pkt("10.1.0.10", "10.1.0.254", 100, 0, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	assert_int_equal(drain(P_LAN), 1);
	assert_int_equal(espgw_host_stats(fx.h)->pending, 1);
}

/*
 * A deleted entry's slot comes back only after every reader passed a
 * quiescent state: with a worker that has not, the table stays full. Two
 * rounds of 256 failed entries: the first fills the slots kept for the
 * learned ones, the second the room kept for the operator's live changes.
 */
static void
test_grace_period(void **state)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *qsv = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);
	char a[64];
	unsigned int i, t;

	(void)state;
	assert_non_null(qsv);
	assert_int_equal(rte_rcu_qsbr_init(qsv, 1), 0);
	assert_int_equal(rte_rcu_qsbr_thread_register(qsv, 0), 0);
	rte_rcu_qsbr_thread_online(qsv, 0); /* a worker that holds hops and has not moved on */
	espgw_route_rcu_set(fx.r, qsv);
	for (i = 0; i < 2 * 256; i++) {
		snprintf(a, sizeof(a), "2001:db8:1::%x", 0x1000 + i);
		in(tag(ip6_pkt("2001:db8:1::10", a, 100, 0), ESPGW_CTL_NO_NEIGH, 0),
				T0 + i / 256 * 4000);
		if (i % 256 != 255)
			continue;
		for (t = 0; t <= 3; t++) {
			espgw_host_timer(fx.h, T0 + i / 256 * 4000 + t * 1000);
			drain(P_LAN);
		}
	}
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_FAILED), 2 * 256);
	in(tag(ip6_pkt("2001:db8:1::10", "2001:db8:1::ffff", 100, 0), ESPGW_CTL_NO_NEIGH, 0),
			T0 + 8000);
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_TABLE_FULL), 1);
	rte_rcu_qsbr_quiescent(qsv, 0);
	in(tag(ip6_pkt("2001:db8:1::10", "2001:db8:1::ffff", 100, 0), ESPGW_CTL_NO_NEIGH, 0),
			T0 + 8000);
	assert_int_equal(dropped(ESPGW_DROP_NEIGH_TABLE_FULL), 1);
	assert_int_equal(espgw_host_stats(fx.h)->pending, 1);
	assert_int_equal(drain(P_LAN), 1);
	rte_rcu_qsbr_thread_offline(qsv, 0);
	espgw_route_rcu_set(fx.r, NULL);
	rte_free(qsv);
}

/* Resolve dst through the LAN (on-link) with an ARP reply from mac at now. */
static void
resolve_lan(const char *dst, const uint8_t mac[6], uint64_t now)
{
	in(tag(ip4_pkt("10.1.0.10", dst, 100, 0, false), ESPGW_CTL_NO_NEIGH, 0), now);
	assert_int_equal(drain(P_LAN), 1);
	arp_reply_in(P_LAN, mac, dst, now);
	assert_int_equal(drain(P_LAN), 1);
}

static void
expect_probe(uint16_t port, const uint8_t mac[6])
{
	struct rte_mbuf *m;
	const uint8_t *p;

	assert_int_equal(out(port, &m, 1), 1);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_memory_equal(p, mac, 6); /* unicast probe to the known MAC */
	assert_int_equal(be16(p + 12), RTE_ETHER_TYPE_ARP);
	assert_int_equal(be16(p + 20), 1);
	rte_pktmbuf_free(m);
}

/*
 * A live change of routes or static neighbors, in the order of lib/gw/publish.c:
 * the check, the operator's entries made, the table rebuilt and published,
 * the old one freed, the entries nobody names deleted.
 */
static void
oper_changed(uint64_t now)
{
	struct espgw_err err = {{0}};
	struct espgw_route *old = fx.r;

	if (espgw_host_neigh_check(fx.h, &err) != 0 || espgw_host_neigh_sync(fx.h, now, &err) != 0)
		fail_msg("live change: %s", err.msg);
	fx.r = espgw_route_rebuild(old, &store, &err);
	if (fx.r == NULL)
		fail_msg("rebuild: %s", err.msg);
	espgw_host_route_set(fx.h, fx.r);
	espgw_route_free(old);
	espgw_host_neigh_prune(fx.h, now);
}

static void
neigh_conf(unsigned int i, const char *ip, const uint8_t mac[6], const char *port)
{
	ip_set(&neighs[i].ip, ip);
	memcpy(neighs[i].mac, mac, 6);
	snprintf(neighs[i].port, sizeof(neighs[i].port), "%s", port);
}

/*
 * "neighbor add" for a host being resolved: the learned entry becomes the
 * operator's, the packets waiting for it leave at once with the configured
 * MAC; ARP never changes it, it is never probed; "neighbor del" removes it
 * and the next packet resolves it again.
 */
static void
test_oper_static_adopts(void **state)
{
	static const uint16_t ids[] = {1, 2};
	struct espgw_l2_hop *e;

	(void)state;
	in(tag(ip4_pkt("10.1.0.10", "10.1.0.50", 100, 1, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	in(tag(ip4_pkt("10.1.0.10", "10.1.0.50", 100, 2, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	assert_int_equal(drain(P_LAN), 1); /* the ARP request */
	neigh_conf(2, "10.1.0.50", mac_b, "lan");
	store.n_neighs = 3;
	oper_changed(T0 + 10);
	expect_released(P_LAN, mac_b, ids, 2);
	assert_int_equal(espgw_host_stats(fx.h)->pending, 0);
	e = entry(P_LAN, "10.1.0.50");
	assert_non_null(e);
	assert_int_equal(e->kind, ESPGW_HOP_STATIC);
	arp_reply_in(P_LAN, mac_a, "10.1.0.50", T0 + 5000);
	espgw_host_timer(fx.h, T0 + 200000);
	expect_none(); /* no retransmission of the old request, no probe */
	assert_ptr_equal(hop_of("10.1.0.50"), e);
	assert_true(espgw_hop_resolved(e));
	assert_memory_equal(e->dst.addr_bytes, mac_b, 6);
	store.n_neighs = 2;
	oper_changed(T0 + 200001);
	assert_null(entry(P_LAN, "10.1.0.50"));
	in(tag(ip4_pkt("10.1.0.10", "10.1.0.50", 100, 3, false), ESPGW_CTL_NO_NEIGH, 0),
			T0 + 200002);
	assert_int_equal(drain(P_LAN), 1);
	assert_int_equal(espgw_host_stats(fx.h)->pending, 1);
}

/*
 * A route via a router that does not answer: packets wait on it. The route
 * deleted, the next hop goes with it and the waiting packets are routed again
 * by what is left (the default route, whose router then resolves).
 */
static void
test_oper_via_rerouted(void **state)
{
	static const uint16_t ids[] = {7, 8};

	(void)state;
	prefix_set(&routes[2].dst, "192.0.2.0/24");
	ip_set(&routes[2].via, "198.51.100.77");
	store.n_routes = 3;
	oper_changed(T0);
	assert_int_equal(entry(P_WAN, "198.51.100.77")->kind, ESPGW_HOP_VIA);
	in(tag(ip4_pkt("10.1.0.10", "192.0.2.5", 100, 7, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	in(tag(ip4_pkt("10.1.0.10", "192.0.2.5", 100, 8, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	assert_int_equal(drain(P_WAN), 1); /* who has .77 */
	store.n_routes = 2;
	oper_changed(T0 + 10);
	memset(&routes[2], 0, sizeof(routes[2]));
	assert_null(entry(P_WAN, "198.51.100.77"));
	assert_int_equal(espgw_host_stats(fx.h)->pending, 2);
	assert_int_equal(drain(P_WAN), 1); /* who has .254 */
	arp_reply_in(P_WAN, mac_r, "198.51.100.254", T0 + 20);
	expect_released(P_WAN, mac_r, ids, 2);
	assert_int_equal(dropped(ESPGW_DROP_NO_ROUTE), 0);
}

/*
 * Packets wait for a LAN router when its route goes; what is left (the
 * default route) leaves by the WAN. They are dropped (route_changed), never
 * sent there: a decrypted packet bound for the WAN must cross the outbound
 * SPD, which only the data path does. So is a packet the worker handed over
 * for the LAN and that finds the WAN route when the control path takes it.
 */
static void
test_oper_route_changed(void **state)
{
	(void)state;
	prefix_set(&routes[2].dst, "192.0.2.0/24");
	ip_set(&routes[2].via, "10.1.0.77");
	snprintf(routes[2].port, sizeof(routes[2].port), "lan");
	store.n_routes = 3;
	oper_changed(T0);
	in(tag(ip4_pkt("10.1.0.10", "192.0.2.5", 100, 7, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	assert_int_equal(drain(P_LAN), 1); /* who has .77 */
	store.n_routes = 2;
	oper_changed(T0 + 10);
	memset(&routes[2], 0, sizeof(routes[2]));
	assert_int_equal(dropped(ESPGW_DROP_ROUTE_CHANGED), 1);
	assert_int_equal(espgw_host_stats(fx.h)->pending, 0);
	expect_none();
	/* Handed over for the LAN, found routed by the WAN. */
	in(tag_port(ip4_pkt("10.1.0.10", "192.0.2.5", 100, 8, false), P_LAN), T0 + 20);
	assert_int_equal(dropped(ESPGW_DROP_ROUTE_CHANGED), 2);
	expect_none();
}

/*
 * A static neighbor that is also a route's next hop, deleted: the MAC stays
 * in use and is probed at once (STALE); unanswered, it is lost like any
 * next hop's. Added back: resolved with its MAC at once.
 */
static void
test_oper_static_to_via(void **state)
{
	struct espgw_l2_hop *e;
	unsigned int t;

	(void)state;
	neigh_conf(2, "198.51.100.254", mac_r, "wan");
	store.n_neighs = 3;
	oper_changed(T0);
	e = entry(P_WAN, "198.51.100.254");
	assert_int_equal(e->kind, ESPGW_HOP_STATIC);
	store.n_neighs = 2;
	oper_changed(T0 + 1000);
	assert_ptr_equal(entry(P_WAN, "198.51.100.254"), e);
	assert_int_equal(e->kind, ESPGW_HOP_VIA);
	assert_true(espgw_hop_resolved(e));
	espgw_host_timer(fx.h, T0 + 1000);
	expect_probe(P_WAN, mac_r);
	for (t = 1; t <= 3; t++) {
		espgw_host_timer(fx.h, T0 + 1000 + t * 1000);
		drain(P_WAN);
	}
	assert_false(espgw_hop_resolved(e));
	store.n_neighs = 3;
	oper_changed(T0 + 5000);
	assert_ptr_equal(entry(P_WAN, "198.51.100.254"), e);
	assert_int_equal(e->kind, ESPGW_HOP_STATIC);
	assert_true(espgw_hop_resolved(e));
	store.n_neighs = 2;
	oper_changed(T0 + 6000);
	drain(P_WAN);
}

/*
 * More operator entries than their room (the config's 4 at start + 256):
 * refused by the check. Next hops count once however many routes share one.
 */
static void
test_oper_room(void **state)
{
	struct espgw_err err = {{0}};
	struct espgw_route_conf *many = calloc(300, sizeof(*many));
	struct espgw_route_conf *keep = store.routes;
	unsigned int i;

	(void)state;
	assert_non_null(many);
	memcpy(many, routes, 2 * sizeof(*many));
	for (i = 2; i < 300; i++) {
		prefix_set(&many[i].dst, "192.0.2.0/24");
		if (i < 150) {
			ip_set(&many[i].via, "10.1.0.0");
			many[i].via.bytes[3] = (uint8_t)(100 + i); /* not .99, the static one */
		} else {
			ip_set(&many[i].via, "2001:db8:1::");
			many[i].via.bytes[15] = (uint8_t)(i - 148);
		}
		snprintf(many[i].port, sizeof(many[i].port), "lan");
	}
	store.routes = many;
	store.n_routes = 258; /* 4 + 256 distinct */
	assert_int_equal(espgw_host_neigh_check(fx.h, &err), 0);
	many[258] = many[257]; /* a next hop already counted */
	store.n_routes = 259;
	assert_int_equal(espgw_host_neigh_check(fx.h, &err), 0);
	many[258] = many[299];
	assert_int_equal(espgw_host_neigh_check(fx.h, &err), -1);
	assert_non_null(strstr(err.msg, ": 261 would exceed the room of 260"));
	store.routes = keep;
	store.n_routes = 2;
	free(many);
}

/* Reachable 60 s, then unicast probes; an answer keeps the entry, silence ends it. */
static void
test_aging(void **state)
{
	uint64_t t;

	(void)state;
	resolve_lan("10.1.0.50", mac_b, T0);
	espgw_host_timer(fx.h, T0 + 59999);
	expect_none();
	espgw_host_timer(fx.h, T0 + 60000);
	expect_probe(P_LAN, mac_b);
	assert_true(espgw_hop_resolved(hop_of("10.1.0.50"))); /* still used while probed */
	arp_reply_in(P_LAN, mac_b, "10.1.0.50", T0 + 60500);
	espgw_host_timer(fx.h, T0 + 61500);
	expect_none();
	t = T0 + 60500 + 60000;
	espgw_host_timer(fx.h, t);
	expect_probe(P_LAN, mac_b);
	espgw_host_timer(fx.h, t + 1000);
	expect_probe(P_LAN, mac_b);
	espgw_host_timer(fx.h, t + 2000);
	expect_probe(P_LAN, mac_b);
	espgw_host_timer(fx.h, t + 3000);
	expect_none();
	assert_null(entry(P_LAN, "10.1.0.50"));
	assert_false(espgw_hop_resolved(hop_of("10.1.0.50")));
	/* The static neighbor was never probed and still has its MAC. */
	assert_true(espgw_hop_resolved(hop_of("10.1.0.99")));
	assert_memory_equal(hop_of("10.1.0.99")->dst.addr_bytes, mac_static, 6);
}

/* A "via" next hop that stops answering loses its MAC but stays in the table. */
static void
test_aging_via(void **state)
{
	const struct espgw_l2_hop *h;
	unsigned int i;

	(void)state;
	in(tag(ip4_pkt("10.1.0.10", "203.0.113.5", 100, 0, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	assert_int_equal(drain(P_WAN), 1);
	arp_reply_in(P_WAN, mac_r, "198.51.100.254", T0);
	assert_int_equal(drain(P_WAN), 1);
	h = hop_of("203.0.113.5");
	assert_true(espgw_hop_resolved(h));
	for (i = 0; i <= 3; i++) {
		espgw_host_timer(fx.h, T0 + 60000 + i * 1000);
		if (i < 3)
			expect_probe(P_WAN, mac_r);
	}
	expect_none();
	assert_false(espgw_hop_resolved(h));
	assert_ptr_equal(entry(P_WAN, "198.51.100.254"), h);
}

/* ARP cannot overwrite a static neighbor. */
static void
test_static_kept(void **state)
{
	(void)state;
	arp_reply_in(P_LAN, mac_b, "10.1.0.99", T0);
	assert_memory_equal(hop_of("10.1.0.99")->dst.addr_bytes, mac_static, 6);
	assert_int_equal(cnt(ESPGW_HOST_ARP_REPLY_RX), 1);
	assert_int_equal(cnt(ESPGW_HOST_UNSOL_REFUSED), 1);
}

/* ---- what ARP and ND may teach the gateway (RFC 826, RFC 4861 7.2.3 / 7.2.5, lock time) ---- */

/* The entry a case starts from: none, resolved by us at T0, being resolved, probed, configured. */
enum { PRE_NONE, PRE_REACHABLE, PRE_INCOMPLETE, PRE_PROBE, PRE_CONF };
enum { ARP_REPLY, ARP_REQ_US, ARP_REQ_OTHER, ARP_GRATUITOUS, NA, NA_NO_TLLA, NS_US, NS_OTHER };
/*
 * The entry after: none, unresolved, resolved (REACHABLE: no probe for a
 * while), still probing (the next probe a retransmission later), STALE (a
 * unicast probe at once).
 */
enum { W_NONE, W_UNRESOLVED, W_RESOLVED, W_PROBING, W_STALE };
#define NA_S 0x40
#define NA_O 0x20

struct learn_case {
	const char *name;
	const char *ip; /* the neighbor the message speaks of */
	uint8_t pre;
	uint32_t age; /* the message comes at T0 + age; the entry was confirmed at T0 */
	uint8_t msg;
	uint8_t flags;	    /* NA: S, O */
	const uint8_t *mac; /* the MAC the message gives */
	uint8_t want;
	const uint8_t *want_mac;
	uint8_t frames; /* what the message itself makes us send: an answer, released packets */
	uint8_t applied, refused;
};

static const struct learn_case learn_cases[] = {
		/* RFC 826 merge: only known entries are updated; askers are entered. */
		{"ARP reply for an unknown address: nothing", "10.1.0.50", PRE_NONE, 0, ARP_REPLY,
				0, mac_b, W_NONE, NULL, 0, 0, 0},
		{"gratuitous ARP for an unknown address: nothing", "10.1.0.50", PRE_NONE, 0,
				ARP_GRATUITOUS, 0, mac_b, W_NONE, NULL, 0, 0, 0},
		{"ARP request between two other hosts: nothing", "10.1.0.50", PRE_NONE, 0,
				ARP_REQ_OTHER, 0, mac_b, W_NONE, NULL, 0, 0, 0},
		{"ARP request for us: the asker entered, STALE", "10.1.0.50", PRE_NONE, 0,
				ARP_REQ_US, 0, mac_b, W_STALE, mac_b, 1, 1, 0},
		{"ARP request for us from off the subnet: answered, nothing", "10.9.0.50", PRE_NONE,
				0, ARP_REQ_US, 0, mac_b, W_NONE, NULL, 1, 0, 0},
		/* The lock time: unsolicited news within 1 s of a confirmation is refused. */
		{"unsolicited ARP reply 500 ms after confirmation: refused", "10.1.0.50",
				PRE_REACHABLE, 500, ARP_REPLY, 0, mac_b, W_RESOLVED, mac_a, 0, 0,
				1},
		{"unsolicited ARP reply 1500 ms after: taken, STALE", "10.1.0.50", PRE_REACHABLE,
				1500, ARP_REPLY, 0, mac_b, W_STALE, mac_b, 0, 1, 0},
		{"gratuitous ARP 999 ms after: refused", "10.1.0.50", PRE_REACHABLE, 999,
				ARP_GRATUITOUS, 0, mac_b, W_RESOLVED, mac_a, 0, 0, 1},
		{"gratuitous ARP 1000 ms after: taken, STALE", "10.1.0.50", PRE_REACHABLE, 1000,
				ARP_GRATUITOUS, 0, mac_b, W_STALE, mac_b, 0, 1, 0},
		{"ARP request for us, new MAC, 500 ms after: answered, refused", "10.1.0.50",
				PRE_REACHABLE, 500, ARP_REQ_US, 0, mac_b, W_RESOLVED, mac_a, 1, 0,
				1},
		{"ARP request between others, new MAC, 1500 ms after: taken, STALE", "10.1.0.50",
				PRE_REACHABLE, 1500, ARP_REQ_OTHER, 0, mac_b, W_STALE, mac_b, 0, 1,
				0},
		{"ARP reply with the MAC we have: nothing changes", "10.1.0.50", PRE_REACHABLE, 10,
				ARP_REPLY, 0, mac_a, W_RESOLVED, mac_a, 0, 0, 0},
		/* An entry without a MAC: only the answer to our request fills it. */
		{"ARP reply to our request: INCOMPLETE filled, REACHABLE", "10.1.0.50",
				PRE_INCOMPLETE, 10, ARP_REPLY, 0, mac_b, W_RESOLVED, mac_b, 1, 0,
				0},
		{"ARP request for us while INCOMPLETE: answered, not filled", "10.1.0.50",
				PRE_INCOMPLETE, 10, ARP_REQ_US, 0, mac_b, W_UNRESOLVED, NULL, 1, 0,
				1},
		{"gratuitous ARP while INCOMPLETE: not filled", "10.1.0.50", PRE_INCOMPLETE, 10,
				ARP_GRATUITOUS, 0, mac_b, W_UNRESOLVED, NULL, 0, 0, 1},
		{"ARP reply to our probe, new MAC: REACHABLE", "10.1.0.50", PRE_PROBE, 60100,
				ARP_REPLY, 0, mac_b, W_RESOLVED, mac_b, 0, 0, 0},
		{"unsolicited ARP reply for a via never resolved: refused", "198.51.100.254",
				PRE_CONF, 5000, ARP_REPLY, 0, mac_b, W_UNRESOLVED, NULL, 0, 0, 1},
		{"ARP request for us from a via never resolved: answered, refused",
				"198.51.100.254", PRE_CONF, 5000, ARP_REQ_US, 0, mac_b,
				W_UNRESOLVED, NULL, 1, 0, 1},
		/* Static entries never change. */
		{"static: ARP reply with another MAC refused", "10.1.0.99", PRE_CONF, 5000,
				ARP_REPLY, 0, mac_b, W_RESOLVED, mac_static, 0, 0, 1},
		{"static: gratuitous ARP refused", "10.1.0.99", PRE_CONF, 5000, ARP_GRATUITOUS, 0,
				mac_b, W_RESOLVED, mac_static, 0, 0, 1},
		{"static: ARP request for us, another MAC: answered, refused", "10.1.0.99",
				PRE_CONF, 5000, ARP_REQ_US, 0, mac_b, W_RESOLVED, mac_static, 1, 0,
				1},
		/* RFC 4861 7.2.5 */
		{"NA O=1 for an unknown address: nothing", "2001:db8:1::50", PRE_NONE, 0, NA, NA_O,
				mac_b, W_NONE, NULL, 0, 0, 0},
		{"unsolicited NA O=1 1500 ms after: taken, STALE", "2001:db8:1::50", PRE_REACHABLE,
				1500, NA, NA_O, mac_b, W_STALE, mac_b, 0, 1, 0},
		{"unsolicited NA O=1 500 ms after: refused", "2001:db8:1::50", PRE_REACHABLE, 500,
				NA, NA_O, mac_b, W_RESOLVED, mac_a, 0, 0, 1},
		{"NA O=0, another MAC: kept, REACHABLE becomes STALE", "2001:db8:1::50",
				PRE_REACHABLE, 1500, NA, 0, mac_b, W_STALE, mac_a, 0, 0, 1},
		{"NA S=1 O=0 nobody asked for, another MAC: kept, STALE", "2001:db8:1::50",
				PRE_REACHABLE, 1500, NA, NA_S, mac_b, W_STALE, mac_a, 0, 0, 1},
		{"NA S=1 O=1 nobody asked for, 500 ms after: refused", "2001:db8:1::50",
				PRE_REACHABLE, 500, NA, NA_S | NA_O, mac_b, W_RESOLVED, mac_a, 0, 0,
				1},
		{"NA S=1 O=1 nobody asked for, 1500 ms after: STALE, not REACHABLE",
				"2001:db8:1::50", PRE_REACHABLE, 1500, NA, NA_S | NA_O, mac_b,
				W_STALE, mac_b, 0, 1, 0},
		{"NA S=1 to our NS: INCOMPLETE filled, REACHABLE", "2001:db8:1::50", PRE_INCOMPLETE,
				10, NA, NA_S, mac_b, W_RESOLVED, mac_b, 1, 0, 0},
		{"NA S=0 O=1 while INCOMPLETE: not filled", "2001:db8:1::50", PRE_INCOMPLETE, 10,
				NA, NA_O, mac_b, W_UNRESOLVED, NULL, 0, 0, 1},
		{"NA S=1 without TLLA to our probe: confirmed", "2001:db8:1::50", PRE_PROBE, 60100,
				NA_NO_TLLA, NA_S, NULL, W_RESOLVED, mac_a, 0, 0, 0},
		{"NA S=1 O=0 to our probe, another MAC: not taken", "2001:db8:1::50", PRE_PROBE,
				60100, NA, NA_S, mac_b, W_PROBING, mac_a, 0, 0, 1},
		{"NA S=1 O=1 for a via never resolved: refused", "2001:db8:100::fe", PRE_CONF, 5000,
				NA, NA_S | NA_O, mac_b, W_UNRESOLVED, NULL, 0, 0, 1},
		{"static: NA S=1 O=1 refused", "2001:db8:1::99", PRE_CONF, 5000, NA, NA_S | NA_O,
				mac_b, W_RESOLVED, mac_static, 0, 0, 1},
		/* RFC 4861 7.2.3 */
		{"NS for us: the asker entered, STALE", "2001:db8:1::50", PRE_NONE, 0, NS_US, 0,
				mac_b, W_STALE, mac_b, 1, 1, 0},
		{"NS for another target: nothing", "2001:db8:1::50", PRE_NONE, 0, NS_OTHER, 0,
				mac_b, W_NONE, NULL, 0, 0, 0},
		{"NS for us, new MAC, 500 ms after: answered, refused", "2001:db8:1::50",
				PRE_REACHABLE, 500, NS_US, 0, mac_b, W_RESOLVED, mac_a, 1, 0, 1},
		{"NS for us, new MAC, 1500 ms after: answered, STALE", "2001:db8:1::50",
				PRE_REACHABLE, 1500, NS_US, 0, mac_b, W_STALE, mac_b, 1, 1, 0},
};

static uint16_t
port_of(const char *ip)
{
	return strncmp(ip, "198.51.100.", 11) == 0 || strncmp(ip, "2001:db8:100:", 13) == 0 ? P_WAN
											    : P_LAN;
}

/* Resolved by us at T0 with mac_a (released packet read), or left INCOMPLETE, or probed. */
static void
learn_pre(const struct learn_case *c, uint16_t port, bool v4)
{
	if (c->pre == PRE_NONE || c->pre == PRE_CONF)
		return;
	if (v4)
		in(tag(ip4_pkt("10.1.0.10", c->ip, 100, 7, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	else
		in(tag(ip6_pkt("2001:db8:1::10", c->ip, 100, 0), ESPGW_CTL_NO_NEIGH, 0), T0);
	assert_int_equal(drain(port), 1);
	if (c->pre == PRE_INCOMPLETE)
		return;
	if (v4)
		arp_reply_in(port, mac_a, c->ip, T0);
	else
		na_msg_in(port, mac_a, c->ip, NA_S | NA_O, true, T0);
	assert_int_equal(drain(port), 1);
	if (c->pre != PRE_PROBE)
		return;
	espgw_host_timer(fx.h, T0 + 60000);
	assert_int_equal(drain(port), 1);
}

static void
learn_msg(const struct learn_case *c, uint16_t port, uint64_t t)
{
	switch (c->msg) {
	case ARP_REPLY:
		arp_in(port, 2, c->mac, c->ip, own4[port], t);
		break;
	case ARP_REQ_US:
		arp_in(port, 1, c->mac, c->ip, own4[port], t);
		break;
	case ARP_REQ_OTHER:
		arp_in(port, 1, c->mac, c->ip, "10.1.0.77", t);
		break;
	case ARP_GRATUITOUS:
		arp_in(port, 1, c->mac, c->ip, c->ip, t);
		break;
	case NA:
		na_msg_in(port, c->mac, c->ip, c->flags, true, t);
		break;
	case NA_NO_TLLA:
		na_msg_in(port, mac_a, c->ip, c->flags, false, t);
		break;
	case NS_US:
		ns_msg_in(port, c->mac, c->ip, own6[port], t);
		break;
	default:
		ns_msg_in(port, c->mac, c->ip, "2001:db8:1::77", t);
	}
}

/* The unicast probe for ip to mac (RFC 1122 2.3.2.1, RFC 4861 7.3.3), byte for byte. */
static void
expect_probe_exact(uint16_t port, const uint8_t mac[6], const char *ip)
{
	const uint8_t *me = port == P_LAN ? mac_lan : mac_wan;
	uint8_t b[86] = {0}, *ip6 = b + 14;
	size_t len = 86;

	memcpy(b, mac, 6);
	memcpy(b + 6, me, 6);
	if (strchr(ip, ':') == NULL) {
		len = 42;
		memcpy(b + 12, (const uint8_t[]){8, 6, 0, 1, 8, 0, 6, 4, 0, 1}, 10);
		memcpy(b + 22, me, 6);
		assert_int_equal(inet_pton(AF_INET, own4[port], b + 28), 1);
		assert_int_equal(inet_pton(AF_INET, ip, b + 38), 1);
		expect_frame(port, b, len);
		return;
	}
	memcpy(b + 12, (const uint8_t[]){0x86, 0xdd, 0x60, 0, 0, 0, 0, 32, 58, 255}, 10);
	assert_int_equal(inet_pton(AF_INET6, own6[port], ip6 + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, ip, ip6 + 24), 1);
	ip6[40] = 135;
	memcpy(ip6 + 48, ip6 + 24, 16);
	memcpy(ip6 + 64, (const uint8_t[]){1, 1}, 2);
	memcpy(ip6 + 66, me, 6);
	cksum6_set(ip6);
	expect_frame(port, b, len);
}

static void
learn_check(const struct learn_case *c, uint16_t port, uint64_t t)
{
	const struct espgw_l2_hop *e = entry(port, c->ip);

	assert_int_equal(drain(port), c->frames);
	if (c->want == W_NONE) {
		assert_null(e);
	} else if (c->want == W_UNRESOLVED) {
		assert_non_null(e);
		assert_false(espgw_hop_resolved(e));
	} else {
		assert_non_null(e);
		assert_true(espgw_hop_resolved(e));
		assert_memory_equal(e->dst.addr_bytes, c->want_mac, 6);
	}
	assert_int_equal(cnt(ESPGW_HOST_UNSOL_APPLIED), c->applied);
	assert_int_equal(cnt(ESPGW_HOST_UNSOL_REFUSED), c->refused);
	/* STALE is due at once: a unicast probe to the MAC now in use must confirm it. */
	espgw_host_timer(fx.h, t);
	if (c->want == W_STALE)
		expect_probe_exact(port, c->want_mac, c->ip);
	expect_none();
	if (c->want != W_RESOLVED && c->want != W_PROBING)
		return;
	espgw_host_timer(fx.h, t + 1000);
	if (c->want == W_PROBING)
		expect_probe_exact(port, c->want_mac, c->ip);
	expect_none();
}

/* Each case on a fresh control path: the entry before, one message, the entry after. */
static void
test_learn_rules(void **state)
{
	const struct learn_case *c;
	unsigned int i;
	uint16_t port;

	for (i = 0; i < RTE_DIM(learn_cases); i++) {
		c = &learn_cases[i];
		print_message("  %s\n", c->name);
		if (i > 0) {
			teardown(state);
			host_start();
		}
		port = port_of(c->ip);
		learn_pre(c, port, strchr(c->ip, ':') == NULL);
		learn_msg(c, port, T0 + c->age);
		learn_check(c, port, T0 + c->age);
	}
}

/*
 * The attack of the audit: the tunnel's next hop is resolved; a spoofer's
 * reply right after is refused; one later is taken only as STALE, and the
 * probe that follows goes to the MAC it claims, which must answer for it.
 */
static void
test_learn_spoofed_next_hop(void **state)
{
	const struct espgw_l2_hop *h;

	(void)state;
	in(tag(ip4_pkt("10.1.0.10", "203.0.113.5", 100, 0, false), ESPGW_CTL_NO_NEIGH, 0), T0);
	assert_int_equal(drain(P_WAN), 1);
	arp_reply_in(P_WAN, mac_r, "198.51.100.254", T0);
	assert_int_equal(drain(P_WAN), 1);
	h = hop_of("203.0.113.5");
	arp_reply_in(P_WAN, mac_b, "198.51.100.254", T0 + 1);
	arp_in(P_WAN, 1, mac_b, "198.51.100.254", "198.51.100.254", T0 + 2);
	assert_memory_equal(h->dst.addr_bytes, mac_r, 6);
	assert_int_equal(cnt(ESPGW_HOST_UNSOL_REFUSED), 2);
	/* The real router answers our probe 60 s on: confirmed again, locked again. */
	espgw_host_timer(fx.h, T0 + 60000);
	expect_probe_exact(P_WAN, mac_r, "198.51.100.254");
	arp_reply_in(P_WAN, mac_r, "198.51.100.254", T0 + 60010);
	arp_reply_in(P_WAN, mac_b, "198.51.100.254", T0 + 60020);
	assert_memory_equal(h->dst.addr_bytes, mac_r, 6);
	assert_int_equal(cnt(ESPGW_HOST_UNSOL_REFUSED), 3);
	expect_none();
}

/* RFC 1191 4: type 3 code 4 with the next-hop MTU, the quoted packet, from our LAN address. */
static void
test_frag_needed(void **state)
{
	struct rte_mbuf *m = ip4_pkt("10.1.0.10", "203.0.113.5", 1500, 0x42, true);
	uint8_t orig[548];
	const uint8_t *p, *ip, *icmp;

	(void)state;
	memcpy(orig, rte_pktmbuf_mtod_offset(m, const uint8_t *, 14), sizeof(orig));
	in(tag(m, ESPGW_CTL_TOO_BIG, 1446), T0);
	assert_int_equal(out(P_LAN, &m, 1), 1);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	ip = p + 14;
	icmp = ip + 20;
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 576); /* RFC 1812 4.3.2.3: 576 at most */
	assert_memory_equal(p, mac_a, 6);
	assert_memory_equal(p + 6, mac_lan, 6);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(be16(ip + 2), 576);
	assert_int_equal(ip[9], 1);
	assert_memory_equal(ip + 12, ((const uint8_t[]){10, 1, 0, 1, 10, 1, 0, 10}), 8);
	assert_true(cksum_ok(ip, 20));
	assert_int_equal(icmp[0], 3);
	assert_int_equal(icmp[1], 4);
	assert_int_equal(be16(icmp + 4), 0);
	assert_int_equal(be16(icmp + 6), 1446);
	assert_true(cksum_ok(icmp, 8 + 548));
	assert_memory_equal(icmp + 8, orig, sizeof(orig));
	rte_pktmbuf_free(m);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_ERROR), 1);
	/* No error about a packet from a multicast source (RFC 1122 3.2.2). */
	in(tag(ip4_pkt("224.0.0.5", "203.0.113.5", 1500, 1, true), ESPGW_CTL_TOO_BIG, 1446), T0);
	expect_none();
	assert_int_equal(dropped(ESPGW_DROP_TOO_BIG), 1);
}

/* RFC 4443 3.2: type 2 with a 32-bit MTU, as much of the packet as fits in 1280. */
static void
test_packet_too_big(void **state)
{
	struct rte_mbuf *m = ip6_pkt("2001:db8:1::10", "2001:db8:2::20", 1500, 3);
	uint8_t orig[1232], me[16];
	const uint8_t *ip, *icmp;

	(void)state;
	memcpy(orig, rte_pktmbuf_mtod_offset(m, const uint8_t *, 14), sizeof(orig));
	in(tag(m, ESPGW_CTL_TOO_BIG, 1406), T0);
	assert_int_equal(out(P_LAN, &m, 1), 1);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 1280);
	ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, 14);
	icmp = ip + 40;
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(be16(ip + 4), 1240);
	assert_int_equal(ip[6], 58);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::1", me), 1);
	assert_memory_equal(ip + 8, me, 16);
	assert_memory_equal(ip + 24, orig + 8, 16); /* back to the sender */
	assert_int_equal(icmp[0], 2);
	assert_int_equal(icmp[1], 0);
	assert_int_equal(be16(icmp + 4) << 16 | be16(icmp + 6), 1406);
	assert_true(cksum6_ok(ip));
	assert_memory_equal(icmp + 8, orig, sizeof(orig));
	rte_pktmbuf_free(m);
	/* Below the IPv6 minimum the report is 1280 (RFC 8200 5). */
	in(tag(ip6_pkt("2001:db8:1::10", "2001:db8:2::20", 1500, 3), ESPGW_CTL_TOO_BIG, 1200), T0);
	assert_int_equal(out(P_LAN, &m, 1), 1);
	icmp = rte_pktmbuf_mtod_offset(m, const uint8_t *, 14 + 40);
	assert_int_equal(be16(icmp + 6), 1280);
	rte_pktmbuf_free(m);
}

/* A DF packet from src too big for the tunnel, handed over at now. */
static void
too_big_from(const char *src, uint64_t now)
{
	in(tag(ip4_pkt(src, "203.0.113.5", 1500, 0, true), ESPGW_CTL_TOO_BIG, 1446), now);
}

/*
 * Each kind of error has 100/s with a bucket of 100 for the whole gateway: a
 * burst of 150 for 150 hosts sends 100; 100 ms later, 10 more.
 */
static void
test_rate_limit(void **state)
{
	char a[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < 150; i++) {
		snprintf(a, sizeof(a), "10.1.0.%u", 100 + i);
		too_big_from(a, T0);
	}
	assert_int_equal(drain(P_LAN), 100);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_RATELIMIT), 50);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_RATELIMIT_DST), 0);
	assert_int_equal(dropped(ESPGW_DROP_TOO_BIG), 50);
	for (i = 0; i < 20; i++) {
		snprintf(a, sizeof(a), "10.1.1.%u", 100 + i);
		too_big_from(a, T0 + 100);
	}
	assert_int_equal(drain(P_LAN), 10);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_ERROR), 110);
}

/*
 * RFC 4443 2.4 (f), RFC 1812 4.3.2.8, per destination: 10/s with a bucket of
 * 10. One host gets 10 of 20 at once and one more 100 ms later; another host
 * meanwhile gets its own.
 */
static void
test_rate_limit_dst(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < 20; i++)
		too_big_from("10.1.0.10", T0);
	assert_int_equal(drain(P_LAN), 10);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_RATELIMIT), 10);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_RATELIMIT_DST), 10);
	for (i = 0; i < 5; i++)
		too_big_from("10.1.0.10", T0 + 100);
	assert_int_equal(drain(P_LAN), 1);
	too_big_from("10.1.0.11", T0 + 100);
	assert_int_equal(drain(P_LAN), 1);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_ERROR), 12);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_RATELIMIT_DST), 14);
}

/* A packet from src to the far side that expires here. */
static void
expired_from(const char *src, uint64_t now)
{
	in(tag(ip4_pkt(src, "203.0.113.5", 100, 0, false), ESPGW_CTL_TTL, 0), now);
}

/*
 * The audit's case: one LAN host's TTL-1 flood used up the single bucket and
 * path MTU discovery broke for everyone. Now host A gets 10 time exceeded,
 * host B its packet too big; and a time-exceeded flood from 150 hosts uses up
 * the 100/s of that kind, not the packet-too-big budget.
 */
static void
test_rate_limit_flood(void **state)
{
	struct rte_mbuf *m;
	const uint8_t *icmp;
	char a[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < 200; i++)
		expired_from("10.1.0.10", T0);
	assert_int_equal(drain(P_LAN), 10);
	assert_int_equal(cnt(ESPGW_HOST_TIME_EXCEEDED), 10);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_RATELIMIT_DST), 190);
	too_big_from("10.1.0.11", T0);
	assert_int_equal(out(P_LAN, &m, 1), 1);
	icmp = rte_pktmbuf_mtod_offset(m, const uint8_t *, 14 + 20);
	assert_memory_equal(rte_pktmbuf_mtod_offset(m, const uint8_t *, 14 + 16),
			((const uint8_t[]){10, 1, 0, 11}), 4);
	assert_int_equal(icmp[0], 3);
	assert_int_equal(icmp[1], 4);
	assert_int_equal(be16(icmp + 6), 1446);
	rte_pktmbuf_free(m);
	/* A second on, every bucket is full again: 150 hosts, one packet each. */
	for (i = 0; i < 150; i++) {
		snprintf(a, sizeof(a), "10.1.0.%u", 100 + i);
		expired_from(a, T0 + 1000);
	}
	assert_int_equal(drain(P_LAN), 100);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_RATELIMIT_DST), 190);
	too_big_from("10.1.0.12", T0 + 1000);
	assert_int_equal(drain(P_LAN), 1);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_ERROR), 2);
	assert_int_equal(cnt(ESPGW_HOST_ERR_SUPPRESSED), 190 + 50);
}

/* The common part of an ICMP error about orig (L3 bytes): headers, checksums, the quote. */
static void
icmp_err_check(const uint8_t *ip, const uint8_t *orig, size_t orig_len, const char *src,
		const char *dst, uint8_t ttl, uint8_t type)
{
	uint8_t a[16];
	bool v4 = (ip[0] >> 4) == 4;
	size_t quote = RTE_MIN(orig_len, v4 ? 576u - 28 : 1280u - 48);
	const uint8_t *icmp = ip + (v4 ? 20 : 40);

	if (v4) {
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(be16(ip + 2), 28 + quote);
		assert_int_equal(ip[8], ttl);
		assert_int_equal(ip[9], 1);
		assert_true(cksum_ok(ip, 20));
		assert_int_equal(inet_pton(AF_INET, src, a), 1);
		assert_memory_equal(ip + 12, a, 4);
		assert_int_equal(inet_pton(AF_INET, dst, a), 1);
		assert_memory_equal(ip + 16, a, 4);
		assert_true(cksum_ok(icmp, 8 + quote));
	} else {
		assert_int_equal(be16(ip + 4), 8 + quote);
		assert_int_equal(ip[6], 58);
		assert_int_equal(ip[7], ttl);
		assert_int_equal(inet_pton(AF_INET6, src, a), 1);
		assert_memory_equal(ip + 8, a, 16);
		assert_int_equal(inet_pton(AF_INET6, dst, a), 1);
		assert_memory_equal(ip + 24, a, 16);
		assert_true(cksum6_ok(ip));
	}
	assert_int_equal(icmp[0], type);
	assert_int_equal(icmp[1], 0);
	assert_memory_equal(icmp + 8, orig, quote);
}

/*
 * RFC 792: type 11 code 0, 4 unused bytes, the quote; from our address on the
 * port it came in by, to the neighbor that sent it. The worker counted the drop.
 */
static void
test_time_exceeded(void **state)
{
	struct rte_mbuf *m = ip4_pkt("10.1.0.10", "203.0.113.5", 1000, 0x77, false);
	uint8_t orig[1000];
	const uint8_t *p;

	(void)state;
	memcpy(orig, rte_pktmbuf_mtod_offset(m, const uint8_t *, 14), sizeof(orig));
	in(tag(m, ESPGW_CTL_TTL, 0), T0);
	assert_int_equal(out(P_LAN, &m, 1), 1);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 576);
	assert_memory_equal(p, mac_a, 6);
	assert_memory_equal(p + 6, mac_lan, 6);
	icmp_err_check(p + 14, orig, sizeof(orig), "10.1.0.1", "10.1.0.10", 64, 11);
	assert_int_equal(be16(p + 14 + 24) << 16 | be16(p + 14 + 26), 0); /* unused */
	rte_pktmbuf_free(m);
	/* RFC 4443 3.3: type 3 code 0. */
	m = ip6_pkt("2001:db8:1::10", "2001:db8:2::20", 300, 5);
	memcpy(orig, rte_pktmbuf_mtod_offset(m, const uint8_t *, 14), 300);
	in(tag(m, ESPGW_CTL_TTL, 0), T0);
	assert_int_equal(out(P_LAN, &m, 1), 1);
	icmp_err_check(rte_pktmbuf_mtod_offset(m, const uint8_t *, 14), orig, 300, "2001:db8:1::1",
			"2001:db8:1::10", 64, 3);
	rte_pktmbuf_free(m);
	/* Reports are not "in": the workers counted these packets as drops already. */
	assert_int_equal(cnt(ESPGW_HOST_IN), 0);
	assert_int_equal(cnt(ESPGW_HOST_TTL_REPORT), 2);
	assert_int_equal(cnt(ESPGW_HOST_TIME_EXCEEDED), 2);
	assert_int_equal(drops(), 0);
}

/*
 * A packet that came out of a tunnel expired here (or did not fit the LAN):
 * its sender is behind the tunnel, so the error goes into the outbound path,
 * from our address on the side the packet was going to (the one the tunnel's
 * policies cover), with TTL 65 for the hop the outbound path takes off.
 */
static void
test_errors_through_tunnel(void **state)
{
	struct rte_mbuf *m = untunneled(ip4_pkt("10.2.0.5", "10.1.0.10", 200, 9, false));
	uint8_t orig[1500];
	const uint8_t *p;

	(void)state;
	memcpy(orig, rte_pktmbuf_mtod(m, const uint8_t *), 200);
	in(tag(m, ESPGW_CTL_TTL, 0), T0);
	m = injected(0x0800);
	assert_int_equal(espgw_inject_kind(m), ESPGW_INJECT_QUOTE_SA); /* back through an SA only */
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 28 + 200);
	icmp_err_check(p + 14, orig, 200, "10.1.0.1", "10.2.0.5", 65, 11);
	rte_pktmbuf_free(m);
	/* Packet too big for the LAN (RFC 4443 3.2), IPv6, the MTU in the error. */
	m = untunneled(ip6_pkt("2001:db8:2::5", "2001:db8:1::10", 1500, 1));
	memcpy(orig, rte_pktmbuf_mtod(m, const uint8_t *), 1500);
	in(tag(m, ESPGW_CTL_TOO_BIG, 1400), T0);
	m = injected(0x86dd);
	assert_int_equal(espgw_inject_kind(m), ESPGW_INJECT_QUOTE_SA);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 1280);
	icmp_err_check(p + 14, orig, 1500, "2001:db8:1::1", "2001:db8:2::5", 65, 2);
	assert_int_equal(be16(p + 14 + 44) << 16 | be16(p + 14 + 46), 1400);
	rte_pktmbuf_free(m);
	assert_int_equal(cnt(ESPGW_HOST_INJECTED), 2);
	assert_int_equal(cnt(ESPGW_HOST_ICMP_ERROR), 1);
	expect_none();
}

/* An IPv6 packet carrying ICMPv6 of type, expired on the way. */
static struct rte_mbuf *
icmp6_expired(uint8_t type)
{
	struct rte_mbuf *m = ip6_pkt("2001:db8:1::10", "2001:db8:2::20", 100, 6);
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);

	ip[6] = 58;
	ip[40] = type;
	return tag(m, ESPGW_CTL_TTL, 0);
}

/*
 * RFC 4443 2.4 (e.1, e.2): no error about an ICMPv6 error (type 1, 3) or a
 * redirect (137); an informational message (echo request) gets one.
 */
static void
test_time_exceeded_suppressed6(void **state)
{
	(void)state;
	in(icmp6_expired(1), T0);
	in(icmp6_expired(3), T0);
	in(icmp6_expired(137), T0);
	expect_none();
	assert_int_equal(cnt(ESPGW_HOST_ERR_SUPPRESSED), 3);
	in(icmp6_expired(128), T0);
	assert_int_equal(drain(P_LAN), 1);
	assert_int_equal(cnt(ESPGW_HOST_TIME_EXCEEDED), 1);
}

/*
 * No error about an ICMP error (RFC 1122 3.2.2), a non-initial fragment, or
 * to the gateway itself (its own encrypted packet), and none past the rate limit.
 */
static void
test_time_exceeded_suppressed(void **state)
{
	struct rte_mbuf *m;
	uint8_t *ip;
	unsigned int i;

	(void)state;
	m = ip4_pkt("10.1.0.10", "203.0.113.5", 100, 1, false);
	ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);
	ip[9] = 1;   /* ICMP */
	ip[20] = 11; /* time exceeded */
	in(tag(m, ESPGW_CTL_TTL, 0), T0);
	m = ip4_pkt("10.1.0.10", "203.0.113.5", 100, 2, false);
	rte_pktmbuf_mtod_offset(m, uint8_t *, 14)[7] = 10; /* fragment offset 80 */
	in(tag(m, ESPGW_CTL_TTL, 0), T0);
	in(tag(untunneled(ip4_pkt("198.51.100.1", "203.0.113.1", 100, 3, false)), ESPGW_CTL_TTL, 0),
			T0);
	expect_none();
	assert_int_equal(rte_ring_count(inject), 0);
	assert_int_equal(cnt(ESPGW_HOST_ERR_SUPPRESSED), 3);
	for (i = 0; i < 120; i++)
		in(tag(ip4_pkt("10.1.0.10", "203.0.113.5", 100, 4, false), ESPGW_CTL_TTL, 0), T0);
	assert_int_equal(drain(P_LAN), 10); /* one destination's 10 */
	assert_int_equal(cnt(ESPGW_HOST_ICMP_RATELIMIT), 110);
	assert_int_equal(cnt(ESPGW_HOST_ERR_SUPPRESSED), 113);
}

/* Inner MTU per SA: outer header, ESP header, IV, ICV, padding to the block, trailer. */
static void
test_tunnel_mtu(void **state)
{
	(void)state;
	/* AES-GCM over IPv4: 1500 - 20 - 8 - 8 - 16 = 1448 (4-aligned), minus 2. */
	assert_int_equal(espgw_host_tunnel_mtu(1500, ESPGW_AF_INET, 8, 16, 4), 1446);
	/* AES-CBC + HMAC-SHA-256-128 over IPv6: 1500 - 40 - 8 - 16 - 16 = 1420 -> 1408, minus 2. */
	assert_int_equal(espgw_host_tunnel_mtu(1500, ESPGW_AF_INET6, 16, 16, 16), 1406);
	/* AES-CBC + HMAC-SHA1-96 over IPv4 at 1400: 1344 is 16-aligned, minus 2. */
	assert_int_equal(espgw_host_tunnel_mtu(1400, ESPGW_AF_INET, 16, 12, 16), 1342);
	assert_int_equal(espgw_host_tunnel_mtu(60, ESPGW_AF_INET, 16, 16, 16), 0);
}

/* RFC 4291 appendix A: 52:54:00:12:34:56 -> fe80::5054:ff:fe12:3456. */
static void
test_link_local(void **state)
{
	struct rte_ether_addr mac = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
	struct espgw_ip ll, want;

	(void)state;
	espgw_host_link_local(&mac, &ll);
	ip_set(&want, "fe80::5054:ff:fe12:3456");
	assert_true(espgw_ip_equal(&ll, &want));
	/* The FIB sends link-local and multicast to the control path. */
	assert_true(hop_of("fe80::1") == NULL || hop_of("fe80::1")->local);
	assert_true(hop_of("ff02::1:ff00:1")->local);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test_setup_teardown(test_arp_reply, setup, teardown),
			cmocka_unit_test_setup_teardown(test_ns_na, setup, teardown),
			cmocka_unit_test_setup_teardown(test_ns_link_local, setup, teardown),
			cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
			cmocka_unit_test_setup_teardown(test_local_unhandled, setup, teardown),
			cmocka_unit_test_setup_teardown(test_tunnel_echo, setup, teardown),
			cmocka_unit_test_setup_teardown(test_time_exceeded, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_errors_through_tunnel, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_time_exceeded_suppressed, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_time_exceeded_suppressed6, setup, teardown),
			cmocka_unit_test_setup_teardown(test_unprotected_via_spd, setup, teardown),
			cmocka_unit_test_setup_teardown(test_resolve_v4, setup, teardown),
			cmocka_unit_test_setup_teardown(test_resolve_v6, setup, teardown),
			cmocka_unit_test_setup_teardown(test_resolve_fail, setup, teardown),
			cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
			cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
			cmocka_unit_test_setup_teardown(test_grace_period, setup, teardown),
			cmocka_unit_test_setup_teardown(test_neigh_quota, setup, teardown),
			cmocka_unit_test_setup_teardown(test_oper_static_adopts, setup, teardown),
			cmocka_unit_test_setup_teardown(test_oper_via_rerouted, setup, teardown),
			cmocka_unit_test_setup_teardown(test_oper_static_to_via, setup, teardown),
			cmocka_unit_test_setup_teardown(test_oper_route_changed, setup, teardown),
			cmocka_unit_test_setup_teardown(test_oper_room, setup, teardown),
			cmocka_unit_test_setup_teardown(test_neigh_bcast, setup, teardown),
			cmocka_unit_test_setup_teardown(test_aging, setup, teardown),
			cmocka_unit_test_setup_teardown(test_aging_via, setup, teardown),
			cmocka_unit_test_setup_teardown(test_static_kept, setup, teardown),
			cmocka_unit_test_setup_teardown(test_learn_rules, setup, teardown),
			cmocka_unit_test_setup_teardown(
					test_learn_spoofed_next_hop, setup, teardown),
			cmocka_unit_test_setup_teardown(test_frag_needed, setup, teardown),
			cmocka_unit_test_setup_teardown(test_packet_too_big, setup, teardown),
			cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
			cmocka_unit_test_setup_teardown(test_rate_limit_dst, setup, teardown),
			cmocka_unit_test_setup_teardown(test_rate_limit_flood, setup, teardown),
			cmocka_unit_test_setup_teardown(test_tunnel_mtu, setup, teardown),
			cmocka_unit_test_setup_teardown(test_link_local, setup, teardown),
	};

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
