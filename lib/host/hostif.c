/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host interfaces: for a port configured with "host-if NAME", a kernel
 * interface that carries the port's addresses, so that the gateway's own
 * daemons (the IKE daemon, ssh, a routing daemon) use the ports DPDK owns.
 * It is a net_tun device (DPDK's tap driver in layer-3 mode) that espgw
 * creates itself: with no link layer the kernel never answers ARP or ND for
 * those addresses (it has no wire; espgw answers them) and needs no MAC.
 *
 * Up: a packet for one of the gateway's addresses that espgw does not
 * answer itself (everything but ARP, ND and ICMP echo requests) goes to the
 * host interface of the port that holds that address, after the inbound
 * policy let it in (or, IKE, without it: lib/dp/inbound.c).
 * Down: what the kernel sends goes into the outbound path like a packet
 * from a protected port (ESPGW_INJECT_OWN), so the SPD protects, bypasses or
 * discards the host's traffic like any other, and routing and neighbors are
 * espgw's. IKE and NAT keepalives leave past the SPD (RFC 4301 5.1.2). Only
 * packets from one of the gateway's own addresses are taken: the kernel
 * must not become a way to send anything else.
 *
 * Everything here runs on the control lcore, which may make system calls;
 * the workers never touch these devices.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_udp.h>

#include "host_int.h"

#define HIF_DESC       256
#define HIF_POOL_SIZE  2047 /* per device: its RX ring, and what the kernel sends meanwhile */
#define HIF_POOL_CACHE 32
#define HIF_BURST      32
#define UDP_PROTO      17
#define NON_ESP_MARKER 4    /* RFC 3948 2.2: four zero bytes in front of IKE on 4500 */
#define KEEPALIVE_BYTE 0xff /* RFC 3948 2.3 */
#define IKE_HDR_LEN     28   /* RFC 7296 3.1: SPIs, next payload, version, ..., length */
#define IKE_VERSION_OFF 17
#define IKE_LENGTH_OFF  24

static int
hif_fail(struct espgw_err *err, const char *ifname, const char *what, int rc)
{
	snprintf(err->msg, sizeof(err->msg), "host-if %s: %s: %s", ifname, what,
			rte_strerror(rc < 0 ? -rc : rc));
	return -1;
}

static int
hif_pool_create(struct espgw_host *h, unsigned int n, int socket, struct espgw_err *err)
{
	h->hif_pool = rte_pktmbuf_pool_create("espgw_hostif", n * HIF_POOL_SIZE, HIF_POOL_CACHE, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (h->hif_pool != NULL)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "host interfaces: cannot create their mbuf pool: %s",
			rte_strerror(rte_errno));
	return -1;
}

/* One RX and one TX queue, the port's MTU, link up (the driver's start). */
static int
hif_dev_start(struct espgw_host *h, uint16_t id, const struct espgw_port_conf *pc,
		struct espgw_err *err)
{
	struct rte_eth_conf conf;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(id, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_set_mtu(id, pc->mtu);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(id, 0, HIF_DESC, SOCKET_ID_ANY, NULL, h->hif_pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(id, 0, HIF_DESC, SOCKET_ID_ANY, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(id);
	return rc == 0 ? 0 : hif_fail(err, pc->host_if, "cannot start it", rc);
}

static int
hif_addrs(const struct espgw_port_conf *pc, struct espgw_err *err)
{
	char buf[ESPGW_IP_STRLEN];
	unsigned int a;
	int rc;

	for (a = 0; a < pc->n_addr; a++) {
		rc = host_if_addr_add(pc->host_if, &pc->addr[a]);
		if (rc < 0) {
			snprintf(err->msg, sizeof(err->msg),
					"host-if %s: cannot add address %s: %s", pc->host_if,
					espgw_ip_fmt(&pc->addr[a].ip, buf, sizeof(buf)),
					strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/*
 * No IPv6 link-local address of the kernel's own making (addr_gen_mode 1,
 * "none", before the link comes up): the link-local address of the port is
 * espgw's (ND is answered there), and without one the kernel sends no router
 * solicitations or MLD reports down an interface that has no link. A kernel
 * without IPv6 has no such file: nothing to do then.
 */
static void
hif_no_ll(const char *ifname)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/addr_gen_mode", ifname);
	f = fopen(path, "w");
	if (f == NULL)
		return;
	fputs("1\n", f);
	fclose(f);
}

static int
hif_open(struct espgw_host *h, unsigned int i, struct espgw_err *err)
{
	const struct espgw_port_conf *pc = &h->store->ports[i];
	struct host_if *hif = &h->hif[i];
	char args[ESPGW_IFNAME_MAX + 8];
	int rc;

	snprintf(hif->vdev, sizeof(hif->vdev), "net_tun_espgw%u", i);
	snprintf(args, sizeof(args), "iface=%s", pc->host_if);
	rc = rte_vdev_init(hif->vdev, args);
	if (rc != 0)
		return hif_fail(err, pc->host_if, "cannot create it (net_tun)", rc);
	hif->created = true;
	rc = rte_eth_dev_get_port_by_name(hif->vdev, &hif->port_id);
	if (rc != 0)
		return hif_fail(err, pc->host_if, "no ethdev", rc);
	hif_no_ll(pc->host_if);
	if (hif_dev_start(h, hif->port_id, pc, err) < 0)
		return -1;
	hif->open = true;
	return hif_addrs(pc, err);
}

static unsigned int
hif_count(const struct espgw_store *s)
{
	unsigned int i, n = 0;

	for (i = 0; i < s->n_ports; i++)
		n += s->ports[i].host_if[0] != '\0';
	return n;
}

int
espgw_host_if_open(struct espgw_host *h, int socket, struct espgw_err *err)
{
	unsigned int i, n = hif_count(h->store);

	if (n == 0)
		return 0;
	if (hif_pool_create(h, n, socket, err) < 0)
		return -1;
	for (i = 0; i < h->store->n_ports; i++)
		if (h->store->ports[i].host_if[0] != '\0' && hif_open(h, i, err) < 0)
			return -1;
	return 0;
}

void
espgw_host_if_close(struct espgw_host *h)
{
	unsigned int i;

	for (i = 0; i < ESPGW_MAX_PORTS; i++) {
		struct host_if *hif = &h->hif[i];

		if (hif->open) {
			(void)rte_eth_dev_stop(hif->port_id);
			(void)rte_eth_dev_close(hif->port_id);
		}
		if (hif->created)
			(void)rte_vdev_uninit(hif->vdev); /* the kernel interface goes with it */
		memset(hif, 0, sizeof(*hif));
	}
}

/* The port that holds dst among its configured addresses, if it has a host interface. */
static int
hif_of_dst(const struct espgw_host *h, const struct espgw_ip *dst)
{
	int port = espgw_store_port_of_addr(h->store, dst);

	return port >= 0 && h->hif[port].open ? port : -1;
}

int
host_if_port(const struct espgw_host *h, const struct rte_mbuf *m)
{
	struct espgw_ip dst;

	host_ip_of(m, m->l2_len, false, &dst);
	return hif_of_dst(h, &dst);
}

bool
host_if_send(struct espgw_host *h, int port, struct rte_mbuf *m)
{
	rte_pktmbuf_adj(m, m->l2_len);
	m->l2_len = 0;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	if (rte_eth_tx_burst(h->hif[port].port_id, 0, &m, 1) != 1)
		return false;
	host_count(h, ESPGW_HOST_TO_HOST);
	return true;
}

bool
host_if_up(struct espgw_host *h, struct rte_mbuf *m)
{
	int port = host_if_port(h, m);

	if (port < 0)
		return false;
	if (host_if_send(h, port, m))
		host_count(h, ESPGW_HOST_SENT);
	else
		host_drop(h, m, ESPGW_DROP_TX_FULL);
	return true;
}

/* The UDP header and payload length of an unfragmented UDP datagram from the kernel. */
static const struct rte_udp_hdr *
hif_udp(const uint8_t *p, uint32_t len, uint32_t *plen)
{
	uint32_t off;

	if ((p[0] >> 4) == 4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;

		if (ip->next_proto_id != UDP_PROTO ||
				(ip->fragment_offset & rte_cpu_to_be_16(~RTE_IPV4_HDR_DF_FLAG)) !=
						0)
			return NULL;
		off = rte_ipv4_hdr_len(ip);
	} else {
		if (((const struct rte_ipv6_hdr *)p)->proto != UDP_PROTO)
			return NULL;
		off = sizeof(struct rte_ipv6_hdr);
	}
	if (len < off + sizeof(struct rte_udp_hdr))
		return NULL;
	*plen = len - off - (uint32_t)sizeof(struct rte_udp_hdr);
	return (const struct rte_udp_hdr *)(p + off);
}

/*
 * An IKEv2 message (RFC 7296 3.1): a whole header, major version 2, and a
 * Length that is the datagram's, so that nothing but IKE rides the bypass.
 */
static bool
hif_is_ike(const uint8_t *pl, uint32_t plen)
{
	uint32_t ike_len;

	if (plen < IKE_HDR_LEN || (pl[IKE_VERSION_OFF] >> 4) != 2)
		return false;
	memcpy(&ike_len, pl + IKE_LENGTH_OFF, sizeof(ike_len));
	return rte_be_to_cpu_32(ike_len) == plen;
}

/*
 * IKE (from port 500, or from 4500 behind the non-ESP marker) and NAT
 * keepalives (one 0xff byte from 4500) pass the SPD (RFC 4301 5.1.2, RFC
 * 3948 2.2, 2.3), and only well-formed ones; everything else is the SPD's to
 * judge. The outbound path still protects what a protect policy covers
 * (lib/dp/outbound.c): the bypass only lets IKE out where no rule would.
 */
static uint32_t
hif_kind(const uint8_t *p, uint32_t len)
{
	static const uint8_t marker[NON_ESP_MARKER];
	const struct rte_udp_hdr *udp;
	const uint8_t *pl;
	uint32_t plen;

	udp = hif_udp(p, len, &plen);
	if (udp == NULL)
		return ESPGW_INJECT_OWN;
	pl = (const uint8_t *)(udp + 1);
	if (udp->src_port == rte_cpu_to_be_16(ESPGW_IKE_PORT))
		return hif_is_ike(pl, plen) ? ESPGW_INJECT_BYPASS : ESPGW_INJECT_OWN;
	if (udp->src_port != rte_cpu_to_be_16(ESPGW_NATT_PORT))
		return ESPGW_INJECT_OWN;
	if ((plen >= NON_ESP_MARKER && memcmp(pl, marker, NON_ESP_MARKER) == 0 &&
			    hif_is_ike(pl + NON_ESP_MARKER, plen - NON_ESP_MARKER)) ||
			(plen == 1 && pl[0] == KEEPALIVE_BYTE))
		return ESPGW_INJECT_BYPASS;
	return ESPGW_INJECT_OWN;
}

/* A whole IP header whose source is one of the gateway's configured addresses. */
static bool
hif_from_us(const struct espgw_host *h, const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	struct espgw_ip src;

	if (len < sizeof(struct rte_ipv4_hdr) || ((p[0] >> 4) != 4 && (p[0] >> 4) != 6))
		return false;
	if ((p[0] >> 4) == 4 && len < rte_ipv4_hdr_len((const struct rte_ipv4_hdr *)p))
		return false;
	if ((p[0] >> 4) == 6 && len < sizeof(struct rte_ipv6_hdr))
		return false;
	host_ip_of(m, 0, true, &src);
	return espgw_store_port_of_addr(h->store, &src) >= 0;
}

/*
 * The outbound path takes one off the TTL as for a forwarded packet; the
 * host's own packets leave with the TTL the kernel gave them, as from any
 * host (RFC 1122 3.2.1.7).
 */
static void
hif_ttl_credit_at(struct rte_mbuf *m, uint16_t off)
{
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, off);

	if ((p[0] >> 4) == 6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)p;

		if (ip6->hop_limits < UINT8_MAX)
			ip6->hop_limits++;
		return;
	}
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

	if (ip->time_to_live == UINT8_MAX)
		return;
	ip->time_to_live++;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static void
hif_down(struct espgw_host *h, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth;
	uint8_t v;
	uint32_t kind;

	host_count(h, ESPGW_HOST_FROM_HOST);
	if (m->nb_segs != 1 || !hif_from_us(h, m))
		goto refused;
	v = *rte_pktmbuf_mtod(m, const uint8_t *) >> 4;
	kind = hif_kind(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m));
	hif_ttl_credit_at(m, 0);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eth));
	if (eth == NULL)
		goto refused;
	memset(eth, 0, sizeof(*eth));
	eth->ether_type = rte_cpu_to_be_16(v == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	if (!host_inject(h, m, kind)) {
		host_count(h, ESPGW_HOST_FROM_HOST_FULL);
		rte_pktmbuf_free(m);
		return;
	}
	if (kind == ESPGW_INJECT_BYPASS)
		host_count(h, ESPGW_HOST_FROM_HOST_IKE);
	return;
refused:
	host_count(h, ESPGW_HOST_FROM_HOST_REFUSED);
	rte_pktmbuf_free(m);
}

unsigned int
espgw_host_if_poll(struct espgw_host *h)
{
	struct rte_mbuf *m[HIF_BURST];
	unsigned int i, total = 0;
	uint16_t n, k;

	for (i = 0; i < h->store->n_ports; i++) {
		if (!h->hif[i].open)
			continue;
		n = rte_eth_rx_burst(h->hif[i].port_id, 0, m, HIF_BURST);
		for (k = 0; k < n; k++)
			hif_down(h, m[k]);
		total += n;
	}
	return total;
}

/*
 * RFC 3948 2.3: a NAT keepalive, one 0xff byte in UDP from the SA's port to
 * the peer's, keeps the NAT's mapping alive while the SA is silent. Made
 * here and sent past the SPD (ESPGW_INJECT_BYPASS), as IKE is. IPv4 UDP
 * checksum 0 as for ESP in UDP (RFC 3948 2.1); IPv6 computed (RFC 8200 8.1).
 */
bool
espgw_host_natt_keepalive(struct espgw_host *h, const struct espgw_sa_conf *sa)
{
	bool v4 = sa->local.family == ESPGW_AF_INET;
	uint16_t l3 = v4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	uint16_t ulen = sizeof(struct rte_udp_hdr) + 1;
	struct rte_ether_hdr *eth;
	struct rte_udp_hdr *udp;
	struct rte_mbuf *m;

	m = rte_pktmbuf_alloc(h->ports->pool[h->ports->port[0].socket]);
	if (m == NULL || (eth = (struct rte_ether_hdr *)rte_pktmbuf_append(
					  m, sizeof(*eth) + l3 + ulen)) == NULL)
		goto fail;
	memset(eth, 0, sizeof(*eth));
	eth->ether_type = rte_cpu_to_be_16(v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	udp = (struct rte_udp_hdr *)((uint8_t *)(eth + 1) + l3);
	udp->src_port = rte_cpu_to_be_16(sa->encap_sport);
	udp->dst_port = rte_cpu_to_be_16(sa->encap_dport);
	udp->dgram_len = rte_cpu_to_be_16(ulen);
	udp->dgram_cksum = 0;
	*(uint8_t *)(udp + 1) = KEEPALIVE_BYTE;
	if (v4) {
		host_ip4_fill((struct rte_ipv4_hdr *)(eth + 1), sa->local.v4, sa->remote.v4,
				l3 + ulen, UDP_PROTO);
	} else {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);

		host_ip6_fill(ip6, sa->local.v6, sa->remote.v6, ulen, HOST_TTL);
		ip6->proto = UDP_PROTO;
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip6, udp);
	}
	hif_ttl_credit_at(m, sizeof(*eth));
	if (host_inject(h, m, ESPGW_INJECT_BYPASS)) {
		host_count(h, ESPGW_HOST_NATT_KEEPALIVE);
		return true;
	}
fail:
	rte_pktmbuf_free(m);
	host_count(h, ESPGW_HOST_ORIG_FAILED);
	return false;
}
