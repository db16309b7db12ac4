/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway as an IP host, on the control path (main lcore): ARP (RFC 826)
 * and IPv6 neighbor discovery (RFC 4861) for its own addresses and for next
 * hops, ICMP/ICMPv6 echo replies, ICMP "fragmentation needed" / ICMPv6
 * "packet too big" for packets that do not fit the egress or tunnel MTU, and
 * ICMP "time exceeded" (RFC 792, RFC 4443 3.3) for packets whose TTL / hop
 * limit expires on the way through.
 *
 * A packet that still has the frame it came in with is answered on that
 * link, to the neighbor that sent it. One that came out of a tunnel has no
 * frame, and its sender sits behind the tunnel: the reply or error goes into
 * the outbound path (a ring to worker 0, which takes it as if received on a
 * protected port), so the outbound SPD encrypts it like any other packet and
 * protect-class traffic never leaves in clear.
 *
 * Hand-written because DPDK has no ARP, ND or ICMP library: it offers the
 * header structs (rte_arp.h, rte_icmp.h, rte_ip.h) and checksum helpers,
 * which are used here; the protocol state machines are ours.
 *
 * Workers hand packets over through the control ring with a reason in the
 * mbuf (espgw_ctl_tag_set); everything here runs on one lcore, without locks,
 * and transmits on each port's control TX queue. Time comes in as a
 * parameter (milliseconds), so tests drive the clock.
 */
#ifndef ESPGW_HOST_H
#define ESPGW_HOST_H

#include <stdint.h>
#include <stdio.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "espgw_drop.h"
#include "espgw_port.h"
#include "espgw_route.h"
#include "espgw_store.h"

#define ESPGW_IKE_PORT	500  /* RFC 7296 2 */
#define ESPGW_NATT_PORT 4500 /* RFC 3948 2.2: IKE and ESP in UDP */

/* Why a worker handed a packet to the control path. */
enum espgw_ctl_reason {
	ESPGW_CTL_LOCAL,    /* ARP, or addressed to the gateway (link-local/multicast IPv6 too) */
	ESPGW_CTL_NO_NEIGH, /* next hop unresolved: queue it and resolve (L3 at m->l2_len) */
			    /* (the tag's second field: the egress port the worker chose) */
	ESPGW_CTL_TOO_BIG,  /* DF or IPv6, too big for the egress/tunnel MTU (L3 at m->l2_len) */
	ESPGW_CTL_TTL,	    /* expired; the worker counted it as a ttl_exceeded drop */
};

/*
 * The reason and, for TOO_BIG, the MTU to report (for NO_NEIGH, the egress
 * port) travel in m->hash.usr: the RSS hash the NIC wrote there is of no
 * further use once a packet leaves the worker.
 */
static inline void
espgw_ctl_tag_set(struct rte_mbuf *m, enum espgw_ctl_reason why, uint16_t mtu)
{
	m->hash.usr = (uint32_t)why | (uint32_t)mtu << 16;
}

static inline enum espgw_ctl_reason
espgw_ctl_tag_reason(const struct rte_mbuf *m)
{
	return (enum espgw_ctl_reason)(m->hash.usr & 0xff);
}

static inline uint16_t
espgw_ctl_tag_mtu(const struct rte_mbuf *m)
{
	return (uint16_t)(m->hash.usr >> 16);
}

/* NO_NEIGH: the port (index in the store's ports) the worker's route chose. */
static inline uint16_t
espgw_ctl_tag_port(const struct rte_mbuf *m)
{
	return (uint16_t)(m->hash.usr >> 16);
}

/*
 * What the control path puts into worker 0's outbound path (host_inject)
 * carries in m->hash.usr how the outbound SPD classifies it: by its own
 * header (replies), or, for an ICMP error, by the packet it quotes with source
 * and destination (and ports) swapped (RFC 4301 6.2): the error about a
 * packet goes back the way that packet's traffic goes, and is dropped if no
 * rule sends that traffic back; about a packet that came out of a tunnel,
 * only through an SA, never in clear, whatever a bypass rule says. A reply
 * (an echo reply, which carries the request's data) to what came out of a
 * tunnel likewise goes back only through an SA.
 */
