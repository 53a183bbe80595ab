// SPDX-License-Identifier: Apache-2.0
/*
 * One connection's life: READ (collect the request head) -> WRITE (send the
 * response, waiting for LOOP_WRITE when the socket is full) -> LINGER (our
 * side shut down, discard input until the client closes) -> closed. A single
 * loop timer per connection enforces its deadline in every state.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "http/server_req.h"

#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_MAX_CONNS  64
#define DEFAULT_MAX_BODY   (1u << 20)
#define MAX_HEAD	   8192
#define MAX_RESP_HEAD	   1024
#define LINGER_MS	   500
#define LINGER_MAX_DISCARD (64u << 10)
#define ACCEPT_BATCH	   32
#define ACCEPT_RETRY_MS	   100
#define LISTEN_BACKLOG	   128
#define DEFAULT_CT	   "text/plain; charset=utf-8"

enum conn_state {
	CONN_READ,
	CONN_WRITE,
	CONN_LINGER,
};

struct conn {
	struct conn *prev, *next; /* accept order: the oldest is evicted first */
	struct http_server *srv;
	int fd;
	enum conn_state state;
	int64_t timer;
	size_t len;  /* bytes in head */
	struct http_head_scan hs;
	size_t off;  /* response bytes written */
	size_t discarded;
	bool is_head;	/* a HEAD request: no body goes out */
	bool send_body;
	struct buf out;	 /* response head */
	struct buf body; /* response body */
	char head[MAX_HEAD + 1];
};

struct route {
	struct route *next;
	char *path;
	http_server_handler *handler;
	void *arg;
};

struct http_server {
	struct loop *loop;
	int fd;
	uint16_t port;
	int timeout_ms;
	unsigned max_conns;
	size_t max_body;
	struct route *routes;
	struct conn *first, *last;
	int64_t accept_timer; /* > 0 while accepting is paused */
	struct http_server_stats stats;
};

static void conn_close(struct conn *c)
{
	struct http_server *srv = c->srv;

	loop_del_fd(srv->loop, c->fd);
	close(c->fd);
	loop_del_timer(srv->loop, c->timer);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->first = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		srv->last = c->prev;
	buf_free(&c->out);
	buf_free(&c->body);
	free(c);
	srv->stats.active--;
}

static int64_t conn_deadline(struct loop *loop, int64_t id, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	(void)id;
	/* A lingering connection was served: its end is not a timeout. */
	if (c->state != CONN_LINGER)
		c->srv->stats.timeouts++;
	conn_close(c);
	return LOOP_TIMER_STOP;
}

static const struct {
	int status;
	const char *text;
} reasons[] = {
	{ 200, "OK" },
	{ 201, "Created" },
	{ 202, "Accepted" },
	{ 204, "No Content" },
	{ 301, "Moved Permanently" },
	{ 302, "Found" },
	{ 304, "Not Modified" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 503, "Service Unavailable" },
	{ 505, "HTTP Version Not Supported" },
};

/* Any status the handler picks goes out; unknown ones with an empty reason. */
static const char *reason(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "";
}

