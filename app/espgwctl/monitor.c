/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * monitor: after espgw acknowledges "monitor", the connection carries one
 * JSON event per line, as long as espgw runs. Each is printed and flushed as
 * it arrives (the reader may be a script waiting for it); SIGINT ends the
 * watch normally.
 */
#include <signal.h>
#include <string.h>

#include "espgwctl.h"

/* Set by SIGINT/SIGTERM; the handler may touch nothing else. */
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * SIGINT and SIGTERM stay blocked except inside the wait for the next event
 * (ppoll with c->wait_mask): a signal that came between the check of stop
 * and the wait would otherwise be noticed only at the next event, if ever.
 * No SA_RESTART: the signal must end the wait.
 */
static void
catch_signals(struct ctl_conn *c, sigset_t *wait_mask)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, wait_mask);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	c->wait_mask = wait_mask;
}

static int
start(struct ctl_conn *c)
{
	struct ctl_reply r;
	int rc = ctl_call(c, "monitor", &r);

	if (rc != 0)
		return rc;
	if (!r.ok) {
		fprintf(stderr, "espgwctl: %s\n", r.error);
		rc = CTL_EXIT_REFUSED;
	}
	json_free(&r.json);
	return rc;
}

static int
print_event(char *line, size_t len, bool json)
{
	struct json ev;

	if (json_parse(line, len, &ev) < 0 || ev.type != JSON_OBJECT) {
		json_free(&ev);
		return ctl_malformed();
	}
	if (json)
		printf("%s\n", line);
	else
		ctl_print_event(stdout, &ev);
	json_free(&ev);
	fflush(stdout);
	return 0;
}

static int
watch(struct ctl_conn *c, bool json)
{
	size_t len;
	char *line;

	while (!stop) {
		switch (ctl_recv(c, -1, &line, &len)) {
		case CTL_RECV_LINE:
			if (print_event(line, len, json) != 0)
				return CTL_EXIT_CONN;
			break;
		case CTL_RECV_EOF:
			return CTL_EXIT_OK; /* espgw stopped: the watch is over */
		case CTL_RECV_INTR:
			break; /* stop says whether it was ours */
		default:
			return CTL_EXIT_CONN;
		}
	}
	return CTL_EXIT_OK;
}

int
ctl_monitor_run(const char *sock, bool json)
{
	sigset_t wait_mask;
	struct ctl_conn c;
	int rc;

	if ((rc = ctl_connect(&c, sock)) != 0)
		return rc;
	rc = start(&c);
	if (rc == 0) {
		/* Only now: until the acknowledgement, SIGINT ends the tool as usual. */
		catch_signals(&c, &wait_mask);
		rc = watch(&c, json);
	}
	ctl_close(&c);
	return rc;
}
