/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Security Association Database: for every configured SA a cache-aligned
 * runtime object (rte_ipsec SA + session, chosen once at setup: crypto path,
 * outer-header patch function), and for inbound SAs an rte_ipsec_sad keyed by
 * SPI (and destination, and source, as configured).
 */
#ifndef ESPGW_SAD_H
#define ESPGW_SAD_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ipsec.h>
#include <rte_ipsec_sad.h>
#include <rte_mbuf.h>

#include "espgw_crypto.h"
#include "espgw_store.h"
#include "replay.h"

/*
 * An AH SA's own state (RFC 4302): DPDK 22.11 rte_ipsec has no AH, so lib/esp
 * builds and checks AH headers itself (ah_out.c, ah_in.c) with this instead
 * of an rte_ipsec SA. Allocated only for AH SAs: ESP's runtime is unchanged.
 */
#define ESPGW_AH_TMPL_MAX 40
#define ESPGW_AH_HDR_LEN  12 /* next header, length, reserved, SPI, sequence (RFC 4302 2) */
struct espgw_ah_sa {
	uint64_t seq;			 /* outbound: next sequence number to send */
	uint8_t tmpl[ESPGW_AH_TMPL_MAX]; /* outbound: outer header, next header AH */
	uint8_t tmpl_len;		 /* 20 or 40; 0 in transport mode (no outer header) */
	uint8_t len;			 /* AH header bytes with the padded ICV */
	uint8_t icv_len;		 /* ICV bytes the algorithm yields */
	uint8_t iv_len;			 /* AES-GMAC: 8-byte IV before the ICV (RFC 4543 5) */
	uint8_t salt[4];		 /* AES-GMAC: nonce = salt || IV */
	uint8_t esn;			 /* RFC 4302 2.5.1: high bits in the ICV only */
	uint8_t atomic;			 /* outbound: several workers take numbers */
	/*
	 * Inbound: bit per AH next header value the SA takes (RFC 4302 2.1),
	 * decided at setup: a tunnel's inner family; transport, any upper
	 * protocol but IPsec again (espgw_ah_nh_ok).
	 */
	uint8_t nh_ok[32];
} __rte_cache_aligned;

enum espgw_sa_udp {
	ESPGW_SA_UDP_NONE,
	ESPGW_SA_UDP_TUN6, /* outbound IPv6 tunnel in UDP: the checksum after the crypto */
	ESPGW_SA_UDP_TRS4, /* transport in UDP, IPv4: header inserted / removed by lib/esp */
	ESPGW_SA_UDP_TRS6, /* the same over IPv6, with its checksum */
};
#define ESPGW_NATOA_SRC 1
#define ESPGW_NATOA_DST 2

static inline bool
espgw_ah_nh_ok(const struct espgw_ah_sa *ah, uint8_t nh)
{
	return (ah->nh_ok[nh >> 3] >> (nh & 7)) & 1;
}

/*
 * An outbound SA with "seq-order strict" on more than one worker: every
 * worker may encrypt for it, its owner sends its packets in sequence number
 * order (lib/dp/order.c says how). slot[] is the owner's window: the packet
 * numbered s waits in slot[s & mask] until every lower number has gone.
 * A worker takes numbers only while they stay below next + span, so the
 * window never holds two packets for one slot.
 */
#define ESPGW_ORDER_SPAN  2048 /* numbers taken ahead of the owner's next */
#define ESPGW_ORDER_BURST 256  /* the most numbers a worker takes at once (a batch) */
/* In slot[]: a number whose packet went elsewhere, passed over (lib/dp/order.c). */
#define ESPGW_ORDER_SKIP ((struct rte_mbuf *)1)

struct espgw_order_sa {
	/* The next number the owner sends: written by the owner, read by all. */
	uint64_t next __rte_cache_aligned;
	uint32_t mask;	 /* slots - 1 */
	uint32_t held;	 /* packets in slot[] (the owner's) */
	uint8_t touched; /* the owner's: in this call's list of windows to drain */
	struct rte_mbuf *slot[] __rte_cache_aligned;
};

