/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound (packets from an unprotected port): ESP addressed to the gateway is
 * decrypted (lib/esp; AH, RFC 4302, authenticated there too), the inner packet must then match an inbound policy that
 * protects with that very SA (RFC 4301 5.2). Other traffic crosses only by an
 * inbound bypass rule; clear traffic that policy says must arrive protected,
 * or that no rule matches, is dropped. Outer ESP packets that arrive in
 * fragments are reassembled first (espgw_frag.h).
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "classify.h"
#include "pkt.h"
#include "stage.h"

typedef uint16_t (*inb_lookup_t)(struct espgw_esp_lcore *l, struct rte_mbuf *m[],
		struct espgw_sa_rt *sa[], uint16_t n);

/*
 * ESP (or AH: lookup says which) of SAs another worker owns is handed to it
 * after the lookup (handoff.c says why).
 */
static void
decrypt_found(struct espgw_worker *w, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t k)
{
	struct rte_mbuf *done[ESPGW_BURST_MAX];

	RTE_BUILD_BUG_ON(ESPGW_BURST_MAX > ESPGW_ESP_BURST_MAX);
	if (w->ho.to != NULL)
		k = stage_handoff(w, m, sa, k);
	k = espgw_esp_inb_owned(&w->esp, m, sa, k, done);
	stage_inbound_inner(w, done, k);
}

static void
decrypt(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, inb_lookup_t lookup)
{
	struct espgw_sa_rt *sa[ESPGW_BURST_MAX];

	if (n != 0)
		decrypt_found(w, m, sa, lookup(&w->esp, m, sa, n));
}

/* A clear packet that an inbound protect rule covers must have come in ESP. */
static enum espgw_drop
transit_verdict(uint32_t res)
{
	return CLASSIFY_IS_PROTECT(res) ? ESPGW_DROP_POLICY_MISMATCH : classify_drop(res);
}

/* Let in by the inbound SPD, then out again through the outbound one when it leaves by WAN. */
static void
transit(struct espgw_worker *w, struct rte_mbuf *m[], const struct espgw_l2_hop *hop[], uint16_t n)
{
	struct rte_mbuf *again[ESPGW_BURST_MAX];
	uint32_t res[ESPGW_BURST_MAX];
	enum espgw_drop why;
	uint16_t i, na = 0;

	if (n == 0)
		return;
	classify_burst(w, w->t->spd_in, ESPGW_FS_IN, m, res, n);
	for (i = 0; i < n; i++) {
		why = transit_verdict(res[i]);
		if (why == ESPGW_DROP_MAX && stage_hop_unprotected(hop[i]))
			again[na++] = m[i];
		else
			stage_forward_clear(w, m[i], hop[i], why);
	}
	if (na)
		stage_outbound_again(w, again, na);
}

/* An outer ESP fragment for us: the whole packet joins the ESP burst once complete. */
static void
reassemble(struct espgw_worker *w, struct rte_mbuf *m, struct rte_mbuf *esp[], uint16_t *ne)
{
	enum espgw_drop why;
	enum pkt_class c;
	uint8_t proto;

	m = espgw_reasm_input(w->reasm, m, w->now);
	if (m == NULL)
		return;
	c = pkt_parse(m, RTE_ETHER_HDR_LEN, &proto, &why);
	if (c != PKT_IPV4 && c != PKT_IPV6)
		drop(w, m, why);
	else if (proto != IPPROTO_ESP)
		drop(w, m, ESPGW_DROP_BAD_L3);
	else
		esp[(*ne)++] = m;
}

/*
 * Clear traffic for the gateway itself crosses the IPsec boundary like any
 * other (RFC 4301 5.2): an inbound bypass rule lets it in; clear traffic that
 * a protect rule covers, a discard rule or no rule drop it.
 */
static void
local_clear(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	uint32_t res[ESPGW_BURST_MAX];
	enum espgw_drop why;
	uint16_t i;

	if (n == 0)
		return;
	classify_burst(w, w->t->spd_in, ESPGW_FS_IN, m, res, n);
	for (i = 0; i < n; i++) {
		why = transit_verdict(res[i]);
		if (why == ESPGW_DROP_MAX)
			stage_ctl_handoff(w, m[i], ESPGW_CTL_LOCAL, 0);
		else
			drop(w, m[i], why);
	}
}

/* Where the packets for the gateway go: ESP to the SAD, the rest to the control path. */
struct local_sort {
	struct rte_mbuf *esp[ESPGW_BURST_MAX];
	struct rte_mbuf *ah[ESPGW_BURST_MAX];
	struct rte_mbuf *clear[ESPGW_BURST_MAX];
	struct rte_mbuf *ike[ESPGW_BURST_MAX]; /* to the host interface, past the SPD */
	uint16_t ne, na, nc, ni;
};

