/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the packet path: arbitrary frames into the worker's
 * inbound and outbound stages of a real gateway (the config in pkt.conf: SAs
 * of several transforms, both families, both crypto paths, a real
 * crypto_aesni_mb cryptodev), on two net_null ports, without a NIC.
 *
 * The gateway is built once, by espgw_gw_setup() as the daemon builds it
 * (lib/gw/gw.c). Its worker loop, espgw_worker_main(), then runs here on
 * the main lcore, once per step: an RX callback hands it the input's frames
 * as if the ports had received them and stops the loop once everything is
 * delivered, no crypto op is in flight and a few idle iterations have passed
 * (the loop then drains and flushes as at shutdown). Between worker steps
 * the control path (lib/host: ARP, ND, ICMP, neighbor resolution) serves
 * what the worker handed over, on a virtual clock run past every retry, and
 * the worker sends and injects what it produced. After every input the
 * harness aborts (a finding, like a sanitizer report) when an mbuf or a
 * crypto op did not return to its pool, or when a packet is unaccounted
 * for: worker: rx + created = tx + drops + to_ctl + absorbed + pending
 * (espgw_dp.h); control path: in = sent + absorbed + drops + pending, with
 * nothing pending once every retry has run.
 *
 * Input: a sequence of frames, each "FLAGS LEN_HI LEN_LO BYTES[LEN]" (the last
 * one may be shorter than LEN). FLAGS bit 0 set: received on the protected
 * port (outbound), else on the unprotected port (inbound). Bit 1 set: BYTES
 * are an inner IP packet that the harness first seals as ESP of SA i1 (bit 2
 * set: of i6) with an outbound twin of that SA (t1, t6 in pkt.conf), so that
 * mutated inner packets pass the ICV check and reach what follows
 * decryption; the result is received on the unprotected port. Consecutive
 * frames of one port form one burst; a port's burst is delivered when the
 * bursts before it are. Bit 3 set: the IPv4 header checksum is kept as
 * given; clear, the harness sets it (of the frame, or of the inner packet to
 * seal) so that mutations get past the checksum check to what follows.
 *
 * The input rules (README: "Input rules") are invariants too, judged by this
 * harness's own reading of each frame, not by espgw's code: a frame that
 * carries a bad IPv4 header checksum, is sent to another station's MAC, to a
 * link-layer broadcast/multicast with a unicast IP destination, holds a type
 * 0 routing header with segments left, or comes from a martian source or one
 * of the gateway's own addresses (for a sealed frame: its inner packet) must
 * never leave a port, neither forwarded nor as the ICMP error a worker or the
 * control path would build in its buffer. A TX callback on every queue of
 * both ports aborts when one does. It also holds the policy to its promise
 * (README, fail-closed rules), judged by the configured SPD: no frame leaves
 * the unprotected port in clear that an outbound protect rule covers, and no
 * clear frame from the unprotected side reaches the protected one unless an
 * inbound bypass rule lets it in.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "espgw_conf.h"
#include "gw.h"

#define FRAMES_MAX  32	   /* one RX burst at most */
#define IDLE_POLLS  8	   /* RX polls with nothing left to do before the loop stops */
#define STEPS_MAX   100000 /* RX polls before a worker step counts as hung */
#define FRAME_HDR   3
#define F_PROTECTED 1	/* FLAGS: received on the protected port */
#define F_SEAL	    2	/* FLAGS: an inner packet, to seal for i1 ... */
#define F_SEAL6	    4	/* ... or for i6 */
#define F_RAW	    8	/* FLAGS: keep the IPv4 header checksum as given */
#define INNER_MIN   40	/* the sealer reads an IPv6 header: shorter inner packets are padded */
#define TAIL_IN	    32	/* tailroom of a received frame: rte_ipsec puts ESN bits and AAD there */
#define TAIL_OUT    128 /* ... to be encrypted: ESP padding, trailer and ICV */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static uint16_t rx_feed(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[], uint16_t nb,
		uint16_t max, void *arg);
static uint16_t tx_judge(
		uint16_t port, uint16_t queue, struct rte_mbuf *pkts[], uint16_t nb, void *arg);
static bool clear_ip(const struct rte_mbuf *m);

