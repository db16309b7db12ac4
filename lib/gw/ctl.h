/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway's side of the control socket (lib/ctlsrv): which changes a
 * running gateway takes, how they reach the data path (publish.c), what
 * "show" answers, and the socket's place (--ctl-socket, --ctl-group).
 */
#ifndef ESPGW_GW_CTL_H
#define ESPGW_GW_CTL_H

#include "espgw_ctlsrv.h"
#include "gw.h"

/*
 * Serve the control socket for gw: path NULL = the default for the EAL
 * file prefix, "none" = no socket. NULL (err set) on failure; *none set
 * when no socket was asked for.
 */
struct espgw_ctlsrv *espgw_ctl_open(struct espgw_gw *gw, const char *path, const char *prefix,
		const char *group, bool *none, struct espgw_err *err);

/* ctl_show.c */
int espgw_ctl_show(void *arg, const char *kind, const char *name, struct espgw_json *j,
		struct espgw_err *err);

#endif
