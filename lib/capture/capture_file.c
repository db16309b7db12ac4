/* SPDX-License-Identifier: BSD-3-Clause */
/* The control thread's side: the rings drained into a pcapng file. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <rte_pcapng.h>

#include "espgw_capture.h"

#define DRAIN_BURST 64

struct espgw_capture_file {
	rte_pcapng_t *png;
	uint64_t written;
};

/*
 * The control thread writes the file, with root's rights, into a descriptor
 * a client opened. Only local disk and memory file systems take it: on one
 * whose writes another process or host answers (FUSE, which any user may
 * mount; NFS, SMB, 9p, Ceph) a write never answered would stop the control
 * socket, ARP, publications and the lifetimes' expiry; and a pseudo file
 * (procfs, sysfs, cgroupfs ...) may judge a write by the writer's rights
 * instead of the opener's. A list of the accepted, not of the refused.
 */
static bool
fs_local(int fd)
{
	static const uint32_t magic[] = {
			0xef53,	    /* ext2, ext3, ext4 */
			0x58465342, /* xfs */
			0x9123683e, /* btrfs */
			0x01021994, /* tmpfs */
			0x858458f6, /* ramfs */
			0x794c7630, /* overlayfs */
			0xf2f52010, /* f2fs */
			0x2fc12fc1, /* zfs */
			0x3153464a, /* jfs */
			0x52654973, /* reiserfs */
			0xca451a4e, /* bcachefs */
	};
	struct statfs sf;
	unsigned int i;

	if (fstatfs(fd, &sf) < 0)
		return false;
	for (i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if ((uint32_t)sf.f_type == magic[i])
			return true;
	return false;
}

/* Why fd cannot take a capture; NULL when it can. */
static const char *
fd_unfit(int fd)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fstat(fd, &st) < 0)
		return "not an open file";
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (!fs_local(fd))
		return "not on a local disk or tmpfs file system";
	if ((fl & O_ACCMODE) == O_RDONLY)
		return "not open for writing";
	if (st.st_size != 0 || lseek(fd, 0, SEEK_CUR) != 0)
		return "not empty";
	return NULL;
}

struct espgw_capture_file *
espgw_capture_file_fdopen(int fd, const char **why)
{
	struct espgw_capture_file *f;

	*why = fd_unfit(fd);
	if (*why != NULL) {
		close(fd);
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f != NULL)
		f->png = rte_pcapng_fdopen(fd, NULL, NULL, "espgw " ESPGW_VERSION, NULL);
	if (f == NULL || f->png == NULL) {
		*why = "cannot start the pcapng file";
		close(fd);
		free(f);
		return NULL;
	}
	return f;
}

static int
drain_one(struct espgw_capture_file *f, struct rte_ring *r, uint64_t room)
{
	struct rte_mbuf *m[DRAIN_BURST];
	unsigned int n, want = room < DRAIN_BURST ? (unsigned int)room : DRAIN_BURST;

	n = rte_ring_sc_dequeue_burst(r, (void **)m, want, NULL);
	if (n == 0)
		return 0;
	/* DPDK 22.11's rte_pcapng_write_packets leaves the copies to the caller. */
	if (rte_pcapng_write_packets(f->png, m, (uint16_t)n) < 0) {
		rte_pktmbuf_free_bulk(m, n);
		return -1;
	}
	rte_pktmbuf_free_bulk(m, n);
	f->written += n;
	return (int)n;
}

int
espgw_capture_file_drain(struct espgw_capture_file *f, struct espgw_capture_lcore *const c[],
		unsigned int n_lcores, uint64_t limit)
{
	uint64_t start = f->written, room;
	unsigned int i;
	int k;

	for (i = 0; i < n_lcores; i++)
		do {
			room = limit == 0 ? DRAIN_BURST : limit - f->written;
			if (room == 0)
				return (int)(f->written - start);
			k = drain_one(f, c[i]->ring, room);
			if (k < 0)
				return -1;
		} while (k > 0);
	return (int)(f->written - start);
}

uint64_t
espgw_capture_file_written(const struct espgw_capture_file *f)
{
	return f->written;
}

void
espgw_capture_file_close(struct espgw_capture_file *f)
{
	if (f == NULL)
		return;
	rte_pcapng_close(f->png); /* closes the file descriptor too */
	free(f);
}
