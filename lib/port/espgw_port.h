/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet ports: match config ports to ethdevs by device name, configure one
 * RX and one TX queue per worker (RSS when more than one) plus one TX queue for
 * the main lcore's control path (ARP/ND/ICMP, released packets) where the
 * device has one to spare, else a ring worker 0 drains onto its own queue: no
 * TX queue is ever shared between lcores. Offloads only when the device
 * reports them; the ports own the per-socket mbuf pools.
 */
#ifndef ESPGW_PORT_H
#define ESPGW_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "espgw_store.h"

#define ESPGW_MAX_PORTS	   32
#define ESPGW_CTL_TXQ_NONE UINT16_MAX

/* --mbuf-pools: which pool each RX queue receives into (see port.c). */
enum espgw_mbuf_pools {
	ESPGW_MBUF_POOLS_SHARED, /* one pool per socket for every queue (the default) */
	ESPGW_MBUF_POOLS_WORKER, /* one per worker and socket; the control path's apart */
};

/* What the rest of espgw knows about one port, indexed like store->ports. */
struct espgw_port_info {
	uint16_t port_id; /* ethdev id */
	enum espgw_port_role role;
	struct rte_ether_addr mac;
	uint16_t mtu;
	uint16_t n_rxq, n_txq;
	uint16_t ctl_txq; /* the control path's TX queue (= workers), or ESPGW_CTL_TXQ_NONE */
	struct rte_ring *ctl_ring; /* without ctl_txq: control frames for worker 0 to send */
	bool rx_ipv4_cksum;	   /* RTE_ETH_RX_OFFLOAD_IPV4_CKSUM enabled */
	bool tx_ipv4_cksum;	   /* RTE_ETH_TX_OFFLOAD_IPV4_CKSUM enabled */
	bool fast_free;		   /* RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE enabled */
	bool promisc;		   /* the device refused the configured MAC */
	bool allmulti; /* IPv6 port: solicited-node multicast must arrive (RFC 4861 7.2.1) */
	int socket;
	const struct espgw_port_conf *conf;
	bool closed;		   /* espgw_ports_close() done: counters in last */
	struct rte_eth_stats last; /* the device's counters read just before it was closed */
};

struct espgw_ports {
	struct espgw_port_info port[ESPGW_MAX_PORTS];
	unsigned int n;
	/* per socket, NULL where unused: every queue's, or with worker pools the control path's */
	struct rte_mempool *pool[RTE_MAX_NUMA_NODES];
	enum espgw_mbuf_pools pools;		/* --mbuf-pools */
	uint16_t port_idx_of[RTE_MAX_ETHPORTS]; /* ethdev id -> index, UINT16_MAX if none */
};

/* Find ethdevs, size and create pools, configure queues (not started). */
int espgw_ports_setup(struct espgw_ports *p, const struct espgw_store *s, unsigned int n_workers,
		enum espgw_mbuf_pools pools, struct espgw_err *err);
int espgw_ports_start(struct espgw_ports *p, struct espgw_err *err);
/*
 * Stop and close every port (net_pcap output is flushed, mbufs the device
 * held go back to the pools); each port's last counters are kept.
 */
void espgw_ports_close(struct espgw_ports *p);

/* A port's counters: the device's while it is open, the last ones read after it closed. */
static inline int
espgw_port_stats(const struct espgw_port_info *pi, struct rte_eth_stats *es)
{
	if (!pi->closed)
		return rte_eth_stats_get(pi->port_id, es);
	*es = pi->last;
	return 0;
}

#endif
