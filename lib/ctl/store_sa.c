/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Store: security associations. Checks identity (name, SPI), the transform
 * (algorithm kinds, key and salt sizes from the algorithm table), the outer
 * header options and references (local port address, cryptodev). Keys never
 * appear in messages; removed SAs are wiped.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "espgw_store.h"
#include "store_int.h"

static const char *
dir_name(enum espgw_dir d)
{
	return d == ESPGW_DIR_IN ? "inbound" : "outbound";
}

static int
sa_check_ids(const struct espgw_store *s, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	int i;

	const struct espgw_sa_conf *old;

	if (!espgw_name_valid(c->name))
		return espgw_err_set(err, "invalid SA name");
	if (c->dir != ESPGW_DIR_IN && c->dir != ESPGW_DIR_OUT)
		return espgw_err_set(err, "SA %s: dir must be in or out", c->name);
	old = espgw_store_sa(s, c->name);
	if (old != NULL && !old->declared)
		return espgw_err_set(err, "SA %s already exists", c->name);
	if (old != NULL && old->dir != c->dir)
		return espgw_err_set(err, "SA %s was declared %s", c->name, dir_name(old->dir));
	/* RFC 4303 2.1: SPI 0 is never sent, 1..255 are reserved by IANA. */
	if (c->spi == 0)
		return espgw_err_set(err, "spi 0 is invalid (RFC 4303 2.1)");
	if (c->spi <= ESPGW_SPI_RESERVED_MAX)
		return espgw_err_set(
				err, "spi %" PRIu32 " is reserved (1..255, RFC 4303 2.1)", c->spi);
	i = espgw_store_ix_sa_spi(s, c->dir, c->spi);
	if (i >= 0)
		return espgw_err_set(err, "spi 0x%" PRIx32 " is already used by %s SA %s", c->spi,
				dir_name(c->dir), s->sas[i].name);
	return 0;
}

/* what: "key" or "auth-key"; len as given (0 = absent). */
static int
check_key(const char *what, const struct espgw_algo_info *a, unsigned int len,
		struct espgw_err *err)
{
	if (a->key_len == 0 && len != 0)
		return espgw_err_set(err, "%s takes no %s", a->name, what);
	if (a->key_len != 0 && len == 0)
		return espgw_err_set(
				err, "missing %s for %s (%u bytes)", what, a->name, a->key_len);
	if (len != a->key_len)
		return espgw_err_set(err, "%s must be %u bytes for %s, got %u", what, a->key_len,
				a->name, len);
	return 0;
}

static int
check_salt(const struct espgw_algo_info *a, bool has_salt, struct espgw_err *err)
{
	if (a->salt_len != 0 && !has_salt)
		return espgw_err_set(err, "%s needs a salt (%u bytes, %s)", a->name, a->salt_len,
				a->rfc);
	if (a->salt_len == 0 && has_salt)
		return espgw_err_set(err, "%s takes no salt", a->name);
	return 0;
}

static const struct espgw_algo_info *
algo_of_kind(enum espgw_algo algo, enum espgw_algo_kind kind)
{
	const struct espgw_algo_info *a = espgw_algo_info(algo);

	return a != NULL && a->kind == kind ? a : NULL;
}

static bool
is_gmac(enum espgw_algo a)
{
	return a == ESPGW_ALGO_AES_GMAC_128 || a == ESPGW_ALGO_AES_GMAC_256;
}

static int
sa_check_aead(const struct espgw_sa_conf *c, struct espgw_err *err)
{
	const struct espgw_algo_info *a = algo_of_kind(c->aead, ESPGW_ALGO_KIND_AEAD);

	if (a == NULL)
		return espgw_err_set(err, "invalid aead algorithm");
	if (c->cipher != ESPGW_ALGO_NONE || c->auth != ESPGW_ALGO_NONE)
		return espgw_err_set(err, "aead cannot be combined with cipher or auth");
	if (c->auth_key_len != 0)
		return espgw_err_set(err, "auth-key is only used with an hmac auth algorithm");
	if (check_key("key", a, c->key_len, err) < 0)
		return -1;
	return check_salt(a, c->has_salt, err);
}

