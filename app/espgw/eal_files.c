/* SPDX-License-Identifier: BSD-3-Clause */
/* Removing the EAL's runtime directory and hugepage files at exit (eal_files.h says why). */
#include <dirent.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include "eal_files.h"

void
espgw_eal_files_args(struct espgw_eal_files *f, int eal_argc, char *const argv[])
{
	static const char opt[] = "--huge-dir";
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 1; i < eal_argc; i++) {
		if (strcmp(argv[i], opt) == 0 && i + 1 < eal_argc)
			snprintf(f->huge_dir, sizeof(f->huge_dir), "%s", argv[i + 1]);
		else if (strncmp(argv[i], opt, sizeof(opt) - 1) == 0 &&
				argv[i][sizeof(opt) - 1] == '=')
			snprintf(f->huge_dir, sizeof(f->huge_dir), "%s", argv[i] + sizeof(opt));
	}
}

/* The runtime directory is RUNTIME_BASE/dpdk/PREFIX (eal_create_runtime_dir). */
void
espgw_eal_files_note(struct espgw_eal_files *f)
{
	const char *dir = rte_eal_get_runtime_dir(), *slash;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY || dir == NULL || dir[0] == '\0')
		return;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash[1] == '\0')
		return;
	snprintf(f->runtime, sizeof(f->runtime), "%s", dir);
	snprintf(f->prefix, sizeof(f->prefix), "%s", slash + 1);
	f->ours = true;
}

/*
 * Is name one of ours? In the runtime directory every entry is; in a
 * hugetlbfs mount only PREFIXmap_N (eal_get_hugefile_path), N decimal, so
 * that another prefix that merely starts like ours is left alone.
 */
static bool
entry_ours(const char *name, const char *start)
{
	size_t n = strlen(start);

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strncmp(name, start, n) != 0)
		return false;
	return n == 0 || (name[n] != '\0' && strspn(name + n, "0123456789") == strlen(name + n));
}

/* Remove the entries of dir that entry_ours() says are ours. */
static void
dir_clean(const char *dir, const char *start)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (entry_ours(e->d_name, start))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static void
huge_clean(const struct espgw_eal_files *f)
{
	char start[NAME_MAX + 8];
	struct mntent *m;
	FILE *mounts;

	snprintf(start, sizeof(start), "%smap_", f->prefix);
	if (f->huge_dir[0] != '\0') {
		dir_clean(f->huge_dir, start);
		return;
	}
	mounts = setmntent("/proc/mounts", "r");
	if (mounts == NULL)
		return;
	while ((m = getmntent(mounts)) != NULL)
		if (strcmp(m->mnt_type, "hugetlbfs") == 0)
			dir_clean(m->mnt_dir, start);
	endmntent(mounts);
}

void
espgw_eal_files_remove(const struct espgw_eal_files *f)
{
	if (!f->ours)
		return;
	huge_clean(f);
	dir_clean(f->runtime, "");
	rmdir(f->runtime);
}