/* RFC 9110 IMF-fixdate, built by hand: strftime's names follow the locale. */
static void http_date(char *s, size_t n)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm)) {
		snprintf(s, n, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	snprintf(s, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Response head into c->out. extra: one more "Name: value" header or NULL. */
static int build_head(struct conn *c, int status, const char *ctype, const char *extra)
{
	char line[128], date[64];
	/* These carry no body and no Content-Length (RFC 9110 §8.6). */
	bool bodyless = status == 204 || status == 304;
	int r;

	if (strpbrk(ctype, "\r\n"))
		return -EINVAL;
	buf_reset(&c->out);
	http_date(date, sizeof(date));
	snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, reason(status),
		 date);
	r = buf_puts(&c->out, line);
	if (r == 0 && !bodyless) {
		r = buf_puts(&c->out, "Content-Type: ");
		if (r == 0)
			r = buf_puts(&c->out, ctype);
		snprintf(line, sizeof(line), "\r\nContent-Length: %zu\r\n", c->body.len);
		if (r == 0)
			r = buf_puts(&c->out, line);
	}
	if (r == 0 && extra) {
		r = buf_puts(&c->out, extra);
		if (r == 0)
			r = buf_puts(&c->out, "\r\n");
	}
	if (r == 0)
		r = buf_puts(&c->out, "Connection: close\r\n\r\n");
	if (bodyless)
		c->send_body = false;
	return r;
}

static void conn_write(struct conn *c);

/* Responds with a fixed text body. */
static void respond_text(struct conn *c, int status, const char *text, const char *extra)
{
	buf_reset(&c->body);
	c->send_body = !c->is_head;
	if (buf_append(&c->body, text, strlen(text)) < 0 ||
	    build_head(c, status, DEFAULT_CT, extra) < 0) {
		/* Cannot happen with our own short texts; drop rather than send junk. */
		c->srv->stats.errors++;
		conn_close(c);
		return;
	}
	if (status == 400 || status == 431 || status == 505)
		c->srv->stats.bad++;
	c->state = CONN_WRITE;
	conn_write(c);
}

static void conn_linger(struct conn *c)
{
	struct http_server *srv = c->srv;
	int ms = srv->timeout_ms < LINGER_MS ? srv->timeout_ms : LINGER_MS;

	buf_free(&c->out);
	buf_free(&c->body);
	c->state = CONN_LINGER;
	shutdown(c->fd, SHUT_WR);
	loop_del_timer(srv->loop, c->timer);
	c->timer = loop_add_timer(srv->loop, ms, conn_deadline, c);
	if (c->timer < 0) {
		c->timer = 0;
		conn_close(c);
		return;
	}
	if (loop_mod_fd(srv->loop, c->fd, LOOP_READ) < 0)
		conn_close(c);
}

static void conn_write(struct conn *c)
{
	size_t blen = c->send_body ? c->body.len : 0;
	size_t total = c->out.len + blen;
	struct iovec iov[2];
	struct msghdr msg;
	ssize_t n;

	while (c->off < total) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		if (c->off < c->out.len) {
			iov[0].iov_base = c->out.data + c->off;
			iov[0].iov_len = c->out.len - c->off;
			iov[1].iov_base = c->body.data;
			iov[1].iov_len = blen;
			msg.msg_iovlen = blen ? 2 : 1;
		} else {
			iov[0].iov_base = c->body.data + (c->off - c->out.len);
			iov[0].iov_len = total - c->off;
			msg.msg_iovlen = 1;
		}
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (loop_mod_fd(c->srv->loop, c->fd, LOOP_WRITE) < 0) {
				c->srv->stats.errors++;
				conn_close(c);
			}
			return;
		}
		if (n < 0) {
			c->srv->stats.errors++;
			conn_close(c);
			return;
		}
		c->off += (size_t)n;
	}
	c->srv->stats.responses++;
	conn_linger(c);
}

static const struct route *route_find(const struct http_server *srv, const char *path)
{
	const struct route *rt;

	for (rt = srv->routes; rt; rt = rt->next)
		if (!strcmp(rt->path, path))
			return rt;
	return NULL;
}