static int
sa_check_cipher_auth(const struct espgw_sa_conf *c, struct espgw_err *err)
{
	const struct espgw_algo_info *ci = algo_of_kind(c->cipher, ESPGW_ALGO_KIND_CIPHER);
	const struct espgw_algo_info *au = algo_of_kind(c->auth, ESPGW_ALGO_KIND_AUTH);

	if (ci == NULL)
		return espgw_err_set(err, "invalid cipher algorithm");
	/*
	 * Confidentiality-only ESP is only a MAY in RFC 4303 (section 5) and is open
	 * to active attacks; a gateway has no reason to offer it.
	 */
	if (c->auth == ESPGW_ALGO_NONE)
		return espgw_err_set(err,
				"cipher %s needs an auth algorithm (confidentiality-only ESP is "
				"refused)",
				ci->name);
	if (au == NULL)
		return espgw_err_set(err, "invalid auth algorithm");
	if (is_gmac(c->auth))
		return espgw_err_set(err,
				"%s is integrity-only and cannot be combined with a cipher",
				au->name);
	if (check_key("key", ci, c->key_len, err) < 0 || check_salt(ci, c->has_salt, err) < 0)
		return -1;
	return check_key("auth-key", au, c->auth_key_len, err);
}

/* "auth aes-gmac-N" alone: integrity only, RFC 4543 (key and salt like GCM). */
static int
sa_check_gmac(const struct espgw_sa_conf *c, struct espgw_err *err)
{
	const struct espgw_algo_info *au = algo_of_kind(c->auth, ESPGW_ALGO_KIND_AUTH);

	if (au == NULL)
		return espgw_err_set(err, "invalid auth algorithm");
	if (!is_gmac(c->auth))
		return espgw_err_set(err,
				"auth %s needs a cipher (use cipher null for integrity only)",
				au->name);
	if (c->auth_key_len != 0)
		return espgw_err_set(err, "%s uses key, not auth-key", au->name);
	/*
	 * RFC 4543 3 authenticates SPI, ESN high, ESN low, IV, payload (as Linux
	 * does); DPDK 22.11's rte_ipsec appends the high bits after the payload
	 * (the HMAC layout of RFC 4303 2.2.1), so such an SA could not interoperate.
	 */
	if (c->esn)
		return espgw_err_set(err,
				"SA %s: %s with esn on is not supported (DPDK 22.11 rte_ipsec "
				"authenticates the ESN high bits in the wrong place, RFC 4543 3)",
				c->name, au->name);
	if (check_key("key", au, c->key_len, err) < 0)
		return -1;
	return check_salt(au, c->has_salt, err);
}

/*
 * AH (RFC 4302): one integrity algorithm, HMAC (RFC 4868, 2404) with auth-key
 * or AES-GMAC (RFC 4543 AH-GMAC) with key and salt; no encryption.
 */
static int
sa_check_ah(const struct espgw_sa_conf *c, struct espgw_err *err)
{
	const struct espgw_algo_info *au = algo_of_kind(c->auth, ESPGW_ALGO_KIND_AUTH);

	if (c->aead != ESPGW_ALGO_NONE || c->cipher != ESPGW_ALGO_NONE)
		return espgw_err_set(err,
				"SA %s: proto ah has no encryption (RFC 4302): "
				"auth only, no aead or cipher",
				c->name);
	if (au == NULL)
		return espgw_err_set(err, "SA %s: proto ah needs an auth algorithm", c->name);
	if (!is_gmac(c->auth))
		return c->key_len != 0 || c->has_salt
				       ? espgw_err_set(err, "%s uses auth-key, not key or salt",
							 au->name)
				       : check_key("auth-key", au, c->auth_key_len, err);
	if (c->auth_key_len != 0)
		return espgw_err_set(err, "%s uses key, not auth-key", au->name);
	if (check_key("key", au, c->key_len, err) < 0)
		return -1;
	return check_salt(au, c->has_salt, err);
}

static int
sa_check_transform(const struct espgw_sa_conf *c, struct espgw_err *err)
{
	if (c->proto == ESPGW_SA_AH)
		return sa_check_ah(c, err);
	if (c->proto != ESPGW_SA_ESP)
		return espgw_err_set(err, "SA %s: proto must be esp or ah", c->name);
	if (c->aead != ESPGW_ALGO_NONE)
		return sa_check_aead(c, err);
	if (c->cipher != ESPGW_ALGO_NONE)
		return sa_check_cipher_auth(c, err);
	if (c->auth != ESPGW_ALGO_NONE)
		return sa_check_gmac(c, err);
	return espgw_err_set(
			err, "SA %s needs aead, cipher with auth, or auth aes-gmac-N", c->name);
}

/*
 * A transport SA whose local is no address of the gateway: espgw is a bump
 * in the wire for that host (RFC 4301 3.3, 4.1), its packets to and from
 * remote forwarded with ESP (or AH) between their own header and payload. remote
 * is then no address of the gateway either, and such an SA does not go in
 * UDP: a host behind a NAT runs its own ESP.
 */
