/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPD classification of a mixed-family burst: extract 5-tuple keys, classify
 * each family in one rte_acl call, and give the results back in burst order.
 */
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "classify.h"

void
classify_burst(const struct espgw_spd *spd, struct rte_mbuf *m[], uint32_t res[], uint16_t n)
{
	struct espgw_spd_key4 k4[ESPGW_BURST_MAX];
	struct espgw_spd_key6 k6[ESPGW_BURST_MAX];
	const struct espgw_spd_key4 *p4[ESPGW_BURST_MAX];
	const struct espgw_spd_key6 *p6[ESPGW_BURST_MAX];
	uint32_t r4[ESPGW_BURST_MAX], r6[ESPGW_BURST_MAX];
	uint16_t i, n4 = 0, n6 = 0;

	for (i = 0; i < n; i++) {
		const void *l3 = rte_pktmbuf_mtod_offset(m[i], const void *, m[i]->l2_len);
		uint32_t len = rte_pktmbuf_data_len(m[i]) - m[i]->l2_len;

		res[i] = CLASSIFY_BAD;
		if (RTE_ETH_IS_IPV4_HDR(m[i]->packet_type)) {
			if (espgw_spd_key4_extract(l3, len, &k4[n4]) == 0) {
				p4[n4] = &k4[n4];
				n4++;
				res[i] = CLASSIFY_V4;
			}
		} else if (espgw_spd_key6_extract(l3, len, &k6[n6]) == 0) {
			p6[n6] = &k6[n6];
			n6++;
			res[i] = CLASSIFY_V6;
		}
	}
	if (n4)
		espgw_spd_classify4(spd, p4, r4, n4);
	if (n6)
		espgw_spd_classify6(spd, p6, r6, n6);
	for (i = 0, n4 = 0, n6 = 0; i < n; i++) {
		if (res[i] == CLASSIFY_V4)
			res[i] = r4[n4++];
		else if (res[i] == CLASSIFY_V6)
			res[i] = r6[n6++];
	}
}