static void dispatch(struct conn *c, const char *method, const char *path, const char *query)
{
	struct http_server *srv = c->srv;
	struct http_server_resp resp = { .status = 200 };
	struct http_server_req req = {
		.method = method,
		.path = path,
		.query = query,
		.head = !strcmp(method, "HEAD"),
	};
	const struct route *rt = route_find(srv, path);
	int r;

	c->is_head = req.head;
	if (!rt) {
		respond_text(c, 404, "404 page not found\n", NULL);
		return;
	}
	if (strcmp(method, "GET") && !req.head) {
		respond_text(c, 405, "Method Not Allowed\n", "Allow: GET, HEAD");
		return;
	}
	buf_init(&resp.body, srv->max_body);
	r = rt->handler(rt->arg, &req, &resp);
	if (r == 0 && (resp.status < 200 || resp.status > 599))
		r = -EINVAL;
	if (r == 0) {
		/* The handler's buffer becomes ours: no copy. */
		c->body = resp.body;
		c->send_body = !c->is_head;
		r = build_head(c, resp.status, resp.content_type ? resp.content_type : DEFAULT_CT,
			       NULL);
	} else {
		buf_free(&resp.body);
	}
	if (r < 0) {
		respond_text(c, 500, "Internal Server Error\n", NULL);
		return;
	}
	c->state = CONN_WRITE;
	conn_write(c);
}

/* head[start, end) is a complete request head. */
static void handle_request(struct conn *c, size_t start, size_t end)
{
	struct http_head h;
	const char *why;
	int status;

	status = http_head_parse(c->head, start, end, &h, &why);
	if (status) {
		respond_text(c, status, why, NULL);
		return;
	}
	dispatch(c, h.method, h.path, h.query);
}

static void conn_read(struct conn *c)
{
	size_t end;
	ssize_t n;

	for (;;) {
		if (c->len == MAX_HEAD) {
			respond_text(c, 431, "Request Header Fields Too Large\n", NULL);
			return;
		}
		n = recv(c->fd, c->head + c->len, MAX_HEAD - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* The client went away (or reset) before finishing its request. */
			if (n < 0)
				c->srv->stats.errors++;
			conn_close(c);
			return;
		}
		c->len += (size_t)n;
		end = http_head_end(c->head, c->len, &c->hs);
		if (end) {
			handle_request(c, c->hs.start, end);
			return;
		}
	}
}

static void conn_discard(struct conn *c)
{
	char sink[4096];
	ssize_t n;

	for (;;) {
		n = recv(c->fd, sink, sizeof(sink), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		c->discarded += n > 0 ? (size_t)n : 0;
		if (n <= 0 || c->discarded > LINGER_MAX_DISCARD) {
			conn_close(c);
			return;
		}
	}
}

static void conn_io(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	(void)fd;
	switch (c->state) {
	case CONN_READ:
		if (events & LOOP_READ)
			conn_read(c);
		break;
	case CONN_WRITE:
		if (events & LOOP_WRITE)
			conn_write(c);
		break;
	case CONN_LINGER:
		if (events & LOOP_READ)
			conn_discard(c);
		break;
	}
}

/* The oldest connection not in the middle of sending a response, or NULL. */
static struct conn *evict_candidate(struct http_server *srv)
{
	struct conn *c;

	for (c = srv->first; c; c = c->next)
		if (c->state != CONN_WRITE)
			return c;
	return NULL;
}

static void conn_start(struct http_server *srv, int fd)
{
	struct conn *c, *old;

	if (srv->stats.active >= srv->max_conns) {
		srv->stats.evicted++;
		old = evict_candidate(srv);
		if (!old) {
			close(fd);
			return;
		}
		conn_close(old);
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->fd = fd;
	c->state = CONN_READ;
	buf_init(&c->out, MAX_RESP_HEAD);
	buf_init(&c->body, srv->max_body);
	if (loop_add_fd(srv->loop, fd, LOOP_READ, conn_io, c) < 0) {
		srv->stats.errors++;
		close(fd);
		free(c);
		return;
	}
	c->timer = loop_add_timer(srv->loop, srv->timeout_ms, conn_deadline, c);
	if (c->timer < 0) {
		srv->stats.errors++;
		loop_del_fd(srv->loop, fd);
		close(fd);
		free(c);
		return;
	}
	c->prev = srv->last;
	if (srv->last)
		srv->last->next = c;
	else
		srv->first = c;
	srv->last = c;
	srv->stats.accepted++;
	srv->stats.active++;
}

static int64_t accept_resume(struct loop *loop, int64_t id, void *arg)
{
	struct http_server *srv = arg;

	(void)id;
	srv->accept_timer = 0;
	loop_mod_fd(loop, srv->fd, LOOP_READ);
	return LOOP_TIMER_STOP;
}

static void accept_ready(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct http_server *srv = arg;
	int cfd;

	(void)events;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			conn_start(srv, cfd);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		srv->stats.errors++;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/*
			 * The pending connection stays queued and the listener stays
			 * readable: pause instead of spinning until fds free up.
			 */
			srv->accept_timer = loop_add_timer(loop, ACCEPT_RETRY_MS, accept_resume,
							   srv);
			if (srv->accept_timer > 0)
				loop_mod_fd(loop, fd, 0);
			else
				srv->accept_timer = 0;
			return;
		}
		/* ECONNABORTED, EINTR and network errors of one pending connection. */
	}
}

