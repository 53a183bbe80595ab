// SPDX-License-Identifier: Apache-2.0
/*
 * wg/device: two detached devices (no TUN, no socket, no threads) wired
 * together in memory: the handshake through the hs thread's code, the
 * receive path of the rx thread (wg_rx), sealing as the tx path does, and
 * the drops each kind of bad datagram gets (replayed, forged, unknown index,
 * spoofed inner source, malformed), cookies under load, and the state read
 * back as `wg show` would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "wg/device.h"
#include "wg/device_int.h"
#include "wg/device_rx.h"

#define MAXQ 2048

struct dgram {
	uint8_t buf[256];
	size_t len;
	union wg_endpoint to;
};

struct node {
	struct wg_device *d;
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	union wg_endpoint addr;
	struct dgram *out; /* what it sent */
	size_t n_out;
	struct wg_rx rx;
	uint64_t ctr[WG_COUNTERS];
	uint8_t written[2048]; /* the last inner packet written to its "TUN" */
	size_t written_len, writes;
};

static struct node A, B;

static void capture(void *arg, const uint8_t *buf, size_t len, const union wg_endpoint *to)
{
	struct node *n = arg;

	assert_true(n->n_out < MAXQ);
	assert_true(len <= sizeof(n->out[0].buf));
	memcpy(n->out[n->n_out].buf, buf, len);
	n->out[n->n_out].len = len;
	n->out[n->n_out].to = *to;
	n->n_out++;
}

static int tun_write(void *arg, const struct iovec *iov, int iovcnt)
{
	struct node *n = arg;

	n->written_len = 0;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(n->written + n->written_len, iov[i].iov_base, iov[i].iov_len);
		n->written_len += iov[i].iov_len;
	}
	n->writes++;
	return 0;
}

static void endpoint(union wg_endpoint *e, const char *ip)
{
	memset(e, 0, sizeof(*e));
	e->in4.sin_family = AF_INET;
	e->in4.sin_port = htons(51820);
	inet_pton(AF_INET, ip, &e->in4.sin_addr);
}

static void node_open(struct node *n, const char *ip)
{
	struct wg_device_params p = {.detached = true, .test_send = capture, .test_arg = n};
	struct err err = {0};

	memset(n, 0, sizeof(*n));
	n->out = calloc(MAXQ, sizeof(*n->out));
	assert_int_equal(wg_device_open(&p, &n->d, &err), 0);
	assert_int_equal(wg_key_generate(n->priv), 0);
	assert_int_equal(wg_key_public(n->pub, n->priv), 0);
	endpoint(&n->addr, ip);
	assert_int_equal(wg_rx_init(&n->rx, n->d, n->ctr, tun_write, n), 0);
}

static void node_close(struct node *n)
{
	wg_rx_destroy(&n->rx);
	wg_device_close(n->d, true);
	free(n->out);
}

/* n's key, and its peer: key pub, allowed cidr, endpoint (NULL: none). */
static void configure(struct node *n, const uint8_t *pub, const char *net, unsigned cidr,
		      const union wg_endpoint *ep)
{
	struct wg_device_config c = {.flags = WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT, .port = 51820};
	struct wg_allowed_ip a = {.family = AF_INET, .cidr = (uint8_t)cidr};
	struct wg_peer_config *pc;
	struct err err = {0};

	memcpy(c.priv, n->priv, WG_KEY_LEN);
	pc = wg_device_config_add_peer(&c);
	memcpy(pc->pub, pub, WG_KEY_LEN);
	inet_pton(AF_INET, net, &a.addr.v4);
	wg_peer_config_add_allowed(pc, &a);
	if (ep)
		pc->endpoint = *ep;
	assert_int_equal(wg_device_set(n->d, &c, &err), 0);
	wg_device_config_clear(&c);
}