static int
sa_check_bitw(const struct espgw_store *s, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	char buf[ESPGW_IP_STRLEN];

	if (espgw_store_port_of_addr(s, &c->remote) >= 0)
		return espgw_err_set(err, "remote %s is an address of the gateway",
				espgw_ip_fmt(&c->remote, buf, sizeof(buf)));
	if (c->encap_udp)
		return espgw_err_set(err, "encap udp needs local to be an address of an "
					  "unprotected port (a bump in the wire does not use UDP)");
	return 0;
}

static int
sa_check_local(const struct espgw_store *s, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	char buf[ESPGW_IP_STRLEN];
	int p;

	if (c->local.family == 0 || c->remote.family == 0)
		return espgw_err_set(err, "SA %s needs local and remote", c->name);
	if (c->local.family != c->remote.family)
		return espgw_err_set(err, "local and remote must be of the same family");
	p = espgw_store_port_of_addr(s, &c->local);
	if (p < 0 && c->mode == ESPGW_SA_TRANSPORT)
		return sa_check_bitw(s, c, err);
	if (p < 0 || s->ports[p].role != ESPGW_ROLE_UNPROTECTED)
		return espgw_err_set(err, "local %s is not an address of an unprotected port",
				espgw_ip_fmt(&c->local, buf, sizeof(buf)));
	return 0;
}

static int
sa_check_outer(const struct espgw_sa_conf *c, struct espgw_err *err)
{
	if (c->mode != ESPGW_SA_TUNNEL && c->mode != ESPGW_SA_TRANSPORT)
		return espgw_err_set(err, "mode must be tunnel or transport");
	if (c->ttl == 0)
		return espgw_err_set(err, "ttl must be 1..255, got 0");
	if ((c->dscp_mode != ESPGW_HDR_COPY && c->dscp_mode != ESPGW_HDR_SET) ||
			c->dscp > ESPGW_DSCP_MAX)
		return espgw_err_set(err, "dscp must be copy or 0..%u", ESPGW_DSCP_MAX);
	if (c->df_mode != ESPGW_HDR_COPY && c->df_mode != ESPGW_HDR_SET &&
			c->df_mode != ESPGW_HDR_CLEAR)
		return espgw_err_set(err, "df must be copy, set or clear");
	if (c->encap_udp && (c->encap_sport == 0 || c->encap_dport == 0))
		return espgw_err_set(err, "encap udp ports must be 1..65535");
	/* RFC 3948 2: a NAT rewrites the addresses AH's ICV covers: no AH in UDP. */
	if (c->encap_udp && c->proto == ESPGW_SA_AH)
		return espgw_err_set(err, "encap udp is for ESP: AH cannot cross a NAT (RFC 3948)");
	/* RFC 3948 2.2: IKE on 500 has no non-ESP marker; ESP in UDP there would take it. */
	if (c->encap_udp && c->encap_sport == 500)
		return espgw_err_set(err, "encap udp sport 500 is IKE's port (RFC 3948 2.2)");
	if (c->mss_clamp != 0 && c->mss_clamp != ESPGW_MSS_AUTO &&
			(c->mss_clamp < ESPGW_MSS_MIN || c->mss_clamp > ESPGW_MSS_MAX))
		return espgw_err_set(err, "mss-clamp must be auto or %u..%u, got %u", ESPGW_MSS_MIN,
				ESPGW_MSS_MAX, c->mss_clamp);
	if (!c->has_flow_label)
		return 0;
	if (c->flow_label > ESPGW_FLOW_LABEL_MAX)
		return espgw_err_set(err, "flow-label must be 0..0x%x, got 0x%" PRIx32,
				ESPGW_FLOW_LABEL_MAX, c->flow_label);
	if (c->local.family != ESPGW_AF_INET6)
		return espgw_err_set(err, "flow-label needs an IPv6 tunnel");
	return 0;
}

/*
 * RFC 3948 3.1.2: the original addresses fix the checksums of what a
 * transport SA decapsulates; a tunnel's inner packet carries its own
 * addresses, and an outbound SA sends what the gateway computed itself.
 */
