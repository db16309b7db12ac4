/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateful fragment checking (RFC 4301 7.3) for clear fragments: a
 * non-initial fragment carries no ports, so against an SPD whose rules select
 * ports it could match another rule than its packet (a protect rule for
 * "udp 5000" and a broader bypass: the first fragment encrypted, the rest in
 * clear). The first fragment's verdict is remembered, keyed as reassembly
 * keys fragments (RFC 791: addresses, protocol, identification; RFC 8200
 * 4.5: addresses and identification), and every later fragment of the packet
 * gets exactly that verdict; one that finds none (it came first, or the
 * state is gone) is dropped as frag_no_first. A gateway's own reassembly of
 * clear transit traffic would do the same at the cost of refragmenting what
 * it forwards (and IPv6 may not be refragmented on the way, RFC 8200 5), so
 * espgw keeps the fragments as they are and only their verdicts.
 *
 * One table per worker (no locks), one region per direction, so that clear
 * fragments from the unprotected side cannot evict the state of the LAN's or
 * of what came out of tunnels (nor, routed back out, the LAN's outbound
 * verdicts). Direct-mapped: a first fragment whose slot holds another key's
 * live verdict keeps none, which costs its packet the later fragments (a
 * drop, never a wrong verdict: the key is compared in full, and a kept
 * verdict is never evicted, so no spoofer can empty a slot and fill it with
 * its own under a host's key). Two live first fragments of one key that
 * disagree (a spoofer's and a host's) leave no verdict for either: the later
 * fragments are dropped rather than given a verdict that may be the
 * spoofer's. A refused or conflicting first fragment holds its slot as it is
 * for a lifetime from it, so that the slot cannot free, on the clock of
 * whoever put what is there, while that datagram's later fragments may come.
 *
 * What came out of a tunnel is keyed by the SA it came through too, in
 * ESPGW_FS_INNER and in ESPGW_FS_AGAIN (where clear packets have a key of
 * their own): any peer chooses its inner addresses and identification, so
 * without the SA another peer's first fragment with the same key, or a clear
 * one let in by a bypass, would turn a datagram's verdict into a conflict,
 * and the real peer's later fragments would drop. With it each SA's
 * fragments only meet their own; a later fragment through another SA finds
 * no verdict (the inbound policy check would refuse it anyway: a verdict
 * names the SA of its first fragment). What the key cannot stop is a flood:
 * a table of bounded size full of many first fragments, from anyone, keeps
 * no verdict for new datagrams for as long as those live (README, Known
 * limits).
 */
#ifndef ESPGW_FRAGSTATE_H
#define ESPGW_FRAGSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "espgw_spd.h"

enum espgw_fragstate_dir {
	ESPGW_FS_OUT,	/* from a protected port, against the outbound SPD */
	ESPGW_FS_IN,	/* clear from an unprotected port, against the inbound SPD */
	ESPGW_FS_INNER, /* out of a tunnel, against the inbound SPD */
	ESPGW_FS_AGAIN, /* from the unprotected side back out of it, against the outbound SPD */
	ESPGW_FS_NDIR,
};

struct espgw_fragstate;

/* entries per direction (rounded up to a power of 2); state older than timeout_ms is gone. */
struct espgw_fragstate *espgw_fragstate_create(uint32_t entries, uint32_t timeout_ms, int socket);
void espgw_fragstate_free(struct espgw_fragstate *fs);

/*
 * The first fragment's verdict (an SPD result), at time now (TSC cycles);
 * sa: the SA slot it came through (ESPGW_FS_INNER, ESPGW_FS_AGAIN: clear
 * packets there have STAGE_NO_SA), else 0.
 */
void espgw_fragstate_put4(struct espgw_fragstate *fs, enum espgw_fragstate_dir dir, uint32_t sa,
		const struct espgw_spd_key4 *k, uint32_t verdict, uint64_t now);
void espgw_fragstate_put6(struct espgw_fragstate *fs, enum espgw_fragstate_dir dir, uint32_t sa,
		const struct espgw_spd_key6 *k, uint32_t verdict, uint64_t now);
/* A later fragment's verdict: false when there is none. */
bool espgw_fragstate_get4(const struct espgw_fragstate *fs, enum espgw_fragstate_dir dir,
		uint32_t sa, const struct espgw_spd_key4 *k, uint64_t now, uint32_t *verdict);
bool espgw_fragstate_get6(const struct espgw_fragstate *fs, enum espgw_fragstate_dir dir,
		uint32_t sa, const struct espgw_spd_key6 *k, uint64_t now, uint32_t *verdict);

#endif
