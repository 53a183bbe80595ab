// SPDX-License-Identifier: Apache-2.0
/*
 * WireGuard's handshake messages, as they arrive from the network, on
 * arbitrary bytes: we are R (a fixed identity) and know one peer, I.
 *
 *   byte 0 bits 0-1  0: an initiation   1: a response   2: a cookie reply
 *                    3: an initiation, then a response to it from the same bytes
 *   byte 0 bit 2     under load (mac2 required; a cookie reply is made)
 *   byte 0 bit 3     recompute mac1 (and mac2 under load) over the fuzzed bytes,
 *                    so that the fuzzer gets past the macs into the Noise code
 *   byte 0 bit 4     an IPv6 source address (else IPv4)
 *   the rest         the message (any length: the macs check lengths)
 *
 * Before every input R is in the same state: it has sent I an initiation
 * (fixed ephemeral key), so that a response and a cookie reply to it can
 * be valid. A message that is accepted is carried on (a response made and
 * keys derived), and the states it leaves are checked.
 *
 * The seeds in tests/fuzz/corpus/wg_noise/ are valid messages of each kind
 * from I, made by this file itself:
 *   cc -Isrc -D_GNU_SOURCE -DFUZZ_WG_NOISE_SEEDS -o /tmp/seeds \
 *      tests/fuzz/fuzz_wg_noise.c build/libweft.a && /tmp/seeds tests/fuzz/corpus/wg_noise
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wg/noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSG_MAX 256

static struct wg_static r_static, i_static;
static struct wg_cookie_checker r_checker;
static struct wg_noise_peer r_peer0; /* I as R knows it, after R's initiation */
static struct wg_noise_peer r_peer;  /* the same, reset before every input */
static uint8_t r_init[WG_INIT_LEN];  /* R's initiation to I */
static const uint32_t r_index = 0x52525252;
static const int64_t now_ms = 10000000;
static const uint8_t src4[6] = {192, 0, 2, 1, 0xca, 0x6c};
static const uint8_t src6[18] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1, 0xca, 0x6c};

static void key(uint8_t k[WG_KEY_LEN], uint8_t b)
{
	memset(k, b, WG_KEY_LEN);
}

static struct wg_noise_peer *by_key(void *arg, const uint8_t pub[WG_KEY_LEN])
{
	(void)arg;
	return memcmp(pub, r_peer.pub, WG_KEY_LEN) ? NULL : &r_peer;
}

static struct wg_noise_peer *by_index(void *arg, uint32_t idx)
{
	(void)arg;
	return idx == r_peer.local_index && r_peer.state != WG_HS_NONE ? &r_peer : NULL;
}

static void setup(void)
{
	uint8_t k[WG_KEY_LEN], psk[WG_KEY_LEN], ts[WG_TIMESTAMP_LEN];

	if (wg_crypto_load(NULL) < 0)
		abort();
	key(k, 0x01);
	if (wg_static_init(&r_static, k) < 0)
		abort();
	key(k, 0x02);
	if (wg_static_init(&i_static, k) < 0)
		abort();
	wg_cookie_checker_init(&r_checker, &r_static);
	key(psk, 0x0f);
	wg_noise_peer_init(&r_peer0, &r_static, i_static.pub, psk);
	wg_tai64n(ts, 1700000000, 0);
	key(k, 0x03);
	if (wg_noise_init_create_eph(&r_static, &r_peer0, r_index, ts, now_ms, k, r_init) < 0)
		abort();
}

/* mac1 (and mac2 with the cookie R would give src) as a sender that knew them. */
static void fix_macs(uint8_t *msg, size_t len, const uint8_t *src, size_t srclen, bool load)
{
	uint8_t cookie[WG_MAC_LEN];

	if (len < 2 * WG_MAC_LEN)
		return;
	wg_mac(msg + len - 32, r_static.mac1_key, msg, len - 32);
	if (!load)
		return;
	/* The checker's cookie for src: what its secret makes of the address. */
	if (r_checker.secret_ms == 0)
		return;
	wg_mac(cookie, r_checker.secret, src, srclen);
	wg_mac_key(msg + len - 16, cookie, WG_MAC_LEN, msg, len - 16);
}

static void after_accept(struct wg_noise_peer *p)
{
	struct wg_keypair kp;

	if (p != &r_peer)
		abort();
	if (p->state == WG_HS_INIT_CONSUMED) {
		uint8_t resp[WG_RESP_LEN];

		if (wg_noise_resp_create(&r_static, p, 0x77777777, now_ms, resp) < 0 ||
		    p->state != WG_HS_RESP_SENT)
			abort();
	} else if (p->state != WG_HS_RESP_CONSUMED) {
		abort();
	}
	if (wg_noise_derive(p, &kp) < 0 || p->state != WG_HS_NONE)
		abort();
	if (kp.initiator != (kp.local_index == r_index))
		abort();
}

