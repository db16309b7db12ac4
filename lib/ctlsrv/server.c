/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connections: accepted without blocking, read in bounded slices, split
 * into lines, answered in order, written as far as the peer takes them.
 * Every limit (clients, line length, unread output) ends in a counted
 * refusal or disconnection of that client only; the others go on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctlsrv_int.h"
#include "espgw_clock.h"
#include "espgw_log.h"

#define READ_SLICE   (64 * 1024) /* per client and poll: one busy client cannot starve others */
#define ACCEPT_SLICE 16
#define NS_PER_MS    1000000u

struct espgw_ctlsrv *
espgw_ctlsrv_create(const struct espgw_ctlsrv_conf *conf, struct espgw_store *store,
		const struct espgw_ctlsrv_ops *ops, struct espgw_err *err)
{
	struct espgw_ctlsrv *srv = calloc(1, sizeof(*srv));

	if (srv == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory for the control socket");
		return NULL;
	}
	srv->store = store;
	srv->ops = *ops;
	srv->held = calloc(65536, sizeof(*srv->held));
	if (srv->held == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory for the control socket");
		free(srv);
		return NULL;
	}
	srv->version = conf->version;
	espgw_json_init(&srv->reply);
	if (ctl_socket_open(srv, conf, err) < 0) {
		free(srv->held);
		free(srv);
		return NULL;
	}
	return srv;
}

static void
client_free(struct espgw_ctlsrv *srv, unsigned int i)
{
	struct ctl_client *c = srv->client[i];

	close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	ctl_txn_clear(srv, c);
	explicit_bzero(c->in, sizeof(c->in)); /* a half-read "sa add" holds a key */
	espgw_json_fini(&c->out);
	free(c);
	srv->client[i] = srv->client[--srv->n_clients];
}

void
espgw_ctlsrv_free(struct espgw_ctlsrv *srv)
{
	if (srv == NULL)
		return;
	while (srv->n_clients != 0)
		client_free(srv, 0);
	ctl_socket_close(srv);
	espgw_json_fini(&srv->reply);
	free(srv->held);
	free(srv);
}

/* A refusal the peer can read, written once and without waiting. */
static void
refuse(int fd, const char *msg)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "{\"ok\":false,\"error\":\"%s\"}\n", msg);

	if (send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* Nothing to do: the connection is closed anyway. */
	}
	close(fd);
}

static void
client_add(struct espgw_ctlsrv *srv, int fd)
{
	struct ctl_client *c;

	if (!ctl_peer_allowed(srv, fd)) {
		srv->st.refused_cred++;
		refuse(fd, "permission denied: root or the control group only");
		return;
	}
	if (srv->n_clients == ESPGW_CTL_CLIENTS_MAX) {
		srv->st.refused_full++;
		refuse(fd, "too many clients (64)");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		refuse(fd, "out of memory");
		return;
	}
	c->fd = fd;
	c->passed_fd = -1;
	c->held_from = SIZE_MAX;
	espgw_json_init(&c->out);
	srv->client[srv->n_clients++] = c;
	srv->st.accepted++;
}

static void
accept_some(struct espgw_ctlsrv *srv)
{
	unsigned int i;
	int fd;

	for (i = 0; i < ACCEPT_SLICE; i++) {
		fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		client_add(srv, fd);
	}
}

/* Queue bytes for c; over the limit the client is cut off (it does not read). */
static void
client_queue(struct espgw_ctlsrv *srv, struct ctl_client *c, const char *s, size_t len)
{
	if (c->closing)
		return;
	if (c->out.len - c->out_off + len > ESPGW_CTL_OUT_MAX) {
		srv->st.slow_reader++;
		c->closing = true;
		c->out.len = c->out_off; /* what it did not read is lost with it */
		return;
	}
	espgw_json_raw(&c->out, s, len);
}

/* A request that fits: answered, the reply queued. */
static void
line_handle(struct espgw_ctlsrv *srv, struct ctl_client *c, char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	espgw_json_reset(&srv->reply);
	srv->changed = false;
	ctl_request(srv, c, line);
	explicit_bzero(line, len); /* "sa add ... key ..." */
	/* A change is answered once published; what follows waits behind it. */
	if (srv->changed && c->held_from == SIZE_MAX)
		c->held_from = c->out.len;
	client_queue(srv, c, srv->reply.buf, srv->reply.len);
	srv->st.requests++;
	srv->budget--;
}

