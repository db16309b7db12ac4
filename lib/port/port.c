/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: config port -> ethdev by device name, one RX and one TX queue per
 * worker plus the control path's TX queue, RSS over IP/UDP/TCP when there is
 * more than one worker, offloads only where the device reports them, and
 * per-NUMA-socket mbuf pools.
 *
 * The pools hand out the buffer freed last first (DPDK's "stack" handler)
 * unless the platform or the EAL's --mbuf-pool-ops-name names one. Workers
 * free buffers another worker received (the hand-off, seq-order strict: the
 * owner transmits them), so the per-lcore caches flow into the common pool on
 * one core and out of it on another; the default ring handler is FIFO, and
 * hands out the buffer that waited longest, cold in every cache (with a
 * driver that copies frames in, such as net_pcap, a write to cold memory per
 * byte received). LIFO hands out the one still warm.
 *
 * With --mbuf-pools worker each worker receives into a pool of its own: a
 * buffer another worker frees goes back to the pool it came from, so a
 * frame's lines are only ever written by the core that received it, and the
 * core that sends it (the SA's owner) only reads them. One common pool hands
 * the owner's frees to the other worker's receive, a core change per line
 * and frame (seq-order strict at 64 B, 2 / 1 workers, alternating: shared
 * 1.54-1.57, per worker 1.58-1.71 in the VM's fast periods; README, The
 * buffer pool). Each such pool is sized so that its worker never runs dry
 * while its buffers sit in queues it does not drain: every TX queue of its
 * socket's ports may hold them (an owner sends them), so the memory grows
 * with the square of the workers (2.6 x the shared pool's buffers with 2
 * workers, 3.2 x with 4). That is why it is asked for, not the default: a
 * configuration sized for the shared pool may not start with it. Several
 * pools on one TX queue also rule out the device's fast free.
 */
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_ring.h>

#include "espgw_log.h"
#include "espgw_port.h"

#define DEFAULT_RXD	 1024
#define DEFAULT_TXD	 1024
#define POOL_CACHE	 256
#define WORKER_IN_FLIGHT 2048 /* burst buffers, crypto queue, TX staging per worker */
#define CTL_RING_SIZE	 1024
#define POOL_OPS	 "stack" /* LIFO: see the top of this file */

/* The error is about the port configured at pc's line (FILE:LINE in the report). */
static int
at_line(struct espgw_err *err, const struct espgw_port_conf *pc)
{
	err->line = pc->line;
	return -1;
}

static bool
conf_has_ipv6(const struct espgw_port_conf *pc)
{
	unsigned int a;

	for (a = 0; a < pc->n_addr; a++)
		if (pc->addr[a].ip.family == ESPGW_AF_INET6)
			return true;
	return false;
}

static int
port_find(struct espgw_port_info *pi, const struct espgw_port_conf *pc, struct espgw_err *err)
{
	if (rte_eth_dev_get_port_by_name(pc->dev, &pi->port_id) != 0)
		return espgw_err_set(err,
				"port %s: no ethdev named '%s' (add it with -a PCI or --vdev)",
				pc->name, pc->dev);
	pi->conf = pc;
	pi->role = pc->role;
	pi->mtu = pc->mtu;
	pi->allmulti = conf_has_ipv6(pc);
	pi->socket = rte_eth_dev_socket_id(pi->port_id);
	if (pi->socket < 0)
		pi->socket = 0;
	return 0;
}

static unsigned int
rxd_of(const struct espgw_port_conf *pc)
{
	return pc->rx_desc ? pc->rx_desc : DEFAULT_RXD;
}

static unsigned int
txd_of(const struct espgw_port_conf *pc)
{
	return pc->tx_desc ? pc->tx_desc : DEFAULT_TXD;
}

/* The descriptors of the socket's ports: rx_q RX and tx_q TX queues each. */
static unsigned int
descs(const struct espgw_ports *p, int socket, unsigned int rx_q, unsigned int tx_q)
{
	unsigned int i, n = 0;

	for (i = 0; i < p->n; i++)
		if (p->port[i].socket == socket)
			n += rx_q * rxd_of(p->port[i].conf) + tx_q * txd_of(p->port[i].conf);
	return n;
}

/* One pool for every queue: each worker's share. */
static unsigned int
shared_pool_size(const struct espgw_ports *p, int socket, unsigned int n_workers)
{
	return n_workers * WORKER_IN_FLIGHT + descs(p, socket, n_workers, n_workers);
}

/*
 * A worker's own pool (rx_q 1), or the control path's (rx_q 0): its RX
 * queues, what it has in flight, every TX queue (workers' and the control
 * path's) and every lcore's cache (a cache flushes above 1.5 x its size).
 */
static unsigned int
own_pool_size(const struct espgw_ports *p, int socket, unsigned int n_workers, unsigned int rx_q)
{
	return WORKER_IN_FLIGHT + descs(p, socket, rx_q, n_workers + 1) +
	       (n_workers + 1) * POOL_CACHE * 3 / 2;
}

/* The handler the file's header prefers: NULL (DPDK's choice) when someone named one. */
static const char *
pool_ops(void)
{
	if (rte_mbuf_user_mempool_ops() != NULL || rte_mbuf_platform_mempool_ops() != NULL)
		return NULL;
	return POOL_OPS;
}

/* The pool, or NULL with err set. */
static struct rte_mempool *
pool_create(const char *name, unsigned int n, int socket, struct espgw_err *err)
{
	const char *ops = pool_ops();
	struct rte_mempool *mp = NULL;

	if (ops != NULL)
		mp = rte_pktmbuf_pool_create_by_ops(
				name, n, POOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket, ops);
	/* Without the handler's driver (a build without it): DPDK's default. */
	if (mp == NULL)
		mp = rte_pktmbuf_pool_create(
				name, n, POOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (mp == NULL) {
		espgw_err_set(err, "cannot create mbuf pool %s (socket %d): %s", name, socket,
				rte_strerror(rte_errno));
		return NULL;
	}
	PORT_LOG(INFO, "mbuf pool %s: %u buffers, handler %s", name, n,
			rte_mempool_get_ops(mp->ops_index)->name);
	return mp;
}

static int
pools_create(struct espgw_ports *p, unsigned int n_workers, struct espgw_err *err)
{
	unsigned int i, n;
	char name[RTE_MEMPOOL_NAMESIZE];

	for (i = 0; i < p->n; i++) {
		int s = p->port[i].socket;

		if (p->pool[s] != NULL)
			continue;
		snprintf(name, sizeof(name), "espgw_mbuf_s%d", s);
		n = p->pools == ESPGW_MBUF_POOLS_WORKER ? own_pool_size(p, s, n_workers, 0)
							: shared_pool_size(p, s, n_workers);
		p->pool[s] = pool_create(name, n, s, err);
		if (p->pool[s] == NULL)
			return -1;
	}
	return 0;
}

/* The pool RX queue q (worker q's) of a port on socket s receives into. */
static struct rte_mempool *
rx_pool(const struct espgw_ports *p, int s, uint16_t q, unsigned int n_workers,
		struct espgw_err *err)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	if (p->pools != ESPGW_MBUF_POOLS_WORKER)
		return p->pool[s];
	snprintf(name, sizeof(name), "espgw_mbuf_s%d_w%u", s, q);
	mp = rte_mempool_lookup(name); /* made for the same queue of another port */
	return mp != NULL ? mp : pool_create(name, own_pool_size(p, s, n_workers, 1), s, err);
}

static unsigned int
pool_count(const struct espgw_ports *p)
{
	unsigned int s, n = 0;

	for (s = 0; s < RTE_MAX_NUMA_NODES; s++)
		n += p->pool[s] != NULL;
	return n;
}

/* RSS spreads flows over the workers; a port with one queue needs none. */
static void
conf_rss(struct rte_eth_conf *conf, const struct rte_eth_dev_info *di, unsigned int nq)
{
	uint64_t hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP;

	hf &= di->flow_type_rss_offloads;
	if (nq < 2 || hf == 0)
		return;
	conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf->rx_adv_conf.rss_conf.rss_hf = hf;
}

static void
conf_offloads(struct espgw_port_info *pi, struct rte_eth_conf *conf,
		const struct rte_eth_dev_info *di, bool single_pool)
{
	/* The workers verify every IPv4 header checksum: in hardware where the device can. */
	if (di->rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		pi->rx_ipv4_cksum = true;
	}
	PORT_LOG(INFO, "port %s: IPv4 header checksums verified %s", pi->conf->name,
			pi->rx_ipv4_cksum ? "by the device" : "in software");
	if (di->tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		pi->tx_ipv4_cksum = true;
	}
	/* Fast free needs every transmitted mbuf from one pool with refcnt 1. */
	if (single_pool && (di->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)) {
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
		pi->fast_free = true;
	}
}

static int
queues_setup(const struct espgw_ports *p, struct espgw_port_info *pi, unsigned int n_workers,
		const struct rte_eth_conf *conf, struct espgw_err *err)
{
	struct rte_mempool *pool;
	uint16_t rxd = (uint16_t)rxd_of(pi->conf);
	uint16_t txd = (uint16_t)txd_of(pi->conf);
	struct rte_eth_txconf txc;
	struct rte_eth_dev_info di;
	uint16_t q;
	int rc;

	rte_eth_dev_adjust_nb_rx_tx_desc(pi->port_id, &rxd, &txd);
	rte_eth_dev_info_get(pi->port_id, &di);
	txc = di.default_txconf;
	txc.offloads = conf->txmode.offloads;
	for (q = 0; q < pi->n_rxq; q++) {
		pool = rx_pool(p, pi->socket, q, n_workers, err);
		if (pool == NULL)
			return -1;
		rc = rte_eth_rx_queue_setup(pi->port_id, q, rxd, pi->socket, NULL, pool);
		if (rc < 0)
			return espgw_err_set(err, "port %s: RX queue setup failed: %s",
					pi->conf->name, rte_strerror(-rc));
	}
	for (q = 0; q < pi->n_txq; q++) {
		rc = rte_eth_tx_queue_setup(pi->port_id, q, txd, pi->socket, &txc);
		if (rc < 0)
			return espgw_err_set(err, "port %s: TX queue setup failed: %s",
					pi->conf->name, rte_strerror(-rc));
	}
	return 0;
}

/*
 * The control path's frames leave on a TX queue of their own when the device
 * has one to spare. Otherwise they go through a ring that worker 0 sends on
 * its own queue, so that no TX queue is ever used by two lcores: net_pcap
 * with one tx_pcap, af_packet with qpairs = workers, net_tap (it refuses
 * more TX than RX queues), and net_memif, whose queues are rings paired with
 * the peer's (our extra TX ring would feed an RX queue the peer never polls).
 * A device that refuses the extra queue at configure falls back the same way.
 */
static bool
ctl_txq_possible(const struct rte_eth_dev_info *di, unsigned int n_workers)
{
	return di->max_tx_queues > n_workers && strcmp(di->driver_name, "net_memif") != 0 &&
	       strcmp(di->driver_name, "net_tap") != 0;
}

static int
ctl_ring_create(struct espgw_port_info *pi, struct espgw_err *err)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "espgw_ctl_tx%u", pi->port_id);
	pi->ctl_ring = rte_ring_create(
			name, CTL_RING_SIZE, pi->socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (pi->ctl_ring == NULL)
		return espgw_err_set(err, "port %s: cannot create the control TX ring: %s",
				pi->conf->name, rte_strerror(rte_errno));
	PORT_LOG(INFO,
			"port %s: no TX queue of its own for the control path: its frames go "
			"through worker 0's",
			pi->conf->name);
	return 0;
}

/* Configure with the control TX queue when possible, else without it. */
static int
configure_queues(struct espgw_port_info *pi, const struct rte_eth_dev_info *di,
		unsigned int n_workers, const struct rte_eth_conf *conf)
{
	int rc;

	pi->n_txq = (uint16_t)n_workers;
	pi->ctl_txq = ESPGW_CTL_TXQ_NONE;
	if (ctl_txq_possible(di, n_workers)) {
		rc = rte_eth_dev_configure(pi->port_id, pi->n_rxq, pi->n_txq + 1, conf);
		if (rc == 0) {
			pi->ctl_txq = pi->n_txq++;
			return 0;
		}
	}
	return rte_eth_dev_configure(pi->port_id, pi->n_rxq, pi->n_txq, conf);
}

static int
port_configure(struct espgw_ports *p, struct espgw_port_info *pi, unsigned int n_workers,
		struct espgw_err *err)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info di;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(pi->port_id, &di);
	if (rc != 0)
		return espgw_err_set(err, "port %s: cannot read device info: %s", pi->conf->name,
				rte_strerror(-rc));
	if (di.max_rx_queues < n_workers || di.max_tx_queues < n_workers)
		return espgw_err_set(err,
				"port %s: device %s has %u RX/%u TX queues, %u workers need one "
				"each",
				pi->conf->name, pi->conf->dev, di.max_rx_queues, di.max_tx_queues,
				n_workers);
	pi->n_rxq = (uint16_t)n_workers;
	conf_rss(&conf, &di, n_workers);
	conf_offloads(pi, &conf, &di, pool_count(p) == 1 && p->pools == ESPGW_MBUF_POOLS_SHARED);
	rc = configure_queues(pi, &di, n_workers, &conf);
	if (rc != 0)
		return espgw_err_set(err, "port %s: configure failed: %s", pi->conf->name,
				rte_strerror(-rc));
	if (pi->ctl_txq == ESPGW_CTL_TXQ_NONE && ctl_ring_create(pi, err) < 0)
		return -1;
	return queues_setup(p, pi, n_workers, &conf, err);
}