static int
sa_check_natoa(const struct espgw_sa_conf *c, struct espgw_err *err)
{
	char buf[ESPGW_IP_STRLEN];
	const struct espgw_ip *oa[2] = {&c->natoa_src, &c->natoa_dst};
	int i;

	if (c->natoa_src.family == 0 && c->natoa_dst.family == 0)
		return 0;
	if (c->dir != ESPGW_DIR_IN)
		return espgw_err_set(err, "nat-oa-src and nat-oa-dst are for inbound SAs: "
					  "they fix the checksums of what the peer sent "
					  "(RFC 3948 3.1.2)");
	if (c->mode != ESPGW_SA_TRANSPORT || !c->encap_udp)
		return espgw_err_set(err, "nat-oa-src and nat-oa-dst need mode transport "
					  "and encap udp (RFC 3948 3.1.2)");
	for (i = 0; i < 2; i++)
		if (oa[i]->family != 0 && oa[i]->family != c->local.family)
			return espgw_err_set(err, "%s %s is not of the SA's family",
					i == 0 ? "nat-oa-src" : "nat-oa-dst",
					espgw_ip_fmt(oa[i], buf, sizeof(buf)));
	return 0;
}

/* The highest "seq" start of an ESP SA with ESN (sa_check_seq). */
#define SEQ_ESN_MAX (UINT64_C(1) << 63)

static uint64_t
seq_esn_max(const struct espgw_sa_conf *c)
{
	/* AH's own counter (lib/esp/ah_out.c) stops at 2^64 - 1 itself. */
	return c->proto == ESPGW_SA_AH ? UINT64_MAX : SEQ_ESN_MAX;
}

/*
 * seq-order strict (lib/dp/order.c) and decrypt any (lib/sad/replay.h) run
 * on the direct path only: what the SA's lines and set crypto-path rule out
 * is refused here (a set after the SA: espgw_store_sas_fit_path), for every
 * worker count and by espgw --check; what depends on the crypto device is
 * refused when the data path is set up (lib/sad/sa_rt.c).
 */
static int
sa_check_direct(const struct espgw_store *s, const struct espgw_sa_conf *c, const char *what,
		struct espgw_err *err)
{
	enum espgw_crypto_path p = espgw_store_sa_crypto_path(s, c);

	if (p == ESPGW_CRYPTO_PATH_CPU || p == ESPGW_CRYPTO_PATH_CRYPTODEV)
		return espgw_err_set(err, "%s needs the direct path, not crypto-path %s", what,
				p == ESPGW_CRYPTO_PATH_CPU ? "cpu" : "cryptodev");
	if (c->proto != ESPGW_SA_ESP || c->mode != ESPGW_SA_TUNNEL ||
			(c->aead != ESPGW_ALGO_AES_GCM_128 && c->aead != ESPGW_ALGO_AES_GCM_256))
		return espgw_err_set(err,
				"%s needs the direct path (crypto-path direct: an ESP tunnel "
				"SA with AES-GCM)",
				what);
	return 0;
}

static int
sa_check_order(const struct espgw_store *s, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	if (c->seq_order != ESPGW_SEQ_ORDER_WORKER && c->seq_order != ESPGW_SEQ_ORDER_STRICT)
		return espgw_err_set(err, "seq-order must be worker or strict");
	if (c->dir == ESPGW_DIR_IN && c->seq_order != ESPGW_SEQ_ORDER_WORKER)
		return espgw_err_set(err, "seq-order is only valid for outbound SAs");
	if (c->seq_order != ESPGW_SEQ_ORDER_STRICT)
		return 0;
	return sa_check_direct(s, c, "seq-order strict", err);
}

/*
 * A set crypto-path after the SAs: one that takes an SA with seq-order
 * strict or decrypt any off the direct path is refused too, so that
 * espgw --check refuses what start would.
 */
int
espgw_store_sas_fit_path(
		const struct espgw_store *s, enum espgw_crypto_path p, struct espgw_err *err)
{
	const struct espgw_sa_conf *c;
	unsigned int i;

	if (p != ESPGW_CRYPTO_PATH_CPU && p != ESPGW_CRYPTO_PATH_CRYPTODEV)
		return 0;
	for (i = 0; i < s->n_sas; i++) {
		c = &s->sas[i];
		if (c->declared || c->crypto_path != ESPGW_CRYPTO_PATH_DEFAULT)
			continue;
		if (c->seq_order == ESPGW_SEQ_ORDER_STRICT || c->decrypt == ESPGW_DECRYPT_ANY)
			return espgw_err_set(err,
					"crypto-path %s: SA %s has %s, which needs the direct "
					"path",
					p == ESPGW_CRYPTO_PATH_CPU ? "cpu" : "cryptodev", c->name,
					c->decrypt == ESPGW_DECRYPT_ANY ? "decrypt any"
									: "seq-order strict");
	}
	return 0;
}