/*
 * RFC 4301 5.1.2: IKE is never caught by the SPD, or no SA could ever be
 * negotiated for a policy that protects everything; when a host interface
 * takes it to a daemon (espgw_input.h). Only UDP to port 500 here; the
 * NAT-T port 4500 carries ESP too (RFC 3948).
 */
static bool
local_is_ike(const struct espgw_worker *w, const struct rte_mbuf *m, uint8_t proto,
		const struct espgw_l2_hop *hop)
{
	const struct rte_udp_hdr *udp;

	/* Only to an address of an unprotected port: IKE's side of the boundary. */
	if (!w->t->input->ike_up || !hop->unprotected)
		return false;
	udp = pkt_udp(m, proto);
	return udp != NULL && udp->dst_port == rte_cpu_to_be_16(ESPGW_IKE_PORT);
}

/* UDP on a NAT-T port (RFC 3948 2.2): an SA's, or 4500 for IKE when a host interface takes it. */
static bool
natt_port(const struct espgw_worker *w, const struct rte_udp_hdr *udp)
{
	return espgw_sad_natt_port(w->t->sad, udp->dst_port) ||
	       (udp->dst_port == rte_cpu_to_be_16(ESPGW_NATT_PORT) && w->t->input->ike_up);
}

/*
 * RFC 8200 8.1 (and RFC 6936: no zero-checksum exception for ESP in UDP):
 * over IPv6 the UDP checksum is checked, 0 refused. IPv4's may be 0 (RFC
 * 3948 2.1), and the ICV covers what matters anyway.
 */
static bool
natt_cksum_ok(const struct rte_mbuf *m, const struct rte_udp_hdr *udp)
{
	const struct rte_ipv6_hdr *ip6;

	if (!RTE_ETH_IS_IPV6_HDR(m->packet_type))
		return true;
	ip6 = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, m->l2_len);
	return udp->dgram_cksum != 0 &&
	       rte_ipv6_udptcp_cksum_mbuf_verify(m, ip6, m->l2_len + m->l3_len) == 0;
}

/*
 * The UDP payload length: the UDP length must be what the IP packet carries
 * (pkt_parse trimmed the frame to the IP length), or bytes outside the
 * datagram would be taken for ESP.
 */
static int
natt_payload(const struct rte_mbuf *m, const struct rte_udp_hdr *udp)
{
	uint32_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
	uint32_t have = rte_pktmbuf_pkt_len(m) - m->l2_len - m->l3_len;

	if (udp_len < sizeof(*udp) || udp_len != have || !natt_cksum_ok(m, udp))
		return -1;
	return (int)(udp_len - sizeof(*udp));
}

/*
 * RFC 3948 2.2, 2.3: on a NAT-T port, a single 0xff byte is a keepalive
 * (absorbed), the non-ESP marker (four zero bytes, an SPI no SA has) is
 * IKE, anything else ESP: it goes to the SAD with the UDP header counted in
 * the outer header (l3_len) and marked as having come in UDP, so that only
 * an encap udp SA takes it.
 */
static void
natt_one(struct espgw_worker *w, struct rte_mbuf *m, const struct rte_udp_hdr *udp,
		const struct espgw_l2_hop *hop, struct local_sort *l)
{
	const uint8_t *pl = (const uint8_t *)(udp + 1);
	int len = natt_payload(m, udp);

	if (len == 1 && pl[0] == 0xff) {
		w->dp[ESPGW_DP_NAT_KEEPALIVE]++;
		rte_pktmbuf_free(m);
	} else if (len >= 4 && pl[0] == 0 && pl[1] == 0 && pl[2] == 0 && pl[3] == 0) {
		if (w->t->input->ike_up && hop->unprotected)
			l->ike[l->ni++] = m;
		else
			l->clear[l->nc++] = m; /* nothing takes IKE: the SPD's, as any UDP */
	} else if (len < (int)sizeof(struct rte_esp_hdr) ||
			rte_pktmbuf_data_len(m) < m->l2_len + m->l3_len + sizeof(*udp) +
								  sizeof(struct rte_esp_hdr)) {
		drop(w, m, ESPGW_DROP_NATT_MALFORMED);
	} else {
		m->l3_len += sizeof(*udp);
		m->packet_type = (m->packet_type & ~RTE_PTYPE_L4_MASK) | RTE_PTYPE_L4_UDP;
		l->esp[l->ne++] = m;
	}
}

/*
 * Addressed to the gateway, once its extension headers pass: ESP is
 * decrypted (reassembled first), ESP in UDP too (natt_one); link mechanics
 * (ND, link-scope traffic) and IKE go to the control path; the rest goes
 * there through the inbound SPD.
 */
