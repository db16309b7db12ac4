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
decrypt(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, inb_lookup_t lookup)
{
	struct rte_mbuf *done[ESPGW_BURST_MAX];
	struct espgw_sa_rt *sa[ESPGW_BURST_MAX];
	uint16_t k;

	RTE_BUILD_BUG_ON(ESPGW_BURST_MAX > ESPGW_ESP_BURST_MAX);
	if (n == 0)
		return;
	k = lookup(&w->esp, m, sa, n);
	if (w->ho.to != NULL)
		k = stage_handoff(w, m, sa, k);
	k = espgw_esp_inb_owned(&w->esp, m, sa, k, done);
	stage_inbound_inner(w, done, k);
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
	uint16_t ne, na, nc;
};

/*
 * RFC 4301 5.1.2: IKE is never caught by the SPD, or no SA could ever be
 * negotiated for a policy that protects everything; when a host interface
 * takes it to a daemon (espgw_input.h). Only UDP to port 500 here; the
 * NAT-T port 4500 carries ESP too (RFC 3948).
 */
static bool
local_is_ike(const struct espgw_worker *w, const struct rte_mbuf *m, uint8_t proto)
{
	const struct rte_udp_hdr *udp;

	if (!w->t->input->ike_up)
		return false;
	udp = pkt_udp(m, proto);
	return udp != NULL && udp->dst_port == rte_cpu_to_be_16(ESPGW_IKE_PORT);
}

/*
 * Addressed to the gateway, once its extension headers pass: ESP is
 * decrypted (reassembled first); link mechanics (ND, link-scope traffic) and
 * IKE go to the control path; the rest goes there through the inbound SPD.
 */
static void
local_one(struct espgw_worker *w, struct rte_mbuf *m, uint8_t proto, struct local_sort *l)
{
	if (!stage_local_ok(w, m))
		return;
	if (w->reasm != NULL && espgw_reasm_is_esp_frag(m, proto))
		reassemble(w, m, l->esp, &l->ne);
	else if (proto == IPPROTO_ESP)
		l->esp[l->ne++] = m;
	else if (proto == IPPROTO_AH) /* RFC 4302: same SAD, authenticated instead */
		l->ah[l->na++] = m;
	else if (pkt_link_mechanics6(m, proto) || local_is_ike(w, m, proto))
		stage_ctl_handoff(w, m, ESPGW_CTL_LOCAL, 0);
	else
		l->clear[l->nc++] = m;
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

void
stage_inbound(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n, const uint8_t proto[])
{
	const struct espgw_l2_hop *hop[ESPGW_BURST_MAX], *thop[ESPGW_BURST_MAX];
	struct rte_mbuf *tr[ESPGW_BURST_MAX];
	struct local_sort l;
	uint16_t i, nt = 0;

	l.ne = l.na = l.nc = 0;
	stage_lookup(w, m, hop, n);
	for (i = 0; i < n; i++) {
		if (hop[i] == NULL || !hop[i]->local) {
			thop[nt] = hop[i];
			tr[nt++] = m[i];
		} else {
			local_one(w, m[i], proto[i], &l);
		}
	}
	decrypt(w, l.esp, l.ne, espgw_esp_inb_lookup);
	decrypt(w, l.ah, l.na, espgw_ah_inb_lookup);
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

void
stage_inbound_inner(struct espgw_worker *w, struct rte_mbuf *m[], uint16_t n)
{
	uint32_t res[ESPGW_BURST_MAX];
	uint16_t i, k;

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