/* decrypt any: inbound, and on the direct path only, as seq-order strict (why: replay.h). */
static int
sa_check_decrypt(const struct espgw_store *s, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	if (c->decrypt != ESPGW_DECRYPT_OWNER && c->decrypt != ESPGW_DECRYPT_ANY)
		return espgw_err_set(err, "decrypt must be owner or any");
	if (c->dir == ESPGW_DIR_OUT && c->decrypt != ESPGW_DECRYPT_OWNER)
		return espgw_err_set(err, "decrypt is only valid for inbound SAs");
	if (c->decrypt != ESPGW_DECRYPT_ANY)
		return 0;
	return sa_check_direct(s, c, "decrypt any", err);
}

static int
sa_check_seq(const struct espgw_sa_conf *c, struct espgw_err *err)
{
	if (c->replay_window != 0 && (c->replay_window < ESPGW_REPLAY_MIN ||
						     c->replay_window > ESPGW_REPLAY_MAX))
		return espgw_err_set(err, "replay-window must be 0 or %u..%u, got %" PRIu32,
				ESPGW_REPLAY_MIN, ESPGW_REPLAY_MAX, c->replay_window);
	if (c->dir == ESPGW_DIR_IN && c->seq != 1)
		return espgw_err_set(err, "seq is only valid for outbound SAs");
	/*
	 * RFC 4303 2.2 / 2.2.1: 32-bit counter unless ESN; sequence number 0 is
	 * never sent. 3.3.3: the counter must not cycle, with ESN neither, and
	 * rte_ipsec's 64-bit counter (like the direct path's) has no stop: a
	 * start at most 2^63 leaves an ESP SA more numbers than it can ever send.
	 */
	if (c->esn && (c->seq == 0 || c->seq > seq_esn_max(c)))
		return espgw_err_set(err, "seq must be 1..%" PRIu64 " with esn, got %" PRIu64,
				seq_esn_max(c), c->seq);
	if (!c->esn && (c->seq == 0 || c->seq > UINT32_MAX))
		return espgw_err_set(err, "seq must be 1..%" PRIu32 " without esn, got %" PRIu64,
				UINT32_MAX, c->seq);
	return 0;
}

static int
sa_check_refs(const struct espgw_store *s, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	if (c->crypto_path != ESPGW_CRYPTO_PATH_DEFAULT &&
			c->crypto_path != ESPGW_CRYPTO_PATH_CRYPTODEV &&
			c->crypto_path != ESPGW_CRYPTO_PATH_CPU &&
			c->crypto_path != ESPGW_CRYPTO_PATH_DIRECT)
		return espgw_err_set(err, "crypto-path must be default, cryptodev, cpu or direct");
	if (c->match != ESPGW_SAD_MATCH_SPI && c->match != ESPGW_SAD_MATCH_SPI_DST &&
			c->match != ESPGW_SAD_MATCH_SPI_DST_SRC)
		return espgw_err_set(err, "match must be spi, spi-dst or spi-dst-src");
	if (memchr(c->cryptodev, '\0', sizeof(c->cryptodev)) == NULL)
		return espgw_err_set(err, "invalid cryptodev name");
	if (c->cryptodev[0] != '\0' && espgw_store_crypto(s, c->cryptodev) == NULL)
		return espgw_err_set(err, "crypto %s does not exist", c->cryptodev);
	return 0;
}

/* Auto (no max-sa, no data path yet): room doubles as SAs arrive. */
static int
slots_grow(struct espgw_store *s)
{
	uint32_t cap = s->slot_cap ? 2 * s->slot_cap : 64;
	uint8_t *slot;

	if (cap > ESPGW_MAX_SA_MAX)
		return -1;
	slot = calloc(cap, 1);
	if (slot == NULL)
		return -1;
	if (s->slot != NULL)
		memcpy(slot, s->slot, s->slot_cap);
	free(s->slot);
	s->slot = slot;
	s->slot_cap = cap;
	return 0;
}

/*
 * A free slot, searched from after the last one given (so that a slot just
 * released is not the next one taken, and adds stay O(1) on average), or -1
 * when max-sa SAs are installed or retiring.
 */
static int
slot_alloc(struct espgw_store *s)
{
	uint32_t i, k;

	if (s->slot == NULL && s->global.max_sa != 0) {
		s->slot = calloc(s->global.max_sa, 1);
		if (s->slot == NULL)
			return -1;
		s->slot_cap = s->global.max_sa;
	}
	for (i = 0; i < s->slot_cap; i++) {
		k = (s->slot_next + i) % s->slot_cap;
		if (s->slot[k] == ESPGW_SLOT_FREE) {
			s->slot_next = k + 1;
			return (int)k;
		}
	}
	if (s->global.max_sa != 0 || slots_grow(s) < 0)
		return -1;
	return slot_alloc(s);
}