struct espgw_sa_rt {
	struct rte_ipsec_session ss; /* first: crypto ops lead back to it (espgw_sa_rt_of) */
	/*
	 * The second line: everything an outbound packet reads of its SA on the
	 * direct path, from the policy verdict to the outer header's fields
	 * (lib/dp/outbound.c, lib/esp/esp_out.c, esp_gcm.c). With many SAs each
	 * packet finds its SA cold; one line is one miss (out-gcm128-1k-direct,
	 * README What changed the numbers). ESPGW_SA_RT_HOT_END checks it.
	 */
	uint32_t idx;	      /* index in store->sas (and in per-lcore SA counters) */
	uint8_t dir;	      /* enum espgw_dir */
	uint8_t outer_family; /* ESPGW_AF_INET / ESPGW_AF_INET6 */
	uint8_t inner_proto;  /* ESP next header carried: IPPROTO_IPIP / IPPROTO_IPV6 */
	uint8_t transport;    /* mode transport: the packet's own header (RFC 4303 3.1.1) */
	/*
	 * enum espgw_sa_state: workers use an SA only while LIVE. A declared
	 * SA's slot has no transform (its traffic drops as no_sa_yet and asks
	 * for the SA: acquire); an expired one drops as sa_expired. Written by
	 * the control path, read by workers (a byte: never torn).
	 */
	uint8_t state;
	uint8_t proto; /* enum espgw_sa_proto: a packet of the other protocol never uses the SA */
	/*
	 * enum espgw_sa_udp, chosen at setup: the UDP work lib/esp does itself
	 * around rte_ipsec for this SA (none for most; esp_trs_udp.c says why).
	 */
	uint8_t udp;
	uint8_t outer_tos; /* outbound: the template's TOS / traffic class */
	/* Outbound IPv4: one's complement sum of the template words fixed per SA (RFC 1071). */
	uint32_t outer_csum;
	rte_be16_t outer_frag; /* outbound IPv4: the template's flags and fragment offset */
	/*
	 * Inbound: the only worker (index) that checks and commits the replay
	 * windows; the others hand it the SA's packets (lib/dp/handoff.c).
	 * Outbound with order: the worker that sends its packets (order.c).
	 */
	uint16_t owner;
	struct espgw_ip peer; /* the remote tunnel endpoint: outbound packets are routed to it */
	/* Outbound: per-packet outer fields the template cannot know (DSCP/ECN/DF, checksum). */
	void (*outb_fixup)(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t inner_tos,
			uint8_t inner_df);
	/* Direct path (ESPGW_CRYPTO_PATH_DIRECT): memory owned here; NULL on the others. */
	struct espgw_gcm_sa *gcm;
	/* seq-order strict with several workers: memory owned here; NULL otherwise. */
	struct espgw_order_sa *order;
#define ESPGW_SA_RT_HOT_END (offsetof(struct espgw_sa_rt, order) + sizeof(void *))

	/* Inbound: espgw's anti-replay window (replay.h), NULL when off; own cache lines. */
	struct espgw_replay *replay;
	/*
	 * Inbound "decrypt any" with several workers: every worker checks and
	 * commits the SA's packets it receives, on a shared window (replay.h);
	 * nothing is handed to the owner.
	 */
	uint8_t decrypt_any;
	uint8_t encap;	       /* encap udp: ESP in UDP (RFC 3948) */
	rte_be16_t natt_sport; /* encap udp: the only UDP port its ESP arrives on */
	uint8_t esp_align;     /* ESP payload alignment, RFC 4303 2.4 (4 or cipher block) */
	uint8_t esp_iv_len;    /* IV bytes on the wire */
	uint8_t esp_icv_len;   /* ICV bytes on the wire */
	uint8_t sqh_len;       /* 4 with ESN: high sequence bits rte_ipsec adds for the ICV */
	uint8_t bitw;	       /* transport for a host behind us (espgw_sa_conf.bitw) */
	/*
	 * Inbound transport in UDP with nat-oa (RFC 3948 3.1.2): which of the
	 * packet's addresses replace an original one in its TCP/UDP checksum
	 * (ESPGW_NATOA_SRC, _DST), and the folded sum of the complemented
	 * original addresses (RFC 1624 3: HC' = ~(~HC + ~m + m')).
	 */
	uint8_t natoa;
	uint16_t natoa_neg;
	uint64_t acquire_tsc; /* declared: when a worker last asked for the SA (rate limit) */
	uint32_t moved_to;    /* MOVED: the slot of the SA that replaced this one */
	/*
	 * Inbound encap udp: the peer's address and port as configured, and
	 * the last other ones an authenticated packet came from (a NAT
	 * mapping changed, RFC 7296 2.23), written by the owner worker only
	 * under a sequence lock (natt_gen odd while written); the control path
	 * reports them.
	 */
	rte_be16_t natt_dport;
	rte_be16_t natt_seen_port;
	uint32_t natt_gen;
	struct espgw_ip natt_seen;
	const struct espgw_sa_conf *conf; /* cold */
	struct rte_ipsec_sa *ipsec_sa;	  /* memory owned here (ESP) */
	struct espgw_ah_sa *ah;		  /* memory owned here (AH) */
	uint32_t ipsec_sa_size;
} __rte_cache_aligned;

