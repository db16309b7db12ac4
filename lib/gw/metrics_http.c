/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics endpoint's HTTP side: the least of HTTP/1.x that a Prometheus
 * scraper needs (GET /metrics, one request per connection, Connection:
 * close). Hand-written because DPDK has no HTTP server, and a library for it
 * would bring threads or an event loop of its own into the control lcore.
 *
 * The control loop must never wait on a client: every socket is
 * non-blocking, each poll reads and writes what is there, and every client
 * is bounded (ESPGW_METRICS_CLIENTS_MAX at once, ESPGW_METRICS_REQ_MAX bytes
 * of request, ESPGW_METRICS_DEADLINE_MS from accept to the last byte sent);
 * a limit ends that client only, counted.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "espgw_clock.h"
#include "metrics.h"

#define ACCEPT_SLICE   64 /* the whole backlog at once: a full one drops SYNs (1 s retry) */
#define LISTEN_BACKLOG 128

struct mx_client {
	int fd;
	bool answered; /* out holds the whole reply: only writing is left */
	uint64_t deadline_ns;
	size_t in_len;
	char in[ESPGW_METRICS_REQ_MAX];
	char *out;
	size_t out_len, out_off;
};

struct espgw_metrics {
	int fd;
	espgw_metrics_render_t render;
	void *arg;
	struct espgw_metrics_stats st;
	unsigned int n_clients;
	struct mx_client *client[ESPGW_METRICS_CLIENTS_MAX];
};

/* getaddrinfo takes 99999 and binds 34463: the range is checked here. */
static bool
port_ok(const char *p)
{
	char *end;
	unsigned long port = strtoul(p, &end, 10);

	return *p >= '0' && *p <= '9' && *end == '\0' && port != 0 && port <= 65535;
}

/* "A.B.C.D:PORT" or "[IPv6]:PORT", numeric only: no resolver call can block startup. */
static int
addr_parse(const char *arg, struct addrinfo **ai, struct espgw_err *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
			.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	const char *colon = strrchr(arg, ':'), *h = arg;
	char host[64];
	size_t hl;

	if (colon == NULL || (size_t)(colon - arg) >= sizeof(host) || !port_ok(colon + 1))
		goto bad;
	hl = (size_t)(colon - arg);
	if (hl >= 2 && arg[0] == '[' && arg[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, ai) == 0)
		return 0;
bad:
	snprintf(err->msg, sizeof(err->msg),
			"--metrics %.64s: expected ADDR:PORT (numeric, [IPv6]:PORT)", arg);
	return -1;
}

static int
listen_on(const char *addr, struct espgw_err *err)
{
	struct addrinfo *ai;
	int fd, one = 1;

	if (addr_parse(addr, &ai, err) < 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
			listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err->msg, sizeof(err->msg), "--metrics %.64s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

struct espgw_metrics *
espgw_metrics_open(
		const char *addr, espgw_metrics_render_t render, void *arg, struct espgw_err *err)
{
	struct espgw_metrics *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory for --metrics");
		return NULL;
	}
	m->fd = listen_on(addr, err);
	if (m->fd < 0) {
		free(m);
		return NULL;
	}
	m->render = render;
	m->arg = arg;
	return m;
}

/*
 * What the peer sent beyond its request (a pipelined second one) is read
 * and thrown away first: closing with unread bytes sends a reset, which may
 * destroy the reply before the peer has read it. Bounded: one read.
 */
static void
client_close(int fd)
{
	char sink[4096];

	shutdown(fd, SHUT_WR);
	if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) < 0) {
		/* Nothing there, or the peer is gone: close either way. */
	}
	close(fd);
}

static void
client_free(struct espgw_metrics *m, unsigned int i)
{
	struct mx_client *c = m->client[i];

	client_close(c->fd);
	free(c->out);
	free(c);
	m->client[i] = m->client[--m->n_clients];
}

void
espgw_metrics_free(struct espgw_metrics *m)
{
	if (m == NULL)
		return;
	while (m->n_clients != 0)
		client_free(m, 0);
	close(m->fd);
	free(m);
}

/* Over the bound: one short reply, sent once without waiting, then closed. */
static void
refuse_full(struct espgw_metrics *m, int fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Length: 0\r\nConnection: close\r\n\r\n";

	m->st.refused_full++;
	if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* Nothing to do: the connection is closed anyway. */
	}
	close(fd);
}

