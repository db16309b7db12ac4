/* SPDX-License-Identifier: BSD-3-Clause */
/* Stateful fragment checking, RFC 4301 7.3 (espgw_fragstate.h). */
#include <stdbool.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "espgw_fragstate.h"

/* What identifies the fragments of one packet, in one direction. */
struct fs_key {
	uint8_t dir;
	uint8_t family;
	uint8_t proto; /* IPv4 only: RFC 8200 4.5 leaves it out of IPv6's key */
	uint8_t pad;
	uint32_t sa; /* ESPGW_FS_INNER: the SA slot it came through (espgw_fragstate.h) */
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
};

struct fs_entry {
	struct fs_key key;
	uint32_t verdict;
	bool conflict;	  /* two first fragments disagreed: no verdict */
	uint16_t l4_end;  /* IPv6: a later fragment starting before this overlaps the ports */
	uint64_t expires; /* TSC; 0: empty */
} __rte_aligned(64);

/* One cache line an entry. */
_Static_assert(sizeof(struct fs_entry) == 64, "fs_entry grew past a cache line");

struct espgw_fragstate {
	uint32_t mask; /* entries per direction - 1 */
	uint64_t ttl;  /* TSC cycles */
	struct fs_entry e[];
};

struct espgw_fragstate *
espgw_fragstate_create(uint32_t entries, uint32_t timeout_ms, int socket)
{
	uint32_t n = rte_align32pow2(RTE_MAX(entries, 2u));
	struct espgw_fragstate *fs;

	fs = rte_zmalloc_socket("espgw_fragstate",
			sizeof(*fs) + (size_t)n * ESPGW_FS_NDIR * sizeof(fs->e[0]),
			RTE_CACHE_LINE_SIZE, socket);
	if (fs == NULL)
		return NULL;
	fs->mask = n - 1;
	fs->ttl = rte_get_tsc_hz() / 1000 * timeout_ms;
	return fs;
}

void
espgw_fragstate_free(struct espgw_fragstate *fs)
{
	rte_free(fs);
}

static void
key4(struct fs_key *fk, enum espgw_fragstate_dir dir, uint32_t sa, const struct espgw_spd_key4 *k)
{
	memset(fk, 0, sizeof(*fk));
	fk->dir = (uint8_t)dir;
	fk->sa = sa;
	fk->family = 4;
	fk->proto = k->proto;
	fk->id = k->frag_id;
	memcpy(fk->src, &k->src, 4);
	memcpy(fk->dst, &k->dst, 4);
}

static void
key6(struct fs_key *fk, enum espgw_fragstate_dir dir, uint32_t sa, const struct espgw_spd_key6 *k)
{
	memset(fk, 0, sizeof(*fk));
	fk->dir = (uint8_t)dir;
	fk->sa = sa;
	fk->family = 6;
	fk->id = k->frag_id;
	memcpy(fk->src, k->src, 16);
	memcpy(fk->dst, k->dst, 16);
}

/* The key's slot, in its direction's region. */
static struct fs_entry *
slot(const struct espgw_fragstate *fs, const struct fs_key *fk)
{
	uint32_t h = rte_hash_crc(fk, sizeof(*fk), 0) & fs->mask;

	return (struct fs_entry *)&fs->e[(uint32_t)fk->dir * (fs->mask + 1) + h];
}

static bool
live(const struct fs_entry *e, const struct fs_key *fk, uint64_t now)
{
	return e->expires > now && memcmp(&e->key, fk, sizeof(*fk)) == 0;
}

/*
 * A second first fragment of the key with another verdict: one of them lies.
 * A live entry of another key keeps its slot: the new datagram keeps no
 * verdict (its later fragments drop). Replacing it would let a spoofer who
 * finds a key of the same slot (the hash is not secret, and CRC collisions
 * of equal-length keys do not depend on a seed) erase a host's verdict, or
 * the conflict its own first fragment made, and then put its own verdict
 * under the host's key (helper-51's pkt-attack_frag_evict).
 */
static void
put(struct espgw_fragstate *fs, const struct fs_key *fk, uint32_t verdict, uint16_t l4_end,
		uint64_t now)
{
	struct fs_entry *e = slot(fs, fk);

	/*
	 * A refused first fragment, or one that makes (or meets) a conflict,
	 * keeps the slot as it is for a lifetime from now: the slot must not
	 * free (on the spoofer's clock, who put what holds it) while the
	 * datagram's later fragments may still come, or the spoofer's next
	 * first fragment under its key would be the only verdict they meet.
	 */
	if (e->expires > now && memcmp(&e->key, fk, sizeof(*fk)) != 0) {
		e->expires = now + fs->ttl;
		return;
	}
	if (live(e, fk, now) && (e->conflict || e->verdict != verdict)) {
		e->conflict = true;
		e->expires = now + fs->ttl;
		return;
	}
	if (!live(e, fk, now))
		e->l4_end = 0;
	e->l4_end = RTE_MAX(e->l4_end, l4_end);
	e->key = *fk;
	e->verdict = verdict;
	e->conflict = false;
	e->expires = now + fs->ttl;
}

static bool
get(const struct espgw_fragstate *fs, const struct fs_key *fk, uint16_t off, uint64_t now,
		uint32_t *verdict)
{
	const struct fs_entry *e = slot(fs, fk);

	if (!live(e, fk, now) || e->conflict || off < e->l4_end)
		return false;
	*verdict = e->verdict;
	return true;
}

void
espgw_fragstate_put4(struct espgw_fragstate *fs, enum espgw_fragstate_dir dir, uint32_t sa,
		const struct espgw_spd_key4 *k, uint32_t verdict, uint64_t now)
{
	struct fs_key fk;

	key4(&fk, dir, sa, k);
	put(fs, &fk, verdict, 0, now); /* IPv4: ports in the first 4 bytes, a later fragment starts at 8 */
}

void
espgw_fragstate_put6(struct espgw_fragstate *fs, enum espgw_fragstate_dir dir, uint32_t sa,
		const struct espgw_spd_key6 *k, uint32_t verdict, uint64_t now)
{
	struct fs_key fk;

	key6(&fk, dir, sa, k);
	put(fs, &fk, verdict, k->frag_off, now);
}

bool
espgw_fragstate_get4(const struct espgw_fragstate *fs, enum espgw_fragstate_dir dir, uint32_t sa,
		const struct espgw_spd_key4 *k, uint64_t now, uint32_t *verdict)
{
	struct fs_key fk;

	key4(&fk, dir, sa, k);
	return get(fs, &fk, UINT16_MAX, now, verdict);
}

bool
espgw_fragstate_get6(const struct espgw_fragstate *fs, enum espgw_fragstate_dir dir, uint32_t sa,
		const struct espgw_spd_key6 *k, uint64_t now, uint32_t *verdict)
{
	struct fs_key fk;

	key6(&fk, dir, sa, k);
	return get(fs, &fk, k->frag_off, now, verdict);
}