struct frame {
	const uint8_t *p;
	uint16_t len;
	uint8_t flags;
};

/* The frames of one input in delivery order, cut into one burst per run of a port. */
struct feed {
	struct rte_mbuf *m[FRAMES_MAX];
	bool protected_port[FRAMES_MAX];
	uint16_t n, next;
	unsigned int idle, polls;
	const void *refused[FRAMES_MAX]; /* buffers of frames the input rules refuse */
	uint16_t n_refused;
	const void *clear[FRAMES_MAX]; /* buffers of clear IP frames from the unprotected side */
	uint16_t n_clear;
};

static struct espgw_gw gw;
static struct espgw_worker *w;
static struct feed feed;
static struct espgw_host_conf host_conf; /* what gw.c gives the control path */
static uint64_t clock_ms = 1000000;	 /* the control path's clock, virtual */
static struct espgw_lcore_stats last;	 /* counters after the previous input (verbose) */
static struct espgw_dp_sum last_dp;
static bool verbose; /* ESPGW_FUZZ_VERBOSE set: print what each input did */
static struct rte_mempool *pool;
static unsigned int mbufs_at_start, ops_at_start;
static uint16_t port_id[2];		  /* [0] unprotected, [1] protected */
static struct rte_ether_addr port_mac[2]; /* like port_id */

/* The sealer: its own ESP context and counters, apart from the worker's. */
static struct espgw_esp_lcore sealer;
static struct espgw_lcore_stats seal_stats;
static struct espgw_sa_rt *seal_sa[2]; /* t1, t6; NULL when pkt.conf has none */

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static const char *
conf_path(void)
{
	const char *p = getenv("ESPGW_FUZZ_PKT_CONF");

	return p != NULL ? p : FUZZ_PKT_CONF;
}

/*
 * The CPUs this process may use, as an EAL cpuset "(0,1,...)": the harness's
 * lcore and the one the gateway counts as its worker float over all of them,
 * so a busy neighbor on one CPU cannot starve the harness.
 */
static void
cpus_of_process(char *buf, size_t size)
{
	cpu_set_t set;
	size_t len = 0;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		die("fuzz_pkt: sched_getaffinity failed");
	for (cpu = 0; cpu < CPU_SETSIZE && len + 8 < size; cpu++)
		if (CPU_ISSET(cpu, &set))
			len += (size_t)snprintf(
					buf + len, size - len, "%s%d", len ? "," : "(", cpu);
	snprintf(buf + len, size - len, ")");
}

