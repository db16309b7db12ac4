/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection to espgw's control socket: connect, send one request line,
 * read reply lines. Replies may be pipelined, so bytes after a line stay in
 * the buffer for the next read.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "espgwctl.h"

static int
conn_fail(struct ctl_conn *c, int err)
{
	fprintf(stderr, "espgwctl: cannot connect to %s: %s\n", c->path, strerror(err));
	ctl_close(c);
	return CTL_EXIT_CONN;
}

int
ctl_connect(struct ctl_conn *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	c->path = path;
	c->fd = -1;
	c->pass_fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return conn_fail(c, ENAMETOOLONG);
	memcpy(sa.sun_path, path, strlen(path));
	c->cap = 4096;
	c->buf = ctl_realloc(NULL, c->cap);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return conn_fail(c, errno);
	return 0;
}

void
ctl_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* The connection broke while espgw still owed us a reply. */
static int
lost(struct ctl_conn *c, int err)
{
	c->err = err;
	if (c->quiet)
		return CTL_EXIT_CONN;
	if (err == EPIPE || err == ECONNRESET)
		fprintf(stderr, "espgwctl: %s closed the connection without replying\n", c->path);
	else
		fprintf(stderr, "espgwctl: %s: %s\n", c->path, strerror(err));
	return CTL_EXIT_CONN;
}

/*
 * One send of req[off..len): the first one carries c->pass_fd when set
 * (SCM_RIGHTS), so the file arrives with the request's first bytes.
 */
static ssize_t
send_some(struct ctl_conn *c, const char *req, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {(void *)(uintptr_t)req, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	ssize_t n;

	if (c->pass_fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &c->pass_fd, sizeof(int));
	}
	/* MSG_NOSIGNAL: a closed socket is an error to report, not SIGPIPE. */
	n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	if (n > 0)
		c->pass_fd = -1; /* passed; the caller still closes its own copy */
	return n;
}

int
ctl_send(struct ctl_conn *c, const char *line)
{
	char req[CTL_REQUEST_MAX + 1];
	size_t len = strlen(line), off = 0;
	ssize_t n;
	int rc = 0;

	if (len > CTL_REQUEST_MAX)
		return CTL_EXIT_REFUSED; /* callers check first; never cut a request */
	/* One buffer, so that espgw never sees a line without its end for long. */
	memcpy(req, line, len);
	req[len++] = '\n';
	while (off < len && rc == 0) {
		n = send_some(c, req + off, len - off);
		if (n >= 0)
			off += (size_t)n;
		else if (errno != EINTR)
			rc = lost(c, errno);
	}
	explicit_bzero(req, len); /* requests carry keys */
	return rc;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* One wait of left_ms (-1: forever); wait_mask applies only during it. */
static int
poll_once(struct ctl_conn *c, long left_ms)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	struct timespec ts = {.tv_sec = left_ms / 1000, .tv_nsec = left_ms % 1000 * 1000000};

	return ppoll(&pfd, 1, left_ms < 0 ? NULL : &ts, c->wait_mask);
}

/* CTL_RECV_LINE: readable now. Signals only interrupt an endless wait. */
static enum ctl_recv_rc
wait_readable(struct ctl_conn *c, int timeout_ms, const struct timespec *t0)
{
	long left;
	int n;

	do {
		left = timeout_ms < 0 ? -1 : timeout_ms - ms_since(t0);
		if (timeout_ms >= 0 && left < 0)
			left = 0; /* time is up: one last look without waiting */
		n = poll_once(c, left);
	} while (n < 0 && errno == EINTR && timeout_ms >= 0);
	if (n > 0)
		return CTL_RECV_LINE;
	if (n < 0 && errno == EINTR)
		return CTL_RECV_INTR;
	if (c->quiet)
		return CTL_RECV_ERR;
	if (n < 0)
		fprintf(stderr, "espgwctl: %s: %s\n", c->path, strerror(errno));
	else
		fprintf(stderr, "espgwctl: no reply from %s within %d s\n", c->path,
				timeout_ms / 1000);
	return CTL_RECV_ERR;
}