static void
too_long(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	espgw_json_reset(&srv->reply);
	ctl_reply_error(srv, "request longer than 4096 bytes: closing the connection");
	client_queue(srv, c, srv->reply.buf, srv->reply.len);
	srv->st.too_long++;
	c->closing = true;
	explicit_bzero(c->in, sizeof(c->in));
	c->in_len = 0;
}

/*
 * Answer the complete lines in c->in while the poll's budget lasts; keep the
 * rest (and unanswered lines) for later.
 */
static void
lines_take(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	size_t start = 0, len;
	char *nl;

	while (!c->closing && srv->budget > 0 &&
			(nl = memchr(c->in + start, '\n', c->in_len - start)) != NULL) {
		*nl = '\0';
		len = (size_t)(nl - (c->in + start));
		line_handle(srv, c, c->in + start, len);
		start += len + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	explicit_bzero(c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (!c->closing && c->in_len == sizeof(c->in) && memchr(c->in, '\n', c->in_len) == NULL)
		too_long(srv, c);
}

/*
 * Open files passed with SCM_RIGHTS: the client opens what espgw writes for it
 * ("capture PORT|SA FILE"), with its own rights, so espgw (root) never opens a
 * path a client names. The last one passed is kept for the next "capture";
 * any other is closed at once, and so is every one when the control data was
 * cut (MSG_CTRUNC: the kernel dropped what did not fit).
 */
static void
fds_take(struct ctl_client *c, struct msghdr *mh)
{
	struct cmsghdr *cm;
	size_t i, n;
	int fd;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->passed_fd >= 0)
				close(c->passed_fd);
			c->passed_fd = fd;
		}
	}
	if ((mh->msg_flags & MSG_CTRUNC) && c->passed_fd >= 0) {
		close(c->passed_fd);
		c->passed_fd = -1;
	}
}

static ssize_t
client_recv(struct ctl_client *c)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = {c->in + c->in_len, sizeof(c->in) - c->in_len};
	struct msghdr mh = {.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n >= 0)
		fds_take(c, &mh);
	return n;
}

/* Returns false when the peer is gone (EOF or error). */
static bool
client_read(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	size_t total = 0;
	ssize_t n;

	lines_take(srv, c); /* what an earlier poll left unanswered */
	while (!c->closing && srv->budget > 0 && total < READ_SLICE && c->in_len < sizeof(c->in)) {
		n = client_recv(c);
		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->in_len += (size_t)n;
		total += (size_t)n;
		lines_take(srv, c);
	}
	/* Stopped by a limit, not by an empty socket: more is coming. */
	if (!c->closing)
		srv->more = true;
	return true;
}

