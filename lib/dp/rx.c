/* SPDX-License-Identifier: BSD-3-Clause */
/* The first stage on every received burst, and the hand-off to the control path. */
#include <rte_ether.h>
#include <rte_ring.h>

#include "pkt.h"
#include "stage.h"

/* Keep IPv4/IPv6 packets, hand ARP to the control path, drop the rest. */
uint16_t
stage_parse(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, uint8_t proto[])
{
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		switch (pkt_parse(m[i], RTE_ETHER_HDR_LEN, &proto[k])) {
		case PKT_IPV4:
		case PKT_IPV6:
			m[k++] = m[i];
			break;
		case PKT_ARP:
			stage_to_ctl(w, m[i]);
			break;
		case PKT_BAD:
			drop(w, m[i], ESPGW_DROP_BAD_L3);
			break;
		default:
			drop(w, m[i], ESPGW_DROP_UNSUPPORTED_L3);
		}
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

void
stage_to_ctl(struct espgw_worker *w, struct rte_mbuf *m)
{
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