static void
local_one(struct espgw_worker *w, struct rte_mbuf *m, uint8_t proto, const struct espgw_l2_hop *hop,
		struct local_sort *l)
{
	const struct rte_udp_hdr *udp;

	if (!stage_local_ok(w, m))
		return;
	if (w->reasm != NULL && espgw_reasm_is_esp_frag(m, proto))
		reassemble(w, m, l->esp, &l->ne);
	else if (proto == IPPROTO_ESP)
		l->esp[l->ne++] = m;
	else if (proto == IPPROTO_AH) /* RFC 4302: same SAD, authenticated instead */
		l->ah[l->na++] = m;
	else if ((udp = pkt_udp(m, proto)) != NULL && natt_port(w, udp))
		natt_one(w, m, udp, hop, l);
	else if (local_is_ike(w, m, proto, hop))
		l->ike[l->ni++] = m;
	else if (pkt_link_mechanics6(m, proto))
		stage_ctl_handoff(w, m, ESPGW_CTL_LOCAL, 0);
	else
		l->clear[l->nc++] = m;
}

/* IKE for the host interface: past the SPD, not past the reverse-path check. */
static void
local_ike(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		stage_ctl_handoff(w, m[i], ESPGW_CTL_LOCAL, 0);
}

/*
 * RFC 3704 reverse path, at the boundary: clear traffic from the unprotected
 * side whose source lives on the protected side (its route leaves by a
 * protected port) is spoofed. Let in, it would reach the LAN as if from a
 * LAN host, and the gateway's answers (echo replies, ICMP errors) would carry
 * the sender's bytes to that host and spend its budgets. ESP is left to its
 * SA. Compacts m (and hop) to what passes; returns its count.
 */
static uint16_t
reverse_path(struct espgw_worker *w, struct rte_mbuf *m[], const struct espgw_l2_hop *hop[],
		uint16_t n)
{
	const struct espgw_l2_hop *back[ESPGW_BURST_MAX];
	uint16_t i, k = 0;

	if (n == 0)
		return 0;
	stage_lookup_src(w, m, back, n);
	for (i = 0; i < n; i++) {
		if (back[i] != NULL && !back[i]->local && !back[i]->unprotected) {
			drop(w, m[i], ESPGW_DROP_SPOOFED_SRC);
			continue;
		}
		if (hop != NULL)
			hop[k] = hop[i];
		m[k++] = m[i];
	}
	return k;
}

/*
 * ESP (or AH: pick says which) through the gateway while a bump-in-the-wire
 * transport SA exists (RFC 4301 3.3): that SA's packets to its host are
 * decrypted (authenticated) here, checked against the inbound policy and
 * forwarded in clear; any other ESP or AH is transit.
 */
/*
 * The SA's packets are the host's, and espgw takes them off the wire in its
 * place: the IPv6 header rules for the gateway's own packets hold (a routing
 * header still to be followed, options to be understood). Compacts m / sa.
 */
static uint16_t
bitw_local_ok(struct espgw_worker *w, struct rte_mbuf *m[], struct espgw_sa_rt *sa[], uint16_t n)
{
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!stage_local_ok(w, m[i]))
			continue;
		sa[k] = sa[i];
		m[k++] = m[i];
	}
	return k;
}

typedef uint16_t (*inb_bitw_t)(struct espgw_esp_lcore *l, struct rte_mbuf *m[],
		struct espgw_sa_rt *sa[], uint16_t n, struct rte_mbuf *rest[], uint16_t *n_rest);

static void
bitw_in(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, inb_bitw_t pick)
{
	const struct espgw_l2_hop *hop[ESPGW_BURST_MAX];
	struct espgw_sa_rt *sa[ESPGW_BURST_MAX];
	struct rte_mbuf *rest[ESPGW_BURST_MAX];
	uint16_t k, nr = 0;

	if (n == 0)
		return;
	k = bitw_local_ok(w, m, sa, pick(&w->esp, m, sa, n, rest, &nr));
	decrypt_found(w, m, sa, k);
	if (nr == 0)
		return;
	stage_lookup(w, rest, hop, nr);
	transit(w, rest, hop, reverse_path(w, rest, hop, nr));
}