static void
client_add(struct espgw_metrics *m, int fd)
{
	struct mx_client *c;

	if (m->n_clients == ESPGW_METRICS_CLIENTS_MAX) {
		refuse_full(m, fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->deadline_ns = espgw_now_ns() + ESPGW_METRICS_DEADLINE_MS * 1000000ull;
	m->client[m->n_clients++] = c;
	m->st.accepted++;
}

static unsigned int
accept_some(struct espgw_metrics *m)
{
	unsigned int i;
	int fd;

	for (i = 0; i < ACCEPT_SLICE; i++) {
		fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		client_add(m, fd);
	}
	return i;
}

/* The reply, headers and body, in one buffer written as the peer takes it. */
static void
reply_set(struct mx_client *c, const char *status, const char *extra, const char *body,
		size_t body_len, bool head)
{
	FILE *f = open_memstream(&c->out, &c->out_len);

	c->answered = true;
	if (f == NULL)
		return;
	fprintf(f,
			"HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s"
			"\r\n",
			status, body_len, extra);
	if (!head)
		fwrite(body, 1, body_len, f);
	fclose(f);
}

static void
reply_error(struct mx_client *c, const char *status, const char *extra)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	reply_set(c, status, extra, body, (size_t)n, false);
}

static void
reply_metrics(struct espgw_metrics *m, struct mx_client *c, bool head)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	int rc = f == NULL ? -1 : m->render(m->arg, f);

	if (f != NULL && fclose(f) != 0)
		rc = -1;
	if (rc < 0 || len > ESPGW_METRICS_BODY_MAX) {
		m->st.render_failed++;
		reply_error(c, "500 Internal Server Error", "");
	} else {
		m->st.scrapes++;
		reply_set(c, "200 OK", "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n",
				body, len, head);
	}
	free(body);
}

/* "/metrics", or "/metrics?query" (Prometheus may add params): nothing else. */
static bool
target_ok(const char *t, size_t len)
{
	static const char path[] = "/metrics";
	size_t pl = sizeof(path) - 1;

	return len >= pl && memcmp(t, path, pl) == 0 && (len == pl || t[pl] == '?');
}

/* The request line (RFC 9112 3): METHOD SP TARGET SP HTTP/1.x, or NULL (400). */
static const char *
request_target(const char *in, size_t *method_len, size_t *target_len)
{
	size_t line = strcspn(in, "\r\n");
	const char *sp1 = memchr(in, ' ', line), *sp2;

	if (sp1 == NULL || sp1 == in)
		return NULL;
	sp2 = memchr(sp1 + 1, ' ', line - (size_t)(sp1 + 1 - in));
	if (sp2 == NULL || sp2 == sp1 + 1 || (size_t)(in + line - (sp2 + 1)) != 8 ||
			memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return NULL;
	*method_len = (size_t)(sp1 - in);
	*target_len = (size_t)(sp2 - sp1 - 1);
	return sp1 + 1;
}

static void
request_answer(struct espgw_metrics *m, struct mx_client *c)
{
	size_t ml = 0, tl = 0;
	const char *t = request_target(c->in, &ml, &tl);
	bool head = ml == 4 && memcmp(c->in, "HEAD", 4) == 0;

	if (t == NULL) {
		m->st.bad_request++;
		reply_error(c, "400 Bad Request", "");
	} else if (!head && !(ml == 3 && memcmp(c->in, "GET", 3) == 0)) {
		m->st.bad_method++;
		reply_error(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n");
	} else if (!target_ok(t, tl)) {
		m->st.not_found++;
		reply_error(c, "404 Not Found", "");
	} else {
		reply_metrics(m, c, head);
	}
}

/* The end of the headers: an empty line (CRLF CRLF, or bare LF LF from a lax client). */
static bool
request_complete(const struct mx_client *c)
{
	return memmem(c->in, c->in_len, "\r\n\r\n", 4) != NULL ||
	       memmem(c->in, c->in_len, "\n\n", 2) != NULL;
}

/* Reads what is there; false when the peer is gone or broke the rules. */
static bool
client_read(struct espgw_metrics *m, struct mx_client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);

	if (n == 0)
		return false;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	if (memchr(c->in, '\0', c->in_len) != NULL) {
		m->st.bad_request++;
		reply_error(c, "400 Bad Request", "");
	} else if (request_complete(c)) {
		request_answer(m, c);
	} else if (c->in_len == sizeof(c->in) - 1) {
		m->st.too_long++;
		reply_error(c, "431 Request Header Fields Too Large", "");
	}
	return true;
}

/* Sends what the peer takes; false once all is sent (or the peer is gone). */
static bool
client_write(struct mx_client *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->out_off += (size_t)n;
	}
	return false;
}

/* One step for a client; false when it is done with (answered, gone or out of time). */
static bool
client_serve(struct espgw_metrics *m, struct mx_client *c, uint64_t now)
{
	if (now >= c->deadline_ns) {
		m->st.timed_out++;
		return false;
	}
	if (!c->answered && !client_read(m, c))
		return false;
	if (c->answered && c->out == NULL)
		return false; /* no memory for the reply: close */
	return !c->answered || client_write(c);
}

unsigned int
espgw_metrics_poll(struct espgw_metrics *m)
{
	uint64_t now = espgw_now_ns();
	unsigned int i = 0, work;

	if (m == NULL)
		return 0;
	work = accept_some(m);
	while (i < m->n_clients) {
		if (client_serve(m, m->client[i], now)) {
			i++;
			continue;
		}
		client_free(m, i);
		work++;
	}
	return work;
}

const struct espgw_metrics_stats *
espgw_metrics_stats(const struct espgw_metrics *m)
{
	return &m->st;
}

unsigned int
espgw_metrics_clients(const struct espgw_metrics *m)
{
	return m->n_clients;
}
