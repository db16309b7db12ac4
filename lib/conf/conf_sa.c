/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "sa add NAME dir in|out spi N mode tunnel|transport [proto esp|ah] local IP remote IP
 *  TRANSFORM [OPTIONS]"
 * (options include "mss-clamp auto|N", TCP MSS clamping through the SA, and
 * "encap udp [sport N] [dport N] [nat-oa-src IP] [nat-oa-dst IP]", RFC 3948)
 * and "sa del NAME". The transform is checked for consistency (algorithm
 * kinds, key and salt sizes) by the store; here only the syntax. Key text
 * never goes into a message.
 */
#include <string.h>

#include "conf_int.h"

enum {
	S_DIR,
	S_SPI,
	S_MODE,
	S_LOCAL,
	S_REMOTE,
	S_AEAD,
	S_CIPHER,
	S_AUTH,
	S_KEY,
	S_SALT,
	S_AUTH_KEY,
	S_REPLAY,
	S_ESN,
	S_SEQ,
	S_TTL,
	S_DSCP,
	S_DF,
	S_FLOW,
	S_PATH,
	S_ORDER,
	S_DECRYPT,
	S_CDEV,
	S_MATCH,
	S_MSS,
	S_ENCAP,
	S_SPORT,
	S_DPORT,
	S_PROTO,
	S_NATOA_SRC,
	S_NATOA_DST,
};

static int
set_dir(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const dirs[] = {"in", "out", NULL};
	struct espgw_sa_conf *sa = obj;
	int i;

	if (espgw_conf_word("dir", v, dirs, &i, err) < 0)
		return -1;
	sa->dir = i == 0 ? ESPGW_DIR_IN : ESPGW_DIR_OUT;
	return 0;
}

static int
set_spi(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sa_conf *sa = obj;
	uint64_t n;

	if (espgw_conf_u64("spi", v, 0, UINT32_MAX, &n, err) < 0)
		return -1;
	sa->spi = (uint32_t)n;
	return 0;
}

static int
set_mode(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const modes[] = {"tunnel", "transport", NULL};
	struct espgw_sa_conf *sa = obj;
	int i;

	if (espgw_conf_word("mode", v, modes, &i, err) < 0)
		return -1;
	sa->mode = i == 0 ? ESPGW_SA_TUNNEL : ESPGW_SA_TRANSPORT;
	return 0;
}

static int
set_proto(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const protos[] = {"esp", "ah", NULL};
	struct espgw_sa_conf *sa = obj;
	int i;

	if (espgw_conf_word("proto", v, protos, &i, err) < 0)
		return -1;
	sa->proto = i == 0 ? ESPGW_SA_ESP : ESPGW_SA_AH;
	return 0;
}

static int
set_local(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_ip("local", v, &((struct espgw_sa_conf *)obj)->local, err);
}

static int
set_remote(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_ip("remote", v, &((struct espgw_sa_conf *)obj)->remote, err);
}

/* what is also the keyword of kind: "aead", "cipher" or "auth". */
static int
set_algo(const char *what, enum espgw_algo_kind kind, const char *v, enum espgw_algo *out,
		struct espgw_err *err)
{
	static const char *const kinds[] = {"aead", "cipher", "auth"};
	int k;

	*out = espgw_algo_lookup(v, kind);
	if (*out != ESPGW_ALGO_NONE)
		return 0;
	for (k = ESPGW_ALGO_KIND_AEAD; k <= ESPGW_ALGO_KIND_AUTH; k++)
		if (espgw_algo_lookup(v, (enum espgw_algo_kind)k) != ESPGW_ALGO_NONE)
			return espgw_err_set(err, "%s is an algorithm for '%s', not '%s'", v,
					kinds[k], what);
	return espgw_err_set(err, "unknown %s algorithm '%.40s'", what, espgw_conf_show(v));
}

static int
set_aead(void *obj, const char *v, struct espgw_err *err)
{
	return set_algo("aead", ESPGW_ALGO_KIND_AEAD, v, &((struct espgw_sa_conf *)obj)->aead, err);
}

static int
set_cipher(void *obj, const char *v, struct espgw_err *err)
{
	return set_algo("cipher", ESPGW_ALGO_KIND_CIPHER, v, &((struct espgw_sa_conf *)obj)->cipher,
			err);
}

static int
set_auth(void *obj, const char *v, struct espgw_err *err)
{
	return set_algo("auth", ESPGW_ALGO_KIND_AUTH, v, &((struct espgw_sa_conf *)obj)->auth, err);
}

