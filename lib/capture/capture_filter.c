/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture --filter EXPR: the pcap expression compiled by libpcap for
 * Ethernet, converted to eBPF by DPDK (rte_bpf_convert, as dpdk-dumpcap
 * does) and loaded on the control thread; the workers only run it, on every
 * packet of the port, in DPDK's interpreter: its length is what a packet
 * costs, so it is bounded (FILTER_INSNS_MAX; "udp port 500 or udp port 4500"
 * compiles to 23 instructions, "host A or host B ..." of 40 addresses to 131).
 */
#include <stdio.h>

#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "espgw_capture.h"

#define FILTER_INSNS_MAX 256

struct rte_bpf *
espgw_capture_filter_load(const char *expr, char *msg, size_t len)
{
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, 65535);
	struct rte_bpf_prm *prm;
	struct bpf_program bf;
	struct rte_bpf *bpf;

	if (pc == NULL) {
		snprintf(msg, len, "filter: out of memory");
		return NULL;
	}
	if (pcap_compile(pc, &bf, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(msg, len, "filter: %s", pcap_geterr(pc));
		pcap_close(pc);
		return NULL;
	}
	if (bf.bf_len > FILTER_INSNS_MAX) {
		snprintf(msg, len,
				"filter: %u BPF instructions, at most %u (each runs on every "
				"packet)",
				bf.bf_len, FILTER_INSNS_MAX);
		pcap_freecode(&bf);
		pcap_close(pc);
		return NULL;
	}
	prm = rte_bpf_convert(&bf);
	pcap_freecode(&bf);
	pcap_close(pc);
	if (prm == NULL) {
		snprintf(msg, len, "filter: cannot convert to eBPF: %s", rte_strerror(rte_errno));
		return NULL;
	}
	bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (bpf == NULL)
		snprintf(msg, len, "filter: cannot load: %s", rte_strerror(rte_errno));
	return bpf;
}