/*
 * The configured MAC is our source address whatever the device says. A device
 * that cannot take it (some vdevs) is put in promiscuous mode, so frames sent
 * to that MAC still arrive.
 */
static void
port_mac_setup(struct espgw_port_info *pi)
{
	struct rte_ether_addr mac;

	if (!pi->conf->has_mac) {
		rte_eth_macaddr_get(pi->port_id, &pi->mac);
		return;
	}
	memcpy(mac.addr_bytes, pi->conf->mac, RTE_ETHER_ADDR_LEN);
	pi->mac = mac;
	if (rte_eth_dev_default_mac_addr_set(pi->port_id, &mac) == 0)
		return;
	pi->promisc = true;
	PORT_LOG(WARNING,
			"port %s: device does not take MAC " RTE_ETHER_ADDR_PRT_FMT
			", using promiscuous mode",
			pi->conf->name, RTE_ETHER_ADDR_BYTES(&mac));
}

/* The MTU is enforced in software; the device MTU is set when the device allows. */
static void
port_l2_setup(struct espgw_port_info *pi)
{
	port_mac_setup(pi);
	if (rte_eth_dev_set_mtu(pi->port_id, pi->mtu) != 0)
		PORT_LOG(INFO, "port %s: MTU %u not set on the device (kept in software)",
				pi->conf->name, pi->mtu);
}