/* RFC 4301 4.4.2.1: the soft lifetime must come before the hard one. */
static int
sa_check_life(const struct espgw_sa_conf *c, struct espgw_err *err)
{
	const struct espgw_lifetime *s = &c->life[ESPGW_LIFE_SOFT], *h = &c->life[ESPGW_LIFE_HARD];

	if ((s->time && h->time && s->time >= h->time) ||
			(s->bytes && h->bytes && s->bytes >= h->bytes) ||
			(s->packets && h->packets && s->packets >= h->packets))
		return espgw_err_set(err, "SA %s: each soft lifetime must be below the hard one",
				c->name);
	return 0;
}

/*
 * A new slot for sa, declared or installed alike: the data path keeps a
 * runtime object there (a declared SA's tells the workers to drop and ask
 * for the SA). A slot never changes meaning under the workers: an SA that
 * is installed over its declaration, or declared again, gets a fresh one.
 */
static int
slot_take(struct espgw_store *s, struct espgw_sa_conf *sa, struct espgw_err *err)
{
	int slot = slot_alloc(s);

	if (slot < 0)
		return espgw_err_set(err,
				"no SA slot left: %u SAs installed or retiring "
				"(set max-sa)",
				s->slot_cap);
	s->n_slot_allocs++;
	sa->slot = (uint32_t)slot;
	if (espgw_store_slot_set(s, sa->slot, ESPGW_SLOT_USED) < 0)
		return espgw_store_nomem(err);
	return 0;
}

/*
 * The SA's slot goes: free at once when nothing runs on it, else retiring
 * until the data path released it (keys are wiped there, after every worker
 * let go of the SA).
 */
static int
slot_drop(struct espgw_store *s, uint32_t slot)
{
	return espgw_store_slot_set(
			s, slot, s->retire_slots ? ESPGW_SLOT_RETIRING : ESPGW_SLOT_FREE);
}

/*
 * Two SAs of one store that may not share their key material: each counts
 * its sequence numbers from 1, so with a transform whose nonce is the salt
 * and the sequence number (AES-GCM, ChaCha20-Poly1305, AES-CTR, AES-GMAC:
 * the ones with a salt) the same nonces would go out under one key (RFC 4106
 * 8.1): from us for two outbound SAs, from the peer for two inbound ones,
 * from both ends for an outbound and an inbound SA keyed alike. Two outbound
 * SAs never share keys, whatever the transform (as publish.c's check of a
 * running espgw). HMAC keys used both ways (AH) are no nonce and stay allowed.
 */
static bool
key_clash(const struct espgw_sa_conf *a, const struct espgw_sa_conf *b)
{
	if (!espgw_store_sa_same_key(a, b))
		return false;
	return b->has_salt || (a->dir == ESPGW_DIR_OUT && b->dir == ESPGW_DIR_OUT);
}

/*
 * Refused in the config espgw starts with, espgw --check, reload and the
 * control socket alike; a running espgw also remembers the keys of SAs
 * deleted in the last seconds that ran under them (publish.c). Found by
 * hash (store_index.c): a store of SAs that all clash with none is one
 * lookup each, not a scan. Without a salt an inbound SA may share its keys,
 * and two such may share them with one outbound SA: that one is indexed
 * apart (the direction is part of its index key).
 */
static int
sa_check_key(const struct espgw_store *s, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	int i;

	if (s->key_twins_ok || (!c->has_salt && c->dir != ESPGW_DIR_OUT))
		return 0;
	i = espgw_store_ix_sa_key(s, c);
	if (i < 0 || !key_clash(&s->sas[i], c))
		return 0;
	return espgw_err_set(err,
			"SA %s: its key is SA %s's: two SAs under one key both count their "
			"sequence numbers from 1 (AES-GCM: the same nonces, RFC 4106 8.1); give "
			"each SA its own key",
			c->name, s->sas[i].name);
}

