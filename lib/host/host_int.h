/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/host internals shared between its files. */
#ifndef ESPGW_HOST_INT_H
#define ESPGW_HOST_INT_H

#include <stdbool.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "espgw_host.h"

#define HOST_TTL      64	     /* TTL / hop limit of what the gateway originates */
#define INJECT_TTL    (HOST_TTL + 1) /* the outbound path takes one off, as for any packet */
#define ND_HOP_LIMIT  255	     /* RFC 4861 6.1.2, 7.1.1: ND is link-local only */
#define ICMP6_PROTO   58
#define ICMP4_PROTO   1
#define ICMP4_ECHO    8
#define ICMP4_ECHOREP 0
#define ICMP6_ECHO    128
#define ICMP6_ECHOREP 129
#define ND_RS	      133
#define ND_NS	      135
#define ND_NA	      136
#define ND_REDIRECT   137

/* Neighbor resolution state per neighbor-table slot (RFC 4861 7.3.2, reduced). */
enum nb_state {
	NB_IDLE,       /* nothing going on: static, or unresolved and unused */
	NB_INCOMPLETE, /* requests out, packets may wait */
	NB_REACHABLE,  /* resolved and confirmed, until the deadline */
	NB_STALE,      /* MAC from unsolicited news: used, and due for a probe at once */
	NB_PROBE,      /* resolved but due: unicast probes out, still used meanwhile */
};

struct nb {
	struct espgw_l2_hop *hop;
	uint64_t deadline;  /* next retransmission, failure or re-probe */
	uint64_t confirmed; /* when the MAC was last learned or confirmed (the lock time) */
	uint8_t state;
	uint8_t tries; /* requests sent in this state */
	bool stranger; /* made for the unprotected side: counts against its share */
	uint16_t qn;   /* packets waiting, at qmem[slot * queue_per_neigh] */
	uint8_t want;  /* enum espgw_hop_kind the store asks for (neigh_oper.c), 0: none */
};

/* The ICMP errors the gateway sends, each with its own budget (icmp.c). */
enum err_kind { ERR_TOO_BIG, ERR_TIME, ERR_KINDS };
/* Whom an error answers: hosts on a protected link, or anyone else (WAN, tunnels). */
enum err_side { ERR_LAN, ERR_OUTSIDE, ERR_SIDES };

#define ICMP_DST_BUCKETS 256 /* per-destination buckets, chosen by a keyed hash */

/* A token bucket, in thousandths of a token. */
struct icmp_bucket {
	uint64_t credit;
	uint64_t last; /* when it was last filled (ms) */
};

/*
 * What one ARP or ND message says about a neighbor: the facts neigh_learn
 * judges by RFC 826's merge rule and RFC 4861 7.2.3 / 7.2.5.
 */
struct nb_news {
	struct espgw_ip ip;	   /* the neighbor */
	struct rte_ether_addr mac; /* its link-layer address, when has_mac */
	bool has_mac;
	bool answer; /* an answer to us (ARP reply to our address, NA with S): solicited if we asked */
	bool override; /* may replace a different MAC: ARP, NS; NA only with O (RFC 4861 7.2.5) */
	bool to_us;    /* a request for one of our addresses: may create the asker's entry */
};

/* A port's host interface (hostif.c). */
struct host_if {
	char vdev[RTE_DEV_NAME_MAX_LEN]; /* net_tun_espgw<port index> */
	uint16_t port_id;		 /* its ethdev */
	bool created;			 /* the vdev (and the kernel interface) exists */
	bool open;			 /* started: packets go up and come down */
};