static void
eal_init(void)
{
	char lcores[600], cpus[256], prefix[64];
	char *eal[] = {"fuzz_pkt", "--lcores", lcores, "--no-huge", "-m", "512", "--no-pci",
			"--no-telemetry", "--no-shconf", "--file-prefix", prefix, "--vdev",
			"net_null0,no-rx=1", "--vdev", "net_null1,no-rx=1", "--log-level",
			"*:crit"};

	cpus_of_process(cpus, sizeof(cpus));
	snprintf(lcores, sizeof(lcores), "0@%s,1@%s", cpus, cpus);
	snprintf(prefix, sizeof(prefix), "fuzzpkt-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0)
		die("fuzz_pkt: EAL initialisation failed");
	/* --no-shconf leaves it empty: remove it now, a crash must not leave it behind. */
	rmdir(rte_eal_get_runtime_dir());
}

static void
gw_build(void)
{
	struct espgw_err err = {{0}};
	unsigned int i;

	espgw_store_init(&gw.store);
	gw.store.key_twins_ok = true; /* t1 and t6: i1's and i6's keys (pkt.conf) */
	if (espgw_conf_load_file(conf_path(), &gw.store, stderr) != 0)
		die("fuzz_pkt: %s does not load", conf_path());
	if (espgw_gw_setup(&gw, &err) < 0 || espgw_crypto_start(&gw.crypto, &err) < 0 ||
			espgw_ports_start(&gw.ports, &err) < 0)
		die("fuzz_pkt: gateway setup: %s", err.msg);
	if (gw.n_workers != 1)
		die("fuzz_pkt: expected one worker, got %u", gw.n_workers);
	w = gw.worker[0];
	for (i = 0; i < gw.ports.n; i++) {
		bool prot = gw.ports.port[i].role == ESPGW_ROLE_PROTECTED;

		port_id[prot] = gw.ports.port[i].port_id;
		port_mac[prot] = gw.ports.port[i].mac;
	}
	pool = gw.ports.pool[gw.ports.port[0].socket];
	for (i = 0; i < gw.ports.n; i++) {
		const struct espgw_port_info *pi = &gw.ports.port[i];
		uint16_t q;

		if (rte_eth_add_rx_callback(pi->port_id, 0, rx_feed, NULL) == NULL)
			die("fuzz_pkt: cannot add an RX callback");
		for (q = 0; q < pi->n_txq; q++)
			if (rte_eth_add_tx_callback(pi->port_id, q, tx_judge, NULL) == NULL)
				die("fuzz_pkt: cannot add a TX callback");
	}
}

static struct espgw_sa_rt *
twin(const char *name)
{
	int i = espgw_store_sa_index(&gw.store, name);

	return i < 0 ? NULL : &gw.sad.sa[i];
}

static void
sealer_init(void)
{
	seal_stats.n_sa = gw.store.n_sas;
	seal_stats.sa = calloc(gw.store.n_sas + 1, sizeof(*seal_stats.sa));
	if (seal_stats.sa == NULL)
		die("fuzz_pkt: out of memory");
	sealer.sad = &gw.sad;
	sealer.crypto = &gw.crypto;
	sealer.stats = &seal_stats;
	seal_sa[0] = twin("t1");
	seal_sa[1] = twin("t6");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	eal_init();
	gw_build();
	sealer_init();
	verbose = getenv("ESPGW_FUZZ_VERBOSE") != NULL;
	espgw_host_conf_default(&host_conf);
	mbufs_at_start = rte_mempool_in_use_count(pool);
	ops_at_start = rte_mempool_in_use_count(gw.crypto.op_pool);
	return 0;
}

/* Split the input into frames; returns their count. */
static unsigned int
frames_split(const uint8_t *data, size_t size, struct frame f[])
{
	unsigned int n = 0;
	size_t len;

	while (size >= FRAME_HDR && n < FRAMES_MAX) {
		len = (size_t)data[1] << 8 | data[2];
		len = RTE_MIN(len, size - FRAME_HDR);
		f[n].flags = data[0];
		f[n].p = data + FRAME_HDR;
		f[n].len = (uint16_t)len;
		n++;
		data += FRAME_HDR + len;
		size -= FRAME_HDR + len;
	}
	return n;
}

static bool
frame_protected(const struct frame *f)
{
	return (f->flags & (F_PROTECTED | F_SEAL)) == F_PROTECTED;
}

/*
 * The input rules, read independently of espgw's code (README: "Input
 * rules"): only what a frame says about itself and the gateway's addresses
 * from its configuration.
 */
static uint32_t
sum16(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static void
cksum_fix(uint8_t *ip, size_t len)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	uint32_t sum;

	if (len < 20 || ip[0] >> 4 != 4 || hl < 20 || hl > len)
		return;
	ip[10] = ip[11] = 0;
	sum = ~sum16(ip, hl) & 0xffff;
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
}

/* One of the gateway's addresses: a port's, or a port's EUI-64 link-local one. */
static bool
gw_addr(const uint8_t *a, uint8_t family)
{
	unsigned int i, k;
	uint8_t ll[16] = {0xfe, 0x80};

	for (i = 0; i < gw.store.n_ports; i++) {
		const struct espgw_port_conf *pc = &gw.store.ports[i];
		const uint8_t *mac = gw.ports.port[i].mac.addr_bytes;

		for (k = 0; k < pc->n_addr; k++)
			if (pc->addr[k].ip.family == family &&
					memcmp(pc->addr[k].ip.bytes, a, family == 4 ? 4 : 16) == 0)
				return true;
		ll[8] = mac[0] ^ 2;
		ll[9] = mac[1];
		ll[10] = mac[2];
		ll[11] = 0xff;
		ll[12] = 0xfe;
		memcpy(&ll[13], &mac[3], 3);
		if (family == 6 && memcmp(ll, a, 16) == 0)
			return true;
	}
	return false;
}

static bool
refused_v4(const uint8_t *ip, size_t len)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;

	if (hl < 20 || hl > len)
		return false; /* malformed: dropped, not an input rule's business */
	if (sum16(ip, hl) != 0xffff)
		return true;
	return ip[12] == 0 || ip[12] == 127 || ip[12] >= 224 || gw_addr(ip + 12, 4);
}