int
espgw_ports_setup(struct espgw_ports *p, const struct espgw_store *s, unsigned int n_workers,
		enum espgw_mbuf_pools pools, struct espgw_err *err)
{
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->pools = pools;
	memset(p->port_idx_of, 0xff, sizeof(p->port_idx_of));
	if (s->n_ports > ESPGW_MAX_PORTS)
		return espgw_err_set(err, "too many ports (max %d)", ESPGW_MAX_PORTS);
	p->n = s->n_ports;
	for (i = 0; i < p->n; i++) {
		if (port_find(&p->port[i], &s->ports[i], err) < 0)
			return at_line(err, &s->ports[i]);
		p->port_idx_of[p->port[i].port_id] = (uint16_t)i;
	}
	if (pools_create(p, n_workers, err) < 0)
		return -1;
	for (i = 0; i < p->n; i++) {
		if (port_configure(p, &p->port[i], n_workers, err) < 0)
			return at_line(err, &s->ports[i]);
		port_l2_setup(&p->port[i]);
	}
	return 0;
}

/*
 * Neighbor solicitations arrive at solicited-node multicast MACs
 * (33:33:ff:xx:xx:xx, RFC 2464 7): accept all multicast, or everything when
 * the device cannot filter that way.
 */
static void
port_multicast_setup(const struct espgw_port_info *pi)
{
	if (!pi->allmulti || pi->promisc)
		return;
	if (rte_eth_allmulticast_enable(pi->port_id) == 0 &&
			rte_eth_allmulticast_get(pi->port_id) == 1)
		return;
	if (rte_eth_promiscuous_enable(pi->port_id) != 0)
		PORT_LOG(WARNING,
				"port %s: neither all-multicast nor promiscuous mode: IPv6 "
				"neighbor solicitations may not arrive",
				pi->conf->name);
}