static int
set_key(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sa_conf *sa = obj;

	return espgw_conf_hex("key", v, sa->key, sizeof(sa->key), &sa->key_len, err);
}

static int
set_auth_key(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sa_conf *sa = obj;

	return espgw_conf_hex(
			"auth-key", v, sa->auth_key, sizeof(sa->auth_key), &sa->auth_key_len, err);
}

static int
set_salt(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sa_conf *sa = obj;
	uint8_t len;

	if (espgw_conf_hex("salt", v, sa->salt, sizeof(sa->salt), &len, err) < 0)
		return -1;
	if (len != ESPGW_SALT_LEN)
		return espgw_err_set(err, "salt must be %u bytes, got %u", ESPGW_SALT_LEN, len);
	sa->has_salt = true;
	return 0;
}

static int
set_replay(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sa_conf *sa = obj;
	uint64_t n;

	if (espgw_conf_u64("replay-window", v, 0, UINT32_MAX, &n, err) < 0)
		return -1;
	sa->replay_window = (uint32_t)n;
	return 0;
}

static int
set_esn(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const onoff[] = {"off", "on", NULL};
	struct espgw_sa_conf *sa = obj;
	int i;

	if (espgw_conf_word("esn", v, onoff, &i, err) < 0)
		return -1;
	sa->esn = i == 1;
	return 0;
}

static int
set_seq(void *obj, const char *v, struct espgw_err *err)
{
	/* The range depends on esn, which may come later: the store checks it. */
	return espgw_conf_u64("seq", v, 0, UINT64_MAX, &((struct espgw_sa_conf *)obj)->seq, err);
}

static int
set_ttl(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sa_conf *sa = obj;
	uint64_t n;

	if (espgw_conf_u64("ttl", v, 1, UINT8_MAX, &n, err) < 0)
		return -1;
	sa->ttl = (uint8_t)n;
	return 0;
}

static int
set_dscp(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sa_conf *sa = obj;
	uint64_t n;

	if (strcmp(v, "copy") == 0) {
		sa->dscp_mode = ESPGW_HDR_COPY;
		return 0;
	}
	if (espgw_conf_u64("dscp", v, 0, ESPGW_DSCP_MAX, &n, err) < 0)
		return espgw_err_set(err, "dscp must be copy or 0..%u, got %.40s", ESPGW_DSCP_MAX,
				espgw_conf_show(v));
	sa->dscp_mode = ESPGW_HDR_SET;
	sa->dscp = (uint8_t)n;
	return 0;
}

static int
set_df(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const modes[] = {"copy", "set", "clear", NULL};
	static const enum espgw_hdr_copy val[] = {ESPGW_HDR_COPY, ESPGW_HDR_SET, ESPGW_HDR_CLEAR};
	struct espgw_sa_conf *sa = obj;
	int i;

	if (espgw_conf_word("df", v, modes, &i, err) < 0)
		return -1;
	sa->df_mode = val[i];
	return 0;
}

static int
set_flow(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sa_conf *sa = obj;
	uint64_t n;

	if (espgw_conf_u64("flow-label", v, 0, ESPGW_FLOW_LABEL_MAX, &n, err) < 0)
		return -1;
	sa->flow_label = (uint32_t)n;
	sa->has_flow_label = true;
	return 0;
}

static int
set_path(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const paths[] = {"default", "cryptodev", "cpu", "direct", NULL};
	static const enum espgw_crypto_path val[] = {ESPGW_CRYPTO_PATH_DEFAULT,
			ESPGW_CRYPTO_PATH_CRYPTODEV, ESPGW_CRYPTO_PATH_CPU,
			ESPGW_CRYPTO_PATH_DIRECT};
	struct espgw_sa_conf *sa = obj;
	int i;

	if (espgw_conf_word("crypto-path", v, paths, &i, err) < 0)
		return -1;
	sa->crypto_path = val[i];
	return 0;
}

static int
set_order(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const orders[] = {"worker", "strict", NULL};
	static const enum espgw_seq_order val[] = {ESPGW_SEQ_ORDER_WORKER, ESPGW_SEQ_ORDER_STRICT};
	struct espgw_sa_conf *sa = obj;
	int i;

	if (espgw_conf_word("seq-order", v, orders, &i, err) < 0)
		return -1;
	sa->seq_order = val[i];
	return 0;
}