int
espgw_store_sa_add(struct espgw_store *s, const struct espgw_sa_conf *c, struct espgw_err *err)
{
	struct espgw_sa_conf sa = *c;
	int i = espgw_store_sa_index(s, c->name);

	if (sa_check_ids(s, c, err) < 0 || sa_check_transform(c, err) < 0 ||
			sa_check_local(s, c, err) < 0 || sa_check_outer(c, err) < 0 ||
			sa_check_natoa(c, err) < 0 || sa_check_seq(c, err) < 0 ||
			sa_check_order(s, c, err) < 0 || sa_check_decrypt(s, c, err) < 0 ||
			sa_check_refs(s, c, err) < 0 || sa_check_life(c, err) < 0 ||
			sa_check_key(s, c, err) < 0 || espgw_store_sa_policies_fit(s, c, err) < 0)
		return -1;
	/* Set by the first policy that protects with this SA (see espgw_req.h). */
	sa.inner_family = i < 0 ? 0 : s->sas[i].inner_family;
	sa.declared = false;
	sa.moved_from = 0;
	sa.bitw = sa.mode == ESPGW_SA_TRANSPORT && espgw_store_port_of_addr(s, &sa.local) < 0;
	if (slot_take(s, &sa, err) < 0 || (i >= 0 && slot_drop(s, s->sas[i].slot) < 0))
		return -1;
	if (i >= 0)
		return espgw_store_arr_set(s, ESPGW_ARR_SAS, (unsigned int)i, &sa) < 0
				       ? espgw_store_nomem(err)
				       : 0;
	if (espgw_store_arr_insert(s, ESPGW_ARR_SAS, s->n_sas, &sa) < 0)
		return espgw_store_nomem(err);
	return 0;
}

/*
 * An SA in service changes its peer's address or its lifetimes. Outbound, a
 * new remote is a new outer header: a new runtime in a new slot that the
 * data path fills from the old one (sequence number, counters, age), since
 * the old one's workers may be mid-packet; moved_from names the old one
 * until the data path made the move (espgw_store_sa_moved). Inbound, and
 * for lifetimes, the slot stays and the data path updates it in place.
 */
int
espgw_store_sa_update(struct espgw_store *s, const struct espgw_sa_update *c, struct espgw_err *err)
{
	int i = espgw_store_sa_index(s, c->name), k;
	struct espgw_sa_conf sa;
	int rc = -1;

	if (i < 0)
		return espgw_err_set(err, "SA %.*s does not exist", ESPGW_NAME_MAX, c->name);
	if (s->sas[i].declared)
		return espgw_err_set(err, "SA %s is only declared: sa add installs it", c->name);
	/* Its policies' selectors are its endpoints (store_sp.c): they would no longer be. */
	if (c->has_remote && s->sas[i].mode == ESPGW_SA_TRANSPORT &&
			!espgw_ip_equal(&c->remote, &s->sas[i].remote))
		return espgw_err_set(err,
				"SA %s is a transport SA: its remote is its policies' address; "
				"add a new SA and policies instead",
				c->name);
	if (c->has_dport && !s->sas[i].encap_udp)
		return espgw_err_set(err, "SA %s has no encap udp: no dport to change", c->name);
	sa = s->sas[i];
	if (c->has_remote)
		sa.remote = c->remote;
	if (c->has_dport)
		sa.encap_dport = c->dport;
	for (k = 0; k < 2; k++)
		if (c->has_life[k])
			sa.life[k] = c->life[k];
	if (sa_check_local(s, &sa, err) < 0 || sa_check_life(&sa, err) < 0)
		goto out;
	/*
	 * A move the data path has not made yet (an earlier update in this
	 * transaction) still starts from where the SA is in service: the
	 * slot in between never carried a packet.
	 */
	if (sa.dir == ESPGW_DIR_OUT && (!espgw_ip_equal(&sa.remote, &s->sas[i].remote) ||
						       sa.encap_dport != s->sas[i].encap_dport)) {
		/* Without a data path yet (the file at start), nothing to carry. */
		if (sa.moved_from == 0 && s->retire_slots)
			sa.moved_from = s->sas[i].slot + 1;
		if (slot_take(s, &sa, err) < 0 || slot_drop(s, s->sas[i].slot) < 0)
			goto out;
	}
	rc = espgw_store_arr_set(s, ESPGW_ARR_SAS, (unsigned int)i, &sa) < 0
			     ? espgw_store_nomem(err)
			     : 0;
out:
	explicit_bzero(&sa, sizeof(sa));
	return rc;
}

void
espgw_store_sa_moved(struct espgw_store *s, uint32_t slot)
{
	int i = espgw_store_ix_sa_slot(s, slot);

	/* Not journaled: like a slot's release, it records what the data path did. */
	if (i >= 0)
		s->sas[i].moved_from = 0;
}

