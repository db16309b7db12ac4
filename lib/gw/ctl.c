/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "ctl.h"
#include "espgw_tel_gate.h"

#define CTL_DIR "/run/espgw"

/*
 * What a running gateway changes live: SAs, policies, routes and static
 * neighbors (publish.c). Ports, cryptodevs and global settings size the data
 * path at start.
 */
static int
ctl_allowed(void *arg, const struct espgw_req *req, struct espgw_err *err)
{
	(void)arg;
	switch (req->type) {
	case ESPGW_REQ_SA_ADD:
	case ESPGW_REQ_SA_DEL:
	case ESPGW_REQ_SA_DECLARE:
	case ESPGW_REQ_SA_UPDATE:
	case ESPGW_REQ_SP_ADD:
	case ESPGW_REQ_SP_DEL:
	case ESPGW_REQ_SP_SET:
	case ESPGW_REQ_ROUTE_ADD:
	case ESPGW_REQ_ROUTE_DEL:
	case ESPGW_REQ_NEIGH_ADD:
	case ESPGW_REQ_NEIGH_DEL:
		return 0;
	default:
		break;
	}
	snprintf(err->msg, sizeof(err->msg),
			"ports, crypto devices and settings are fixed while espgw runs: change "
			"the config file and restart espgw");
	return -1;
}

static int
ctl_prepare(void *arg, struct espgw_err *err)
{
	return espgw_gw_prepare(arg, err);
}

static int
ctl_publish(void *arg, struct espgw_err *err)
{
	return espgw_gw_publish(arg, err);
}

/* Workers zero their own counters at their next loop; the ports' are reset here. */
static void
ctl_stats_clear(void *arg)
{
	struct espgw_gw *gw = arg;
	unsigned int i;

	__atomic_add_fetch(&gw->clear_req, 1, __ATOMIC_RELEASE);
	for (i = 0; i < gw->ports.n; i++)
		rte_eth_stats_reset(gw->ports.port[i].port_id);
}

static void
ctl_lock(void *arg)
{
	(void)arg;
	espgw_tel_hold();
}

static void
ctl_unlock(void *arg)
{
	(void)arg;
	espgw_tel_release();
}

struct espgw_ctlsrv *
espgw_ctl_open(struct espgw_gw *gw, const char *path, const char *prefix, const char *group,
		bool *none, struct espgw_err *err)
{
	static const struct espgw_ctlsrv_ops ops = {
			.allowed = ctl_allowed,
			.prepare = ctl_prepare,
			.publish = ctl_publish,
			.show = espgw_ctl_show,
			.stats_clear = ctl_stats_clear,
			.capture = espgw_gw_capture_ctl,
			.lock = ctl_lock,
			.unlock = ctl_unlock,
	};
	struct espgw_ctlsrv_ops o = ops;
	struct espgw_ctlsrv_conf conf = {.group = group, .version = "espgw " ESPGW_VERSION};
	char def[108];

	*none = path != NULL && strcmp(path, "none") == 0;
	if (*none)
		return NULL;
	/* One socket per DPDK instance, as DPDK's own runtime directory per prefix. */
	if (path == NULL && strcmp(prefix, "rte") == 0)
		path = CTL_DIR "/espgw.sock";
	else if (path == NULL) {
		snprintf(def, sizeof(def), CTL_DIR "/espgw-%.80s.sock", prefix);
		path = def;
	}
	conf.path = path;
	o.arg = gw;
	return espgw_ctlsrv_create(&conf, &gw->store, &o, err);
}
