/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control requests: the one mutation path into espgw. The config file (lib/conf),
 * the runtime control tool and, later, the IKE daemon all produce these and hand
 * them to espgw_store_apply(). Pure C, no DPDK types: the config checker and the
 * parser unit tests run without an EAL.
 *
 * The object configs (port, SA, SP, route, neighbor, cryptodev) are what the
 * data-plane modules build their runtime tables from.
 */
#ifndef ESPGW_REQ_H
#define ESPGW_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "espgw_addr.h"
#include "espgw_algo.h"

#define ESPGW_NAME_MAX	    32 /* object names, including the NUL */
#define ESPGW_DEV_MAX	    128
#define ESPGW_IFNAME_MAX    16 /* kernel interface names (IFNAMSIZ), including the NUL */
#define ESPGW_PORT_ADDR_MAX 8
#define ESPGW_KEY_MAX	    64
#define ESPGW_SALT_LEN	    4
#define ESPGW_MSS_AUTO	    UINT16_MAX

enum espgw_dir { ESPGW_DIR_IN, ESPGW_DIR_OUT };

enum espgw_port_role { ESPGW_ROLE_PROTECTED, ESPGW_ROLE_UNPROTECTED };

struct espgw_port_conf {
	char name[ESPGW_NAME_MAX];
	char dev[ESPGW_DEV_MAX]; /* ethdev name: vdev name or PCI address */
	enum espgw_port_role role;
	struct espgw_prefix addr[ESPGW_PORT_ADDR_MAX]; /* own addresses, with subnet */
	uint8_t n_addr;
	uint16_t mtu; /* L3 MTU; default 1500 */
	bool has_mac;
	uint8_t mac[6];	  /* set on the port when has_mac */
	uint16_t rx_desc; /* per queue; 0 = default */
	uint16_t tx_desc;
	/*
	 * The kernel interface espgw creates for the port's own traffic (a
	 * net_tun device with the port's addresses): local traffic espgw does
	 * not handle itself goes up to it, what the kernel sends on it goes out
	 * through the SPD and the routes. "" = none.
	 */
	char host_if[ESPGW_IFNAME_MAX];
	unsigned int line; /* config file line that added it, 0 when not from a file */
};

/*
 * Tunnel: a new outer header between local and remote (RFC 4303 3.1.2).
 * Transport: the packet's own header, whose source and destination are the
 * SA's local and remote, with ESP after it (RFC 4303 3.1.1).
 */
enum espgw_sa_mode { ESPGW_SA_TUNNEL, ESPGW_SA_TRANSPORT };

/*
 * The IPsec protocol of an SA: ESP (RFC 4303, the default) or AH (RFC 4302:
 * integrity of the payload and of the outer header's immutable fields, no
 * confidentiality). SPIs are unique per direction across both, so that the
 * one inbound SAD serves both and a packet never takes the other's SA.
 */
enum espgw_sa_proto { ESPGW_SA_ESP, ESPGW_SA_AH };

enum { ESPGW_LIFE_SOFT, ESPGW_LIFE_HARD };

struct espgw_lifetime {
	uint64_t time; /* seconds */
	uint64_t bytes;
	uint64_t packets;
};

/* How an outer-header field is derived from the inner packet (RFC 4301 5.1.2.1). */
enum espgw_hdr_copy { ESPGW_HDR_COPY, ESPGW_HDR_SET, ESPGW_HDR_CLEAR };

/* Which fields of an inbound packet select the SA (rte_ipsec_sad key types). */
enum espgw_sad_match {
	ESPGW_SAD_MATCH_SPI_DST, /* default: SPI and our tunnel address */
	ESPGW_SAD_MATCH_SPI,
	ESPGW_SAD_MATCH_SPI_DST_SRC,
};