void
stage_inbound(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, const uint8_t proto[])
{
	const struct espgw_l2_hop *hop[ESPGW_BURST_MAX], *thop[ESPGW_BURST_MAX];
	struct rte_mbuf *tr[ESPGW_BURST_MAX];
	struct local_sort l;
	uint16_t i, nt = 0;

	bool bitw = w->t->sad->n_bitw_in != 0;
	struct rte_mbuf *bw[ESPGW_BURST_MAX], *bwa[ESPGW_BURST_MAX];
	uint16_t nb = 0, nba = 0;

	l.ne = l.na = l.nc = l.ni = 0;
	stage_lookup(w, m, hop, n);
	for (i = 0; i < n; i++) {
		if (hop[i] != NULL && hop[i]->local) {
			local_one(w, m[i], proto[i], hop[i], &l);
		} else if (unlikely(bitw) && proto[i] == IPPROTO_ESP) {
			bw[nb++] = m[i];
		} else if (unlikely(bitw) && proto[i] == IPPROTO_AH) {
			bwa[nba++] = m[i];
		} else {
			thop[nt] = hop[i];
			tr[nt++] = m[i];
		}
	}
	bitw_in(w, bw, nb, espgw_esp_inb_bitw);
	bitw_in(w, bwa, nba, espgw_ah_inb_bitw);
	decrypt(w, l.esp, l.ne, espgw_esp_inb_lookup);
	decrypt(w, l.ah, l.na, espgw_ah_inb_lookup);
	local_ike(w, l.ike, reverse_path(w, l.ike, NULL, l.ni));
	local_clear(w, l.clear, reverse_path(w, l.clear, NULL, l.nc));
	transit(w, tr, thop, reverse_path(w, tr, thop, nt));
}

/* The inner packet must match a policy protecting with the SA it came through. */
static enum espgw_drop
inner_verdict(struct rte_mbuf *m, uint32_t res)
{
	if (res == CLASSIFY_BAD || res == CLASSIFY_NO_FIRST)
		return classify_drop(res);
	if (!CLASSIFY_IS_PROTECT(res) || ESPGW_SPD_SA_INDEX(res) != *espgw_mbuf_sa(m))
		return ESPGW_DROP_POLICY_MISMATCH;
	return ESPGW_DROP_MAX;
}

/* What came out of a tunnel is parsed and held to the input rules like any packet received. */
static uint16_t
inner_parse(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	enum espgw_drop why;
	uint8_t proto;
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		enum pkt_class c = pkt_parse(m[i], 0, &proto, &why);

		if (c == PKT_IPV4 || c == PKT_IPV6)
			why = espgw_input_rules_tunnel(w->t->input, m[i]);
		if (why == ESPGW_DROP_MAX)
			m[k++] = m[i];
		else
			drop_sa(w, m[i], why, *espgw_mbuf_sa(m[i]));
	}
	return k;
}

/*
 * The pcapng interfaces are Ethernet: a decrypted inner packet gets a
 * zero-address Ethernet header in its headroom for the copy, taken off after.
 */
static bool
capture_l2_push(struct rte_mbuf *m)
{
	uint8_t v = *rte_pktmbuf_mtod(m, const uint8_t *) >> 4;
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eh));

	if (eh == NULL)
		return false;
	memset(eh, 0, sizeof(*eh));
	eh->ether_type = rte_cpu_to_be_16(v == 6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	return true;
}

/* espgwctl capture SA: this SA's packets as decrypted (the inner packet, before the SPD). */
static void
capture_sa(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	uint32_t slot = w->cap_target & ~ESPGW_CAPTURE_SA_FLAG;
	struct rte_mbuf *sel[ESPGW_BURST_MAX];
	uint16_t i, k = 0;

	for (i = 0; i < n; i++)
		if (*espgw_mbuf_sa(m[i]) == slot && capture_l2_push(m[i]))
			sel[k++] = m[i];
	if (k == 0)
		return;
	espgw_capture_burst(w->cap, &w->capl, sel[0]->port, 0, sel, k, true);
	for (i = 0; i < k; i++)
		rte_pktmbuf_adj(sel[i], sizeof(struct rte_ether_hdr));
}

void
stage_inbound_inner(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	uint32_t res[ESPGW_BURST_MAX];
	uint16_t i, k;

	if (unlikely(w->cap_target & ESPGW_CAPTURE_SA_FLAG) && w->cap_target != ESPGW_CAPTURE_OFF)
		capture_sa(w, m, n);
	k = inner_parse(w, m, n);
	classify_burst(w, w->t->spd_in, ESPGW_FS_INNER, m, res, k);
	for (i = 0, n = 0; i < k; i++) {
		enum espgw_drop why = inner_verdict(m[i], res[i]);

		if (why != ESPGW_DROP_MAX)
			drop_sa(w, m[i], why, *espgw_mbuf_sa(m[i]));
		else
			m[n++] = m[i];
	}
	/* An expired one is answered back through the tunnel it came by (the control path). */
	stage_forward_inner(w, m, n);
}