/* Deliver everything from sent to `to` (as received from `from`), clear. */
static void deliver(struct node *from, struct node *to, int64_t now)
{
	for (size_t i = 0; i < from->n_out; i++)
		wg_rx_message(&to->rx, &from->addr, from->out[i].buf, from->out[i].len, 0, now);
	wg_rx_flush(&to->rx);
	from->n_out = 0;
}

static uint64_t hs_ctr(struct node *n, enum wg_counter c)
{
	struct wg_device_stats st;

	wg_device_stats(n->d, &st);
	return st.c[c];
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An IPv4/UDP packet src -> dst with a payload. */
static size_t packet(uint8_t *p, const char *src, const char *dst, const char *payload)
{
	size_t pl = strlen(payload), len = 28 + pl;
	uint16_t c;

	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = 0x40;
	p[8] = 64;
	p[9] = 17;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	c = csum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[21] = 9;
	p[23] = 9;
	p[24] = (uint8_t)((8 + pl) >> 8);
	p[25] = (uint8_t)(8 + pl);
	memcpy(p + 28, payload, pl);
	return len;
}

/* A data message from n to its only peer (as the tx path seals it). */
static size_t seal(struct node *n, const uint8_t *pkt, size_t len, uint8_t *out, int64_t now)
{
	struct wg_aead *a;
	union wg_endpoint ep;
	size_t r;

	assert_int_equal(wg_aead_new(&a), 0);
	r = wg_peer_seal_one(n->d, a, n->d->peers, pkt, len, out, &ep, now);
	wg_aead_free(a);
	return r;
}

static int setup(void **state)
{
	(void)state;
	node_open(&A, "192.0.2.1");
	node_open(&B, "192.0.2.2");
	configure(&A, B.pub, "10.244.2.0", 24, &B.addr);
	configure(&B, A.pub, "10.244.1.0", 24, NULL); /* learns A's endpoint */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	node_close(&A);
	node_close(&B);
	return 0;
}

/* Initiation (A: a new peer with an endpoint gets one at once), response,
 * A's keepalive confirming the session to B. */
static void handshake(int64_t now)
{
	wg_device_hs_run(A.d, now);
	assert_int_equal(A.n_out, 1);
	assert_int_equal(A.out[0].len, WG_INIT_LEN);
	assert_int_equal(A.out[0].buf[0], WG_MSG_INIT);
	deliver(&A, &B, now);
	wg_device_hs_run(B.d, now);
	assert_int_equal(B.n_out, 1);
	assert_int_equal(B.out[0].len, WG_RESP_LEN);
	assert_int_equal(ntohl(B.out[0].to.in4.sin_addr.s_addr), 0xc0000201); /* to A */
	deliver(&B, &A, now);
	wg_device_hs_run(A.d, now);
	assert_int_equal(A.n_out, 1); /* the keepalive */
	assert_int_equal(A.out[0].len, WG_DATA_MIN_LEN);
	deliver(&A, &B, now);
}

static void test_handshake_and_data(void **state)
{
	uint8_t pkt[256], msg[512];
	size_t len, n;

	(void)state;
	handshake(1000);
	assert_int_equal(hs_ctr(&A, WG_HANDSHAKE_DONE), 1);
	assert_int_equal(hs_ctr(&B, WG_HANDSHAKE_DONE), 1);
	/* A -> B: the packet arrives as it was. */
	len = packet(pkt, "10.244.1.5", "10.244.2.7", "hello through wg");
	n = seal(&A, pkt, len, msg, 1000);
	assert_int_equal(n, WG_DATA_HDR_LEN + ((len + 15) & ~15UL) + WG_TAG_LEN);
	wg_rx_message(&B.rx, &A.addr, msg, n, 0, 1000);
	wg_rx_flush(&B.rx);
	assert_int_equal(B.written_len, len);
	assert_memory_equal(B.written, pkt, len);
	assert_int_equal(B.ctr[WG_RX_PACKETS], 1);
	/* B -> A: B's session is confirmed (A's keepalive arrived). */
	len = packet(pkt, "10.244.2.7", "10.244.1.5", "and back");
	n = seal(&B, pkt, len, msg, 1000);
	assert_true(n > 0);
	wg_rx_message(&A.rx, &B.addr, msg, n, 0, 1000);
	wg_rx_flush(&A.rx);
	assert_int_equal(A.written_len, len);
	assert_memory_equal(A.written, pkt, len);
}

static void test_bad_datagrams(void **state)
{
	uint8_t pkt[256], msg[512], copy[512];
	size_t len, n, writes;

	(void)state;
	handshake(1000);
	len = packet(pkt, "10.244.1.5", "10.244.2.7", "once only");
	n = seal(&A, pkt, len, msg, 1000);
	memcpy(copy, msg, n);
	wg_rx_message(&B.rx, &A.addr, msg, n, 0, 1000);
	wg_rx_flush(&B.rx);
	writes = B.writes;
	/* The same datagram again: a replay. */
	wg_rx_message(&B.rx, &A.addr, copy, n, 0, 1000);
	assert_int_equal(B.ctr[WG_DROP_REPLAY], 1);
	/* A byte of ciphertext flipped: the tag fails. */
	n = seal(&A, pkt, len, msg, 1000);
	msg[20] ^= 1;
	wg_rx_message(&B.rx, &A.addr, msg, n, 0, 1000);
	assert_int_equal(B.ctr[WG_DROP_BAD_AUTH], 1);
	/* An index no session has. */
	n = seal(&A, pkt, len, msg, 1000);
	msg[4] ^= 0xff;
	wg_rx_message(&B.rx, &A.addr, msg, n, 0, 1000);
	assert_int_equal(B.ctr[WG_DROP_UNKNOWN_INDEX], 1);
	/* Authentic, but the inner source is outside A's allowed IPs. */
	len = packet(pkt, "10.244.9.9", "10.244.2.7", "spoofed");
	n = seal(&A, pkt, len, msg, 1000);
	wg_rx_message(&B.rx, &A.addr, msg, n, 0, 1000);
	assert_int_equal(B.ctr[WG_DROP_SOURCE], 1);
	/* Not WireGuard: unknown type, short, reserved bytes set, bad size. */
	memset(msg, 0, sizeof(msg));
	msg[0] = 9;
	wg_rx_message(&B.rx, &A.addr, msg, 40, 0, 1000);
	msg[0] = WG_MSG_DATA;
	wg_rx_message(&B.rx, &A.addr, msg, 3, 0, 1000);
	msg[2] = 1;
	wg_rx_message(&B.rx, &A.addr, msg, 40, 0, 1000);
	msg[2] = 0;
	msg[0] = WG_MSG_INIT;
	wg_rx_message(&B.rx, &A.addr, msg, WG_INIT_LEN - 1, 0, 1000);
	assert_int_equal(B.ctr[WG_DROP_MALFORMED], 4);
	/* A forged initiation: right size, no valid mac1. */
	wg_rx_message(&B.rx, &A.addr, msg, WG_INIT_LEN, 0, 1000);
	wg_device_hs_run(B.d, 1000);
	assert_int_equal(hs_ctr(&B, WG_DROP_BAD_MAC), 1);
	wg_rx_flush(&B.rx);
	assert_int_equal(B.writes, writes); /* none of them got through */
}

/* A GRO train of data messages in one receive. */
static void test_train(void **state)
{
	uint8_t pkt[256], train[4 * 256];
	size_t len, n = 0, one = 0;

	(void)state;
	handshake(1000);
	len = packet(pkt, "10.244.1.5", "10.244.2.7", "0123456789abcdef");
	for (int i = 0; i < 4; i++) {
		one = seal(&A, pkt, len, train + n, 1000);
		n += one;
	}
	wg_rx_message(&B.rx, &A.addr, train, n, one, 1000);
	wg_rx_flush(&B.rx);
	assert_int_equal(B.ctr[WG_RX_PACKETS], 4);
	assert_int_equal(B.ctr[WG_RX_GRO_TRAINS], 1);
}

/* Under load (a full handshake queue) initiations are answered with cookie
 * replies; the initiator's next initiation then carries mac2 and is answered. */
static void test_cookie_under_load(void **state)
{
	uint64_t cookies, received;
	struct dgram init;

	(void)state;
	wg_device_hs_run(A.d, 1000);
	assert_int_equal(A.n_out, 1);
	init = A.out[0];
	A.n_out = 0;
	for (int i = 0; i <= WG_HSQ_LOAD + 1; i++)
		wg_rx_message(&B.rx, &A.addr, init.buf, init.len, 0, 1000);
	wg_device_hs_run(B.d, 1000);
	assert_true(hs_ctr(&B, WG_COOKIE_SENT) > 0);
	assert_int_equal(B.out[0].len, WG_COOKIE_LEN);
	/* Only the cookie reply to A's latest initiation goes back. */
	B.n_out = 1;
	deliver(&B, &A, 1000);
	assert_int_equal(hs_ctr(&A, WG_DROP_BAD_MAC), 0); /* the cookie was taken */
	/* A's retry (after REKEY_TIMEOUT) carries mac2: accepted under load,
	 * no cookie sent for it. */
	cookies = hs_ctr(&B, WG_COOKIE_SENT);
	received = hs_ctr(&B, WG_HANDSHAKE_RECEIVED);
	{
		struct wg_peer *p = A.d->peers;

		pthread_mutex_lock(&p->mu);
		p->want_init = true;
		pthread_mutex_unlock(&p->mu);
	}
	/* Initiation timestamps are TAI64N rounded down to 2^24 ns (as the
	 * kernel's): a second initiation within ~17 ms carries the same one and
	 * is refused as a replay. Not a readiness wait: the clock must move. */
	usleep(20000);
	wg_device_hs_run(A.d, 7000);
	assert_int_equal(A.n_out, 1);
	for (int i = 0; i <= WG_HSQ_LOAD + 1; i++)
		wg_rx_message(&B.rx, &A.addr, A.out[0].buf, A.out[0].len, 0, 7000);
	A.n_out = 0;
	B.n_out = 0;
	wg_device_hs_run(B.d, 7000);
	assert_int_equal(hs_ctr(&B, WG_COOKIE_SENT), cookies);
	assert_int_equal(hs_ctr(&B, WG_HANDSHAKE_RECEIVED), received + 1);
	assert_int_equal(B.out[0].len, WG_RESP_LEN);
}

static void test_get_and_remove(void **state)
{
	struct wg_device_config c = {0}, rm = {0};
	uint8_t pkt[256], msg[512];
	struct wg_peer_config *pc;
	char ep[64];
	size_t len, n;

	(void)state;
	handshake(1000);
	wg_device_get(B.d, &c);
	assert_int_equal(c.n_peers, 1);
	assert_memory_equal(c.pub, B.pub, WG_KEY_LEN);
	assert_int_equal(c.port, 51820);
	assert_memory_equal(c.peers[0].pub, A.pub, WG_KEY_LEN);
	assert_string_equal(wg_endpoint_format(&c.peers[0].endpoint, ep, sizeof(ep)),
			    "192.0.2.1:51820"); /* learnt from the initiation */
	assert_true(c.peers[0].last_handshake_sec > 0);
	assert_true(c.peers[0].rx_bytes > 0);
	wg_device_config_clear(&c);
	/* Removed: its sessions go with it. */
	pc = wg_device_config_add_peer(&rm);
	memcpy(pc->pub, A.pub, WG_KEY_LEN);
	pc->flags = WG_PEER_REMOVE;
	assert_int_equal(wg_device_set(B.d, &rm, NULL), 0);
	wg_device_config_clear(&rm);
	len = packet(pkt, "10.244.1.5", "10.244.2.7", "after removal");
	n = seal(&A, pkt, len, msg, 1000);
	wg_rx_message(&B.rx, &A.addr, msg, n, 0, 1000);
	assert_int_equal(B.ctr[WG_DROP_UNKNOWN_INDEX], 1);
	wg_device_get(B.d, &c);
	assert_int_equal(c.n_peers, 0);
	wg_device_config_clear(&c);
}

#define hs_step(n, now, o, t) hs_step_at(__LINE__, n, now, o, t)
static void hs_step_at(int line, struct node *n, int64_t now, size_t want_out, uint8_t want_type)
{
	wg_device_hs_run(n->d, now);
	if (n->n_out != want_out)
		fail_msg("line %d: %zu messages out, expected %zu", line, n->n_out, want_out);
	if (want_out)
		assert_int_equal(n->out[0].buf[0], want_type);
}

/* Both hosts add each other at the same moment and initiate at once: the
 * initiations cross, each side answers the other's and then cannot take
 * the answer to its own (its index is gone), so no session is confirmed.
 * The side with the greater public key starts again WG_CROSSED_REINIT_MS
 * later (not REKEY_TIMEOUT), the other never does, and both then carry
 * data. */
static void test_crossed_initiations(void **state)
{
	uint8_t pkt[256], msg[512];
	struct node *hi, *lo;
	size_t len, n;

	(void)state;
	configure(&B, A.pub, "10.244.1.0", 24, &A.addr);
	hs_step(&A, 1000, 1, WG_MSG_INIT);
	hs_step(&B, 1000, 1, WG_MSG_INIT);
	deliver(&A, &B, 1000);
	deliver(&B, &A, 1000);
	hs_step(&A, 1000, 1, WG_MSG_RESP);
	hs_step(&B, 1000, 1, WG_MSG_RESP);
	deliver(&A, &B, 1001);
	deliver(&B, &A, 1001);
	hs_step(&A, 1001, 0, 0);
	hs_step(&B, 1001, 0, 0);
	assert_int_equal(hs_ctr(&A, WG_DROP_BAD_HANDSHAKE), 1);
	assert_int_equal(hs_ctr(&B, WG_DROP_BAD_HANDSHAKE), 1);
	hi = memcmp(A.pub, B.pub, WG_KEY_LEN) > 0 ? &A : &B;
	lo = hi == &A ? &B : &A;
	hs_step(hi, 1000 + WG_CROSSED_REINIT_MS - 1, 0, 0);
	hs_step(lo, 1000 + WG_CROSSED_REINIT_MS, 0, 0);
	/* An initiation's timestamp is wall-clock time rounded down to 2^24 ns;
	 * a second one within that step would be refused as a replay. */
	usleep((1U << 24) / 1000 + 1000);
	hs_step(hi, 1000 + WG_CROSSED_REINIT_MS, 1, WG_MSG_INIT);
	deliver(hi, lo, 1051);
	hs_step(lo, 1051, 1, WG_MSG_RESP);
	deliver(lo, hi, 1051);
	hs_step(hi, 1051, 1, WG_MSG_DATA); /* the keepalive confirming it */
	deliver(hi, lo, 1051);
	if (lo == &B)
		len = packet(pkt, "10.244.2.7", "10.244.1.5", "after the crossing");
	else
		len = packet(pkt, "10.244.1.5", "10.244.2.7", "after the crossing");
	n = seal(lo, pkt, len, msg, 1052);
	assert_true(n > 0);
	wg_rx_message(&hi->rx, &lo->addr, msg, n, 0, 1052);
	wg_rx_flush(&hi->rx);
	assert_int_equal(hi->written_len, len);
	assert_int_equal(hs_ctr(hi, WG_HANDSHAKE_SENT), 3); /* init, resp, init */
	assert_int_equal(hs_ctr(lo, WG_HANDSHAKE_SENT), 3); /* init, resp, resp */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_and_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_datagrams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_train, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_under_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crossed_initiations, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
