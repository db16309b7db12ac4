/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "espgw_tel_gate.h"

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static bool closed;

int
espgw_tel_gated(espgw_tel_cb_t body, const char *cmd, const char *params, struct rte_tel_data *d)
{
	int rc = -ENODEV;

	pthread_mutex_lock(&gate);
	if (!closed)
		rc = body(cmd, params, d);
	pthread_mutex_unlock(&gate);
	return rc;
}

void
espgw_tel_close(void)
{
	pthread_mutex_lock(&gate);
	closed = true;
	pthread_mutex_unlock(&gate);
}

void
espgw_tel_hold(void)
{
	pthread_mutex_lock(&gate);
}

void
espgw_tel_release(void)
{
	pthread_mutex_unlock(&gate);
}
