/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef ESPGW_APP_PDUMP_H
#define ESPGW_APP_PDUMP_H

/* After rte_eal_init(): rte_pdump_init() when dpdk-dumpcap can attach. */
void espgw_pdump_start(const char *prefix);
/* Before rte_eal_cleanup(). */
void espgw_pdump_stop(void);

#endif
