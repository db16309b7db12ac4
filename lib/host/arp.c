/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826) for IPv4 over Ethernet: answer requests for the receiving
 * port's own addresses, tell neigh_learn what each message says of its
 * sender (which it takes only by the rules in neigh_resolve.c), and send
 * requests to resolve next hops. Hand-written: DPDK has the header struct,
 * no protocol.
 */
#include <string.h>

#include <rte_arp.h>

#include "host_int.h"

#define ARP_FRAME_LEN (RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr))

static bool
arp_valid(const struct rte_mbuf *m, const struct rte_arp_hdr *a)
{
	const struct rte_ether_addr *sha = &a->arp_data.arp_sha;

	if (rte_pktmbuf_data_len(m) < ARP_FRAME_LEN)
		return false;
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
			a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
			a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != sizeof(uint32_t))
		return false;
	/* A sender hardware address must be a station's: never learn or answer anything else. */
	return rte_is_unicast_ether_addr(sha) && !rte_is_zero_ether_addr(sha);
}

static void
arp_fill(struct rte_arp_hdr *a, uint16_t op, const struct rte_ether_addr *sha, uint32_t sip,
		const struct rte_ether_addr *tha, uint32_t tip)
{
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = sizeof(uint32_t);
	a->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(sha, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = sip;
	rte_ether_addr_copy(tha, &a->arp_data.arp_tha);
	a->arp_data.arp_tip = tip;
}

/* To the requester's hardware address, from the port's (RFC 826, "Packet Reception"). */
static void
arp_reply(struct espgw_host *h, struct rte_mbuf *m, uint16_t port)
{
	const struct rte_arp_hdr *rq =
			rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, RTE_ETHER_HDR_LEN);
	struct rte_ether_addr sha = rq->arp_data.arp_sha;
	uint32_t sip = rq->arp_data.arp_sip, tip = rq->arp_data.arp_tip;
	struct rte_ether_hdr *eth = host_frame_reset(m, ARP_FRAME_LEN);

	if (eth == NULL) {
		host_drop(h, m, ESPGW_DROP_BAD_L3);
		return;
	}
	host_eth_fill(eth, &sha, h, port, RTE_ETHER_TYPE_ARP);
	arp_fill((struct rte_arp_hdr *)(eth + 1), RTE_ARP_OP_REPLY, &h->ports->port[port].mac, tip,
			&sha, sip);
	host_count(h, ESPGW_HOST_ARP_REPLY_TX);
	host_reply(h, port, m);
}

/*
 * RFC 826 merge: what a message says of its sender. A request for one of our
 * addresses may enter the asker; a reply to our address may answer our
 * request; anything else is unsolicited (neigh_resolve.c decides).
 */
static void
arp_news(const struct rte_arp_hdr *a, bool for_us, struct nb_news *n)
{
	uint16_t op = rte_be_to_cpu_16(a->arp_opcode);

	memset(n, 0, sizeof(*n));
	n->ip.family = ESPGW_AF_INET;
	n->ip.v4 = a->arp_data.arp_sip;
	n->mac = a->arp_data.arp_sha;
	n->has_mac = true;
	n->override = true;
	n->to_us = op == RTE_ARP_OP_REQUEST && for_us;
	n->answer = op == RTE_ARP_OP_REPLY && for_us;
}

void
arp_input(struct espgw_host *h, struct rte_mbuf *m, uint16_t port, uint64_t now)
{
	const struct rte_arp_hdr *a =
			rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, RTE_ETHER_HDR_LEN);
	struct espgw_ip tip = {.family = ESPGW_AF_INET};
	struct nb_news n;

	if (!arp_valid(m, a)) {
		host_drop(h, m, ESPGW_DROP_BAD_L3);
		return;
	}
	tip.v4 = a->arp_data.arp_tip;
	arp_news(a, host_addr_own(h, port, &tip), &n);
	host_count(h, a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)
					? ESPGW_HOST_ARP_REQ_RX
					: ESPGW_HOST_ARP_REPLY_RX);
	/* 0.0.0.0 is an address probe (RFC 5227): nothing to learn. */
	if (n.ip.v4 != 0)
		neigh_learn(h, port, &n, now);
	if (n.to_us)
		arp_reply(h, m, port);
	else
		host_absorb(h, m);
}

/*
 * Resolve hop->ip: broadcast, or unicast to the MAC we have when re-probing a
 * resolved entry (RFC 1122 2.3.2.1).
 */
void
arp_solicit(struct espgw_host *h, const struct espgw_l2_hop *hop, bool unicast)
{
	static const struct rte_ether_addr zero;
	struct rte_ether_addr bcast, dst;
	struct rte_ether_hdr *eth;
	struct espgw_ip src;
	struct rte_mbuf *m;

	if (host_src_addr(h, hop->port_idx, &hop->ip, &src) < 0) {
		host_count(h, ESPGW_HOST_ORIG_FAILED);
		return;
	}
	m = host_frame_alloc(h, hop->port_idx, ARP_FRAME_LEN);
	if (m == NULL) {
		host_count(h, ESPGW_HOST_ORIG_FAILED);
		return;
	}
	memset(&bcast, 0xff, sizeof(bcast));
	espgw_hop_dst(hop, &dst);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	host_eth_fill(eth, unicast ? &dst : &bcast, h, hop->port_idx, RTE_ETHER_TYPE_ARP);
	arp_fill((struct rte_arp_hdr *)(eth + 1), RTE_ARP_OP_REQUEST,
			&h->ports->port[hop->port_idx].mac, src.v4, &zero, hop->ip.v4);
	host_originate(h, hop->port_idx, m, ESPGW_HOST_ARP_REQ_TX);
}
