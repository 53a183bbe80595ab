// SPDX-License-Identifier: Apache-2.0
#include "wg/uapi_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "wg/uapi.h"

#define MAX_CONNS 16
#define CONN_TIMEOUT_MS 5000

struct conn {
	struct wg_uapi_server *s;
	int fd;
	struct buf in, out;
	size_t out_off;
	int64_t timer;
};

struct wg_uapi_server {
	struct loop *loop;
	const struct wg_uapi_ops *ops;
	void *arg;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn *conns[MAX_CONNS];
};

static void conn_close(struct conn *c)
{
	struct wg_uapi_server *s = c->s;

	for (int i = 0; i < MAX_CONNS; i++)
		if (s->conns[i] == c)
			s->conns[i] = NULL;
	loop_timer_clear(s->loop, &c->timer);
	loop_del_fd(s->loop, c->fd);
	close(c->fd);
	/* Replies hold the private key. */
	if (c->out.data)
		memset(c->out.data, 0, c->out.len);
	if (c->in.data)
		memset(c->in.data, 0, c->in.len);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

static int64_t conn_timeout(struct loop *loop, int64_t id, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	(void)id;
	c->timer = 0;
	conn_close(c);
	return LOOP_TIMER_STOP;
}

/* Write what is pending; false when the connection was closed. */
static bool conn_flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = write(c->fd, c->out.data + c->out_off, c->out.len - c->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			loop_mod_fd(c->s->loop, c->fd, LOOP_WRITE);
			return true;
		}
		if (n <= 0) {
			conn_close(c);
			return false;
		}
		c->out_off += (size_t)n;
	}
	memset(c->out.data, 0, c->out.len);
	buf_reset(&c->out);
	c->out_off = 0;
	loop_mod_fd(c->s->loop, c->fd, LOOP_READ);
	return true;
}

static void handle(struct conn *c, size_t len)
{
	struct wg_uapi_server *s = c->s;
	struct wg_device_config cfg = {0};
	enum wg_uapi_op op = 0;
	struct err err = {0};
	int rc;

	rc = wg_uapi_parse(c->in.data, len, &op, &cfg, &err);
	if (rc < 0) {
		log_warnx("wireguard: %s: refused a request: %s", s->path, err.msg);
	} else if (op == WG_UAPI_GET) {
		struct wg_device_config st = {0};

		s->ops->get(s->arg, &st);
		wg_uapi_format_get(&st, &c->out);
		wg_device_config_clear(&st);
		goto out;
	} else {
		rc = s->ops->set(s->arg, &cfg, &err);
		if (rc < 0)
			log_warnx("wireguard: %s: a set failed: %s", s->path, err.msg);
	}
	wg_uapi_format_errno(rc, &c->out);
out:
	wg_device_config_clear(&cfg);
}

static void conn_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	char tmp[4096];

	(void)loop;
	(void)fd;
	if (events & LOOP_WRITE) {
		conn_flush(c);
		return;
	}
	for (;;) {
		ssize_t n = read(c->fd, tmp, sizeof(tmp));
		char *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0 || buf_append(&c->in, tmp, (size_t)n) < 0) {
			conn_close(c);
			return;
		}
		/* A request ends with an empty line; several may follow each
		 * other on one connection. */
		while ((end = memmem(c->in.data, c->in.len, "\n\n", 2))) {
			size_t len = (size_t)(end - c->in.data) + 2;

			handle(c, len);
			memset(c->in.data, 0, len);
			buf_consume(&c->in, len);
			if (!conn_flush(c))
				return;
		}
		/* Only whitespace between requests would be "\n" alone. */
		if (c->in.len == 1 && c->in.data[0] == '\n')
			buf_reset(&c->in);
	}
}

static void accept_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct wg_uapi_server *s = arg;
	struct conn *c;
	int cfd, slot = -1;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (int i = 0; i < MAX_CONNS && slot < 0; i++)
		if (!s->conns[i])
			slot = i;
	if (slot < 0) {
		close(cfd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->fd = cfd;
	buf_init(&c->in, WG_UAPI_MAX_REQUEST);
	buf_init(&c->out, 64 * WG_UAPI_MAX_REQUEST);
	if (loop_add_fd(loop, cfd, LOOP_READ, conn_cb, c) < 0) {
		close(cfd);
		buf_free(&c->in);
		buf_free(&c->out);
		free(c);
		return;
	}
	s->conns[slot] = c;
	loop_timer_set(loop, &c->timer, CONN_TIMEOUT_MS, conn_timeout, c);
}

/* Is someone serving path? */
static bool live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return ok;
}

int wg_uapi_server_open(struct loop *loop, const char *dir, const char *ifname,
			const struct wg_uapi_ops *ops, void *arg, struct wg_uapi_server **ret,
			struct err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct wg_uapi_server *s;
	mode_t old;
	int rc, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", dir, ifname);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return err_set(err, -ENAMETOOLONG, "socket path %s/%s.sock is too long", dir,
			       ifname);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return err_set(err, -errno, "cannot create %s: %s", dir, strerror(errno));
	if (live(&sa))
		return err_set(err, -EADDRINUSE, "%s is served by another process", sa.sun_path);
	(void)unlink(sa.sun_path);
	s = xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->ops = ops;
	s->arg = arg;
	memcpy(s->path, sa.sun_path, sizeof(s->path));
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		rc = err_set(err, -errno, "socket: %s", strerror(errno));
		goto fail;
	}
	old = umask(0077);
	rc = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(s->fd, 16) < 0) {
		rc = err_set(err, -errno, "cannot listen on %s: %s", s->path, strerror(errno));
		goto fail;
	}
	rc = loop_add_fd(loop, s->fd, LOOP_READ, accept_cb, s);
	if (rc < 0) {
		err_set(err, rc, "cannot watch %s: %s", s->path, strerror(-rc));
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	(void)unlink(s->path);
	free(s);
	return rc;
}

void wg_uapi_server_close(struct wg_uapi_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < MAX_CONNS; i++)
		if (s->conns[i])
			conn_close(s->conns[i]);
	loop_del_fd(s->loop, s->fd);
	close(s->fd);
	(void)unlink(s->path);
	free(s);
}

const char *wg_uapi_server_path(const struct wg_uapi_server *s)
{
	return s->path;
}
