/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cryptodevs: find the devices named by "crypto add" (or create one
 * crypto_aesni_mb vdev when none is named), check every SA against them, give
 * each worker its own queue pair on every device (so enqueue/dequeue need no
 * lock), and create the session and crypto-op pools.
 */
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_cryptodev.h>
#include <rte_errno.h>

#include "crypto_int.h"
#include "espgw_crypto.h"
#include "espgw_crypto_xform.h"

/* Created when no "crypto add" names a device; removed again on close. */
#define DEFAULT_VDEV "crypto_aesni_mb_espgw"
#define QP_DESC	     2048 /* per queue pair: ops a worker may have in flight */
#define OP_CACHE     256  /* per-lcore op cache */
#define SESS_SPARE   64

static int
open_default(struct espgw_crypto *c, unsigned int n_workers, int socket, struct espgw_err *err)
{
	char args[64];
	int rc, id = rte_cryptodev_get_dev_id(DEFAULT_VDEV);

	if (id < 0) {
		if (socket >= 0)
			snprintf(args, sizeof(args), "max_nb_queue_pairs=%u,socket_id=%d",
					n_workers, socket);
		else
			snprintf(args, sizeof(args), "max_nb_queue_pairs=%u", n_workers);
		rc = rte_vdev_init(DEFAULT_VDEV, args);
		id = rte_cryptodev_get_dev_id(DEFAULT_VDEV);
		if (rc != 0 || id < 0) {
			snprintf(err->msg, sizeof(err->msg),
					"cannot create crypto device %s (crypto_aesni_mb): %s",
					DEFAULT_VDEV, rte_strerror(rc < 0 ? -rc : EINVAL));
			return -1;
		}
	}
	c->dev_id[0] = (uint8_t)id;
	c->n_devs = 1;
	return 0;
}

static int
open_named(struct espgw_crypto *c, const struct espgw_store *s, struct espgw_err *err)
{
	unsigned int i;
	int id;

	if (s->n_cryptos > ESPGW_MAX_CRYPTODEVS) {
		snprintf(err->msg, sizeof(err->msg), "%u crypto devices configured, at most %d",
				s->n_cryptos, ESPGW_MAX_CRYPTODEVS);
		return -1;
	}
	for (i = 0; i < s->n_cryptos; i++) {
		id = rte_cryptodev_get_dev_id(s->cryptos[i].dev);
		if (id < 0) {
			snprintf(err->msg, sizeof(err->msg),
					"crypto %s: no crypto device %s (missing --vdev?)",
					s->cryptos[i].name, s->cryptos[i].dev);
			err->line = s->cryptos[i].line;
			return -1;
		}
		c->dev_id[i] = (uint8_t)id;
	}
	c->n_devs = s->n_cryptos;
	return 0;
}

/* Two "crypto add" lines may name one device: configure it once. */
static bool
dev_seen(const struct espgw_crypto *c, unsigned int i)
{
	unsigned int j;

	for (j = 0; j < i; j++)
		if (c->dev_id[j] == c->dev_id[i])
			return true;
	return false;
}

static int
qps_check(const struct espgw_crypto *c, struct espgw_err *err)
{
	struct rte_cryptodev_info info;
	unsigned int i;

	for (i = 0; i < c->n_devs; i++) {
		rte_cryptodev_info_get(c->dev_id[i], &info);
		if (info.max_nb_queue_pairs >= c->n_qps)
			continue;
		snprintf(err->msg, sizeof(err->msg),
				"crypto device %s has %u queue pairs, %u workers need one each",
				rte_cryptodev_name_get(c->dev_id[i]), info.max_nb_queue_pairs,
				c->n_qps);
		return -1;
	}
	return 0;
}

static unsigned int
sess_size(const struct espgw_crypto *c)
{
	unsigned int i, sz = 0, d;

	for (i = 0; i < c->n_devs; i++) {
		d = rte_cryptodev_sym_get_private_session_size(c->dev_id[i]);
		sz = RTE_MAX(sz, d);
	}
	return sz;
}

/* The never-written zero block behind each op's IV room (espgw_crypto_xform.h). */
static void
op_zero_iv(struct rte_mempool *mp, void *arg, void *obj, unsigned int i)
{
	RTE_SET_USED(mp);
	RTE_SET_USED(arg);
	RTE_SET_USED(i);
	memset((uint8_t *)obj + ESPGW_CRYPTO_ZERO_IV, 0, ESPGW_CRYPTO_IV_ROOM);
}

