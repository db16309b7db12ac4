/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP MSS clamping: the MSS option (RFC 9293 3.7.1) of a SYN or SYN-ACK that
 * crosses a tunnel is lowered to what the tunnel carries, so neither end
 * sends segments that would need fragmenting or path MTU discovery (which
 * ICMP filters on the way often break). The checksum is updated
 * incrementally (RFC 1624). DPDK has no TCP option parser; this one checks
 * every length against what the mbuf holds.
 */
#include <rte_ip.h>
#include <rte_tcp.h>

#include "espgw_esp.h"

#define TCP_PROTO    6
#define TCP_HDR_MIN  20
#define TCPOPT_EOL   0
#define TCPOPT_NOP   1
#define TCPOPT_MSS   2
#define TCPOLEN_MSS  4
#define IPV4_FO_MASK 0x1fff

/* The L4 offset of a TCP packet at the mbuf's L3 (m->l2_len), or 0. */
static uint32_t
tcp_offset(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint32_t avail = rte_pktmbuf_data_len(m) - m->l2_len;
	const struct rte_ipv4_hdr *ip4 = (const struct rte_ipv4_hdr *)p;
	uint32_t l3;

	if (avail < sizeof(struct rte_ipv6_hdr) && (p[0] >> 4) != 4)
		return 0;
	if ((p[0] >> 4) == 6)
		return ((const struct rte_ipv6_hdr *)p)->proto == TCP_PROTO
				       ? sizeof(struct rte_ipv6_hdr)
				       : 0;
	if (avail < sizeof(*ip4) || ip4->next_proto_id != TCP_PROTO ||
			(rte_be_to_cpu_16(ip4->fragment_offset) & IPV4_FO_MASK) != 0)
		return 0;
	l3 = rte_ipv4_hdr_len(ip4);
	return l3 >= sizeof(*ip4) ? l3 : 0;
}

/* RFC 1624 3, eqn. 3: HC' = ~(~HC + ~m + m'). */
static void
cksum_replace(uint8_t *ck, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t) ~(ck[0] << 8 | ck[1]);

	sum += (uint16_t)~old;
	sum += new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	ck[0] = (uint8_t)(sum >> 8);
	ck[1] = (uint8_t)sum;
}

/*
 * The option's value at tcp[at + 2] may start at an odd offset: it then
 * lies across two checksum words, where it sums byte-swapped (RFC 1071 2(B)).
 */
static bool
mss_lower(uint8_t *tcp, uint32_t at, uint16_t mss)
{
	uint16_t old = (uint16_t)(tcp[at + 2] << 8 | tcp[at + 3]);

	if (old <= mss)
		return false;
	tcp[at + 2] = (uint8_t)(mss >> 8);
	tcp[at + 3] = (uint8_t)mss;
	if (at & 1)
		cksum_replace(tcp + 16, rte_bswap16(old), rte_bswap16(mss));
	else
		cksum_replace(tcp + 16, old, mss);
	return true;
}

bool
espgw_mss_clamp(struct rte_mbuf *m, uint16_t mss)
{
	uint32_t l4 = tcp_offset(m), avail, len, i;
	uint8_t *tcp;

	if (l4 == 0 || m->l2_len + l4 + TCP_HDR_MIN > rte_pktmbuf_data_len(m))
		return false;
	tcp = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len + l4);
	avail = rte_pktmbuf_data_len(m) - m->l2_len - l4;
	len = (uint32_t)(tcp[12] >> 4) * 4;
	if ((tcp[13] & RTE_TCP_SYN_FLAG) == 0 || len < TCP_HDR_MIN || len > avail)
		return false;
	for (i = TCP_HDR_MIN; i < len && tcp[i] != TCPOPT_EOL;) {
		if (tcp[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || tcp[i + 1] < 2 || i + tcp[i + 1] > len)
			return false;
		if (tcp[i] == TCPOPT_MSS && tcp[i + 1] == TCPOLEN_MSS)
			return mss_lower(tcp, i, mss);
		i += tcp[i + 1];
	}
	return false;
}

void
espgw_mss_clamp_burst(struct rte_mbuf *m[], uint16_t n, uint16_t mss)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		espgw_mss_clamp(m[i], mss);
}