/* The outbound hot fields share the line after the session (see above). */
static_assert(offsetof(struct espgw_sa_rt, idx) == RTE_CACHE_LINE_SIZE &&
				ESPGW_SA_RT_HOT_END <= 2 * RTE_CACHE_LINE_SIZE,
		"espgw_sa_rt: the outbound hot fields must fill one cache line");

/*
 * The SAs live in slots (espgw_sa_conf.slot, given by the store): an SA's
 * runtime object, its counters and its per-SA tables stay at one index from
 * its "sa add" to its release, whatever else is added or deleted meanwhile,
 * so workers index them without a lookup and without a lock. The control
 * path (one thread) adds and removes; workers only read.
 */
/*
 * FROZEN: being replaced (sa update of an outbound SA's peer): its packets
 * drop as sa_updating while the control path waits for every worker to leave
 * it, then MOVED: its packets go to the SA in slot moved_to until the
 * policies name that one.
 */
enum espgw_sa_state {
	ESPGW_SA_LIVE,
	ESPGW_SA_DECLARED,
	ESPGW_SA_EXPIRED,
	ESPGW_SA_FROZEN,
	ESPGW_SA_MOVED,
};

struct espgw_sad {
	struct espgw_sa_rt *sa;	    /* [cap] runtime objects */
	struct espgw_sa_conf *conf; /* [cap] each live SA's configuration (rt->conf) */
	uint8_t *live;		    /* [cap] 1 while the slot holds an SA */
	unsigned int cap;	    /* the store's max-sa */
	unsigned int n;		    /* slots below n may be live */
	struct rte_ipsec_sad *in;   /* inbound lookup, safe to change under readers */
	/*
	 * Bumped by the control path after each change of in (each SAD starts
	 * at a new multiple of 2^32): the workers' lookup caches hold entries
	 * of the current one only (lib/esp/esp_sad_cache.h).
	 */
	uint64_t in_gen;
	struct espgw_crypto *crypto;
	const struct espgw_store *store; /* global settings (crypto path) */
	unsigned int n_workers;
	unsigned int next_owner; /* the worker the next inbound SA goes to */
	int socket;
	long sqn_ofs;
	/*
	 * Bit per UDP port: ESP in UDP arrives on it (the sport of an encap udp
	 * SA, RFC 3948 2.2). Set by the control path when the first such SA
	 * comes, cleared when the last one's slot is freed (no worker holds it
	 * any more); workers read the bytes as they are.
	 */
	uint8_t *natt_ports;
	uint32_t *natt_refs; /* [65536] encap udp SAs on each port (control path only) */
	/*
	 * Inbound bump-in-the-wire transport SAs installed: while there are
	 * none, ESP to an address that is not the gateway's is transit and
	 * never looked up (written by the control path, read as it is).
	 */
	uint32_t n_bitw_in;
	/*
	 * SAs with an order window (espgw_order_sa) installed: while there are
	 * none, the workers skip lib/dp/order.c (written by the control path).
	 */
	uint32_t n_order;
};

#define ESPGW_NATT_PORTS_BYTES (65536 / 8)

static inline void
espgw_sad_natt_port_ref(struct espgw_sad *sad, uint16_t port, bool add)
{
	uint8_t bit = (uint8_t)(1u << (port & 7));

	if (add && sad->natt_refs[port]++ == 0)
		__atomic_fetch_or(&sad->natt_ports[port >> 3], bit, __ATOMIC_RELEASE);
	else if (!add && sad->natt_refs[port] != 0 && --sad->natt_refs[port] == 0)
		__atomic_fetch_and(&sad->natt_ports[port >> 3], (uint8_t)~bit, __ATOMIC_RELEASE);
}

/* port in network order. */
static inline bool
espgw_sad_natt_port(const struct espgw_sad *sad, rte_be16_t port)
{
	uint16_t p = rte_be_to_cpu_16(port);

	return (sad->natt_ports[p >> 3] >> (p & 7)) & 1;
}