#define ESPGW_INJECT_OWN      0u
#define ESPGW_INJECT_QUOTE    1u
#define ESPGW_INJECT_QUOTE_SA 2u /* the quoted packet came out of a tunnel: back only through one */
#define ESPGW_INJECT_OWN_SA   3u /* a reply to what came out of a tunnel: back only through one */
/*
 * IKE and NAT keepalives (UDP 500, 4500) from the gateway's own address:
 * not discarded by the SPD (RFC 4301 5.1.2, RFC 3948 2.3), routed in clear
 * unless a protect rule covers them. The control path marks only what it
 * has checked to be that (a well-formed IKEv2 message, a keepalive).
 */
#define ESPGW_INJECT_BYPASS 4u

static inline uint32_t
espgw_inject_kind(const struct rte_mbuf *m)
{
	return m->hash.usr;
}

struct espgw_host_conf {
	uint32_t reachable_ms;	  /* a resolved dynamic entry is re-probed after this */
	uint32_t retrans_ms;	  /* between ARP requests / neighbor solicitations */
	uint32_t locktime_ms;	  /* unsolicited news never changes a MAC confirmed this recently */
	uint8_t retries;	  /* requests sent before resolution fails */
	uint16_t queue_per_neigh; /* packets waiting for one neighbor */
	uint32_t queue_total;	  /* packets waiting for all neighbors together */
	uint32_t icmp_rate;	  /* ICMP errors per second of each kind, whole gateway */
	uint32_t icmp_burst;	  /* depth of those buckets */
	uint32_t icmp_dst_rate;	  /* ICMP errors per second to one destination */
	uint32_t icmp_dst_burst;  /* depth of the per-destination buckets */
	uint32_t icmp_key;	  /* key of their hash; 0: a random one at create */
};

/*
 * 60 s reachable, 3 tries 1 s apart, 1 s lock time, 16 per neighbor, 512 in
 * all; ICMP errors 100/s of each kind (burst 100), 10/s to one destination
 * (burst 10).
 */
void espgw_host_conf_default(struct espgw_host_conf *c);

/*
 * Control-path counters, declared once. Every packet handed over by the
 * workers (their to_ctl, "in") ends as exactly one of: sent, absorbed, a drop
 * by reason, or still waiting for resolution (pending):
 *   in = sent + absorbed + drops + pending.
 * Expired packets come apart (the workers counted them as drops already):
 *   ttl_reports = time_exceeded + error_suppressed.
 * Packets the control path creates itself (requests) are counted apart too;
 * "injected" counts what went into the outbound path, of all of them.
 */