/* ip with optional brackets -> sockaddr; 0 or -EINVAL. */
static int parse_addr(const char *ip, uint16_t port, struct sockaddr_storage *ss,
		      socklen_t *ret_len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char tmp[INET6_ADDRSTRLEN];
	size_t n;

	if (!ip || !*ip)
		ip = "0.0.0.0";
	n = strlen(ip);
	if (ip[0] == '[') {
		if (n < 3 || ip[n - 1] != ']' || n - 2 >= sizeof(tmp))
			return -EINVAL;
		memcpy(tmp, ip + 1, n - 2);
		tmp[n - 2] = '\0';
		ip = tmp;
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1 && ip != tmp) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*ret_len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*ret_len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

int http_server_new(struct loop *loop, const char *ip, uint16_t port,
		    const struct http_server_opts *opts, struct http_server **ret_srv)
{
	struct http_server *srv = NULL;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = -1, one = 1, r;

	r = parse_addr(ip, port, &ss, &len);
	if (r < 0)
		goto out;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	/* A restart must not wait for the old connections' TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = -errno;
		goto out;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		r = -errno;
		goto out;
	}
	srv = xcalloc(1, sizeof(*srv));
	srv->loop = loop;
	srv->fd = fd;
	srv->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	srv->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	srv->max_conns = opts && opts->max_conns ? opts->max_conns : DEFAULT_MAX_CONNS;
	srv->max_body = opts && opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
	r = loop_add_fd(loop, fd, LOOP_READ, accept_ready, srv);
	if (r < 0)
		goto out;
	*ret_srv = srv;
	srv = NULL;
	fd = -1;
out:
	free(srv);
	if (fd >= 0)
		close(fd);
	return r;
}

void http_server_free(struct http_server *srv)
{
	struct route *rt, *next;

	if (!srv)
		return;
	while (srv->first)
		conn_close(srv->first);
	if (srv->accept_timer > 0)
		loop_del_timer(srv->loop, srv->accept_timer);
	loop_del_fd(srv->loop, srv->fd);
	close(srv->fd);
	for (rt = srv->routes; rt; rt = next) {
		next = rt->next;
		free(rt->path);
		free(rt);
	}
	free(srv);
}

int http_server_route(struct http_server *srv, const char *path, http_server_handler *handler,
		      void *arg)
{
	struct route *rt, **pp;

	if (!path || path[0] != '/' || strchr(path, '?') || !handler)
		return -EINVAL;
	if (route_find(srv, path))
		return -EEXIST;
	rt = xcalloc(1, sizeof(*rt));
	rt->path = xstrdup(path);
	rt->handler = handler;
	rt->arg = arg;
	/* Appended: lookups are linear and the list is a handful long. */
	for (pp = &srv->routes; *pp; pp = &(*pp)->next)
		;
	*pp = rt;
	return 0;
}

uint16_t http_server_port(const struct http_server *srv)
{
	return srv->port;
}

void http_server_stats(const struct http_server *srv, struct http_server_stats *ret_stats)
{
	*ret_stats = srv->stats;
}