enum espgw_crypto_path {
	ESPGW_CRYPTO_PATH_DEFAULT,   /* SA follows the global setting */
	ESPGW_CRYPTO_PATH_CRYPTODEV, /* asynchronous enqueue/dequeue */
	ESPGW_CRYPTO_PATH_CPU,	     /* synchronous RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO */
	/*
	 * Global only, the default: the direct path where the SA fits it and
	 * its device is Intel IPsec-MB in software (the same code, called
	 * without a crypto op), else CPU crypto where the SA's algorithm and
	 * its device allow it, else cryptodev (README Performance: each step
	 * measured faster on crypto_aesni_mb at every size).
	 */
	ESPGW_CRYPTO_PATH_AUTO,
	/*
	 * Intel IPsec-MB's AES-GCM called by the worker itself, with espgw's own
	 * ESP framing (lib/esp/esp_gcm.c): ESP tunnel SAs with AES-GCM, in UDP
	 * or not (espgw_crypto_direct_unfit).
	 */
	ESPGW_CRYPTO_PATH_DIRECT,
};

/*
 * The order an outbound SA's packets leave in when several workers encrypt
 * for it ("seq-order"). WORKER (default): each worker sends what it
 * encrypted on its own TX queues, sequence numbers in order per worker but
 * not across them. STRICT: every worker may encrypt, and the packets leave
 * through the SA's owner in sequence number order (lib/dp/order.c); direct
 * path only.
 */
enum espgw_seq_order {
	ESPGW_SEQ_ORDER_WORKER,
	ESPGW_SEQ_ORDER_STRICT,
};

/*
 * Which workers decrypt an inbound SA's packets ("decrypt"). OWNER
 * (default): its owner; the others hand it what they receive
 * (lib/dp/handoff.c), and its replay window has one writer. ANY: the worker
 * that receives a packet decrypts it, with a replay window shared by atomic
 * operations (lib/sad/replay.h); for one SA whose packets arrive on several
 * queues (the elephant flow). Direct path only.
 */
enum espgw_decrypt {
	ESPGW_DECRYPT_OWNER,
	ESPGW_DECRYPT_ANY,
};