#define ESPGW_HOST_COUNTER_LIST(X)                                                                \
	X(IN, "in", "packets handed over by the workers")                                         \
	X(SENT, "sent", "of those: transmitted (replies, ICMP errors, released packets)")         \
	X(ABSORBED, "absorbed", "of those: consumed as intended (ARP replies, NAs ...)")          \
	X(ARP_REQ_RX, "arp_request_rx", "ARP requests received")                                  \
	X(ARP_REPLY_RX, "arp_reply_rx", "ARP replies received")                                   \
	X(ARP_REQ_TX, "arp_request_tx", "ARP requests sent (resolution, probes)")                 \
	X(ARP_REPLY_TX, "arp_reply_tx", "ARP replies sent")                                       \
	X(NS_RX, "ns_rx", "neighbor solicitations received")                                      \
	X(NA_RX, "na_rx", "neighbor advertisements received")                                     \
	X(NS_TX, "ns_tx", "neighbor solicitations sent (resolution, probes)")                     \
	X(NA_TX, "na_tx", "neighbor advertisements sent")                                         \
	X(ECHO_REPLY, "echo_reply", "ICMP/ICMPv6 echo replies sent")                              \
	X(ICMP_ERROR, "icmp_error", "ICMP frag-needed / ICMPv6 packet-too-big sent")              \
	X(TTL_REPORT, "ttl_reports", "expired packets from the workers (not part of in)")         \
	X(TIME_EXCEEDED, "time_exceeded", "of those: ICMP/ICMPv6 time exceeded sent")             \
	X(ERR_SUPPRESSED, "error_suppressed",                                                     \
			"of those: no error (RFC 1812/4443 rules, rate limit, no way back)")      \
	X(ICMP_RATELIMIT, "icmp_ratelimited", "ICMP errors not sent (rate limit)")                \
	X(ICMP_RATELIMIT_DST, "icmp_ratelimited_dst",                                             \
			"of those: the destination's own limit was used up")                      \
	X(INJECTED, "injected", "replies and errors sent through the outbound path (tunnels)")    \
	X(TO_HOST, "to_host", "of sent: up a host interface to the kernel")                       \
	X(FROM_HOST, "from_host", "packets the kernel sent on a host interface (not part of in)") \
	X(FROM_HOST_IKE, "from_host_ike", "of those: IKE / NAT keepalives, past the SPD")         \
	X(FROM_HOST_REFUSED, "from_host_refused",                                                 \
			"of those: dropped (not from a gateway address, malformed)")              \
	X(FROM_HOST_FULL, "from_host_full", "of those: dropped (outbound path's ring full)")      \
	X(NATT_KEEPALIVE, "nat_keepalives_tx", "NAT keepalives sent for silent encap udp SAs")    \
	X(TX, "tx", "frames put on a port (its control queue, or worker 0's ring for it)")        \
	X(RESOLVED, "resolved", "neighbor resolutions that succeeded")                            \
	X(RESOLVE_FAILED, "resolve_failed", "neighbor resolutions or probes with no answer")      \
	X(UNSOL_APPLIED, "unsolicited_applied",                                                   \
			"unsolicited ARP/ND news taken: asker entered, new MAC (STALE)")          \
	X(UNSOL_REFUSED, "unsolicited_refused",                                                   \
			"ARP/ND news not taken: static, locked, unresolved, no O, no room")       \
	X(QUEUED, "queued", "packets queued waiting for resolution")                              \
	X(RELEASED, "released", "queued packets sent after resolution")                           \
	X(ORIG_FAILED, "originate_failed", "own requests not sent (no mbuf, TX queue full)")

enum espgw_host_counter {
#define X(id, name, help) ESPGW_HOST_##id,
	ESPGW_HOST_COUNTER_LIST(X)
#undef X
			ESPGW_HOST_MAX
};

struct espgw_host_stats {
	uint64_t c[ESPGW_HOST_MAX];
	uint64_t drop[ESPGW_DROP_MAX]; /* control-path drops, by the data path's reasons */
	uint64_t pending;	       /* waiting for resolution now */
};

struct espgw_host_prm {
	const struct espgw_store *store; /* port addresses */
	const struct espgw_ports *ports; /* ethdevs, MACs, control TX queues, mbuf pools */
	struct espgw_route *route;	 /* the neighbor entries it resolves */
	const struct espgw_host_conf *conf;
	struct rte_ring *inject; /* into worker 0's outbound path; NULL: tunnels get no answer */
	int socket;
};

struct espgw_host;

struct espgw_host *espgw_host_create(const struct espgw_host_prm *p, struct espgw_err *err);
/* Frees packets still waiting (counted as shutdown drops), then the state. */
void espgw_host_free(struct espgw_host *h);
/* At stop: frees the packets still waiting (shutdown drops); the counters stay readable. */
void espgw_host_flush(struct espgw_host *h);

/* Handle packets from the control ring (each freed, sent or queued). */
void espgw_host_input(struct espgw_host *h, struct rte_mbuf *m[], unsigned int n, uint64_t now_ms);
/* Retransmissions, resolution failures, aging; cheap when nothing is due. */
void espgw_host_timer(struct espgw_host *h, uint64_t now_ms);

