/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The input rules on addresses (espgw_input.h): the table, built once from
 * the configuration, and the rules for what its shortcut cannot clear.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "espgw_host.h"
#include "espgw_input.h"

static bool
has4(const uint32_t *set, uint16_t n, uint32_t a)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		if (set[i] == a)
			return true;
	return false;
}

static bool
own6(const struct espgw_input *in, const uint64_t a[2])
{
	uint16_t i;

	for (i = 0; i < in->n_own6; i++)
		if (in->own6[i][0] == a[0] && in->own6[i][1] == a[1])
			return true;
	return false;
}

/* 0/8, 127/8 (RFC 1812 5.3.7), 224/4 and 240/4: multicast, reserved, broadcast. */
static bool
martian_src4(uint32_t s)
{
	return s >> 24 == 0 || s >> 24 == 127 || s >> 28 >= 0xe;
}

/* 0/8, 127/8, 240/4 except the limited broadcast (a destination, just not one we forward). */
static bool
martian_dst4(uint32_t d)
{
	return d >> 24 == 0 || d >> 24 == 127 || (d >> 28 == 0xf && d != UINT32_MAX);
}

enum espgw_drop
espgw_input_check4(const struct espgw_input *in, const struct rte_ipv4_hdr *ip,
		enum espgw_input_from from)
{
	uint32_t s = rte_be_to_cpu_32(ip->src_addr), d = rte_be_to_cpu_32(ip->dst_addr);

	if (martian_src4(s) || has4(in->bcast4, in->n_bcast4, ip->src_addr))
		return ESPGW_DROP_MARTIAN_SRC;
	if (martian_dst4(d))
		return ESPGW_DROP_MARTIAN_DST;
	if (has4(in->own4, in->n_own4, ip->src_addr))
		return ESPGW_DROP_OWN_SRC;
	if (d >> 28 == 0xe || d == UINT32_MAX || has4(in->bcast4, in->n_bcast4, ip->dst_addr))
		return ESPGW_DROP_BCAST_MCAST_DST;
	if (from == ESPGW_FROM_GROUP)
		return ESPGW_DROP_L2_GROUP_UNICAST;
	/*
	 * RFC 3927 7: 169.254/16 stays on its link, unless it is to us from it;
	 * a tunnel is no link (a reply would be routed off-link, 2.6.2).
	 */
	if ((s >> 16 == 0xa9fe || d >> 16 == 0xa9fe) &&
			(from == ESPGW_FROM_TUNNEL || !has4(in->own4, in->n_own4, ip->dst_addr)))
		return ESPGW_DROP_LINK_LOCAL;
	return ESPGW_DROP_MAX;
}

/* ::, ::1 and ::ffff:0:0/96 (RFC 4291 2.5.2, 2.5.3, 2.5.5.2): none is an address on a wire. */
static bool
special6(const uint64_t a[2])
{
	uint64_t lo = rte_be_to_cpu_64(a[1]);

	return a[0] == 0 && (lo <= 1 || lo >> 32 == 0xffff);
}

static bool
ll6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/*
 * The unspecified source is a node without an address yet: valid only
 * towards link-scope multicast (RFC 4862 5.4 DAD, RFC 3810 5.2.13).
 */
static bool
martian_src6(const uint64_t s[2], const uint8_t *sb, const uint8_t *db)
{
	if (sb[0] == 0xff)
		return true;
	if (!special6(s))
		return false;
	return !(s[1] == 0 && db[0] == 0xff && (db[1] & 0x0f) == 2);
}

enum espgw_drop
espgw_input_check6(const struct espgw_input *in, const struct rte_ipv6_hdr *ip,
		enum espgw_input_from from)
{
	const uint8_t *sb = ip->src_addr, *db = ip->dst_addr;
	uint64_t s[2], d[2];

	memcpy(s, sb, sizeof(s));
	memcpy(d, db, sizeof(d));
	if (martian_src6(s, sb, db))
		return ESPGW_DROP_MARTIAN_SRC;
	/* RFC 4291 2.7: scope 0 is reserved, scope 1 never leaves its node. */
	if (special6(d) || (db[0] == 0xff && (db[1] & 0x0f) <= 1))
		return ESPGW_DROP_MARTIAN_DST;
	if (own6(in, s))
		return ESPGW_DROP_OWN_SRC;
	if (from == ESPGW_FROM_GROUP && db[0] != 0xff)
		return ESPGW_DROP_L2_GROUP_UNICAST;
	/* A tunnel is no link: link-local addresses never come out of one. */
	if (from == ESPGW_FROM_TUNNEL && (ll6(sb) || ll6(db)))
		return ESPGW_DROP_LINK_LOCAL;
	/* RFC 4291 2.5.6: a link-local source may reach us, or the link, nothing further. */
	if (ll6(sb) && db[0] != 0xff && !ll6(db) && !own6(in, d))
		return ESPGW_DROP_LINK_LOCAL;
	return ESPGW_DROP_MAX;
}

/* First octets / bytes where some rule may apply (see struct espgw_input). */
static void
first_build(struct espgw_input *in)
{
	unsigned int b;

	in->first4[0] = in->first4[127] = in->first4[169] = 1;
	for (b = 224; b < 256; b++)
		in->first4[b] = 1;
	in->first6[0x00] = in->first6[0xfe] = in->first6[0xff] = 1;
}

static void
set4_add(uint32_t set[ESPGW_INPUT_SLOTS4], uint32_t a)
{
	uint32_t i;

	for (i = espgw_input_slot4(a); set[i] != 0 && set[i] != a;
			i = (i + 1) & (ESPGW_INPUT_SLOTS4 - 1))
		;
	set[i] = a;
}

static void
set6_add(uint64_t set[ESPGW_INPUT_SLOTS6][2], const uint8_t *addr)
{
	uint64_t a[2];
	uint32_t i;

	memcpy(a, addr, sizeof(a));
	for (i = espgw_input_slot6(a);
			(set[i][0] | set[i][1]) != 0 && (set[i][0] != a[0] || set[i][1] != a[1]);
			i = (i + 1) & (ESPGW_INPUT_SLOTS6 - 1))
		;
	set[i][0] = a[0];
	set[i][1] = a[1];
}

/* RFC 1812 5.3.5.2 / RFC 919: the all-ones host part; /31 and /32 have none (RFC 3021). */
static void
add_prefix4(struct espgw_input *in, const struct espgw_prefix *p)
{
	uint32_t host = p->len >= 31 ? 0 : UINT32_MAX >> p->len;
	uint32_t bcast = p->ip.v4 | rte_cpu_to_be_32(host);

	in->own4[in->n_own4++] = p->ip.v4;
	set4_add(in->src4, p->ip.v4);
	if (host == 0)
		return;
	in->bcast4[in->n_bcast4++] = bcast;
	set4_add(in->src4, bcast);
	set4_add(in->dst4, bcast);
}

static void
add6(struct espgw_input *in, const struct espgw_ip *ip)
{
	memcpy(in->own6[in->n_own6++], ip->v6, 16);
	set6_add(in->src6, ip->v6);
}

void
espgw_input_build(struct espgw_input *in, const struct espgw_store *s, const struct espgw_ports *p)
{
	struct espgw_ip ll;
	unsigned int i, a;

	memset(in, 0, sizeof(*in));
	first_build(in);
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
		in->ike_up |= pc->host_if[0] != '\0';
	}
}
