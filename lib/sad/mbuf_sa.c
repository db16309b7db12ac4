/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mbuf fields of inbound packets: which SA decrypted a packet (for the
 * inbound policy check, RFC 4301 5.2), and the full sequence number its
 * replay check used (the ESN high bits are not on the wire, RFC 4303 2.2.1,
 * and the window update after the cryptodev must use the same number).
 * Dynamic fields: the mbuf has no static room for them.
 */
#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

#include "espgw_sad.h"

/* Written once at startup, before any worker runs; only read after that. */
int espgw_mbuf_sa_offset = -1;
int espgw_mbuf_seq_offset = -1;

int
espgw_mbuf_sa_register(void)
{
	static const struct rte_mbuf_dynfield sa = {
			.name = "espgw_mbuf_sa",
			.size = sizeof(uint32_t),
			.align = __alignof__(uint32_t),
	};
	static const struct rte_mbuf_dynfield seq = {
			.name = "espgw_mbuf_seq",
			.size = sizeof(uint64_t),
			.align = __alignof__(uint64_t),
	};
	/* The same offsets when called again. */
	int sa_ofs = rte_mbuf_dynfield_register(&sa);
	int seq_ofs = rte_mbuf_dynfield_register(&seq);

	if (sa_ofs < 0 || seq_ofs < 0)
		return -1;
	espgw_mbuf_sa_offset = sa_ofs;
	espgw_mbuf_seq_offset = seq_ofs;
	return 0;
}