static int
set_decrypt(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const who[] = {"owner", "any", NULL};
	static const enum espgw_decrypt val[] = {ESPGW_DECRYPT_OWNER, ESPGW_DECRYPT_ANY};
	struct espgw_sa_conf *sa = obj;
	int i;

	if (espgw_conf_word("decrypt", v, who, &i, err) < 0)
		return -1;
	sa->decrypt = val[i];
	return 0;
}

static int
set_cdev(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_name("crypto", v, ((struct espgw_sa_conf *)obj)->cryptodev, err);
}

static int
set_match(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const keys[] = {"spi", "spi-dst", "spi-dst-src", NULL};
	static const enum espgw_sad_match val[] = {
			ESPGW_SAD_MATCH_SPI, ESPGW_SAD_MATCH_SPI_DST, ESPGW_SAD_MATCH_SPI_DST_SRC};
	struct espgw_sa_conf *sa = obj;
	int i;

	if (espgw_conf_word("match", v, keys, &i, err) < 0)
		return -1;
	sa->match = val[i];
	return 0;
}

/* "mss-clamp auto|N": the store checks N's range. */
static int
set_mss(void *obj, const char *v, struct espgw_err *err)
{
	struct espgw_sa_conf *sa = obj;
	uint64_t n;

	if (strcmp(v, "auto") == 0) {
		sa->mss_clamp = ESPGW_MSS_AUTO;
		return 0;
	}
	if (espgw_conf_u64("mss-clamp", v, ESPGW_MSS_MIN, ESPGW_MSS_MAX, &n, err) < 0)
		return espgw_err_set(err, "mss-clamp must be auto or %u..%u, got %.40s",
				ESPGW_MSS_MIN, ESPGW_MSS_MAX, espgw_conf_show(v));
	sa->mss_clamp = (uint16_t)n;
	return 0;
}

/* RFC 3948: "encap udp" (no other encapsulation exists for ESP). */
static int
set_encap(void *obj, const char *v, struct espgw_err *err)
{
	static const char *const kinds[] = {"udp", NULL};
	int i;

	if (espgw_conf_word("encap", v, kinds, &i, err) < 0)
		return -1;
	((struct espgw_sa_conf *)obj)->encap_udp = true;
	return 0;
}

static int
set_port(const char *what, const char *v, uint16_t *out, struct espgw_err *err)
{
	uint64_t n;

	if (espgw_conf_u64(what, v, 1, UINT16_MAX, &n, err) < 0)
		return -1;
	*out = (uint16_t)n;
	return 0;
}

static int
set_sport(void *obj, const char *v, struct espgw_err *err)
{
	return set_port("sport", v, &((struct espgw_sa_conf *)obj)->encap_sport, err);
}

static int
set_dport(void *obj, const char *v, struct espgw_err *err)
{
	return set_port("dport", v, &((struct espgw_sa_conf *)obj)->encap_dport, err);
}

/* RFC 3948 3.1.2: the original addresses of a NAT-ed peer's transport packets. */
static int
set_natoa_src(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_ip("nat-oa-src", v, &((struct espgw_sa_conf *)obj)->natoa_src, err);
}

static int
set_natoa_dst(void *obj, const char *v, struct espgw_err *err)
{
	return espgw_conf_ip("nat-oa-dst", v, &((struct espgw_sa_conf *)obj)->natoa_dst, err);
}

/*
 * RFC 4302 1: AH authenticates and never encrypts; an AH SA takes "auth"
 * alone. (NAT traversal, "encap udp", is refused for AH here too once it
 * exists: AH covers the addresses a NAT rewrites, RFC 3948 2.)
 */
static int
sa_ah_check(uint64_t seen, struct espgw_err *err)
{
	if ((seen & (ESPGW_CONF_BIT(S_AEAD) | ESPGW_CONF_BIT(S_CIPHER))) != 0)
		return espgw_err_set(err, "proto ah authenticates only (RFC 4302): "
					  "no aead or cipher, use auth");
	return 0;
}