struct espgw_sa_conf {
	char name[ESPGW_NAME_MAX];
	enum espgw_dir dir;
	uint32_t spi;
	enum espgw_sa_mode mode;
	enum espgw_sa_proto proto;  /* ESP (default) or AH: AH has auth only */
	struct espgw_ip local;	    /* our tunnel endpoint */
	struct espgw_ip remote;	    /* the peer's tunnel endpoint */
	enum espgw_algo aead;	    /* ESPGW_ALGO_NONE unless "aead" */
	enum espgw_algo cipher;	    /* ESPGW_ALGO_NONE unless "cipher" */
	enum espgw_algo auth;	    /* ESPGW_ALGO_NONE unless "auth" */
	uint8_t key[ESPGW_KEY_MAX]; /* cipher or AEAD key (or GMAC key) */
	uint8_t key_len;
	uint8_t auth_key[ESPGW_KEY_MAX]; /* HMAC key */
	uint8_t auth_key_len;
	uint8_t salt[ESPGW_SALT_LEN]; /* GCM/GMAC/ChaCha salt, CTR nonce */
	bool has_salt;
	uint32_t replay_window; /* packets; 0 disables anti-replay (inbound) */
	bool esn;
	uint64_t seq; /* outbound: sequence number of the first packet sent (default 1) */
	uint8_t ttl;  /* outer TTL / hop limit (default 64) */
	enum espgw_hdr_copy dscp_mode; /* COPY (default) or SET to dscp */
	uint8_t dscp;
	enum espgw_hdr_copy df_mode; /* COPY (default), SET or CLEAR */
	bool has_flow_label;	     /* IPv6 outer: fixed flow label */
	uint32_t flow_label;
	enum espgw_crypto_path crypto_path;
	enum espgw_seq_order seq_order; /* outbound only */
	enum espgw_decrypt decrypt;	/* inbound only */
	char cryptodev[ESPGW_NAME_MAX]; /* crypto object name; "" = default */
	enum espgw_sad_match match;	/* inbound only */
	/*
	 * TCP MSS clamp for SYN / SYN-ACK through this SA (outbound before
	 * encryption, inbound after decryption): 0 none, ESPGW_MSS_AUTO the
	 * SA's tunnel MTU less 40 (IPv4 inside) or 60 (IPv6 inside), else bytes.
	 */
	uint16_t mss_clamp;
	/*
	 * RFC 3948 UDP encapsulation ("encap udp [sport N] [dport N]"): ESP in
	 * UDP from our port sport to the peer's port dport (both 4500 by
	 * default); received on sport.
	 */
	bool encap_udp;
	uint16_t encap_sport, encap_dport;
	/*
	 * RFC 3948 3.1.2, inbound transport SAs with encap udp only: the
	 * addresses the peer computed its TCP/UDP checksums with ("nat-oa-src
	 * IP", "nat-oa-dst IP"): its own before its NAT, ours as it saw it.
	 * Family 0: absent, the packet's address is the original one.
	 */
	struct espgw_ip natoa_src, natoa_dst;
	/*
	 * Inner family carried (0 until a policy references the SA). rte_ipsec
	 * writes and checks one ESP next-header per SA (RFC 4303 2.6), so an SA
	 * carries one inner family; the store sets this from the first "sp add
	 * ... protect" naming the SA and refuses a policy of the other family.
	 */
	uint8_t inner_family;
	/*
	 * Declared ("sa declare"): a name policies may protect with before the
	 * SA exists (an IKE daemon's trap policy, RFC 4301 4.4.1): no keys, no
	 * runtime; outbound traffic for it is dropped (no_sa_yet). "sa add"
	 * of the name installs it, "sa del" of an SA a policy still names
	 * turns it back into a declaration.
	 */
	bool declared;
	/*
	 * RFC 4301 4.4.2.1 lifetimes, [ESPGW_LIFE_SOFT] and [ESPGW_LIFE_HARD]:
	 * seconds since the SA was installed, bytes and packets through it;
	 * 0 = no limit. Soft raises one "expire soft" event; hard takes the SA
	 * out of service (its traffic drops as sa_expired) with "expire hard".
	 */
	struct espgw_lifetime life[2];
	/*
	 * Set by the store: the SA's runtime slot (index of its runtime object
	 * and of its counters), declared or installed. A slot is never reused
	 * before the data path let go of it (espgw_store_slot_release).
	 */
	uint32_t slot;
	/*
	 * Set by the store on "sa update" of an outbound SA's remote: the
	 * slot of the SA this one replaces, plus one (0: none). The data path
	 * carries the old one's sequence number, counters and age over, and
	 * sends the old one's traffic to the new one until the policies are.
	 */
	uint32_t moved_from;
	/*
	 * Set by the store: a transport SA whose local is no address of the
	 * gateway (a host behind a protected port): espgw is a bump in the wire
	 * for it (RFC 4301 3.3), and ESP to local is the SA's, not transit.
	 */
	bool bitw;
	bool runtime;	   /* made through the control socket: a reload leaves it alone */
	unsigned int line; /* config file line that added it, 0 when not from a file */
};

enum espgw_sp_action { ESPGW_SP_PROTECT, ESPGW_SP_BYPASS, ESPGW_SP_DISCARD };

struct espgw_sp_conf {
	char name[ESPGW_NAME_MAX]; /* optional: "" when unnamed */
	enum espgw_dir dir;
	uint32_t priority; /* lower value wins, as in the example configs */
	struct espgw_prefix src;
	struct espgw_prefix dst;
	int16_t proto;		     /* -1 = any */
	uint16_t sport_lo, sport_hi; /* 0..65535 = any */
	uint16_t dport_lo, dport_hi;
	enum espgw_sp_action action;
	char sa[ESPGW_NAME_MAX]; /* for ESPGW_SP_PROTECT */
	/*
	 * Inbound only, set by the store alone (never by a request or a config
	 * line): the SA this policy protected with before its last "sp set" to
	 * another SA, still accepted until it is deleted (the rekey overlap,
	 * RFC 7296 2.8; store_sp.c).
	 */
	char prev_sa[ESPGW_NAME_MAX];
	bool runtime; /* made through the control socket: a reload leaves it alone */
};

struct espgw_route_conf {
	struct espgw_prefix dst; /* network prefix (host bits zero) */
	struct espgw_ip via;	 /* next hop; family 0 = destination is on-link */
	char port[ESPGW_NAME_MAX];
	bool runtime; /* made through the control socket: a reload leaves it alone */
};

