// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/notify.h"

/* A datagram socket standing in for systemd; see setup/teardown. */
static struct {
	char dir[64];
	char path[128];
	int fd;
} T;

static int bind_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* name without the '@'. */
static int bind_abstract(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(n + 1 <= sizeof(sa.sun_path));
	memcpy(sa.sun_path + 1, name, n);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)),
			 0);
	return fd;
}

/* One pending datagram, or "" when none. */
static const char *recv_one(int fd)
{
	static char msg[256];
	ssize_t n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);

	msg[n > 0 ? n : 0] = '\0';
	return msg;
}

static int setup(void **state)
{
	(void)state;
	memset(&T, 0, sizeof(T));
	T.fd = -1;
	snprintf(T.dir, sizeof(T.dir), "/tmp/weft-notify-XXXXXX");
	assert_non_null(mkdtemp(T.dir));
	snprintf(T.path, sizeof(T.path), "%s/notify", T.dir);
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (T.fd >= 0)
		close(T.fd);
	unlink(T.path);
	rmdir(T.dir);
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

static void test_unset_is_nothing_to_do(void **state)
{
	(void)state;
	assert_int_equal(sd_notify_ready(), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(sd_notify_ready(), 0);
	assert_int_equal(sd_notify_send("STATUS=x"), 0);
}

static void test_ready_to_path(void **state)
{
	(void)state;
	T.fd = bind_path(T.path);
	setenv("NOTIFY_SOCKET", T.path, 1);
	assert_int_equal(sd_notify_ready(), 1);
	assert_string_equal(recv_one(T.fd), "READY=1");
	/* Several assignments in one datagram, newline-separated. */
	assert_int_equal(sd_notify_send("STATUS=serving\nREADY=1"), 1);
	assert_string_equal(recv_one(T.fd), "STATUS=serving\nREADY=1");
	assert_string_equal(recv_one(T.fd), "");
	/* The variable stays for later notifications. */
	assert_string_equal(getenv("NOTIFY_SOCKET"), T.path);
}

static void test_ready_to_abstract(void **state)
{
	char name[64], env[80];

	(void)state;
	snprintf(name, sizeof(name), "weft-notify-test-%d", (int)getpid());
	snprintf(env, sizeof(env), "@%s", name);
	T.fd = bind_abstract(name);
	setenv("NOTIFY_SOCKET", env, 1);
	assert_int_equal(sd_notify_ready(), 1);
	assert_string_equal(recv_one(T.fd), "READY=1");
}

static void test_errors(void **state)
{
	char longpath[200];

	(void)state;
	/* Nobody bound there. */
	setenv("NOTIFY_SOCKET", T.path, 1);
	assert_int_equal(sd_notify_ready(), -ENOENT);
	/* A socket file whose owner went away. */
	T.fd = bind_path(T.path);
	close(T.fd);
	T.fd = -1;
	assert_int_equal(sd_notify_ready(), -ECONNREFUSED);
	/* Neither absolute nor abstract, or too long. */
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(sd_notify_ready(), -EINVAL);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	assert_int_equal(sd_notify_ready(), -EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(sd_notify_ready(), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	assert_int_equal(sd_notify_ready(), -EINVAL);
	longpath[0] = '@';
	assert_int_equal(setenv("NOTIFY_SOCKET", longpath, 1), 0);
	assert_int_equal(sd_notify_ready(), -EINVAL);
	/* An empty state is a caller bug, whatever the environment. */
	assert_int_equal(sd_notify_send(""), -EINVAL);
	assert_int_equal(sd_notify_send(NULL), -EINVAL);
}

static void test_full_receiver_does_not_block(void **state)
{
	int i, r = 1;

	(void)state;
	T.fd = bind_path(T.path);
	setenv("NOTIFY_SOCKET", T.path, 1);
	/* Nobody reads: the queue fills up and the send reports it. */
	for (i = 0; i < 100000 && r == 1; i++)
		r = sd_notify_send("STATUS=filling the queue");
	assert_int_equal(r, -EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unset_is_nothing_to_do, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_to_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_to_abstract, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_receiver_does_not_block, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
