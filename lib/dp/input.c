/* SPDX-License-Identifier: BSD-3-Clause */
/* The input rules' table (espgw_input.h), built once from the configuration. */
#include <string.h>

#include "espgw_host.h"
#include "espgw_input.h"

/* RFC 1812 5.3.5.2 / RFC 919: the all-ones host part; /31 and /32 have none (RFC 3021). */
static void
add_prefix4(struct espgw_input *in, const struct espgw_prefix *p)
{
	uint32_t host = p->len >= 31 ? 0 : UINT32_MAX >> p->len;

	in->own4[in->n_own4++] = p->ip.v4;
	if (host != 0)
		in->bcast4[in->n_bcast4++] = p->ip.v4 | rte_cpu_to_be_32(host);
}

static void
add6(struct espgw_input *in, const struct espgw_ip *ip)
{
	memcpy(in->own6[in->n_own6++], ip->v6, 16);
}

void
espgw_input_build(struct espgw_input *in, const struct espgw_store *s, const struct espgw_ports *p)
{
	struct espgw_ip ll;
	unsigned int i, a;

	memset(in, 0, sizeof(*in));
	for (i = 0; i < s->n_ports && i < ESPGW_MAX_PORTS; i++) {
		const struct espgw_port_conf *pc = &s->ports[i];

		for (a = 0; a < pc->n_addr; a++) {
			if (pc->addr[a].ip.family == ESPGW_AF_INET)
				add_prefix4(in, &pc->addr[a]);
			else
				add6(in, &pc->addr[a].ip);
		}
		espgw_host_link_local(&p->port[i].mac, &ll);
		add6(in, &ll);
	}
}
