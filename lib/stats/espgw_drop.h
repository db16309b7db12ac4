/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every drop reason, declared once. The list gives the enum, the names used in
 * telemetry and in the exit JSON, and a one-line meaning for README and --help.
 * Counted per lcore with plain increments (struct espgw_lcore_stats), summed on read.
 */
#ifndef ESPGW_DROP_H
#define ESPGW_DROP_H

#include <stdint.h>

/* X(id, "name", "meaning") */
#define ESPGW_DROP_LIST(X)                                                                       \
	X(UNSUPPORTED_L3, "unsupported_l3", "not IPv4/IPv6 and no bypass allows it")             \
	X(BAD_L3, "bad_l3", "malformed IPv4/IPv6 header (length, IHL, version)")                 \
	X(NO_POLICY, "no_policy", "no SPD rule matched (RFC 4301 fail-closed)")                  \
	X(SPD_DISCARD, "spd_discard", "a discard rule matched")                                  \
	X(NO_SA, "no_sa", "protect rule without a usable SA, or unknown inbound SPI")            \
	X(SA_EXPIRED, "sa_expired",                                                              \
			"the SA reached its hard lifetime (time, bytes, packets: RFC 4301 "      \
			"4.4.2.1) and is out of service until replaced")                         \
	X(NO_SA_YET, "no_sa_yet",                                                                \
			"outbound: the protect rule's SA is not installed (declared, deleted: "  \
			"fail closed; raises acquire)")                                          \
	X(SA_UPDATING, "sa_updating",                                                            \
			"outbound: the SA's peer address is being changed (sa update), for one " \
			"quiescent period of the workers")                                       \
	X(REPLAY, "replay", "duplicate or left of the window (RFC 4303 3.4.3)")                  \
	X(AUTH_FAIL, "auth_fail", "ICV verification failed")                                     \
	X(BAD_PADDING, "bad_padding", "ESP padding or next header invalid")                      \
	X(BAD_LENGTH, "bad_length", "ESP packet too short or misaligned")                        \
	X(AH_PROTO_MISMATCH, "ah_proto_mismatch",                                                \
			"an AH packet whose SPI names an ESP SA, or an ESP packet an AH SA "     \
			"(RFC 4301 4.1)")                                                        \
	X(AH_BAD_HEADER, "ah_bad_header",                                                        \
			"AH payload length or next header not the SA's (RFC 4302 2.1, 2.2)")     \
	X(AH_OUTER_OPTIONS, "ah_outer_options",                                                  \
			"AH in an IPv4 fragment (RFC 4302 3.4.1), behind bad IPv4 options, or "  \
			"behind IPv6 routing/fragment headers (outbound transport: a packet "    \
			"with such headers is not sent in AH)")                                  \
	X(POLICY_MISMATCH, "policy_mismatch",                                                    \
			"not allowed by the SA it came through, or clear where policy requires " \
			"ESP (RFC 4301 5.2)")                                                    \
	X(ECN_INVALID, "ecn_invalid", "outer CE on a Not-ECT inner packet (RFC 6040 4.2)")       \
	X(SQN_OVERFLOW, "sqn_overflow", "outbound sequence number exhausted (RFC 4303 3.3.3)")   \
	X(NO_ROUTE, "no_route", "no route to the destination")                                   \
	X(NO_NEIGHBOR, "no_neighbor", "next hop MAC unknown")                                    \
	X(CRYPTO_ENQUEUE_FULL, "crypto_enqueue_full", "cryptodev queue full")                    \
	X(CRYPTO_ERROR, "crypto_error", "crypto operation failed (not an ICV failure)")          \
	X(TX_FULL, "tx_full", "TX queue full")                                                   \
	X(TTL_EXCEEDED, "ttl_exceeded", "TTL/hop limit expired while forwarding")                \
	X(CTL_FULL, "ctl_full", "control-path ring full")                                        \
	X(TOO_BIG, "too_big", "packet exceeds the egress MTU")                                   \
	X(SHUTDOWN, "shutdown", "in flight when the gateway stopped")                            \
	X(NEIGH_QUEUE_FULL, "neigh_queue_full",                                                  \
			"waiting for ARP/ND resolution: queue full (per neighbor or in total)")  \
	X(NEIGH_FAILED, "neigh_failed", "next hop did not answer ARP/ND (retries exhausted)")    \
	X(NEIGH_TABLE_FULL, "neigh_table_full", "no free neighbor entry for an on-link host")    \
	X(ROUTE_CHANGED, "route_changed",                                                        \
			"waited for a next hop while the routes changed, and would now leave "   \
			"by another port")                                                       \
	X(LOCAL_UNHANDLED, "local_unhandled",                                                    \
			"addressed to the gateway but not ARP/ND/ICMP echo (or ND through a "    \
			"tunnel), and no host interface holds its destination")                  \
	X(FRAG_FAILED, "frag_failed",                                                            \
			"DF-clear packet too big for its SA could not be fragmented (no mbufs, " \
			"SA MTU below 68)")                                                      \
	X(REASM_FAILED, "reasm_failed",                                                          \
			"outer ESP fragment given up: timeout, table full or evicted, overlap, " \
			"too many fragments, no reassembly buffer")                              \
	X(NATT_MALFORMED, "natt_malformed",                                                      \
			"UDP to a NAT-T port whose length is wrong or too short for ESP (RFC "   \
			"3948 2.2)")                                                             \
	X(ENCAP_MISMATCH, "encap_mismatch",                                                      \
			"ESP in UDP for an SA without encap udp, or plain ESP for one with it"   \
			" (RFC 3948)")                                                           \
	X(TRS_FRAGMENT, "trs_fragment",                                                          \
			"a fragment for a transport SA: ESP protects whole datagrams in "        \
			"transport mode (RFC 4303 3.1.1, 3.3.4)")                                \
	X(REASM_TOO_BIG, "reasm_too_big", "reassembled outer ESP packet larger than one mbuf")   \
	X(BAD_CKSUM, "bad_cksum", "IPv4 header checksum wrong (RFC 1812 5.2.2)")                 \
	X(L2_OTHER_HOST, "l2_other_host",                                                        \
			"unicast frame for another station's MAC (promiscuous or unfiltered "    \
			"port)")                                                                 \
	X(L2_GROUP_UNICAST, "l2_group_unicast",                                                  \
			"link-layer broadcast/multicast frame with a unicast IP destination "    \
			"(RFC 1122 3.3.6, RFC 1812 5.3.4)")                                      \
	X(SOURCE_ROUTE, "source_route",                                                          \
			"IPv4 LSRR/SSRR option; IPv6 routing header with segments left: type 0 " \
			"(RFC 5095), any type addressed to the gateway (RFC 8200 4.4)")          \
	X(IPV6_OPTION, "ipv6_option",                                                            \
			"IPv6 option that must be understood (RFC 8200 4.2) in a packet to the " \
			"gateway")                                                               \
	X(MARTIAN_SRC, "martian_src",                                                            \
			"source never valid: 0/8, 127/8, 224/4, 240/4, a subnet broadcast; ::, " \
			"::1, ff00::/8, ::ffff:0:0/96 (RFC 1812 5.3.7, RFC 4291)")               \
	X(OWN_SRC, "own_src", "source is one of the gateway's own addresses")                    \
	X(MARTIAN_DST, "martian_dst",                                                            \
			"destination never valid: 0/8, 127/8, 240/4 but 255.255.255.255; ::, "   \
			"::1, ::ffff:0:0/96, multicast of scope 0 or 1 (RFC 1812 5.3.7, RFC "    \
			"4291 2.7)")                                                             \
	X(BCAST_MCAST_DST, "bcast_mcast_dst",                                                    \
			"IPv4 broadcast or multicast destination: never forwarded (RFC 1812 "    \
			"5.3.5), nothing on the gateway listens")                                \
	X(LINK_LOCAL, "link_local",                                                              \
			"link-local source or destination in a packet that would leave its "     \
			"link (RFC 3927 7, RFC 4291 2.5.6)")                                     \
	X(FRAG_NO_FIRST, "frag_no_first",                                                        \
			"non-initial fragment without one first fragment's verdict (RFC 4301 "   \
			"7.3): it came first, that state is gone, or two first fragments "       \
			"disagreed")                                                             \
	X(REASM_NOT_PEER, "reasm_not_peer",                                                      \
			"outer fragment for the gateway from an address that is no SA's peer")   \
	X(REASM_RESET, "reasm_reset",                                                            \
			"outer fragment held when the set of peers changed (a tunnel to a new "  \
			"peer, or the last one to a peer, came or went)")                        \
	X(NEIGH_QUOTA, "neigh_quota",                                                            \
			"no dynamic neighbor entry for traffic from the unprotected side (its "  \
			"share of the table is used up)")                                        \
	X(HANDOFF_FULL, "handoff_full", "ring to the SA's owner worker full")                    \
	X(L2_GROUP_SRC, "l2_group_src",                                                          \
			"frame from a broadcast or multicast source MAC (no station sends from " \
			"one, IEEE 802)")                                                        \
	X(SPOOFED_SRC, "spoofed_src",                                                            \
			"clear from the unprotected side with a source of the protected side "   \
			"(RFC 3704 reverse path)")                                               \
	X(NATT_NO_ROOM, "natt_no_room",                                                          \
			"no headroom for the UDP header of transport ESP in UDP (RFC 3948 2.1)") \
	X(ORDER_FULL, "order_full",                                                              \
			"seq-order strict SA: no room in its owner's window or in the ring to "  \
			"it (dropped before it took a sequence number)")

enum espgw_drop {
#define X(id, name, help) ESPGW_DROP_##id,
	ESPGW_DROP_LIST(X)
#undef X
			ESPGW_DROP_MAX
};

const char *espgw_drop_name(enum espgw_drop d);
const char *espgw_drop_help(enum espgw_drop d);
/* All drops of one set of counters (an lcore's, the control path's). */
uint64_t espgw_drop_total(const uint64_t drop[ESPGW_DROP_MAX]);

#endif