/*
 * Slots for the store's max-sa SAs, and every installed SA of the store in
 * its slot. n_workers: the inbound SAs are dealt to them in turn, outbound
 * SAs get atomic sequence numbers when there is more than one.
 */
int espgw_sad_build(struct espgw_sad *sad, const struct espgw_store *s, struct espgw_crypto *c,
		unsigned int n_workers, int socket, struct espgw_err *err);
/*
 * Bring one SA into service in its slot (sa->slot, free here): runtime
 * object, crypto session and, inbound, the SAD entry. Workers may find it
 * by SPI at once; outbound, as soon as a policy naming it is published.
 */
int espgw_sad_sa_add(struct espgw_sad *sad, const struct espgw_sa_conf *sa, struct espgw_err *err);
/* Inbound: no new packet finds the SA by SPI (workers may still hold it). */
void espgw_sad_sa_unlink(struct espgw_sad *sad, uint32_t slot);
/* Undo espgw_sad_sa_unlink (a rolled-back deletion); 0, or -1 with err. */
int espgw_sad_sa_relink(struct espgw_sad *sad, uint32_t slot, struct espgw_err *err);
/*
 * Outbound: the next sequence number of the SA in slot (0 when this DPDK
 * gives no access), and set it (only while no worker uses the SA).
 */
uint64_t espgw_sad_sa_seq(const struct espgw_sad *sad, uint32_t slot);
void espgw_sad_sa_seq_set(struct espgw_sad *sad, uint32_t slot, uint64_t seq);
/*
 * seq-order strict: wait (bounded, 1 s) until the SA's owner has sent every
 * number taken of it. Called while no worker takes numbers of it (frozen).
 */
void espgw_sad_order_drain(const struct espgw_sad *sad, uint32_t slot);
/*
 * Inbound: the SA in its slot takes c's remote address and lifetimes (the
 * SAD key follows the remote when the SA matches on the source); 0, or -1
 * with err and nothing changed.
 */
int espgw_sad_sa_update(
		struct espgw_sad *sad, const struct espgw_sa_conf *c, struct espgw_err *err);
/* Once no worker can hold it: session destroyed, keys wiped, slot empty. */
void espgw_sad_sa_free(struct espgw_sad *sad, uint32_t slot);
static inline bool
espgw_sad_live(const struct espgw_sad *sad, uint32_t slot)
{
	return slot < sad->cap && sad->live[slot];
}
/* Destroys sessions and SAs; key material is wiped. */
void espgw_sad_free(struct espgw_sad *sad);

/* The SA a session (from a crypto op or an rte_ipsec group) belongs to. */
static inline struct espgw_sa_rt *
espgw_sa_rt_of(const struct rte_ipsec_session *ss)
{
	return container_of(ss, struct espgw_sa_rt, ss);
}

/*
 * Inbound lookup keys. The SAD holds IPv6-sized keys so that one table serves
 * both outer families; IPv4 addresses are IPv4-mapped (::ffff:a.b.c.d,
 * RFC 4291 2.5.5.2). Only the prefix the SA's match type names is compared:
 * SPI, SPI + destination, SPI + destination + source. All in network order.
 */
static inline void
espgw_sad_key_v4(union rte_ipsec_sad_key *k, uint32_t spi, uint32_t dst, uint32_t src)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	k->v6.spi = spi;
	memcpy(k->v6.dip, mapped, sizeof(mapped));
	memcpy(k->v6.dip + 12, &dst, 4);
	memcpy(k->v6.sip, mapped, sizeof(mapped));
	memcpy(k->v6.sip + 12, &src, 4);
}

static inline void
espgw_sad_key_v6(union rte_ipsec_sad_key *k, uint32_t spi, const uint8_t *dst, const uint8_t *src)
{
	k->v6.spi = spi;
	memcpy(k->v6.dip, dst, 16);
	memcpy(k->v6.sip, src, 16);
}

/*
 * Registered once at startup: the SA index an inbound packet was decrypted
 * with, and (inside lib/esp only) the full sequence number an inbound packet
 * was checked with, for the window update after decryption.
 */
extern int espgw_mbuf_sa_offset;
extern int espgw_mbuf_seq_offset;
int espgw_mbuf_sa_register(void);
static inline uint32_t *
espgw_mbuf_sa(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, espgw_mbuf_sa_offset, uint32_t *);
}

static inline uint64_t *
espgw_mbuf_seq(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, espgw_mbuf_seq_offset, uint64_t *);
}

#endif
