/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/sad internals shared between its files. */
#ifndef ESPGW_SAD_INT_H
#define ESPGW_SAD_INT_H

#include "espgw_sad.h"

typedef void (*espgw_sa_fixup_t)(const struct espgw_sa_rt *sa, struct rte_mbuf *m,
		uint8_t inner_tos, uint8_t inner_df);

/* Largest outer header template (IPv6) rte_ipsec copies in front of ESP. */
#define ESPGW_SA_TMPL_MAX 40

/* Outer header template for an outbound SA; returns its length. */
uint8_t espgw_sa_outer_tmpl(const struct espgw_sa_conf *sa, uint8_t hdr[ESPGW_SA_TMPL_MAX]);
/* IPv4 template: the checksum contribution of the words no packet changes. */
uint32_t espgw_sa_outer_csum(const uint8_t hdr[ESPGW_SA_TMPL_MAX]);
/* The template's TOS (traffic class) and, IPv4, flags and fragment offset. */
void espgw_sa_outer_fixed(const uint8_t hdr[ESPGW_SA_TMPL_MAX], uint8_t *tos, rte_be16_t *frag);
/* The per-packet outer-header fixup matching the SA's modes. */
espgw_sa_fixup_t espgw_sa_outb_fixup_pick(const struct espgw_sa_conf *sa);

/*
 * Byte offset of the outbound sequence counter inside struct rte_ipsec_sa,
 * found by probing (see sa_rt.c), or -1 when it cannot be found.
 */
long espgw_sa_outb_sqn_offset(void);

struct espgw_sa_rt_prm {
	const struct espgw_store *s;
	struct espgw_crypto *c;
	unsigned int n_workers;
	int socket;
	long sqn_ofs;
};

/* sa: a copy that lives as long as rt (rt->conf points at it); rt->idx = sa->slot. */
/* The ESP next header the SA carries: its inner family, else its outer one (RFC 4303 2.6). */
uint8_t espgw_sa_inner_proto(const struct espgw_sa_conf *sa);
int espgw_sa_rt_init(struct espgw_sa_rt *rt, const struct espgw_sa_conf *sa,
		const struct espgw_sa_rt_prm *p, struct espgw_err *err);
void espgw_sa_rt_fini(struct espgw_sa_rt *rt);

#endif