static void one(int type, const uint8_t *msg, size_t len, const uint8_t *src, size_t srclen,
		bool load)
{
	struct wg_noise_peer *p = NULL;
	enum wg_mac_verdict v;
	uint8_t reply[WG_COOKIE_LEN];
	int r;

	if (type == WG_MSG_COOKIE) {
		if (len == WG_COOKIE_LEN) {
			r = wg_cookie_reply_consume(&r_peer, msg, now_ms);
			if (r == 0 && (r_peer.cookie_ms != now_ms || r_peer.have_last_mac1))
				abort();
		}
		return;
	}
	v = wg_cookie_check(&r_checker, msg, len, src, srclen, load, now_ms);
	if (v == WG_MAC_NEED_COOKIE &&
	    (!load || wg_cookie_reply_create(&r_checker, msg, len, src, srclen, now_ms, reply) < 0))
		abort();
	/* The Noise code gets what the macs would have dropped, too. */
	if (type == WG_MSG_INIT && len == WG_INIT_LEN) {
		r = wg_noise_init_consume(&r_static, msg, by_key, NULL, &p);
		if (r == 0)
			after_accept(p);
		else if (p)
			abort();
	} else if (type == WG_MSG_RESP && len == WG_RESP_LEN) {
		r = wg_noise_resp_consume(&r_static, msg, by_index, NULL, &p);
		if (r == 0)
			after_accept(p);
		else if (p || r_peer.state != WG_HS_INIT_SENT)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint8_t msg[MSG_MAX];
	const uint8_t *src;
	size_t len, srclen;
	bool load;
	int mode;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 1 || size - 1 > MSG_MAX)
		return 0;
	mode = data[0] & 3;
	load = data[0] & 4;
	src = data[0] & 16 ? src6 : src4;
	srclen = data[0] & 16 ? sizeof(src6) : sizeof(src4);
	len = size - 1;
	memcpy(msg, data + 1, len);
	if (data[0] & 8)
		fix_macs(msg, len, src, srclen, load);
	r_peer = r_peer0;

	switch (mode) {
	case 0:
		one(WG_MSG_INIT, msg, len, src, srclen, load);
		break;
	case 1:
		one(WG_MSG_RESP, msg, len, src, srclen, load);
		break;
	case 2:
		one(WG_MSG_COOKIE, msg, len, src, srclen, load);
		break;
	default:
		one(WG_MSG_INIT, msg, len, src, srclen, load);
		r_peer = r_peer0;
		one(WG_MSG_RESP, msg, len, src, srclen, load);
		break;
	}
	return 0;
}

#ifdef FUZZ_WG_NOISE_SEEDS
/* Valid messages from I: see the top of the file. */
static void put(const char *dir, const char *name, uint8_t head, const uint8_t *msg, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&head, 1, 1, f) != 1 || fwrite(msg, 1, len, f) != len || fclose(f))
		abort();
}

static struct wg_noise_peer *by_key_i(void *arg, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_noise_peer *p = arg;

	return memcmp(pub, p->pub, WG_KEY_LEN) ? NULL : p;
}

int main(int argc, char **argv)
{
	struct wg_noise_peer i_peer, *p;
	struct wg_cookie_checker i_checker;
	uint8_t k[WG_KEY_LEN], psk[WG_KEY_LEN], ts[WG_TIMESTAMP_LEN];
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN], cookie[WG_COOKIE_LEN];

	if (argc != 2)
		return 2;
	setup();
	key(psk, 0x0f);
	memset(&i_peer, 0, sizeof(i_peer));
	wg_noise_peer_init(&i_peer, &i_static, r_static.pub, psk);
	wg_cookie_checker_init(&i_checker, &i_static);

	/* I's own initiation to R */
	wg_tai64n(ts, 1700000100, 0);
	key(k, 0x05);
	if (wg_noise_init_create_eph(&i_static, &i_peer, 0x49494949, ts, now_ms, k, init) < 0)
		abort();
	put(argv[1], "init", 0, init, sizeof(init));
	put(argv[1], "init_load", 4, init, sizeof(init));
	put(argv[1], "init_fixmacs_v6", 8 | 16, init, sizeof(init));
	/* I's cookie reply to R's initiation */
	if (wg_cookie_reply_create(&i_checker, r_init, sizeof(r_init), src4, sizeof(src4), now_ms,
				   cookie) < 0)
		abort();
	put(argv[1], "cookie", 2, cookie, sizeof(cookie));
	/* I's response to R's initiation */
	wg_noise_peer_init(&i_peer, &i_static, r_static.pub, psk);
	if (wg_noise_init_consume(&i_static, r_init, by_key_i, &i_peer, &p) < 0)
		abort();
	key(k, 0x04);
	if (wg_noise_resp_create_eph(&i_static, p, 0x49494949, now_ms, k, resp) < 0)
		abort();
	put(argv[1], "resp", 1, resp, sizeof(resp));
	put(argv[1], "resp_load", 1 | 4 | 8, resp, sizeof(resp));
	return 0;
}
#endif