static const struct espgw_conf_opt sa_opts[] = {
		{"dir", set_dir, S_DIR, false, false},
		{"spi", set_spi, S_SPI, false, false},
		{"mode", set_mode, S_MODE, false, false},
		{"local", set_local, S_LOCAL, false, false},
		{"remote", set_remote, S_REMOTE, false, false},
		{"aead", set_aead, S_AEAD, false, false},
		{"cipher", set_cipher, S_CIPHER, false, false},
		{"auth", set_auth, S_AUTH, false, false},
		{"key", set_key, S_KEY, false, false},
		{"salt", set_salt, S_SALT, false, false},
		{"auth-key", set_auth_key, S_AUTH_KEY, false, false},
		{"replay-window", set_replay, S_REPLAY, false, false},
		{"esn", set_esn, S_ESN, false, false},
		{"seq", set_seq, S_SEQ, false, false},
		{"ttl", set_ttl, S_TTL, false, false},
		{"dscp", set_dscp, S_DSCP, false, false},
		{"df", set_df, S_DF, false, false},
		{"flow-label", set_flow, S_FLOW, false, false},
		{"crypto-path", set_path, S_PATH, false, false},
		{"seq-order", set_order, S_ORDER, false, false},
		{"decrypt", set_decrypt, S_DECRYPT, false, false},
		{"cryptodev", set_cdev, S_CDEV, false, false},
		{"match", set_match, S_MATCH, false, false},
		{"mss-clamp", set_mss, S_MSS, false, false},
		{"encap", set_encap, S_ENCAP, false, false},
		{"sport", set_sport, S_SPORT, false, false},
		{"dport", set_dport, S_DPORT, false, false},
		{"proto", set_proto, S_PROTO, false, false},
		{"nat-oa-src", set_natoa_src, S_NATOA_SRC, false, false},
		{"nat-oa-dst", set_natoa_dst, S_NATOA_DST, false, false},
};

static int
sa_need(uint64_t seen, struct espgw_err *err)
{
	static const struct {
		unsigned int slot;
		const char *what;
	} req[] = {{S_DIR, "dir"}, {S_SPI, "spi"}, {S_MODE, "mode"}, {S_LOCAL, "local"},
			{S_REMOTE, "remote"}};
	unsigned int i;

	for (i = 0; i < ESPGW_CONF_NOPTS(req); i++)
		if (espgw_conf_need("sa add", seen, req[i].slot, req[i].what, err) < 0)
			return -1;
	return 0;
}

/* "time N", "bytes N" or "packets N" of one lifetime; 0 is "no limit" and refused. */
static int
life_limit(const char *what, const char *val, struct espgw_lifetime *l, struct espgw_err *err)
{
	uint64_t *to = strcmp(what, "time") == 0      ? &l->time
		       : strcmp(what, "bytes") == 0   ? &l->bytes
		       : strcmp(what, "packets") == 0 ? &l->packets
						      : NULL;

	if (to == NULL)
		return 0;
	if (val == NULL)
		return espgw_err_set(err, "missing value for lifetime %s", what);
	return espgw_conf_u64(what, val, 1, UINT64_MAX, to, err) < 0 ? -1 : 2;
}

/*
 * "lifetime soft|hard (time SECONDS | bytes N | packets N)...": taken out of
 * argv (the rest goes to the option table). Returns the words left, or -1.
 */
static int
lifetimes(int argc, char *const argv[], char *rest[], struct espgw_sa_conf *sa,
		struct espgw_err *err)
{
	static const char *const kinds[] = {"soft", "hard", NULL};
	int i = 0, n = 0, k, used;

	while (i < argc) {
		if (strcmp(argv[i], "lifetime") != 0) {
			rest[n++] = argv[i++];
			continue;
		}
		if (i + 1 >= argc || espgw_conf_word("lifetime", argv[i + 1], kinds, &k, err) < 0)
			return espgw_err_set(err, "usage: lifetime soft|hard [time SECONDS] "
						  "[bytes N] [packets N]");
		for (i += 2, used = 0; i < argc; i += 2, used++) {
			int r = life_limit(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &sa->life[k],
					err);
			if (r < 0)
				return -1;
			if (r == 0)
				break;
		}
		if (used == 0)
			return espgw_err_set(
					err, "lifetime %s needs time, bytes or packets", kinds[k]);
	}
	return n;
}