struct espgw_neigh_conf {
	struct espgw_ip ip;
	uint8_t mac[6];
	char port[ESPGW_NAME_MAX];
	bool runtime; /* made through the control socket: a reload leaves it alone */
};

struct espgw_crypto_conf {
	char name[ESPGW_NAME_MAX];
	char dev[ESPGW_DEV_MAX]; /* cryptodev name, e.g. crypto_aesni_mb0 */
	unsigned int line;	 /* config file line that added it, 0 when not from a file */
};

/* Global settings ("set KEY VALUE"). */
struct espgw_global_conf {
	enum espgw_crypto_path crypto_path; /* default for SAs; CRYPTODEV unless set */
	uint16_t burst;			    /* RX/crypto/TX burst size, default 32 */
	uint32_t max_sa;		    /* SA slots: installed SAs at once; 0 = auto */
	uint32_t nat_keepalive; /* seconds between NAT keepalives (RFC 3948 2.3), 0 off */
};

/* "sp del": by name, or by direction, priority and selectors (sp unused fields as in add). */
struct espgw_sp_ref {
	char name[ESPGW_NAME_MAX]; /* "" = by selectors */
	struct espgw_sp_conf sp;
};

/* "sp set NAME ACTION [SA]": switch a named policy's action or SA in one step. */
struct espgw_sp_set {
	char name[ESPGW_NAME_MAX];
	enum espgw_sp_action action;
	char sa[ESPGW_NAME_MAX];
};

/*
 * "sa update NAME [remote IP] [lifetime soft|hard ...]": the peer moved
 * (RFC 7296 2.23, MOBIKE), or new limits. A lifetime given replaces that
 * lifetime (soft or hard) whole; what is not given stays.
 */
struct espgw_sa_update {
	char name[ESPGW_NAME_MAX];
	bool has_remote;
	struct espgw_ip remote;
	bool has_dport; /* an encap udp SA's peer port (a new NAT mapping, RFC 7296 2.23) */
	uint16_t dport;
	bool has_life[2];
	struct espgw_lifetime life[2];
};

/* "sa declare NAME dir in|out" */
struct espgw_sa_decl {
	char name[ESPGW_NAME_MAX];
	enum espgw_dir dir;
};

enum espgw_req_type {
	ESPGW_REQ_PORT_ADD,
	ESPGW_REQ_SA_ADD,
	ESPGW_REQ_SA_DEL,
	ESPGW_REQ_SA_DECLARE,
	ESPGW_REQ_SA_UPDATE,
	ESPGW_REQ_SP_ADD,
	ESPGW_REQ_SP_DEL,
	ESPGW_REQ_SP_SET,
	ESPGW_REQ_ROUTE_ADD,
	ESPGW_REQ_ROUTE_DEL,
	ESPGW_REQ_NEIGH_ADD,
	ESPGW_REQ_NEIGH_DEL,
	ESPGW_REQ_CRYPTO_ADD,
	ESPGW_REQ_SET_CRYPTO_PATH,
	ESPGW_REQ_SET_BURST,
	ESPGW_REQ_SET_MAX_SA,
	ESPGW_REQ_SET_NAT_KEEPALIVE,
};

struct espgw_req {
	enum espgw_req_type type;
	union {
		struct espgw_port_conf port;
		struct espgw_sa_conf sa;
		char name[ESPGW_NAME_MAX]; /* *_DEL */
		struct espgw_sa_decl sa_decl;
		struct espgw_sa_update sa_update;
		struct espgw_sp_conf sp;
		struct espgw_sp_ref sp_ref;
		struct espgw_sp_set sp_set;
		struct espgw_route_conf route; /* ROUTE_DEL: dst only */
		struct espgw_neigh_conf neigh; /* NEIGH_DEL: ip only */
		struct espgw_crypto_conf crypto;
		enum espgw_crypto_path crypto_path;
		uint16_t burst;
		uint32_t max_sa;
		uint32_t nat_keepalive;
	};
};

#endif
