/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Security Association Database: for every configured SA a cache-aligned
 * runtime object (rte_ipsec SA + session, chosen once at setup: crypto path,
 * outer-header patch function), and for inbound SAs an rte_ipsec_sad keyed by
 * SPI (and destination, and source, as configured).
 */
#ifndef ESPGW_SAD_H
#define ESPGW_SAD_H

#include <stdint.h>

#include <rte_ipsec.h>
#include <rte_ipsec_sad.h>
#include <rte_mbuf.h>

#include "espgw_crypto.h"
#include "espgw_store.h"

struct espgw_sa_rt {
	struct rte_ipsec_session ss; /* hot: sa, session, prepare/process functions */
	uint32_t idx;                /* index in store->sas (and in per-lcore SA counters) */
	uint8_t dir;                 /* enum espgw_dir */
	uint8_t outer_family;        /* ESPGW_AF_INET / ESPGW_AF_INET6 */
	uint8_t inner_proto_hint;    /* unused by the data path; diagnostics */
	uint8_t pad;
	/* Outbound: fix per-packet outer fields the template cannot know (DSCP/ECN/DF copy, checksum). */
	void (*outb_fixup)(const struct espgw_sa_rt *sa, struct rte_mbuf *m, uint8_t inner_tos,
			uint8_t inner_df);
	const struct espgw_sa_conf *conf; /* cold */
	struct rte_ipsec_sa *ipsec_sa;     /* memory owned here */
} __rte_cache_aligned;

struct espgw_sad {
	struct espgw_sa_rt *sa; /* [n], indexed like store->sas */
	unsigned int n;
	struct rte_ipsec_sad *in; /* inbound lookup */
};

int espgw_sad_build(struct espgw_sad *sad, const struct espgw_store *s, struct espgw_crypto *c,
		unsigned int n_workers, int socket, struct espgw_err *err);
/* Destroys sessions and SAs; key material is wiped. */
void espgw_sad_free(struct espgw_sad *sad);

/* Registered once at startup: the SA index an inbound packet was decrypted with. */
extern int espgw_mbuf_sa_offset;
int espgw_mbuf_sa_register(void);
static inline uint32_t *
espgw_mbuf_sa(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, espgw_mbuf_sa_offset, uint32_t *);
}

#endif