/*
 * Host interfaces (hostif.c): a net_tun device for each port with a host-if,
 * the port's addresses on its kernel side. open creates and starts them
 * (the kernel interfaces appear in espgw's network namespace), close
 * removes them (their mbuf pool stays until espgw_host_free: packets they
 * sent may still sit in the ports' queues); poll takes what the kernel sent into the outbound path
 * (ESPGW_INJECT_OWN, or BYPASS for IKE) and returns how many it took.
 */
int espgw_host_if_open(struct espgw_host *h, int socket, struct espgw_err *err);
/* RFC 3948 2.3: one NAT keepalive for encap udp SA sa, past the SPD; false if not sent. */
bool espgw_host_natt_keepalive(struct espgw_host *h, const struct espgw_sa_conf *sa);
unsigned int espgw_host_if_poll(struct espgw_host *h);
void espgw_host_if_close(struct espgw_host *h);

/*
 * Live changes of static neighbors and routes (lib/gw/publish.c), in the
 * order a publication needs them:
 * - check, after each transaction: the operator's entries (distinct static
 *   neighbors and next hops, those in the table now and those the store
 *   names) fit their room; refused otherwise;
 * - vias, after each transaction that changed routes, before the next
 *   forwarding table is built for it: each next hop has an entry (made
 *   unresolved, or a learned one adopted) that the table may point to;
 * - sync, before the forwarding table is rebuilt: each entry the store names
 *   exists with its kind (a learned one is adopted, a static neighbor's MAC
 *   published, one no longer static but still a next hop probed at once);
 * - route_set, once the new forwarding table is published: what the control
 *   path looks up from now on;
 * - prune, once no worker holds the old table: entries the store no longer
 *   names are deleted, and the packets waiting on them routed again.
 */
int espgw_host_neigh_check(const struct espgw_host *h, struct espgw_err *err);

/* One entry of the neighbor table as "show neighbor" tells it. */
struct espgw_neigh_info {
	struct espgw_ip ip;
	struct rte_ether_addr mac; /* when resolved */
	bool resolved;
	uint16_t port_idx;
	uint8_t kind;	   /* enum espgw_hop_kind: static, via, dynamic */
	const char *state; /* permanent, none, incomplete, reachable, stale, probe */
	uint16_t waiting;  /* packets waiting for its resolution */
};
/* Entries are numbered 0 .. slots-1; false for a slot not in use. */
unsigned int espgw_host_neigh_slots(const struct espgw_host *h);
bool espgw_host_neigh_info(
		const struct espgw_host *h, unsigned int slot, struct espgw_neigh_info *info);
int espgw_host_neigh_vias(struct espgw_host *h, struct espgw_err *err);
int espgw_host_neigh_sync(struct espgw_host *h, uint64_t now_ms, struct espgw_err *err);
void espgw_host_route_set(struct espgw_host *h, struct espgw_route *r);
void espgw_host_neigh_prune(struct espgw_host *h, uint64_t now_ms);

const struct espgw_host_stats *espgw_host_stats(const struct espgw_host *h);
const char *espgw_host_counter_name(enum espgw_host_counter c);
/* The human section and the JSON member ("control": {...}) of the stats output. */
void espgw_host_stats_print(const void *h, FILE *f);
void espgw_host_stats_json(const void *h, FILE *f);
/* /espgw/control for dpdk-telemetry.py (one instance per process). */
int espgw_host_telemetry_register(const struct espgw_host *h);

/* The port's EUI-64 link-local address (RFC 4291 2.5.1 and appendix A, RFC 2464 5). */
void espgw_host_link_local(const struct rte_ether_addr *mac, struct espgw_ip *ll);

/*
 * The largest inner packet an outbound tunnel SA carries within path_mtu:
 * path_mtu minus outer header (20/40), ESP header (8), IV and ICV, with the
 * payload plus the 2-byte trailer rounded up to the SA's alignment
 * (RFC 4303 2.4). What "fragmentation needed" / "packet too big" reports.
 */
uint16_t espgw_host_tunnel_mtu(uint16_t path_mtu, uint8_t outer_family, uint8_t iv_len,
		uint8_t icv_len, uint8_t align);

#endif