/* Returns false when the peer is gone. */
static bool
client_write(struct ctl_client *c)
{
	size_t end = c->held_from < c->out.len ? c->held_from : c->out.len;
	ssize_t n;

	while (c->out_off < end) {
		n = send(c->fd, c->out.buf + c->out_off, end - c->out_off,
				MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		c->out_off = 0;
		espgw_json_reset(&c->out);
	}
	return true;
}

static bool
client_serve(struct espgw_ctlsrv *srv, struct ctl_client *c)
{
	bool alive = client_read(srv, c);

	if (!client_write(c))
		return false;
	if (c->closing && c->out.len == 0)
		return false;
	return alive;
}

/*
 * Group commit: a publication rebuilds the SPDs (80 ms at 10,000 child-SA
 * pairs, 1 s at 100,000 here), whatever the number of changes in it. While
 * clients are still sending (an IKE responder under load, a pipelined
 * espgwctl -f), waiting twice as long as the last publication took lets one
 * publication carry the changes that arrive meanwhile: two thirds of the
 * control lcore's time go to applying changes, and a change waits at most
 * three publications (measured: 4,600 -> 7,400 pairs/s at 10,000 installed
 * against a wait of one publication). A lone change is published at once.
 */
static bool
publish_defer(struct espgw_ctlsrv *srv, uint64_t now)
{
	uint64_t wait = 2 * srv->publish_ns;

	if (wait > ESPGW_CTL_BATCH_NS)
		wait = ESPGW_CTL_BATCH_NS;
	if (srv->dirty_ns == 0)
		srv->dirty_ns = now;
	return srv->more && now - srv->dirty_ns < wait;
}

/*
 * The poll's changes reach the workers in one publication; then the replies
 * held behind them go out. A failed publication is tried again next poll.
 */
/*
 * A publication that failed (out of memory for the next SPDs) is tried again
 * after 1, 2, 4 ... ms, at most a second apart, and logged at the 1st, 2nd,
 * 4th ... failure: the control lcore keeps serving ARP and the socket
 * meanwhile, and the log is not flooded.
 */
static void
publish_failed(struct espgw_ctlsrv *srv, uint64_t t0, const struct espgw_err *err)
{
	unsigned int k = srv->fail_streak < 10 ? srv->fail_streak : 10;

	srv->st.publish_failed++;
	srv->fail_streak++;
	srv->retry_ns = t0 + ((uint64_t)NS_PER_MS << k);
	if ((srv->fail_streak & (srv->fail_streak - 1)) == 0)
		CTL_LOG(ERR, "publication failed (%u in a row, tried again): %s", srv->fail_streak,
				err->msg);
}

static void
publish(struct espgw_ctlsrv *srv)
{
	struct espgw_err err = {{0}};
	uint64_t t0 = espgw_now_ns();
	unsigned int i;

	if (!srv->dirty || t0 < srv->retry_ns || publish_defer(srv, t0))
		return;
	srv->ops.lock(srv->ops.arg);
	if (srv->ops.publish(srv->ops.arg, &err) < 0) {
		srv->ops.unlock(srv->ops.arg);
		publish_failed(srv, t0, &err);
		return;
	}
	srv->ops.unlock(srv->ops.arg);
	srv->fail_streak = 0;
	srv->retry_ns = 0;
	srv->dirty = false;
	srv->dirty_ns = 0;
	srv->publish_ns = espgw_now_ns() - t0;
	srv->st.publications++;
	for (i = 0; i < srv->n_clients; i++)
		srv->client[i]->held_from = SIZE_MAX;
}

static void
serve_all(struct espgw_ctlsrv *srv, bool read)
{
	unsigned int i, k, n = srv->n_clients;
	struct ctl_client *c;

	/* From a different client each poll: one busy client cannot take the budget. */
	for (k = 0; k < n && srv->n_clients != 0; k++) {
		i = (srv->next + k) % srv->n_clients;
		c = srv->client[i];
		if ((read ? client_serve(srv, c) : client_write(c)) || !read)
			continue;
		client_free(srv, i); /* the last one moves to i */
	}
	if (srv->n_clients != 0)
		srv->next = (srv->next + 1) % srv->n_clients;
}

unsigned int
espgw_ctlsrv_poll(struct espgw_ctlsrv *srv)
{
	unsigned int clients = srv->n_clients;

	srv->budget = ESPGW_CTL_POLL_REQ;
	srv->more = false;
	accept_some(srv);
	serve_all(srv, true);
	publish(srv);
	serve_all(srv, false); /* the replies the publication released */
	return ESPGW_CTL_POLL_REQ - srv->budget + (srv->n_clients != clients) +
	       (srv->dirty && srv->more); /* a deferred publication, not a failed one */
}

/*
 * Sleep until a client sends or connects, or ms pass: a client that waits
 * for each reply (espgwctl, an IKE daemon) is answered at once instead of at
 * the next tick of the caller's idle sleep.
 */
void
espgw_ctlsrv_wait(struct espgw_ctlsrv *srv, int ms)
{
	struct pollfd pfd[ESPGW_CTL_CLIENTS_MAX + 1];
	unsigned int i, n = 0;

	pfd[n++] = (struct pollfd){.fd = srv->fd, .events = POLLIN};
	for (i = 0; i < srv->n_clients; i++)
		pfd[n++] = (struct pollfd){.fd = srv->client[i]->fd,
				.events = (short)(POLLIN |
						  (srv->client[i]->out.len != 0 ? POLLOUT : 0))};
	(void)poll(pfd, n, ms);
}

void
espgw_ctlsrv_event(struct espgw_ctlsrv *srv, const char *json)
{
	size_t len = strlen(json);
	unsigned int i;

	for (i = 0; i < srv->n_clients; i++) {
		if (!srv->client[i]->monitor)
			continue;
		client_queue(srv, srv->client[i], json, len);
		client_queue(srv, srv->client[i], "\n", 1);
	}
}

const struct espgw_ctlsrv_stats *
espgw_ctlsrv_stats(const struct espgw_ctlsrv *srv)
{
	return &srv->st;
}

unsigned int
espgw_ctlsrv_clients(const struct espgw_ctlsrv *srv)
{
	return srv->n_clients;
}