static int
pools_create(struct espgw_crypto *c, const struct espgw_store *s, struct espgw_err *err)
{
	/* One session per SA slot: a retiring SA keeps its slot until its session is freed. */
	unsigned int n_sess = s->global.max_sa + SESS_SPARE;
	unsigned int n_ops = c->n_qps * (c->n_devs * QP_DESC + 3 * OP_CACHE);

	c->sess_pool = rte_cryptodev_sym_session_pool_create(
			"espgw_sess", n_sess, sess_size(c), 0, 0, c->socket);
	if (c->sess_pool == NULL) {
		snprintf(err->msg, sizeof(err->msg), "cannot create the crypto session pool: %s",
				rte_strerror(rte_errno));
		return -1;
	}
	c->op_pool = rte_crypto_op_pool_create("espgw_cops", RTE_CRYPTO_OP_TYPE_SYMMETRIC, n_ops,
			OP_CACHE, ESPGW_CRYPTO_OP_PRIV, c->socket);
	if (c->op_pool == NULL) {
		snprintf(err->msg, sizeof(err->msg), "cannot create the crypto op pool: %s",
				rte_strerror(rte_errno));
		return -1;
	}
	rte_mempool_obj_iter(c->op_pool, op_zero_iv, NULL);
	return 0;
}

static int
dev_configure(const struct espgw_crypto *c, uint8_t dev, struct espgw_err *err)
{
	struct rte_cryptodev_config conf = {
			.socket_id = c->socket,
			.nb_queue_pairs = c->n_qps,
			.ff_disable = RTE_CRYPTODEV_FF_ASYMMETRIC_CRYPTO |
				      RTE_CRYPTODEV_FF_SECURITY,
	};
	struct rte_cryptodev_qp_conf qp = {.nb_descriptors = QP_DESC, .mp_session = c->sess_pool};
	unsigned int q;
	int rc;

	rc = rte_cryptodev_configure(dev, &conf);
	for (q = 0; rc == 0 && q < c->n_qps; q++)
		rc = rte_cryptodev_queue_pair_setup(dev, q, &qp, c->socket);
	if (rc == 0)
		return 0;
	snprintf(err->msg, sizeof(err->msg),
			"crypto device %s: cannot configure %u queue pairs: %s",
			rte_cryptodev_name_get(dev), c->n_qps, rte_strerror(-rc));
	return -1;
}

static int
devs_configure(const struct espgw_crypto *c, struct espgw_err *err)
{
	unsigned int i;

	for (i = 0; i < c->n_devs; i++)
		if (!dev_seen(c, i) && dev_configure(c, c->dev_id[i], err) != 0)
			return -1;
	return 0;
}

/* Devices are stopped only when started: rte_cryptodev_stop() complains otherwise. */
static void
devs_release(struct espgw_crypto *c, bool started)
{
	char name[RTE_CRYPTODEV_NAME_MAX_LEN];
	unsigned int i;

	for (i = 0; i < c->n_devs; i++) {
		if (dev_seen(c, i))
			continue;
		snprintf(name, sizeof(name), "%s", rte_cryptodev_name_get(c->dev_id[i]));
		if (started)
			rte_cryptodev_stop(c->dev_id[i]);
		rte_cryptodev_close(c->dev_id[i]);
		if (strcmp(name, DEFAULT_VDEV) == 0)
			rte_vdev_uninit(name);
	}
	rte_mempool_free(c->op_pool);
	rte_mempool_free(c->sess_pool);
	memset(c, 0, sizeof(*c));
}

int
espgw_crypto_setup(struct espgw_crypto *c, const struct espgw_store *s, unsigned int n_workers,
		int socket, struct espgw_err *err)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->socket = socket;
	c->n_qps = n_workers;
	if (n_workers == 0) {
		snprintf(err->msg, sizeof(err->msg), "no worker lcore for the crypto queue pairs");
		return -1;
	}
	rc = s->n_cryptos == 0 ? open_default(c, n_workers, socket, err) : open_named(c, s, err);
	if (rc == 0)
		rc = qps_check(c, err);
	/* Each SA is checked against its device when it comes into service (lib/sad). */
	if (rc == 0)
		rc = pools_create(c, s, err);
	if (rc == 0)
		rc = devs_configure(c, err);
	if (rc != 0)
		devs_release(c, false);
	return rc;
}

int
espgw_crypto_start(struct espgw_crypto *c, struct espgw_err *err)
{
	unsigned int i;
	int rc;

	for (i = 0; i < c->n_devs; i++) {
		if (dev_seen(c, i))
			continue;
		rc = rte_cryptodev_start(c->dev_id[i]);
		if (rc == 0)
			continue;
		snprintf(err->msg, sizeof(err->msg), "crypto device %s: cannot start: %s",
				rte_cryptodev_name_get(c->dev_id[i]), rte_strerror(-rc));
		return -1;
	}
	return 0;
}

uint8_t
espgw_crypto_dev_for(const struct espgw_crypto *c, const struct espgw_store *s,
		const struct espgw_sa_conf *sa)
{
	int i = sa->cryptodev[0] != '\0' ? espgw_crypto_conf_index(s, sa->cryptodev) : -1;

	return c->dev_id[i >= 0 && (unsigned int)i < c->n_devs ? i : 0];
}

void
espgw_crypto_close(struct espgw_crypto *c)
{
	devs_release(c, true);
}