struct espgw_host {
	struct espgw_host_conf conf;
	const struct espgw_store *store;
	const struct espgw_ports *ports;
	struct espgw_route *route;
	struct rte_ring *inject; /* worker 0's outbound path */
	struct nb *nb;		 /* [n_nb], indexed by neighbor slot */
	struct rte_mbuf **qmem;	 /* [n_nb * conf.queue_per_neigh] */
	unsigned int n_nb;
	unsigned int n_dyn;	   /* dynamic entries, at most ESPGW_NEIGH_SPARE */
	bool oper_synced;	   /* nb[].want marks the store's entries (neigh_oper.c) */
	unsigned int n_stranger;   /* dynamic entries made for the unprotected side */
	unsigned int max_stranger; /* their share: half the slots left for dynamic entries */
	uint64_t next_timer;	   /* earliest deadline of any slot, UINT64_MAX when none */
	uint32_t icmp_key;	   /* key of the per-destination hash */
	struct icmp_bucket icmp_kind[ERR_SIDES][ERR_KINDS]; /* whole gateway, per side and kind */
	struct icmp_bucket icmp_dst[ICMP_DST_BUCKETS];	    /* by destination */
	struct espgw_ip ll[ESPGW_MAX_PORTS];		    /* each port's link-local address */
	struct host_if hif[ESPGW_MAX_PORTS];		    /* by port index */
	struct rte_mempool *
			hif_pool; /* the host interfaces' own: the kernel cannot drain the ports' */
	unsigned int log_tokens;  /* neighbor lines that may go out now (neigh_log.c) */
	uint64_t log_ms;	  /* when the bucket was last refilled */
	uint64_t log_held;	  /* lines held back since the last one out */
	struct espgw_host_stats st;
};

static inline void
host_count(struct espgw_host *h, enum espgw_host_counter c)
{
	h->st.c[c]++;
}

/* End the life of a packet taken from the ring. */
static inline void
host_drop(struct espgw_host *h, struct rte_mbuf *m, enum espgw_drop why)
{
	h->st.drop[why]++;
	rte_pktmbuf_free(m);
}

static inline void
host_absorb(struct espgw_host *h, struct rte_mbuf *m)
{
	host_count(h, ESPGW_HOST_ABSORBED);
	rte_pktmbuf_free(m);
}

/* host.c: addresses, frames, transmission */
bool host_addr_own(const struct espgw_host *h, uint16_t port, const struct espgw_ip *ip);
/* ip is another station's address on a subnet of this port (not ours, not a broadcast). */
bool host_on_link(const struct espgw_host *h, uint16_t port, const struct espgw_ip *ip);
/* ip is the broadcast address of one of the gateway's IPv4 subnets (RFC 919, RFC 3021). */
bool host_subnet_bcast(const struct espgw_host *h, const struct espgw_ip *ip);
int host_src_addr(const struct espgw_host *h, uint16_t port, const struct espgw_ip *peer,
		struct espgw_ip *src);
void *host_frame_reset(struct rte_mbuf *m, uint16_t len);
struct rte_mbuf *host_frame_alloc(struct espgw_host *h, uint16_t port, uint16_t len);
void host_eth_fill(struct rte_ether_hdr *eth, const struct rte_ether_addr *dst,
		const struct espgw_host *h, uint16_t port, uint16_t type);
/* Transmit on the port's control TX queue (or worker 0's ring); false when full. */
bool host_send(struct espgw_host *h, uint16_t port, struct rte_mbuf *m);
void host_reply(struct espgw_host *h, uint16_t port, struct rte_mbuf *m);
void host_originate(struct espgw_host *h, uint16_t port, struct rte_mbuf *m,
		enum espgw_host_counter what);
void host_forward(struct espgw_host *h, struct rte_mbuf *m, const struct espgw_l2_hop *hop);
/*
 * Into the outbound path (worker 0): m holds a frame whose Ethernet header
 * only says the family. False when the ring is full (m is still the caller's).
 */
bool host_inject(struct espgw_host *h, struct rte_mbuf *m, uint32_t kind);
/*
 * Send a reply built in m (at L3, or in a frame: l2_len) through the outbound
 * path, which classifies it by its own header (kind: ESPGW_INJECT_OWN, or
 * ESPGW_INJECT_OWN_SA to what came out of a tunnel).
 */
void host_reply_inject(struct espgw_host *h, struct rte_mbuf *m, uint32_t kind);
/* Did m come out of a tunnel (no frame of its own, or none from a port: it has no link)? */
bool host_from_tunnel(const struct espgw_host *h, const struct rte_mbuf *m);
/*
 * Does what the gateway sends to peer out of this port cross the IPsec
 * boundary (an unprotected port, and peer not link-local), so that the
 * outbound SPD must decide it (RFC 4301 5.1)?
 */
bool host_crosses(const struct espgw_host *h, uint16_t port, const struct espgw_ip *peer);
void host_ip_of(const struct rte_mbuf *m, uint16_t off, bool src, struct espgw_ip *ip);
/* The arrival port's index, or -1. */
int host_port_of(const struct espgw_host *h, const struct rte_mbuf *m);
void host_ip4_fill(
		struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst, uint16_t len, uint8_t proto);