/* A type 0 routing header with segments left among the first extension headers. */
static bool
rh0_live(const uint8_t *ip, size_t len)
{
	size_t off = 40;
	uint8_t nh = ip[6];
	int i;

	for (i = 0; i < 8 && (nh == 0 || nh == 43 || nh == 60) && off + 8 <= len; i++) {
		if (nh == 43 && ip[off + 2] == 0 && ip[off + 3] != 0)
			return true;
		nh = ip[off];
		off += ((size_t)ip[off + 1] + 1) * 8;
	}
	return false;
}

static bool
refused_v6(const uint8_t *ip, size_t len)
{
	static const uint8_t zero[16];
	const uint8_t *src = ip + 8, *dst = ip + 24;

	if (src[0] == 0xff || gw_addr(src, 6) || rh0_live(ip, len))
		return true;
	if (memcmp(src, zero, 15) != 0 || src[15] > 1)
		return false;
	/* ::1 never; :: only towards link-scope multicast (duplicate address detection) */
	return src[15] == 1 || !(dst[0] == 0xff && (dst[1] & 0x0f) == 2);
}

static bool
refused_l3(const uint8_t *ip, size_t len)
{
	if (len >= 20 && ip[0] >> 4 == 4)
		return refused_v4(ip, len);
	if (len >= 40 && ip[0] >> 4 == 6)
		return refused_v6(ip, len);
	return false;
}

/* An IP destination that a link-layer broadcast or multicast frame may carry. */
static bool
group_dst(const uint8_t *ip, size_t len)
{
	if (len >= 20 && ip[0] >> 4 == 4)
		return ip[16] >= 224 || memcmp(ip + 16, "\xff\xff\xff\xff", 4) == 0;
	return len >= 40 && ip[24] == 0xff;
}

static bool
refused_frame(const uint8_t *p, size_t len, const struct rte_ether_addr *mac)
{
	uint16_t type;

	if (len < RTE_ETHER_HDR_LEN)
		return false;
	if (!(p[0] & 1) && memcmp(p, mac->addr_bytes, RTE_ETHER_ADDR_LEN) != 0)
		return true; /* another station's frame, whatever it holds */
	type = (uint16_t)(p[12] << 8 | p[13]);
	if (type != RTE_ETHER_TYPE_IPV4 && type != RTE_ETHER_TYPE_IPV6)
		return false;
	if ((p[0] & 1) && !group_dst(p + RTE_ETHER_HDR_LEN, len - RTE_ETHER_HDR_LEN))
		return true;
	return refused_l3(p + RTE_ETHER_HDR_LEN, len - RTE_ETHER_HDR_LEN);
}

/* What a PMD hands over: one segment, data at the default headroom, no offload flags. */
static struct rte_mbuf *
mbuf_of(const uint8_t *p, uint16_t len, uint16_t front)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *d;

	if (m == NULL)
		die("fuzz_pkt: mbuf pool empty");
	len = RTE_MIN(len, rte_pktmbuf_tailroom(m) - front);
	d = (uint8_t *)rte_pktmbuf_append(m, front + len);
	memset(d, 0, front);
	memcpy(d + front, p, len);
	return m;
}

/* The outer header the twin wrote goes from us to the peer: turn it around. */
static void
outer_swap(struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), tmp[16];
	unsigned int off = (p[0] >> 4) == 4 ? 12 : 8, len = (p[0] >> 4) == 4 ? 4 : 16;

	/* The IPv4 checksum is a sum of 16-bit words: swapping two of them keeps it. */
	memcpy(tmp, p + off, len);
	memcpy(p + off, p + off + len, len);
	memcpy(p + off + len, tmp, len);
}

