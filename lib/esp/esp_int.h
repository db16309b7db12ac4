/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/esp internals shared between esp_out.c, esp_in.c and esp_poll.c:
 * grouping a burst by SA, counting drops and successes, and finishing a
 * group of packets the crypto stage is done with.
 *
 * While a packet is inside this module the SA mbuf field (espgw_mbuf_sa)
 * carries what must travel with it through the cryptodev: outbound, the inner
 * length, TOS and DF captured before rte_ipsec overwrites the headers (the
 * direct path reads them as it frames each packet, and keeps them in a
 * register); inbound, the SA index plus the outer header's ECN field (RFC
 * 6040 decapsulation needs it after the outer header is gone). Inbound packets
 * leave with the plain SA index there, as the header promises. Inbound, the
 * sequence number field (espgw_mbuf_seq) carries the full number the replay
 * check used, for the window update after decryption.
 */
#ifndef ESPGW_ESP_INT_H
#define ESPGW_ESP_INT_H

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "espgw_esp.h"

#define ESP_OUT_LEN_MASK  0xffffu
#define ESP_OUT_TOS_SHIFT 16
#define ESP_OUT_DF_SHIFT  24

/*
 * What the fixup and the byte counter need from the inner header, read
 * before the packet becomes an ESP packet: its length, TOS and DF. RFC 4301
 * 5.1.2.1: an IPv6 inner packet is never fragmented on the way, so it counts
 * as DF.
 */
static inline uint32_t
espgw_esp_outb_meta(struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	uint32_t len = (m->pkt_len - m->l2_len) & ESP_OUT_LEN_MASK;
	uint32_t tos, df;

	if ((p[0] >> 4) == IPVERSION) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;

		tos = ip->type_of_service;
		df = (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) != 0;
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;

		tos = (rte_be_to_cpu_32(ip->vtc_flow) >> RTE_IPV6_HDR_TC_SHIFT) & 0xff;
		df = 1;
	}
	m->ol_flags &= ~(RTE_MBUF_F_RX_SEC_OFFLOAD | RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED);
	return len | tos << ESP_OUT_TOS_SHIFT | df << ESP_OUT_DF_SHIFT;
}

struct espgw_esp_grp {
	struct espgw_sa_rt *sa;
	uint16_t cnt;
};

/*
 * Stable partition of m[0..n) by sa[i] into out[]: groups in order of first
 * appearance, packets of one group in arrival order. Returns the group count.
 */
uint16_t espgw_esp_group(struct rte_mbuf *const m[], struct espgw_sa_rt *const sa[], uint16_t n,
		struct rte_mbuf *out[], struct espgw_esp_grp g[]);

/* Free n packets, counting them under why and, when sa is known, as its errors. */
void espgw_esp_drop(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa,
		struct rte_mbuf *const m[], uint16_t n, enum espgw_drop why);

/* Return n crypto ops unused (or done with) to their pool. */
void espgw_esp_ops_free(struct espgw_esp_lcore *l, struct rte_crypto_op *cop[], uint16_t n);

/* Why rte_ipsec_pkt_*_prepare refused a packet, from rte_errno (direction specific). */
typedef enum espgw_drop (*espgw_esp_prep_why_t)(void);
/* Called on the prepared packets of a group just before they are enqueued. */
typedef void (*espgw_esp_ready_t)(const struct espgw_sa_rt *sa, struct rte_mbuf *m[], uint16_t n);

/*
 * Cryptodev path for one SA group: ops from the pool, rte_ipsec_pkt_crypto_prepare,
 * enqueue on this worker's queue pair; refusals are counted (why() for prepare,
 * crypto_enqueue_full for no op or a full queue). Results come back from poll.
 */
void espgw_esp_lksd(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, espgw_esp_prep_why_t why, espgw_esp_ready_t ready);

/* After crypto: rte_ipsec_pkt_process, count, append the good packets to done[]. */
uint16_t espgw_esp_outb_finish(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa,
		struct rte_mbuf *m[], uint16_t n, struct rte_mbuf *done[]);
uint16_t espgw_esp_inb_finish(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa,
		struct rte_mbuf *m[], uint16_t n, struct rte_mbuf *done[]);

/*
 * Outbound ESP in UDP over IPv6 (RFC 8200 8.1: a checksum, where RFC 3948
 * 2.1 gives IPv4 0): the UDP checksum of packets that start at the outer
 * header, after the crypto.
 */
void espgw_esp_udp6_cksum(struct rte_mbuf *m[], uint16_t n);

/* Outbound packets of one SA done: counted (the inner length saved before), appended to done[]. */
uint16_t espgw_esp_outb_count(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa,
		struct rte_mbuf *m[], uint16_t n, struct rte_mbuf *done[]);

/*
 * The direct path (esp_gcm.c), for SAs with sa->gcm: one SA group per call.
 * Outbound as espgw_esp_outb_finish's contract; the numbers taken there
 * (taken NULL), or before by _take, which keeps the packets that get one
 * (the count returned, the first number in *seq; the rest dropped and
 * counted): then taken is seq. Inbound after the window
 * check: returns the packets verified and decapsulated, compacted in m[],
 * the rest dropped and counted; the caller commits the window. Or one
 * packet: ESPGW_DROP_MAX when it verified and was decapsulated, else the
 * reason to drop it (not counted).
 */
