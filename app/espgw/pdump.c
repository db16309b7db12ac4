/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK's packet capture framework for dpdk-dumpcap and dpdk-pdump (README
 * "Packet capture"): they attach as secondary processes with espgw's
 * --file-prefix and ask espgw's workers, through rte_pdump's callbacks on the
 * ports' RX/TX, for copies of the packets. A secondary process maps the
 * primary's hugepages, so with --no-huge there is nothing to attach to:
 * espgwctl capture is the way then.
 */
#include <stdbool.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>

#include "espgw_log.h"
#include "pdump.h"

static bool pdump_on;

void
espgw_pdump_start(const char *prefix)
{
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return;
	if (!rte_eal_has_hugepages()) {
		CAPTURE_LOG(INFO, "pdump off: no hugepages (--no-huge), dpdk-dumpcap cannot "
				  "attach; use espgwctl capture");
		return;
	}
	if (rte_pdump_init() < 0) {
		CAPTURE_LOG(WARNING, "pdump not initialised: %s", rte_strerror(rte_errno));
		return;
	}
	pdump_on = true;
	CAPTURE_LOG(INFO, "pdump ready: dpdk-dumpcap --file-prefix %s -i PORT", prefix);
}

void
espgw_pdump_stop(void)
{
	if (pdump_on)
		rte_pdump_uninit();
	pdump_on = false;
}
