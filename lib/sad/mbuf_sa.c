/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mbuf field that tells the inbound policy check which SA decrypted a
 * packet (RFC 4301 5.2). A dynamic field: the mbuf has no static room for it.
 */
#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

#include "espgw_sad.h"

/* Written once at startup, before any worker runs; only read after that. */
int espgw_mbuf_sa_offset = -1;

int
espgw_mbuf_sa_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
			.name = "espgw_mbuf_sa",
			.size = sizeof(uint32_t),
			.align = __alignof__(uint32_t),
	};
	int ofs = rte_mbuf_dynfield_register(&desc); /* same offset when called again */

	if (ofs < 0)
		return -1;
	espgw_mbuf_sa_offset = ofs;
	return 0;
}