/* An inner packet made into a frame from the peer: ESP of i1 (or i6) in an Ethernet frame. */
static struct rte_mbuf *
frame_sealed(const struct frame *f, bool *refused)
{
	struct espgw_sa_rt *sa = seal_sa[(f->flags & F_SEAL6) != 0];
	struct rte_mbuf *m, *done[1];
	struct rte_ether_hdr *eth;
	uint8_t inner[INNER_MIN] = {0};

	if (sa == NULL)
		return NULL;
	memcpy(inner, f->p, RTE_MIN(f->len, INNER_MIN));
	m = mbuf_of(f->len < INNER_MIN ? inner : f->p, RTE_MAX(f->len, INNER_MIN),
			RTE_ETHER_HDR_LEN);
	if (!(f->flags & F_RAW))
		cksum_fix(rte_pktmbuf_mtod_offset(m, uint8_t *, RTE_ETHER_HDR_LEN),
				rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN);
	if (refused_l3(rte_pktmbuf_mtod_offset(m, const uint8_t *, RTE_ETHER_HDR_LEN),
			    rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN))
		*refused = true;
	m->l2_len = RTE_ETHER_HDR_LEN;
	if (espgw_esp_outb(&sealer, &m, &sa, 1, done) != 1)
		return NULL; /* freed and counted by the sealer: never received */
	m = done[0];
	outer_swap(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	memset(eth, 0, sizeof(*eth));
	eth->dst_addr = port_mac[0];
	eth->ether_type = rte_cpu_to_be_16((*(uint8_t *)(eth + 1) >> 4) == 4 ? RTE_ETHER_TYPE_IPV4
									     : RTE_ETHER_TYPE_IPV6);
	m->l2_len = 0;
	m->l3_len = 0;
	m->packet_type = 0;
	m->ol_flags = 0;
	return m;
}

static void
heap_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

/*
 * The frame moved into a heap block of its own, attached as an external
 * buffer: DPDK's mempool memory is invisible to ASan, a malloc'd block is
 * not, so a read or write past the frame (beyond a little tailroom) or after
 * the packet was freed becomes a sanitizer report.
 */
static struct rte_mbuf *
to_heap(struct rte_mbuf *src, uint16_t tailroom)
{
	uint16_t len = rte_pktmbuf_data_len(src);
	uint16_t size = RTE_PKTMBUF_HEADROOM + len + tailroom;
	struct rte_mbuf_ext_shared_info *shinfo = malloc(sizeof(*shinfo));
	uint8_t *buf = malloc(size);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (shinfo == NULL || buf == NULL || m == NULL)
		die("fuzz_pkt: out of memory");
	shinfo->free_cb = heap_free;
	shinfo->fcb_opaque = shinfo;
	rte_mbuf_ext_refcnt_set(shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, buf, (rte_iova_t)(uintptr_t)buf, size, shinfo);
	rte_pktmbuf_reset_headroom(m);
	memcpy(rte_pktmbuf_append(m, len), rte_pktmbuf_mtod(src, void *), len);
	m->port = src->port;
	rte_pktmbuf_free(src);
	return m;
}

/* A received frame, with its IPv4 header checksum set unless F_RAW. */
static struct rte_mbuf *
frame_plain(const struct frame *f, bool *refused)
{
	struct rte_mbuf *m = mbuf_of(f->p, f->len, 0);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t len = rte_pktmbuf_data_len(m);

	if (!(f->flags & F_RAW) && len > RTE_ETHER_HDR_LEN &&
			rte_be_to_cpu_16(((struct rte_ether_hdr *)p)->ether_type) ==
					RTE_ETHER_TYPE_IPV4)
		cksum_fix(p + RTE_ETHER_HDR_LEN, len - RTE_ETHER_HDR_LEN);
	*refused = refused_frame(p, len, &port_mac[frame_protected(f)]);
	return m;
}

static struct rte_mbuf *
frame_mbuf(const struct frame *f, bool *refused)
{
	struct rte_mbuf *m;

	*refused = false;
	if (f->flags & F_SEAL)
		m = frame_sealed(f, refused);
	else
		m = frame_plain(f, refused);
	if (m == NULL)
		return NULL;
	m->port = port_id[frame_protected(f)];
	return to_heap(m, frame_protected(f) ? TAIL_OUT : TAIL_IN);
}

/*
 * RX callback on every port: what the port "received" is the next burst of
 * the feed when it belongs to this port. Also the worker step's end: once
 * everything is delivered and no crypto op is in flight, a few idle polls
 * later the loop is told to stop (it checks between iterations).
 */
static uint16_t
rx_feed(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[], uint16_t nb, uint16_t max,
		void *arg)
{
	bool prot = port == port_id[1];
	uint16_t k = nb;

	(void)queue;
	(void)arg;
	while (feed.next < feed.n && feed.protected_port[feed.next] == prot && k < max)
		pkts[k++] = feed.m[feed.next++];
	if (++feed.polls == STEPS_MAX)
		die("fuzz_pkt: the worker loop does not settle (%u crypto ops in flight)",
				w->esp.inflight);
	if (feed.next == feed.n && w->esp.inflight == 0 && ++feed.idle >= IDLE_POLLS)
		gw.quit = true;
	return k;
}

/* One run of the worker loop over what the feed holds (maybe nothing). */
static void
worker_step(void)
{
	feed.idle = 0;
	feed.polls = 0;
	gw.quit = false;
	espgw_worker_main(w);
	feed.n = 0;
	feed.next = 0;
}

static void
feed_frames(const struct frame f[], unsigned int n)
{
	struct rte_mbuf *m;
	unsigned int i;
	bool refused;

	feed.n_refused = 0;
	feed.n_clear = 0;
	for (i = 0; i < n; i++) {
		m = frame_mbuf(&f[i], &refused);
		if (m == NULL)
			continue;
		/* Its buffer stays its own until it is freed (external, malloc'd: to_heap). */
		if (refused)
			feed.refused[feed.n_refused++] = m->buf_addr;
		if (!(f[i].flags & (F_PROTECTED | F_SEAL)) && clear_ip(m))
			feed.clear[feed.n_clear++] = m->buf_addr;
		feed.protected_port[feed.n] = frame_protected(&f[i]);
		feed.m[feed.n++] = m;
	}
}

static bool
buf_in(const void *buf, const void *const set[], uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		if (set[i] == buf)
			return true;
	return false;
}

/* The configured SPD's verdict on the IP packet in a frame (SPD key: lib/spd); 0 when none. */
static uint32_t
spd_verdict(const struct espgw_spd *spd, const struct rte_mbuf *m, uint8_t *proto)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), res = ESPGW_SPD_NO_MATCH;
	const struct espgw_spd_key4 *p4;
	const struct espgw_spd_key6 *p6;
	struct espgw_spd_key4 k4;
	struct espgw_spd_key6 k6;
	uint16_t type;

	*proto = 0;
	if (len <= RTE_ETHER_HDR_LEN)
		return res;
	type = (uint16_t)(p[12] << 8 | p[13]);
	p += RTE_ETHER_HDR_LEN;
	len -= RTE_ETHER_HDR_LEN;
	if (type == RTE_ETHER_TYPE_IPV4 && espgw_spd_key4_extract(p, len, &k4) == 0) {
		p4 = &k4;
		*proto = k4.proto;
		espgw_spd_classify4(spd, &p4, &res, 1);
	} else if (type == RTE_ETHER_TYPE_IPV6 && espgw_spd_key6_extract(p, len, &k6) == 0) {
		p6 = &k6;
		*proto = k6.proto;
		espgw_spd_classify6(spd, &p6, &res, 1);
	}
	return res;
}

