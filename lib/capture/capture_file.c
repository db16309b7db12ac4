/* SPDX-License-Identifier: BSD-3-Clause */
/* The control thread's side: the rings drained into a pcapng file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_pcapng.h>

#include "espgw_capture.h"

#define DRAIN_BURST 64

struct espgw_capture_file {
	rte_pcapng_t *png;
	uint64_t written;
};

struct espgw_capture_file *
espgw_capture_file_open(const char *path)
{
	struct espgw_capture_file *f = calloc(1, sizeof(*f));
	int fd;

	if (f == NULL)
		return NULL;
	/* Never an existing file or a link to one: espgw runs as root. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(f);
		return NULL;
	}
	f->png = rte_pcapng_fdopen(fd, NULL, NULL, "espgw " ESPGW_VERSION, NULL);
	if (f->png == NULL) {
		close(fd);
		free(f);
		errno = EIO;
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
