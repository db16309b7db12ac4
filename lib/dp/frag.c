/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fragmentation before encryption (see espgw_frag.h for why before). DPDK's
 * copying fragmenter makes single-segment fragments from the RX pool, which is
 * what ESP and a fast-free TX queue both need; it leaves the header checksum
 * to the caller.
 */
#include <rte_ip.h>
#include <rte_ip_frag.h>

#include "espgw_frag.h"

static void
frag_finish(struct rte_mbuf *f, uint16_t port)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(f, struct rte_ipv4_hdr *);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	f->port = port;
	f->l2_len = 0;
	f->l3_len = rte_ipv4_hdr_len(ip);
	f->packet_type = RTE_PTYPE_L3_IPV4;
}

int
espgw_frag4(struct rte_mbuf *m, uint16_t mtu, struct rte_mempool *pool,
		struct rte_mbuf *out[ESPGW_FRAG_OUT_MAX])
{
	int32_t n, i;

	/* The copy also keeps an original fragment's offset and MF (RFC 791 3.2). */
	n = rte_ipv4_fragment_copy_nonseg_packet(m, out, ESPGW_FRAG_OUT_MAX, mtu, pool);
	if (n <= 0)
		return -1;
	for (i = 0; i < n; i++)
		frag_finish(out[i], m->port);
	rte_pktmbuf_free(m);
	return n;
}