/*
 * The same key material. Such an SA must never come back with a fresh
 * sequence number (AES-GCM's nonce is the sequence number, RFC 4106 8.1: a
 * number sent again under the key is a repeated nonce) or a fresh replay
 * window (RFC 4303 3.4.3: every packet accepted could be replayed once),
 * which a delete and add would give it. With a salt (AES-GCM, ChaCha20,
 * AES-CTR, AES-GMAC) the keystream is the AES or ChaCha20 key and the salt
 * with the sequence number, whatever the transform and the HMAC key: those
 * two alone decide (an AES-CTR SA and an AES-GCM SA with one key and salt
 * share counter blocks, RFC 3686 4 and RFC 4106 3.1). Without, every key.
 */
bool
espgw_store_sa_same_key(const struct espgw_sa_conf *a, const struct espgw_sa_conf *b)
{
	if (a->declared || b->declared || a->key_len + a->auth_key_len == 0)
		return false;
	if (a->has_salt || b->has_salt)
		return a->has_salt && b->has_salt && a->key_len == b->key_len &&
		       memcmp(a->key, b->key, a->key_len) == 0 &&
		       memcmp(a->salt, b->salt, sizeof(a->salt)) == 0;
	return a->key_len == b->key_len && a->auth_key_len == b->auth_key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0 &&
	       memcmp(a->auth_key, b->auth_key, a->auth_key_len) == 0;
}

/*
 * A key used before may not serve a new SA: of the same direction (its
 * numbers or its replay window would start again), nor, with a salt, of the
 * other (the peer sent or will send the same nonces).
 */
bool
espgw_store_sa_key_reused(const struct espgw_sa_conf *used, const struct espgw_sa_conf *sa)
{
	return espgw_store_sa_same_key(used, sa) && (sa->has_salt || used->dir == sa->dir);
}

/* A declaration named like c (dir and inner family as given). */
static void
decl_fill(struct espgw_sa_conf *sa, const char *name, enum espgw_dir dir, uint8_t family)
{
	memset(sa, 0, sizeof(*sa));
	memcpy(sa->name, name, sizeof(sa->name));
	sa->dir = dir;
	sa->declared = true;
	sa->inner_family = family;
}

int
espgw_store_sa_declare(struct espgw_store *s, const struct espgw_sa_decl *c, struct espgw_err *err)
{
	struct espgw_sa_conf sa;

	if (!espgw_name_valid(c->name))
		return espgw_err_set(err, "invalid SA name");
	if (c->dir != ESPGW_DIR_IN && c->dir != ESPGW_DIR_OUT)
		return espgw_err_set(err, "SA %s: dir must be in or out", c->name);
	if (espgw_store_sa(s, c->name) != NULL)
		return espgw_err_set(err, "SA %s already exists", c->name);
	decl_fill(&sa, c->name, c->dir, 0);
	if (slot_take(s, &sa, err) < 0)
		return -1;
	if (espgw_store_arr_insert(s, ESPGW_ARR_SAS, s->n_sas, &sa) < 0)
		return espgw_store_nomem(err);
	return 0;
}

static bool
sa_used(const struct espgw_store *s, const char *name)
{
	return espgw_store_ix_sp_using(s, name) >= 0;
}

/* A declaration in place of the SA (in a new slot): its policies stay and drop. */
static int
sa_undeclare(struct espgw_store *s, unsigned int i, struct espgw_err *err)
{
	struct espgw_sa_conf sa;

	decl_fill(&sa, s->sas[i].name, s->sas[i].dir, s->sas[i].inner_family);
	if (slot_take(s, &sa, err) < 0)
		return -1;
	if (espgw_store_arr_set(s, ESPGW_ARR_SAS, i, &sa) < 0)
		return espgw_store_nomem(err);
	return 0;
}

int
espgw_store_sa_del(struct espgw_store *s, const char *name, struct espgw_err *err)
{
	int i = espgw_store_sa_index(s, name);
	bool used;

	if (i < 0)
		return espgw_err_set(err, "SA %.*s does not exist", ESPGW_NAME_MAX, name);
	used = sa_used(s, name);
	if (used && s->sas[i].declared)
		return espgw_err_set(err, "SA %s is declared for a policy: delete the policy first",
				s->sas[i].name);
	if (slot_drop(s, s->sas[i].slot) < 0 || espgw_store_sp_prev_forget(s, name) < 0)
		return espgw_store_nomem(err);
	/* A policy still protects with it: it becomes a declaration, the policy drops. */
	if (used)
		return sa_undeclare(s, (unsigned int)i, err);
	if (espgw_store_arr_remove(s, ESPGW_ARR_SAS, (unsigned int)i) < 0)
		return espgw_store_nomem(err);
	return 0;
}
