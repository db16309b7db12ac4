/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/capture under a real EAL: the workers' copies never block and never
 * touch the original (a full budget is counted in capture_dropped and the
 * packet goes on), the control thread's drain writes pcapng up to its limit,
 * and tshark reads the file back.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "espgw_capture.h"

#define BUDGET 64
#define NPKT   48

static struct rte_mempool *pool;

/* An Ethernet/IPv4 frame from 10.1.0.<i> to 10.3.0.10. */
static struct rte_mbuf *
frame(unsigned int i)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;

	assert_non_null(m);
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eh) + sizeof(*ip) + 32);
	memset(eh, 0, m->data_len);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + 32);
	ip->time_to_live = 64;
	ip->next_proto_id = 253; /* experimental: no dissector throws */
	ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(10, 1, 0, i & 0xff));
	ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(10, 3, 0, 10));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

static unsigned int
tshark_count(const char *path)
{
	char cmd[256], line[64];
	unsigned int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e ip.dst 2>/dev/null", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL)
		n += strcmp(line, "10.3.0.10\n") == 0;
	pclose(p);
	return n;
}

static void
test_budget_and_file(void **state)
{
	struct espgw_capture_lcore l0 = {0}, l1 = {0}, *c[2] = {&l0, &l1};
	struct espgw_capture cap = {0};
	struct espgw_capture_file *f;
	struct rte_mbuf *m[NPKT];
	char dir[] = "/tmp/espgw-test-capture-XXXXXX", path[64];
	const char *why;
	unsigned int i;

	(void)state;
	/* Ports 0 and 1 are net_null vdevs (meson.build): the pcapng names its interfaces. */
	assert_int_equal(espgw_capture_create(&cap, c, 2, BUDGET, SOCKET_ID_ANY), 0);
	for (i = 0; i < NPKT; i++)
		m[i] = frame(i);
	/* Two workers, 96 packets, a budget of 64: 32 counted as dropped, none waits. */
	assert_int_equal(espgw_capture_burst(&cap, &l0, 0, 0, m, NPKT, true), NPKT);
	assert_int_equal(espgw_capture_burst(&cap, &l1, 1, 0, m, NPKT, false), BUDGET - NPKT);
	assert_int_equal(l0.captured + l1.captured, BUDGET);
	assert_int_equal(l0.dropped + l1.dropped, 2 * NPKT - BUDGET);
	for (i = 0; i < NPKT; i++) /* the originals: untouched, still ours */
		assert_int_equal(rte_mbuf_refcnt_read(m[i]), 1);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.pcapng", dir);
	f = espgw_capture_file_fdopen(open(path, O_WRONLY | O_CREAT | O_EXCL, 0600), &why);
	assert_non_null(f);
	assert_int_equal(espgw_capture_file_drain(f, c, 2, 50), 50);
	assert_int_equal(espgw_capture_file_drain(f, c, 2, 50), 0);
	assert_int_equal(espgw_capture_file_written(f), 50);
	espgw_capture_file_close(f);
	/* The written copies back in the pool; what the limit left waits in the rings. */
	assert_int_equal(rte_mempool_in_use_count(cap.pool), BUDGET - 50);
	espgw_capture_flush(c, 2);
	assert_int_equal(rte_mempool_in_use_count(cap.pool), 0);
	/* What the limit left in the rings goes back to the pool with them. */
	espgw_capture_free(&cap, c, 2);
	assert_int_equal(tshark_count(path), 50);
	rte_pktmbuf_free_bulk(m, NPKT);
	unlink(path);
	rmdir(dir);
}

static void
assert_unfit(int fd, const char *reason)
{
	const char *why = NULL;

	assert_true(fd >= 0);
	assert_null(espgw_capture_file_fdopen(fd, &why));
	assert_string_equal(why, reason);
	assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed all the same */
}

/* What a client passes must be a regular, writable, empty file: anything else is refused. */
static void
test_unfit_files(void **state)
{
	char dir[] = "/tmp/espgw-test-capture-XXXXXX", path[64];
	int p[2], fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x", dir);
	assert_int_equal(pipe(p), 0);
	assert_unfit(p[1], "not a regular file");
	close(p[0]);
	assert_unfit(open(dir, O_RDONLY | O_DIRECTORY), "not a regular file");
	assert_unfit(open("/dev/null", O_WRONLY), "not a regular file");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_unfit(fd, "not empty");
	assert_unfit(open(path, O_RDONLY), "not open for writing");
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(lseek(fd, 10, SEEK_SET), 10); /* empty, but writing at 10 */
	assert_unfit(fd, "not empty");
	unlink(path);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_budget_and_file),
			cmocka_unit_test(test_unfit_files),
	};

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create(
			"test_cap", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
