/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What DPDK 22.11's EAL leaves on disk after rte_eal_cleanup(): its runtime
 * directory (/var/run/dpdk/PREFIX with config, fbarray and hugepage_info
 * files) and, on hugepages, one file per page in each hugetlbfs mount
 * (PREFIXmap_N), which keeps the page reserved until someone deletes it.
 * DPDK deletes neither (only stale files of the same prefix at the next
 * start), so a gateway that stops, or fails to start, removes both itself:
 * nothing half-started stays behind. Only after rte_eal_init() succeeded as
 * the primary process: the prefix is then ours (a second primary with the
 * same prefix fails in rte_eal_init).
 */
#ifndef ESPGW_EAL_FILES_H
#define ESPGW_EAL_FILES_H

#include <limits.h>
#include <stdbool.h>

struct espgw_eal_files {
	bool ours;		/* primary process, EAL initialised */
	char runtime[PATH_MAX]; /* rte_eal_get_runtime_dir() */
	char prefix[NAME_MAX + 1];
	char huge_dir[PATH_MAX]; /* --huge-dir, "" = every hugetlbfs mount */
};

/* Before rte_eal_init(): the EAL's own arguments, for --huge-dir. */
void espgw_eal_files_args(struct espgw_eal_files *f, int eal_argc, char *const argv[]);
/* After a successful rte_eal_init(): where the files are. */
void espgw_eal_files_note(struct espgw_eal_files *f);
/* After rte_eal_cleanup(): remove them (nothing when not ours). */
void espgw_eal_files_remove(const struct espgw_eal_files *f);

#endif