/*
 * RFC 4301 7.3: the gateway gives a datagram's later fragments the verdict
 * of its first one (lib/dp fragstate), and a later fragment carries no ports
 * of its own. So the judge keeps the inbound verdicts of the first fragments
 * it was fed, by (addresses, ID, protocol), across inputs like the gateway's
 * state; a stale entry only makes it more lenient.
 */
#define FRAGV_MAX 256

struct frag_id {
	uint8_t b[40]; /* family, protocol, ID (4 bytes), source, destination */
};

static struct {
	struct frag_id id[FRAGV_MAX];
	uint32_t res[FRAGV_MAX];
	unsigned int next;
} fragv;

/* A fragment's identity; *first: offset 0. False when m holds no IP fragment. */
static bool
frag_of(const struct rte_mbuf *m, struct frag_id *k, bool *first)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *) + RTE_ETHER_HDR_LEN;
	uint32_t len = rte_pktmbuf_data_len(m);
	uint16_t off;

	memset(k, 0, sizeof(*k));
	if (len < RTE_ETHER_HDR_LEN + 20)
		return false;
	if ((p[0] >> 4) == 4) {
		off = (uint16_t)((p[6] & 0x3f) << 8 | p[7]); /* MF and the offset */
		if (off == 0)
			return false;
		*first = (off & 0x1fff) == 0;
		k->b[0] = 4;
		k->b[1] = p[9];
		memcpy(k->b + 2, p + 4, 2);
		memcpy(k->b + 8, p + 12, 8);
		return true;
	}
	if ((p[0] >> 4) != 6 || len < RTE_ETHER_HDR_LEN + 48 || p[6] != IPPROTO_FRAGMENT)
		return false;
	*first = ((p[42] << 8 | p[43]) & 0xfff8) == 0;
	k->b[0] = 6;
	k->b[1] = p[40];
	memcpy(k->b + 2, p + 44, 4);
	memcpy(k->b + 8, p + 8, 32);
	return true;
}

