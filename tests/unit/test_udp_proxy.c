// SPDX-License-Identifier: Apache-2.0
/*
 * The udp data path's start and stop: a start that fails part-way (no file
 * descriptor left for its eventfd) returns the error and leaves nothing
 * allocated; a started proxy stops cleanly with peer tables published.
 * Leaks show here as blocks still live (this program counts malloc, calloc
 * and free) and, under SANITIZE=1, as LeakSanitizer reports.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath/peers.h"
#include "datapath/udp_proxy.h"

struct fds {
	int tun[2]; /* a datagram socketpair stands in for the TUN */
	int sock;   /* a real UDP socket on 127.0.0.1 */
};

static int fds_setup(void **state)
{
	static struct fds f;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, f.tun) < 0)
		return -1;
	f.sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (f.sock < 0 || bind(f.sock, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int fds_teardown(void **state)
{
	struct fds *f = *state;

	close(f->tun[0]);
	close(f->tun[1]);
	close(f->sock);
	return 0;
}

static struct udp_proxy_config config(const struct fds *f)
{
	struct udp_proxy_config c = {
		.tun_fd = f->tun[0],
		.sock_fd = f->sock,
		.port = htons(8285),
		.gso_max_dgram = 1472,
		.local_net = htonl(0x0af40100),
		.local_mask = htonl(0xffffff00),
	};

	return c;
}

/* Blocks handed out and not freed, counted where this program's calls to
 * malloc, calloc and realloc(NULL) and free meet glibc. ASan has its own
 * allocator (and LeakSanitizer): no counting there. */
static atomic_long live_blocks;

#ifndef __SANITIZE_ADDRESS__
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);

	if (p)
		atomic_fetch_add(&live_blocks, 1);
	return p;
}

void *calloc(size_t n, size_t m)
{
	void *p = __libc_calloc(n, m);

	if (p)
		atomic_fetch_add(&live_blocks, 1);
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p = __libc_realloc(old, n);

	if (p && !old)
		atomic_fetch_add(&live_blocks, 1);
	return p;
}

void free(void *p)
{
	if (p)
		atomic_fetch_sub(&live_blocks, 1);
	__libc_free(p);
}
#endif

static long heap_in_use(void)
{
	return atomic_load(&live_blocks);
}

/* udp_proxy_start with the lowest free descriptor as the limit: its
 * eventfd cannot be made. */
static int start_without_fds(const struct udp_proxy_config *c, struct udp_proxy **p)
{
	struct rlimit old, lim;
	int lowest, rc;

	lowest = dup(0);
	assert_true(lowest >= 0);
	close(lowest);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)lowest;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	rc = udp_proxy_start(c, p);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	return rc;
}

static void test_start_fails_without_fds(void **state)
{
	struct udp_proxy_config c = config(*state);
	struct udp_proxy *p = (struct udp_proxy *)&c; /* must stay untouched */
	long before = heap_in_use();

	assert_int_equal(start_without_fds(&c, &p), -EMFILE);
	assert_ptr_equal(p, (struct udp_proxy *)&c);
	assert_int_equal(heap_in_use(), before);
}

static void test_start_stop(void **state)
{
	struct udp_proxy_config c = config(*state);
	struct udp_peer_entry e = { .net = htonl(0x0af40200), .mask = htonl(0xffffff00),
				    .addr = htonl(0x7f000002), .port = htons(8285) };
	struct udp_proxy_stats st;
	struct udp_proxy *p = NULL;

	assert_int_equal(udp_proxy_start(&c, &p), 0);
	assert_non_null(p);
	udp_proxy_set_peers(p, udp_peer_table_new(&e, 1, NULL));
	udp_proxy_set_peers(p, udp_peer_table_new(&e, 1, NULL));
	udp_proxy_stats(p, &st);
	assert_int_equal(st.peers, 1);
	assert_int_equal(st.peers_gen, 3);
	udp_proxy_stop(p);
	udp_proxy_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_fails_without_fds),
		cmocka_unit_test(test_start_stop),
	};

	return cmocka_run_group_tests(tests, fds_setup, fds_teardown);
}
