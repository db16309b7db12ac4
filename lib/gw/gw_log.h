/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef ESPGW_GW_LOG_H
#define ESPGW_GW_LOG_H

/* Register the espgw.* log types with rte_log and send espgw's log there. 0 or -1. */
int espgw_log_rte_init(void);
/* Set every espgw.* log type to level (RTE_LOG_*). */
void espgw_log_rte_level(unsigned int level);

#endif