static void
fragv_note(const struct rte_mbuf *m, uint32_t res)
{
	struct frag_id k;
	bool first;

	if (!frag_of(m, &k, &first) || !first)
		return;
	fragv.id[fragv.next % FRAGV_MAX] = k;
	fragv.res[fragv.next++ % FRAGV_MAX] = res;
}

/* A later fragment whose first one the inbound SPD let in. */
static bool
fragv_bypassed(const struct rte_mbuf *m)
{
	struct frag_id k;
	unsigned int i;
	bool first;

	if (!frag_of(m, &k, &first) || first)
		return false;
	for (i = 0; i < FRAGV_MAX; i++)
		if (fragv.res[i] == ESPGW_SPD_BYPASS && memcmp(&fragv.id[i], &k, sizeof(k)) == 0)
			return true;
	return false;
}

/* An IP frame that is not ESP: what the inbound SPD must let in to reach the LAN. */
static bool
clear_ip(const struct rte_mbuf *m)
{
	uint8_t proto;
	uint32_t res = spd_verdict(gw.spd_in, m, &proto);

	if (proto == 0 || proto == IPPROTO_ESP)
		return false;
	fragv_note(m, res);
	return true;
}

/* A frame leaving port: nothing refused, nothing protect-class in clear, nothing let in unasked. */
static void
judge(uint16_t port, const struct rte_mbuf *m)
{
	uint32_t res;
	uint8_t proto;

	if (buf_in(m->buf_addr, feed.refused, feed.n_refused))
		die("fuzz_pkt: a frame the input rules refuse left port %u", port);
	if (port == port_id[0]) {
		res = spd_verdict(gw.spd_out, m, &proto);
		if (proto != IPPROTO_ESP && ESPGW_SPD_IS_PROTECT(res))
			die("fuzz_pkt: protect-class traffic left the unprotected port in clear");
	} else if (buf_in(m->buf_addr, feed.clear, feed.n_clear)) {
		res = spd_verdict(gw.spd_in, m, &proto);
		if (res != ESPGW_SPD_BYPASS && !fragv_bypassed(m))
			die("fuzz_pkt: clear traffic from the unprotected side reached the "
			    "protected "
			    "side without an inbound bypass rule (verdict %" PRIu32 ")",
					res);
	}
}

static uint16_t
tx_judge(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[], uint16_t nb, void *arg)
{
	uint16_t i;

	(void)queue;
	(void)arg;
	for (i = 0; i < nb; i++)
		judge(port, pkts[i]);
	return nb;
}

/*
 * The control path as espgw_gw_ctl_poll runs it, on a virtual clock: serve
 * the ring, then let the clock run past every retransmission so that each
 * packet waiting for a neighbor is released or dropped within this input;
 * after each round a worker step sends and injects what the control path
 * queued for it, which may hand packets back: rounds go on until the ring
 * stays empty (bounded: a ping-pong between the two is a finding too).
 */