int
espgw_ports_start(struct espgw_ports *p, struct espgw_err *err)
{
	unsigned int i;
	int rc;

	for (i = 0; i < p->n; i++) {
		rc = rte_eth_dev_start(p->port[i].port_id);
		if (rc != 0) {
			espgw_err_set(err, "port %s: start failed: %s", p->port[i].conf->name,
					rte_strerror(-rc));
			return at_line(err, p->port[i].conf);
		}
		if (p->port[i].promisc)
			rte_eth_promiscuous_enable(p->port[i].port_id);
		port_multicast_setup(&p->port[i]);
	}
	return 0;
}

void
espgw_ports_close(struct espgw_ports *p)
{
	struct espgw_port_info *pi;
	struct rte_mbuf *m;
	unsigned int i;

	for (i = 0; i < p->n; i++) {
		pi = &p->port[i];
		if (pi->closed)
			continue;
		if (rte_eth_stats_get(pi->port_id, &pi->last) != 0)
			memset(&pi->last, 0, sizeof(pi->last));
		pi->closed = true;
		rte_eth_dev_stop(pi->port_id);
		rte_eth_dev_close(pi->port_id);
		while (pi->ctl_ring != NULL && rte_ring_dequeue(pi->ctl_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(pi->ctl_ring);
		pi->ctl_ring = NULL;
	}
}