/* Read what has arrived. CTL_RECV_LINE: go on looking for the newline. */
static enum ctl_recv_rc
fill(struct ctl_conn *c, int timeout_ms, const struct timespec *t0)
{
	enum ctl_recv_rc rc = wait_readable(c, timeout_ms, t0);
	ssize_t n;

	if (rc != CTL_RECV_LINE)
		return rc;
	if (c->len == c->cap) {
		if (c->cap >= CTL_REPLY_MAX) {
			if (!c->quiet)
				ctl_malformed();
			return CTL_RECV_ERR;
		}
		c->cap *= 2;
		c->buf = ctl_realloc(c->buf, c->cap);
	}
	n = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (n > 0) {
		c->len += (size_t)n;
		return CTL_RECV_LINE;
	}
	if (n == 0)
		return CTL_RECV_EOF;
	if (errno == EINTR)
		return timeout_ms < 0 ? CTL_RECV_INTR : CTL_RECV_LINE;
	lost(c, errno);
	return CTL_RECV_ERR;
}

enum ctl_recv_rc
ctl_recv(struct ctl_conn *c, int timeout_ms, char **line, size_t *len)
{
	struct timespec t0;
	size_t scanned = 0;
	enum ctl_recv_rc rc;
	char *nl;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Drop the line returned last; what followed it is the next reply. */
	c->len -= c->done;
	memmove(c->buf, c->buf + c->done, c->len);
	c->done = 0;
	while ((nl = memchr(c->buf + scanned, '\n', c->len - scanned)) == NULL) {
		scanned = c->len;
		rc = fill(c, timeout_ms, &t0);
		if (rc != CTL_RECV_LINE)
			return rc;
	}
	*nl = '\0';
	*len = (size_t)(nl - c->buf);
	c->done = *len + 1;
	*line = c->buf;
	return CTL_RECV_LINE;
}

int
ctl_malformed(void)
{
	fputs("espgwctl: malformed reply from espgw\n", stderr);
	return CTL_EXIT_CONN;
}

int
ctl_reply_parse(char *line, size_t len, struct ctl_reply *r)
{
	const struct json *ok, *err;

	memset(r, 0, sizeof(*r));
	r->line = line;
	if (json_parse(line, len, &r->json) < 0)
		return ctl_malformed();
	ok = json_get(&r->json, "ok");
	err = json_get(&r->json, "error");
	r->ok = ok != NULL && ok->type == JSON_TRUE;
	/* Every reply says ok true or false; a refusal always says why. */
	if (ok == NULL || (ok->type != JSON_TRUE && ok->type != JSON_FALSE) ||
			(!r->ok && (err == NULL || err->type != JSON_STRING))) {
		json_free(&r->json);
		return ctl_malformed();
	}
	r->error = r->ok ? NULL : err->text;
	return 0;
}

int
ctl_reply(struct ctl_conn *c, struct ctl_reply *r)
{
	char *line;
	size_t len;

	switch (ctl_recv(c, CTL_TIMEOUT_MS, &line, &len)) {
	case CTL_RECV_LINE:
		return ctl_reply_parse(line, len, r);
	case CTL_RECV_EOF:
		fprintf(stderr, "espgwctl: %s closed the connection without replying\n", c->path);
		return CTL_EXIT_CONN;
	default:
		return CTL_EXIT_CONN;
	}
}

/*
 * espgw refuses a client it will not serve (credentials, too many clients)
 * with one reply line and closes, possibly before our request arrived: the
 * send fails, and the reason is waiting to be read.
 */
int
ctl_call(struct ctl_conn *c, const char *line, struct ctl_reply *r)
{
	bool quiet = c->quiet;
	size_t len;
	char *l;
	int rc;

	c->quiet = true;
	rc = ctl_send(c, line);
	c->quiet = quiet;
	if (rc == 0)
		return ctl_reply(c, r);
	if (rc == CTL_EXIT_CONN && ctl_recv(c, CTL_TIMEOUT_MS, &l, &len) == CTL_RECV_LINE)
		return ctl_reply_parse(l, len, r);
	return rc == CTL_EXIT_CONN ? lost(c, c->err) : rc;
}