static void
ctl_run(void)
{
	struct rte_mbuf *m[64];
	unsigned int n, k, rounds = host_conf.retries + 2u;

	for (k = 0; k < rounds || rte_ring_count(gw.ctl) != 0; k++) {
		if (k == 4 * rounds)
			die("fuzz_pkt: the control ring does not drain");
		while ((n = rte_ring_dequeue_burst(gw.ctl, (void **)m, RTE_DIM(m), NULL)) != 0)
			espgw_host_input(gw.host, m, n, clock_ms);
		espgw_host_timer(gw.host, clock_ms);
		worker_step();
		clock_ms += host_conf.retrans_ms;
	}
}

static uint64_t
drops_total(void)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < ESPGW_DROP_MAX; i++)
		sum += w->stats.drop[i];
	return sum;
}

/* The control path: in = sent + absorbed + drops + pending, and nothing still pending. */
static void
host_check(void)
{
	const struct espgw_host_stats *h = espgw_host_stats(gw.host);
	uint64_t drops = 0;
	unsigned int i;

	for (i = 0; i < ESPGW_DROP_MAX; i++)
		drops += h->drop[i];
	if (h->c[ESPGW_HOST_IN] !=
			h->c[ESPGW_HOST_SENT] + h->c[ESPGW_HOST_ABSORBED] + drops + h->pending)
		die("fuzz_pkt: control path counters: in %" PRIu64 " != sent %" PRIu64
		    " + absorbed %" PRIu64 " + drops %" PRIu64 " + pending %" PRIu64,
				h->c[ESPGW_HOST_IN], h->c[ESPGW_HOST_SENT],
				h->c[ESPGW_HOST_ABSORBED], drops, h->pending);
	if (h->pending != 0)
		die("fuzz_pkt: %" PRIu64 " packets still wait for a neighbor after every retry",
				h->pending);
}

/* Nothing leaked, nothing lost without a reason. */
static void
invariants_check(void)
{
	const struct espgw_lcore_stats *s = &w->stats;
	struct espgw_dp_sum d;
	unsigned int mbufs = rte_mempool_in_use_count(pool);
	unsigned int ops = rte_mempool_in_use_count(gw.crypto.op_pool);

	if (mbufs != mbufs_at_start)
		die("fuzz_pkt: mbuf leak: %u in use, %u before the first input", mbufs,
				mbufs_at_start);
	if (ops != ops_at_start)
		die("fuzz_pkt: crypto op leak: %u in use, %u before the first input", ops,
				ops_at_start);
	espgw_dp_sum(&w, 1, &d);
	if (s->rx + d.created != s->tx + drops_total() + s->to_ctl + d.absorbed + d.pending)
		die("fuzz_pkt: worker counters: rx %" PRIu64 " + created %" PRIu64 " != tx %" PRIu64
		    " + drops %" PRIu64 " + to_ctl %" PRIu64 " + absorbed %" PRIu64
		    " + pending %" PRIu64,
				s->rx, d.created, s->tx, drops_total(), s->to_ctl, d.absorbed,
				d.pending);
}

/* What the last input did, to check by hand that seeds reach the code they aim at. */
static void
report(unsigned int n_frames)
{
	const struct espgw_lcore_stats *s = &w->stats;
	struct espgw_dp_sum d;
	unsigned int i;

	espgw_dp_sum(&w, 1, &d);
	fprintf(stderr, "fuzz_pkt: %u frames: rx %" PRIu64 " tx %" PRIu64 " to_ctl %" PRIu64,
			n_frames, s->rx - last.rx, s->tx - last.tx, s->to_ctl - last.to_ctl);
	for (i = 0; i < ESPGW_DP_MAX; i++)
		if (d.c[i] != last_dp.c[i])
			fprintf(stderr, " %s %" PRIu64, espgw_dp_counter_name(i),
					d.c[i] - last_dp.c[i]);
	last_dp = d;
	for (i = 0; i < ESPGW_DROP_MAX; i++)
		if (s->drop[i] != last.drop[i])
			fprintf(stderr, " %s %" PRIu64, espgw_drop_name(i),
					s->drop[i] - last.drop[i]);
	fputc('\n', stderr);
	last = *s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame f[FRAMES_MAX];
	unsigned int n = frames_split(data, size, f);

	feed_frames(f, n);
	worker_step();
	ctl_run();
	if (verbose)
		report(n);
	host_check();
	invariants_check();
	return 0;
}