void host_ip6_fill(struct rte_ipv6_hdr *ip, const uint8_t *src, const uint8_t *dst, uint16_t plen,
		uint8_t hlim);

/* arp.c */
void arp_input(struct espgw_host *h, struct rte_mbuf *m, uint16_t port, uint64_t now);
void arp_solicit(struct espgw_host *h, const struct espgw_l2_hop *hop, bool unicast);

/* nd.c */
void nd_input(struct espgw_host *h, struct rte_mbuf *m, uint16_t port, uint64_t now);
void nd_solicit(struct espgw_host *h, const struct espgw_l2_hop *hop, bool unicast);

/* icmp.c: port < 0 when the packet came out of a tunnel (L3 at offset 0, no frame) */
void icmp4_input(struct espgw_host *h, struct rte_mbuf *m, int port);
void icmp6_echo_input(struct espgw_host *h, struct rte_mbuf *m, int port);
void icmp_init(struct espgw_host *h);
void icmp_too_big(struct espgw_host *h, struct rte_mbuf *m, uint16_t mtu, uint64_t now);
void icmp_time_exceeded(struct espgw_host *h, struct rte_mbuf *m, uint64_t now);
bool icmp6_cksum_ok(const struct rte_ipv6_hdr *ip, const void *l4);
void icmp6_cksum_set(struct rte_ipv6_hdr *ip, void *l4);

/*
 * hostif.c: a packet for the gateway that espgw does not answer itself (L3
 * at m->l2_len) goes up the host interface of the port holding its
 * destination: true when taken (sent, or dropped as tx_full), false when
 * that port has none.
 */
bool host_if_up(struct espgw_host *h, struct rte_mbuf *m);
/* The host interface (port index) for the destination of m (L3 at m->l2_len), or -1. */
int host_if_port(const struct espgw_host *h, const struct rte_mbuf *m);
/* m up that port's interface, counted to_host; false: not taken (still the caller's). */
bool host_if_send(struct espgw_host *h, int port, struct rte_mbuf *m);
/* hostif_nl.c: the address (with its prefix) on kernel interface ifname; 0 or -errno. */
int host_if_addr_add(const char *ifname, const struct espgw_prefix *p);

/* neigh_resolve.c: next-hop resolution, the state machine of each neighbor entry */
int neigh_init(struct espgw_host *h, int socket);
/* Packets waiting for resolution back to their pool, counted as shutdown drops. */
void neigh_flush(struct espgw_host *h);
void neigh_fini(struct espgw_host *h);
/*
 * A packet the data path routed to an unresolved next hop on port (L3 at
 * m->l2_len): sent, queued for the resolution, or dropped.
 */
void neigh_output(struct espgw_host *h, struct rte_mbuf *m, uint16_t port, uint64_t now);
void neigh_learn(struct espgw_host *h, uint16_t port, const struct nb_news *n, uint64_t now);
void neigh_timer(struct espgw_host *h, uint64_t now);
/* The state of entry e; its waiting packets. */
struct nb *nb_of(struct espgw_host *h, const struct espgw_l2_hop *e);
struct rte_mbuf **nb_queue(struct espgw_host *h, const struct nb *nb);
void nb_timer_arm(struct espgw_host *h, struct nb *nb, uint64_t deadline);
/* Send the waiting packets through e (resolved). */
void nb_release(struct espgw_host *h, struct nb *nb, const struct espgw_l2_hop *e);

/* neigh_log.c: espgw.host's lines about neighbors, rate-limited. */
void neigh_log_init(struct espgw_host *h);
void neigh_log_resolved(struct espgw_host *h, const struct espgw_l2_hop *e,
		const struct rte_ether_addr *mac, uint64_t now);
void neigh_log_moved(struct espgw_host *h, const struct espgw_l2_hop *e,
		const struct rte_ether_addr *old, const struct rte_ether_addr *mac, uint64_t now);
void neigh_log_failed(struct espgw_host *h, const struct espgw_l2_hop *e, unsigned int tries,
		unsigned int dropped, uint64_t now);
/* A stranger's entry is no longer one: its room in the share is free again. */
void nb_share_release(struct espgw_host *h, struct nb *nb);

#endif
