/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound (packets from a protected port): parse, classify against the
 * outbound SPD, then protect (ESP), bypass (forward in clear) or discard.
 * No matching rule means discard (RFC 4301 4.4.1, fail-closed).
 */
#include <rte_ip.h>

#include "classify.h"
#include "pkt.h"
#include "stage.h"

static void
protect(struct espgw_worker *w, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n)
{
	struct rte_mbuf *done[ESPGW_BURST_MAX];
	uint16_t k;

	if (n == 0)
		return;
	k = espgw_esp_outb(&w->esp, m, sa, n, done);
	stage_outer_ready(done, k);
	stage_forward(w, done, k);
}

/*
 * Not protected: packets for the gateway itself go to the control path whatever
 * the SPD says; bypass is forwarded in clear; the rest is dropped by reason.
 */
static void
unprotected(struct espgw_worker *w, struct rte_mbuf *m[], const uint32_t res[], uint16_t n)
{
	const struct espgw_l2_hop *hop[ESPGW_BURST_MAX];
	uint16_t i;

	stage_lookup(w, m, hop, n);
	for (i = 0; i < n; i++) {
		enum espgw_drop why = classify_drop(res[i]);

		if (hop[i] != NULL && hop[i]->local)
			stage_to_ctl(w, m[i]);
		else if (why != ESPGW_DROP_MAX)
			drop(w, m[i], why);
		else if (pkt_ttl_dec(m[i], m[i]->l2_len) < 0)
			drop(w, m[i], ESPGW_DROP_TTL_EXCEEDED);
		else
			stage_forward_hops(w, &m[i], &hop[i], 1);
	}
}

/*
 * IPv6 link-local and multicast destinations (neighbor discovery above all)
 * belong to the control path whatever the SPD says (RFC 4291 2.5.6).
 */
static bool
link_scope6(const struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip;

	if (RTE_ETH_IS_IPV4_HDR(m->packet_type))
		return false;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, m->l2_len);
	return ip->dst_addr[0] == 0xff ||
	       (ip->dst_addr[0] == 0xfe && (ip->dst_addr[1] & 0xc0) == 0x80);
}

/*
 * RFC 4301 8.1 / 8.2: a DF (or IPv6) packet that would not fit the tunnel once
 * encrypted is refused with the SA's inner MTU, precomputed per SA from the
 * path MTU of its outer route and its ESP overhead. DF-clear packets go on
 * (the outer packet is checked at forwarding).
 */
static bool
tunnel_too_big(struct espgw_worker *w, struct rte_mbuf *m, uint32_t sa)
{
	uint16_t mtu = w->t->sa_mtu[sa];

	if (rte_pktmbuf_pkt_len(m) - m->l2_len <= mtu || !pkt_df_or_v6(m, m->l2_len))
		return false;
	stage_ctl_handoff(w, m, ESPGW_CTL_TOO_BIG, mtu);
	return true;
}

void
stage_outbound(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	struct rte_mbuf *prot[ESPGW_BURST_MAX], *rest[ESPGW_BURST_MAX];
	struct espgw_sa_rt *sa[ESPGW_BURST_MAX];
	uint32_t res[ESPGW_BURST_MAX], rest_res[ESPGW_BURST_MAX];
	uint8_t proto[ESPGW_BURST_MAX];
	uint16_t i, np = 0, nr = 0;

	n = stage_parse(w, m, n, proto);
	classify_burst(w->t->spd_out, m, res, n);
	for (i = 0; i < n; i++) {
		if (link_scope6(m[i])) {
			stage_to_ctl(w, m[i]);
		} else if (!CLASSIFY_IS_PROTECT(res[i])) {
			rest_res[nr] = res[i];
			rest[nr++] = m[i];
		} else if (tunnel_too_big(w, m[i], ESPGW_SPD_SA_INDEX(res[i]))) {
			continue;
		} else if (pkt_ttl_dec(m[i], m[i]->l2_len) < 0) {
			drop(w, m[i], ESPGW_DROP_TTL_EXCEEDED);
		} else {
			sa[np] = &w->t->sad->sa[ESPGW_SPD_SA_INDEX(res[i])];
			prot[np++] = m[i];
		}
	}
	protect(w, prot, sa, np);
	if (nr)
		unprotected(w, rest, rest_res, nr);
}