uint16_t espgw_esp_gcm_outb_take(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa,
		struct rte_mbuf *m[], uint16_t n, uint64_t *seq);
uint16_t espgw_esp_gcm_outb(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, const uint64_t *taken, struct rte_mbuf *done[]);
uint16_t espgw_esp_gcm_inb(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n);
enum espgw_drop espgw_esp_gcm_inb_one(const struct espgw_sa_rt *sa, struct rte_mbuf *m);

/* Inbound packets of one SA that leave the module: counted, TCP MSS clamped. */
void espgw_esp_inb_done(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa,
		struct rte_mbuf *m[], uint16_t n);
/* The same, their bytes summed by the caller in a pass it made anyway. */
void espgw_esp_inb_counted(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa,
		struct rte_mbuf *m[], uint16_t n, uint64_t bytes);
/* The inbound mark (SA index and outer ECN) and, after decapsulation, RFC 6040 on it. */
void espgw_esp_inb_mark(struct rte_mbuf *m, const struct espgw_sa_rt *sa);
int espgw_esp_inb_ecn(const struct espgw_sa_rt *sa, struct rte_mbuf *m);

/*
 * Transport mode ESP in UDP (RFC 3948), esp_trs_udp.c: for SAs whose udp
 * (chosen at setup) says so. Outbound after the crypto: the UDP header in
 * (packets without room are dropped, returns the rest compacted); inbound
 * before rte_ipsec_pkt_process: out; after decapsulation, SAs with nat-oa:
 * the TCP/UDP checksum fixed for the packet's addresses (RFC 3948 3.1.2).
 */
uint16_t espgw_trs_udp_outb(struct espgw_esp_lcore *l, const struct espgw_sa_rt *sa,
		struct rte_mbuf *m[], uint16_t n);
void espgw_trs_udp_inb(struct rte_mbuf *m[], uint16_t n);
void espgw_trs_natoa(const struct espgw_sa_rt *sa, struct rte_mbuf *m);

/*
 * AH (RFC 4302), tunnel and transport mode, on the CPU crypto path:
 * ah_out.c, ah_in.c, ah_icv.c, ah_trs.c. One SA group per call, as the ESP functions; the same contract.
 */
#define ESPGW_AH_ICV_MAX 32 /* HMAC-SHA512-256 */
uint16_t espgw_ah_outb(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, struct rte_mbuf *done[]);
/* After the shared SAD lookup: AH SA, live, plain outer header, header fields as the SA's. */
uint16_t espgw_ah_inb_check(struct espgw_esp_lcore *l, struct rte_mbuf *m[],
		struct espgw_sa_rt *sa[], uint16_t n);
uint16_t espgw_ah_inb(struct espgw_esp_lcore *l, struct espgw_sa_rt *sa, struct rte_mbuf *m[],
		uint16_t n, struct rte_mbuf *done[]);
void espgw_ah_mutable_zero(uint8_t *ip);
/*
 * The outer header's options (IPv4) or extension headers (IPv6) before AH,
 * l3_len bytes from ip: with zero, their mutable parts zeroed (RFC 4302
 * 3.3.3.1); -1 when they cannot be walked or are not supported.
 */
int espgw_ah_opts(uint8_t *ip, uint32_t l3_len, bool zero);
/* Contiguous (CPU crypto takes one segment) with tailroom for the ESN bits. */
bool espgw_ah_room_ok(const struct espgw_sa_rt *sa, const struct rte_mbuf *m);
void espgw_ah_icv(const struct espgw_sa_rt *sa, struct rte_mbuf *m[], const uint64_t seq[],
		uint16_t n, uint8_t icv[][ESPGW_AH_ICV_MAX], int32_t status[]);
/* RFC 4302 2: the AH header at h (next header nh), its ICV field zero (the GMAC IV set). */
void espgw_ah_hdr_write(uint8_t *h, const struct espgw_sa_rt *sa, uint64_t seq, uint8_t nh);
/* The computed ICV into the AH header at l3_len (output packets start at their IP header). */
void espgw_ah_icv_put(const struct espgw_sa_rt *sa, struct rte_mbuf *m, const uint8_t *icv);

/*
 * Transport mode (ah_trs.c, RFC 4302 3.1.1): AH behind the packet's own
 * header, whose l3_len bytes (at most ESPGW_AH_TRS_HDR_MAX: IPv4 with
 * options, IPv6 with extension headers) are saved around the ICV.
 */
#define ESPGW_AH_TRS_HDR_MAX 128
enum espgw_drop espgw_ah_trs_build(
		const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint64_t seq, uint8_t *save);
void espgw_ah_trs_finish(const struct espgw_sa_rt *sa, struct rte_mbuf *m, const uint8_t *icv,
		const uint8_t *save);
bool espgw_ah_trs_save(const struct rte_mbuf *m, uint8_t *save);
void espgw_ah_trs_strip(const struct espgw_sa_rt *sa, struct rte_mbuf *m, const uint8_t *save);

#endif