int
espgw_conf_sa_add(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	char *rest[ESPGW_CONF_ARGS_MAX];
	uint64_t seen;
	int n;

	espgw_req_init(req, ESPGW_REQ_SA_ADD);
	if (argc < 1)
		return espgw_err_set(err, "sa add needs a name");
	if (espgw_conf_name("SA", argv[0], req->sa.name, err) < 0)
		return -1;
	n = lifetimes(argc - 1, argv + 1, rest, &req->sa, err);
	if (n < 0)
		return -1;
	if (espgw_conf_opts("sa add", sa_opts, ESPGW_CONF_NOPTS(sa_opts), n, rest, &req->sa, &seen,
			    err) < 0)
		return -1;
	if (sa_need(seen, err) < 0)
		return -1;
	if (req->sa.proto == ESPGW_SA_AH && sa_ah_check(seen, err) < 0)
		return -1;
	/* Transport mode keeps the packet's own header: nothing of an outer one to set. */
	if (req->sa.mode == ESPGW_SA_TRANSPORT &&
			(seen & (ESPGW_CONF_BIT(S_TTL) | ESPGW_CONF_BIT(S_DSCP) |
						ESPGW_CONF_BIT(S_DF) | ESPGW_CONF_BIT(S_FLOW))) !=
					0)
		return espgw_err_set(err, "ttl, dscp, df and flow-label set a tunnel's outer "
					  "header: not with mode transport");
	if ((seen & (ESPGW_CONF_BIT(S_SPORT) | ESPGW_CONF_BIT(S_DPORT))) != 0 && !req->sa.encap_udp)
		return espgw_err_set(err, "sport and dport are the UDP ports of encap udp");
	/* Even "seq 1": an inbound SA has no sending counter to start. */
	if (ESPGW_CONF_SEEN(seen, S_SEQ) && req->sa.dir == ESPGW_DIR_IN)
		return espgw_err_set(err, "seq is only valid for outbound SAs");
	return 0;
}

int
espgw_conf_sa_del(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	espgw_req_init(req, ESPGW_REQ_SA_DEL);
	if (argc < 1)
		return espgw_err_set(err, "sa del needs a name");
	if (argc > 1)
		return espgw_err_set(err, "unexpected '%.40s' after sa del NAME",
				espgw_conf_show(argv[1]));
	return espgw_conf_name("SA", argv[0], req->name, err);
}

static const struct espgw_conf_opt update_opts[] = {
		{"remote", set_remote, S_REMOTE, false, false},
		{"dport", set_dport, S_DPORT, false, false},
};

/*
 * "sa update NAME [remote IP] [lifetime soft|hard ...]...": what an SA may
 * change in service (its keys, SPI and algorithms never: that is a rekey).
 */
int
espgw_conf_sa_update(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	struct espgw_sa_update *u = &req->sa_update;
	char *rest[ESPGW_CONF_ARGS_MAX];
	struct espgw_sa_conf sa;
	uint64_t seen = 0;
	int n, k;

	espgw_req_init(req, ESPGW_REQ_SA_UPDATE);
	if (argc < 1)
		return espgw_err_set(err, "sa update needs a name");
	if (espgw_conf_name("SA", argv[0], u->name, err) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	n = lifetimes(argc - 1, argv + 1, rest, &sa, err);
	if (n < 0 || espgw_conf_opts("sa update", update_opts, ESPGW_CONF_NOPTS(update_opts), n,
				     rest, &sa, &seen, err) < 0)
		return -1;
	u->has_remote = ESPGW_CONF_SEEN(seen, S_REMOTE);
	u->remote = sa.remote;
	u->has_dport = ESPGW_CONF_SEEN(seen, S_DPORT);
	u->dport = sa.encap_dport;
	for (k = 0; k < 2; k++) {
		u->has_life[k] = sa.life[k].time || sa.life[k].bytes || sa.life[k].packets;
		u->life[k] = sa.life[k];
	}
	if (!u->has_remote && !u->has_dport && !u->has_life[0] && !u->has_life[1])
		return espgw_err_set(err, "sa update needs remote, dport or lifetime");
	return 0;
}

/* "sa declare NAME dir in|out": a name policies may protect with before the SA exists. */
int
espgw_conf_sa_declare(int argc, char *const argv[], struct espgw_req *req, struct espgw_err *err)
{
	static const char *const dirs[] = {"in", "out", NULL};
	int dir;

	espgw_req_init(req, ESPGW_REQ_SA_DECLARE);
	if (argc != 3 || strcmp(argv[1], "dir") != 0)
		return espgw_err_set(err, "usage: sa declare NAME dir in|out");
	if (espgw_conf_name("SA", argv[0], req->sa_decl.name, err) < 0 ||
			espgw_conf_word("dir", argv[2], dirs, &dir, err) < 0)
		return -1;
	req->sa_decl.dir = dir == 0 ? ESPGW_DIR_IN : ESPGW_DIR_OUT;
	return 0;
}
