/* SPDX-License-Identifier: BSD-3-Clause */
/* The first stage on every received burst, and the hand-off to the control path. */
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ring.h>

#include "pkt.h"
#include "stage.h"

/* One frame: true for an IPv4/IPv6 packet; ARP goes to the control path, the rest is dropped. */
static inline bool
parse_one(struct espgw_worker *w, struct rte_mbuf *m, uint8_t *proto)
{
	enum espgw_drop why;

	switch (pkt_parse(m, RTE_ETHER_HDR_LEN, proto, &why)) {
	case PKT_IPV4:
	case PKT_IPV6:
		return true;
	case PKT_ARP:
		stage_to_ctl(w, m);
		return false;
	case PKT_BAD:
		drop(w, m, why);
		return false;
	default:
		drop(w, m, ESPGW_DROP_UNSUPPORTED_L3);
		return false;
	}
}

/* Keep IPv4/IPv6 packets, hand ARP to the control path, drop the rest. */
uint16_t
stage_parse(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, uint8_t proto[])
{
	uint16_t i, k = 0;

	for (i = 0; i < n; i++)
		if (parse_one(w, m[i], &proto[k]))
			m[k++] = m[i];
	return k;
}

/*
 * A host takes only frames for its own MAC and for the broadcast and
 * multicast addresses (RFC 1122 2.4): a device that cannot filter, or one in
 * promiscuous mode because it refused our MAC, hands over frames for other
 * stations too. Checked on every port, whatever the device, since a group
 * address says something the address rules need (ESPGW_FROM_GROUP) anyway.
 */
static inline bool
l2_accept(struct espgw_worker *w, const struct rte_ether_addr *mac, struct rte_mbuf *m, bool *group)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN)) {
		drop(w, m, ESPGW_DROP_BAD_L3);
		return false;
	}
	*group = rte_is_multicast_ether_addr(&eth->dst_addr);
	if (unlikely(rte_is_multicast_ether_addr(&eth->src_addr))) {
		drop(w, m, ESPGW_DROP_L2_GROUP_SRC); /* an answer to it would reach every station */
		return false;
	}
	if (likely(rte_is_same_ether_addr(&eth->dst_addr, mac)) || *group)
		return true;
	drop(w, m, ESPGW_DROP_L2_OTHER_HOST);
	return false;
}

uint16_t
stage_rx(struct espgw_worker *w, const struct espgw_rxq *q, struct rte_mbuf *m[], uint16_t n,
		uint8_t proto[])
{
	const struct espgw_input *in = w->t->input;
	const struct rte_ether_addr mac = q->mac;
	enum espgw_drop why;
	uint16_t i, k = 0;
	bool group;

	for (i = 0; i < n; i++) {
		if (!l2_accept(w, &mac, m[i], &group) || !parse_one(w, m[i], &proto[k]))
			continue;
		why = espgw_input_rules(in,
				rte_pktmbuf_mtod_offset(m[i], const uint8_t *, RTE_ETHER_HDR_LEN),
				RTE_ETH_IS_IPV4_HDR(m[i]->packet_type),
				group ? ESPGW_FROM_GROUP : ESPGW_FROM_UNICAST);
		if (likely(why == ESPGW_DROP_MAX))
			m[k++] = m[i];
		else
			drop(w, m[i], why);
	}
	return k;
}

void
stage_ctl_handoff(
		struct espgw_worker *w, struct rte_mbuf *m, enum espgw_ctl_reason why, uint16_t mtu)
{
	espgw_ctl_tag_set(m, why, mtu);
	if (rte_ring_enqueue(w->ctl, m) != 0) {
		drop(w, m, ESPGW_DROP_CTL_FULL);
		return;
	}
	w->stats.to_ctl++;
}

bool
stage_local_ok(struct espgw_worker *w, struct rte_mbuf *m)
{
	enum espgw_drop why;

	if (!RTE_ETH_IS_IPV6_HDR(m->packet_type) || m->l3_len <= sizeof(struct rte_ipv6_hdr))
		return true;
	why = pkt_ipv6_local_check(m);
	if (why == ESPGW_DROP_MAX)
		return true;
	if (m->l2_len == 0) /* out of a tunnel: an error of its SA */
		drop_sa(w, m, why, *espgw_mbuf_sa(m));
	else
		drop(w, m, why);
	return false;
}

void
stage_to_ctl(struct espgw_worker *w, struct rte_mbuf *m)
{
	if (stage_local_ok(w, m))
		stage_ctl_handoff(w, m, ESPGW_CTL_LOCAL, 0);
}

/*
 * RFC 792 / RFC 4443 3.3: the sender hears of it from the control path (rate
 * limited, lib/host); here the packet's forwarding ends as a drop, so it is
 * not one of to_ctl, and its mbuf is reused for the error.
 */
void
stage_ttl_expired(struct espgw_worker *w, struct rte_mbuf *m, uint32_t sa)
{
	w->stats.drop[ESPGW_DROP_TTL_EXCEEDED]++;
	if (sa != STAGE_NO_SA)
		w->stats.sa[sa].errors++;
	espgw_ctl_tag_set(m, ESPGW_CTL_TTL, 0);
	if (rte_ring_enqueue(w->ctl, m) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	w->dp[ESPGW_DP_TTL_REPORTS]++;
}
