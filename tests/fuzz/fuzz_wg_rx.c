// SPDX-License-Identifier: Apache-2.0
/*
 * The userspace WireGuard device's receive path on arbitrary bytes: what the
 * rx thread does to a received message (a datagram, or a UDP GRO train),
 * then a pass of the hs thread over what was queued (handshake and cookie
 * messages), on a detached device (no TUN, no socket, no threads) that has
 * a peer with a live session, made at start-up by a real handshake with a
 * second detached device.
 *
 *   byte 0      bit 0: a train; bits 1-7: nothing
 *   bytes 1-2   the train's segment size
 *   bytes 3-6   when the first datagram is a data message: replaced by the
 *               receiver index of the live session if bit 1 of byte 0 is
 *               set (so that index lookup, key copy and the tag check run)
 *
 * Nothing may be written to the "TUN" (no input can forge the tag), and
 * nothing may crash or leak under ASan.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wg/device.h"
#include "wg/device_int.h"
#include "wg/device_rx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct node {
	struct wg_device *d;
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	union wg_endpoint addr;
	uint8_t out[4][256];
	size_t out_len[4], n_out;
	struct wg_rx rx;
	uint64_t ctr[WG_COUNTERS];
};

static struct node A, B;
static uint32_t live_index;
static size_t writes;
static uint8_t buf[70000];

static void capture(void *arg, const uint8_t *msg, size_t len, const union wg_endpoint *to)
{
	struct node *n = arg;

	(void)to;
	if (n->n_out < 4 && len <= sizeof(n->out[0])) {
		memcpy(n->out[n->n_out], msg, len);
		n->out_len[n->n_out++] = len;
	}
}

static int tun_write(void *arg, const struct iovec *iov, int iovcnt)
{
	(void)arg;
	(void)iov;
	(void)iovcnt;
	writes++;
	return 0;
}

static void node_open(struct node *n, const char *ip)
{
	struct wg_device_params p = {.detached = true, .test_send = capture, .test_arg = n};

	if (wg_device_open(&p, &n->d, NULL) < 0 || wg_key_generate(n->priv) < 0 ||
	    wg_key_public(n->pub, n->priv) < 0)
		abort();
	n->addr.in4.sin_family = AF_INET;
	n->addr.in4.sin_port = htons(51820);
	inet_pton(AF_INET, ip, &n->addr.in4.sin_addr);
	if (wg_rx_init(&n->rx, n->d, n->ctr, tun_write, n) < 0)
		abort();
}

static void configure(struct node *n, const struct node *peer, const char *net, bool ep)
{
	struct wg_device_config c = {.flags = WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT, .port = 51820};
	struct wg_allowed_ip a = {.family = AF_INET, .cidr = 24};
	struct wg_peer_config *pc;

	memcpy(c.priv, n->priv, WG_KEY_LEN);
	pc = wg_device_config_add_peer(&c);
	memcpy(pc->pub, peer->pub, WG_KEY_LEN);
	inet_pton(AF_INET, net, &a.addr.v4);
	wg_peer_config_add_allowed(pc, &a);
	if (ep)
		pc->endpoint = peer->addr;
	if (wg_device_set(n->d, &c, NULL) < 0)
		abort();
	wg_device_config_clear(&c);
}

static void deliver(struct node *from, struct node *to)
{
	for (size_t i = 0; i < from->n_out; i++)
		wg_rx_message(&to->rx, &from->addr, from->out[i], from->out_len[i], 0, 1000);
	wg_rx_flush(&to->rx);
	from->n_out = 0;
}

static void setup(void)
{
	node_open(&A, "192.0.2.1");
	node_open(&B, "192.0.2.2");
	configure(&A, &B, "10.244.2.0", true);
	configure(&B, &A, "10.244.1.0", false);
	wg_device_hs_run(A.d, 1000);
	deliver(&A, &B);
	wg_device_hs_run(B.d, 1000);
	deliver(&B, &A);
	wg_device_hs_run(A.d, 1000);
	deliver(&A, &B); /* the keepalive: B's session is confirmed */
	if (!B.d->peers || !B.d->peers->cur.valid)
		abort();
	live_index = B.d->peers->cur.kp.local_index;
	writes = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t seg = 0;

	if (!B.d)
		setup();
	if (size < 7 || size - 7 > sizeof(buf))
		return 0;
	memcpy(buf, data + 7, size - 7);
	if (data[0] & 1)
		seg = (size_t)(data[1] << 8 | data[2]);
	if ((data[0] & 2) && size - 7 >= 8 && buf[0] == WG_MSG_DATA)
		wg_put_le32(buf + 4, live_index);
	wg_rx_message(&B.rx, &A.addr, buf, size - 7, seg, 1000);
	wg_rx_flush(&B.rx);
	wg_device_hs_run(B.d, 1000);
	B.n_out = 0;
	if (writes)
		abort(); /* a forged packet got through */
	return 0;
}
